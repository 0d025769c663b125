/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stream (pure C, no DPDK): what travels between peers above the frame layer.
 *
 * - CRDT ops are delivered reliably over per-peer channels: batches carry a channel
 *   (epoch, sequence); the receiver acks cumulatively with a 64-bit selective-ack bitmap
 *   and explicit nacks; the sender keeps a bounded in-flight window and retransmits with
 *   capped exponential backoff (first retransmission after rto_initial, or twice the
 *   smoothed ack round trip when that is longer).
 * - Stream values are at-most-once: never retransmitted whole; values larger than a frame
 *   are chunked under one generation, reassembled per (peer, key), and missing fragments
 *   are repaired through nacks served from a bounded sender-side repair cache.
 * - Dissemination: push to every member while the cluster has <= direct_max nodes; above
 *   that, send to `fanout` random members and relay on first receipt: a CRDT op when it
 *   changed the receiver's store (crdt_apply's verdict), a stream value when the seen
 *   table remembered it as new; an optional digest exchange (caller-provided) repairs
 *   the rest.
 * - Heartbeats go on a timer when nothing else was sent (never echoed); a channel that
 *   hears nothing for idle_timeout is marked down.
 *
 * Time is a parameter (now_ns, monotonic: it must never go backwards). The caller drives
 * the instance from one thread (not thread-safe; counters are single-writer):
 *   rx:   mesh_stream_rx_payload() for each opened MSGS frame (or mesh_stream_rx() per
 *         record when it demultiplexes itself);
 *   tx:   mesh_stream_op_publish() / mesh_stream_value_send() for local changes;
 *   idle: mesh_stream_flush() at the end of each poll iteration (sender idle: partial
 *         batches and pending acks leave now), mesh_stream_tick() once
 *         mesh_stream_next_deadline() is reached (retransmission, heartbeats, idle
 *         timeout, fragment nacks, GC, digests).
 * Output leaves through env->send() one frame payload at a time (the caller seals it
 * with mesh_wire_frame_seal()).
 */
#ifndef MESH_STREAM_H
#define MESH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh_common.h"
#include "mesh_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- counters */

