/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A graceful stop, one step per pass of the loop that polls the node. First drain: keep
 * running until live peers acknowledged what this node sent (mesh_node_drained, bounded
 * by the drain time), so an acknowledged write is not lost with the node; then announce
 * a graceful leave and keep running until it had time to spread; then the loop may stop.
 */
#include "node_internal.h"

#define LOG_MOD "node"

bool
mesh_node_stop_step(struct mesh_node *n, struct mesh_node_stop *st, uint64_t drain_ns,
		    uint64_t leave_ns, uint64_t now_ns)
{
	if (st->drain_deadline_ns == 0) {
		st->drain_deadline_ns = now_ns + drain_ns + 1;
		mesh_log(MESH_LOG_NOTICE, LOG_MOD,
			 "draining: waiting up to %llu ms for peers' acks",
			 (unsigned long long)(drain_ns / MESH_NS_PER_MS));
	}
	if (st->leave_deadline_ns == 0) {
		if (!mesh_node_drained(n) && now_ns < st->drain_deadline_ns)
			return false;
		if (!mesh_node_drained(n))
			mesh_log(MESH_LOG_WARNING, LOG_MOD,
				 "drain: peers still have unacknowledged ops");
		mesh_node_leave(n, now_ns);
		if (leave_ns == 0)
			leave_ns = MESH_MIN(MESH_MAX(25 * n->cfg.swim.probe_interval_ns,
						     200 * MESH_NS_PER_MS),
					    1000 * MESH_NS_PER_MS);
		st->leave_deadline_ns = now_ns + leave_ns;
		mesh_log(MESH_LOG_NOTICE, LOG_MOD, "leaving the cluster");
		return false;
	}
	return now_ns >= st->leave_deadline_ns;
}
