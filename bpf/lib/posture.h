/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scope's privilege posture (docs/gate.md "Privilege posture"): capabilities, mounts,
 * module autoload; and acting from the scope on tasks outside it: signals (kill, an fd's
 * signal owner, SIGIO to execgated). The shared deny_posture / deny_outside_target are in
 * lib/events.h.
 */
#ifndef EG_LIB_POSTURE_H
#define EG_LIB_POSTURE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/scope.h"
#include "lib/state.h"

/* The system call the current task is in, when it is one of the new mount API's (fsopen,
 * fsconfig, fsmount, fspick, open_tree, mount_setattr): they have no LSM hook of their own,
 * and remount (fspick + fsconfig) or change mount attributes (mount_setattr) with no
 * sb_mount. 0 for any other. */
static __always_inline __u32 mount_api_syscall(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	long nr = regs->orig_ax;
	if (nr == NR_OPEN_TREE || nr == NR_FSOPEN || nr == NR_FSCONFIG || nr == NR_FSMOUNT || nr == NR_FSPICK ||
	    nr == NR_MOUNT_SETATTR)
		return (__u32)nr;
	return 0;
}

/* capable: CAP outside eg_config.caps_allowed, checked for the current task's own
 * credentials in the scope; a probe without audit (CAP_OPT_NOAUDIT) is refused unrecorded.
 * Whatever the policy allows, two rows of the posture hold that have no hook of their own:
 * CAP_SYS_TIME (adjtimex and clock_adjtime step or slew the clock with no settime hook) is
 * refused to every task of the scope, and CAP_SYS_ADMIN inside the new mount API's calls to
 * the workload unless the policy allows mounts. */
static __always_inline int capable_rule(const struct cred *cred, int cap, unsigned int opts)
{
	struct eg_config *cfg = get_config();
	if (!cfg || cap < 0 || cap > 63)
		return 0;
	__u8 reason = EG_R_PRIVILEGE;
	__u32 hook = EG_HOOK_CAPABLE, arg = (__u32)cap;
	bool workload_only = true;
	if (cap == CAP_SYS_TIME) {
		reason = EG_R_GATE_TAMPER;
		hook = EG_HOOK_CLOCK_ADJUST;
		workload_only = false;
	} else if (cfg->caps_allowed & (1ULL << cap)) {
		if (cap != CAP_SYS_ADMIN || (cfg->allow & EG_ALLOW_MOUNT) || !(arg = mount_api_syscall()))
			return 0;
		hook = EG_HOOK_MOUNT;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	if ((unsigned long)cred != (unsigned long)task->cred)
		return 0;
	if (workload_only ? !current_in_workload(cfg) : !current_in_scope(cfg))
		return 0;
	if (opts & CAP_OPT_NOAUDIT)
		return cfg->mode == EG_MODE_MONITOR ? 0 : -EPERM;
	return deny_arg(reason, hook, arg);
}

/* sb_umount: bpffs never (the pins), anything else as the mount posture says. */
static __always_inline int umount_rule(struct vfsmount *mnt)
{
	if (mnt->mnt_sb->s_magic == BPF_FS_MAGIC)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_MOUNT, 2);
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 2);
}

/* kernel_module_request: refused `privilege` unless the policy allows module autoload; the
 * record's path is the module's name. */
static __always_inline int module_request_rule(char *kmod_name)
{
	struct eg_config *cfg = get_config();
	if (!cfg || (cfg->allow & EG_ALLOW_MODULE_REQUEST) || !current_in_workload(cfg))
		return 0;
	struct decision d = {.reason = EG_R_PRIVILEGE};
	__u8 verdict = judge(cfg, d.reason);
	struct eg_event *e = reserve();
	if (e) {
		e->ts_boot_ns = bpf_ktime_get_boot_ns();
		fill_task(e, bpf_get_current_task_btf(), EG_HOOK_MODULE_REQUEST);
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), kmod_name);
		emit(cfg, e, verdict, &d, NULL);
	}
	return hook_rc(verdict);
}

/* task_kill: signal SIG to P, sent for CRED (NULL on 6.1's kill(2)). */
static __always_inline int kill_rule(struct task_struct *p, int sig, const struct cred *cred)
{
	if (!sig)
		return 0;
	if (cred && (unsigned long)cred != (unsigned long)bpf_get_current_task_btf()->cred)
		return 0;
	return deny_outside_target(p, sig);
}

/* file_fcntl: F_SETOWN to the caller (its pid or tid) or to nobody passes; any other owner
 * and every F_SETOWN_EX is refused from the scope. */
static __always_inline int setown_rule(unsigned int cmd, unsigned long arg)
{
	if (cmd != F_SETOWN && cmd != F_SETOWN_EX)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (cmd == F_SETOWN && (arg == 0 || arg == (__u32)pid_tgid || arg == (__u32)(pid_tgid >> 32)))
		return 0;
	return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, cmd);
}

/* file_send_sigiotask: no SIGIO-chosen signal to execgated, from anywhere. */
static __always_inline int sigio_rule(struct task_struct *tsk, int sig)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !cfg->daemon_tgid || tsk->tgid != cfg->daemon_tgid)
		return 0;
	return deny_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, sig);
}

/* ptrace_access_check: in scope, no ptrace attach (nor process_vm_writev): no injecting code
 * into a process outside the gate or running an unticketed image's code inside a ticketed
 * one. */
static __always_inline int ptrace_attach_rule(unsigned int mode)
{
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE);
}

/* task_prlimit: prlimit(2) of another task names only its credentials: from the scope, no
 * other task's limits are set (the kernel calls the hook only for another task). */
static __always_inline int prlimit_rule(unsigned int flags)
{
	if (!(flags & LSM_PRLIMIT_WRITE))
		return 0;
	return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, EG_OP_PRLIMIT);
}

#endif /* EG_LIB_POSTURE_H */