/* Counters, X(name, description); telemetry names are "stream_<name>". */
#define MESH_STREAM_COUNTERS(X) \
	X(tx_payloads, "frame payloads handed to the network") \
	X(tx_payload_bytes, "frame payload bytes handed to the network") \
	X(tx_crdt_ops, "CRDT ops sent in batches (first transmission)") \
	X(tx_crdt_batches, "CRDT batches sent (first transmission)") \
	X(tx_crdt_retransmits, "CRDT batches resent after the retransmission timeout") \
	X(tx_crdt_fast_retransmits, "CRDT batches resent at once because a peer nacked them") \
	X(tx_crdt_drop_queue_full, "CRDT ops dropped: the peer's send queue was full") \
	X(tx_crdt_op_too_big, "CRDT ops not sent: larger than max_op_bytes") \
	X(tx_crdt_requeued, "unacknowledged CRDT ops queued again for a new channel epoch") \
	X(tx_crdt_big_ops, "large CRDT ops sent in fragments") \
	X(tx_crdt_frag_batches, "fragment batches of large CRDT ops sent") \
	X(rx_crdt_big_ops, "large CRDT ops reassembled from fragments") \
	X(rx_crdt_frag_drop, "CRDT fragments left unacked: reassembly limits reached") \
	X(rx_crdt_batches, "CRDT batches received") \
	X(rx_crdt_ops, "CRDT ops received and handed to the store (duplicates excluded)") \
	X(rx_crdt_dup_batches, "CRDT batches received again (acked again, not applied)") \
	X(rx_crdt_dup_ops, "CRDT ops that did not change the store: duplicate or older") \
	X(rx_crdt_drop_window, "CRDT batches dropped: past the receive window (state lost)") \
	X(rx_crdt_stale_epoch, "CRDT batches ignored: from an older channel epoch") \
	X(rx_crdt_wrong_receiver, "CRDT batches ignored: the channel is bound to another node") \
	X(rx_crdt_state_lost, "channel restarts asked because receive state was lost") \
	X(rx_ack_reset, "channel restarts asked by a peer's ack") \
	X(rx_crdt_apply_fail, "CRDT batches the store refused (acked as failed)") \
	X(rx_crdt_apply_retry, "CRDT batches left unacked to be resent: the store was busy") \
	X(tx_acks, "acks sent") \
	X(rx_acks, "acks received") \
	X(rx_ack_success, "acks received reporting success") \
	X(rx_ack_failure, "acks received reporting a failed apply") \
	X(rx_ack_stale_epoch, "acks ignored: for an older channel epoch") \
	X(rx_ack_nacked, "batches a peer reported missing (nacks)") \
	X(crdt_ops_acked, "CRDT ops acknowledged by peers") \
	X(tx_heartbeats, "heartbeats sent to idle channels") \
	X(rx_heartbeats, "heartbeats received") \
	X(channel_up, "peer channels that came up (first contact or after silence)") \
	X(channel_down, "peer channels marked down: nothing heard for the idle timeout") \
	X(tx_stream_values, "stream values sent") \
	X(tx_stream_chunks, "stream value fragments sent") \
	X(tx_stream_parked, "targeted stream values parked until their peer is known") \
	X(tx_stream_drop_parked, "parked stream values dropped: the park buffer was full") \
	X(tx_stream_too_big, "stream values refused: bad key or too many fragments") \
	X(rx_stream_values, "stream values delivered") \
	X(rx_stream_chunks, "stream value fragments received") \
	X(rx_chunk_dup, "stream fragments ignored: duplicate or late") \
	X(rx_chunk_old_gen, "stream fragments ignored: older generation") \
	X(rx_chunk_bad, "stream fragments dropped: malformed totals or index") \
	X(rx_chunk_gen_reset, "stream reassemblies restarted by a newer generation") \
	X(rx_assembly_cancelled, "stream reassemblies cancelled by a whole value") \
	X(rx_assembly_evict_count, "stream reassemblies evicted: too many pending") \
	X(rx_assembly_evict_bytes, "stream reassemblies evicted: too many bytes pending") \
	X(rx_assembly_gc, "stream reassemblies collected after their timeout") \
	X(reasm_evict_peer_slots, "stream reassemblies evicted: the sender held its slot cap") \
	X(reasm_evict_peer_bytes, "stream reassemblies evicted: the sender held its byte cap") \
	X(tx_chunk_nacks, "fragment nacks sent (missing fragments asked again)") \
	X(rx_chunk_nacks, "fragment nacks received") \
	X(tx_chunk_repairs, "stream fragments resent from the repair cache") \
	X(rx_chunk_nack_unknown, "fragment nacks for values no longer in the repair cache") \
	X(tx_chunk_repair_capped, "fragment repairs not sent: past nack_repair_max in one nack") \
	X(tx_chunk_repair_paced, "fragment repairs not sent: the peer's repair bucket was empty") \
	X(repair_cache_evict, "values evicted from the repair cache: it was full") \
	X(relay_crdt_ops, "CRDT ops forwarded to other members (epidemic relay)") \
	X(relay_stream_values, "stream values forwarded to other members (epidemic relay)") \
	X(relay_dup_suppressed, "stream values ignored: already seen") \
	X(relay_drop_dedup_full, "stream values dropped in relay mode: no dedup slot free") \
	X(relay_drop_dedup_share, "stream values dropped: past the sender's relay dedup share") \
	X(tx_digests, "anti-entropy digests sent") \
	X(rx_digests, "anti-entropy digests received") \
	X(rx_records, "records received") \
	X(rx_drop_bad_container, "payloads dropped: malformed record container") \
	X(rx_drop_bad_msg, "records dropped: malformed body") \
	X(rx_drop_not_member, "channel records dropped: the sender is not a member") \
	X(peer_add_full, "members refused: the peer table held max_peers") \
	X(rx_unknown_kind, "records of an unknown kind, skipped") \
	X(rx_other_kind, "records handed to another layer") \
	X(deadline_scans, "tick deadlines computed again (a pass over the peers)")

#define MESH_STREAM_CTR_ENUM(name, desc) MESH_STREAM_CTR_##name,
#define MESH_STREAM_CTR_NAME(name, desc) "stream_" #name,
/** Indices MESH_STREAM_CTR_<name>; telemetry names are "stream_<name>". */
enum mesh_stream_counter { MESH_STREAM_COUNTERS(MESH_STREAM_CTR_ENUM) MESH_STREAM_CTR_MAX };

/** Counter names and one-line descriptions, indexed by enum mesh_stream_counter. */
extern const char *const mesh_stream_counter_names[MESH_STREAM_CTR_MAX];
extern const char *const mesh_stream_counter_descs[MESH_STREAM_CTR_MAX];

