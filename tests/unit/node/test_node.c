/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/node unit tests: two or three nodes wired back to back through an in-memory queue
 * (no simulator: frames are delivered in order when the test pumps them). Client requests
 * go in as host structs and replies are checked; a put on one node reaches the others;
 * HELLO is answered; mesh_node_reply_copy is self-contained; the env sees batches; a
 * member that flaps (dead, then alive in the same life) resumes instead of receiving the
 * whole store again, while one that restarts (new generation) does receive it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_node.h"
#include "mesh_wire.h"

#define NODES 3
#define QCAP 4096
#define PORT 7000

struct pkt {
	uint32_t to; /* node index */
	struct mesh_node_frame f;
	uint8_t buf[1500];
};

struct world;

struct tnode {
	struct world *w;
	unsigned idx;
	struct mesh_node *n;
	struct mesh_node_reply last; /* last non-event reply (shallow) */
	struct mesh_node_reply *last_copy;
	unsigned replies, events, send_calls;
	uint64_t rng;
};

struct world {
	uint64_t now;
	struct tnode nodes[NODES];
	struct pkt *q;
	unsigned qn;
	uint64_t dropped;
	bool cut; /* partition: every frame between nodes is lost */
	unsigned mute_swim; /* node index + 1 whose SWIM frames are lost (0: none) */
};

/* a MSGS frame carrying a SWIM blob (lib/node sends each in its own frame) */
static bool
swim_frame(const struct mesh_node_frame *f)
{
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	uint8_t kind;

	if (f->type != MESH_WIRE_TYPE_MSGS)
		return false;
	mesh_wire_msgr_init(&r, f->payload, f->len);
	return mesh_wire_msgr_next(&r, &kind, &body) == 1 && kind == MESH_WIRE_KIND_SWIM;
}

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	struct tnode *t = ctx;
	struct world *w = t->w;

	assert_true(n > 0 && n <= MESH_NODE_TX_BATCH);
	t->send_calls++;
	for (unsigned i = 0; i < n; i++) {
		uint32_t to = frames[i].peer.ip - 1;
		struct pkt *p;

		if (to >= NODES || w->qn == QCAP || w->cut ||
		    (w->mute_swim == t->idx + 1 && swim_frame(&frames[i]))) {
			w->dropped++;
			continue;
		}
		p = &w->q[w->qn++];
		p->to = to;
		p->f = frames[i];
		p->f.sender = mesh_node_id(t->n);
		p->f.peer = (struct mesh_node_addr){ .ip = t->idx + 1, .port = PORT };
		assert_true(frames[i].len <= sizeof(p->buf));
		memcpy(p->buf, frames[i].payload, frames[i].len);
		p->f.payload = p->buf;
	}
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	struct tnode *t = ctx;

	if (r->type == MESH_NODE_REPLY_EVENT) {
		t->events++;
		return;
	}
	t->replies++;
	t->last = *r;
	free(t->last_copy);
	t->last_copy = mesh_node_reply_copy(r);
}

static uint64_t
env_random(void *ctx)
{
	struct tnode *t = ctx;

	t->rng = t->rng * 6364136223846793005ull + 1442695040888963407ull;
	return t->rng >> 11 ^ t->rng;
}

static uint64_t
env_wall(void *ctx)
{
	struct tnode *t = ctx;

	return 1700000000ull * 1000000000ull + t->w->now;
}

static const struct mesh_node_env_ops env = {
	.send = env_send, .reply = env_reply, .random = env_random, .wall_ns = env_wall,
};

static bool start_with_metadata; /* node_start gives node i the metadata "zone-i" */

/* Start node @i (boot generation @gen) and let it join. */
static void
node_start(struct world *w, unsigned i, uint64_t gen, bool hello)
{
	struct mesh_node_cfg cfg;
	struct tnode *t = &w->nodes[i];

	mesh_node_cfg_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "n%u", i);
	if (start_with_metadata)
		cfg.metadata_len = (uint32_t)snprintf((char *)cfg.metadata,
						      sizeof(cfg.metadata), "zone-%u", i);
	cfg.gen = gen;
	cfg.addr = (struct mesh_node_addr){ .ip = i + 1, .port = PORT };
	if (i > 0) {
		cfg.n_seeds = 1;
		cfg.seeds[0] = (struct mesh_node_addr){ .ip = 1, .port = PORT };
	}
	if (hello && i == 0) {
		cfg.n_hello = 1;
		cfg.hello[0] = (struct mesh_node_addr){ .ip = 2, .port = PORT };
	}
	t->w = w;
	t->idx = i;
	t->rng = 42 + i + gen;
	t->n = mesh_node_new(&cfg, &env, t, w->now);
	assert_non_null(t->n);
	assert_int_equal(mesh_crdt_ns_add_defaults(mesh_node_store(t->n)), 0);
	assert_int_equal(mesh_node_join(t->n, w->now), 0);
}

static struct world *
world_new(unsigned n, bool hello)
{
	struct world *w = calloc(1, sizeof(*w));

	w->q = calloc(QCAP, sizeof(*w->q));
	w->now = 1000000;
	for (unsigned i = 0; i < n; i++)
		node_start(w, i, 100 + i, hello);
	return w;
}

static void
world_delete(struct world *w)
{
	for (unsigned i = 0; i < NODES; i++) {
		mesh_node_delete(w->nodes[i].n);
		free(w->nodes[i].last_copy);
	}
	free(w->q);
	free(w);
}

/* Deliver queued frames and poll every node, for @ns of virtual time in 100 us steps. */
static void
run(struct world *w, uint64_t ns)
{
	uint64_t end = w->now + ns;
	struct pkt *batch = calloc(QCAP, sizeof(*batch));

	while (w->now < end) {
		unsigned n = w->qn;

		memcpy(batch, w->q, n * sizeof(*batch));
		w->qn = 0;
		for (unsigned i = 0; i < n; i++) {
			struct tnode *t = &w->nodes[batch[i].to];

			batch[i].f.payload = batch[i].buf;
			if (t->n != NULL)
				mesh_node_input(t->n, &batch[i].f, 1, w->now);
		}
		for (unsigned i = 0; i < NODES; i++)
			if (w->nodes[i].n != NULL)
				mesh_node_poll(w->nodes[i].n, w->now);
		w->now += 100 * 1000;
	}
	free(batch);
}

