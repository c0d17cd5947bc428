/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec clock (docs/gate.md, "Exec clock"): CLOCK_BOOTTIME estimated from jiffies on a
 * base kept in eg_state (boot_estimate, near_bound), and clock_sync, the body of the
 * eg_clock_sync program that takes, drops and checks that base.
 */
#ifndef EG_LIB_CLOCK_H
#define EG_LIB_CLOCK_H

#include "lib/clock_bound.h"
#include "lib/maps.h"

/* Reading the clocksource is the costliest single step of an exec under emulation (the
 * HPET is an MMIO exit: microseconds), so ticket validity is first judged on an estimate:
 * jiffies (a memory load) on the base that eg_clock_sync keeps. TICK_NSEC of the running
 * kernel, from its CONFIG_HZ (set by the daemon before load; 0: no estimate, the clock is
 * read on every check). */
const volatile __u64 eg_tick_nsec = 0;

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

/* The suspend_resume tracepoint's step (ACTION, VAL, START), or the daemon's call (action
 * NULL, VAL EG_CLOCK_TAKE or EG_CLOCK_CHECK, START false); eg_clock_sync says when each
 * comes. Returns the program's value: for a check, the error in ms that dropped the base. */
static __always_inline int clock_sync(const char *action, int val, bool start)
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

#endif /* EG_LIB_CLOCK_H */
