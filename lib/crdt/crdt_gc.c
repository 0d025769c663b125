/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tombstone GC. A tombstone may be forgotten only when that cannot resurrect the key:
 *   - every registered peer has acknowledged a change sequence >= the tombstone's (it
 *     holds the tombstone or something newer), or
 *   - it is older than the grace (default 300 s; MESH_CRDT_TOMB_GRACE_NEVER disables this).
 * Peers are registered by the caller while they are members (alive or suspect); a peer
 * removed from the store no longer holds GC back. With no peer registered every tombstone
 * is collectable (single node).
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
	crdt_entry_free(e);
}

uint64_t
mesh_crdt_gc(struct mesh_crdt_store *s, uint64_t now_ns, uint64_t budget)
{
	struct crdt_tombq *q = &s->tombq;
	uint64_t min_acked = UINT64_MAX, done = 0;

	for (uint32_t i = 0; i < s->n_peers; i++)
		min_acked = MESH_MIN(min_acked, s->peers[i].acked);
	while (q->len > 0 && (budget == 0 || done < budget)) {
		struct crdt_logrec r = q->rec[q->head];
		bool acked, expired;

		if (rec_valid(&r)) {
			acked = r.seq <= min_acked;
			expired = s->grace_ns != MESH_CRDT_TOMB_GRACE_NEVER &&
				  now_ns >= r.e->tomb_ns && now_ns - r.e->tomb_ns >= s->grace_ns;
			if (!acked && !expired)
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
