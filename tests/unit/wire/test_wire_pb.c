/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy reader and hot-message encoders vs protobuf-c (the reference):
 * - random messages packed by protobuf-c decode identically with the zero-copy reader;
 * - the hand encoders produce exactly protobuf-c's bytes;
 * - random mutations of valid messages are accepted/rejected identically and decode to the
 *   same values (pb_diff);
 * - hand-written edge cases: unpacked + packed repeated, last-wins scalars, unknown fields
 *   of every wire type, 10/11-byte varints, long tags, field 0, group wire types, wrong
 *   wire type on a known field, overlong length prefixes, embedded NUL in strings;
 * - the reader's bounds (-E2BIG) and the cold protobuf-c codecs over a bump arena.
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

#include "mesh.pb-c.h"
#include "mesh_common.h"
#include "mesh_wire.h"
#include "pb_diff.h"

static struct mesh_rng rng;

static uint64_t
rnd_u64(void)
{
	switch (mesh_rng_below(&rng, 4)) {
	case 0:
		return 0;
	case 1:
		return mesh_rng_below(&rng, 200);
	case 2:
		return mesh_rng_next(&rng);
	default:
		return mesh_rng_next(&rng) >> mesh_rng_below(&rng, 64);
	}
}

static char *
rnd_str(size_t max)
{
	size_t n = mesh_rng_below(&rng, max + 1);
	char *s = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)(1 + mesh_rng_below(&rng, 255));
	s[n] = 0;
	return s;
}

static ProtobufCBinaryData
rnd_bin(size_t max)
{
	ProtobufCBinaryData b;

	b.len = mesh_rng_below(&rng, max + 1);
	b.data = malloc(b.len + 1);
	for (size_t i = 0; i < b.len; i++)
		b.data[i] = (uint8_t)mesh_rng_next(&rng);
	return b;
}

static uint8_t *
pack_crdt_batch(size_t *len, Mesh__Gossip__CrdtBatch **out)
{
	Mesh__Gossip__CrdtBatch *b = malloc(sizeof(*b));
	uint8_t *buf;

	mesh__gossip__crdt_batch__init(b);
	b->n_ops = mesh_rng_below(&rng, 12);
	b->ops = calloc(b->n_ops + 1, sizeof(*b->ops));
	for (size_t i = 0; i < b->n_ops; i++) {
		Mesh__Gossip__CrdtOp *o = malloc(sizeof(*o));

		mesh__gossip__crdt_op__init(o);
		o->key = rnd_str(40);
		o->value = rnd_bin(300);
		o->tombstone = mesh_rng_below(&rng, 2);
		o->timestamp = rnd_u64();
		o->replica_id = rnd_str(36);
		o->origin_ns = mesh_rng_below(&rng, 2) ? rnd_u64() : 0;
		o->owned = mesh_rng_below(&rng, 2);
		b->ops[i] = o;
	}
	b->sequence = rnd_u64();
	b->epoch = rnd_u64();
	if (mesh_rng_below(&rng, 4) == 0) {
		b->frag_index = (uint32_t)rnd_u64();
		b->frag_total = (uint32_t)rnd_u64();
		b->frag = rnd_bin(200);
	}
	*len = mesh__gossip__crdt_batch__get_packed_size(b);
	buf = malloc(*len + 1);
	mesh__gossip__crdt_batch__pack(b, buf);
	*out = b;
	return buf;
}

static void
free_crdt_batch(Mesh__Gossip__CrdtBatch *b)
{
	for (size_t i = 0; i < b->n_ops; i++) {
		free(b->ops[i]->key);
		free(b->ops[i]->value.data);
		free(b->ops[i]->replica_id);
		free(b->ops[i]);
	}
	free(b->ops);
	free(b->frag.data);
	free(b);
}

static struct mesh_wire_slice
sl_str(const char *s)
{
	return (struct mesh_wire_slice){ (const uint8_t *)s, strlen(s) };
}

