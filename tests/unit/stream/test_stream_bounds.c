/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stream per-sender bounds against hostile input (issue 14 items 2, 4 and 6):
 * state only for members (non-member records dropped before anything is allocated, the
 * table capped at max_peers, a removed member's state gone), reassembly fair shares
 * (per-sender slot and byte caps, global bounds taken from the heaviest sender), nack
 * repairs capped per nack and paced per peer, and the relay-mode dedup share per sender.
 * Each test fails on the unbounded behaviour it replaces.
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

#include "mesh_stream.h"

#define MS MESH_NS_PER_MS
#define SELF 0xA1ULL
#define M1 0xB2ULL /* members */
#define M2 0xC3ULL
#define STRANGER 0xE5ULL

struct sent {
	uint64_t to;
	uint32_t frames, records, chunks;
};

static struct sent out;
static uint32_t delivered;

static void
env_send(void *ctx, uint64_t peer, const uint8_t *payload, size_t len)
{
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	uint8_t kind;

	(void)ctx;
	out.to = peer;
	out.frames++;
	mesh_wire_msgr_init(&r, payload, len);
	while (mesh_wire_msgr_next(&r, &kind, &body) == 1) {
		out.records++;
		out.chunks += kind == MESH_WIRE_KIND_STREAM_BATCH;
	}
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n, bool *fresh)
{
	(void)ctx;
	(void)from;
	(void)ops;
	for (uint32_t i = 0; i < n; i++)
		fresh[i] = true;
	return 0;
}

static void
env_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	    const uint8_t *value, size_t len, uint64_t origin_ns)
{
	(void)ctx;
	(void)from;
	(void)origin;
	(void)key;
	(void)key_len;
	(void)value;
	(void)len;
	(void)origin_ns;
	delivered++;
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.stream_deliver = env_deliver,
};

static struct mesh_stream *
new_stream(void (*tweak)(struct mesh_stream_config *c))
{
	struct mesh_stream_config c;
	struct mesh_stream *s;

	mesh_stream_config_default(&c);
	c.self_id = SELF;
	c.seed = 3;
	if (tweak != NULL)
		tweak(&c);
	s = mesh_stream_new(&c, &env, NULL);
	assert_non_null(s);
	memset(&out, 0, sizeof(out));
	delivered = 0;
	return s;
}

static uint64_t
ctr(const struct mesh_stream *s, enum mesh_stream_counter c)
{
	return mesh_stream_counters(s)[c];
}

/* One StreamBatch record with one fragment, as @from would send it. */
static void
rx_fragment(struct mesh_stream *s, uint64_t from, const char *key, uint64_t gen, uint32_t idx,
	    uint32_t total, const uint8_t *data, size_t len, uint64_t now)
{
	static uint8_t buf[4096];
	struct mesh_wire_stream_entry e = {
		.key = { (const uint8_t *)key, strlen(key) },
		.data = { data, len },
		.generation = gen,
		.chunk_index = idx,
		.total_chunks = total,
	};
	size_t n = 0;

	assert_int_equal(mesh_wire_stream_batch_put(buf, sizeof(buf), &n, &e), 0);
	mesh_stream_rx(s, from, MESH_WIRE_KIND_STREAM_BATCH, buf, n, now);
}

/* A StreamNack from @from for our value (@key, @gen) listing indices @first.. (@n). */
static void
rx_nack(struct mesh_stream *s, uint64_t from, const char *key, uint64_t gen, uint32_t first,
	uint32_t n, uint64_t now)
{
	static uint32_t missing[512];
	static uint8_t buf[4096];
	struct mesh_wire_stream_nack nk = {
		.key = { (const uint8_t *)key, strlen(key) },
		.generation = gen,
		.n_missing = n,
		.missing = missing,
	};
	int len;

	for (uint32_t i = 0; i < n; i++)
		missing[i] = first + i;
	len = mesh_wire_stream_nack_encode(buf, sizeof(buf), &nk);
	assert_true(len > 0);
	mesh_stream_rx(s, from, MESH_WIRE_KIND_STREAM_NACK, buf, (size_t)len, now);
	mesh_stream_flush(s, now);
}

/* ---------------------------------------------------------------- members only */

/*
 * Records from a sender that is not a member (any kind the channels handle) are dropped
 * and counted, and leave no state: no channel answers, no peer appears. A flood of random
 * sender ids creates nothing; a removed member is a stranger again.
 */
