/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec path: the decision at bprm_check_security (exec_decide) and at
 * execveat(AT_EXECVE_CHECK) (exec_check_decide), the lineage and image it makes the task's
 * once the exec commits (exec_commit) and that children inherit (task_alloc_rule), and
 * executable mappings of files (check_exec_mapping).
 */
#ifndef EG_LIB_EXEC_H
#define EG_LIB_EXEC_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/classify.h"
#include "lib/clock.h"
#include "lib/compat.h"
#include "lib/decision.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/maps.h"
#include "lib/scope.h"
#include "lib/state.h"
#include "lib/written.h"

/* The config, when the task is in a gated scope; NULL when there is nothing to judge. */
static __always_inline struct eg_config *config_in_scope(struct task_struct *task)
{
	struct eg_config *cfg = get_config();
	return cfg && in_scope(cfg, task) ? cfg : NULL;
}

/* The task's lineage state: it exists only while the daemon tracks lineage. */
static __always_inline struct eg_task_state *lineage_state(const struct eg_config *cfg,
							   struct task_struct *task)
{
	return cfg->track_lineage ? bpf_task_storage_get(&eg_task_state, task, 0, 0) : NULL;
}

/* bprm_check_security, the exec allowed: a launcher (by its fork, not yet exec'd) whose
 * parent is PID 1 about to run one of the launcher programs (EG_PROT_LAUNCHER) is noted as
 * pending, with the file. Only
 * launcher_exec_commit, for the exec that commits this very file, acts on it: a failed
 * exec leaves nothing behind, and whatever else records a pending image in this pass (the
 * lineage, before this) rewrites pending_state, clearing the note. If the note cannot be
 * stored, the task becomes workload at its exec (fail closed). */
static __always_inline void launcher_exec_note(const struct eg_config *cfg, struct task_struct *task,
					       struct inode *image)
{
	if (!(prot_flags(image) & EG_PROT_LAUNCHER))
		return;
	/* only a child of PID 1, the service manager: `execgate run`'s child, whose command a
	 * CI job may name, never runs a launcher program as a launcher */
	if (BPF_CORE_READ(task, real_parent, tgid) != 1)
		return;
	struct eg_task_state *st = bpf_task_storage_get(&eg_task_state, task, 0, 0);
	/* only a launcher by its fork: a launcher program's own exec ends it, whatever it runs */
	if (!is_launcher(cfg, task, st) || (st && st->workload == EG_TASK_LAUNCHER_IMAGE))
		return;
	if (!st)
		st = bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return;
	struct eg_inode_key k = inode_key(image);
	if (st->pending_key.dev != k.dev || st->pending_key.ino != k.ino) {
		st->pending_state = EG_PENDING_NONE; /* what another exec left pending is not this one's */
		st->pending_key = k;
	}
	st->pending_state |= EG_PENDING_LAUNCHER;
}

/* bprm_committing_creds (the kernel has counted the exec: self_exec_id no longer tells a
 * launcher): the note, if it is for this very file, keeps the task a launcher while it
 * runs the launcher program; any other exec of a launcher program's task makes it
 * workload. */
static __always_inline void launcher_exec_commit(struct eg_task_state *st, bool same_file)
{
	if ((st->pending_state & EG_PENDING_LAUNCHER) && same_file)
		st->workload = EG_TASK_LAUNCHER_IMAGE;
	else if (st->workload == EG_TASK_LAUNCHER_IMAGE)
		st->workload = EG_TASK_WORKLOAD;
}

/* bprm_check_security: the exec decision for the file (the script, then its interpreter),
 * audited, and recorded as the task's pending image and ticket. */