static void
mutate_and_diff(enum pb_diff_msg m, const uint8_t *buf, size_t len)
{
	uint8_t tmp[8192];
	const char *d;

	d = pb_diff(m, buf, len);
	if (d != NULL)
		fail_msg("valid message: %s", d);
	for (int k = 0; k < 40 && len > 0; k++) {
		size_t n = len;

		memcpy(tmp, buf, len);
		switch (mesh_rng_below(&rng, 4)) {
		case 0:
			tmp[mesh_rng_below(&rng, n)] ^= (uint8_t)(1u << mesh_rng_below(&rng, 8));
			break;
		case 1:
			tmp[mesh_rng_below(&rng, n)] = (uint8_t)mesh_rng_next(&rng);
			break;
		case 2:
			n = mesh_rng_below(&rng, n);
			break;
		default: {
			size_t at = mesh_rng_below(&rng, n + 1), ins = 1 + mesh_rng_below(&rng, 4);

			if (n + ins > sizeof(tmp))
				break;
			memmove(tmp + at + ins, tmp + at, n - at);
			for (size_t i = 0; i < ins; i++)
				tmp[at + i] = (uint8_t)mesh_rng_next(&rng);
			n += ins;
		}
		}
		d = pb_diff(m, tmp, n);
		if (d != NULL) {
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, "%02x", tmp[i]);
			fprintf(stderr, "\n");
			fail_msg("mutated message: %s", d);
		}
	}
}

static void
test_crdt_batch_random(void **state)
{
	static struct mesh_wire_crdt_op ops[64];
	uint8_t mine[8192];

	(void)state;
	for (int iter = 0; iter < 1500; iter++) {
		Mesh__Gossip__CrdtBatch *b;
		struct mesh_wire_crdt_batch h;
		size_t len, ml = 0;
		uint8_t *buf = pack_crdt_batch(&len, &b);

		assert_int_equal(mesh_wire_crdt_batch_read(buf, len, &h, ops, 64), 0);
		assert_int_equal(h.n_ops, b->n_ops);
		assert_true(h.seq == b->sequence && h.epoch == b->epoch);
		for (size_t i = 0; i < b->n_ops; i++) {
			assert_int_equal(ops[i].key.len, strlen(b->ops[i]->key));
			assert_memory_equal(ops[i].key.p, b->ops[i]->key, ops[i].key.len);
			assert_int_equal(ops[i].value.len, b->ops[i]->value.len);
			assert_int_equal(ops[i].timestamp, b->ops[i]->timestamp);
			assert_int_equal(ops[i].origin_ns, b->ops[i]->origin_ns);
			assert_int_equal(ops[i].tombstone, b->ops[i]->tombstone);
			assert_int_equal(ops[i].owned, b->ops[i]->owned);
			/* re-encode with the hand encoder */
			assert_int_equal(mesh_wire_crdt_batch_put_op(mine, sizeof(mine), &ml,
								     &ops[i]),
					 0);
		}
		assert_int_equal(mesh_wire_crdt_batch_put_hdr(mine, sizeof(mine), &ml, h.seq,
							      h.epoch),
				 0);
		assert_int_equal(h.frag_total, b->frag_total);
		assert_int_equal(mesh_wire_crdt_batch_put_frag(mine, sizeof(mine), &ml,
							       h.frag_index, h.frag_total,
							       h.frag.p, h.frag.len),
				 0);
		assert_int_equal(ml, len);
		assert_memory_equal(mine, buf, len);
		if (b->n_ops > 0) {
			assert_int_equal(mesh_wire_crdt_batch_read(buf, len, &h, ops, 0), -E2BIG);
			assert_int_equal(mesh_wire_crdt_op_wire_size(&ops[0]) +
						 mesh_wire_crdt_batch_hdr_size(0, 0) <= len, 1);
		}
		if (iter < 300)
			mutate_and_diff(PB_CRDT_BATCH, buf, len);
		free(buf);
		free_crdt_batch(b);
	}
	/* encoder refuses what does not fit and leaves the length alone */
	{
		struct mesh_wire_crdt_op op = { .key = sl_str("k"), .value = sl_str("vvvv") };
		size_t ml = 0;

		assert_int_equal(mesh_wire_crdt_batch_put_op(mine, 5, &ml, &op), -ENOSPC);
		assert_int_equal(ml, 0);
		assert_int_equal(mesh_wire_crdt_batch_put_op(mine, mesh_wire_crdt_op_wire_size(&op),
							     &ml, &op),
				 0);
		assert_int_equal(ml, mesh_wire_crdt_op_wire_size(&op));
	}
}

