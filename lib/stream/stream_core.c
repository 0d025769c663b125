/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream layer core: configuration, the peer table (open addressing by node id) and the
 * member list used for dissemination, per-peer output frames, record dispatch and the
 * timer entry points. Each peer accumulates records in one open frame payload that
 * leaves through env->send() when the next record would not fit, or on flush (sender
 * idle). Reliable CRDT channels live in stream_chan.c, stream values in stream_value.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream_internal.h"

const char *const mesh_stream_counter_names[MESH_STREAM_CTR_MAX] = {
	MESH_STREAM_COUNTERS(MESH_STREAM_CTR_NAME)
};
const char *const mesh_stream_counter_descs[MESH_STREAM_CTR_MAX] = {
	MESH_STREAM_COUNTERS(MESH_COUNTER_DESC)
};

void
mesh_stream_config_default(struct mesh_stream_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_payload = MESH_WIRE_DEFAULT_MAX_FRAME - MESH_WIRE_HDR_LEN - MESH_WIRE_TAG_LEN;
	c->window = 32;
	c->max_pending_ops = 65536;
	c->max_op_bytes = 1u << 20;
	c->rto_initial_ns = 200 * MESH_NS_PER_MS;
	c->rto_max_ns = 5 * MESH_NS_PER_SEC;
	c->heartbeat_ns = MESH_NS_PER_SEC;
	c->idle_timeout_ns = 60 * MESH_NS_PER_SEC;
	c->direct_max = 32;
	c->fanout = 3;
	c->seen_slots = 16384;
	c->max_assemblies = 20;
	c->max_assembly_bytes = 512ULL << 20;
	c->max_assemblies_per_peer = 4;
	c->max_assembly_bytes_per_peer = 128ULL << 20;
	c->assembly_timeout_ns = 30 * MESH_NS_PER_SEC;
	c->max_total_chunks = 65536;
	c->nack_delay_ns = 20 * MESH_NS_PER_MS;
	c->nack_interval_ns = 100 * MESH_NS_PER_MS;
	c->nack_repair_max = 64;
	c->repair_cache_bytes = 64ULL << 20;
	c->repair_ttl_ns = 30 * MESH_NS_PER_SEC;
	c->max_parked_bytes = 4ULL << 20;
	c->chunk_rate = 200000;
	c->chunk_burst = 256;
	c->repair_rate = 10000;
	c->repair_burst = 64;
	c->max_peers = 4096;
}

uint64_t
mesh_stream_backoff_ns(uint64_t initial_ns, uint64_t max_ns, uint32_t attempt)
{
	uint64_t d = initial_ns;

	/* attempt 1 (the original transmission) waits exactly initial_ns */
	for (uint32_t i = 1; i < attempt && d < max_ns; i++)
		d = d > max_ns / 2 ? max_ns : d * 2;
	return d < max_ns ? d : max_ns;
}

