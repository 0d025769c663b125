/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * epoch_max (EpochMaxWins): upstream's test list (round trip incl. u64 max / i64 min,
 * lengths 0/15/17 rejected, reset via higher epoch with count 0, idempotence,
 * associativity, commutativity), malformed-side rules, and the rl: namespace in the store.
 */
#include "crdt_test_util.h"

struct ec {
	uint8_t b[MESH_CRDT_EPOCH_LEN];
};

static struct ec
enc(uint64_t epoch, int64_t count)
{
	struct ec e;

	mesh_crdt_epoch_encode(epoch, count, e.b);
	return e;
}

/* merge as a value: the winner's bytes */
static struct ec
merge(struct ec l, struct ec r)
{
	return mesh_crdt_epoch_merge(l.b, 16, r.b, 16) ? r : l;
}

static void
test_round_trip(void **state)
{
	static const struct mesh_crdt_epoch cases[] = {
		{ 0, 0 }, { 1, -1 }, { UINT64_MAX, INT64_MIN }, { UINT64_MAX, INT64_MAX },
		{ 0, INT64_MIN }, { 42, 7 },
	};
	struct mesh_crdt_epoch d;

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(cases); i++) {
		struct ec e = enc(cases[i].epoch, cases[i].count);

		assert_int_equal(mesh_crdt_epoch_decode(e.b, 16, &d), 0);
		assert_true(d.epoch == cases[i].epoch);
		assert_true(d.count == cases[i].count);
	}
	/* big-endian layout pinned */
	struct ec e = enc(0x0102030405060708ULL, -2);
	static const uint8_t want[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	assert_memory_equal(e.b, want, 16);
}

static void
test_bad_lengths(void **state)
{
	uint8_t buf[17] = { 0 };
	struct mesh_crdt_epoch d;

	(void)state;
	assert_int_equal(mesh_crdt_epoch_decode(buf, 0, &d), -EINVAL);
	assert_int_equal(mesh_crdt_epoch_decode(buf, 15, &d), -EINVAL);
	assert_int_equal(mesh_crdt_epoch_decode(buf, 17, &d), -EINVAL);
	assert_int_equal(mesh_crdt_epoch_decode(NULL, 16, &d), -EINVAL);
	assert_int_equal(mesh_crdt_epoch_decode(buf, 16, &d), 0);
}

static void
test_order_and_reset(void **state)
{
	struct ec hi_count = enc(1, 1000), reset = enc(2, 0), same_epoch_more = enc(1, 1001);

	(void)state;
	/* higher epoch wins even with a lower count: a window reset */
	assert_memory_equal(merge(hi_count, reset).b, reset.b, 16);
	assert_memory_equal(merge(reset, hi_count).b, reset.b, 16);
	/* same epoch: higher count */
	assert_memory_equal(merge(hi_count, same_epoch_more).b, same_epoch_more.b, 16);
	assert_memory_equal(merge(same_epoch_more, hi_count).b, same_epoch_more.b, 16);
	/* signed counts: -1 < 0 (a bytewise max would get this wrong) */
	assert_memory_equal(merge(enc(3, -1), enc(3, 0)).b, enc(3, 0).b, 16);
	assert_memory_equal(merge(enc(3, INT64_MIN), enc(3, INT64_MAX)).b, enc(3, INT64_MAX).b, 16);
	/* u64 epochs compare unsigned */
	assert_memory_equal(merge(enc(UINT64_MAX, INT64_MIN), enc(1, INT64_MAX)).b,
			    enc(UINT64_MAX, INT64_MIN).b, 16);
	/* equal values: local kept (no change reported) */
	assert_int_equal(mesh_crdt_epoch_merge(reset.b, 16, reset.b, 16), 0);
}

static void
test_malformed_sides(void **state)
{
	struct ec ok = enc(5, 5);
	uint8_t bad[17] = { 0xff };

	(void)state;
	/* malformed remote loses */
	assert_int_equal(mesh_crdt_epoch_merge(ok.b, 16, bad, 15), 0);
	assert_int_equal(mesh_crdt_epoch_merge(ok.b, 16, bad, 17), 0);
	assert_int_equal(mesh_crdt_epoch_merge(ok.b, 16, NULL, 0), 0);
	/* malformed local loses to well-formed remote */
	assert_int_equal(mesh_crdt_epoch_merge(bad, 17, ok.b, 16), 1);
	assert_int_equal(mesh_crdt_epoch_merge(NULL, 0, ok.b, 16), 1);
	/* both malformed: keep local */
	assert_int_equal(mesh_crdt_epoch_merge(bad, 15, bad, 17), 0);
	assert_int_equal(mesh_crdt_epoch_merge(bad, 17, bad, 0), 0);
}

