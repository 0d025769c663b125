/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication and digests: export batches bounded by ops and bytes, per-peer watermarks
 * (ack, rewind, out-of-range ack), re-export of keys changed again, change-log compaction
 * keeping memory O(keys), digest diff and bucket export, the export_local_only policy
 * (tombstone GC: test_crdt_gc.c).
 */
#include "crdt_test_util.h"
#include "crdt_internal.h" /* white-box: change-log size */

#define PEER 0xB0B

static void
test_export_batches(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_op ops[8];
	uint64_t acked, sent, last;
	char k[32];
	int n;

	(void)state;
	assert_int_equal(mesh_crdt_export(s, PEER, ops, 8, 100), -ENOENT);
	assert_int_equal(mesh_crdt_peer_add(s, PEER), 0);
	assert_int_equal(mesh_crdt_peer_add(s, PEER), -EEXIST);
	assert_int_equal(mesh_crdt_export(s, PEER, ops, 8, 100), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "worker:%d", i);
		assert_int_equal(put_s(s, k, "0123456789", 0), 0); /* 18 bytes per op */
	}
	assert_int_equal(mesh_crdt_store_seq(s), 10);
	n = mesh_crdt_export(s, PEER, ops, 4, SIZE_MAX);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++)
		assert_int_equal(ops[i].seq, (uint64_t)i + 1);
	assert_memory_equal(ops[0].key, "worker:0", 8);
	/* byte bound: 2 ops of 18 bytes fit in 40 */
	n = mesh_crdt_export(s, PEER, ops, 8, 40);
	assert_int_equal(n, 2);
	assert_int_equal(ops[1].seq, 6);
	/* one op is always returned even when larger than max_bytes */
	n = mesh_crdt_export(s, PEER, ops, 8, 1);
	assert_int_equal(n, 1);
	assert_int_equal(ops[0].seq, 7);
	assert_int_equal(mesh_crdt_peer_watermarks(s, PEER, &acked, &sent), 0);
	assert_int_equal(acked, 0);
	assert_int_equal(sent, 7);
	/* acks: cumulative, monotone, bounded by what was sent */
	assert_int_equal(mesh_crdt_ack(s, PEER, 8), -ERANGE);
	assert_int_equal(mesh_crdt_ack(s, PEER, 5), 0);
	assert_int_equal(mesh_crdt_ack(s, PEER, 3), 0);
	mesh_crdt_peer_watermarks(s, PEER, &acked, NULL);
	assert_int_equal(acked, 5);
	/* a key changed again after it was sent comes back with its new seq */
	assert_int_equal(put_s(s, "worker:0", "changed", 0), 0);
	n = mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX);
	assert_int_equal(n, 4); /* 8, 9, 10 and worker:0 at 11 */
	assert_int_equal(ops[3].seq, 11);
	assert_memory_equal(ops[3].value, "changed", 7);
	last = ops[3].seq;
	assert_int_equal(mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX), 0);
	/* rewind: everything after the ack is sent again, worker:0 only once */
	assert_int_equal(mesh_crdt_peer_rewind(s, PEER), 0);
	n = mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX);
	assert_int_equal(n, 6); /* seqs 6..10 (worker:5..9) and 11 (worker:0) */
	assert_int_equal(ops[0].seq, 6);
	assert_int_equal(mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX), 0);
	assert_int_equal(mesh_crdt_ack(s, PEER, last), 0);
	/* a late ack after a rewind still counts and skips what it covers */
	assert_int_equal(put_s(s, "worker:1", "a", 0), 0); /* 12 */
	assert_int_equal(put_s(s, "worker:2", "b", 0), 0); /* 13 */
	assert_int_equal(mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX), 2);
	assert_int_equal(mesh_crdt_peer_rewind(s, PEER), 0);
	assert_int_equal(mesh_crdt_ack(s, PEER, 12), 0);
	n = mesh_crdt_export(s, PEER, ops, 8, SIZE_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(ops[0].seq, 13);
	assert_int_equal(mesh_crdt_ack(s, PEER, 14), -ERANGE);
	assert_int_equal(mesh_crdt_ack(s, PEER, 13), 0);
	/* unknown peers */
	assert_int_equal(mesh_crdt_ack(s, 1, 1), -ENOENT);
	assert_int_equal(mesh_crdt_peer_rewind(s, 1), -ENOENT);
	assert_int_equal(mesh_crdt_peer_watermarks(s, 1, NULL, NULL), -ENOENT);
	assert_int_equal(mesh_crdt_peer_remove(s, 1), -ENOENT);
	assert_int_equal(mesh_crdt_peer_remove(s, PEER), 0);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_export_ops), 4 + 2 + 1 + 4 + 6 + 3);
	mesh_crdt_store_delete(s);
}

