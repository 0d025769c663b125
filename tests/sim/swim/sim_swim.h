/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM binding for the simulator and the cluster DSL used by the sim tests and bench/sim.
 *
 *   c = sim_cluster_new(100, &cfg, seed);   // nodes n0..n99 at 10.0.0.1.., not started
 *   sim_cluster_start(c, 1 s);              // each node starts at a random time in 1 s
 *                                           // and joins through n0, n1, n2
 *   sim_cluster_wait_converged(c, 30 s);    // everyone alive everywhere
 *   sim_cluster_set_loss / _partition / _heal / _crash / _pause / _resume / _restart /
 *   _leave / _run_for ...
 *
 * The binding watches every member event: a DEAD about a node that is in fact running
 * (same generation, not crashed, not left) is a false positive (counted and printed);
 * for a crashed node it records the first detection (first suspect/dead event anywhere)
 * and the time at which every running node had declared it dead.
 */
#ifndef MESH_SIM_SWIM_H
#define MESH_SIM_SWIM_H

#include "mesh_swim.h"
#include "sim.h"

struct sim_cluster;

struct sim_swim_node {
	struct sim_cluster *c;
	uint32_t id;
	struct mesh_swim *s;
	uint64_t gen;
	bool started;
	bool pending; /* start scheduled */
	bool crashed;
	bool left;
	/* as a subject (after crash/leave) */
	uint64_t down_at;
	uint64_t first_detect_at; /* 0: not yet */
	uint64_t all_know_at;     /* 0: not yet */
	uint32_t dead_views;
	uint32_t live_at_down;    /* running nodes when it went down */
};

struct sim_cluster {
	struct sim_world *w;
	uint32_t n;
	struct sim_swim_node *nodes;
	struct mesh_swim_cfg cfg;
	uint32_t n_seeds;      /* join through nodes 0 .. n_seeds-1 (default 3) */
	uint64_t false_dead;   /* DEAD events about running nodes */
	uint64_t false_suspect;/* SUSPECT events about running nodes (informational) */
	uint64_t n_events[8];  /* per mesh_swim_event_type */
	bool verbose;          /* print every event */
	bool quiet_fp;         /* do not print false positives */
	uint32_t trace;        /* subject id + 1 whose events are printed ($MESH_SIM_TRACE) */
};

/** A cluster of @n nodes using @cfg (identity fields are filled per node). */
struct sim_cluster *sim_cluster_new(uint32_t n, const struct mesh_swim_cfg *cfg,
				    uint64_t seed);
void sim_cluster_delete(struct sim_cluster *c);

/** Start every node at a random time within @spread_ns (node 0 at once). */
void sim_cluster_start(struct sim_cluster *c, uint64_t spread_ns);
/** Start (or restart after a crash, with a new generation) node @i now. */
void sim_cluster_start_node(struct sim_cluster *c, uint32_t i);

/**
 * Large-N shortcut: start every node now, without seeds, and hand each one the full
 * membership as push-pull blobs (the real merge path, no join storm). For benchmarks
 * whose subject is the steady state and failure detection, not the join.
 */
void sim_cluster_bootstrap(struct sim_cluster *c);

void sim_cluster_run_for(struct sim_cluster *c, uint64_t ns);
uint64_t sim_cluster_now(const struct sim_cluster *c);

void sim_cluster_set_loss(struct sim_cluster *c, double p);
void sim_cluster_partition(struct sim_cluster *c, const uint32_t *ids, size_t n);
void sim_cluster_heal(struct sim_cluster *c);
void sim_cluster_crash(struct sim_cluster *c, uint32_t i);
void sim_cluster_pause(struct sim_cluster *c, uint32_t i);
void sim_cluster_resume(struct sim_cluster *c, uint32_t i);
/** Crash then start again with the same name and generation + 1 (rejoins via seeds). */
void sim_cluster_restart(struct sim_cluster *c, uint32_t i);
/** Graceful leave (the node keeps running until crashed). */
void sim_cluster_leave(struct sim_cluster *c, uint32_t i);

/** Running (started, not crashed, not left) nodes. */
uint32_t sim_cluster_live(const struct sim_cluster *c);
/** Does @observer see @subject with @status (and the subject's current generation)? */
bool sim_cluster_sees(const struct sim_cluster *c, uint32_t observer, uint32_t subject,
		      enum mesh_swim_status status);
/** Every running node sees every other running node alive and no one else alive. */
bool sim_cluster_converged(const struct sim_cluster *c);
/** Run until converged; virtual ns taken or UINT64_MAX. */
uint64_t sim_cluster_wait_converged(struct sim_cluster *c, uint64_t timeout_ns);
/** Run until every running node sees @subject with @status; ns taken or UINT64_MAX. */
uint64_t sim_cluster_wait_status_everywhere(struct sim_cluster *c, uint32_t subject,
					    enum mesh_swim_status status,
					    uint64_t timeout_ns);
/** Sum of one counter over running nodes. */
uint64_t sim_cluster_counter(const struct sim_cluster *c, enum mesh_swim_counter ctr);

#endif /* MESH_SIM_SWIM_H */
