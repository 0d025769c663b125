/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive fault injection, pure half: the spec parser (good specs, and every kind of bad
 * token refused with a message naming it), the seeded per-frame decision (loss rate over
 * 100k draws, dup=100, delay bounds, reproducibility from a seed) and the delay queue
 * (release order by time with FIFO ties, bound, due-time gating).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"

#define DRAWS 100000

static void
test_parse_good(void **state)
{
	struct mesh_net_fault_spec s;
	char err[160] = "";

	(void)state;
	assert_int_equal(mesh_net_fault_spec_parse("loss=5", &s, err, sizeof(err)), 0);
	assert_true(s.loss > 0.0499 && s.loss < 0.0501);
	assert_true(s.dup == 0);
	assert_int_equal(s.delay_max_ns, 0);
	assert_false(s.has_seed);

	assert_int_equal(mesh_net_fault_spec_parse("loss=0.5,dup=100,delay=100-2000,seed=42", &s,
						   err, sizeof(err)), 0);
	assert_true(s.loss > 0.00499 && s.loss < 0.00501);
	assert_true(s.dup == 1.0);
	assert_int_equal(s.delay_min_ns, 100 * MESH_NS_PER_US);
	assert_int_equal(s.delay_max_ns, 2000 * MESH_NS_PER_US);
	assert_true(s.has_seed);
	assert_int_equal(s.seed, 42);

	assert_int_equal(mesh_net_fault_spec_parse("delay=20000", &s, NULL, 0), 0);
	assert_int_equal(s.delay_min_ns, 20 * MESH_NS_PER_MS);
	assert_int_equal(s.delay_max_ns, 20 * MESH_NS_PER_MS);

	assert_int_equal(mesh_net_fault_spec_parse("seed=0x10,loss=100,dup=0.", &s, NULL, 0), 0);
	assert_int_equal(s.seed, 16);
	assert_true(s.loss == 1.0);
	assert_int_equal(mesh_net_fault_spec_parse("delay=0-10000000,loss=.25", &s, NULL, 0), 0);
	assert_int_equal(s.delay_max_ns, 10000000ULL * MESH_NS_PER_US);
	assert_true(s.loss > 0.00249 && s.loss < 0.00251);
	assert_int_equal(mesh_net_fault_spec_parse("seed=18446744073709551615", &s, NULL, 0), 0);
	assert_int_equal(s.seed, UINT64_MAX);
}

