/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/node under a member flood (issue 14, item 2): 1,000 forged joiners, each a SWIM
 * PUSH_PULL JOIN consistent with its source address, at node a of a two-node cluster
 * holding 400 keys. A joiner that never speaks again is a member and no more: no
 * replication peer, no channel, no store export (heap growth measured); one that speaks
 * again becomes a peer, at most NODE_ADMIT_PER_SEC a second (counted); the real member b
 * keeps replicating both ways throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mesh_node.h"
#include "mesh_wire.h"
#include "swim_internal.h"

#define QCAP 8192
#define PORT 7000
#define JOINERS 1000u
#define JOINER_IP 0x0a638000u

struct pkt {
	uint32_t to;
	struct mesh_node_frame f;
	uint8_t buf[1500];
};

static struct mesh_node *nodes[2];
static struct pkt *q, *batch;
static unsigned qn;
static uint64_t now = 1000000, rng[2] = { 1, 2 }, to_joiners;
static struct mesh_node_reply last;
static uint8_t last_val[256];

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	unsigned from = (unsigned)(uintptr_t)ctx;

	for (unsigned i = 0; i < n; i++) {
		uint32_t to = frames[i].peer.ip - 1;

		if (to >= 2 || qn == QCAP) {
			to_joiners++; /* to a joiner's address: nobody there */
			continue;
		}
		q[qn].to = to;
		q[qn].f = frames[i];
		q[qn].f.sender = mesh_node_id(nodes[from]);
		q[qn].f.peer = (struct mesh_node_addr){ .ip = from + 1, .port = PORT };
		memcpy(q[qn].buf, frames[i].payload, frames[i].len);
		qn++;
	}
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	(void)ctx;
	if (r->type == MESH_NODE_REPLY_EVENT)
		return;
	last = *r;
	if (r->type == MESH_NODE_REPLY_GET && r->found && r->value.len <= sizeof(last_val))
		memcpy(last_val, r->value.data, r->value.len);
}

static uint64_t
env_random(void *ctx)
{
	uint64_t *s = &rng[(uintptr_t)ctx];

	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11 ^ *s;
}

static uint64_t
env_wall(void *ctx)
{
	(void)ctx;
	return 1700000000ull * 1000000000ull + now;
}

static const struct mesh_node_env_ops env = {
	.send = env_send, .reply = env_reply, .random = env_random, .wall_ns = env_wall,
};

static void
run(uint64_t ns)
{
	for (uint64_t end = now + ns; now < end; now += 100 * 1000) {
		unsigned n = qn;

		memcpy(batch, q, n * sizeof(*batch));
		qn = 0;
		for (unsigned i = 0; i < n; i++) {
			batch[i].f.payload = batch[i].buf;
			mesh_node_input(nodes[batch[i].to], &batch[i].f, 1, now);
		}
		for (unsigned i = 0; i < 2; i++)
			mesh_node_poll(nodes[i], now);
	}
}

static void
request(unsigned i, enum mesh_node_req_type type, const char *key, const char *value)
{
	struct mesh_node_req r = {
		.type = type, .client = 1, .client_gen = 1, .id = 1,
		.key = (const uint8_t *)key, .key_len = (uint32_t)strlen(key),
		.value = (const uint8_t *)value, .value_len = value ? (uint32_t)strlen(value) : 0,
	};

	mesh_node_request(nodes[i], &r, 1, now);
}

static bool
holds(unsigned i, const char *key, const char *value)
{
	memset(&last, 0, sizeof(last));
	request(i, MESH_NODE_REQ_GET, key, NULL);
	return last.type == MESH_NODE_REPLY_GET && last.found && last.value.len == strlen(value) &&
	       memcmp(last_val, value, strlen(value)) == 0;
}

/* Joiner @j says something to node a from its own address: a PUSH_PULL (JOIN when @join) */
static void
joiner_says(unsigned j, bool join)
{
	char name[16];
	uint8_t payload[1400], *b;
	struct mesh_wire_msgw w;
	struct swim_enc e;
	size_t room, len;
	struct swim_rec r = { .status = MESH_SWIM_ALIVE, .gen = 1,
			      .addr = { JOINER_IP + j, PORT } };
	struct mesh_node_frame f = { .type = MESH_WIRE_TYPE_MSGS, .payload = payload,
				     .peer = { JOINER_IP + j, PORT } };

	snprintf(name, sizeof(name), "joiner%u", j);
	r.name = name;
	r.name_len = (uint8_t)strlen(name);
	mesh_wire_msgw_init(&w, payload, sizeof(payload));
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_SWIM, &room);
	assert_non_null(b);
	swim_enc_begin(&e, b, room, SWIM_MSG_PUSH_PULL, join ? SWIM_F_PP_JOIN : 0, name,
		       strlen(name), 1, 0, name, strlen(name), &r.addr);
	assert_int_equal(swim_enc_rec(&e, &r, room), 0);
	len = swim_enc_end(&e);
	assert_true(len > 0);
	mesh_wire_msgw_end(&w, len);
	f.len = (uint32_t)w.len;
	f.sender = mesh_wire_node_id(name, 1);
	mesh_node_input(nodes[0], &f, 1, now);
}

