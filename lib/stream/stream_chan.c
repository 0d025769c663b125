/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reliable CRDT channels, one per (this node -> peer).
 *
 * Sender: ops wait in a FIFO (bounded, drops counted) and are packed greedily into
 * CrdtBatch bodies that fit one frame; a batch leaves as soon as it is full, or on flush
 * (sender idle). At most `window` batches are in flight; each keeps its encoded body and
 * its ops until acknowledged, and is retransmitted after rto_initial (or twice the
 * smoothed round trip, if longer), 2x, 4x ... capped at rto_max (mesh_stream_backoff_ns),
 * or at once when an ack nacks it. A channel that
 * went down and comes back starts a new epoch and requeues everything unacknowledged.
 *
 * Receiver: per sender epoch a cumulative sequence plus a 64-batch selective bitmap; a
 * batch is applied once (duplicates are re-acked, not re-applied) and acked on the next
 * flush with StreamAck {cumulative, sack bitmap, nacks = gaps below the highest seen,
 * success}. An apply that returns -EAGAIN leaves the batch unacked (it comes again);
 * another error (the store refused ops: limits, namespace config, clock skew, malformed)
 * acks it with success = false and the receiver's reason in error_message. The sender
 * counts refusals per peer, keeps the last reason and hands it to env->crdt_refused.
 *
 * Relay (cluster above direct_max): ops that changed the receiver's store (crdt_apply's
 * verdict) are forwarded to `fanout` random live members. A store takes each version at
 * most once, so every node relays an op at most once: relaying ends by construction, with
 * no dedup table to overflow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_internal.h"

static struct sop *
sop_new(const struct mesh_wire_crdt_op *w, uint64_t version)
{
	size_t n = w->key.len + w->value.len + w->replica_id.len;
	struct sop *o = malloc(sizeof(*o) + (n > 0 ? n : 1));
	uint8_t *d;

	if (o == NULL)
		return NULL;
	o->refs = 0;
	o->version = version;
	o->w = *w;
	d = o->data;
	if (w->key.len > 0)
		memcpy(d, w->key.p, w->key.len);
	o->w.key.p = d;
	d += w->key.len;
	if (w->value.len > 0)
		memcpy(d, w->value.p, w->value.len);
	o->w.value.p = d;
	d += w->value.len;
	if (w->replica_id.len > 0)
		memcpy(d, w->replica_id.p, w->replica_id.len);
	o->w.replica_id.p = d;
	o->wire_size = (uint32_t)mesh_wire_crdt_op_wire_size(&o->w);
	return o;
}

static void
sop_put(struct sop *o)
{
	if (--o->refs == 0)
		free(o);
}

size_t
stream_crdt_body_cap(const struct mesh_stream *s)
{
	return s->cfg.max_payload - MESH_WIRE_REC_HDR_LEN -
	       mesh_wire_crdt_batch_hdr_size(UINT64_MAX, UINT64_MAX);
}

static int
enqueue(struct mesh_stream *s, struct stream_peer *p, struct sop *o)
{
	if (p->q_len >= s->cfg.max_pending_ops) {
		CTR(s, tx_crdt_drop_queue_full);
		p->st_drops++;
		return -ENOBUFS;
	}
	if (p->q_len == p->q_cap) {
		uint32_t cap = p->q_cap ? p->q_cap * 2 : 64;
		struct sop **q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < p->q_len; i++)
			q[i] = p->q[(p->q_head + i) % p->q_cap];
		free(p->q);
		p->q = q;
		p->q_cap = cap;
		p->q_head = 0;
	}
	p->q[(p->q_head + p->q_len) % p->q_cap] = o;
	p->q_len++;
	o->refs++;
	stream_mark_dirty(s, p);
	return 0;
}

static inline struct sop *
q_at(const struct stream_peer *p, uint32_t i)
{
	return p->q[(p->q_head + i) % p->q_cap];
}

/*
 * First retransmission delay towards @p: rto_initial, or twice the smoothed ack round
 * trip when the channel is slower than that. A loaded receiver acks late; retransmitting
 * at rto_initial then only adds duplicates to its load.
 */
static uint64_t
rto_base(const struct mesh_stream *s, const struct stream_peer *p)
{
	return MESH_MAX(s->cfg.rto_initial_ns, MESH_MIN(2 * p->srtt_ns, s->cfg.rto_max_ns));
}

