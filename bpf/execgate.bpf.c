// SPDX-License-Identifier: GPL-2.0
/*
 * execgate BPF-LSM programs. Inside the gated scope an exec proceeds only when a valid
 * ticket covers the exact inode being executed (or the policy baseline trusts it);
 * otherwise -EPERM. Hooks beyond bprm_check_security close bypasses: executable
 * mappings (loader / LD_PRELOAD tricks), writes to ticketed files, leaving the scope
 * through cgroupfs or clone3(CLONE_INTO_CGROUP), bpf() and bpffs pins, ptrace.
 * Every in-scope decision is a ring-buffer event (see execgate.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* LSM programs get BTF-typed arguments: fields are read with direct (CO-RE relocated,
 * fault-safe) loads rather than bpf_probe_read_kernel() calls, which cost a helper call
 * each on the exec path. */

#include "execgate.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define FMODE_WRITE 0x2
#define MAY_WRITE 0x2
#define PROT_EXEC 0x4
#define S_IWGRP 00020
#define S_IWOTH 00002
#define CLONE_INTO_CGROUP 0x200000000ULL
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define BPF_FS_MAGIC 0xcafe4a11
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define SECURITYFS_MAGIC 0x73636673
#define BINFMTFS_MAGIC 0x42494e4d
#define CONFIGFS_MAGIC 0x62656570
#define TRACEFS_MAGIC 0x74726163
#define DEBUGFS_MAGIC 0x64626720
#define EFIVARFS_MAGIC 0xde5e81e4
#define PSTOREFS_MAGIC 0x6165676C
#define CAP_OPT_NOAUDIT 0x2
#define LSM_PRLIMIT_WRITE 2
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820
#define BLKPG 0x1269
#define LOOP_IOC_TYPE 0x4c /* 'L': loop devices and /dev/loop-control */
#define DM_IOC_TYPE 0xfd
#define NBD_IOC_TYPE 0xab
#define TIOCSTI 0x5412    /* push a byte into a terminal's input: the shell outside would read it */
#define TIOCLINUX 0x541c  /* includes pasting the console selection as input */
#define FIOSETOWN 0x8901
#define SIOCSPGRP 0x8902
#define F_SETOWN 8
#define F_SETOWN_EX 15
#define INPUT_MAJOR 13
#define MISC_MAJOR 10
#define UINPUT_MINOR 223
#define UHID_MINOR 239
#define S_IFMT 00170000
#define S_IFBLK 0060000
#define S_IFCHR 0020000
#define MEM_MAJOR 1 /* minors 1 mem, 2 kmem, 4 port */
#define SG_IO 0x2285
#define IOC_TYPE(cmd) (((cmd) >> 8) & 0xff)
#define IOC_NR(cmd) ((cmd)&0xff)
#define PTRACE_MODE_ATTACH 0x02
#define CTIME_NSEC_MASK ((1u << 30) - 1) /* newer kernels keep flag bits above nsec */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_TICKETS);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_ticket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_tickets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_BASELINE);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_baseline);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_baseline SEC(".maps");

