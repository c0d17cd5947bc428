/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build outputs, allowed by lineage (docs/gate.md "Jobs"): a regular file that a builder
 * (a task whose image a ticket marked EG_TF_BUILDER authorized) creates or truncates
 * inside a live job, being its only writer, becomes that job's output (eg_outputs): it runs
 * in that job only, while the builder's ticket is in force (lib/decision.h output_reason).
 * Any write by anyone else, inside the scope or outside it, removes the entry: a write
 * open, a write through any fd (an inherited one, io_uring's, splice, copy_file_range,
 * fallocate, clone), a shared writable mapping, a truncation. The builder's own later
 * writes keep it (the same ticket, the same job). Nothing here refuses: a file that cannot
 * be kept as an output is an unknown file.
 */
#ifndef EG_LIB_OUTPUTS_H
#define EG_LIB_OUTPUTS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/decision.h"
#include "lib/jobs.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/written.h"

/* The current task's state when its image is a builder's. An io_uring worker or SQPOLL
 * thread is none: it writes what any process holding the ring submits. */
static __always_inline struct eg_task_state *current_builder(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & PF_IO_WORKER)
		return NULL;
	struct eg_task_state *st = bpf_task_storage_get(&eg_task_state, task, 0, 0);
	return st && st->builder && st->has_ticket ? st : NULL;
}

/* A filesystem where the kernel sees every writer of a file: not a network, cluster or
 * FUSE filesystem, nor overlayfs (its lower layers change beneath it). */
static __always_inline bool output_fs(struct inode *inode)
{
	__u64 m = inode->i_sb->s_magic;
	return m != FUSE_SUPER_MAGIC && m != NFS_SUPER_MAGIC && m != SMB2_MAGIC_NUMBER && m != CIFS_SUPER_MAGIC &&
	       m != V9FS_MAGIC && m != CEPH_SUPER_MAGIC && m != AFS_FS_MAGIC && m != CODA_SUPER_MAGIC &&
	       m != OCFS2_SUPER_MAGIC && m != GFS2_MAGIC && m != LUSTRE_SUPER_MAGIC && m != OVERLAYFS_SUPER_MAGIC;
}

/* Whether FILE, opened for writing by a builder, is wholly the builder's from here on: it
 * is created or truncated by this open (or empty), and nothing else holds it open for
 * writing or maps it shared and writable (the kernel counted this open already). */
static __always_inline bool builder_owns(struct file *file, struct inode *inode)
{
	if (!(file->f_flags & O_TRUNC) && inode->i_size != 0)
		return false;
	return inode->i_writecount.counter == 1 && inode->i_mapping->i_mmap_writable.counter == 0;
}

/* A write to INODE by the current task; OPENED: the file of a write open (NULL for a write
 * through an fd, a mapping, a truncation). */
static __always_inline void output_write(struct inode *inode, struct file *opened)
{
	if (!jobs_live() || !markable(inode))
		return;
	struct eg_inode_key k = inode_key(inode);
	struct eg_output *o = bpf_map_lookup_elem(&eg_outputs, &k);
	if (!o && !opened)
		return; /* no output, and no open that could make one: the writer does not matter */
	struct eg_task_state *st = current_builder();
	if (o) {
		if (st && o->generation == inode->i_generation && same_id(o->builder_ticket, st->ticket) &&
		    o->job == current_job())
			return; /* its builder, writing on */
		bpf_map_delete_elem(&eg_outputs, &k);
		return;
	}
	if (!st || !opened || !output_fs(inode) || !builder_owns(opened, inode))
		return;
	__u64 job = current_job();
	if (!job)
		return;
	struct eg_output v = {};
	copy_id(v.builder_ticket, st->ticket);
	v.builder = st->builder_image;
	v.job = job;
	v.generation = inode->i_generation;
	v.writer = (__u32)(bpf_get_current_pid_tgid() >> 32);
	bpf_map_update_elem(&eg_outputs, &k, &v, BPF_ANY); /* full: no output, an unknown file */
}

/* inode_free_security: an output with no name left is gone. */
static __always_inline void forget_output(struct inode *inode)
{
	struct eg_inode_key k = inode_key(inode);
	if (bpf_map_lookup_elem(&eg_outputs, &k))
		bpf_map_delete_elem(&eg_outputs, &k);
}

#endif /* EG_LIB_OUTPUTS_H */
