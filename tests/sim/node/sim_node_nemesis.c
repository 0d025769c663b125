/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nemesis of tests/integration (nemesis.py) in virtual time, N = 5: while clients
 * write (lww puts, 2 % of them 100 KiB, deletes, epoch_max updates), a schedule of
 * faults every 15..60 ms, each lasting 20..300 ms (some below the 60 ms it takes to be
 * declared dead at N = 5, some well above):
 *   isolate   one node cut off, then healed          split  two nodes against three
 *   loss      one node loses 10/30/60/95 % of what it sends and receives
 *   kill      crash, restart under the same name (new generation, empty store)
 *   stop      paused (SIGSTOP): input queues, no timers; resumed
 *   flood     40..200 frames from a spare node: random bytes, truncated and bit-flipped
 *             frames, junk payloads sealed as a real member, replays of captured frames
 *             to their receiver and to other nodes ("rebind")
 *   dupstorm  replays only
 * on top of a permanent mild noise (1..3 % loss on some nodes, 2 % duplicates, 5 % of
 * datagrams reordered by up to 20 ms). At most one partition at a time and at most two
 * nodes down or paused, like nemesis.py. Then everything heals and the invariants of
 * sim_node.h must hold. Frames from the spare node that do not open are expected (counted
 * in injected_refused); any other frame that does not open is a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_node_scen.h"

#define MS NSIM_MS

enum { EV_HEAL, EV_LOSS_OFF, EV_RESTART, EV_RESUME };

struct nem {
	struct nsim *c;
	bool cut;          /* a partition is on */
	uint64_t busy_until[64]; /* node down or paused until */
};

static uint64_t
below(struct nsim *c, uint64_t x)
{
	return x ? mesh_rng_below(sim_rng(c->w), x) : 0;
}

static void
end_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	struct nem *m = ctx;
	uint32_t i = (uint32_t)arg;

	(void)w;
	switch (arg >> 32) {
	case EV_HEAL:
		sim_net_heal(m->c->w);
		m->cut = false;
		break;
	case EV_LOSS_OFF:
		sim_net_set_node_loss(m->c->w, i, 0, 0);
		break;
	case EV_RESTART:
		nsim_start(m->c, i);
		break;
	case EV_RESUME:
		nsim_resume(m->c, i);
		break;
	default:
		break;
	}
}

static void
later(struct nem *m, uint64_t at, uint32_t ev, uint32_t node)
{
	sim_at(m->c->w, at, end_cb, m, (uint64_t)ev << 32 | node);
}

/* one hostile datagram for node @to */
static void
inject_one(struct nsim *c, bool replay_only)
{
	struct nsim_capture *cp = c->cap;
	uint8_t buf[NSIM_FRAME_CAP];
	uint32_t to = (uint32_t)below(c, c->n), kind = (uint32_t)below(c, replay_only ? 2 : 6);
	size_t len;

	if (kind < 2 && cp->n == 0)
		kind = 5;
	if (kind < 2) { /* a captured frame to its receiver, or to another node */
		uint32_t k = (uint32_t)below(c, cp->n);

		len = cp->f[k].len;
		memcpy(buf, cp->f[k].buf, len);
		if (kind == 0 && cp->f[k].to < c->n)
			to = cp->f[k].to;
	} else if (kind == 2 && cp->n > 0) { /* a captured frame, one bit flipped or cut */
		uint32_t k = (uint32_t)below(c, cp->n);

		len = cp->f[k].len;
		memcpy(buf, cp->f[k].buf, len);
		if (below(c, 2))
			buf[below(c, len)] ^= (uint8_t)(1u << below(c, 8));
		else
			len = below(c, len);
	} else if (kind == 3 || kind == 4) { /* a junk payload sealed as a real member */
		struct mesh_wire_sec sec = { .cluster_id = 0x5113u };
		struct mesh_wire_hdr h = { .type = (uint8_t)(kind == 3 ? MESH_WIRE_TYPE_MSGS
								      : 1 + below(c, 3)),
					   .seq = 1 + below(c, UINT32_MAX) };
		uint32_t from = (uint32_t)below(c, c->n);
		char name[16];

		snprintf(name, sizeof(name), "n%u", from);
		sec.self_id = mesh_wire_node_id(name, c->nodes[from].gen);
		h.length = (uint16_t)below(c, 200);
		for (uint32_t b = 0; b < h.length; b++)
			mesh_wire_frame_payload(buf)[b] = (uint8_t)below(c, 256);
		/* sometimes a valid record header first, then junk */
		if (h.length >= 3 && below(c, 2)) {
			mesh_wire_frame_payload(buf)[0] = (uint8_t)below(c, 8);
			mesh_wire_frame_payload(buf)[1] = (uint8_t)(h.length - 3);
			mesh_wire_frame_payload(buf)[2] = 0;
		}
		len = mesh_wire_frame_seal(&sec, buf, sizeof(buf), &h);
	} else { /* random bytes */
		len = 1 + below(c, 300);
		for (size_t b = 0; b < len; b++)
			buf[b] = (uint8_t)below(c, 256);
	}
	if (len > 0)
		nsim_inject(c, to, buf, len);
}

