/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd CRDT key-value core (pure C, no DPDK). One store per node, owned by the merge lcore
 * (single writer, no locks). Keys and values are opaque byte strings; every key belongs to
 * exactly one namespace, chosen by longest configured prefix:
 *
 *   lww        last-writer-wins register per key, ordered by (hybrid logical clock ts,
 *              replica id), with tombstones, a tombstone GC and a GC horizon;
 *   epoch_max  16-byte big-endian {u64 epoch, i64 count}; higher epoch wins, then higher
 *              count (a join semilattice: merges commute, associate and are idempotent);
 *   broadcast / targeted
 *              stream namespaces: not stored; a byte-capped FIFO send buffer that drops its
 *              oldest entry when full, drained once per gossip round, and subscriber
 *              delivery on receipt.
 *
 * Replication: every change gets a local change sequence number; per-peer watermarks say
 * what each peer has acknowledged; export yields the newest version of every key changed
 * after a peer's cursor in bounded batches (no op log: memory is O(live keys + tombstones)).
 * Anti-entropy: 4096-bucket digests maintained incrementally; two digests name the buckets
 * that differ and a bucket can be exported on its own.
 *
 * Conventions: constructors return NULL and set errno; calls return 0 (or a count) or
 * -errno; mesh_crdt_strerror() explains a code, mesh_crdt_store_errmsg() the last failure
 * in detail. Time is a parameter (now_ns, monotonic, non-decreasing per store); the wall
 * clock, which versions are made of, is given with mesh_crdt_store_set_wall().
 * Pointers handed out by get/export/foreach point into the store and stay valid until the
 * next call that mutates entries: put, delete, apply, gc or mesh_crdt_store_delete (export,
 * ack, peer, digest, subscription and stream calls leave them in place).
 */
#ifndef MESH_CRDT_H
#define MESH_CRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest key accepted (bytes, prefix included). */
#define MESH_CRDT_KEY_MAX 1024u
/** Longest namespace prefix. */
#define MESH_CRDT_PREFIX_MAX 64u
/** Namespaces per store. */
#define MESH_CRDT_NS_MAX 32u
/** Peers with replication watermarks per store. */
#define MESH_CRDT_PEER_MAX 1024u
/** Digest buckets (fixed: part of the anti-entropy protocol). */
#define MESH_CRDT_DIGEST_BUCKETS 4096u
/**
 * Versions are hybrid logical clock timestamps: (wall-clock milliseconds << 16) | a
 * logical counter (mesh_crdt_ts_make). Remote timestamps above this absolute bound are
 * refused whatever the wall clock says (2^62: wall time up to about the year 4199).
 */
#define MESH_CRDT_TS_MAX (UINT64_C(1) << 62)
/** Bits of a timestamp that hold the logical counter. */
#define MESH_CRDT_TS_LOGICAL_BITS 16
/** Default bound on how far a remote timestamp may be ahead of the local wall clock. */
#define MESH_CRDT_MAX_SKEW_DEFAULT_NS (60ULL * 1000000000ULL)
/** No skew bound (MESH_CRDT_TS_MAX still applies). */
#define MESH_CRDT_MAX_SKEW_NONE UINT64_MAX
/** Default tombstone grace (issue 3: 300 s). */
#define MESH_CRDT_TOMB_GRACE_DEFAULT_NS (300ULL * 1000000000ULL)
/** Never collect tombstones. */
#define MESH_CRDT_TOMB_GRACE_NEVER UINT64_MAX
/** Length of an epoch_max value. */
#define MESH_CRDT_EPOCH_LEN 16u

/* Namespace limits used when a config field is 0. */
#define MESH_CRDT_DEFAULT_MAX_VALUE (1u << 20)        /* 1 MiB */
#define MESH_CRDT_DEFAULT_MAX_KEYS (UINT64_C(1) << 24) /* 16 M keys + tombstones */
#define MESH_CRDT_DEFAULT_MAX_BYTES (UINT64_C(4) << 30) /* 4 GiB of keys + values */

/** Kind of a namespace. */
enum mesh_crdt_ns_kind {
	MESH_CRDT_NS_LWW = 0,
	MESH_CRDT_NS_EPOCH_MAX,
	MESH_CRDT_NS_BROADCAST,
	MESH_CRDT_NS_TARGETED,
};

