/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/swim: the blob codec (round trips and every malformed case), the
 * timer/scaling formulas, the incarnation/generation rules, refutation, piggyback
 * selection and the API contract.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_common.h"
#include "mesh_swim.h"
#include "swim_internal.h"

#define SEC MESH_NS_PER_SEC
#define MS MESH_NS_PER_MS

static struct swim_rec rec_buf[SWIM_MAX_RECORDS];

static enum swim_decode_err
dec(const uint8_t *b, size_t len, struct swim_msg *m)
{
	m->rec = rec_buf;
	m->rec_cap = SWIM_MAX_RECORDS;
	return swim_msg_decode(b, len, 512, m);
}

static struct swim_rec
mkrec(uint8_t status, const char *name, uint64_t gen, uint32_t inc)
{
	struct swim_rec r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.name = name;
	r.name_len = (uint8_t)strlen(name);
	r.gen = gen;
	r.inc = inc;
	r.addr.ip = 0x0A000000u + (uint32_t)strlen(name);
	r.addr.port = 7946;
	if (status == MESH_SWIM_SUSPECT) {
		r.from = "accuser";
		r.from_len = 7;
	}
	return r;
}

/* A gossip blob with @n records (sender "snd" gen 5). */
static size_t
mkblob(uint8_t *buf, size_t cap, uint8_t type, uint8_t flags, const struct swim_rec *recs,
       size_t n)
{
	struct swim_enc e;
	struct mesh_swim_addr ta = { 0x01020304u, 99 };

	swim_enc_begin(&e, buf, cap, type, flags, "snd", 3, 5, 77, "tgt", 3, &ta);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(swim_enc_rec(&e, &recs[i], cap), 0);
	return swim_enc_end(&e);
}

/* ---------------------------------------------------------------- codec */

static void
test_codec_roundtrip(void **state)
{
	static const uint8_t types[] = { SWIM_MSG_PING, SWIM_MSG_PING_REQ, SWIM_MSG_ACK,
					 SWIM_MSG_NACK, SWIM_MSG_GOSSIP, SWIM_MSG_PUSH_PULL };
	uint8_t buf[1500], meta[512];
	struct swim_rec recs[4];
	struct swim_msg m;
	size_t len;

	(void)state;
	memset(meta, 0xab, sizeof(meta));
	recs[0] = mkrec(MESH_SWIM_ALIVE, "alpha", 1, 0);
	recs[0].meta = meta;
	recs[0].meta_len = 512;
	recs[1] = mkrec(MESH_SWIM_SUSPECT, "beta", 2, 7);
	recs[2] = mkrec(MESH_SWIM_DEAD, "gamma", UINT64_MAX, UINT32_MAX);
	recs[3] = mkrec(MESH_SWIM_LEFT,
			"a-name-that-is-exactly-sixty-four-bytes-long-xxxxxxxxxxxxxxxxxxx", 3, 1);
	assert_int_equal(recs[3].name_len, 64);
	for (size_t t = 0; t < sizeof(types); t++) {
		uint8_t flags = types[t] == SWIM_MSG_PING_REQ	? SWIM_F_NACK :
				types[t] == SWIM_MSG_PUSH_PULL	? SWIM_F_PP_REPLY | SWIM_F_PP_JOIN :
								  0;

		len = mkblob(buf, sizeof(buf), types[t], flags, recs, 4);
		assert_true(len > 0);
		assert_int_equal(dec(buf, len, &m), SWIM_DEC_OK);
		assert_int_equal(m.type, types[t]);
		assert_int_equal(m.flags, flags);
		assert_int_equal(m.sender_len, 3);
		assert_memory_equal(m.sender, "snd", 3);
		assert_int_equal(m.sender_gen, 5);
		if (types[t] <= SWIM_MSG_NACK)
			assert_int_equal(m.seq, 77);
		if (types[t] == SWIM_MSG_PING || types[t] == SWIM_MSG_PING_REQ) {
			assert_int_equal(m.target_len, 3);
			assert_memory_equal(m.target, "tgt", 3);
		}
		if (types[t] == SWIM_MSG_PING_REQ) {
			assert_int_equal(m.target_addr.ip, 0x01020304u);
			assert_int_equal(m.target_addr.port, 99);
		}
		assert_int_equal(m.n_rec, 4);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(m.rec[i].status, recs[i].status);
			assert_int_equal(m.rec[i].name_len, recs[i].name_len);
			assert_memory_equal(m.rec[i].name, recs[i].name, recs[i].name_len);
			assert_int_equal(m.rec[i].gen, recs[i].gen);
			assert_int_equal(m.rec[i].inc, recs[i].inc);
			assert_int_equal(m.rec[i].addr.ip, recs[i].addr.ip);
			assert_int_equal(m.rec[i].addr.port, recs[i].addr.port);
			assert_int_equal(m.rec[i].meta_len, recs[i].meta_len);
			assert_int_equal(len >= swim_rec_size(&recs[i]), 1);
		}
		assert_memory_equal(m.rec[0].meta, meta, 512);
		assert_int_equal(m.rec[1].from_len, 7);
		assert_memory_equal(m.rec[1].from, "accuser", 7);
		assert_null(m.rec[2].from);
	}
}

static void
test_codec_encoder_limits(void **state)
{
	uint8_t buf[200];
	struct swim_enc e;
	struct swim_rec r = mkrec(MESH_SWIM_ALIVE, "x", 1, 1);
	size_t n = 0;

	(void)state;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, "s", 1, 1, 0, NULL, 0, NULL);
	while (swim_enc_rec(&e, &r, 150) == 0)
		n++;
	assert_true(n > 0);
	assert_true(e.len <= 150);
	assert_int_equal(e.len + swim_rec_size(&r) > 150, 1);
	assert_true(swim_enc_end(&e) > 0);
	/* a suspect record without a "from" is refused */
	r = mkrec(MESH_SWIM_SUSPECT, "y", 1, 1);
	r.from_len = 0;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, "s", 1, 1, 0, NULL, 0, NULL);
	assert_int_equal(swim_enc_rec(&e, &r, sizeof(buf)), -1);
	/* overflow of the header itself */
	swim_enc_begin(&e, buf, 5, SWIM_MSG_GOSSIP, 0, "sender", 6, 1, 0, NULL, 0, NULL);
	assert_int_equal(swim_enc_end(&e), 0);
	/* empty sender name */
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, "", 0, 1, 0, NULL, 0, NULL);
	assert_int_equal(swim_enc_end(&e), 0);
}

static void
test_codec_truncations(void **state)
{
	uint8_t buf[1500];
	struct swim_rec recs[3] = { mkrec(MESH_SWIM_ALIVE, "a", 1, 1),
				    mkrec(MESH_SWIM_SUSPECT, "bb", 1, 2),
				    mkrec(MESH_SWIM_DEAD, "ccc", 1, 3) };
	struct swim_msg m;

	(void)state;
	for (uint8_t type = 1; type <= SWIM_MSG_TYPE_MAX; type++) {
		size_t len = mkblob(buf, sizeof(buf), type, 0, recs, 3);

		assert_int_equal(dec(buf, len, &m), SWIM_DEC_OK);
		for (size_t l = 0; l < len; l++)
			assert_int_equal(dec(buf, l, &m), SWIM_DEC_SHORT);
		/* trailing byte */
		buf[len] = 0;
		assert_int_equal(dec(buf, len + 1, &m), SWIM_DEC_TRAILING);
	}
	assert_int_equal(swim_msg_decode(NULL, 0, 512, &m), SWIM_DEC_SHORT);
}

