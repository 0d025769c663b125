/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenarios of the node simulation (sim_node_scen.c): a fault script run while the client
 * workload writes, and the run plan (durations) per suite. test_sim_node.c runs them.
 */
#ifndef MESH_SIM_NODE_SCEN_H
#define MESH_SIM_NODE_SCEN_H

#include <stddef.h>
#include <stdint.h>

#include "sim_node.h"

/** Durations (virtual ns) and sizes of one run. */
struct nsim_plan {
	uint64_t start_spread_ns; /* nodes start within this */
	uint64_t join_ns;         /* then run this long before the workload starts */
	uint64_t write_ns;        /* the workload and the fault script run this long */
	uint64_t write_gap_ns;    /* mean time between client request bursts */
	uint32_t write_burst;     /* requests per burst (at random nodes, same instant) */
	uint64_t cut_ns;          /* a minority partition lasts this long */
	uint64_t flap_ns;         /* one node isolated this long: declared dead by the
				   * others (it declares them dead much later, one probe
				   * at a time) */
	uint32_t flap_rounds;
	uint64_t pause_max_ns;    /* short pauses last 10 ms .. this: suspected, never dead */
	uint64_t pause_long_ns;   /* a long pause: declared dead */
	uint64_t settle_ns;       /* after healing, the invariants must hold within this */
	uint32_t direct_max;      /* stream.direct_max (0: default 32; above it lib/stream
				   * also relays every op it applies) */
};

struct nsim_scenario {
	const char *name;
	uint32_t n; /* 0: the suite's N */
	/** Optional: adjust the world and the plan before the start. */
	void (*tweak)(struct nsim *c, struct nsim_plan *p);
	/** Faults while writing; runs the world for p->write_ns. */
	void (*faults)(struct nsim *c, const struct nsim_plan *p);
	/** Fixed-seed suites: the seeds it runs on (0-terminated). */
	uint64_t seeds[4];
};

extern const struct nsim_plan nsim_plan_n5, nsim_plan_n50, nsim_plan_nemesis;
/** Scenarios that must pass. */
extern const struct nsim_scenario nsim_scenarios_pass[];
extern const size_t nsim_n_scenarios_pass;
/** Must pass on their fixed seeds: expensive ones, and regressions of fixed failures. */
extern const struct nsim_scenario nsim_scenarios_fixed[];
extern const size_t nsim_n_scenarios_fixed;
/** The nemesis of tests/integration in virtual time (sim_node_nemesis.c). */
extern const struct nsim_scenario nsim_scenarios_nemesis[];
extern const size_t nsim_n_scenarios_nemesis;

const struct nsim_scenario *nsim_scenario_find(const struct nsim_scenario *s, size_t n,
					       const char *name);

/** The checker's self-test (sim_node_selftest.c): 0 when every check could fail. */
int nsim_selftest(void);

/** Owner-bound keys (sim_node_owned.c): seeds first .. first + count - 1; 0 when all pass. */
int nsim_owned_suite(uint32_t first, uint32_t count);

#endif /* MESH_SIM_NODE_SCEN_H */
