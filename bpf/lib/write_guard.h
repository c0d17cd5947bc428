/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files and names the scope may not change: writes and truncation of ticketed, pinned
 * baseline and protected files (deny_protected_write), the files no write may reach from
 * the scope (scope_write_target: cgroupfs, kernel settings, the daemon's directories, raw
 * devices), the sealing probe of execgated's own opens (probe_writers), and the name
 * rules: removals, additions, links, attributes, device nodes (deny_removal,
 * deny_addition, ...).
 */
#ifndef EG_LIB_WRITE_GUARD_H
#define EG_LIB_WRITE_GUARD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/outputs.h"
#include "lib/scope.h"
#include "lib/state.h"
#include "lib/written.h"

/* A write to a ticketed file (from any process) or to a pinned baseline file (from the
 * scope: outside it, package upgrades must go on): denied `write_protected`, audited. */
static __always_inline int deny_protected_write_scoped(const struct eg_config *cfg, struct dentry *dentry,
						       struct inode *inode, __u32 hook, int in_scope)
{
	struct eg_inode_key key = inode_key(inode);
	struct decision d = {.reason = EG_R_WRITE_PROTECTED};
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (t) {
		d.has_ticket = 1;
		copy_id(d.ticket, t->id);
	} else if (!(in_scope < 0 ? current_in_scope(cfg) : in_scope)) {
		return 0;
	} else if (prot_flags(inode) & EG_PROT_CONTENT) {
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_HELPER_WRITE);
	} else if (protected_dir(dentry->d_parent->d_inode)) {
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	} else if (!bpf_map_lookup_elem(&eg_baseline, &key)) {
		return 0;
	}
	return decide_file_event(cfg, dentry, inode, hook, &d, NULL);
}

/* The same, the scope test made only when the file has no ticket. */
static __always_inline int deny_protected_write(const struct eg_config *cfg, struct dentry *dentry,
						struct inode *inode, __u32 hook)
{
	return deny_protected_write_scoped(cfg, dentry, inode, hook, -1);
}

/* truncate(2), ftruncate(2), open(O_TRUNC): refused as a write (deny_protected_write); one the
 * scope may make marks the file. */
static __always_inline int truncate_rule(struct dentry *dentry, struct inode *inode)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	int rc = deny_protected_write(cfg, dentry, inode, EG_HOOK_TRUNCATE);
	if (rc)
		return rc;
	output_write(inode, NULL);
	return mark_if_in_scope(inode, EG_HOOK_TRUNCATE);
}

/* Files the scope may not write, whether it opens them for writing (file_open) or writes
 * through an fd opened before it entered the scope (file_permission): leaving the scope
 * through cgroupfs, host-wide kernel settings, the daemon's directories, raw devices.
 * Returns the reason (and the open-time hook) for such a file, 0 for any other. */
static __always_inline __u8 scope_write_target(struct file *file, __u32 *hook)
{
	__u64 magic = sb_magic(file);
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) {
		*hook = EG_HOOK_CGROUP_WRITE;
		return EG_R_SCOPE_ESCAPE;
	}
	if (kernel_setting(file, magic)) {
		*hook = EG_HOOK_KERNEL_SETTING;
		return EG_R_SCOPE_ESCAPE;
	}
	if (protected_dir(file->f_path.dentry->d_parent->d_inode)) {
		*hook = EG_HOOK_STATE_WRITE;
		return EG_R_GATE_TAMPER;
	}
	if (prot_flags(file->f_inode) & EG_PROT_CONTENT) {
		*hook = EG_HOOK_HELPER_WRITE;
		return EG_R_GATE_TAMPER;
	}
	if (raw_device(file->f_inode)) {
		*hook = EG_HOOK_DEVICE_WRITE;
		return EG_R_GATE_TAMPER;
	}
	return 0;
}

/* A launcher (lib/scope.h is_launcher) may write cgroupfs: systemd's child places and
 * configures the service it sets up there. What it leaves open is judged again when the
 * workload writes through it (file_permission). */
static __always_inline bool launcher_cgroup_write(const struct eg_config *cfg, __u32 hook)
{
	return hook == EG_HOOK_CGROUP_WRITE && is_launcher(cfg, bpf_get_current_task_btf(), NULL);
}

/* From the scope (the caller has judged it), no block device is opened, read or mapped
 * unless the policy allows reading them (`[scope] allow = ["block_read"]`); writing one is a
 * raw device write (scope_write_target), allowed never. */