struct mesh_stream *
mesh_stream_new(const struct mesh_stream_config *cfg, const struct mesh_stream_env_ops *env,
		void *ctx)
{
	struct mesh_stream *s;

	if (cfg == NULL || env == NULL || env->send == NULL || env->crdt_apply == NULL ||
	    env->stream_deliver == NULL || cfg->self_id == 0 || cfg->window == 0 ||
	    cfg->window > STREAM_WIN_MAX || cfg->max_payload < 256 ||
	    cfg->max_payload > MESH_WIRE_REC_MAX_BODY || cfg->seen_slots == 0 ||
	    (cfg->seen_slots & (cfg->seen_slots - 1)) != 0 || cfg->rto_initial_ns == 0 ||
	    (env->digest_build == NULL) != (env->digest_recv == NULL) || cfg->chunk_burst == 0 ||
	    cfg->chunk_rate == 0 || cfg->repair_burst == 0 || cfg->repair_rate == 0 ||
	    cfg->nack_repair_max == 0 || cfg->nack_repair_max > STREAM_NACK_MAX ||
	    cfg->max_peers == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	if (s->cfg.fanout == 0)
		s->cfg.fanout = 1;
	s->env = env;
	s->ctx = ctx;
	mesh_rng_seed(&s->rng, mesh_hash64_seed(&cfg->self_id, sizeof(cfg->self_id), cfg->seed));
	s->rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(MESH_NS_PER_SEC, 10);
	s->tab_cap = 64;
	s->tab = calloc(s->tab_cap, sizeof(*s->tab));
	s->reasm = mesh_stream_reasm_new(cfg->max_assemblies, cfg->max_assembly_bytes,
					 cfg->max_total_chunks);
	if (s->reasm != NULL)
		mesh_stream_reasm_peer_limits(s->reasm, cfg->max_assemblies_per_peer,
					      cfg->max_assembly_bytes_per_peer);
	s->max_batch_ops = (uint32_t)(cfg->max_payload / 2 + 1);
	s->apply_ops = calloc(s->max_batch_ops, sizeof(*s->apply_ops));
	s->wops = calloc(s->max_batch_ops, sizeof(*s->wops));
	s->ents = calloc(s->max_batch_ops, sizeof(*s->ents));
	s->fresh = calloc(s->max_batch_ops, sizeof(*s->fresh));
	s->versions = calloc(STREAM_WIN_MAX * (cfg->max_payload / 2 + 1), sizeof(uint64_t));
	if (s->tab == NULL || s->reasm == NULL || s->apply_ops == NULL ||
	    s->versions == NULL || s->wops == NULL || s->fresh == NULL || s->ents == NULL) {
		mesh_stream_delete(s);
		errno = ENOMEM;
		return NULL;
	}
	s->next_generation = 1;
	mesh_arena_create(&s->arena, s->arena_mem, sizeof(s->arena_mem));
	return s;
}

static void
peer_free(struct mesh_stream *s, struct stream_peer *p)
{
	stream_crdt_peer_release(s, p);
	stream_value_peer_release(p);
	free(p->out);
	free(p);
}

void
mesh_stream_delete(struct mesh_stream *s)
{
	if (s == NULL)
		return;
	if (s->tab != NULL)
		for (uint32_t i = 0; i < s->tab_cap; i++)
			if (s->tab[i] != NULL)
				peer_free(s, s->tab[i]);
	free(s->tab);
	free(s->members);
	free(s->dirty);
	free(s->seen);
	stream_value_fini(s);
	mesh_stream_reasm_delete(s->reasm);
	free(s->apply_ops);
	free(s->wops);
	free(s->ents);
	free(s->fresh);
	free(s->versions);
	free(s);
}

const uint64_t *
mesh_stream_counters(const struct mesh_stream *s)
{
	return s->ctr;
}

/* ---------------------------------------------------------------- peer table */

static inline uint32_t
slot_of(uint64_t id, uint32_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)id & (cap - 1);
}

struct stream_peer *
stream_peer_find(const struct mesh_stream *s, uint64_t id)
{
	for (uint32_t i = slot_of(id, s->tab_cap);; i = (i + 1) & (s->tab_cap - 1)) {
		if (s->tab[i] == NULL)
			return NULL;
		if (s->tab[i]->id == id)
			return s->tab[i];
	}
}

static void
tab_insert(struct stream_peer **tab, uint32_t cap, struct stream_peer *p)
{
	uint32_t i = slot_of(p->id, cap);

	while (tab[i] != NULL)
		i = (i + 1) & (cap - 1);
	tab[i] = p;
}

static int
tab_grow(struct mesh_stream *s)
{
	uint32_t cap = s->tab_cap * 2;
	struct stream_peer **t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->tab_cap; i++)
		if (s->tab[i] != NULL)
			tab_insert(t, cap, s->tab[i]);
	free(s->tab);
	s->tab = t;
	s->tab_cap = cap;
	return 0;
}

static void
tab_remove(struct mesh_stream *s, uint64_t id)
{
	uint32_t mask = s->tab_cap - 1, i = slot_of(id, s->tab_cap), j;

	while (s->tab[i] != NULL && s->tab[i]->id != id)
		i = (i + 1) & mask;
	if (s->tab[i] == NULL)
		return;
	s->tab[i] = NULL;
	/* backward-shift deletion keeps probe chains intact */
	for (j = (i + 1) & mask; s->tab[j] != NULL; j = (j + 1) & mask) {
		uint32_t k = slot_of(s->tab[j]->id, s->tab_cap);

		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			s->tab[i] = s->tab[j];
			s->tab[j] = NULL;
			i = j;
		}
	}
	s->n_peers--;
}

/*
 * Per-sender state (channel, reassembly share, pacing buckets) exists only for members:
 * mesh_stream_peer_add() is the one caller, so a record from any other sender is dropped
 * before anything is allocated (mesh_stream_rx), and the table holds at most max_peers.
 */
