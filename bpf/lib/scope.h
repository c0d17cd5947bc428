/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is a task in the gated scope (host-wide, or inside one of the config's cgroup subtrees)?
 * in_scope for the current task on the exec path, current_in_scope for every other hook
 * (execgated excepted), task_in_scope for another task.
 */
#ifndef EG_LIB_SCOPE_H
#define EG_LIB_SCOPE_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/maps.h"

/* Is TASK (the current task) in the scope: host-wide, or inside one of the scope's cgroup
 * subtrees? The config names each subtree's level; the task's ancestor at that level is
 * reached by walking up from its own cgroup (plain loads, no helper call on the exec path)
 * or, for a task nested more than EG_SCOPE_WALK levels below it, asked of the kernel.
 * Nothing is memoized, so a scope change takes effect at once. */
#define EG_SCOPE_WALK 4
static __always_inline bool in_scope(const struct eg_config *cfg, struct task_struct *task)
{
	if (cfg->scope_host)
		return true;
	struct cgroup *cg = task->cgroups->dfl_cgrp;
	__u32 level = cg->level;
	for (int i = 0; i < EG_MAX_SCOPES; i++) {
		if (i >= cfg->n_scopes)
			break;
		const struct eg_scope *sc = &cfg->scopes[i];
		/* an empty entry matches nothing, nor does a subtree below the task's cgroup */
		if (!sc->cgroup_id || sc->level > level)
			continue;
		__u32 up = level - sc->level;
		__u64 id;
		if (up <= EG_SCOPE_WALK) {
			struct cgroup *a = cg;
			for (__u32 j = 0; j < EG_SCOPE_WALK; j++) {
				if (j < up)
					a = a->self.parent->cgroup;
			}
			id = a->kn->id;
		} else {
			id = bpf_get_current_ancestor_cgroup_id(sc->level);
		}
		if (id == sc->cgroup_id)
			return true;
	}
	return false;
}

/* The current task, for every hook but the exec path's: execgated itself is never judged
 * (with host = true it is in the scope like every task, and it must load and edit the gate). */
static __always_inline bool current_in_scope(const struct eg_config *cfg)
{
	if (cfg->daemon_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) == cfg->daemon_tgid)
		return false;
	return in_scope(cfg, bpf_get_current_task_btf());
}

/* Another task (a signal's target, the owner of a /proc/PID file, ...), a BTF pointer or one
 * reached by probe reads: walked up to EG_TARGET_WALK levels with probe reads (the ancestor
 * helper only answers for the current task). A task nested deeper below a scope counts as
 * outside it: acting on it from the scope is refused (fail closed). */
#define EG_TARGET_WALK 8
static __always_inline bool task_in_scope(const struct eg_config *cfg, struct task_struct *p)
{
	if (cfg->scope_host)
		return true;
	struct cgroup *cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	__u32 level = BPF_CORE_READ(cg, level);
	for (int i = 0; i < EG_MAX_SCOPES; i++) {
		if (i >= cfg->n_scopes)
			break;
		const struct eg_scope *sc = &cfg->scopes[i];
		if (!sc->cgroup_id || sc->level > level || level - sc->level > EG_TARGET_WALK)
			continue;
		__u32 up = level - sc->level;
		struct cgroup *a = cg;
		for (__u32 j = 0; j < EG_TARGET_WALK; j++) {
			if (j < up)
				a = BPF_CORE_READ(a, self.parent, cgroup);
		}
		if (BPF_CORE_READ(a, kn, id) == sc->cgroup_id)
			return true;
	}
	return false;
}

/* A launcher: a task in the scope that the scope's workload did not make. It was forked
 * outside the scope (or by another launcher) after the scopes were set and has not exec'd
 * since: it still runs its launcher's code, e.g. systemd setting up a service's namespaces,
 * mounts and credentials in the service's cgroup before the exec. The privilege posture
 * does not judge it (everything else does, and so does its exec); from its exec on, it and
 * every task it forks are the workload, unless it exec'd one of the policy's launcher
 * programs (systemd 255's systemd-executor, which does that setup after its exec): then
 * it stays a launcher until its next exec. Tasks older than the scopes, and every task forked
 * in the scope by a workload task (eg_task_state.workload, set at task_alloc), are not
 * launchers. The workload cannot make one: it can neither ptrace nor write the memory of a
 * task (refused in the scope), nor move a task into the scope (cgroupfs is closed to it).
 * ST: TASK's state when the caller has it, else looked up. */
static __always_inline bool is_launcher(const struct eg_config *cfg, struct task_struct *task,
					const struct eg_task_state *st)
{
	if (task->start_time < cfg->posture_since_ns)
		return false;
	if (!st)
		st = bpf_task_storage_get(&eg_task_state, task, 0, 0);
	/* a launcher that exec'd a launcher program (lib/exec.h launcher_exec_commit) */
	if (st && st->workload == EG_TASK_LAUNCHER_IMAGE)
		return true;
	return task->self_exec_id == task->parent_exec_id && (!st || st->workload == EG_TASK_UNMARKED);
}

/* The current task is in the scope and is its workload (not a launcher): what the
 * privilege posture judges. */
static __always_inline bool current_in_workload(const struct eg_config *cfg)
{
	return current_in_scope(cfg) && !is_launcher(cfg, bpf_get_current_task_btf(), NULL);
}

#endif /* EG_LIB_SCOPE_H */
