/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tombstone GC and the GC horizon (crdt_gc.c, doc/crdt.md "Tombstone GC"): a tombstone is
 * collected only once every peer acknowledged it AND the grace passed; a removed peer holds
 * GC back for the grace; the horizon refuses old values of keys the store does not hold.
 * The resurrection cases: a member that comes back with the deleted value while still
 * registered, soon after it was reaped, or long after (and then rejoins empty), and a
 * partitioned minority coming back after a partition longer than the grace.
 */
#include "crdt_test_util.h"
#include "crdt_internal.h" /* white-box: tombstone queue size */

#define W (UINT64_C(1700000000) * SEC) /* wall clock at t = 0 */
#define GRACE (10 * SEC)

/* @s's wall clock at t (monotonic time is t itself in these tests) */
static uint64_t
at(struct mesh_crdt_store *s, uint64_t t)
{
	mesh_crdt_store_set_wall(s, W + t);
	return t;
}

static struct mesh_crdt_store *
store_at(uint64_t replica, uint64_t grace, uint64_t t)
{
	struct mesh_crdt_store *s = store_new_grace(replica, grace);

	at(s, t);
	return s;
}

static uint64_t
ctr(struct mesh_crdt_store *s, enum mesh_crdt_counter c)
{
	return mesh_crdt_store_counter(s, c);
}

static void
test_gc_needs_acks_and_grace(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10); /* default grace 300 s */
	struct mesh_crdt_ns_stats st;
	struct mesh_crdt_version v;
	struct mesh_crdt_op ops[64];
	char k[32];
	int n;

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(s, 1), 0);
	assert_int_equal(mesh_crdt_peer_add(s, 2), 0);
	for (int i = 0; i < 10; i++) {
		uint64_t t = at(s, (uint64_t)i * SEC);

		snprintf(k, sizeof(k), "worker:%d", i);
		assert_int_equal(put_s(s, k, "v", t), 0);
		assert_int_equal(del_s(s, k, t), 0); /* tombstones at 0..9 s */
	}
	assert_int_equal(mesh_crdt_gc(s, 299 * SEC, 0), 0);
	/* the grace alone is not enough: nobody acked */
	assert_int_equal(mesh_crdt_gc(s, 400 * SEC, 0), 0);
	n = mesh_crdt_export(s, 1, ops, 64, SIZE_MAX);
	assert_int_equal(n, 10);
	assert_int_equal(mesh_crdt_ack(s, 1, ops[n - 1].seq), 0);
	assert_int_equal(mesh_crdt_gc(s, 400 * SEC, 0), 0); /* peer 2 has not */
	n = mesh_crdt_export(s, 2, ops, 64, SIZE_MAX);
	assert_int_equal(mesh_crdt_ack(s, 2, ops[6].seq), 0); /* worker:0..6 */
	assert_int_equal(mesh_crdt_store_horizon(s), 0);
	/* budget, then the acked prefix; the horizon is the last collected tombstone's ts */
	assert_int_equal(mesh_crdt_gc(s, 400 * SEC, 2), 2);
	assert_int_equal(mesh_crdt_gc(s, 400 * SEC, 0), 5);
	assert_int_equal(mesh_crdt_get(s, "worker:7", 8, NULL, NULL, &v), -ENOENT); /* held */
	assert_int_equal(mesh_crdt_store_horizon(s), mesh_crdt_ts_make(W + 6 * SEC) + 1);
	assert_int_equal(v.ts, mesh_crdt_ts_make(W + 7 * SEC) + 1);
	/* acked but young: a tombstone made at 400 s waits for its grace */
	at(s, 400 * SEC);
	assert_int_equal(put_s(s, "worker:young", "v", 400 * SEC), 0);
	assert_int_equal(del_s(s, "worker:young", 400 * SEC), 0);
	for (uint64_t p = 1; p <= 2; p++) {
		n = mesh_crdt_export(s, p, ops, 64, SIZE_MAX);
		assert_int_equal(mesh_crdt_ack(s, p, ops[n - 1].seq), 0);
	}
	assert_int_equal(mesh_crdt_gc(s, 699 * SEC, 0), 3); /* worker:7..9 */
	assert_int_equal(mesh_crdt_gc(s, 700 * SEC, 0), 1);
	mesh_crdt_ns_stats(s, mesh_crdt_ns_find(s, "worker:", 7), &st);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.keys, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(ctr(s, MESH_CTR_crdt_tomb_gc), 11);
	mesh_crdt_store_delete(s);

	/* _NEVER keeps every tombstone, even on a lone node */
	s = store_new_grace(0x10, MESH_CRDT_TOMB_GRACE_NEVER);
	assert_int_equal(put_s(s, "worker:x", "v", 0), 0);
	assert_int_equal(del_s(s, "worker:x", 0), 0);
	assert_int_equal(mesh_crdt_gc(s, UINT64_MAX / 2, 0), 0);
	mesh_crdt_store_delete(s);
}