/* directories holding the gate's own state, evidence and policy: no writes from the scope */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_PROTECTED);
	__type(key, struct eg_inode_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_protected SEC(".maps");

/* names the scope may not create (execgate.h, struct eg_name_key) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_RESERVED);
	__type(key, struct eg_name_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_reserved SEC(".maps");

/* the dynamic loader(s): never executed directly in scope */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_LOADERS);
	__type(key, struct eg_inode_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_loaders SEC(".maps");

/* Config and counters on one page (execgate.h, union eg_state). A plain array's lookups
 * are inlined by the verifier (a per-CPU array's is a helper call on 6.1), and exec rates
 * make contention on the counters irrelevant. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EG_STATE__COUNT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, union eg_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* userspace may resize before load */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct eg_task_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_task_state SEC(".maps");

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

static __always_inline __u64 *counters(void)
{
	__u32 idx = EG_STATE_COUNTERS;
	union eg_state *st = bpf_map_lookup_elem(&eg_state, &idx);
	return st ? st->counters : NULL;
}

static __always_inline void count(__u32 idx)
{
	__u64 *c = counters();
	if (c && idx < EG_C__COUNT)
		__sync_fetch_and_add(&c[idx], 1);
}

static __always_inline struct eg_config *get_config(void)
{
	__u32 idx = EG_STATE_CONFIG;
	union eg_state *st = bpf_map_lookup_elem(&eg_state, &idx);
	return st ? &st->config : NULL;
}

/* Exec clock (docs/gate.md, "Exec clock"). Reading the clocksource is the costliest single
 * step of an exec under emulation (the HPET is an MMIO exit: microseconds), so ticket
 * validity is first judged on an estimate: jiffies (a memory load) on the base that
 * eg_clock_sync keeps. TICK_NSEC of the running kernel, from its CONFIG_HZ (set by the
 * daemon before load; 0: no estimate, the clock is read on every check). */
const volatile __u64 eg_tick_nsec = 0;

/* The estimate is within EG_CLOCK_SLACK_NS of CLOCK_BOOTTIME as long as jiffies lag the
 * clock by less than that (they lag by under a tick while the CPU runs); a decision it
 * cannot make with that margin reads the clock. */
#define EG_CLOCK_SLACK_NS 1000000000ULL

static __always_inline struct eg_clock *exec_clock(void)
{
	__u32 idx = EG_STATE_CLOCK;
	union eg_state *st = bpf_map_lookup_elem(&eg_state, &idx);
	return st ? &st->clock : NULL;
}

/* CLOCK_BOOTTIME estimated without a clocksource read; 0 when not calibrated. */
static __always_inline __u64 boot_estimate(void)
{
	if (!eg_tick_nsec)
		return 0;
	struct eg_clock *c = exec_clock();
	__u64 base = c ? c->boot_base_ns : 0;
	return base ? base + bpf_jiffies64() * eg_tick_nsec : 0;
}

static __always_inline __u64 abs_diff(__u64 a, __u64 b)
{
	return a > b ? a - b : b - a;
}

static __always_inline bool near_bound(__u64 now, __u64 bound)
{
	return abs_diff(now, bound) < EG_CLOCK_SLACK_NS;
}

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

static __always_inline struct eg_inode_key inode_key(struct inode *inode)
{
	struct eg_inode_key k = {};
	k.dev = inode->i_sb->s_dev;
	k.ino = inode->i_ino;
	return k;
}

/* A write to procfs from the scope that changes a host-wide setting: every file that is not
 * a process's own (sysctls, /proc/sysrq-trigger, irq affinities, ...), and the files of a
 * process outside the scope (/proc/PID/oom_score_adj of execgated, ...). The proc_inode its
 * inode is embedded in names the process (pid) or the ctl_table (sysctl); probe reads at
 * CO-RE offsets, only for writes to procfs. */
static __always_inline bool proc_setting(struct inode *inode)
{
	long base = (long)bpf_core_field_offset(struct proc_inode, vfs_inode);
	struct pid *pid = NULL;
	bpf_probe_read_kernel(&pid, sizeof(pid), (void *)inode - base + bpf_core_field_offset(struct proc_inode, pid));
	if (!pid)
		return true;
	struct hlist_node *first = BPF_CORE_READ(pid, tasks[0].first);
	if (!first)
		return true; /* the process is gone */
	struct task_struct *t = (void *)first - bpf_core_field_offset(struct task_struct, pid_links);
	struct eg_config *cfg = get_config();
	if (!cfg || (!cfg->scope_host && BPF_CORE_READ(t, tgid) == cfg->daemon_tgid))
		return true;
	return !task_in_scope(cfg, t);
}

/* Host-wide kernel settings. A write to some lets the kernel start programs outside the
 * scope on its behalf (core_pattern pipes, modprobe, hotplug, poweroff_cmd, uevent_helper,
 * binfmt_misc handlers); others lower the host's protections (any sysctl; securityfs:
 * LSM and IMA policies). */
static __always_inline bool kernel_setting(struct file *file, __u64 magic)
{
	/* sysfs (uevent_helper, device and driver settings, zram/loop backing files, module
	 * parameters), configfs (nvmet and iSCSI targets, USB gadgets), tracefs, debugfs,
	 * efivarfs, pstore, securityfs, binfmt_misc: host-wide settings, none a workload's */
	if (magic == SECURITYFS_MAGIC || magic == BINFMTFS_MAGIC || magic == SYSFS_MAGIC ||
	    magic == CONFIGFS_MAGIC || magic == TRACEFS_MAGIC || magic == DEBUGFS_MAGIC ||
	    magic == EFIVARFS_MAGIC || magic == PSTOREFS_MAGIC)
		return true;
	return magic == PROC_SUPER_MAGIC && proc_setting(file->f_inode);
}

/* Bytes beneath the filesystems: a block device (it holds ticketed and baseline files'
 * blocks), or physical / kernel memory and I/O ports. */
static __always_inline bool raw_device(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	if (fmt == S_IFBLK)
		return true;
	if (fmt != S_IFCHR)
		return false;
	__u32 rdev = inode->i_rdev;
	__u32 major = rdev >> 20, minor = rdev & ((1u << 20) - 1);
	/* also input injection: evdev writes and uinput type into the host's consoles */
	return (major == MEM_MAJOR && (minor == 1 || minor == 2 || minor == 4)) || major == INPUT_MAJOR ||
	       (major == MISC_MAJOR && (minor == UINPUT_MINOR || minor == UHID_MINOR));
}

/* A block or character device node: what passthrough commands (ioctl, io_uring) reach. */
static __always_inline bool device_node(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	return fmt == S_IFBLK || fmt == S_IFCHR;
}

/* What the scope may not do to this inode (EG_PROT_*; 0: nothing protected). */
static __always_inline __u8 prot_flags(struct inode *inode)
{
	if (!inode)
		return 0;
	struct eg_inode_key k = inode_key(inode);
	__u8 *v = bpf_map_lookup_elem(&eg_protected, &k);
	return v ? *v : 0;
}

static __always_inline bool protected_dir(struct inode *dir)
{
	return prot_flags(dir) & EG_PROT_DIR;
}

struct decision {
	__u8 ticket[EG_ID_LEN] __attribute__((aligned(8)));
	__u8 reason;
	__u8 has_ticket;
	__u8 pinned; /* allowed by a ticket or a pinned baseline entry: userspace knows the path */
	__u8 per_exec; /* the ticket sets per-exec conditions (max uses, parent) */
	__u8 spent;    /* ... and has no use left */
	__u8 parent_bound;
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

/* Checks a ticket for the inode. consume: spend one use (exec), not for mappings. now: the
 * caller's boot time, an estimate or a clock read (0: none); it decides validity only when
 * no bound is within the estimate's margin of it, else the clock is read. */
static __always_inline __u8 ticket_reason(struct eg_ticket *t, struct inode *inode, __u32 uid,
					  const struct eg_task_state *caller, bool consume, __u64 now)
{
	if (t->flags & EG_TF_PENDING)
		return EG_R_UNSEALED;
	if (!now || near_bound(now, t->not_before_ns) || near_bound(now, t->not_after_ns))
		now = bpf_ktime_get_boot_ns();
	if (now < t->not_before_ns)
		return EG_R_NOT_YET_VALID;
	if (now >= t->not_after_ns)
		return EG_R_EXPIRED;
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

static __always_inline void decide(const struct eg_config *cfg, struct inode *inode, __u32 uid,
				   const struct eg_task_state *caller, bool consume, bool is_exec,
				   __u64 now, struct decision *d)
{
	struct eg_inode_key key = inode_key(inode);
	d->has_ticket = 0;

	if (inode->__i_nlink == 0) { /* memfd, O_TMPFILE or unlinked file */
		d->reason = EG_R_MEMFD;
		return;
	}
	__u8 treason = EG_R_NO_TICKET;
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (t) {
		d->has_ticket = 1;
		copy_id(d->ticket, t->id);
		d->per_exec = (t->flags & (EG_TF_LIMITED_USES | EG_TF_HAS_PARENT)) != 0;
		d->parent_bound = (t->flags & EG_TF_HAS_PARENT) != 0;
		treason = ticket_reason(t, inode, uid, caller, consume, now);
		d->spent = (t->flags & EG_TF_LIMITED_USES) && t->uses_left <= 0;
		if (treason == EG_R_TICKET) {
			d->reason = EG_R_TICKET;
			d->pinned = 1;
			return;
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
	/* a ticket's own failure explains more than "no ticket" */
	d->reason = t ? treason : breason;
}

static __always_inline bool is_allow(__u8 reason)
{
	return reason == EG_R_TICKET || reason == EG_R_BASELINE;
}

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
	if (caller && caller->has_ticket) {
		e->has_proc_ticket = 1;
		copy_id(e->proc_ticket, caller->ticket);
	}
	/* events submitted since the reader was last woken (racy across CPUs by design: a
	 * lost or extra wakeup is harmless, the reader also drains on a timer) */
	__u64 *c = counters();
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (verdict != EG_VERDICT_ALLOW || !c ||
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

/* The privilege posture: an operation the scope may do only when the policy allows it
 * (eg_config.allow), refused `privilege` otherwise. */
static __always_inline int deny_posture(__u32 allow_bit, __u32 hook, __u32 arg)
{
	struct eg_config *cfg = get_config();
	if (!cfg || (cfg->allow & allow_bit) || !current_in_scope(cfg))
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

SEC("lsm/bprm_check_security")
int BPF_PROG(eg_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!in_scope(cfg, task))
		return 0;
	/* lineage state exists only while the daemon tracks it */
	struct eg_task_state *caller =
		cfg->track_lineage ? bpf_task_storage_get(&eg_task_state, task, 0, 0) : NULL;
	struct inode *inode = bprm->file->f_inode;
	struct decision d = {};
	__u32 uid = task->cred->uid.val;
	int rc;
	/* Reserve before deciding: with audit required, an exec whose evidence cannot be
	 * recorded is denied without spending a use. (Two branches, each deciding: the 6.1
	 * verifier cannot see that a second null test of a ring-buffer record is redundant.) */
	struct eg_event *e = reserve();
	if (e) {
		__u64 now = boot_estimate();
		if (!now)
			now = bpf_ktime_get_boot_ns();
		decide(cfg, inode, uid, caller, true, true, now, &d);
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
		decide(cfg, inode, uid, caller, true, true, boot_estimate(), &d);
		rc = hook_rc(judge(cfg, d.reason));
	}

	/* The image this task is about to run and the ticket that allowed it, as pending:
	 * eg_bprm_committing makes them the task's only if the exec goes through. */
	if (rc == 0) {
		bool ticketed = d.reason == EG_R_TICKET;
		struct eg_task_state *self = caller;
		if (!self && ticketed && (cfg->track_lineage || d.per_exec))
			self = bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (self) {
			self->pending_state = ticketed ? EG_PENDING_TICKETED : EG_PENDING_UNTICKETED;
			self->pending_per_exec = ticketed && d.per_exec;
			self->pending_key = inode_key(inode);
			copy_id(self->pending, d.ticket);
		}
	}
	return rc;
}

/* The exec is past its point of no return: what bprm_check decided for this very file
 * becomes the task's lineage and image. A pending decision for another file (an exec that
 * failed after its check, whose state a later exec did not overwrite) is not taken. */
SEC("lsm/bprm_committing_creds")
int BPF_PROG(eg_bprm_committing, struct linux_binprm *bprm)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!in_scope(cfg, task))
		return 0;
	struct eg_task_state *st = bpf_task_storage_get(&eg_task_state, task, 0, 0);
	if (!st)
		return 0;
	struct eg_inode_key k = inode_key(bprm->file->f_inode);
	bool ticketed = st->pending_state == EG_PENDING_TICKETED && st->pending_key.dev == k.dev &&
			st->pending_key.ino == k.ino;
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
	st->pending_state = EG_PENDING_NONE;
	return 0;
}

/* Children inherit the lineage of the image that forked them; an in-scope task may not
 * place a child into another cgroup (that would leave the scope). */
SEC("lsm/task_alloc")
int BPF_PROG(eg_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (cfg && (clone_flags & CLONE_INTO_CGROUP) && current_in_scope(cfg)) {
		int rc = deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CLONE_INTO_CGROUP);
		if (rc)
			return rc;
	}
	if (!cfg || !cfg->track_lineage)
		return 0;
	struct eg_task_state *parent =
		bpf_task_storage_get(&eg_task_state, bpf_get_current_task_btf(), 0, 0);
	if (!parent || !parent->has_ticket)
		return 0;
	struct eg_task_state *child =
		bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (child)
		__builtin_memcpy(child, parent, sizeof(*child));
	return 0;
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

static __always_inline int check_exec_mapping(struct file *file, __u32 hook)
{
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!in_scope(cfg, task))
		return 0;
	/* lineage state exists only while the daemon tracks it */
	struct eg_task_state *caller =
		cfg->track_lineage ? bpf_task_storage_get(&eg_task_state, task, 0, 0) : NULL;
	struct inode *inode = file->f_inode;
	struct decision d = {};
	decide(cfg, inode, (__u32)bpf_get_current_uid_gid(), NULL, false, false, boot_estimate(), &d);
	if (is_allow(d.reason)) {
		if (d.reason != EG_R_TICKET || !d.per_exec)
			return 0; /* allowed mappings are too frequent to log */
		/* A ticket with per-exec conditions (uses, parent) authorizes an exec, which checked
		 * and counted them: its file maps executable only as the image of the task whose
		 * exec that was (the kernel maps the image after bprm_committing_creds). Through
		 * the loader (ld.so FILE) or dlopen it would run past them. */
		struct eg_task_state *st = caller ? caller : bpf_task_storage_get(&eg_task_state, task, 0, 0);
		struct eg_inode_key k = inode_key(inode);
		if (st && st->image.dev == k.dev && st->image.ino == k.ino)
			return 0;
		d.reason = d.spent ? EG_R_EXHAUSTED : d.parent_bound ? EG_R_LINEAGE : EG_R_LOADER_BYPASS;
		return decide_file_event(cfg, file->f_path.dentry, inode, hook, &d, caller);
	}
	if (d.reason != EG_R_MEMFD)
		d.reason = EG_R_LOADER_BYPASS;
	return decide_file_event(cfg, file->f_path.dentry, inode, hook, &d, caller);
}

/* execveat(AT_EXECVE_CHECK) (6.14 and later) asks whether a file may run, for interpreters
 * that honour it before running a script; the kernel stops after this hook, before
 * bprm_check_security. The answer is the exec decision. */
struct linux_binprm___v614 {
	unsigned int is_check : 1;
} __attribute__((preserve_access_index));

SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(eg_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	if (!bpf_core_field_exists(struct linux_binprm___v614, is_check))
		return 0;
	struct linux_binprm___v614 *b = (void *)bprm;
	if (!BPF_CORE_READ_BITFIELD_PROBED(b, is_check))
		return 0;
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!in_scope(cfg, task))
		return 0;
	/* the interpreter runs the script as data after this answer: the check is its exec,
	 * which spends a use and is judged against the asking process's lineage */
	struct eg_task_state *caller =
		cfg->track_lineage ? bpf_task_storage_get(&eg_task_state, task, 0, 0) : NULL;
	struct inode *inode = bprm->file->f_inode;
	struct decision d = {};
	decide(cfg, inode, task->cred->uid.val, caller, true, true, boot_estimate(), &d);
	if (is_allow(d.reason))
		return 0;
	return decide_file_event(cfg, bprm->file->f_path.dentry, inode, EG_HOOK_EXEC_CHECK, &d, caller);
}

/* An executable mapping of a file is an execution: ld.so /path/bin, LD_PRELOAD, dlopen. */
SEC("lsm/mmap_file")
int BPF_PROG(eg_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	return check_exec_mapping(file, EG_HOOK_MMAP_EXEC);
}

SEC("lsm/file_mprotect")
int BPF_PROG(eg_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	struct file *file = vma->vm_file;
	if (!file)
		return 0;
	return check_exec_mapping(file, EG_HOOK_MPROTECT_EXEC);
}

static __always_inline __u64 sb_magic(struct file *file)
{
	return file->f_inode->i_sb->s_magic;
}

/* A write to a ticketed file (from any process) or to a pinned baseline file (from the
 * scope: outside it, package upgrades must go on): denied `write_protected`, audited. */
static __always_inline int deny_protected_write(const struct eg_config *cfg, struct dentry *dentry,
						struct inode *inode, __u32 hook)
{
	struct eg_inode_key key = inode_key(inode);
	struct decision d = {.reason = EG_R_WRITE_PROTECTED};
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (t) {
		d.has_ticket = 1;
		copy_id(d.ticket, t->id);
	} else if (!current_in_scope(cfg)) {
		return 0;
	} else if (prot_flags(inode) & EG_PROT_CONTENT) {
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_HELPER_WRITE);
	} else if (protected_dir(dentry->d_parent->d_inode)) {
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	} else if (!bpf_map_lookup_elem(&eg_baseline, &key)) {
		return 0;
	}
	return decide_file_event(cfg, dentry, inode, hook, &d, NULL);
}

/* Files the scope may not write, whether it opens them for writing (file_open) or writes
 * through an fd opened before it entered the scope (file_permission): leaving the scope
 * through cgroupfs, host-wide kernel settings, the daemon's directories, raw devices.
 * Returns the reason (and the open-time hook) for such a file, 0 for any other. */
static __always_inline __u8 scope_write_target(struct file *file, __u32 *hook)
{
	__u64 magic = sb_magic(file);
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) {
		*hook = EG_HOOK_CGROUP_WRITE;
		return EG_R_SCOPE_ESCAPE;
	}
	if (kernel_setting(file, magic)) {
		*hook = EG_HOOK_KERNEL_SETTING;
		return EG_R_SCOPE_ESCAPE;
	}
	if (protected_dir(file->f_path.dentry->d_parent->d_inode)) {
		*hook = EG_HOOK_STATE_WRITE;
		return EG_R_GATE_TAMPER;
	}
	if (prot_flags(file->f_inode) & EG_PROT_CONTENT) {
		*hook = EG_HOOK_HELPER_WRITE;
		return EG_R_GATE_TAMPER;
	}
	if (raw_device(file->f_inode)) {
		*hook = EG_HOOK_DEVICE_WRITE;
		return EG_R_GATE_TAMPER;
	}
	return 0;
}

