/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM + Lifeguard membership state machine (see mesh_swim.h and doc/swim.md).
 *
 * Data layout (chosen so that 10,000 instances x 10,000 members fit in a simulator):
 *   members[]  compact 56-byte records, self excluded; the array order *is* the probe
 *              order (shuffled at the end of every round, new members inserted at a random
 *              position of the rest of the round: randomized round-robin, SWIM §4.3);
 *   idx[]      open-addressing hash (name -> slot + 1), rebuilt on shuffle/removal;
 *   bcasts     pool of pending member broadcasts, one per member at most, kept in lists
 *              by transmit count so selection is least-sent first, newest first;
 *              a broadcast encodes the member's *current* state when it is sent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"
#include "swim_internal.h"

#define NAME_INLINE 16
#define MAX_CONFIRM 8
#define MAX_TX_BUCKETS 64
#define MAX_SEEDS 16
#define MAX_RELAYS 64
#define SUSP_RING 8
#define INC_JUMP_MAX 1024u         /* incarnation raise a third party may report at once */
#define MAX_MEMBERS_DEFAULT 16384u /* member table bound when cfg.max_members is 0 */
#define LEAVE_DIRECT_MAX 1024u /* members told of our leave directly (the rest by gossip) */
#define NO_SLOT UINT32_MAX
#define SELF_SLOT (UINT32_MAX - 1)
#define FAR_FUTURE UINT64_MAX
#define STALL_HALF_LIFE_NS (30 * MESH_NS_PER_SEC)
#define DEAD_PING_PERIODS 10 /* a member we declared dead is pinged once per 10 periods */

struct susp {
	uint64_t start_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t deadline_ns;
	uint32_t k;
	uint32_t n_conf;
	uint32_t n_seen;
	uint64_t seen[MAX_CONFIRM + 1]; /* hashes of the original suspecter + confirmers */
	uint8_t from_len;
	char from[MESH_SWIM_NAME_MAX]; /* latest suspecter learnt (re-gossiped as "from") */
	uint64_t prompted_ns;          /* last time we told it directly (it spoke to us) */
};

struct member_ext {
	char *long_name; /* names longer than NAME_INLINE */
	uint8_t *meta;
	uint16_t meta_len;
	struct susp *susp;
	/* how late it refuted a suspicion lately (stall_at_ns: when; halves every
	 * STALL_HALF_LIFE_NS): its next suspicions last at least twice that */
	uint64_t stall_ns;
	uint64_t stall_at_ns;
};

struct member {
	uint64_t gen;
	uint64_t change_ns;
	struct member_ext *ext;
	uint32_t inc;
	uint32_t ip;
	uint32_t bcast; /* pool index + 1, 0 = none */
	uint16_t port;
	uint8_t status : 7;
	uint8_t verified : 1; /* gen and address confirmed by the member's own message */
	uint8_t name_len;
	char name[NAME_INLINE];
};

struct bcast {
	uint32_t prev, next; /* pool index + 1 within the bucket list */
	uint32_t slot;       /* member slot, SELF_SLOT, or NO_SLOT (free) */
	uint16_t transmits;
	uint8_t from_self;   /* SUSPECT: gossip ourselves as the suspecter */
	uint8_t bucket;
	uint8_t linked;
};

struct relay {
	bool used;
	bool nack;
	uint32_t seq;        /* our ping to the target */
	uint32_t origin_seq; /* the prober's sequence */
	struct mesh_swim_addr origin;
	struct mesh_swim_addr target; /* the ack must come from here ... */
	uint64_t target_hash;         /* ... and name the target (hash of its name) */
	uint64_t deadline_ns;
};

struct probe {
	bool active;
	bool acked;
	bool indirect_sent;
	bool confirm;   /* the target was a suspect: direct only, no local-health verdict */
	uint8_t target_len;
	char target[MESH_SWIM_NAME_MAX];
	uint64_t target_gen;
	uint32_t seq;
	uint32_t expected_nacks;
	uint32_t nacks;
	uint32_t n_asked;                     /* relays asked (their acks and nacks count) */
	struct mesh_swim_addr asked[16];
	uint64_t timeout_at;
	uint64_t fail_at;
};

struct out_pkt {
	struct mesh_swim_addr to;
	size_t off;
	size_t len;
};

struct mesh_swim {
	struct mesh_swim_cfg cfg;
	struct mesh_swim_env_ops ops;
	void *ctx;

	/* self */
	uint8_t name_len;
	uint32_t inc;
	uint8_t status;
	uint8_t *meta;
	uint16_t meta_len;
	uint32_t self_bcast;
	bool leaving;

	/* members */
	struct member *m;
	uint32_t n, cap;
	uint32_t *idx;
	uint32_t idx_mask; /* capacity - 1 */
	uint32_t count[5];
	uint32_t probe_pos;

	/* broadcasts */
	struct bcast *bc;
	uint32_t bc_cap, bc_free, n_bcast;
	uint32_t bucket_head[MAX_TX_BUCKETS];

	/* timers */
	struct probe probe;
	uint64_t next_probe_ns;
	uint64_t next_gossip_ns;
	uint64_t next_push_pull_ns;
	uint64_t susp_next_ns;
	uint64_t reap_next_ns;
	uint64_t last_tick_ns;   /* the previous mesh_swim_tick */
	uint64_t starved_until;  /* after a late tick: no failure verdicts before this */
	uint32_t awareness;
	uint32_t seq;
	struct relay relays[MAX_RELAYS];
	uint32_t n_relays;
	/* suspects learnt from others, to be probed by us soon (buddy system) */
	struct {
		uint8_t len;
		char name[MESH_SWIM_NAME_MAX];
		uint64_t gen;
	} sring[SUSP_RING];
	uint32_t sring_n;
	uint64_t urgent_gate_ns; /* earliest next probe started early for a learnt suspect */
	uint64_t dead_ping_ns;   /* next ping of a member we declared dead (DEAD_PING_PERIODS) */
	uint32_t pb_skip;        /* slot + 1 of the record an announce sends first (0: none) */

	/* join */
	bool joined;
	struct mesh_swim_addr seeds[MAX_SEEDS];
	uint32_t n_seeds;
	uint64_t join_next_ns;
	uint64_t join_backoff_ns;

	/* output batch */
	uint8_t *obuf;
	size_t ocap, olen;
	struct out_pkt opk[MESH_SWIM_SEND_BATCH];
	unsigned on;

	/* decode scratch */
	struct swim_msg dec;

	uint64_t last_conflict_gen;
	/* the message being handled: replies to a non-member source are capped at its size */
	struct mesh_swim_addr rx_from;
	size_t rx_cap;                /* 0: no cap (the source is a member) */
	struct mesh_ratelimit join_rl; /* push-pull replies to non-members */
	struct mesh_ratelimit prompt_rl; /* records shown to members heard as a new life */
	bool reply_self; /* the message being handled accused us with a stale incarnation */
	struct mesh_ratelimit rl;
	uint64_t ctr[MESH_SWIM_CTR_MAX];
};

/* ---------------------------------------------------------------- small helpers */

static inline void
ctr_add(struct mesh_swim *s, enum mesh_swim_counter c, uint64_t n)
{
	mesh_counter_add(&s->ctr[c], n);
}
#define CTR(s, name) ctr_add((s), MESH_SWIM_CTR_##name, 1)

static inline const char *
mname(const struct member *m)
{
	return m->name_len <= NAME_INLINE ? m->name : m->ext->long_name;
}

static inline bool
name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static inline bool
is_self(const struct mesh_swim *s, const char *name, size_t len)
{
	return name_eq(name, len, s->cfg.name, s->name_len);
}

static inline uint64_t
rnd(struct mesh_swim *s)
{
	return s->ops.random(s->ctx);
}

static inline uint64_t
rnd_below(struct mesh_swim *s, uint64_t bound)
{
	return bound ? rnd(s) % bound : 0;
}

static inline size_t
n_est(const struct mesh_swim *s)
{
	return (size_t)s->count[MESH_SWIM_ALIVE] + s->count[MESH_SWIM_SUSPECT] + 1;
}

static inline uint64_t
scaled(const struct mesh_swim *s, uint64_t t)
{
	return t * (s->awareness + 1);
}

