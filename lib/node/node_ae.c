/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-entropy: a periodic, rate-limited digest exchange between live peers that repairs
 * any divergence of the stores, whatever happened to the channels.
 *
 * The store keeps 4096 bucket hashes (lib/crdt). They do not fit a frame, so the exchange
 * has two levels:
 *   level 0  one hash per group of 32 buckets (128 x 8 B): fits one frame;
 *   level 1  the 32 bucket hashes of a few listed groups (at most AE_GROUPS_PER_FRAME).
 * Round: every ae_interval the node sends its level 0 to the next peer (round robin).
 * The peer compares it with its own; for differing groups it answers with its level 1
 * (up to AE_FRAMES frames). The first node pushes the keys of every bucket that differs
 * (lib/crdt bucket export, live values and tombstones, through the peer's reliable
 * channel, never past its room) and answers with its own level 1 for the same groups
 * (reply = true), so the peer pushes its side too: push-pull. Merges are idempotent, so a
 * key sent twice costs bandwidth only. While rounds find differences, the next round
 * comes after ae_fast_ns instead of ae_interval_ns.
 * Digests are accepted from replication peers (members) only.
 * While the export to a peer is far behind the store (a new life's catch-up, a resume
 * after a partition), it already carries every change to that peer, losslessly: rounds
 * skip that peer and a repair does not push to it, so the catch-up does not send the
 * store twice. It still answers, so the peer pushes its side when its export is idle.
 * The other way round, while a peer streams its changes to us, we are the one behind:
 * our pushes to it wait for that stream to end (at most AE_DEFER_MAX_NS).
 */
#include <string.h>

#include "node_internal.h"

#define AE_GROUP_BUCKETS 32u
#define AE_GROUPS (MESH_CRDT_DIGEST_BUCKETS / AE_GROUP_BUCKETS)
#define AE_GROUPS_PER_FRAME 4u
#define AE_FRAMES 8u
/* export this far behind the store (ops of change sequence not exported, or exported and
 * still queued or in flight in the channel): a catch-up is running */
#define AE_EXPORT_BEHIND 4096u

/* longest a repair towards a peer waits for that peer's stream of changes to us to end */
#define AE_DEFER_MAX_NS (10 * MESH_NS_PER_SEC)

_Static_assert(AE_GROUPS * 8 + 64 <= 1400, "a level-0 digest must fit a frame");

static uint64_t
group_hash(const struct mesh_crdt_digest *d, uint32_t g)
{
	uint64_t h = 0;

	for (uint32_t b = 0; b < AE_GROUP_BUCKETS; b++)
		h ^= d->bucket[g * AE_GROUP_BUCKETS + b] * (2 * (uint64_t)b + 1);
	return h;
}

/* lib/stream env: encode the digest described by n->ae_out */
int
node_ae_build(void *ctx, uint8_t *buf, size_t cap, bool reply)
{
	struct mesh_node *n = ctx;
	const struct mesh_crdt_digest *d = &n->digest_scratch;
	struct mesh_wire_digest m = { .reply = reply, .level = n->ae_out.level };
	uint64_t hashes[AE_GROUPS];

	if (m.level == 0) {
		for (uint32_t g = 0; g < AE_GROUPS; g++)
			hashes[g] = group_hash(d, g);
		m.bucket_count = AE_GROUPS;
		m.n_hashes = AE_GROUPS;
	} else {
		for (uint32_t i = 0; i < n->ae_out.n_groups; i++)
			memcpy(&hashes[i * AE_GROUP_BUCKETS],
			       &d->bucket[n->ae_out.groups[i] * AE_GROUP_BUCKETS],
			       AE_GROUP_BUCKETS * sizeof(uint64_t));
		m.bucket_count = MESH_CRDT_DIGEST_BUCKETS;
		m.n_hashes = n->ae_out.n_groups * AE_GROUP_BUCKETS;
		m.n_groups = n->ae_out.n_groups;
		m.groups = n->ae_out.groups;
	}
	m.bucket_hash = hashes;
	m.key_count = mesh_crdt_store_seq(n->kv);
	return mesh_wire_digest_encode(buf, cap, &m);
}

