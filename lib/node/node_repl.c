/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication: lib/crdt (the store) joined to lib/stream (reliable per-peer channels,
 * at-most-once stream values) and to membership.
 *
 * - Peers: every alive or suspect member is a peer, identified like frame senders by
 *   mesh_wire_node_id(name, generation). A member declared dead is parked: nothing is
 *   exported to it, but its channel and watermarks stay, and if it comes back in the same
 *   life (a flap, a healed partition) it resumes from them. One that left, was reaped or
 *   restarted (new generation, empty store) is dropped; its new life is a new peer with
 *   fresh watermarks and receives the whole store, in slices (node_repl_member).
 * - CRDT ops: each poll exports, per peer, what changed after that peer's send cursor
 *   (mesh_crdt_export) and hands it to the peer's reliable channel (mesh_stream_op_send).
 *   When a peer's channel has nothing in flight, everything exported to it is acknowledged
 *   and the store's ack watermark (tombstone GC) moves to the send cursor. Received
 *   batches are merged with mesh_crdt_apply_batch (idempotent, any order). A node sends
 *   only the changes it made (crdt export_local_only, the default) except in a new peer's
 *   catch-up, so a change crosses the wire N-1 times, not N(N-1); what a maker could not
 *   deliver (it died, it was cut off from a peer) is anti-entropy's to repair (node_ae.c).
 * - Stream values: client publishes are buffered by the store (byte-capped FIFO); each poll
 *   drains them into lib/stream (chunked when large, at most once); received values are
 *   delivered to subscribers, not stored.
 * Direct push to every peer is the policy (clusters up to the stream layer's direct_max).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node_internal.h"

#define EXPORT_OPS 64
#define EXPORT_BYTES (64 * 1024)
/* ops exported to one peer per poll at most: a large catch-up streams in slices, so the
 * merge core keeps answering probes between them */
#define EXPORT_SLICE 2048
/* ops queued or in flight towards one peer at most: a peer that never acknowledges holds
 * this much of the store, not all of it (the channel's own bound is 65536 ops) */
#define EXPORT_BACKLOG_MAX 4096
/* new replication peers per second at most (node_repl_heard) */
#define NODE_ADMIT_PER_SEC 32

struct node_peer *
node_repl_peer(struct mesh_node *n, uint64_t id)
{
	for (uint32_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].id == id)
			return &n->peers[i];
	return NULL;
}

struct node_peer *
node_peer_find_name(struct mesh_node *n, const char *name, size_t len)
{
	for (uint32_t i = 0; i < n->n_peers; i++)
		if (strlen(n->peers[i].name) == len && memcmp(n->peers[i].name, name, len) == 0)
			return &n->peers[i];
	return NULL;
}

/* @id stops being a peer: its channel and watermarks are released */
static void
peer_release(struct mesh_node *n, uint64_t id)
{
	mesh_stream_peer_remove(n->stream, id);
	mesh_crdt_peer_remove(n->kv, id);
	NODE_CTR(n, node_peer_removed);
}

static void
peer_drop(struct mesh_node *n, struct node_peer *p)
{
	peer_release(n, p->id);
	*p = n->peers[--n->n_peers];
}

/* parked[@i] leaves the parked list (which keeps its age order) */
static void
parked_remove(struct mesh_node *n, uint32_t i)
{
	memmove(&n->parked[i], &n->parked[i + 1], (--n->n_parked - i) * sizeof(n->parked[0]));
}

static void
parked_drop(struct mesh_node *n, uint32_t i)
{
	peer_release(n, n->parked[i].id);
	parked_remove(n, i);
}

static struct node_peer *
parked_find_name(struct mesh_node *n, const char *name, size_t len)
{
	for (uint32_t i = 0; i < n->n_parked; i++)
		if (strlen(n->parked[i].name) == len && memcmp(n->parked[i].name, name, len) == 0)
			return &n->parked[i];
	return NULL;
}

struct node_peer *
node_parked_find_name(struct mesh_node *n, const char *name, size_t len)
{
	return parked_find_name(n, name, len);
}