static __always_inline int block_read_rule(const struct eg_config *cfg, struct inode *inode)
{
	if ((inode->i_mode & S_IFMT) != S_IFBLK || (cfg->allow & EG_ALLOW_BLOCK_READ))
		return 0;
	return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_READ);
}

/* Sealing: execgated's own read open of a file whose ticket entry is pending records how
 * many writers (open file descriptions with write access, shared writable mappings
 * included) the inode has at that moment. Write opens are refused from the moment the
 * entry exists, so with none left then, nothing can change the bytes the daemon hashes. */
static __always_inline void probe_writers(const struct eg_config *cfg, struct file *file)
{
	if (!cfg->daemon_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) != cfg->daemon_tgid)
		return;
	struct inode *inode = file->f_inode;
	struct eg_inode_key key = inode_key(inode);
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (!t || !(t->flags & EG_TF_PENDING))
		return;
	t->writers = inode->i_writecount.counter;
	t->generation = inode->i_generation;
	t->flags |= EG_TF_PROBED;
}

/* file_open: a read open probes sealing writers, and keeps the scope from secrets and from
 * block devices (the bytes of every file on them: a disk holds the audit signing key); a
 * write open from the scope is judged by scope_write_target, then any by
 * deny_protected_write, and one the scope may make marks the file as the scope's
 * (lib/written.h). The scope test comes first: out of the scope (most opens on a host) the
 * file is not classified at all (docs/cost.md). */
static __always_inline int file_open_rule(struct file *file)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct inode *inode = file->f_inode;
	if (!(file->f_mode & FMODE_WRITE)) {
		probe_writers(cfg, file);
		if (!current_in_scope(cfg))
			return 0;
		if (prot_flags(inode) & EG_PROT_SECRET)
			return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
		return block_read_rule(cfg, inode);
	}
	const int in_scope = current_in_scope(cfg);
	if (in_scope) {
		__u32 hook = 0;
		__u8 reason = scope_write_target(file, &hook);
		if (reason && !launcher_cgroup_write(cfg, hook))
			return deny_simple(reason, hook);
	}
	int rc = deny_protected_write_scoped(cfg, file->f_path.dentry, inode, EG_HOOK_OPEN_WRITE, in_scope);
	if (rc)
		return rc;
	output_write(inode, in_scope ? file : NULL);
	if (!in_scope)
		return 0;
	return mark_scope_write(cfg, inode, EG_HOOK_OPEN_WRITE);
}

/* file_permission: a read or write through an open file. Writes from the scope through an
 * fd opened before it entered (an inherited fd to cgroup.procs, a sysctl, the audit log,
 * the state, a raw device: the open-time checks never saw them) meet scope_write_target,
 * and mark the file; the kernel asks the same for the writes of fallocate, copy_file_range,
 * splice and the clone and dedupe ioctls. Reads of a block device from the scope are
 * refused as its opens are. */
static __always_inline int fd_access_rule(struct file *file, int mask)
{
	struct inode *inode = file->f_inode;
	if (!(mask & MAY_WRITE)) {
		if (!(mask & MAY_READ) || (inode->i_mode & S_IFMT) != S_IFBLK)
			return 0;
		struct eg_config *cfg = get_config();
		if (!cfg || !current_in_scope(cfg))
			return 0;
		return block_read_rule(cfg, inode);
	}
	__u32 hook = 0;
	__u8 reason = scope_write_target(file, &hook);
	if (!reason && !markable(inode))
		return 0;
	if (!reason)
		output_write(inode, NULL);
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (!reason)
		return mark_scope_write(cfg, inode, EG_HOOK_FD_WRITE);
	if (launcher_cgroup_write(cfg, hook))
		return 0;
	return deny_simple(reason, EG_HOOK_FD_WRITE);
}

/* mmap_file and file_mprotect from the scope: a shared writable mapping of a file opened
 * for writing changes its bytes without write(): judged as a write through an fd
 * (scope_write_target, then the mark); a block device is not mapped at all unless the
 * policy allows reading block devices. Private and read-only mappings of other files pass. */
static __always_inline int mapping_rule(struct file *file, bool shared_write)
{
	struct inode *inode = file->f_inode;
	bool block = (inode->i_mode & S_IFMT) == S_IFBLK;
	shared_write = shared_write && (file->f_mode & FMODE_WRITE);
	if (!shared_write && !block)
		return 0;
	if (shared_write)
		output_write(inode, NULL);
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (block) {
		int rc = block_read_rule(cfg, inode);
		if (rc)
			return rc;
	}
	if (!shared_write)
		return 0;
	__u32 hook = 0;
	__u8 reason = scope_write_target(file, &hook);
	if (!reason)
		return mark_scope_write(cfg, inode, EG_HOOK_MMAP_WRITE);
	if (launcher_cgroup_write(cfg, hook))
		return 0;
	return deny_simple(reason, EG_HOOK_MMAP_WRITE);
}