static void
send_batch(struct mesh_stream *s, struct stream_peer *p, struct batch *b, uint64_t now)
{
	stream_emit(s, p, MESH_WIRE_KIND_CRDT_BATCH, b->body, b->len, now);
	b->attempts++;
	b->last_tx_ns = now;
	b->next_tx_ns = now + mesh_stream_backoff_ns(rto_base(s, p), s->cfg.rto_max_ns,
						     b->attempts);
	stream_deadline_lower(s, b->next_tx_ns);
}

static inline bool
is_big(const struct mesh_stream *s, const struct sop *o)
{
	return o->wire_size > stream_crdt_body_cap(s);
}

static void
bigop_put(struct bigop *g)
{
	if (--g->refs == 0) {
		sop_put(g->o);
		free(g->enc);
		free(g);
	}
}

static struct batch *
win_slot(struct stream_peer *p)
{
	if (p->win == NULL) {
		p->win = calloc(STREAM_WIN_MAX, sizeof(*p->win));
		if (p->win == NULL)
			return NULL;
	}
	return &p->win[p->next_seq % STREAM_WIN_MAX];
}

/* Take the large op at the head of the queue: encode it once, fragments go out next. */
static int
start_big(struct mesh_stream *s, struct stream_peer *p)
{
	struct sop *o = q_at(p, 0);
	struct bigop *g = calloc(1, sizeof(*g));
	size_t len = 0;

	if (g == NULL || (g->enc = malloc(o->wire_size)) == NULL) {
		free(g);
		return -ENOMEM;
	}
	mesh_wire_crdt_batch_put_op(g->enc, o->wire_size, &len, &o->w);
	g->enc_len = len;
	g->per = stream_crdt_body_cap(s) - STREAM_FRAG_OVERHEAD;
	g->n_frags = (uint32_t)((len + g->per - 1) / g->per);
	g->o = o; /* the queue's reference moves here */
	g->refs = 1;
	p->q_head = (p->q_head + 1) % p->q_cap;
	p->q_len--;
	p->cur_big = g;
	CTR(s, tx_crdt_big_ops);
	return 0;
}

static int
send_fragment(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	struct bigop *g = p->cur_big;
	struct batch *b = win_slot(p);
	uint32_t idx = g->next_frag;
	size_t off = (size_t)idx * g->per, dl = MESH_MIN(g->per, g->enc_len - off), len = 0;

	if (b == NULL)
		return -ENOMEM;
	b->body = malloc(mesh_wire_crdt_batch_hdr_size(UINT64_MAX, UINT64_MAX) +
			 mesh_wire_crdt_batch_frag_size(idx, g->n_frags, dl));
	if (b->body == NULL)
		return -ENOMEM;
	mesh_wire_crdt_batch_put_hdr(b->body, SIZE_MAX, &len, p->next_seq, p->tx_epoch);
	mesh_wire_crdt_batch_put_frag(b->body, SIZE_MAX, &len, idx, g->n_frags, g->enc + off, dl);
	b->ops = NULL;
	b->n_ops = 0;
	b->big = g;
	b->frag_index = idx;
	g->refs++;
	if (++g->next_frag == g->n_frags) {
		p->cur_big = NULL;
		bigop_put(g); /* the cursor's reference */
	}
	b->seq = p->next_seq++;
	b->len = len;
	b->attempts = 0;
	CTR(s, tx_crdt_batches);
	CTR(s, tx_crdt_frag_batches);
	send_batch(s, p, b, now);
	return 0;
}

void
stream_crdt_pump(struct mesh_stream *s, struct stream_peer *p, uint64_t now, bool force)
{
	size_t cap = stream_crdt_body_cap(s);

	if (!p->up)
		return;
	while (p->next_seq - p->una < s->cfg.window) {
		size_t used = 0, len = 0;
		uint32_t n = 0;
		struct batch *b;

		if (p->cur_big != NULL) {
			if (send_fragment(s, p, now) != 0)
				return;
			continue;
		}
		if (p->q_len == 0)
			break;
		if (is_big(s, q_at(p, 0))) {
			if (start_big(s, p) != 0)
				return;
			CTR(s, tx_crdt_ops);
			continue;
		}
		while (n < p->q_len && !is_big(s, q_at(p, n)) && used + q_at(p, n)->wire_size <= cap)
			used += q_at(p, n++)->wire_size;
		if (n == p->q_len && !force)
			break; /* not full yet: wait for more ops or the idle flush */
		b = win_slot(p);
		if (b == NULL)
			return;
		b->body = malloc(used + mesh_wire_crdt_batch_hdr_size(UINT64_MAX, UINT64_MAX));
		b->ops = malloc(n * sizeof(*b->ops));
		if (b->body == NULL || b->ops == NULL) {
			free(b->body);
			free(b->ops);
			b->body = NULL;
			b->ops = NULL;
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			b->ops[i] = q_at(p, i);
			mesh_wire_crdt_batch_put_op(b->body, SIZE_MAX, &len, &b->ops[i]->w);
		}
		mesh_wire_crdt_batch_put_hdr(b->body, SIZE_MAX, &len, p->next_seq, p->tx_epoch);
		p->q_head = (p->q_head + n) % p->q_cap;
		p->q_len -= n;
		b->big = NULL;
		b->seq = p->next_seq++;
		b->n_ops = n;
		b->len = len;
		b->attempts = 0;
		CTR(s, tx_crdt_batches);
		CTR_ADD(s, tx_crdt_ops, n);
		send_batch(s, p, b, now);
	}
}