/* A live peer declared dead: nothing is exported to it any more (nor digests, nor drain
 * waits), but its channel and watermarks stay, so that if it was only unreachable it
 * resumes where it was. */
static void
peer_park(struct mesh_node *n, struct node_peer *p)
{
	if (n->n_parked == MESH_NODE_MAX_PEERS)
		parked_drop(n, 0); /* the oldest parked goes first */
	n->parked[n->n_parked++] = *p;
	*p = n->peers[--n->n_peers];
	NODE_CTR(n, node_peer_parked);
}

/* A parked peer alive again in the same life: back among the peers, watermarks as they are */
static void
peer_resume(struct mesh_node *n, struct node_peer *q, const struct mesh_swim_event *ev)
{
	q->addr = (struct mesh_node_addr){ .ip = ev->addr.ip, .port = ev->addr.port };
	q->reaped_ns = 0;
	n->peers[n->n_peers++] = *q; /* there is room: parked peers came from peers[] */
	parked_remove(n, (uint32_t)(q - n->parked));
	NODE_CTR(n, node_peer_resumed);
}

/*
 * Membership to replication peers. A member's life is its id (name and boot generation),
 * and a life never loses what it acknowledged. So a member
 *   - declared dead is parked (peer_park), and stays parked when membership reaps it
 *     (dead_timeout, 60 s: a partition that long is common);
 *   - alive again in the same life (a flap, a healed partition, even after the reap)
 *     resumes from its watermarks: its channel requeues what was in flight, anti-entropy
 *     repairs anything else. (Re-adding it with fresh watermarks re-exported the whole
 *     store: with tens of thousands of keys, a storm that caused more flaps.)
 *   - that left, or is back in a new life (restarted, empty), or was reaped longer than
 *     the tombstone grace ago (parked_expire), is dropped; a new life is a new peer and
 *     receives the whole store, flow-controlled (export_peer).
 * A parked peer holds tombstone GC back by what it acknowledged, as lib/crdt makes a
 * removed peer do for the grace after its removal: here the reap plus the grace.
 */
void
node_repl_member(struct mesh_node *n, const struct mesh_swim_event *ev)
{
	struct node_peer *p = node_peer_find_name(n, ev->name, ev->name_len);
	struct node_peer *q = parked_find_name(n, ev->name, ev->name_len);
	bool live = ev->status == MESH_SWIM_ALIVE || ev->status == MESH_SWIM_SUSPECT;
	char name[MESH_SWIM_NAME_MAX + 1];
	uint64_t life;

	snprintf(name, sizeof(name), "%.*s", (int)ev->name_len, ev->name);
	life = mesh_wire_node_id(name, ev->gen);
	if (p != NULL && p->id == life && live) {
		p->addr = (struct mesh_node_addr){ .ip = ev->addr.ip, .port = ev->addr.port };
		return;
	}
	if (p != NULL && p->id == life && ev->status == MESH_SWIM_DEAD &&
	    ev->type != MESH_SWIM_EV_REMOVED) {
		peer_park(n, p);
		return;
	}
	if (q != NULL && q->id == life && live) {
		peer_resume(n, q, ev);
		return;
	}
	if (q != NULL && q->id == life && ev->type == MESH_SWIM_EV_REMOVED &&
	    ev->status == MESH_SWIM_DEAD) {
		q->reaped_ns = MESH_MAX(n->now, 1); /* reaped: kept for the grace */
		return;
	}
	if (q != NULL && (q->id != life || ev->status == MESH_SWIM_LEFT))
		parked_drop(n, (uint32_t)(q - n->parked)); /* older life, or left */
	if (p != NULL)
		peer_drop(n, p); /* left, or an older life of a restarted member */
	if (live)
		NODE_CTR(n, node_peer_unproven); /* a peer once it speaks again (node_repl_heard) */
}

