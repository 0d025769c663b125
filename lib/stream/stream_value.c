/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream values: at-most-once, chunked, repaired by nacks.
 *
 * A value gets a fresh generation and is cut into fragments that each fill one frame
 * (mesh_stream_chunk_size); every fragment travels as a one-entry StreamBatch record.
 * One copy of the value (struct vbuf) is shared by every peer's send queue and the
 * repair cache. Fragments leave through a per-peer token bucket (chunk_rate frames/s,
 * chunk_burst at once) so a multi-megabyte value does not overrun a NIC TX ring or the
 * receiver's replay window; single-fragment values skip the queue when it is empty.
 * Values are never retransmitted whole. A chunked value is kept in a bounded repair
 * cache (bytes and TTL) so the receiver can ask for missing fragments: its reassembly
 * (stream_reasm.c) reports assemblies that went quiet with gaps, and a StreamNack lists
 * the missing indices; the sender resends just those, at most nack_repair_max per nack and
 * as the peer's repair bucket allows (repair_rate, repair_burst): the rest is counted and
 * left to the next nack, so a forged nack costs one bounded burst. A targeted value for a
 * peer not known yet is parked (bounded, oldest dropped first) and leaves when the peer is
 * added (upstream lost those). Above direct_max, values go to `fanout` members and are relayed
 * once by each receiver: only values it remembered as new in the seen table (keyed by
 * origin, key, generation), which then never evicts an entry younger than
 * STREAM_SEEN_LIVE_NS; a value that finds no free slot is dropped (counted), and so is a
 * value past its sender's share of the table (seen_slots / members per
 * STREAM_SEEN_LIVE_NS), so one member cannot fill the table with live entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream_internal.h"

size_t
mesh_stream_chunk_size(size_t max_payload, size_t key_len)
{
	/* record header 3, entry tag + length 4, key tag + length <= 4, generation 11,
	 * index 6, total 6, data tag + length 4, origin 9 */
	size_t overhead = 3 + 4 + 4 + key_len + 11 + 6 + 6 + 4 + 9;

	return max_payload > overhead ? max_payload - overhead : 0;
}

