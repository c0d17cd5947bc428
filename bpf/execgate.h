/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * execgate kernel <-> userspace ABI: map keys and values, the ring-buffer event, reason
 * and counter codes. Included by the BPF programs (after vmlinux.h) and by the C++ gate
 * library (after <linux/types.h>). Keep it plain C with fixed-width types and explicit
 * padding: both sides read the same bytes.
 */
#ifndef EXECGATE_ABI_H
#define EXECGATE_ABI_H

#include "names.h" /* EG_VERDICTS, EG_REASONS, EG_HOOKS: codes and names */

#define EG_ID_LEN 16           /* ticket id: 128 bit */
#define EG_COMM_LEN 16
#define EG_PATH_LEN 256
#define EG_MAX_UIDS 8          /* uids a ticket may name in the kernel entry */

#define EG_MAX_TICKETS 65536
#define EG_MAX_BASELINE 262144
#define EG_MAX_SCOPES 16 /* cgroup subtrees in the scope */
#define EG_MAX_LOADERS 16
#define EG_MAX_PROTECTED 1024 /* protected inodes: the daemon's dirs, their ancestors, helpers */
#define EG_MAX_BASELINE_DIRS 262144 /* directories of the baseline's paths: no new name from the scope */
#define EG_MAX_WRITTEN (1 << 20) /* regular files the scope created, wrote or renamed that still exist */
#define EG_MAX_JOBS 1024        /* live jobs (cgroups the daemon made below the scope) */
#define EG_MAX_OUTPUTS 65536    /* files builders wrote inside jobs */
#define EG_JOB_WALK 8           /* cgroup levels searched for a task's job */

/* A name the scope may not create in a directory: a program the kernel or the loader would
 * run or read from there that does not exist yet (/sbin/request-key, /etc/ld.so.preload). */
#define EG_NAME_LEN 32
#define EG_MAX_RESERVED 64
struct eg_name_key {
	__u64 dir_dev;
	__u64 dir_ino;
	char name[EG_NAME_LEN];
};

/* eg_protected values: what the scope may not do to that inode (docs/gate.md "Protected names") */
#define EG_PROT_DIR 1     /* a directory of the daemon's: nothing written, created, linked, removed or renamed in it */
#define EG_PROT_NAME 2    /* the inode itself is not renamed, unlinked or removed (ancestors of the above, helpers) */
#define EG_PROT_CONTENT 4 /* a file the gate or the kernel runs or trusts (execgated, its libraries, usermode helpers, issuer keys): not written or truncated */
#define EG_PROT_SECRET 8  /* not opened at all from the scope (the audit signing key, the state key) */
#define EG_PROT_LAUNCHER 16 /* a launcher program: a launcher that execs it stays a launcher until its next exec (systemd-executor) */

/* eg_written values: a regular file a task in the scope created, wrote (by write(), a write
 * open, a shared writable mapping, truncation) or renamed. Outside the scope it is not run,
 * mapped executable or loaded by the kernel (docs/gate.md "Files the scope wrote"). The
 * generation tells a reused inode number from the file that was marked. */
struct eg_written {
	__u32 generation;
	__u32 pad;
};

/* Identity of a file as the kernel sees it. dev is the kernel's s_dev encoding
 * (major << 20 | minor), NOT userspace st_dev; see kernel_dev() in userspace/gate/devnum_clock.cpp. */
struct eg_inode_key {
	__u64 dev;
	__u64 ino;
};

/* eg_ticket.flags */
#define EG_TF_LIMITED_USES (1u << 0) /* uses_left is meaningful */
#define EG_TF_HAS_PARENT (1u << 1)   /* parent[] must match the caller's image ticket */
/* Sealing (see docs/gate.md): the daemon installs an entry PENDING (write opens of the
 * inode are refused from then on, execs are denied `unsealed`), opens the file to hash
 * it, and the kernel records at that open how many writers the inode had (PROBED +
 * writers). Only with no writer left does the daemon replace it with the sealed entry:
 * what it hashed is then what will run, even for bytes changed without a ctime change. */