/* @name (life @id) at @addr becomes a replication peer: a channel and a full export */
static void
peer_add(struct mesh_node *n, const char *name, uint64_t gen, uint64_t life,
	 const struct mesh_node_addr *addr)
{
	struct node_peer *p;

	if (n->n_peers + n->n_parked >= MESH_NODE_MAX_PEERS && n->n_parked > 0)
		parked_drop(n, 0); /* lib/crdt and lib/stream hold both kinds */
	if (n->n_peers == MESH_NODE_MAX_PEERS) {
		NODE_CTR(n, node_peer_drop_full);
		return;
	}
	if (n->admit_rl.burst == 0)
		n->admit_rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(MESH_NS_PER_SEC,
									  NODE_ADMIT_PER_SEC);
	if (!mesh_ratelimit_allow(&n->admit_rl, n->now)) {
		NODE_CTR(n, node_peer_admit_limited); /* admitted when it speaks again */
		return;
	}
	p = &n->peers[n->n_peers++];
	memset(p, 0, sizeof(*p));
	p->id = life;
	p->gen = gen;
	p->addr = *addr;
	snprintf(p->name, sizeof(p->name), "%s", name);
	mesh_crdt_peer_add(n->kv, life);
	mesh_stream_peer_add(n->stream, life, n->now);
	NODE_CTR(n, node_peer_added);
}

/*
 * A member is replicated to once it proves itself: a SWIM message from it, from the
 * address membership holds for it, after it joined (the message that made it a member
 * does not count). A forged joiner that sends one frame costs a member table slot and no
 * more; one that keeps talking is admitted at NODE_ADMIT_PER_SEC, within
 * MESH_NODE_MAX_PEERS, and each peer's export backlog is bounded (EXPORT_BACKLOG_MAX).
 */
void
node_repl_heard(struct mesh_node *n, const char *name, uint64_t gen,
		const struct mesh_node_frame *f)
{
	size_t len = strlen(name);
	uint64_t life = mesh_wire_node_id(name, gen);
	struct mesh_swim_member_info mi;

	if (life != f->sender || node_repl_peer(n, life) != NULL ||
	    parked_find_name(n, name, len) != NULL)
		return;
	if (mesh_swim_member_get(n->swim, name, len, &mi) != 0 || mi.gen != gen ||
	    (mi.status != MESH_SWIM_ALIVE && mi.status != MESH_SWIM_SUSPECT) ||
	    mi.addr.ip != f->peer.ip || mi.addr.port != f->peer.port)
		return;
	if (node_peer_find_name(n, name, len) != NULL)
		return; /* an older life still a peer: membership's event drops it first */
	peer_add(n, name, gen, life, &f->peer);
}

/* lib/stream env: one MSGS payload for a peer */
static void
stream_send(void *ctx, uint64_t peer, const uint8_t *payload, size_t len)
{
	struct mesh_node *n = ctx;
	struct node_peer *p = node_repl_peer(n, peer);

	for (uint32_t i = 0; p == NULL && i < n->n_parked; i++)
		if (n->parked[i].id == peer)
			p = &n->parked[i]; /* its channel retransmits until it goes down (idle) */
	if (p == NULL) {
		NODE_CTR(n, node_tx_drop_no_peer);
		return;
	}
	node_tx_put(n, &p->addr, MESH_WIRE_TYPE_MSGS, payload, len);
}

/*
 * A received batch into the store. Ops the store refuses (limits, namespace config,
 * clock skew, GC horizon, malformed) make the batch's result that refusal: lib/stream
 * acks it with success = false and the reason node_refusal_rx gives (the last refused
 * op's), and they are counted per peer.
 */
