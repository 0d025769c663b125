/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private layout of the CRDT store. One writer (the merge lcore) touches everything here;
 * the only fields read by other threads are the counters and the per-namespace stats,
 * written with relaxed atomic stores (crdt_stat_add) and read with relaxed loads.
 */
#ifndef CRDT_INTERNAL_H
#define CRDT_INTERNAL_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_crdt.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------ allocation */
/*
 * Values and entries come from jemalloc (sized free) in normal builds; sanitizer builds
 * use libc malloc so ASan sees every allocation (meson passes -DMESH_CRDT_JEMALLOC=1 only
 * when b_sanitize is none).
 */
#if defined(MESH_CRDT_JEMALLOC) && MESH_CRDT_JEMALLOC
#include <jemalloc/jemalloc.h>
static inline void *
crdt_alloc(size_t n)
{
	return mallocx(n ? n : 1, 0);
}
static inline void
crdt_free(void *p, size_t n)
{
	if (p)
		sdallocx(p, n ? n : 1, 0);
}
#else
static inline void *
crdt_alloc(size_t n)
{
	return malloc(n ? n : 1);
}
static inline void
crdt_free(void *p, size_t n)
{
	(void)n;
	free(p);
}
#endif

/* Request size for a value of @n bytes: rounded up to 32 so that rewrites of similar size
 * reuse the buffer in place (crdt_free must be given this same size). */
static inline size_t
crdt_alloc_size(size_t n)
{
	return (n + 31) & ~(size_t)31;
}

/* ------------------------------------------------------------------ hashing */

static inline uint64_t
crdt_key_hash(const void *key, size_t len)
{
	return XXH3_64bits(key, len);
}

#define CRDT_BUCKET_SHIFT 52 /* 64 - log2(MESH_CRDT_DIGEST_BUCKETS) */
static inline uint32_t
crdt_bucket(uint64_t hash)
{
	return (uint32_t)(hash >> CRDT_BUCKET_SHIFT);
}

/* ------------------------------------------------------------------ entries */

#define CRDT_F_TOMB 0x01u
#define CRDT_F_OWNED 0x04u /* owner-bound value; with CRDT_F_TOMB: an expiry tombstone */
#define CRDT_F_LOCAL 0x08u /* the current version was made here, not applied from a peer */

/*
 * One key: its winning version and value. Freed only by tombstone GC or store delete.
 * A 64-byte header, one cache line, with the key right after it (the merge loop prefetches
 * both lines of an entry); the key hash lives in the table slot, not here.
 */
struct crdt_entry {
	uint64_t ts;       /* version */
	uint64_t replica;
	uint64_t seq;      /* local change sequence of the current version */
	uint64_t origin_ns; /* origin wall clock of the current version (0 = unknown) */
	uint8_t *value;
	union {
		uint64_t dhash;   /* live: digest contribution */
		uint64_t tomb_ns; /* tombstone: local time it was applied (contributes 0) */
	};
	uint32_t value_len;
	uint32_t value_cap; /* allocated bytes behind value */
	uint32_t log_idx;   /* index of the valid change-log record */
	uint16_t key_len;
	uint8_t ns;
	uint8_t flags;
	uint8_t key[];
};
_Static_assert(sizeof(struct crdt_entry) == 64, "entry header layout");

static inline size_t
crdt_entry_size(uint32_t key_len)
{
	return sizeof(struct crdt_entry) + key_len;
}

/* ------------------------------------------------------------------ hash table */

/*
 * Open addressing, linear probing, backward-shift deletion (no deleted markers). The home
 * slot is the top `bits` bits of the hash, so the keys of one digest bucket (top 12 bits)
 * occupy one contiguous run of slots and a bucket is exported without a full scan.
 */
struct crdt_slot {
	uint64_t hash;
	struct crdt_entry *e; /* NULL: empty */
};