static void
test_stream_batch_random(void **state)
{
	static struct mesh_wire_stream_entry e[64];
	uint8_t mine[16384];

	(void)state;
	for (int iter = 0; iter < 1500; iter++) {
		Mesh__Gossip__StreamBatch b = MESH__GOSSIP__STREAM_BATCH__INIT;
		Mesh__Gossip__StreamEntry *ents[16];
		uint32_t n = 0;
		size_t len, ml = 0;
		uint8_t *buf;

		b.n_entries = mesh_rng_below(&rng, 8);
		b.entries = ents;
		for (size_t i = 0; i < b.n_entries; i++) {
			ents[i] = malloc(sizeof(**ents));
			mesh__gossip__stream_entry__init(ents[i]);
			ents[i]->key = rnd_str(30);
			ents[i]->data = rnd_bin(600);
			ents[i]->generation = rnd_u64();
			ents[i]->chunk_index = (uint32_t)rnd_u64();
			ents[i]->total_chunks = (uint32_t)rnd_u64();
			ents[i]->origin = rnd_u64();
			ents[i]->origin_ns = mesh_rng_below(&rng, 2) ? rnd_u64() : 0;
		}
		len = mesh__gossip__stream_batch__get_packed_size(&b);
		buf = malloc(len + 1);
		mesh__gossip__stream_batch__pack(&b, buf);
		assert_int_equal(mesh_wire_stream_batch_read(buf, len, e, 64, &n), 0);
		assert_int_equal(n, b.n_entries);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(e[i].generation, ents[i]->generation);
			assert_int_equal(e[i].chunk_index, ents[i]->chunk_index);
			assert_int_equal(e[i].total_chunks, ents[i]->total_chunks);
			assert_int_equal(e[i].origin, ents[i]->origin);
			assert_int_equal(e[i].origin_ns, ents[i]->origin_ns);
			assert_int_equal(e[i].data.len, ents[i]->data.len);
			assert_int_equal(mesh_wire_stream_entry_wire_size(&e[i]) <= len, 1);
			assert_int_equal(mesh_wire_stream_batch_put(mine, sizeof(mine), &ml, &e[i]),
					 0);
		}
		assert_int_equal(ml, len);
		assert_memory_equal(mine, buf, len);
		if (iter < 300)
			mutate_and_diff(PB_STREAM_BATCH, buf, len);
		for (size_t i = 0; i < b.n_entries; i++) {
			free(ents[i]->key);
			free(ents[i]->data.data);
			free(ents[i]);
		}
		free(buf);
	}
}