static int
disseminate(struct mesh_stream *s, struct sop *o, uint64_t exclude, uint64_t now)
{
	struct stream_peer *t[64];
	uint32_t n;

	if (!stream_relay_mode(s)) {
		for (uint32_t i = 0; i < s->n_members; i++) {
			struct stream_peer *p = s->members[i];

			if (p->id == exclude)
				continue;
			if (enqueue(s, p, o) == 0)
				stream_crdt_pump(s, p, now, false);
		}
	} else {
		n = stream_pick_targets(s, exclude, 0, t, MESH_MIN(s->cfg.fanout, 64u));
		for (uint32_t i = 0; i < n; i++)
			if (enqueue(s, t[i], o) == 0)
				stream_crdt_pump(s, t[i], now, false);
	}
	if (o->refs == 0) {
		free(o);
		return 0;
	}
	return 0;
}

static void
to_wire(const struct mesh_stream_op *op, struct mesh_wire_crdt_op *w)
{
	w->key = (struct mesh_wire_slice){ op->key, op->key_len };
	w->value = (struct mesh_wire_slice){ op->value, op->value_len };
	w->replica_id = (struct mesh_wire_slice){ op->replica, op->replica_len };
	w->timestamp = op->timestamp;
	w->origin_ns = op->origin_ns;
	w->tombstone = op->tombstone;
	w->owned = op->owned;
}

static struct sop *
make_sop(struct mesh_stream *s, const struct mesh_stream_op *op, int *rc)
{
	struct mesh_wire_crdt_op w;
	struct sop *o;

	to_wire(op, &w);
	if (mesh_wire_crdt_op_wire_size(&w) > stream_crdt_body_cap(s) &&
	    (mesh_wire_crdt_op_wire_size(&w) > s->cfg.max_op_bytes ||
	     mesh_wire_crdt_op_wire_size(&w) >
		     (size_t)STREAM_FRAG_MAX * (stream_crdt_body_cap(s) - STREAM_FRAG_OVERHEAD))) {
		CTR(s, tx_crdt_op_too_big);
		*rc = -EMSGSIZE;
		return NULL;
	}
	o = sop_new(&w, op->version);
	*rc = o == NULL ? -ENOMEM : 0;
	return o;
}

int
mesh_stream_op_publish(struct mesh_stream *s, const struct mesh_stream_op *op,
			 uint64_t now_ns)
{
	int rc;
	struct sop *o = make_sop(s, op, &rc);

	if (o == NULL)
		return rc;
	return disseminate(s, o, 0, now_ns);
}

int
mesh_stream_op_send(struct mesh_stream *s, uint64_t peer, const struct mesh_stream_op *op,
		      uint64_t now_ns)
{
	struct stream_peer *p = stream_peer_find(s, peer);
	struct sop *o;
	int rc;

	if (p == NULL)
		return -ENOENT;
	o = make_sop(s, op, &rc);
	if (o == NULL)
		return rc;
	rc = enqueue(s, p, o);
	if (rc != 0) {
		free(o);
		return rc;
	}
	stream_crdt_pump(s, p, now_ns, false);
	return 0;
}

/* ---------------------------------------------------------------- receiver */

static void
rxbig_free(struct stream_peer *p, uint32_t i)
{
	struct rxbig *g = p->rxbig[i];

	for (uint32_t k = 0; k < g->total; k++)
		free((void *)(uintptr_t)g->frags[k].p);
	p->rxbig_bytes -= g->bytes;
	free(g->frags);
	free(g);
	p->rxbig[i] = p->rxbig[--p->n_rxbig];
}