static inline bool
addr_eq(const struct mesh_swim_addr *a, const struct mesh_swim_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static void
awareness_delta(struct mesh_swim *s, int d)
{
	int64_t v = (int64_t)s->awareness + d;

	if (v < 0)
		v = 0;
	if (v > (int64_t)s->cfg.awareness_max - 1)
		v = (int64_t)s->cfg.awareness_max - 1;
	if ((uint32_t)v > s->awareness)
		CTR(s, swim_awareness_up);
	else if ((uint32_t)v < s->awareness)
		CTR(s, swim_awareness_down);
	s->awareness = (uint32_t)v;
}

/* ---------------------------------------------------------------- output batch */

static void
flush(struct mesh_swim *s)
{
	struct mesh_swim_pkt pk[MESH_SWIM_SEND_BATCH];

	if (s->on == 0)
		return;
	for (unsigned i = 0; i < s->on; i++) {
		pk[i].to = s->opk[i].to;
		pk[i].msg = s->obuf + s->opk[i].off;
		pk[i].len = s->opk[i].len;
	}
	s->ops.send(s->ctx, pk, s->on);
	CTR(s, swim_tx_batches);
	s->on = 0;
	s->olen = 0;
	if (s->ocap > 4u * s->cfg.max_msg) { /* give back push-pull burst memory */
		uint8_t *nb = realloc(s->obuf, 4u * s->cfg.max_msg);

		if (nb != NULL) {
			s->obuf = nb;
			s->ocap = 4u * s->cfg.max_msg;
		}
	}
}

/* Room for one blob of max_msg bytes; NULL on allocation failure. */
static uint8_t *
out_begin(struct mesh_swim *s)
{
	if (s->on == MESH_SWIM_SEND_BATCH)
		flush(s);
	if (s->olen + s->cfg.max_msg > s->ocap) {
		size_t ncap = MESH_MAX(s->ocap * 2, s->olen + s->cfg.max_msg);
		uint8_t *nb = realloc(s->obuf, ncap);

		if (nb == NULL)
			return NULL;
		s->obuf = nb;
		s->ocap = ncap;
	}
	return s->obuf + s->olen;
}

static void
out_commit(struct mesh_swim *s, const struct mesh_swim_addr *to, size_t len)
{
	if (len == 0) {
		CTR(s, swim_tx_drop_oversize);
		return;
	}
	s->opk[s->on].to = *to;
	s->opk[s->on].off = s->olen;
	s->opk[s->on].len = len;
	s->on++;
	s->olen += len;
	CTR(s, swim_tx_msgs);
	ctr_add(s, MESH_SWIM_CTR_swim_tx_bytes, len);
}

/* ---------------------------------------------------------------- member index */

static uint32_t
idx_find(const struct mesh_swim *s, const char *name, size_t len)
{
	uint32_t h;

	if (s->idx == NULL)
		return NO_SLOT;
	h = (uint32_t)mesh_hash64(name, len) & s->idx_mask;
	for (;;) {
		uint32_t v = s->idx[h];

		if (v == 0)
			return NO_SLOT;
		if (name_eq(mname(&s->m[v - 1]), s->m[v - 1].name_len, name, len))
			return v - 1;
		h = (h + 1) & s->idx_mask;
	}
}

static void
idx_put(struct mesh_swim *s, uint32_t slot)
{
	const struct member *m = &s->m[slot];
	uint32_t h = (uint32_t)mesh_hash64(mname(m), m->name_len) & s->idx_mask;

	while (s->idx[h] != 0 && s->idx[h] != slot + 1) {
		const struct member *o = &s->m[s->idx[h] - 1];

		if (name_eq(mname(o), o->name_len, mname(m), m->name_len))
			break;
		h = (h + 1) & s->idx_mask;
	}
	s->idx[h] = slot + 1;
}

static int
idx_rebuild(struct mesh_swim *s, uint32_t min_cap)
{
	uint32_t cap = 16;

	while (cap < 2 * min_cap)
		cap *= 2;
	if (s->idx == NULL || cap != s->idx_mask + 1) {
		uint32_t *ni = calloc(cap, sizeof(*ni));

		if (ni == NULL)
			return -ENOMEM;
		free(s->idx);
		s->idx = ni;
		s->idx_mask = cap - 1;
	} else {
		memset(s->idx, 0, sizeof(*s->idx) * cap);
	}
	for (uint32_t i = 0; i < s->n; i++)
		idx_put(s, i);
	return 0;
}

/* Position of @slot's entry in the index. */
static uint32_t
idx_pos(const struct mesh_swim *s, uint32_t slot)
{
	const struct member *m = &s->m[slot];
	uint32_t h = (uint32_t)mesh_hash64(mname(m), m->name_len) & s->idx_mask;

	while (s->idx[h] != slot + 1)
		h = (h + 1) & s->idx_mask;
	return h;
}

/* Swap two member slots, keeping the index and broadcast back-references right. */
static void
member_swap(struct mesh_swim *s, uint32_t a, uint32_t b)
{
	struct member t;
	uint32_t pa, pb;

	if (a == b)
		return;
	pa = idx_pos(s, a);
	pb = idx_pos(s, b);
	s->idx[pa] = b + 1;
	s->idx[pb] = a + 1;
	t = s->m[a];
	s->m[a] = s->m[b];
	s->m[b] = t;
	if (s->m[a].bcast)
		s->bc[s->m[a].bcast - 1].slot = a;
	if (s->m[b].bcast)
		s->bc[s->m[b].bcast - 1].slot = b;
}

static void
shuffle(struct mesh_swim *s)
{
	for (uint32_t i = s->n; i > 1; i--) {
		uint32_t j = (uint32_t)rnd_below(s, i);
		struct member t = s->m[i - 1];

		s->m[i - 1] = s->m[j];
		s->m[j] = t;
	}
	for (uint32_t i = 0; i < s->n; i++)
		if (s->m[i].bcast)
			s->bc[s->m[i].bcast - 1].slot = i;
	idx_rebuild(s, s->n);
}

/* ---------------------------------------------------------------- broadcasts */

static void
bc_unlink(struct mesh_swim *s, uint32_t bi)
{
	struct bcast *b = &s->bc[bi];

	if (!b->linked)
		return;
	b->linked = 0;
	if (b->prev)
		s->bc[b->prev - 1].next = b->next;
	else
		s->bucket_head[b->bucket] = b->next;
	if (b->next)
		s->bc[b->next - 1].prev = b->prev;
	b->prev = b->next = 0;
}

static void
bc_link(struct mesh_swim *s, uint32_t bi, uint32_t bucket)
{
	struct bcast *b = &s->bc[bi];

	if (bucket >= MAX_TX_BUCKETS)
		bucket = MAX_TX_BUCKETS - 1;
	b->bucket = (uint8_t)bucket;
	b->linked = 1;
	b->prev = 0;
	b->next = s->bucket_head[bucket];
	if (b->next)
		s->bc[b->next - 1].prev = bi + 1;
	s->bucket_head[bucket] = bi + 1;
}

static void
bc_free(struct mesh_swim *s, uint32_t bi)
{
	struct bcast *b = &s->bc[bi];

	bc_unlink(s, bi);
	if (b->slot == SELF_SLOT)
		s->self_bcast = 0;
	else if (b->slot < s->n)
		s->m[b->slot].bcast = 0;
	b->slot = NO_SLOT;
	b->next = s->bc_free;
	s->bc_free = bi + 1;
	s->n_bcast--;
}

/* Queue (or refresh to transmit count 0) the broadcast about @slot (or SELF_SLOT). */
static void
bc_queue(struct mesh_swim *s, uint32_t slot, bool from_self)
{
	uint32_t *ref = slot == SELF_SLOT ? &s->self_bcast : &s->m[slot].bcast;
	uint32_t bi;

	CTR(s, swim_bcast_queued);
	if (*ref) {
		bi = *ref - 1;
		bc_unlink(s, bi);
	} else {
		if (s->bc_free == 0) {
			uint32_t ncap = s->bc_cap ? s->bc_cap * 2 : 16;
			struct bcast *nb = realloc(s->bc, sizeof(*nb) * ncap);

			if (nb == NULL)
				return;
			s->bc = nb;
			for (uint32_t i = ncap; i > s->bc_cap; i--) {
				s->bc[i - 1].slot = NO_SLOT;
				s->bc[i - 1].linked = 0;
				s->bc[i - 1].next = s->bc_free;
				s->bc_free = i;
			}
			s->bc_cap = ncap;
		}
		bi = s->bc_free - 1;
		s->bc_free = s->bc[bi].next;
		s->n_bcast++;
		*ref = bi + 1;
	}
	s->bc[bi].slot = slot;
	s->bc[bi].transmits = 0;
	s->bc[bi].from_self = from_self;
	bc_link(s, bi, 0);
}

static void
self_rec(const struct mesh_swim *s, struct swim_rec *r)
{
	r->status = s->status;
	r->name = s->cfg.name;
	r->name_len = s->name_len;
	r->gen = s->cfg.gen;
	r->inc = s->inc;
	r->addr = s->cfg.addr;
	r->meta = s->meta;
	r->meta_len = s->meta_len;
	r->from = NULL;
	r->from_len = 0;
}

static void
member_rec(const struct mesh_swim *s, const struct member *m, bool from_self,
	   struct swim_rec *r)
{
	r->status = m->status;
	r->name = mname(m);
	r->name_len = m->name_len;
	r->gen = m->gen;
	r->inc = m->inc;
	r->addr.ip = m->ip;
	r->addr.port = m->port;
	r->meta = m->ext ? m->ext->meta : NULL;
	r->meta_len = m->ext ? m->ext->meta_len : 0;
	r->from = NULL;
	r->from_len = 0;
	if (m->status == MESH_SWIM_SUSPECT) {
		if (!from_self && m->ext && m->ext->susp && m->ext->susp->from_len) {
			r->from = m->ext->susp->from;
			r->from_len = m->ext->susp->from_len;
		} else {
			r->from = s->cfg.name;
			r->from_len = s->name_len;
		}
	}
}

/*
 * A leaving node's own LEFT record never expires: it rides on everything the node sends
 * until it stops (meshd exits 200 ms after the leave). With the normal retransmit limit
 * (4 at N = 8) the record reached 4 members and relied on their relays; in 3 of 40
 * simulated leaves one member missed it and first declared the node dead.
 */
static inline bool
bc_sticky(const struct mesh_swim *s, const struct bcast *bc)
{
	return s->leaving && bc->slot == SELF_SLOT;
}

/* Fill the encoder with pending broadcasts, least-sent first, within the budget. */
static void
piggyback(struct mesh_swim *s, struct swim_enc *e)
{
	uint32_t limit = mesh_swim_retransmit_limit(s->cfg.retransmit_mult, n_est(s));
	uint32_t chosen[256];
	uint32_t n_chosen = 0, misses = 0;

	if (limit < 1)
		limit = 1;
	if (limit > MAX_TX_BUCKETS - 1)
		limit = MAX_TX_BUCKETS - 1;
	for (uint32_t b = 0; b < MAX_TX_BUCKETS && n_chosen < MESH_ARRAY_SIZE(chosen); b++) {
		uint32_t cur = s->bucket_head[b];

		while (cur && n_chosen < MESH_ARRAY_SIZE(chosen)) {
			uint32_t bi = cur - 1;
			struct bcast *bc = &s->bc[bi];
			struct swim_rec r;

			cur = bc->next;
			if (bc->slot + 1 == s->pb_skip)
				continue; /* already the first record of this message */
			if (bc->transmits >= limit && !bc_sticky(s, bc)) {
				bc_free(s, bi);
				CTR(s, swim_bcast_expired);
				continue;
			}
			if (bc->slot == SELF_SLOT)
				self_rec(s, &r);
			else
				member_rec(s, &s->m[bc->slot], bc->from_self, &r);
			if (swim_enc_rec(e, &r, s->cfg.max_msg) == 0) {
				chosen[n_chosen++] = bi;
			} else if (++misses > 8 || e->cap - e->len < SWIM_REC_FIXED + 2) {
				goto done;
			}
		}
	}
done:
	for (uint32_t i = 0; i < n_chosen; i++) {
		struct bcast *bc = &s->bc[chosen[i]];

		CTR(s, swim_bcast_sent);
		bc_unlink(s, chosen[i]);
		if (bc->transmits < UINT16_MAX)
			bc->transmits++;
		if (bc->transmits >= limit && !bc_sticky(s, bc))
			bc_free(s, chosen[i]);
		else
			bc_link(s, chosen[i], bc->transmits);
	}
}

/* Build and queue one blob to @to with piggybacked broadcasts. @first: extra record. */
static void
send_msg(struct mesh_swim *s, const struct mesh_swim_addr *to, uint8_t type, uint8_t flags,
	 uint32_t seq, const char *target, size_t target_len,
	 const struct mesh_swim_addr *taddr, const struct swim_rec *first)
{
	struct swim_enc e;
	struct swim_rec me;
	uint8_t *buf = out_begin(s);
	size_t cap = s->cfg.max_msg;

	if (buf == NULL)
		return;
	if (s->rx_cap && s->rx_cap < cap && addr_eq(to, &s->rx_from)) {
		cap = s->rx_cap; /* no amplification towards a non-member */
		CTR(s, swim_reply_capped);
	}
	swim_enc_begin(&e, buf, cap, type, flags, s->cfg.name, s->name_len, s->cfg.gen, seq,
		       target, target_len, taddr);
	if (first != NULL)
		swim_enc_rec(&e, first, cap);
	if (type == SWIM_MSG_PING) {
		/* first-hand: every member hears our current record from us once per round,
		 * the only way a new generation or address of ours is adopted */
		self_rec(s, &me);
		swim_enc_rec(&e, &me, cap);
	}
	piggyback(s, &e);
	out_commit(s, to, swim_enc_end(&e));
}

/* ---------------------------------------------------------------- events */

static void
emit(struct mesh_swim *s, enum mesh_swim_event_type type, const struct member *m,
     uint8_t prev)
{
	struct mesh_swim_event ev;

	if (s->ops.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.status = (enum mesh_swim_status)m->status;
	ev.prev_status = (enum mesh_swim_status)prev;
	ev.name = mname(m);
	ev.name_len = m->name_len;
	ev.gen = m->gen;
	ev.inc = m->inc;
	ev.addr.ip = m->ip;
	ev.addr.port = m->port;
	ev.meta = m->ext ? m->ext->meta : NULL;
	ev.meta_len = m->ext ? m->ext->meta_len : 0;
	s->ops.event(s->ctx, &ev);
}

static void
emit_conflict(struct mesh_swim *s, const char *name, size_t name_len, uint64_t gen,
	      const struct mesh_swim_addr *addr, const struct swim_rec *r)
{
	struct mesh_swim_event ev;

	CTR(s, swim_name_conflict);
	if (s->ops.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = MESH_SWIM_EV_CONFLICT;
	ev.status = MESH_SWIM_ALIVE;
	ev.prev_status = MESH_SWIM_ALIVE;
	ev.name = name;
	ev.name_len = name_len;
	ev.gen = gen;
	ev.addr = *addr;
	ev.conflict_addr = r->addr;
	ev.conflict_gen = r->gen;
	s->ops.event(s->ctx, &ev);
}

/* ---------------------------------------------------------------- member changes */

static struct member_ext *
ext_get(struct member *m)
{
	if (m->ext == NULL)
		m->ext = calloc(1, sizeof(*m->ext));
	return m->ext;
}

/* what is left of a member's learnt stall at @now (halved every half-life) */
static uint64_t
stall_left(const struct member_ext *x, uint64_t now)
{
	uint64_t halves = now > x->stall_at_ns ? (now - x->stall_at_ns) / STALL_HALF_LIFE_NS : 0;

	return halves >= 64 ? 0 : x->stall_ns >> halves;
}

/*
 * A member refuted the suspicion we held: the time it took is what it needed to answer
 * (its stalls on a shared core, or the accusation's way to it). Its next suspicions last
 * at least twice the longest such time seen lately, so a member that stalls is given the
 * time it showed it needs, while one that never did is declared dead after the profile's
 * floor (Lifeguard's idea of local health, learnt here for the suspect from the outside).
 */
static void
stall_learn(struct mesh_swim *s, struct member_ext *x, uint64_t took, uint64_t now)
{
	CTR(s, swim_refute_seen);
	if (x != NULL && took > stall_left(x, now)) {
		x->stall_ns = took;
		x->stall_at_ns = now;
	}
}

static void
set_status_f(struct mesh_swim *s, struct member *m, uint8_t st, uint64_t now, bool force)
{
	if (m->status == st && !force)
		return;
	if (m->status >= MESH_SWIM_ALIVE && m->status <= MESH_SWIM_LEFT)
		s->count[m->status]--;
	s->count[st]++;
	/* a refutation (the same life): learn how long the member needed; after a death we
	 * declared, that is the floor it missed plus the time since */
	if (m->status == MESH_SWIM_SUSPECT && st == MESH_SWIM_ALIVE && m->ext && m->ext->susp)
		stall_learn(s, m->ext, now - m->ext->susp->start_ns, now);
	else if (m->status == MESH_SWIM_DEAD && st == MESH_SWIM_ALIVE && !force)
		stall_learn(s, ext_get(m), now - m->change_ns +
			    mesh_swim_suspicion_timeout_ns(s->cfg.suspicion_mult, n_est(s),
							   s->cfg.probe_interval_ns), now);
	m->status = st;
	m->change_ns = now;
	if (st != MESH_SWIM_SUSPECT && m->ext && m->ext->susp) {
		free(m->ext->susp);
		m->ext->susp = NULL;
	}
	if (st == MESH_SWIM_DEAD || st == MESH_SWIM_LEFT) {
		uint64_t reap = now + s->cfg.dead_timeout_ns;

		if (reap < s->reap_next_ns)
			s->reap_next_ns = reap;
	}
}

static void
set_status(struct mesh_swim *s, struct member *m, uint8_t st, uint64_t now)
{
	set_status_f(s, m, st, now, false);
}

/* Copy metadata; returns true when it changed. */
static bool
set_meta(struct member *m, const uint8_t *meta, size_t len)
{
	struct member_ext *x;

	if (len == 0) {
		if (m->ext == NULL || m->ext->meta_len == 0)
			return false;
		free(m->ext->meta);
		m->ext->meta = NULL;
		m->ext->meta_len = 0;
		return true;
	}
	if (m->ext && m->ext->meta_len == len && memcmp(m->ext->meta, meta, len) == 0)
		return false;
	x = ext_get(m);
	if (x == NULL)
		return false;
	free(x->meta);
	x->meta = malloc(len);
	if (x->meta == NULL) {
		x->meta_len = 0;
		return true;
	}
	memcpy(x->meta, meta, len);
	x->meta_len = (uint16_t)len;
	return true;
}

static void
susp_start(struct mesh_swim *s, struct member *m, const char *from, size_t from_len,
	   uint64_t now)
{
	struct member_ext *x = ext_get(m);
	struct susp *p;
	size_t n = n_est(s);
	uint64_t stall;

	if (x == NULL)
		return;
	p = x->susp ? x->susp : calloc(1, sizeof(*p));
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	x->susp = p;
	p->start_ns = now;
	p->k = s->cfg.suspicion_k ? s->cfg.suspicion_k :
	       s->cfg.suspicion_mult > 2 ? s->cfg.suspicion_mult - 2 : 0;
	if (p->k > MAX_CONFIRM)
		p->k = MAX_CONFIRM;
	if (n < (size_t)p->k + 2)
		p->k = 0;
	p->min_ns = mesh_swim_suspicion_timeout_ns(s->cfg.suspicion_mult, n,
						   s->cfg.probe_interval_ns);
	p->max_ns = p->min_ns * MESH_MAX(s->cfg.suspicion_max_mult, 1u);
	stall = 2 * stall_left(x, now);
	if (stall > p->min_ns) {
		CTR(s, swim_susp_stretched);
		p->min_ns = MESH_MIN(stall, p->max_ns);
	}
	p->seen[p->n_seen++] = mesh_hash64(from, from_len);
	p->from_len = (uint8_t)from_len;
	memcpy(p->from, from, from_len);
	p->deadline_ns = now + (uint64_t)mesh_swim_suspicion_remaining_ns(0, p->k, 0, p->min_ns,
									 p->max_ns);
	if (p->deadline_ns < s->susp_next_ns)
		s->susp_next_ns = p->deadline_ns;
}

/* A new independent confirmation; true when it counted. */
static bool
susp_confirm(struct mesh_swim *s, struct member *m, const char *from, size_t from_len)
{
	struct susp *p = m->ext ? m->ext->susp : NULL;
	uint64_t h;
	int64_t rem;

	if (p == NULL || p->n_conf >= p->k)
		return false;
	h = mesh_hash64(from, from_len);
	for (uint32_t i = 0; i < p->n_seen; i++)
		if (p->seen[i] == h)
			return false;
	p->seen[p->n_seen++] = h;
	p->n_conf++;
	p->from_len = (uint8_t)from_len;
	memcpy(p->from, from, from_len);
	rem = mesh_swim_suspicion_remaining_ns(p->n_conf, p->k, 0, p->min_ns, p->max_ns);
	p->deadline_ns = p->start_ns + (uint64_t)rem;
	if (p->deadline_ns < s->susp_next_ns)
		s->susp_next_ns = p->deadline_ns;
	CTR(s, swim_suspect_confirm);
	return true;
}

/* a member leaves the table (reaped or evicted): tell the user, free what it holds; the
 * caller moves the last slot into its place */
static void
member_release(struct mesh_swim *s, struct member *m, uint8_t st)
{
	emit(s, MESH_SWIM_EV_REMOVED, m, st);
	s->count[st]--;
	if (m->bcast)
		bc_free(s, m->bcast - 1);
	if (m->ext) {
		free(m->ext->long_name);
		free(m->ext->meta);
		free(m->ext->susp);
		free(m->ext);
	}
}

/*
 * The table is full: forget the dead or left member that changed longest ago (as the reap
 * would later); live members are never evicted. False when there is none.
 */
static bool
member_evict(struct mesh_swim *s)
{
	uint32_t v = NO_SLOT;
	struct member *m;
	uint8_t st;

	if (s->count[MESH_SWIM_DEAD] + s->count[MESH_SWIM_LEFT] == 0)
		return false;
	for (uint32_t i = 0; i < s->n; i++)
		if ((s->m[i].status == MESH_SWIM_DEAD || s->m[i].status == MESH_SWIM_LEFT) &&
		    (v == NO_SLOT || s->m[i].change_ns < s->m[v].change_ns))
			v = i;
	if (v == NO_SLOT)
		return false;
	m = &s->m[v];
	st = m->status;
	CTR(s, swim_member_evicted);
	member_release(s, m, st);
	s->m[v] = s->m[--s->n];
	if (v < s->n && s->m[v].bcast)
		s->bc[s->m[v].bcast - 1].slot = v;
	if (s->probe_pos > s->n)
		s->probe_pos = s->n;
	idx_rebuild(s, MESH_MAX(s->n, 8u));
	return true;
}

static uint32_t
member_add(struct mesh_swim *s, const struct swim_rec *r, uint64_t now)
{
	struct member *m;
	uint32_t slot, j;
	uint32_t max = s->cfg.max_members ? s->cfg.max_members : MAX_MEMBERS_DEFAULT;

	if (s->n >= max && !member_evict(s)) {
		CTR(s, swim_member_table_full);
		return NO_SLOT;
	}
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 16;
		struct member *nm = realloc(s->m, sizeof(*nm) * ncap);

		if (nm == NULL)
			return NO_SLOT;
		s->m = nm;
		s->cap = ncap;
	}
	if (s->idx == NULL || 2 * (s->n + 1) > s->idx_mask + 1) {
		if (idx_rebuild(s, s->n + 1) < 0)
			return NO_SLOT;
	}
	slot = s->n++;
	m = &s->m[slot];
	memset(m, 0, sizeof(*m));
	m->name_len = r->name_len;
	if (r->name_len <= NAME_INLINE) {
		memcpy(m->name, r->name, r->name_len);
	} else {
		struct member_ext *x = ext_get(m);

		if (x == NULL || (x->long_name = malloc(r->name_len)) == NULL) {
			free(x);
			s->n--;
			return NO_SLOT;
		}
		memcpy(x->long_name, r->name, r->name_len);
	}
	m->gen = r->gen;
	m->inc = r->inc;
	m->ip = r->addr.ip;
	m->port = r->addr.port;
	m->status = 0;
	m->change_ns = now;
	idx_put(s, slot);
	/* randomized round-robin: a random place in the rest of this round */
	if (s->probe_pos <= slot) {
		j = s->probe_pos + (uint32_t)rnd_below(s, slot - s->probe_pos + 1);
		member_swap(s, slot, j);
		slot = j;
	}
	return slot;
}

/* Remember a suspect to probe it ourselves soon: if it is alive, our ping (carrying the
 * suspicion) makes it refute and the ack brings its new incarnation back to us even when
 * we missed the gossiped refutation. */
static void
sring_add(struct mesh_swim *s, const struct member *m)
{
	uint32_t i = s->sring_n < SUSP_RING ? s->sring_n++ : (uint32_t)rnd_below(s, SUSP_RING);

	s->sring[i].len = m->name_len;
	memcpy(s->sring[i].name, mname(m), m->name_len);
	s->sring[i].gen = m->gen;
}

/* ---------------------------------------------------------------- record merge */

/* A record about ourselves. */
static void
apply_self(struct mesh_swim *s, const struct swim_rec *r, uint64_t now)
{
	(void)now;
	if (r->gen < s->cfg.gen) {
		/* answer with our record: the sender takes a new life only from us */
		CTR(s, swim_old_self_rumor);
		s->reply_self = true;
		return;
	}
	if (r->gen > s->cfg.gen) {
		/* someone with our name and a newer life: report, never adopt */
		if (s->last_conflict_gen != r->gen) {
			s->last_conflict_gen = r->gen;
			emit_conflict(s, s->cfg.name, s->name_len, s->cfg.gen, &s->cfg.addr, r);
		} else {
			CTR(s, swim_name_conflict);
		}
		return;
	}
	if (r->status == MESH_SWIM_ALIVE && !addr_eq(&r->addr, &s->cfg.addr)) {
		emit_conflict(s, s->cfg.name, s->name_len, s->cfg.gen, &s->cfg.addr, r);
		return;
	}
	if (r->inc < s->inc && r->status != MESH_SWIM_ALIVE && r->status != s->status) {
		/* a stale accusation still circulates (the sender missed our refutation):
		 * gossip our current record again, starting with the reply to it */
		if (!s->self_bcast)
			bc_queue(s, SELF_SLOT, false);
		s->reply_self = true;
		return;
	}
	if (r->inc < s->inc || (r->inc == s->inc && r->status == s->status))
		return;
	if (r->status == MESH_SWIM_ALIVE && r->inc == s->inc)
		return;
	if (r->inc > s->inc) {
		/* only we author our incarnations: a higher one was forged (or corrupted);
		 * outbid it while we can (0xFFFFFFFF is reserved and refused everywhere) */
		CTR(s, swim_self_inc_forged);
		if (r->inc >= UINT32_MAX - 1)
			return;
	}
	/* suspect/dead/left (or a higher alive) at >= our incarnation: refute */
	s->inc = r->inc + 1;
	CTR(s, swim_refute);
	if (!s->leaving)
		awareness_delta(s, 1);
	bc_queue(s, SELF_SLOT, false);
}

/*
 * A third party reports a new life of @m at @at, which only the member itself may tell us:
 * show the claimed address our record of the old life (one record, no piggyback, rate-
 * limited); a member there answers an old rumour about itself with its own record, which
 * we then take first-hand. A restart spreads in one gossip hop plus one round trip.
 */
static void
ask_new_life(struct mesh_swim *s, const struct member *m, const struct mesh_swim_addr *at,
	     uint64_t now)
{
	struct swim_enc e;
	struct swim_rec r;
	uint8_t *buf;

	if (at->port == 0 || !mesh_ratelimit_allow(&s->prompt_rl, now) ||
	    (buf = out_begin(s)) == NULL)
		return;
	member_rec(s, m, false, &r);
	r.meta = NULL; /* name and life are all it takes; keeps the prompt small */
	r.meta_len = 0;
	swim_enc_begin(&e, buf, s->cfg.max_msg, SWIM_MSG_GOSSIP, 0, s->cfg.name, s->name_len,
		       s->cfg.gen, 0, NULL, 0, NULL);
	swim_enc_rec(&e, &r, s->cfg.max_msg);
	out_commit(s, at, swim_enc_end(&e));
}

/*
 * Apply one record; @pp: it came in a push-pull (dead is then only a suspicion, and a
 * member first learnt in a periodic push-pull is not re-gossiped: that is anti-entropy;
 * members learnt in a join exchange (@regossip_new, both directions) are, as in memberlist).
 */
static void
apply_rec(struct mesh_swim *s, const struct swim_rec *r, bool pp, bool regossip_new,
	  bool fh, uint64_t now)
{
	uint32_t slot;
	struct member *m;
	uint8_t prev, st = r->status;
	bool moved;

	if (r->inc == UINT32_MAX) { /* reserved: nobody could outbid it */
		CTR(s, swim_rec_refused_inc);
		return;
	}
	if (is_self(s, r->name, r->name_len)) {
		apply_self(s, r, now);
		return;
	}
	if (pp && st == MESH_SWIM_DEAD)
		st = MESH_SWIM_SUSPECT;
	slot = idx_find(s, r->name, r->name_len);
	if (slot == NO_SLOT) {
		/* as memberlist: only an alive record introduces a member (a suspect/dead
		 * rumour about an unknown or reaped member must not resurrect it) */
		if (st != MESH_SWIM_ALIVE) {
			CTR(s, swim_rec_stale);
			return;
		}
		slot = member_add(s, r, now);
		if (slot == NO_SLOT)
			return;
		m = &s->m[slot];
		m->verified = fh;
		set_meta(m, r->meta, r->meta_len);
		CTR(s, swim_rec_applied);
		set_status(s, m, MESH_SWIM_ALIVE, now);
		CTR(s, swim_alive);
		emit(s, MESH_SWIM_EV_ALIVE, m, 0);
		if (!pp || regossip_new)
			bc_queue(s, slot, false);
		return;
	}
	m = &s->m[slot];
	prev = m->status;
	/* identity binding (mesh_swim.h): only the member itself moves it to a new life or
	 * address; its own record also replaces a life we only know from hearsay */
	moved = r->gen != m->gen || r->addr.ip != m->ip || r->addr.port != m->port;
	if (r->gen < m->gen && !(fh && !m->verified)) {
		CTR(s, swim_rec_stale);
		return;
	}
	if (moved && !fh) {
		CTR(s, swim_rec_refused_identity);
		if (r->gen > m->gen)
			ask_new_life(s, m, &r->addr, now);
		return;
	}
	/* keyless, the frame's sender is only claimed: a member we know at an address, in
	 * any state, moves to a new life only by a frame from that address (a member falsely
	 * declared dead must not be taken over); at a new address only once it has been
	 * reaped (dead_timeout), doc/security.md; the same life at another address is a name
	 * conflict below, never adopted */
	if (r->gen != m->gen && !s->cfg.sender_authenticated && m->verified &&
	    (s->rx_from.ip != m->ip || s->rx_from.port != m->port)) {
		CTR(s, swim_rec_refused_identity);
		return;
	}
	if (fh && !m->verified && !moved) {
		m->verified = 1;
		if (r->inc < m->inc) /* hearsay inflated it: the member's own word counts */
			m->inc = r->inc;
	}
	if (r->gen != m->gen || (fh && !m->verified)) {
		/* a restart: the new life replaces the old one whatever its state */
		m->verified = 1;
		m->gen = r->gen;
		m->inc = r->inc;
		m->ip = r->addr.ip;
		m->port = r->addr.port;
		set_meta(m, r->meta, r->meta_len);
		if (m->ext && m->ext->susp) {
			free(m->ext->susp);
			m->ext->susp = NULL;
		}
		set_status_f(s, m, st, now, true);
		CTR(s, swim_rec_applied);
		switch (st) {
		case MESH_SWIM_ALIVE:
			CTR(s, swim_alive);
			emit(s, MESH_SWIM_EV_ALIVE, m, prev);
			break;
		case MESH_SWIM_SUSPECT:
			susp_start(s, m, r->from ? r->from : s->cfg.name,
				   r->from ? r->from_len : s->name_len, now);
			CTR(s, swim_suspect);
			emit(s, MESH_SWIM_EV_SUSPECT, m, prev);
			break;
		case MESH_SWIM_DEAD:
			CTR(s, swim_dead);
			emit(s, MESH_SWIM_EV_DEAD, m, prev);
			break;
		default:
			CTR(s, swim_left);
			emit(s, MESH_SWIM_EV_LEFT, m, prev);
			break;
		}
		bc_queue(s, slot, false);
		return;
	}
	/* same life: incarnation rules; a third party raises the incarnation by a bounded
	 * step (marching it to the reserved top would make the member unrefutable) */
	if (!fh && r->inc > m->inc && r->inc - m->inc > INC_JUMP_MAX) {
		CTR(s, swim_rec_refused_inc);
		return;
	}
	switch (st) {
	case MESH_SWIM_ALIVE:
		if (r->inc <= m->inc) {
			CTR(s, swim_rec_stale);
			return;
		}
		if (prev == MESH_SWIM_ALIVE &&
		    (r->addr.ip != m->ip || r->addr.port != m->port)) {
			struct mesh_swim_addr a = { m->ip, m->port };

			emit_conflict(s, mname(m), m->name_len, m->gen, &a, r);
			return;
		}
		{
			bool changed = r->addr.ip != m->ip || r->addr.port != m->port;

			m->inc = r->inc;
			m->ip = r->addr.ip;
			m->port = r->addr.port;
			changed |= set_meta(m, r->meta, r->meta_len);
			set_status(s, m, MESH_SWIM_ALIVE, now);
			CTR(s, swim_rec_applied);
			if (prev != MESH_SWIM_ALIVE) {
				CTR(s, swim_alive);
				emit(s, MESH_SWIM_EV_ALIVE, m, prev);
			} else if (changed) {
				CTR(s, swim_updated);
				emit(s, MESH_SWIM_EV_UPDATED, m, prev);
			}
		}
		bc_queue(s, slot, false);
		return;
	case MESH_SWIM_SUSPECT:
		if (prev == MESH_SWIM_SUSPECT && r->inc == m->inc) {
			if (r->from && susp_confirm(s, m, r->from, r->from_len))
				bc_queue(s, slot, false);
			else
				CTR(s, swim_rec_stale);
			return;
		}
		if (r->inc < m->inc || (r->inc == m->inc && prev != MESH_SWIM_ALIVE)) {
			CTR(s, swim_rec_stale);
			return;
		}
		m->inc = r->inc;
		set_status(s, m, MESH_SWIM_SUSPECT, now);
		susp_start(s, m, r->from ? r->from : s->cfg.name,
			   r->from ? r->from_len : s->name_len, now);
		sring_add(s, m);
		CTR(s, swim_rec_applied);
		CTR(s, swim_suspect);
		emit(s, MESH_SWIM_EV_SUSPECT, m, prev);
		bc_queue(s, slot, false);
		return;
	case MESH_SWIM_DEAD:
	case MESH_SWIM_LEFT:
		if (r->inc < m->inc || prev == MESH_SWIM_LEFT ||
		    (prev == MESH_SWIM_DEAD && st == MESH_SWIM_DEAD)) {
			CTR(s, swim_rec_stale);
			return;
		}
		m->inc = r->inc;
		set_status(s, m, st, now);
		CTR(s, swim_rec_applied);
		if (st == MESH_SWIM_DEAD) {
			CTR(s, swim_dead);
			emit(s, MESH_SWIM_EV_DEAD, m, prev);
		} else {
			CTR(s, swim_left);
			emit(s, MESH_SWIM_EV_LEFT, m, prev);
		}
		bc_queue(s, slot, false);
		return;
	default:
		return;
	}
}

/* ---------------------------------------------------------------- push-pull */

/* Send our whole state to @to in as many blobs as needed. */
static void
send_state(struct mesh_swim *s, const struct mesh_swim_addr *to, uint8_t flags)
{
	uint32_t i = 0;
	bool first = true;

	CTR(s, swim_push_pull_sent);
	while (first || i < s->n) {
		struct swim_enc e;
		struct swim_rec r;
		uint8_t *buf = out_begin(s);

		if (buf == NULL)
			return;
		/* only the first chunk asks for an answer */
		swim_enc_begin(&e, buf, s->cfg.max_msg, SWIM_MSG_PUSH_PULL,
			       first ? flags : (uint8_t)(flags & ~SWIM_F_PP_REPLY), s->cfg.name,
			       s->name_len, s->cfg.gen, 0, NULL, 0, NULL);
		if (first) {
			self_rec(s, &r);
			swim_enc_rec(&e, &r, s->cfg.max_msg);
		}
		while (i < s->n) {
			member_rec(s, &s->m[i], false, &r);
			if (swim_enc_rec(&e, &r, s->cfg.max_msg) < 0) {
				if (e.n_rec == 0) /* cannot fit even alone: skip it */
					i++;
				break;
			}
			i++;
		}
		out_commit(s, to, swim_enc_end(&e));
		CTR(s, swim_push_pull_chunks);
		first = false;
	}
}

/* ---------------------------------------------------------------- probing */

static bool
probe_eligible(const struct member *m)
{
	return m->status == MESH_SWIM_ALIVE || m->status == MESH_SWIM_SUSPECT;
}

/* Pick up to @want random members matching @ok, excluding @skip; returns the count. */
static uint32_t
pick_random(struct mesh_swim *s, uint32_t want, uint32_t skip, uint64_t now,
	    bool (*ok)(const struct mesh_swim *, const struct member *, uint64_t),
	    uint32_t *out)
{
	uint32_t got = 0;

	if (s->n == 0)
		return 0;
	for (uint32_t tries = 0; tries < 3 * want + 8 && got < want; tries++) {
		uint32_t j = (uint32_t)rnd_below(s, s->n);
		bool dup = false;

		if (j == skip || !ok(s, &s->m[j], now))
			continue;
		for (uint32_t k = 0; k < got; k++)
			dup |= out[k] == j;
		if (!dup)
			out[got++] = j;
	}
	return got;
}

static bool
ok_alive(const struct mesh_swim *s, const struct member *m, uint64_t now)
{
	(void)s;
	(void)now;
	return m->status == MESH_SWIM_ALIVE;
}

static bool
ok_gossip(const struct mesh_swim *s, const struct member *m, uint64_t now)
{
	if (probe_eligible(m))
		return true;
	return now - m->change_ns < s->cfg.gossip_to_dead_ns;
}

static bool
ok_dead(const struct mesh_swim *s, const struct member *m, uint64_t now)
{
	(void)s;
	(void)now;
	return m->status == MESH_SWIM_DEAD;
}

/*
 * Send the current record of @slot (SELF_SLOT: ours) straight to every alive or suspect
 * member and to the subject itself, one GOSSIP each with the record first, up to @cap
 * messages; the pending broadcast keeps its own schedule. Returns the messages sent.
 */
static uint32_t
announce(struct mesh_swim *s, uint32_t slot, bool from_self, uint32_t cap)
{
	struct swim_rec r;
	uint32_t sent = 0;

	if (slot == SELF_SLOT)
		self_rec(s, &r);
	else
		member_rec(s, &s->m[slot], from_self, &r);
	s->pb_skip = slot + 1;
	for (uint32_t i = 0; i < s->n && sent < cap; i++) {
		const struct member *m = &s->m[i];
		struct mesh_swim_addr to = { m->ip, m->port };

		if (i != slot && !probe_eligible(m))
			continue;
		send_msg(s, &to, SWIM_MSG_GOSSIP, 0, 0, NULL, 0, NULL, &r);
		sent++;
	}
	s->pb_skip = 0;
	return sent;
}

/* Small clusters hear our suspicions, confirmations and deaths from us directly: one hop
 * instead of gossip rounds (the subject, if alive, refutes at once). */
static void
announce_small(struct mesh_swim *s, uint32_t slot, bool from_self)
{
	if (n_est(s) <= s->cfg.direct_max)
		ctr_add(s, MESH_SWIM_CTR_swim_announce_sent,
			announce(s, slot, from_self, s->cfg.direct_max));
}

static void
suspect_member(struct mesh_swim *s, uint32_t slot, uint64_t now)
{
	struct member *m = &s->m[slot];
	uint8_t prev = m->status;

	if (prev == MESH_SWIM_SUSPECT) {
		if (susp_confirm(s, m, s->cfg.name, s->name_len)) {
			bc_queue(s, slot, true);
			announce_small(s, slot, true);
		}
		return;
	}
	if (prev != MESH_SWIM_ALIVE)
		return;
	set_status(s, m, MESH_SWIM_SUSPECT, now);
	susp_start(s, m, s->cfg.name, s->name_len, now);
	sring_add(s, m);
	/* our own suspect is pinged again at the next regular period, not at once */
	s->urgent_gate_ns = MESH_MAX(s->urgent_gate_ns, s->next_probe_ns);
	CTR(s, swim_suspect);
	emit(s, MESH_SWIM_EV_SUSPECT, m, prev);
	bc_queue(s, slot, true);
	announce_small(s, slot, true);
}

static void
probe_finish(struct mesh_swim *s, uint64_t now)
{
	struct probe *p = &s->probe;
	uint32_t slot;

	p->active = false;
	if (p->acked) {
		awareness_delta(s, -1);
		return;
	}
	CTR(s, swim_probe_failed);
	if (p->confirm) {
		/* a suspect's silence says nothing of our own health */
	} else if (p->expected_nacks > 0) {
		if (p->nacks < p->expected_nacks)
			awareness_delta(s, (int)(p->expected_nacks - p->nacks));
	} else {
		awareness_delta(s, 1);
	}
	slot = idx_find(s, p->target, p->target_len);
	if (slot != NO_SLOT && s->m[slot].gen == p->target_gen)
		suspect_member(s, slot, now);
}

static void
probe_start(struct mesh_swim *s, uint64_t now)
{
	struct probe *p = &s->probe;
	struct member *m = NULL;
	struct swim_rec buddy, *first = NULL;
	struct mesh_swim_addr to;
	uint64_t timeout, interval;

	while (s->sring_n > 0 && m == NULL) {
		uint32_t slot;

		s->sring_n--;
		slot = idx_find(s, s->sring[s->sring_n].name, s->sring[s->sring_n].len);
		if (slot != NO_SLOT && s->m[slot].status == MESH_SWIM_SUSPECT &&
		    s->m[slot].gen == s->sring[s->sring_n].gen)
			m = &s->m[slot];
	}
	for (uint32_t tries = 0; m == NULL && tries <= s->n; tries++) {
		if (s->probe_pos >= s->n) {
			shuffle(s);
			s->probe_pos = 0;
			if (s->n == 0)
				break;
		}
		if (probe_eligible(&s->m[s->probe_pos])) {
			m = &s->m[s->probe_pos++];
			break;
		}
		s->probe_pos++;
	}
	if (m == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->active = true;
	p->seq = ++s->seq;
	p->target_len = m->name_len;
	memcpy(p->target, mname(m), m->name_len);
	p->target_gen = m->gen;
	interval = scaled(s, s->cfg.probe_interval_ns);
	timeout = scaled(s, s->cfg.probe_timeout_ns);
	p->timeout_at = now + timeout;
	p->fail_at = s->cfg.indirect_timeout_ns ?
		now + timeout + scaled(s, s->cfg.indirect_timeout_ns) : now + interval;
	if (p->fail_at > now + interval)
		p->fail_at = now + interval;
	if (m->status == MESH_SWIM_SUSPECT) {
		/* a suspect is probed to confirm the suspicion and to carry its accusation
		 * (buddy system): no relays, its verdict at the ack timeout. A live suspect
		 * refutes on this ping; a confirmation only shortens the suspicion towards
		 * its floor. */
		p->indirect_sent = true;
		p->confirm = true;
		p->fail_at = p->timeout_at;
		member_rec(s, m, false, &buddy);
		first = &buddy;
	}
	to.ip = m->ip;
	to.port = m->port;
	CTR(s, swim_probe_sent);
	send_msg(s, &to, SWIM_MSG_PING, 0, p->seq, p->target, p->target_len, NULL, first);
}

static void
probe_indirect(struct mesh_swim *s)
{
	struct probe *p = &s->probe;
	uint32_t relays[16], n, tslot;
	struct mesh_swim_addr taddr;
	struct swim_rec buddy;
	uint32_t k = MESH_MIN(s->cfg.indirect_checks, 16u);

	p->indirect_sent = true;
	tslot = idx_find(s, p->target, p->target_len);
	if (tslot == NO_SLOT)
		return;
	taddr.ip = s->m[tslot].ip;
	taddr.port = s->m[tslot].port;
	n = pick_random(s, k, tslot, 0, ok_alive, relays);
	for (uint32_t i = 0; i < n; i++) {
		struct mesh_swim_addr to = { s->m[relays[i]].ip, s->m[relays[i]].port };

		CTR(s, swim_probe_indirect);
		p->asked[p->n_asked++] = to; /* only their relayed acks and nacks count */
		send_msg(s, &to, SWIM_MSG_PING_REQ, SWIM_F_NACK, p->seq, p->target,
			 p->target_len, &taddr, NULL);
	}
	p->expected_nacks = n;
	/* and a second direct ping (memberlist's fallback probe): a lost ping or ack alone no
	 * longer leaves the probe to the relays */
	CTR(s, swim_probe_retry);
	if (s->m[tslot].status == MESH_SWIM_SUSPECT)
		member_rec(s, &s->m[tslot], false, &buddy);
	send_msg(s, &taddr, SWIM_MSG_PING, 0, p->seq, p->target, p->target_len, NULL,
		 s->m[tslot].status == MESH_SWIM_SUSPECT ? &buddy : NULL);
}

/* ---------------------------------------------------------------- input */

/* The member that sent @m from @from (its life and address as we know them), or NO_SLOT. */
static uint32_t
sender_slot(const struct mesh_swim *s, const struct mesh_swim_addr *from,
	    const struct swim_msg *m)
{
	uint32_t slot = idx_find(s, m->sender, m->sender_len);

	if (slot == NO_SLOT || s->m[slot].gen != m->sender_gen || s->m[slot].ip != from->ip ||
	    s->m[slot].port != from->port)
		return NO_SLOT;
	return slot;
}

/* Is @from one of the relays asked to probe the current target? */
static bool
probe_asked(const struct mesh_swim *s, const struct mesh_swim_addr *from)
{
	for (uint32_t i = 0; i < s->probe.n_asked; i++)
		if (addr_eq(&s->probe.asked[i], from))
			return true;
	return false;
}

/*
 * An ack counts when it matches the sequence AND comes from the probed member itself (its
 * name, life and address) or from a relay we asked; a relay forwards only the target's
 * own ack. Sprayed acks never keep a dead member alive. True when it counted.
 */
static bool
on_ack(struct mesh_swim *s, const struct mesh_swim_addr *from, const struct swim_msg *m)
{
	if (s->probe.active && m->seq == s->probe.seq) {
		uint32_t slot = idx_find(s, s->probe.target, s->probe.target_len);
		bool direct = name_eq(m->sender, m->sender_len, s->probe.target,
				      s->probe.target_len) &&
			      m->sender_gen == s->probe.target_gen &&
			      sender_slot(s, from, m) != NO_SLOT;

		if (!direct && !probe_asked(s, from)) {
			CTR(s, swim_ack_refused);
			return false;
		}
		s->probe.acked = true;
		CTR(s, swim_probe_ack);
		s->probe.active = false;
		awareness_delta(s, -1);
		/* it answered but we still hold it suspect (the ack came through a relay, or
		 * lost its refutation): ping it directly again next period; its answer to the
		 * accusation carries its new incarnation */
		if (slot != NO_SLOT && s->m[slot].status == MESH_SWIM_SUSPECT &&
		    s->m[slot].gen == s->probe.target_gen)
			sring_add(s, &s->m[slot]);
		return true;
	}
	for (uint32_t i = 0; i < MAX_RELAYS; i++) {
		struct relay *r = &s->relays[i];

		if (r->used && r->seq == m->seq) {
			if (!addr_eq(from, &r->target) ||
			    mesh_hash64(m->sender, m->sender_len) != r->target_hash) {
				CTR(s, swim_ack_refused);
				return false;
			}
			send_msg(s, &r->origin, SWIM_MSG_ACK, 0, r->origin_seq, NULL, 0, NULL,
				 NULL);
			CTR(s, swim_relay_ack_fwd);
			r->used = false;
			s->n_relays--;
			return true;
		}
	}
	CTR(s, swim_rx_drop_stale_seq);
	return false;
}

/* @member: the sender is a live member at @from (decided before its records applied). */
static void
on_ping_req(struct mesh_swim *s, const struct mesh_swim_addr *from, const struct swim_msg *m,
	    bool member, uint64_t now)
{
	struct relay *r = NULL;
	uint32_t ts;

	CTR(s, swim_ping_req_rx);
	if (!member) { /* nobody else makes us ping an address */
		CTR(s, swim_ping_req_refused);
		return;
	}
	if (is_self(s, m->target, m->target_len)) { /* asked to probe ourselves: just ack */
		send_msg(s, from, SWIM_MSG_ACK, 0, m->seq, NULL, 0, NULL, NULL);
		return;
	}
	ts = idx_find(s, m->target, m->target_len);
	if (ts == NO_SLOT || !probe_eligible(&s->m[ts]) || s->m[ts].ip != m->target_addr.ip ||
	    s->m[ts].port != m->target_addr.port) {
		CTR(s, swim_ping_req_refused);
		return;
	}
	for (uint32_t i = 0; i < MAX_RELAYS && r == NULL; i++)
		if (!s->relays[i].used)
			r = &s->relays[i];
	if (r == NULL) {
		CTR(s, swim_ping_req_drop);
		return;
	}
	r->used = true;
	r->nack = (m->flags & SWIM_F_NACK) != 0;
	r->seq = ++s->seq;
	r->origin_seq = m->seq;
	r->origin = *from;
	r->target = m->target_addr;
	r->target_hash = mesh_hash64(m->target, m->target_len);
	r->deadline_ns = now + scaled(s, s->cfg.probe_timeout_ns);
	s->n_relays++;
	send_msg(s, &m->target_addr, SWIM_MSG_PING, 0, r->seq, m->target, m->target_len, NULL,
		 NULL);
}

/*
 * The sender speaks as a newer life, or from another address, than we hold for it (a
 * restart we refused to take from hearsay): show it our record of it (rate-limited); it
 * answers with its own, which we take first-hand.
 */
static bool
sender_moved(struct mesh_swim *s, const struct mesh_swim_addr *from, const struct swim_msg *m,
	     uint64_t now, struct swim_rec *r)
{
	uint32_t slot = idx_find(s, m->sender, m->sender_len);
	const struct member *mb;

	if (slot == NO_SLOT)
		return false;
	mb = &s->m[slot];
	if (m->sender_gen < mb->gen || (m->sender_gen == mb->gen && mb->ip == from->ip &&
					mb->port == from->port))
		return false;
	if (!mesh_ratelimit_allow(&s->prompt_rl, now))
		return false;
	member_rec(s, mb, false, r);
	return true;
}

/*
 * Is the sender a member we currently suspect, or one we declared dead that talks to us
 * in the same life from its address (a healed partition)? Fills its record (rate-limited)
 * so that it refutes to us directly.
 */
static bool
sender_accused(struct mesh_swim *s, const struct mesh_swim_addr *from,
	       const struct swim_msg *m, uint64_t now, struct swim_rec *r)
{
	uint32_t slot = idx_find(s, m->sender, m->sender_len);
	struct member *mb;
	struct susp *p;

	if (slot == NO_SLOT)
		return false;
	mb = &s->m[slot];
	if (mb->status == MESH_SWIM_DEAD && mb->gen == m->sender_gen && mb->ip == from->ip &&
	    mb->port == from->port) {
		if (!mesh_ratelimit_allow(&s->prompt_rl, now))
			return false;
		member_rec(s, mb, false, r);
		return true;
	}
	if (mb->status != MESH_SWIM_SUSPECT || mb->gen != m->sender_gen || mb->ext == NULL ||
	    (p = mb->ext->susp) == NULL)
		return false;
	if (p->prompted_ns && now - p->prompted_ns < s->cfg.probe_interval_ns)
		return false;
	p->prompted_ns = now;
	member_rec(s, mb, false, r);
	return true;
}

int
mesh_swim_input(struct mesh_swim *s, uint64_t now_ns, const struct mesh_swim_addr *from,
		const uint8_t *msg, size_t len)
{
	static const enum mesh_swim_counter dec_ctr[SWIM_DEC_MAX] = {
		[SWIM_DEC_SHORT] = MESH_SWIM_CTR_swim_rx_drop_short,
		[SWIM_DEC_VERSION] = MESH_SWIM_CTR_swim_rx_drop_version,
		[SWIM_DEC_TYPE] = MESH_SWIM_CTR_swim_rx_drop_type,
		[SWIM_DEC_FLAGS] = MESH_SWIM_CTR_swim_rx_drop_flags,
		[SWIM_DEC_NAME] = MESH_SWIM_CTR_swim_rx_drop_name,
		[SWIM_DEC_META] = MESH_SWIM_CTR_swim_rx_drop_meta,
		[SWIM_DEC_STATUS] = MESH_SWIM_CTR_swim_rx_drop_status,
		[SWIM_DEC_TRAILING] = MESH_SWIM_CTR_swim_rx_drop_trailing,
		[SWIM_DEC_TOO_MANY] = MESH_SWIM_CTR_swim_rx_drop_too_many,
	};
	struct swim_msg *m;
	enum swim_decode_err err;
	struct swim_rec accusation;
	bool pp, accused, known, live, prompt = false;
	uint32_t ss;

	if (s == NULL || from == NULL || (msg == NULL && len > 0))
		return -EINVAL;
	m = &s->dec;
	CTR(s, swim_rx_msgs);
	ctr_add(s, MESH_SWIM_CTR_swim_rx_bytes, len);
	err = swim_msg_decode(msg, len, s->cfg.meta_max, m);
	if (err != SWIM_DEC_OK) {
		CTR(s, swim_rx_drop_malformed);
		ctr_add(s, dec_ctr[err], 1);
		if (mesh_ratelimit_allow(&s->rl, now_ns))
			mesh_log(MESH_LOG_WARNING, "swim",
				 "%s: dropped malformed message from %u.%u.%u.%u:%u (%s, %zu B)",
				 s->cfg.name, from->ip >> 24, (from->ip >> 16) & 255,
				 (from->ip >> 8) & 255, from->ip & 255, from->port,
				 swim_decode_err_name(err), len);
		return -EBADMSG;
	}
	if (is_self(s, m->sender, m->sender_len) && m->sender_gen == s->cfg.gen) {
		CTR(s, swim_rx_drop_self);
		return -EBADMSG;
	}
	pp = m->type == SWIM_MSG_PUSH_PULL;
	s->reply_self = false;
	/* who the sender is decides before its records apply (a joiner is not a member yet):
	 * replies to a non-member are no larger than its message */
	ss = sender_slot(s, from, m);
	known = ss != NO_SLOT;
	live = known && probe_eligible(&s->m[ss]);
	s->rx_from = *from;
	s->rx_cap = known ? 0 : len;
	for (uint32_t i = 0; i < m->n_rec; i++) {
		const struct swim_rec *r = &m->rec[i];

		apply_rec(s, r, pp, (m->flags & SWIM_F_PP_JOIN) != 0,
			  name_eq(r->name, r->name_len, m->sender, m->sender_len) &&
				  r->gen == m->sender_gen && addr_eq(&r->addr, from),
			  now_ns);
	}
	/* a message from a member at the life and address we know confirms both */
	ss = sender_slot(s, from, m);
	if (ss != NO_SLOT)
		s->m[ss].verified = 1;
	else
		prompt = sender_moved(s, from, m, now_ns, &accusation);
	/* the sender is talking to us while we hold it suspect (or dead): tell it (at most
	 * once per probe interval), so that it refutes to us directly, not through gossip */
	accused = prompt || sender_accused(s, from, m, now_ns, &accusation);
	if (s->reply_self && m->type != SWIM_MSG_PING) {
		/* we were accused with a stale incarnation: answer with our record */
		struct swim_rec me;

		self_rec(s, &me);
		send_msg(s, from, SWIM_MSG_GOSSIP, 0, 0, NULL, 0, NULL, &me);
	} else if (accused && m->type != SWIM_MSG_PING) {
		send_msg(s, from, SWIM_MSG_GOSSIP, 0, 0, NULL, 0, NULL, &accusation);
	}
	switch (m->type) {
	case SWIM_MSG_PING:
		CTR(s, swim_ping_rx);
		if (!is_self(s, m->target, m->target_len)) {
			CTR(s, swim_rx_drop_wrong_target);
			break;
		}
		CTR(s, swim_ack_sent);
		send_msg(s, from, SWIM_MSG_ACK, 0, m->seq, NULL, 0, NULL,
			 accused ? &accusation : NULL);
		break;
	case SWIM_MSG_PING_REQ:
		on_ping_req(s, from, m, live, now_ns);
		break;
	case SWIM_MSG_ACK:
		if (on_ack(s, from, m) && !s->joined && s->n_seeds) {
			s->joined = true;
			CTR(s, swim_join_ok);
		}
		break;
	case SWIM_MSG_NACK:
		CTR(s, swim_nack_rx);
		if (s->probe.active && m->seq == s->probe.seq && !probe_asked(s, from))
			CTR(s, swim_ack_refused);
		else if (s->probe.active && m->seq == s->probe.seq)
			s->probe.nacks++;
		else
			CTR(s, swim_rx_drop_stale_seq);
		break;
	case SWIM_MSG_PUSH_PULL:
		CTR(s, swim_push_pull_rx);
		/* the answer to a join is flagged too: the joiner re-gossips what it learns
		 * (as memberlist does); periodic syncs are not (anti-entropy only) */
		/* the full table goes to members; to anyone else (a joiner) only within the
		 * join reply rate limit */
		if ((m->flags & SWIM_F_PP_REPLY) && !known &&
		    !mesh_ratelimit_allow(&s->join_rl, now_ns))
			CTR(s, swim_pp_reply_limited);
		else if (m->flags & SWIM_F_PP_REPLY)
			send_state(s, from, m->flags & SWIM_F_PP_JOIN);
		else if (!s->joined && sender_slot(s, from, m) != NO_SLOT) {
			s->joined = true;
			CTR(s, swim_join_ok);
		}
		break;
	default:
		break;
	}
	s->rx_cap = 0;
	if (!s->cfg.defer_flush)
		flush(s);
	return 0;
}

/* ---------------------------------------------------------------- liveness evidence */

int
mesh_swim_member_heard(struct mesh_swim *s, const char *name, size_t name_len, uint64_t gen,
		       uint64_t now_ns)
{
	struct probe *p = &s->probe;
	uint32_t slot;

	(void)now_ns;
	if (!p->active || p->target_gen != gen ||
	    !name_eq(p->target, p->target_len, name, name_len))
		return 0;
	slot = idx_find(s, name, name_len);
	if (slot == NO_SLOT || s->m[slot].gen != gen || !probe_eligible(&s->m[slot]))
		return 0;
	/* as an ack: the probe succeeded; a suspicion stands until the member refutes it,
	 * so a suspect is pinged again (with the accusation) as after a relayed ack */
	p->acked = true;
	p->active = false;
	CTR(s, swim_probe_heard);
	awareness_delta(s, -1);
	if (s->m[slot].status == MESH_SWIM_SUSPECT)
		sring_add(s, &s->m[slot]);
	return 1;
}

/* ---------------------------------------------------------------- tick */

static void
check_suspects(struct mesh_swim *s, uint64_t now)
{
	uint64_t next = FAR_FUTURE;

	for (uint32_t i = 0; i < s->n; i++) {
		struct member *m = &s->m[i];
		struct susp *p;

		if (m->status != MESH_SWIM_SUSPECT || m->ext == NULL || m->ext->susp == NULL)
			continue;
		p = m->ext->susp;
		if (p->deadline_ns <= now) {
			set_status(s, m, MESH_SWIM_DEAD, now);
			CTR(s, swim_dead);
			emit(s, MESH_SWIM_EV_DEAD, m, MESH_SWIM_SUSPECT);
			bc_queue(s, i, false);
			announce_small(s, i, false);
		} else if (p->deadline_ns < next) {
			next = p->deadline_ns;
		}
	}
	s->susp_next_ns = next;
}

static void
reap(struct mesh_swim *s, uint64_t now)
{
	uint64_t next = FAR_FUTURE;
	uint32_t w = 0, pos = s->probe_pos, removed_before = 0;
	bool removed = false;

	for (uint32_t i = 0; i < s->n; i++) {
		struct member *m = &s->m[i];

		if ((m->status == MESH_SWIM_DEAD || m->status == MESH_SWIM_LEFT) &&
		    now - m->change_ns >= s->cfg.dead_timeout_ns) {
			uint8_t st = m->status;

			CTR(s, swim_reaped);
			member_release(s, m, st);
			if (i < pos)
				removed_before++;
			removed = true;
			continue;
		}
		if (m->status == MESH_SWIM_DEAD || m->status == MESH_SWIM_LEFT) {
			uint64_t t = m->change_ns + s->cfg.dead_timeout_ns;

			if (t < next)
				next = t;
		}
		if (w != i) {
			s->m[w] = *m;
			if (s->m[w].bcast)
				s->bc[s->m[w].bcast - 1].slot = w;
		}
		w++;
	}
	s->n = w;
	s->probe_pos = pos - removed_before;
	if (s->probe_pos > s->n)
		s->probe_pos = s->n;
	if (removed)
		idx_rebuild(s, MESH_MAX(s->n, 8u));
	s->reap_next_ns = next;
}

static void
gossip(struct mesh_swim *s, uint64_t now, uint32_t fanout)
{
	uint32_t t[32], n;

	if (s->n_bcast == 0)
		return;
	n = pick_random(s, MESH_MIN(fanout, 32u), NO_SLOT, now, ok_gossip, t);
	for (uint32_t i = 0; i < n && s->n_bcast > 0; i++) {
		struct mesh_swim_addr to = { s->m[t[i]].ip, s->m[t[i]].port };

		CTR(s, swim_gossip_sent);
		send_msg(s, &to, SWIM_MSG_GOSSIP, 0, 0, NULL, 0, NULL, NULL);
	}
}

/*
 * A member we declared dead but not yet reaped is pinged now and then, with its death as
 * the accusation: if it is alive (a partition healed, a stall ended) it refutes in its
 * ack, whose piggyback brings us its new incarnation, and it tells us in turn if it holds
 * us dead (sender_accused). Two sides of a short partition that declared each other dead
 * meet again within DEAD_PING_PERIODS periods instead of the next push-pull. One ping per
 * interval in all, whatever the number of dead members.
 */
static void
dead_ping(struct mesh_swim *s, uint64_t now)
{
	struct mesh_swim_addr to;
	struct swim_rec r;
	uint32_t t;

	s->dead_ping_ns = now + DEAD_PING_PERIODS * scaled(s, s->cfg.probe_interval_ns);
	if (s->leaving || pick_random(s, 1, NO_SLOT, now, ok_dead, &t) == 0)
		return;
	to = (struct mesh_swim_addr){ s->m[t].ip, s->m[t].port };
	member_rec(s, &s->m[t], false, &r);
	CTR(s, swim_dead_ping);
	send_msg(s, &to, SWIM_MSG_PING, 0, ++s->seq, mname(&s->m[t]), s->m[t].name_len, NULL, &r);
}

static void
join_send(struct mesh_swim *s)
{
	for (uint32_t i = 0; i < s->n_seeds; i++) {
		CTR(s, swim_join_sent);
		send_state(s, &s->seeds[i], SWIM_F_PP_REPLY | SWIM_F_PP_JOIN);
	}
}

/*
 * Lifeguard's local health, from our own timeliness: a tick that comes more than a probe
 * timeout after the earliest deadline due since the previous tick means this node was not
 * running (a descheduled process on a shared core, a stalled loop). Acks and refutations
 * that arrived meanwhile are still queued behind this tick, so an unanswered probe and an
 * expired suspicion wait one more probe timeout (starved_until) for the input to be read
 * before they count against anybody, and our timeouts grow (awareness). True while the
 * grace runs.
 */
static bool
tick_late(struct mesh_swim *s, uint64_t now)
{
	uint64_t due = mesh_swim_next_deadline(s), grace = scaled(s, s->cfg.probe_timeout_ns);

	if (s->last_tick_ns != 0 && due > s->last_tick_ns && now > due && now - due > grace) {
		CTR(s, swim_tick_late);
		awareness_delta(s, 1);
		s->starved_until = now + grace;
	}
	s->last_tick_ns = now;
	return now < s->starved_until;
}

int
mesh_swim_tick(struct mesh_swim *s, uint64_t now)
{
	bool starved;

	if (s == NULL)
		return -EINVAL;
	/* a node that never called join (first node, no seeds) still does anti-entropy */
	if (s->cfg.push_pull_interval_ns && s->next_push_pull_ns == FAR_FUTURE)
		s->next_push_pull_ns = now + rnd_below(s, s->cfg.push_pull_interval_ns);
	starved = tick_late(s, now);
	/* failure detection */
	if (s->probe.active && !s->probe.indirect_sent && now >= s->probe.timeout_at)
		probe_indirect(s);
	if (s->probe.active && now >= s->probe.fail_at) {
		if (starved && !s->probe.acked)
			s->probe.fail_at = s->starved_until;
		else
			probe_finish(s, now);
	}
	if (s->probe.active) {
		/* an early probe still running: the period's probe waits for its end */
	} else if (now >= s->next_probe_ns) {
		if (!s->leaving)
			probe_start(s, now);
		s->next_probe_ns = now + scaled(s, s->cfg.probe_interval_ns);
	} else if (s->sring_n && !s->leaving && now >= s->urgent_gate_ns) {
		/* a suspect learnt from others is pinged now, not at our next period: if it
		 * is alive the ping carries the accusation and the ack its refutation, if
		 * it is dead our confirmation comes a period earlier */
		CTR(s, swim_probe_urgent);
		probe_start(s, now);
		s->urgent_gate_ns = now + scaled(s, s->cfg.probe_interval_ns) / 2;
	}
	/* relays that saw no ack: nack the prober */
	if (s->n_relays) {
		for (uint32_t i = 0; i < MAX_RELAYS; i++) {
			struct relay *r = &s->relays[i];

			if (!r->used || now < r->deadline_ns)
				continue;
			if (r->nack) {
				CTR(s, swim_nack_sent);
				send_msg(s, &r->origin, SWIM_MSG_NACK, 0, r->origin_seq, NULL, 0,
					 NULL, NULL);
			}
			r->used = false;
			s->n_relays--;
		}
	}
	if (now >= s->susp_next_ns) {
		if (starved)
			s->susp_next_ns = s->starved_until;
		else
			check_suspects(s, now);
	}
	if (now >= s->reap_next_ns)
		reap(s, now);
	if (s->count[MESH_SWIM_DEAD] && now >= s->dead_ping_ns)
		dead_ping(s, now);
	if (now >= s->next_gossip_ns) {
		gossip(s, now, s->cfg.gossip_nodes);
		s->next_gossip_ns = now + s->cfg.gossip_interval_ns;
	}
	if (s->cfg.push_pull_interval_ns && now >= s->next_push_pull_ns) {
		uint32_t t = 0, nd = s->count[MESH_SWIM_DEAD], na = s->count[MESH_SWIM_ALIVE];
		bool found;

		/* reconnect (as serf does): sometimes sync with a member we believe dead, so
		 * that the two sides of a healed partition find each other again */
		if (nd && rnd_below(s, (uint64_t)nd + na) < nd)
			found = pick_random(s, 1, NO_SLOT, now, ok_dead, &t) != 0;
		else
			found = pick_random(s, 1, NO_SLOT, now, ok_alive, &t) != 0;
		if (!s->leaving && s->joined && found) {
			struct mesh_swim_addr to = { s->m[t].ip, s->m[t].port };

			send_state(s, &to, SWIM_F_PP_REPLY);
		}
		/* now and then, sync with a seed we do not see alive: heals partitions that
		 * outlasted the dead timeout (both sides reaped each other) */
		if (!s->leaving && s->joined && s->n_seeds && rnd_below(s, 4) == 0) {
			const struct mesh_swim_addr *sd = &s->seeds[rnd_below(s, s->n_seeds)];
			bool seen = false;

			for (uint32_t i = 0; i < s->n && !seen; i++)
				seen = s->m[i].ip == sd->ip && s->m[i].port == sd->port &&
				       probe_eligible(&s->m[i]);
			if (!seen)
				send_state(s, sd, SWIM_F_PP_REPLY);
		}
		/* alone (everyone else dead or reaped): go back to the seeds */
		if (!s->leaving && s->joined && s->n_seeds && na == 0 &&
		    s->count[MESH_SWIM_SUSPECT] == 0) {
			s->joined = false;
			s->join_next_ns = now;
			s->join_backoff_ns = s->cfg.join_retry_ns ? s->cfg.join_retry_ns :
								    MESH_NS_PER_SEC;
		}
		s->next_push_pull_ns =
			now + mesh_swim_push_pull_scale(s->cfg.push_pull_interval_ns, n_est(s));
	}
	if (!s->joined && !s->leaving && s->n_seeds && now >= s->join_next_ns) {
		CTR(s, swim_join_retry);
		join_send(s);
		s->join_next_ns = now + s->join_backoff_ns;
		s->join_backoff_ns = MESH_MIN(s->join_backoff_ns * 2, s->cfg.join_retry_max_ns);
	}
	if (!s->cfg.defer_flush)
		flush(s);
	return 0;
}

void
mesh_swim_flush(struct mesh_swim *s)
{
	if (s != NULL)
		flush(s);
}

uint64_t
mesh_swim_next_deadline(const struct mesh_swim *s)
{
	uint64_t t = s->next_probe_ns;

	if (s->probe.active) { /* no probe starts before this one's ack or failure time */
		t = s->probe.fail_at;
		if (!s->probe.indirect_sent)
			t = MESH_MIN(t, s->probe.timeout_at);
	} else if (s->sring_n && !s->leaving) {
		t = MESH_MIN(t, s->urgent_gate_ns);
	}
	if (s->n_bcast)
		t = MESH_MIN(t, s->next_gossip_ns);
	if (s->count[MESH_SWIM_DEAD] && !s->leaving)
		t = MESH_MIN(t, s->dead_ping_ns);
	if (s->cfg.push_pull_interval_ns && s->joined && s->n)
		t = MESH_MIN(t, s->next_push_pull_ns);
	t = MESH_MIN(t, s->susp_next_ns);
	t = MESH_MIN(t, s->reap_next_ns);
	if (!s->joined && s->n_seeds)
		t = MESH_MIN(t, s->join_next_ns);
	if (s->n_relays)
		for (uint32_t i = 0; i < MAX_RELAYS; i++)
			if (s->relays[i].used)
				t = MESH_MIN(t, s->relays[i].deadline_ns);
	return t ? t : 1;
}

/* ---------------------------------------------------------------- lifecycle */

struct mesh_swim *
mesh_swim_new(const struct mesh_swim_cfg *cfg, const struct mesh_swim_env_ops *ops, void *ctx)
{
	struct mesh_swim *s;
	size_t name_len;
	uint32_t rec_cap;

	if (cfg == NULL || ops == NULL || ops->send == NULL || ops->random == NULL) {
		errno = EINVAL;
		return NULL;
	}
	name_len = strnlen(cfg->name, sizeof(cfg->name));
	if (name_len == 0 || name_len > MESH_SWIM_NAME_MAX || cfg->gen == 0 ||
	    cfg->max_msg < MESH_SWIM_MIN_MAX_MSG || cfg->max_msg > MESH_SWIM_MAX_MAX_MSG ||
	    cfg->meta_max > MESH_SWIM_META_MAX || cfg->meta_len > cfg->meta_max ||
	    (cfg->meta_len && cfg->meta == NULL) || cfg->probe_interval_ns == 0 ||
	    cfg->probe_timeout_ns == 0 || cfg->probe_timeout_ns > cfg->probe_interval_ns ||
	    cfg->gossip_interval_ns == 0 || cfg->awareness_max == 0 ||
	    cfg->max_msg < 64u + SWIM_REC_FIXED + 2u * MESH_SWIM_NAME_MAX + cfg->meta_max / 4u) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.meta = NULL;
	s->ops = *ops;
	s->ctx = ctx;
	s->name_len = (uint8_t)name_len;
	s->status = MESH_SWIM_ALIVE;
	if (cfg->meta_len) {
		s->meta = malloc(cfg->meta_len);
		if (s->meta == NULL)
			goto nomem;
		memcpy(s->meta, cfg->meta, cfg->meta_len);
		s->meta_len = (uint16_t)cfg->meta_len;
	}
	rec_cap = cfg->max_msg / (SWIM_REC_FIXED + 1) + 1;
	s->dec.rec = calloc(rec_cap, sizeof(*s->dec.rec));
	if (s->dec.rec == NULL)
		goto nomem;
	s->dec.rec_cap = rec_cap;
	s->joined = true; /* until join() is called with seeds */
	s->susp_next_ns = FAR_FUTURE;
	s->reap_next_ns = FAR_FUTURE;
	s->next_probe_ns = 0;
	s->next_gossip_ns = 0;
	s->next_push_pull_ns = FAR_FUTURE;
	s->rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(MESH_NS_PER_SEC, 5);
	/* push-pull replies (the whole table) to non-members: 8 per 100 ms */
	s->join_rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(100 * MESH_NS_PER_MS, 8);
	s->prompt_rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(100 * MESH_NS_PER_MS, 16);
	if (cfg->size_hint) {
		uint32_t cap = MESH_MIN(cfg->size_hint, 1u << 24);

		s->m = malloc(sizeof(*s->m) * cap);
		if (s->m == NULL || idx_rebuild(s, cap) < 0)
			goto nomem;
		s->cap = cap;
	}
	return s;
nomem:
	mesh_swim_delete(s);
	errno = ENOMEM;
	return NULL;
}

void
mesh_swim_delete(struct mesh_swim *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n; i++) {
		struct member_ext *x = s->m[i].ext;

		if (x) {
			free(x->long_name);
			free(x->meta);
			free(x->susp);
			free(x);
		}
	}
	free(s->m);
	free(s->idx);
	free(s->bc);
	free(s->obuf);
	free(s->meta);
	free(s->dec.rec);
	free(s);
}

int
mesh_swim_join(struct mesh_swim *s, const struct mesh_swim_addr *seeds, size_t n,
	       uint64_t now_ns)
{
	if (s == NULL || (n && seeds == NULL))
		return -EINVAL;
	s->n_seeds = 0;
	for (size_t i = 0; i < n && s->n_seeds < MAX_SEEDS; i++)
		if (!addr_eq(&seeds[i], &s->cfg.addr) && seeds[i].port != 0)
			s->seeds[s->n_seeds++] = seeds[i];
	bc_queue(s, SELF_SLOT, false);
	/* stagger the first push-pull over one interval */
	if (s->cfg.push_pull_interval_ns)
		s->next_push_pull_ns = now_ns + rnd_below(s, s->cfg.push_pull_interval_ns);
	s->next_probe_ns = now_ns + rnd_below(s, s->cfg.probe_interval_ns);
	if (s->n_seeds == 0) {
		s->joined = true;
		return 0;
	}
	s->joined = false;
	join_send(s);
	s->join_backoff_ns = s->cfg.join_retry_ns ? s->cfg.join_retry_ns : MESH_NS_PER_SEC;
	s->join_next_ns = now_ns + s->join_backoff_ns;
	s->join_backoff_ns = MESH_MIN(s->join_backoff_ns * 2,
				      MESH_MAX(s->cfg.join_retry_max_ns, s->join_backoff_ns));
	flush(s);
	return 0;
}

bool
mesh_swim_joined(const struct mesh_swim *s)
{
	return s->joined;
}

int
mesh_swim_leave(struct mesh_swim *s, uint64_t now_ns)
{
	if (s == NULL)
		return -EINVAL;
	if (s->leaving)
		return -EALREADY;
	CTR(s, swim_leave);
	s->leaving = true;
	s->status = MESH_SWIM_LEFT;
	s->inc++;
	s->probe.active = false;
	bc_queue(s, SELF_SLOT, false);
	/* every member hears it from us directly (one message each); the record also stays
	 * queued, riding on all we send until we stop (bc_sticky) */
	(void)now_ns;
	ctr_add(s, MESH_SWIM_CTR_swim_leave_sent, announce(s, SELF_SLOT, false, LEAVE_DIRECT_MAX));
	flush(s);
	return 0;
}

int
mesh_swim_meta_set(struct mesh_swim *s, const uint8_t *meta, size_t len, uint64_t now_ns)
{
	uint8_t *nm = NULL;

	(void)now_ns;
	if (s == NULL || len > s->cfg.meta_max || (len && meta == NULL))
		return -EINVAL;
	if (len) {
		nm = malloc(len);
		if (nm == NULL)
			return -ENOMEM;
		memcpy(nm, meta, len);
	}
	free(s->meta);
	s->meta = nm;
	s->meta_len = (uint16_t)len;
	if (s->inc < UINT32_MAX - 1) /* 0xFFFFFFFF is reserved */
		s->inc++;
	bc_queue(s, SELF_SLOT, false);
	return 0;
}

/* ---------------------------------------------------------------- queries */

static void
info_fill(const struct member *m, struct mesh_swim_member_info *o)
{
	o->name = mname(m);
	o->name_len = m->name_len;
	o->gen = m->gen;
	o->inc = m->inc;
	o->status = (enum mesh_swim_status)m->status;
	o->addr.ip = m->ip;
	o->addr.port = m->port;
	o->meta = m->ext ? m->ext->meta : NULL;
	o->meta_len = m->ext ? m->ext->meta_len : 0;
	o->change_ns = m->change_ns;
}

size_t
mesh_swim_member_count(const struct mesh_swim *s, int status)
{
	if (status == 0)
		return s->n;
	if (status < MESH_SWIM_ALIVE || status > MESH_SWIM_LEFT)
		return 0;
	return s->count[status];
}

int
mesh_swim_member_get(const struct mesh_swim *s, const char *name, size_t name_len,
		     struct mesh_swim_member_info *out)
{
	uint32_t slot;

	if (is_self(s, name, name_len)) {
		mesh_swim_self(s, out);
		return 0;
	}
	slot = idx_find(s, name, name_len);
	if (slot == NO_SLOT)
		return -ENOENT;
	info_fill(&s->m[slot], out);
	return 0;
}

int
mesh_swim_member_at(const struct mesh_swim *s, size_t idx, struct mesh_swim_member_info *out)
{
	if (idx >= s->n)
		return -ENOENT;
	info_fill(&s->m[idx], out);
	return 0;
}

void
mesh_swim_self(const struct mesh_swim *s, struct mesh_swim_member_info *o)
{
	o->name = s->cfg.name;
	o->name_len = s->name_len;
	o->gen = s->cfg.gen;
	o->inc = s->inc;
	o->status = (enum mesh_swim_status)s->status;
	o->addr = s->cfg.addr;
	o->meta = s->meta;
	o->meta_len = s->meta_len;
	o->change_ns = 0;
}

uint32_t
mesh_swim_health(const struct mesh_swim *s)
{
	return s->awareness;
}

void
mesh_swim_counters_get(const struct mesh_swim *s, uint64_t *out)
{
	for (int i = 0; i < MESH_SWIM_CTR_MAX; i++)
		out[i] = mesh_counter_read(&s->ctr[i]);
}

uint64_t
mesh_swim_counter(const struct mesh_swim *s, enum mesh_swim_counter c)
{
	return (unsigned)c < MESH_SWIM_CTR_MAX ? mesh_counter_read(&s->ctr[c]) : 0;
}
