/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decision on a file that is about to run (exec, executable mapping, exec check):
 * struct decision, the ticket and baseline checks (ticket_reason, baseline_reason) and
 * decide(), which applies them in the order docs/gate.md "Decision on exec" lists. Also
 * the 16-byte ticket id helpers (copy_id, same_id). The same code is compiled natively
 * (EG_NATIVE, userspace/decision/): `execgate policy simulate` and the unit tests run the
 * decision the kernel runs. Jobs (lib/jobs.h): a job-bound ticket's entry is looked up by
 * inode and the task's job, when the inode's entry says jobs' tickets name it; a file a
 * builder wrote inside a job runs in that job (output_reason).
 */
#ifndef EG_LIB_DECISION_H
#define EG_LIB_DECISION_H

#ifdef EG_NATIVE
/* Compiled natively (userspace/decision/): the kernel's types, maps and helpers it uses
 * are stand-ins there, with the same names. */
#include "decision/kernel_shim.h"
#else
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/clock.h"
#include "lib/compat.h"
#include "lib/jobs.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/state.h"
#endif
#include "lib/clock_bound.h"
#include "lib/inode_key.h"

struct decision {
	__u8 ticket[EG_ID_LEN] __attribute__((aligned(8)));
	__u8 reason;
	__u8 has_ticket;
	__u8 pinned; /* allowed by a ticket or a pinned baseline entry: userspace knows the path */
	__u8 per_exec; /* the ticket sets per-exec conditions (max uses, parent) */
	__u8 spent;    /* ... and has no use left */
	__u8 parent_bound;
	__u8 last_use; /* this exec took the entry's last use (EG_ARG_LAST_USE) */
	__u8 builder;  /* the ticket marks the file a builder (EG_TF_BUILDER) */
	__u32 writer;  /* a job output: the builder process that wrote it */
	__u64 job;     /* the job whose ticket entry or output decided (0: none) */
};

/* Ticket ids are 16 bytes at 8-byte aligned offsets in every map value, the event and
 * struct decision: two word moves / compares instead of sixteen byte ones. */
_Static_assert(__builtin_offsetof(struct eg_event, ticket) % 8 == 0 &&
		       __builtin_offsetof(struct eg_event, proc_ticket) % 8 == 0 &&
		       __builtin_offsetof(struct eg_ticket, id) % 8 == 0 &&
		       __builtin_offsetof(struct eg_ticket, parent) % 8 == 0 &&
		       __builtin_offsetof(struct eg_task_state, ticket) % 8 == 0 &&
		       __builtin_offsetof(struct eg_task_state, parent_ticket) % 8 == 0,
	       "ticket ids must be 8-byte aligned");

static __always_inline void copy_id(__u8 *dst, const __u8 *src)
{
	((__u64 *)dst)[0] = ((const __u64 *)src)[0];
	((__u64 *)dst)[1] = ((const __u64 *)src)[1];
}

static __always_inline bool same_id(const __u8 *a, const __u8 *b)
{
	return ((const __u64 *)a)[0] == ((const __u64 *)b)[0] &&
	       ((const __u64 *)a)[1] == ((const __u64 *)b)[1];
}

static __always_inline bool same_ctime(struct inode *inode, __s64 sec, __u32 nsec)
{
	__s64 s;
	__u32 ns;
	inode_ctime(inode, &s, &ns);
	return s == sec && ns == nsec;
}

/* Baseline trust: pinned at daemon start, or (trust = root-owned) owned by uid 0 and
 * not writable by group or others. A pinned file that changed since is `stale`. */
static __always_inline __u8 baseline_reason(const struct eg_config *cfg, struct inode *inode,
					    const struct eg_inode_key *key, __u8 *pinned)
{
	struct eg_baseline *b = bpf_map_lookup_elem(&eg_baseline, key);
	if (b && same_ctime(inode, b->ctime_sec, b->ctime_nsec)) {
		*pinned = 1;
		return EG_R_BASELINE;
	}
	if (cfg->trust == EG_TRUST_ROOT_OWNED) {
		__u32 owner = inode->i_uid.val;
		umode_t mode = inode->i_mode;
		if (owner == 0 && !(mode & (S_IWGRP | S_IWOTH)))
			return EG_R_BASELINE;
	}
	return b ? EG_R_STALE : EG_R_NO_TICKET;
}

/* Whether ticket entry T is in force at NOW (sealed, not a silent fleet's, inside its
 * window): EG_R_TICKET, else why not. now: the caller's boot time, an estimate or a clock
 * read (0: none); it decides only when no bound is within the estimate's margin of it, else
 * the clock is read. */