/* resident bytes (/proc/self/statm; mallinfo2 reads 0 in this build) */
static size_t
heap_used(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t
ctr(unsigned i, enum mesh_node_counter c)
{
	return mesh_node_counter(nodes[i], c);
}

static void
test_joiner_flood(void **state)
{
	char key[32], val[200];
	size_t heap0, heap1;
	uint64_t added0;

	(void)state;
	q = calloc(QCAP, sizeof(*q));
	batch = calloc(QCAP, sizeof(*batch));
	for (unsigned i = 0; i < 2; i++) {
		struct mesh_node_cfg cfg;

		mesh_node_cfg_default(&cfg);
		snprintf(cfg.name, sizeof(cfg.name), "n%u", i);
		cfg.gen = 100 + i;
		cfg.addr = (struct mesh_node_addr){ .ip = i + 1, .port = PORT };
		cfg.n_seeds = i;
		cfg.seeds[0] = (struct mesh_node_addr){ .ip = 1, .port = PORT };
		nodes[i] = mesh_node_new(&cfg, &env, (void *)(uintptr_t)i, now);
		assert_non_null(nodes[i]);
		assert_int_equal(mesh_crdt_ns_add_defaults(mesh_node_store(nodes[i])), 0);
		assert_int_equal(mesh_node_join(nodes[i], now), 0);
	}
	run(500 * 1000 * 1000ull);
	assert_int_equal(mesh_node_peer_count(nodes[0]), 1);
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (unsigned k = 0; k < 400; k++) {
		snprintf(key, sizeof(key), "worker:k%u", k);
		request(0, MESH_NODE_REQ_PUT, key, val);
	}
	run(500 * 1000 * 1000ull);
	assert_true(holds(1, "worker:k399", val));

	/* the flood: every joiner once */
	heap0 = heap_used();
	added0 = ctr(0, MESH_NODE_CTR_node_peer_added);
	for (unsigned j = 0; j < JOINERS; j++) {
		joiner_says(j, true);
		if (j % 50 == 49)
			run(1000 * 1000); /* 20 joiners a millisecond */
	}
	run(2000 * 1000 * 1000ull);
	heap1 = heap_used();
	print_message("heap %zu -> %zu: +%zu B for %u joiners (%zu B each); %llu frames to joiners\n", heap0, heap1,
		      heap1 - heap0, JOINERS, (heap1 - heap0) / JOINERS,
		      (unsigned long long)to_joiners);
	assert_true(mesh_swim_member_count(mesh_node_swim(nodes[0]), MESH_SWIM_ALIVE) +
			    mesh_swim_member_count(mesh_node_swim(nodes[0]), MESH_SWIM_SUSPECT) +
			    mesh_swim_member_count(mesh_node_swim(nodes[0]), MESH_SWIM_DEAD) >
		    JOINERS / 2); /* they did become members */
	assert_int_equal(mesh_node_peer_count(nodes[0]), 1); /* none is replicated to */
	assert_int_equal(ctr(0, MESH_NODE_CTR_node_peer_added), added0);
	assert_true(ctr(0, MESH_NODE_CTR_node_peer_unproven) >= JOINERS / 2);
	/* what a joiner costs: a member table slot and its gossip, not a channel and an
	 * export of the store (80 KB here: 400 ops of 200 B) */
	assert_true(heap1 - heap0 < (size_t)JOINERS * 2048);

	/* the real member keeps replicating, both ways */
	request(0, MESH_NODE_REQ_PUT, "worker:after-a", "1");
	request(1, MESH_NODE_REQ_PUT, "worker:after-b", "2");
	run(200 * 1000 * 1000ull);
	assert_true(holds(1, "worker:after-a", "1"));
	assert_true(holds(0, "worker:after-b", "2"));

	/* joiners that speak again are admitted, at a bounded rate */
	for (unsigned j = 0; j < 200; j++)
		joiner_says(j, false);
	print_message("after 200 speak again: %u peers, %llu admissions refused\n",
		      mesh_node_peer_count(nodes[0]),
		      (unsigned long long)ctr(0, MESH_NODE_CTR_node_peer_admit_limited));
	assert_true(mesh_node_peer_count(nodes[0]) > 1);
	assert_true(mesh_node_peer_count(nodes[0]) <= 1 + 64);
	assert_true(ctr(0, MESH_NODE_CTR_node_peer_admit_limited) > 0);
	run(100 * 1000 * 1000ull);
	request(0, MESH_NODE_REQ_PUT, "worker:after-c", "3");
	run(200 * 1000 * 1000ull);
	assert_true(holds(1, "worker:after-c", "3"));

	for (unsigned i = 0; i < 2; i++)
		mesh_node_delete(nodes[i]);
	free(q);
	free(batch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_joiner_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