static void
test_gc_removed_peer_holds_grace(void **state)
{
	struct mesh_crdt_store *s = store_new_grace(0x10, GRACE);
	struct mesh_crdt_op op;

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(s, 1), 0);
	assert_int_equal(mesh_crdt_peer_add(s, 2), 0);
	assert_int_equal(put_s(s, "worker:x", "v", 0), 0);
	assert_int_equal(del_s(s, "worker:x", 0), 0);
	assert_int_equal(mesh_crdt_export(s, 2, &op, 1, SIZE_MAX), 1);
	assert_int_equal(mesh_crdt_ack(s, 2, op.seq), 0);
	/* peer 1 never acked and is removed at 5 s: it holds GC back until 15 s */
	assert_int_equal(mesh_crdt_gc(s, 5 * SEC, 0), 0);
	assert_int_equal(mesh_crdt_peer_remove(s, 1), 0);
	assert_int_equal(mesh_crdt_gc(s, 14 * SEC, 0), 0);
	/* it comes back at 14 s: registered again from 0, it holds GC back until it acks */
	assert_int_equal(mesh_crdt_peer_add(s, 1), 0);
	assert_int_equal(mesh_crdt_gc(s, 16 * SEC, 0), 0);
	assert_int_equal(mesh_crdt_peer_remove(s, 1), 0);
	assert_int_equal(mesh_crdt_gc(s, 25 * SEC, 0), 0);
	assert_int_equal(mesh_crdt_gc(s, 26 * SEC, 0), 1);
	mesh_crdt_store_delete(s);

	/* a queue of removed peers: the oldest removals expire first */
	s = store_new_grace(0x10, 1);
	assert_int_equal(mesh_crdt_peer_add(s, 1), 0); /* never acks: nothing collectable */
	for (int i = 0; i < 50000; i++) {
		assert_int_equal(put_s(s, "worker:x", "v", 0), 0);
		assert_int_equal(del_s(s, "worker:x", 0), 0);
	}
	assert_true(s->tombq.cap <= 1024); /* one key deleted and revived: the queue stays small */
	for (uint64_t p = 2; p < 2 + 2 * MESH_CRDT_PEER_MAX; p++) {
		assert_int_equal(mesh_crdt_peer_add(s, p), 0);
		assert_int_equal(mesh_crdt_peer_remove(s, p), 0);
	}
	assert_int_equal(mesh_crdt_gc(s, 1, 0), 0); /* the others expired, peer 1 holds */
	assert_int_equal(mesh_crdt_peer_remove(s, 1), 0);
	assert_int_equal(mesh_crdt_gc(s, 1, 0), 0); /* removed at 1: holds until 2 */
	assert_int_equal(mesh_crdt_gc(s, 2, 0), 1);
	mesh_crdt_store_delete(s);
}