static void
test_acks_random(void **state)
{
	uint8_t mine[4096];

	(void)state;
	for (int iter = 0; iter < 1500; iter++) {
		Mesh__Gossip__StreamAck a = MESH__GOSSIP__STREAM_ACK__INIT;
		struct mesh_wire_stream_ack z;
		uint64_t nacks[MESH_WIRE_ACK_MAX_NACKS];
		size_t len, ml = 0;
		uint8_t *buf;

		a.sequence = rnd_u64();
		a.success = mesh_rng_below(&rng, 2);
		a.error_message = rnd_str(20);
		a.epoch = rnd_u64();
		a.sack = rnd_u64();
		a.n_nacks = mesh_rng_below(&rng, MESH_WIRE_ACK_MAX_NACKS + 1);
		for (size_t i = 0; i < a.n_nacks; i++)
			nacks[i] = rnd_u64();
		a.nacks = nacks;
		len = mesh__gossip__stream_ack__get_packed_size(&a);
		buf = malloc(len + 1);
		mesh__gossip__stream_ack__pack(&a, buf);
		assert_int_equal(mesh_wire_stream_ack_read(buf, len, &z), 0);
		assert_int_equal(z.seq, a.sequence);
		assert_int_equal(z.n_nacks, a.n_nacks);
		assert_int_equal(mesh_wire_stream_ack_write(mine, sizeof(mine), &ml, &z), 0);
		assert_int_equal(ml, len);
		assert_memory_equal(mine, buf, len);
		if (iter < 300)
			mutate_and_diff(PB_STREAM_ACK, buf, len);
		free(buf);
		free(a.error_message);
	}
	for (int iter = 0; iter < 800; iter++) {
		Mesh__Gossip__CrdtAck a = MESH__GOSSIP__CRDT_ACK__INIT;
		Mesh__Gossip__CrdtKeyVersion *kv[8];
		struct mesh_wire_crdt_kv z[8];
		uint32_t n;
		size_t len, ml = 0;
		uint8_t *buf;

		a.n_entries = mesh_rng_below(&rng, 8);
		a.entries = kv;
		for (size_t i = 0; i < a.n_entries; i++) {
			kv[i] = malloc(sizeof(**kv));
			mesh__gossip__crdt_key_version__init(kv[i]);
			kv[i]->key = rnd_str(20);
			kv[i]->version = rnd_u64();
			kv[i]->replica_id = rnd_str(36);
		}
		len = mesh__gossip__crdt_ack__get_packed_size(&a);
		buf = malloc(len + 1);
		mesh__gossip__crdt_ack__pack(&a, buf);
		assert_int_equal(mesh_wire_crdt_ack_read(buf, len, z, 8, &n), 0);
		assert_int_equal(n, a.n_entries);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(mesh_wire_crdt_ack_put(mine, sizeof(mine), &ml, &z[i]), 0);
		assert_int_equal(ml, len);
		assert_memory_equal(mine, buf, len);
		if (iter < 200)
			mutate_and_diff(PB_CRDT_ACK, buf, len);
		for (size_t i = 0; i < a.n_entries; i++) {
			free(kv[i]->key);
			free(kv[i]->replica_id);
			free(kv[i]);
		}
		free(buf);
	}
}

struct edge {
	enum pb_diff_msg m;
	const char *hex;
	int want_ok; /* 1 accepted, 0 rejected, -1 either (only agreement matters) */
};