/** One namespace, configured once per prefix. */
struct mesh_crdt_ns_config {
	const char *prefix;          /**< NUL-terminated, 1..MESH_CRDT_PREFIX_MAX bytes */
	enum mesh_crdt_ns_kind kind;
	uint32_t max_value;          /**< largest value (CRDT kinds); 0 = default */
	uint64_t max_keys;           /**< live keys + tombstones; 0 = default */
	uint64_t max_bytes;          /**< CRDT: key + value bytes; stream: send buffer cap */
	/**
	 * A prefix that is a prefix of another configured one (or vice versa) is an overlap and
	 * refused, unless the longer one is configured with nested = true: it then carves a
	 * sub-namespace out of the shorter one and keys resolve by longest prefix.
	 */
	bool nested;
};

/** Store configuration. */
struct mesh_crdt_config {
	/**
	 * Replica id, non-zero, unique per node AND per boot (e.g. random 64 bits from the
	 * boot, or mesh_crdt_replica_id_derive()). A restarted node must never reuse one, or
	 * its new writes could tie with its old ones.
	 */
	uint64_t replica_id;
	/**
	 * Tombstone grace (see mesh_crdt_gc): a tombstone lives at least this long, and a
	 * removed peer holds GC back this long; 0 = MESH_CRDT_TOMB_GRACE_DEFAULT_NS;
	 * MESH_CRDT_TOMB_GRACE_NEVER = never collect.
	 */
	uint64_t tomb_grace_ns;
	/** Expected keys (pre-sizes the table); 0 = small. */
	uint64_t expected_keys;
	/**
	 * Remote ops whose timestamp is more than this ahead of the wall clock given with
	 * mesh_crdt_store_set_wall() are refused (-ERANGE, crdt_apply_skew); 0 =
	 * MESH_CRDT_MAX_SKEW_DEFAULT_NS (60 s), MESH_CRDT_MAX_SKEW_NONE = no bound.
	 */
	uint64_t max_skew_ns;
	/**
	 * Export policy (mesh_crdt_export). false: every change goes to every peer, whatever
	 * made it, so a peer relays what it received (N(N-1) transfers per change in a full
	 * mesh). true: a peer gets the changes this store made itself (local writes and
	 * deletes, owner expiries and re-assertions, horizon tombstones), every tombstone,
	 * and everything the store held when the peer was added (its catch-up); live values
	 * applied from peers are their makers' to send. For a full mesh where every member
	 * pushes directly to every other, with anti-entropy to repair what a maker could not
	 * deliver (it died, it was cut off): N-1 transfers per put. Tombstones are still
	 * relayed because digests hash them as absent (a collected and a held tombstone
	 * compare equal), so anti-entropy cannot see a missing delete.
	 */
	bool export_local_only;
};

/** Version of a register: (hybrid logical clock timestamp, replica id). */
struct mesh_crdt_version {
	uint64_t ts;
	uint64_t replica;
};

/**
 * A replication op: the full state of one key (value or tombstone) at one version.
 * Export fills it with pointers into the store; apply reads it.
 */
struct mesh_crdt_op {
	const void *key;
	const void *value;   /**< NULL allowed when value_len is 0 */
	uint32_t key_len;
	uint32_t value_len;
	uint64_t ts;
	uint64_t replica;
	uint64_t seq;        /**< export: the local change sequence (ack up to it); apply ignores */
	/**
	 * Wall-clock ns at which the origin node accepted the write (0 = unknown). Stored with
	 * the winning version and exported unchanged, so every replica can measure origin-to-
	 * apply latency; never compared, merged or hashed.
	 */
	uint64_t origin_ns;
	bool tombstone;
	/**
	 * Owner-bound (lww only). On a value: the key lives as long as the life of the replica
	 * that wrote this version (@replica, one node boot: mesh_crdt_replica_id_derive(name,
	 * gen)); mesh_crdt_owner_expire() deletes such keys when that life ends. On a
	 * tombstone: an expiry (the delete of an owned value because its owner's life ended),
	 * which the owner refutes if it still runs (mesh_crdt_owner_expire). Stored with the
	 * winning version and exported unchanged; never part of the merge order (one write is
	 * one (ts, replica), so two ops at the same version carry the same flag).
	 */
	bool owned;
};