uint32_t
mesh_stream_chunk_count(size_t len, size_t chunk)
{
	size_t n;

	if (len == 0)
		return 1;
	if (chunk == 0)
		return UINT32_MAX;
	n = len / chunk + (len % chunk != 0);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static uint64_t
value_hash(uint64_t origin, const uint8_t *key, size_t key_len, uint64_t gen)
{
	return mesh_hash64_seed(key, key_len, origin * 0x9e3779b97f4a7c15ULL ^ gen);
}

static struct vbuf *
vbuf_new(uint64_t origin, uint64_t gen, const uint8_t *key, size_t key_len,
	 const uint8_t *value, size_t len, size_t max_payload)
{
	struct vbuf *v = malloc(sizeof(*v) + key_len + len + 1);

	if (v == NULL)
		return NULL;
	v->refs = 1;
	v->origin = origin;
	v->origin_ns = 0;
	v->generation = gen;
	v->key = v->data;
	v->value = v->data + key_len;
	memcpy(v->key, key, key_len);
	if (len > 0)
		memcpy(v->value, value, len);
	v->key_len = key_len;
	v->len = len;
	v->chunk = mesh_stream_chunk_size(max_payload, key_len);
	v->total = mesh_stream_chunk_count(len, v->chunk);
	return v;
}

static void
vbuf_put(struct vbuf *v)
{
	if (--v->refs == 0)
		free(v);
}

static void
send_chunk(struct mesh_stream *s, struct stream_peer *p, const struct vbuf *v, uint32_t idx,
	   uint64_t now)
{
	struct mesh_wire_stream_entry e = {
		.key = { v->key, v->key_len },
		.generation = v->generation,
		.chunk_index = idx,
		.total_chunks = v->total,
		.origin = v->origin == s->cfg.self_id ? 0 : v->origin,
		.origin_ns = v->origin_ns,
	};
	size_t off = (size_t)idx * v->chunk, n = 0;

	e.data.p = v->value + off;
	e.data.len = off < v->len ? MESH_MIN(v->chunk, v->len - off) : 0;
	if (mesh_wire_stream_batch_put(s->scratch, sizeof(s->scratch), &n, &e) == 0 &&
	    stream_emit(s, p, MESH_WIRE_KIND_STREAM_BATCH, s->scratch, n, now) == 0)
		CTR(s, tx_stream_chunks);
}

/* Send what the token bucket allows of @p's queued fragments. */
void
stream_value_pace(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	uint64_t add = (now - p->tok_ns) * s->cfg.chunk_rate / MESH_NS_PER_SEC;

	if (add > 0) {
		p->tokens = (uint32_t)MESH_MIN((uint64_t)p->tokens + add, s->cfg.chunk_burst);
		p->tok_ns = now;
	}
	while (p->vq_head != NULL && p->tokens > 0) {
		struct vjob *j = p->vq_head;

		send_chunk(s, p, j->v, j->next_idx++, now);
		p->tokens--;
		if (j->next_idx == j->v->total) {
			p->vq_head = j->next;
			if (p->vq_head == NULL)
				p->vq_tail = NULL;
			vbuf_put(j->v);
			free(j);
		}
	}
}

static void
send_value(struct mesh_stream *s, struct stream_peer *p, struct vbuf *v, uint64_t now)
{
	struct vjob *j;

	if (v->total == 1 && p->vq_head == NULL) {
		send_chunk(s, p, v, 0, now); /* small values are not paced */
		return;
	}
	j = malloc(sizeof(*j));
	if (j == NULL)
		return;
	j->next = NULL;
	j->v = v;
	j->next_idx = 0;
	v->refs++;
	if (p->vq_tail != NULL)
		p->vq_tail->next = j;
	else
		p->vq_head = j;
	p->vq_tail = j;
	stream_mark_dirty(s, p);
	stream_value_pace(s, p, now);
}

void
stream_value_peer_release(struct stream_peer *p)
{
	while (p->vq_head != NULL) {
		struct vjob *j = p->vq_head;

		p->vq_head = j->next;
		vbuf_put(j->v);
		free(j);
	}
	p->vq_tail = NULL;
}

static void
repair_add(struct mesh_stream *s, struct vbuf *v, uint64_t now)
{
	if (v->total <= 1 || v->len > s->cfg.repair_cache_bytes)
		return;
	while (s->n_repair > 0 && s->repair_bytes + v->len > s->cfg.repair_cache_bytes) {
		s->repair_bytes -= s->repair[0].v->len;
		vbuf_put(s->repair[0].v);
		memmove(&s->repair[0], &s->repair[1], --s->n_repair * sizeof(s->repair[0]));
		CTR(s, repair_cache_evict);
	}
	if (s->n_repair == s->repair_cap) {
		uint32_t cap = s->repair_cap ? s->repair_cap * 2 : 16;
		struct rvalue *a = realloc(s->repair, cap * sizeof(*a));

		if (a == NULL)
			return;
		s->repair = a;
		s->repair_cap = cap;
	}
	v->refs++;
	s->repair[s->n_repair].v = v;
	s->repair[s->n_repair].expires_ns = now + s->cfg.repair_ttl_ns;
	s->repair_bytes += v->len;
	s->n_repair++;
}

static void
disseminate_value(struct mesh_stream *s, uint64_t ex, struct vbuf *v, uint64_t now)
{
	struct stream_peer *t[64];
	uint32_t n;

	if (!stream_relay_mode(s)) {
		for (uint32_t i = 0; i < s->n_members; i++)
			if (s->members[i]->id != ex && s->members[i]->id != v->origin)
				send_value(s, s->members[i], v, now);
		return;
	}
	n = stream_pick_targets(s, ex, v->origin, t, MESH_MIN(s->cfg.fanout, 64u));
	for (uint32_t i = 0; i < n; i++)
		send_value(s, t[i], v, now);
}

static void
park(struct mesh_stream *s, uint64_t target, const uint8_t *key, size_t key_len, uint64_t gen,
     const uint8_t *value, size_t len, uint64_t origin_ns)
{
	struct parked *pk;

	if (len + key_len > s->cfg.max_parked_bytes) {
		CTR(s, tx_stream_drop_parked);
		return;
	}
	while (s->n_parked > 0 && s->parked_bytes + len + key_len > s->cfg.max_parked_bytes) {
		s->parked_bytes -= s->parked[0].len + s->parked[0].key_len;
		free(s->parked[0].key);
		free(s->parked[0].value);
		memmove(&s->parked[0], &s->parked[1], --s->n_parked * sizeof(s->parked[0]));
		CTR(s, tx_stream_drop_parked);
	}
	if (s->n_parked == s->parked_cap) {
		uint32_t cap = s->parked_cap ? s->parked_cap * 2 : 16;
		struct parked *a = realloc(s->parked, cap * sizeof(*a));

		if (a == NULL)
			return;
		s->parked = a;
		s->parked_cap = cap;
	}
	pk = &s->parked[s->n_parked];
	pk->key = malloc(key_len + 1);
	pk->value = malloc(len + 1);
	if (pk->key == NULL || pk->value == NULL) {
		free(pk->key);
		free(pk->value);
		return;
	}
	memcpy(pk->key, key, key_len);
	memcpy(pk->value, value, len);
	pk->key_len = key_len;
	pk->len = len;
	pk->target = target;
	pk->origin = s->cfg.self_id;
	pk->generation = gen;
	pk->origin_ns = origin_ns;
	s->parked_bytes += len + key_len;
	s->n_parked++;
	CTR(s, tx_stream_parked);
}

int
mesh_stream_value_send(struct mesh_stream *s, uint64_t target, const void *key, size_t key_len,
		       const void *value, size_t len, uint64_t now_ns)
{
	return mesh_stream_value_send_origin(s, target, key, key_len, value, len, now_ns, 0);
}

int
mesh_stream_value_send_origin(struct mesh_stream *s, uint64_t target, const void *key,
			      size_t key_len, const void *value, size_t len, uint64_t now_ns,
			      uint64_t origin_ns)
{
	size_t chunk = mesh_stream_chunk_size(s->cfg.max_payload, key_len);
	uint32_t total = mesh_stream_chunk_count(len, chunk);
	struct vbuf *v;
	uint64_t gen;
	struct stream_peer *p = NULL;

	if (target == s->cfg.self_id)
		return -EINVAL;
	if (chunk < 64 || key_len > 255 || memchr(key, 0, key_len) != NULL) {
		CTR(s, tx_stream_too_big);
		return -EMSGSIZE;
	}
	if (total > s->cfg.max_total_chunks) {
		CTR(s, tx_stream_too_big);
		return -E2BIG;
	}
	gen = s->next_generation++;
	CTR(s, tx_stream_values);
	(void)stream_seen_add(s, value_hash(s->cfg.self_id, key, key_len, gen), now_ns,
			      !stream_relay_mode(s)); /* relay mode: deliver drops our own */
	if (target != 0) {
		p = stream_peer_find(s, target);
		if (p == NULL || p->member_idx < 0) {
			park(s, target, key, key_len, gen, value, len, origin_ns);
			return 0;
		}
	}
	v = vbuf_new(s->cfg.self_id, gen, key, key_len, value, len, s->cfg.max_payload);
	if (v == NULL)
		return -ENOMEM;
	v->origin_ns = origin_ns;
	if (p != NULL)
		send_value(s, p, v, now_ns);
	else
		disseminate_value(s, 0, v, now_ns);
	repair_add(s, v, now_ns);
	vbuf_put(v);
	return 0;
}

void
stream_value_peer_added(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	for (uint32_t i = 0; i < s->n_parked;) {
		struct parked *pk = &s->parked[i];
		struct vbuf *v;

		if (pk->target != p->id) {
			i++;
			continue;
		}
		v = vbuf_new(pk->origin, pk->generation, pk->key, pk->key_len, pk->value, pk->len,
			     s->cfg.max_payload);
		if (v != NULL) {
			v->origin_ns = pk->origin_ns;
			send_value(s, p, v, now);
			repair_add(s, v, now);
			vbuf_put(v);
		}
		s->parked_bytes -= pk->len + pk->key_len;
		free(pk->key);
		free(pk->value);
		memmove(pk, pk + 1, (--s->n_parked - i) * sizeof(*pk));
	}
}

/* ---------------------------------------------------------------- receive */

/*
 * Relay mode: live seen entries are never evicted, so each sender gets a share of the
 * table per STREAM_SEEN_LIVE_NS window (seen_slots / members, at least one bucket).
 */
static bool
seen_share_ok(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	uint32_t share = MESH_MAX(s->cfg.seen_slots / MESH_MAX(s->n_members, 1u),
				  STREAM_SEEN_WAYS);

	if (now - p->seen_win_ns >= STREAM_SEEN_LIVE_NS) {
		p->seen_win_ns = now;
		p->seen_win_n = 0;
	}
	return p->seen_win_n < share;
}

static void
deliver(struct mesh_stream *s, struct stream_peer *p, uint64_t origin, uint64_t gen,
	const uint8_t *key, size_t key_len, const uint8_t *value, size_t len, uint64_t origin_ns,
	uint64_t now)
{
	uint64_t h = value_hash(origin, key, key_len, gen);
	int seen;

	/* empty fields decode as NULL slices; callers get valid pointers */
	if (key == NULL)
		key = (const uint8_t *)"";
	if (value == NULL)
		value = (const uint8_t *)"";
	if (origin == s->cfg.self_id || stream_seen_test(s, h))
		seen = -EEXIST;
	else if (stream_relay_mode(s) && !seen_share_ok(s, p, now))
		seen = -EDQUOT;
	else
		seen = stream_seen_add(s, h, now, !stream_relay_mode(s));
	if (seen == 0 && stream_relay_mode(s))
		p->seen_win_n++;
	if (seen == -EEXIST) {
		CTR(s, relay_dup_suppressed);
		return;
	}
	if (seen == -EDQUOT) {
		CTR(s, relay_drop_dedup_share);
		return;
	}
	if (seen != 0) {
		/* not remembered (relay mode): a copy relayed by another member would look new
		 * and be delivered and relayed again; at most once means drop it */
		CTR(s, relay_drop_dedup_full);
		return;
	}
	CTR(s, rx_stream_values);
	s->env->stream_deliver(s->ctx, p->id, origin, key, key_len, value, len, origin_ns);
	if (stream_relay_mode(s) && s->n_members > 1) {
		struct vbuf *v = vbuf_new(origin, gen, key, key_len, value, len,
					  s->cfg.max_payload);

		if (v == NULL)
			return;
		v->origin_ns = origin_ns;
		CTR(s, relay_stream_values);
		disseminate_value(s, p->id, v, now);
		repair_add(s, v, now);
		vbuf_put(v);
	}
}

static void
sync_reasm_counters(struct mesh_stream *s)
{
	struct mesh_stream_reasm_stats st;

	mesh_stream_reasm_stats(s->reasm, &st);
	s->ctr[MESH_STREAM_CTR_rx_assembly_evict_count] = st.evict_count;
	s->ctr[MESH_STREAM_CTR_rx_assembly_evict_bytes] = st.evict_bytes;
	s->ctr[MESH_STREAM_CTR_rx_assembly_gc] = st.gc;
	s->ctr[MESH_STREAM_CTR_rx_assembly_cancelled] = st.cancelled;
	s->ctr[MESH_STREAM_CTR_rx_chunk_gen_reset] = st.gen_reset;
	s->ctr[MESH_STREAM_CTR_reasm_evict_peer_slots] = st.evict_peer_count;
	s->ctr[MESH_STREAM_CTR_reasm_evict_peer_bytes] = st.evict_peer_bytes;
}

void
stream_value_rx_batch(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body, size_t len,
		      uint64_t now)
{
	uint32_t n;

	if (mesh_wire_stream_batch_read(body, len, s->ents, s->max_batch_ops, &n) != 0) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "stream batch", now);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mesh_wire_stream_entry *e = &s->ents[i];
		uint64_t origin = e->origin != 0 ? e->origin : p->id;
		uint8_t *v = NULL;
		size_t vlen = 0;

		CTR(s, rx_stream_chunks);
		if (e->total_chunks > 1 &&
		    stream_seen_test(s, value_hash(origin, e->key.p, e->key.len, e->generation))) {
			/* a late fragment of a value already delivered: do not reopen it */
			CTR(s, rx_chunk_dup);
			continue;
		}
		if (e->total_chunks == 1 && e->chunk_index == 0) {
			/* a whole value supersedes any partial one from this peer */
			mesh_stream_reasm_cancel(s->reasm, p->id, e->key.p, e->key.len);
			deliver(s, p, origin, e->generation, e->key.p, e->key.len, e->data.p,
				e->data.len, e->origin_ns, now);
			continue;
		}
		switch (mesh_stream_reasm_add(s->reasm, p->id, origin, e->key.p, e->key.len,
					      e->generation, e->chunk_index, e->total_chunks,
					      e->data.p, e->data.len, now, &v, &vlen)) {
		case MESH_STREAM_CHUNK_COMPLETE:
			deliver(s, p, origin, e->generation, e->key.p, e->key.len, v, vlen,
				e->origin_ns, now);
			free(v);
			break;
		case MESH_STREAM_CHUNK_DUP:
			CTR(s, rx_chunk_dup);
			break;
		case MESH_STREAM_CHUNK_OLD_GEN:
			CTR(s, rx_chunk_old_gen);
			break;
		case MESH_STREAM_CHUNK_BAD:
			CTR(s, rx_chunk_bad);
			stream_log_bad(s, p->id, "stream fragment", now);
			break;
		default:
			break;
		}
	}
	sync_reasm_counters(s);
}