static void
test_parse_format_round_trip(void **state)
{
	struct mesh_net_fault_spec a, b;
	char text[128];

	(void)state;
	assert_int_equal(mesh_net_fault_spec_parse("loss=2.5,dup=10,delay=50-900,seed=7", &a,
						   NULL, 0), 0);
	mesh_net_fault_spec_format(&a, text, sizeof(text));
	assert_string_equal(text, "loss=2.5,dup=10,delay=50-900,seed=7");
	assert_int_equal(mesh_net_fault_spec_parse(text, &b, NULL, 0), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *spec;
		const char *want; /* in the message: the bad token and why */
	} bad[] = {
		{ "", "empty spec" },
		{ ",loss=5", "bad token '': empty" },
		{ "loss=5,", "bad token '': empty" },
		{ "loss=5,,dup=1", "bad token '': empty" },
		{ "loss", "bad token 'loss': expected KEY=VALUE" },
		{ "=5", "bad token '=5': expected KEY=VALUE" },
		{ "jitter=5", "bad token 'jitter=5': unknown key 'jitter'" },
		{ "Loss=5", "bad token 'Loss=5': unknown key 'Loss'" },
		{ " loss=5", "bad token ' loss=5': unknown key ' loss'" },
		{ "loss=5,loss=6", "bad token 'loss=6': 'loss' given twice" },
		{ "seed=1,delay=5,seed=2", "bad token 'seed=2': 'seed' given twice" },
		{ "loss=", "bad token 'loss=': loss wants a percentage" },
		{ "loss=abc", "bad token 'loss=abc': loss wants a percentage" },
		{ "loss=100.5", "bad token 'loss=100.5': loss wants" },
		{ "loss=101", "bad token 'loss=101': loss wants" },
		{ "loss=-1", "bad token 'loss=-1': loss wants" },
		{ "loss=+1", "bad token 'loss=+1': loss wants" },
		{ "loss=5%", "bad token 'loss=5%': loss wants" },
		{ "loss=1e1", "bad token 'loss=1e1': loss wants" },
		{ "loss=.", "bad token 'loss=.': loss wants" },
		{ "loss=1.2.3", "bad token 'loss=1.2.3': loss wants" },
		{ "loss=nan", "bad token 'loss=nan': loss wants" },
		{ "loss=0.0000000000001", "bad token 'loss=0.0000000000001': loss wants" },
		{ "dup=200", "bad token 'dup=200': dup wants a percentage" },
		{ "dup=x", "bad token 'dup=x': dup wants" },
		{ "delay=", "bad token 'delay=': delay wants microseconds" },
		{ "delay=abc", "bad token 'delay=abc': delay wants" },
		{ "delay=5-2", "bad token 'delay=5-2': delay wants" },
		{ "delay=-5", "bad token 'delay=-5': delay wants" },
		{ "delay=5-", "bad token 'delay=5-': delay wants" },
		{ "delay=1-2-3", "bad token 'delay=1-2-3': delay wants" },
		{ "delay=10000001", "bad token 'delay=10000001': delay wants" },
		{ "delay=1-10000001", "bad token 'delay=1-10000001': delay wants" },
		{ "delay=99999999999999999999999", "bad token 'delay=99999999999999999999999'" },
		{ "delay=1.5", "bad token 'delay=1.5': delay wants" },
		{ "seed=", "bad token 'seed=': seed wants an unsigned integer" },
		{ "seed=-1", "bad token 'seed=-1': seed wants" },
		{ "seed=abc", "bad token 'seed=abc': seed wants" },
		{ "seed=0x", "bad token 'seed=0x': seed wants" },
		{ "seed=12x", "bad token 'seed=12x': seed wants" },
		{ "seed=18446744073709551616", "bad token 'seed=18446744073709551616': seed wants" },
		{ "loss=1,delay=100,dup=1,seed=1,loss=2", "'loss' given twice" },
		{ "seed=1111111111111111111111111111111111111111111111111111111111111111111111111"
		  "111111111111111111111111", "too long" },
	};
	struct mesh_net_fault_spec s;

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++) {
		char err[200] = "";

		memset(&s, 0x5a, sizeof(s));
		if (mesh_net_fault_spec_parse(bad[i].spec, &s, err, sizeof(err)) != -EINVAL ||
		    strstr(err, bad[i].want) == NULL)
			fail_msg("spec '%s': got '%s', want '%s'", bad[i].spec, err, bad[i].want);
		/* the output is untouched on refusal */
		assert_int_equal(((const uint8_t *)&s)[0], 0x5a);
	}
	assert_int_equal(mesh_net_fault_spec_parse(NULL, &s, NULL, 0), -EINVAL);
	assert_int_equal(mesh_net_fault_spec_parse("loss=abc", &s, NULL, 0), -EINVAL);
}

static struct mesh_net_fault_spec
spec_of(const char *text)
{
	struct mesh_net_fault_spec s;

	assert_int_equal(mesh_net_fault_spec_parse(text, &s, NULL, 0), 0);
	return s;
}

