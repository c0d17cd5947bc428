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

static __always_inline bool current_in_scope(const struct eg_config *cfg)
{
	return in_scope(cfg, bpf_get_current_task_btf());
}

static __always_inline struct eg_inode_key inode_key(struct inode *inode)
{
	struct eg_inode_key k = {};
	k.dev = inode->i_sb->s_dev;
	k.ino = inode->i_ino;
	return k;
}

/* A file under /proc/sys: the proc_inode its inode is embedded in names a ctl_table
 * header. Read with one probe at CO-RE offsets (only for writes to procfs). */
static __always_inline bool is_sysctl(struct inode *inode)
{
	void *hdr = NULL;
	long off = (long)bpf_core_field_offset(struct proc_inode, sysctl) -
		   (long)bpf_core_field_offset(struct proc_inode, vfs_inode);
	bpf_probe_read_kernel(&hdr, sizeof(hdr), (void *)inode + off);
	return hdr != NULL;
}

/* /sys/kernel/uevent_helper: like the sysctls, the path of a program the kernel starts */
static __always_inline bool is_uevent_helper(struct dentry *dentry)
{
	const char want[] = "uevent_helper";
	char name[sizeof(want)] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), dentry->d_name.name);
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return false;
	return true;
}

/* Host-wide kernel settings. A write to some lets the kernel start programs outside the
 * scope on its behalf (core_pattern pipes, modprobe, hotplug, poweroff_cmd, uevent_helper,
 * binfmt_misc handlers); others lower the host's protections (any sysctl; securityfs:
 * LSM and IMA policies). */
static __always_inline bool kernel_setting(struct file *file, __u64 magic)
{
	if (magic == SECURITYFS_MAGIC || magic == BINFMTFS_MAGIC)
		return true;
	if (magic == PROC_SUPER_MAGIC)
		return is_sysctl(file->f_inode);
	return magic == SYSFS_MAGIC && is_uevent_helper(file->f_path.dentry);
}

/* Bytes beneath the filesystems: a block device (it holds ticketed and baseline files'
 * blocks), or physical / kernel memory and I/O ports. */
static __always_inline bool raw_device(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	if (fmt == S_IFBLK)
		return true;
	__u32 rdev = inode->i_rdev;
	__u32 minor = rdev & ((1u << 20) - 1);
	return fmt == S_IFCHR && rdev >> 20 == MEM_MAJOR && (minor == 1 || minor == 2 || minor == 4);
}

/* A block or character device node: what passthrough commands (ioctl, io_uring) reach. */
static __always_inline bool device_node(struct inode *inode)
{
	umode_t fmt = inode->i_mode & S_IFMT;
	return fmt == S_IFBLK || fmt == S_IFCHR;
}

static __always_inline bool protected_dir(struct inode *dir)
{
	struct eg_inode_key k = inode_key(dir);
	return dir && bpf_map_lookup_elem(&eg_protected, &k);
}

struct decision {
	__u8 ticket[EG_ID_LEN] __attribute__((aligned(8)));
	__u8 reason;
	__u8 has_ticket;
	__u8 pinned; /* allowed by a ticket or a pinned baseline entry: userspace knows the path */
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
		treason = ticket_reason(t, inode, uid, caller, consume, now);
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

/* A denial that concerns no file (scope escape, gate tamper, ptrace): counted, audited. */
static __always_inline int deny_simple(const struct eg_config *cfg, __u8 reason, __u32 hook)
{
	struct decision d = {.reason = reason};
	__u8 verdict = judge(cfg, reason);
	struct eg_event *e = reserve();
	if (e) {
		e->ts_boot_ns = bpf_ktime_get_boot_ns();
		fill_task(e, bpf_get_current_task_btf(), hook);
		emit(cfg, e, verdict, &d, NULL);
	}
	return hook_rc(verdict);
}

/* deny_simple() when the current task is in the scope; 0 otherwise. */
static __always_inline int deny_in_scope(__u8 reason, __u32 hook)
{
	struct eg_config *cfg = get_config();
	if (cfg && current_in_scope(cfg))
		return deny_simple(cfg, reason, hook);
	return 0;
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

	/* lineage: the image this task is about to run and the ticket that allowed it */
	if (rc == 0 && cfg->track_lineage) {
		struct eg_task_state *self = caller;
		if (!self && d.reason == EG_R_TICKET)
			self = bpf_task_storage_get(&eg_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (self) {
			if (self->has_ticket)
				copy_id(self->parent_ticket, self->ticket);
			self->has_ticket = d.reason == EG_R_TICKET;
			copy_id(self->ticket, d.ticket);
		}
	}
	return rc;
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
		int rc = deny_simple(cfg, EG_R_SCOPE_ESCAPE, EG_HOOK_CLONE_INTO_CGROUP);
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
	if (is_allow(d.reason))
		return 0; /* allowed mappings are too frequent to log */
	if (d.reason != EG_R_MEMFD)
		d.reason = EG_R_LOADER_BYPASS;
	return decide_file_event(cfg, file->f_path.dentry, inode, hook, &d, caller);
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
	} else if (!current_in_scope(cfg) || !bpf_map_lookup_elem(&eg_baseline, &key)) {
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
		return 0;
	}
	__u32 hook;
	__u8 reason = scope_write_target(file, &hook);
	if (reason && current_in_scope(cfg))
		return deny_simple(cfg, reason, hook);

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

/* In scope, bpf() is refused: no editing the gate's maps or detaching its programs. */
SEC("lsm/bpf")
int BPF_PROG(eg_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_BPF);
}

/* In scope, no unlinking in bpffs (the gate's pins) nor in the daemon's directories. */
SEC("lsm/inode_unlink")
int BPF_PROG(eg_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	bool pins = dir->i_sb->s_magic == BPF_FS_MAGIC;
	if (!pins && !protected_dir(dir))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, pins ? EG_HOOK_PIN_UNLINK : EG_HOOK_STATE_WRITE);
}

/* In scope, nothing is renamed into or out of the daemon's directories or bpffs. */
SEC("lsm/inode_rename")
int BPF_PROG(eg_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	if (!protected_dir(old_dir) && !protected_dir(new_dir) &&
	    old_dir->i_sb->s_magic != BPF_FS_MAGIC)
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
}

/* In scope, no new files in the daemon's directories. */
SEC("lsm/inode_create")
int BPF_PROG(eg_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	if (!protected_dir(dir))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_STATE_WRITE);
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

/* In scope, no SCSI or NVMe passthrough to a device: with CAP_SYS_RAWIO a read-only fd of a
 * disk suffices to write its blocks (SG_IO), beneath every file the gate protects. */
SEC("lsm/file_ioctl")
int BPF_PROG(eg_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	bool nvme = IOC_TYPE(cmd) == 'N' && IOC_NR(cmd) >= 0x40 && IOC_NR(cmd) <= 0x7f;
	if (cmd != SG_IO && !nvme)
		return 0;
	if (!device_node(file->f_inode))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_DEVICE_WRITE);
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
