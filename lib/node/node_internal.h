/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/node private state: one struct mesh_node, shared by the node_*.c files. */
#ifndef NODE_INTERNAL_H
#define NODE_INTERNAL_H

#include "mesh_node.h"
#include "mesh_wire.h"

/* ops of ours a peer refused that anti-entropy remembers, per peer (node_refusal.c) */
#define NODE_REFUSED_IDS 16u

/** A replication peer: an alive or suspect member, by node id. */
struct node_peer {
	uint64_t id;
	uint64_t gen;             /* boot generation of the life @id (node_owner.c) */
	struct mesh_node_addr addr;
	char name[MESH_SWIM_NAME_MAX + 1];
	/* refusals (node_refusal.c): ops from this peer the store refused, the last reason,
	 * and the namespace config mismatch last logged for it (hash); ops of ours this peer
	 * refused (op ids, a ring): anti-entropy does not push them to it again */
	uint64_t refused_ops;
	char refused_reason[MESH_STREAM_REASON_MAX + 1];
	uint64_t mismatch_logged;
	uint64_t refused_ids[NODE_REFUSED_IDS];
	uint32_t refused_next;
	/* parked (node_repl.c): when membership reaped it (0: not yet) */
	uint64_t reaped_ns;
	/* anti-entropy (node_ae.c): when ops from this peer last changed the store, and since
	 * when repairs towards it wait for that stream to end (0: not waiting) */
	uint64_t rx_changed_ns;
	uint64_t ae_deferred_ns;
};

/** A HELLO peer from the configuration, and what its replies taught us. */
struct node_hello_peer {
	struct mesh_node_addr addr;
	uint64_t replies;
	uint64_t last_rtt_ns;
};

/** Client subscriptions (mesh_crdt_sub) with their owners. */
#define NODE_MAX_SUBS 256
struct node_sub {
	uint64_t id;
	uint32_t client, client_gen;
	uint64_t dropped_seen;
	struct mesh_crdt_sub *h;
};

/** Watches (node_watch.c) and membership subscriptions (node_member_events.c). */
#define NODE_MAX_WATCHES 256
#define NODE_MAX_MSUBS 64
struct node_watch;
struct node_msub;

/** Frames waiting for env->send: payloads copied into one buffer. */
struct node_tx {
	unsigned n;
	struct mesh_node_frame frames[MESH_NODE_TX_BATCH];
	uint8_t *buf;        /* MESH_NODE_TX_BATCH * max_payload bytes */
};

struct mesh_node {
	struct mesh_node_cfg cfg;
	const struct mesh_node_env_ops *env;
	void *ctx;
	uint64_t id;
	struct mesh_crdt_store *kv;
	struct mesh_swim *swim;
	struct mesh_stream *stream;
	uint64_t now;             /* time of the call being handled */
	struct node_tx tx;
	/* replication */
	uint32_t n_peers;
	struct node_peer peers[MESH_NODE_MAX_PEERS];
	/* members declared dead, oldest first: still registered with lib/crdt and lib/stream
	 * (watermarks, channel) until reaped, so a flap resumes instead of re-exporting */
	uint32_t n_parked;
	struct node_peer parked[MESH_NODE_MAX_PEERS];
	/* the sender of the frame being dispatched (SWIM records need its address) */
	struct mesh_node_addr rx_from;
	/* clients */
	struct node_sub subs[NODE_MAX_SUBS];
	uint32_t n_subs; /* subs[] in use: every poll scans the arrays only while some are */
	uint64_t next_sub_id;
	struct node_watch *watches[NODE_MAX_WATCHES]; /* node_watch.c */
	uint32_t n_watches;
	struct node_msub *msubs[NODE_MAX_MSUBS];      /* node_member_events.c */
	uint32_t n_msubs;
	struct mesh_crdt_sub *meta_sub; /* metadata changes, while n_msubs > 0 */
	uint64_t meta_dropped_seen;
	/* anti-entropy (node_ae.c) */
	uint64_t ae_next_ns;
	uint32_t ae_rr;
	struct {
		uint32_t level, n_groups;
		uint32_t groups[8];
	} ae_out;                 /* what the next digest_build encodes */
	uint64_t next_gc_ns;
	/* figures */
	uint64_t digest;          /* folded store digest, relaxed stores */
	struct mesh_node_members members_pub; /* relaxed stores, with the digest */
	uint64_t next_digest_ns;
	struct mesh_crdt_digest digest_scratch;
	struct mesh_hist lat[MESH_NODE_LAT_MAX];
	uint64_t lat_skewed;
	struct node_hello_peer hello[MESH_NODE_MAX_SEEDS];
	uint64_t next_hello_ns;
	struct mesh_ratelimit refusal_rl; /* node_refusal.c */
	struct mesh_ratelimit admit_rl;   /* node_repl.c: new peers per second */
	uint64_t ctr[MESH_NODE_CTR_MAX];
};

#define NODE_CTR(n, name) mesh_counter_add(&(n)->ctr[MESH_NODE_CTR_##name], 1)

/* node_meta.c: the reserved namespace and this node's metadata (owner-bound key) */
int node_meta_init(struct mesh_node *n, uint64_t now_ns);
int node_meta_set(struct mesh_node *n, const uint8_t *meta, uint32_t len, uint64_t now_ns);
struct mesh_node_bytes node_meta_of(struct mesh_node *n, const char *name, size_t name_len);
bool node_key_reserved(const uint8_t *key, uint32_t len);

/* node_cluster.c: HELLO and CLUSTER replies, the partition hint */
void node_cluster_state(const struct mesh_node *n, struct mesh_node_cluster *c);
void node_cluster_hello(struct mesh_node *n, struct mesh_node_reply *r);
void node_cluster_reply(const struct mesh_node *n, struct mesh_node_reply *r);