static void
send_digest(struct mesh_node *n, uint64_t peer, uint32_t level, const uint32_t *groups,
	    uint32_t n_groups, bool reply)
{
	n->ae_out.level = level;
	n->ae_out.n_groups = n_groups;
	if (n_groups > 0)
		memcpy(n->ae_out.groups, groups, n_groups * sizeof(*groups));
	if (mesh_stream_digest_send(n->stream, peer, reply, n->now) == 0)
		NODE_CTR(n, node_ae_digests_sent);
}

struct push {
	struct mesh_node *n;
	uint64_t peer;
	int64_t room;
	uint32_t sent;
};

static int
push_op(void *ctx, const struct mesh_crdt_op *op)
{
	struct push *p = ctx;

	if (p->room <= 0)
		return 1;
	if (node_refusal_known(p->n, p->peer, op)) {
		NODE_CTR(p->n, node_ae_skip_refused); /* the peer refused this version */
		return 0;
	}
	if (node_repl_send_op(p->n, p->peer, op) == 0) {
		p->room--;
		p->sent++;
	}
	return 0;
}

/* Push our keys of @bucket to @peer, within its channel's room. false: out of room. */
static bool
push_bucket(struct mesh_node *n, struct push *p, uint32_t bucket)
{
	mesh_crdt_bucket_export(n->kv, bucket, push_op, p);
	if (p->room > 0)
		return true;
	NODE_CTR(n, node_ae_backpressure);
	return false;
}

static bool
level0_ok(const struct mesh_wire_digest *d)
{
	return d->bucket_count == AE_GROUPS && d->n_hashes == AE_GROUPS && d->n_groups == 0;
}

static bool
level1_ok(const struct mesh_wire_digest *d)
{
	if (d->n_groups == 0 || d->n_groups > AE_GROUPS_PER_FRAME ||
	    d->n_hashes != d->n_groups * AE_GROUP_BUCKETS ||
	    d->bucket_count != MESH_CRDT_DIGEST_BUCKETS)
		return false;
	for (uint32_t i = 0; i < d->n_groups; i++)
		if (d->groups[i] >= AE_GROUPS)
			return false;
	return true;
}

/* A peer's level 0: answer with our level 1 for the groups that differ. */
static void
recv_level0(struct mesh_node *n, uint64_t from, const struct mesh_wire_digest *d)
{
	uint32_t diff[AE_GROUPS_PER_FRAME], k = 0, frames = 0;

	_Static_assert(AE_GROUPS_PER_FRAME <= MESH_ARRAY_SIZE(n->ae_out.groups), "groups");

	for (uint32_t g = 0; g < AE_GROUPS && frames < AE_FRAMES; g++) {
		if (group_hash(&n->digest_scratch, g) == d->bucket_hash[g])
			continue;
		diff[k++] = g;
		if (k == AE_GROUPS_PER_FRAME) {
			send_digest(n, from, 1, diff, k, false);
			frames++;
			k = 0;
		}
	}
	if (k > 0 && frames < AE_FRAMES)
		send_digest(n, from, 1, diff, k, false);
	if (frames > 0 || k > 0)
		NODE_CTR(n, node_ae_rounds_diverged);
}

/* Is the export to @peer catching up (far behind the store)? Then it carries our side. */
static bool
export_behind(const struct mesh_node *n, uint64_t peer)
{
	uint64_t acked, sent;

	if (mesh_crdt_peer_watermarks(n->kv, peer, &acked, &sent) < 0)
		return false;
	return mesh_crdt_store_seq(n->kv) - sent > AE_EXPORT_BEHIND ||
	       mesh_stream_peer_backlog(n->stream, peer) > (int64_t)AE_EXPORT_BEHIND;
}

