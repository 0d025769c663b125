/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's Prometheus series that are not registry counters, all read without the
 * merge lcore's tables:
 * - meshd_members{status} and meshd_replication_peers: the counts lib/node republishes
 *   every 100 ms (mesh_node_members_published);
 * - meshd_namespace_*{namespace,kind}: the store's per-namespace figures, relaxed atomics
 *   (mesh_crdt_ns_stats); levels are gauges, refusals and drops counters;
 * - meshd_replication_latency_seconds{kind}: a real histogram from the node's log-linear
 *   buckets (node_lat.c). Its bounds are the bucket edges at or just above 10 us, 25 us,
 *   50 us ... 60 s, so every cumulative count is exact (a bound is at most 6.25 % above
 *   its round figure); +Inf and _count are the sum of the buckets of one snapshot, so they
 *   agree, and _sum is the recorded total.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "telemetry_internal.h"

static void
put_members(struct tel_prom *r, const struct mesh_node *n)
{
	static const char *const status[] = { "alive", "suspect", "dead", "left" };
	struct mesh_node_members m;
	const uint32_t *count[] = { &m.alive, &m.suspect, &m.dead, &m.left };

	mesh_node_members_published(n, &m);
	tel_prom_head(r, "meshd_members", "gauge",
		      "members as this node sees them, by status (this node counted alive)");
	for (size_t i = 0; i < MESH_ARRAY_SIZE(status); i++)
		tel_prom_printf(r, "meshd_members{status=\"%s\"} %" PRIu32 "\n", status[i],
				*count[i]);
	tel_prom_head(r, "meshd_replication_peers", "gauge",
		      "members this node replicates to (alive or suspect)");
	tel_prom_printf(r, "meshd_replication_peers %" PRIu32 "\n", m.peers);
	tel_prom_head(r, "meshd_cluster_reachable", "gauge",
		      "this node and the members alive or suspect");
	tel_prom_printf(r, "meshd_cluster_reachable %" PRIu32 "\n", m.reachable);
	tel_prom_head(r, "meshd_cluster_quorum", "gauge",
		      "reachable members should_serve needs (configured, or a majority of known)");
	tel_prom_printf(r, "meshd_cluster_quorum %" PRIu32 "\n", m.quorum);
	tel_prom_head(r, "meshd_cluster_should_serve", "gauge",
		      "1 while reachable >= quorum: this node is not on a minority side");
	tel_prom_printf(r, "meshd_cluster_should_serve %" PRIu32 "\n", m.should_serve);
}

/* ---------------------------------------------------------------- namespaces */

enum { NS_CRDT = 1, NS_STREAM = 2, NS_ALL = 3 };

static const struct ns_family {
	const char *metric, *type, *help;
	size_t off;  /* of the figure in struct mesh_crdt_ns_stats */
	int kinds;   /* NS_CRDT, NS_STREAM or both */
} ns_families[] = {
	{ "meshd_namespace_keys", "gauge", "live keys in a CRDT namespace",
	  offsetof(struct mesh_crdt_ns_stats, keys), NS_CRDT },
	{ "meshd_namespace_tombstones", "gauge", "deleted keys kept as tombstones until GC",
	  offsetof(struct mesh_crdt_ns_stats, tombstones), NS_CRDT },
	{ "meshd_namespace_bytes", "gauge",
	  "bytes held: keys and values (CRDT), or messages waiting to be sent (stream)",
	  offsetof(struct mesh_crdt_ns_stats, bytes), NS_ALL },
	{ "meshd_namespace_rejected_total", "counter", "writes and ops refused by a limit",
	  offsetof(struct mesh_crdt_ns_stats, rejected), NS_ALL },
	{ "meshd_namespace_buffered", "gauge", "stream messages waiting to be sent",
	  offsetof(struct mesh_crdt_ns_stats, buffered), NS_STREAM },
	{ "meshd_namespace_dropped_total", "counter",
	  "stream messages dropped unsent: the send buffer was full",
	  offsetof(struct mesh_crdt_ns_stats, dropped), NS_STREAM },
};

