/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM scaling driver: N simulated nodes (default N = 10, 100, 1000, 10000) running the
 * real lib/swim with memberlist-LAN timings over the fake network (50-150 us delay,
 * no loss unless --loss), in virtual time.
 *
 * Per N: join (3 seeds, starts spread over a few seconds) until every node sees every other
 * alive; steady-state load over a window (messages and bytes per member per protocol
 * period); then C crashes one after the other: time to first detection (first SUSPECT
 * anywhere) and time until all running nodes declared the node DEAD; false positives
 * (DEAD about a running node) over the whole run. Printed as a markdown table next to the
 * memberlist-defaults model (anchors.md §1.3/§1.4 formulas).
 *
 *   bench_sim_swim [--fast] [--loss P] [--seed S] [N ...]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sim_swim.h"

#define SEC MESH_NS_PER_SEC
#define MS MESH_NS_PER_MS

struct result {
	uint32_t n;
	double join_s;
	double msgs_pp, bytes_pp; /* per member per protocol period */
	double det_med, det_max;  /* first detection, s */
	double all_med, all_max;  /* dead everywhere, s */
	uint32_t crashes, undetected;
	uint64_t false_dead;
	double wall_s;
	long rss_mb;
};

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Count-based convergence: every running node sees N_live - 1 alive members. */
static bool
pred_counts(void *ctx)
{
	struct sim_cluster *c = ctx;
	uint32_t live = 0;

	for (uint32_t i = 0; i < c->n; i++)
		if (c->nodes[i].pending)
			return false;
	live = sim_cluster_live(c);
	for (uint32_t i = 0; i < c->n; i++) {
		struct sim_swim_node *nd = &c->nodes[i];

		if (!nd->started || nd->crashed || nd->left)
			continue;
		if (mesh_swim_member_count(nd->s, MESH_SWIM_ALIVE) != live - 1)
			return false;
	}
	return true;
}

struct know_pred {
	struct sim_cluster *c;
	uint32_t v;
};

static bool
pred_all_know(void *ctx)
{
	struct know_pred *k = ctx;

	return k->c->nodes[k->v].all_know_at != 0;
}

static uint32_t bootstrap_above = 2000;

static struct result
run_one(uint32_t n, bool fast, double loss, uint64_t seed)
{
	struct mesh_swim_cfg cfg;
	struct sim_cluster *c;
	struct result r = { .n = n };
	double t0 = wall(), det[16], all[16];
	uint64_t t, sent0, bytes0, window, period;
	uint32_t crashes = n >= 10000 ? 3 : n >= 1000 ? 5 : n >= 100 ? 8 : 3;
	struct rusage ru;

	if (fast)
		mesh_swim_cfg_fast(&cfg);
	else
		mesh_swim_cfg_lan(&cfg);
	period = cfg.probe_interval_ns;
	cfg.size_hint = n;
	c = sim_cluster_new(n, &cfg, seed + n);
	c->quiet_fp = true;
	if (n > bootstrap_above) {
		/* the N^2 join storm is too slow to simulate here: install the converged
		 * membership through push-pull blobs instead (join time not measured) */
		sim_cluster_bootstrap(c);
		t = sim_run_until(c->w, pred_counts, c, period, 600 * period);
		r.join_s = -1;
	} else {
		sim_cluster_start(c, n >= 1000 ? 10 * period : 2 * period);
		t = sim_run_until(c->w, pred_counts, c, period, 600 * period);
		r.join_s = t == UINT64_MAX ? -2 : (double)t / 1e9;
	}
	fprintf(stderr, "N=%u: joined in %.1f s virtual (%.1f s wall)\n", n, r.join_s,
		wall() - t0);
	sim_cluster_set_loss(c, loss);
	/* let the join rumours and first push-pulls settle, then measure steady load */
	sim_cluster_run_for(c, 10 * period);
	sent0 = sim_net_stats(c->w)->sent;
	bytes0 = sim_net_stats(c->w)->sent_bytes;
	/* one full (scaled) push-pull interval, so anti-entropy is in the average */
	window = MESH_MAX(30 * period, mesh_swim_push_pull_scale(cfg.push_pull_interval_ns, n));
	sim_cluster_run_for(c, window);
	r.msgs_pp = (double)(sim_net_stats(c->w)->sent - sent0) / n / ((double)window / period);
	r.bytes_pp =
		(double)(sim_net_stats(c->w)->sent_bytes - bytes0) / n / ((double)window / period);
	fprintf(stderr, "N=%u: steady %.2f msgs, %.0f B per member per period (%.1f s wall)\n",
		n, r.msgs_pp, r.bytes_pp, wall() - t0);
	for (uint32_t k = 0; k < crashes; k++) {
		uint32_t v = 3 + (uint32_t)mesh_rng_below(sim_rng(c->w), n - 3);
		struct know_pred kp;

		while (c->nodes[v].crashed) /* crashes < n - 3: terminates */
			v = 3 + (v + 1 - 3) % (n - 3);
		kp.c = c;
		kp.v = v;
		sim_cluster_run_for(c, mesh_rng_below(sim_rng(c->w), period));
		sim_cluster_crash(c, v);
		t = sim_run_until(c->w, pred_all_know, &kp, period / 10, 300 * period);
		if (t == UINT64_MAX || c->nodes[v].first_detect_at == 0) {
			r.undetected++;
			continue;
		}
		det[r.crashes] = (double)(c->nodes[v].first_detect_at - c->nodes[v].down_at) / 1e9;
		all[r.crashes] = (double)(c->nodes[v].all_know_at - c->nodes[v].down_at) / 1e9;
		r.crashes++;
		fprintf(stderr, "N=%u: crash %u: first detection %.3f s, all know %.3f s\n", n, k,
			det[r.crashes - 1], all[r.crashes - 1]);
		sim_cluster_run_for(c, 5 * period);
	}
	if (r.crashes) {
		qsort(det, r.crashes, sizeof(det[0]), cmp_d);
		qsort(all, r.crashes, sizeof(all[0]), cmp_d);
		r.det_med = det[r.crashes / 2];
		r.det_max = det[r.crashes - 1];
		r.all_med = all[r.crashes / 2];
		r.all_max = all[r.crashes - 1];
	}
	r.false_dead = c->false_dead;
	getrusage(RUSAGE_SELF, &ru);
	r.rss_mb = ru.ru_maxrss / 1024;
	sim_cluster_delete(c);
	r.wall_s = wall() - t0;
	return r;
}

