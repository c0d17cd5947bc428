/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring rings whose kernel thread would work for the scope from outside it.
 */
#ifndef EG_LIB_URING_H
#define EG_LIB_URING_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/scope.h"
#include "lib/state.h"

/* An io_uring ring (its anon inode's name) mapped from the scope whose SQPOLL kernel thread
 * belongs to a process outside the scope: that thread runs whatever is written into the
 * ring, as its creator, outside the scope (a ring inherited or passed in, or a ring of the
 * workload's own attached to it by IORING_SETUP_ATTACH_WQ). Without the mapping the ring
 * takes no submission; a ring the workload makes itself has its thread in the scope. */
static __always_inline int uring_ring_rule(struct file *file)
{
	struct inode *inode = file->f_inode;
	if (inode->i_sb->s_magic != ANON_INODE_FS_MAGIC)
		return 0;
	static const char ring_name[] = "[io_uring]";
	char name[sizeof(ring_name)] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), file->f_path.dentry->d_name.name);
	for (int i = 0; i < (int)sizeof(ring_name); i++)
		if (name[i] != ring_name[i])
			return 0;
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	struct io_ring_ctx *ctx = file->private_data;
	if (!(BPF_CORE_READ(ctx, flags) & IORING_SETUP_SQPOLL))
		return 0;
	struct task_struct *thread = BPF_CORE_READ(ctx, sq_data, thread);
	if (!thread || task_in_scope(cfg, thread))
		return 0;
	return deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_URING_SQPOLL);
}

#endif /* EG_LIB_URING_H */