static void
test_non_member_no_state(void **state)
{
	struct mesh_stream *s = new_stream(NULL);
	struct mesh_wire_heartbeat h = { .epoch = 1, .next_seq = 5, .sent_ns = 1 };
	uint8_t data[100] = { 0 }, hb[64];
	int hb_len = mesh_wire_heartbeat_encode(hb, sizeof(hb), &h);

	(void)state;
	assert_true(hb_len > 0);
	assert_int_equal(mesh_stream_peer_add(s, M1, 0), 0);
	rx_fragment(s, STRANGER, "k", 1, 0, 3, data, sizeof(data), MS);
	rx_fragment(s, STRANGER, "k", 1, 1, 1, data, sizeof(data), MS);
	rx_nack(s, STRANGER, "k", 1, 0, 8, MS);
	mesh_stream_rx(s, STRANGER, MESH_WIRE_KIND_HEARTBEAT, hb, (size_t)hb_len, MS);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_drop_not_member), 4);
	assert_int_equal(mesh_stream_peer_up(s, STRANGER), -ENOENT);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_stream_chunks), 0);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_chunk_nacks), 0);
	assert_int_equal(delivered, 0);
	for (uint64_t id = 1; id <= 5000; id++)
		rx_fragment(s, id * 0x9E3779B97F4A7C15ULL | 1, "k", 1, 0, 1000, data, 10, 2 * MS);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_drop_not_member), 5004);
	assert_int_equal(mesh_stream_peer_count(s), 1);
	assert_int_equal(mesh_stream_peer_up(s, 0x9E3779B97F4A7C15ULL | 1), -ENOENT);
	mesh_stream_tick(s, 3 * MS);
	assert_int_equal(out.frames, 0); /* nothing answered to anyone */
	/* a member's records are handled; once removed, it is a stranger */
	rx_fragment(s, M1, "k", 1, 0, 1, data, 10, 4 * MS);
	assert_int_equal(delivered, 1);
	assert_int_equal(mesh_stream_peer_remove(s, M1), 0);
	rx_fragment(s, M1, "k", 2, 0, 1, data, 10, 5 * MS);
	assert_int_equal(delivered, 1);
	assert_int_equal(mesh_stream_peer_up(s, M1), -ENOENT);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_drop_not_member), 5005);
	mesh_stream_delete(s);
}

static void
tweak_two_peers(struct mesh_stream_config *c)
{
	c->max_peers = 2;
}

/* The table holds at most max_peers members; the refusal is counted. */
static void
test_peer_table_cap(void **state)
{
	struct mesh_stream *s = new_stream(tweak_two_peers);

	(void)state;
	assert_int_equal(mesh_stream_peer_add(s, M1, 0), 0);
	assert_int_equal(mesh_stream_peer_add(s, M2, 0), 0);
	assert_int_equal(mesh_stream_peer_add(s, STRANGER, 0), -ENOSPC);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_peer_add_full), 1);
	assert_int_equal(mesh_stream_peer_remove(s, M2), 0);
	assert_int_equal(mesh_stream_peer_add(s, STRANGER, 0), 0);
	assert_int_equal(mesh_stream_peer_count(s), 2);
	mesh_stream_delete(s);
}

/* ---------------------------------------------------------------- reassembly */

/*
 * One sender opening assembly after assembly (distinct keys) loses its own oldest past
 * its slot cap; another sender's value in progress survives and completes.
 */
static void
test_reasm_peer_slots(void **state)
{
	struct mesh_stream_reasm *r = mesh_stream_reasm_new(20, 1 << 20, 1024);
	struct mesh_stream_reasm_stats st;
	uint8_t d[8] = { 0 }, *v = NULL;
	size_t n = 0;
	char key[16];

	(void)state;
	mesh_stream_reasm_peer_limits(r, 4, 256 * 1024);
	assert_int_equal(mesh_stream_reasm_add(r, 1, 1, (const uint8_t *)"honest", 6, 1, 0, 2, d,
					       8, 0, &v, &n),
			 MESH_STREAM_CHUNK_PENDING);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "flood%d", i);
		mesh_stream_reasm_add(r, 2, 2, (const uint8_t *)key, strlen(key), 1, 0, 2, d, 8,
				      (uint64_t)(i + 1) * MS, &v, &n);
	}
	mesh_stream_reasm_stats(r, &st);
	assert_int_equal(st.assemblies, 5); /* the honest one + the flooder's cap */
	assert_int_equal(st.evict_peer_count, 96);
	assert_int_equal(st.evict_count, 0);
	assert_int_equal(mesh_stream_reasm_add(r, 1, 1, (const uint8_t *)"honest", 6, 1, 1, 2, d,
					       8, 200 * MS, &v, &n),
			 MESH_STREAM_CHUNK_COMPLETE);
	assert_int_equal(n, 16);
	free(v);
	mesh_stream_reasm_delete(r);
}

