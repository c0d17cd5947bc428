// SPDX-License-Identifier: GPL-2.0
/*
 * execgate BPF-LSM programs. Inside the gated scope an exec proceeds only when a valid
 * ticket covers the exact inode being executed (or the policy baseline trusts it);
 * otherwise -EPERM. Hooks beyond bprm_check_security close bypasses: executable
 * mappings (loader / LD_PRELOAD tricks), writes to ticketed files, leaving the scope
 * through cgroupfs or clone3(CLONE_INTO_CGROUP), bpf() and bpffs pins, ptrace.
 * Every in-scope decision is a ring-buffer event (see execgate.h).
 *
 * This file is the list of programs, in the object's section order: each names its hook
 * and the rule in lib/ that answers it (docs/gate.md lists what each header holds). The
 * object is one compilation unit: lib/ headers define, they are not shared between objects.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* LSM programs get BTF-typed arguments: fields are read with direct (CO-RE relocated,
 * fault-safe) loads rather than bpf_probe_read_kernel() calls, which cost a helper call
 * each on the exec path. */

#include "execgate.h"

char LICENSE[] SEC("license") = "GPL";

#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/compat.h"
#include "lib/state.h"
#include "lib/clock.h"
#include "lib/scope.h"
#include "lib/classify.h"
#include "lib/jobs.h"
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/written.h"
#include "lib/outputs.h"
#include "lib/exec.h"
#include "lib/write_guard.h"
#include "lib/uring.h"
#include "lib/mapping.h"
#include "lib/devices.h"
#include "lib/kernel_guard.h"
#include "lib/posture.h"
#include "lib/lifetime.h"

/* EG_LSM(PROG, HOOK, RULE, ARGS...): program PROG on LSM hook HOOK, whose arguments are
 * ARGS (the hook's own, in order), answers RULE, an expression over them. The answer of
 * the LSMs before it comes as the last argument: a denial there stands, unasked. */
#define EG_LSM(prog, hook, rule, args...)                                                    \
	SEC("lsm/" #hook)                                                                    \
	int BPF_PROG(prog, args, int ret)                                                    \
	{                                                                                    \
		if (ret)                                                                     \
			return ret;                                                          \
		return (rule);                                                               \
	}

/* ---- The exec path (docs/gate.md "Decision on exec") ---- */

EG_LSM(eg_bprm_check, bprm_check_security, exec_decide(bprm), struct linux_binprm *bprm)

/* The exec is past its point of no return: what bprm_check decided for this very file
 * becomes the task's lineage and image. A pending decision for another file (an exec that
 * failed after its check, whose state a later exec did not overwrite) is not taken. */
SEC("lsm/bprm_committing_creds")
int BPF_PROG(eg_bprm_committing, struct linux_binprm *bprm)
{
	return exec_commit(bprm);
}

/* Children inherit the lineage of the image that forked them; an in-scope task may not
 * place a child into another cgroup (that would leave the scope). */
EG_LSM(eg_task_alloc, task_alloc, task_alloc_rule(task, clone_flags), struct task_struct *task,
       unsigned long clone_flags)

/* execveat(AT_EXECVE_CHECK) (6.14 and later) asks whether a file may run, for interpreters
 * that honour it before running a script; the kernel stops after this hook, before
 * bprm_check_security. The answer is the exec decision. */
EG_LSM(eg_bprm_creds_for_exec, bprm_creds_for_exec, exec_check_decide(bprm), struct linux_binprm *bprm)

/* Mappings (lib/mapping.h): executable ones are executions, shared writable ones writes. */
EG_LSM(eg_mmap_file, mmap_file, mmap_file_rule(file, prot, flags), struct file *file,
       unsigned long reqprot, unsigned long prot, unsigned long flags)
EG_LSM(eg_file_mprotect, file_mprotect, mprotect_rule(vma, prot), struct vm_area_struct *vma,
       unsigned long reqprot, unsigned long prot)

/* ---- Writes (lib/write_guard.h) ---- */

/* No process may open a ticketed file for writing, and no in-scope process a pinned
 * baseline file; an in-scope process may not write cgroupfs (cgroup.procs: leaving the
 * scope). */
EG_LSM(eg_file_open, file_open, file_open_rule(file), struct file *file)

/* truncate(2) by path (and ftruncate on 6.1) of a ticketed file, or of a baseline file from
 * the scope: refused as a write open is. Since 6.2, ftruncate(2) and open(O_TRUNC) call
 * file_truncate instead (loaded only where the kernel has it). */
EG_LSM(eg_path_truncate, path_truncate, truncate_rule(path->dentry, path->dentry->d_inode),
       const struct path *path)
EG_LSM(eg_file_truncate, file_truncate, truncate_rule(file->f_path.dentry, file->f_inode), struct file *file)

/* Reads and writes through an open file: writes through a file opened before the task
 * entered the scope (an inherited fd to cgroup.procs, a sysctl, the audit log, the state),
 * which the open-time checks never saw, and the writes of fallocate, copy_file_range,
 * splice, clone and dedupe; block device reads (fd_access_rule). */
EG_LSM(eg_file_permission, file_permission, fd_access_rule(file, mask), struct file *file, int mask)

/* ---- The kernel and the gate itself (lib/kernel_guard.h) ---- */

EG_LSM(eg_kernel_read_file, kernel_read_file, kernel_read_file_rule(file, id), struct file *file,
       enum kernel_read_file_id id, bool contents)
EG_LSM(eg_kernel_load_data, kernel_load_data, kernel_load_data_rule(id), enum kernel_load_data_id id,
       bool contents)

/* In scope, bpf() is refused: no editing the gate's maps or detaching its programs. 7.x
 * passes a fourth argument (bool kernel): one program per shape, the daemon loads the one
 * that matches the running kernel's hook (userspace/gate, kHookShapes). */
EG_LSM(eg_bpf, bpf, deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF), int cmd, union bpf_attr *attr,
       unsigned int size)