/* Sealing: execgated's own read open of a file whose ticket entry is pending records how
 * many writers (open file descriptions with write access, shared writable mappings
 * included) the inode has at that moment. Write opens are refused from the moment the
 * entry exists, so with none left then, nothing can change the bytes the daemon hashes. */
static __always_inline void probe_writers(const struct eg_config *cfg, struct file *file)
{
	if (!cfg->daemon_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) != cfg->daemon_tgid)
		return;
	struct inode *inode = file->f_inode;
	struct eg_inode_key key = inode_key(inode);
	struct eg_ticket *t = bpf_map_lookup_elem(&eg_tickets, &key);
	if (!t || !(t->flags & EG_TF_PENDING))
		return;
	t->writers = inode->i_writecount.counter;
	t->generation = inode->i_generation;
	t->flags |= EG_TF_PROBED;
}

/* No process may open a ticketed file for writing, and no in-scope process a pinned
 * baseline file; an in-scope process may not write cgroupfs (cgroup.procs: leaving the
 * scope). */
SEC("lsm/file_open")
int BPF_PROG(eg_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	if (!(file->f_mode & FMODE_WRITE)) {
		probe_writers(cfg, file);
		if (current_in_scope(cfg) && (prot_flags(file->f_inode) & EG_PROT_SECRET))
			return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
		return 0;
	}
	__u32 hook;
	__u8 reason = scope_write_target(file, &hook);
	if (reason && current_in_scope(cfg))
		return deny_simple(reason, hook);

	return deny_protected_write(cfg, file->f_path.dentry, file->f_inode, EG_HOOK_OPEN_WRITE);
}

