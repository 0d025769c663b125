/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/telemetry: meshd's /mesh/... commands on the DPDK telemetry socket
 * (dpdk-telemetry.py -f <file-prefix>), and the one counter registry behind /mesh/stats,
 * the client API's stats request and the Prometheus text. Callbacks run on DPDK's
 * telemetry threads: they read counters with relaxed loads and published snapshots; what
 * needs the merge lcore's tables (members, peers, one key) is asked of the merge lcore
 * through a query ring that it serves from its loop (mesh_telemetry_node_poll).
 */
#ifndef MESH_TELEMETRY_H
#define MESH_TELEMETRY_H

#include <stddef.h>
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

/* ---------------------------------------------------------------- counter registry */

/** What a registry value measures (Prometheus TYPE). */
enum mesh_telemetry_type {
	MESH_TELEMETRY_COUNTER = 0, /**< a count since start: it only goes up */
	MESH_TELEMETRY_GAUGE,       /**< a level: it goes up and down */
};

/** One value of a group, as the registry's readers see it. */
struct mesh_telemetry_value {
	const char *name; /**< the /mesh/stats key ("rx_drop_runt"); valid during the call */
	const char *desc; /**< one line for people (Prometheus # HELP), or NULL */
	enum mesh_telemetry_type type;
	uint64_t v;
};

/** Receives one value of a described walk. */
typedef void (*mesh_telemetry_emit_f)(void *emit_ctx, const struct mesh_telemetry_value *v);
/** Walks a group's values with their descriptions (any thread: relaxed reads). */
typedef void (*mesh_telemetry_walk_desc_f)(void *ctx, mesh_telemetry_emit_f emit,
					   void *emit_ctx);

/** Receives one value of an undescribed walk (a counter). */
typedef void (*mesh_telemetry_value_f)(void *emit_ctx, const char *name, uint64_t v);
/** Walks a group's counters without descriptions (any thread: relaxed reads). */
typedef void (*mesh_telemetry_walk_f)(void *ctx, mesh_telemetry_value_f emit, void *emit_ctx);

/**
 * Publish a counter table under @group (e.g. "net"), described by the table's descs. The
 * table must stay valid until mesh_telemetry_fini(). 0, or -ENOSPC when too many groups
 * are registered.
 */
int mesh_telemetry_counters_add(const char *group, const struct mesh_counters *t);

/** Publish the values @walk produces, with their descriptions and types. 0 or -ENOSPC. */
int mesh_telemetry_group_add_desc(const char *group, mesh_telemetry_walk_desc_f walk,
				  void *ctx);

/** Publish the counters @walk produces (no descriptions) as group @group. 0 or -ENOSPC. */
int mesh_telemetry_group_add(const char *group, mesh_telemetry_walk_f walk, void *ctx);

/** Receives one value of a walk over every group. */
typedef void (*mesh_telemetry_visit_f)(void *ctx, const char *group,
				       const struct mesh_telemetry_value *v);

/**
 * Visit every value of group @filter (NULL or "" = all groups, in registration order).
 * Any thread. 0, or -ENOENT for an unknown group. @group stays valid until fini.
 */
int mesh_telemetry_values_visit(const char *filter, mesh_telemetry_visit_f fn, void *ctx);

/** Receives one counter of a walk over every group (name and value only). */
typedef void (*mesh_telemetry_counter_f)(void *ctx, const char *group, const char *name,
					 uint64_t v);

/** mesh_telemetry_values_visit() for readers that need names and values only. */
int mesh_telemetry_counters_visit(const char *filter, mesh_telemetry_counter_f fn, void *ctx);

/** Names of the registered groups, comma separated, into @buf (for error messages). */
void mesh_telemetry_group_names(char *buf, size_t cap);

/** Stop serving (commands answer an error object afterwards). */
void mesh_telemetry_fini(void);

/* ---------------------------------------------------------------- log levels */

/**
 * Set log levels at run time from an EAL --log-level value: "LEVEL" (global),
 * "PATTERN:LEVEL" (glob over type names, e.g. "meshd.swim:debug") or "REGEX,LEVEL"; LEVEL
 * is a DPDK level name (emergency .. debug) or 1-8. Any thread. 0, or -EINVAL with the
 * reason in @why.
 */
int mesh_telemetry_log_level_set(const char *spec, char *why, size_t why_len);

/**
 * Apply the --log-level options ("--log-level V", "--log-level=V") among EAL arguments
 * @tok[0..@n-1], skipping the others; a refused value is logged. Returns how many applied.
 */
unsigned mesh_telemetry_log_levels_apply(int n, char *const *tok);

/** Register /mesh/log_level (list meshd's log types and levels, or set one). 0 or -errno. */
int mesh_telemetry_log_init(void);

/* ---------------------------------------------------------------- the node */

struct mesh_node;

/**
 * Register the node's commands (/mesh/kv/stats, /mesh/kv/get, /mesh/members,
 * /mesh/member, /mesh/peers, /mesh/latency) and counter groups (node, crdt, swim,
 * stream, hello), and create the query ring. 0 or -errno.
 */
int mesh_telemetry_node_init(struct mesh_node *n);

/** Merge lcore: answer queued queries. Returns how many were answered. */
unsigned mesh_telemetry_node_poll(void);

/**
 * An eventfd signalled after each query queued for the merge lcore, so an idle merge lcore
 * can block on it (event poll mode); -1 before mesh_telemetry_node_init.
 */
int mesh_telemetry_node_wake_fd(void);

/** After the loops stopped: release queries nobody will answer. */
void mesh_telemetry_node_fini(void);

/**
 * Prometheus text exposition (format 0.0.4) of the registry and the node's gauges and
 * latency histograms, into @buf. Returns the length of the whole text, like snprintf:
 * it fit (NUL-terminated) only when the result is < @cap. Any thread.
 */
size_t mesh_telemetry_prom_render(char *buf, size_t cap);

#endif /* MESH_TELEMETRY_H */
