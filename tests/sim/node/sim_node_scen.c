/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault scripts run while clients write (see sim_node_scen.h). Times are offsets from the
 * start of the write phase; a script runs the world for at least p->write_ns. Random
 * choices (which node, how long) come from the world's rng, so a seed replays the run.
 *
 * Must pass (sim_node_n5, sim_node_n50; durations from the suite's plan):
 *   calm           no loss, no faults: the basic path;
 *   lossy          10 % loss, 5 % duplicates, 10 % reordered by 2 ms, exponential delays;
 *   partition      a random minority cut off long enough to be declared dead, then healed;
 *   crash_restart  one node crashes and restarts under its name (higher generation, empty
 *                  store); a second one crashes and stays down or restarts;
 *   pause          one node stopped (SIGSTOP-like) briefly (suspected at most), then long
 *                  enough to be declared dead (it refutes when resumed, its queued input
 *                  is delivered then);
 *   flap           one node isolated twice, long enough to be declared dead, then healed;
 *   flap_reorder   the same while 30 % of datagrams are 100 ms late, far beyond the
 *                  channel's first retransmission timeout (20 ms);
 *   mixed          5 % loss, dup and reordering + a partition + a restart + a short pause.
 * Must pass, fixed seeds (sim_node_fixed):
 *   catchup_70k    n1 is down while n0's store grows to 70,000 keys (more than the
 *                  65,536 ops a channel queues); n1 restarts empty and must catch up;
 *   id_collision   regression, generations 1, 2, ... (gen = life): node ids were XXH3 of
 *                  the name seeded with the generation, which for 1..3-byte names only
 *                  mixes the seed in linearly: ("n20", 2) had the id of ("n21", 1), so
 *                  the restarted n20 was taken for n21 and never caught up;
 *   relay_storm    regression, N = 50 with the default stream.direct_max (32), a node
 *                  flapping: lib/stream relayed every op it applied and deduplicated with
 *                  a direct-mapped table; two live ops in one slot evicted each other and
 *                  were relayed forever. Now only ops that changed the store are relayed.
 * The nemesis (sim_node_nemesis.c, sim_node_nemesis) has its own plan and 1,000 seeds.
 * Cuts and flaps at N = 50 usually leave some node declared dead without knowing it (the
 * death gossip is over before the heal): lib/swim then readmits it only at a push-pull
 * (every 5 s in the fast profile), hence the 12 s settle bound.
 */
#include <string.h>

#include "sim_node_scen.h"

#define MS NSIM_MS
#define SEC NSIM_SEC

/*
 * With the fast SWIM profile a silent node is suspected 6 ms after a probe (4 + 2 ms ack
 * waits) and declared dead one period (8 x max(1, log10 N) ms: 8 ms at N = 5, 13.6 ms at
 * N = 50) after three other members confirmed it, ~20 ms in all: short pauses (10-16 ms)
 * stay below that, cuts, flaps and long pauses above it. An isolated node suspects its peers one probe at
 * a time (slower still under Lifeguard), so at N = 50 it declares few of them dead: the
 * flaps there are one-sided.
 */
const struct nsim_plan nsim_plan_n5 = {
	.start_spread_ns = 20 * MS,
	.join_ns = 100 * MS,
	.write_ns = 1500 * MS,
	.write_gap_ns = 2 * MS,
	.write_burst = 1,
	.cut_ns = 500 * MS,
	.flap_ns = 500 * MS,
	.flap_rounds = 2,
	.pause_max_ns = 16 * MS,
	.pause_long_ns = 300 * MS,
	.settle_ns = 12 * SEC,
};

/*
 * Every write costs about N * (N - 1) batches: fewer, bursty writes and shorter runs.
 * direct_max 64: lib/node pushes every change to every peer itself (its policy, see
 * node_repl.c); with the default 32 lib/stream relays each op that changed a store on top
 * (relay_storm runs that; it passes too, at a higher cost in CPU).
 */
const struct nsim_plan nsim_plan_n50 = {
	.start_spread_ns = 20 * MS,
	.join_ns = 30 * MS,
	.write_ns = 200 * MS,
	.write_gap_ns = 80 * MS,
	.write_burst = 4,
	.cut_ns = 120 * MS,
	.flap_ns = 120 * MS,
	.flap_rounds = 2,
	.pause_max_ns = 16 * MS,
	.pause_long_ns = 150 * MS,
	.settle_ns = 12 * SEC,
	.direct_max = 64,
};