/* truncate(2) by path (and ftruncate on 6.1) of a ticketed file: refused like a write
 * open (and of a baseline file from the scope) (its size change would only show as `stale` at the next exec,
 * and not at all within one coarse timestamp tick). */
SEC("lsm/path_truncate")
int BPF_PROG(eg_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	struct dentry *dentry = path->dentry;
	return deny_protected_write(cfg, dentry, dentry->d_inode, EG_HOOK_TRUNCATE);
}

/* Since 6.2, ftruncate(2) and open(O_TRUNC) call this hook instead of path_truncate: the
 * same rules (loaded only where the kernel has it). */
SEC("lsm/file_truncate")
int BPF_PROG(eg_file_truncate, struct file *file, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg)
		return 0;
	return deny_protected_write(cfg, file->f_path.dentry, file->f_inode, EG_HOOK_TRUNCATE);
}

/* Writes through a file opened before the task entered the scope (an inherited fd to
 * cgroup.procs, a sysctl, the audit log, the state): the open-time checks never saw them. */
SEC("lsm/file_permission")
int BPF_PROG(eg_file_permission, struct file *file, int mask, int ret)
{
	if (ret)
		return ret;
	if (!(mask & MAY_WRITE))
		return 0;
	__u32 hook;
	__u8 reason = scope_write_target(file, &hook);
	return reason ? deny_in_scope(reason, EG_HOOK_FD_WRITE) : 0;
}

