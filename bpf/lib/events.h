/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decisions turned into verdicts and audit events: reserve() a ring-buffer record,
 * fill_task / fill_event it, judge() (count the decision, give its verdict), emit() it,
 * hook_rc() for the hook's return value. The denial helpers build on them:
 * record_denial (a global function, see below), deny_arg / deny_simple, the deny_in_scope*
 * variants, deny_posture, deny_outside_target, and decide_file_event for a decision about
 * an open file.
 *
 * record_denial is defined here, not declared: this header belongs to the one compilation
 * unit, execgate.bpf.c (its include guard keeps it to one definition).
 */
#ifndef EG_LIB_EVENTS_H
#define EG_LIB_EVENTS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/decision.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/scope.h"
#include "lib/state.h"

/* Task facts by direct loads from the BTF-typed task (cheaper than a helper call each). */
static __always_inline void fill_task(struct eg_event *e, struct task_struct *task, __u32 hook)
{
	e->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	e->pid = task->tgid;
	e->ppid = task->real_parent->tgid;
	e->uid = task->cred->uid.val;
	e->hook = hook;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
}

static __always_inline void fill_event(struct eg_event *e, struct task_struct *task, struct inode *inode,
				       __u32 hook, __u64 now)
{
	struct eg_inode_key key = inode_key(inode);
	e->ts_boot_ns = now ? now : bpf_ktime_get_boot_ns();
	e->dev = key.dev;
	e->ino = key.ino;
	fill_task(e, task, hook);
}

static __always_inline struct eg_event *reserve(void)
{
	struct eg_event *e = bpf_ringbuf_reserve(&eg_events, sizeof(*e), 0);
	if (!e) {
		count(EG_C_RB_DROPS);
		return NULL;
	}
	/* everything but path[] (filled by the hook, NUL-terminated) */
	__builtin_memset(e, 0, __builtin_offsetof(struct eg_event, path));
	e->path[0] = 0;
	return e;
}

/* Counts the decision and returns its verdict. */
static __always_inline __u8 judge(const struct eg_config *cfg, __u8 reason)
{
	__u8 verdict = is_allow(reason) ? EG_VERDICT_ALLOW
		       : cfg->mode == EG_MODE_MONITOR ? EG_VERDICT_MONITOR_DENY : EG_VERDICT_DENY;
	count(verdict == EG_VERDICT_ALLOW ? EG_C_ALLOWED
	      : verdict == EG_VERDICT_DENY ? EG_C_DENIED : EG_C_MONITOR_DENIED);
	return verdict;
}

static __always_inline int hook_rc(__u8 verdict)
{
	return verdict == EG_VERDICT_DENY ? -EPERM : 0;
}

/* Fills in the verdict and submits the event. Allowed events are submitted without a
 * wakeup; the reader is woken for denials and once enough data is pending (it also polls
 * on a short timer), so the event path stays cheap and latency bounded. */
static __always_inline void emit(const struct eg_config *cfg, struct eg_event *e, __u8 verdict,
				 const struct decision *d, const struct eg_task_state *caller)
{
	e->verdict = verdict;
	e->reason = d->reason;
	e->has_ticket = d->has_ticket;
	copy_id(e->ticket, d->ticket);
	e->job = d->job;
	e->writer = d->writer;
	if (caller && caller->has_ticket) {
		e->has_proc_ticket = 1;
		copy_id(e->proc_ticket, caller->ticket);
	}
	/* events submitted since the reader was last woken (racy across CPUs by design: a
	 * lost or extra wakeup is harmless, the reader also drains on a timer) */
	__u64 *c = counters();
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (d->last_use)
		e->arg |= EG_ARG_LAST_USE;
	/* a denial, and the last use of a ticket (the daemon spends it), wake the reader */
	if (verdict != EG_VERDICT_ALLOW || d->last_use || !c ||
	    __sync_add_and_fetch(&c[EG_C_UNWOKEN], 1) >= cfg->wakeup_events) {
		flags = BPF_RB_FORCE_WAKEUP;
		if (c)
			c[EG_C_UNWOKEN] = 0;
	}
	bpf_ringbuf_submit(e, flags);
	count(EG_C_EVENTS);
}

/* A denial that concerns no file (scope escape, gate tamper, ptrace, privilege): counted,
 * audited with ARG (what was refused: a capability, signal, ioctl; see EG_HOOK_*). A global
 * function: the verifier checks it once, not in every hook that denies (under emulation
 * each inlined copy cost the daemon's start a quarter of a second on 6.12). */
__noinline int record_denial(__u32 reason, __u32 hook, __u32 arg)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct decision d = {.reason = (__u8)reason};
	__u8 verdict = judge(cfg, (__u8)reason);
	struct eg_event *e = reserve();
	if (e) {
		e->ts_boot_ns = bpf_ktime_get_boot_ns();
		fill_task(e, bpf_get_current_task_btf(), hook);
		e->arg = arg;
		emit(cfg, e, verdict, &d, NULL);
	}
	return hook_rc(verdict);
}

static __always_inline int deny_arg(__u8 reason, __u32 hook, __u32 arg)
{
	/* the verifier knows nothing of a global function's result: an LSM program must show
	 * it returns 0 or an errno */
	return record_denial(reason, hook, arg) ? -EPERM : 0;
}

static __always_inline int deny_simple(__u8 reason, __u32 hook)
{
	return deny_arg(reason, hook, 0);
}

/* deny_arg() when the current task is in the scope; 0 otherwise. */
static __always_inline int deny_in_scope_arg(__u8 reason, __u32 hook, __u32 arg)
{
	struct eg_config *cfg = get_config();
	if (cfg && current_in_scope(cfg))
		return deny_arg(reason, hook, arg);
	return 0;
}

static __always_inline int deny_in_scope(__u8 reason, __u32 hook)
{
	return deny_in_scope_arg(reason, hook, 0);
}

/* The privilege posture: an operation the scope's workload may do only when the policy
 * allows it (eg_config.allow), refused `privilege` otherwise. */
static __always_inline int deny_posture(__u32 allow_bit, __u32 hook, __u32 arg)
{
	struct eg_config *cfg = get_config();
	if (!cfg || (cfg->allow & allow_bit) || !current_in_workload(cfg))
		return 0;
	return deny_arg(EG_R_PRIVILEGE, hook, arg);
}

/* From the scope, acting on a task outside it (signals, priorities, limits, memory). */
static __always_inline int deny_outside_target(struct task_struct *p, __u32 arg)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	/* execgated is outside every cgroup scope (with host = true everything is in the scope,
	 * it too: whoever stops it, stops it from the scope) */
	if (task_in_scope(cfg, p) && (cfg->scope_host || p->tgid != cfg->daemon_tgid))
		return 0;
	return deny_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, arg);
}

/* Counts and records a decision about an open file (named by its dentry). */
static __always_inline int decide_file_event(const struct eg_config *cfg, struct dentry *dentry,
					     struct inode *inode, __u32 hook, const struct decision *d,
					     const struct eg_task_state *caller)
{
	__u8 verdict = judge(cfg, d->reason);
	struct eg_event *e = reserve();
	if (e) {
		fill_event(e, bpf_get_current_task_btf(), inode, hook, 0);
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), dentry->d_name.name);
		emit(cfg, e, verdict, d, caller);
	}
	return hook_rc(verdict);
}

#endif /* EG_LIB_EVENTS_H */
