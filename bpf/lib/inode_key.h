/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The key of an inode in the gate's maps: its superblock's device number and its inode
 * number. Compiled by the kernel's programs and natively (lib/decision.h, EG_NATIVE).
 */
#ifndef EG_LIB_INODE_KEY_H
#define EG_LIB_INODE_KEY_H

static __always_inline struct eg_inode_key inode_key(struct inode *inode)
{
	struct eg_inode_key k = {};
	k.dev = inode->i_sb->s_dev;
	k.ino = inode->i_ino;
	return k;
}

#endif /* EG_LIB_INODE_KEY_H */