/* In scope, no kernel modules, kexec images or IMA policies: each could switch the gate
 * off. Firmware loads (driven by drivers) pass. */
SEC("lsm/kernel_read_file")
int BPF_PROG(eg_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(eg_kernel_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

/* In scope, bpf() is refused: no editing the gate's maps or detaching its programs. 7.x
 * passes a fourth argument (bool kernel): one program per shape, the daemon loads the one
 * that matches the running kernel's hook (bpf_gate.cpp, kHookShapes). */
SEC("lsm/bpf")
int BPF_PROG(eg_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF);
}

SEC("lsm/bpf")
int BPF_PROG(eg_bpf_kernel, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF);
}

/* Removing DENTRY from DIR (unlink, rmdir, the target of a rename) from the scope: not in
 * bpffs (the gate's pins), not in the daemon's directories, not a protected name (those
 * directories, their ancestors up to /, execgated and the kernel's helper programs). */
static __always_inline int deny_removal(struct inode *dir, struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	__u64 magic = dir->i_sb->s_magic;
	if (magic == BPF_FS_MAGIC)
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PIN_UNLINK);
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) /* a scope cgroup removed, made anew */
		return deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CGROUP_WRITE);
	if (protected_dir(dir))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	if (prot_flags(dentry->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

/* Adding a name to DIR (create, link, symlink, mkdir, mknod, rename's target) from the
 * scope: nothing in the daemon's directories, no reserved name. */
static __always_inline int deny_addition(struct inode *dir, struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (protected_dir(dir))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
	__u64 magic = dir->i_sb->s_magic;
	if (magic == CGROUP2_SUPER_MAGIC || magic == CGROUP_SUPER_MAGIC) /* the cgroup tree is not the scope's */
		return deny_simple(EG_R_SCOPE_ESCAPE, EG_HOOK_CGROUP_WRITE);
	struct eg_name_key k = {};
	k.dir_dev = dir->i_sb->s_dev;
	k.dir_ino = dir->i_ino;
	bpf_probe_read_kernel_str(k.name, sizeof(k.name), dentry->d_name.name);
	if (bpf_map_lookup_elem(&eg_reserved, &k))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

SEC("lsm/inode_unlink")
int BPF_PROG(eg_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return deny_removal(dir, dentry);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(eg_inode_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return deny_removal(dir, dentry);
}

/* A rename removes the old name and, when the new one exists, that one too. */
SEC("lsm/inode_rename")
int BPF_PROG(eg_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	int rc = deny_removal(old_dir, old_dentry);
	if (rc)
		return rc;
	if (new_dentry->d_inode) {
		rc = deny_removal(new_dir, new_dentry);
		if (rc)
			return rc;
	}
	return deny_addition(new_dir, new_dentry);
}

SEC("lsm/inode_create")
int BPF_PROG(eg_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

/* A hard link into the daemon's directories would plant a record there (a revoked
 * ticket's, kept aside) that a restarted daemon would read as its own. */
SEC("lsm/inode_link")
int BPF_PROG(eg_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	int rc = deny_addition(dir, new_dentry);
	if (rc)
		return rc;
	/* ... nor a second name for a file in them, or for a protected file, elsewhere: its
	 * writes there would not be in the daemon's directories */
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (protected_dir(old_dentry->d_parent->d_inode) || prot_flags(old_dentry->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

/* Modes and owners of protected inodes and of the daemon's files (chmod 0 on execgated
 * stops its next start; a state file made world-writable ...). */
static __always_inline int deny_protected_attr(struct dentry *dentry)
{
	struct eg_config *cfg = get_config();
	if (!cfg || !current_in_scope(cfg))
		return 0;
	if (prot_flags(dentry->d_inode) || protected_dir(dentry->d_parent->d_inode))
		return deny_simple(EG_R_GATE_TAMPER, EG_HOOK_PROTECTED_NAME);
	return 0;
}

SEC("lsm/path_chmod")
int BPF_PROG(eg_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_protected_attr(path->dentry);
}

SEC("lsm/path_chown")
int BPF_PROG(eg_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
	if (ret)
		return ret;
	return deny_protected_attr(path->dentry);
}

SEC("lsm/inode_symlink")
int BPF_PROG(eg_inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(eg_inode_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return deny_addition(dir, dentry);
}

/* Device nodes: a node of a disk or of memory reaches the bytes beneath every file the gate
 * protects (character 0:0, overlayfs' whiteout, is no device). */
SEC("lsm/inode_mknod")
int BPF_PROG(eg_inode_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev, int ret)
{
	if (ret)
		return ret;
	int rc = deny_addition(dir, dentry);
	if (rc)
		return rc;
	umode_t fmt = mode & S_IFMT;
	if (fmt == S_IFBLK || (fmt == S_IFCHR && dev != 0))
		return deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_MKNOD, mode);
	return 0;
}

/* In scope, no ptrace attach (nor process_vm_writev): no injecting code into a process
 * outside the gate or running an unticketed image's code inside a ticketed one. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(eg_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE);
}

/* In scope, no PTRACE_TRACEME: its tracer (the parent) could write the next image's code
 * before it runs, a ticketed image running unauthorized code (no access check calls
 * ptrace_access_check for TRACEME). */
SEC("lsm/ptrace_traceme")
int BPF_PROG(eg_ptrace_traceme, struct task_struct *parent, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_PTRACE, EG_HOOK_PTRACE_TRACEME);
}

/* In scope, no SCSI or NVMe passthrough to a device: with CAP_SYS_RAWIO a read-only fd of a
 * disk suffices to write its blocks (SG_IO), beneath every file the gate protects. */
/* Also, in scope: no inode flags (clearing append-only or immutable on the audit log, then
 * truncating it), no loop / device-mapper / nbd / partition configuration (attaching a
 * crafted image beneath a mounted filesystem's device number). */
static __always_inline int ioctl_rule(struct file *file, unsigned int cmd)
{
	if (cmd == FS_IOC_SETFLAGS || cmd == FS_IOC32_SETFLAGS || cmd == FS_IOC_FSSETXATTR)
		return deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_FILE_ATTR, cmd);
	if (cmd == TIOCSTI || cmd == TIOCLINUX)
		return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_TTY_INJECT, cmd);
	if (cmd == FIOSETOWN || cmd == SIOCSPGRP) /* the signal owner of an fd: see eg_file_fcntl */
		return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, cmd);
	if (!device_node(file->f_inode))
		return 0;
	__u32 type = IOC_TYPE(cmd);
	bool nvme = type == 'N' && IOC_NR(cmd) >= 0x40 && IOC_NR(cmd) <= 0x7f;
	if (cmd == SG_IO || nvme)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_WRITE, cmd);
	if (type == LOOP_IOC_TYPE || type == DM_IOC_TYPE || type == NBD_IOC_TYPE || cmd == BLKPG)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_BLOCK_CONFIG, cmd);
	return 0;
}

SEC("lsm/file_ioctl")
int BPF_PROG(eg_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return ioctl_rule(file, cmd);
}

/* An fd's signal owner (F_SETOWN): I/O on it then sends SIGIO, or any signal F_SETSIG
 * names, to that process without task_kill (sigio_perm lets root's owner signal anyone).
 * From the scope an fd's owner is itself or nobody. */
SEC("lsm/file_fcntl")
int BPF_PROG(eg_file_fcntl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (cmd != F_SETOWN && cmd != F_SETOWN_EX)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (cmd == F_SETOWN && (arg == 0 || arg == (__u32)pid_tgid || arg == (__u32)(pid_tgid >> 32)))
		return 0;
	return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, cmd);
}

/* ... and no such signal reaches execgated, whoever set the owner. */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(eg_file_send_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg || !cfg->daemon_tgid || tsk->tgid != cfg->daemon_tgid)
		return 0;
	return deny_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, sig);
}

