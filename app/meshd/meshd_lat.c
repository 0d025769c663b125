/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Origin-to-apply latency, measured by meshd itself. A client write is stamped with the
 * origin node's wall clock (CLOCK_REALTIME) when the merge lcore accepts it; the stamp
 * travels with the op (CrdtOp.origin_ns), is kept with the winning version and forwarded
 * unchanged by relays and anti-entropy. Every replica that changes state because of the
 * op records now - origin into a log-linear histogram per update kind (lww put, lww
 * delete, epoch_max). Broadcast and targeted stream values are stamped when the merge lcore
 * sends them (the same loop pass as the client's publish) and recorded on delivery
 * (StreamEntry.origin_ns, on every fragment and relay). Only the merge lcore writes the histograms (relaxed stores);
 * /mesh/latency reads them from the telemetry thread without a lock.
 *
 * The figure is only as good as the clocks: exact between processes of one host (the
 * benchmark topology), NTP-accurate across hosts. A stamp from the future (skewed clock)
 * is counted in `skewed` instead of being recorded as zero.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "meshd.h"

static const char *const kind_names[MESHD_LAT_MAX] = {
	[MESHD_LAT_LWW] = "lww",
	[MESHD_LAT_DELETE] = "delete",
	[MESHD_LAT_EPOCH] = "epoch",
	[MESHD_LAT_STREAM] = "stream",
};

static struct meshd *node;

int
meshd_lat_init(struct meshd *d)
{
	d->lat = calloc(MESHD_LAT_MAX, sizeof(*d->lat));
	return d->lat == NULL ? -ENOMEM : 0;
}

void
meshd_lat_fini(struct meshd *d)
{
	free(d->lat);
	d->lat = NULL;
}

void
meshd_lat_record(struct meshd *d, enum meshd_lat_kind k, uint64_t origin_ns,
		 uint64_t now_real_ns)
{
	if (origin_ns == 0 || d->lat == NULL)
		return;
	if (origin_ns > now_real_ns) {
		mesh_counter_add(&d->lat_skewed, 1);
		return;
	}
	mesh_hist_add(&d->lat[k], now_real_ns - origin_ns);
}

void
meshd_lat_record_op(struct meshd *d, const struct mesh_crdt_op *op, uint64_t now_real_ns)
{
	enum mesh_crdt_ns_kind nk;
	enum meshd_lat_kind k;
	int ns;

	if (op->origin_ns == 0)
		return;
	if (op->tombstone) {
		k = MESHD_LAT_DELETE;
	} else {
		ns = mesh_crdt_ns_find(d->kv, op->key, op->key_len);
		if (ns < 0 || mesh_crdt_ns_info(d->kv, ns, &nk, NULL) != 0)
			return;
		k = nk == MESH_CRDT_NS_EPOCH_MAX ? MESHD_LAT_EPOCH : MESHD_LAT_LWW;
	}
	meshd_lat_record(d, k, op->origin_ns, now_real_ns);
}

static int
kind_parse(const char *s)
{
	for (int k = 0; k < MESHD_LAT_MAX; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return -1;
}

static void
add_summary(struct rte_tel_data *e, const struct mesh_hist *h)
{
	rte_tel_data_add_dict_u64(e, "count", h->count);
	rte_tel_data_add_dict_u64(e, "mean_ns", h->count ? h->sum / h->count : 0);
	rte_tel_data_add_dict_u64(e, "p50_ns", mesh_hist_quantile(h, 0.50));
	rte_tel_data_add_dict_u64(e, "p90_ns", mesh_hist_quantile(h, 0.90));
	rte_tel_data_add_dict_u64(e, "p99_ns", mesh_hist_quantile(h, 0.99));
	rte_tel_data_add_dict_u64(e, "p999_ns", mesh_hist_quantile(h, 0.999));
	rte_tel_data_add_dict_u64(e, "max_ns", h->max);
}

/* /mesh/latency,KIND: the summary plus the non-empty buckets (low_ns[i], count[i]) */
static int
reply_buckets(struct rte_tel_data *d, const struct mesh_hist *h)
{
	struct rte_tel_data *low = rte_tel_data_alloc(), *cnt = rte_tel_data_alloc();
	unsigned n = 0;

	if (low == NULL || cnt == NULL) {
		rte_tel_data_free(low);
		rte_tel_data_free(cnt);
		return -ENOMEM;
	}
	rte_tel_data_start_array(low, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(cnt, RTE_TEL_U64_VAL);
	for (uint32_t i = 0; i < MESH_HIST_BUCKETS; i++) {
		if (h->bucket[i] == 0)
			continue;
		/* 1 us .. 1 min spans 416 buckets; past the array limit, say so */
		if (++n > RTE_TEL_MAX_ARRAY_ENTRIES)
			break;
		rte_tel_data_add_array_u64(low, mesh_hist_bucket_low(i));
		rte_tel_data_add_array_u64(cnt, h->bucket[i]);
	}
	add_summary(d, h);
	rte_tel_data_add_dict_int(d, "truncated", n > RTE_TEL_MAX_ARRAY_ENTRIES);
	rte_tel_data_add_dict_container(d, "bucket_low_ns", low, 0);
	rte_tel_data_add_dict_container(d, "bucket_count", cnt, 0);
	return 0;
}

static int
cmd_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mesh_hist *snap; /* ~5 KB; each telemetry client has its own thread */
	int k, rc = 0;

	(void)cmd;
	snap = malloc(sizeof(*snap));
	if (snap == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	if (params != NULL && params[0] != '\0') {
		k = kind_parse(params);
		if (k < 0)
			rte_tel_data_add_dict_string(d, "error",
						     "unknown kind: use lww, delete, epoch or stream");
		else {
			mesh_hist_snapshot(&node->lat[k], snap);
			rc = reply_buckets(d, snap);
		}
		free(snap);
		return rc;
	}
	rte_tel_data_add_dict_string(d, "clock", "realtime");
	rte_tel_data_add_dict_u64(d, "skewed", mesh_counter_read(&node->lat_skewed));
	for (k = 0; k < MESHD_LAT_MAX && rc == 0; k++) {
		struct rte_tel_data *e = rte_tel_data_alloc();

		if (e == NULL) {
			rc = -ENOMEM;
			break;
		}
		mesh_hist_snapshot(&node->lat[k], snap);
		rte_tel_data_start_dict(e);
		add_summary(e, snap);
		rte_tel_data_add_dict_container(d, kind_names[k], e, 0);
	}
	free(snap);
	return rc;
}

size_t
meshd_lat_metrics(struct meshd *d, char *buf, size_t cap)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	struct mesh_hist snap;
	size_t len = 0;
	int n;

	if (d->lat == NULL || cap == 0)
		return 0;
	n = snprintf(buf, cap, "# TYPE meshd_replication_latency_seconds summary\n");
	len += n > 0 ? (size_t)n : 0;
	for (int k = 0; k < MESHD_LAT_MAX && len < cap; k++) {
		mesh_hist_snapshot(&d->lat[k], &snap);
		for (unsigned i = 0; i < MESH_ARRAY_SIZE(qs) && len < cap; i++) {
			n = snprintf(buf + len, cap - len,
				     "meshd_replication_latency_seconds{kind=\"%s\",quantile=\"%g\"} "
				     "%.9f\n", kind_names[k], qs[i],
				     (double)mesh_hist_quantile(&snap, qs[i]) / 1e9);
			len += n > 0 ? (size_t)n : 0;
		}
		if (len < cap) {
			n = snprintf(buf + len, cap - len,
				     "meshd_replication_latency_seconds_sum{kind=\"%s\"} %.9f\n"
				     "meshd_replication_latency_seconds_count{kind=\"%s\"} %" PRIu64
				     "\n", kind_names[k], (double)snap.sum / 1e9, kind_names[k],
				     snap.count);
			len += n > 0 ? (size_t)n : 0;
		}
	}
	return MESH_MIN(len, cap);
}

void
meshd_lat_telemetry(struct meshd *d)
{
	node = d;
	/* help text: at most RTE_TEL_MAX_STRING_LEN bytes or the command is refused */
	if (rte_telemetry_register_cmd("/mesh/latency", cmd_latency,
				       "Origin-to-apply latency (ns) per kind. "
				       "Param: lww, delete, epoch or stream for its buckets") != 0)
		MESH_RTE_LOG(WARNING, app, "telemetry: /mesh/latency not registered");
}