/* the nemesis (sim_node_nemesis.c): faults every 15..60 ms, lasting 20..300 ms */
const struct nsim_plan nsim_plan_nemesis = {
	.start_spread_ns = 20 * MS,
	.join_ns = 100 * MS,
	.write_ns = 500 * MS,
	.write_gap_ns = 4 * MS,
	.write_burst = 1,
	.settle_ns = 12 * SEC,
};

static uint64_t
below(struct nsim *c, uint64_t x)
{
	return x ? mesh_rng_below(sim_rng(c->w), x) : 0;
}

/* a random node other than @not */
static uint32_t
pick_other(struct nsim *c, uint32_t not)
{
	uint32_t i = (uint32_t)below(c, c->n - 1);

	return i >= not ? i + 1 : i;
}

/* run the world until phase offset @off (no-op when already past it) */
static void
at(struct nsim *c, uint64_t t0, uint64_t off)
{
	if (t0 + off > sim_now(c->w))
		sim_run_for(c->w, t0 + off - sim_now(c->w));
}

static void
net_noise(struct nsim *c, double loss, double dup, double reorder, uint64_t extra_ns)
{
	sim_net_set_delay(c->w, SIM_DELAY_EXP, 50 * MESH_NS_PER_US, 150 * MESH_NS_PER_US);
	sim_net_set_loss(c->w, loss);
	sim_net_set_dup(c->w, dup);
	sim_net_set_reorder(c->w, reorder, extra_ns);
}

/* cut off a random minority (1 .. n/2 nodes) from @off for @len; returns the end */
static uint64_t
minority_cut(struct nsim *c, uint64_t t0, uint64_t off, uint64_t len)
{
	uint32_t ids[64], k = 1 + (uint32_t)below(c, MESH_MAX(c->n / 2, 1u)), m = 0;

	at(c, t0, off);
	for (uint32_t i = 0; i < c->n && m < k && m < MESH_ARRAY_SIZE(ids); i++)
		if (below(c, c->n - i) < k - m)
			ids[m++] = i;
	sim_net_partition(c->w, ids, m);
	at(c, t0, off + len);
	sim_net_heal(c->w);
	return off + len;
}

/* isolate one random node @rounds times for @len, 50 ms apart; returns the end */
static uint64_t
flaps(struct nsim *c, uint64_t t0, uint64_t off, uint64_t len, uint32_t rounds)
{
	uint32_t x = (uint32_t)below(c, c->n);

	for (uint32_t r = 0; r < rounds; r++) {
		at(c, t0, off);
		sim_net_partition(c->w, &x, 1);
		off += len;
		at(c, t0, off);
		sim_net_heal(c->w);
		off += 50 * MS;
	}
	return off;
}

/* stop node @x at @off for @len; returns the end */
static uint64_t
pause_once(struct nsim *c, uint32_t x, uint64_t t0, uint64_t off, uint64_t len)
{
	at(c, t0, off);
	nsim_pause(c, x);
	off += len;
	at(c, t0, off);
	nsim_resume(c, x);
	return off;
}

/* 10 ms .. p->pause_max_ns: suspected at most */
static uint64_t
short_pause(struct nsim *c, const struct nsim_plan *p)
{
	return 10 * MS + below(c, p->pause_max_ns - 10 * MS);
}

static void
f_calm(struct nsim *c, const struct nsim_plan *p)
{
	sim_run_for(c->w, p->write_ns);
}

static void
f_lossy(struct nsim *c, const struct nsim_plan *p)
{
	net_noise(c, 0.10, 0.05, 0.10, 2 * MS);
	sim_run_for(c->w, p->write_ns);
}

static void
f_partition(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w), w = p->write_ns;

	at(c, t0, MESH_MAX(w, minority_cut(c, t0, w / 5 + below(c, w / 5), p->cut_ns) + w / 5));
}