static int
stream_crdt_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t count,
		  bool *fresh)
{
	struct mesh_node *n = ctx;
	struct mesh_crdt_op cops[EXPORT_OPS];
	int result[EXPORT_OPS], refusal = 0;

	node_wall(n);
	for (uint32_t done = 0, changed = 0; done < count;) {
		uint32_t k = MESH_MIN(count - done, (uint32_t)EXPORT_OPS), refused = 0;
		const struct mesh_crdt_op *last = NULL;

		for (uint32_t i = 0; i < k; i++) {
			const struct mesh_stream_op *o = &ops[done + i];
			uint64_t replica = 0;

			for (uint32_t b = 0; b < o->replica_len && b < 8; b++)
				replica = (replica << 8) | o->replica[b];
			cops[i] = (struct mesh_crdt_op){
				.key = o->key, .key_len = o->key_len,
				.value = o->value, .value_len = o->value_len,
				.ts = o->timestamp, .replica = replica, .tombstone = o->tombstone,
				.origin_ns = o->origin_ns, .owned = o->owned,
			};
		}
		mesh_crdt_apply_batch(n->kv, cops, k, n->now, result);
		for (uint32_t i = 0; i < k; i++) {
			if (result[i] == 1) {
				fresh[done + i] = true; /* changed the store: lib/stream may relay it */
				changed++;
				node_lat_record_op(n, &cops[i]);
			} else if (result[i] < 0) {
				refused++;
				refusal = result[i];
				last = &cops[i]; /* the store's errmsg is about this one */
			}
		}
		if (refused > 0)
			node_refusal_rx(n, from, refused, last);
		done += k;
		if (done == count && changed > 0) {
			struct node_peer *p = node_repl_peer(n, from);

			if (p != NULL)
				p->rx_changed_ns = n->now;
		}
	}
	return refusal == -ENOMEM ? -EAGAIN : refusal; /* out of memory: resend later */
}

static void
stream_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	       const uint8_t *value, size_t len, uint64_t origin_ns)
{
	struct mesh_node *n = ctx;

	(void)origin;
	node_lat_record(n, MESH_NODE_LAT_STREAM, origin_ns);
	mesh_crdt_stream_deliver_origin(n->kv, from, key, key_len, value, len, origin_ns);
}

/* records lib/stream hands back: kinds nobody here handles */
static void
stream_other_rx(void *ctx, uint64_t from, uint8_t kind, const uint8_t *body, size_t len)
{
	struct mesh_node *n = ctx;

	(void)from;
	(void)kind;
	(void)body;
	(void)len;
	NODE_CTR(n, node_rx_unknown_kind);
}

int
node_repl_init(struct mesh_node *n)
{
	static const struct mesh_stream_env_ops ops = {
		.send = stream_send,
		.crdt_apply = stream_crdt_apply,
		.stream_deliver = stream_deliver,
		.other_rx = stream_other_rx,
		.digest_build = node_ae_build,
		.digest_recv = node_ae_recv,
		.crdt_refused = node_refusal_acked,
	};
	struct mesh_stream_config cfg = n->cfg.stream;

	cfg.self_id = n->id;
	cfg.seed = n->env->random(n->ctx);
	cfg.max_payload = n->cfg.max_payload;
	cfg.digest_interval_ns = 0; /* the node runs the rounds (node_ae.c) */
	n->stream = mesh_stream_new(&cfg, &ops, n);
	return n->stream != NULL ? 0 : -errno;
}

static void
drain_value(void *ctx, int ns, uint64_t peer, const void *key, uint32_t key_len,
	    const void *value, uint32_t value_len)
{
	struct mesh_node *n = ctx;

	(void)ns;
	/* stamped when drained: in the same poll pass as the publish */
	mesh_stream_value_send_origin(n->stream, peer, key, key_len, value, value_len, n->now,
				      n->env->wall_ns(n->ctx));
}

int
node_repl_send_op(struct mesh_node *n, uint64_t peer, const struct mesh_crdt_op *op)
{
	uint8_t replica[8];
	struct mesh_stream_op so = {
		.key = op->key, .key_len = op->key_len,
		.value = op->value, .value_len = op->value_len,
		.replica = replica, .replica_len = 8,
		.timestamp = op->ts, .version = op->seq,
		.origin_ns = op->origin_ns,
		.tombstone = op->tombstone, .owned = op->owned,
	};

	for (int b = 0; b < 8; b++)
		replica[b] = (uint8_t)(op->replica >> (56 - 8 * b));
	return mesh_stream_op_send(n->stream, peer, &so, n->now);
}

/*
 * Hand what changed after @p's send cursor to its channel, never more than the channel
 * takes: the export cursor only moves over ops the channel accepted, so a full queue is
 * backpressure (counted), not loss. Returns ops exported.
 */