static void
test_codec_malformed_fields(void **state)
{
	uint8_t buf[1500], meta[600];
	struct swim_rec r = mkrec(MESH_SWIM_ALIVE, "abc", 1, 1);
	struct swim_msg m;
	size_t len, roff;

	(void)state;
	memset(meta, 1, sizeof(meta));
	len = mkblob(buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, &r, 1);
	/* layout: ver type flags | slen "snd" | gen(8) | nrec(2) | record... */
	roff = 4 + 3 + 8 + 2;
	buf[0] = 2;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_VERSION);
	buf[0] = SWIM_WIRE_VERSION;
	buf[1] = 0;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_TYPE);
	buf[1] = SWIM_MSG_TYPE_MAX + 1;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_TYPE);
	buf[1] = SWIM_MSG_GOSSIP;
	buf[2] = 1; /* no flags defined for gossip */
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_FLAGS);
	buf[1] = SWIM_MSG_PUSH_PULL;
	buf[2] = 4;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_FLAGS);
	buf[1] = SWIM_MSG_GOSSIP;
	buf[2] = 0;
	buf[3] = 0; /* empty sender */
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[3] = 65;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[3] = 3;
	buf[5] = 0; /* NUL inside the sender name */
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[5] = 'n';
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_OK);
	/* record status */
	buf[roff] = 0;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_STATUS);
	buf[roff] = 5;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_STATUS);
	buf[roff] = MESH_SWIM_ALIVE;
	/* record name */
	buf[roff + 1] = 0;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[roff + 1] = 200;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[roff + 1] = 3;
	buf[roff + 3] = 0;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	buf[roff + 3] = 'b';
	/* a suspect record whose "from" is missing */
	buf[roff] = MESH_SWIM_SUSPECT;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_SHORT);
	buf[roff] = MESH_SWIM_ALIVE;
	/* record count larger than the records present / than the capacity */
	buf[roff - 1] = 2;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_SHORT);
	buf[roff - 2] = 0xff;
	buf[roff - 1] = 0xff;
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_TOO_MANY);
	buf[roff - 2] = 0;
	buf[roff - 1] = 1;
	m.rec = rec_buf;
	m.rec_cap = 0;
	assert_int_equal(swim_msg_decode(buf, len, 512, &m), SWIM_DEC_TOO_MANY);
	/* metadata over the bound */
	r.meta = meta;
	r.meta_len = 600;
	len = mkblob(buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, &r, 1);
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_META);
	m.rec = rec_buf;
	m.rec_cap = 4;
	assert_int_equal(swim_msg_decode(buf, len, 600, &m), SWIM_DEC_OK);
	/* ping with a bad target name */
	r.meta_len = 0;
	len = mkblob(buf, sizeof(buf), SWIM_MSG_PING, 0, &r, 1);
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_OK);
	buf[4 + 3 + 8 + 4] = 0; /* target length */
	assert_int_equal(dec(buf, len, &m), SWIM_DEC_NAME);
	for (int e = 0; e <= SWIM_DEC_MAX; e++)
		assert_non_null(swim_decode_err_name((enum swim_decode_err)e));
}

/* ---------------------------------------------------------------- formulas */

static void
test_formulas(void **state)
{
	(void)state;
	/* anchors.md §1.3 table (LAN: mult 4, interval 1 s) */
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 1, SEC), 4 * SEC);
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 10, SEC), 4 * SEC);
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 100, SEC), 8 * SEC);
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 1000, SEC), 12 * SEC);
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 10000, SEC), 16 * SEC);
	assert_int_equal(mesh_swim_suspicion_timeout_ns(4, 0, SEC), 4 * SEC);
	assert_int_equal(mesh_swim_retransmit_limit(4, 10), 8);
	assert_int_equal(mesh_swim_retransmit_limit(4, 100), 12);
	assert_int_equal(mesh_swim_retransmit_limit(4, 1000), 16);
	assert_int_equal(mesh_swim_retransmit_limit(4, 10000), 20);
	assert_int_equal(mesh_swim_retransmit_limit(4, 0), 0);
	assert_int_equal(mesh_swim_push_pull_scale(30 * SEC, 10), 30 * SEC);
	assert_int_equal(mesh_swim_push_pull_scale(30 * SEC, 32), 30 * SEC);
	assert_int_equal(mesh_swim_push_pull_scale(30 * SEC, 100), 90 * SEC);
	assert_int_equal(mesh_swim_push_pull_scale(30 * SEC, 1000), 180 * SEC);
	assert_int_equal(mesh_swim_push_pull_scale(30 * SEC, 10000), 300 * SEC);
	/* Lifeguard: max with no confirmation, min with k, log-scaled between */
	assert_int_equal(mesh_swim_suspicion_remaining_ns(0, 3, 0, 2 * SEC, 12 * SEC),
			 12 * (int64_t)SEC);
	assert_int_equal(mesh_swim_suspicion_remaining_ns(3, 3, 0, 2 * SEC, 12 * SEC),
			 2 * (int64_t)SEC);
	assert_int_equal(mesh_swim_suspicion_remaining_ns(5, 3, 0, 2 * SEC, 12 * SEC),
			 2 * (int64_t)SEC);
	/* one of three: 12 - log(2)/log(4) * 10 = 7 s */
	assert_int_equal(mesh_swim_suspicion_remaining_ns(1, 3, 0, 2 * SEC, 12 * SEC),
			 7 * (int64_t)SEC);
	assert_int_equal(mesh_swim_suspicion_remaining_ns(1, 3, 8 * SEC, 2 * SEC, 12 * SEC),
			 -1 * (int64_t)SEC);
	assert_int_equal(mesh_swim_suspicion_remaining_ns(0, 0, 0, 2 * SEC, 12 * SEC),
			 2 * (int64_t)SEC);
	assert_string_equal(mesh_swim_status_name(MESH_SWIM_SUSPECT), "suspect");
	assert_string_equal(mesh_swim_status_name(9), "?");
	assert_string_equal(mesh_swim_event_name(MESH_SWIM_EV_CONFLICT), "conflict");
	assert_string_equal(mesh_swim_counter_names()[MESH_SWIM_CTR_swim_probe_sent],
			    "swim_probe_sent");
	assert_string_equal(mesh_swim_counter_names()[MESH_SWIM_CTR_swim_rx_drop_malformed],
			    "swim_rx_drop_malformed");
	assert_string_equal(mesh_swim_counter_descs()[MESH_SWIM_CTR_swim_probe_failed],
			    "probes that got no ack, direct or indirect");
	for (int c = 0; c < MESH_SWIM_CTR_MAX; c++)
		assert_true(strlen(mesh_swim_counter_descs()[c]) > 8);
}

/* ---------------------------------------------------------------- state machine harness */

#define MAX_CAP 256
#define MAX_EV 512

struct harness {
	struct mesh_rng rng;
	struct {
		struct mesh_swim_addr to;
		size_t len;
		uint8_t b[2048];
	} sent[MAX_CAP];
	unsigned n_sent;
	unsigned batches;
	struct mesh_swim_event ev[MAX_EV];
	char ev_name[MAX_EV][MESH_SWIM_NAME_MAX + 1];
	unsigned n_ev;
};

static void
h_send(void *ctx, const struct mesh_swim_pkt *p, unsigned n)
{
	struct harness *h = ctx;

	assert_true(n >= 1 && n <= MESH_SWIM_SEND_BATCH);
	h->batches++;
	for (unsigned i = 0; i < n; i++) {
		assert_true(p[i].len <= MESH_SWIM_DEFAULT_MAX_MSG);
		if (h->n_sent < MAX_CAP) {
			h->sent[h->n_sent].to = p[i].to;
			h->sent[h->n_sent].len = p[i].len;
			memcpy(h->sent[h->n_sent].b, p[i].msg, p[i].len);
			h->n_sent++;
		}
	}
}

static uint64_t
h_random(void *ctx)
{
	struct harness *h = ctx;

	return mesh_rng_next(&h->rng);
}

static void
h_event(void *ctx, const struct mesh_swim_event *ev)
{
	struct harness *h = ctx;

	if (h->n_ev < MAX_EV) {
		h->ev[h->n_ev] = *ev;
		memcpy(h->ev_name[h->n_ev], ev->name, ev->name_len);
		h->ev_name[h->n_ev][ev->name_len] = 0;
		h->ev[h->n_ev].name = h->ev_name[h->n_ev];
		h->n_ev++;
	}
}

static const struct mesh_swim_env_ops h_ops = { h_send, h_random, h_event };

