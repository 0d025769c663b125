/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every check must be able to fail. Three nodes settle cleanly; then n2 is cut off and
 *   1. its store is written directly (mesh_crdt_put, bypassing the node): the digest
 *      check (a) must report it;
 *   2. n0 acknowledges a PUT and a DEL of worker:1 that cannot reach n2, and an epoch_max
 *      PUT whose recorded value is then raised above anything written (an acknowledgement
 *      no store honours): the acknowledged-write check (b) must report worker:1 on n2
 *      (older version) and rl:0 on all three nodes (older value);
 * and after healing the cluster must settle clean again (the stray write replicates too).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim_node_scen.h"

#define MS NSIM_MS

static int
expect(bool ok, const char *what)
{
	printf("sim_node_selftest: %s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

int
nsim_selftest(void)
{
	struct nsim *c = nsim_new(3, sim_seed(77), "selftest");
	struct mesh_crdt_store *s2;
	uint32_t cut = 2, a, b;
	int bad = 0;

	c->lww_keys = 8;
	c->epoch_keys = 2;
	nsim_start_all(c, 10 * MS);
	sim_run_for(c->w, 200 * MS);
	nsim_writes(c, true);
	sim_run_for(c->w, 200 * MS);
	nsim_writes(c, false);
	bad += expect(nsim_settle(c, 2 * NSIM_SEC) && nsim_check(c, true) == 0,
		      "a clean run passes");

	sim_net_partition(c->w, &cut, 1);
	s2 = mesh_node_store(c->nodes[2].node);
	mesh_crdt_put(s2, "worker:stray", 12, "x", 1, sim_now(c->w));
	a = nsim_check(c, true);
	bad += expect(a == 1 && c->fail_digest == 1 && c->fail_acked == 0,
		      "(a) reports a store written behind the node's back");

	nsim_write(c, 0, NSIM_PUT, 1);
	if (nsim_write(c, 0, NSIM_DEL, 1) != 0)
		bad += expect(false, "a DEL of a live key is acknowledged");
	nsim_write(c, 0, NSIM_EPOCH, 0);
	mesh_crdt_epoch_encode(UINT64_MAX / 2, 0, c->writes[c->n_writes - 1].epoch);
	sim_run_for(c->w, 50 * MS);
	b = nsim_check(c, true);
	/* key worker:1 on n2 (its newest write is the tombstone), rl:0 on all three nodes
	 * (the recorded value was raised above anything written) */
	bad += expect(b > a && c->fail_acked == 4,
		      "(b) reports an acknowledged delete and epoch value that did not arrive");

	c->n_writes--; /* forget the forged epoch value */
	nsim_heal_all(c);
	bad += expect(nsim_settle(c, 2 * NSIM_SEC) && nsim_check(c, true) == 0,
		      "healed, the cluster settles clean again");
	nsim_delete(c);
	return bad ? 1 : 0;
}
