/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watches: subscriptions with a starting point (WatchReq). A watch is a cursor over the
 * store's change index (mesh_crdt_watch_read), not a queue: every poll reads the keys
 * under its prefix changed after the cursor, each key's latest version once, in change
 * sequence order, and sends them as events carrying their seq. Nothing is queued on the
 * merge core, so nothing is lost here (a key changed twice before the reader gets to it
 * is sent once, with its latest value: right for a state-based consumer); what the
 * control thread cannot deliver is reported in Event.dropped as for any subscription.
 *
 *   snapshot  the cursor walks from 0 to S0 (the store seq when the watch began,
 *             WatchResp.seq), live keys only, events flagged snapshot; the last one is
 *             flagged snapshot_end (one event is held back, copied, until the next one or
 *             the end is found; an empty range sends one event with only snapshot_end and
 *             seq S0, a valid resume point).
 *             A key changed during the snapshot leaves the range (its change seq > S0)
 *             and comes after snapshot_end with its new seq.
 *   resume    (generation G, seq S): honoured (resumed) when G is this node's life and
 *             mesh_crdt_watch_can_resume(S): the cursor starts at S and every key changed
 *             after S follows, tombstones included. Otherwise missed, and a snapshot.
 *   live      the cursor starts at S0.
 * Each poll reads at most WATCH_SLICE events and WATCH_SCAN index records per watch, so
 * a snapshot of a huge store goes out in slices; a watch with more to read counts as work
 * done, so an event-driven loop polls again instead of sleeping until its next timer. Keys under the reserved prefix
 * ("\xffmeshd/") are never sent. Only stored (CRDT) keys are watched: stream messages are
 * not in the store (use subscribe).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define WATCH_SLICE 256u
#define WATCH_SCAN 16384u

struct node_watch {
	uint64_t id;
	uint32_t client, client_gen;
	uint64_t cursor;
	uint64_t until;     /* snapshot: its last seq */
	bool in_snapshot;
	bool has_held;      /* a snapshot event held back (copied) */
	uint8_t *held;      /* key then value */
	uint32_t held_key_len, held_value_len;
	uint64_t held_seq, held_origin;
	struct mesh_crdt_sub *mark; /* counts changes under the prefix */
	uint64_t marks_seen;        /* marks when the last complete live read began */
	bool dirty;                 /* a live read is due whatever the marks say */
	uint32_t prefix_len;
	uint8_t prefix[];
};

static bool
reserved(const void *key, uint32_t len)
{
	return node_key_reserved(key, len); /* node_meta.c */
}

void
node_watch_request(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	uint64_t s0 = mesh_crdt_store_seq(n->kv);
	struct node_watch *w;
	unsigned slot;

	if (q->key_len > MESH_CRDT_KEY_MAX) {
		r->status = -EINVAL;
		r->error = "watch: prefix too long";
		return;
	}
	if (reserved(q->key, q->key_len)) {
		r->status = -EPERM;
		r->error = "watch: the prefix is reserved for meshd";
		return;
	}
	for (slot = 0; slot < NODE_MAX_WATCHES && n->watches[slot] != NULL; slot++)
		;
	if (slot == NODE_MAX_WATCHES) {
		r->status = -ENOSPC;
		r->error = "too many watches on this node";
		return;
	}
	w = calloc(1, sizeof(*w) + q->key_len);
	if (w == NULL) {
		r->status = -ENOMEM;
		r->error = "out of memory";
		return;
	}
	w->mark = mesh_crdt_watch_mark_new(n->kv, q->key, q->key_len);
	if (w->mark == NULL) {
		free(w);
		r->status = -ENOMEM;
		r->error = "out of memory";
		return;
	}
	if (q->key_len)
		memcpy(w->prefix, q->key, q->key_len);
	w->prefix_len = q->key_len;
	w->id = n->next_sub_id++;
	w->client = q->client;
	w->client_gen = q->client_gen;
	r->type = MESH_NODE_REPLY_WATCH;
	r->subscription = w->id;
	r->generation = n->cfg.gen;
	r->seq = s0;
	if (q->watch.resume) {
		r->resumed = q->watch.generation == n->cfg.gen &&
			     mesh_crdt_watch_can_resume(n->kv, q->watch.seq);
		r->missed = !r->resumed;
	}
	if (r->resumed) {
		w->cursor = q->watch.seq;
		w->dirty = true;
	} else if (r->missed || q->watch.snapshot) {
		w->in_snapshot = true;
		w->until = s0;
	} else {
		w->cursor = s0;
	}
	n->watches[slot] = w;
	n->n_watches++;
}

static void
emit(struct mesh_node *n, struct node_watch *w, struct mesh_node_bytes key,
     struct mesh_node_bytes value, bool tomb, uint64_t seq, uint64_t origin, bool end)
{
	struct mesh_node_reply r = {
		.type = MESH_NODE_REPLY_EVENT,
		.client = w->client,
		.client_gen = w->client_gen,
		.subscription = w->id,
		.key = key,
		.value = value,
		.tombstone = tomb,
		.origin_ns = origin,
		.seq = seq,
		.snapshot = w->in_snapshot,
		.snapshot_end = end,
	};

	if (n->env->reply != NULL)
		n->env->reply(n->ctx, &r);
	NODE_CTR(n, node_events);
}