static void
f_crash_restart(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w), w = p->write_ns;
	uint32_t x = (uint32_t)below(c, c->n), y = pick_other(c, x);

	at(c, t0, w / 6);
	nsim_crash(c, x);
	at(c, t0, 2 * w / 6);
	nsim_start(c, x);
	at(c, t0, 3 * w / 6);
	nsim_crash(c, y);
	at(c, t0, 4 * w / 6);
	if (below(c, 2))
		nsim_start(c, y);
	at(c, t0, w);
}

/* a short pause (suspected at most), then a long one (declared dead, then refuted) */
static void
f_pause(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w), w = p->write_ns;
	uint32_t x = (uint32_t)below(c, c->n);
	uint64_t off = pause_once(c, x, t0, w / 10, short_pause(c, p)) + w / 10;

	at(c, t0, MESH_MAX(w, pause_once(c, x, t0, off, p->pause_long_ns) + w / 10));
}

static void
f_flap(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w), w = p->write_ns;

	at(c, t0, MESH_MAX(w, flaps(c, t0, w / 10, p->flap_ns, p->flap_rounds) + w / 10));
}

static void
f_mixed(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w), w = p->write_ns, off;
	uint32_t x = (uint32_t)below(c, c->n), y = pick_other(c, x);

	net_noise(c, 0.05, 0.05, 0.05, 2 * MS);
	off = minority_cut(c, t0, w / 10, p->cut_ns) + w / 10;
	at(c, t0, off);
	nsim_restart(c, x);
	off = pause_once(c, y, t0, off + w / 10, short_pause(c, p));
	at(c, t0, MESH_MAX(w, off + w / 10));
}

/* 30 % of datagrams 100 ms late (the channel's rto is 20 ms) while a node flaps */
static void
f_flap_reorder(struct nsim *c, const struct nsim_plan *p)
{
	net_noise(c, 0.0, 0.0, 0.30, 100 * MS);
	f_flap(c, p);
}

const struct nsim_scenario nsim_scenarios_pass[] = {
	{ "calm", 0, NULL, f_calm },
	{ "lossy", 0, NULL, f_lossy },
	{ "partition", 0, NULL, f_partition },
	{ "crash_restart", 0, NULL, f_crash_restart },
	{ "pause", 0, NULL, f_pause },
	{ "flap", 0, NULL, f_flap },
	{ "flap_reorder", 0, NULL, f_flap_reorder },
	{ "mixed", 0, NULL, f_mixed },
};
const size_t nsim_n_scenarios_pass = MESH_ARRAY_SIZE(nsim_scenarios_pass);

/* ---------------------------------------------------------------- fixed seeds */

#define CATCHUP_KEYS 70000u

static void
t_catchup(struct nsim *c, struct nsim_plan *p)
{
	c->lww_keys = CATCHUP_KEYS;
	p->write_gap_ns = SEC; /* the script writes itself */
	p->settle_ns = 3 * SEC;
}

static void
f_catchup(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w);

	nsim_writes(c, false);
	nsim_crash(c, 1);
	for (uint32_t k = 0; k < CATCHUP_KEYS; k++)
		nsim_write(c, 0, NSIM_PUT, k);
	at(c, t0, p->write_ns / 2);
	nsim_start(c, 1);
	at(c, t0, p->write_ns);
}

static void
t_small_gens(struct nsim *c, struct nsim_plan *p)
{
	(void)p;
	c->small_gens = true;
}

static void
f_id_collision(struct nsim *c, const struct nsim_plan *p)
{
	uint64_t t0 = sim_now(c->w);

	at(c, t0, p->write_ns / 4);
	nsim_restart(c, 20);
	at(c, t0, p->write_ns);
}

/* N = 50 with the default direct_max (32): lib/stream relays ops that changed a store */
static void
t_relay(struct nsim *c, struct nsim_plan *p)
{
	(void)c;
	*p = nsim_plan_n50;
	p->direct_max = 0;
}

const struct nsim_scenario nsim_scenarios_fixed[] = {
	{ "catchup_70k", 2, t_catchup, f_catchup, { 901, 902 } },
	{ "id_collision", 22, t_small_gens, f_id_collision, { 901, 902 } },
	{ "relay_storm", 50, t_relay, f_flap, { 50061 } },
};
const size_t nsim_n_scenarios_fixed = MESH_ARRAY_SIZE(nsim_scenarios_fixed);

const struct nsim_scenario *
nsim_scenario_find(const struct nsim_scenario *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return &s[i];
	return NULL;
}
