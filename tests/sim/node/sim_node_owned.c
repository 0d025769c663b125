/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner-bound keys with whole nodes (test_sim_node owned). Per seed, N = 3..5 nodes join;
 * while the random client workload runs, node x writes OWN_KEYS owner-bound keys
 * (worker:own:<k>, PUT with owned = true) and OWN_KEYS plain ones (worker:plain:<k>); a
 * survivor overwrites one of x's owned keys plainly and another with an owned write of its
 * own (both later writes must survive x). Once every node holds all of them (the owned
 * flag arrived with the owner's replica id), x's life ends:
 *   crash       x crashes (no leave); the survivors declare it dead;
 *   leave       x leaves gracefully, then stops;
 *   crash_cut   a survivor is cut off from everyone while x crashes and is healed 300 ms
 *               later: it declares everyone dead, x and y included, so it also deletes y's
 *               owned key, and y (alive) must refute that (crdt_owner_reassert);
 *   restart     x crashes and starts again at once under a higher generation, before
 *               anyone declares the old life dead: the new life replaces the old one
 *               without a DEAD event (lib/node/node_owner.c reads the old generation).
 * Within OWN_BOUND (3 s; crash_cut: 12 s, membership re-merges at a push-pull) of the end
 * of x's life, every survivor must see x dead (or left) and hold a tombstone for each of
 * x's owned keys, every plain key, and the two overwrites; the time it took is printed.
 * Then everything heals and the usual invariants must hold (identical digests,
 * acknowledged writes present: nsim_settle), and the owned keys stay deleted. Seed i is 90000 + i; MESH_SEED=<n> replays one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_node.h"
#include "sim_node_scen.h"

#define OWN_KEYS 40u
#define OWN_BOUND (3 * NSIM_SEC)
/* a node cut off declares every other one dead, and they it: membership merges again at a
 * push-pull (every 5 s in the fast profile), so this bound is nsim_settle's */
#define OWN_BOUND_CUT (12 * NSIM_SEC)

enum variant { V_CRASH = 0, V_LEAVE, V_CRASH_CUT, V_RESTART, V_MAX };
static const char *const variant_name[V_MAX] = { "crash", "leave", "crash_cut", "restart" };

/* one PUT at node @i; 0 when acknowledged */
static int
put(struct nsim *c, uint32_t i, const char *k, const char *v, bool owned)
{
	struct nsim_node *nd = &c->nodes[i];
	struct mesh_node_req q = {
		.type = MESH_NODE_REQ_PUT, .client = 1, .client_gen = 1, .id = ++c->next_req_id,
		.key = (const uint8_t *)k, .key_len = (uint32_t)strlen(k),
		.value = (const uint8_t *)v, .value_len = (uint32_t)strlen(v), .owned = owned,
	};

	nd->replied = false;
	mesh_node_request(nd->node, &q, 1, sim_now(c->w));
	nd->poll_soon = true;
	sim_node_poke(c->w, i);
	return nd->replied ? nd->reply_status : -1;
}

struct expect {
	uint32_t x;            /* the owner */
	uint64_t x_gen;        /* its life's generation */
	uint64_t x_replica;    /* its life's replica id */
	uint32_t y;            /* the survivor that overwrites */
	uint32_t cut;          /* crash_cut: the survivor cut off, else UINT32_MAX */
};

static const char *
key_of(char *buf, size_t cap, const char *kind, uint32_t k)
{
	snprintf(buf, cap, "worker:%s:%u", kind, k);
	return buf;
}

/*
 * What node @i holds: phase 0 (before the end of x's life): every key live, x's owned
 * keys owned by x; phase 1: x dead or left, its owned keys tombstones, the rest live.
 * NULL when it holds, else what is wrong.
 */
static const char *
holds(struct nsim *c, const struct expect *e, uint32_t i, int phase)
{
	struct mesh_node *n = c->nodes[i].node;
	struct mesh_crdt_store *s = mesh_node_store(n);
	struct mesh_swim_member_info mi;
	struct nsim_entry en;
	char k[48], name[16];
	int len = snprintf(name, sizeof(name), "n%u", e->x);
	uint64_t who;

	if (phase == 1 && mesh_swim_member_get(mesh_node_swim(n), name, (size_t)len, &mi) == 0 &&
	    mi.gen == e->x_gen &&
	    (mi.status == MESH_SWIM_ALIVE || mi.status == MESH_SWIM_SUSPECT))
		return "the owner is not declared dead yet";
	for (uint32_t j = 0; j < OWN_KEYS; j++) {
		bool owned;

		key_of(k, sizeof(k), "own", j);
		if (!nsim_entry(s, k, &en))
			return "an owned key is missing";
		owned = mesh_crdt_owner_of(s, k, strlen(k), &who);
		if (phase == 0) {
			if (en.tombstone)
				return "an owned key is deleted before its owner's end";
			if (!owned || who != e->x_replica)
				return "an owned key arrived without its owner";
		} else if (j == 0 || j == 1) {
			/* y's later writes: plain over own:0, owned by y over own:1 */
			if (en.tombstone)
				return "a later write over an owned key was deleted";
			if (en.v.replica == e->x_replica || owned != (j == 1) ||
			    (owned && who == e->x_replica))
				return "an overwritten owned key has the wrong version";
		} else if (!en.tombstone) {
			return "an owned key of the ended owner is still live";
		}
		key_of(k, sizeof(k), "plain", j);
		if (!nsim_entry(s, k, &en) || en.tombstone)
			return "a plain key of the owner is missing or deleted";
		if (mesh_crdt_owner_of(s, k, strlen(k), NULL))
			return "a plain key is owned";
	}
	return NULL;
}

/* every survivor (every node before the end) holds @phase; the first complaint or NULL */
static const char *
all_hold(struct nsim *c, const struct expect *e, int phase, uint32_t *who)
{
	for (uint32_t i = 0; i < c->n; i++) {
		const char *why;

		if (!nsim_up(c, i) || (phase == 1 && i == e->x))
			continue;
		if ((why = holds(c, e, i, phase)) != NULL) {
			*who = i;
			return why;
		}
	}
	return NULL;
}

/* run in 5 ms steps until @phase holds or @bound passes; the time it took, or UINT64_MAX */
static uint64_t
wait_hold(struct nsim *c, const struct expect *e, int phase, uint64_t bound,
	  const char **why, uint32_t *who)
{
	uint64_t t0 = sim_now(c->w);

	for (;;) {
		*why = all_hold(c, e, phase, who);
		if (*why == NULL)
			return sim_now(c->w) - t0;
		if (sim_now(c->w) - t0 >= bound)
			return UINT64_MAX;
		sim_run_for(c->w, 5 * NSIM_MS);
	}
}

static bool
run_one(uint64_t seed, uint64_t *took)
{
	enum variant v = (enum variant)(seed % V_MAX);
	uint32_t n = 3 + (uint32_t)(seed / V_MAX % 3);
	struct nsim *c = nsim_new(n, seed, variant_name[v]);
	struct mesh_rng *rng = sim_rng(c->w);
	struct expect e = { .cut = UINT32_MAX };
	const char *why;
	uint32_t who = 0;
	char k[48], val[48];
	bool ok = false;
	uint64_t t, t_end, reasserted = 0, bound = v == V_CRASH_CUT ? OWN_BOUND_CUT : OWN_BOUND;

	c->write_gap_ns = 4 * NSIM_MS;
	nsim_start_all(c, 20 * NSIM_MS);
	sim_run_for(c->w, 300 * NSIM_MS);
	nsim_writes(c, true);
	e.x = (uint32_t)mesh_rng_below(rng, n);
	e.y = (e.x + 1 + (uint32_t)mesh_rng_below(rng, n - 1)) % n;
	if (v == V_CRASH_CUT)
		e.cut = (e.y + 1) % n == e.x ? (e.y + 2) % n : (e.y + 1) % n;
	{
		char name[16];
		int len = snprintf(name, sizeof(name), "n%u", e.x);

		e.x_gen = c->nodes[e.x].gen;
		e.x_replica = mesh_crdt_replica_id_derive(name, (size_t)len, e.x_gen);
	}
	for (uint32_t j = 0; j < OWN_KEYS; j++) {
		snprintf(val, sizeof(val), "x%u:%u", e.x, j);
		if (put(c, e.x, key_of(k, sizeof(k), "own", j), val, true) != 0 ||
		    put(c, e.x, key_of(k, sizeof(k), "plain", j), val, false) != 0) {
			nsim_report(c, "n%u refused a put", e.x);
			goto out;
		}
		sim_run_for(c->w, 1 * NSIM_MS);
	}
	/* y overwrites own:0 plainly and own:1 owned by itself, after it has them */
	if (wait_hold(c, &e, 0, OWN_BOUND, &why, &who) == UINT64_MAX) {
		nsim_report(c, "before the end: n%u: %s (replay with MESH_SEED=%" PRIu64 ")", who,
			    why, seed);
		goto out;
	}
	snprintf(val, sizeof(val), "y%u", e.y);
	if (put(c, e.y, key_of(k, sizeof(k), "own", 0), val, false) != 0 ||
	    put(c, e.y, key_of(k, sizeof(k), "own", 1), val, true) != 0) {
		nsim_report(c, "n%u refused a put", e.y);
		goto out;
	}
	sim_run_for(c->w, 100 * NSIM_MS); /* the overwrites replicate */

	/* the end of x's life */
	t_end = sim_now(c->w);
	if (e.cut != UINT32_MAX)
		sim_net_partition(c->w, &e.cut, 1);
	if (v == V_LEAVE) {
		mesh_node_leave(c->nodes[e.x].node, sim_now(c->w));
		sim_node_poke(c->w, e.x);
		sim_run_for(c->w, 50 * NSIM_MS);
	}
	nsim_crash(c, e.x);
	if (v == V_RESTART)
		nsim_start(c, e.x);
	if (e.cut != UINT32_MAX) {
		sim_run_for(c->w, 300 * NSIM_MS);
		sim_net_heal(c->w);
	}
	t = wait_hold(c, &e, 1, bound, &why, &who);
	if (t == UINT64_MAX) {
		nsim_report(c, "%.1f s after the owner's end: n%u: %s (replay with MESH_SEED=%"
			    PRIu64 ")", (double)bound / 1e9, who, why, seed);
		goto out;
	}
	*took = sim_now(c->w) - t_end;
	nsim_writes(c, false);
	nsim_heal_all(c);
	if (!nsim_settle(c, 12 * NSIM_SEC)) {
		nsim_report(c, "not settled (replay with MESH_SEED=%" PRIu64 ")", seed);
		nsim_check(c, true);
		goto out;
	}
	if ((why = all_hold(c, &e, 1, &who)) != NULL) {
		nsim_report(c, "after settling: n%u: %s (replay with MESH_SEED=%" PRIu64 ")", who,
			    why, seed);
		goto out;
	}
	ok = true;
out:
	for (uint32_t i = 0; i < n; i++)
		if (nsim_up(c, i))
			reasserted += mesh_crdt_store_counter(mesh_node_store(c->nodes[i].node),
							      MESH_CTR_crdt_owner_reasserted);
	if (!ok || getenv("MESH_SIM_VERBOSE") != NULL)
		printf("seed %" PRIu64 " %s N=%u owner n%u: %s, owned keys gone on every survivor "
		       "%.1f ms after its end, %" PRIu64 " expiries refuted by live owners\n",
		       seed, variant_name[v], n, e.x, ok ? "ok" : "FAIL",
		       ok ? (double)*took / 1e6 : -1.0, reasserted);
	nsim_delete(c);
	return ok;
}

int
nsim_owned_suite(uint32_t first, uint32_t count)
{
	uint64_t took[V_MAX] = { 0 }, worst[V_MAX] = { 0 };
	uint32_t runs[V_MAX] = { 0 }, failed = 0;
	const char *env = getenv("MESH_SEED");

	if (env != NULL && *env != '\0')
		count = 1;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t seed = sim_seed(90000 + first + i), t = 0;
		enum variant v = (enum variant)(seed % V_MAX);

		if (!run_one(seed, &t)) {
			failed++;
			continue;
		}
		runs[v]++;
		took[v] += t;
		worst[v] = MESH_MAX(worst[v], t);
	}
	for (int v = 0; v < V_MAX; v++)
		if (runs[v] > 0)
			printf("sim_node_owned %s: %u seeds, owned keys gone on every survivor "
			       "%.1f ms after the owner's end on average, %.1f ms at worst\n",
			       variant_name[v], runs[v], (double)took[v] / runs[v] / 1e6,
			       (double)worst[v] / 1e6);
	printf("sim_node_owned: %u seeds, %u failed\n", count, failed);
	return failed ? 1 : 0;
}