#define EG_TF_PENDING (1u << 2)
#define EG_TF_PROBED (1u << 3)
/* The ticket came from the fleet (etcd): it allows nothing while the daemon has flagged
 * the fleet silent (EG_C_FLEET_SILENT), denied fleet_silent (docs/fleet.md "Freshness"). */
#define EG_TF_FLEET (1u << 4)
/* Jobs (docs/gate.md "Jobs"): an eg_tickets entry with HAS_JOBS has entries in
 * eg_job_tickets too, one per job whose tickets name the inode; one with JOBS_ONLY is only
 * those entries' anchor (sealing, write protection) and allows nothing itself. */
#define EG_TF_HAS_JOBS (1u << 5)
#define EG_TF_JOBS_ONLY (1u << 6)
/* The ticket marks its subjects as builders: what a task running one writes inside a job
 * is that job's output (eg_outputs). */
#define EG_TF_BUILDER (1u << 7)

/* A ticket installed for one inode. Validity is on CLOCK_BOOTTIME (the kernel checks it
 * against struct eg_clock's estimate, and reads the clock near the bounds), so expiry
 * needs no daemon. */
struct eg_ticket {
	__u8 id[EG_ID_LEN];
	__u8 parent[EG_ID_LEN];
	__u64 not_before_ns;
	__u64 not_after_ns;
	__s64 ctime_sec; /* inode change time recorded at install */
	__u32 ctime_nsec;
	__u32 flags;
	__s64 uses_left; /* decremented atomically per allowed exec when EG_TF_LIMITED_USES */
	__u32 n_uids;    /* 0 = any uid */
	__u32 uids[EG_MAX_UIDS];
	__s32 writers;   /* i_writecount at the daemon's sealing open (kernel-written) */
	__u32 generation; /* i_generation at that open (kernel-written): an inode number reused
			   * by a new file (with a ctime forged by setting the clock) does not match */
};

/* eg_job_tickets' key: a job-bound ticket's entry for an inode, valid only for tasks in
 * that job's cgroup (its id). */
struct eg_job_ticket_key {
	__u64 dev;
	__u64 ino;
	__u64 job;
};

/* eg_jobs: a live job, by its cgroup's id. */
struct eg_job {
	__u64 started_ns; /* CLOCK_BOOTTIME */
};

/* eg_outputs: a regular file a builder wrote inside a job (lib/outputs.h). It runs in that
 * job only, while the builder's ticket is valid; any other writer removes the entry. */
struct eg_output {
	__u8 builder_ticket[EG_ID_LEN];
	struct eg_inode_key builder; /* the builder's image: where its ticket's entry lies */
	__u64 job;                   /* the job's cgroup id */
	__u32 generation;            /* the output's i_generation when it was marked */
	__u32 writer;                /* the builder process (tgid) that created or truncated it */
};

/* A baseline-trusted file, pinned at daemon start exactly as it was then. */
struct eg_baseline {
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 _pad;
};

/* A gated cgroup v2 subtree: its id and its depth below the hierarchy's root (level 0).
 * A task is in it when the task's cgroup's ancestor at that level is this cgroup. */
struct eg_scope {
	__u64 cgroup_id;
	__u32 level;
	__u32 _pad;
};

/* Single-entry config array. Zero means: enforce, nothing in scope. */
#define EG_MODE_ENFORCE 0
#define EG_MODE_MONITOR 1
#define EG_TRUST_NONE 0
#define EG_TRUST_ROOT_OWNED 1
/* The kernel ABI: the layout and meaning of every pinned map's keys and values. Bump
 * EG_ABI_VERSION with any change to them: a daemon refuses pins stamped with another
 * version (eg_config's first two fields, which never move; docs/daemon.md "Upgrades"). */
#define EG_ABI_MAGIC 0x62416765u /* "egAb" */
#define EG_ABI_VERSION 3