/* request_key(2) for a key type without an upcall of its own makes the kernel run
 * /sbin/request-key as root outside the scope, which runs what /etc/request-key.conf and
 * /etc/request-key.d name: from the scope, no such upcall (its authorization key). */
SEC("lsm/key_alloc")
int BPF_PROG(eg_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	const char want[] = ".request_key_auth";
	char name[sizeof(want)] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(key, type, name));
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return 0;
	return deny_in_scope(EG_R_SCOPE_ESCAPE, EG_HOOK_KEY_UPCALL);
}

/* 32-bit ioctls (6.8 and later, and Debian's 6.1 by backport; loaded only where the kernel has the hook). */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(eg_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return ioctl_rule(file, cmd);
}

/* file_setattr(2) (6.17 and later) sets the same inode flags by path. */
SEC("lsm/inode_file_setattr")
int BPF_PROG(eg_inode_file_setattr, struct dentry *dentry, void *fa, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope_arg(EG_R_PRIVILEGE, EG_HOOK_FILE_ATTR, 0);
}

/* io_uring passthrough (IORING_OP_URING_CMD) hands a command to the driver beneath the
 * files, as the passthrough ioctls do: NVMe I/O and admin commands on /dev/ngXnY and
 * /dev/nvmeX (a read-only fd suffices), ublk control, block discard. From the scope none
 * reaches a device (sockets, which have uring commands of their own since 6.7, pass). */
