/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a client asks about the node and the cluster rather than the data: HELLO (name,
 * life, limits; the control layer adds the version and feature list) and CLUSTER, the
 * partition hint. known counts this node and the members alive, suspect or dead (a member
 * that left said so and no longer counts); reachable counts this node and the members
 * alive or suspect (a suspect may still answer). should_serve holds while reachable
 * reaches the quorum: the configured one, or a majority of known. A node on the minority
 * side of a partition sees the others dead within the suspicion timeout and stops
 * serving; a rate limiter uses it to tighten (doc/client-api.md, "Cluster state").
 */
#include <string.h>

#include "node_internal.h"

void
node_cluster_state(const struct mesh_node *n, struct mesh_node_cluster *c)
{
	memset(c, 0, sizeof(*c));
	c->alive = (uint32_t)mesh_swim_member_count(n->swim, MESH_SWIM_ALIVE) + 1;
	c->suspect = (uint32_t)mesh_swim_member_count(n->swim, MESH_SWIM_SUSPECT);
	c->dead = (uint32_t)mesh_swim_member_count(n->swim, MESH_SWIM_DEAD);
	c->left = (uint32_t)mesh_swim_member_count(n->swim, MESH_SWIM_LEFT);
	c->known = c->alive + c->suspect + c->dead;
	c->reachable = c->alive + c->suspect;
	c->quorum = n->cfg.quorum != 0 ? n->cfg.quorum : c->known / 2 + 1;
	c->should_serve = c->reachable >= c->quorum;
}

void
node_cluster_hello(struct mesh_node *n, struct mesh_node_reply *r)
{
	r->type = MESH_NODE_REPLY_HELLO;
	r->node_name = (struct mesh_node_bytes){ .data = (const uint8_t *)n->cfg.name,
						 .len = (uint32_t)strlen(n->cfg.name) };
	r->generation = n->cfg.gen;
	r->max_batch = MESH_NODE_BATCH_MAX;
}

void
node_cluster_reply(const struct mesh_node *n, struct mesh_node_reply *r)
{
	r->type = MESH_NODE_REPLY_CLUSTER;
	node_cluster_state(n, &r->cluster);
}