struct crdt_table {
	struct crdt_slot *slots;
	uint64_t mask;
	uint64_t count;
	uint64_t grow_at;
	uint32_t bits;
};

int crdt_table_init(struct crdt_table *t, uint64_t expected);
void crdt_table_fini(struct crdt_table *t);
/* Slot index holding @key, or UINT64_MAX. */
uint64_t crdt_table_find(const struct crdt_table *t, uint64_t hash, const void *key,
			 uint32_t key_len);
/* Insert an entry known to be absent (may grow). 0 or -ENOMEM. */
int crdt_table_insert(struct crdt_table *t, uint64_t hash, struct crdt_entry *e);
/* Remove the entry at slot @idx. */
void crdt_table_remove_at(struct crdt_table *t, uint64_t idx);

static inline uint64_t
crdt_table_home(const struct crdt_table *t, uint64_t hash)
{
	return hash >> (64 - t->bits);
}

static inline void
crdt_table_prefetch(const struct crdt_table *t, uint64_t hash)
{
	__builtin_prefetch(&t->slots[crdt_table_home(t, hash)]);
}

/* ------------------------------------------------------------------ change log */

/*
 * Ordered index of entries by change sequence: an append-only array of (seq, entry) with
 * a validity bitmap. Changing an entry appends a record and clears the bit of its previous
 * one; when the array holds 3x more records than entries it is compacted in place. Memory
 * stays O(entries); a peer's cursor is a seq found by binary search.
 */
struct crdt_logrec {
	uint64_t seq;
	struct crdt_entry *e;
};

struct crdt_log {
	struct crdt_logrec *rec;
	uint64_t *valid; /* bitmap over rec[] */
	uint32_t len;
	uint32_t cap;
	uint32_t live;
};

int crdt_log_init(struct crdt_log *l);
void crdt_log_fini(struct crdt_log *l);
/* Make room for one append (compacts or grows). 0 or -ENOMEM; call before changing state. */
int crdt_log_prepare(struct mesh_crdt_store *s);
/* Record the entry's current e->seq (invalidates its old record). Needs a prepare. */
void crdt_log_append(struct crdt_log *l, struct crdt_entry *e, bool had_record);
/* Drop the entry's record (the entry is being freed). */
void crdt_log_forget(struct crdt_log *l, struct crdt_entry *e);
/* Index of the first record with seq > @seq. */
uint32_t crdt_log_seek(const struct crdt_log *l, uint64_t seq);

static inline bool
crdt_log_is_valid(const struct crdt_log *l, uint32_t i)
{
	return (l->valid[i >> 6] >> (i & 63)) & 1u;
}

/* ------------------------------------------------------------------ namespaces */

/* Byte-capped FIFO of a stream namespace. */
struct crdt_msg {
	struct crdt_msg *next;
	uint64_t peer;
	uint32_t key_len;
	uint32_t value_len;
	uint8_t data[]; /* key then value */
};

struct crdt_ns {
	uint64_t pfx_word; /* first min(8, prefix_len) bytes of the prefix, little-endian load */
	uint64_t pfx_mask;
	char prefix[MESH_CRDT_PREFIX_MAX + 1];
	uint32_t prefix_len;
	enum mesh_crdt_ns_kind kind;
	uint32_t max_value;
	uint64_t max_keys;
	uint64_t max_bytes;
	bool nested;
	bool has_nested;              /* a longer nested prefix starts with this one */
	struct mesh_crdt_ns_stats st; /* relaxed atomics */
	struct crdt_msg *q_head;      /* stream send buffer */
	struct crdt_msg *q_tail;
};

static inline bool
crdt_ns_is_stream(const struct crdt_ns *ns)
{
	return ns->kind == MESH_CRDT_NS_BROADCAST || ns->kind == MESH_CRDT_NS_TARGETED;
}

/* ------------------------------------------------------------------ peers, gc, subs */