static void
request(struct tnode *t, enum mesh_node_req_type type, const char *key, const char *value)
{
	struct mesh_node_req q = {
		.type = type, .client = 3, .client_gen = 7, .id = 99,
		.key = (const uint8_t *)key, .key_len = key ? (uint32_t)strlen(key) : 0,
		.value = (const uint8_t *)value, .value_len = value ? (uint32_t)strlen(value) : 0,
	};

	mesh_node_request(t->n, &q, 1, t->w->now);
}

static void
test_cfg_refused(void **state)
{
	struct mesh_node_cfg cfg;
	struct tnode t = { 0 };

	(void)state;
	mesh_node_cfg_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "x");
	errno = 0;
	assert_null(mesh_node_new(&cfg, &env, &t, 0)); /* gen 0 */
	assert_int_equal(errno, EINVAL);
	cfg.gen = 1;
	cfg.max_payload = 10;
	assert_null(mesh_node_new(&cfg, &env, &t, 0));
	assert_int_equal(errno, EINVAL);
}

/* a profile by name: SWIM timing, and lan's slower channel timers */
static void
test_cfg_profile(void **state)
{
	struct mesh_node_cfg cfg, dflt;
	struct mesh_stream_config stream;

	(void)state;
	mesh_node_cfg_default(&dflt);
	assert_int_equal(mesh_node_cfg_profile(&cfg, "fast"), 0);
	assert_memory_equal(&cfg, &dflt, sizeof(cfg));
	assert_int_equal(mesh_node_cfg_profile(&cfg, "tight"), 0);
	assert_int_equal(cfg.swim.probe_interval_ns, 5 * MESH_NS_PER_MS);
	assert_int_equal(cfg.stream.rto_initial_ns, dflt.stream.rto_initial_ns);
	assert_int_equal(mesh_node_cfg_profile(&cfg, "lan"), 0);
	assert_int_equal(cfg.swim.probe_interval_ns, MESH_NS_PER_SEC);
	mesh_stream_config_default(&stream);
	assert_int_equal(cfg.stream.rto_initial_ns, stream.rto_initial_ns);
	assert_int_equal(mesh_node_cfg_profile(&cfg, "dedicated"), -EINVAL);
	assert_memory_equal(&cfg, &dflt, sizeof(cfg)); /* the defaults */
}

static void
test_put_replicates(void **state)
{
	struct world *w = world_new(NODES, false);
	struct tnode *a = &w->nodes[0], *c = &w->nodes[2];

	(void)state;
	run(w, 500 * 1000 * 1000ull); /* join */
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(mesh_node_peer_count(w->nodes[i].n), NODES - 1);
	request(a, MESH_NODE_REQ_PUT, "worker:w1", "hello");
	assert_int_equal(a->last.status, 0);
	assert_int_equal(a->last.client, 3);
	assert_int_equal(a->last.client_gen, 7);
	assert_int_equal(a->last.id, 99);
	run(w, 50 * 1000 * 1000ull);
	request(c, MESH_NODE_REQ_GET, "worker:w1", NULL);
	assert_int_equal(c->last.type, MESH_NODE_REPLY_GET);
	assert_true(c->last.found);
	assert_int_equal(c->last_copy->value.len, 5);
	assert_memory_equal(c->last_copy->value.data, "hello", 5);
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(c->n));
	/* a refusal carries a reason */
	request(a, MESH_NODE_REQ_PUT, "nowhere:k", "v");
	assert_true(a->last.status < 0);
	assert_non_null(a->last.error);
	assert_true(mesh_node_counter(a->n, MESH_NODE_CTR_node_request_errors) >= 1);
	/* the latency of the replicated put was recorded on the receiver */
	assert_true(mesh_node_latency(c->n, MESH_NODE_LAT_LWW)->count >= 1);
	assert_true(mesh_node_drained(a->n));
	world_delete(w);
}

/* @t's peer info for the peer named @name */
static struct mesh_node_peer_info
peer_named(struct tnode *t, const char *name)
{
	struct mesh_node_peer_info p;

	for (uint32_t i = 0; i < mesh_node_peer_count(t->n); i++)
		if (mesh_node_peer_at(t->n, i, &p) == 0 && strcmp(p.name, name) == 0)
			return p;
	fail_msg("no peer %s", name);
	return p;
}

/*
 * A namespace config that differs between nodes: the node with the smaller max_value
 * refuses the op; the failed ack carries its reason (namespace config first, intact),
 * both sides count it, and the sender's anti-entropy does not push that version to it
 * again although the buckets keep differing.
 */