static const struct edge edges[] = {
	{ PB_CRDT_BATCH, "", 1 },
	{ PB_CRDT_BATCH, "0a00", 1 },                       /* one empty op */
	{ PB_CRDT_BATCH, "1001 1002 1003", 1 },             /* last sequence wins */
	{ PB_CRDT_BATCH, "0a03 0a0161", 1 },                /* op key "a" */
	{ PB_CRDT_BATCH, "0a04 0a026100", 1 },              /* key with NUL */
	{ PB_CRDT_BATCH, "10ffffffffffffffffff01", 1 },     /* 10-byte varint */
	{ PB_CRDT_BATCH, "10ffffffffffffffffff7f", 1 },     /* 10-byte, high bits dropped */
	{ PB_CRDT_BATCH, "10ffffffffffffffffffff01", 0 },   /* 11-byte varint */
	{ PB_CRDT_BATCH, "10ff", 0 },                       /* unterminated */
	{ PB_CRDT_BATCH, "1a0100", 0 },                     /* seq as LEN: wrong wire type */
	{ PB_CRDT_BATCH, "0801", 0 },                       /* ops as varint */
	{ PB_CRDT_BATCH, "0a02 18", 0 },                    /* op truncated */
	{ PB_CRDT_BATCH, "0a03 180201", 0 },                /* op: garbage */
	{ PB_CRDT_BATCH, "0a03 1a0100", 1 },                /* bool as LEN (protobuf-c) */
	{ PB_CRDT_BATCH, "0a09 19 0000000000000080", 1 },   /* bool as fixed64 */
	{ PB_STREAM_ACK, "15 00000000", 1 },                /* success as fixed32 */
	{ PB_CRDT_BATCH, "0a02 1880", 0 },                  /* op: bool unterminated */
	{ PB_CRDT_BATCH, "0a03 18 8000", 1 },               /* bool 2-byte zero */
	{ PB_CRDT_BATCH, "0a0b 18 80808080808080808002", 1 }, /* bool bit beyond 64 */
	{ PB_CRDT_BATCH, "0a02 2005", 1 },                  /* timestamp */
	{ PB_CRDT_BATCH, "0a03 220100", 0 },                /* timestamp as LEN */
	{ PB_CRDT_BATCH, "0a02 3001", 0 },                  /* origin_ns as varint */
	{ PB_CRDT_BATCH, "0a09 31 0102030405060708", 1 },   /* origin_ns */
	{ PB_CRDT_BATCH, "0a02 3801", 1 },                  /* owned */
	{ PB_CRDT_BATCH, "0a02 3880", 0 },                  /* owned unterminated */
	{ PB_CRDT_BATCH, "0a03 3a0100", 1 },                /* owned as LEN (protobuf-c) */
	{ PB_CRDT_BATCH, "19 0102030405060708", 1 },        /* epoch fixed64 */
	{ PB_CRDT_BATCH, "19 01020304050607", 0 },          /* epoch short */
	{ PB_CRDT_BATCH, "2001 2803 3202 abcd", 1 },        /* fragment 1 of 3 */
	{ PB_CRDT_BATCH, "2201 00", 0 },                    /* frag_index as LEN */
	{ PB_CRDT_BATCH, "3001", 0 },                       /* frag as varint */
	{ PB_CRDT_BATCH, "1801", 0 },                       /* epoch as varint */
	{ PB_CRDT_BATCH, "f801 05", 1 },                    /* unknown varint field 31 */
	{ PB_CRDT_BATCH, "f901 0102030405060708", 1 },      /* unknown fixed64 */
	{ PB_CRDT_BATCH, "fd01 01020304", 1 },              /* unknown fixed32 */
	{ PB_CRDT_BATCH, "fd01 010203", 0 },                /* unknown fixed32 short */
	{ PB_CRDT_BATCH, "fa01 02 aabb", 1 },               /* unknown LEN */
	{ PB_CRDT_BATCH, "fb01", 0 },                       /* start group */
	{ PB_CRDT_BATCH, "fc01", 0 },                       /* end group */
	{ PB_CRDT_BATCH, "fe01", 0 },                       /* wire type 6 */
	{ PB_CRDT_BATCH, "ff01", 0 },                       /* wire type 7 */
	{ PB_CRDT_BATCH, "0001", 0 },                       /* field 0 */
	{ PB_CRDT_BATCH, "0700", 0 },                       /* field 0, wt 7 */
	{ PB_CRDT_BATCH, "8000 01", -1 },                   /* 2-byte tag encoding 0 */
	{ PB_CRDT_BATCH, "9080808000 01", 1 },              /* 5-byte tag for field 2 */
	{ PB_CRDT_BATCH, "908080808000 01", 0 },            /* 6-byte tag */
	{ PB_CRDT_BATCH, "90808080 01", -1 },               /* tag overflow games */
	{ PB_CRDT_BATCH, "0a8080808000", 1 },               /* 5-byte length prefix 0 */
	{ PB_CRDT_BATCH, "0a808080808000", 0 },             /* 6-byte length prefix */
	{ PB_CRDT_BATCH, "0affffffff0f", 0 },               /* huge length */
	{ PB_CRDT_BATCH, "0a05 0a01", 0 },                  /* length past end */
	{ PB_STREAM_BATCH, "0a00 0a00 0a00", 1 },
	{ PB_STREAM_BATCH, "0a06 18ffffffff0f", 1 },        /* chunk index max u32 */
	{ PB_STREAM_BATCH, "0a07 18ffffffffff01", 1 },      /* u32 from a wider varint */
	{ PB_STREAM_BATCH, "0a02 3001", 0 },                /* origin as varint */
	{ PB_STREAM_BATCH, "0a09 31 0102030405060708", 1 }, /* origin */
	{ PB_STREAM_BATCH, "0a02 3801", 0 },                /* origin_ns as varint */
	{ PB_STREAM_BATCH, "0a09 39 0102030405060708", 1 }, /* origin_ns */
	{ PB_STREAM_BATCH, "0a03 2a0100 ", 1 },             /* data with NUL */
	{ PB_STREAM_BATCH, "0a02 1a00", 0 },                /* gen as LEN */
	{ PB_STREAM_ACK, "3001 3002 3203 030405", 1 },      /* unpacked + packed nacks */
	{ PB_STREAM_ACK, "3200", 1 },                       /* empty packed */
	{ PB_STREAM_ACK, "3201 80", 0 },                    /* packed unterminated */
	{ PB_STREAM_ACK, "35 01020304", 0 },                /* nacks as fixed32 */
	{ PB_STREAM_ACK, "1002 1000", 1 },                  /* success last wins: false */
	{ PB_STREAM_ACK, "1a02 6869", 1 },                  /* error message */
	{ PB_STREAM_ACK, "2101020304050607 08", 1 },        /* epoch */
	{ PB_STREAM_ACK, "2901", 0 },                       /* sack short */
	{ PB_CRDT_ACK, "0a04 0a01 6b 10 ", 0 },
	{ PB_CRDT_ACK, "0a05 0a016b 1007", 1 },
	{ PB_CRDT_ACK, "0a02 1a00 0a00", 1 },
	{ PB_CRDT_ACK, "0a02 1200", 0 },                    /* version as LEN */
};

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		sscanf(h, "%2hhx", &out[n++]);
		h += 2;
	}
	return n;
}