static struct mesh_swim *
h_new(struct harness *h, const char *name)
{
	struct mesh_swim_cfg cfg;
	struct mesh_swim *s;

	memset(h, 0, sizeof(*h));
	mesh_rng_seed(&h->rng, 42);
	mesh_swim_cfg_lan(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.gen = 10;
	cfg.addr = (struct mesh_swim_addr){ 0x0A000001u, 7946 };
	s = mesh_swim_new(&cfg, &h_ops, h);
	assert_non_null(s);
	return s;
}

static const struct mesh_swim_addr peer_addr = { 0x0A0000FEu, 7946 };

/* Deliver one gossip blob with @r from "peer" (gen 1). */
static int
feed(struct mesh_swim *s, uint64_t now, uint8_t type, const struct swim_rec *r, size_t n)
{
	uint8_t buf[1500];
	struct swim_enc e;

	swim_enc_begin(&e, buf, sizeof(buf), type, 0, "peer", 4, 1, 1, "self", 4, NULL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(swim_enc_rec(&e, &r[i], sizeof(buf)), 0);
	return mesh_swim_input(s, now, &peer_addr, buf, swim_enc_end(&e));
}

/* Deliver one blob of @type from @sender (life @gen) at @from: a first-hand message when
 * the records are the sender's own. */
static int
feed_as(struct mesh_swim *s, uint64_t now, uint8_t type, uint8_t flags, const char *sender,
	uint64_t gen, struct mesh_swim_addr from, uint32_t seq, const struct swim_rec *r,
	size_t n)
{
	uint8_t buf[1500];
	struct swim_enc e;

	swim_enc_begin(&e, buf, sizeof(buf), type, flags, sender, strlen(sender), gen, seq,
		       "self", 4, NULL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(swim_enc_rec(&e, &r[i], sizeof(buf)), 0);
	return mesh_swim_input(s, now, &from, buf, swim_enc_end(&e));
}

static struct swim_rec
hrec(uint8_t status, const char *name, uint64_t gen, uint32_t inc, uint32_t ip)
{
	struct swim_rec r = mkrec(status, name, gen, inc);

	r.addr.ip = ip;
	return r;
}

static enum mesh_swim_status
status_of(struct mesh_swim *s, const char *name, uint32_t *inc, uint64_t *gen)
{
	struct mesh_swim_member_info mi;

	if (mesh_swim_member_get(s, name, strlen(name), &mi) != 0)
		return 0;
	if (inc)
		*inc = mi.inc;
	if (gen)
		*gen = mi.gen;
	return mi.status;
}

static const struct mesh_swim_event *
last_ev(const struct harness *h)
{
	static const struct mesh_swim_event none;

	return h->n_ev ? &h->ev[h->n_ev - 1] : &none;
}

static void
test_incarnation_rules(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r;
	uint32_t inc;
	uint64_t gen;
	unsigned ne;

	(void)state;
	/* a few bystanders so that confirmations count (k = mult - 2 needs N >= k + 2) */
	for (int i = 0; i < 4; i++) {
		static const char *const by[] = { "b1", "b2", "b3", "b4" };

		r = hrec(MESH_SWIM_ALIVE, by[i], 1, 0, 100 + (uint32_t)i);
		feed(s, 0, SWIM_MSG_GOSSIP, &r, 1);
	}
	h->n_ev = 0;
	/* unknown suspect/dead/left rumours do not create members */
	r = hrec(MESH_SWIM_SUSPECT, "x", 1, 0, 5);
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1);
	r.status = MESH_SWIM_DEAD;
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), 0);
	assert_int_equal(h->n_ev, 0);
	/* alive introduces */
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 3, 5);
	feed(s, 2, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 3);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_ALIVE);
	assert_int_equal(last_ev(h)->prev_status, 0);
	assert_string_equal(last_ev(h)->name, "x");
	assert_int_equal(mesh_swim_member_count(s, 0), 5);
	/* same incarnation alive: nothing; lower suspect: stale */
	ne = h->n_ev;
	feed(s, 3, SWIM_MSG_GOSSIP, &r, 1);
	r = hrec(MESH_SWIM_SUSPECT, "x", 1, 2, 5);
	feed(s, 3, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(h->n_ev, ne);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_ALIVE);
	/* suspect at the same incarnation overrides alive */
	r.inc = 3;
	feed(s, 4, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_SUSPECT);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_SUSPECT);
	assert_int_equal(mesh_swim_member_count(s, MESH_SWIM_SUSPECT), 1);
	/* a second accuser is a confirmation, not an event */
	ne = h->n_ev;
	r.from = "other";
	r.from_len = 5;
	feed(s, 5, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(h->n_ev, ne);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_suspect_confirm), 1);
	feed(s, 5, SWIM_MSG_GOSSIP, &r, 1); /* same accuser again: not counted */
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_suspect_confirm), 1);
	/* alive at the same incarnation does not refute; a higher one does */
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 3, 5);
	feed(s, 6, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_SUSPECT);
	r.inc = 4;
	feed(s, 6, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_ALIVE);
	assert_int_equal(last_ev(h)->prev_status, MESH_SWIM_SUSPECT);
	/* dead at >= incarnation */
	r = hrec(MESH_SWIM_DEAD, "x", 1, 4, 5);
	feed(s, 7, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_DEAD);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_DEAD);
	/* suspect/alive at the dead incarnation: stale */
	ne = h->n_ev;
	r = hrec(MESH_SWIM_SUSPECT, "x", 1, 4, 5);
	feed(s, 8, SWIM_MSG_GOSSIP, &r, 1);
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 4, 5);
	feed(s, 8, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(h->n_ev, ne);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_DEAD);
	/* a restart (higher generation) told by a third party is refused ... */
	r = hrec(MESH_SWIM_ALIVE, "x", 2, 0, 6);
	feed(s, 9, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, &gen), MESH_SWIM_DEAD);
	assert_int_equal(gen, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity), 1);
	/* ... from x itself it replaces the dead life, even at incarnation 0 */
	feed_as(s, 9, SWIM_MSG_GOSSIP, 0, "x", 2, r.addr, 0, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 2);
	assert_int_equal(inc, 0);
	assert_int_equal(last_ev(h)->gen, 2);
	assert_int_equal(last_ev(h)->addr.ip, 6);
	/* rumours about the old life are ignored */
	ne = h->n_ev;
	r = hrec(MESH_SWIM_DEAD, "x", 1, 99, 5);
	feed(s, 10, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(h->n_ev, ne);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_ALIVE);
	/* same life, different address while alive: refused from a third party, a conflict
	 * from that address, never adopted */
	r = hrec(MESH_SWIM_ALIVE, "x", 2, 5, 77);
	feed(s, 11, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity), 2);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_name_conflict), 0);
	feed_as(s, 11, SWIM_MSG_GOSSIP, 0, "x", 2, r.addr, 0, &r, 1);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_CONFLICT);
	assert_int_equal(last_ev(h)->conflict_addr.ip, 77);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_name_conflict), 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 0);
	/* metadata change with a higher incarnation: UPDATED */
	r = hrec(MESH_SWIM_ALIVE, "x", 2, 6, 6);
	r.meta = (const uint8_t *)"role=a";
	r.meta_len = 6;
	feed(s, 12, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_UPDATED);
	assert_int_equal(last_ev(h)->meta_len, 6);
	/* left, then nothing but a new life brings it back */
	r = hrec(MESH_SWIM_LEFT, "x", 2, 7, 6);
	feed(s, 13, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_LEFT);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_LEFT);
	r = hrec(MESH_SWIM_DEAD, "x", 2, 7, 6);
	feed(s, 14, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_LEFT);
	/* push-pull: a dead record is only a suspicion */
	r = hrec(MESH_SWIM_ALIVE, "y", 1, 1, 8);
	feed(s, 15, SWIM_MSG_GOSSIP, &r, 1);
	r.status = MESH_SWIM_DEAD;
	feed(s, 16, SWIM_MSG_PUSH_PULL, &r, 1);
	assert_int_equal(status_of(s, "y", NULL, NULL), MESH_SWIM_SUSPECT);
	/* suspicion max (24 s at N = 7, no confirmation) then dead; reaped after 60 s */
	mesh_swim_tick(s, 30 * SEC);
	assert_int_equal(status_of(s, "y", NULL, NULL), MESH_SWIM_DEAD);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_LEFT);
	mesh_swim_tick(s, 13 + 60 * SEC);
	assert_int_equal(status_of(s, "x", NULL, NULL), 0);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_REMOVED);
	mesh_swim_tick(s, 91 * SEC);
	assert_int_equal(status_of(s, "y", NULL, NULL), 0);
	mesh_swim_delete(s);
	free(h);
}

