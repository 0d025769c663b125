/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/node <-> simulator binding (see sim_node.h): node lifecycle (start, crash, restart,
 * pause), the node env (frames sealed with lib/wire and sent through the fake network,
 * sim rng, a wall clock derived from virtual time, client replies) and the sim callbacks
 * (input opens the frame, tick polls, deadline clamps the node's next deadline).
 * Frames are keyless (xxh3 checksum): AEAD costs time and tests nothing lib/node does.
 * There is no replay window here on purpose: duplicated datagrams reach the node, whose
 * channels must tolerate them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_node.h"

#define CLUSTER_ID 0x5113u
#define WALL_EPOCH_NS (UINT64_C(1700000000) * NSIM_SEC)
#define POLL_MIN_NS (100 * MESH_NS_PER_US)
#define POLL_MAX_NS NSIM_MS
#define FRAME_CAP NSIM_FRAME_CAP
#define CAPTURE_EVERY 13 /* one frame in 13 is kept for replays (when capturing) */
#define STORM_WINDOW_NS (10 * NSIM_MS)

/* one more frame: true during a storm (too many frames in one 10 ms window of virtual
 * time), which is reported once; from then on nothing leaves */
static bool
storm(struct nsim *c)
{
	uint64_t now = sim_now(c->w);

	if (now - c->window_start >= STORM_WINDOW_NS) {
		c->window_start = now - now % STORM_WINDOW_NS;
		c->window_frames = 0;
	}
	c->frames_sent++;
	if (++c->window_frames > c->peak_frames)
		c->peak_frames = c->window_frames;
	if (!c->storm && c->window_frames > c->max_frames) {
		nsim_report(c, "traffic storm: over %" PRIu64 " frames within 10 ms, output "
			    "dropped from now on", c->max_frames);
		c->storm = true;
	}
	return c->storm;
}

static void
capture(struct nsim *c, uint32_t from, const struct sim_addr *to, const uint8_t *buf,
	size_t len)
{
	struct nsim_capture *cp = c->cap;

	if (cp->seen++ % CAPTURE_EVERY != 0)
		return;
	cp->f[cp->next].from = from;
	cp->f[cp->next].to = sim_addr_node(c->w, to);
	cp->f[cp->next].len = (uint32_t)len;
	memcpy(cp->f[cp->next].buf, buf, len);
	cp->next = (cp->next + 1) % NSIM_CAPTURE;
	cp->n = MESH_MIN(cp->n + 1, (uint32_t)NSIM_CAPTURE);
}

void
nsim_inject(struct nsim *c, uint32_t to, const uint8_t *msg, size_t len)
{
	struct sim_addr a = sim_node_addr(c->w, to);

	c->injected++;
	sim_send(c->w, c->spare, &a, msg, len);
}

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	struct nsim_node *nd = ctx;
	uint8_t buf[FRAME_CAP];

	for (unsigned i = 0; i < n; i++) {
		const struct mesh_node_frame *f = &frames[i];
		struct mesh_wire_hdr h = { .type = f->type, .length = (uint16_t)f->len };
		struct sim_addr to = { f->peer.ip, f->peer.port };
		size_t len;

		if (f->len > FRAME_CAP - MESH_WIRE_HDR_LEN - MESH_WIRE_TAG_LEN) {
			fprintf(stderr, "sim_node: n%u sent a %u-byte payload\n", nd->idx, f->len);
			abort();
		}
		if (storm(nd->c))
			return;
		h.seq = ++nd->tx_seq;
		memcpy(mesh_wire_frame_payload(buf), f->payload, f->len);
		len = mesh_wire_frame_seal(&nd->sec, buf, sizeof(buf), &h);
		if (len == 0) {
			fprintf(stderr, "sim_node: n%u: frame seal failed\n", nd->idx);
			abort();
		}
		sim_send(nd->c->w, nd->idx, &to, buf, len);
		if (nd->c->cap != NULL)
			capture(nd->c, nd->idx, &to, buf, len);
	}
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	struct nsim_node *nd = ctx;

	if (r->type == MESH_NODE_REPLY_EVENT)
		return;
	nd->replied = true;
	nd->reply_status = r->status;
}

static uint64_t
env_random(void *ctx)
{
	struct nsim_node *nd = ctx;

	return mesh_rng_next(sim_rng(nd->c->w));
}

static uint64_t
env_wall_ns(void *ctx)
{
	struct nsim_node *nd = ctx;

	return WALL_EPOCH_NS + sim_now(nd->c->w);
}

/* "n<k>" -> k, or UINT32_MAX */
static uint32_t
node_of_name(const struct nsim *c, const char *name, size_t len)
{
	uint32_t k = 0;

	if (len < 2 || len > 8 || name[0] != 'n')
		return UINT32_MAX;
	for (size_t i = 1; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return UINT32_MAX;
		k = k * 10 + (uint32_t)(name[i] - '0');
	}
	return k < c->n ? k : UINT32_MAX;
}