/* ---------------------------------------------------------------- config */

struct mesh_stream_config {
	uint64_t self_id;          /**< this node's id (mesh_wire_node_id) */
	uint64_t seed;             /**< relay target choice and channel epochs */
	size_t max_payload;        /**< MSGS payload bytes per frame (mesh_wire_payload_max) */
	uint32_t window;           /**< CRDT batches in flight per peer (1..64, default 32) */
	uint32_t max_pending_ops;  /**< queued ops per peer before drops (default 65536) */
	uint32_t max_op_bytes;     /**< largest op; above a frame it is fragmented (1 MiB) */
	uint64_t rto_initial_ns;   /**< least first retransmission delay (default 200 ms) */
	uint64_t rto_max_ns;       /**< backoff cap (default 5 s) */
	uint64_t heartbeat_ns;     /**< heartbeat when idle this long (default 1 s) */
	uint64_t idle_timeout_ns;  /**< channel down after this silence (default 60 s) */
	uint32_t direct_max;       /**< direct push up to this cluster size (default 32) */
	uint32_t fanout;           /**< epidemic fanout above it (default 3) */
	uint32_t seen_slots;       /**< stream value dedup entries, power of 2 (16384) */
	/* reassembly (receiver) */
	uint32_t max_assemblies;   /**< concurrent incomplete values (default 20) */
	uint64_t max_assembly_bytes; /**< their total bytes (default 512 MiB) */
	uint32_t max_assemblies_per_peer; /**< of them from one sender (default 4) */
	uint64_t max_assembly_bytes_per_peer; /**< bytes from one sender (default 128 MiB) */
	uint64_t assembly_timeout_ns; /**< GC of incomplete values (default 30 s) */
	uint32_t max_total_chunks; /**< refuse larger fragment counts (default 65536) */
	uint64_t nack_delay_ns;    /**< quiet time before nacking gaps (default 20 ms) */
	uint64_t nack_interval_ns; /**< between nacks for one value (default 100 ms) */
	uint32_t nack_repair_max;  /**< fragments asked / resent per nack (default 64) */
	/* repair cache (sender) */
	uint64_t repair_cache_bytes; /**< chunked values kept for nacks (default 64 MiB) */
	uint64_t repair_ttl_ns;    /**< and for how long (default 30 s) */
	uint64_t max_parked_bytes; /**< targeted values waiting for an unknown peer (4 MiB) */
	uint32_t chunk_rate;       /**< fragment frames per second per peer (default 200000) */
	uint32_t chunk_burst;      /**< and at most this many at once (default 256) */
	uint32_t repair_rate;      /**< repaired fragments per second per peer (10000) */
	uint32_t repair_burst;     /**< and at most this many at once (default 64) */
	uint32_t max_peers;        /**< members this instance holds state for (4096) */
	uint64_t digest_interval_ns; /**< anti-entropy period, 0 = off (default 0) */
};

/** Fill @c with the defaults above (self_id 0, max_payload for 1472-byte AEAD frames). */
void mesh_stream_config_default(struct mesh_stream_config *c);

/* ---------------------------------------------------------------- ops and env */

/**
 * A CRDT op as the stream layer carries it (wire CrdtOp + an opaque host version). Ops up
 * to a frame share batches; a larger op (up to max_op_bytes) travels reliably as
 * consecutive fragment batches and is applied once all arrived.
 */
struct mesh_stream_op {
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;
	uint32_t value_len;
	const uint8_t *replica; /**< replica id bytes (upstream: UUID text) */
	uint32_t replica_len;
	uint64_t timestamp;     /**< Lamport timestamp */
	uint64_t version;       /**< sender side only, opaque: returned by crdt_acked */
	uint64_t origin_ns;     /**< origin wall clock, carried unchanged (0 = absent) */
	bool tombstone;
	bool owned;             /**< owner-bound (CrdtOp.owned), carried unchanged */
};

