/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for lib/node's input path: what a peer on the segment can make the
 * merge core parse. Input: byte 0 picks the frame type (HELLO, HELLO_REPLY, MSGS or an
 * unknown one) and byte 1 the sender (one of 4 ids, so several inputs talk about the same
 * peer channel); the rest is the frame payload. A few polls follow so that timers,
 * replication and acks run over whatever state the input created. No assert, sanitizer
 * report or leak may follow; output stays within the payload budget.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_node.h"
#include "mesh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mesh_rng rng;
static uint8_t sink;
static size_t max_payload;

static void
f_send(void *ctx, const struct mesh_node_frame *f, unsigned n)
{
	(void)ctx;
	if (n == 0 || n > MESH_NODE_TX_BATCH)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (f[i].len > max_payload)
			abort();
		if (f[i].len > 0)
			sink ^= f[i].payload[f[i].len - 1];
	}
}

static void
f_reply(void *ctx, const struct mesh_node_reply *r)
{
	(void)ctx;
	(void)r;
}

static uint64_t
f_random(void *ctx)
{
	(void)ctx;
	return mesh_rng_next(&rng);
}

static uint64_t
f_wall(void *ctx)
{
	(void)ctx;
	return 1700000000000000000ull;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[4] = { MESH_WIRE_TYPE_HELLO, MESH_WIRE_TYPE_HELLO_REPLY,
					  MESH_WIRE_TYPE_MSGS, 9 };
	static const struct mesh_node_env_ops env = {
		.send = f_send, .reply = f_reply, .random = f_random, .wall_ns = f_wall,
	};
	struct mesh_node_cfg cfg;
	struct mesh_node_frame f;
	struct mesh_node *n;
	uint64_t now = 1000000000ull;

	if (size < 2)
		return 0;
	mesh_rng_seed(&rng, 1);
	mesh_node_cfg_default(&cfg);
	memcpy(cfg.name, "fz", 3);
	cfg.gen = 7;
	cfg.addr = (struct mesh_node_addr){ .ip = 0x0a000001, .port = 7000 };
	max_payload = cfg.max_payload;
	n = mesh_node_new(&cfg, &env, NULL, now);
	if (n == NULL)
		abort();
	mesh_crdt_ns_add_defaults(mesh_node_store(n));
	f = (struct mesh_node_frame){
		.sender = 0x1000 + (data[1] & 3),
		.peer = { .ip = 0x0a000002 + (data[1] & 3), .port = 7000 },
		.type = types[data[0] & 3],
		.payload = data + 2,
		.len = (uint32_t)(size - 2),
	};
	mesh_node_input(n, &f, 1, now);
	for (int i = 0; i < 4; i++) {
		now += 3000000;
		mesh_node_poll(n, now);
	}
	mesh_node_delete(n);
	return 0;
}
