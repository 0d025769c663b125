/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/telemetry: meshd's /mesh/... commands on the DPDK telemetry socket
 * (dpdk-telemetry.py -f <file-prefix>). Callbacks run on DPDK's telemetry threads: they
 * read counters with relaxed loads and published snapshots, never the merge lcore's tables.
 */
#ifndef MESH_TELEMETRY_H
#define MESH_TELEMETRY_H

#include <stdint.h>

#include "mesh_common.h"

/** Static facts about this node, shown by /mesh/info. Copied at init. */
struct mesh_telemetry_info {
	char name[64];
	char ip[16];
	char mac[18];
	uint16_t udp_port;
	uint16_t port_id;
	uint32_t cluster_id;
	const char *poll_mode;
	const char *security;  /* frame protection: "xxh3" or "xchacha20poly1305" */
	unsigned lcores;
	uint64_t start_ns; /* mesh_time_mono_ns() at start */
};

/** Register /mesh/info and /mesh/stats. 0 or -errno. */
int mesh_telemetry_init(const struct mesh_telemetry_info *info);

/**
 * Publish a counter table under @group in /mesh/stats (e.g. "net"). The table must stay
 * valid until mesh_telemetry_fini(). 0, or -ENOSPC when too many groups are registered.
 */
int mesh_telemetry_counters_add(const char *group, const struct mesh_counters *t);

struct rte_tel_data;

/** Callback that adds computed values to a group's (already started) dict. */
typedef void (*mesh_telemetry_gauges_f)(void *ctx, struct rte_tel_data *dict);

/** Publish computed values (e.g. poll statistics) as group @group. */
int mesh_telemetry_gauges_add(const char *group, mesh_telemetry_gauges_f fn, void *ctx);

/** Stop serving registered tables (commands answer an error object afterwards). */
void mesh_telemetry_fini(void);

#endif /* MESH_TELEMETRY_H */