static void
test_self_rules(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct mesh_swim_member_info me;
	struct swim_rec r;

	(void)state;
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 0);
	assert_int_equal(me.gen, 10);
	/* suspected at our incarnation: refute with inc + 1, health degrades */
	r = hrec(MESH_SWIM_SUSPECT, "self", 10, 0, 0x0A000001u);
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_refute), 1);
	assert_int_equal(mesh_swim_health(s), 1);
	/* declared dead at a higher incarnation: refute above it */
	r = hrec(MESH_SWIM_DEAD, "self", 10, 5, 0x0A000001u);
	feed(s, 2, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 6);
	assert_int_equal(me.status, MESH_SWIM_ALIVE);
	/* a stale accusation does not bump, but our record is gossiped again */
	r = hrec(MESH_SWIM_SUSPECT, "self", 10, 2, 0x0A000001u);
	h->n_sent = 0;
	feed(s, 3, SWIM_MSG_PING, &r, 1); /* the ack carries our current record */
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 6);
	assert_int_equal(h->n_sent, 1);
	{
		struct swim_msg m;

		assert_int_equal(dec(h->sent[0].b, h->sent[0].len, &m), SWIM_DEC_OK);
		assert_int_equal(m.type, SWIM_MSG_ACK);
		assert_int_equal(m.seq, 1);
		assert_true(m.n_rec >= 1);
		assert_memory_equal(m.rec[0].name, "self", 4);
		assert_int_equal(m.rec[0].inc, 6);
		assert_int_equal(m.rec[0].status, MESH_SWIM_ALIVE);
	}
	/* rumours about our previous life are counted and ignored */
	r = hrec(MESH_SWIM_DEAD, "self", 9, 100, 0x0A000001u);
	feed(s, 4, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 6);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_old_self_rumor), 1);
	/* someone with our name and a newer life: conflict reported, never adopted */
	r = hrec(MESH_SWIM_ALIVE, "self", 11, 0, 0x0A000009u);
	feed(s, 5, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(last_ev(h)->type, MESH_SWIM_EV_CONFLICT);
	assert_int_equal(last_ev(h)->conflict_gen, 11);
	mesh_swim_self(s, &me);
	assert_int_equal(me.gen, 10);
	/* same life claimed from another address: conflict */
	r = hrec(MESH_SWIM_ALIVE, "self", 10, 50, 0x0A000009u);
	feed(s, 6, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_name_conflict), 2);
	/* our own messages looped back are dropped */
	{
		uint8_t buf[64];
		struct swim_enc e;

		swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, "self", 4, 10, 0, NULL,
			       0, NULL);
		assert_int_equal(mesh_swim_input(s, 7, &peer_addr, buf, swim_enc_end(&e)),
				 -EBADMSG);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rx_drop_self), 1);
	}
	/* leave: LEFT with a new incarnation, once */
	assert_int_equal(mesh_swim_leave(s, 8), 0);
	assert_int_equal(mesh_swim_leave(s, 9), -EALREADY);
	mesh_swim_self(s, &me);
	assert_int_equal(me.status, MESH_SWIM_LEFT);
	assert_int_equal(me.inc, 7);
	/* a ping addressed to someone else is not answered */
	h->n_sent = 0;
	{
		uint8_t buf[64];
		struct swim_enc e;

		swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING, 0, "peer", 4, 1, 3, "nobody",
			       6, NULL);
		mesh_swim_input(s, 10, &peer_addr, buf, swim_enc_end(&e));
	}
	assert_int_equal(h->n_sent, 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rx_drop_wrong_target), 1);
	mesh_swim_delete(s);
	free(h);
}

/* Piggyback: least-sent first within the budget, each record at most the limit. */
static void
test_piggyback_selection(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r[40];
	char names[200][8];
	unsigned seen[200];
	uint32_t limit;
	uint64_t now = 1;

	(void)state;
	memset(seen, 0, sizeof(seen));
	/* 200 members learnt in 5 blobs of 40 */
	for (int b = 0; b < 5; b++) {
		for (int i = 0; i < 40; i++) {
			snprintf(names[b * 40 + i], sizeof(names[0]), "m%03d", b * 40 + i);
			r[i] = hrec(MESH_SWIM_ALIVE, names[b * 40 + i], 1, 0,
				    0x0B000000u + (uint32_t)(b * 40 + i));
		}
		feed(s, now, SWIM_MSG_GOSSIP, r, 40);
	}
	assert_int_equal(mesh_swim_member_count(s, MESH_SWIM_ALIVE), 200);
	limit = mesh_swim_retransmit_limit(4, 201);
	assert_int_equal(limit, 12);
	/* gossip rounds until the queue drains */
	for (int round = 0; round < 400; round++) {
		now += 200 * MS;
		h->n_sent = 0;
		mesh_swim_tick(s, now);
		for (unsigned k = 0; k < h->n_sent; k++) {
			struct swim_msg m;

			assert_true(h->sent[k].len <= MESH_SWIM_DEFAULT_MAX_MSG);
			assert_int_equal(dec(h->sent[k].b, h->sent[k].len, &m), SWIM_DEC_OK);
			if (m.type == SWIM_MSG_PUSH_PULL)
				continue;
			for (unsigned i = 0; i < m.n_rec; i++) {
				int idx;

				/* (unanswered probes later re-queue them as suspect/dead) */
				if (m.rec[i].name[0] != 'm' || m.rec[i].status != MESH_SWIM_ALIVE)
					continue;
				idx = atoi(m.rec[i].name + 1);
				seen[idx]++;
			}
			/* least-sent first: a blob full of records never skips a less-sent
			 * record for a more-sent one */
		}
	}
	for (int i = 0; i < 200; i++) {
		assert_true(seen[i] >= 1);
		assert_true(seen[i] <= limit);
	}
	/* a fresh update goes out first, in the very next message */
	{
		struct swim_rec u = hrec(MESH_SWIM_ALIVE, "m007", 1, 9, 0x0B000007u);
		struct swim_msg m;

		feed(s, now, SWIM_MSG_GOSSIP, &u, 1);
		h->n_sent = 0;
		now += 200 * MS;
		mesh_swim_tick(s, now);
		assert_true(h->n_sent >= 1);
		assert_int_equal(dec(h->sent[0].b, h->sent[0].len, &m), SWIM_DEC_OK);
		assert_true(m.n_rec >= 1);
		assert_memory_equal(m.rec[0].name, "m007", 4);
		assert_int_equal(m.rec[0].inc, 9);
	}
	mesh_swim_delete(s);
	free(h);
}

/* Push-pull of a large state: every chunk within budget, every member present. */
static void
test_push_pull_chunks(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r[40];
	char names[400][8];
	unsigned seen[400], total = 0;
	uint8_t req[64];
	struct swim_enc e;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (int b = 0; b < 10; b++) {
		for (int i = 0; i < 40; i++) {
			snprintf(names[b * 40 + i], sizeof(names[0]), "m%03d", b * 40 + i);
			r[i] = hrec(MESH_SWIM_ALIVE, names[b * 40 + i], 1, 0,
				    0x0B000000u + (uint32_t)(b * 40 + i));
		}
		feed(s, 1, SWIM_MSG_GOSSIP, r, 40);
	}
	h->n_sent = 0;
	h->batches = 0;
	swim_enc_begin(&e, req, sizeof(req), SWIM_MSG_PUSH_PULL, SWIM_F_PP_REPLY, "peer", 4, 1,
		       0, NULL, 0, NULL);
	assert_int_equal(mesh_swim_input(s, 2, &peer_addr, req, swim_enc_end(&e)), 0);
	assert_true(h->n_sent > 5);
	assert_true(h->batches >= 1);
	for (unsigned k = 0; k < h->n_sent; k++) {
		struct swim_msg m;

		assert_int_equal(dec(h->sent[k].b, h->sent[k].len, &m), SWIM_DEC_OK);
		assert_int_equal(m.type, SWIM_MSG_PUSH_PULL);
		assert_int_equal(m.flags & SWIM_F_PP_REPLY, 0);
		assert_true(h->sent[k].len <= MESH_SWIM_DEFAULT_MAX_MSG);
		for (unsigned i = 0; i < m.n_rec; i++)
			if (m.rec[i].name[0] == 'm') {
				seen[atoi(m.rec[i].name + 1)]++;
				total++;
			}
	}
	for (int i = 0; i < 400; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(total, 400);
	mesh_swim_delete(s);
	free(h);
}

/* Probe a silent member: ping, ping-req to relays, suspect, dead after the timeout. */
static void
test_probe_cycle(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r[4];
	uint64_t now = 0, t;
	int guard = 0;

	(void)state;
	r[0] = hrec(MESH_SWIM_ALIVE, "a", 1, 0, 0x0C000001u);
	r[1] = hrec(MESH_SWIM_ALIVE, "b", 1, 0, 0x0C000002u);
	r[2] = hrec(MESH_SWIM_ALIVE, "c", 1, 0, 0x0C000003u);
	r[3] = hrec(MESH_SWIM_ALIVE, "d", 1, 0, 0x0C000004u);
	feed(s, now, SWIM_MSG_GOSSIP, r, 4);
	assert_int_equal(mesh_swim_join(s, NULL, 0, now), 0);
	assert_true(mesh_swim_joined(s));
	/* nobody answers: everyone ends up suspected, then dead */
	while (mesh_swim_member_count(s, MESH_SWIM_DEAD) < 4 && guard++ < 100000) {
		t = mesh_swim_next_deadline(s);
		assert_true(t > 0);
		now = t > now ? t : now + 1;
		mesh_swim_tick(s, now);
	}
	assert_int_equal(mesh_swim_member_count(s, MESH_SWIM_DEAD), 4);
	assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_sent) >= 4);
	assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_indirect) >= 4);
	assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_failed) >= 4);
	/* local health went up (no nacks came back) */
	assert_true(mesh_swim_health(s) > 0);
	/* bounded by the configured suspicion max + a few rounds */
	assert_true(now < 4 * SEC * 8 + 6 * 4 * SEC * 2);
	mesh_swim_delete(s);
	free(h);
}

/* LAN timing with gossip and push-pull out of the way: the probe deadlines are the only
 * timers, so next_deadline can be checked exactly. Members a..d (gen 1), alive. */
