/* Between the kernel's decision compiled natively (native_decision.c, C) and its C++ face
 * (native_decision.cpp): the file judged, the verdict, and the two callbacks the C side's
 * stand-ins for the kernel's maps and clock call. Plain C types; the ABI structs are the
 * kernel's (bpf/execgate.h). */
#ifndef EG_DECISION_NATIVE_DECISION_ABI_H
#define EG_DECISION_NATIVE_DECISION_ABI_H

#include <linux/types.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#include "execgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The inode fields the decision reads. */
struct eg_native_file {
	__u64 dev; /* the kernel's encoding: major << 20 | minor */
	__u64 ino;
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 generation;
	__u32 owner;
	__u32 mode;
	__u32 nlink;
	__u8 kernel_mount; /* on a kernel-internal mount (memfd, SysV shm) */
	const char *name;  /* its dentry's name ("#<ino>" for an O_TMPFILE file) */
};

/* struct decision's outcome (bpf/lib/decision.h). */
struct eg_native_verdict {
	__u8 reason;
	__u8 has_ticket;
	__u8 pinned;
	__u8 per_exec;
	__u8 parent_bound;
	__u8 spent;
	__u8 last_use;
	__u8 ticket[EG_ID_LEN];
	__u64 job;
	__u32 writer;
};

enum eg_native_table { EG_NATIVE_TICKETS, EG_NATIVE_BASELINE, EG_NATIVE_LOADERS, EG_NATIVE_JOB_TICKETS, EG_NATIVE_OUTPUTS };

/* decide() (bpf/lib/decision.h) on FILE. */
void eg_native_decide(const struct eg_config *cfg, const struct eg_native_file *file, __u32 uid,
		      const struct eg_task_state *caller, bool consume, bool is_exec, __u64 now,
		      struct eg_native_verdict *out);

/* mapping_reason() (bpf/lib/decision.h): the reason for an executable mapping, from the
 * outcome of eg_native_decide (consume and is_exec false). */
__u8 eg_native_mapping_reason(const struct eg_native_verdict *v, bool own_image);

/* Answered by the C++ side: the entry of KEY (a struct eg_inode_key, or for the job
 * tickets a struct eg_job_ticket_key) in that table (a struct eg_ticket, struct
 * eg_baseline, struct eg_output or any non-NULL pointer for a loader), NULL when none;
 * CLOCK_BOOTTIME; the fleet-silent word; the live-jobs word and the asking task's job. */
void *eg_native_lookup(enum eg_native_table table, const void *key);
__u64 eg_native_boot_ns(void);
bool eg_native_fleet_silent(void);
bool eg_native_jobs_live(void);
__u64 eg_native_current_job(void);

#ifdef __cplusplus
}
#endif

#endif /* EG_DECISION_NATIVE_DECISION_ABI_H */