static void
test_replicate_and_compaction(void **state)
{
	struct mesh_crdt_store *a = store_new(0xA), *b = store_new(0xB);
	struct mesh_crdt_digest da, db;
	char k[32], v[32], buf[64];

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(a, PEER), 0);
	/* 200 keys, 100k updates: the log must stay O(keys), exports stay one op per key */
	for (int i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "config:%d", i % 200);
		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(put_s(a, k, v, 0), 0);
		if (i == 50000) /* a peer in the middle of a partial export */
			assert_int_equal(export_all(a, PEER, b, 0, false), 200);
	}
	assert_true(a->log.cap <= 4 * 4096);
	assert_true(mesh_crdt_store_counter(a, MESH_CTR_crdt_log_compact) > 10);
	assert_int_equal(export_all(a, PEER, b, 0, true), 200);
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "config:%d", i);
		snprintf(v, sizeof(v), "%d", 99800 + i);
		assert_string_equal(get_s(b, k, buf, sizeof(buf)), v);
	}
	mesh_crdt_digest_get(a, &da);
	mesh_crdt_digest_get(b, &db);
	assert_memory_equal(&da, &db, sizeof(da));
	assert_int_not_equal(mesh_crdt_digest_fold(&da), 0);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
}

static int
collect_keys(void *ctx, const struct mesh_crdt_op *op)
{
	int *n = ctx;

	assert_int_equal(mesh_crdt_digest_bucket_of(op->key, op->key_len), (uint32_t)n[1]);
	n[0]++;
	n[2] += op->tombstone;
	return 0;
}

static void
test_digest(void **state)
{
	struct mesh_crdt_store *a = store_new(0xA), *b = store_new(0xB), *e = store_new(0xE);
	struct mesh_crdt_digest da, db, de;
	uint16_t diff[8];
	char k[32];
	int cnt[3], rc;

	(void)state;
	mesh_crdt_digest_get(a, &da);
	mesh_crdt_digest_get(e, &de);
	assert_memory_equal(&da, &de, sizeof(da));
	assert_int_equal(mesh_crdt_digest_fold(&da), 0);
	/* 50k keys so that buckets share slots runs and wrap around the table */
	for (int i = 0; i < 50000; i++) {
		snprintf(k, sizeof(k), "config:%d", i);
		assert_int_equal(put_s(a, k, "v", 0), 0);
	}
	for (uint32_t bk = 0; bk < MESH_CRDT_DIGEST_BUCKETS; bk++) {
		struct bucket_ctx c = { .to = b };

		assert_true(mesh_crdt_bucket_export(a, bk, bucket_apply, &c) >= 0);
	}
	mesh_crdt_digest_get(a, &da);
	mesh_crdt_digest_get(b, &db);
	assert_int_equal(mesh_crdt_digest_diff(&da, &db, diff, 8), 0);
	/* one change: exactly its bucket differs */
	assert_int_equal(put_s(b, "config:77", "w", 0), 0);
	mesh_crdt_digest_get(b, &db);
	assert_int_equal(mesh_crdt_digest_diff(&da, &db, diff, 8), 1);
	assert_int_equal(diff[0], mesh_crdt_digest_bucket_of("config:77", 9));
	assert_int_equal(mesh_crdt_digest_diff(&da, &db, NULL, 0), 1);
	/* bucket export yields that bucket only, tombstones included */
	assert_int_equal(del_s(b, "config:77", 0), 0);
	cnt[0] = 0;
	cnt[1] = diff[0];
	cnt[2] = 0;
	rc = mesh_crdt_bucket_export(b, diff[0], collect_keys, cnt);
	assert_int_equal(rc, cnt[0]);
	assert_true(cnt[0] >= 1);
	assert_int_equal(cnt[2], 1);
	assert_int_equal(mesh_crdt_bucket_export(b, MESH_CRDT_DIGEST_BUCKETS, collect_keys, cnt),
			 -EINVAL);
	/* tombstones do not count: put + delete + gc leaves the digest of an empty store */
	assert_int_equal(put_s(e, "worker:t", "v", 0), 0);
	assert_int_equal(del_s(e, "worker:t", 0), 0);
	mesh_crdt_digest_get(e, &de);
	assert_int_equal(mesh_crdt_digest_fold(&de), 0);
	/* the same (key, version, value) reached by different paths hashes the same */
	{
		struct mesh_crdt_store *f = store_new(0xF), *g = store_new(0x6);
		struct mesh_crdt_digest df, dg;

		assert_int_equal(apply_op(f, op_s("worker:z", "x", 500, 9, false), 0, NULL), 0);
		assert_int_equal(apply_op(g, op_s("worker:z", "y", 400, 9, false), 0, NULL), 0);
		assert_int_equal(apply_op(g, op_s("worker:z", NULL, 450, 9, true), 0, NULL), 0);
		assert_int_equal(apply_op(g, op_s("worker:z", "x", 500, 9, false), 0, NULL), 0);
		mesh_crdt_digest_get(f, &df);
		mesh_crdt_digest_get(g, &dg);
		assert_memory_equal(&df, &dg, sizeof(df));
		/* same value at another version differs */
		assert_int_equal(apply_op(g, op_s("worker:z", "x", 501, 9, false), 0, NULL), 0);
		mesh_crdt_digest_get(g, &dg);
		assert_int_equal(mesh_crdt_digest_diff(&df, &dg, NULL, 0), 1);
		mesh_crdt_store_delete(f);
		mesh_crdt_store_delete(g);
	}
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(e);
}

