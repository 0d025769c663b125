/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for lib/common: arena, counters, rate limiting, logging hook, rng. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_common.h"

static void
test_arena_alloc_align_full(void **state)
{
	uint8_t buf[256];
	struct mesh_arena a;
	void *p, *q;

	(void)state;
	mesh_arena_create(&a, buf, sizeof(buf));
	p = mesh_arena_alloc(&a, 3, 1);
	assert_non_null(p);
	q = mesh_arena_alloc(&a, 8, 64);
	assert_non_null(q);
	assert_int_equal((uintptr_t)q % 64, 0);
	assert_null(mesh_arena_alloc(&a, 1024, 8));
	assert_int_equal(a.failed, 1);
	assert_null(mesh_arena_alloc(&a, 8, 3)); /* not a power of two */
	assert_int_equal(a.failed, 2);
	mesh_arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_true(a.high_water > 8);
	assert_non_null(mesh_arena_alloc(&a, 200, 1));
	assert_null(mesh_arena_alloc(&a, SIZE_MAX - 8, 1)); /* overflow is refused */
}

#define TEST_COUNTERS(X) X(alpha, "first") X(beta, "second") X(gamma, "third")
enum { TEST_COUNTERS(MESH_COUNTER_ENUM) TEST_CTR_MAX };
static const char *const test_names[] = { TEST_COUNTERS(MESH_COUNTER_NAME) };
static const char *const test_descs[] = { TEST_COUNTERS(MESH_COUNTER_DESC) };

static void
test_counters_rows_sum(void **state)
{
	struct mesh_counters t;
	uint64_t all[TEST_CTR_MAX];

	(void)state;
	assert_int_equal(TEST_CTR_MAX, 3);
	assert_string_equal(test_names[MESH_CTR_beta], "beta");
	assert_int_equal(mesh_counters_create(&t, test_names, test_descs, TEST_CTR_MAX, 4), 0);
	assert_ptr_equal(t.descs, test_descs);
	assert_string_equal(t.descs[MESH_CTR_gamma], "third");
	assert_int_equal(t.row_stride % 8, 0);
	mesh_counter_add(&mesh_counters_row(&t, 0)[MESH_CTR_alpha], 2);
	mesh_counter_add(&mesh_counters_row(&t, 3)[MESH_CTR_alpha], 5);
	mesh_counter_add(&mesh_counters_row(&t, 1)[MESH_CTR_gamma], 1);
	assert_int_equal(mesh_counters_sum(&t, MESH_CTR_alpha), 7);
	assert_int_equal(mesh_counters_sum(&t, MESH_CTR_beta), 0);
	assert_int_equal(mesh_counters_sum(&t, 99), 0);
	mesh_counters_sum_all(&t, all);
	assert_int_equal(all[MESH_CTR_alpha], 7);
	assert_int_equal(all[MESH_CTR_gamma], 1);
	mesh_counters_destroy(&t);
	assert_int_equal(mesh_counters_create(&t, test_names, test_descs, 0, 1), -EINVAL);
	assert_int_equal(mesh_counters_create(&t, test_names, NULL, TEST_CTR_MAX, 1), -EINVAL);
}

static void
test_ratelimit(void **state)
{
	struct mesh_ratelimit rl = MESH_RATELIMIT_INIT(MESH_NS_PER_SEC, 2);

	(void)state;
	assert_true(mesh_ratelimit_allow(&rl, 100));
	assert_true(mesh_ratelimit_allow(&rl, 200));
	assert_false(mesh_ratelimit_allow(&rl, 300));
	assert_int_equal(rl.suppressed, 1);
	assert_true(mesh_ratelimit_allow(&rl, 100 + MESH_NS_PER_SEC));
}

static int hook_calls;
static char hook_last[128];

static void
hook(void *ctx, enum mesh_log_level level, const char *module, const char *msg)
{
	(void)ctx;
	(void)level;
	hook_calls++;
	snprintf(hook_last, sizeof(hook_last), "%s|%s", module, msg);
}