static void
rxbig_clear(struct stream_peer *p)
{
	while (p->n_rxbig > 0)
		rxbig_free(p, p->n_rxbig - 1);
}

uint64_t
stream_epoch_binding(const struct mesh_stream *s, uint64_t from, uint64_t to)
{
	uint64_t pair[2] = { from, to };

	(void)s;
	return mesh_hash64(pair, sizeof(pair)) >> STREAM_EPOCH_BITS << STREAM_EPOCH_BITS;
}

uint64_t
stream_epoch_next(struct mesh_stream *s, uint64_t peer)
{
	s->epoch_count = (s->epoch_count + 1) & STREAM_EPOCH_MASK;
	if (s->epoch_count == 0)
		s->epoch_count = 1;
	return stream_epoch_binding(s, s->cfg.self_id, peer) | s->epoch_count;
}

/*
 * Whether a frame of channel epoch @epoch from @p may be handled. Frames bound to another
 * receiver and epochs older than the current one (late or replayed frames) are dropped;
 * a newer epoch starts the sender's new channel, but only a batch (@may_switch) starts it:
 * a heartbeat or ack never moves a receiver to another epoch on its own.
 */
static bool
rx_epoch_ok(struct mesh_stream *s, struct stream_peer *p, uint64_t epoch, bool may_switch)
{
	if (epoch == p->rx_epoch)
		return true;
	if ((epoch & ~STREAM_EPOCH_MASK) != stream_epoch_binding(s, p->id, s->cfg.self_id)) {
		CTR(s, rx_crdt_wrong_receiver);
		return false;
	}
	if ((epoch & STREAM_EPOCH_MASK) < (p->rx_epoch & STREAM_EPOCH_MASK)) {
		CTR(s, rx_crdt_stale_epoch);
		return false;
	}
	if (!may_switch)
		return false;
	p->rx_epoch = epoch;
	p->rx_reset = false;
	p->rx_cum = 0;
	p->rx_sack = 0;
	p->rx_highest = 0;
	rxbig_clear(p); /* the sender requeues whole ops in its new epoch */
	return true;
}

static void
mark_received(struct mesh_stream *s, struct stream_peer *p, uint64_t seq, uint64_t now)
{
	p->rx_sack |= 1ULL << (seq - p->rx_cum - 1);
	while (p->rx_sack & 1) {
		p->rx_cum++;
		p->rx_sack >>= 1;
		p->rx_cum_ns = now;
	}
	if (seq > p->rx_highest)
		p->rx_highest = seq;
	p->ack_pending = true;
	stream_mark_dirty(s, p);
}

/*
 * Apply s->wops[0 .. n_wire) in one call to the caller; in relay mode forward the ops it
 * says changed its store (s->fresh). Duplicates are applied again (idempotent) and
 * counted. Returns crdt_apply's result.
 */
static int
apply_wire_ops(struct mesh_stream *s, struct stream_peer *p, uint32_t n_wire, uint64_t now)
{
	uint32_t n = 0, fresh = 0;
	int rc;

	for (uint32_t i = 0; i < n_wire; i++) {
		const struct mesh_wire_crdt_op *w = &s->wops[i];
		struct mesh_stream_op *o = &s->apply_ops[n];

		/* empty fields decode as NULL slices; callers get valid pointers */
		o->key = w->key.p != NULL ? w->key.p : (const uint8_t *)"";
		o->key_len = (uint32_t)w->key.len;
		o->value = w->value.p != NULL ? w->value.p : (const uint8_t *)"";
		o->value_len = (uint32_t)w->value.len;
		o->replica = w->replica_id.p != NULL ? w->replica_id.p : (const uint8_t *)"";
		o->replica_len = (uint32_t)w->replica_id.len;
		o->timestamp = w->timestamp;
		o->origin_ns = w->origin_ns;
		o->tombstone = w->tombstone;
		o->owned = w->owned;
		o->version = 0;
		s->fresh[n] = false;
		n++;
	}
	rc = n > 0 ? s->env->crdt_apply(s->ctx, p->id, s->apply_ops, n, s->fresh) : 0;
	if (rc == -EAGAIN) {
		CTR(s, rx_crdt_apply_retry); /* no ack: the batch comes again */
		return rc;
	}
	if (rc < 0) {
		CTR(s, rx_crdt_apply_fail);
		p->ack_fail = true;
	}
	CTR_ADD(s, rx_crdt_ops, n);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		if (!s->fresh[i])
			continue;
		fresh++;
		if (stream_relay_mode(s)) {
			struct sop *o = sop_new(&s->wops[i], 0);

			if (o != NULL) {
				CTR(s, relay_crdt_ops);
				disseminate(s, o, p->id, now);
			}
		}
	}
	if (rc == 0)
		CTR_ADD(s, rx_crdt_dup_ops, n - fresh);
	return rc;
}