static void
test_refusal_reported_once(void **state)
{
	struct world *w = world_new(NODES, false);
	struct tnode *a = &w->nodes[0], *c = &w->nodes[2];
	struct mesh_crdt_ns_config big = { .prefix = "small:", .kind = MESH_CRDT_NS_LWW };
	struct mesh_crdt_ns_config small = big;
	struct mesh_node_peer_info pa, pc;
	uint64_t refused;

	(void)state;
	small.max_value = 4;
	run(w, 500 * 1000 * 1000ull); /* join */
	assert_true(mesh_crdt_ns_add(mesh_node_store(a->n), &big) >= 0);
	assert_true(mesh_crdt_ns_add(mesh_node_store(w->nodes[1].n), &big) >= 0);
	assert_true(mesh_crdt_ns_add(mesh_node_store(c->n), &small) >= 0);
	request(a, MESH_NODE_REQ_PUT, "small:k", "too long");
	assert_int_equal(a->last.status, 0);
	run(w, 3000 * 1000 * 1000ull);
	pc = peer_named(a, "n2");
	assert_true(pc.channel.refused >= 1);
	/* the config leads, intact (the first byte was once lost to a cleared buffer) */
	assert_memory_equal(pc.channel.refused_reason, "[ns small: lww max_value=4 ", 27);
	assert_non_null(strstr(pc.channel.refused_reason, "max_value 4"));
	pa = peer_named(c, "n0");
	assert_true(pa.refused_ops >= 1);
	assert_string_equal(pa.refused_ops_reason, pc.channel.refused_reason);
	/* rounds keep finding the bucket different; the refused version is not pushed */
	refused = pc.channel.refused;
	run(w, 5000 * 1000 * 1000ull);
	assert_int_equal(peer_named(a, "n2").channel.refused, refused);
	assert_true(mesh_node_counter(a->n, MESH_NODE_CTR_node_ae_skip_refused) >= 1);
	assert_true(peer_named(c, "n0").refused_ops + peer_named(c, "n1").refused_ops <= 4);
	world_delete(w);
}

