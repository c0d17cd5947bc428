/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entries that outlive what they name: a superblock shutting down (the last mount of a
 * filesystem gone) takes its ticket, baseline and written-mark entries with it. Another
 * filesystem later mounted on the same device number (a crafted image attached to the same
 * loop device) never matches them.
 */
#ifndef EG_LIB_LIFETIME_H
#define EG_LIB_LIFETIME_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/maps.h"

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
	bpf_for_each_map_elem(&eg_job_tickets, drop_dev_entry, &dev, 0);
	bpf_for_each_map_elem(&eg_outputs, drop_dev_entry, &dev, 0);
	return 0;
}

#endif /* EG_LIB_LIFETIME_H */
