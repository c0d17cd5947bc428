/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How near a ticket's bound an estimate of CLOCK_BOOTTIME may decide (lib/clock.h): pure,
 * compiled by the kernel's programs and natively (lib/decision.h, EG_NATIVE).
 */
#ifndef EG_LIB_CLOCK_BOUND_H
#define EG_LIB_CLOCK_BOUND_H

/* The estimate is within EG_CLOCK_SLACK_NS of CLOCK_BOOTTIME as long as jiffies lag the
 * clock by less than that (they lag by under a tick while the CPU runs); a decision it
 * cannot make with that margin reads the clock. */
#define EG_CLOCK_SLACK_NS 1000000000ULL

static __always_inline __u64 abs_diff(__u64 a, __u64 b)
{
	return a > b ? a - b : b - a;
}

static __always_inline bool near_bound(__u64 now, __u64 bound)
{
	return abs_diff(now, bound) < EG_CLOCK_SLACK_NS;
}

#endif /* EG_LIB_CLOCK_BOUND_H */
