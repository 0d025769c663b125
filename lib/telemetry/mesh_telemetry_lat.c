/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /mesh/latency: the node's origin-to-apply histograms (lib/node node_lat.c), read from
 * the telemetry thread as relaxed snapshots. Without a parameter: a summary per kind;
 * with a kind: its non-empty buckets too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry_internal.h"

static int
kind_parse(const char *s)
{
	for (int k = 0; k < MESH_NODE_LAT_MAX; k++)
		if (strcmp(s, mesh_node_lat_kind_name(k)) == 0)
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

/* the summary plus the non-empty buckets (low_ns[i], count[i]) */
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
	struct mesh_node *n = tel_node;
	struct mesh_hist *snap; /* ~5 KB; each telemetry client has its own thread */
	int k, rc = 0;

	(void)cmd;
	if (n == NULL)
		return tel_error(d, "not running");
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
			mesh_hist_snapshot(mesh_node_latency(n, k), snap);
			rc = reply_buckets(d, snap);
		}
		free(snap);
		return rc;
	}
	rte_tel_data_add_dict_string(d, "clock", "realtime");
	rte_tel_data_add_dict_u64(d, "skewed", mesh_node_latency_skewed(n));
	for (k = 0; k < MESH_NODE_LAT_MAX && rc == 0; k++) {
		struct rte_tel_data *e = rte_tel_data_alloc();

		if (e == NULL) {
			rc = -ENOMEM;
			break;
		}
		mesh_hist_snapshot(mesh_node_latency(n, k), snap);
		rte_tel_data_start_dict(e);
		add_summary(e, snap);
		rte_tel_data_add_dict_container(d, mesh_node_lat_kind_name(k), e, 0);
	}
	free(snap);
	return rc;
}

int
tel_latency_init(void)
{
	/* help text: at most RTE_TEL_MAX_STRING_LEN bytes or the command is refused */
	return rte_telemetry_register_cmd("/mesh/latency", cmd_latency,
					  "Origin-to-apply latency (ns) per kind. "
					  "Param: lww, delete, epoch or stream for its buckets");
}