static void
test_subscribe_members_keys(void **state)
{
	struct world *w = world_new(NODES, false);
	struct tnode *a = &w->nodes[0], *b = &w->nodes[1];
	const struct mesh_node_reply *r;

	(void)state;
	run(w, 500 * 1000 * 1000ull);
	request(b, MESH_NODE_REQ_SUBSCRIBE, "worker:", NULL);
	assert_int_equal(b->last.type, MESH_NODE_REPLY_SUBSCRIBE);
	assert_true(b->last.subscription > 0);
	request(a, MESH_NODE_REQ_PUT, "worker:b", "2");
	request(a, MESH_NODE_REQ_PUT, "worker:a", "1");
	run(w, 50 * 1000 * 1000ull);
	assert_int_equal(b->events, 2);
	request(b, MESH_NODE_REQ_KEYS, "worker:", NULL);
	r = b->last_copy;
	assert_int_equal(r->type, MESH_NODE_REPLY_KEYS);
	assert_int_equal(r->n_keys, 2);
	assert_memory_equal(r->keys[0].data, "worker:a", 8); /* sorted */
	assert_memory_equal(r->keys[1].data, "worker:b", 8);
	request(b, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	r = b->last_copy;
	assert_int_equal(r->type, MESH_NODE_REPLY_MEMBERS);
	assert_int_equal(r->n_members, NODES);
	assert_int_equal(r->members[0].name.len, 2);
	assert_memory_equal(r->members[0].name.data, "n1", 2); /* self first */
	/* the client goes away: no reply, no more events */
	request(b, MESH_NODE_REQ_CLOSED, NULL, NULL);
	request(a, MESH_NODE_REQ_PUT, "worker:c", "3");
	run(w, 50 * 1000 * 1000ull);
	assert_int_equal(b->events, 2);
	world_delete(w);
}

/* members[] of @t's last reply: the metadata of member @name, or NULL */
static const struct mesh_node_bytes *
member_meta(const struct tnode *t, const char *name)
{
	const struct mesh_node_reply *r = t->last_copy;

	for (uint32_t i = 0; r != NULL && i < r->n_members; i++)
		if (r->members[i].name.len == strlen(name) &&
		    memcmp(r->members[i].name.data, name, r->members[i].name.len) == 0)
			return &r->members[i].metadata;
	return NULL;
}

static bool
meta_is(const struct mesh_node_bytes *b, const char *s)
{
	return b != NULL && b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/*
 * A BATCH reply fits one client message: GETs whose values would not fit answer
 * -EMSGSIZE each (counted); the GETs before them and every write are served.
 */
static void
test_batch_reply_bounded(void **state)
{
	static uint8_t big[100 * 1000];
	struct mesh_node_batch_op ops[4];
	struct mesh_node_req q = { .type = MESH_NODE_REQ_BATCH, .client = 3, .client_gen = 7,
				   .id = 9, .ops = ops, .n_ops = 3 };
	const struct mesh_node_reply *r;
	struct world *w = world_new(NODES, false);
	struct tnode *a = &w->nodes[0];
	char key[3][16];

	(void)state;
	run(w, 500 * 1000 * 1000ull);
	memset(big, 'v', sizeof(big));
	for (int i = 0; i < 3; i++) {
		snprintf(key[i], sizeof(key[i]), "worker:%d", i);
		ops[i] = (struct mesh_node_batch_op){ .kind = MESH_NODE_BATCH_PUT,
						      .key = (const uint8_t *)key[i], .key_len = 8,
						      .value = big, .value_len = sizeof(big) };
	}
	mesh_node_request(a->n, &q, 1, w->now);
	r = a->last_copy;
	for (int i = 0; i < 3; i++)
		assert_int_equal(r->results[i].status, 0);

	for (int i = 0; i < 3; i++)
		ops[i] = (struct mesh_node_batch_op){ .kind = MESH_NODE_BATCH_GET,
						      .key = (const uint8_t *)key[i], .key_len = 8 };
	ops[3] = (struct mesh_node_batch_op){ .kind = MESH_NODE_BATCH_DEL,
					      .key = (const uint8_t *)key[0], .key_len = 8 };
	q.n_ops = 4;
	mesh_node_request(a->n, &q, 1, w->now);
	r = a->last_copy;
	assert_int_equal(r->n_results, 4);
	assert_int_equal(r->results[0].status, 0);
	assert_int_equal(r->results[0].value.len, sizeof(big));
	assert_memory_equal(r->results[0].value.data, big, sizeof(big)); /* read before the DEL */
	assert_int_equal(r->results[1].status, 0);
	assert_int_equal(r->results[2].status, -EMSGSIZE);
	assert_false(r->results[2].found);
	assert_int_equal(r->results[3].status, 0);
	assert_int_equal(mesh_node_counter(a->n, MESH_NODE_CTR_node_batch_get_too_large), 1);

	/* the copy area is sized from the batch: a value it puts, read back three times,
	 * is copied three times */
	ops[0] = (struct mesh_node_batch_op){ .kind = MESH_NODE_BATCH_PUT,
					      .key = (const uint8_t *)"worker:b", .key_len = 8,
					      .value = (const uint8_t *)"0123456789",
					      .value_len = 10 };
	for (int i = 1; i < 4; i++)
		ops[i] = (struct mesh_node_batch_op){ .kind = MESH_NODE_BATCH_GET,
						      .key = (const uint8_t *)"worker:b",
						      .key_len = 8 };
	mesh_node_request(a->n, &q, 1, w->now);
	r = a->last_copy;
	for (int i = 1; i < 4; i++) {
		assert_int_equal(r->results[i].status, 0);
		assert_true(r->results[i].found);
		assert_int_equal(r->results[i].value.len, 10);
		assert_memory_equal(r->results[i].value.data, "0123456789", 10);
	}
	assert_int_equal(mesh_node_counter(a->n, MESH_NODE_CTR_node_batch_get_too_large), 1);
	world_delete(w);
}

/*
 * Client protocol version 2 on the merge core: a batch (one result per op, a refused op
 * refuses only itself), hello, metadata from the config and set at run time (seen on
 * another node, gone with its owner's life), the reserved key space, and the cluster
 * state turning should_serve off on the minority side.
 */
static void
test_v2_requests(void **state)
{
	static const uint8_t reserved[] = "\xffmeshd/meta/n0";
	struct world *w;
	struct tnode *a, *b;
	const struct mesh_node_reply *r;
	struct mesh_node_batch_op ops[5] = {
		{ .kind = MESH_NODE_BATCH_PUT, .owned = true, .key = (const uint8_t *)"worker:b1",
		  .key_len = 9, .value = (const uint8_t *)"v1", .value_len = 2 },
		{ .kind = MESH_NODE_BATCH_PUT, .key = (const uint8_t *)"nowhere:k", .key_len = 9,
		  .value = (const uint8_t *)"v", .value_len = 1 },
		{ .kind = MESH_NODE_BATCH_GET, .key = (const uint8_t *)"worker:b1", .key_len = 9 },
		{ .kind = MESH_NODE_BATCH_DEL, .key = (const uint8_t *)"worker:none", .key_len = 11 },
		{ .kind = MESH_NODE_BATCH_PUT, .key = reserved, .key_len = sizeof(reserved) - 1,
		  .value = (const uint8_t *)"x", .value_len = 1 },
	};
	struct mesh_node_req q = { .type = MESH_NODE_REQ_BATCH, .client = 3, .client_gen = 7,
				   .id = 5, .ops = ops, .n_ops = 5 };

	(void)state;
	start_with_metadata = true;
	w = world_new(NODES, false);
	start_with_metadata = false;
	a = &w->nodes[0];
	b = &w->nodes[1];
	run(w, 500 * 1000 * 1000ull);

	mesh_node_request(a->n, &q, 1, w->now);
	r = a->last_copy;
	assert_int_equal(r->type, MESH_NODE_REPLY_BATCH);
	assert_int_equal(r->n_results, 5);
	assert_int_equal(r->results[0].status, 0);
	assert_int_equal(r->results[1].status, -ENXIO);
	assert_int_equal(r->results[2].status, 0);
	assert_true(r->results[2].found);
	assert_int_equal(r->results[2].value.len, 2);
	assert_memory_equal(r->results[2].value.data, "v1", 2);
	assert_int_equal(r->results[3].status, -ENOENT);
	assert_int_equal(r->results[4].status, -EPERM);
	assert_int_equal(mesh_node_counter(a->n, MESH_NODE_CTR_node_batch_ops), 5);
	q.n_ops = MESH_NODE_BATCH_MAX + 1;
	mesh_node_request(a->n, &q, 1, w->now);
	assert_int_equal(a->last.status, -ENOSPC);

	request(a, MESH_NODE_REQ_HELLO, NULL, NULL);
	r = a->last_copy;
	assert_int_equal(r->type, MESH_NODE_REPLY_HELLO);
	assert_int_equal(r->node_name.len, 2);
	assert_memory_equal(r->node_name.data, "n0", 2);
	assert_int_equal(r->generation, 100);
	assert_int_equal(r->max_batch, MESH_NODE_BATCH_MAX);

	/* the reserved space: no write, no read, not listed */
	request(a, MESH_NODE_REQ_PUT, (const char *)reserved, "x");
	assert_int_equal(a->last.status, -EPERM);
	request(a, MESH_NODE_REQ_GET, (const char *)reserved, NULL);
	assert_int_equal(a->last.status, -EPERM);
	request(a, MESH_NODE_REQ_KEYS, "", NULL);
	for (uint32_t i = 0; i < a->last_copy->n_keys; i++)
		assert_true(a->last_copy->keys[i].data[0] != 0xff);

	/* metadata: the config's, seen on another node; then replaced at run time */
	request(b, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_true(meta_is(member_meta(b, "n0"), "zone-0"));
	assert_true(meta_is(member_meta(b, "n2"), "zone-2"));
	request(w->nodes[2].n ? &w->nodes[2] : b, MESH_NODE_REQ_SET_METADATA, NULL, "gpu=h100");
	assert_int_equal(w->nodes[2].last.status, 0);
	run(w, 50 * 1000 * 1000ull);
	request(a, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_true(meta_is(member_meta(a, "n2"), "gpu=h100"));
	{
		char big[MESH_NODE_META_MAX + 2];

		memset(big, 'm', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		request(a, MESH_NODE_REQ_SET_METADATA, NULL, big);
		assert_int_equal(a->last.status, -EMSGSIZE);
	}

	/* cluster state: 3 of 3, then n0 alone after the others crash */
	request(a, MESH_NODE_REQ_CLUSTER, NULL, NULL);
	r = a->last_copy;
	assert_int_equal(r->type, MESH_NODE_REPLY_CLUSTER);
	assert_int_equal(r->cluster.known, 3);
	assert_int_equal(r->cluster.reachable, 3);
	assert_int_equal(r->cluster.quorum, 2);
	assert_true(r->cluster.should_serve);
	for (unsigned i = 1; i < NODES; i++) {
		mesh_node_delete(w->nodes[i].n);
		w->nodes[i].n = NULL;
	}
	run(w, 3000 * 1000 * 1000ull);
	request(a, MESH_NODE_REQ_CLUSTER, NULL, NULL);
	r = a->last_copy;
	assert_int_equal(r->cluster.dead, 2);
	assert_int_equal(r->cluster.reachable, 1);
	assert_false(r->cluster.should_serve);
	/* their metadata died with them (owner-bound) */
	request(a, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_int_equal(member_meta(a, "n2")->len, 0);
	assert_true(meta_is(member_meta(a, "n0"), "zone-0"));
	world_delete(w);
}

static void
test_hello(void **state)
{
	struct world *w = world_new(2, true);
	struct mesh_node_hello_stats st;

	(void)state;
	run(w, 1500 * 1000 * 1000ull);
	mesh_node_hello_stats(w->nodes[0].n, &st);
	assert_int_equal(st.peers, 1);
	assert_int_equal(st.answering, 1);
	assert_true(mesh_node_counter(w->nodes[1].n, MESH_NODE_CTR_node_rx_hello) >= 1);
	world_delete(w);
}

/* No reflection: a HELLO is answered with exactly its own length, a short one not at all. */
static void
test_hello_no_amplification(void **state)
{
	struct world *w = world_new(2, false);
	struct mesh_node *n = w->nodes[0].n;
	uint8_t payload[80];
	struct mesh_node_frame f = { .sender = 5, .peer = { .ip = 2, .port = PORT },
				     .type = MESH_WIRE_TYPE_HELLO, .payload = payload, .len = 8 };
	unsigned qn;

	(void)state;
	memset(payload, 0x5a, sizeof(payload));
	qn = w->qn;
	mesh_node_input(n, &f, 1, w->now); /* 8 B: the reply would be 1 + 2 + 8 */
	assert_int_equal(w->qn, qn);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_hello_short), 1);
	f.len = sizeof(payload);
	mesh_node_input(n, &f, 1, w->now);
	assert_int_equal(w->qn, qn + 1);
	assert_int_equal(w->q[qn].f.type, MESH_WIRE_TYPE_HELLO_REPLY);
	assert_int_equal(w->q[qn].f.len, sizeof(payload));
	assert_memory_equal(w->q[qn].buf + 1 + w->q[qn].buf[0], payload, 8);
	world_delete(w);
}

/* A SWIM blob whose header names another node than the frame's sender id is dropped. */
static void
test_swim_sender_binding(void **state)
{
	struct world *w = world_new(1, false);
	struct mesh_node *n = w->nodes[0].n;
	uint8_t blob[64], payload[128];
	struct mesh_wire_msgw mw;
	struct mesh_node_frame f = { .peer = { .ip = 2, .port = PORT },
				     .type = MESH_WIRE_TYPE_MSGS, .payload = payload };
	/* a GOSSIP blob (version 1, type 5, no flags) from "mallory" gen 7, no records */
	static const uint8_t hdr[] = { 1, 5, 0, 7, 'm', 'a', 'l', 'l', 'o', 'r', 'y',
				       0, 0, 0, 0, 0, 0, 0, 7, 0, 0 };

	(void)state;
	memcpy(blob, hdr, sizeof(hdr));
	mesh_wire_msgw_init(&mw, payload, sizeof(payload));
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_SWIM, blob, sizeof(hdr)), 0);
	f.len = (uint32_t)mw.len;
	f.sender = 5;
	mesh_node_input(n, &f, 1, w->now);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_drop_swim_sender), 1);
	assert_int_equal(mesh_swim_counter(mesh_node_swim(n), MESH_SWIM_CTR_swim_rx_msgs), 0);
	f.sender = mesh_wire_node_id("mallory", 7);
	mesh_node_input(n, &f, 1, w->now);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_drop_swim_sender), 1);
	assert_int_equal(mesh_swim_counter(mesh_node_swim(n), MESH_SWIM_CTR_swim_rx_msgs), 1);
	world_delete(w);
}

