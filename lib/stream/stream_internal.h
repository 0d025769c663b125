/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/stream private structures shared by stream_core.c, stream_chan.c, stream_value.c. */
#ifndef STREAM_INTERNAL_H
#define STREAM_INTERNAL_H

#include "mesh_stream.h"

#define STREAM_WIN_MAX 64u
/* seen table: ways per bucket, and how long an entry is protected from eviction in relay
 * mode (longer than a value's relays keep circulating: relays happen on first receipt) */
#define STREAM_SEEN_WAYS 4u
#define STREAM_SEEN_LIVE_NS (2 * MESH_NS_PER_SEC)
#define STREAM_ACK_NACKS 16u
#define STREAM_NACK_MAX 256u
#define STREAM_FRAG_MAX 4096u  /* fragments of one large op */
#define STREAM_RXBIG_MAX 4u    /* large ops being reassembled per peer */
#define STREAM_FRAG_OVERHEAD 16u /* frag_index + frag_total + frag tag/length */
#define STREAM_LOG "stream"

/* A queued op: one copy shared by every peer queue and batch that holds it. */
struct sop {
	uint32_t refs;
	uint32_t wire_size; /* bytes it adds to a CrdtBatch */
	uint64_t version;
	struct mesh_wire_crdt_op w; /* slices point into data[] */
	uint8_t data[];
};

/* One op larger than a frame, sent as consecutive fragment batches. */
struct bigop {
	uint32_t refs; /* fragment batches in flight + the peer's cursor */
	uint32_t n_frags, next_frag, n_acked;
	bool requeued;
	struct sop *o; /* one reference, dropped with the bigop */
	size_t per;    /* fragment payload bytes */
	size_t enc_len;
	uint8_t *enc;  /* CrdtBatch encoding of just this op */
};

/* Fragments of one large op being received (keyed by its first sequence). */
struct rxbig {
	uint64_t first_seq;
	uint32_t total, got;
	uint64_t bytes;
	struct mesh_wire_slice *frags; /* owned copies */
};

struct seen_slot {
	uint64_t h;  /* value hash | 1; 0 = empty */
	uint64_t at; /* when it was remembered */
};

struct batch {
	struct bigop *big; /* fragment batch of a large op (no ops[]) */
	uint32_t frag_index;
	uint64_t seq;
	uint32_t n_ops;
	uint32_t attempts; /* transmissions so far */
	uint64_t last_tx_ns, next_tx_ns;
	struct sop **ops;
	uint8_t *body;
	size_t len;
};

struct stream_peer {
	uint64_t id;
	int32_t member_idx; /* index in s->members, -1 when not a member */
	bool up;
	bool dirty; /* in s->dirty: has output, acks, queued ops or paced fragments */
	uint64_t last_rx_ns, last_tx_ns;
	/* tx channel */
	uint64_t tx_epoch, next_seq, una; /* una: lowest unacknowledged seq */
	struct batch *win; /* STREAM_WIN_MAX slots by seq % STREAM_WIN_MAX, lazily */
	struct sop **q;    /* pending ring */
	uint32_t q_head, q_len, q_cap;
	struct bigop *cur_big; /* large op whose fragments are being sent */
	/* rx channel */
	uint64_t rx_epoch, rx_cum, rx_sack, rx_highest;
	uint64_t rx_cum_ns;  /* when rx_cum last moved (or the epoch started) */
	bool ack_pending, ack_fail;
	bool rx_reset;       /* next ack asks the sender to restart the channel */
	struct rxbig *rxbig[STREAM_RXBIG_MAX];
	uint32_t n_rxbig;
	uint64_t rxbig_bytes;
	/* stream fragments waiting for pacing tokens */
	struct vjob *vq_head, *vq_tail;
	uint64_t tok_ns;
	uint32_t tokens;
	/* fragment repairs this peer's nacks may still trigger (repair_rate, repair_burst) */
	uint64_t rtok_ns;
	uint32_t rtokens;
	/* relay mode: new values this peer put in the seen table in the current window */
	uint64_t seen_win_ns;
	uint32_t seen_win_n;
	/* open output frame */
	uint8_t *out;
	struct mesh_wire_msgw w;
	/* per-peer figures for telemetry (mesh_stream_peer_stats) */
	uint64_t srtt_ns; /* smoothed ack round trip of batches sent once (Karn) */
	uint64_t st_retransmits, st_acks, st_nacks, st_drops;
	/* refusals: ours for the next failed ack, the peer's last one (stream_chan.c) */
	char ack_reason[MESH_STREAM_REASON_MAX + 1];
	uint64_t st_refused;
	char refused_reason[MESH_STREAM_REASON_MAX + 1];
};

