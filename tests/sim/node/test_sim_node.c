/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole meshd nodes (lib/node) in the simulator: a client workload under faults, then heal
 * everything, settle (bounded, virtual time) and check the invariants of sim_node.h
 * (identical digests; every acknowledged write present or superseded everywhere).
 *
 *   test_sim_node n5 [scenario|all [first count]]
 *                                   N = 5, 200 seeds, the scenarios of sim_node_scen.c
 *                                   in turn
 *   test_sim_node n50 [...]         N = 50, 200 seeds, shorter runs, fewer writes
 *   test_sim_node nemesis [...]     N = 5, 1,000 seeds of the nemesis (sim_node_nemesis.c)
 *   test_sim_node fixed [scenario]  fixed seeds: a restarted node catching up from a
 *                                   70,000-key store; regressions (id_collision,
 *                                   relay_storm)
 *   test_sim_node selftest          the checker catches a corrupted store and a lost write
 *   test_sim_node owned [all [first count]]
 *                                   owner-bound keys: 40 seeds, an owner crashes, leaves or restarts,
 *                                   its owned keys must vanish on every survivor
 *                                   (sim_node_owned.c)
 * One line per test sums it up (seeds, failures, virtual seconds, writes, wall time);
 * $MESH_SIM_VERBOSE adds one per seed, $MESH_SIM_TRACE member events and traffic, and
 * $MESH_SIM_SETTLE_MS=<ms> cuts the settle bound (shows what is still wrong by then), and
 * $MESH_SIM_DUMP_CTR adds every nonzero stream counter to a failure's channel dump.
 * Seed i of a suite is base + i and runs scenario (seed % scenarios); MESH_SEED=<n> runs
 * that seed only (and its scenario), which is how a printed failure is replayed. "first
 * count" runs seeds first .. first + count - 1 of the suite (meson shards the suites).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_node.h"
#include "sim_node_scen.h"

struct suite {
	const char *name;
	uint32_t n;
	uint32_t seeds;   /* seed i is base + i */
	uint64_t base;
	const struct nsim_scenario *scen;
	size_t n_scen;
	struct nsim_plan plan;
	bool verbose;     /* a line per seed ($MESH_SIM_VERBOSE or MESH_SEED) */
};

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct totals {
	uint32_t seeds, failed;
	uint64_t virt_ns, acked, refused, dead_events;
};

static void
totals_add(struct totals *t, const struct totals *a)
{
	t->seeds += a->seeds;
	t->failed += a->failed;
	t->virt_ns += a->virt_ns;
	t->acked += a->acked;
	t->refused += a->refused;
	t->dead_events += a->dead_events;
}

/* One seed: start, write under the scenario's faults, heal, settle, check. True if clean. */
static bool
run_seed(const struct suite *su, const struct nsim_scenario *sc, uint64_t seed,
	 struct totals *t)
{
	struct nsim *c = nsim_new(sc->n ? sc->n : su->n, seed, sc->name);
	struct nsim_plan p = su->plan;
	bool ok;

	if (sc->tweak != NULL)
		sc->tweak(c, &p);
	if (p.direct_max != 0)
		c->base.stream.direct_max = p.direct_max;
	c->write_gap_ns = p.write_gap_ns;
	c->write_burst = p.write_burst;
	nsim_start_all(c, p.start_spread_ns);
	sim_run_for(c->w, p.join_ns);
	nsim_writes(c, true);
	sc->faults(c, &p);
	nsim_writes(c, false);
	nsim_heal_all(c);
	if (getenv("MESH_SIM_SETTLE_MS") != NULL) /* debugging: what is still wrong then */
		p.settle_ns = strtoull(getenv("MESH_SIM_SETTLE_MS"), NULL, 0) * NSIM_MS;
	ok = nsim_settle(c, p.settle_ns);
	if (!ok) {
		nsim_report(c, "not settled %.1f s after healing (replay with MESH_SEED=%" PRIu64
			    ")", (double)p.settle_ns / 1e9, seed);
		nsim_check(c, true);
		nsim_dump_channels(c);
	}
	if (su->verbose || !ok)
		printf("seed %" PRIu64 " %s: settled in %.3f s, %" PRIu64 " acked, %" PRIu64
		       " live nodes declared dead, %" PRIu64 " events, %" PRIu64 " datagrams (at most %"
		       PRIu64 " in 10 ms), %" PRIu64 " lost\n",
		       seed, sc->name, ok ? (double)c->settle_ns / 1e9 : -1.0, c->acked,
		       c->dead_events, sim_events(c->w), sim_net_stats(c->w)->sent, c->peak_frames,
		       sim_net_stats(c->w)->dropped_loss + sim_net_stats(c->w)->dropped_partition);
	t->seeds++;
	t->failed += !ok;
	t->virt_ns += sim_now(c->w);
	t->acked += c->acked;
	t->refused += c->refused;
	t->dead_events += c->dead_events;
	nsim_delete(c);
	return ok;
}

