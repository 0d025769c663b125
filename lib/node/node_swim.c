/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lib/swim environment. SWIM blobs leave as one-record MSGS payloads through the
 * node's output batch; randomness comes from env->random; a member event first updates
 * the replication peers (node_repl.c), then reaches env->member (the daemon logs it).
 */
#include <errno.h>
#include <stdio.h>

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

	node_repl_member(n, ev);
	if (n->env->member != NULL)
		n->env->member(n->ctx, ev);
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