/** Per-namespace figures; safe to read from another thread (relaxed atomics). */
struct mesh_crdt_ns_stats {
	uint64_t keys;            /**< live keys */
	uint64_t tombstones;
	uint64_t bytes;           /**< key + value bytes (CRDT) or buffered bytes (stream) */
	uint64_t buffered;        /**< stream: entries waiting for the next drain */
	uint64_t dropped;         /**< stream: oldest entries dropped because the buffer was full */
	uint64_t dropped_bytes;
	uint64_t rejected;        /**< puts/applies refused by a limit */
};

/*
 * Store counters, X(name, description): enum MESH_CTR_crdt_*, names are telemetry keys.
 */
#define MESH_CRDT_COUNTERS(X) \
	X(crdt_put, "local writes (client puts) applied") \
	X(crdt_delete, "local deletes applied (tombstones written)") \
	X(crdt_apply, "remote ops offered to the store") \
	X(crdt_apply_changed, "remote ops that changed the store (newer than what it held)") \
	X(crdt_apply_stale, "remote ops ignored: older than the version held") \
	X(crdt_apply_dup, "remote ops ignored: the same version is already held") \
	X(crdt_apply_reject, "remote ops refused: unknown namespace or a local limit") \
	X(crdt_apply_skew, "remote ops refused: timestamp too far ahead of the local wall clock") \
	X(crdt_apply_horizon, "remote ops refused: older than the GC horizon for an absent key") \
	X(crdt_horizon_tombstones, "tombstones made for values refused below the GC horizon " \
	  "(so that their senders delete them too and the stores converge)") \
	X(crdt_tomb_gc, "tombstones collected after their grace period") \
	X(crdt_sub_event, "events queued for subscribers") \
	X(crdt_sub_drop, "subscriber events lost: the subscriber's queue was full") \
	X(crdt_stream_publish, "stream messages queued for sending") \
	X(crdt_stream_drop, "stream messages dropped unsent: the send buffer was full") \
	X(crdt_stream_deliver, "stream messages received and handed to subscribers") \
	X(crdt_export_ops, "ops read from the change log for replication") \
	X(crdt_log_compact, "change log compactions") \
	X(crdt_owner_expired, "owner-bound keys deleted because their owner's life ended") \
	X(crdt_owner_late_tombstoned, "owner-bound ops of an ended life applied as tombstones") \
	X(crdt_owner_reasserted, "own owner-bound keys written again: an expiry of this life arrived") \
	X(crdt_owner_set_evicted, "ended lives forgotten: the bounded expired set was full")
enum mesh_crdt_counter { MESH_CRDT_COUNTERS(MESH_COUNTER_ENUM) MESH_CRDT_CTR_MAX };

struct mesh_crdt_store;
struct mesh_crdt_sub;

/* ------------------------------------------------------------------ store */

/** New empty store (no namespaces). NULL + errno (EINVAL: replica id 0; ENOMEM). */
struct mesh_crdt_store *mesh_crdt_store_new(const struct mesh_crdt_config *cfg);
/** Free the store, its values, buffers and subscriptions. NULL is a no-op. */
void mesh_crdt_store_delete(struct mesh_crdt_store *s);
/** Replica id from a node identity and a per-boot nonce (never 0). */
uint64_t mesh_crdt_replica_id_derive(const void *node, size_t node_len, uint64_t boot_nonce);
uint64_t mesh_crdt_store_replica(const struct mesh_crdt_store *s);
/**
 * Tell the store the wall clock (ns since the Unix epoch) for the calls that follow: local
 * writes get the version max(clock + 1, mesh_crdt_ts_make(@wall_ns)), and remote ops more
 * than max_skew ahead of it are refused. Call it per batch (a poll, a burst of requests);
 * a wall clock that steps back never makes versions go back. Before the first call the
 * wall clock is 0 (the epoch): versions are then a plain Lamport clock.
 */
void mesh_crdt_store_set_wall(struct mesh_crdt_store *s, uint64_t wall_ns);
/** Current clock: the highest timestamp written or accepted. */
uint64_t mesh_crdt_store_clock(const struct mesh_crdt_store *s);
/**
 * GC horizon: the highest timestamp of a collected tombstone (0 before any). Remote values
 * at or below it are refused for keys the store holds no entry for (mesh_crdt_gc).
 */
