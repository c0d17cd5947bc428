/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mappings of files: an executable mapping is an execution (ld.so /path/bin, LD_PRELOAD,
 * dlopen), a shared writable one a write (write_guard.h mapping_rule), and a mapping of an
 * io_uring ring may hand work to a kernel thread outside the scope (uring.h).
 */
#ifndef EG_LIB_MAPPING_H
#define EG_LIB_MAPPING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/exec.h"
#include "lib/kernel_defs.h"
#include "lib/uring.h"
#include "lib/write_guard.h"

/* mmap_file (file is NULL for an anonymous mapping, on 7.x too). The exec's own image,
 * mapped by the kernel while it loads, was judged at bprm_check. */
static __always_inline int mmap_file_rule(struct file *file, unsigned long prot, unsigned long flags)
{
	if (!file)
		return 0;
	int rc = uring_ring_rule(file);
	if (rc)
		return rc;
	rc = mapping_rule(file, (prot & PROT_WRITE) && (flags & MAP_TYPE) != MAP_PRIVATE);
	if (rc || !(prot & PROT_EXEC) || exec_own_image(file))
		return rc;
	return check_exec_mapping(file, EG_HOOK_MMAP_EXEC);
}

/* file_mprotect: the same for a mapping made executable or shared-writable later. */
static __always_inline int mprotect_rule(struct vm_area_struct *vma, unsigned long prot)
{
	struct file *file = vma->vm_file;
	if (!file)
		return 0;
	int rc = mapping_rule(file, (prot & PROT_WRITE) && (vma->vm_flags & VM_SHARED));
	if (rc || !(prot & PROT_EXEC))
		return rc;
	return check_exec_mapping(file, EG_HOOK_MPROTECT_EXEC);
}

#endif /* EG_LIB_MAPPING_H */
