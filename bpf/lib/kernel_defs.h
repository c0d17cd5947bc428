/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants the BPF side needs from kernel and uapi headers that vmlinux.h lacks (macros
 * do not survive into BTF): errno, file mode and open mode bits, clone flags, filesystem
 * magics, ioctl numbers, fcntl commands, device majors and minors.
 */
#ifndef EG_LIB_KERNEL_DEFS_H
#define EG_LIB_KERNEL_DEFS_H

#define EPERM 1
#define ENOMEM 12
#define O_TRUNC 01000
#define PF_IO_WORKER 0x00000010 /* an io_uring worker or SQPOLL thread: it writes for whoever submits */
/* Filesystems whose file contents can change with no writer this kernel sees (the
 * daemon's unsealable_fs, userspace/gate/sealing.cpp): no job output lies there. */
#define FUSE_SUPER_MAGIC 0x65735546
#define NFS_SUPER_MAGIC 0x6969
#define SMB2_MAGIC_NUMBER 0xFE534D42
#define CIFS_SUPER_MAGIC 0xFF534D42
#define V9FS_MAGIC 0x01021997
#define CEPH_SUPER_MAGIC 0x00c36400
#define AFS_FS_MAGIC 0x6B414653
#define CODA_SUPER_MAGIC 0x73757245
#define OCFS2_SUPER_MAGIC 0x7461636f
#define GFS2_MAGIC 0x01161970
#define LUSTRE_SUPER_MAGIC 0x0BD00BD0
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define SB_KERNMOUNT (1u << 22) /* include/linux/fs.h: a kernel-internal mount (shm, hugetlbfs) */
#define FMODE_WRITE 0x2
#define MAY_WRITE 0x2
#define MAY_READ 0x4
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_TYPE 0x0f /* MAP_SHARED 1, MAP_PRIVATE 2, MAP_SHARED_VALIDATE 3 */
#define MAP_PRIVATE 0x02
#define VM_SHARED 0x08
#define S_IWGRP 00020
#define S_IWOTH 00002
#define CLONE_INTO_CGROUP 0x200000000ULL
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define BPF_FS_MAGIC 0xcafe4a11
#define ANON_INODE_FS_MAGIC 0x09041934
#define IORING_SETUP_SQPOLL (1U << 1)
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define SECURITYFS_MAGIC 0x73636673
#define BINFMTFS_MAGIC 0x42494e4d
#define CONFIGFS_MAGIC 0x62656570
#define TRACEFS_MAGIC 0x74726163
#define DEBUGFS_MAGIC 0x64626720
#define EFIVARFS_MAGIC 0xde5e81e4
#define PSTOREFS_MAGIC 0x6165676C
#define CAP_OPT_NOAUDIT 0x2
#define CAP_SYS_ADMIN 21
#define CAP_SYS_TIME 25
/* the new mount API's system calls (the same numbers on x86-64 and i386) */
#define NR_OPEN_TREE 428
#define NR_FSOPEN 430
#define NR_FSCONFIG 431
#define NR_FSMOUNT 432
#define NR_FSPICK 433
#define NR_MOUNT_SETATTR 442
#define LSM_PRLIMIT_WRITE 2
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820
#define BLKPG 0x1269
#define LOOP_IOC_TYPE 0x4c /* 'L': loop devices and /dev/loop-control */
#define DM_IOC_TYPE 0xfd
#define NBD_IOC_TYPE 0xab
#define TIOCSTI 0x5412    /* push a byte into a terminal's input: the shell outside would read it */
#define TIOCLINUX 0x541c  /* includes pasting the console selection as input */
#define FIOSETOWN 0x8901
#define SIOCSPGRP 0x8902
#define F_SETOWN 8
#define F_SETOWN_EX 15
#define INPUT_MAJOR 13
#define MISC_MAJOR 10
#define UINPUT_MINOR 223
#define UHID_MINOR 239
#define S_IFMT 00170000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFCHR 0020000
#define MEM_MAJOR 1 /* minors 1 mem, 2 kmem, 4 port */
#define SG_IO 0x2285
#define IOC_TYPE(cmd) (((cmd) >> 8) & 0xff)
#define IOC_NR(cmd) ((cmd)&0xff)
#define PTRACE_MODE_ATTACH 0x02

#endif /* EG_LIB_KERNEL_DEFS_H */
