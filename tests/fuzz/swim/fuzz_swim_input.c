/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SWIM blob decoder and the state machine behind it.
 *
 * Input: byte 0 selects the receiving instance state (fresh / with members / leaving) and
 * the meta bound; the rest is one SWIM blob. The blob is decoded on its own (the decoder
 * must never read out of bounds, and a successful decode must re-encode to the same
 * bytes, and the header peek mesh_swim_msg_sender must agree with it), then fed to
 * mesh_swim_input followed by a few ticks (no assert may fire, no
 * sanitizer report, no leak).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_swim.h"
#include "swim_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mesh_rng rng;
static uint8_t sink;

static void
f_send(void *ctx, const struct mesh_swim_pkt *p, unsigned n)
{
	(void)ctx;
	for (unsigned i = 0; i < n; i++)
		if (p[i].len > MESH_SWIM_DEFAULT_MAX_MSG)
			abort();
		else if (p[i].len)
			sink ^= p[i].msg[p[i].len - 1];
}

static uint64_t
f_random(void *ctx)
{
	(void)ctx;
	return mesh_rng_next(&rng);
}

static void
f_event(void *ctx, const struct mesh_swim_event *ev)
{
	(void)ctx;
	if (ev->name_len == 0 || ev->name_len > MESH_SWIM_NAME_MAX)
		abort();
	sink ^= (uint8_t)ev->name[0];
}

static const struct mesh_swim_env_ops ops = { f_send, f_random, f_event };

/* Re-encode a decoded message and compare with the input. */
static void
roundtrip(const uint8_t *b, size_t len, const struct swim_msg *m)
{
	static uint8_t out[70000];
	struct swim_enc e;
	size_t n;

	swim_enc_begin(&e, out, sizeof(out), m->type, m->flags, m->sender, m->sender_len,
		       m->sender_gen, m->seq, m->target, m->target_len, &m->target_addr);
	for (uint32_t i = 0; i < m->n_rec; i++)
		if (swim_enc_rec(&e, &m->rec[i], sizeof(out)) != 0)
			abort();
	n = swim_enc_end(&e);
	if (n != len || memcmp(out, b, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct swim_rec recs[SWIM_MAX_RECORDS];
	struct swim_msg m = { .rec = recs, .rec_cap = SWIM_MAX_RECORDS };
	struct mesh_swim_cfg cfg;
	struct mesh_swim *s;
	struct mesh_swim_addr from = { 0x0A000002u, 7946 };
	uint8_t mode;
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	mesh_log_level_set(MESH_LOG_ERR);
	{
		/* the header peek lib/node uses: consistent with the full decoder */
		char who[MESH_SWIM_NAME_MAX + 1];
		uint64_t gen;
		int ok = mesh_swim_msg_sender(data, size, who, &gen) == 0;

		if (ok && (who[0] == 0 || strlen(who) > MESH_SWIM_NAME_MAX))
			abort();
		if (swim_msg_decode(data, size, 512, &m) == SWIM_DEC_OK) {
			roundtrip(data, size, &m);
			if (!ok || strlen(who) != m.sender_len ||
			    memcmp(who, m.sender, m.sender_len) != 0 || gen != m.sender_gen)
				abort();
		}
	}

	mesh_rng_seed(&rng, mode);
	mesh_swim_cfg_lan(&cfg);
	memcpy(cfg.name, "self", 5);
	cfg.gen = 5;
	cfg.addr.ip = 0x0A000001u;
	cfg.addr.port = 7946;
	if (mode & 1)
		cfg.meta_max = 64;
	if (mode & 16)
		cfg.max_members = 3; /* eviction and refusal at the table bound */
	s = mesh_swim_new(&cfg, &ops, NULL);
	if (s == NULL)
		abort();
	if (mode & 2) {
		/* a few members first, known through a well-formed gossip blob */
		uint8_t buf[512];
		struct swim_enc e;
		struct swim_rec r = { .status = MESH_SWIM_ALIVE, .name_len = 2, .gen = 1 };
		static const char *const names[] = { "n1", "n2", "n3", "n4" };

		swim_enc_begin(&e, buf, sizeof(buf), SWIM_MSG_GOSSIP, 0, "n1", 2, 1, 0, NULL, 0,
			       NULL);
		for (int i = 0; i < 4; i++) {
			r.name = names[i];
			r.addr.ip = 0x0A000002u + (uint32_t)i;
			r.addr.port = 7946;
			swim_enc_rec(&e, &r, sizeof(buf));
		}
		mesh_swim_input(s, now, &from, buf, swim_enc_end(&e));
	}
	if (mode & 4)
		mesh_swim_leave(s, now);
	if (mode & 8) {
		struct mesh_swim_addr seed = { 0x0A000003u, 7946 };

		mesh_swim_join(s, &seed, 1, now);
	}
	mesh_swim_input(s, now + 1, &from, data, size);
	/* and once more later: duplicates and stale sequence numbers */
	mesh_swim_input(s, now + 2, &from, data, size);
	for (int i = 0; i < 4; i++) {
		uint64_t d = mesh_swim_next_deadline(s);

		now = d > now ? d : now + 1;
		mesh_swim_tick(s, now);
	}
	mesh_swim_tick(s, now + 200 * MESH_NS_PER_SEC);
	mesh_swim_delete(s);
	return 0;
}