static struct mesh_swim *
h_new_quiet(struct harness *h)
{
	struct mesh_swim_cfg cfg;
	struct mesh_swim *s;
	struct swim_rec r[4];

	memset(h, 0, sizeof(*h));
	mesh_rng_seed(&h->rng, 7);
	mesh_swim_cfg_lan(&cfg);
	cfg.gossip_interval_ns = 1000 * SEC;
	cfg.push_pull_interval_ns = 0;
	snprintf(cfg.name, sizeof(cfg.name), "self");
	cfg.gen = 10;
	cfg.addr = (struct mesh_swim_addr){ 0x0A000001u, 7946 };
	s = mesh_swim_new(&cfg, &h_ops, h);
	assert_non_null(s);
	r[0] = hrec(MESH_SWIM_ALIVE, "a", 1, 0, 0x0C000001u);
	r[1] = hrec(MESH_SWIM_ALIVE, "b", 1, 0, 0x0C000002u);
	r[2] = hrec(MESH_SWIM_ALIVE, "c", 1, 0, 0x0C000003u);
	r[3] = hrec(MESH_SWIM_ALIVE, "d", 1, 0, 0x0C000004u);
	feed(s, 0, SWIM_MSG_GOSSIP, r, 4);
	assert_int_equal(mesh_swim_join(s, NULL, 0, 0), 0);
	return s;
}

/* Tick at the deadline until a ping goes out; its target's name into @target. */
static uint64_t
run_to_ping(struct harness *h, struct mesh_swim *s, uint64_t now, char *target)
{
	for (int guard = 0; guard < 100; guard++) {
		struct swim_msg m;

		h->n_sent = 0;
		now = MESH_MAX(now, mesh_swim_next_deadline(s));
		mesh_swim_tick(s, now);
		for (unsigned i = 0; i < h->n_sent; i++) {
			assert_int_equal(dec(h->sent[i].b, h->sent[i].len, &m), SWIM_DEC_OK);
			if (m.type == SWIM_MSG_PING) {
				memcpy(target, m.target, m.target_len);
				target[m.target_len] = 0;
				return now;
			}
		}
	}
	fail_msg("no probe started");
	return now;
}

/* Liveness evidence satisfies a probe in flight (nothing else), and the probe deadlines
 * (ack wait, end of the indirect wait) are what next_deadline reports. */
static void
test_liveness_evidence(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new_quiet(h);
	char tgt[MESH_SWIM_NAME_MAX + 1], other[2] = "a";
	uint64_t t0, heard0;
	struct swim_rec r;

	(void)state;
	t0 = run_to_ping(h, s, 0, tgt);
	if (strcmp(tgt, "a") == 0)
		other[0] = 'b';
	/* the ack wait, then (relays + second ping) the end of the period */
	assert_int_equal(mesh_swim_next_deadline(s), t0 + 500 * MS);
	mesh_swim_tick(s, t0 + 500 * MS);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_retry), 1);
	assert_int_equal(mesh_swim_next_deadline(s), t0 + 1 * SEC);
	/* evidence about another member, or another life of the target, is no ack */
	assert_int_equal(mesh_swim_member_heard(s, other, 1, 1, t0 + 600 * MS), 0);
	assert_int_equal(mesh_swim_member_heard(s, tgt, strlen(tgt), 2, t0 + 600 * MS), 0);
	/* the target suspected meanwhile (by someone else): evidence satisfies the probe
	 * but refutes nothing */
	r = hrec(MESH_SWIM_SUSPECT, tgt, 1, 0, 0);
	r.addr = (struct mesh_swim_addr){ 0x0C000000u + (uint32_t)(tgt[0] - 'a' + 1), 7946 };
	feed(s, t0 + 600 * MS, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, tgt, NULL, NULL), MESH_SWIM_SUSPECT);
	heard0 = mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_heard);
	assert_int_equal(mesh_swim_member_heard(s, tgt, strlen(tgt), 1, t0 + 700 * MS), 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_heard), heard0 + 1);
	assert_int_equal(status_of(s, tgt, NULL, NULL), MESH_SWIM_SUSPECT);
	assert_int_equal(mesh_swim_member_heard(s, tgt, strlen(tgt), 1, t0 + 700 * MS), 0);
	/* the suspect learnt from others is pinged at once, not at the next period */
	assert_true(mesh_swim_next_deadline(s) <= t0 + 700 * MS);
	h->n_sent = 0;
	mesh_swim_tick(s, t0 + 700 * MS);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_urgent), 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_failed), 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_suspect), 1); /* the learnt one */
	/* a dead member stays dead whatever we hear from it */
	r = hrec(MESH_SWIM_DEAD, other, 1, 0, 0);
	r.addr = (struct mesh_swim_addr){ 0x0C000000u + (uint32_t)(other[0] - 'a' + 1), 7946 };
	feed(s, t0 + 800 * MS, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, other, NULL, NULL), MESH_SWIM_DEAD);
	assert_int_equal(mesh_swim_member_heard(s, other, 1, 1, t0 + 800 * MS), 0);
	assert_int_equal(status_of(s, other, NULL, NULL), MESH_SWIM_DEAD);
	mesh_swim_delete(s);
	free(h);
}

/*
 * A tick that comes late (this node was not running) gives no verdict at once: the ack
 * may be queued behind it. With the evidence read, the probe is satisfied; without it,
 * the probe fails a probe timeout later as usual. Local health goes up either way.
 */
static void
test_tick_late(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new_quiet(h);
	char tgt[MESH_SWIM_NAME_MAX + 1];
	uint64_t t0, late, until = 0;

	(void)state;
	for (int round = 0; round < 2; round++) {
		t0 = run_to_ping(h, s, until, tgt); /* on time */
		late = t0 + 5 * SEC; /* the ack wait ended at t0 + 500 ms: asleep since */
		mesh_swim_tick(s, late);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_tick_late),
				 (uint64_t)round + 1);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_failed), 0);
		assert_int_equal(status_of(s, tgt, NULL, NULL), MESH_SWIM_ALIVE);
		assert_true(mesh_swim_health(s) > 0);
		until = mesh_swim_next_deadline(s);
		assert_true(until > late && until <= late + 2 * SEC);
		if (round == 0) {
			/* the queued ack is read now: no failure, nobody suspected */
			assert_int_equal(mesh_swim_member_heard(s, tgt, strlen(tgt), 1, late), 1);
			mesh_swim_tick(s, until);
			assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_failed), 0);
			assert_int_equal(status_of(s, tgt, NULL, NULL), MESH_SWIM_ALIVE);
		} else {
			/* nothing came: the probe fails at the end of the grace */
			mesh_swim_tick(s, until);
			assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_failed), 1);
			assert_int_equal(status_of(s, tgt, NULL, NULL), MESH_SWIM_SUSPECT);
		}
	}
	mesh_swim_delete(s);
	free(h);
}

/* A leave reaches every alive or suspect member directly: one message each, LEFT first. */
static void
test_leave_direct(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new_quiet(h);
	struct swim_rec r = hrec(MESH_SWIM_DEAD, "d", 1, 0, 0x0C000004u);
	bool to[4] = { false };
	struct swim_msg m;

	(void)state;
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1); /* d is dead: not told */
	h->n_sent = 0;
	assert_int_equal(mesh_swim_leave(s, 2), 0);
	assert_int_equal(h->n_sent, 3);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_leave_sent), 3);
	for (unsigned i = 0; i < h->n_sent; i++) {
		uint32_t k = h->sent[i].to.ip - 0x0C000001u;

		assert_true(k < 3);
		assert_false(to[k]);
		to[k] = true;
		assert_int_equal(dec(h->sent[i].b, h->sent[i].len, &m), SWIM_DEC_OK);
		assert_true(m.n_rec >= 1);
		assert_int_equal(m.rec[0].status, MESH_SWIM_LEFT);
		assert_int_equal(m.rec[0].name_len, 4);
		assert_memory_equal(m.rec[0].name, "self", 4);
		for (uint32_t j = 1; j < m.n_rec; j++) /* not twice in one message */
			assert_false(m.rec[j].name_len == 4 && !memcmp(m.rec[j].name, "self", 4));
	}
	assert_int_equal(mesh_swim_leave(s, 3), -EALREADY);
	mesh_swim_delete(s);
	free(h);
}

/* ---------------------------------------------------------------- hostile input (issue 14) */

static const struct mesh_swim_addr evil_addr = { 0x0D000001u, 6666 };

/* Was anything sent to @to since n_sent was last cleared? Returns the count. */
static unsigned
sent_to(const struct harness *h, struct mesh_swim_addr to)
{
	unsigned c = 0;

	for (unsigned i = 0; i < h->n_sent; i++)
		c += h->sent[i].to.ip == to.ip && h->sent[i].to.port == to.port;
	return c;
}