uint64_t mesh_crdt_store_horizon(const struct mesh_crdt_store *s);
/** The timestamp of wall time @wall_ns with logical counter 0. */
static inline uint64_t
mesh_crdt_ts_make(uint64_t wall_ns)
{
	return wall_ns / 1000000u << MESH_CRDT_TS_LOGICAL_BITS;
}
/** The wall-clock part of timestamp @ts, in ns since the epoch (millisecond resolution). */
static inline uint64_t
mesh_crdt_ts_wall_ns(uint64_t ts)
{
	return (ts >> MESH_CRDT_TS_LOGICAL_BITS) * 1000000u;
}
/** Last local change sequence (0 before any change). */
uint64_t mesh_crdt_store_seq(const struct mesh_crdt_store *s);
/** Human-readable detail of the last failed call ("" if none). */
const char *mesh_crdt_store_errmsg(const struct mesh_crdt_store *s);
/** Text for a -errno returned by this module. */
const char *mesh_crdt_strerror(int err);
/** Counter @c (relaxed read; any thread). */
uint64_t mesh_crdt_store_counter(const struct mesh_crdt_store *s, enum mesh_crdt_counter c);
/** Name of counter @c (NULL when out of range). */
const char *mesh_crdt_counter_name(enum mesh_crdt_counter c);
/** One-line description of counter @c (NULL when out of range). */
const char *mesh_crdt_counter_desc(enum mesh_crdt_counter c);

/* ------------------------------------------------------------------ namespaces */

/**
 * Configure a namespace. Returns its id (>= 0) or -EEXIST (same prefix configured twice),
 * -EBUSY (overlaps another prefix and not nested), -EINVAL (bad prefix/kind),
 * -ENOSPC (MESH_CRDT_NS_MAX reached).
 */
int mesh_crdt_ns_add(struct mesh_crdt_store *s, const struct mesh_crdt_ns_config *cfg);
/** A kind by its name: lww, epoch_max, broadcast, targeted. 0 or -EINVAL. */
int mesh_crdt_ns_kind_parse(const char *s, enum mesh_crdt_ns_kind *out);
/**
 * The DESIGN.md defaults: worker: lww, config: lww, rl: epoch_max, td: broadcast 4 MiB,
 * tree:req: targeted 256 KiB, tree:page: targeted 32 MiB. 0 or the first -errno.
 */
int mesh_crdt_ns_add_defaults(struct mesh_crdt_store *s);
/** Namespace id of @key by longest prefix, or -ENXIO. */
int mesh_crdt_ns_find(const struct mesh_crdt_store *s, const void *key, size_t key_len);
/** Kind and prefix of namespace @ns; 0 or -EINVAL. */
int mesh_crdt_ns_info(const struct mesh_crdt_store *s, int ns, enum mesh_crdt_ns_kind *kind,
		      const char **prefix);
/** Figures of namespace @ns (any thread); 0 or -EINVAL. */
int mesh_crdt_ns_stats(const struct mesh_crdt_store *s, int ns, struct mesh_crdt_ns_stats *out);
/**
 * One-line configuration of namespace @ns, "PREFIX KIND max_value=N max_keys=N
 * max_bytes=N" (two stores with equal lines treat the namespace alike), NUL-terminated in
 * @buf. Returns its length (truncated to @cap - 1) or -EINVAL.
 */
int mesh_crdt_ns_describe(const struct mesh_crdt_store *s, int ns, char *buf, size_t cap);

/* ------------------------------------------------------------------ local operations */

/**
 * Write @key = @value at a fresh local version (ticks the clock). epoch_max keys merge the
 * 16-byte value into the current one (the result is the max). 0 or -errno: -ENXIO (no
 * namespace), -EPROTOTYPE (stream namespace), -ENAMETOOLONG / -EINVAL (key), -EINVAL
 * (malformed epoch_max value), -EMSGSIZE (value over max_value), -ENOSPC (max_keys),
 * -EDQUOT (max_bytes), -EOVERFLOW (clock past MESH_CRDT_TS_MAX), -ENOMEM.
 */