static int
zc_ok(enum pb_diff_msg m, const uint8_t *p, size_t n)
{
	static struct mesh_wire_crdt_op ops[16];
	static struct mesh_wire_stream_entry e[16];
	static struct mesh_wire_stream_ack a;
	static struct mesh_wire_crdt_kv kv[16];
	struct mesh_wire_crdt_batch b;
	uint32_t cnt;

	switch (m) {
	case PB_CRDT_BATCH:
		return mesh_wire_crdt_batch_read(p, n, &b, ops, 16) == 0;
	case PB_STREAM_BATCH:
		return mesh_wire_stream_batch_read(p, n, e, 16, &cnt) == 0;
	case PB_STREAM_ACK:
		return mesh_wire_stream_ack_read(p, n, &a) == 0;
	default:
		return mesh_wire_crdt_ack_read(p, n, kv, 16, &cnt) == 0;
	}
}

static void
test_edge_cases(void **state)
{
	uint8_t buf[256];

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(edges); i++) {
		size_t n = unhex(edges[i].hex, buf);
		const char *d = pb_diff(edges[i].m, buf, n);

		if (d != NULL)
			fail_msg("edge %zu (%s): %s", i, edges[i].hex, d);
		if (edges[i].want_ok >= 0 && zc_ok(edges[i].m, buf, n) != edges[i].want_ok)
			fail_msg("edge %zu (%s): expected %s", i, edges[i].hex,
				 edges[i].want_ok ? "accept" : "reject");
	}
	/* specific values */
	{
		struct mesh_wire_stream_ack a;
		struct mesh_wire_crdt_batch b;
		struct mesh_wire_crdt_op ops[2];
		size_t n = unhex("3001 3002 3203 030405", buf);

		assert_int_equal(mesh_wire_stream_ack_read(buf, n, &a), 0);
		assert_int_equal(a.n_nacks, 5);
		assert_int_equal(a.nacks[4], 5);
		n = unhex("1001 1002 1003", buf);
		assert_int_equal(mesh_wire_crdt_batch_read(buf, n, &b, ops, 2), 0);
		assert_int_equal(b.seq, 3);
		n = unhex("0a04 0a026100", buf);
		assert_int_equal(mesh_wire_crdt_batch_read(buf, n, &b, ops, 2), 0);
		assert_int_equal(ops[0].key.len, 2); /* the slice keeps the NUL */
		memset(buf, 0, sizeof(buf));
		for (unsigned i = 0; i < MESH_WIRE_ACK_MAX_NACKS + 1; i++)
			buf[2 * i] = 0x30, buf[2 * i + 1] = 1;
		assert_int_equal(mesh_wire_stream_ack_read(buf, 2 * (MESH_WIRE_ACK_MAX_NACKS + 1),
							   &a),
				 -E2BIG);
	}
}