static __always_inline __u8 window_reason(struct eg_ticket *t, __u64 now)
{
	if (t->flags & EG_TF_PENDING)
		return EG_R_UNSEALED;
	if ((t->flags & EG_TF_FLEET) && fleet_silent())
		return EG_R_FLEET_SILENT;
	if (!now || near_bound(now, t->not_before_ns) || near_bound(now, t->not_after_ns))
		now = bpf_ktime_get_boot_ns();
	if (now < t->not_before_ns)
		return EG_R_NOT_YET_VALID;
	if (now >= t->not_after_ns)
		return EG_R_EXPIRED;
	return EG_R_TICKET;
}

/* Checks a ticket for the inode. consume: spend one use (exec), not for mappings. now: as
 * window_reason's. */
static __always_inline __u8 ticket_reason(struct eg_ticket *t, struct inode *inode, __u32 uid,
					  const struct eg_task_state *caller, bool consume, __u64 now)
{
	__u8 window = window_reason(t, now);
	if (window != EG_R_TICKET)
		return window;
	if (!same_ctime(inode, t->ctime_sec, t->ctime_nsec) || inode->i_generation != t->generation)
		return EG_R_STALE;
	if (t->n_uids) {
		bool ok = false;
		for (int i = 0; i < EG_MAX_UIDS; i++) {
			if (i < t->n_uids && t->uids[i] == uid)
				ok = true;
		}
		if (!ok)
			return EG_R_UID_MISMATCH;
	}
	/* lineage is judged at exec only: the kernel's own mappings of the image it just
	 * allowed (and later dlopen()s) run in the new image, not the caller's */
	if (consume && (t->flags & EG_TF_HAS_PARENT)) {
		if (!caller || !caller->has_ticket)
			return EG_R_LINEAGE;
		if (!same_id(caller->ticket, t->parent))
			return EG_R_LINEAGE;
	}
	if (consume && (t->flags & EG_TF_LIMITED_USES)) {
		__s64 before = __sync_fetch_and_add(&t->uses_left, -1);
		if (before <= 0)
			return EG_R_EXHAUSTED;
	}
	return EG_R_TICKET;
}

/* A file no directory names (never judged by ticket or baseline, whose keys are names
 * the daemon resolved): memory from a kernel-internal mount (memfd_create, SysV shm), an
 * O_TMPFILE file (d_tmpfile names its dentry "#<inode>"), or a file unlinked while open.
 * The three are denied alike; the reason only says which it was. */
static __always_inline __u8 nameless_reason(struct inode *inode, struct dentry *dentry)
{
	if (inode->i_sb->s_flags & SB_KERNMOUNT)
		return EG_R_MEMFD;
	char first = 0;
	bpf_probe_read_kernel(&first, 1, dentry->d_name.name);
	return first == '#' ? EG_R_TMPFILE : EG_R_UNLINKED;
}

/* Judges ticket entry T (of the inode's host entry, or of a job's) into D. */
static __always_inline __u8 entry_reason(struct eg_ticket *t, struct inode *inode, __u32 uid,
					 const struct eg_task_state *caller, bool consume, __u64 now,
					 struct decision *d)
{
	d->has_ticket = 1;
	copy_id(d->ticket, t->id);
	d->per_exec = (t->flags & (EG_TF_LIMITED_USES | EG_TF_HAS_PARENT)) != 0;
	d->parent_bound = (t->flags & EG_TF_HAS_PARENT) != 0;
	d->builder = (t->flags & EG_TF_BUILDER) != 0;
	__u8 reason = ticket_reason(t, inode, uid, caller, consume, now);
	d->spent = (t->flags & EG_TF_LIMITED_USES) && t->uses_left <= 0;
	if (reason == EG_R_TICKET) {
		d->pinned = 1;
		d->last_use = consume && d->spent;
	}
	return reason;
}

/* The builder ticket of output O, still installed for the builder's image (in its host
 * entry or its job's) and in force. */
static __always_inline bool builder_current(const struct eg_output *o, __u64 now)
{
	struct eg_inode_key bk = o->builder;
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &bk);
	if (!t)
		return false;
	if (!(t->flags & EG_TF_JOBS_ONLY) && same_id(t->id, o->builder_ticket))
		return window_reason(t, now) == EG_R_TICKET;
	if (!(t->flags & EG_TF_HAS_JOBS))
		return false;
	struct eg_job_ticket_key jk = {.dev = bk.dev, .ino = bk.ino, .job = o->job};
	t = bpf_map_lookup_elem(&eg_job_tickets, &jk);
	return t && same_id(t->id, o->builder_ticket) && window_reason(t, now) == EG_R_TICKET;
}

