/* Stand-ins for what bpf/lib/decision.h takes from the kernel, so that the kernel's own
 * decision code compiles natively (EG_NATIVE): the few inode, dentry and superblock fields
 * it reads, its three maps and two helpers. The maps are looked up through
 * eg_native_lookup(), which native_decision.cpp answers from its tables
 * (native_decision_abi.h). C (the decision
 * code is the kernel's C); nothing here is used by the BPF build.
 */
#ifndef EG_DECISION_KERNEL_SHIM_H
#define EG_DECISION_KERNEL_SHIM_H

#include <linux/types.h>
#include <stdbool.h>
#include <string.h>

#include "decision/native_decision_abi.h"
#include "execgate.h"
#include "lib/kernel_defs.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

typedef unsigned short umode_t;
typedef struct {
	__u32 val;
} kuid_t;
struct super_block {
	unsigned long s_flags;
	__u32 s_dev; /* the kernel's encoding: major << 20 | minor */
};
struct qstr {
	const unsigned char *name;
};
struct dentry {
	struct qstr d_name;
};
struct inode {
	struct super_block *i_sb;
	unsigned long i_ino;
	unsigned int __i_nlink;
	kuid_t i_uid;
	umode_t i_mode;
	__u32 i_generation;
	__s64 ctime_sec; /* the kernel's layouts differ by version (lib/compat.h); here one */
	__u32 ctime_nsec;
};

static inline void inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	*sec = inode->ctime_sec;
	*nsec = inode->ctime_nsec;
}

/* The maps decision.h reads: tokens naming the table eg_native_lookup() looks in. */
struct eg_native_map {
	enum eg_native_table table;
};
extern struct eg_native_map eg_tickets, eg_baseline, eg_loaders, eg_job_tickets, eg_outputs;

#define bpf_map_lookup_elem(map, key) eg_native_lookup((map)->table, (key))
#define bpf_ktime_get_boot_ns() eg_native_boot_ns()
/* lib/state.h's: the page's EG_C_FLEET_SILENT word */
static inline bool fleet_silent(void) { return eg_native_fleet_silent(); }
/* lib/jobs.h's: the page's EG_C_JOBS word, and the asking task's live job */
static inline bool jobs_live(void) { return eg_native_jobs_live(); }
static inline __u64 current_job(void) { return eg_native_current_job(); }
static inline long bpf_probe_read_kernel(void *dst, __u32 size, const void *src)
{
	memcpy(dst, src, size);
	return 0;
}

#endif /* EG_DECISION_KERNEL_SHIM_H */
