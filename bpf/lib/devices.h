/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reaching beneath the files through an fd, from the scope: ioctls (device passthrough,
 * block device configuration, inode flags, terminal input, an fd's signal owner) and
 * io_uring passthrough commands to a device.
 */
#ifndef EG_LIB_DEVICES_H
#define EG_LIB_DEVICES_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"

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

/* uring_cmd: io_uring passthrough (IORING_OP_URING_CMD) hands a command to the driver
 * beneath the files, as the passthrough ioctls do: NVMe I/O and admin commands on
 * /dev/ngXnY and /dev/nvmeX (a read-only fd suffices), ublk control, block discard. From
 * the scope none reaches a device (sockets, which have uring commands of their own since
 * 6.7, pass). */
static __always_inline int uring_cmd_rule(struct io_uring_cmd *ioucmd)
{
	if (!device_node(ioucmd->file->f_inode))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_COMMAND);
}

#endif /* EG_LIB_DEVICES_H */
