/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files the scope wrote (docs/gate.md "Files the scope wrote"): a regular file that a task
 * in the scope created, wrote (write(), a write open, a shared writable mapping, a
 * truncation, the writes of fallocate, copy_file_range, splice and clone, which the kernel
 * checks as writes), renamed, or changed the mode or owner of is marked in eg_written
 * (mark_scope_write). Outside the scope such a file is never run, mapped executable or
 * loaded by the kernel (denied_outside): not by a usermode helper the kernel starts, a
 * service of the host, the loader of a host program (ld.so.preload, LD_PRELOAD), nor as a
 * module, firmware or kexec image. The mark names the inode (with its generation: a reused
 * inode number is another file) and stays while the file exists, whoever writes it later;
 * it goes with the file (forget_written, at inode_free_security with no link left) or its
 * filesystem (sb_delete). A mark that cannot be stored refuses the write (fail closed).
 */
#ifndef EG_LIB_WRITTEN_H
#define EG_LIB_WRITTEN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/scope.h"
#include "lib/state.h"

/* A regular file on a filesystem that can hold programs: kernel interfaces (procfs, sysfs,
 * cgroupfs) are judged as settings, never run. */
static __always_inline bool markable(struct inode *inode)
{
	if (!inode || (inode->i_mode & S_IFMT) != S_IFREG)
		return false;
	__u64 magic = inode->i_sb->s_magic;
	return magic != PROC_SUPER_MAGIC && magic != SYSFS_MAGIC && magic != CGROUP2_SUPER_MAGIC &&
	       magic != CGROUP_SUPER_MAGIC;
}

/* Marks INODE as written by the scope. The caller has judged that the current task is in
 * the scope (and not execgated). 0, or -EPERM (recorded, `arg` the write's HOOK) when the
 * mark cannot be stored. */
static __always_inline int mark_scope_write(const struct eg_config *cfg, struct inode *inode, __u32 hook)
{
	/* host-wide, nothing runs outside the scope */
	if (cfg->scope_host || !markable(inode))
		return 0;
	struct eg_inode_key k = inode_key(inode);
	struct eg_written *w = bpf_map_lookup_elem(&eg_written, &k);
	if (w && w->generation == inode->i_generation)
		return 0;
	struct eg_written v = {.generation = inode->i_generation};
	if (bpf_map_update_elem(&eg_written, &k, &v, BPF_ANY) == 0)
		return 0;
	return deny_arg(EG_R_SCOPE_WRITTEN, EG_HOOK_WRITE_MARK, hook);
}

/* The same, when the current task is in the scope. */
static __always_inline int mark_if_in_scope(struct inode *inode, __u32 hook)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !markable(inode) || !current_in_scope(cfg))
		return 0;
	return mark_scope_write(cfg, inode, hook);
}

static __always_inline bool scope_wrote(struct inode *inode)
{
	struct eg_inode_key k = inode_key(inode);
	struct eg_written *w = bpf_map_lookup_elem(&eg_written, &k);
	return w && w->generation == inode->i_generation;
}

/* Outside the scope: FILE is run (exec), mapped executable or loaded by the kernel (HOOK).
 * A file the scope wrote is denied `scope_written`, audited; anything else passes here. */
static __always_inline int denied_outside(const struct eg_config *cfg, struct file *file, __u32 hook)
{
	struct inode *inode = file->f_inode;
	if (!scope_wrote(inode))
		return 0;
	struct decision d = {.reason = EG_R_SCOPE_WRITTEN};
	return decide_file_event(cfg, file->f_path.dentry, inode, hook, &d, NULL);
}

/* inode_free_security: a file with no name left is gone for good (an inode evicted from
 * the cache with its names keeps its mark: it is read back with the same number). */
static __always_inline int forget_written(struct inode *inode)
{
	if (inode->i_nlink)
		return 0;
	struct eg_inode_key k = inode_key(inode);
	if (bpf_map_lookup_elem(&eg_written, &k)) /* most deleted files were never marked: no bucket lock */
		bpf_map_delete_elem(&eg_written, &k);
	return 0;
}

#endif /* EG_LIB_WRITTEN_H */