int mesh_crdt_put(struct mesh_crdt_store *s, const void *key, size_t key_len, const void *value,
		  size_t value_len, uint64_t now_ns);
/** mesh_crdt_put() recording @origin_ns (wall clock, see mesh_crdt_op.origin_ns). */
int mesh_crdt_put_origin(struct mesh_crdt_store *s, const void *key, size_t key_len,
			 const void *value, size_t value_len, uint64_t now_ns, uint64_t origin_ns);
/**
 * mesh_crdt_put_origin() that, when @owned, binds the key to this store's replica (this
 * node's life, see mesh_crdt_op.owned): when the cluster ends that life, every store that
 * runs mesh_crdt_owner_expire() for it deletes the key, unless a later write replaced it.
 * -EOPNOTSUPP for an owned put on an epoch_max key (it cannot be deleted); otherwise as
 * mesh_crdt_put().
 */
int mesh_crdt_put_owned(struct mesh_crdt_store *s, const void *key, size_t key_len,
			const void *value, size_t value_len, uint64_t now_ns, uint64_t origin_ns,
			bool owned);
/**
 * Delete @key (lww): writes a tombstone at a fresh local version. -ENOENT when the key has
 * no live value, -EOPNOTSUPP on epoch_max (reset with a higher epoch instead).
 */
int mesh_crdt_delete(struct mesh_crdt_store *s, const void *key, size_t key_len,
		     uint64_t now_ns);
/** mesh_crdt_delete() recording @origin_ns. */
int mesh_crdt_delete_origin(struct mesh_crdt_store *s, const void *key, size_t key_len,
			    uint64_t now_ns, uint64_t origin_ns);
/**
 * Read @key: 0 and the value (pointer into the store, optional @version), or -ENOENT
 * (absent or tombstone), -ENXIO, -EPROTOTYPE (stream namespace).
 */
int mesh_crdt_get(const struct mesh_crdt_store *s, const void *key, size_t key_len,
		  const void **value, uint32_t *value_len, struct mesh_crdt_version *version);

/** Called for each live key by mesh_crdt_foreach; return non-zero to stop. */
typedef int (*mesh_crdt_foreach_f)(void *ctx, const void *key, uint32_t key_len,
				   const void *value, uint32_t value_len);
/** Visit the live keys starting with @prefix (table order). Returns the visit count. */
uint64_t mesh_crdt_foreach(const struct mesh_crdt_store *s, const void *prefix,
			   size_t prefix_len, mesh_crdt_foreach_f fn, void *ctx);

/* ------------------------------------------------------------------ replication */

/**
 * Merge one remote op (idempotent; any order converges). *changed (optional) says whether
 * local state changed. Advances the clock to max(clock, ts). 0 or -errno: -ERANGE
 * (replica 0, ts > MESH_CRDT_TS_MAX, or ts more than max_skew ahead of the wall clock:
 * crdt_apply_skew), -ESTALE (a value at or below the GC horizon for a key the store holds
 * no entry for: crdt_apply_horizon; such a tombstone is ignored as stale), -EINVAL
 * (malformed: bad epoch value, tombstone on epoch_max), limits as for put. A refused op is
 * counted (crdt_apply_reject) and leaves no trace; mesh_crdt_store_errmsg() says why.
 */
int mesh_crdt_apply(struct mesh_crdt_store *s, const struct mesh_crdt_op *op, uint64_t now_ns,
		    bool *changed);
/**
 * Merge @n ops (prefetching ahead). Returns how many changed local state. @result
 * (optional) gets per op 1 (changed), 0 (older or duplicate) or -errno.
 */
uint32_t mesh_crdt_apply_batch(struct mesh_crdt_store *s, const struct mesh_crdt_op *ops,
			       uint32_t n, uint64_t now_ns, int *result);

/** Register a peer for export/ack (watermarks start at 0). 0, -EEXIST, -ENOSPC. */
int mesh_crdt_peer_add(struct mesh_crdt_store *s, uint64_t peer);
/**
 * Forget a peer (dead, left or reaped). What it acknowledged keeps holding tombstone GC
 * back for the grace after the removal (timed by the latest now_ns the store was given),
 * so a member that comes back within the grace still finds every tombstone it missed.
 * 0 or -ENOENT.
 */
