/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Jobs (docs/gate.md "Jobs"): cgroups the daemon made below the scope, one per CI job or
 * unattended task, listed in eg_jobs by cgroup id. current_job() is the live job the
 * current task runs in; it is asked only when a job could decide (EG_C_JOBS, the number
 * of live jobs, is not 0): a job-bound ticket's entry, a job output.
 */
#ifndef EG_LIB_JOBS_H
#define EG_LIB_JOBS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/maps.h"
#include "lib/state.h"

static __always_inline bool jobs_live(void)
{
	__u64 *c = counters();
	return c && c[EG_C_JOBS];
}

/* The current task's cgroup, or its nearest ancestor up to EG_JOB_WALK levels up, that is a
 * live job; 0 when none. (A task cannot leave its job's cgroup for a deeper one: cgroupfs is
 * closed to the scope.) */
static __always_inline __u64 current_job(void)
{
	if (!jobs_live())
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cg = task->cgroups->dfl_cgrp;
	__u32 level = cg->level;
	for (__u32 i = 0; i < EG_JOB_WALK; i++) {
		if (i > level)
			break;
		__u64 id = cg->kn->id;
		if (bpf_map_lookup_elem(&eg_jobs, &id))
			return id;
		cg = cg->self.parent->cgroup;
	}
	return 0;
}

#endif /* EG_LIB_JOBS_H */