static void
test_horizon_rules(void **state)
{
	struct mesh_crdt_store *s = store_at(0x10, GRACE, 0);
	uint64_t old = mesh_crdt_ts_make(W - 86400 * SEC), h;
	struct mesh_crdt_ns_stats st;
	char buf[16];

	(void)state;
	/* a store that never collected anything accepts any old version (catch-up) */
	assert_int_equal(apply_op(s, op_s("worker:held", "old", old, 7, false), 0, NULL), 0);
	assert_int_equal(put_s(s, "worker:gone", "v", 0), 0);
	at(s, 1 * SEC);
	assert_int_equal(del_s(s, "worker:gone", 1 * SEC), 0);
	assert_int_equal(mesh_crdt_gc(s, 11 * SEC, 0), 1);
	h = mesh_crdt_store_horizon(s);
	assert_int_equal(h, mesh_crdt_ts_make(W + 1 * SEC));
	/* a value at or below the horizon for a key not held here is refused and counted */
	assert_int_equal(apply_op(s, op_s("worker:gone", "v", h - 5, 7, false), 0, NULL), -ESTALE);
	assert_int_equal(apply_op(s, op_s("worker:other", "v", h, 7, false), 0, NULL), -ESTALE);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "GC horizon"));
	assert_int_equal(ctr(s, MESH_CTR_crdt_apply_horizon), 2);
	assert_int_equal(ctr(s, MESH_CTR_crdt_apply_reject), 2);
	/* ... so is a batch's */
	{
		struct mesh_crdt_op b[2] = { op_s("worker:gone2", "v", h - 1, 7, false),
					     op_s("worker:new", "v", h + 1, 7, false) };
		int res[2];

		assert_int_equal(mesh_crdt_apply_batch(s, b, 2, 11 * SEC, res), 1);
		assert_int_equal(res[0], -ESTALE);
		assert_int_equal(res[1], 1);
	}
	/* each refused value left a tombstone at (horizon, UINT64_MAX), so that the sender
	 * deletes its stale copy too: it beats the stale version and loses to any newer one */
	assert_int_equal(ctr(s, MESH_CTR_crdt_horizon_tombstones), 3);
	{
		struct mesh_crdt_version v = { 0 };
		const void *val;
		uint32_t len;

		assert_int_equal(mesh_crdt_get(s, "worker:other", 12, &val, &len, &v), -ENOENT);
		assert_int_equal(v.ts, h);
		assert_true(v.replica == UINT64_MAX);
	}
	/* an old tombstone for a key not held here changes nothing and is not stored */
	assert_int_equal(apply_op(s, op_s("worker:t", NULL, h - 1, 7, true), 0, NULL), 0);
	mesh_crdt_ns_stats(s, mesh_crdt_ns_find(s, "worker:", 7), &st);
	assert_int_equal(st.tombstones, 3); /* worker:gone, worker:gone2 and worker:other */
	/* newer versions, and any version of a key held here, merge as always */
	assert_int_equal(apply_op(s, op_s("worker:gone", "back", h + 1, 7, false), 0, NULL), 0);
	assert_string_equal(get_s(s, "worker:gone", buf, sizeof(buf)), "back");
	assert_int_equal(apply_op(s, op_s("worker:held", "newer", old + 1, 7, false), 0, NULL), 0);
	assert_string_equal(get_s(s, "worker:held", buf, sizeof(buf)), "newer");
	/* local writes always pass */
	assert_int_equal(put_s(s, "worker:mine", "v", 11 * SEC), 0);
	mesh_crdt_store_delete(s);
}

enum away { STILL_PEER, BACK_WITHIN_GRACE, AWAY_LONGER };