/*
 * One fragment of a large op. Fragments are acknowledged as they are stored; the one that
 * completes the op is acknowledged only once the op applied (or was refused), so -EAGAIN
 * leaves it missing and its retransmission retries the apply.
 */
static void
rx_fragment(struct mesh_stream *s, struct stream_peer *p, const struct mesh_wire_crdt_batch *b,
	    uint64_t now)
{
	struct mesh_wire_crdt_batch inner;
	struct rxbig *g = NULL;
	uint64_t first;
	uint8_t *buf, *copy;
	size_t sum = 0;
	uint32_t i;
	int rc;

	if (b->frag_total < 2 || b->frag_total > STREAM_FRAG_MAX ||
	    b->frag_index >= b->frag_total || b->n_ops != 0 || b->seq <= b->frag_index ||
	    b->frag.len > s->cfg.max_payload) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "crdt fragment", now);
		return;
	}
	first = b->seq - b->frag_index;
	for (i = 0; i < p->n_rxbig; i++)
		if (p->rxbig[i]->first_seq == first) {
			g = p->rxbig[i];
			break;
		}
	if (g == NULL) {
		if (p->n_rxbig == STREAM_RXBIG_MAX) {
			CTR(s, rx_crdt_frag_drop); /* unacked: it comes again */
			return;
		}
		g = calloc(1, sizeof(*g));
		if (g == NULL || (g->frags = calloc(b->frag_total, sizeof(*g->frags))) == NULL) {
			free(g);
			return;
		}
		g->first_seq = first;
		g->total = b->frag_total;
		i = p->n_rxbig;
		p->rxbig[p->n_rxbig++] = g;
	}
	if (g->total != b->frag_total || g->frags[b->frag_index].p != NULL) {
		CTR(s, rx_drop_bad_msg);
		return;
	}
	if (p->rxbig_bytes + b->frag.len > 2ULL * s->cfg.max_op_bytes + s->cfg.max_payload) {
		CTR(s, rx_crdt_frag_drop);
		if (g->got == 0)
			rxbig_free(p, i);
		return;
	}
	copy = malloc(b->frag.len + 1);
	if (copy == NULL)
		return;
	if (b->frag.len > 0)
		memcpy(copy, b->frag.p, b->frag.len);
	g->frags[b->frag_index] = (struct mesh_wire_slice){ copy, b->frag.len };
	g->got++;
	g->bytes += b->frag.len;
	p->rxbig_bytes += b->frag.len;
	if (g->got < g->total) {
		mark_received(s, p, b->seq, now);
		return;
	}
	for (uint32_t k = 0; k < g->total; k++)
		sum += g->frags[k].len;
	buf = malloc(sum + 1);
	if (buf == NULL)
		goto forget_last;
	sum = 0;
	for (uint32_t k = 0; k < g->total; k++) {
		if (g->frags[k].len > 0)
			memcpy(buf + sum, g->frags[k].p, g->frags[k].len);
		sum += g->frags[k].len;
	}
	if (mesh_wire_crdt_batch_read(buf, sum, &inner, s->wops, 1) != 0 || inner.n_ops != 1 ||
	    inner.frag_total != 0) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "crdt large op", now);
		p->ack_fail = true; /* acked as failed: retransmitting cannot fix it */
		snprintf(p->ack_reason, sizeof(p->ack_reason), "malformed large CrdtOp");
		rc = -EBADMSG;
	} else {
		CTR(s, rx_crdt_big_ops);
		rc = apply_wire_ops(s, p, 1, now);
	}
	free(buf);
	if (rc == -EAGAIN)
		goto forget_last;
	mark_received(s, p, b->seq, now);
	rxbig_free(p, i);
	return;
forget_last:
	free(copy);
	g->frags[b->frag_index] = (struct mesh_wire_slice){ NULL, 0 };
	g->got--;
	g->bytes -= b->frag.len;
	p->rxbig_bytes -= b->frag.len;
}