/* A member's new life or address only from the member itself; hearsay is counted. */
static void
test_identity_binding(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct mesh_swim_member_info mi;
	const struct mesh_swim_addr xa = { 0x0C000001u, 7946 }, na = { 0x0C0000AAu, 7946 };
	struct swim_rec r;
	uint64_t refused;
	uint32_t inc;
	uint64_t gen;

	(void)state;
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 0, xa.ip);
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1); /* introduced by hearsay */
	feed_as(s, 2, SWIM_MSG_GOSSIP, 0, "x", 1, xa, 0, NULL, 0); /* x speaks: verified */
	/* SUSPECT(k) then ALIVE(k + 5) at a new address from a third party */
	r = hrec(MESH_SWIM_SUSPECT, "x", 1, 0, xa.ip);
	feed(s, 3, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_SUSPECT);
	refused = mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity);
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 5, na.ip);
	feed(s, 4, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity),
			 refused + 1);
	assert_int_equal(mesh_swim_member_get(s, "x", 1, &mi), 0);
	assert_int_equal(mi.status, MESH_SWIM_SUSPECT);
	assert_int_equal(mi.addr.ip, xa.ip);
	assert_int_equal(mi.inc, 0);
	/* x's own refutation wins */
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 1, xa.ip);
	feed_as(s, 5, SWIM_MSG_GOSSIP, 0, "x", 1, xa, 0, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 1);
	/* a new generation from a third party: refused, and its claimed address is asked */
	h->n_sent = 0;
	r = hrec(MESH_SWIM_ALIVE, "x", 9, 0, na.ip);
	feed(s, 6, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity),
			 refused + 2);
	assert_int_equal(sent_to(h, na), 1);
	/* a record of x's new life from another address than its own: still hearsay */
	feed_as(s, 7, SWIM_MSG_GOSSIP, 0, "x", 9, evil_addr, 0, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 1);
	/* keyless: x is alive at xa, so a record "from x" at another address is refused */
	refused = mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity);
	feed_as(s, 8, SWIM_MSG_GOSSIP, 0, "x", 9, na, 0, &r, 1);
	assert_int_equal(status_of(s, "x", NULL, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity),
			 refused + 1);
	/* x declared dead (falsely or not): a new life at another address is still refused,
	 * a new life from x's own address is adopted */
	{
		struct swim_rec d = hrec(MESH_SWIM_DEAD, "x", 1, 1, xa.ip);
		struct swim_rec a = hrec(MESH_SWIM_ALIVE, "x", 9, 0, xa.ip);

		feed(s, 8, SWIM_MSG_GOSSIP, &d, 1);
		assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_DEAD);
		feed_as(s, 8, SWIM_MSG_GOSSIP, 0, "x", 9, na, 0, &r, 1);
		assert_int_equal(status_of(s, "x", NULL, &gen), MESH_SWIM_DEAD);
		assert_int_equal(gen, 1);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity),
				 refused + 2);
		feed_as(s, 8, SWIM_MSG_GOSSIP, 0, "x", 9, xa, 0, &a, 1);
	}
	assert_int_equal(mesh_swim_member_get(s, "x", 1, &mi), 0);
	assert_int_equal(mi.gen, 9);
	assert_int_equal(mi.addr.ip, xa.ip);
	/* hearsay may introduce an unknown member, but the member's own word replaces it */
	r = hrec(MESH_SWIM_ALIVE, "y", 1000, 77, 0x0C000002u);
	feed(s, 9, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "y", NULL, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 1000);
	r = hrec(MESH_SWIM_ALIVE, "y", 5, 0, 0x0C000003u);
	feed_as(s, 10, SWIM_MSG_GOSSIP, 0, "y", 5, r.addr, 0, &r, 1);
	assert_int_equal(mesh_swim_member_get(s, "y", 1, &mi), 0);
	assert_int_equal(mi.gen, 5);
	assert_int_equal(mi.inc, 0);
	assert_int_equal(mi.addr.ip, 0x0C000003u);
	/* once y has spoken, an older life of y is stale even first-hand */
	r = hrec(MESH_SWIM_ALIVE, "y", 4, 0, 0x0C000004u);
	feed_as(s, 11, SWIM_MSG_GOSSIP, 0, "y", 4, r.addr, 0, &r, 1);
	assert_int_equal(status_of(s, "y", NULL, &gen), MESH_SWIM_ALIVE);
	assert_int_equal(gen, 5);
	mesh_swim_delete(s);
	free(h);
}

/*
 * Keyless, a frame's sender id is only claimed: a record restarting live member x at the
 * sender's own address (x's name, a new life, matching sender) is refused unless it comes
 * from x's known address; a restart at the same address is adopted; with authenticated
 * senders (keyed) x's own record moves it.
 */
static void
test_identity_binding_keyless(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s;
	struct mesh_swim_cfg cfg;
	struct mesh_swim_member_info mi;
	const struct mesh_swim_addr xa = { 0x0C000001u, 7946 };
	struct swim_rec r;
	uint64_t refused;

	(void)state;
	for (int keyed = 0; keyed < 2; keyed++) {
		memset(h, 0, sizeof(*h));
		mesh_rng_seed(&h->rng, 42);
		mesh_swim_cfg_lan(&cfg);
		snprintf(cfg.name, sizeof(cfg.name), "self");
		cfg.gen = 10;
		cfg.addr = (struct mesh_swim_addr){ 0x0A000001u, 7946 };
		cfg.sender_authenticated = keyed;
		s = mesh_swim_new(&cfg, &h_ops, h);
		assert_non_null(s);
		r = hrec(MESH_SWIM_ALIVE, "x", 1, 0, xa.ip);
		feed_as(s, 1, SWIM_MSG_GOSSIP, 0, "x", 1, xa, 0, &r, 1); /* x speaks */
		assert_int_equal(status_of(s, "x", NULL, NULL), MESH_SWIM_ALIVE);
		/* the takeover: x's name, a new life, from the attacker with its address */
		refused = mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_identity);
		r = hrec(MESH_SWIM_ALIVE, "x", 7, 0, evil_addr.ip);
		r.addr = evil_addr;
		feed_as(s, 2, SWIM_MSG_GOSSIP, 0, "x", 7, evil_addr, 0, &r, 1);
		assert_int_equal(mesh_swim_member_get(s, "x", 1, &mi), 0);
		if (keyed) { /* authenticated: it is x's own word */
			assert_int_equal(mi.gen, 7);
			assert_int_equal(mi.addr.ip, evil_addr.ip);
			assert_int_equal(mesh_swim_counter(
					 s, MESH_SWIM_CTR_swim_rec_refused_identity), refused);
		} else {
			assert_int_equal(mi.gen, 1);
			assert_int_equal(mi.addr.ip, xa.ip);
			assert_int_equal(mi.status, MESH_SWIM_ALIVE);
			assert_int_equal(mesh_swim_counter(
					 s, MESH_SWIM_CTR_swim_rec_refused_identity), refused + 1);
			/* a legit restart at x's address: adopted at once */
			r = hrec(MESH_SWIM_ALIVE, "x", 8, 0, xa.ip);
			feed_as(s, 3, SWIM_MSG_GOSSIP, 0, "x", 8, xa, 0, &r, 1);
			assert_int_equal(mesh_swim_member_get(s, "x", 1, &mi), 0);
			assert_int_equal(mi.gen, 8);
			assert_int_equal(mi.addr.ip, xa.ip);
			assert_int_equal(mi.status, MESH_SWIM_ALIVE);
		}
		mesh_swim_delete(s);
	}
	free(h);
}

