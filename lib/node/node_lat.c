/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Origin-to-apply latency, measured by the node itself. A client write is stamped with the
 * origin node's wall clock when the node accepts it; the stamp travels with the op
 * (CrdtOp.origin_ns), is kept with the winning version and forwarded unchanged. Every
 * replica that changes state because of the op records now - origin into a log-linear
 * histogram per update kind (lww put, lww delete, epoch_max); stream values are stamped
 * when drained into the channels and recorded on delivery. Only the node writes the
 * histograms (relaxed stores); readers on other threads take snapshots without a lock.
 * A stamp from the future (skewed clocks) is counted in `skewed`, not recorded.
 */
#include "node_internal.h"

static const char *const kind_names[MESH_NODE_LAT_MAX] = {
	[MESH_NODE_LAT_LWW] = "lww",
	[MESH_NODE_LAT_DELETE] = "delete",
	[MESH_NODE_LAT_EPOCH] = "epoch",
	[MESH_NODE_LAT_STREAM] = "stream",
};

void
node_lat_record(struct mesh_node *n, enum mesh_node_lat_kind k, uint64_t origin_ns)
{
	uint64_t now;

	if (origin_ns == 0)
		return;
	now = n->env->wall_ns(n->ctx);
	if (origin_ns > now) {
		mesh_counter_add(&n->lat_skewed, 1);
		return;
	}
	mesh_hist_add(&n->lat[k], now - origin_ns);
}

void
node_lat_record_op(struct mesh_node *n, const struct mesh_crdt_op *op)
{
	enum mesh_crdt_ns_kind nk;
	int ns;

	if (op->origin_ns == 0)
		return;
	if (op->tombstone) {
		node_lat_record(n, MESH_NODE_LAT_DELETE, op->origin_ns);
		return;
	}
	ns = mesh_crdt_ns_find(n->kv, op->key, op->key_len);
	if (ns < 0 || mesh_crdt_ns_info(n->kv, ns, &nk, NULL) != 0)
		return;
	node_lat_record(n, nk == MESH_CRDT_NS_EPOCH_MAX ? MESH_NODE_LAT_EPOCH : MESH_NODE_LAT_LWW,
			op->origin_ns);
}

const struct mesh_hist *
mesh_node_latency(const struct mesh_node *n, enum mesh_node_lat_kind k)
{
	return k < MESH_NODE_LAT_MAX ? &n->lat[k] : NULL;
}

const char *
mesh_node_lat_kind_name(enum mesh_node_lat_kind k)
{
	return k < MESH_NODE_LAT_MAX ? kind_names[k] : "?";
}

uint64_t
mesh_node_latency_skewed(const struct mesh_node *n)
{
	return mesh_counter_read(&n->lat_skewed);
}