struct mesh_stream_env_ops {
	/** One MSGS frame payload for @peer (caller seals and sends it). Required. */
	void (*send)(void *ctx, uint64_t peer, const uint8_t *payload, size_t len);
	/**
	 * Apply @n ops received from @from (one batch). Return 0 (applied), -EAGAIN (not now:
	 * the batch stays unacknowledged and comes again) or another -errno (refused: acked
	 * with success = false and the reason given with mesh_stream_op_refuse(), counted).
	 * Set @fresh[i] (cleared before the call) for each op that changed the store: the
	 * store's verdict. Above direct_max exactly those are relayed, so relaying ends by
	 * construction (a store takes each version once); the others count as duplicates.
	 * Required.
	 */
	int (*crdt_apply)(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n,
			  bool *fresh);
	/** @peer acknowledged ops carrying these versions. Optional. */
	void (*crdt_acked)(void *ctx, uint64_t peer, const uint64_t *versions, uint32_t n);
	/** A complete stream value (valid during the call). Required. */
	void (*stream_deliver)(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key,
			       size_t key_len, const uint8_t *value, size_t len,
			       uint64_t origin_ns);
	/** Channel to @peer went up/down. Optional. */
	void (*peer_state)(void *ctx, uint64_t peer, bool up);
	/** Records of kinds this layer does not handle (SWIM...). Optional. */
	void (*other_rx)(void *ctx, uint64_t from, uint8_t kind, const uint8_t *body, size_t len);
	/**
	 * Anti-entropy (optional, both or neither): write an encoded CrdtDigest
	 * (mesh_wire_digest_encode) with the given reply flag; return its length or -errno.
	 */
	int (*digest_build)(void *ctx, uint8_t *buf, size_t cap, bool reply);
	/** A peer's digest: push what it lacks with mesh_stream_op_send(), and answer with
	 *  mesh_stream_digest_send(..., reply = true) unless @d->reply. */
	void (*digest_recv)(void *ctx, uint64_t from, const struct mesh_wire_digest *d);
	/** @peer acked ops of ours as refused, with its reason (@len bytes, not
	 *  NUL-terminated; may be empty). Optional. */
	void (*crdt_refused)(void *ctx, uint64_t peer, const char *reason, size_t len);
};

struct mesh_stream;

/** New instance; NULL and errno (EINVAL, ENOMEM). @env and @ctx must outlive it. */
struct mesh_stream *mesh_stream_new(const struct mesh_stream_config *cfg,
				    const struct mesh_stream_env_ops *env, void *ctx);
void mesh_stream_delete(struct mesh_stream *s);

/** Counter values indexed by enum mesh_stream_counter (single writer: the caller). */
const uint64_t *mesh_stream_counters(const struct mesh_stream *s);

/* ---------------------------------------------------------------- peers */

/**
 * A live member (from membership). 0, -EEXIST, -ENOSPC (max_peers members held, counted
 * peer_add_full) or -ENOMEM. Parked values for it leave. Only members have state here:
 * records from any other sender are dropped (rx_drop_not_member) before anything is made.
 */
int mesh_stream_peer_add(struct mesh_stream *s, uint64_t peer, uint64_t now_ns);
/** Member gone: its queues and in-flight batches are released. 0 or -ENOENT. */
int mesh_stream_peer_remove(struct mesh_stream *s, uint64_t peer);
/** Number of members. */
uint32_t mesh_stream_peer_count(const struct mesh_stream *s);
/** Channel state: 1 up, 0 down, -ENOENT. */
int mesh_stream_peer_up(const struct mesh_stream *s, uint64_t peer);
/**
 * Ops @peer's queue still takes before mesh_stream_op_send refuses (-ENOBUFS), or
 * -ENOENT. Callers that must not lose ops (the replication export) send at most this many.
 */
int64_t mesh_stream_peer_room(const struct mesh_stream *s, uint64_t peer);
/** Ops queued or in flight towards @peer (0 when all acknowledged), or -ENOENT. */
int64_t mesh_stream_peer_backlog(const struct mesh_stream *s, uint64_t peer);

/** Longest refusal reason a failed ack carries (bytes). */
#define MESH_STREAM_REASON_MAX 200

/** One peer channel's figures (for /mesh/peers). */
struct mesh_stream_peer_stats {
	bool up;
	uint64_t backlog;     /**< ops queued or in flight */
	uint64_t srtt_ns;     /**< smoothed ack round trip (batches sent once), 0 = none yet */
	uint64_t retransmits; /**< timer and nack-driven batch retransmissions */
	uint64_t acks;        /**< acks received */
	uint64_t nacks;       /**< batches the peer reported missing */
	uint64_t drops;       /**< ops dropped because the peer's queue was full */
	uint64_t last_rx_ns;  /**< when the peer was last heard */
	uint64_t refused;     /**< acks in which the peer reported ops of ours it refused */
	char refused_reason[MESH_STREAM_REASON_MAX + 1]; /**< the last one's reason */
};