/* Take one token of @p's repair bucket (repair_rate per second, repair_burst deep). */
static bool
repair_token(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	uint64_t dt = now - p->rtok_ns, add;

	if (dt >= MESH_NS_PER_SEC) { /* a second refills any bucket; no overflow below */
		p->rtokens = s->cfg.repair_burst;
		p->rtok_ns = now;
	} else if ((add = dt * s->cfg.repair_rate / MESH_NS_PER_SEC) > 0) {
		p->rtokens = (uint32_t)MESH_MIN((uint64_t)p->rtokens + add, s->cfg.repair_burst);
		p->rtok_ns += add * MESH_NS_PER_SEC / s->cfg.repair_rate; /* keep the fraction */
	}
	if (p->rtokens == 0)
		return false;
	p->rtokens--;
	return true;
}

void
stream_value_rx_nack(struct mesh_stream *s, struct stream_peer *p, const uint8_t *body, size_t len,
		     uint64_t now)
{
	struct mesh_wire_stream_nack nk;
	uint64_t origin;

	CTR(s, rx_chunk_nacks);
	mesh_arena_reset(&s->arena);
	if (mesh_wire_stream_nack_decode(body, len, &s->arena, &nk) != 0) {
		CTR(s, rx_drop_bad_msg);
		stream_log_bad(s, p->id, "stream nack", now);
		return;
	}
	origin = nk.origin != 0 ? nk.origin : s->cfg.self_id;
	for (uint32_t i = 0; i < s->n_repair; i++) {
		const struct vbuf *v = s->repair[i].v;
		uint32_t asked = 0;

		if (v->origin != origin || v->generation != nk.generation ||
		    v->key_len != nk.key.len || memcmp(v->key, nk.key.p, nk.key.len) != 0)
			continue;
		for (uint32_t k = 0; k < nk.n_missing; k++) {
			if (nk.missing[k] >= v->total)
				continue;
			if (asked++ >= s->cfg.nack_repair_max) {
				CTR(s, tx_chunk_repair_capped);
			} else if (!repair_token(s, p, now)) {
				CTR(s, tx_chunk_repair_paced); /* the receiver nacks it again */
			} else {
				send_chunk(s, p, v, nk.missing[k], now);
				CTR(s, tx_chunk_repairs);
			}
		}
		return;
	}
	CTR(s, rx_chunk_nack_unknown);
}