static void
test_log_hook_and_level(void **state)
{
	enum mesh_log_level lvl;

	(void)state;
	mesh_log_hook_set(hook, NULL);
	mesh_log_level_set(MESH_LOG_WARNING);
	mesh_log(MESH_LOG_INFO, "t", "dropped %d", 1);
	assert_int_equal(hook_calls, 0);
	mesh_log(MESH_LOG_ERR, "t", "kept %d", 2);
	assert_int_equal(hook_calls, 1);
	assert_string_equal(hook_last, "t|kept 2");
	assert_int_equal(mesh_log_level_parse("debug", &lvl), 0);
	assert_int_equal(lvl, MESH_LOG_DEBUG);
	assert_int_equal(mesh_log_level_parse("loud", &lvl), -EINVAL);
	assert_string_equal(mesh_log_level_name(MESH_LOG_NOTICE), "notice");
	mesh_log_hook_set(NULL, NULL);
}

static void
test_rng_deterministic_and_bounded(void **state)
{
	struct mesh_rng a, b;

	(void)state;
	mesh_rng_seed(&a, 42);
	mesh_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = mesh_rng_below(&a, 7);
		assert_int_equal(x, mesh_rng_below(&b, 7));
		assert_true(x < 7);
		double u = mesh_rng_unit(&a);
		(void)mesh_rng_unit(&b);
		assert_true(u >= 0.0 && u < 1.0);
	}
	assert_int_equal(mesh_rng_below(&a, 0), 0);
	assert_int_not_equal(mesh_hash64("a", 1), mesh_hash64("b", 1));
	assert_int_not_equal(mesh_hash64_seed("a", 1, 1), mesh_hash64_seed("a", 1, 2));
}

static void
test_hist_buckets_and_quantiles(void **state)
{
	static struct mesh_hist h, snap, base, d;
	uint64_t prev_high = 0;

	(void)state;
	/* buckets tile the value range without gaps, each at most 1/16 wide */
	for (uint32_t i = 0; i < MESH_HIST_BUCKETS - 1; i++) {
		uint64_t lo = mesh_hist_bucket_low(i), hi = mesh_hist_bucket_high(i);

		if (i > 0)
			assert_int_equal(lo, prev_high + 1);
		assert_true(hi >= lo);
		assert_int_equal(mesh_hist_bucket(lo), i);
		assert_int_equal(mesh_hist_bucket(hi), i);
		if (lo >= 16)
			assert_true((hi - lo + 1) * 16 <= lo);
		prev_high = hi;
	}
	assert_int_equal(mesh_hist_bucket(UINT64_MAX), MESH_HIST_BUCKETS - 1);
	assert_int_equal(mesh_hist_bucket(1ULL << 40), MESH_HIST_BUCKETS - 1);

	/* 1..1000 us: quantiles within one bucket of the exact values */
	for (uint64_t v = 1; v <= 1000; v++)
		mesh_hist_add(&h, v * 1000);
	mesh_hist_snapshot(&h, &snap);
	assert_int_equal(snap.count, 1000);
	assert_int_equal(snap.max, 1000000);
	assert_int_equal(snap.sum, 500500000);
	assert_true(mesh_hist_quantile(&snap, 0.5) >= 500000);
	assert_true(mesh_hist_quantile(&snap, 0.5) <= 500000 + 500000 / 16);
	assert_true(mesh_hist_quantile(&snap, 0.99) >= 990000);
	assert_true(mesh_hist_quantile(&snap, 0.99) <= 990000 + 990000 / 16);
	assert_int_equal(mesh_hist_quantile(&snap, 1.0), 1000000);
	assert_true(mesh_hist_quantile(&snap, 0.0) <= 1000 + 1000 / 16);

	/* diff: only what was added after the base snapshot */
	base = snap;
	for (int i = 0; i < 10; i++)
		mesh_hist_add(&h, 7);
	mesh_hist_snapshot(&h, &snap);
	mesh_hist_diff(&snap, &base, &d);
	assert_int_equal(d.count, 10);
	assert_int_equal(d.sum, 70);
	assert_int_equal(mesh_hist_quantile(&d, 0.5), 7);
	assert_int_equal(mesh_hist_quantile(&d, 1.0), 7);
	memset(&d, 0, sizeof(d));
	assert_int_equal(mesh_hist_quantile(&d, 0.5), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alloc_align_full),
		cmocka_unit_test(test_counters_rows_sum),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_log_hook_and_level),
		cmocka_unit_test(test_rng_deterministic_and_bounded),
		cmocka_unit_test(test_hist_buckets_and_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