static void
test_decide_loss_rate(void **state)
{
	struct mesh_net_fault_spec s = spec_of("loss=5");
	struct mesh_net_fault_verdict v;
	struct mesh_rng r;
	unsigned drops = 0;

	(void)state;
	mesh_rng_seed(&r, 0x5eed);
	for (unsigned i = 0; i < DRAWS; i++) {
		if (mesh_net_fault_decide(&s, &r, i, &v) == MESH_NET_FAULT_DROP) {
			assert_int_equal(v.action, MESH_NET_FAULT_DROP);
			drops++;
		} else {
			assert_int_equal(v.dups, 0);
			assert_int_equal(v.delay_ns, 0);
			assert_int_equal(v.release_ns, i);
		}
	}
	/* 5 % +- 0.5 % */
	assert_in_range(drops, DRAWS * 45 / 1000, DRAWS * 55 / 1000);
}

static void
test_decide_extremes(void **state)
{
	struct mesh_net_fault_spec all = spec_of("loss=100"), none = spec_of("loss=0,dup=0");
	struct mesh_net_fault_spec dup = spec_of("dup=100");
	struct mesh_net_fault_verdict v;
	struct mesh_rng r;

	(void)state;
	mesh_rng_seed(&r, 1);
	for (unsigned i = 0; i < DRAWS; i++) {
		assert_int_equal(mesh_net_fault_decide(&all, &r, 5, &v), MESH_NET_FAULT_DROP);
		assert_int_equal(mesh_net_fault_decide(&none, &r, 5, &v), MESH_NET_FAULT_PASS);
		assert_int_equal(v.dups, 0);
		assert_int_equal(mesh_net_fault_decide(&dup, &r, 5, &v), MESH_NET_FAULT_PASS);
		assert_int_equal(v.dups, 1);
		assert_int_equal(v.delay_ns, 0);
	}
}

static void
test_decide_dup_rate(void **state)
{
	struct mesh_net_fault_spec s = spec_of("dup=20");
	struct mesh_net_fault_verdict v;
	struct mesh_rng r;
	unsigned dups = 0;

	(void)state;
	mesh_rng_seed(&r, 99);
	for (unsigned i = 0; i < DRAWS; i++) {
		assert_int_equal(mesh_net_fault_decide(&s, &r, 0, &v), MESH_NET_FAULT_PASS);
		dups += v.dups;
	}
	assert_in_range(dups, DRAWS * 195 / 1000, DRAWS * 205 / 1000);
}

static void
test_decide_delay_range(void **state)
{
	struct mesh_net_fault_spec s = spec_of("delay=100-300");
	struct mesh_net_fault_spec fixed = spec_of("delay=20000");
	struct mesh_net_fault_verdict v;
	struct mesh_rng r;
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0, now = 1000 * MESH_NS_PER_SEC;

	(void)state;
	mesh_rng_seed(&r, 7);
	for (unsigned i = 0; i < DRAWS; i++, now += 17) {
		assert_int_equal(mesh_net_fault_decide(&s, &r, now, &v), MESH_NET_FAULT_PASS);
		assert_in_range(v.delay_ns, 100 * MESH_NS_PER_US, 300 * MESH_NS_PER_US);
		assert_int_equal(v.release_ns, now + v.delay_ns);
		lo = MESH_MIN(lo, v.delay_ns);
		hi = MESH_MAX(hi, v.delay_ns);
		sum += v.delay_ns;
	}
	/* uniform: reaches both ends, mean in the middle */
	assert_true(lo < 101 * MESH_NS_PER_US);
	assert_true(hi > 299 * MESH_NS_PER_US);
	assert_in_range(sum / DRAWS, 198 * MESH_NS_PER_US, 202 * MESH_NS_PER_US);
	for (unsigned i = 0; i < 1000; i++) {
		mesh_net_fault_decide(&fixed, &r, now, &v);
		assert_int_equal(v.delay_ns, 20 * MESH_NS_PER_MS);
		assert_int_equal(v.release_ns, now + 20 * MESH_NS_PER_MS);
	}
}

