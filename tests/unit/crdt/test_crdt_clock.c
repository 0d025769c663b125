/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's hybrid logical clock (crdt_clock.c): an op at (or just below) the 2^62 bound
 * is refused and counted and local writes keep working; the skew bound (default 60 s,
 * configurable, none) on the single and the batch path; a restarted store's first write
 * beats what its previous life wrote; versions never go back when the wall clock does;
 * Lamport-era timestamps (small numbers) still merge deterministically and lose to HLC
 * writes.
 */
#include "crdt_test_util.h"

#define WALL (UINT64_C(1700000000) * SEC) /* 2023-11-14 */
#define MS MESH_NS_PER_MS

static struct mesh_crdt_store *
store_skew(uint64_t replica, uint64_t skew, uint64_t wall)
{
	struct mesh_crdt_config cfg = { .replica_id = replica, .max_skew_ns = skew };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);

	assert_non_null(s);
	assert_int_equal(mesh_crdt_ns_add_defaults(s), 0);
	mesh_crdt_store_set_wall(s, wall);
	return s;
}

static uint64_t
version_ts(struct mesh_crdt_store *s, const char *k)
{
	struct mesh_crdt_version v = { 0 };

	mesh_crdt_get(s, k, strlen(k), NULL, NULL, &v);
	return v.ts;
}

static void
test_bound_op_refused(void **state)
{
	static const uint64_t bad[] = { MESH_CRDT_TS_MAX, MESH_CRDT_TS_MAX - 1,
					MESH_CRDT_TS_MAX + 1, UINT64_MAX };
	struct mesh_crdt_store *s = store_skew(0x10, 0, WALL);
	struct mesh_crdt_op batch[3];
	uint64_t before;
	char buf[16];
	int res[3];

	(void)state;
	assert_int_equal(put_s(s, "worker:k", "first", 0), 0);
	assert_int_equal(version_ts(s, "worker:k"), mesh_crdt_ts_make(WALL));
	before = mesh_crdt_store_clock(s);
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++) {
		bool ch = true;

		assert_int_equal(apply_op(s, op_s("worker:k", "evil", bad[i], 7, false), 0, &ch),
				 -ERANGE);
		assert_false(ch);
		assert_non_null(strstr(mesh_crdt_store_errmsg(s), "max_skew"));
	}
	/* the batch path refuses it too, between good ops */
	batch[0] = op_s("worker:a", "ok", mesh_crdt_ts_make(WALL - SEC), 7, false);
	batch[1] = op_s("worker:k", "evil", MESH_CRDT_TS_MAX, 7, false);
	batch[2] = op_s("worker:b", "ok", mesh_crdt_ts_make(WALL + SEC), 7, false);
	assert_int_equal(mesh_crdt_apply_batch(s, batch, 3, 0, res), 2);
	assert_int_equal(res[1], -ERANGE);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_skew), 5);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_reject), 5);
	/* the clock moved to the good op only; local writes keep working and win */
	assert_int_equal(mesh_crdt_store_clock(s), mesh_crdt_ts_make(WALL + SEC));
	assert_true(mesh_crdt_store_clock(s) > before);
	for (int i = 0; i < 100; i++)
		assert_int_equal(put_s(s, "worker:k", "mine", 0), 0);
	assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "mine");
	assert_true(version_ts(s, "worker:k") < mesh_crdt_ts_make(WALL + 2 * SEC));
	mesh_crdt_store_delete(s);
}

