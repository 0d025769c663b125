/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter of a node in one walk (net, ctl, merge, crdt, swim, stream), readable from
 * any thread: each table is single-writer and read with relaxed loads. Serves the client
 * API's stats request and the Prometheus text of `--metrics-listen ADDR:PORT`, a plain
 * HTTP/1.0 endpoint on the control thread (GET /metrics; anything else gets 404).
 * Names are meshd_<group>_<counter>, plus the replication latency summary of meshd_lat.c;
 * doc/telemetry.md maps them to upstream's router_mesh_* metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_client.h"
#include "mesh_crdt.h"
#include "mesh_swim.h"
#include "meshd.h"

static void
visit_table(const struct mesh_counters *t, const char *group, meshd_counter_f fn, void *ctx)
{
	for (uint32_t i = 0; t->values != NULL && i < t->n_counters; i++)
		fn(ctx, group, t->names[i], mesh_counters_sum(t, i));
}

static int
want(const char *filter, const char *group)
{
	return filter == NULL || filter[0] == '\0' || strcmp(filter, group) == 0;
}

int
meshd_counters_visit(struct meshd *d, const char *filter, meshd_counter_f fn, void *ctx)
{
	int groups = 0;

	if (want(filter, "net") && ++groups)
		visit_table(&d->port.ctr, "net", fn, ctx);
	if (want(filter, "ctl") && ++groups)
		visit_table(&d->ctl.ctr, "ctl", fn, ctx);
	if (want(filter, "merge") && ++groups)
		visit_table(&d->merge_ctr, "merge", fn, ctx);
	if (want(filter, "crdt") && d->kv != NULL && ++groups)
		for (int i = 0; i < MESH_CRDT_CTR_MAX; i++)
			fn(ctx, "crdt", mesh_crdt_counter_name(i), mesh_crdt_store_counter(d->kv, i));
	if (want(filter, "swim") && d->swim != NULL && ++groups)
		for (int i = 0; i < MESH_SWIM_CTR_MAX; i++)
			fn(ctx, "swim", mesh_swim_counter_names()[i], mesh_swim_counter(d->swim, i));
	if (want(filter, "stream") && d->stream != NULL && ++groups) {
		const uint64_t *c = mesh_stream_counters(d->stream);
		for (int i = 0; i < MESH_STREAM_CTR_MAX; i++)
			fn(ctx, "stream", mesh_stream_counter_names[i],
			   __atomic_load_n(&c[i], __ATOMIC_RELAXED));
	}
	return groups > 0 ? 0 : -ENOENT;
}

struct render {
	char *buf;
	size_t cap, len;
};

static void
put_line(void *ctx, const char *group, const char *name, uint64_t v)
{
	struct render *r = ctx;
	char metric[160];
	int n;

	if (r->len >= r->cap)
		return;
	mesh_client_metric_name(metric, sizeof(metric), group, name);
	n = snprintf(r->buf + r->len, r->cap - r->len, "# TYPE %s counter\n%s %llu\n", metric,
		     metric, (unsigned long long)v);
	r->len += n > 0 ? (size_t)n : 0;
}

size_t
meshd_metrics_render(struct meshd *d, char *buf, size_t cap)
{
	struct render r = { .buf = buf, .cap = cap };

	meshd_counters_visit(d, NULL, put_line, &r);
	if (r.len < cap)
		r.len += meshd_lat_metrics(d, buf + r.len, cap - r.len);
	return MESH_MIN(r.len, cap);
}
