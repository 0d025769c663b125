/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When mesh_stream_tick() next has something to do, so that the caller sleeps until then
 * instead of ticking on a period. Each term mirrors the condition that fires it in
 * stream_crdt_timers(), stream_value_timers() or mesh_stream_tick(), so a tick at the
 * deadline does that work, never a later one:
 *   per peer: the retransmission of an unacknowledged batch, the heartbeat of a member
 *     channel, the idle timeout of an up channel, the restart of a receive gap nobody
 *     fills; the next pacing token of queued fragments;
 *   global: fragment nacks and reassembly GC, the repair cache expiry, the digest round.
 *
 * Kept cheaply. The per-peer timers are a cached minimum that is never later than the
 * true one: a pass over the peers sets it exactly after a tick (which is what moves most
 * timers: heartbeats, retransmissions, nacks) or a change of the peer set, and between
 * passes the events that can start an earlier timer lower it in O(1): a batch sent
 * (stream_chan.c: its retransmission) and a channel record received (a channel up, a
 * receive gap). Events that only move timers later (acks, frames sent) leave it early,
 * which costs at most one tick that finds nothing and makes the pass. The global terms
 * and pacing (peers on the dirty list only) are read on each query: a few entries.
 * So an idle node, whose wake-ups are membership traffic (SWIM records never reach
 * lib/stream), reads the cached value; the passes are counted (stream_deadline_scans).
 */
#include "stream_internal.h"

/* what a condition `now - since > d` waits for: the first tick at which it holds */
#define AFTER(since, d) ((since) + (d) + 1)

static uint64_t
gap_deadline(const struct mesh_stream *s, uint64_t since)
{
	return AFTER(since, 2 * s->cfg.rto_max_ns + s->cfg.rto_initial_ns);
}

static uint64_t
peer_deadline(const struct mesh_stream *s, const struct stream_peer *p)
{
	uint64_t t = UINT64_MAX;

	if (p->member_idx >= 0)
		t = p->last_tx_ns + s->cfg.heartbeat_ns;
	if (p->up)
		t = MESH_MIN(t, AFTER(p->last_rx_ns, s->cfg.idle_timeout_ns));
	if (p->rx_epoch != 0 && p->rx_highest > p->rx_cum)
		t = MESH_MIN(t, gap_deadline(s, p->rx_cum_ns));
	if (p->up && p->win != NULL)
		for (uint64_t q = p->una; q < p->next_seq; q++) {
			const struct batch *b = &p->win[q % STREAM_WIN_MAX];

			if (b->body != NULL)
				t = MESH_MIN(t, b->next_tx_ns);
		}
	return t;
}

void
stream_deadline_rx(struct mesh_stream *s, const struct stream_peer *p, uint8_t kind,
		   uint64_t now)
{
	/* heard now: an up channel times out after idle_timeout from now at the earliest */
	stream_deadline_lower(s, AFTER(now, s->cfg.idle_timeout_ns));
	/* a batch or heartbeat can open a receive gap, dated from when rx_cum last moved: no
	 * earlier than the current date (it only grows), or now for a new epoch */
	if (kind == MESH_WIRE_KIND_CRDT_BATCH || kind == MESH_WIRE_KIND_HEARTBEAT)
		stream_deadline_lower(s, gap_deadline(s, p->rx_epoch != 0 ? p->rx_cum_ns : now));
}

/* fragments waiting for pacing tokens: the next token of each peer on the dirty list */
static uint64_t
pace_deadline(const struct mesh_stream *s)
{
	uint64_t t = UINT64_MAX, tok = (MESH_NS_PER_SEC + s->cfg.chunk_rate - 1) / s->cfg.chunk_rate;

	for (uint32_t i = 0; i < s->n_dirty; i++) {
		const struct stream_peer *p = s->dirty[i];

		if (p->vq_head != NULL)
			t = MESH_MIN(t, p->tokens > 0 ? p->tok_ns : p->tok_ns + tok);
	}
	return t;
}

uint64_t
mesh_stream_next_deadline(struct mesh_stream *s)
{
	const struct mesh_stream_config *c = &s->cfg;
	uint64_t t;

	if (!s->peer_deadline_ok) {
		t = UINT64_MAX;
		for (uint32_t i = 0; i < s->tab_cap; i++)
			if (s->tab[i] != NULL)
				t = MESH_MIN(t, peer_deadline(s, s->tab[i]));
		s->peer_deadline_ns = t;
		s->peer_deadline_ok = true;
		CTR(s, deadline_scans);
	}
	t = MESH_MIN(s->peer_deadline_ns, pace_deadline(s));
	t = MESH_MIN(t, mesh_stream_reasm_next_deadline(s->reasm, c->assembly_timeout_ns,
							c->nack_delay_ns, c->nack_interval_ns));
	if (s->n_repair > 0)
		t = MESH_MIN(t, s->repair[0].expires_ns);
	if (c->digest_interval_ns != 0 && s->env->digest_build != NULL && s->n_members > 0)
		t = MESH_MIN(t, s->next_digest_ns);
	return t;
}