/*
 * Bytes: a sender past its byte cap loses its own largest (a hostile `total` is charged
 * to it); past the global byte bound, the heaviest sender loses, never one holding less
 * (a large value in progress within its fair share survives a swarm of senders).
 */
static void
test_reasm_peer_bytes_fair(void **state)
{
	struct mesh_stream_reasm *r = mesh_stream_reasm_new(64, 100000, 65536);
	struct mesh_stream_reasm_stats st;
	static uint8_t d[3000];
	uint8_t *v = NULL;
	size_t n = 0;
	char key[16];

	(void)state;
	mesh_stream_reasm_peer_limits(r, 16, 40000);
	/* the honest value: 2 of 3 fragments of 3000 B (6 KB: under a ninth of the pool) */
	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(mesh_stream_reasm_add(r, 1, 1, (const uint8_t *)"big", 3, 7, i, 3,
						       d, sizeof(d), MS, &v, &n),
				 MESH_STREAM_CHUNK_PENDING);
	/* a hostile total: 65536 declared fragments = 1 MiB of slots, over the sender cap */
	assert_int_equal(mesh_stream_reasm_add(r, 2, 2, (const uint8_t *)"t", 1, 1, 0, 65536, d,
					       1, 2 * MS, &v, &n),
			 MESH_STREAM_CHUNK_EVICTED);
	mesh_stream_reasm_stats(r, &st);
	assert_int_equal(st.evict_peer_bytes, 1);
	/* senders 2..9 each fill up to their byte cap (13 assemblies of 3 KB): the global
	 * bound is passed again and again, and each time the victim is the sender holding
	 * the most, never the honest one, which stays within its fair share (1/9) */
	for (uint64_t p = 2; p <= 9; p++)
		for (uint32_t i = 0; i < 16; i++) {
			snprintf(key, sizeof(key), "s%u", i);
			mesh_stream_reasm_add(r, p, p, (const uint8_t *)key, strlen(key), 1, 0, 2,
					      d, sizeof(d), 3 * MS, &v, &n);
			mesh_stream_reasm_stats(r, &st);
			assert_true(st.bytes <= 100000);
		}
	assert_true(st.evict_bytes > 0);
	assert_true(st.evict_peer_bytes > 1);
	assert_int_equal(mesh_stream_reasm_add(r, 1, 1, (const uint8_t *)"big", 3, 7, 2, 3, d,
					       sizeof(d), 4 * MS, &v, &n),
			 MESH_STREAM_CHUNK_COMPLETE);
	assert_int_equal(n, 3 * sizeof(d));
	free(v);
	mesh_stream_reasm_delete(r);
}

/* Through mesh_stream: the per-sender cap from the config, and its counter. */
static void
test_reasm_counters(void **state)
{
	struct mesh_stream *s = new_stream(NULL);
	uint8_t d[100] = { 0 };
	char key[16];

	(void)state;
	assert_int_equal(mesh_stream_peer_add(s, M1, 0), 0);
	assert_int_equal(mesh_stream_peer_add(s, M2, 0), 0);
	rx_fragment(s, M2, "honest", 1, 0, 2, d, sizeof(d), MS);
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "flood%d", i);
		rx_fragment(s, M1, key, 1, 0, 2, d, sizeof(d), 2 * MS + (uint64_t)i);
	}
	assert_int_equal(ctr(s, MESH_STREAM_CTR_reasm_evict_peer_slots), 10 - 4);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_assembly_evict_count), 0);
	rx_fragment(s, M2, "honest", 1, 1, 2, d, sizeof(d), 3 * MS);
	assert_int_equal(delivered, 1);
	/* incomplete values time out */
	mesh_stream_tick(s, 31000 * MS);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_assembly_gc), 4);
	mesh_stream_delete(s);
}

/* ---------------------------------------------------------------- nack repairs */