static void
env_member(void *ctx, const struct mesh_swim_event *ev)
{
	struct nsim_node *nd = ctx;
	struct nsim *c = nd->c;
	uint32_t j = node_of_name(c, ev->name, ev->name_len);

	if (c->trace)
		printf("%10.3f ms  n%u: %s %.*s life %" PRIu64 " inc %u\n",
		       (double)sim_now(c->w) / 1e6, nd->idx, mesh_swim_event_name(ev->type),
		       (int)ev->name_len, ev->name, nsim_life(c, ev->gen), ev->inc);
	if (ev->type == MESH_SWIM_EV_DEAD && j != UINT32_MAX && nsim_up(c, j) &&
	    c->nodes[j].gen == ev->gen)
		c->dead_events++;
}

static const struct mesh_node_env_ops env_ops = {
	.send = env_send,
	.reply = env_reply,
	.random = env_random,
	.wall_ns = env_wall_ns,
	.member = env_member,
};

static void
node_input(void *ctx, uint64_t now, const struct sim_addr *from, const uint8_t *msg,
	   size_t len)
{
	struct nsim_node *nd = ctx;
	uint8_t buf[FRAME_CAP];
	struct mesh_wire_hdr h;
	struct mesh_node_frame f;
	enum mesh_wire_err err;

	if (len > sizeof(buf)) {
		nd->c->frames_bad++;
		return;
	}
	memcpy(buf, msg, len);
	err = mesh_wire_frame_open(&nd->sec, buf, len, &h);
	if (err != MESH_WIRE_OK && sim_addr_node(nd->c->w, from) == nd->c->spare) {
		nd->c->injected_refused++; /* junk, truncated, bit-flipped, or our own */
		return;
	}
	if (err != MESH_WIRE_OK) {
		if (nd->c->frames_bad++ == 0) {
			bool hdr = mesh_wire_hdr_decode(msg, len, &h) == MESH_WIRE_OK;

			printf("sim_node: n%u: a %zu-byte frame from %08x did not open: %s "
			       "(sender %016" PRIx64 ", self %016" PRIx64 ")\n", nd->idx, len,
			       from->ip, mesh_wire_err_name(err), hdr ? h.sender_id : 0,
			       nd->sec.self_id);
		}
		return;
	}
	f = (struct mesh_node_frame){
		.sender = h.sender_id,
		.peer = { .ip = from->ip, .port = from->port },
		.type = h.type,
		.payload = mesh_wire_frame_payload(buf),
		.len = h.length,
	};
	mesh_node_input(nd->node, &f, 1, now);
}

static void
node_tick(void *ctx, uint64_t now)
{
	struct nsim_node *nd = ctx;

	nd->poll_soon = false;
	mesh_node_poll(nd->node, now);
}

static uint64_t
node_deadline(void *ctx)
{
	struct nsim_node *nd = ctx;
	uint64_t now = sim_now(nd->c->w);
	uint64_t d = mesh_node_next_deadline(nd->node);

	if (nd->poll_soon)
		return now + POLL_MIN_NS;
	return MESH_MIN(MESH_MAX(d, now + POLL_MIN_NS), now + POLL_MAX_NS);
}

static const struct sim_node_ops node_ops = {
	.input = node_input,
	.tick = node_tick,
	.deadline = node_deadline,
};

/* $MESH_SIM_TRACE: every 50 ms, traffic and replication backlog */
static void
trace_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	struct nsim *c = ctx;
	uint64_t backlog = 0, peers = 0, sent = sim_net_stats(w)->sent;

	for (uint32_t i = 0; i < c->n; i++) {
		struct mesh_node_peer_info pi;

		for (uint32_t k = 0; nsim_up(c, i) &&
				     mesh_node_peer_at(c->nodes[i].node, k, &pi) == 0; k++, peers++)
			backlog += pi.channel.backlog;
	}
	printf("%10.3f ms  trace: %" PRIu64 " datagrams in 50 ms, %" PRIu64 " peers, backlog %"
	       PRIu64 " ops, %" PRIu64 " acked writes\n", (double)sim_now(w) / 1e6, sent - arg,
	       peers, backlog, c->acked);
	sim_at(w, sim_now(w) + 50 * NSIM_MS, trace_cb, c, sent);
}

struct nsim *
nsim_new(uint32_t n, uint64_t seed, const char *scenario)
{
	struct nsim *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->nodes = calloc(n, sizeof(*c->nodes))) == NULL ||
	    (c->w = sim_world_new(seed)) == NULL) {
		fprintf(stderr, "sim_node: out of memory\n");
		abort();
	}
	c->scenario = scenario;
	c->n = n;
	c->spare = UINT32_MAX;
	c->n_seeds = 2;
	c->max_frames = 20000 + 8 * (uint64_t)n * n; /* N = 50 peaks at 11,000 */
	c->write_gap_ns = NSIM_MS;
	c->write_burst = 1;
	c->lww_keys = 32;
	c->epoch_keys = 8;
	c->trace = getenv("MESH_SIM_TRACE") != NULL;
	if (c->trace)
		sim_at(c->w, 0, trace_cb, c, 0);
	mesh_node_cfg_default(&c->base);
	for (uint32_t i = 0; i < n; i++) {
		c->nodes[i].c = c;
		c->nodes[i].idx = sim_node_add(c->w);
	}
	return c;
}