/* A job output (lib/outputs.h): runs only in its job (JOB, the current task's), while its
 * builder's ticket is in force. 0 when the file is no output. */
static __always_inline __u8 output_reason(struct inode *inode, const struct eg_inode_key *key, __u64 job,
					  __u64 now, struct decision *d)
{
	struct eg_output *o = bpf_map_lookup_elem(&eg_outputs, key);
	if (!o || o->generation != inode->i_generation)
		return 0;
	d->has_ticket = 1;
	copy_id(d->ticket, o->builder_ticket);
	d->job = o->job;
	d->writer = o->writer;
	if (o->job != job)
		return EG_R_WRONG_JOB;
	if (!builder_current(o, now))
		return EG_R_BUILDER_GONE;
	return EG_R_JOB_OUTPUT;
}

static __always_inline void decide(const struct eg_config *cfg, struct inode *inode,
				   struct dentry *dentry, __u32 uid,
				   const struct eg_task_state *caller, bool consume, bool is_exec,
				   __u64 now, struct decision *d)
{
	struct eg_inode_key key = inode_key(inode);
	d->has_ticket = 0;

	if (inode->__i_nlink == 0) {
		d->reason = nameless_reason(inode, dentry);
		return;
	}
	__u8 treason = EG_R_NO_TICKET;
	__u64 job = 0;
	bool job_asked = false;
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (t) {
		__u32 flags = t->flags;
		if (!(flags & EG_TF_JOBS_ONLY)) {
			treason = entry_reason(t, inode, uid, caller, consume, now, d);
			if (treason == EG_R_TICKET) {
				d->reason = EG_R_TICKET;
				return;
			}
		} else {
			d->has_ticket = 1;
			copy_id(d->ticket, t->id);
			treason = EG_R_WRONG_JOB; /* only jobs' tickets name it, none of this task's job */
		}
		if (flags & EG_TF_HAS_JOBS) {
			job = current_job();
			job_asked = true;
			struct eg_job_ticket_key jk = {.dev = key.dev, .ino = key.ino, .job = job};
			struct eg_ticket *jt = job ? bpf_map_lookup_elem(&eg_job_tickets, &jk) : NULL;
			if (jt) {
				treason = entry_reason(jt, inode, uid, caller, consume, now, d);
				d->job = job;
				if (treason == EG_R_TICKET) {
					d->reason = EG_R_TICKET;
					return;
				}
			}
		}
	}
	/* The dynamic loader run as a program loads whatever it is told: never by the
	 * baseline (a ticket naming the loader itself is an explicit decision, and the
	 * loader's mappings of other files are still checked by mmap_file). */
	if (is_exec && bpf_map_lookup_elem(&eg_loaders, &key)) {
		d->reason = EG_R_LOADER_BYPASS;
		return;
	}
	__u8 breason = baseline_reason(cfg, inode, &key, &d->pinned);
	if (breason == EG_R_BASELINE) {
		d->reason = EG_R_BASELINE;
		return;
	}
	if (jobs_live()) {
		if (!job_asked)
			job = current_job();
		__u8 oreason = output_reason(inode, &key, job, now, d);
		if (oreason) {
			d->reason = oreason;
			return;
		}
	}
	/* a ticket's own failure explains more than "no ticket" */
	d->reason = t ? treason : breason;
}

static __always_inline bool is_allow(__u8 reason)
{
	return reason == EG_R_TICKET || reason == EG_R_BASELINE || reason == EG_R_JOB_OUTPUT;
}

/* The reason for an executable mapping (mmap_file, file_mprotect), from decide()'s outcome
 * (consume and is_exec false). A ticket with per-exec conditions (uses, parent) authorizes
 * an exec, which checked and counted them: its file maps executable only as the image of
 * the task whose exec that was (own_image; the kernel maps the image after
 * bprm_committing_creds). Through the loader (ld.so FILE) or dlopen it would run past them.
 * A nameless file keeps its reason; anything else unallowed mapped executable is the
 * loader's way around exec. */
static __always_inline __u8 mapping_reason(const struct decision *d, bool own_image)
{
	if (is_allow(d->reason)) {
		if (d->reason != EG_R_TICKET || !d->per_exec || own_image)
			return d->reason;
		return d->spent ? EG_R_EXHAUSTED : d->parent_bound ? EG_R_LINEAGE : EG_R_LOADER_BYPASS;
	}
	if (d->reason == EG_R_MEMFD || d->reason == EG_R_TMPFILE || d->reason == EG_R_UNLINKED)
		return d->reason;
	return EG_R_LOADER_BYPASS;
}

#endif /* EG_LIB_DECISION_H */
