/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The figures of one lcore's idle wait (struct mesh_net_idle) as a telemetry dict, for
 * the program's per-lcore command (meshd's /mesh/lcores): polls and busy share, sleeps,
 * what ended each wait, and how late timed wake-ups were. Read from the telemetry thread
 * while the lcore runs: each figure is one relaxed atomic load, so a dict may mix passes.
 */
#include <stdio.h>

#include <rte_telemetry.h>

#include "mesh_net.h"

void
mesh_net_idle_tel_fill(const struct mesh_net_idle *w, struct rte_tel_data *e)
{
	uint64_t polls = __atomic_load_n(&w->b.polls, __ATOMIC_RELAXED);
	uint64_t busy = __atomic_load_n(&w->b.busy_polls, __ATOMIC_RELAXED);
	const struct { const char *key; const uint64_t *v; } figures[] = {
		{ "idle_sleeps", &w->b.sleeps },
		{ "idle_slept_us", &w->b.slept_us },
		{ "wake_rx", &w->wake_rx },
		{ "wake_fd", &w->wake_fd_events },
		{ "wake_timer", &w->wake_timer },
		{ "timed_wakes", &w->b.timed },
		{ "late_max_ns", &w->b.late_max_ns },
	};
	char key[24];

	rte_tel_data_add_dict_string(e, "rx_wake", !w->rx_role ? "-" :
				     mesh_net_rx_wake_name(w->rx_wake));
	rte_tel_data_add_dict_u64(e, "polls", polls);
	rte_tel_data_add_dict_u64(e, "busy_polls", busy);
	rte_tel_data_add_dict_u64(e, "busy_share_ppm", polls ? busy * 1000000 / polls : 0);
	for (unsigned f = 0; f < MESH_ARRAY_SIZE(figures); f++)
		rte_tel_data_add_dict_u64(e, figures[f].key,
					  __atomic_load_n(figures[f].v, __ATOMIC_RELAXED));
	for (unsigned b = 0; b < MESH_NET_LATE_BUCKETS; b++) {
		snprintf(key, sizeof(key), "late_%s", mesh_net_late_bucket_name(b));
		rte_tel_data_add_dict_u64(e, key, __atomic_load_n(&w->b.late[b], __ATOMIC_RELAXED));
	}
}