struct crdt_peer {
	uint64_t id;
	uint64_t acked;
	uint64_t sent;     /* export cursor (moves back on rewind) */
	uint64_t sent_max; /* highest seq ever exported: acks up to it are valid */
	uint64_t full_until; /* export_local_only: changes up to it go out whatever made them */
	uint64_t gone_ns;  /* removed peers (crdt_store.gone): when it was removed */
};

/* Tombstones in creation order (= seq order = time order): a ring of (seq, entry). */
struct crdt_tombq {
	struct crdt_logrec *rec;
	uint64_t head; /* index of the oldest record */
	uint64_t len;
	uint64_t cap;  /* power of two */
};

struct crdt_subev {
	uint8_t *buf; /* key then value */
	uint32_t key_len;
	uint32_t value_len;
	uint64_t peer;
	uint64_t origin_ns;
	uint64_t seq;  /* the change's local seq (0: stream message) */
	uint8_t flags; /* CRDT_F_TOMB, CRDT_EV_STREAM */
};
#define CRDT_EV_STREAM 0x02u

struct mesh_crdt_sub {
	struct mesh_crdt_sub *next;
	struct mesh_crdt_store *store;
	uint8_t prefix[MESH_CRDT_KEY_MAX];
	uint32_t prefix_len;
	uint32_t capacity;
	uint32_t head;
	uint32_t count;
	size_t max_bytes;
	size_t bytes;
	uint64_t dropped;
	bool mark_only;  /* a watch's change marker: counts matching changes, queues nothing */
	uint64_t marks;
	struct crdt_subev *ring;
	struct crdt_subev cur; /* event returned by the last poll, freed on the next */
};

/* ------------------------------------------------------------------ owner-bound keys */

/*
 * Ended lives (crdt_owner.c): a FIFO ring of the last MESH_CRDT_OWNER_EXPIRED_MAX replica
 * ids and an open-addressing set over them (linear probing, backward-shift deletion,
 * 0 = empty slot: replica 0 is never valid), so the apply path asks in O(1).
 */
#define CRDT_OWNER_SLOTS (2u * MESH_CRDT_OWNER_EXPIRED_MAX)
struct crdt_owner_set {
	uint64_t ring[MESH_CRDT_OWNER_EXPIRED_MAX];
	uint64_t slot[CRDT_OWNER_SLOTS];
	uint32_t head; /* oldest in ring */
	uint32_t count;
};

/* ------------------------------------------------------------------ store */

struct mesh_crdt_store {
	uint64_t replica;
	bool export_local_only; /* mesh_crdt_config.export_local_only */
	uint64_t clock;    /* hybrid logical clock: highest ts written or accepted */
	uint64_t wall_ts;  /* mesh_crdt_ts_make(wall clock given by set_wall) */
	uint64_t ts_limit; /* remote ts above this are refused (skew bound, TS_MAX) */
	uint64_t max_skew_ns;
	uint64_t horizon;  /* highest ts of a collected tombstone */
	uint64_t gc_seq;   /* highest change seq of a collected tombstone (crdt_watch.c) */
	uint64_t last_now_ns; /* latest now_ns given (times peer removals) */
	uint64_t seq;
	uint64_t grace_ns;
	struct crdt_table table;
	struct crdt_log log;
	struct crdt_tombq tombq;
	uint64_t n_tombs;
	struct crdt_ns ns[MESH_CRDT_NS_MAX];
	uint32_t n_ns;
	uint8_t ns_order[MESH_CRDT_NS_MAX]; /* ids by prefix length, longest first */
	struct crdt_ns *last_ns;            /* last resolved namespace without nested ones */
	struct crdt_peer *peers;
	uint32_t n_peers;
	uint32_t peers_cap;
	struct crdt_peer *gone; /* removed peers still holding GC back (crdt_gc.c) */
	uint32_t n_gone;
	uint32_t gone_cap;
	struct mesh_crdt_sub *subs;
	uint32_t n_subs;
	uint64_t ctr[MESH_CRDT_CTR_MAX];
	struct crdt_owner_set owners; /* ended lives (crdt_owner.c) */
	uint64_t digest[MESH_CRDT_DIGEST_BUCKETS];
	char errmsg[256];
};

