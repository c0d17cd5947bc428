/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The config and the counters, entries of the eg_state page (execgate.h, union eg_state):
 * get_config() for the daemon's settings, count() for an atomic add to a counter.
 */
#ifndef EG_LIB_STATE_H
#define EG_LIB_STATE_H

#include "lib/maps.h"

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

#endif /* EG_LIB_STATE_H */