void
nsim_delete(struct nsim *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n; i++)
		mesh_node_delete(c->nodes[i].node);
	free(c->nodes);
	free(c->writes);
	free(c->cap);
	sim_world_delete(c->w);
	free(c);
}

bool
nsim_up(const struct nsim *c, uint32_t i)
{
	return c->nodes[i].node != NULL;
}

void
nsim_start(struct nsim *c, uint32_t i)
{
	struct nsim_node *nd = &c->nodes[i];
	struct mesh_node_cfg cfg = c->base;
	struct sim_addr a = sim_node_addr(c->w, i);
	uint64_t now = sim_now(c->w);

	if (nd->node != NULL)
		return;
	/*
	 * Generation = life << 32, like meshd's wall-clock generations far apart; small_gens
	 * uses 1, 2, ... (scenario id_collision: ("n20", 2) and ("n21", 1) once had the same
	 * node id).
	 */
	nd->gen += c->small_gens ? 1 : UINT64_C(1) << 32;
	snprintf(cfg.name, sizeof(cfg.name), "n%u", i);
	cfg.gen = nd->gen;
	cfg.addr = (struct mesh_node_addr){ .ip = a.ip, .port = a.port };
	cfg.n_seeds = 0;
	for (uint32_t k = 0; k < c->n_seeds && k < c->n; k++) {
		struct sim_addr s = sim_node_addr(c->w, k);

		if (k != i)
			cfg.seeds[cfg.n_seeds++] = (struct mesh_node_addr){ s.ip, s.port };
	}
	nd->sec = (struct mesh_wire_sec){ .cluster_id = CLUSTER_ID,
					  .self_id = mesh_wire_node_id(cfg.name, cfg.gen) };
	nd->paused = false;
	nd->poll_soon = false;
	nd->node = mesh_node_new(&cfg, &env_ops, nd, now);
	if (nd->node == NULL || mesh_crdt_ns_add_defaults(mesh_node_store(nd->node)) != 0) {
		fprintf(stderr, "sim_node: n%u: mesh_node_new failed\n", i);
		abort();
	}
	if (mesh_node_id(nd->node) != nd->sec.self_id) {
		fprintf(stderr, "sim_node: n%u: node id differs from mesh_wire_node_id\n", i);
		abort();
	}
	sim_node_start(c->w, i, &node_ops, nd);
	mesh_node_join(nd->node, now);
	sim_node_poke(c->w, i);
}

static void
start_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	(void)w;
	nsim_start(ctx, (uint32_t)arg);
}

void
nsim_start_all(struct nsim *c, uint64_t spread_ns)
{
	uint64_t now = sim_now(c->w);

	nsim_start(c, 0);
	for (uint32_t i = 1; i < c->n; i++)
		sim_at(c->w, now + (spread_ns ? mesh_rng_below(sim_rng(c->w), spread_ns) : 0),
		       start_cb, c, i);
}

void
nsim_crash(struct nsim *c, uint32_t i)
{
	struct nsim_node *nd = &c->nodes[i];

	if (nd->node == NULL)
		return;
	sim_node_crash(c->w, i);
	mesh_node_delete(nd->node);
	nd->node = NULL;
	nd->paused = false;
}

void
nsim_restart(struct nsim *c, uint32_t i)
{
	nsim_crash(c, i);
	nsim_start(c, i);
}

void
nsim_pause(struct nsim *c, uint32_t i)
{
	if (c->nodes[i].node == NULL || c->nodes[i].paused)
		return;
	c->nodes[i].paused = true;
	sim_node_pause(c->w, i);
}

void
nsim_resume(struct nsim *c, uint32_t i)
{
	if (!c->nodes[i].paused)
		return;
	c->nodes[i].paused = false;
	sim_node_resume(c->w, i);
}

void
nsim_heal_all(struct nsim *c)
{
	sim_net_heal(c->w);
	sim_net_set_loss(c->w, 0);
	sim_net_set_dup(c->w, 0);
	sim_net_set_reorder(c->w, 0, 0);
	for (uint32_t i = 0; i < c->n; i++) {
		sim_net_set_node_loss(c->w, i, 0, 0);
		nsim_resume(c, i);
	}
}

uint32_t
nsim_pick_serving(struct nsim *c)
{
	uint32_t start = (uint32_t)mesh_rng_below(sim_rng(c->w), c->n);

	for (uint32_t k = 0; k < c->n; k++) {
		uint32_t i = (start + k) % c->n;

		if (c->nodes[i].node != NULL && !c->nodes[i].paused)
			return i;
	}
	return UINT32_MAX;
}