/* node_batch.c: a BATCH request; r->results is allocated (free after the reply) */
void node_batch_request(struct mesh_node *n, const struct mesh_node_req *q,
			struct mesh_node_reply *r, uint64_t now_ns);

/* node_tx.c: queue one payload for @to (copied); flushed when the batch is full */
void node_tx_put(struct mesh_node *n, const struct mesh_node_addr *to, uint8_t type,
		 const uint8_t *payload, size_t len);
/* a SWIM blob in a one-record MSGS payload */
void node_tx_swim(struct mesh_node *n, const struct mesh_node_addr *to, const uint8_t *blob,
		  size_t len);
void node_tx_flush(struct mesh_node *n);

/* node_repl.c: replication peers, the lib/stream environment, the export policy */
int node_repl_init(struct mesh_node *n);
void node_repl_member(struct mesh_node *n, const struct mesh_swim_event *ev);
unsigned node_repl_poll(struct mesh_node *n, uint64_t now_ns);
struct node_peer *node_peer_find_name(struct mesh_node *n, const char *name, size_t len);
/* a SWIM blob from member @name (@gen) in frame @f, before lib/swim reads it: a member
 * that joined earlier and speaks again from its address becomes a replication peer */
void node_repl_heard(struct mesh_node *n, const char *name, uint64_t gen,
		     const struct mesh_node_frame *f);
/* the replication peer @id, or NULL */
struct node_peer *node_repl_peer(struct mesh_node *n, uint64_t id);
/* one op into @peer's channel (mesh_stream_op_send's result) */
int node_repl_send_op(struct mesh_node *n, uint64_t peer, const struct mesh_crdt_op *op);

/* node_owner.c: a member's life ended (dead, left, restarted): its owner-bound keys are
 * deleted; alive again in the same life: its later owned writes are kept. Call before
 * node_repl_member (it reads the peer's previous life). */
void node_owner_member(struct mesh_node *n, const struct mesh_swim_event *ev);
/* the parked peer of member @name, or NULL (node_repl.c) */
struct node_peer *node_parked_find_name(struct mesh_node *n, const char *name, size_t len);

/* node_ae.c: anti-entropy digests (lib/stream digest env) */
int node_ae_build(void *ctx, uint8_t *buf, size_t cap, bool reply);
void node_ae_recv(void *ctx, uint64_t from, const struct mesh_wire_digest *d);
unsigned node_ae_poll(struct mesh_node *n, uint64_t now_ns);

/* node_swim.c: the lib/swim environment */
int node_swim_init(struct mesh_node *n);
/* one SWIM blob of frame @f (dropped when its header names another node than f->sender) */
void node_swim_input(struct mesh_node *n, const struct mesh_node_frame *f, const uint8_t *blob,
		     size_t len, uint64_t now_ns);
/* an accepted frame @f: liveness evidence for membership about its sender */
void node_swim_heard(struct mesh_node *n, const struct mesh_node_frame *f, uint64_t now_ns);

/* node_hello.c: the HELLO diagnostic */
void node_hello_input(struct mesh_node *n, const struct mesh_node_frame *f);
void node_hello_tick(struct mesh_node *n, uint64_t now_ns);

/* node_client.c: client requests and subscription events */
void node_client_request(struct mesh_node *n, const struct mesh_node_req *q, uint64_t now_ns);
unsigned node_client_events(struct mesh_node *n);
void node_client_fini(struct mesh_node *n);

/* node_watch.c: watches (WatchReq): fill @r (WATCH or an error); events sent by poll */
void node_watch_request(struct mesh_node *n, const struct mesh_node_req *q,
			struct mesh_node_reply *r);
unsigned node_watch_poll(struct mesh_node *n);
/* end @client's watch @id (0: all of them); true if one was found */
bool node_watch_drop(struct mesh_node *n, uint32_t client, uint32_t gen, uint64_t id);
void node_watch_fini(struct mesh_node *n);

/* node_member_events.c: membership subscriptions (MembersWatchReq) */
void node_mev_request(struct mesh_node *n, const struct mesh_node_req *q,
		      struct mesh_node_reply *r);
/* one JOIN per member (self first) to subscription @id, after its reply */
void node_mev_snapshot(struct mesh_node *n, uint64_t id);
/* a lib/swim member event (node_swim.c) */
void node_mev_swim(struct mesh_node *n, const struct mesh_swim_event *ev);
unsigned node_mev_poll(struct mesh_node *n);
bool node_mev_drop(struct mesh_node *n, uint32_t client, uint32_t gen, uint64_t id);
void node_mev_fini(struct mesh_node *n);

/* The wall clock, handed to the store too (its versions are made of it): call before
 * writing to or merging into the store. */
static inline uint64_t
node_wall(struct mesh_node *n)
{
	uint64_t w = n->env->wall_ns(n->ctx);

	mesh_crdt_store_set_wall(n->kv, w);
	return w;
}

/* node_refusal.c: ops the store refused (receiver) and refusals acked to us (sender) */
void node_refusal_rx(struct mesh_node *n, uint64_t from, uint32_t count,
		     const struct mesh_crdt_op *last);
void node_refusal_acked(void *ctx, uint64_t peer, const char *reason, size_t len);
/* true if @peer refused @op before (it named the op's id): do not send it again */
bool node_refusal_known(struct mesh_node *n, uint64_t peer, const struct mesh_crdt_op *op);

/* node_lat.c: origin-to-apply latency */
void node_lat_record(struct mesh_node *n, enum mesh_node_lat_kind k, uint64_t origin_ns);
void node_lat_record_op(struct mesh_node *n, const struct mesh_crdt_op *op);

#endif