/*
 * Is @peer streaming changes to us (ops from it changed the store within ae_interval)?
 * Then the digests differ because it is ahead, and our side of the differing buckets,
 * mostly its own puts that it holds already, is not worth sending. Repairs towards it
 * wait until that stream has been quiet for ae_interval, but never longer than
 * AE_DEFER_MAX_NS, so what only we hold (a dead member's puts) gets there under steady
 * writes too.
 */
static bool
peer_streaming(struct mesh_node *n, struct node_peer *peer)
{
	if (peer->rx_changed_ns == 0 || n->now - peer->rx_changed_ns >= n->cfg.ae_interval_ns) {
		peer->ae_deferred_ns = 0;
		return false;
	}
	if (peer->ae_deferred_ns == 0)
		peer->ae_deferred_ns = n->now;
	if (n->now - peer->ae_deferred_ns < AE_DEFER_MAX_NS)
		return true;
	peer->ae_deferred_ns = 0; /* waited long enough: this round pushes */
	return false;
}

/* A peer's level 1: push what differs; answer with ours unless this was the answer. */
static void
recv_level1(struct mesh_node *n, struct node_peer *peer, const struct mesh_wire_digest *d)
{
	uint64_t from = peer->id;
	struct push p = { .n = n, .peer = from, .room = mesh_stream_peer_room(n->stream, from) };
	bool room = true, streaming = false;

	if (export_behind(n, from)) {
		NODE_CTR(n, node_ae_skip_catchup);
		room = false; /* the export sends all of it */
	} else if ((streaming = peer_streaming(n, peer))) {
		NODE_CTR(n, node_ae_skip_streaming);
		room = false;
	}

	for (uint32_t i = 0; i < d->n_groups && room; i++) {
		uint32_t g = d->groups[i];

		for (uint32_t b = 0; b < AE_GROUP_BUCKETS && room; b++) {
			uint32_t bucket = g * AE_GROUP_BUCKETS + b;

			if (n->digest_scratch.bucket[bucket] != d->bucket_hash[i * AE_GROUP_BUCKETS + b])
				room = push_bucket(n, &p, bucket);
		}
	}
	mesh_counter_add(&n->ctr[MESH_NODE_CTR_node_ae_ops_pushed], p.sent);
	if (!d->reply)
		send_digest(n, from, 1, d->groups, d->n_groups, true);
	if (!streaming)
		n->ae_next_ns = MESH_MIN(n->ae_next_ns, n->now + n->cfg.ae_fast_ns);
}

void
node_ae_recv(void *ctx, uint64_t from, const struct mesh_wire_digest *d)
{
	struct mesh_node *n = ctx;
	struct node_peer *peer = node_repl_peer(n, from);

	NODE_CTR(n, node_ae_digests_rx);
	if (peer == NULL) {
		NODE_CTR(n, node_ae_drop_not_member);
		return;
	}
	if (!(d->level == 0 ? level0_ok(d) : d->level == 1 && level1_ok(d))) {
		NODE_CTR(n, node_ae_drop_bad);
		return;
	}
	mesh_crdt_digest_get(n->kv, &n->digest_scratch);
	if (d->level == 0)
		recv_level0(n, from, d);
	else
		recv_level1(n, peer, d);
}

unsigned
node_ae_poll(struct mesh_node *n, uint64_t now_ns)
{
	const struct node_peer *p;

	if (n->cfg.ae_interval_ns == 0 || now_ns < n->ae_next_ns || n->n_peers == 0)
		return 0;
	n->ae_next_ns = now_ns + n->cfg.ae_interval_ns;
	p = &n->peers[n->ae_rr++ % n->n_peers];
	if (export_behind(n, p->id)) {
		NODE_CTR(n, node_ae_skip_catchup);
		return 0;
	}
	mesh_crdt_digest_get(n->kv, &n->digest_scratch);
	send_digest(n, p->id, 0, NULL, 0, false);
	return 1;
}