/* Incarnation 0xFFFFFFFF is reserved; only we raise ours; third parties by a bounded step. */
static void
test_incarnation_overflow(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct mesh_swim_member_info me;
	struct swim_rec r;
	uint32_t inc;

	(void)state;
	/* declared dead at 0xFFFFFFFF: refused, we stay refutable */
	r = hrec(MESH_SWIM_DEAD, "self", 10, UINT32_MAX, 0x0A000001u);
	feed(s, 1, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 0);
	assert_int_equal(me.status, MESH_SWIM_ALIVE);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_inc), 1);
	/* an accusation above any incarnation we had: forged, outbid */
	r = hrec(MESH_SWIM_SUSPECT, "self", 10, 5, 0x0A000001u);
	feed(s, 2, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 6);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_self_inc_forged), 1);
	/* at the cap we cannot outbid: never wrap, never use the reserved value */
	r = hrec(MESH_SWIM_SUSPECT, "self", 10, UINT32_MAX - 1, 0x0A000001u);
	feed(s, 3, SWIM_MSG_GOSSIP, &r, 1);
	mesh_swim_self(s, &me);
	assert_int_equal(me.inc, 6);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_self_inc_forged), 2);
	/* a third party raises a member's incarnation by at most 1024 at once */
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 3, 0x0C000001u);
	feed(s, 4, SWIM_MSG_GOSSIP, &r, 1);
	r = hrec(MESH_SWIM_SUSPECT, "x", 1, 3 + 1025, 0x0C000001u);
	feed(s, 5, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 3);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rec_refused_inc), 2);
	r.inc = 3 + 1024;
	feed(s, 6, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_SUSPECT);
	assert_int_equal(inc, 3 + 1024);
	/* the member itself may jump (it is the author) but not to the reserved value */
	r = hrec(MESH_SWIM_ALIVE, "x", 1, 100000, 0x0C000001u);
	feed_as(s, 7, SWIM_MSG_GOSSIP, 0, "x", 1, r.addr, 0, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 100000);
	r.inc = UINT32_MAX;
	feed_as(s, 8, SWIM_MSG_GOSSIP, 0, "x", 1, r.addr, 0, &r, 1);
	assert_int_equal(status_of(s, "x", &inc, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(inc, 100000);
	mesh_swim_delete(s);
	free(h);
}

/* Sprayed acks (right sequence, wrong sender or address) never keep a dead member alive. */
static void
test_ack_spoof(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r = hrec(MESH_SWIM_ALIVE, "a", 1, 0, 0x0C000001u);
	uint64_t now = 0, t;
	int guard = 0;

	(void)state;
	feed(s, now, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_join(s, NULL, 0, now), 0);
	while (status_of(s, "a", NULL, NULL) != MESH_SWIM_DEAD && guard++ < 100000) {
		t = mesh_swim_next_deadline(s);
		now = t > now ? t : now + 1;
		h->n_sent = 0;
		mesh_swim_tick(s, now);
		for (unsigned i = 0, n = h->n_sent; i < n; i++) {
			struct swim_msg m;

			if (dec(h->sent[i].b, h->sent[i].len, &m) != SWIM_DEC_OK ||
			    m.type != SWIM_MSG_PING)
				continue;
			/* an outsider, and an outsider using a's name and life */
			feed_as(s, now, SWIM_MSG_ACK, 0, "evil", 1, evil_addr, m.seq, NULL, 0);
			feed_as(s, now, SWIM_MSG_ACK, 0, "a", 1, evil_addr, m.seq, NULL, 0);
		}
	}
	assert_int_equal(status_of(s, "a", NULL, NULL), MESH_SWIM_DEAD);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_ack), 0);
	assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_ack_refused) >= 2);
	mesh_swim_delete(s);
	free(h);
}

/* The real ack counts: from the probed member at its address, matched by sequence. */
static void
test_ack_genuine(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	struct swim_rec r = hrec(MESH_SWIM_ALIVE, "a", 1, 0, 0x0C000001u);
	struct swim_msg m;
	bool ping = false;

	(void)state;
	feed(s, 0, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_join(s, NULL, 0, 0), 0);
	for (int k = 0; k < 10 && !ping; k++) {
		h->n_sent = 0;
		mesh_swim_tick(s, mesh_swim_next_deadline(s));
		for (unsigned i = 0; i < h->n_sent && !ping; i++)
			ping = dec(h->sent[i].b, h->sent[i].len, &m) == SWIM_DEC_OK &&
			       m.type == SWIM_MSG_PING;
	}
	assert_true(ping);
	feed_as(s, 1, SWIM_MSG_ACK, 0, "a", 1, r.addr, m.seq + 1, NULL, 0); /* wrong seq */
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_ack), 0);
	feed_as(s, 1, SWIM_MSG_ACK, 0, "a", 1, r.addr, m.seq, NULL, 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_probe_ack), 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_ack_refused), 0);
	mesh_swim_delete(s);
	free(h);
}

/* PING_REQ only from members for members; no reply to a non-member is larger than its
 * message; full-state replies to non-members are rate limited. */
static void
test_no_amplification(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim *s = h_new(h, "self");
	const struct mesh_swim_addr victim = { 0x0E000001u, 53 };
	struct swim_rec r[40];
	char names[40][16];
	uint8_t buf[256];
	struct swim_enc e;
	size_t len;
	unsigned replied = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "m%02d", i);
		r[i] = hrec(MESH_SWIM_ALIVE, names[i], 1, 0, 0x0C000100u + (uint32_t)i);
	}
	feed(s, 0, SWIM_MSG_GOSSIP, r, 40); /* 40 pending broadcasts to piggyback */
	feed_as(s, 0, SWIM_MSG_GOSSIP, 0, "m00", 1, r[0].addr, 0, NULL, 0);
	/* PING_REQ from a non-member, for a member: nothing sent */
	h->n_sent = 0;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING_REQ, SWIM_F_NACK, "evil", 4, 1, 9,
		       "m01", 3, &r[1].addr);
	mesh_swim_input(s, 1, &evil_addr, buf, swim_enc_end(&e));
	assert_int_equal(h->n_sent, 0);
	/* from a member, for a target that is no member, or at another address: nothing */
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING_REQ, SWIM_F_NACK, "m00", 3, 1, 9,
		       "ghost", 5, &victim);
	mesh_swim_input(s, 1, &r[0].addr, buf, swim_enc_end(&e));
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING_REQ, SWIM_F_NACK, "m00", 3, 1, 9,
		       "m01", 3, &victim);
	mesh_swim_input(s, 1, &r[0].addr, buf, swim_enc_end(&e));
	assert_int_equal(h->n_sent, 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_ping_req_refused), 3);
	/* from a member for a member at its address: relayed */
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING_REQ, SWIM_F_NACK, "m00", 3, 1, 9,
		       "m01", 3, &r[1].addr);
	mesh_swim_input(s, 1, &r[0].addr, buf, swim_enc_end(&e));
	assert_int_equal(sent_to(h, r[1].addr), 1);
	/* a PING from a non-member: the ack is no larger than the ping */
	h->n_sent = 0;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING, 0, "evil", 4, 1, 9, "self", 4,
		       NULL);
	len = swim_enc_end(&e);
	mesh_swim_input(s, 2, &evil_addr, buf, len);
	assert_int_equal(h->n_sent, 1);
	assert_true(h->sent[0].len <= len);
	assert_true(mesh_swim_counter(s, MESH_SWIM_CTR_swim_reply_capped) >= 1);
	/* the same ping from a member gets the piggyback */
	h->n_sent = 0;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING, 0, "m00", 3, 1, 9, "self", 4, NULL);
	len = swim_enc_end(&e);
	mesh_swim_input(s, 2, &r[0].addr, buf, len);
	assert_int_equal(h->n_sent, 1);
	assert_true(h->sent[0].len > len);
	/* push-pull requests from 20 strangers at once: at most 8 full-state replies */
	for (int i = 0; i < 20; i++) {
		struct mesh_swim_addr a = { 0x0F000000u + (uint32_t)i, 7946 };
		char nm[16];

		snprintf(nm, sizeof(nm), "j%02d", i);
		h->n_sent = 0;
		swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PUSH_PULL, SWIM_F_PP_REPLY, nm, 3,
			       1, 0, NULL, 0, NULL);
		mesh_swim_input(s, 3, &a, buf, swim_enc_end(&e));
		replied += sent_to(h, a) > 0;
	}
	assert_int_equal(replied, 8);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_pp_reply_limited), 12);
	/* a member is always answered */
	h->n_sent = 0;
	swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PUSH_PULL, SWIM_F_PP_REPLY, "m00", 3, 1, 0,
		       NULL, 0, NULL);
	mesh_swim_input(s, 3, &r[0].addr, buf, swim_enc_end(&e));
	assert_true(sent_to(h, r[0].addr) >= 1);
	mesh_swim_delete(s);
	free(h);
}

