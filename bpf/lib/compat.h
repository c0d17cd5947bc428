/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CO-RE shims for kernel structures whose layout changed across the kernels the one object
 * runs on (6.1 .. 7.x): the inode's change time (three layouts) and linux_binprm's
 * is_check bit (6.14 and later).
 */
#ifndef EG_LIB_COMPAT_H
#define EG_LIB_COMPAT_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define CTIME_NSEC_MASK ((1u << 30) - 1) /* newer kernels keep flag bits above nsec */

/* inode change time: three layouts across 6.1 .. 6.18 */
struct inode___v611 {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));
struct inode___v606 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___v601 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		struct inode___v611 *i = (void *)inode;
		*sec = i->i_ctime_sec;
		*nsec = i->i_ctime_nsec;
	} else if (bpf_core_field_exists(struct inode___v606, __i_ctime)) {
		struct inode___v606 *i = (void *)inode;
		*sec = i->__i_ctime.tv_sec;
		*nsec = i->__i_ctime.tv_nsec;
	} else {
		struct inode___v601 *i = (void *)inode;
		*sec = i->i_ctime.tv_sec;
		*nsec = i->i_ctime.tv_nsec;
	}
	*nsec &= CTIME_NSEC_MASK;
}

/* execveat(AT_EXECVE_CHECK) (6.14 and later) asks whether a file may run, for interpreters
 * that honour it before running a script; the kernel stops after bprm_creds_for_exec,
 * before bprm_check_security. */
struct linux_binprm___v614 {
	unsigned int is_check : 1;
} __attribute__((preserve_access_index));

#endif /* EG_LIB_COMPAT_H */