void
stream_crdt_rx_batch(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body, size_t len,
		     uint64_t now)
{
	struct mesh_wire_crdt_batch b;
	int rc;

	if (mesh_wire_crdt_batch_read(body, len, &b, s->wops, s->max_batch_ops) != 0 ||
	    b.seq == 0 || b.epoch == 0) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "crdt batch", now);
		return;
	}
	if (!rx_epoch_ok(s, p, b.epoch, true))
		return;
	if (p->rx_cum == 0 && p->rx_highest == 0 && p->rx_sack == 0)
		p->rx_cum_ns = now; /* a new epoch: its gap timer starts now */
	CTR(s, rx_crdt_batches);
	if (b.seq <= p->rx_cum ||
	    (b.seq - p->rx_cum - 1 < 64 && (p->rx_sack >> (b.seq - p->rx_cum - 1)) & 1)) {
		CTR(s, rx_crdt_dup_batches);
		p->ack_pending = true; /* our ack was lost: say it again */
		stream_mark_dirty(s, p);
		return;
	}
	if (b.seq - p->rx_cum > 64) {
		/* the sender's window starts past what we hold: it was acked by the state we
		 * lost (this member was removed and added again), so ask for a new epoch */
		CTR(s, rx_crdt_drop_window);
		CTR(s, rx_crdt_state_lost);
		p->rx_reset = true;
		p->ack_pending = true;
		stream_mark_dirty(s, p);
		return;
	}
	if (b.frag_total != 0 || b.frag_index != 0 || b.frag.len != 0) {
		rx_fragment(s, p, &b, now);
		return;
	}
	rc = apply_wire_ops(s, p, b.n_ops, now);
	if (rc == -EAGAIN)
		return;
	mark_received(s, p, b.seq, now);
}

void
stream_crdt_rx_heartbeat(struct mesh_stream *s, struct stream_peer *p,
			 const struct mesh_wire_heartbeat *hb, uint64_t now)
{
	(void)now;
	if (hb->epoch == 0 || hb->next_seq == 0 || !rx_epoch_ok(s, p, hb->epoch, false))
		return;
	/* tail loss: the sender has sent batches we never saw; nack them now */
	if (hb->next_seq - 1 > p->rx_cum) {
		if (hb->next_seq - 1 > p->rx_highest)
			p->rx_highest = hb->next_seq - 1;
		p->ack_pending = true;
		stream_mark_dirty(s, p);
	}
}

void
stream_crdt_emit_ack(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	struct mesh_wire_stream_ack a;
	size_t len = 0;

	p->ack_pending = false;
	if (p->rx_epoch == 0)
		return;
	memset(&a, 0, offsetof(struct mesh_wire_stream_ack, nacks));
	a.seq = p->rx_cum;
	a.success = !p->ack_fail;
	a.reset = p->rx_reset;
	a.epoch = p->rx_epoch;
	a.sack = p->rx_sack;
	for (uint64_t q = p->rx_cum + 1;
	     q <= p->rx_highest && q <= p->rx_cum + 64 && a.n_nacks < STREAM_ACK_NACKS; q++)
		if (!((p->rx_sack >> (q - p->rx_cum - 1)) & 1))
			a.nacks[a.n_nacks++] = q;
	if (!a.success) {
		const char *why = p->ack_reason[0] != '\0' ? p->ack_reason : "apply failed";

		a.error_message.p = (const uint8_t *)why;
		a.error_message.len = strlen(why);
	}
	/* encode before clearing: error_message points into p->ack_reason */
	if (mesh_wire_stream_ack_write(s->scratch, sizeof(s->scratch), &len, &a) == 0 &&
	    stream_emit(s, p, MESH_WIRE_KIND_STREAM_ACK, s->scratch, len, now) == 0)
		CTR(s, tx_acks);
	p->ack_fail = false;
	p->ack_reason[0] = '\0';
}

/* ---------------------------------------------------------------- sender: acks, timers */

static uint32_t
release(struct mesh_stream *s, struct batch *b, uint32_t nv)
{
	if (b->big != NULL) {
		struct bigop *g = b->big;

		if (++g->n_acked == g->n_frags && !g->requeued) {
			s->versions[nv++] = g->o->version;
			CTR(s, crdt_ops_acked);
		}
		bigop_put(g);
		free(b->body);
		memset(b, 0, sizeof(*b));
		return nv;
	}
	for (uint32_t i = 0; i < b->n_ops; i++) {
		s->versions[nv++] = b->ops[i]->version;
		sop_put(b->ops[i]);
	}
	CTR_ADD(s, crdt_ops_acked, b->n_ops);
	free(b->ops);
	free(b->body);
	memset(b, 0, sizeof(*b));
	return nv;
}