/* A and B hold k; C holds it too and is cut off; A deletes k at 1 s; C comes back. */
static void
returning_member(enum away how)
{
	struct mesh_crdt_store *a = store_at(0xA, GRACE, 0), *b = store_at(0xB, GRACE, 0),
			       *c = store_at(0xC, GRACE, 0);
	uint64_t back = how == BACK_WITHIN_GRACE ? 12 * SEC : 30 * SEC;
	int refused;
	char buf[32];

	assert_int_equal(mesh_crdt_peer_add(a, 0xB), 0);
	assert_int_equal(mesh_crdt_peer_add(a, 0xC), 0);
	assert_int_equal(mesh_crdt_peer_add(b, 0xC), 0);
	assert_int_equal(put_s(a, "worker:k", "v1", 0), 0);
	export_all(a, 0xB, b, 0, true);
	export_all(a, 0xC, c, 0, true);
	/* C is cut off; it wrote a key of its own that nobody received */
	assert_int_equal(put_s(c, "worker:c-early", "c", 0), 0);
	at(a, 1 * SEC);
	assert_int_equal(del_s(a, "worker:k", 1 * SEC), 0);
	export_all(a, 0xB, b, 1 * SEC, true);
	assert_int_equal(mesh_crdt_gc(a, 2 * SEC, 0), 0);
	assert_int_equal(mesh_crdt_gc(b, 2 * SEC, 0), 0);
	if (how != STILL_PEER) { /* membership declares C dead and reaps it at 2 s */
		assert_int_equal(mesh_crdt_peer_remove(a, 0xC), 0);
		assert_int_equal(mesh_crdt_peer_remove(b, 0xC), 0);
	}
	/* the grace passed for the tombstone; C's removal holds it back until 12 s */
	for (int i = 0; i < 2; i++) {
		struct mesh_crdt_store *x = i ? b : a;

		assert_int_equal(mesh_crdt_gc(x, 11 * SEC, 0), 0);
		assert_int_equal(mesh_crdt_gc(x, back - 1, 0), how == AWAY_LONGER);
	}

	/* C comes back; A and C, B and C run anti-entropy */
	at(a, back);
	at(b, back);
	at(c, back);
	if (how != STILL_PEER) {
		assert_int_equal(mesh_crdt_peer_add(a, 0xC), 0);
		assert_int_equal(mesh_crdt_peer_add(b, 0xC), 0);
	}
	assert_true(anti_entropy(a, c, back, &refused) >= 1);
	assert_int_equal(refused, how == AWAY_LONGER ? 2 : 0); /* k = v1 and c-early */
	anti_entropy(b, c, back, &refused);
	assert_int_equal(refused, how == AWAY_LONGER ? 2 : 0);
	/* k stays deleted wherever the tombstone was */
	assert_null(get_s(a, "worker:k", buf, sizeof(buf)));
	assert_null(get_s(b, "worker:k", buf, sizeof(buf)));
	if (how != AWAY_LONGER) {
		/* A still held the tombstone: C takes it, and its own key reaches A */
		assert_null(get_s(c, "worker:k", buf, sizeof(buf)));
		assert_string_equal(get_s(a, "worker:c-early", buf, sizeof(buf)), "c");
		assert_int_equal(anti_entropy(a, c, back, NULL), 0);
		export_all(a, 0xC, c, back, true);
		assert_int_equal(mesh_crdt_gc(a, back, 0), 1);
	} else {
		/* C was away longer than the grace: its copy is refused (counted), and so is
		 * its own old key: the cost of the rule. Each refusal left a horizon tombstone,
		 * which the next round carries to C: C deletes both, and all three converge
		 * without a restart */
		assert_int_equal(ctr(a, MESH_CTR_crdt_apply_horizon), 2);
		assert_int_equal(ctr(a, MESH_CTR_crdt_horizon_tombstones), 2);
		assert_null(get_s(a, "worker:c-early", buf, sizeof(buf)));
		assert_string_equal(get_s(c, "worker:k", buf, sizeof(buf)), "v1");
		anti_entropy(a, c, back, &refused);
		assert_int_equal(refused, 0);
		assert_null(get_s(c, "worker:k", buf, sizeof(buf)));
		assert_null(get_s(c, "worker:c-early", buf, sizeof(buf)));
		assert_int_equal(anti_entropy(a, c, back, NULL), 0);
		assert_int_equal(anti_entropy(b, c, back, NULL), 0);
	}
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
}

static void
test_gc_returning_member(void **state)
{
	(void)state;
	returning_member(STILL_PEER);        /* the tombstone waits for C's ack */
	returning_member(BACK_WITHIN_GRACE); /* reaped, back before its removal expired */
	returning_member(AWAY_LONGER);       /* reaped and away longer: refused, rejoins empty */
}

/*
 * A partition longer than the grace: {A, B} | {C}. Each side deletes a key the other
 * holds and collects the tombstone; both write. After the heal neither side resurrects
 * the key it deleted, writes made after the other side's last collected tombstone cross
 * over, and older writes of the other side are refused (counted). The minority rejoins
 * empty and everything converges.
 */
