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
 * and calls into lib/ (docs/gate.md lists what each header holds). The object is one
 * compilation unit: lib/ headers define, they are not shared between objects.
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
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/written.h"
#include "lib/exec.h"
#include "lib/write_guard.h"
#include "lib/tamper.h"
#include "lib/posture.h"

/* ---- The exec path (docs/gate.md "Decision on exec") ---- */

SEC("lsm/bprm_check_security")
int BPF_PROG(eg_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return exec_decide(bprm);
}

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
SEC("lsm/task_alloc")
int BPF_PROG(eg_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	if (ret)
		return ret;
	return task_alloc_rule(task, clone_flags);
}

/* execveat(AT_EXECVE_CHECK) (6.14 and later) asks whether a file may run, for interpreters
 * that honour it before running a script; the kernel stops after this hook, before
 * bprm_check_security. The answer is the exec decision. */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(eg_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return exec_check_decide(bprm);
}

/* An executable mapping of a file is an execution: ld.so /path/bin, LD_PRELOAD, dlopen. A
 * shared writable one is a write (lib/write_guard.h mapping_rule). */
SEC("lsm/mmap_file")
int BPF_PROG(eg_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file)
		return 0;
	int rc = uring_ring_rule(file);
	if (rc)
		return rc;
	rc = mapping_rule(file, (prot & PROT_WRITE) && (flags & MAP_TYPE) != MAP_PRIVATE);
	if (rc || !(prot & PROT_EXEC) || exec_own_image(file))
		return rc;
	return check_exec_mapping(file, EG_HOOK_MMAP_EXEC);
}

SEC("lsm/file_mprotect")
int BPF_PROG(eg_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	struct file *file = vma->vm_file;
	if (!file)
		return 0;
	int rc = mapping_rule(file, (prot & PROT_WRITE) && (vma->vm_flags & VM_SHARED));
	if (rc || !(prot & PROT_EXEC))
		return rc;
	return check_exec_mapping(file, EG_HOOK_MPROTECT_EXEC);
}

/* ---- Writes (lib/write_guard.h) ---- */

/* No process may open a ticketed file for writing, and no in-scope process a pinned
 * baseline file; an in-scope process may not write cgroupfs (cgroup.procs: leaving the
 * scope). */
SEC("lsm/file_open")
int BPF_PROG(eg_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return file_open_rule(file);
}

/* truncate(2) by path (and ftruncate on 6.1) of a ticketed file: refused like a write
 * open (and of a baseline file from the scope) (its size change would only show as `stale` at the next exec,
 * and not at all within one coarse timestamp tick). */
SEC("lsm/path_truncate")
int BPF_PROG(eg_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return truncate_rule(path->dentry, path->dentry->d_inode);
}

/* Since 6.2, ftruncate(2) and open(O_TRUNC) call this hook instead of path_truncate: the
 * same rules (loaded only where the kernel has it). */
SEC("lsm/file_truncate")
int BPF_PROG(eg_file_truncate, struct file *file, int ret)
{
	if (ret)
		return ret;
	return truncate_rule(file->f_path.dentry, file->f_inode);
}

/* Reads and writes through an open file: writes through a file opened before the task
 * entered the scope (an inherited fd to cgroup.procs, a sysctl, the audit log, the state),
 * which the open-time checks never saw, and the writes of fallocate, copy_file_range,
 * splice, clone and dedupe; block device reads (lib/write_guard.h fd_access_rule). */
SEC("lsm/file_permission")
int BPF_PROG(eg_file_permission, struct file *file, int mask, int ret)
{
	if (ret)
		return ret;
	return fd_access_rule(file, mask);
}

/* ---- The kernel and the gate itself ---- */

/* In scope, no kernel modules, kexec images or IMA policies: each could switch the gate
 * off. Firmware loads (driven by drivers) pass. From anywhere, nothing the scope wrote is
 * loaded into the kernel (a module, firmware, a kexec image, a policy). */
SEC("lsm/kernel_read_file")
int BPF_PROG(eg_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (cfg && file) {
		int rc = denied_outside(cfg, file, EG_HOOK_KERNEL_LOAD);
		if (rc)
			return rc;
	}
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(eg_kernel_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

/* In scope, bpf() is refused: no editing the gate's maps or detaching its programs. 7.x
 * passes a fourth argument (bool kernel): one program per shape, the daemon loads the one
 * that matches the running kernel's hook (bpf_gate.cpp, kHookShapes). */
SEC("lsm/bpf")
int BPF_PROG(eg_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF);
}

SEC("lsm/bpf")
int BPF_PROG(eg_bpf_kernel, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF);
}

