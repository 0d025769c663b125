/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/node (pure C, no DPDK): the merge core of one meshd node.
 *
 * A node owns the CRDT store (lib/crdt), membership (lib/swim) and the per-peer channels
 * (lib/stream). It dispatches the records of received MSGS frames itself (SWIM records to
 * lib/swim, everything else to lib/stream), runs the replication policy (every alive or
 * suspect member is a replication peer; the store's changes are exported to each peer's
 * reliable channel; stream values drain from the store's send buffers), answers the HELLO
 * diagnostic, and serves client requests given as host structs.
 *
 * Time is a parameter (monotonic ns, never going backwards). The world is one small env
 * vtable, called per batch:
 *   send    the frame payloads produced by one call (input, request, poll), in one batch;
 *           the environment seals them into frames (lib/wire) and sends them
 *   reply   one client reply or subscription event (host struct, valid during the call)
 *   random  64 random bits        wall_ns  the wall clock, for origin stamps
 *   member  a membership event (optional: logging)
 * The DPDK environment lives in lib/net (mbufs, sealing, ARP) and the app; the simulator
 * (tests/sim/node) runs many nodes in one process over a fake network.
 *
 * One node belongs to one thread (the merge lcore); nothing here is thread-safe, except the
 * figures documented as readable from any thread (counters, latency, digest).
 *
 *   n = mesh_node_new(&cfg, &env, ctx, now);
 *   mesh_crdt_ns_add_defaults(mesh_node_store(n));      // namespaces, before traffic
 *   mesh_node_join(n, now);
 *   loop: mesh_node_input(n, frames, k, now); mesh_node_request(n, reqs, k, now);
 *         mesh_node_poll(n, now);              // timers, replication, events
 *   stop: poll while !mesh_node_stop_step(n, &st, drain, leave, now) (drain, leave); delete
 */
#ifndef MESH_NODE_H
#define MESH_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh_common.h"
#include "mesh_crdt.h"
#include "mesh_stream.h"
#include "mesh_swim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest node name (bytes, without NUL). */
#define MESH_NODE_NAME_MAX 63
/** Most seeds and hello peers. */
#define MESH_NODE_MAX_SEEDS 64
/** Most replication peers (alive or suspect members). */
#define MESH_NODE_MAX_PEERS 1024
/** Frames handed to env->send in one call at most. */
#define MESH_NODE_TX_BATCH 32u

/** IPv4 address and UDP port, host byte order. */
struct mesh_node_addr {
	uint32_t ip;
	uint16_t port;
};

/** One frame's payload, received (input) or to send (env->send). */
struct mesh_node_frame {
	uint64_t sender;            /**< input: the frame header's (authenticated) sender id */
	struct mesh_node_addr peer; /**< input: source; send: destination */
	uint8_t type;               /**< MESH_WIRE_TYPE_HELLO, _HELLO_REPLY, _MSGS */
	const uint8_t *payload;     /**< valid during the call */
	uint32_t len;
};

/* ---------------------------------------------------------------- client requests */

enum mesh_node_req_type {
	MESH_NODE_REQ_PUT = 1,     /**< key, value */
	MESH_NODE_REQ_GET,         /**< key */
	MESH_NODE_REQ_DEL,         /**< key */
	MESH_NODE_REQ_KEYS,        /**< key = prefix, after, limit */
	MESH_NODE_REQ_SUBSCRIBE,   /**< key = prefix */
	MESH_NODE_REQ_UNSUBSCRIBE, /**< subscription (0 = all of the client's) */
	MESH_NODE_REQ_PUBLISH,     /**< key, value, target ("" = broadcast) */
	MESH_NODE_REQ_MEMBERS,
	MESH_NODE_REQ_CLOSED,      /**< the client went away: drop its subscriptions; no reply */
	/* client protocol version 2 (proto/client.proto) */
	MESH_NODE_REQ_HELLO,       /**< reply HELLO: name, generation, limits */
	MESH_NODE_REQ_BATCH,       /**< ops, n_ops: applied in one burst; reply BATCH */
	MESH_NODE_REQ_WATCH,       /**< key = prefix, watch: snapshot/resume; reply WATCH */
	MESH_NODE_REQ_MEMBERS_WATCH, /**< watch.snapshot; reply SUBSCRIBE, then MEMBER_EVENTs */
	MESH_NODE_REQ_SET_METADATA,  /**< value = this node's metadata (<= MESH_NODE_META_MAX) */
	MESH_NODE_REQ_CLUSTER,     /**< reply CLUSTER */
};

/** Largest node metadata (SetMetadataReq, [node] metadata). */
#define MESH_NODE_META_MAX 512
/** Most ops in one BATCH request. */
#define MESH_NODE_BATCH_MAX 4096
/**
 * Largest reply a client can take: the client protocol's message limit
 * (MESH_CLIENT_MAX_MSG). A BATCH whose GET values would not fit answers TOO_LARGE for the
 * GETs past the limit, each alone, and applies the rest.
 */
#define MESH_NODE_REPLY_MAX (256 * 1024)
/**
 * Reserved key prefix ("\xffmeshd/", 7 bytes; 0xFF starts no UTF-8 text): node state kept
 * in the store, in an LWW namespace every node registers (metadata under
 * "\xffmeshd/meta/<name>"). Clients can neither write, read nor list it (-EPERM).
 */
#define MESH_NODE_RESERVED_PREFIX "\xff" "meshd/"
#define MESH_NODE_RESERVED_PREFIX_LEN 7

/** A byte string. */
struct mesh_node_bytes {
	const uint8_t *data;
	uint32_t len;
};

enum mesh_node_batch_kind {
	MESH_NODE_BATCH_PUT = 0,
	MESH_NODE_BATCH_DEL = 1,
	MESH_NODE_BATCH_GET = 2,
};

/** One op of a BATCH request. */
struct mesh_node_batch_op {
	enum mesh_node_batch_kind kind;
	bool owned;           /**< PUT: bound to this node's life */
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;
	uint32_t value_len;
};

/** One op's result in a BATCH reply. */
struct mesh_node_batch_result {
	int status;           /**< 0 or -errno */
	bool found;           /**< GET */
	struct mesh_node_bytes value;
	uint64_t timestamp, replica;
};

/** A client request (pointers valid during mesh_node_request). */
struct mesh_node_req {
	enum mesh_node_req_type type;
	uint32_t client;     /**< client slot, echoed in replies */
	uint32_t client_gen; /**< generation of the slot, echoed */
	uint64_t id;         /**< request id, echoed */
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;
	uint32_t value_len;
	const uint8_t *after; /**< KEYS: list keys strictly after this one */
	uint32_t after_len;
	uint32_t limit;       /**< KEYS: at most this many (0 = 100, capped at 1000) */
	uint64_t subscription;
	const char *target;   /**< PUBLISH: member name, NULL or "" = broadcast */
	bool owned;           /**< PUT: bind the key to this node's life (owner-bound) */
	const struct mesh_node_batch_op *ops; /**< BATCH */
	uint32_t n_ops;
	struct {
		bool snapshot;        /**< WATCH, MEMBERS_WATCH: current state first */
		bool resume;          /**< WATCH: continue after generation/seq */
		uint64_t generation;
		uint64_t seq;
	} watch;
};

enum mesh_node_reply_type {
	MESH_NODE_REPLY_STATUS = 1, /**< status (and error) only */
	MESH_NODE_REPLY_GET,
	MESH_NODE_REPLY_KEYS,
	MESH_NODE_REPLY_SUBSCRIBE,
	MESH_NODE_REPLY_MEMBERS,
	MESH_NODE_REPLY_EVENT,      /**< a subscription event (id 0) */
	MESH_NODE_REPLY_HELLO,
	MESH_NODE_REPLY_BATCH,
	MESH_NODE_REPLY_WATCH,
	MESH_NODE_REPLY_MEMBER_EVENT, /**< a membership event (id 0), members[0] */
	MESH_NODE_REPLY_CLUSTER,
};

/** Kinds of membership events (MemberEvent.Kind). */
enum mesh_node_member_event {
	MESH_NODE_MEMBER_JOIN = 0,
	MESH_NODE_MEMBER_ALIVE = 1,
	MESH_NODE_MEMBER_SUSPECT = 2,
	MESH_NODE_MEMBER_DEAD = 3,
	MESH_NODE_MEMBER_LEFT = 4,
	MESH_NODE_MEMBER_METADATA = 5,
};

/** Cluster state as this node sees it (ClusterResp). */
struct mesh_node_cluster {
	uint32_t alive, suspect, dead, left;
	uint32_t known;       /**< self + alive + suspect + dead */
	uint32_t reachable;   /**< self + alive + suspect */
	uint32_t quorum;      /**< configured, or a majority of known */
	bool should_serve;    /**< reachable >= quorum */
};

/** A member as clients see it. */
struct mesh_node_member {
	struct mesh_node_bytes name;
	struct mesh_node_addr addr;
	enum mesh_swim_status status;
	uint32_t incarnation;
	uint64_t generation;
	struct mesh_node_bytes metadata; /**< what the member set (empty: none) */
};

/** A reply or event for one client (pointers valid during env->reply). */
struct mesh_node_reply {
	enum mesh_node_reply_type type;
	uint32_t client, client_gen;
	uint64_t id;
	int status;          /**< 0 or -errno */
	const char *error;   /**< readable reason when status < 0 (static text) */
	/* GET */
	bool found;
	struct mesh_node_bytes value; /**< GET value; EVENT value */
	uint64_t timestamp, replica;
	/* KEYS (sorted) */
	const struct mesh_node_bytes *keys;
	uint32_t n_keys;
	bool more;
	/* SUBSCRIBE, EVENT */
	uint64_t subscription;
	/* MEMBERS (self first) */
	const struct mesh_node_member *members;
	uint32_t n_members;
	/* EVENT */
	struct mesh_node_bytes key;
	bool tombstone;
	uint64_t origin_ns;
	uint64_t dropped;    /**< events this subscription lost since the previous event */
	uint64_t seq;        /**< WATCH events: the node's change sequence of the change */
	bool snapshot, snapshot_end; /**< WATCH events: part (the end) of the snapshot */
	/* HELLO */
	struct mesh_node_bytes node_name;
	uint64_t generation;  /**< HELLO, WATCH: this node's life */
	uint32_t max_batch;
	/* BATCH */
	const struct mesh_node_batch_result *results;
	uint32_t n_results;
	/* WATCH (subscription above; seq = change sequence when the watch began) */
	bool resumed, missed;
	/* MEMBER_EVENT (members[0], subscription, dropped) */
	enum mesh_node_member_event member_event;
	/* CLUSTER */
	struct mesh_node_cluster cluster;
};

/**
 * Deep copy of @r in one allocation (free() releases it), for environments that hand
 * replies to another thread. NULL and errno = ENOMEM.
 */
struct mesh_node_reply *mesh_node_reply_copy(const struct mesh_node_reply *r);

/* ---------------------------------------------------------------- env and config */

struct mesh_node_env_ops {
	/** Send @n frame payloads (valid during the call). Required. */
	void (*send)(void *ctx, const struct mesh_node_frame *frames, unsigned n);
	/** A client reply or event. Required when requests are made. */
	void (*reply)(void *ctx, const struct mesh_node_reply *r);
	/** 64 random bits. Required. */
	uint64_t (*random)(void *ctx);
	/** Wall clock ns (origin stamps, latency). Required. */
	uint64_t (*wall_ns)(void *ctx);
	/** A membership event, after the node handled it. Optional. */
	void (*member)(void *ctx, const struct mesh_swim_event *ev);
	/**
	 * True while client @client (@client_gen) cannot take more output now (its replies
	 * are backed up): watch snapshots and replays wait a pass, losing nothing. Optional.
	 */
	bool (*client_busy)(void *ctx, uint32_t client, uint32_t client_gen);
};

struct mesh_node_cfg {
	char name[MESH_NODE_NAME_MAX + 1]; /**< NUL-terminated, 1..63 bytes */
	uint64_t gen;                      /**< boot generation, > 0, higher after a restart */
	struct mesh_node_addr addr;        /**< advertised address */
	/** SWIM timing and limits (mesh_swim_cfg_lan/_fast); identity is filled by the node. */
	struct mesh_swim_cfg swim;
	/** Channel settings (mesh_stream_config_default); self_id and seed filled by the node. */
	struct mesh_stream_config stream;
	struct mesh_crdt_config crdt;      /**< replica_id 0 = derived from name and gen */
	size_t max_payload;                /**< MSGS payload bytes per frame */
	unsigned n_seeds;
	struct mesh_node_addr seeds[MESH_NODE_MAX_SEEDS];
	/** HELLO diagnostic: peers greeted every hello_interval_ns (0 peers = off). */
	unsigned n_hello;
	struct mesh_node_addr hello[MESH_NODE_MAX_SEEDS];
	uint64_t hello_interval_ns;
	/** Anti-entropy: a digest round every ae_interval_ns (0 = off), every ae_fast_ns while
	 *  rounds find differences. */
	uint64_t ae_interval_ns, ae_fast_ns;
	/** Tombstone GC pass every gc_interval_ns (0 = off), at most gc_budget per pass. */
	uint64_t gc_interval_ns, gc_budget;
	/** This node's metadata, replicated to every member (SetMetadataReq replaces it). */
	uint8_t metadata[MESH_NODE_META_MAX];
	uint32_t metadata_len;
	/** should_serve needs this many reachable members, self included (0 = a majority of
	 *  the known ones). */
	uint32_t quorum;
};

/**
 * Fill @cfg with defaults: fast SWIM profile, default channels with the fast profile's
 * retransmission timers, 1472-byte frames carrying @max_payload (0 = the AEAD budget).
 */
void mesh_node_cfg_default(struct mesh_node_cfg *cfg);

/**
 * The defaults with the SWIM profile named @name ("lan", "fast" or "tight",
 * mesh_swim_cfg_profile); lan also keeps lib/stream's default (slower) channel timers.
 * 0, or -EINVAL for another name (@cfg then holds the defaults).
 */
int mesh_node_cfg_profile(struct mesh_node_cfg *cfg, const char *name);

struct mesh_node;

/** A node with an empty store (add namespaces next). NULL and errno (EINVAL, ENOMEM). */
struct mesh_node *mesh_node_new(const struct mesh_node_cfg *cfg,
				const struct mesh_node_env_ops *env, void *ctx, uint64_t now_ns);
/** Free the node (nothing is sent). NULL is a no-op. */
void mesh_node_delete(struct mesh_node *n);

/** Start joining through the configured seeds (no seeds: nothing to do). 0 or -errno. */
int mesh_node_join(struct mesh_node *n, uint64_t now_ns);

/** Handle @count received frames (any type; unknown ones are counted and dropped). */
void mesh_node_input(struct mesh_node *n, const struct mesh_node_frame *frames,
		     unsigned count, uint64_t now_ns);

/** Handle @count client requests; each gets exactly one reply (CLOSED: none). */
void mesh_node_request(struct mesh_node *n, const struct mesh_node_req *reqs, unsigned count,
		       uint64_t now_ns);

/** Timers, replication export, stream drain, subscription events. Returns work done. */
unsigned mesh_node_poll(struct mesh_node *n, uint64_t now_ns);

/** Earliest time mesh_node_poll has timed work (may be in the past). */
uint64_t mesh_node_next_deadline(const struct mesh_node *n);

/** Leave the cluster gracefully (announce LEFT). 0 or -EALREADY. */
int mesh_node_leave(struct mesh_node *n, uint64_t now_ns);

/** True when every replication peer was sent every change and acknowledged it. */
bool mesh_node_drained(const struct mesh_node *n);

/** Where a graceful stop is (mesh_node_stop_step); zeroed before the first step. */
struct mesh_node_stop {
	uint64_t drain_deadline_ns;  /* leave when drained or when reached */
	uint64_t leave_deadline_ns;  /* stop when reached (0 = not leaving yet) */
};

/**
 * One step of a graceful stop (node_stop.c), each pass of the polling loop once stopping
 * began: drain (until mesh_node_drained() or @drain_ns passed), then leave (logged) and
 * keep polling @leave_ns so the leave spreads (0: 25 SWIM probe periods, at least 200 ms
 * and at most 1 s). True when the loop may stop.
 */
bool mesh_node_stop_step(struct mesh_node *n, struct mesh_node_stop *st, uint64_t drain_ns,
			 uint64_t leave_ns, uint64_t now_ns);

/* ---------------------------------------------------------------- looking inside */

/** This node's id (mesh_wire_node_id(name, gen)), the sender id of its frames. */
uint64_t mesh_node_id(const struct mesh_node *n);
/** Owned parts, for the merge thread only (namespaces, queries, tests). */
struct mesh_crdt_store *mesh_node_store(struct mesh_node *n);
struct mesh_swim *mesh_node_swim(struct mesh_node *n);
const struct mesh_stream *mesh_node_stream(const struct mesh_node *n);

/** One replication peer (merge thread only). */
struct mesh_node_peer_info {
	uint64_t id;
	char name[MESH_SWIM_NAME_MAX + 1];
	struct mesh_node_addr addr;
	struct mesh_stream_peer_stats channel; /**< .refused: acks refusing our ops */
	uint64_t crdt_sent_seq, crdt_acked_seq;
	uint64_t refused_ops; /**< ops from this peer our store refused (acked as refused) */
	char refused_ops_reason[MESH_STREAM_REASON_MAX + 1]; /**< the last one's reason */
};
uint32_t mesh_node_peer_count(const struct mesh_node *n);
/** Peer number @i. 0 or -ENOENT. */
int mesh_node_peer_at(const struct mesh_node *n, uint32_t i, struct mesh_node_peer_info *out);

/** Folded store digest, republished every 100 ms by poll; readable from any thread. */
uint64_t mesh_node_digest(const struct mesh_node *n);

/** Member counts by status (this node counted alive) and replication peers. */
struct mesh_node_members {
	uint32_t alive, suspect, dead, left;
	uint32_t peers;
	uint32_t reachable, quorum, should_serve; /**< the cluster state (CLUSTER) */
};
/** The counts poll republishes with the digest; readable from any thread. */
void mesh_node_members_published(const struct mesh_node *n, struct mesh_node_members *out);
/** Store digest computed now (merge thread only). */
uint64_t mesh_node_digest_now(struct mesh_node *n);

/** Origin-to-apply latency histograms, one per update kind (readable from any thread). */
enum mesh_node_lat_kind {
	MESH_NODE_LAT_LWW, MESH_NODE_LAT_DELETE, MESH_NODE_LAT_EPOCH, MESH_NODE_LAT_STREAM,
	MESH_NODE_LAT_MAX
};
const struct mesh_hist *mesh_node_latency(const struct mesh_node *n, enum mesh_node_lat_kind k);
/** Latency kind names ("lww", "delete", "epoch", "stream"). */
const char *mesh_node_lat_kind_name(enum mesh_node_lat_kind k);
/** Origin stamps from the future (clock skew), not recorded. */
uint64_t mesh_node_latency_skewed(const struct mesh_node *n);

/** HELLO diagnostic: configured peers answering and the largest last round trip. */
struct mesh_node_hello_stats {
	uint32_t peers, answering;
	uint64_t rtt_max_ns;
};
void mesh_node_hello_stats(const struct mesh_node *n, struct mesh_node_hello_stats *out);

/* ---------------------------------------------------------------- counters */

/** Node counters: X(name, description). Single writer, readable from any thread. */
#define MESH_NODE_COUNTERS(X) \
	X(node_rx_frames, "frames handed to the node") \
	X(node_rx_msgs_frames, "MSGS frames dispatched") \
	X(node_rx_swim_records, "SWIM records passed to membership") \
	X(node_rx_unknown_type, "frames of a type the node does not handle") \
	X(node_rx_drop_bad_container, "MSGS payloads whose record list is malformed") \
	X(node_rx_unknown_kind, "records of a kind neither membership nor channels handle") \
	X(node_rx_drop_not_member, "channel records from a sender that is not a member") \
	X(node_rx_hello, "HELLO frames answered") \
	X(node_rx_hello_reply, "HELLO_REPLY frames received") \
	X(node_rx_hello_short, "HELLO frames not answered: shorter than the reply would be") \
	X(node_rx_drop_swim_sender, "SWIM records whose header names another node than the frame's sender id") \
	X(node_tx_hello, "HELLO frames sent to configured peers") \
	X(node_tx_frames, "frames handed to the environment") \
	X(node_tx_drop_no_peer, "channel output for a peer that is no longer a member") \
	X(node_tx_drop_too_big, "payloads larger than a frame") \
	X(node_peer_added, "replication peers added (alive members)") \
	X(node_peer_removed, "replication peers removed (left, reaped, restarted)") \
	X(node_peer_parked, "peers declared dead: channel and watermarks kept until reaped") \
	X(node_peer_resumed, "parked peers alive again in the same life: resumed, no re-export") \
	X(node_peer_drop_full, "members not replicated to: peer table full") \
	X(node_peer_unproven, "new members not yet replicated to: no frame from them since they joined") \
	X(node_peer_admit_limited, "proven members whose replication waits: past the admission rate") \
	X(node_export_backpressure, "polls that left ops for a peer because its channel was full") \
	X(node_export_too_big, "ops larger than a channel carries (max_op_bytes), not sent") \
	X(node_export_rewind, "channel refused an op it had room for: export rewound to acked") \
	X(node_ae_digests_sent, "anti-entropy digests sent") \
	X(node_ae_digests_rx, "anti-entropy digests received") \
	X(node_ae_drop_not_member, "digests dropped: the sender is not a replication peer") \
	X(node_ae_drop_bad, "digests dropped: malformed level, group or hash count") \
	X(node_ae_rounds_diverged, "digest rounds that found differing buckets") \
	X(node_ae_ops_pushed, "ops pushed to repair differing buckets") \
	X(node_ae_backpressure, "repairs cut short by a full channel (next round goes on)") \
	X(node_ae_skip_refused, "ops a repair did not push: the peer refused that version") \
	X(node_ae_skip_catchup, "AE rounds or pushes skipped: the export to that peer is catching up") \
	X(node_ae_skip_streaming, "AE pushes deferred: that peer was streaming its changes to us") \
	X(node_gc_tombstones, "tombstones collected") \
	X(node_requests, "client requests handled") \
	X(node_request_errors, "client requests answered with an error") \
	X(node_batch_ops, "ops in client BATCH requests") \
	X(node_batch_op_errors, "ops of client BATCH requests refused (each one counted)") \
	X(node_batch_get_too_large, "GETs of a BATCH refused: the value would not fit the reply") \
	X(node_reserved_refused, "client requests refused: a key under the reserved prefix") \
	X(node_events, "subscription events sent") \
	X(node_event_drops, "subscription events lost (subscriber queue full)")

#define MESH_NODE_CTR_ENUM(name, desc) MESH_NODE_CTR_##name,
enum mesh_node_counter { MESH_NODE_COUNTERS(MESH_NODE_CTR_ENUM) MESH_NODE_CTR_MAX };

/** Counter names and one-line descriptions, indexed by enum mesh_node_counter. */
extern const char *const mesh_node_counter_names[MESH_NODE_CTR_MAX];
extern const char *const mesh_node_counter_descs[MESH_NODE_CTR_MAX];
/** One counter (relaxed read). */
uint64_t mesh_node_counter(const struct mesh_node *n, enum mesh_node_counter c);

#ifdef __cplusplus
}
#endif

#endif /* MESH_NODE_H */