static void
test_cold_codecs(void **state)
{
	uint8_t buf[2048], mem[4096];
	struct mesh_arena arena;
	struct mesh_wire_heartbeat hb = { .epoch = 0x1234567890ULL, .next_seq = 77,
					  .sent_ns = 5 }, hb2;
	uint32_t missing[] = { 1, 5, 900, 70000 };
	struct mesh_wire_stream_nack nk = { .key = sl_str("tree:page:x"), .generation = 99,
					    .origin = 3, .n_missing = 4, .missing = missing }, nk2;
	uint64_t hashes[] = { 1, 2, 0xffffffffffffffffULL };
	struct mesh_wire_digest dg = { .bucket_count = 3, .n_hashes = 3, .bucket_hash = hashes,
				       .key_count = 10, .reply = true }, dg2;
	int n;

	(void)state;
	mesh_arena_create(&arena, mem, sizeof(mem));
	n = mesh_wire_heartbeat_encode(buf, sizeof(buf), &hb);
	assert_true(n > 0);
	assert_int_equal(mesh_wire_heartbeat_decode(buf, (size_t)n, &arena, &hb2), 0);
	assert_memory_equal(&hb, &hb2, sizeof(hb));
	assert_int_equal(mesh_wire_heartbeat_encode(buf, 3, &hb), -ENOSPC);

	n = mesh_wire_stream_nack_encode(buf, sizeof(buf), &nk);
	assert_true(n > 0);
	assert_int_equal(mesh_wire_stream_nack_decode(buf, (size_t)n, &arena, &nk2), 0);
	assert_int_equal(nk2.key.len, nk.key.len);
	assert_memory_equal(nk2.key.p, nk.key.p, nk.key.len);
	assert_int_equal(nk2.n_missing, 4);
	assert_memory_equal(nk2.missing, missing, sizeof(missing));
	assert_int_equal(nk2.generation, 99);

	n = mesh_wire_digest_encode(buf, sizeof(buf), &dg);
	assert_true(n > 0);
	assert_int_equal(mesh_wire_digest_decode(buf, (size_t)n, &arena, &dg2), 0);
	assert_int_equal(dg2.n_hashes, 3);
	assert_memory_equal(dg2.bucket_hash, hashes, sizeof(hashes));
	assert_true(dg2.reply);
	/* malformed input and an arena too small both fail soft */
	buf[0] = 0xff;
	assert_int_equal(mesh_wire_digest_decode(buf, (size_t)n, &arena, &dg2), -EBADMSG);
	mesh_arena_create(&arena, mem, 16);
	n = mesh_wire_digest_encode(buf, sizeof(buf), &dg);
	assert_int_equal(mesh_wire_digest_decode(buf, (size_t)n, &arena, &dg2), -EBADMSG);
	assert_true(arena.failed > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crdt_batch_random),
		cmocka_unit_test(test_stream_batch_random),
		cmocka_unit_test(test_acks_random),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_cold_codecs),
	};
	uint64_t seed = 0x5eed;
	const char *s = getenv("MESH_SEED");

	if (s != NULL)
		seed = strtoull(s, NULL, 0);
	printf("MESH_SEED=%llu\n", (unsigned long long)seed);
	mesh_rng_seed(&rng, seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