static void
test_skew_bound(void **state)
{
	struct mesh_crdt_store *s = store_skew(0x10, 0, WALL); /* default 60 s */
	bool ch;

	(void)state;
	assert_int_equal(apply_op(s, op_s("worker:a", "v", mesh_crdt_ts_make(WALL + 59 * SEC), 7,
					  false), 0, &ch), 0);
	assert_true(ch);
	/* the whole millisecond at the bound is inside it, the next one is not */
	assert_int_equal(apply_op(s, op_s("worker:b", "v", mesh_crdt_ts_make(WALL + 60 * SEC) |
					  0xffff, 7, false), 0, NULL), 0);
	assert_int_equal(apply_op(s, op_s("worker:c", "v", mesh_crdt_ts_make(WALL + 60 * SEC + MS),
					  7, false), 0, NULL), -ERANGE);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_skew), 1);
	/* a local write after accepting an op from the future still orders after it */
	assert_int_equal(put_s(s, "worker:a", "mine", 0), 0);
	assert_true(version_ts(s, "worker:a") > mesh_crdt_ts_make(WALL + 60 * SEC));
	/* the refused op is accepted once the local wall clock catches up */
	mesh_crdt_store_set_wall(s, WALL + 2 * SEC);
	assert_int_equal(apply_op(s, op_s("worker:c", "v", mesh_crdt_ts_make(WALL + 60 * SEC + MS),
					  7, false), 0, NULL), 0);
	mesh_crdt_store_delete(s);

	/* configurable: 1 s */
	s = store_skew(0x10, SEC, WALL);
	assert_int_equal(apply_op(s, op_s("worker:a", "v", mesh_crdt_ts_make(WALL + 500 * MS), 7,
					  false), 0, NULL), 0);
	assert_int_equal(apply_op(s, op_s("worker:b", "v", mesh_crdt_ts_make(WALL + 2 * SEC), 7,
					  false), 0, NULL), -ERANGE);
	mesh_crdt_store_delete(s);

	/* no skew bound: only TS_MAX; reaching it exhausts the clock (-EOVERFLOW) */
	s = store_skew(0x10, MESH_CRDT_MAX_SKEW_NONE, WALL);
	assert_int_equal(apply_op(s, op_s("worker:a", "v", mesh_crdt_ts_make(WALL + 3600 * SEC), 7,
					  false), 0, NULL), 0);
	assert_int_equal(apply_op(s, op_s("worker:b", "v", MESH_CRDT_TS_MAX + 1, 7, false), 0,
				  NULL), -ERANGE);
	assert_int_equal(apply_op(s, op_s("worker:b", "v", MESH_CRDT_TS_MAX, 7, false), 0, NULL),
			 0);
	assert_int_equal(put_s(s, "worker:b", "mine", 0), -EOVERFLOW);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "clock"));
	mesh_crdt_store_delete(s);
}

