/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tombstone GC and the GC horizon. A tombstone is collected when BOTH
 *   - every registered peer has acknowledged a change sequence >= the tombstone's (it
 *     holds the tombstone or something newer), and so has every peer removed less than
 *     the grace ago (a member that comes back within the grace gets the tombstone), and
 *   - it was held for the grace (default 300 s; MESH_CRDT_TOMB_GRACE_NEVER: never).
 * Peers are registered by the caller while they are members (alive or suspect). With no
 * peer registered, tombstones are collected after the grace (single node).
 *
 * A collected tombstone raises the store's GC horizon to its timestamp. A member that was
 * away longer than the grace (reaped, or on the minority side of a long partition) may
 * come back with the value the tombstone deleted; it is older than the tombstone, hence at
 * or below the horizon, and the key has no entry here: crdt_merge_op refuses such values
 * (-ESTALE, reported to the sender) instead of resurrecting the key. doc/crdt.md has the
 * cases and the cost (a value written by a member away that long and never seen here is
 * refused too; such a member must rejoin empty, i.e. be restarted).
 *
 * Tombstones are queued in creation order, which is both seq order and time order, so both
 * conditions are monotone along the queue: GC pops from the head and stops at the first
 * tombstone it must keep. A record goes stale when its key changes again (its seq no longer
 * matches) and is skipped; an entry is freed only when its latest record is popped, so no
 * record ever points to freed memory. The ring is compacted when stale records dominate.
 */
#include "crdt_internal.h"

#define TOMBQ_MIN_CAP 256u

static inline bool
rec_valid(const struct crdt_logrec *r)
{
	return r->e->seq == r->seq && (r->e->flags & CRDT_F_TOMB);
}

static int
tombq_make_room(struct mesh_crdt_store *s)
{
	struct crdt_tombq *q = &s->tombq;
	struct crdt_logrec *n;
	uint64_t ncap, w = 0;

	if (q->len < q->cap)
		return 0;
	if (q->len >= 2 * s->n_tombs + TOMBQ_MIN_CAP / 2 && q->cap) {
		/* compact in place, preserving order */
		for (uint64_t i = 0; i < q->len; i++) {
			struct crdt_logrec r = q->rec[(q->head + i) & (q->cap - 1)];

			if (rec_valid(&r))
				q->rec[(q->head + w++) & (q->cap - 1)] = r;
		}
		q->len = w;
		if (q->len < q->cap)
			return 0;
	}
	ncap = q->cap ? q->cap * 2 : TOMBQ_MIN_CAP;
	n = malloc(ncap * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < q->len; i++)
		n[i] = q->rec[(q->head + i) & (q->cap - 1)];
	free(q->rec);
	q->rec = n;
	q->head = 0;
	q->cap = ncap;
	return 0;
}

int
crdt_tombq_push(struct mesh_crdt_store *s, struct crdt_entry *e)
{
	struct crdt_tombq *q = &s->tombq;

	if (e == NULL)
		return tombq_make_room(s);
	q->rec[(q->head + q->len) & (q->cap - 1)] = (struct crdt_logrec){ .seq = e->seq, .e = e };
	q->len++;
	return 0;
}

void
crdt_tombq_fini(struct crdt_tombq *q)
{
	free(q->rec);
	memset(q, 0, sizeof(*q));
}

static void
collect(struct mesh_crdt_store *s, struct crdt_entry *e)
{
	struct crdt_ns *ns = &s->ns[e->ns];
	uint64_t idx = crdt_table_find(&s->table, crdt_key_hash(e->key, e->key_len), e->key,
				       e->key_len);

	if (idx != UINT64_MAX)
		crdt_table_remove_at(&s->table, idx);
	crdt_log_forget(&s->log, e);
	crdt_stat_add(&ns->st.tombstones, -1);
	crdt_stat_add(&ns->st.bytes, -(int64_t)e->key_len);
	s->n_tombs--;
	if (e->ts > s->horizon)
		s->horizon = e->ts;
	s->gc_seq = MESH_MAX(s->gc_seq, e->seq); /* watch resume (crdt_watch.c) */
	crdt_entry_free(e);
}

void
crdt_gc_peer_gone(struct mesh_crdt_store *s, const struct crdt_peer *p)
{
	if (s->grace_ns == MESH_CRDT_TOMB_GRACE_NEVER)
		return; /* nothing is ever collected */
	if (s->n_gone == s->gone_cap) {
		uint32_t cap = s->gone_cap ? s->gone_cap * 2 : 8;
		struct crdt_peer *g = cap <= MESH_CRDT_PEER_MAX
					      ? realloc(s->gone, cap * sizeof(*g))
					      : NULL;

		if (g == NULL) {
			/* full (or no memory): the oldest removal stops holding GC back first */
			if (s->n_gone == 0)
				return;
			memmove(s->gone, s->gone + 1, --s->n_gone * sizeof(*s->gone));
		} else {
			s->gone = g;
			s->gone_cap = cap;
		}
	}
	s->gone[s->n_gone] = *p;
	s->gone[s->n_gone++].gone_ns = s->last_now_ns;
}

void
crdt_gc_peer_back(struct mesh_crdt_store *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->n_gone; i++)
		if (s->gone[i].id == id) {
			memmove(&s->gone[i], &s->gone[i + 1], (--s->n_gone - i) * sizeof(*s->gone));
			return;
		}
}

/* Lowest ack of the peers and of the peers removed less than the grace ago (removals are
 * in time order: expired ones leave from the front). */
static uint64_t
min_acked(struct mesh_crdt_store *s, uint64_t now_ns)
{
	uint64_t m = UINT64_MAX;
	uint32_t drop = 0;

	while (drop < s->n_gone && now_ns >= s->gone[drop].gone_ns &&
	       now_ns - s->gone[drop].gone_ns >= s->grace_ns)
		drop++;
	if (drop) {
		s->n_gone -= drop;
		memmove(s->gone, s->gone + drop, s->n_gone * sizeof(*s->gone));
	}
	for (uint32_t i = 0; i < s->n_peers; i++)
		m = MESH_MIN(m, s->peers[i].acked);
	for (uint32_t i = 0; i < s->n_gone; i++)
		m = MESH_MIN(m, s->gone[i].acked);
	return m;
}

uint64_t
mesh_crdt_gc(struct mesh_crdt_store *s, uint64_t now_ns, uint64_t budget)
{
	struct crdt_tombq *q = &s->tombq;
	uint64_t acked_all, done = 0;

	crdt_now(s, now_ns);
	if (s->grace_ns == MESH_CRDT_TOMB_GRACE_NEVER)
		return 0;
	acked_all = min_acked(s, now_ns);
	while (q->len > 0 && (budget == 0 || done < budget)) {
		struct crdt_logrec r = q->rec[q->head];

		if (rec_valid(&r)) {
			if (r.seq > acked_all || now_ns < r.e->tomb_ns ||
			    now_ns - r.e->tomb_ns < s->grace_ns)
				break;
			collect(s, r.e);
			done++;
		}
		q->head = (q->head + 1) & (q->cap - 1);
		q->len--;
	}
	if (done)
		crdt_ctr(s, MESH_CTR_crdt_tomb_gc, done);
	return done;
}