int
main(int argc, char **argv)
{
	uint32_t ns[8] = { 10, 100, 1000, 10000 };
	size_t nn = 0;
	bool fast = false;
	double loss = 0;
	uint64_t seed = sim_seed(4242);
	struct result res[8];
	struct mesh_swim_cfg cfg;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fast"))
			fast = true;
		else if (!strcmp(argv[i], "--loss") && i + 1 < argc)
			loss = atof(argv[++i]);
		else if (!strcmp(argv[i], "--bootstrap-above") && i + 1 < argc)
			bootstrap_above = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (nn < 8)
			ns[nn++] = (uint32_t)strtoul(argv[i], NULL, 0);
	}
	if (nn == 0)
		nn = 4;
	mesh_log_level_set(MESH_LOG_ERR);
	if (fast)
		mesh_swim_cfg_fast(&cfg);
	else
		mesh_swim_cfg_lan(&cfg);
	for (size_t i = 0; i < nn; i++)
		res[i] = run_one(ns[i], fast, loss, seed);

	printf("\n### SWIM scaling (%s profile, loss %.0f %%, seed %" PRIu64 ")\n\n",
	       fast ? "fast" : "LAN", loss * 100, seed);
	printf("| N | join (s) | first detection median / max (s) | all know median / max (s) "
	       "| false pos. | msgs / member / period | bytes / member / period | wall (s) | "
	       "peak RSS (MB) |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < nn; i++) {
		struct result *r = &res[i];

		if (r->join_s == -1)
			printf("| %u | (bootstrapped) | %.3f / %.3f | %.3f / %.3f | %" PRIu64
			       " | %.2f | %.0f | %.1f | %ld |\n",
			       r->n, r->det_med, r->det_max, r->all_med, r->all_max,
			       r->false_dead, r->msgs_pp, r->bytes_pp, r->wall_s, r->rss_mb);
		else
			printf("| %u | %.1f | %.3f / %.3f | %.3f / %.3f | %" PRIu64
			       " | %.2f | %.0f | %.1f | %ld |\n",
			       r->n, r->join_s, r->det_med, r->det_max, r->all_med, r->all_max,
			       r->false_dead, r->msgs_pp, r->bytes_pp, r->wall_s, r->rss_mb);
		if (r->undetected)
			printf("|   | (%u crash(es) not detected everywhere in time) |||||||\n",
			       r->undetected);
	}
	printf("\n### memberlist-defaults model "
	       "(anchors.md §1.3 formulas, §1.4 dissemination)\n\n");
	printf("| N | E[first detection] (s) | suspicion min / max (s) | dissemination t100 (s) "
	       "| all know: model range (s) | retransmit limit | push-pull (s) | msgs / member "
	       "/ period |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < nn; i++) {
		uint32_t n = res[i].n;
		double T = (double)cfg.probe_interval_ns / 1e9;
		double first = T * M_E / (M_E - 1.0); /* SWIM: T / (1 - e^-1) */
		double smin = (double)mesh_swim_suspicion_timeout_ns(cfg.suspicion_mult, n,
								     cfg.probe_interval_ns) /
			      1e9;
		double smax = smin * cfg.suspicion_max_mult;
		/* anchors §1.4 Monte-Carlo replica at 200 ms gossip: ~(log4 N + 1) rounds */
		double t100 = (log((double)n) / log(4.0) + 1.0) *
			      ((double)cfg.gossip_interval_ns / 1e9);

		printf("| %u | %.2f | %.1f / %.1f | %.1f | %.1f .. %.1f | %u | %.0f | ~2 (+ %u "
		       "indirect on loss) |\n",
		       n, first, smin, smax, t100, first + smin + t100, first + smax + t100,
		       mesh_swim_retransmit_limit(cfg.retransmit_mult, n),
		       (double)mesh_swim_push_pull_scale(cfg.push_pull_interval_ns, n) / 1e9,
		       4 * cfg.indirect_checks);
	}
	return 0;
}