static __always_inline int exec_decide(struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	/* outside the scope (a usermode helper, a host service): nothing the scope wrote */
	if (!in_scope(cfg, task))
		return denied_outside(cfg, bprm->file, EG_HOOK_EXEC);
	struct eg_task_state *caller = lineage_state(cfg, task);
	struct inode *inode = bprm->file->f_inode;
	struct decision d = {};
	__u32 uid = task->cred->uid.val;
	int rc;
	/* Reserve before deciding: with audit required, an exec whose evidence cannot be
	 * recorded is denied without spending a use. (Two branches, each deciding: the 6.1
	 * verifier cannot see that a second null test of a ring-buffer record is redundant.) */
	/* with audit required, an exec the daemon could not record durably (its disk full) is
	 * denied: it spends no use, and its event waits in the ring for the writer (read before
	 * the reservation: the verifier keeps the record's null test next to it) */
	__u64 *c = cfg->audit_required ? counters() : NULL;
	const bool stalled = c && c[EG_C_AUDIT_STALLED];
	struct eg_event *e = reserve();
	if (e) {
		__u64 now = boot_estimate();
		if (!now)
			now = bpf_ktime_get_boot_ns();
		decide(cfg, inode, bprm->file->f_path.dentry, uid, caller, !stalled, true, now, &d);
		if (stalled && is_allow(d.reason)) {
			d.reason = EG_R_AUDIT_UNAVAILABLE;
			d.pinned = 0;
		}
		fill_event(e, task, inode, EG_HOOK_EXEC, now);
		/* interp: the script for its own pass, the interpreter for the second pass.
		 * Left empty when a ticket or a pinned baseline entry allowed the file: the
		 * daemon names it from what it installed (saves a string copy per exec). */
		if (!d.pinned)
			bpf_probe_read_kernel_str(e->path, sizeof(e->path), bprm->interp);
		__u8 verdict = judge(cfg, d.reason);
		emit(cfg, e, verdict, &d, caller);
		rc = hook_rc(verdict);
	} else {
		if (cfg->audit_required)
			return hook_rc(judge(cfg, EG_R_AUDIT_UNAVAILABLE));
		decide(cfg, inode, bprm->file->f_path.dentry, uid, caller, true, true, boot_estimate(), &d);
		rc = hook_rc(judge(cfg, d.reason));
	}

	/* The image this task is about to run and the ticket that allowed it, as pending:
	 * eg_bprm_committing makes them the task's only if the exec goes through. */
	if (rc == 0) {
		bool ticketed = d.reason == EG_R_TICKET;
		struct eg_task_state *self = caller;
		if (!self && ticketed && (cfg->track_lineage || d.per_exec || d.builder))
			self = bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (self) {
			self->pending_state = ticketed ? EG_PENDING_TICKETED : EG_PENDING_UNTICKETED;
			self->pending_per_exec = ticketed && d.per_exec;
			self->pending_builder = ticketed && d.builder;
			self->pending_key = inode_key(inode);
			copy_id(self->pending, d.ticket);
		}
		launcher_exec_note(cfg, task, inode);
	}
	return rc;
}

/* bprm_committing_creds: the pending decision, if it was taken for this very file, becomes
 * the task's lineage and image. */
static __always_inline int exec_commit(struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct eg_config *cfg = config_in_scope(task);
	if (!cfg)
		return 0;
	struct eg_task_state *st = bpf_task_storage_get(&eg_task_state, task, 0, 0);
	if (!st)
		return 0;
	struct eg_inode_key k = inode_key(bprm->file->f_inode);
	/* what bprm_check noted pending was for this very file */
	bool same_file = st->pending_key.dev == k.dev && st->pending_key.ino == k.ino;
	launcher_exec_commit(st, same_file);
	bool ticketed = (st->pending_state & ~EG_PENDING_LAUNCHER) == EG_PENDING_TICKETED && same_file;
	if (st->has_ticket)
		copy_id(st->parent_ticket, st->ticket);
	st->has_ticket = ticketed;
	if (ticketed) {
		copy_id(st->ticket, st->pending);
	} else {
		((__u64 *)st->ticket)[0] = 0;
		((__u64 *)st->ticket)[1] = 0;
	}
	if (ticketed && st->pending_per_exec) {
		st->image = k;
	} else {
		st->image.dev = 0;
		st->image.ino = 0;
	}
	/* a builder's image: what it writes inside a job is the job's output (lib/outputs.h) */
	st->builder = ticketed && st->pending_builder;
	if (st->builder) {
		st->builder_image = k;
	} else {
		st->builder_image.dev = 0;
		st->builder_image.ino = 0;
	}
	st->pending_state = EG_PENDING_NONE;
	st->pending_builder = 0;
	return 0;
}

/* task_alloc: no clone3(CLONE_INTO_CGROUP) from the scope; the child inherits its
 * parent's lineage, and a child of the scope's workload is workload (lib/scope.h
 * is_launcher): if that mark cannot be stored, the fork fails (it would pass for a
 * launcher). */