SEC("lsm/uring_cmd")
int BPF_PROG(eg_uring_cmd, struct io_uring_cmd *ioucmd, int ret)
{
	if (ret)
		return ret;
	if (!device_node(ioucmd->file->f_inode))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_WRITE);
}
/* In scope, what the kernel's lockdown LSM forbids in integrity mode is refused, whether or
 * not the host is locked down: every way the kernel lists for root to modify the running
 * kernel or reach the hardware beneath it (I/O ports by iopl/ioperm, MSR writes, PCI
 * config writes, ACPI tables, unsafe module parameters, writable debugfs, ...). Not
 * hibernation: its check also runs when /sys/power/state is merely read. */
SEC("lsm/locked_down")
int BPF_PROG(eg_locked_down, enum lockdown_reason what, int ret)
{
	if (ret)
		return ret;
	if (what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_NONE) ||
	    what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_HIBERNATION) ||
	    what >= bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_INTEGRITY_MAX))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_LOCKDOWN);
}

/* ---- The scope's privilege posture (docs/gate.md "Privilege posture") ---- */

/* Only the capabilities the policy allows (eg_config.caps_allowed). Checks of another
 * task's credentials pass (has_capability: the task judged is not the current one);
 * probes the kernel makes without auditing are refused but not recorded. */
SEC("lsm/capable")
int BPF_PROG(eg_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg || cap < 0 || cap > 63 || (cfg->caps_allowed & (1ULL << cap)))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if ((unsigned long)cred != (unsigned long)task->cred || !current_in_scope(cfg))
		return 0;
	if (opts & CAP_OPT_NOAUDIT)
		return cfg->mode == EG_MODE_MONITOR ? 0 : -EPERM;
	return deny_arg(EG_R_PRIVILEGE, EG_HOOK_CAPABLE, cap);
}

/* Mounts: a tmpfs over the policy, a decoy over the scope's cgroup, bpffs unmounted under
 * the pins, a crafted image beneath a ticketed path. Unmounting bpffs is refused even where
 * the policy allows mounts. */
SEC("lsm/sb_mount")
int BPF_PROG(eg_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 1);
}

SEC("lsm/sb_umount")
int BPF_PROG(eg_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	if (mnt->mnt_sb->s_magic == BPF_FS_MAGIC)
		return deny_in_scope_arg(EG_R_GATE_TAMPER, EG_HOOK_MOUNT, 2);
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 2);
}

SEC("lsm/move_mount")
int BPF_PROG(eg_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 3);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(eg_sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_MOUNT, EG_HOOK_MOUNT, 4);
}

/* Module autoload: the kernel runs modprobe as root, outside the scope. */
SEC("lsm/kernel_module_request")
int BPF_PROG(eg_kernel_module_request, char *kmod_name, int ret)
{
	if (ret)
		return ret;
	struct eg_config *cfg = get_config();
	if (!cfg || (cfg->allow & EG_ALLOW_MODULE_REQUEST) || !current_in_scope(cfg))
		return 0;
	struct decision d = {.reason = EG_R_PRIVILEGE};
	__u8 verdict = judge(cfg, d.reason);
	struct eg_event *e = reserve();
	if (e) {
		e->ts_boot_ns = bpf_ktime_get_boot_ns();
		fill_task(e, bpf_get_current_task_btf(), EG_HOOK_MODULE_REQUEST);
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), kmod_name);
		emit(cfg, e, verdict, &d, NULL);
	}
	return hook_rc(verdict);
}