EG_LSM(eg_bpf_kernel, bpf, deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF), int cmd, union bpf_attr *attr,
       unsigned int size, bool kernel)

/* ---- Names (lib/write_guard.h: deny_removal, deny_addition) ---- */

EG_LSM(eg_inode_unlink, inode_unlink, deny_removal(dir, dentry), struct inode *dir, struct dentry *dentry)
EG_LSM(eg_inode_rmdir, inode_rmdir, deny_removal(dir, dentry), struct inode *dir, struct dentry *dentry)

/* A rename removes the old name and, when the new one exists, that one too. */
EG_LSM(eg_inode_rename, inode_rename, rename_rule(old_dir, old_dentry, new_dir, new_dentry),
       struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir, struct dentry *new_dentry)

EG_LSM(eg_inode_create, inode_create, deny_addition(dir, dentry), struct inode *dir, struct dentry *dentry,
       umode_t mode)

/* A hard link into the daemon's directories would plant a record there (a revoked
 * ticket's, kept aside) that a restarted daemon would read as its own. */
EG_LSM(eg_inode_link, inode_link, link_rule(old_dentry, dir, new_dentry), struct dentry *old_dentry,
       struct inode *dir, struct dentry *new_dentry)

/* Modes and owners of protected inodes and of the daemon's files (chmod 0 on execgated
 * stops its next start; a state file made world-writable ...). */
EG_LSM(eg_path_chmod, path_chmod, deny_protected_attr(path->dentry), const struct path *path, umode_t mode)
EG_LSM(eg_path_chown, path_chown, deny_protected_attr(path->dentry), const struct path *path,
       unsigned int uid, unsigned int gid)

EG_LSM(eg_inode_symlink, inode_symlink, deny_addition(dir, dentry), struct inode *dir,
       struct dentry *dentry, const char *old_name)
EG_LSM(eg_inode_mkdir, inode_mkdir, deny_addition(dir, dentry), struct inode *dir, struct dentry *dentry,
       umode_t mode)

/* Device nodes: a node of a disk or of memory reaches the bytes beneath every file the gate
 * protects (character 0:0, overlayfs' whiteout, is no device). */
EG_LSM(eg_inode_mknod, inode_mknod, mknod_rule(dir, dentry, mode, dev), struct inode *dir,
       struct dentry *dentry, umode_t mode, dev_t dev)