static void
test_junk_input(void **state)
{
	struct world *w = world_new(1, false);
	struct mesh_node *n = w->nodes[0].n;
	uint8_t junk[64];
	struct mesh_node_frame f = { .sender = 5, .type = MESH_WIRE_TYPE_MSGS,
				     .payload = junk, .len = sizeof(junk) };

	(void)state;
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 1);
	mesh_node_input(n, &f, 1, w->now);
	f.type = 77;
	mesh_node_input(n, &f, 1, w->now);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_frames), 2);
	/* sender 5 is no member: whatever records the junk held never reached the channels */
	assert_int_equal(mesh_stream_counters(mesh_node_stream(n))[MESH_STREAM_CTR_rx_records], 0);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_unknown_type), 1);
	world_delete(w);
}

/*
 * Well-formed channel records from a sender that is not a member (a value fragment of a
 * large value, a nack for 256 fragments, a CRDT batch, a heartbeat) are dropped by the
 * node, each counted, before lib/stream sees them: no per-sender state, nothing sent.
 */
static void
test_non_member_channel_records(void **state)
{
	struct world *w = world_new(1, false);
	struct mesh_node *n = w->nodes[0].n;
	static uint32_t missing[256];
	uint8_t body[1400], payload[1472], data[200] = { 0 };
	struct mesh_wire_stream_entry e = { .key = { (const uint8_t *)"tree:page:x", 11 },
					    .data = { data, sizeof(data) },
					    .generation = 1, .chunk_index = 0, .total_chunks = 900 };
	struct mesh_wire_stream_nack nk = { .key = { (const uint8_t *)"tree:page:x", 11 },
					    .generation = 1, .n_missing = 256, .missing = missing };
	struct mesh_wire_heartbeat hb = { .epoch = 1, .next_seq = 9, .sent_ns = 1 };
	struct mesh_wire_msgw mw;
	struct mesh_node_frame f = { .sender = 5, .peer = { .ip = 9, .port = PORT },
				     .type = MESH_WIRE_TYPE_MSGS, .payload = payload };
	size_t len = 0;
	int k;

	(void)state;
	for (uint32_t i = 0; i < 256; i++)
		missing[i] = i;
	mesh_wire_msgw_init(&mw, payload, sizeof(payload));
	assert_int_equal(mesh_wire_stream_batch_put(body, sizeof(body), &len, &e), 0);
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_STREAM_BATCH, body, len), 0);
	k = mesh_wire_stream_nack_encode(body, sizeof(body), &nk);
	assert_true(k > 0);
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_STREAM_NACK, body, (size_t)k), 0);
	len = 0;
	assert_int_equal(mesh_wire_crdt_batch_put_hdr(body, sizeof(body), &len, 1, 1), 0);
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_CRDT_BATCH, body, len), 0);
	k = mesh_wire_heartbeat_encode(body, sizeof(body), &hb);
	assert_true(k > 0);
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_HEARTBEAT, body, (size_t)k), 0);
	f.len = (uint32_t)mw.len;
	mesh_node_input(n, &f, 1, w->now);
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_rx_drop_not_member), 4);
	assert_int_equal(mesh_stream_counters(mesh_node_stream(n))[MESH_STREAM_CTR_rx_records], 0);
	run(w, 200 * 1000 * 1000ull); /* nack timers, ticks: lib/stream has nothing for 5 */
	assert_int_equal(mesh_node_counter(n, MESH_NODE_CTR_node_tx_drop_no_peer), 0);
	world_delete(w);
}