/* Relaxed single-writer add/sub on a stat or counter (readers use relaxed loads). */
static inline void
crdt_stat_add(uint64_t *v, int64_t d)
{
	__atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + (uint64_t)d,
			 __ATOMIC_RELAXED);
}

static inline void
crdt_ctr(struct mesh_crdt_store *s, enum mesh_crdt_counter c, uint64_t n)
{
	crdt_stat_add(&s->ctr[c], (int64_t)n);
}

/* Record a failure detail and return @err (a -errno). */
int crdt_fail(struct mesh_crdt_store *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Namespace of a key (longest prefix) or NULL. Hot path: keys of 8+ bytes are matched
 * against each prefix's first 8 bytes with one masked 64-bit compare.
 */
static inline bool
crdt_ns_match8(const struct crdt_ns *ns, uint64_t w, const void *key, size_t key_len)
{
	return (w & ns->pfx_mask) == ns->pfx_word && key_len >= ns->prefix_len &&
	       (ns->prefix_len <= 8 ||
		memcmp((const uint8_t *)key + 8, ns->prefix + 8, ns->prefix_len - 8) == 0);
}

/**
 * The namespace of @key when it is of the wanted kind (stream or CRDT); NULL with *@rc set
 * (and the store's error message) for a NULL or bad key, no namespace, or the other kind.
 */
struct crdt_ns *crdt_ns_lookup(struct mesh_crdt_store *s, const void *key, size_t key_len,
			       bool stream, int *rc);

static inline struct crdt_ns *
crdt_ns_resolve(struct mesh_crdt_store *s, const void *key, size_t key_len)
{
	if (mesh_likely(key_len >= 8)) {
		struct crdt_ns *last = s->last_ns;
		uint64_t w;

		memcpy(&w, key, 8);
		/* consecutive ops mostly share a namespace: try the last one first */
		if (last != NULL && crdt_ns_match8(last, w, key, key_len))
			return last;
		for (uint32_t i = 0; i < s->n_ns; i++) {
			struct crdt_ns *ns = &s->ns[s->ns_order[i]];

			if (crdt_ns_match8(ns, w, key, key_len)) {
				if (!ns->has_nested)
					s->last_ns = ns;
				return ns;
			}
		}
		return NULL;
	}
	for (uint32_t i = 0; i < s->n_ns; i++) {
		struct crdt_ns *ns = &s->ns[s->ns_order[i]];

		if (key_len >= ns->prefix_len && memcmp(key, ns->prefix, ns->prefix_len) == 0)
			return ns;
	}
	return NULL;
}

int crdt_key_check_fail(struct mesh_crdt_store *s, size_t key_len);

/* Check a key's length; 0 or -errno with a message. */
static inline int
crdt_key_check(struct mesh_crdt_store *s, size_t key_len)
{
	if (mesh_likely(key_len - 1 < MESH_CRDT_KEY_MAX))
		return 0;
	return crdt_key_check_fail(s, key_len);
}

/* Digest contribution of a live entry whose key hashes to @hash (0 for a tombstone). */
uint64_t crdt_digest_entry(const struct crdt_ns *ns, uint64_t hash, const struct crdt_entry *e);

/* Apply one op whose hash and namespace are known (core of put/delete/apply). */
int crdt_merge_op(struct mesh_crdt_store *s, struct crdt_ns *ns, uint64_t hash,
		  const struct mesh_crdt_op *op, uint64_t now_ns, bool local);

/* A local write of @op (key, value or tombstone, origin_ns, owned set) at a fresh version
 * of this replica (crdt_kv.c): 0 or -errno. */
int crdt_local_write(struct mesh_crdt_store *s, struct crdt_ns *ns, struct mesh_crdt_op *op,
		     uint64_t now_ns);

/* Tombstone queue. */
int crdt_tombq_push(struct mesh_crdt_store *s, struct crdt_entry *e);
void crdt_tombq_fini(struct crdt_tombq *q);
/* A removed peer's acks keep holding GC back for the grace (crdt_gc.c). */
void crdt_gc_peer_gone(struct mesh_crdt_store *s, const struct crdt_peer *p);
/* Forget the removed peer @id (it is registered again). */
void crdt_gc_peer_back(struct mesh_crdt_store *s, uint64_t id);

/* Hybrid logical clock (crdt_clock.c). */
void crdt_clock_init(struct mesh_crdt_store *s, uint64_t max_skew_ns);
/* The next local version's ts (ticks the clock); 0 when exhausted (-EOVERFLOW). */
uint64_t crdt_clock_tick(struct mesh_crdt_store *s);
/* Check a remote op's version against the bounds: 0 or -ERANGE (counted, errmsg). */
int crdt_clock_check(struct mesh_crdt_store *s, const struct mesh_crdt_op *op);

static inline void
crdt_clock_seen(struct mesh_crdt_store *s, uint64_t ts)
{
	if (ts > s->clock)
		s->clock = ts;
}

static inline void
crdt_now(struct mesh_crdt_store *s, uint64_t now_ns)
{
	if (now_ns > s->last_now_ns)
		s->last_now_ns = now_ns;
}

/* Subscriptions: deliver one event to every matching subscriber. */
void crdt_sub_notify(struct mesh_crdt_store *s, const void *key, uint32_t key_len,
		     const void *value, uint32_t value_len, uint8_t flags, uint64_t peer,
		     uint64_t origin_ns);
void crdt_sub_free_all(struct mesh_crdt_store *s);

/* Stream buffers. */
void crdt_stream_free_all(struct mesh_crdt_store *s);

/* Free an entry and its value (not its table slot or log record). */
void crdt_entry_free(struct crdt_entry *e);

/* Fill @op from an entry. */
static inline void
crdt_entry_op(const struct crdt_entry *e, struct mesh_crdt_op *op)
{
	op->key = e->key;
	op->key_len = e->key_len;
	op->value = e->value;
	op->value_len = e->value_len;
	op->ts = e->ts;
	op->replica = e->replica;
	op->seq = e->seq;
	op->origin_ns = e->origin_ns;
	op->tombstone = (e->flags & CRDT_F_TOMB) != 0;
	op->owned = (e->flags & CRDT_F_OWNED) != 0;
}

/* Ended lives (crdt_owner.c). */
bool crdt_owner_has(const struct crdt_owner_set *o, uint64_t replica);
/* A remote expiry tombstone @tomb would replace @e, our own live owned value: write the
 * value again at a fresh version above it instead. 1 or -errno. */
int crdt_owner_reassert(struct mesh_crdt_store *s, struct crdt_ns *ns, struct crdt_entry *e,
			const struct mesh_crdt_op *tomb, uint64_t now_ns);
/*
 * An owned value of an ended life becomes a tombstone at its own version (written to
 * @tmp, counted); any other op is returned as is.
 */
static inline const struct mesh_crdt_op *
crdt_owner_filter(struct mesh_crdt_store *s, const struct mesh_crdt_op *op,
		  struct mesh_crdt_op *tmp)
{
	if (mesh_likely(!op->owned || op->tombstone || s->owners.count == 0) ||
	    !crdt_owner_has(&s->owners, op->replica))
		return op;
	*tmp = *op;
	tmp->value = NULL;
	tmp->value_len = 0;
	tmp->tombstone = true; /* an expiry tombstone: owned stays set */
	crdt_ctr(s, MESH_CTR_crdt_owner_late_tombstoned, 1);
	return tmp;
}

#endif /* CRDT_INTERNAL_H */