static struct stream_peer *
peer_create(struct mesh_stream *s, uint64_t id, uint64_t now)
{
	struct stream_peer *p;

	if ((s->n_peers + 1) * 2 > s->tab_cap && tab_grow(s) != 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->id = id;
	p->member_idx = -1;
	p->up = true;
	p->last_rx_ns = now;
	p->last_tx_ns = now;
	p->tx_epoch = stream_epoch_next(s, id);
	p->next_seq = 1;
	p->una = 1;
	p->tokens = s->cfg.chunk_burst;
	p->tok_ns = now;
	p->rtokens = s->cfg.repair_burst;
	p->rtok_ns = now;
	p->seen_win_ns = now;
	tab_insert(s->tab, s->tab_cap, p);
	s->n_peers++;
	stream_deadline_touch(s);
	return p;
}

int
mesh_stream_peer_add(struct mesh_stream *s, uint64_t id, uint64_t now_ns)
{
	struct stream_peer *p;

	if (id == 0 || id == s->cfg.self_id)
		return -EINVAL;
	p = stream_peer_find(s, id);
	if (p != NULL && p->member_idx >= 0)
		return -EEXIST;
	if (p == NULL && s->n_peers >= s->cfg.max_peers) {
		CTR(s, peer_add_full);
		return -ENOSPC;
	}
	if (p == NULL)
		p = peer_create(s, id, now_ns);
	if (p == NULL)
		return -ENOMEM;
	if (s->n_members == s->members_cap) {
		uint32_t cap = s->members_cap ? s->members_cap * 2 : 16;
		struct stream_peer **m = realloc(s->members, cap * sizeof(*m));

		if (m == NULL)
			return -ENOMEM;
		s->members = m;
		s->members_cap = cap;
	}
	p->member_idx = (int32_t)s->n_members;
	s->members[s->n_members++] = p;
	stream_value_peer_added(s, p, now_ns);
	stream_deadline_touch(s);
	return 0;
}

int
mesh_stream_peer_remove(struct mesh_stream *s, uint64_t id)
{
	struct stream_peer *p = stream_peer_find(s, id);

	if (p == NULL || p->member_idx < 0)
		return -ENOENT;
	s->n_members--;
	if ((uint32_t)p->member_idx != s->n_members) {
		s->members[p->member_idx] = s->members[s->n_members];
		s->members[p->member_idx]->member_idx = p->member_idx;
	}
	if (p->dirty)
		for (uint32_t i = 0; i < s->n_dirty; i++)
			if (s->dirty[i] == p) {
				s->dirty[i] = s->dirty[--s->n_dirty];
				break;
			}
	tab_remove(s, id);
	peer_free(s, p);
	stream_deadline_touch(s);
	return 0;
}

uint32_t
mesh_stream_peer_count(const struct mesh_stream *s)
{
	return s->n_members;
}

int
mesh_stream_peer_up(const struct mesh_stream *s, uint64_t id)
{
	const struct stream_peer *p = stream_peer_find(s, id);

	return p == NULL ? -ENOENT : p->up ? 1 : 0;
}

int64_t
mesh_stream_peer_room(const struct mesh_stream *s, uint64_t id)
{
	const struct stream_peer *p = stream_peer_find(s, id);

	if (p == NULL)
		return -ENOENT;
	return p->q_len >= s->cfg.max_pending_ops ? 0 : s->cfg.max_pending_ops - p->q_len;
}

int64_t
mesh_stream_peer_backlog(const struct mesh_stream *s, uint64_t id)
{
	const struct stream_peer *p = stream_peer_find(s, id);
	int64_t n;

	if (p == NULL)
		return -ENOENT;
	n = p->q_len + (p->cur_big != NULL);
	if (p->win != NULL)
		for (uint64_t q = p->una; q < p->next_seq; q++) {
			const struct batch *b = &p->win[q % STREAM_WIN_MAX];

			/* a large op counts once, on its last fragment */
			n += b->n_ops +
			     (b->big != NULL && b->frag_index == b->big->n_frags - 1);
		}
	return n;
}

int
mesh_stream_peer_stats(const struct mesh_stream *s, uint64_t id,
		       struct mesh_stream_peer_stats *out)
{
	const struct stream_peer *p = stream_peer_find(s, id);
	int64_t backlog = mesh_stream_peer_backlog(s, id);

	if (p == NULL || backlog < 0)
		return -ENOENT;
	out->up = p->up;
	out->backlog = (uint64_t)backlog;
	out->srtt_ns = p->srtt_ns;
	out->retransmits = p->st_retransmits;
	out->acks = p->st_acks;
	out->nacks = p->st_nacks;
	out->drops = p->st_drops;
	out->last_rx_ns = p->last_rx_ns;
	out->refused = p->st_refused;
	memcpy(out->refused_reason, p->refused_reason, sizeof(out->refused_reason));
	return 0;
}

/* ---------------------------------------------------------------- dissemination helpers */

bool
stream_relay_mode(const struct mesh_stream *s)
{
	return s->n_members + 1 > s->cfg.direct_max;
}

uint32_t
stream_pick_targets(struct mesh_stream *s, uint64_t ex1, uint64_t ex2, struct stream_peer **out,
		    uint32_t k)
{
	uint32_t n = 0;

	for (uint32_t tries = 0; n < k && tries < 8 * k + 16; tries++) {
		struct stream_peer *p = s->members[mesh_rng_below(&s->rng, s->n_members)];
		bool dup = p->id == ex1 || p->id == ex2 || !p->up;

		for (uint32_t i = 0; i < n && !dup; i++)
			dup = out[i] == p;
		if (!dup)
			out[n++] = p;
	}
	return n;
}

/*
 * Stream value dedup: seen_slots entries in buckets of STREAM_SEEN_WAYS, bucket by the
 * hash's high bits. A new entry takes an empty slot or the oldest one; in relay mode only
 * when that one is older than STREAM_SEEN_LIVE_NS: two live values never evict each other,
 * so a value cannot look new again while its relays still circulate (a direct-mapped
 * table did that: two values in one slot were relayed back and forth forever).
 */
static struct seen_slot *
seen_bucket(const struct mesh_stream *s, uint64_t h)
{
	uint32_t buckets = MESH_MAX(s->cfg.seen_slots / STREAM_SEEN_WAYS, 1u);

	return &s->seen[((uint32_t)(h >> 32) & (buckets - 1)) * STREAM_SEEN_WAYS];
}

bool
stream_seen_test(const struct mesh_stream *s, uint64_t h)
{
	const struct seen_slot *b;

	if (s->seen == NULL)
		return false;
	h |= 1; /* 0 marks an empty slot */
	b = seen_bucket(s, h);
	for (uint32_t i = 0; i < STREAM_SEEN_WAYS; i++)
		if (b[i].h == h)
			return true;
	return false;
}

int
stream_seen_add(struct mesh_stream *s, uint64_t h, uint64_t now, bool evict_live)
{
	struct seen_slot *b, *old;

	if (s->seen == NULL) {
		s->seen = calloc(MESH_MAX(s->cfg.seen_slots, STREAM_SEEN_WAYS), sizeof(*s->seen));
		if (s->seen == NULL)
			return -ENOMEM;
	}
	if (stream_seen_test(s, h))
		return -EEXIST;
	h |= 1;
	b = seen_bucket(s, h);
	old = &b[0];
	for (uint32_t i = 0; i < STREAM_SEEN_WAYS && old->h != 0; i++)
		if (b[i].h == 0 || b[i].at < old->at)
			old = &b[i];
	if (old->h != 0 && now - old->at < STREAM_SEEN_LIVE_NS && !evict_live)
		return -ENOSPC;
	*old = (struct seen_slot){ h, now };
	return 0;
}

void
stream_log_bad(struct mesh_stream *s, uint64_t from, const char *what, uint64_t now)
{
	if (mesh_ratelimit_allow(&s->rl, now))
		mesh_log(MESH_LOG_WARNING, STREAM_LOG, "drop malformed %s from %016llx", what,
			 (unsigned long long)from);
}

/* ---------------------------------------------------------------- output frames */

/*
 * Flush visits only peers with something to do (flush runs once per poll iteration, so it
 * must not scan the whole table). The list grows like the peer table; entries leave it
 * in flush once the peer has no queued ops or paced fragments left.
 */
void
stream_mark_dirty(struct mesh_stream *s, struct stream_peer *p)
{
	if (p->dirty)
		return;
	if (s->n_dirty == s->dirty_cap) {
		uint32_t cap = s->dirty_cap ? s->dirty_cap * 2 : 64;
		struct stream_peer **d = realloc(s->dirty, cap * sizeof(*d));

		if (d == NULL)
			return; /* tick still visits every peer */
		s->dirty = d;
		s->dirty_cap = cap;
	}
	p->dirty = true;
	s->dirty[s->n_dirty++] = p;
}

void
stream_frame_flush(struct mesh_stream *s, struct stream_peer *p)
{
	if (p->out == NULL || p->w.len == 0)
		return;
	s->env->send(s->ctx, p->id, p->out, p->w.len);
	CTR(s, tx_payloads);
	CTR_ADD(s, tx_payload_bytes, p->w.len);
	mesh_wire_msgw_init(&p->w, p->out, s->cfg.max_payload);
}

int
stream_emit(struct mesh_stream *s, struct stream_peer *p, uint8_t kind, const uint8_t *body,
	    size_t len, uint64_t now)
{
	if (len + MESH_WIRE_REC_HDR_LEN > s->cfg.max_payload)
		return -EMSGSIZE;
	if (p->out == NULL) {
		p->out = malloc(s->cfg.max_payload);
		if (p->out == NULL)
			return -ENOMEM;
		mesh_wire_msgw_init(&p->w, p->out, s->cfg.max_payload);
	}
	if (mesh_wire_msgw_add(&p->w, kind, body, len) != 0) {
		stream_frame_flush(s, p);
		if (mesh_wire_msgw_add(&p->w, kind, body, len) != 0)
			return -EMSGSIZE;
	}
	p->last_tx_ns = now;
	stream_mark_dirty(s, p);
	return 0;
}

/* ---------------------------------------------------------------- receive */

static void
heard_from(struct mesh_stream *s, struct stream_peer *p, uint64_t now)
{
	p->last_rx_ns = now;
	if (!p->up) {
		p->up = true;
		CTR(s, channel_up);
		stream_crdt_channel_reset(s, p);
		if (s->env->peer_state != NULL)
			s->env->peer_state(s->ctx, p->id, true);
	}
}

void
mesh_stream_rx(struct mesh_stream *s, uint64_t from, uint8_t kind, const uint8_t *body,
	       size_t len, uint64_t now_ns)
{
	struct stream_peer *p;

	CTR(s, rx_records);
	if (kind == MESH_WIRE_KIND_SWIM || kind > MESH_WIRE_KIND_MAX_KNOWN) {
		if (kind > MESH_WIRE_KIND_MAX_KNOWN)
			CTR(s, rx_unknown_kind);
		else
			CTR(s, rx_other_kind);
		if (s->env->other_rx != NULL)
			s->env->other_rx(s->ctx, from, kind, body, len);
		return;
	}
	p = stream_peer_find(s, from);
	if (p == NULL || p->member_idx < 0) {
		CTR(s, rx_drop_not_member); /* before any state is made for it */
		return;
	}
	stream_deadline_rx(s, p, kind, now_ns); /* a channel up, a receive gap */
	heard_from(s, p, now_ns);
	switch (kind) {
	case MESH_WIRE_KIND_CRDT_BATCH:
		stream_crdt_rx_batch(s, p, body, len, now_ns);
		break;
	case MESH_WIRE_KIND_STREAM_ACK:
		stream_crdt_rx_ack(s, p, body, len, now_ns);
		break;
	case MESH_WIRE_KIND_STREAM_BATCH:
		stream_value_rx_batch(s, p, body, len, now_ns);
		break;
	case MESH_WIRE_KIND_STREAM_NACK:
		stream_value_rx_nack(s, p, body, len, now_ns);
		break;
	case MESH_WIRE_KIND_HEARTBEAT: {
		struct mesh_wire_heartbeat hb;

		CTR(s, rx_heartbeats);
		mesh_arena_reset(&s->arena);
		if (mesh_wire_heartbeat_decode(body, len, &s->arena, &hb) != 0) {
			CTR(s, rx_drop_bad_msg);
			stream_log_bad(s, from, "heartbeat", now_ns);
			break;
		}
		stream_crdt_rx_heartbeat(s, p, &hb, now_ns);
		break;
	}
	case MESH_WIRE_KIND_DIGEST: {
		struct mesh_wire_digest d;

		CTR(s, rx_digests);
		if (s->env->digest_recv == NULL)
			break;
		mesh_arena_reset(&s->arena);
		if (mesh_wire_digest_decode(body, len, &s->arena, &d) != 0) {
			CTR(s, rx_drop_bad_msg);
			stream_log_bad(s, from, "digest", now_ns);
			break;
		}
		s->env->digest_recv(s->ctx, from, &d);
		break;
	}
	default: /* CRDT_ACK (per-key versions) is for the CRDT layer: hand it over */
		CTR(s, rx_other_kind);
		if (s->env->other_rx != NULL)
			s->env->other_rx(s->ctx, from, kind, body, len);
		break;
	}
}

void
mesh_stream_rx_payload(struct mesh_stream *s, uint64_t from, const uint8_t *payload, size_t len,
		       uint64_t now_ns)
{
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	uint8_t kind;
	int rc;

	mesh_wire_msgr_init(&r, payload, len);
	while ((rc = mesh_wire_msgr_next(&r, &kind, &body)) == 1)
		mesh_stream_rx(s, from, kind, body.p, body.len, now_ns);
	if (rc < 0) {
		CTR(s, rx_drop_bad_container);
		stream_log_bad(s, from, "container", now_ns);
	}
}

/* ---------------------------------------------------------------- driving */

static void
flush_peer(struct mesh_stream *s, struct stream_peer *p, uint64_t now_ns)
{
	if (p->up && (p->q_len > 0 || p->cur_big != NULL))
		stream_crdt_pump(s, p, now_ns, true);
	if (p->ack_pending)
		stream_crdt_emit_ack(s, p, now_ns);
	if (p->vq_head != NULL)
		stream_value_pace(s, p, now_ns);
	stream_frame_flush(s, p);
}

void
mesh_stream_flush(struct mesh_stream *s, uint64_t now_ns)
{
	uint32_t n = s->n_dirty;

	/* flushing can mark peers dirty again (emit): process the current list, then
	 * keep only peers that still have queued work */
	for (uint32_t i = 0; i < n && i < s->n_dirty; i++)
		flush_peer(s, s->dirty[i], now_ns);
	for (uint32_t i = 0; i < s->n_dirty;) {
		struct stream_peer *p = s->dirty[i];

		if (p->q_len > 0 || p->cur_big != NULL || p->vq_head != NULL || p->ack_pending ||
		    (p->out != NULL && p->w.len > 0)) {
			if (i >= n) /* marked during this flush: flush it now too */
				flush_peer(s, p, now_ns);
			if (p->q_len > 0 || p->cur_big != NULL || p->vq_head != NULL) {
				i++;
				continue;
			}
		}
		p->dirty = false;
		s->dirty[i] = s->dirty[--s->n_dirty];
	}
}

int
mesh_stream_digest_send(struct mesh_stream *s, uint64_t peer, bool reply, uint64_t now_ns)
{
	struct stream_peer *p = stream_peer_find(s, peer);
	int n;

	if (p == NULL)
		return -ENOENT;
	if (s->env->digest_build == NULL)
		return -ENOTSUP;
	n = s->env->digest_build(s->ctx, s->scratch, sizeof(s->scratch), reply);
	if (n < 0)
		return n;
	CTR(s, tx_digests);
	return stream_emit(s, p, MESH_WIRE_KIND_DIGEST, s->scratch, (size_t)n, now_ns);
}

void
mesh_stream_tick(struct mesh_stream *s, uint64_t now_ns)
{
	stream_deadline_touch(s);
	for (uint32_t i = 0; i < s->tab_cap; i++) {
		struct stream_peer *p = s->tab[i];

		if (p == NULL)
			continue;
		if (p->up && now_ns - p->last_rx_ns > s->cfg.idle_timeout_ns) {
			p->up = false;
			CTR(s, channel_down);
			if (s->env->peer_state != NULL)
				s->env->peer_state(s->ctx, p->id, false);
		}
		stream_crdt_timers(s, p, now_ns);
		if (!p->dirty && (p->q_len > 0 || p->cur_big != NULL || p->vq_head != NULL ||
				  p->ack_pending ||
				  (p->out != NULL && p->w.len > 0)))
			stream_mark_dirty(s, p); /* a mark lost to ENOMEM earlier */
	}
	stream_value_timers(s, now_ns);
	if (s->cfg.digest_interval_ns != 0 && s->env->digest_build != NULL &&
	    now_ns >= s->next_digest_ns && s->n_members > 0) {
		struct stream_peer *t;

		s->next_digest_ns = now_ns + s->cfg.digest_interval_ns;
		if (stream_pick_targets(s, 0, 0, &t, 1) == 1)
			mesh_stream_digest_send(s, t->id, false, now_ns);
	}
	mesh_stream_flush(s, now_ns);
}