/* User namespaces (6.1 and later): inside one, every capability check of the namespace
 * passes the kernel's own test; the posture still applies, this closes the door before. */
SEC("lsm/userns_create")
int BPF_PROG(eg_userns_create, const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return deny_posture(EG_ALLOW_USERNS, EG_HOOK_USERNS, 0);
}

/* Acting from the scope on tasks outside it: killing or stopping execgated (or anything
 * else), SIGHUP with a swapped policy, starving it of CPU, I/O or file descriptors. Signal
 * 0 (a probe) passes, and so do signals sent for credentials other than the current task's
 * (USB async I/O completions). 6.1 passes cred NULL for kill(2), newer kernels the
 * sender's credentials. */
SEC("lsm/task_kill")
int BPF_PROG(eg_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	if (!sig)
		return 0;
	if (cred && (unsigned long)cred != (unsigned long)bpf_get_current_task_btf()->cred)
		return 0;
	return deny_outside_target(p, sig);
}

SEC("lsm/task_setnice")
int BPF_PROG(eg_task_setnice, struct task_struct *p, int nice, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_NICE);
}

SEC("lsm/task_setioprio")
int BPF_PROG(eg_task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_IOPRIO);
}

SEC("lsm/task_setscheduler")
int BPF_PROG(eg_task_setscheduler, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_SCHEDULER);
}

SEC("lsm/task_movememory")
int BPF_PROG(eg_task_movememory, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return deny_outside_target(p, EG_OP_MOVEMEMORY);
}

/* prlimit(2) of another task names only its credentials: from the scope, no other task's
 * limits are set (the kernel calls this hook only for another task). */
SEC("lsm/task_prlimit")
int BPF_PROG(eg_task_prlimit, const struct cred *cred, const struct cred *tcred, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	if (!(flags & LSM_PRLIMIT_WRITE))
		return 0;
	return deny_in_scope_arg(EG_R_SCOPE_ESCAPE, EG_HOOK_OTHER_TASK, EG_OP_PRLIMIT);
}

/* A superblock shutting down (the last mount of a filesystem gone): its ticket and
 * baseline entries go with it. Another filesystem later mounted on the same device number
 * (a crafted image attached to the same loop device) never matches them. */
static long drop_dev_entry(struct bpf_map *map, struct eg_inode_key *key, void *value, __u64 *dev)
{
	if (key->dev == *dev)
		bpf_map_delete_elem(map, key);
	return 0;
}

SEC("lsm/sb_delete")
int BPF_PROG(eg_sb_delete, struct super_block *sb)
{
	__u64 dev = sb->s_dev;
	bpf_for_each_map_elem(&eg_tickets, drop_dev_entry, &dev, 0);
	bpf_for_each_map_elem(&eg_baseline, drop_dev_entry, &dev, 0);
	return 0;
}

/* In scope, the system clock stays as it is: a clock set back to a deleted ticketed file's
 * change time is half of forging that file's identity, and the audit log's times come from
 * it. (Ticket validity runs on CLOCK_BOOTTIME, which settime does not move.) */
SEC("lsm/settime")
int BPF_PROG(eg_settime, const struct timespec64 *ts, const struct timezone *tz, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_SETTIME);
}

/* Keeps the exec clock's base (struct eg_clock) current. CLOCK_BOOTTIME - jiffies * TICK_NSEC
 * changes only across suspend: the kernel adds the time slept to the boot clock on resume
 * (at timekeeping resume, or later from the RTC driver's resume), not to jiffies. Every
 * step of a suspend or hibernation is bracketed by this tracepoint (syscore and device
 * resume, process thaw, s2idle's timekeeping freeze): at a step's start the base is
 * dropped (execs read the clock), at its end it is taken anew. The daemon runs it too
 * (BPF_PROG_TEST_RUN, no action): EG_CLOCK_TAKE at start, EG_CLOCK_CHECK every 100 ms.
 * Userspace cannot fire the tracepoint nor write the entry (only the daemon holds the map;
 * bpf() is denied in the scope). */
SEC("raw_tp/suspend_resume")
int BPF_PROG(eg_clock_sync, const char *action, int val, bool start)
{
	struct eg_clock *c = exec_clock();
	if (!c)
		return 0;
	if (!action && val == EG_CLOCK_CHECK) {
		/* the estimate must track the clock: a wrong CONFIG_HZ, or a change of the boot
		 * clock outside the brackets, drops it before its error reaches the decisions'
		 * 1 s margin (the error grows by at most its drift rate times 100 ms per check) */
		__u64 est = boot_estimate();
		if (!est)
			return 0;
		__u64 err = abs_diff(est, bpf_ktime_get_boot_ns());
		if (err <= EG_CLOCK_DRIFT_NS)
			return 0;
		c->boot_base_ns = 0;
		__u64 ms = err / 1000000;
		return ms < 0x7fffffff ? ms : 0x7fffffff;
	}
	if (start) {
		c->boot_base_ns = 0;
		return 0;
	}
	/* jiffies first: a later clock read only moves the base (and the estimate) forward */
	__u64 j = bpf_jiffies64();
	__u64 base = bpf_ktime_get_boot_ns() - j * eg_tick_nsec;
	c->boot_base_ns = base ? base : 1; /* 0 means "not calibrated" */
	return 0;
}