/* ---- Names (lib/write_guard.h: deny_removal, deny_addition) ---- */

SEC("lsm/inode_unlink")
int BPF_PROG(eg_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return deny_removal(dir, dentry);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(eg_inode_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return deny_removal(dir, dentry);
}

/* A rename removes the old name and, when the new one exists, that one too. */
SEC("lsm/inode_rename")
int BPF_PROG(eg_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	return rename_rule(old_dir, old_dentry, new_dir, new_dentry);
}

SEC("lsm/inode_create")
int BPF_PROG(eg_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

/* A hard link into the daemon's directories would plant a record there (a revoked
 * ticket's, kept aside) that a restarted daemon would read as its own. */
SEC("lsm/inode_link")
int BPF_PROG(eg_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	return link_rule(old_dentry, dir, new_dentry);
}

/* Modes and owners of protected inodes and of the daemon's files (chmod 0 on execgated
 * stops its next start; a state file made world-writable ...). */
SEC("lsm/path_chmod")
int BPF_PROG(eg_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_protected_attr(path->dentry);
}

SEC("lsm/path_chown")
int BPF_PROG(eg_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
	if (ret)
		return ret;
	return deny_protected_attr(path->dentry);
}

SEC("lsm/inode_symlink")
int BPF_PROG(eg_inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(eg_inode_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

/* Device nodes: a node of a disk or of memory reaches the bytes beneath every file the gate
 * protects (character 0:0, overlayfs' whiteout, is no device). */
SEC("lsm/inode_mknod")
int BPF_PROG(eg_inode_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev, int ret)
{
	if (ret)
		return ret;
	return mknod_rule(dir, dentry, mode, dev);
}

/* ---- Other tasks, devices, terminals (lib/tamper.h, lib/posture.h) ---- */

/* In scope, no ptrace attach (nor process_vm_writev): no injecting code into a process
 * outside the gate or running an unticketed image's code inside a ticketed one. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(eg_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE);
}

/* In scope, no PTRACE_TRACEME: its tracer (the parent) could write the next image's code
 * before it runs, a ticketed image running unauthorized code (no access check calls
 * ptrace_access_check for TRACEME). */
SEC("lsm/ptrace_traceme")
int BPF_PROG(eg_ptrace_traceme, struct task_struct *parent, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE_TRACEME);
}

/* Device passthrough, inode flags, block device configuration, terminal input, an fd's
 * signal owner (ioctl_rule). */
SEC("lsm/file_ioctl")
int BPF_PROG(eg_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return ioctl_rule(file, cmd);
}

/* An fd's signal owner (F_SETOWN): I/O on it then sends SIGIO, or any signal F_SETSIG
 * names, to that process without task_kill (sigio_perm lets root's owner signal anyone).
 * From the scope an fd's owner is itself or nobody. */
SEC("lsm/file_fcntl")
int BPF_PROG(eg_file_fcntl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return setown_rule(cmd, arg);
}

/* ... and no such signal reaches execgated, whoever set the owner. */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(eg_file_send_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	if (ret)
		return ret;
	return sigio_rule(tsk, sig);
}

/* request_key(2) for a key type without an upcall of its own makes the kernel run
 * /sbin/request-key as root outside the scope, which runs what /etc/request-key.conf and
 * /etc/request-key.d name: from the scope, no such upcall (its authorization key). */
SEC("lsm/key_alloc")
int BPF_PROG(eg_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	return key_upcall_rule(key);
}

/* 32-bit ioctls (6.8 and later, and Debian's 6.1 by backport; loaded only where the kernel has the hook). */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(eg_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return ioctl_rule(file, cmd);
}

/* file_setattr(2) (6.17 and later) sets the same inode flags by path. */
SEC("lsm/inode_file_setattr")
int BPF_PROG(eg_inode_file_setattr, struct dentry *dentry, void *fa, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_FILE_ATTR, 0);
}

/* io_uring passthrough (IORING_OP_URING_CMD) hands a command to the driver beneath the
 * files, as the passthrough ioctls do: NVMe I/O and admin commands on /dev/ngXnY and
 * /dev/nvmeX (a read-only fd suffices), ublk control, block discard. From the scope none
 * reaches a device (sockets, which have uring commands of their own since 6.7, pass). */
SEC("lsm/uring_cmd")
int BPF_PROG(eg_uring_cmd, struct io_uring_cmd *ioucmd, int ret)
{
	if (ret)
		return ret;
	if (!device_node(ioucmd->file->f_inode))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_COMMAND);
}

/* In scope, what the kernel's lockdown LSM forbids in integrity mode is refused, whether or
 * not the host is locked down: every way the kernel lists for root to modify the running
 * kernel or reach the hardware beneath it (I/O ports by iopl/ioperm, MSR writes, PCI
 * config writes, ACPI tables, unsafe module parameters, writable debugfs, ...). Not
 * hibernation: its check also runs when /sys/power/state is merely read. */
SEC("lsm/locked_down")
int BPF_PROG(eg_locked_down, enum lockdown_reason what, int ret)
{
	if (ret)
		return ret;
	return lockdown_rule(what);
}

/* ---- The scope's privilege posture (docs/gate.md "Privilege posture") ---- */

/* Only the capabilities the policy allows (eg_config.caps_allowed). Checks of another
 * task's credentials pass (has_capability: the task judged is not the current one);
 * probes the kernel makes without auditing are refused but not recorded. */
SEC("lsm/capable")
int BPF_PROG(eg_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts, int ret)
{
	if (ret)
		return ret;
	return capable_rule(cred, cap, opts);
}

/* Mounts: a tmpfs over the policy, a decoy over the scope's cgroup, bpffs unmounted under
 * the pins, a crafted image beneath a ticketed path. Unmounting bpffs is refused even where
 * the policy allows mounts. */
SEC("lsm/sb_mount")
int BPF_PROG(eg_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 1);
}