/* Karn: only batches transmitted once give an unambiguous round trip. */
static void
rtt_sample(struct stream_peer *p, const struct batch *b, uint64_t now)
{
	uint64_t rtt;

	if (b->attempts != 1 || now < b->last_tx_ns)
		return;
	rtt = now - b->last_tx_ns;
	p->srtt_ns = p->srtt_ns == 0 ? rtt : p->srtt_ns - p->srtt_ns / 8 + rtt / 8;
}

/* @p acked ops of ours as refused: count, keep the reason, log (rate-limited), tell env */
static void
rx_refusal(struct mesh_stream *s, struct stream_peer *p, const struct mesh_wire_slice *why,
	   uint64_t now)
{
	size_t n = why->p != NULL ? MESH_MIN(why->len, (size_t)MESH_STREAM_REASON_MAX) : 0;

	CTR(s, rx_ack_failure);
	p->st_refused++;
	for (size_t i = 0; i < n; i++) { /* peer's text: keep it printable and JSON-safe */
		uint8_t c = why->p[i];

		p->refused_reason[i] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ? '?' : (char)c;
	}
	p->refused_reason[n] = '\0';
	if (mesh_ratelimit_allow(&s->rl, now))
		mesh_log(MESH_LOG_WARNING, STREAM_LOG, "peer %016llx refused ops of ours: %s",
			 (unsigned long long)p->id, p->refused_reason);
	if (s->env->crdt_refused != NULL)
		s->env->crdt_refused(s->ctx, p->id, p->refused_reason, n);
}

void
mesh_stream_op_refuse(struct mesh_stream *s, uint64_t peer, const char *reason)
{
	struct stream_peer *p = stream_peer_find(s, peer);

	if (p != NULL)
		snprintf(p->ack_reason, sizeof(p->ack_reason), "%s", reason);
}

void
stream_crdt_rx_ack(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body, size_t len,
		   uint64_t now)
{
	struct mesh_wire_stream_ack a;
	uint64_t cum;
	uint32_t nv = 0;

	if (mesh_wire_stream_ack_read(body, len, &a) != 0) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "stream ack", now);
		return;
	}
	CTR(s, rx_acks);
	p->st_acks++;
	if (a.success)
		CTR(s, rx_ack_success);
	else
		rx_refusal(s, p, &a.error_message, now);
	if (a.epoch != p->tx_epoch) {
		CTR(s, rx_ack_stale_epoch);
		return;
	}
	if (a.reset) {
		/* the receiver holds what it acknowledged, not our window: start over */
		CTR(s, rx_ack_reset);
		stream_crdt_channel_reset(s, p);
		stream_crdt_pump(s, p, now, false);
		return;
	}
	if (p->win == NULL)
		return;
	cum = MESH_MIN(a.seq, p->next_seq - 1);
	for (uint64_t q = p->una; q <= cum; q++) {
		struct batch *b = &p->win[q % STREAM_WIN_MAX];

		if (b->body != NULL && b->seq == q) {
			rtt_sample(p, b, now);
			nv = release(s, b, nv);
		}
	}
	for (uint32_t i = 0; i < 64 && a.sack != 0; i++) {
		uint64_t q = a.seq + 1 + i; /* the bitmap is relative to the peer's cumulative */
		struct batch *b;

		if (!((a.sack >> i) & 1) || q < p->una || q >= p->next_seq)
			continue;
		b = &p->win[q % STREAM_WIN_MAX];
		if (b->body != NULL && b->seq == q) {
			rtt_sample(p, b, now);
			nv = release(s, b, nv);
		}
	}
	while (p->una < p->next_seq && p->win[p->una % STREAM_WIN_MAX].body == NULL)
		p->una++;
	for (uint32_t i = 0; i < a.n_nacks; i++) {
		uint64_t q = a.nacks[i];
		struct batch *b;

		if (q < p->una || q >= p->next_seq)
			continue;
		b = &p->win[q % STREAM_WIN_MAX];
		CTR(s, rx_ack_nacked);
		p->st_nacks++;
		if (b->body != NULL && b->seq == q &&
		    now - b->last_tx_ns >= rto_base(s, p) / 2) {
			CTR(s, tx_crdt_fast_retransmits);
			p->st_retransmits++;
			send_batch(s, p, b, now);
		}
	}
	if (nv > 0 && s->env->crdt_acked != NULL)
		s->env->crdt_acked(s->ctx, p->id, s->versions, nv);
	stream_crdt_pump(s, p, now, false);
}

