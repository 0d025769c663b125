/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole meshd nodes (lib/node) in the simulator (tests/sim/core), a client workload with a
 * model of what was acknowledged, and the end-of-run invariants.
 *
 *   c = nsim_new(5, seed, "lossy");      // nodes n0..n4 at 10.0.0.1.., not started
 *   nsim_start_all(c, 20 ms);            // each starts within 20 ms, joins through n0, n1
 *   nsim_writes(c, true);                // client requests at random live nodes
 *   ... faults: sim_net_* on c->w, nsim_crash / _restart / _pause / _resume ...
 *   nsim_writes(c, false); nsim_heal_all(c);
 *   nsim_settle(c, 5 s);                 // run until the invariants hold (bounded)
 *   failures = nsim_check(c, true);      // prints seed, scenario, key and node on failure
 *
 * Binding: every node is a struct mesh_node; env->send seals each payload into a keyless
 * (checksum) frame with the node id as sender and sim_send()s it; a received datagram is
 * opened (mesh_wire_frame_open) and handed to mesh_node_input with hdr.sender_id. The tick
 * is mesh_node_poll; the next tick is mesh_node_next_deadline clamped to [now + 100 us,
 * now + 1 ms], or now + 100 us right after a client request (the merge loop polls
 * continuously, so a write is exported at once). A crash deletes the node; a restart
 * creates it again under the same name with a higher generation and an empty store.
 *
 * Invariants, over the live (started, not crashed) nodes:
 *   (a) identical store digests (mesh_node_digest_now);
 *   (b) every write acknowledged (status 0) by a node that is still running the life
 *       (generation) that acknowledged it is present or superseded on every live node:
 *       lww entry version (ts, replica) >= the acknowledged one (tombstones count as
 *       entries; a key may be absent once an acknowledged delete at least as new could
 *       have been collected), epoch_max value >= the acknowledged (merged) value.
 */
#ifndef MESH_SIM_NODE_H
#define MESH_SIM_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh_node.h"
#include "mesh_wire.h"
#include "sim.h"

#define NSIM_MS MESH_NS_PER_MS
#define NSIM_SEC MESH_NS_PER_SEC

struct nsim;

/** Sealed frames sent by the nodes, sampled for replays (a ring). */
#define NSIM_CAPTURE 32
#define NSIM_FRAME_CAP (MESH_WIRE_DEFAULT_MAX_FRAME + 64)
struct nsim_capture {
	uint32_t n, next;
	uint64_t seen;
	struct {
		uint32_t from, to, len;
		uint8_t buf[NSIM_FRAME_CAP];
	} f[NSIM_CAPTURE];
};

struct nsim_node {
	struct nsim *c;
	uint32_t idx;
	struct mesh_node *node; /* NULL while down */
	uint64_t gen;           /* life << 32 (life 1, 2, ... per start), see nsim_start */
	struct mesh_wire_sec sec;
	uint64_t tx_seq;
	bool paused;
	bool poll_soon;         /* a client request was handled: poll at now + 100 us */
	/* the reply of the request being handled */
	bool replied;
	int reply_status;
};

/** Inject @len bytes to node @to as if sent by the spare node (see sim_node_nemesis.c). */
void nsim_inject(struct nsim *c, uint32_t to, const uint8_t *msg, size_t len);

/** Kinds of client writes. */
enum nsim_op { NSIM_PUT = 0, NSIM_DEL, NSIM_EPOCH };

/** One write acknowledged to a client, and what the acking store held right after. */
struct nsim_write {
	uint32_t key;        /* index in the key space of its kind */
	enum nsim_op op;
	uint32_t node;       /* the node that acknowledged it ... */
	uint64_t gen;        /* ... in this life */
	uint64_t at_ns;
	struct mesh_crdt_version v; /* lww: the version of the write (tombstone for DEL) */
	uint8_t epoch[MESH_CRDT_EPOCH_LEN]; /* epoch_max: the merged value after it */
};

/** A store entry as the checker sees it (value cut to 32 bytes). */
struct nsim_entry {
	struct mesh_crdt_version v;
	bool tombstone;
	uint32_t value_len;
	uint8_t value[32];
};