struct eg_config {
	__u32 abi_magic;   /* EG_ABI_MAGIC once a daemon configured the gate */
	__u32 abi_version; /* EG_ABI_VERSION of that daemon */
	__u32 mode;
	__u32 scope_host;     /* 1: every task is in scope */
	__u32 trust;          /* EG_TRUST_* */
	__u32 audit_required; /* 1: deny an exec whose event cannot be reserved */
	__u64 wakeup_events;  /* wake the reader after this many unwoken events on a CPU */
	__u32 track_lineage;  /* 1: record which ticket authorized each task's image */
	__u32 n_scopes;       /* entries used in scopes[] */
	struct eg_scope scopes[EG_MAX_SCOPES];
	__u32 daemon_tgid;    /* execgated's pid: its read opens probe pending tickets; never judged by the posture */
	__u32 allow;          /* EG_ALLOW_*: what the scope's privilege posture lets it do beyond the default */
	__u64 caps_allowed;   /* capabilities the scope may use (bit 1 << CAP_*); the rest are refused */
	__u64 posture_since_ns; /* CLOCK_MONOTONIC when the scopes were last set: only tasks started
				 * after it can be launchers (lib/scope.h is_launcher) */
};

/* eg_config.allow: operations the posture refuses in the scope unless the policy allows them */
#define EG_ALLOW_MOUNT (1u << 0)          /* mount, umount, move_mount, pivot_root */
#define EG_ALLOW_USERNS (1u << 1)         /* creating user namespaces */
#define EG_ALLOW_MODULE_REQUEST (1u << 2) /* module autoload (the kernel runs modprobe outside the scope) */
#define EG_ALLOW_BLOCK_READ (1u << 3)     /* opening and reading block devices (writes stay refused) */

/* Per-task: which ticket authorized the image this task runs (lineage), and the image's
 * inode when its ticket sets per-exec conditions (max uses, parent): such a file maps
 * executable only as the image of the task whose exec checked them. bprm_check records
 * the exec in progress as pending; bprm_committing_creds makes it the task's own only once
 * the exec is past its point of no return (a failed exec leaves nothing behind). */
#define EG_PENDING_NONE 0
#define EG_PENDING_UNTICKETED 1
#define EG_PENDING_TICKETED 2
#define EG_PENDING_LAUNCHER (1u << 8) /* or'ed in: a launcher is about to run a launcher program */

/* eg_task_state.workload */
#define EG_TASK_UNMARKED 0
#define EG_TASK_WORKLOAD 1        /* forked in the scope by its workload, or exec'd past a launcher program: never a launcher */
#define EG_TASK_LAUNCHER_IMAGE 2  /* a launcher running a launcher program: a launcher until its next exec */
struct eg_task_state {
	__u8 ticket[EG_ID_LEN];
	__u8 parent_ticket[EG_ID_LEN]; /* the parent image's ticket at exec time */
	__u8 pending[EG_ID_LEN];       /* the ticket that allowed the exec in progress */
	struct eg_inode_key image;     /* the image, when its ticket has per-exec conditions */
	struct eg_inode_key pending_key; /* the inode the exec in progress was decided for */
	__u32 has_ticket;
	__u32 pending_state;           /* EG_PENDING_*, EG_PENDING_LAUNCHER or'ed in */
	__u32 pending_per_exec;        /* the pending ticket has per-exec conditions */
	__u32 workload;                /* EG_TASK_*: workload (never a launcher), or a launcher's launcher program */
	__u32 builder;                 /* the image's ticket marks it a builder (EG_TF_BUILDER) */
	__u32 pending_builder;         /* ... the pending exec's */
	struct eg_inode_key builder_image; /* a builder's image (where its ticket's entry lies) */
};

/* Verdicts, reasons and hooks: their codes and names are listed once, in names.h
 * (EG_VERDICTS, EG_REASONS, EG_HOOKS; userspace's names: include/execgate/names.h). */
#define EG_ENUM_ENTRY(constant, value, name) constant = value,
#define EG_HOOK_ENTRY(constant, value, name, event) constant = value,
enum eg_verdict { EG_VERDICTS(EG_ENUM_ENTRY) };
enum eg_reason { EG_REASONS(EG_ENUM_ENTRY) };
enum eg_hook { EG_HOOKS(EG_HOOK_ENTRY) };
#undef EG_HOOK_ENTRY
#undef EG_ENUM_ENTRY

