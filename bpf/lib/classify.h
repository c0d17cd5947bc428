/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a file or inode is, for the rules: its key (inode_key), whether a write to it
 * changes a host-wide kernel setting (kernel_setting, proc_setting), whether it is a raw
 * device or a device node, and what the daemon protects on it (prot_flags, protected_dir).
 */
#ifndef EG_LIB_CLASSIFY_H
#define EG_LIB_CLASSIFY_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/inode_key.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/scope.h"
#include "lib/state.h"

static __always_inline __u64 sb_magic(struct file *file)
{
	return file->f_inode->i_sb->s_magic;
}

/* A write to procfs from the scope that changes a host-wide setting: every file that is not
 * a process's own (sysctls, /proc/sysrq-trigger, irq affinities, ...), and the files of a
 * process outside the scope (/proc/PID/oom_score_adj of execgated, ...). The proc_inode its
 * inode is embedded in names the process (pid) or the ctl_table (sysctl); probe reads at
 * CO-RE offsets, only for writes to procfs. */
static __always_inline bool proc_setting(struct inode *inode)
{
	long base = (long)bpf_core_field_offset(struct proc_inode, vfs_inode);
	struct pid *pid = NULL;
	bpf_probe_read_kernel(&pid, sizeof(pid), (void *)inode - base + bpf_core_field_offset(struct proc_inode, pid));
	if (!pid)
		return true;
	struct hlist_node *first = BPF_CORE_READ(pid, tasks[0].first);
	if (!first)
		return true; /* the process is gone */
	struct task_struct *t = (void *)first - bpf_core_field_offset(struct task_struct, pid_links);
	struct eg_config *cfg = get_config();
	if (!cfg || (!cfg->scope_host && BPF_CORE_READ(t, tgid) == cfg->daemon_tgid))
		return true;
	return !task_in_scope(cfg, t);
}

/* Host-wide kernel settings. A write to some lets the kernel start programs outside the
 * scope on its behalf (core_pattern pipes, modprobe, hotplug, poweroff_cmd, uevent_helper,
 * binfmt_misc handlers); others lower the host's protections (any sysctl; securityfs:
 * LSM and IMA policies). */
static __always_inline bool kernel_setting(struct file *file, __u64 magic)
{
	/* sysfs (uevent_helper, device and driver settings, zram/loop backing files, module
	 * parameters), configfs (nvmet and iSCSI targets, USB gadgets), tracefs, debugfs,
	 * efivarfs, pstore, securityfs, binfmt_misc: host-wide settings, none a workload's */
	if (magic == SECURITYFS_MAGIC || magic == BINFMTFS_MAGIC || magic == SYSFS_MAGIC ||
	    magic == CONFIGFS_MAGIC || magic == TRACEFS_MAGIC || magic == DEBUGFS_MAGIC ||
	    magic == EFIVARFS_MAGIC || magic == PSTOREFS_MAGIC)
		return true;
	return magic == PROC_SUPER_MAGIC && proc_setting(file->f_inode);
}

/* Bytes beneath the filesystems: a block device (it holds ticketed and baseline files'
 * blocks), or physical / kernel memory and I/O ports. */
static __always_inline bool raw_device(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	if (fmt == S_IFBLK)
		return true;
	if (fmt != S_IFCHR)
		return false;
	__u32 rdev = inode->i_rdev;
	__u32 major = rdev >> 20, minor = rdev & ((1u << 20) - 1);
	/* also input injection: evdev writes and uinput type into the host's consoles */
	return (major == MEM_MAJOR && (minor == 1 || minor == 2 || minor == 4)) || major == INPUT_MAJOR ||
	       (major == MISC_MAJOR && (minor == UINPUT_MINOR || minor == UHID_MINOR));
}

/* A block or character device node: what passthrough commands (ioctl, io_uring) reach. */
static __always_inline bool device_node(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	return fmt == S_IFBLK || fmt == S_IFCHR;
}

/* What the scope may not do to this inode (EG_PROT_*; 0: nothing protected). */
static __always_inline __u8 prot_flags(struct inode *inode)
{
	if (!inode)
		return 0;
	struct eg_inode_key k = inode_key(inode);
	__u8 *v = bpf_map_lookup_elem(&eg_protected, &k);
	return v ? *v : 0;
}

static __always_inline bool protected_dir(struct inode *dir)
{
	return prot_flags(dir) & EG_PROT_DIR;
}

#endif /* EG_LIB_CLASSIFY_H */