static void
test_decide_seed_reproducible(void **state)
{
	struct mesh_net_fault_spec s = spec_of("loss=10,dup=30,delay=0-5000");
	struct mesh_net_fault_verdict a, b;
	struct mesh_rng r1, r2, r3;
	unsigned differ = 0;

	(void)state;
	mesh_rng_seed(&r1, 1234);
	mesh_rng_seed(&r2, 1234);
	mesh_rng_seed(&r3, 1235);
	for (unsigned i = 0; i < DRAWS; i++) {
		mesh_net_fault_decide(&s, &r1, i, &a);
		mesh_net_fault_decide(&s, &r2, i, &b);
		assert_int_equal(a.action, b.action);
		assert_int_equal(a.dups, b.dups);
		assert_int_equal(a.delay_ns, b.delay_ns);
		assert_int_equal(a.release_ns, b.release_ns);
		mesh_net_fault_decide(&s, &r3, i, &b);
		differ += a.action != b.action || a.delay_ns != b.delay_ns;
	}
	assert_true(differ > DRAWS / 2);
}

static void
test_delayq_order(void **state)
{
	static struct mesh_net_delayq_slot slots[4096];
	static uintptr_t due[4096];
	struct mesh_net_delayq q;
	struct mesh_rng r;
	uint64_t last = 0;

	(void)state;
	mesh_net_delayq_create(&q, slots, 4096);
	assert_int_equal(mesh_net_delayq_next_ns(&q), UINT64_MAX);
	assert_null(mesh_net_delayq_pop_due(&q, UINT64_MAX));
	mesh_rng_seed(&r, 3);
	for (unsigned i = 0; i < 4096; i++) {
		due[i] = 1 + mesh_rng_below(&r, 1000000);
		assert_int_equal(mesh_net_delayq_push(&q, due[i], &due[i]), 0);
	}
	assert_int_equal(mesh_net_delayq_push(&q, 1, &due[0]), -ENOSPC);
	assert_int_equal(q.n, 4096);
	/* nothing before the earliest release; then everything in release order */
	assert_null(mesh_net_delayq_pop_due(&q, mesh_net_delayq_next_ns(&q) - 1));
	for (unsigned i = 0; i < 4096; i++) {
		uint64_t next = mesh_net_delayq_next_ns(&q);
		uintptr_t *item = mesh_net_delayq_pop_due(&q, 500000);

		if (item == NULL) {
			assert_true(next > 500000);
			item = mesh_net_delayq_pop_due(&q, UINT64_MAX);
		}
		assert_non_null(item);
		assert_int_equal(*item, next);
		assert_true(*item >= last);
		last = *item;
	}
	assert_int_equal(q.n, 0);
}

static void
test_delayq_fifo_ties(void **state)
{
	struct mesh_net_delayq_slot slots[64];
	struct mesh_net_delayq q;
	int items[64];

	(void)state;
	mesh_net_delayq_create(&q, slots, 64);
	/* a fixed delay: equal release times leave in arrival order, interleaved pops too */
	for (int i = 0; i < 64; i++) {
		items[i] = i;
		assert_int_equal(mesh_net_delayq_push(&q, 100 + (uint64_t)(i / 16), &items[i]), 0);
	}
	for (int i = 0; i < 32; i++)
		assert_int_equal(*(int *)mesh_net_delayq_pop_due(&q, 200), i);
	for (int i = 0; i < 32; i++)
		assert_int_equal(mesh_net_delayq_push(&q, 103, &items[i]), 0);
	for (int i = 32; i < 64; i++)
		assert_int_equal(*(int *)mesh_net_delayq_pop_due(&q, 200), i);
	for (int i = 0; i < 32; i++)
		assert_int_equal(*(int *)mesh_net_delayq_pop_due(&q, 103), i);
	assert_null(mesh_net_delayq_pop_due(&q, 200));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_format_round_trip),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_decide_loss_rate),
		cmocka_unit_test(test_decide_extremes),
		cmocka_unit_test(test_decide_dup_rate),
		cmocka_unit_test(test_decide_delay_range),
		cmocka_unit_test(test_decide_seed_reproducible),
		cmocka_unit_test(test_delayq_order),
		cmocka_unit_test(test_delayq_fifo_ties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