int mesh_crdt_peer_remove(struct mesh_crdt_store *s, uint64_t peer);
/** Acked and sent watermarks of @peer. 0 or -ENOENT. */
int mesh_crdt_peer_watermarks(const struct mesh_crdt_store *s, uint64_t peer, uint64_t *acked,
			      uint64_t *sent);
/**
 * Next batch for @peer: the current version of each key changed after the peer's send
 * cursor, in change order, at most @max_ops ops and @max_bytes of key + value bytes (one
 * op is always returned when any is pending, even if larger). Advances the send cursor.
 * Returns the op count (0: nothing pending) or -ENOENT. Ops point into the store.
 */
int mesh_crdt_export(struct mesh_crdt_store *s, uint64_t peer, struct mesh_crdt_op *ops,
		     uint32_t max_ops, size_t max_bytes);
/**
 * @peer has every change up to @seq (cumulative; older acks are ignored). An ack that
 * arrives after a rewind still counts and moves the send cursor past what it covers.
 * -ERANGE when @seq is past anything ever exported to the peer, -ENOENT for an unknown peer.
 */
int mesh_crdt_ack(struct mesh_crdt_store *s, uint64_t peer, uint64_t seq);
/** Resend everything unacknowledged to @peer (send cursor = acked). 0 or -ENOENT. */
int mesh_crdt_peer_rewind(struct mesh_crdt_store *s, uint64_t peer);

/**
 * Collect tombstones that are safe to forget: acknowledged by every registered peer (and
 * by every peer removed less than the grace ago) AND held for at least the grace. Each
 * collection raises the GC horizon to the tombstone's timestamp. At most @budget (0 = no
 * limit). Returns the number collected. doc/crdt.md explains why this keeps deleted keys
 * deleted when a reaped member or a partitioned minority comes back with old data.
 */
uint64_t mesh_crdt_gc(struct mesh_crdt_store *s, uint64_t now_ns, uint64_t budget);

/* ------------------------------------------------------------------ owner-bound keys */

/** Ended lives remembered by a store (FIFO: the oldest is forgotten first). */
#define MESH_CRDT_OWNER_EXPIRED_MAX 1024u

/**
 * The life @replica ended (its node was declared dead or left, or restarted): delete every
 * key whose winning version is owned by @replica, each with a local tombstone (a fresh
 * version above it, so the delete replicates and wins over the owned version everywhere; a
 * concurrent later write by another replica still wins by LWW), and remember @replica
 * among the last MESH_CRDT_OWNER_EXPIRED_MAX ended lives: an owned value of it that
 * arrives later (late replication, anti-entropy from a third node) is applied as a
 * tombstone at its own version instead of bringing the key back. Both kinds of tombstone
 * are expiries (mesh_crdt_op.owned set): if the life still runs after all (a false death;
 * a partitioned node declaring everyone else dead), its own store answers each one by
 * writing its value again at a fresh version (crdt_owner_reasserted), like a SWIM
 * refutation, and that write wins once the other stores revive the life
 * (mesh_crdt_owner_revive). Plain deletes are never refuted. Idempotent. Cost: one scan
 * of the key table (O(keys + tombstones)). Returns the number of keys deleted
 * (crdt_owner_expired); 0 for replica 0.
 */
uint64_t mesh_crdt_owner_expire(struct mesh_crdt_store *s, uint64_t replica, uint64_t now_ns);
/**
 * The life @replica is alive after all (a member declared dead refuted it in the same
 * life): forget it from the ended lives, so its owned writes from now on are kept (among
 * them the rewrites with which it refutes the expiry). Returns true when it was
 * remembered.
 */
bool mesh_crdt_owner_revive(struct mesh_crdt_store *s, uint64_t replica);
/** Whether @replica is among the remembered ended lives. */
bool mesh_crdt_owner_is_expired(const struct mesh_crdt_store *s, uint64_t replica);
/** Whether @key's winning version is a live owner-bound value (its owner in @owner). */
bool mesh_crdt_owner_of(const struct mesh_crdt_store *s, const void *key, size_t key_len,
			uint64_t *owner);

/* ------------------------------------------------------------------ digests */