SEC("lsm/sb_umount")
int BPF_PROG(eg_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	return umount_rule(mnt);
}

SEC("lsm/move_mount")
int BPF_PROG(eg_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 3);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(eg_sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 4);
}

/* Module autoload: the kernel runs modprobe as root, outside the scope. */
SEC("lsm/kernel_module_request")
int BPF_PROG(eg_kernel_module_request, char *kmod_name, int ret)
{
	if (ret)
		return ret;
	return module_request_rule(kmod_name);
}

/* User namespaces (6.1 and later): inside one, every capability check of the namespace
 * passes the kernel's own test; the posture still applies, this closes the door before. */
SEC("lsm/userns_create")
int BPF_PROG(eg_userns_create, const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_USERNS, EG_HOOK_USERNS, 0);
}

/* Acting from the scope on tasks outside it: killing or stopping execgated (or anything
 * else), SIGHUP with a swapped policy, starving it of CPU, I/O or file descriptors. Signal
 * 0 (a probe) passes, and so do signals sent for credentials other than the current task's
 * (USB async I/O completions). 6.1 passes cred NULL for kill(2), newer kernels the
 * sender's credentials. */
SEC("lsm/task_kill")
int BPF_PROG(eg_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return kill_rule(p, sig, cred);
}

SEC("lsm/task_setnice")
int BPF_PROG(eg_task_setnice, struct task_struct *p, int nice, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_NICE);
}

SEC("lsm/task_setioprio")
int BPF_PROG(eg_task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_IOPRIO);
}

SEC("lsm/task_setscheduler")
int BPF_PROG(eg_task_setscheduler, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_SCHEDULER);
}

SEC("lsm/task_movememory")
int BPF_PROG(eg_task_movememory, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_MOVEMEMORY);
}

/* prlimit(2) of another task names only its credentials: from the scope, no other task's
 * limits are set (the kernel calls this hook only for another task). */
SEC("lsm/task_prlimit")
int BPF_PROG(eg_task_prlimit, const struct cred *cred, const struct cred *tcred, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	if (!(flags & LSM_PRLIMIT_WRITE))
		return 0;
	return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, EG_OP_PRLIMIT);
}

/* ---- Housekeeping ---- */

/* A superblock shutting down (the last mount of a filesystem gone): its ticket and
 * baseline entries go with it (lib/tamper.h, forget_superblock). */
SEC("lsm/sb_delete")
int BPF_PROG(eg_sb_delete, struct super_block *sb)
{
	return forget_superblock(sb);
}

/* A file with no name left is gone: its mark as the scope's goes with it (lib/written.h). */
SEC("lsm/inode_free_security")
int BPF_PROG(eg_inode_free_security, struct inode *inode)
{
	return forget_written(inode);
}

/* In scope, the system clock stays as it is: a clock set back to a deleted ticketed file's
 * change time is half of forging that file's identity, and the audit log's times come from
 * it. (Ticket validity runs on CLOCK_BOOTTIME, which settime does not move.) */
SEC("lsm/settime")
int BPF_PROG(eg_settime, const struct timespec64 *ts, const struct timezone *tz, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_SETTIME);
}

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
