/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for lib/node's client request path: whatever a local client can make
 * the merge core run once the control thread decoded its message. The input is a list of
 * requests: byte 0 picks the type (every mesh_node_req_type, and unknown ones), byte 1
 * flags (owned, snapshot, resume), byte 2 a client slot, then a key and a value (a length
 * byte each) and, for BATCH, up to 16 ops of the same shape. Keys often start with the
 * reserved prefix or a default namespace, so refusals and real changes both happen. Polls
 * between requests run events, watches and membership events. No assert, sanitizer
 * report or leak may follow; every request gets exactly one reply (CLOSED none).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mesh_rng rng;
static uint64_t replies, events;

static void
f_send(void *ctx, const struct mesh_node_frame *f, unsigned n)
{
	(void)ctx;
	(void)f;
	if (n == 0 || n > MESH_NODE_TX_BATCH)
		abort();
}

static void
f_reply(void *ctx, const struct mesh_node_reply *r)
{
	struct mesh_node_reply *c = mesh_node_reply_copy(r); /* walks every pointer */

	(void)ctx;
	if (r->id == 0)
		events++;
	else
		replies++;
	free(c);
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

struct in {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *
take(struct in *in, size_t n)
{
	const uint8_t *p = in->p;

	if (in->left < n)
		return NULL;
	in->p += n;
	in->left -= n;
	return p;
}

/* a length byte, then that many bytes; a leading 0xFE byte becomes a known prefix */
static uint32_t
bytes(struct in *in, uint8_t *buf, size_t cap)
{
	static const char *const prefixes[] = { MESH_NODE_RESERVED_PREFIX "meta/fz", "worker:",
						"rl:", "config:" };
	const uint8_t *l = take(in, 1), *p;
	uint32_t len = 0;

	if (l == NULL)
		return 0;
	p = take(in, *l & 63);
	if (p == NULL)
		return 0;
	if ((*l & 63) > 0 && p[0] == 0xfe) {
		const char *pre = prefixes[p[(*l & 63) - 1] & 3];

		len = (uint32_t)strlen(pre);
		memcpy(buf, pre, len);
		p++;
		memcpy(buf + len, p, MESH_MIN((size_t)(*l & 63) - 1, cap - len));
		return len + (uint32_t)MESH_MIN((size_t)(*l & 63) - 1, cap - len);
	}
	memcpy(buf, p, *l & 63);
	return *l & 63;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mesh_node_env_ops env = {
		.send = f_send, .reply = f_reply, .random = f_random, .wall_ns = f_wall,
	};
	struct in in = { data, size };
	struct mesh_node_cfg cfg;
	struct mesh_node *n;
	uint64_t now = 1000000000ull, id = 1;
	const uint8_t *h;

	mesh_rng_seed(&rng, 1);
	mesh_node_cfg_default(&cfg);
	memcpy(cfg.name, "fz", 3);
	cfg.gen = 7;
	cfg.addr = (struct mesh_node_addr){ .ip = 0x0a000001, .port = 7000 };
	n = mesh_node_new(&cfg, &env, NULL, now);
	if (n == NULL)
		abort();
	mesh_crdt_ns_add_defaults(mesh_node_store(n));
	while ((h = take(&in, 3)) != NULL) {
		uint8_t key[128], val[128], okey[16][128], oval[16][128];
		struct mesh_node_batch_op ops[16];
		struct mesh_node_req q = {
			.type = (enum mesh_node_req_type)(h[0] % (MESH_NODE_REQ_CLUSTER + 2)),
			.client = h[2] & 7, .client_gen = 1, .id = id++,
			.owned = h[1] & 1, .subscription = h[2] >> 3,
			.limit = h[2], .target = (h[1] & 8) ? "fz" : "",
		};
		uint64_t before = replies;

		q.watch.snapshot = h[1] & 2;
		q.watch.resume = h[1] & 4;
		q.watch.generation = (h[1] & 16) ? 7 : h[2];
		q.watch.seq = h[2];
		q.key = key;
		q.key_len = bytes(&in, key, sizeof(key));
		q.value = val;
		q.value_len = bytes(&in, val, sizeof(val));
		if (q.type == MESH_NODE_REQ_BATCH) {
			const uint8_t *cnt = take(&in, 1);

			q.n_ops = cnt ? *cnt % 17 : 0;
			for (uint32_t i = 0; i < q.n_ops; i++) {
				const uint8_t *k = take(&in, 1);

				ops[i] = (struct mesh_node_batch_op){
					.kind = (enum mesh_node_batch_kind)(k ? *k % 4 : 0),
					.owned = k && (*k & 8),
					.key = okey[i], .value = oval[i],
				};
				ops[i].key_len = bytes(&in, okey[i], sizeof(okey[i]));
				ops[i].value_len = bytes(&in, oval[i], sizeof(oval[i]));
			}
			q.ops = ops;
		}
		mesh_node_request(n, &q, 1, now);
		if (q.type != MESH_NODE_REQ_CLOSED && replies != before + 1)
			abort(); /* exactly one reply per request */
		now += 1000000;
		mesh_node_poll(n, now);
	}
	for (int i = 0; i < 4; i++) {
		now += 3000000;
		mesh_node_poll(n, now);
	}
	mesh_node_delete(n);
	return 0;
}
