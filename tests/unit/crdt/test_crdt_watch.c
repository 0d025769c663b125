/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watch reads (crdt_watch.c): reads bounded by a few ops and a few scanned records still
 * return every key under the prefix exactly once, latest version, in seq order, with
 * tombstones unless live_only, and stop at @until; keys changed between reads move
 * behind the cursor's end; a marker counts only changes under its prefix; resume is
 * refused past the store's seq and below a collected tombstone's seq.
 */
#include "crdt_test_util.h"

#define N 2000

static void
test_read_bounded(void **state)
{
	struct mesh_crdt_store *s = store_new(1);
	static bool seen[N];
	struct mesh_crdt_op ops[7];
	uint64_t cursor = 0, last = 0, until, calls = 0;
	unsigned got = 0;
	bool done = false;
	char k[32];

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "%s%d", i % 3 ? "config:" : "worker:", i);
		assert_int_equal(put_s(s, k, "v", 1), 0);
	}
	assert_int_equal(del_s(s, "worker:0", 1), 0);   /* a tombstone: skipped (live_only) */
	until = mesh_crdt_store_seq(s);
	assert_int_equal(put_s(s, "worker:3", "w", 1), 0); /* past until: not read */
	while (!done) {
		uint32_t n = mesh_crdt_watch_read(s, "worker:", 7, &cursor, until, true, ops, 7,
						  13, &done);

		assert_true(n <= 7);
		for (uint32_t i = 0; i < n; i++) {
			char num[16];
			int idx;

			snprintf(num, sizeof(num), "%.*s", (int)ops[i].key_len - 7,
				 (const char *)ops[i].key + 7); /* keys are not NUL-terminated */
			idx = atoi(num);

			assert_false(ops[i].tombstone);
			assert_true(ops[i].seq > last && ops[i].seq <= until);
			last = ops[i].seq;
			assert_false(seen[idx]);
			seen[idx] = true;
			got++;
		}
		assert_true(++calls < 10 * N);
	}
	assert_int_equal(cursor, until);
	/* worker keys are i % 3 == 0: 667, minus worker:0 (deleted) and worker:3 (moved) */
	assert_int_equal(got, 667 - 2);
	assert_false(seen[0] || seen[3]);
	/* then the rest, tombstones too */
	cursor = 0;
	got = mesh_crdt_watch_read(s, "worker:", 7, &cursor, UINT64_MAX, false, ops, 7, 100000,
				   &done);
	assert_int_equal(got, 7);
	assert_false(done);
	cursor = until;
	got = mesh_crdt_watch_read(s, "worker:", 7, &cursor, UINT64_MAX, false, ops, 7, 100000,
				   &done);
	assert_int_equal(got, 1);
	assert_true(done);
	assert_memory_equal(ops[0].key, "worker:3", 8);
	assert_int_equal(cursor, mesh_crdt_store_seq(s));
	mesh_crdt_store_delete(s);
}

static void
test_marks_and_resume(void **state)
{
	struct mesh_crdt_store *s = store_new_grace(1, 1);
	struct mesh_crdt_sub *m = mesh_crdt_watch_mark_new(s, "worker:", 7);
	uint64_t s0, s1;

	(void)state;
	assert_non_null(m);
	assert_int_equal(put_s(s, "config:a", "1", 1), 0);
	assert_int_equal(mesh_crdt_watch_marks(m), 0);
	assert_int_equal(put_s(s, "worker:a", "1", 1), 0);
	assert_int_equal(put_s(s, "worker:b", "1", 1), 0);
	assert_int_equal(mesh_crdt_watch_marks(m), 2);
	assert_int_equal(mesh_crdt_sub_pending(m), 0); /* nothing queued */
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_sub_drop), 0);
	s0 = mesh_crdt_store_seq(s);
	assert_true(mesh_crdt_watch_can_resume(s, s0));
	assert_false(mesh_crdt_watch_can_resume(s, s0 + 1));
	assert_int_equal(del_s(s, "worker:a", 1), 0);
	s1 = mesh_crdt_store_seq(s);
	assert_true(mesh_crdt_watch_can_resume(s, 0));
	assert_int_equal(mesh_crdt_gc(s, 10, 0), 1);
	assert_int_equal(mesh_crdt_store_gc_seq(s), s1);
	assert_false(mesh_crdt_watch_can_resume(s, s0));
	assert_true(mesh_crdt_watch_can_resume(s, s1));
	mesh_crdt_sub_delete(m);
	mesh_crdt_store_delete(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_bounded),
		cmocka_unit_test(test_marks_and_resume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