/* One stream value being sent: shared by peer send queues and the repair cache. */
struct vbuf {
	uint32_t refs;
	uint32_t total;
	uint64_t origin, generation;
	uint64_t origin_ns; /* origin wall clock, sent with every fragment (0 = absent) */
	size_t chunk, key_len, len;
	uint8_t *key, *value; /* into data[] */
	uint8_t data[];
};

/* A value's fragments still to send to one peer (paced). */
struct vjob {
	struct vjob *next;
	struct vbuf *v;
	uint32_t next_idx;
};

/* A stream value kept for fragment repair. */
struct rvalue {
	struct vbuf *v;
	uint64_t expires_ns;
};

/* A targeted value waiting for its peer to be known. */
struct parked {
	uint64_t target, origin, generation, origin_ns;
	size_t key_len, len;
	uint8_t *key, *value;
};

/*
 * Channel epochs on the wire: [24-bit binding][40-bit counter]. The counter grows with
 * every channel (re)start of this sender, over all its peers, so a receiver accepts a
 * sender's epoch only when it is not older than the one it holds; the binding is a hash
 * of (sender, receiver), so a frame one receiver got, replayed to another, is refused.
 */
#define STREAM_EPOCH_BITS 40
#define STREAM_EPOCH_MASK ((1ULL << STREAM_EPOCH_BITS) - 1)
/** The wire epoch of this sender's next channel towards @peer. */
uint64_t stream_epoch_next(struct mesh_stream *s, uint64_t peer);
/** The binding a frame from @from to us must carry. */
uint64_t stream_epoch_binding(const struct mesh_stream *s, uint64_t from, uint64_t to);

struct mesh_stream {
	struct mesh_stream_config cfg;
	const struct mesh_stream_env_ops *env;
	void *ctx;
	struct mesh_rng rng;
	uint64_t epoch_count;  /* channel epochs handed out (all peers): they only grow */
	uint64_t ctr[MESH_STREAM_CTR_MAX];
	struct mesh_ratelimit rl;
	/* peers: open addressing by id, plus the member list */
	struct stream_peer **tab;
	uint32_t tab_cap, n_peers;
	struct stream_peer **members;
	uint32_t n_members, members_cap;
	struct stream_peer **dirty; /* peers flush must visit */
	uint32_t n_dirty, dirty_cap;
	/* stream value dedup (stream_core.c): 4-way buckets, allocated on first use */
	struct seen_slot *seen;
	/* stream values */
	uint64_t next_generation;
	struct mesh_stream_reasm *reasm;
	struct rvalue *repair;
	uint32_t n_repair, repair_cap;
	uint64_t repair_bytes;
	struct parked *parked;
	uint32_t n_parked, parked_cap;
	uint64_t parked_bytes;
	uint64_t next_digest_ns, last_gc_ns;
	/* the peers' earliest timer (stream_deadline.c): never later than the true one;
	 * exact after a pass over the peers, which runs again once a tick made it stale */
	uint64_t peer_deadline_ns;
	bool peer_deadline_ok;
	/* scratch */
	struct mesh_stream_op *apply_ops;
	struct mesh_wire_crdt_op *wops;
	struct mesh_wire_stream_entry *ents;
	bool *fresh; /* crdt_apply's verdict per op */
	uint32_t max_batch_ops;
	uint64_t *versions;
	struct mesh_arena arena;
	uint8_t arena_mem[16384];
	uint8_t scratch[65536 + 64];
};

