/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication for the stream layer: per-peer watermarks over the local change sequence.
 *
 *   acked  every change with seq <= acked is known to be at the peer (or, skipped by
 *          export_local_only, its maker's to deliver);
 *   sent   export cursor: changes with seq <= sent were handed to the stream layer;
 *          sent_max remembers the highest ever sent, so an ack that arrives after a
 *          rewind (for a batch sent before it) is still accepted and moves sent forward.
 *
 * export walks the change log from `sent` (binary search, then valid records only) and
 * yields each key's current state once, in change order, in bounded batches. A key that
 * changes again before the peer acks simply reappears later with its new seq: the log
 * holds one record per key, never a history. ack is cumulative and monotone; rewind
 * (timeout, reconnect) restarts sending from `acked`, giving at-least-once delivery, which
 * apply's idempotence absorbs. With export_local_only, live values that peers made are
 * skipped (the cursor moves over them) once the peer's catch-up is done; tombstones are
 * always relayed, since digests cannot see them (crdt_digest.c). Acks also drive
 * tombstone GC (crdt_gc.c), and a removed peer's acks keep doing so for the grace.
 */
#include "crdt_internal.h"

/* change-log records one export call looks at, at most (a long run of peers' changes that
 * export_local_only skips costs bounded time per call) */
#define EXPORT_WALK_MAX 8192u

static struct crdt_peer *
peer_find(const struct mesh_crdt_store *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].id == id)
			return &s->peers[i];
	return NULL;
}

int
mesh_crdt_peer_add(struct mesh_crdt_store *s, uint64_t peer)
{
	if (peer_find(s, peer) != NULL)
		return crdt_fail(s, -EEXIST, "peer %016" PRIx64 " already registered", peer);
	if (s->n_peers == MESH_CRDT_PEER_MAX)
		return crdt_fail(s, -ENOSPC, "too many peers (max %u)", MESH_CRDT_PEER_MAX);
	if (s->n_peers == s->peers_cap) {
		uint32_t cap = s->peers_cap ? s->peers_cap * 2 : 8;
		struct crdt_peer *p = realloc(s->peers, cap * sizeof(*p));

		if (p == NULL)
			return crdt_fail(s, -ENOMEM, "peer table");
		s->peers = p;
		s->peers_cap = cap;
	}
	/* the catch-up: everything held now goes to it, whatever made it */
	s->peers[s->n_peers++] = (struct crdt_peer){ .id = peer, .full_until = s->seq };
	crdt_gc_peer_back(s, peer); /* its new watermarks hold GC back from 0 */
	return 0;
}

int
mesh_crdt_peer_remove(struct mesh_crdt_store *s, uint64_t peer)
{
	struct crdt_peer *p = peer_find(s, peer);

	if (p == NULL)
		return crdt_fail(s, -ENOENT, "unknown peer %016" PRIx64, peer);
	crdt_gc_peer_gone(s, p);
	*p = s->peers[--s->n_peers];
	return 0;
}

int
mesh_crdt_peer_watermarks(const struct mesh_crdt_store *s, uint64_t peer, uint64_t *acked,
			  uint64_t *sent)
{
	const struct crdt_peer *p = peer_find(s, peer);

	if (p == NULL)
		return -ENOENT;
	if (acked)
		*acked = p->acked;
	if (sent)
		*sent = p->sent;
	return 0;
}

int
mesh_crdt_export(struct mesh_crdt_store *s, uint64_t peer, struct mesh_crdt_op *ops,
		 uint32_t max_ops, size_t max_bytes)
{
	struct crdt_peer *p = peer_find(s, peer);
	const struct crdt_log *l = &s->log;
	size_t bytes = 0;
	uint32_t n = 0;

	if (p == NULL)
		return crdt_fail(s, -ENOENT, "unknown peer %016" PRIx64, peer);
	for (uint32_t i = crdt_log_seek(l, p->sent), walked = 0;
	     i < l->len && n < max_ops && walked < EXPORT_WALK_MAX; i++, walked++) {
		const struct crdt_entry *e;
		size_t sz;

		if (!crdt_log_is_valid(l, i))
			continue;
		e = l->rec[i].e;
		if (s->export_local_only && !(e->flags & (CRDT_F_LOCAL | CRDT_F_TOMB)) &&
		    e->seq > p->full_until) {
			p->sent = e->seq; /* its maker's to send (config export_local_only) */
			continue;
		}
		sz = (size_t)e->key_len + e->value_len;
		if (n > 0 && bytes + sz > max_bytes)
			break;
		crdt_entry_op(e, &ops[n++]);
		bytes += sz;
		p->sent = e->seq;
	}
	p->sent_max = MESH_MAX(p->sent_max, p->sent);
	if (n)
		crdt_ctr(s, MESH_CTR_crdt_export_ops, n);
	return (int)n;
}

int
mesh_crdt_ack(struct mesh_crdt_store *s, uint64_t peer, uint64_t seq)
{
	struct crdt_peer *p = peer_find(s, peer);

	if (p == NULL)
		return crdt_fail(s, -ENOENT, "unknown peer %016" PRIx64, peer);
	if (seq > p->sent_max)
		return crdt_fail(s, -ERANGE, "ack %" PRIu64 " past exported %" PRIu64, seq,
				 p->sent_max);
	if (seq > p->acked)
		p->acked = seq;
	/* a late ack for a batch sent before a rewind: no need to send that part again */
	if (p->sent < p->acked)
		p->sent = p->acked;
	return 0;
}

int
mesh_crdt_peer_rewind(struct mesh_crdt_store *s, uint64_t peer)
{
	struct crdt_peer *p = peer_find(s, peer);

	if (p == NULL)
		return crdt_fail(s, -ENOENT, "unknown peer %016" PRIx64, peer);
	p->sent = p->acked;
	return 0;
}