/** Fill @out for @peer. 0 or -ENOENT. */
int mesh_stream_peer_stats(const struct mesh_stream *s, uint64_t peer,
			   struct mesh_stream_peer_stats *out);

/* ---------------------------------------------------------------- CRDT ops */

/**
 * A local change: disseminate by the policy (every member, or fanout + relay). The op is
 * copied. 0, -EMSGSIZE (op larger than max_op_bytes) or -ENOMEM.
 */
int mesh_stream_op_publish(struct mesh_stream *s, const struct mesh_stream_op *op,
			     uint64_t now_ns);
/** Reliable send of one op to one peer (anti-entropy repair). 0, -ENOENT, -EMSGSIZE... */
int mesh_stream_op_send(struct mesh_stream *s, uint64_t peer, const struct mesh_stream_op *op,
			  uint64_t now_ns);
/**
 * From inside env->crdt_apply for @peer: why the batch is refused. The failed ack carries
 * it (truncated to MESH_STREAM_REASON_MAX bytes) as StreamAck.error_message.
 */
void mesh_stream_op_refuse(struct mesh_stream *s, uint64_t peer, const char *reason);
/** Send a digest to @peer now (env->digest_build). 0 or -errno. */
int mesh_stream_digest_send(struct mesh_stream *s, uint64_t peer, bool reply, uint64_t now_ns);

/* ---------------------------------------------------------------- stream values */

/**
 * At-most-once value for @target (0 = broadcast to members). Values larger than a frame
 * are chunked; a targeted value for a peer not known yet is parked (bounded, oldest
 * dropped first) until mesh_stream_peer_add(). 0, -E2BIG (too many chunks), -ENOMEM.
 */
int mesh_stream_value_send(struct mesh_stream *s, uint64_t target, const void *key,
			   size_t key_len, const void *value, size_t len, uint64_t now_ns);
/**
 * mesh_stream_value_send() stamping @origin_ns (the sender's wall clock): every fragment
 * and every relay carries it, and receivers get it in stream_deliver (0 = absent).
 */
int mesh_stream_value_send_origin(struct mesh_stream *s, uint64_t target, const void *key,
				  size_t key_len, const void *value, size_t len, uint64_t now_ns,
				  uint64_t origin_ns);

/** Fragment data bytes per frame for a key of @key_len under @max_payload. */
size_t mesh_stream_chunk_size(size_t max_payload, size_t key_len);
/** Fragments for a value of @len with fragments of @chunk bytes (empty value: 1). */
uint32_t mesh_stream_chunk_count(size_t len, size_t chunk);

/* ---------------------------------------------------------------- driving */

/** One MSGS frame payload from @from (already opened by lib/wire). */
void mesh_stream_rx_payload(struct mesh_stream *s, uint64_t from, const uint8_t *payload,
			    size_t len, uint64_t now_ns);
/** One record. Channel records from a sender that is not a member are dropped (counted). */
void mesh_stream_rx(struct mesh_stream *s, uint64_t from, uint8_t kind, const uint8_t *body,
		    size_t len, uint64_t now_ns);
/** Sender idle: seal partial batches, emit pending acks, send every open frame. */
void mesh_stream_flush(struct mesh_stream *s, uint64_t now_ns);
/** Timers (retransmit, heartbeat, idle, nacks, GC, digest); then flush. */
void mesh_stream_tick(struct mesh_stream *s, uint64_t now_ns);
/**
 * When mesh_stream_tick() next has work: the earliest retransmission, heartbeat, idle
 * timeout, receive-gap restart, pacing token, fragment nack, reassembly GC, repair expiry
 * or digest round; UINT64_MAX when none is pending. A tick at that time does it (never a
 * later one), so the caller may sleep until then (new traffic or local sends aside, which
 * arrive through the other entry points). Cached: computed again (one pass over the peers,
 * counted in stream_deadline_scans) only after a call that could have moved it.
 */
uint64_t mesh_stream_next_deadline(struct mesh_stream *s);

/** Delay before the transmission after the @attempt-th one (1 = original): capped
 *  exponential backoff rto_initial << (attempt - 1). */
uint64_t mesh_stream_backoff_ns(uint64_t initial_ns, uint64_t max_ns, uint32_t attempt);