/* Node A writes, restarts (new replica id, empty store), writes the same key at once. */
static void
restart(uint64_t old_clock_ahead_ns, bool new_write_wins)
{
	struct mesh_crdt_store *old = store_skew(0xA1, 0, WALL), *b = store_skew(0xB, 0, WALL);
	struct mesh_crdt_store *fresh, *c;
	struct mesh_crdt_op op;
	struct owned_op prev, next;
	char buf[16];

	/* the old life: a few hundred writes, possibly after an op from a clock ahead */
	if (old_clock_ahead_ns)
		assert_int_equal(apply_op(old, op_s("config:x", "p", mesh_crdt_ts_make(WALL +
						old_clock_ahead_ns), 0xB, false), 0, NULL), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(put_s(old, "worker:k", "before", 0), 0);
	assert_int_equal(mesh_crdt_peer_add(old, 0xB), 0);
	assert_int_equal(mesh_crdt_export(old, 0xB, &op, 1, SIZE_MAX), 1);
	while (memcmp(op.key, "worker:k", 8) != 0)
		assert_int_equal(mesh_crdt_export(old, 0xB, &op, 1, SIZE_MAX), 1);
	own_op(&prev, &op);
	assert_int_equal(mesh_crdt_apply(b, &prev.op, 0, NULL), 0);
	mesh_crdt_store_delete(old);

	/* 50 ms later: the new life writes before it caught up on anything */
	fresh = store_skew(0xA2, 0, WALL + 50 * MS);
	assert_int_equal(put_s(fresh, "worker:k", "after", 0), 0);
	assert_int_equal(mesh_crdt_peer_add(fresh, 0xB), 0);
	assert_int_equal(mesh_crdt_export(fresh, 0xB, &op, 1, SIZE_MAX), 1);
	own_op(&next, &op);
	/* every replica, whatever the order, keeps the same write */
	mesh_crdt_store_set_wall(b, WALL + 50 * MS);
	assert_int_equal(mesh_crdt_apply(b, &next.op, 0, NULL), 0);
	assert_int_equal(mesh_crdt_apply(fresh, &prev.op, 0, NULL), 0);
	c = store_skew(0xC, 0, WALL + 50 * MS);
	assert_int_equal(mesh_crdt_apply(c, &next.op, 0, NULL), 0);
	assert_int_equal(mesh_crdt_apply(c, &prev.op, 0, NULL), 0);
	for (int i = 0; i < 3; i++) {
		struct mesh_crdt_store *r = i == 0 ? b : i == 1 ? fresh : c;

		assert_string_equal(get_s(r, "worker:k", buf, sizeof(buf)),
				    new_write_wins ? "after" : "before");
	}
	free(prev.buf);
	free(next.buf);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
	mesh_crdt_store_delete(fresh);
}

static void
test_restart_first_write_wins(void **state)
{
	(void)state;
	restart(0, true);
	/* the old life's clock ran 10 ms ahead of its wall clock: the restart took longer */
	restart(10 * MS, true);
	/* documented limit: the old life's clock ran 30 s ahead (a peer's wall clock was 30 s
	 * fast, inside the skew bound) and the restart took 50 ms: the new write loses until
	 * the wall clock passes the old life's clock. Keep cluster clocks in sync. */
	restart(30 * SEC, false);
}

static void
test_wall_steps_back(void **state)
{
	struct mesh_crdt_store *s = store_skew(0x10, 0, WALL);
	uint64_t last, ts;

	(void)state;
	assert_int_equal(put_s(s, "worker:k", "a", 0), 0);
	last = version_ts(s, "worker:k");
	/* NTP steps the clock back 10 s, then 20 s: versions keep growing */
	for (int step = 1; step <= 2; step++) {
		mesh_crdt_store_set_wall(s, WALL - (uint64_t)step * 10 * SEC);
		for (int i = 0; i < 1000; i++) {
			assert_int_equal(put_s(s, "worker:k", "b", 0), 0);
			ts = version_ts(s, "worker:k");
			assert_true(ts > last);
			last = ts;
		}
	}
	/* more than 65536 writes in one millisecond borrow from the next ones, in order */
	mesh_crdt_store_set_wall(s, WALL + SEC);
	for (int i = 0; i < 70000; i++) {
		assert_int_equal(put_s(s, "config:burst", "x", 0), 0);
		ts = version_ts(s, "config:burst");
		assert_true(ts > last);
		last = ts;
	}
	assert_int_equal(last >> MESH_CRDT_TS_LOGICAL_BITS, (WALL + SEC) / MS + 1);
	/* back to the wall clock once it is ahead again */
	mesh_crdt_store_set_wall(s, WALL + 2 * SEC);
	assert_int_equal(put_s(s, "worker:k", "c", 0), 0);
	assert_int_equal(version_ts(s, "worker:k"), mesh_crdt_ts_make(WALL + 2 * SEC));
	assert_int_equal(mesh_crdt_ts_wall_ns(version_ts(s, "worker:k")), WALL + 2 * SEC);
	mesh_crdt_store_delete(s);
}

static void
test_lamport_era(void **state)
{
	/* an old replica's Lamport version (7) and an HLC one from an hour ago */
	struct mesh_crdt_op lam = op_s("worker:k", "lamport", 7, 0xF, false);
	struct mesh_crdt_op lam_tomb = op_s("worker:k", NULL, 8, 0xF, true);
	struct mesh_crdt_op hlc = op_s("worker:k", "hlc", mesh_crdt_ts_make(WALL - 3600 * SEC), 2,
				       false);
	struct mesh_crdt_digest d[2];
	char buf[16];

	(void)state;
	for (int order = 0; order < 2; order++) {
		struct mesh_crdt_store *s = store_skew(0x10 + (uint64_t)order, 0, WALL);

		assert_int_equal(mesh_crdt_apply(s, order ? &hlc : &lam, 0, NULL), 0);
		assert_int_equal(mesh_crdt_apply(s, &lam_tomb, 0, NULL), 0);
		assert_int_equal(mesh_crdt_apply(s, order ? &lam : &hlc, 0, NULL), 0);
		assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "hlc");
		mesh_crdt_digest_get(s, &d[order]);
		/* Lamport versions still order among themselves */
		assert_int_equal(apply_op(s, op_s("config:l", "one", 3, 0xF, false), 0, NULL), 0);
		assert_int_equal(apply_op(s, op_s("config:l", "two", 4, 0xF, false), 0, NULL), 0);
		assert_int_equal(apply_op(s, op_s("config:l", "old", 2, 0xF, false), 0, NULL), 0);
		assert_string_equal(get_s(s, "config:l", buf, sizeof(buf)), "two");
		/* and a local write on such a key wins */
		assert_int_equal(put_s(s, "config:l", "now", 0), 0);
		assert_string_equal(get_s(s, "config:l", buf, sizeof(buf)), "now");
		mesh_crdt_store_delete(s);
	}
	assert_memory_equal(&d[0], &d[1], sizeof(d[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_op_refused),
		cmocka_unit_test(test_skew_bound),
		cmocka_unit_test(test_restart_first_write_wins),
		cmocka_unit_test(test_wall_steps_back),
		cmocka_unit_test(test_lamport_era),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
