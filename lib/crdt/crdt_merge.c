/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The merge core shared by local puts/deletes and remote applies. A key holds the state of
 * exactly one version; an incoming op (full state at a version) replaces it only if it is
 * strictly greater in a total order, which makes merging commutative, associative and
 * idempotent whatever the delivery order:
 *
 *   lww        (ts, replica) ascending; on equal (ts, replica) - only possible with a
 *              misbehaving replica - a tombstone beats a value, then the value whose bytes
 *              compare greater (memcmp over the common length, then the longer one).
 *   epoch_max  (epoch, count) ascending; the version travels along as metadata only.
 *
 * The owner-bound flag (mesh_crdt_op.owned) rides with the version and is never compared:
 * one honest write is one (ts, replica). The one exception to "greater wins" is an expiry
 * tombstone of our own live owned value: it is answered with a newer write of that value
 * (crdt_owner.c), which then wins everywhere.
 *
 * A remote op for a key the store holds no entry for, at or below the GC horizon (the
 * highest timestamp of a collected tombstone), may be the old value of a key whose
 * tombstone is gone: a value is refused (-ESTALE), a tombstone ignored as stale (crdt_gc.c).
 *
 * Everything that can fail (limits, allocation, log/tombstone-queue room) is checked before
 * the entry is touched, so a refused op leaves no trace. A change then updates, in order:
 * value, namespace accounting, tombstone queue, digest bucket, change seq + log record,
 * clock, subscribers.
 */
#include "crdt_internal.h"

/* >0: @op beats @e; 0: same state (duplicate); <0: @e wins (stale op). */
static inline int
lww_cmp(const struct mesh_crdt_op *op, const struct crdt_entry *e)
{
	bool etomb = (e->flags & CRDT_F_TOMB) != 0;
	uint32_t m;
	int c;

	if (op->ts != e->ts)
		return op->ts > e->ts ? 1 : -1;
	if (op->replica != e->replica)
		return op->replica > e->replica ? 1 : -1;
	if (op->tombstone != etomb)
		return op->tombstone ? 1 : -1;
	if (op->tombstone)
		return 0;
	m = MESH_MIN(op->value_len, e->value_len);
	c = m ? memcmp(op->value, e->value, m) : 0;
	if (c != 0)
		return c > 0 ? 1 : -1;
	if (op->value_len != e->value_len)
		return op->value_len > e->value_len ? 1 : -1;
	return 0;
}

static inline int
op_cmp(const struct crdt_ns *ns, const struct mesh_crdt_op *op, const struct crdt_entry *e)
{
	if (ns->kind == MESH_CRDT_NS_EPOCH_MAX) {
		bool etomb = (e->flags & CRDT_F_TOMB) != 0;

		/* an epoch_max key cannot be deleted; a tombstone there comes from a peer or a
		 * horizon verdict: any live value beats it, tombstones order by version */
		if (op->tombstone || etomb)
			return op->tombstone != etomb ? (op->tombstone ? -1 : 1) : lww_cmp(op, e);
		if (memcmp(op->value, e->value, MESH_CRDT_EPOCH_LEN) == 0)
			return 0;
		return mesh_crdt_epoch_merge(e->value, e->value_len, op->value, op->value_len)
			       ? 1
			       : -1;
	}
	return lww_cmp(op, e);
}

/*
 * Digest contribution of a live entry: a hash of (key, version) as the issue specifies,
 * where the version of an lww key is (ts, replica) and that of an epoch_max key is its
 * 16-byte value. Replica ids are unique per boot, so an honest version names exactly one
 * write; the value's length and first and last 8 bytes are folded in as a cheap guard
 * against a misbehaving replica that reuses a version (a full value hash cost 25 % of a
 * merge). Tombstones contribute 0.
 */
