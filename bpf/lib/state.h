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

/* Whether the daemon has flagged the fleet silent (EG_C_FLEET_SILENT): its tickets then
 * allow nothing. Read only for a ticket from the fleet; no page reads as silent. */
static __always_inline bool fleet_silent(void)
{
	__u64 *c = counters();
	return !c || c[EG_C_FLEET_SILENT];
}

static __always_inline struct eg_config *get_config(void)
{
	__u32 idx = EG_STATE_CONFIG;
	union eg_state *st = bpf_map_lookup_elem(&eg_state, &idx);
	return st ? &st->config : NULL;
}

#endif /* EG_LIB_STATE_H */