/* A digest record from node @from to node @to, injected as if it came over the wire. */
static void
inject_digest(struct world *w, unsigned from, unsigned to, const struct mesh_wire_digest *d)
{
	uint8_t body[1400], payload[1472];
	struct mesh_wire_msgw mw;
	int len = mesh_wire_digest_encode(body, sizeof(body), d);
	struct mesh_node_frame f = {
		.sender = mesh_node_id(w->nodes[from].n),
		.peer = { .ip = from + 1, .port = PORT },
		.type = MESH_WIRE_TYPE_MSGS,
	};

	assert_true(len > 0);
	mesh_wire_msgw_init(&mw, payload, sizeof(payload));
	assert_int_equal(mesh_wire_msgw_add(&mw, MESH_WIRE_KIND_DIGEST, body, (size_t)len), 0);
	f.payload = payload;
	f.len = (uint32_t)mw.len;
	mesh_node_input(w->nodes[to].n, &f, 1, w->now);
}

static void
test_anti_entropy(void **state)
{
	struct world *w = world_new(2, false);
	struct mesh_node *a, *b;
	uint64_t zeros[128] = { 0 }, sent;
	uint32_t group;
	char key[32];

	(void)state;
	a = w->nodes[0].n;
	b = w->nodes[1].n;
	run(w, 500 * 1000 * 1000ull);
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "worker:%d", i);
		request(&w->nodes[0], MESH_NODE_REQ_PUT, key, "v");
	}
	run(w, 3000 * 1000 * 1000ull); /* replicated, then a few rounds at rest */
	assert_int_equal(mesh_node_digest_now(a), mesh_node_digest_now(b));
	assert_true(mesh_node_counter(a, MESH_NODE_CTR_node_ae_digests_sent) >= 2);
	assert_true(mesh_node_counter(b, MESH_NODE_CTR_node_ae_digests_rx) >= 2);
	assert_int_equal(mesh_node_counter(a, MESH_NODE_CTR_node_ae_rounds_diverged), 0);
	assert_int_equal(mesh_node_counter(b, MESH_NODE_CTR_node_ae_rounds_diverged), 0);
	assert_int_equal(mesh_node_counter(a, MESH_NODE_CTR_node_ae_ops_pushed), 0);

	/* b claims an empty store (level 0): a names the differing groups in level 1; b, in
	 * sync, finds no differing bucket there, so nobody pushes anything */
	sent = mesh_node_counter(a, MESH_NODE_CTR_node_ae_digests_sent);
	inject_digest(w, 1, 0, &(struct mesh_wire_digest){ .bucket_count = 128, .n_hashes = 128,
							    .bucket_hash = zeros });
	assert_true(mesh_node_counter(a, MESH_NODE_CTR_node_ae_digests_sent) > sent);
	assert_int_equal(mesh_node_counter(a, MESH_NODE_CTR_node_ae_rounds_diverged), 1);
	run(w, 20 * 1000 * 1000ull);
	assert_int_equal(mesh_node_counter(a, MESH_NODE_CTR_node_ae_ops_pushed), 0);
	assert_int_equal(mesh_node_counter(b, MESH_NODE_CTR_node_ae_ops_pushed), 0);

	/* b claims empty buckets in the group of worker:7 (level 1): a pushes that key */
	group = mesh_crdt_digest_bucket_of("worker:7", 8) / 32;
	inject_digest(w, 1, 0, &(struct mesh_wire_digest){ .bucket_count = 4096, .n_hashes = 32,
							    .bucket_hash = zeros, .level = 1,
							    .n_groups = 1, .groups = &group });
	assert_true(mesh_node_counter(a, MESH_NODE_CTR_node_ae_ops_pushed) >= 1);
	run(w, 20 * 1000 * 1000ull);
	assert_int_equal(mesh_node_digest_now(a), mesh_node_digest_now(b));

	/* malformed: a level-1 group out of range; and a digest from a non-member */
	group = 999;
	inject_digest(w, 1, 0, &(struct mesh_wire_digest){ .bucket_count = 4096, .n_hashes = 32,
							    .bucket_hash = zeros, .level = 1,
							    .n_groups = 1, .groups = &group });
	assert_int_equal(mesh_node_counter(a, MESH_NODE_CTR_node_ae_drop_bad), 1);
	world_delete(w);
}