/* The member table is bounded: dead/left evicted first, live members never. */
static void
test_member_bound(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim_cfg cfg;
	struct mesh_swim *s;
	struct swim_rec r;
	char nm[16];

	(void)state;
	mesh_rng_seed(&h->rng, 42);
	mesh_swim_cfg_lan(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "self");
	cfg.gen = 10;
	cfg.addr = (struct mesh_swim_addr){ 0x0A000001u, 7946 };
	cfg.max_members = 8;
	s = mesh_swim_new(&cfg, &h_ops, h);
	assert_non_null(s);
	for (int i = 0; i < 9; i++) {
		snprintf(nm, sizeof(nm), "f%d", i);
		r = hrec(MESH_SWIM_ALIVE, nm, 1, 0, 0x0C000100u + (uint32_t)i);
		feed(s, 1, SWIM_MSG_GOSSIP, &r, 1);
	}
	assert_int_equal(mesh_swim_member_count(s, 0), 8);
	assert_int_equal(status_of(s, "f8", NULL, NULL), 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_member_table_full), 1);
	/* one dies: the next newcomer takes its place */
	r = hrec(MESH_SWIM_DEAD, "f3", 1, 0, 0x0C000103u);
	feed(s, 2, SWIM_MSG_GOSSIP, &r, 1);
	h->n_ev = 0;
	r = hrec(MESH_SWIM_ALIVE, "f8", 1, 0, 0x0C000108u);
	feed(s, 3, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(mesh_swim_member_count(s, 0), 8);
	assert_int_equal(status_of(s, "f3", NULL, NULL), 0);
	assert_int_equal(status_of(s, "f8", NULL, NULL), MESH_SWIM_ALIVE);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_member_evicted), 1);
	assert_int_equal(h->ev[0].type, MESH_SWIM_EV_REMOVED);
	for (int i = 0; i < 9; i++) {
		snprintf(nm, sizeof(nm), "f%d", i);
		if (i != 3)
			assert_int_equal(status_of(s, nm, NULL, NULL), MESH_SWIM_ALIVE);
	}
	/* full of live members again: refused */
	r = hrec(MESH_SWIM_ALIVE, "f9", 1, 0, 0x0C000109u);
	feed(s, 4, SWIM_MSG_GOSSIP, &r, 1);
	assert_int_equal(status_of(s, "f9", NULL, NULL), 0);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_member_table_full), 2);
	mesh_swim_delete(s);
	free(h);
}

static void
test_api_contract(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct mesh_swim_cfg cfg;
	struct mesh_swim *s;
	struct mesh_swim_env_ops bad = { NULL, h_random, NULL };
	uint8_t meta[600] = { 0 };
	uint64_t ctr[MESH_SWIM_CTR_MAX];

	(void)state;
	mesh_swim_cfg_lan(&cfg);
	assert_null(mesh_swim_new(&cfg, &h_ops, h)); /* no name */
	assert_int_equal(errno, EINVAL);
	snprintf(cfg.name, sizeof(cfg.name), "n");
	assert_null(mesh_swim_new(&cfg, &bad, h));
	assert_int_equal(errno, EINVAL);
	cfg.gen = 0;
	assert_null(mesh_swim_new(&cfg, &h_ops, h));
	cfg.gen = 1;
	cfg.max_msg = 100;
	assert_null(mesh_swim_new(&cfg, &h_ops, h));
	cfg.max_msg = MESH_SWIM_DEFAULT_MAX_MSG;
	cfg.meta = meta;
	cfg.meta_len = 513;
	assert_null(mesh_swim_new(&cfg, &h_ops, h));
	cfg.meta_len = 512;
	mesh_rng_seed(&h->rng, 1);
	s = mesh_swim_new(&cfg, &h_ops, h);
	assert_non_null(s);
	assert_int_equal(mesh_swim_meta_set(s, meta, 513, 0), -EINVAL);
	assert_int_equal(mesh_swim_meta_set(s, meta, 10, 0), 0);
	assert_int_equal(mesh_swim_input(s, 0, NULL, meta, 1), -EINVAL);
	assert_int_equal(mesh_swim_input(s, 0, &peer_addr, meta, 0), -EBADMSG);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_rx_drop_short), 1);
	assert_int_equal(mesh_swim_join(s, NULL, 3, 0), -EINVAL);
	assert_int_equal(mesh_swim_member_get(s, "zz", 2, &(struct mesh_swim_member_info){ 0 }),
			 -ENOENT);
	assert_int_equal(mesh_swim_member_at(s, 0, &(struct mesh_swim_member_info){ 0 }),
			 -ENOENT);
	mesh_swim_counters_get(s, ctr);
	assert_int_equal(ctr[MESH_SWIM_CTR_swim_rx_drop_malformed], 1);
	assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_MAX), 0);
	/* join through seeds: a push-pull (join) to each seed, then retries with backoff */
	{
		struct mesh_swim_addr seeds[3] = { { 1, 1 }, { 2, 2 }, cfg.addr };
		uint64_t t1, t2;

		h->n_sent = 0;
		assert_int_equal(mesh_swim_join(s, seeds, 3, 0), 0);
		assert_false(mesh_swim_joined(s));
		assert_int_equal(h->n_sent, 2); /* our own address is skipped */
		t1 = mesh_swim_next_deadline(s);
		assert_true(t1 <= cfg.join_retry_ns);
		mesh_swim_tick(s, cfg.join_retry_ns);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_join_retry), 1);
		mesh_swim_tick(s, cfg.join_retry_ns + 1);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_join_retry), 1);
		t2 = 3 * cfg.join_retry_ns;
		mesh_swim_tick(s, t2);
		assert_int_equal(mesh_swim_counter(s, MESH_SWIM_CTR_swim_join_retry), 2);
	}
	mesh_swim_delete(s);
	mesh_swim_delete(NULL);
	/* deferred flush: nothing is sent until mesh_swim_flush, then one batch */
	cfg.meta_len = 0;
	cfg.defer_flush = true;
	s = mesh_swim_new(&cfg, &h_ops, h);
	assert_non_null(s);
	h->n_sent = 0;
	h->batches = 0;
	for (uint32_t seq = 1; seq <= 3; seq++) {
		uint8_t buf[64];
		struct swim_enc e;

		swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_PING, 0, "peer", 4, 1, seq, "n", 1,
			       NULL);
		assert_int_equal(mesh_swim_input(s, seq, &peer_addr, buf, swim_enc_end(&e)), 0);
	}
	assert_int_equal(h->n_sent, 0);
	mesh_swim_flush(s);
	assert_int_equal(h->n_sent, 3);
	assert_int_equal(h->batches, 1);
	mesh_swim_flush(s);
	assert_int_equal(h->batches, 1);
	mesh_swim_delete(s);
	free(h);
}

/* operator overrides on top of a profile, and the timing check */
static void
test_cfg_override(void **state)
{
	struct mesh_swim_cfg c;
	char why[128];

	(void)state;
	assert_int_equal(mesh_swim_cfg_profile(&c, "fast"), 0);
	mesh_swim_cfg_override(&c, 0, 0, 0); /* 0: the profile's */
	assert_int_equal(c.probe_interval_ns, 8 * MESH_NS_PER_MS);
	assert_int_equal(c.suspicion_mult, 1);
	assert_int_equal(c.suspicion_k, 3);
	mesh_swim_cfg_override(&c, 20, 5, 9);
	assert_int_equal(c.probe_interval_ns, 20 * MESH_NS_PER_MS);
	assert_int_equal(c.probe_timeout_ns, 5 * MESH_NS_PER_MS);
	assert_int_equal(c.indirect_timeout_ns, 5 * MESH_NS_PER_MS); /* bound by the direct */
	assert_int_equal(c.suspicion_mult, 9);
	assert_int_equal(mesh_swim_cfg_timing_check(&c, why, sizeof(why)), 0);
	assert_int_equal(mesh_swim_cfg_profile(&c, "tight"), 0);
	assert_int_equal(c.probe_interval_ns, 5 * MESH_NS_PER_MS);
	assert_int_equal(mesh_swim_cfg_profile(&c, "Fast"), -EINVAL);
	assert_int_equal(mesh_swim_cfg_profile(&c, NULL), -EINVAL);
	assert_int_equal(mesh_swim_cfg_profile(&c, "lan"), 0);
	assert_int_equal(c.probe_interval_ns, MESH_NS_PER_SEC);
	mesh_swim_cfg_override(&c, 700, 700, 0);
	assert_int_equal(c.indirect_timeout_ns, 0); /* lan: the end of the period */
	assert_int_equal(mesh_swim_cfg_timing_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "SWIM probe timeout (700 ms) must be below the probe "
			    "interval (700 ms)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_encoder_limits),
		cmocka_unit_test(test_codec_truncations),
		cmocka_unit_test(test_codec_malformed_fields),
		cmocka_unit_test(test_formulas),
		cmocka_unit_test(test_incarnation_rules),
		cmocka_unit_test(test_self_rules),
		cmocka_unit_test(test_piggyback_selection),
		cmocka_unit_test(test_push_pull_chunks),
		cmocka_unit_test(test_probe_cycle),
		cmocka_unit_test(test_identity_binding),
		cmocka_unit_test(test_identity_binding_keyless),
		cmocka_unit_test(test_incarnation_overflow),
		cmocka_unit_test(test_ack_spoof),
		cmocka_unit_test(test_ack_genuine),
		cmocka_unit_test(test_no_amplification),
		cmocka_unit_test(test_member_bound),
		cmocka_unit_test(test_liveness_evidence),
		cmocka_unit_test(test_tick_late),
		cmocka_unit_test(test_leave_direct),
		cmocka_unit_test(test_api_contract),
		cmocka_unit_test(test_cfg_override),
	};

	mesh_log_level_set(MESH_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