static void
test_laws(void **state)
{
	uint64_t seed = test_seed("epoch_laws");
	struct mesh_rng r;

	(void)state;
	mesh_rng_seed(&r, seed);
	for (int i = 0; i < 20000; i++) {
		/* small domains so ties are frequent */
		struct ec a = enc(mesh_rng_below(&r, 4), (int64_t)mesh_rng_below(&r, 5) - 2);
		struct ec b = enc(mesh_rng_below(&r, 4), (int64_t)mesh_rng_below(&r, 5) - 2);
		struct ec c = enc(mesh_rng_below(&r, 4), (int64_t)mesh_rng_below(&r, 5) - 2);

		if (i % 97 == 0)
			a = enc(UINT64_MAX, INT64_MIN);
		/* idempotent */
		assert_memory_equal(merge(a, a).b, a.b, 16);
		/* commutative */
		assert_memory_equal(merge(a, b).b, merge(b, a).b, 16);
		/* associative */
		assert_memory_equal(merge(merge(a, b), c).b, merge(a, merge(b, c)).b, 16);
	}
}

static void
test_store_rl(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10), *t = store_new(0x20);
	struct ec v1 = enc(1, 10), v0 = enc(1, 3), reset = enc(2, 0);
	struct mesh_crdt_epoch d;
	struct mesh_crdt_op op;
	const void *val;
	uint32_t len;
	bool ch;

	(void)state;
	assert_int_equal(mesh_crdt_put(s, "rl:a", 4, v1.b, 16, 0), 0);
	/* a lower local put merges (no change) */
	assert_int_equal(mesh_crdt_put(s, "rl:a", 4, v0.b, 16, 0), 0);
	assert_int_equal(mesh_crdt_get(s, "rl:a", 4, &val, &len, NULL), 0);
	assert_int_equal(len, 16);
	assert_memory_equal(val, v1.b, 16);
	/* malformed puts are refused with a clear error */
	assert_int_equal(mesh_crdt_put(s, "rl:a", 4, v1.b, 15, 0), -EINVAL);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "must be 16 bytes"));
	assert_int_equal(mesh_crdt_put(s, "rl:a", 4, v1.b, 0, 0), -EINVAL);
	assert_int_equal(mesh_crdt_delete(s, "rl:a", 4, 0), -EOPNOTSUPP);
	/* remote: lower loses even with a newer timestamp; reset wins with an older one */
	op = (struct mesh_crdt_op){ .key = "rl:a", .key_len = 4, .value = v0.b, .value_len = 16,
				    .ts = 1000, .replica = 9 };
	assert_int_equal(mesh_crdt_apply(s, &op, 0, &ch), 0);
	assert_false(ch);
	op.value = reset.b;
	op.ts = 1;
	assert_int_equal(mesh_crdt_apply(s, &op, 0, &ch), 0);
	assert_true(ch);
	mesh_crdt_get(s, "rl:a", 4, &val, &len, NULL);
	assert_int_equal(mesh_crdt_epoch_decode(val, len, &d), 0);
	assert_true(d.epoch == 2 && d.count == 0);
	/* malformed remote: loses to the local value (refused, state unchanged) */
	op.value_len = 17;
	assert_int_equal(mesh_crdt_apply(s, &op, 0, &ch), -EINVAL);
	assert_false(ch);
	/* replicas converge on the max whatever the versions carried */
	op = (struct mesh_crdt_op){ .key = "rl:a", .key_len = 4, .value = reset.b, .value_len = 16,
				    .ts = 7, .replica = 3 };
	assert_int_equal(mesh_crdt_put(t, "rl:a", 4, v1.b, 16, 0), 0);
	assert_int_equal(mesh_crdt_apply(t, &op, 0, &ch), 0);
	assert_true(ch);
	struct mesh_crdt_digest ds, dt;
	mesh_crdt_digest_get(s, &ds);
	mesh_crdt_digest_get(t, &dt);
	assert_memory_equal(&ds, &dt, sizeof(ds));
	mesh_crdt_store_delete(s);
	mesh_crdt_store_delete(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_order_and_reset),
		cmocka_unit_test(test_malformed_sides),
		cmocka_unit_test(test_laws),
		cmocka_unit_test(test_store_rl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