static void
flood(struct nsim *c, bool replay_only)
{
	uint32_t n = 40 + (uint32_t)below(c, 160);

	for (uint32_t i = 0; i < n; i++)
		inject_one(c, replay_only);
}

/* a node that is up, not paused and not busy, or UINT32_MAX; at most two busy at once */
static uint32_t
pick_idle(struct nem *m, uint64_t now)
{
	struct nsim *c = m->c;
	uint32_t busy = 0, start = (uint32_t)below(c, c->n);

	for (uint32_t i = 0; i < c->n; i++)
		busy += m->busy_until[i] > now;
	if (busy >= 2)
		return UINT32_MAX;
	for (uint32_t k = 0; k < c->n; k++) {
		uint32_t i = (start + k) % c->n;

		if (m->busy_until[i] <= now && nsim_up(c, i) && !c->nodes[i].paused)
			return i;
	}
	return UINT32_MAX;
}

static void
partition(struct nem *m, uint32_t k, uint64_t end)
{
	struct nsim *c = m->c;
	uint32_t ids[2], got = 0;

	while (got < k) {
		uint32_t x = (uint32_t)below(c, c->n);

		if (got == 0 || ids[0] != x)
			ids[got++] = x;
	}
	sim_net_partition(c->w, ids, k);
	m->cut = true;
	later(m, end, EV_HEAL, 0);
}

/* the fault script (nsim_scenario.faults): runs the world for p->write_ns */
static void
f_nemesis(struct nsim *c, const struct nsim_plan *p)
{
	static const uint32_t weights[] = { 14, 14, 14, 14, 12, 22, 10 };
	struct nem m = { .c = c };
	uint64_t t0 = sim_now(c->w), end = t0 + p->write_ns;

	for (uint32_t i = 0; i < c->n; i++)
		if (below(c, 2))
			sim_net_set_node_loss(c->w, i, 0.01 * (double)(1 + below(c, 3)), 0);
	sim_net_set_delay(c->w, SIM_DELAY_EXP, 50 * MESH_NS_PER_US, 150 * MESH_NS_PER_US);
	sim_net_set_dup(c->w, 0.02);
	sim_net_set_reorder(c->w, 0.05, (1 + below(c, 20)) * MS);
	for (uint64_t t = t0 + 15 * MS + below(c, 45 * MS); t + 20 * MS < end;
	     t += 15 * MS + below(c, 45 * MS)) {
		uint32_t r = (uint32_t)below(c, 100), kind = 0, x = 0;
		uint64_t len = 20 * MS + below(c, 280 * MS), stop = MESH_MIN(t + len, end);

		while (r >= weights[kind]) /* isolate split loss kill stop flood dupstorm */
			r -= weights[kind++];
		sim_run_for(c->w, t - sim_now(c->w));
		if (kind <= 1 && m.cut)
			kind = 5;
		if ((kind == 3 || kind == 4) && (x = pick_idle(&m, t)) == UINT32_MAX)
			kind = 5;
		switch (kind) {
		case 0:
		case 1:
			partition(&m, kind + 1, stop);
			break;
		case 2:
			x = (uint32_t)below(c, c->n);
			sim_net_set_node_loss(c->w, x, (double)(10 + 30 * below(c, 4)) / 100.0,
					      (double)(10 + 30 * below(c, 4)) / 100.0);
			later(&m, stop, EV_LOSS_OFF, x);
			break;
		case 3:
			nsim_crash(c, x);
			later(&m, stop, EV_RESTART, x);
			m.busy_until[x] = stop + 20 * MS;
			break;
		case 4:
			nsim_pause(c, x);
			later(&m, stop, EV_RESUME, x);
			m.busy_until[x] = stop + 20 * MS;
			break;
		default:
			flood(c, kind == 6);
			break;
		}
	}
	sim_run_for(c->w, end - sim_now(c->w)); /* every callback on @m ends by then */
	/* restart what is down (nsim_heal_all follows: partitions, loss, pauses) */
	for (uint32_t i = 0; i < c->n; i++)
		if (!nsim_up(c, i))
			nsim_start(c, i);
}

static void
t_nemesis(struct nsim *c, struct nsim_plan *p)
{
	(void)p;
	c->cap = calloc(1, sizeof(*c->cap));
	if (c->cap == NULL)
		abort();
	c->spare = sim_node_add(c->w);
	c->big_pct = 2;
}

const struct nsim_scenario nsim_scenarios_nemesis[] = {
	{ "nemesis", 5, t_nemesis, f_nemesis },
};
const size_t nsim_n_scenarios_nemesis = MESH_ARRAY_SIZE(nsim_scenarios_nemesis);