static void
test_gc_partitioned_minority(void **state)
{
	struct mesh_crdt_store *s[3], *a, *b, *c;
	struct mesh_crdt_digest d[3];
	char buf[32];
	int refused;

	(void)state;
	for (int i = 0; i < 3; i++)
		s[i] = store_at(0xA + (uint64_t)i, GRACE, 0);
	a = s[0], b = s[1], c = s[2];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				assert_int_equal(mesh_crdt_peer_add(s[i], 0xA + (uint64_t)j), 0);
	assert_int_equal(put_s(a, "worker:k1", "old", 0), 0);
	assert_int_equal(put_s(a, "worker:k2", "old", 0), 0);
	for (int j = 1; j < 3; j++)
		export_all(a, 0xA + (uint64_t)j, s[j], 0, true);
	/* partition at 1 s: each side removes the other at 2 s */
	at(c, 1 * SEC + 500 * MESH_NS_PER_MS);
	assert_int_equal(put_s(c, "worker:minority-early", "m", 1 * SEC), 0);
	at(a, 2 * SEC);
	at(c, 2 * SEC);
	assert_int_equal(del_s(a, "worker:k1", 2 * SEC), 0);
	assert_int_equal(del_s(c, "worker:k2", 2 * SEC), 0);
	assert_int_equal(mesh_crdt_peer_remove(a, 0xC), 0);
	assert_int_equal(mesh_crdt_peer_remove(b, 0xC), 0);
	assert_int_equal(mesh_crdt_peer_remove(c, 0xA), 0);
	assert_int_equal(mesh_crdt_peer_remove(c, 0xB), 0);
	export_all(a, 0xB, b, 2 * SEC, true);
	export_all(b, 0xA, a, 2 * SEC, true);
	for (int i = 0; i < 3; i++)
		at(s[i], 25 * SEC);
	assert_int_equal(put_s(a, "worker:majority-new", "M", 25 * SEC), 0);
	assert_int_equal(put_s(c, "worker:minority-new", "m", 25 * SEC), 0);
	export_all(a, 0xB, b, 25 * SEC, true);
	assert_int_equal(mesh_crdt_gc(a, 25 * SEC, 0), 1);
	assert_int_equal(mesh_crdt_gc(b, 25 * SEC, 0), 1);
	assert_int_equal(mesh_crdt_gc(c, 25 * SEC, 0), 1);

	/* heal at 30 s */
	for (int i = 0; i < 3; i++)
		at(s[i], 30 * SEC);
	anti_entropy(a, c, 30 * SEC, &refused);
	assert_int_equal(refused, 3); /* C's k1 and minority-early at A, A's k2 at C */
	anti_entropy(b, c, 30 * SEC, NULL);
	assert_null(get_s(a, "worker:k1", buf, sizeof(buf)));
	assert_null(get_s(b, "worker:k1", buf, sizeof(buf)));
	assert_null(get_s(c, "worker:k2", buf, sizeof(buf)));
	assert_string_equal(get_s(a, "worker:minority-new", buf, sizeof(buf)), "m");
	assert_string_equal(get_s(b, "worker:minority-new", buf, sizeof(buf)), "m");
	assert_string_equal(get_s(c, "worker:majority-new", buf, sizeof(buf)), "M");
	assert_null(get_s(a, "worker:minority-early", buf, sizeof(buf)));
	assert_true(ctr(a, MESH_CTR_crdt_apply_horizon) >= 2);
	assert_true(ctr(c, MESH_CTR_crdt_apply_horizon) >= 1);
	/* each refusal left a horizon tombstone. C's reply in the same exchange already
	 * carried its tombstone for k2 to A and B; A's and B's for k1 reach C next round:
	 * no side resurrects what the other deleted, and the stores converge without a
	 * restart */
	assert_null(get_s(a, "worker:k2", buf, sizeof(buf)));
	assert_string_equal(get_s(c, "worker:k1", buf, sizeof(buf)), "old");
	for (int round = 0; round < 3; round++) {
		anti_entropy(a, c, 30 * SEC, NULL);
		anti_entropy(b, c, 30 * SEC, NULL);
		anti_entropy(a, b, 30 * SEC, NULL);
	}
	assert_int_equal(anti_entropy(a, c, 30 * SEC, NULL), 0);
	assert_null(get_s(a, "worker:k2", buf, sizeof(buf)));
	assert_null(get_s(c, "worker:minority-early", buf, sizeof(buf)));
	for (int i = 0; i < 3; i++)
		mesh_crdt_digest_get(s[i], &d[i]);
	assert_memory_equal(&d[0], &d[1], sizeof(d[0]));
	assert_memory_equal(&d[0], &d[2], sizeof(d[0]));
	assert_null(get_s(c, "worker:k1", buf, sizeof(buf)));
	for (int i = 0; i < 3; i++)
		mesh_crdt_store_delete(s[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gc_needs_acks_and_grace),
		cmocka_unit_test(test_gc_removed_peer_holds_grace),
		cmocka_unit_test(test_horizon_rules),
		cmocka_unit_test(test_gc_returning_member),
		cmocka_unit_test(test_gc_partitioned_minority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
