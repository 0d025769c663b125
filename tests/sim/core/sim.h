/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/sim/core: a deterministic fake world for protocol code.
 *
 * - a virtual clock (ns) and an event heap (deliveries, node ticks, user callbacks), ordered
 *   by (time, insertion sequence), so a run is a pure function of the seed;
 * - a fake datagram network between nodes: global / per-node / per-link loss, a delay
 *   distribution (uniform or exponential tail), duplication, reordering (extra delay on a
 *   fraction of packets), partitions (nodes put into numbered groups; only nodes of the same
 *   group talk), per-node crash (drop everything), pause (packets queue, ticks stop; both
 *   resume later) and revive;
 * - nodes are generic: an input callback, a tick callback and a deadline query. Protocol
 *   bindings (tests/sim/swim/sim_swim.c for SWIM; stream/CRDT layers likewise) adapt their
 *   state machine to these callbacks and send through sim_send().
 *
 * Seeds: sim_seed(default) returns $MESH_SEED when set, else @default, and prints
 * "sim: seed=<n> (replay with MESH_SEED=<n>)" once per world.
 */
#ifndef MESH_SIM_H
#define MESH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A node address: IPv4 10.x.y.z (node id + 1) and a port, host order. */
struct sim_addr {
	uint32_t ip;
	uint16_t port;
};

#define SIM_BASE_IP 0x0A000001u
#define SIM_PORT 7946u

/** What the simulator calls on a node. ctx is the binding's per-node state. */
struct sim_node_ops {
	/** One datagram for the node (payload valid during the call only). */
	void (*input)(void *ctx, uint64_t now_ns, const struct sim_addr *from,
		      const uint8_t *msg, size_t len);
	/** Timers: called at (or after) the time returned by deadline(). */
	void (*tick)(void *ctx, uint64_t now_ns);
	/** Next time tick() must run (UINT64_MAX: none). */
	uint64_t (*deadline)(void *ctx);
};

enum sim_node_state {
	SIM_NODE_DOWN = 0, /* not started or crashed: everything to it is dropped */
	SIM_NODE_UP,
	SIM_NODE_PAUSED,   /* inbound queued (bounded), no ticks */
};

enum sim_delay_kind {
	SIM_DELAY_UNIFORM = 0, /* min + U[0, spread) */
	SIM_DELAY_EXP,         /* min + Exp(mean = spread), capped at min + 20 * spread */
};

/** Network counters. */
struct sim_net_stats {
	uint64_t sent;
	uint64_t sent_bytes;
	uint64_t delivered;
	uint64_t dropped_loss;
	uint64_t dropped_partition;
	uint64_t dropped_down;
	uint64_t dropped_unknown;
	uint64_t dropped_queue;
	uint64_t duplicated;
	uint64_t reordered;
};

struct sim_world;

/** $MESH_SEED if set (decimal or 0x hex), else @dflt. */
uint64_t sim_seed(uint64_t dflt);

/** A world with virtual time 0 and a network with no loss and 50..150 us delay. */
struct sim_world *sim_world_new(uint64_t seed);
void sim_world_delete(struct sim_world *w);

uint64_t sim_world_seed(const struct sim_world *w);
uint64_t sim_now(const struct sim_world *w);
/** The world's deterministic rng (bindings use it for their protocol randomness). */
struct mesh_rng *sim_rng(struct sim_world *w);

/** Add a node (state DOWN until sim_node_start). Returns its id (0, 1, ...). */
uint32_t sim_node_add(struct sim_world *w);
uint32_t sim_node_count(const struct sim_world *w);
struct sim_addr sim_node_addr(const struct sim_world *w, uint32_t id);
/** Node id of an address, or UINT32_MAX. */
uint32_t sim_addr_node(const struct sim_world *w, const struct sim_addr *a);

/** Attach callbacks and mark the node UP (also used to revive a crashed node). */
void sim_node_start(struct sim_world *w, uint32_t id, const struct sim_node_ops *ops,
		    void *ctx);
/** Crash: DOWN, queued input discarded, callbacks detached. */
void sim_node_crash(struct sim_world *w, uint32_t id);
/** Pause: inbound packets queue (up to 4096, then dropped), no ticks. */
void sim_node_pause(struct sim_world *w, uint32_t id);
/** Resume a paused node: queued packets are delivered now, then timers run. */
void sim_node_resume(struct sim_world *w, uint32_t id);
enum sim_node_state sim_node_state(const struct sim_world *w, uint32_t id);
/** Re-read the node's deadline (call after driving the node outside a callback). */
void sim_node_poke(struct sim_world *w, uint32_t id);

/** Send a datagram from node @from (called by bindings from their env). */
void sim_send(struct sim_world *w, uint32_t from, const struct sim_addr *to,
	      const uint8_t *msg, size_t len);

/* network knobs */
void sim_net_set_delay(struct sim_world *w, enum sim_delay_kind kind, uint64_t min_ns,
		       uint64_t spread_ns);
void sim_net_set_loss(struct sim_world *w, double p);
/** Extra loss on everything a node sends (@out) and receives (@in). */
void sim_net_set_node_loss(struct sim_world *w, uint32_t id, double in, double out);
/** Loss on one directed link (overrides the global loss; < 0 removes the override). */
void sim_net_set_link_loss(struct sim_world *w, uint32_t from, uint32_t to, double p);
void sim_net_set_dup(struct sim_world *w, double p);
/** A fraction @p of packets gets @extra_ns more delay (overtaken by later ones). */
void sim_net_set_reorder(struct sim_world *w, double p, uint64_t extra_ns);
/** Put @ids into a new partition group (they only talk among themselves). */
void sim_net_partition(struct sim_world *w, const uint32_t *ids, size_t n);
/** Everyone back in group 0. */
void sim_net_heal(struct sim_world *w);
const struct sim_net_stats *sim_net_stats(const struct sim_world *w);

/** Callback at virtual time @at_ns (>= now). */
typedef void (*sim_timer_f)(struct sim_world *w, void *ctx, uint64_t arg);
void sim_at(struct sim_world *w, uint64_t at_ns, sim_timer_f fn, void *ctx, uint64_t arg);

/** Run events until virtual time now + @ns (the clock ends exactly there). */
void sim_run_for(struct sim_world *w, uint64_t ns);

/** Predicate for sim_run_until. */
typedef bool (*sim_pred_f)(void *ctx);

/**
 * Run until @pred holds (checked every @step_ns of virtual time) or @timeout_ns passes.
 * Returns the virtual time taken, or UINT64_MAX on timeout.
 */
uint64_t sim_run_until(struct sim_world *w, sim_pred_f pred, void *ctx, uint64_t step_ns,
		       uint64_t timeout_ns);

/** Events processed so far. */
uint64_t sim_events(const struct sim_world *w);

#ifdef __cplusplus
}
#endif

#endif /* MESH_SIM_H */
