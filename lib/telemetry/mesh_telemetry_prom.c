/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition: every value of the counter registry as
 * meshd_<group>_<name>, plus the replication latency summary of the node's histograms.
 * Readable from any thread (the control thread serves it); doc/telemetry.md maps the
 * names to upstream's router_mesh_* metrics.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mesh_client.h"
#include "telemetry_internal.h"

struct render {
	char *buf;
	size_t cap, len;
};

static void
append(struct render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
append(struct render *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= r->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	r->len += n > 0 ? (size_t)n : 0;
}

static void
put_counter(void *ctx, const char *group, const char *name, uint64_t v)
{
	char metric[160];

	mesh_client_metric_name(metric, sizeof(metric), group, name);
	append(ctx, "# TYPE %s counter\n%s %" PRIu64 "\n", metric, metric, v);
}

static void
put_latency(struct render *r, const struct mesh_node *n)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	struct mesh_hist snap;

	append(r, "# TYPE meshd_replication_latency_seconds summary\n");
	for (int k = 0; k < MESH_NODE_LAT_MAX; k++) {
		const char *kind = mesh_node_lat_kind_name(k);

		mesh_hist_snapshot(mesh_node_latency(n, k), &snap);
		for (unsigned i = 0; i < MESH_ARRAY_SIZE(qs); i++)
			append(r, "meshd_replication_latency_seconds{kind=\"%s\",quantile=\"%g\"} "
			       "%.9f\n", kind, qs[i], (double)mesh_hist_quantile(&snap, qs[i]) / 1e9);
		append(r, "meshd_replication_latency_seconds_sum{kind=\"%s\"} %.9f\n"
		       "meshd_replication_latency_seconds_count{kind=\"%s\"} %" PRIu64 "\n",
		       kind, (double)snap.sum / 1e9, kind, snap.count);
	}
}

size_t
mesh_telemetry_prom_render(char *buf, size_t cap)
{
	struct render r = { .buf = buf, .cap = cap };
	struct mesh_node *n = tel_node;

	mesh_telemetry_counters_visit(NULL, put_counter, &r);
	if (n != NULL)
		put_latency(&r, n);
	return MESH_MIN(r.len, cap);
}