#define CTR(s, name) ((s)->ctr[MESH_STREAM_CTR_##name]++)
#define CTR_ADD(s, name, n) ((s)->ctr[MESH_STREAM_CTR_##name] += (n))

/* stream_deadline.c: keeping the peers' earliest timer without a pass per call */
/** A tick ran or the peer set changed: the next query makes a pass over the peers. */
static inline void
stream_deadline_touch(struct mesh_stream *s)
{
	s->peer_deadline_ok = false;
}
/** A peer timer is now due at @t (a batch's retransmission). */
static inline void
stream_deadline_lower(struct mesh_stream *s, uint64_t t)
{
	if (t < s->peer_deadline_ns)
		s->peer_deadline_ns = t;
}
/** Before a channel record of @kind from @p is handled at @now: the timers it can start
 *  (the idle timeout of a channel coming up, the restart of a receive gap). */
void stream_deadline_rx(struct mesh_stream *s, const struct stream_peer *p, uint8_t kind,
			uint64_t now);

/* stream_core.c */
void stream_mark_dirty(struct mesh_stream *s, struct stream_peer *p);
struct stream_peer *stream_peer_find(const struct mesh_stream *s, uint64_t id);
int stream_emit(struct mesh_stream *s, struct stream_peer *p, uint8_t kind, const uint8_t *body,
		size_t len, uint64_t now);
void stream_frame_flush(struct mesh_stream *s, struct stream_peer *p);
uint32_t stream_pick_targets(struct mesh_stream *s, uint64_t ex1, uint64_t ex2,
			     struct stream_peer **out, uint32_t k);
bool stream_relay_mode(const struct mesh_stream *s);
/** Stream value @h was seen (delivered, relayed or sent by us) and is still remembered. */
bool stream_seen_test(const struct mesh_stream *s, uint64_t h);
/**
 * Remember @h: 0 when new, -EEXIST when already remembered, -ENOMEM, or -ENOSPC when
 * every slot of its bucket holds a value younger than STREAM_SEEN_LIVE_NS and not
 * @evict_live (relay mode: a live entry is never evicted, so a relayed value can never
 * look new again while its copies circulate).
 */
int stream_seen_add(struct mesh_stream *s, uint64_t h, uint64_t now, bool evict_live);
void stream_log_bad(struct mesh_stream *s, uint64_t from, const char *what, uint64_t now);

/* stream_chan.c */
size_t stream_crdt_body_cap(const struct mesh_stream *s);
void stream_crdt_rx_batch(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body,
			  size_t len, uint64_t now);
void stream_crdt_rx_ack(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body, size_t len,
			uint64_t now);
void stream_crdt_rx_heartbeat(struct mesh_stream *s, struct stream_peer *p,
			      const struct mesh_wire_heartbeat *hb, uint64_t now);
void stream_crdt_pump(struct mesh_stream *s, struct stream_peer *p, uint64_t now, bool force);
void stream_crdt_timers(struct mesh_stream *s, struct stream_peer *p, uint64_t now);
void stream_crdt_emit_ack(struct mesh_stream *s, struct stream_peer *p, uint64_t now);
void stream_crdt_channel_reset(struct mesh_stream *s, struct stream_peer *p);
void stream_crdt_peer_release(struct mesh_stream *s, struct stream_peer *p);

/* stream_value.c */
void stream_value_rx_batch(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body,
			   size_t len, uint64_t now);
void stream_value_rx_nack(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body,
			  size_t len, uint64_t now);
void stream_value_timers(struct mesh_stream *s, uint64_t now);
void stream_value_peer_added(struct mesh_stream *s, struct stream_peer *p, uint64_t now);
void stream_value_fini(struct mesh_stream *s);
void stream_value_pace(struct mesh_stream *s, struct stream_peer *p, uint64_t now);
void stream_value_peer_release(struct stream_peer *p);

#endif /* STREAM_INTERNAL_H */