struct nack_ctx {
	struct mesh_stream *s;
	uint64_t now;
};

static void
nack_cb(void *arg, uint64_t peer, uint64_t origin, const uint8_t *key, size_t key_len,
	uint64_t gen, const uint32_t *missing, uint32_t n)
{
	struct nack_ctx *c = arg;
	struct mesh_stream *s = c->s;
	struct stream_peer *p = stream_peer_find(s, peer);
	struct mesh_wire_stream_nack nk = {
		.key = { key, key_len },
		.generation = gen,
		.origin = origin == peer ? 0 : origin,
		.n_missing = n,
		.missing = missing,
	};
	int len;

	if (p == NULL)
		return;
	len = mesh_wire_stream_nack_encode(s->scratch, sizeof(s->scratch), &nk);
	if (len > 0 &&
	    stream_emit(s, p, MESH_WIRE_KIND_STREAM_NACK, s->scratch, (size_t)len, c->now) == 0)
		CTR(s, tx_chunk_nacks);
}

void
stream_value_timers(struct mesh_stream *s, uint64_t now)
{
	struct nack_ctx c = { s, now };

	mesh_stream_reasm_gc(s->reasm, now, s->cfg.assembly_timeout_ns);
	mesh_stream_reasm_nacks(s->reasm, now, s->cfg.nack_delay_ns, s->cfg.nack_interval_ns,
				s->cfg.nack_repair_max, nack_cb, &c);
	sync_reasm_counters(s);
	while (s->n_repair > 0 && now >= s->repair[0].expires_ns) {
		s->repair_bytes -= s->repair[0].v->len;
		vbuf_put(s->repair[0].v);
		memmove(&s->repair[0], &s->repair[1], --s->n_repair * sizeof(s->repair[0]));
	}
}

void
stream_value_fini(struct mesh_stream *s)
{
	for (uint32_t i = 0; i < s->n_repair; i++)
		vbuf_put(s->repair[i].v);
	free(s->repair);
	for (uint32_t i = 0; i < s->n_parked; i++) {
		free(s->parked[i].key);
		free(s->parked[i].value);
	}
	free(s->parked);
}
