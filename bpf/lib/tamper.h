/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules against tampering with the gate or reaching beneath it that are not about a file's
 * name or contents: ioctls (inode flags, terminal input, device passthrough, block device
 * configuration), request-key upcalls, what kernel lockdown forbids, and the entries of a
 * filesystem that goes away (superblock teardown).
 */
#ifndef EG_LIB_TAMPER_H
#define EG_LIB_TAMPER_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"

/* In scope, no SCSI or NVMe passthrough to a device: with CAP_SYS_RAWIO a read-only fd of a
 * disk suffices to write its blocks (SG_IO), beneath every file the gate protects. */
/* Also, in scope: no inode flags (clearing append-only or immutable on the audit log, then
 * truncating it), no loop / device-mapper / nbd / partition configuration (attaching a
 * crafted image beneath a mounted filesystem's device number). */
static __always_inline int ioctl_rule(struct file *file, unsigned int cmd)
{
	if (cmd == FS_IOC_SETFLAGS || cmd == FS_IOC32_SETFLAGS || cmd == FS_IOC_FSSETXATTR)
		return deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_FILE_ATTR, cmd);
	if (cmd == TIOCSTI || cmd == TIOCLINUX)
		return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_TTY_INJECT, cmd);
	if (cmd == FIOSETOWN || cmd == SIOCSPGRP) /* the signal owner of an fd: see eg_file_fcntl */
		return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, cmd);
	if (!device_node(file->f_inode))
		return 0;
	__u32 type = IOC_TYPE(cmd);
	bool nvme = type == 'N' && IOC_NR(cmd) >= 0x40 && IOC_NR(cmd) <= 0x7f;
	if (cmd == SG_IO || nvme)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_COMMAND, cmd);
	if (type == LOOP_IOC_TYPE || type == DM_IOC_TYPE || type == NBD_IOC_TYPE || cmd == BLKPG)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_BLOCK_CONFIG, cmd);
	return 0;
}

/* key_alloc: the authorization key of a request_key(2) upcall, allocated from the scope. */
static __always_inline int key_upcall_rule(struct key *key)
{
	const char want[] = ".request_key_auth";
	char name[sizeof(want)] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(key, type, name));
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return 0;
	return deny_in_scope(EG_R_SCOPE_ESCAPE, EG_HOOK_KEY_UPCALL);
}

/* locked_down: every reason up to LOCKDOWN_INTEGRITY_MAX but hibernation, from the scope. */
static __always_inline int lockdown_rule(enum lockdown_reason what)
{
	if (what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_NONE) ||
	    what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_HIBERNATION) ||
	    what >= bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_INTEGRITY_MAX))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_LOCKDOWN);
}

/* A superblock shutting down (the last mount of a filesystem gone): its ticket and
 * baseline entries go with it. Another filesystem later mounted on the same device number
 * (a crafted image attached to the same loop device) never matches them. */
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

static long drop_dev_entry(struct bpf_map *map, struct eg_inode_key *key, void *value, __u64 *dev)
{
	if (key->dev == *dev)
		bpf_map_delete_elem(map, key);
	return 0;
}

static __always_inline int forget_superblock(struct super_block *sb)
{
	__u64 dev = sb->s_dev;
	bpf_for_each_map_elem(&eg_tickets, drop_dev_entry, &dev, 0);
	bpf_for_each_map_elem(&eg_baseline, drop_dev_entry, &dev, 0);
	bpf_for_each_map_elem(&eg_written, drop_dev_entry, &dev, 0);
	return 0;
}

#endif /* EG_LIB_TAMPER_H */