/* ---- Other tasks, devices, terminals (lib/posture.h, lib/devices.h) ---- */

EG_LSM(eg_ptrace, ptrace_access_check, ptrace_attach_rule(mode), struct task_struct *child,
       unsigned int mode)

/* In scope, no PTRACE_TRACEME: its tracer (the parent) could write the next image's code
 * before it runs, a ticketed image running unauthorized code (no access check calls
 * ptrace_access_check for TRACEME). */
EG_LSM(eg_ptrace_traceme, ptrace_traceme, deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE_TRACEME),
       struct task_struct *parent)

/* Device passthrough, inode flags, block device configuration, terminal input, an fd's
 * signal owner (ioctl_rule). */
EG_LSM(eg_file_ioctl, file_ioctl, ioctl_rule(file, cmd), struct file *file, unsigned int cmd,
       unsigned long arg)

/* An fd's signal owner (F_SETOWN): I/O on it then sends SIGIO, or any signal F_SETSIG
 * names, to that process without task_kill (sigio_perm lets root's owner signal anyone).
 * From the scope an fd's owner is itself or nobody; and no such signal reaches execgated,
 * whoever set the owner. */
EG_LSM(eg_file_fcntl, file_fcntl, setown_rule(cmd, arg), struct file *file, unsigned int cmd,
       unsigned long arg)
EG_LSM(eg_file_send_sigiotask, file_send_sigiotask, sigio_rule(tsk, sig), struct task_struct *tsk,
       struct fown_struct *fown, int sig)

/* request_key(2) for a key type without an upcall of its own makes the kernel run
 * /sbin/request-key as root outside the scope, which runs what /etc/request-key.conf and
 * /etc/request-key.d name: from the scope, no such upcall (its authorization key). */
EG_LSM(eg_key_alloc, key_alloc, key_upcall_rule(key), struct key *key, const struct cred *cred,
       unsigned long flags)

/* 32-bit ioctls (6.8 and later, and Debian's 6.1 by backport; loaded only where the kernel has the hook). */
EG_LSM(eg_file_ioctl_compat, file_ioctl_compat, ioctl_rule(file, cmd), struct file *file, unsigned int cmd,
       unsigned long arg)

/* file_setattr(2) (6.17 and later) sets the same inode flags by path. */
EG_LSM(eg_inode_file_setattr, inode_file_setattr, deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_FILE_ATTR, 0),
       struct dentry *dentry, void *fa)

EG_LSM(eg_uring_cmd, uring_cmd, uring_cmd_rule(ioucmd), struct io_uring_cmd *ioucmd)

/* In scope, what the kernel's lockdown LSM forbids in integrity mode is refused, whether or
 * not the host is locked down: every way the kernel lists for root to modify the running
 * kernel or reach the hardware beneath it (I/O ports by iopl/ioperm, MSR writes, PCI
 * config writes, ACPI tables, unsafe module parameters, writable debugfs, ...). Not
 * hibernation: its check also runs when /sys/power/state is merely read. */
EG_LSM(eg_locked_down, locked_down, lockdown_rule(what), enum lockdown_reason what)

/* ---- The scope's privilege posture (docs/gate.md "Privilege posture", lib/posture.h) ---- */

/* Only the capabilities the policy allows (eg_config.caps_allowed). Checks of another
 * task's credentials pass (has_capability: the task judged is not the current one);
 * probes the kernel makes without auditing are refused but not recorded. */
EG_LSM(eg_capable, capable, capable_rule(cred, cap, opts), const struct cred *cred,
       struct user_namespace *ns, int cap, unsigned int opts)

/* Mounts: a tmpfs over the policy, a decoy over the scope's cgroup, bpffs unmounted under
 * the pins, a crafted image beneath a ticketed path. Unmounting bpffs is refused even where
 * the policy allows mounts. */
EG_LSM(eg_sb_mount, sb_mount, deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 1), const char *dev_name,
       const struct path *path, const char *type, unsigned long flags, void *data)