/* Run up to @max_ns until node @i has @peers replication peers; false if it never does. */
static bool
run_until_peers(struct world *w, unsigned i, uint32_t peers, uint64_t max_ns)
{
	for (uint64_t t = 0; t < max_ns; t += 100 * 1000 * 1000ull) {
		if (mesh_node_peer_count(w->nodes[i].n) == peers)
			return true;
		run(w, 100 * 1000 * 1000ull);
	}
	return mesh_node_peer_count(w->nodes[i].n) == peers;
}

static uint64_t
exported(struct world *w, unsigned i)
{
	return mesh_crdt_store_counter(mesh_node_store(w->nodes[i].n), MESH_CTR_crdt_export_ops);
}

/*
 * The flap storm: with a store of FLAP_KEYS keys, a partition makes each node declare the
 * other dead; after the heal they are alive again in the same life. n0 must resume n1 from
 * its watermarks (only the key written during the cut is exported), not re-export the
 * whole store; the same after a cut long enough for membership to reap n1. Then n1
 * restarts (new generation, empty): that life receives everything.
 */
#define FLAP_KEYS 3000
static void
test_flap_resumes(void **state)
{
	struct world *w = world_new(2, false);
	struct tnode *a = &w->nodes[0], *b = &w->nodes[1];
	uint64_t before;
	char key[32];

	(void)state;
	run(w, 500 * 1000 * 1000ull);
	for (int i = 0; i < FLAP_KEYS; i++) {
		snprintf(key, sizeof(key), "worker:%d", i);
		request(a, MESH_NODE_REQ_PUT, key, "a value of some length");
		if (i % 200 == 199)
			run(w, 5 * 1000 * 1000ull);
	}
	run(w, 2000 * 1000 * 1000ull);
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(b->n));
	assert_true(exported(w, 0) >= FLAP_KEYS);

	w->cut = true;
	assert_true(run_until_peers(w, 0, 0, 60 * 1000 * 1000 * 1000ull)); /* n1 declared dead */
	request(a, MESH_NODE_REQ_PUT, "worker:during-cut", "x");
	assert_int_equal(a->last.status, 0);
	before = exported(w, 0);
	w->cut = false;
	assert_true(run_until_peers(w, 0, 1, 60 * 1000 * 1000 * 1000ull)); /* alive again */
	assert_true(run_until_peers(w, 1, 1, 60 * 1000 * 1000 * 1000ull));
	run(w, 3000 * 1000 * 1000ull);
	/* resumed: the key written during the cut, not the whole store (the old rule sent
	 * FLAP_KEYS + 1 ops here) */
	assert_true(exported(w, 0) - before < FLAP_KEYS / 10);
	assert_true(mesh_node_counter(a->n, MESH_NODE_CTR_node_peer_parked) >= 1);
	assert_true(mesh_node_counter(a->n, MESH_NODE_CTR_node_peer_resumed) >= 1);
	request(b, MESH_NODE_REQ_GET, "worker:during-cut", NULL);
	assert_true(b->last.found);
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(b->n));

	/* a cut longer than the dead timeout (60 s): membership reaps n1, which still
	 * resumes from its watermarks when it is back */
	w->cut = true;
	run(w, 75 * 1000 * 1000 * 1000ull);
	assert_true(mesh_swim_counter(mesh_node_swim(a->n), MESH_SWIM_CTR_swim_reaped) >= 1);
	assert_int_equal(mesh_node_peer_count(a->n), 0);
	request(a, MESH_NODE_REQ_PUT, "worker:during-long-cut", "y");
	before = exported(w, 0);
	w->cut = false;
	assert_true(run_until_peers(w, 0, 1, 60 * 1000 * 1000 * 1000ull));
	assert_true(run_until_peers(w, 1, 1, 60 * 1000 * 1000 * 1000ull));
	run(w, 3000 * 1000 * 1000ull);
	assert_true(exported(w, 0) - before < FLAP_KEYS / 10);
	request(b, MESH_NODE_REQ_GET, "worker:during-long-cut", NULL);
	assert_true(b->last.found);
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(b->n));

	/* n1 restarts: a new life with an empty store gets the whole store */
	mesh_node_delete(b->n);
	free(b->last_copy);
	b->last_copy = NULL;
	node_start(w, 1, 200, false);
	before = exported(w, 0);
	assert_true(run_until_peers(w, 1, 1, 60 * 1000 * 1000 * 1000ull));
	assert_true(run_until_peers(w, 0, 1, 60 * 1000 * 1000 * 1000ull));
	run(w, 3000 * 1000 * 1000ull);
	assert_true(exported(w, 0) - before >= FLAP_KEYS + 1);
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(b->n));
	world_delete(w);
}

static void
test_reply_copy(void **state)
{
	struct mesh_node_bytes keys[2] = { { (const uint8_t *)"k1", 2 },
					   { (const uint8_t *)"key2", 4 } };
	struct mesh_node_member m = { .name = { (const uint8_t *)"n7", 2 }, .incarnation = 3 };
	struct mesh_node_reply r = {
		.type = MESH_NODE_REPLY_KEYS, .keys = keys, .n_keys = 2, .members = &m,
		.n_members = 1, .value = { (const uint8_t *)"vv", 2 },
	};
	struct mesh_node_reply *c = mesh_node_reply_copy(&r);

	(void)state;
	assert_non_null(c);
	assert_ptr_not_equal(c->keys, keys);
	assert_memory_equal(c->keys[1].data, "key2", 4);
	assert_ptr_not_equal(c->keys[1].data, keys[1].data);
	assert_memory_equal(c->members[0].name.data, "n7", 2);
	assert_int_equal(c->members[0].incarnation, 3);
	assert_memory_equal(c->value.data, "vv", 2);
	free(c);
}