/**
 * Anti-entropy digest: per bucket, the XOR of a 64-bit hash of every live (key, version) in
 * it, where an lww version is (ts, replica) (plus the value's length and first and last 8
 * bytes as a guard) and an epoch_max version is its 16-byte value. Bucket = top 12 bits of
 * xxh3(key). Tombstones are not hashed (GC would make digests flap) but are exported with
 * their bucket.
 */
struct mesh_crdt_digest {
	uint64_t bucket[MESH_CRDT_DIGEST_BUCKETS];
};

/** Copy the store's digest (kept up to date on every change; O(buckets)). */
void mesh_crdt_digest_get(const struct mesh_crdt_store *s, struct mesh_crdt_digest *out);
/** XOR of all buckets: a cheap whole-store fingerprint. */
uint64_t mesh_crdt_digest_fold(const struct mesh_crdt_digest *d);
/** Digest bucket of a key. */
uint32_t mesh_crdt_digest_bucket_of(const void *key, size_t key_len);
/**
 * Names of the buckets where @a and @b differ, ascending, at most @max in @out. Returns the
 * total number that differ (may exceed @max).
 */
uint32_t mesh_crdt_digest_diff(const struct mesh_crdt_digest *a, const struct mesh_crdt_digest *b,
			       uint16_t *out, uint32_t max);

/** Receives one op of an exported bucket; return non-zero to stop. Must not mutate @s. */
typedef int (*mesh_crdt_op_f)(void *ctx, const struct mesh_crdt_op *op);
/**
 * Every key of bucket @bucket (live values and tombstones) as ops, for catch-up of a peer
 * whose digest differs there. O(table / 4096). Returns the op count or -EINVAL.
 */
int mesh_crdt_bucket_export(const struct mesh_crdt_store *s, uint32_t bucket, mesh_crdt_op_f fn,
			    void *ctx);

/* ------------------------------------------------------------------ epoch_max values */

/** Decoded epoch_max value. */
struct mesh_crdt_epoch {
	uint64_t epoch;
	int64_t count;
};

/** Write the 16-byte big-endian encoding of (@epoch, @count) to @out. */
void mesh_crdt_epoch_encode(uint64_t epoch, int64_t count, uint8_t out[MESH_CRDT_EPOCH_LEN]);
/** Decode; 0 or -EINVAL unless @len is exactly 16. */
int mesh_crdt_epoch_decode(const void *buf, size_t len, struct mesh_crdt_epoch *out);
/**
 * EpochMaxWins: higher epoch wins, then higher count; a malformed side loses to a
 * well-formed one; both malformed keep @local. Returns 1 when @remote wins (the result is
 * remote's bytes), 0 when @local is kept (also for equal values).
 */
int mesh_crdt_epoch_merge(const void *local, size_t local_len, const void *remote,
			  size_t remote_len);

/* ------------------------------------------------------------------ subscriptions */

/** One change seen by a subscriber (post-merge state). Valid until the next poll. */
struct mesh_crdt_event {
	const void *key;
	const void *value; /**< NULL for a tombstone */
	uint32_t key_len;
	uint32_t value_len;
	bool tombstone;
	bool stream;       /**< delivered stream message (not stored) */
	uint64_t peer;     /**< stream: sender as given to mesh_crdt_stream_deliver */
	uint64_t origin_ns; /**< origin wall clock of the change or message (0 = unknown) */
	uint64_t seq;      /**< the change's local change sequence (0: stream message) */
};

/**
 * Subscribe to keys starting with @prefix (any namespace kind): a bounded queue of at most
 * @capacity events and @max_bytes of copied key + value bytes (0 = no byte cap). A full
 * queue drops the new event and counts it. NULL + errno (EINVAL, ENOMEM).
 */
struct mesh_crdt_sub *mesh_crdt_sub_new(struct mesh_crdt_store *s, const void *prefix,
					size_t prefix_len, uint32_t capacity, size_t max_bytes);
/** Unsubscribe and free. NULL is a no-op. */
void mesh_crdt_sub_delete(struct mesh_crdt_sub *sub);
/** Next event: 1 and *ev filled, or 0 when empty. */
int mesh_crdt_sub_poll(struct mesh_crdt_sub *sub, struct mesh_crdt_event *ev);
/** Events dropped because the queue was full. */
uint64_t mesh_crdt_sub_dropped(const struct mesh_crdt_sub *sub);
/** Events waiting. */
uint32_t mesh_crdt_sub_pending(const struct mesh_crdt_sub *sub);
/** upstream's per-prefix queue capacities (worker: 1000, td: 50, tree:page: 32, ... 100). */
uint32_t mesh_crdt_sub_default_capacity(const char *prefix);