EG_LSM(eg_sb_umount, sb_umount, umount_rule(mnt), struct vfsmount *mnt, int flags)
EG_LSM(eg_move_mount, move_mount, deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 3),
       const struct path *from_path, const struct path *to_path)
EG_LSM(eg_sb_pivotroot, sb_pivotroot, deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 4),
       const struct path *old_path, const struct path *new_path)

/* Module autoload: the kernel runs modprobe as root, outside the scope. */
EG_LSM(eg_kernel_module_request, kernel_module_request, module_request_rule(kmod_name), char *kmod_name)

/* User namespaces (6.1 and later): inside one, every capability check of the namespace
 * passes the kernel's own test; the posture still applies, this closes the door before. */
EG_LSM(eg_userns_create, userns_create, deny_posture(EG_ALLOW_USERNS, EG_HOOK_USERNS, 0),
       const struct cred *cred)

/* Acting from the scope on tasks outside it: killing or stopping execgated (or anything
 * else), SIGHUP with a swapped policy, starving it of CPU, I/O or file descriptors. Signal
 * 0 (a probe) passes, and so do signals sent for credentials other than the current task's
 * (USB async I/O completions). 6.1 passes cred NULL for kill(2), newer kernels the
 * sender's credentials. */
EG_LSM(eg_task_kill, task_kill, kill_rule(p, sig, cred), struct task_struct *p,
       struct kernel_siginfo *info, int sig, const struct cred *cred)
EG_LSM(eg_task_setnice, task_setnice, deny_outside_target(p, EG_OP_NICE), struct task_struct *p, int nice)
EG_LSM(eg_task_setioprio, task_setioprio, deny_outside_target(p, EG_OP_IOPRIO), struct task_struct *p,
       int ioprio)
EG_LSM(eg_task_setscheduler, task_setscheduler, deny_outside_target(p, EG_OP_SCHEDULER),
       struct task_struct *p)
EG_LSM(eg_task_movememory, task_movememory, deny_outside_target(p, EG_OP_MOVEMEMORY),
       struct task_struct *p)
EG_LSM(eg_task_prlimit, task_prlimit, prlimit_rule(flags), const struct cred *cred,
       const struct cred *tcred, unsigned int flags)

/* ---- Housekeeping ---- */

/* A superblock shutting down: its ticket, baseline and mark entries go with it
 * (lib/lifetime.h). */
SEC("lsm/sb_delete")
int BPF_PROG(eg_sb_delete, struct super_block *sb)
{
	return forget_superblock(sb);
}

/* A file with no name left is gone: its mark as the scope's goes with it (lib/written.h),
 * and its entry as a job's output (lib/outputs.h). */
SEC("lsm/inode_free_security")
int BPF_PROG(eg_inode_free_security, struct inode *inode)
{
	if (!inode->i_nlink)
		forget_output(inode);
	return forget_written(inode);
}

/* In scope, the system clock stays as it is: a clock set back to a deleted ticketed file's
 * change time is half of forging that file's identity, and the audit log's times come from
 * it. (Ticket validity runs on CLOCK_BOOTTIME, which settime does not move.) */
EG_LSM(eg_settime, settime, deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_SETTIME), const struct timespec64 *ts,
       const struct timezone *tz)

/* Keeps the exec clock's base (struct eg_clock) current. CLOCK_BOOTTIME - jiffies * TICK_NSEC
 * changes only across suspend: the kernel adds the time slept to the boot clock on resume
 * (at timekeeping resume, or later from the RTC driver's resume), not to jiffies. Every
 * step of a suspend or hibernation is bracketed by this tracepoint (syscore and device
 * resume, process thaw, s2idle's timekeeping freeze): at a step's start the base is
 * dropped (execs read the clock), at its end it is taken anew. The daemon runs it too
 * (BPF_PROG_TEST_RUN, no action): EG_CLOCK_TAKE at start, EG_CLOCK_CHECK every 100 ms.
 * Userspace cannot fire the tracepoint nor write the entry (only the daemon holds the map;
 * bpf() is denied in the scope). */
SEC("raw_tp/suspend_resume")
int BPF_PROG(eg_clock_sync, const char *action, int val, bool start)
{
	return clock_sync(action, val, start);
}