static void
emit_op(struct mesh_node *n, struct node_watch *w, const struct mesh_crdt_op *op, bool end)
{
	emit(n, w, (struct mesh_node_bytes){ .data = op->key, .len = op->key_len },
	     (struct mesh_node_bytes){ .data = op->tombstone ? NULL : op->value,
				       .len = op->tombstone ? 0 : op->value_len },
	     op->tombstone, op->seq, op->origin_ns, end);
}

static void
emit_held(struct mesh_node *n, struct node_watch *w, bool end)
{
	if (!w->has_held) {
		if (end) /* an empty snapshot: one event with only snapshot_end (and its seq) */
			emit(n, w, (struct mesh_node_bytes){ 0 }, (struct mesh_node_bytes){ 0 },
			     false, w->until, 0, true);
		return;
	}
	emit(n, w, (struct mesh_node_bytes){ .data = w->held, .len = w->held_key_len },
	     (struct mesh_node_bytes){ .data = w->held + w->held_key_len,
				       .len = w->held_value_len },
	     false, w->held_seq, w->held_origin, end);
	w->has_held = false;
}

/* keep @op (a live value) back until we know whether it is the snapshot's last one */
static int
hold(struct node_watch *w, const struct mesh_crdt_op *op)
{
	uint8_t *b = realloc(w->held, (size_t)op->key_len + op->value_len + 1);

	if (b == NULL)
		return -ENOMEM;
	w->held = b;
	memcpy(b, op->key, op->key_len);
	if (op->value_len)
		memcpy(b + op->key_len, op->value, op->value_len);
	w->held_key_len = op->key_len;
	w->held_value_len = op->value_len;
	w->held_seq = op->seq;
	w->held_origin = op->origin_ns;
	w->has_held = true;
	return 0;
}

static unsigned
watch_poll(struct mesh_node *n, struct node_watch *w)
{
	struct mesh_crdt_op ops[WATCH_SLICE];
	uint64_t cursor = w->cursor, marks = mesh_crdt_watch_marks(w->mark);
	unsigned sent = 0, k = 0;
	bool done;
	uint32_t got;

	if (n->env->client_busy != NULL && n->env->client_busy(n->ctx, w->client, w->client_gen))
		return 0; /* a slow reader: the cursor waits, nothing is dropped */
	if (!w->in_snapshot && !w->dirty && marks == w->marks_seen) {
		/* nothing under the prefix changed since the last complete read */
		w->cursor = MESH_MAX(w->cursor, mesh_crdt_store_seq(n->kv));
		return 0;
	}
	got = mesh_crdt_watch_read(n->kv, w->prefix, w->prefix_len, &cursor,
				   w->in_snapshot ? w->until : UINT64_MAX, w->in_snapshot, ops,
				   WATCH_SLICE, WATCH_SCAN, &done);
	for (uint32_t i = 0; i < got; i++) /* drop reserved keys */
		if (!reserved(ops[i].key, ops[i].key_len))
			ops[k++] = ops[i];
	if (!w->in_snapshot) {
		for (uint32_t i = 0; i < k; i++)
			emit_op(n, w, &ops[i], false);
		w->cursor = cursor;
		w->dirty = !done;
		if (done)
			w->marks_seen = marks;
		return MESH_MAX(k, done ? 0u : 1u); /* more to read: poll again soon */
	}
	if (k > 0) {
		if (w->has_held) {
			emit_held(n, w, false);
			sent++;
		}
		for (uint32_t i = 0; i + 1 < k; i++)
			emit_op(n, w, &ops[i], false);
		sent += k - 1;
		if (done) {
			emit_op(n, w, &ops[k - 1], true);
			sent++;
		} else if (hold(w, &ops[k - 1]) != 0) {
			/* no memory to hold it: read it again next time */
			cursor = ops[k - 1].seq - 1;
		}
	} else if (done) {
		emit_held(n, w, true);
		sent++;
	}
	w->cursor = cursor;
	if (done) {
		w->in_snapshot = false;
		free(w->held);
		w->held = NULL;
		w->has_held = false;
	}
	return MESH_MAX(sent, done ? 0u : 1u); /* more to read: poll again soon */
}

unsigned
node_watch_poll(struct mesh_node *n)
{
	unsigned sent = 0;

	for (unsigned i = 0, left = n->n_watches; left > 0 && i < NODE_MAX_WATCHES; i++) {
		if (n->watches[i] == NULL)
			continue;
		left--;
		sent += watch_poll(n, n->watches[i]);
	}
	return sent;
}

static void
watch_free(struct node_watch *w)
{
	mesh_crdt_sub_delete(w->mark);
	free(w->held);
	free(w);
}

bool
node_watch_drop(struct mesh_node *n, uint32_t client, uint32_t gen, uint64_t id)
{
	bool found = false;

	for (unsigned i = 0; i < NODE_MAX_WATCHES; i++) {
		struct node_watch *w = n->watches[i];

		if (w == NULL || w->client != client || w->client_gen != gen ||
		    (id != 0 && w->id != id))
			continue;
		watch_free(w);
		n->watches[i] = NULL;
		n->n_watches--;
		found = true;
	}
	return found;
}

void
node_watch_fini(struct mesh_node *n)
{
	for (unsigned i = 0; i < NODE_MAX_WATCHES; i++) {
		if (n->watches[i] != NULL)
			watch_free(n->watches[i]);
		n->watches[i] = NULL;
	}
	n->n_watches = 0;
}