/* eg_event.arg for EG_HOOK_OTHER_TASK beside signal numbers */
#define EG_OP_NICE 0x100
#define EG_OP_IOPRIO 0x101
#define EG_OP_SCHEDULER 0x102
#define EG_OP_PRLIMIT 0x103
#define EG_OP_MOVEMEMORY 0x104

/* Counters (index into eg_state's counters; atomic adds) */
enum eg_counter {
	EG_C_ALLOWED = 0,
	EG_C_DENIED = 1,
	EG_C_MONITOR_DENIED = 2,
	EG_C_RB_DROPS = 3, /* events that could not be reserved in the ring buffer */
	EG_C_EVENTS = 4,   /* events submitted */
	EG_C_UNWOKEN = 5,  /* events submitted since the reader was last woken or caught up */
	EG_C_AUDIT_STALLED = 6, /* not a counter: the daemon stores 1 while it cannot make audit records
				 * durable (disk full); with audit_required, execs in the scope are then
				 * denied audit_unavailable (a word of the page no earlier build used) */
	EG_C_FLEET_SILENT = 7, /* not a counter: the daemon stores 1 while it has had no confirmed contact
				* with the fleet's etcd for max_silence; tickets flagged EG_TF_FLEET then
				* allow nothing (the page's last word no earlier build used) */
	EG_C_JOBS = 8, /* not a counter: how many jobs are live (eg_jobs); 0 spares every other task
			* the job lookups */
	EG_C__COUNT = 9,
};

/* The exec path's boot clock without a clocksource read (docs/gate.md, "Exec clock").
 * CLOCK_BOOTTIME = boot_base_ns + jiffies * TICK_NSEC while the base is current: jiffies
 * advance with CLOCK_MONOTONIC in steps of TICK_NSEC, and BOOTTIME - MONOTONIC changes
 * only when the host resumes from suspend. Written only by the eg_clock_sync program: at
 * daemon start and after each power transition (0 = not calibrated: read the clock). */
struct eg_clock {
	__u64 boot_base_ns; /* modulo 2^64 */
};
/* The daemon's calls of eg_clock_sync (BPF_PROG_TEST_RUN, args: action NULL, val, start 0) */
#define EG_CLOCK_TAKE 0  /* take a base now */
#define EG_CLOCK_CHECK 1 /* compare the estimate with the clock; drop the base when it is off by more
			  * than EG_CLOCK_DRIFT_NS (the run's return value: the error in ms, 0 if fine) */
#define EG_CLOCK_DRIFT_NS 250000000ULL

/* eg_state, an mmapable array of three: entry 0 the config (written by the daemon), entry
 * 1 the counters (atomic adds by the programs; the daemon resets EG_C_UNWOKEN through its
 * mapping, a single aligned store), entry 2 the exec clock (kernel-written). One array
 * keeps them on one page of the exec path. */
#define EG_STATE_CONFIG 0
#define EG_STATE_COUNTERS 1
#define EG_STATE_CLOCK 2
#define EG_STATE__COUNT 3
union eg_state {
	struct eg_config config;
	__u64 counters[EG_C__COUNT];
	struct eg_clock clock;
};

/* eg_event.arg of an allowed exec: it took its ticket entry's last use (max_uses) */
#define EG_ARG_LAST_USE (1u << 0)

struct eg_event {
	__u64 ts_boot_ns;
	__u64 dev;
	__u64 ino;
	__u64 cgroup_id;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 hook;
	__u8 verdict;
	__u8 reason;
	__u8 has_ticket;
	__u8 has_proc_ticket;
	__u32 arg; /* what the hook refused: a capability, signal, ioctl, mode (see EG_HOOK_*);
		    * for an allowed exec, EG_ARG_* flags */
	__u8 ticket[EG_ID_LEN];      /* the ticket that decided (allow) or was found (deny) */
	__u8 proc_ticket[EG_ID_LEN]; /* ticket of the image that called exec (lineage) */
	__u64 job;    /* the job (cgroup id) whose ticket or output decided; 0 none */
	__u32 writer; /* an exec of a job output: the builder process that wrote it */
	__u32 _pad;
	char comm[EG_COMM_LEN];
	char path[EG_PATH_LEN];
};

#endif /* EXECGATE_ABI_H */