void
stream_crdt_timers(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	if (p->member_idx >= 0 && now - p->last_tx_ns >= s->cfg.heartbeat_ns) {
		struct mesh_wire_heartbeat hb = { .epoch = p->tx_epoch, .next_seq = p->next_seq,
						  .sent_ns = now };
		int n = mesh_wire_heartbeat_encode(s->scratch, sizeof(s->scratch), &hb);

		if (n > 0 && stream_emit(s, p, MESH_WIRE_KIND_HEARTBEAT, s->scratch, (size_t)n,
					 now) == 0)
			CTR(s, tx_heartbeats);
	}
	/* a gap the sender never fills (it retransmits only from its window): ask for a new
	 * epoch once it outlived every retransmission backoff */
	if (p->rx_epoch != 0 && p->rx_highest > p->rx_cum &&
	    now - p->rx_cum_ns > 2 * s->cfg.rto_max_ns + s->cfg.rto_initial_ns) {
		CTR(s, rx_crdt_state_lost);
		p->rx_reset = true;
		p->rx_cum_ns = now;
		p->ack_pending = true;
		stream_mark_dirty(s, p);
	}
	if (!p->up || p->win == NULL)
		return;
	for (uint64_t q = p->una; q < p->next_seq; q++) {
		struct batch *b = &p->win[q % STREAM_WIN_MAX];

		if (b->body != NULL && now >= b->next_tx_ns) {
			CTR(s, tx_crdt_retransmits);
			p->st_retransmits++;
			send_batch(s, p, b, now);
		}
	}
}

void
stream_crdt_channel_reset(struct mesh_stream *s, struct stream_peer *p)
{
	uint32_t n = 0, k = 0, requeued = 0;
	struct sop **q;

	if (p->win != NULL)
		for (uint64_t x = p->una; x < p->next_seq; x++) {
			const struct batch *b = &p->win[x % STREAM_WIN_MAX];

			n += b->n_ops + (b->big != NULL);
		}
	n += p->cur_big != NULL;
	if (n > 0) {
		uint32_t cap = n + p->q_len + 64;

		q = malloc(cap * sizeof(*q));
		if (q == NULL)
			return; /* keep the old epoch; retransmission continues */
		for (uint64_t x = p->una; p->win != NULL && x < p->next_seq; x++) {
			struct batch *b = &p->win[x % STREAM_WIN_MAX];

			if (b->body == NULL)
				continue;
			if (b->big != NULL) {
				struct bigop *g = b->big;

				if (!g->requeued && g->n_acked < g->n_frags) {
					q[k++] = g->o;
					g->o->refs++;
					g->requeued = true;
					requeued++;
				}
				bigop_put(g);
			} else {
				for (uint32_t i = 0; i < b->n_ops; i++)
					q[k++] = b->ops[i]; /* references move to the queue */
				requeued += b->n_ops;
			}
			free(b->ops);
			free(b->body);
			memset(b, 0, sizeof(*b));
		}
		if (p->cur_big != NULL) {
			struct bigop *g = p->cur_big;

			if (!g->requeued) {
				q[k++] = g->o;
				g->o->refs++;
				g->requeued = true;
				requeued++;
			}
			bigop_put(g);
			p->cur_big = NULL;
		}
		for (uint32_t i = 0; i < p->q_len; i++)
			q[k++] = q_at(p, i);
		free(p->q);
		p->q = q;
		p->q_cap = cap;
		p->q_head = 0;
		p->q_len = k;
		CTR_ADD(s, tx_crdt_requeued, requeued);
	}
	p->tx_epoch = stream_epoch_next(s, p->id);
	p->next_seq = 1;
	p->una = 1;
	if (p->q_len > 0)
		stream_mark_dirty(s, p);
}

void
stream_crdt_peer_release(struct mesh_stream *s, struct stream_peer *p)
{
	(void)s;
	if (p->win != NULL) {
		for (uint32_t i = 0; i < STREAM_WIN_MAX; i++) {
			struct batch *b = &p->win[i];

			if (b->body != NULL && b->big != NULL)
				bigop_put(b->big);
			for (uint32_t k = 0; b->body != NULL && k < b->n_ops; k++)
				sop_put(b->ops[k]);
			free(b->ops);
			free(b->body);
		}
		free(p->win);
		p->win = NULL;
	}
	if (p->cur_big != NULL) {
		bigop_put(p->cur_big);
		p->cur_big = NULL;
	}
	for (uint32_t i = 0; i < p->q_len; i++)
		sop_put(q_at(p, i));
	free(p->q);
	p->q = NULL;
	p->q_len = p->q_cap = p->q_head = 0;
	rxbig_clear(p);
}