struct nsim {
	struct sim_world *w;
	const char *scenario;
	uint32_t n;
	struct nsim_node *nodes;
	struct mesh_node_cfg base;  /* copied for every node (name, gen, addr, seeds set) */
	uint32_t n_seeds;           /* join through n0 .. n(n_seeds-1) (default 2) */
	/* workload */
	bool writing;
	uint64_t write_gap_ns;      /* mean time between client request bursts */
	uint32_t write_burst;       /* requests per burst (default 1) */
	uint32_t lww_keys, epoch_keys;
	uint64_t write_chain;        /* the running workload timer chain */
	uint64_t next_req_id;
	uint64_t acked, refused;
	uint64_t bad_acks;          /* no reply, or acked but not in the acking store */
	struct nsim_write *writes;
	uint32_t n_writes, cap_writes;
	bool trace;                 /* print member events ($MESH_SIM_TRACE) */
	bool small_gens;            /* generation = life (1, 2, ...), not life << 32 */
	/* figures */
	uint64_t frames_bad;        /* frames that did not open */
	uint64_t frames_sent;
	uint64_t max_frames;        /* more within 10 ms of virtual time is a storm: the run
				     * fails and nothing is sent any more (20,000 + 8 N^2) */
	uint64_t window_start, window_frames, peak_frames;
	bool storm;
	uint64_t dead_events;       /* DEAD events seen about members that were running */
	uint64_t settle_ns;         /* virtual time the last nsim_settle took */
	/* hostile input (sim_node_nemesis.c): frames injected from a spare sim node */
	struct nsim_capture *cap;   /* sample of sealed frames for replays (NULL: off) */
	uint32_t spare;             /* the injector's sim node (UINT32_MAX: none) */
	uint64_t injected;          /* frames injected */
	uint64_t injected_refused;  /* of those, frames that did not open (expected) */
	uint32_t big_pct;           /* % of lww puts with a 100 KiB value (default 0) */
	uint32_t fail_digest;       /* last nsim_check: nodes whose digest differs (a) */
	uint32_t fail_acked;        /* last nsim_check: (key, node) pairs failing (b) */
};

/** Life (1, 2, ...) of a generation number. */
static inline uint64_t
nsim_life(const struct nsim *c, uint64_t gen)
{
	return c->small_gens ? gen : gen >> 32;
}

/** A world of @n nodes (not started); @scenario names the run in failure reports. */
struct nsim *nsim_new(uint32_t n, uint64_t seed, const char *scenario);
void nsim_delete(struct nsim *c);

/** Start node @i now (first start, or restart after nsim_crash: generation + 1). */
void nsim_start(struct nsim *c, uint32_t i);
/** Start every node within @spread_ns (n0 at once). */
void nsim_start_all(struct nsim *c, uint64_t spread_ns);
/** Crash: the sim node goes down and the mesh_node is deleted. */
void nsim_crash(struct nsim *c, uint32_t i);
/** Crash (if up) and start again under the same name with a higher generation. */
void nsim_restart(struct nsim *c, uint32_t i);
void nsim_pause(struct nsim *c, uint32_t i);
void nsim_resume(struct nsim *c, uint32_t i);
/** Heal partitions, resume paused nodes, clear loss, dup and reordering. */
void nsim_heal_all(struct nsim *c);
/** Started and not crashed (paused counts as up). */
bool nsim_up(const struct nsim *c, uint32_t i);
/** A random node that is up and not paused, or UINT32_MAX. */
uint32_t nsim_pick_serving(struct nsim *c);

/* workload (sim_node_model.c) */
/** Start or stop the client workload (write_burst requests every ~write_gap_ns). */
void nsim_writes(struct nsim *c, bool on);
/** One client write of @op on key @key at node @i now. 0 when acknowledged. */
int nsim_write(struct nsim *c, uint32_t i, enum nsim_op op, uint32_t key);
/** Key text of @key of kind @op ("worker:<k>" or "rl:<k>"). */
int nsim_key(enum nsim_op op, uint32_t key, char *buf, size_t cap);

/** The entry of @key in @s, tombstones included. False when absent. */
bool nsim_entry(const struct mesh_crdt_store *s, const char *key, struct nsim_entry *out);
/** @op as an entry. */
void nsim_entry_of_op(const struct mesh_crdt_op *op, struct nsim_entry *out);

/* invariants (sim_node_check.c) */
/** Print "FAIL seed=<seed> scenario=<name> t=<virtual ms>: <message>". */
void nsim_report(struct nsim *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Violations of (a) and (b); prints up to a few of them when @report. */
uint32_t nsim_check(struct nsim *c, bool report);
/** Print the replication channels that are down or hold unacknowledged ops. */
void nsim_dump_channels(struct nsim *c);
/** Run until nsim_check() finds nothing (checked every 20 ms) or @timeout_ns passes.
 *  Returns true when settled; c->settle_ns says how long it took. */
bool nsim_settle(struct nsim *c, uint64_t timeout_ns);

#endif /* MESH_SIM_NODE_H */