/* ------------------------------------------------------------------ watch reads */

/**
 * Highest change sequence of a tombstone collected by GC (0 before any): changes after a
 * seq below it can no longer all be read back (crdt_watch.c).
 */
uint64_t mesh_crdt_store_gc_seq(const struct mesh_crdt_store *s);
/**
 * Whether every change after @seq can still be read with mesh_crdt_watch_read: @seq is not
 * past the store's seq and no tombstone changed after @seq was collected.
 */
bool mesh_crdt_watch_can_resume(const struct mesh_crdt_store *s, uint64_t seq);
/**
 * A change marker for a watch on @prefix: counts the changes of keys under it and queues
 * nothing (a cheap test of whether a read would find anything). Free it with
 * mesh_crdt_sub_delete. NULL + errno.
 */
struct mesh_crdt_sub *mesh_crdt_watch_mark_new(struct mesh_crdt_store *s, const void *prefix,
					       size_t prefix_len);
/** Changes counted by marker @sub since it was made. */
uint64_t mesh_crdt_watch_marks(const struct mesh_crdt_sub *sub);
/**
 * Read the keys starting with @prefix whose latest change has a seq in (*@cursor, @until],
 * in seq order, as ops (pointers into the store, valid until the next mutation), each
 * key's latest version once (tombstones too unless @live_only). At most @max_ops ops and
 * @max_scan index records per call; *@cursor advances past what was scanned. *@done: the
 * read reached @until (or the newest change): *@cursor is then @until (UINT64_MAX: the
 * newest seq). Returns the op count.
 */
uint32_t mesh_crdt_watch_read(const struct mesh_crdt_store *s, const void *prefix,
			      size_t prefix_len, uint64_t *cursor, uint64_t until,
			      bool live_only, struct mesh_crdt_op *ops, uint32_t max_ops,
			      uint32_t max_scan, bool *done);

/* ------------------------------------------------------------------ stream namespaces */

/**
 * Queue a message on a broadcast namespace. If the buffer would exceed its cap, the oldest
 * entries are dropped (counted). -EPROTOTYPE on a targeted or CRDT namespace, -ENXIO,
 * -EMSGSIZE when key + value alone exceed the cap, -ENOMEM.
 */
int mesh_crdt_stream_publish(struct mesh_crdt_store *s, const void *key, size_t key_len,
			     const void *value, size_t value_len);
/** Same for a targeted namespace, to @peer; -EPROTOTYPE on a broadcast one. */
int mesh_crdt_stream_publish_to(struct mesh_crdt_store *s, uint64_t peer, const void *key,
				size_t key_len, const void *value, size_t value_len);

/** One drained message; @peer is 0 for broadcast. Data is freed after the call returns. */
typedef void (*mesh_crdt_drain_f)(void *ctx, int ns, uint64_t peer, const void *key,
				  uint32_t key_len, const void *value, uint32_t value_len);
/**
 * Empty the send buffer of namespace @ns (or of every stream namespace when @ns < 0),
 * oldest first, for one gossip round. Returns the number of messages, or -EINVAL /
 * -EPROTOTYPE for a bad or non-stream @ns.
 */
int mesh_crdt_stream_drain(struct mesh_crdt_store *s, int ns, mesh_crdt_drain_f fn, void *ctx);
/**
 * A stream message received from @peer: delivered to matching subscribers, not stored.
 * 0, -ENXIO, -EPROTOTYPE (CRDT namespace).
 */
int mesh_crdt_stream_deliver(struct mesh_crdt_store *s, uint64_t peer, const void *key,
			     size_t key_len, const void *value, size_t value_len);
/** mesh_crdt_stream_deliver() passing the sender's @origin_ns on to subscribers. */
int mesh_crdt_stream_deliver_origin(struct mesh_crdt_store *s, uint64_t peer, const void *key,
				    size_t key_len, const void *value, size_t value_len,
				    uint64_t origin_ns);

#ifdef __cplusplus
}
#endif

#endif /* MESH_CRDT_H */