/*
 * A forged StreamNack for 256 fragments of a cached value makes at most nack_repair_max
 * repairs (64), and back-to-back nacks no more than the peer's repair bucket allows
 * (burst 64, then repair_rate: 10 per ms); everything else is counted, nothing queued.
 */
static void
test_nack_capped_paced(void **state)
{
	struct mesh_stream *s = new_stream(NULL);
	size_t len = 600000; /* ~440 fragments */
	uint8_t *val = calloc(1, len);
	uint64_t now = MS;

	(void)state;
	assert_int_equal(mesh_stream_peer_add(s, M1, 0), 0);
	assert_int_equal(mesh_stream_value_send(s, M1, "img", 3, val, len, now), 0);
	mesh_stream_flush(s, now);
	for (int i = 0; i < 10; i++) /* let the paced first transmission finish */
		mesh_stream_tick(s, now += MS);
	memset(&out, 0, sizeof(out));
	rx_nack(s, M1, "img", 1, 0, 256, now);
	assert_int_equal(out.chunks, 64);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_tx_chunk_repairs), 64);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_tx_chunk_repair_capped), 256 - 64);
	/* at once again: the bucket is empty */
	rx_nack(s, M1, "img", 1, 0, 256, now);
	assert_int_equal(out.chunks, 64);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_tx_chunk_repair_paced), 64);
	/* 1 ms later: 10 tokens */
	now += MS;
	rx_nack(s, M1, "img", 1, 0, 256, now);
	assert_int_equal(out.chunks, 64 + 10);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_tx_chunk_repairs), 64 + 10);
	/* a second later the burst is back, never more */
	now += 1000 * MS;
	rx_nack(s, M1, "img", 1, 0, 256, now);
	assert_int_equal(out.chunks, 64 + 10 + 64);
	/* indices past the value's total are not repairs and cost nothing */
	now += 1000 * MS;
	rx_nack(s, M1, "img", 1, 100000, 256, now);
	assert_int_equal(out.chunks, 64 + 10 + 64);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_tx_chunk_repair_capped), 4 * (256 - 64));
	free(val);
	mesh_stream_delete(s);
}

/* ---------------------------------------------------------------- dedup share */

static void
tweak_relay(struct mesh_stream_config *c)
{
	c->direct_max = 1; /* relay mode */
	c->seen_slots = 64;
}

/*
 * Relay mode never evicts a live dedup entry, so each sender gets seen_slots / members
 * new values per 2 s window: a member flooding distinct values is refused past 32 of 64
 * slots (counted), the other member's values still get in, and the window renews.
 */
static void
test_dedup_share(void **state)
{
	struct mesh_stream *s = new_stream(tweak_relay);
	uint8_t d[4];
	char key[16];

	(void)state;
	assert_int_equal(mesh_stream_peer_add(s, M1, 0), 0);
	assert_int_equal(mesh_stream_peer_add(s, M2, 0), 0);
	for (uint32_t i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "f%u", i);
		memcpy(d, &i, sizeof(d));
		rx_fragment(s, M1, key, 1, 0, 1, d, sizeof(d), MS);
	}
	/* 32 remembered; the rest refused by the share (or, before it, by a full bucket) */
	assert_int_equal(ctr(s, MESH_STREAM_CTR_rx_stream_values), 32);
	assert_true(ctr(s, MESH_STREAM_CTR_relay_drop_dedup_share) > 0);
	assert_int_equal(ctr(s, MESH_STREAM_CTR_relay_drop_dedup_share) +
				 ctr(s, MESH_STREAM_CTR_relay_drop_dedup_full),
			 100 - 32);
	rx_fragment(s, M2, "other", 1, 0, 1, d, sizeof(d), 2 * MS);
	assert_int_equal(delivered, 33);
	/* after STREAM_SEEN_LIVE_NS (2 s) the flooder has a share again */
	rx_fragment(s, M1, "late", 1, 0, 1, d, sizeof(d), 2100 * MS);
	assert_int_equal(delivered, 34);
	mesh_stream_delete(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_non_member_no_state),
		cmocka_unit_test(test_peer_table_cap),
		cmocka_unit_test(test_reasm_peer_slots),
		cmocka_unit_test(test_reasm_peer_bytes_fair),
		cmocka_unit_test(test_reasm_counters),
		cmocka_unit_test(test_nack_capped_paced),
		cmocka_unit_test(test_dedup_share),
	};

	mesh_log_level_set(MESH_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
