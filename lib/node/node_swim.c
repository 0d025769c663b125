/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lib/swim environment. SWIM blobs leave as one-record MSGS payloads through the
 * node's output batch; randomness comes from env->random; a member event first updates
 * the replication peers (node_repl.c), then reaches env->member (the daemon logs it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node_internal.h"

static void
swim_send(void *ctx, const struct mesh_swim_pkt *pkts, unsigned count)
{
	struct mesh_node *n = ctx;

	for (unsigned i = 0; i < count; i++) {
		struct mesh_node_addr to = { .ip = pkts[i].to.ip, .port = pkts[i].to.port };

		node_tx_swim(n, &to, pkts[i].msg, pkts[i].len);
	}
}

static uint64_t
swim_random(void *ctx)
{
	struct mesh_node *n = ctx;

	return n->env->random(n->ctx);
}

static void
swim_event(void *ctx, const struct mesh_swim_event *ev)
{
	struct mesh_node *n = ctx;

	node_mev_swim(n, ev); /* client membership events: first, it reads the old peer */
	node_owner_member(n, ev);
	node_repl_member(n, ev);
	if (n->env->member != NULL)
		n->env->member(n->ctx, ev);
}

/*
 * Frame @f was accepted: if its sender is a member (a replication peer, so its current
 * life) at the member's address, that is liveness evidence for a probe of it in flight.
 */
void
node_swim_heard(struct mesh_node *n, const struct mesh_node_frame *f, uint64_t now_ns)
{
	struct node_peer *p = node_repl_peer(n, f->sender);
	struct mesh_swim_member_info mi;
	size_t len;

	if (p == NULL)
		return;
	len = strlen(p->name);
	if (mesh_swim_member_get(n->swim, p->name, len, &mi) == 0 &&
	    mesh_wire_node_id(p->name, mi.gen) == f->sender && mi.addr.ip == f->peer.ip &&
	    mi.addr.port == f->peer.port)
		mesh_swim_member_heard(n->swim, p->name, len, mi.gen, now_ns);
}

/*
 * One SWIM blob of frame @f: the blob's header must name the node the frame's sender id
 * stands for (authenticated in keyed mode), so that lib/swim's first-hand rule (a member's
 * new life or address only from the member itself) rests on the frame, not on the blob.
 * Blobs that do not decode go through: lib/swim counts them per cause.
 */
void
node_swim_input(struct mesh_node *n, const struct mesh_node_frame *f, const uint8_t *blob,
		size_t len, uint64_t now_ns)
{
	struct mesh_swim_addr from = { .ip = f->peer.ip, .port = f->peer.port };
	char name[MESH_SWIM_NAME_MAX + 1];
	uint64_t gen;

	if (mesh_swim_msg_sender(blob, len, name, &gen) == 0) {
		if (mesh_wire_node_id(name, gen) != f->sender) {
			NODE_CTR(n, node_rx_drop_swim_sender);
			return;
		}
		node_repl_heard(n, name, gen, f); /* before: the joining message does not count */
	}
	mesh_swim_input(n->swim, now_ns, &from, blob, len);
}

int
node_swim_init(struct mesh_node *n)
{
	static const struct mesh_swim_env_ops ops = {
		.send = swim_send, .random = swim_random, .event = swim_event,
	};
	struct mesh_swim_cfg cfg = n->cfg.swim;

	snprintf(cfg.name, sizeof(cfg.name), "%s", n->cfg.name);
	cfg.gen = n->cfg.gen;
	cfg.addr.ip = n->cfg.addr.ip;
	cfg.addr.port = n->cfg.addr.port;
	if (cfg.max_msg == 0 || cfg.max_msg + MESH_WIRE_REC_HDR_LEN > n->cfg.max_payload)
		cfg.max_msg = (uint32_t)(n->cfg.max_payload - MESH_WIRE_REC_HDR_LEN);
	n->swim = mesh_swim_new(&cfg, &ops, n);
	return n->swim != NULL ? 0 : -errno;
}