static unsigned
export_peer(struct mesh_node *n, struct node_peer *p)
{
	struct mesh_crdt_op ops[EXPORT_OPS];
	int64_t room = mesh_stream_peer_room(n->stream, p->id);
	unsigned work = 0;
	int k;

	room = MESH_MIN(room, (int64_t)EXPORT_SLICE);
	room = MESH_MIN(room, (int64_t)EXPORT_BACKLOG_MAX -
				      mesh_stream_peer_backlog(n->stream, p->id));
	while (room > 0 &&
	       (k = mesh_crdt_export(n->kv, p->id, ops, (uint32_t)MESH_MIN(room, (int64_t)EXPORT_OPS),
				     EXPORT_BYTES)) > 0) {
		for (int i = 0; i < k; i++) {
			int rc = node_repl_send_op(n, p->id, &ops[i]);

			if (rc == -EMSGSIZE) {
				NODE_CTR(n, node_export_too_big); /* counted; never fits a channel */
			} else if (rc < 0) {
				/* not sent although room was checked (no memory): send everything
				 * unacknowledged again rather than lose it */
				NODE_CTR(n, node_export_rewind);
				mesh_crdt_peer_rewind(n->kv, p->id);
				return work;
			}
		}
		room -= k;
		work += (unsigned)k;
	}
	if (room <= 0)
		NODE_CTR(n, node_export_backpressure);
	return work;
}

/* Parked peers reaped longer than the tombstone grace ago stop being peers. */
static void
parked_expire(struct mesh_node *n, uint64_t now_ns)
{
	uint64_t grace = n->cfg.crdt.tomb_grace_ns ? n->cfg.crdt.tomb_grace_ns
						   : MESH_CRDT_TOMB_GRACE_DEFAULT_NS;

	for (uint32_t i = 0; i < n->n_parked;) {
		uint64_t r = n->parked[i].reaped_ns;

		if (r != 0 && grace != MESH_CRDT_TOMB_GRACE_NEVER && now_ns > r &&
		    now_ns - r >= grace)
			parked_drop(n, i);
		else
			i++;
	}
}

unsigned
node_repl_poll(struct mesh_node *n, uint64_t now_ns)
{
	unsigned work = 0;

	parked_expire(n, now_ns);

	for (uint32_t i = 0; i < n->n_peers; i++) {
		struct node_peer *p = &n->peers[i];
		uint64_t acked, sent;

		work += export_peer(n, p);
		if (mesh_stream_peer_backlog(n->stream, p->id) == 0 &&
		    mesh_crdt_peer_watermarks(n->kv, p->id, &acked, &sent) == 0 && sent > acked)
			mesh_crdt_ack(n->kv, p->id, sent);
	}
	if (mesh_crdt_stream_drain(n->kv, -1, drain_value, n) > 0)
		work++;
	/* the channels' timers when one is due (mesh_node_next_deadline sleeps until then) */
	if (now_ns >= mesh_stream_next_deadline(n->stream))
		mesh_stream_tick(n->stream, now_ns);
	else
		mesh_stream_flush(n->stream, now_ns);
	return work;
}

uint32_t
mesh_node_peer_count(const struct mesh_node *n)
{
	return n->n_peers;
}

int
mesh_node_peer_at(const struct mesh_node *n, uint32_t i, struct mesh_node_peer_info *out)
{
	const struct node_peer *p;

	if (i >= n->n_peers)
		return -ENOENT;
	p = &n->peers[i];
	memset(out, 0, sizeof(*out));
	out->id = p->id;
	out->addr = p->addr;
	snprintf(out->name, sizeof(out->name), "%s", p->name);
	mesh_stream_peer_stats(n->stream, p->id, &out->channel);
	mesh_crdt_peer_watermarks(n->kv, p->id, &out->crdt_acked_seq, &out->crdt_sent_seq);
	out->refused_ops = p->refused_ops;
	memcpy(out->refused_ops_reason, p->refused_reason, sizeof(out->refused_ops_reason));
	return 0;
}