/* Removing DENTRY from DIR (unlink, rmdir, the target of a rename) from the scope: not in
 * bpffs (the gate's pins), not in the daemon's directories, not a protected name (those
 * directories, their ancestors up to /, execgated and the kernel's helper programs). */
static __always_inline int deny_removal(struct inode *dir, struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	__u64 magic = dir->i_sb->s_magic;
	if (magic == BPF_FS_MAGIC)
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PIN_UNLINK);
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) /* a scope cgroup removed, made anew */
		return deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CGROUP_WRITE);
	if (protected_dir(dir))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	if (prot_flags(dentry->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

/* Adding a name to DIR (create, link, symlink, mkdir, mknod, rename's target) from the
 * scope: nothing in the daemon's directories or in a directory of the baseline's paths
 * (what appears there would be pinned at the next reload were it not for its mark), no
 * reserved name. */
static __always_inline int deny_addition(struct inode *dir, struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (protected_dir(dir))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	__u64 magic = dir->i_sb->s_magic;
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) /* the cgroup tree is not the scope's */
		return deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CGROUP_WRITE);
	struct eg_name_key k = {};
	k.dir_dev = dir->i_sb->s_dev;
	k.dir_ino = dir->i_ino;
	bpf_probe_read_kernel_str(k.name, sizeof(k.name), dentry->d_name.name);
	if (bpf_map_lookup_elem(&eg_reserved, &k))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	struct eg_inode_key dk = {.dev = k.dir_dev, .ino = k.dir_ino};
	if (bpf_map_lookup_elem(&eg_baseline_dirs, &dk))
		return deny_simple(EG_R_WRITE_PROTECTED, EG_HOOK_BASELINE_NAME);
	return 0;
}

/* A rename removes the old name and, when the new one exists, that one too, and adds the
 * new one. */
static __always_inline int rename_rule(struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
				       struct dentry *new_dentry)
{
	int rc = deny_removal(old_dir, old_dentry);
	if (rc)
		return rc;
	if (new_dentry->d_inode) {
		rc = deny_removal(new_dir, new_dentry);
		if (rc)
			return rc;
	}
	rc = deny_addition(new_dir, new_dentry);
	if (rc)
		return rc;
	/* a file renamed by the scope is the scope's: a harmless program moved to a helper's name */
	return mark_if_in_scope(old_dentry->d_inode, EG_HOOK_PROTECTED_NAME);
}

/* A hard link: an addition to DIR, and not a second name for a file in the daemon's
 * directories or a protected file. */
static __always_inline int link_rule(struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry)
{
	int rc = deny_addition(dir, new_dentry);
	if (rc)
		return rc;
	/* ... nor a second name for a file in them, or for a protected file, elsewhere: its
	 * writes there would not be in the daemon's directories */
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (protected_dir(old_dentry->d_parent->d_inode) || prot_flags(old_dentry->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

/* Modes and owners of protected inodes and of the daemon's files (chmod 0 on execgated
 * stops its next start; a state file made world-writable ...); a file whose mode or owner
 * the scope changed (made executable, given away) is the scope's. */
static __always_inline int deny_protected_attr(struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (prot_flags(dentry->d_inode) || protected_dir(dentry->d_parent->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return mark_scope_write(cfg, dentry->d_inode, EG_HOOK_PROTECTED_NAME);
}

/* mknod: an addition to DIR, and no block device or character device (but 0:0) node. */
static __always_inline int mknod_rule(struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev)
{
	int rc = deny_addition(dir, dentry);
	if (rc)
		return rc;
	umode_t fmt = mode & S_IFMT;
	if (fmt != S_IFBLK && (fmt != S_IFCHR || dev == 0))
		return 0;
	/* the privilege posture: a launcher (systemd's PrivateDevices=) may make nodes; what
	 * the workload then opens of a raw device is judged at the open */
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_workload(cfg))
		return 0;
	return deny_arg(EG_R_PRIVILEGE, EG_HOOK_MKNOD, mode);
}

#endif /* EG_LIB_WRITE_GUARD_H */