/* a graceful stop: drain, leave, then stop; a drain that does not finish ends at its time */
static void
test_stop_steps(void **state)
{
	const uint64_t ms = 1000 * 1000;
	struct world *w = world_new(NODES, false);
	struct tnode *a = &w->nodes[0], *b = &w->nodes[1];
	struct mesh_node_stop st = { 0 }, st2 = { 0 };

	(void)state;
	run(w, 500 * ms); /* join */
	request(a, MESH_NODE_REQ_PUT, "worker:w1", "hello");
	assert_false(mesh_node_drained(a->n));
	assert_false(mesh_node_stop_step(a->n, &st, 1000 * ms, 200 * ms, w->now));
	assert_int_equal(st.leave_deadline_ns, 0); /* draining */
	run(w, 50 * ms);
	assert_true(mesh_node_drained(a->n));
	assert_false(mesh_node_stop_step(a->n, &st, 1000 * ms, 200 * ms, w->now)); /* leaves */
	assert_int_equal(st.leave_deadline_ns, w->now + 200 * ms);
	assert_false(mesh_node_stop_step(a->n, &st, 1000 * ms, 200 * ms, w->now + 199 * ms));
	assert_true(mesh_node_stop_step(a->n, &st, 1000 * ms, 200 * ms, w->now + 200 * ms));

	request(b, MESH_NODE_REQ_PUT, "worker:w2", "hello");
	assert_false(mesh_node_drained(b->n));
	assert_false(mesh_node_stop_step(b->n, &st2, 0, 200 * ms, w->now));
	assert_int_equal(st2.leave_deadline_ns, 0);
	assert_false(mesh_node_stop_step(b->n, &st2, 0, 200 * ms, w->now + 1)); /* time is up */
	assert_int_equal(st2.leave_deadline_ns, w->now + 1 + 200 * ms);
	world_delete(w);
}

/*
 * Liveness evidence: n1's SWIM frames are all lost (no ack, no ping, no refutation gets
 * out), but it writes every millisecond, so its channel frames reach the others. Those
 * frames satisfy their probes of n1: nobody suspects it. Without the writes it is
 * suspected (the check can fail).
 */
static void
test_channel_traffic_is_evidence(void **state)
{
	struct world *w = world_new(NODES, false);
	struct tnode *b = &w->nodes[1];
	char key[32];

	(void)state;
	run(w, 500 * 1000 * 1000ull); /* join */
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(mesh_node_peer_count(w->nodes[i].n), NODES - 1);
	w->mute_swim = 2;
	for (unsigned k = 0; k < 500; k++) { /* 500 ms: ~60 probes per prober */
		snprintf(key, sizeof(key), "worker:w%u", k);
		request(b, MESH_NODE_REQ_PUT, key, "x");
		run(w, 1000 * 1000);
	}
	for (unsigned i = 0; i < NODES; i += 2) {
		struct mesh_swim *s = mesh_node_swim(w->nodes[i].n);
		struct mesh_swim_member_info mi;

		assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_heard) > 0);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_suspect), 0);
		assert_int_equal(mesh_swim_member_get(s, "n1", 2, &mi), 0);
		assert_int_equal(mi.status, MESH_SWIM_ALIVE);
	}
	/* silent as well: suspected */
	run(w, 100 * 1000 * 1000ull);
	assert_true(mesh_swim_counter(mesh_node_swim(w->nodes[0].n), MESH_SWIM_CTR_swim_suspect) +
		    mesh_swim_counter(mesh_node_swim(w->nodes[2].n), MESH_SWIM_CTR_swim_suspect) > 0);
	world_delete(w);
}

/*
 * A false death: n0 loses n1 (partition), declares it dead and expires n1's owner-bound
 * metadata; once the cut heals, n1 (alive all along) re-asserts its key and n0's members
 * reply shows the metadata again.
 */
static void
test_meta_reasserted(void **state)
{
	struct world *w;
	struct tnode *a;

	(void)state;
	start_with_metadata = true;
	w = world_new(2, false);
	start_with_metadata = false;
	a = &w->nodes[0];
	run(w, 500 * 1000 * 1000ull);
	request(a, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_true(meta_is(member_meta(a, "n1"), "zone-1"));
	w->cut = true;
	assert_true(run_until_peers(w, 0, 0, 60 * 1000 * 1000 * 1000ull)); /* n1 declared dead */
	run(w, 500 * 1000 * 1000ull);
	request(a, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_int_equal(member_meta(a, "n1")->len, 0); /* expired with n1's life */
	w->cut = false;
	assert_true(run_until_peers(w, 0, 1, 60 * 1000 * 1000 * 1000ull));
	run(w, 3000 * 1000 * 1000ull);
	request(a, MESH_NODE_REQ_MEMBERS, NULL, NULL);
	assert_true(meta_is(member_meta(a, "n1"), "zone-1"));
	assert_int_equal(mesh_node_digest_now(a->n), mesh_node_digest_now(w->nodes[1].n));
	world_delete(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel_traffic_is_evidence),
		cmocka_unit_test(test_cfg_refused),
		cmocka_unit_test(test_cfg_profile),
		cmocka_unit_test(test_refusal_reported_once),
		cmocka_unit_test(test_put_replicates),
		cmocka_unit_test(test_stop_steps),
		cmocka_unit_test(test_subscribe_members_keys),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_no_amplification),
		cmocka_unit_test(test_swim_sender_binding),
		cmocka_unit_test(test_junk_input),
		cmocka_unit_test(test_non_member_channel_records),
		cmocka_unit_test(test_anti_entropy),
		cmocka_unit_test(test_flap_resumes),
		cmocka_unit_test(test_reply_copy),
		cmocka_unit_test(test_v2_requests),
		cmocka_unit_test(test_batch_reply_bounded),
		cmocka_unit_test(test_meta_reasserted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