/* ---------------------------------------------------------------- reassembly */

/*
 * Receiver-side reassembly of chunked values, per (peer, key) (upstream ChunkAssembler
 * rules): a newer generation resets, an older one is dropped, a duplicate fragment is not
 * counted twice, a single-fragment value cancels a pending assembly. Bounds, per sender
 * first: a sender past its slot cap loses its own oldest assembly, past its byte cap its
 * own largest; then globally: past max assemblies the oldest, past max bytes the largest
 * assembly of the sender holding the most (slots, resp. bytes; the newcomer's sender on a
 * tie), so a sender within its fair share (global / senders in progress) is never evicted
 * by another; fragment slots count as bytes; GC after timeout. Used by mesh_stream;
 * public for tests and fuzzing.
 */
enum mesh_stream_chunk_res {
	MESH_STREAM_CHUNK_PENDING = 0, /**< stored, value incomplete */
	MESH_STREAM_CHUNK_COMPLETE,    /**< value complete: *out / *out_len (free()) */
	MESH_STREAM_CHUNK_DUP,         /**< fragment already held */
	MESH_STREAM_CHUNK_OLD_GEN,     /**< older generation than the assembly: dropped */
	MESH_STREAM_CHUNK_BAD,         /**< total 0 / too large, index out of range, total
					    mismatch within a generation */
	MESH_STREAM_CHUNK_EVICTED,     /**< stored, then evicted by the bounds */
	MESH_STREAM_CHUNK_NOMEM,
};

struct mesh_stream_reasm_stats {
	uint32_t assemblies;
	uint64_t bytes;
	uint64_t gen_reset, evict_count, evict_bytes, gc, cancelled, completed;
	uint64_t evict_peer_count, evict_peer_bytes; /**< per-sender caps */
};

struct mesh_stream_reasm;

struct mesh_stream_reasm *mesh_stream_reasm_new(uint32_t max_assemblies, uint64_t max_bytes,
						uint32_t max_total_chunks);
void mesh_stream_reasm_delete(struct mesh_stream_reasm *r);
/** Per-sender caps (0 = the global bound; the default for both). */
void mesh_stream_reasm_peer_limits(struct mesh_stream_reasm *r, uint32_t max_assemblies,
				   uint64_t max_bytes);

enum mesh_stream_chunk_res
mesh_stream_reasm_add(struct mesh_stream_reasm *r, uint64_t peer, uint64_t origin,
		      const uint8_t *key, size_t key_len, uint64_t generation, uint32_t index,
		      uint32_t total, const uint8_t *data, size_t len, uint64_t now_ns,
		      uint8_t **out, size_t *out_len);
/** Drop the assembly of (peer, key) if any; true when one was dropped. */
bool mesh_stream_reasm_cancel(struct mesh_stream_reasm *r, uint64_t peer, const uint8_t *key,
			      size_t key_len);
/** Drop assemblies created more than @timeout_ns ago; returns how many. */
uint32_t mesh_stream_reasm_gc(struct mesh_stream_reasm *r, uint64_t now_ns, uint64_t timeout_ns);

typedef void (*mesh_stream_reasm_nack_f)(void *ctx, uint64_t peer, uint64_t origin,
					 const uint8_t *key, size_t key_len, uint64_t generation,
					 const uint32_t *missing, uint32_t n);
/**
 * For each assembly quiet for @quiet_ns and not nacked in the last @interval_ns, report
 * up to @max missing indices (lowest first) to @cb; returns how many were reported.
 */
uint32_t mesh_stream_reasm_nacks(struct mesh_stream_reasm *r, uint64_t now_ns,
				 uint64_t quiet_ns, uint64_t interval_ns, uint32_t max,
				 mesh_stream_reasm_nack_f cb, void *ctx);
void mesh_stream_reasm_stats(const struct mesh_stream_reasm *r,
			     struct mesh_stream_reasm_stats *st);
/** When mesh_stream_reasm_gc() or mesh_stream_reasm_nacks() with these arguments next has
 *  work (UINT64_MAX: no assembly pending). */
uint64_t mesh_stream_reasm_next_deadline(const struct mesh_stream_reasm *r, uint64_t timeout_ns,
					 uint64_t quiet_ns, uint64_t interval_ns);

#ifdef __cplusplus
}
#endif

#endif /* MESH_STREAM_H */
