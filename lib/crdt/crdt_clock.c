/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's hybrid logical clock (HLC). A version's timestamp packs the wall clock in
 * milliseconds above a 16-bit logical counter:
 *
 *    63 62 61                                   16 15             0
 *   | 0  0 |  wall-clock ms since the epoch       | logical        |
 *
 * so it stays one uint64 on the wire (CrdtOp.timestamp) and compares as one integer.
 *
 *   local write   ts = max(clock + 1, ts_make(wall)): after everything this store wrote or
 *                 accepted, and at least the wall clock. A wall clock that steps back
 *                 changes nothing (the clock only grows); a burst of more than 65536
 *                 writes in one ms borrows from the next ms.
 *   remote op     refused when ts > ts_make(wall + max_skew) | 0xffff (or > TS_MAX, or
 *                 replica 0), so one op can push every clock at most max_skew ahead of
 *                 real time, never to the bound; otherwise clock = max(clock, ts).
 *   restart       a restarted node has a new replica id and an empty clock, but its first
 *                 write takes the wall clock, so it orders after everything its previous
 *                 life wrote as long as the wall clock did not step back across the restart
 *                 and the previous life's clock was not ahead of the wall clock by more
 *                 than the restart took (it can be ahead by at most max_skew, when a peer's
 *                 wall clock runs ahead: keep cluster clocks in sync with NTP).
 *   Lamport era   timestamps written before the HLC (small numbers) are valid versions
 *                 near the epoch: they merge as before and lose to every HLC write.
 *
 * The store is pure: the caller gives the wall clock with mesh_crdt_store_set_wall() per
 * batch; the skew bound is precomputed there, so the hot loop pays one compare.
 */
#include "crdt_internal.h"

#define LOGICAL_MASK ((UINT64_C(1) << MESH_CRDT_TS_LOGICAL_BITS) - 1)

static void
set_limit(struct mesh_crdt_store *s, uint64_t wall_ns)
{
	uint64_t ahead;

	if (s->max_skew_ns >= MESH_CRDT_TS_MAX || wall_ns >= MESH_CRDT_TS_MAX - s->max_skew_ns) {
		/* no bound below TS_MAX (this includes MESH_CRDT_MAX_SKEW_NONE) */
		s->ts_limit = MESH_CRDT_TS_MAX;
		return;
	}
	ahead = mesh_crdt_ts_make(wall_ns + s->max_skew_ns) | LOGICAL_MASK;
	s->ts_limit = MESH_MIN(ahead, MESH_CRDT_TS_MAX);
}

void
crdt_clock_init(struct mesh_crdt_store *s, uint64_t max_skew_ns)
{
	s->max_skew_ns = max_skew_ns ? max_skew_ns : MESH_CRDT_MAX_SKEW_DEFAULT_NS;
	set_limit(s, 0);
}

void
mesh_crdt_store_set_wall(struct mesh_crdt_store *s, uint64_t wall_ns)
{
	s->wall_ts = MESH_MIN(mesh_crdt_ts_make(wall_ns), MESH_CRDT_TS_MAX);
	set_limit(s, wall_ns);
}

uint64_t
crdt_clock_tick(struct mesh_crdt_store *s)
{
	uint64_t ts = MESH_MAX(s->clock + 1, s->wall_ts);

	if (s->clock >= MESH_CRDT_TS_MAX || ts > MESH_CRDT_TS_MAX)
		return 0;
	s->clock = ts;
	return ts;
}

int
crdt_clock_check(struct mesh_crdt_store *s, const struct mesh_crdt_op *op)
{
	if (mesh_likely(op->ts <= s->ts_limit && op->replica != 0))
		return 0;
	if (op->replica == 0)
		return crdt_fail(s, -ERANGE, "op with replica id 0");
	crdt_ctr(s, MESH_CTR_crdt_apply_skew, 1);
	/* the bound first: a refusal reason carries the start of this text (lib/node) */
	return crdt_fail(s, -ERANGE,
			 "max_skew %" PRIu64 " ms: op wall %" PRIu64 " ms, local wall %" PRIu64
			 " ms (ts %" PRIu64 ", replica %016" PRIx64 ")",
			 s->max_skew_ns / 1000000u, op->ts >> MESH_CRDT_TS_LOGICAL_BITS,
			 s->wall_ts >> MESH_CRDT_TS_LOGICAL_BITS, op->ts, op->replica);
}

uint64_t
mesh_crdt_store_clock(const struct mesh_crdt_store *s)
{
	return s->clock;
}

uint64_t
mesh_crdt_store_horizon(const struct mesh_crdt_store *s)
{
	return s->horizon;
}