/* origin_ns travels with the winning version: export, apply, re-export; a newer write
 * replaces it, a stale or duplicate op does not */
static void
test_origin_carried(void **state)
{
	struct mesh_crdt_store *a = store_new(0xA), *b = store_new(0xB), *c = store_new(0xC);
	struct mesh_crdt_op ops[8];
	uint8_t e1[16] = { 0 };
	int n;

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(a, PEER), 0);
	assert_int_equal(mesh_crdt_peer_add(b, PEER), 0);
	assert_int_equal(mesh_crdt_put_origin(a, "worker:o", 8, "v", 1, 0, 1111), 0);
	assert_int_equal(mesh_crdt_put(a, "worker:z", 8, "v", 1, 0), 0); /* origin unknown */
	e1[7] = 1;
	e1[15] = 5;
	assert_int_equal(mesh_crdt_put_origin(a, "rl:o", 4, e1, 16, 0, 2222), 0);
	assert_int_equal(export_all(a, PEER, b, 0, true), 3);
	assert_int_equal(mesh_crdt_delete_origin(b, "worker:z", 8, 0, 3333), 0);
	n = mesh_crdt_export(b, PEER, ops, 8, SIZE_MAX);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		uint64_t want = ops[i].key_len == 4 ? 2222 : ops[i].tombstone ? 3333 : 1111;

		assert_int_equal(ops[i].origin_ns, want);
		assert_int_equal(mesh_crdt_apply(c, &ops[i], 0, NULL), 0);
	}
	/* a duplicate with another origin changes nothing, origin included */
	ops[0].origin_ns = 9999;
	assert_int_equal(mesh_crdt_apply(c, &ops[0], 0, NULL), 0);
	assert_int_equal(mesh_crdt_peer_add(c, PEER), 0);
	n = mesh_crdt_export(c, PEER, ops, 8, SIZE_MAX);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++)
		assert_int_not_equal(ops[i].origin_ns, 9999);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
}

/*
 * export_local_only: a peer gets what this store made (puts, deletes) and every tombstone,
 * never a live value applied from elsewhere, except in its catch-up (what the store held
 * when the peer was added); skipped records move the cursor, so acks and the catch-up
 * measure stay exact.
 */
static void
test_export_local_only(void **state)
{
	struct mesh_crdt_config cfg = { .replica_id = 0xA, .export_local_only = true };
	struct mesh_crdt_store *a = mesh_crdt_store_new(&cfg), *b = store_new(0xB);
	struct mesh_crdt_op ops[16];
	uint64_t sent;
	int n;

	(void)state;
	assert_non_null(a);
	assert_int_equal(mesh_crdt_ns_add_defaults(a), 0);
	assert_int_equal(mesh_crdt_peer_add(b, PEER), 0);
	assert_int_equal(put_s(b, "worker:old", "b", 0), 0);
	assert_int_equal(export_all(b, PEER, a, 0, true), 1);
	/* the catch-up of a peer added now carries b's value */
	assert_int_equal(mesh_crdt_peer_add(a, PEER), 0);
	assert_int_equal(put_s(b, "worker:b", "b", 0), 0);
	assert_int_equal(put_s(b, "worker:gone", "b", 0), 0);
	assert_int_equal(export_all(b, PEER, a, 0, true), 2);
	assert_int_equal(del_s(b, "worker:gone", 0), 0);
	assert_int_equal(export_all(b, PEER, a, 0, true), 1);
	assert_int_equal(put_s(a, "worker:a", "a", 0), 0);
	n = mesh_crdt_export(a, PEER, ops, 16, SIZE_MAX);
	assert_int_equal(n, 3); /* worker:old (catch-up), the tombstone, worker:a */
	assert_memory_equal(ops[0].key, "worker:old", 10);
	assert_true(ops[1].tombstone);
	assert_memory_equal(ops[1].key, "worker:gone", 11);
	assert_memory_equal(ops[2].key, "worker:a", 8);
	assert_int_equal(mesh_crdt_peer_watermarks(a, PEER, NULL, &sent), 0);
	assert_int_equal(sent, mesh_crdt_store_seq(a));
	assert_int_equal(mesh_crdt_ack(a, PEER, sent), 0);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_batches),
		cmocka_unit_test(test_replicate_and_compaction),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_origin_carried),
		cmocka_unit_test(test_export_local_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