static void
put_namespaces(struct tel_prom *r, struct mesh_node *n)
{
	static const char *const kinds[] = { "lww", "epoch_max", "broadcast", "targeted" };
	const struct mesh_crdt_store *kv = mesh_node_store(n);

	for (size_t f = 0; f < MESH_ARRAY_SIZE(ns_families); f++) {
		const struct ns_family *fam = &ns_families[f];

		tel_prom_head(r, fam->metric, fam->type, fam->help);
		for (int ns = 0;; ns++) {
			struct mesh_crdt_ns_stats st;
			enum mesh_crdt_ns_kind kind;
			const char *prefix;
			uint64_t v;

			if (mesh_crdt_ns_stats(kv, ns, &st) < 0 ||
			    mesh_crdt_ns_info(kv, ns, &kind, &prefix) < 0)
				break;
			if (!(fam->kinds & (kind >= MESH_CRDT_NS_BROADCAST ? NS_STREAM : NS_CRDT)))
				continue;
			if ((uint8_t)prefix[0] == 0xff)
				continue; /* the node's reserved namespace: not UTF-8, not the users' */
			memcpy(&v, (const char *)&st + fam->off, sizeof(v));
			tel_prom_printf(r, "%s{namespace=\"", fam->metric);
			tel_prom_escaped(r, prefix, strlen(prefix), true);
			tel_prom_printf(r, "\",kind=\"%s\"} %" PRIu64 "\n", kinds[kind & 3], v);
		}
	}
}

/* ---------------------------------------------------------------- latency */

static const uint64_t le_ns[] = {
	10 * MESH_NS_PER_US, 25 * MESH_NS_PER_US, 50 * MESH_NS_PER_US, 100 * MESH_NS_PER_US,
	250 * MESH_NS_PER_US, 500 * MESH_NS_PER_US, MESH_NS_PER_MS, 2500 * MESH_NS_PER_US,
	5 * MESH_NS_PER_MS, 10 * MESH_NS_PER_MS, 25 * MESH_NS_PER_MS, 50 * MESH_NS_PER_MS,
	100 * MESH_NS_PER_MS, 250 * MESH_NS_PER_MS, 500 * MESH_NS_PER_MS, MESH_NS_PER_SEC,
	2500 * MESH_NS_PER_MS, 5 * MESH_NS_PER_SEC, 10 * MESH_NS_PER_SEC, 30 * MESH_NS_PER_SEC,
	60 * MESH_NS_PER_SEC,
};

static void
put_histogram(struct tel_prom *r, const char *kind, const struct mesh_hist *h)
{
	static const char m[] = "meshd_replication_latency_seconds";
	uint64_t cum = 0;
	uint32_t b = 0;

	for (size_t i = 0; i < MESH_ARRAY_SIZE(le_ns); i++) {
		uint32_t last = mesh_hist_bucket(le_ns[i]);

		for (; b <= last; b++)
			cum += h->bucket[b];
		tel_prom_printf(r, "%s_bucket{kind=\"%s\",le=\"", m, kind);
		tel_prom_seconds(r, mesh_hist_bucket_high(last));
		tel_prom_printf(r, "\"} %" PRIu64 "\n", cum);
	}
	for (; b < MESH_HIST_BUCKETS; b++)
		cum += h->bucket[b];
	tel_prom_printf(r, "%s_bucket{kind=\"%s\",le=\"+Inf\"} %" PRIu64 "\n%s_sum{kind=\"%s\"} ",
			m, kind, cum, m, kind);
	tel_prom_seconds(r, h->sum);
	tel_prom_printf(r, "\n%s_count{kind=\"%s\"} %" PRIu64 "\n", m, kind, cum);
}

static void
put_latency(struct tel_prom *r, const struct mesh_node *n)
{
	struct mesh_hist snap; /* ~5 KB: the control thread's stack has room */

	tel_prom_head(r, "meshd_replication_latency_seconds", "histogram",
		      "origin-to-apply latency of replicated updates, by kind of update");
	for (int k = 0; k < MESH_NODE_LAT_MAX; k++) {
		mesh_hist_snapshot(mesh_node_latency(n, k), &snap);
		put_histogram(r, mesh_node_lat_kind_name(k), &snap);
	}
	tel_prom_head(r, "meshd_replication_latency_skewed_total", "counter",
		      "replicated updates not timed: origin stamp in the future (clock skew)");
	tel_prom_printf(r, "meshd_replication_latency_skewed_total %" PRIu64 "\n",
			mesh_node_latency_skewed(n));
}

void
tel_prom_node(struct tel_prom *r, struct mesh_node *n)
{
	put_members(r, n);
	put_namespaces(r, n);
	put_latency(r, n);
}