static __always_inline int task_alloc_rule(struct task_struct *task, unsigned long clone_flags)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	bool in = current_in_scope(cfg);
	if (in && (clone_flags & CLONE_INTO_CGROUP)) {
		int rc = deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CLONE_INTO_CGROUP);
		if (rc)
			return rc;
	}
	if (!in && !cfg->track_lineage)
		return 0;
	struct task_struct *cur = bpf_get_current_task_btf();
	struct eg_task_state *parent = bpf_task_storage_get(&eg_task_state, cur, 0, 0);
	/* a builder's threads and children write as the builder until they exec */
	bool lineage = parent && ((cfg->track_lineage && parent->has_ticket) || parent->builder);
	bool workload = in && !is_launcher(cfg, cur, parent);
	if (!lineage && !workload)
		return 0;
	struct eg_task_state *child =
		bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child)
		return workload ? -ENOMEM : 0;
	if (lineage)
		__builtin_memcpy(child, parent, sizeof(*child));
	if (workload)
		child->workload = EG_TASK_WORKLOAD;
	return 0;
}

/* The image of the exec in progress, mapped by the kernel's binary loader: the very file
 * bprm_check_security judged for this exec (the kernel made it the new mm's exe_file at
 * the point of no return, and sets in_execve only inside execve, where no user code runs
 * and no other task holds the new mm). It is not judged a second time (docs/cost.md);
 * the loader the binary names (PT_INTERP), and every mapping after the exec, are. */
static __always_inline bool exec_own_image(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return BPF_CORE_READ_BITFIELD_PROBED(task, in_execve) && BPF_CORE_READ(task, mm, exe_file) == file;
}

/* An executable mapping (mmap_file, file_mprotect) of FILE: the decision without spending
 * a use; only refusals are audited. */
static __always_inline int check_exec_mapping(struct file *file, __u32 hook)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	/* outside the scope: no library the scope wrote (named by /etc/ld.so.preload, LD_PRELOAD) */
	if (!in_scope(cfg, task))
		return denied_outside(cfg, file, hook);
	struct eg_task_state *caller = lineage_state(cfg, task);
	struct inode *inode = file->f_inode;
	struct decision d = {};
	decide(cfg, inode, file->f_path.dentry, (__u32)bpf_get_current_uid_gid(), NULL, false, false, boot_estimate(), &d);
	if (d.reason == EG_R_BASELINE || (d.reason == EG_R_TICKET && !d.per_exec))
		return 0; /* allowed mappings are too frequent to log */
	bool own_image = false;
	if (d.reason == EG_R_TICKET) {
		struct eg_task_state *st = caller ? caller : bpf_task_storage_get(&eg_task_state, task, 0, 0);
		struct eg_inode_key k = inode_key(inode);
		own_image = st && st->image.dev == k.dev && st->image.ino == k.ino;
	}
	d.reason = mapping_reason(&d, own_image);
	if (is_allow(d.reason))
		return 0;
	return decide_file_event(cfg, file->f_path.dentry, inode, hook, &d, caller);
}

/* bprm_creds_for_exec: on an execveat(AT_EXECVE_CHECK) (struct linux_binprm___v614), the
 * exec decision; every other exec passes here (bprm_check_security judges it next). */
static __always_inline int exec_check_decide(struct linux_binprm *bprm)
{
	if (!bpf_core_field_exists(struct linux_binprm___v614, is_check))
		return 0;
	struct linux_binprm___v614 *b = (void *)bprm;
	if (!BPF_CORE_READ_BITFIELD_PROBED(b, is_check))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	if (!in_scope(cfg, task))
		return denied_outside(cfg, bprm->file, EG_HOOK_EXEC_CHECK);
	/* the interpreter runs the script as data after this answer: the check is its exec,
	 * which spends a use and is judged against the asking process's lineage */
	struct eg_task_state *caller = lineage_state(cfg, task);
	struct inode *inode = bprm->file->f_inode;
	struct decision d = {};
	decide(cfg, inode, bprm->file->f_path.dentry, task->cred->uid.val, caller, true, true, boot_estimate(), &d);
	if (is_allow(d.reason))
		return 0;
	return decide_file_event(cfg, bprm->file->f_path.dentry, inode, EG_HOOK_EXEC_CHECK, &d, caller);
}

#endif /* EG_LIB_EXEC_H */