static inline uint64_t
fold64(uint64_t a, uint64_t b)
{
	__uint128_t p = (__uint128_t)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

uint64_t
crdt_digest_entry(const struct crdt_ns *ns, uint64_t hash, const struct crdt_entry *e)
{
	uint64_t head = 0, tail = 0, h;

	if (e->flags & CRDT_F_TOMB)
		return 0;
	if (ns->kind == MESH_CRDT_NS_EPOCH_MAX) {
		memcpy(&head, e->value, 8);
		memcpy(&tail, e->value + 8, 8);
		h = fold64(head ^ 0x1CAD21F72C81017CULL, tail ^ hash);
	} else {
		if (e->value_len >= 8) {
			memcpy(&head, e->value, 8);
			memcpy(&tail, e->value + e->value_len - 8, 8);
		} else if (e->value_len) {
			memcpy(&head, e->value, e->value_len);
		}
		/* XXH3-style 128-bit multiply folds of (ts, replica) and (len, head, tail) */
		h = fold64(e->ts ^ 0xBE4BA423396CFEB8ULL, e->replica ^ hash) ^
		    fold64(head ^ 0xDB979083E96DD4DEULL, (tail ^ e->value_len) + 0x1F67B3B7A4A44072ULL);
	}
	h = XXH3_avalanche(h ^ hash);
	return h ? h : 1; /* a live entry always contributes */
}

static int
set_value(struct crdt_entry *e, const struct mesh_crdt_op *op)
{
	uint8_t *v;
	uint32_t cap;

	if (op->tombstone || op->value_len == 0) {
		crdt_free(e->value, e->value_cap);
		e->value = NULL;
		e->value_len = 0;
		e->value_cap = 0;
		return 0;
	}
	/*
	 * Rewrite in place whenever the value fits and wastes at most 3/4 of the buffer: a
	 * key's values tend to keep their size, and a reused buffer is one cache miss (already
	 * prefetched by apply_batch) instead of a cold allocation plus a free.
	 */
	if (op->value_len <= e->value_cap && (uint64_t)op->value_len * 4 >= e->value_cap) {
		memmove(e->value, op->value, op->value_len);
		e->value_len = op->value_len;
		return 0;
	}
	cap = (uint32_t)crdt_alloc_size(op->value_len);
	v = crdt_alloc(cap);
	if (v == NULL)
		return -ENOMEM;
	memcpy(v, op->value, op->value_len);
	crdt_free(e->value, e->value_cap);
	e->value = v;
	e->value_len = op->value_len;
	e->value_cap = cap;
	return 0;
}

static struct crdt_entry *
entry_new(const struct mesh_crdt_op *op)
{
	struct crdt_entry *e = crdt_alloc(crdt_entry_size(op->key_len));

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->key_len = (uint16_t)op->key_len;
	memcpy(e->key, op->key, op->key_len);
	return e;
}

/*
 * A value refused below the horizon lives on at its sender, which would offer it at every
 * anti-entropy round forever: the stores would never converge. The key is absent here
 * because a tombstone at or below the horizon deleted it (or because a write this store
 * never saw is older than what it already collected: refused either way), so the store
 * records that verdict as a tombstone at (horizon, UINT64_MAX). It beats every version at
 * or below the horizon and nothing above it, replicates like any change, and turns the
 * sender's stale value into the same absence everywhere. Stores with different horizons
 * make different such tombstones; the highest wins, as usual.
 */
static void
horizon_tombstone(struct mesh_crdt_store *s, struct crdt_ns *ns, uint64_t hash,
		  const struct mesh_crdt_op *stale, uint64_t now_ns)
{
	struct mesh_crdt_op t = {
		.key = stale->key, .key_len = stale->key_len, .tombstone = true,
		.ts = s->horizon, .replica = UINT64_MAX,
	};

	if (crdt_merge_op(s, ns, hash, &t, now_ns, true) == 1)
		crdt_ctr(s, MESH_CTR_crdt_horizon_tombstones, 1);
}

int
crdt_merge_op(struct mesh_crdt_store *s, struct crdt_ns *ns, uint64_t hash,
	      const struct mesh_crdt_op *op, uint64_t now_ns, bool local)
{
	uint64_t idx = crdt_table_find(&s->table, hash, op->key, op->key_len);
	struct crdt_entry *e = idx == UINT64_MAX ? NULL : s->table.slots[idx].e;
	uint64_t new_bytes = op->tombstone ? 0 : op->value_len;
	bool was_tomb = false, existed = e != NULL;
	uint64_t old_bytes = 0, old_dhash = 0;
	uint32_t b;

	if (e == NULL && !local && op->ts <= s->horizon) {
		if (op->tombstone) {
			crdt_ctr(s, MESH_CTR_crdt_apply_stale, 1);
			return 0;
		}
		crdt_ctr(s, MESH_CTR_crdt_apply_horizon, 1);
		horizon_tombstone(s, ns, hash, op, now_ns);
		return crdt_fail(s, -ESTALE, "'%.*s' at ts %" PRIu64 " is at or below the GC "
				 "horizon %" PRIu64 " and not held here (deleted and collected?)",
				 (int)MESH_MIN(op->key_len, 64u), (const char *)op->key, op->ts,
				 s->horizon);
	}
	if (e != NULL) {
		int c = op_cmp(ns, op, e);

		if (c <= 0) {
			crdt_ctr(s, c == 0 ? MESH_CTR_crdt_apply_dup : MESH_CTR_crdt_apply_stale, 1);
			return 0;
		}
		/* an expiry of our own life while we run: refute it (crdt_owner.c) */
		if (!local && op->tombstone && op->owned && e->replica == s->replica &&
		    (e->flags & (CRDT_F_OWNED | CRDT_F_TOMB)) == CRDT_F_OWNED)
			return crdt_owner_reassert(s, ns, e, op, now_ns);
		was_tomb = (e->flags & CRDT_F_TOMB) != 0;
		old_bytes = e->value_len;
		if (new_bytes > old_bytes && ns->st.bytes + (new_bytes - old_bytes) > ns->max_bytes)
			goto dquot;
	} else {
		if (ns->st.keys + ns->st.tombstones + 1 > ns->max_keys) {
			crdt_stat_add(&ns->st.rejected, 1);
			return crdt_fail(s, -ENOSPC, "namespace '%s' holds %" PRIu64
					 " keys (max_keys %" PRIu64 ")", ns->prefix,
					 ns->st.keys + ns->st.tombstones, ns->max_keys);
		}
		if (ns->st.bytes + op->key_len + new_bytes > ns->max_bytes)
			goto dquot;
	}
	if (crdt_log_prepare(s) != 0 || (op->tombstone && crdt_tombq_push(s, NULL) != 0))
		return crdt_fail(s, -ENOMEM, "change index");

	if (e == NULL) {
		e = entry_new(op);
		if (e == NULL)
			return crdt_fail(s, -ENOMEM, "entry");
		e->ns = (uint8_t)(ns - s->ns);
		if (set_value(e, op) != 0 || crdt_table_insert(&s->table, hash, e) != 0) {
			crdt_entry_free(e);
			return crdt_fail(s, -ENOMEM, "entry value or table");
		}
		crdt_stat_add(&ns->st.bytes, (int64_t)op->key_len);
	} else {
		old_dhash = was_tomb ? 0 : e->dhash;
		if (set_value(e, op) != 0)
			return crdt_fail(s, -ENOMEM, "value of %u bytes", op->value_len);
	}

	/* accounting */
	crdt_stat_add(&ns->st.bytes, (int64_t)new_bytes - (int64_t)old_bytes);
	if (existed)
		crdt_stat_add(was_tomb ? &ns->st.tombstones : &ns->st.keys, -1);
	crdt_stat_add(op->tombstone ? &ns->st.tombstones : &ns->st.keys, 1);
	if (op->tombstone)
		s->n_tombs += 1;
	if (was_tomb)
		s->n_tombs -= 1;

	e->ts = op->ts;
	crdt_clock_seen(s, op->ts);
	e->replica = op->replica;
	e->origin_ns = op->origin_ns;
	e->flags = (op->tombstone ? CRDT_F_TOMB : 0) | (op->owned ? CRDT_F_OWNED : 0) |
		   (local ? CRDT_F_LOCAL : 0);
	e->seq = ++s->seq;
	crdt_log_append(&s->log, e, existed);
	/* digest, then the tombstone's time shares the dhash field */
	e->dhash = crdt_digest_entry(ns, hash, e);
	b = crdt_bucket(hash);
	s->digest[b] ^= old_dhash ^ e->dhash;
	if (op->tombstone) {
		e->tomb_ns = now_ns;
		crdt_tombq_push(s, e); /* room reserved above */
	}

	if (s->n_subs)
		crdt_sub_notify(s, e->key, e->key_len, e->value, e->value_len,
				e->flags & CRDT_F_TOMB, 0,
				e->origin_ns);
	return 1;

dquot:
	crdt_stat_add(&ns->st.rejected, 1);
	return crdt_fail(s, -EDQUOT, "namespace '%s' holds %" PRIu64 " bytes (max_bytes %" PRIu64
			 ")", ns->prefix, ns->st.bytes, ns->max_bytes);
}