static void
summary(const char *name, const struct totals *t, size_t n_scen, double t0)
{
	printf("sim_node_%s: %u seeds, %u failed, %zu scenarios, %.1f virtual s, %" PRIu64
	       " writes acked (%" PRIu64 " refused), %" PRIu64 " live nodes declared dead, "
	       "wall %.2f s\n",
	       name, t->seeds, t->failed, n_scen, (double)t->virt_ns / 1e9, t->acked, t->refused,
	       t->dead_events, wall_s() - t0);
}

static bool
seed_from_env(void)
{
	const char *env = getenv("MESH_SEED");

	return env != NULL && *env != '\0';
}

static int
run_suite(struct suite *su, const char *only, uint32_t first, uint32_t count)
{
	const struct nsim_scenario *sc = NULL;
	struct totals t = { 0 };
	double t0 = wall_s();
	uint32_t seeds = MESH_MIN(count, su->seeds - MESH_MIN(first, su->seeds));

	if (only != NULL && (sc = nsim_scenario_find(su->scen, su->n_scen, only)) == NULL) {
		fprintf(stderr, "unknown scenario %s\n", only);
		return 2;
	}
	if (seed_from_env())
		seeds = 1;
	su->verbose = seeds == 1 || getenv("MESH_SIM_VERBOSE") != NULL;
	for (uint32_t i = 0; i < seeds; i++) {
		uint64_t seed = sim_seed(su->base + first + i);

		run_seed(su, sc ? sc : &su->scen[seed % su->n_scen], seed, &t);
	}
	summary(su->name, &t, sc ? 1 : su->n_scen, t0);
	return t.failed ? 1 : 0;
}

/* Fixed-seed suite: each scenario on its own seeds; exits 1 when a seed fails. */
static int
run_fixed(struct suite *su, const char *only)
{
	struct totals all = { 0 };
	double t0 = wall_s();
	uint32_t n_scen = 0;

	su->verbose = getenv("MESH_SIM_VERBOSE") != NULL;
	for (size_t k = 0; k < su->n_scen; k++) {
		const struct nsim_scenario *sc = &su->scen[k];
		struct totals t = { 0 };

		if (only != NULL && strcmp(only, sc->name) != 0)
			continue;
		n_scen++;
		for (uint32_t i = 0; i < MESH_ARRAY_SIZE(sc->seeds) && sc->seeds[i] != 0; i++) {
			run_seed(su, sc, sim_seed(sc->seeds[i]), &t);
			if (seed_from_env())
				break;
		}
		totals_add(&all, &t);
	}
	summary(su->name, &all, n_scen, t0);
	return all.failed || n_scen == 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "n5";
	const char *only = argc > 2 && strcmp(argv[2], "all") != 0 ? argv[2] : NULL;
	uint32_t first = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
	uint32_t count = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 0) : UINT32_MAX;
	struct suite su = { .name = mode, .seeds = 200, .scen = nsim_scenarios_pass,
			    .n_scen = nsim_n_scenarios_pass };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "selftest") == 0)
		return nsim_selftest();
	if (strcmp(mode, "owned") == 0) /* sim_node_owned.c */
		return nsim_owned_suite(first, argc > 4 ? count : 40);
	if (strcmp(mode, "n5") == 0) {
		su.n = 5;
		su.base = 5000;
		su.plan = nsim_plan_n5;
	} else if (strcmp(mode, "n50") == 0) {
		su.n = 50;
		su.base = 50000;
		su.plan = nsim_plan_n50;
	} else if (strcmp(mode, "nemesis") == 0) {
		su.n = 5;
		su.seeds = 1000;
		su.base = 70000;
		su.plan = nsim_plan_nemesis;
		su.scen = nsim_scenarios_nemesis;
		su.n_scen = nsim_n_scenarios_nemesis;
	} else if (strcmp(mode, "fixed") == 0) {
		su.n = 5;
		su.plan = nsim_plan_n5;
		su.scen = nsim_scenarios_fixed;
		su.n_scen = nsim_n_scenarios_fixed;
		return run_fixed(&su, only);
	} else {
		fprintf(stderr, "usage: %s n5|n50|nemesis|fixed|selftest "
			"[scenario|all [first count]]\n", argv[0]);
		return 2;
	}
	return run_suite(&su, only, first, count);
}
