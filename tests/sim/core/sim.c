/* SPDX-License-Identifier: BSD-3-Clause */
/* Deterministic simulator core: event heap, virtual clock, fake network (see sim.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum ev_kind { EV_DELIVER = 1, EV_TICK, EV_TIMER };

struct pkt {
	struct pkt *next; /* pause queue */
	struct sim_addr from;
	uint32_t to;
	uint32_t len;
	uint8_t data[];
};

struct event {
	uint64_t t;
	uint64_t seq;
	uint32_t kind;
	uint32_t node;
	uint64_t arg; /* tick generation / timer arg */
	void *p;      /* packet / timer ctx */
	sim_timer_f fn;
};

struct node {
	enum sim_node_state state;
	struct sim_node_ops ops;
	void *ctx;
	uint64_t tick_at;
	uint64_t tick_gen;
	uint32_t group;
	double loss_in, loss_out;
	struct pkt *q_head, *q_tail;
	uint32_t q_len;
};

struct link_loss {
	uint32_t from, to;
	double p;
};

struct sim_world {
	uint64_t seed;
	uint64_t now;
	uint64_t seq;
	uint64_t n_events;
	struct mesh_rng rng;
	struct mesh_rng net_rng;

	struct event *heap;
	size_t heap_n, heap_cap;

	struct node *nodes;
	uint32_t n_nodes, nodes_cap;

	enum sim_delay_kind delay_kind;
	uint64_t delay_min, delay_spread;
	double loss, dup, reorder;
	uint64_t reorder_extra;
	struct link_loss *links;
	size_t n_links;
	uint32_t next_group;
	struct sim_net_stats st;
};

uint64_t
sim_seed(uint64_t dflt)
{
	const char *e = getenv("MESH_SEED");

	if (e != NULL && *e != '\0')
		return strtoull(e, NULL, 0);
	return dflt;
}

struct sim_world *
sim_world_new(uint64_t seed)
{
	struct sim_world *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->seed = seed;
	mesh_rng_seed(&w->rng, seed);
	mesh_rng_seed(&w->net_rng, seed ^ 0x6e65747764726e67ULL);
	w->delay_kind = SIM_DELAY_UNIFORM;
	w->delay_min = 50 * MESH_NS_PER_US;
	w->delay_spread = 100 * MESH_NS_PER_US;
	printf("sim: seed=%" PRIu64 " (replay with MESH_SEED=%" PRIu64 ")\n", seed, seed);
	fflush(stdout);
	return w;
}

static void
pkt_queue_free(struct node *n)
{
	while (n->q_head) {
		struct pkt *p = n->q_head;

		n->q_head = p->next;
		free(p);
	}
	n->q_tail = NULL;
	n->q_len = 0;
}

void
sim_world_delete(struct sim_world *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->heap_n; i++)
		if (w->heap[i].kind == EV_DELIVER)
			free(w->heap[i].p);
	for (uint32_t i = 0; i < w->n_nodes; i++)
		pkt_queue_free(&w->nodes[i]);
	free(w->heap);
	free(w->nodes);
	free(w->links);
	free(w);
}

uint64_t
sim_world_seed(const struct sim_world *w)
{
	return w->seed;
}

uint64_t
sim_now(const struct sim_world *w)
{
	return w->now;
}

struct mesh_rng *
sim_rng(struct sim_world *w)
{
	return &w->rng;
}

uint64_t
sim_events(const struct sim_world *w)
{
	return w->n_events;
}

/* ---------------------------------------------------------------- heap */

static inline bool
ev_less(const struct event *a, const struct event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
heap_push(struct sim_world *w, struct event ev)
{
	size_t i;

	if (w->heap_n == w->heap_cap) {
		size_t nc = w->heap_cap ? w->heap_cap * 2 : 1024;
		struct event *nh = realloc(w->heap, nc * sizeof(*nh));

		if (nh == NULL) {
			fprintf(stderr, "sim: out of memory\n");
			abort();
		}
		w->heap = nh;
		w->heap_cap = nc;
	}
	ev.seq = w->seq++;
	i = w->heap_n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!ev_less(&ev, &w->heap[p]))
			break;
		w->heap[i] = w->heap[p];
		i = p;
	}
	w->heap[i] = ev;
}

static struct event
heap_pop(struct sim_world *w)
{
	struct event top = w->heap[0];
	struct event last = w->heap[--w->heap_n];
	size_t i = 0, n = w->heap_n;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct event *best = &last;

		if (l < n && ev_less(&w->heap[l], best)) {
			m = l;
			best = &w->heap[l];
		}
		if (r < n && ev_less(&w->heap[r], best))
			m = r;
		if (m == i)
			break;
		w->heap[i] = w->heap[m];
		i = m;
	}
	if (n > 0)
		w->heap[i] = last;
	return top;
}

/* ---------------------------------------------------------------- nodes */

uint32_t
sim_node_add(struct sim_world *w)
{
	if (w->n_nodes == w->nodes_cap) {
		uint32_t nc = w->nodes_cap ? w->nodes_cap * 2 : 64;
		struct node *nn = realloc(w->nodes, nc * sizeof(*nn));

		if (nn == NULL) {
			fprintf(stderr, "sim: out of memory\n");
			abort();
		}
		w->nodes = nn;
		w->nodes_cap = nc;
	}
	memset(&w->nodes[w->n_nodes], 0, sizeof(w->nodes[0]));
	w->nodes[w->n_nodes].tick_at = UINT64_MAX;
	return w->n_nodes++;
}

uint32_t
sim_node_count(const struct sim_world *w)
{
	return w->n_nodes;
}

struct sim_addr
sim_node_addr(const struct sim_world *w, uint32_t id)
{
	struct sim_addr a = { SIM_BASE_IP + id, SIM_PORT };

	(void)w;
	return a;
}

uint32_t
sim_addr_node(const struct sim_world *w, const struct sim_addr *a)
{
	if (a->port != SIM_PORT || a->ip < SIM_BASE_IP || a->ip - SIM_BASE_IP >= w->n_nodes)
		return UINT32_MAX;
	return a->ip - SIM_BASE_IP;
}

/* (Re)schedule the node's tick if its deadline moved earlier (or after it ticked). */
static void
schedule_tick(struct sim_world *w, uint32_t id, bool force)
{
	struct node *n = &w->nodes[id];
	uint64_t d;
	struct event ev = { 0 };

	if (n->state != SIM_NODE_UP || n->ops.deadline == NULL)
		return;
	d = n->ops.deadline(n->ctx);
	if (d == UINT64_MAX) {
		if (force)
			n->tick_at = UINT64_MAX;
		return;
	}
	if (d < w->now)
		d = w->now;
	if (!force && d >= n->tick_at)
		return;
	n->tick_at = d;
	n->tick_gen++;
	ev.t = d;
	ev.kind = EV_TICK;
	ev.node = id;
	ev.arg = n->tick_gen;
	heap_push(w, ev);
}

void
sim_node_start(struct sim_world *w, uint32_t id, const struct sim_node_ops *ops, void *ctx)
{
	struct node *n = &w->nodes[id];

	pkt_queue_free(n);
	n->ops = *ops;
	n->ctx = ctx;
	n->state = SIM_NODE_UP;
	n->tick_gen++;
	n->tick_at = UINT64_MAX;
	schedule_tick(w, id, true);
}

void
sim_node_crash(struct sim_world *w, uint32_t id)
{
	struct node *n = &w->nodes[id];

	n->state = SIM_NODE_DOWN;
	n->tick_gen++;
	n->tick_at = UINT64_MAX;
	memset(&n->ops, 0, sizeof(n->ops));
	n->ctx = NULL;
	pkt_queue_free(n);
}

void
sim_node_pause(struct sim_world *w, uint32_t id)
{
	struct node *n = &w->nodes[id];

	if (n->state != SIM_NODE_UP)
		return;
	n->state = SIM_NODE_PAUSED;
	n->tick_gen++;
	n->tick_at = UINT64_MAX;
}

void
sim_node_resume(struct sim_world *w, uint32_t id)
{
	struct node *n = &w->nodes[id];

	if (n->state != SIM_NODE_PAUSED)
		return;
	n->state = SIM_NODE_UP;
	while (n->q_head) {
		struct pkt *p = n->q_head;

		n->q_head = p->next;
		n->q_len--;
		if (n->state == SIM_NODE_UP && n->ops.input) {
			w->st.delivered++;
			n->ops.input(n->ctx, w->now, &p->from, p->data, p->len);
		}
		free(p);
	}
	n->q_tail = NULL;
	schedule_tick(w, id, true);
}

enum sim_node_state
sim_node_state(const struct sim_world *w, uint32_t id)
{
	return id < w->n_nodes ? w->nodes[id].state : SIM_NODE_DOWN;
}

void
sim_node_poke(struct sim_world *w, uint32_t id)
{
	schedule_tick(w, id, false);
}

/* ---------------------------------------------------------------- network */

void
sim_net_set_delay(struct sim_world *w, enum sim_delay_kind kind, uint64_t min_ns,
		  uint64_t spread_ns)
{
	w->delay_kind = kind;
	w->delay_min = min_ns;
	w->delay_spread = spread_ns;
}

void
sim_net_set_loss(struct sim_world *w, double p)
{
	w->loss = p;
}

void
sim_net_set_node_loss(struct sim_world *w, uint32_t id, double in, double out)
{
	if (id < w->n_nodes) {
		w->nodes[id].loss_in = in;
		w->nodes[id].loss_out = out;
	}
}

void
sim_net_set_link_loss(struct sim_world *w, uint32_t from, uint32_t to, double p)
{
	for (size_t i = 0; i < w->n_links; i++) {
		if (w->links[i].from == from && w->links[i].to == to) {
			if (p < 0)
				w->links[i] = w->links[--w->n_links];
			else
				w->links[i].p = p;
			return;
		}
	}
	if (p < 0)
		return;
	{
		struct link_loss *nl = realloc(w->links, (w->n_links + 1) * sizeof(*nl));

		if (nl == NULL)
			return;
		w->links = nl;
		w->links[w->n_links++] = (struct link_loss){ from, to, p };
	}
}

void
sim_net_set_dup(struct sim_world *w, double p)
{
	w->dup = p;
}

void
sim_net_set_reorder(struct sim_world *w, double p, uint64_t extra_ns)
{
	w->reorder = p;
	w->reorder_extra = extra_ns;
}

void
sim_net_partition(struct sim_world *w, const uint32_t *ids, size_t n)
{
	uint32_t g = ++w->next_group;

	for (size_t i = 0; i < n; i++)
		if (ids[i] < w->n_nodes)
			w->nodes[ids[i]].group = g;
}

void
sim_net_heal(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->n_nodes; i++)
		w->nodes[i].group = 0;
}

const struct sim_net_stats *
sim_net_stats(const struct sim_world *w)
{
	return &w->st;
}

static uint64_t
draw_delay(struct sim_world *w)
{
	uint64_t d = w->delay_min;

	if (w->delay_spread) {
		if (w->delay_kind == SIM_DELAY_EXP) {
			double u = mesh_rng_unit(&w->net_rng);
			double x = -log(1.0 - u) * (double)w->delay_spread;

			if (x > 20.0 * (double)w->delay_spread)
				x = 20.0 * (double)w->delay_spread;
			d += (uint64_t)x;
		} else {
			d += mesh_rng_below(&w->net_rng, w->delay_spread);
		}
	}
	if (w->reorder > 0 && mesh_rng_unit(&w->net_rng) < w->reorder) {
		d += w->reorder_extra;
		w->st.reordered++;
	}
	return d;
}

static double
link_loss(const struct sim_world *w, uint32_t from, uint32_t to)
{
	for (size_t i = 0; i < w->n_links; i++)
		if (w->links[i].from == from && w->links[i].to == to)
			return w->links[i].p;
	return w->loss;
}

static void
enqueue_copy(struct sim_world *w, uint32_t from, uint32_t to, const uint8_t *msg, size_t len)
{
	struct pkt *p = malloc(sizeof(*p) + len);
	struct event ev = { 0 };

	if (p == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	p->next = NULL;
	p->from = sim_node_addr(w, from);
	p->to = to;
	p->len = (uint32_t)len;
	memcpy(p->data, msg, len);
	ev.t = w->now + draw_delay(w);
	ev.kind = EV_DELIVER;
	ev.node = to;
	ev.p = p;
	heap_push(w, ev);
}

void
sim_send(struct sim_world *w, uint32_t from, const struct sim_addr *to, const uint8_t *msg,
	 size_t len)
{
	uint32_t dst = sim_addr_node(w, to);
	double p;

	w->st.sent++;
	w->st.sent_bytes += len;
	if (dst == UINT32_MAX) {
		w->st.dropped_unknown++;
		return;
	}
	p = link_loss(w, from, dst);
	if (from < w->n_nodes)
		p = 1.0 - (1.0 - p) * (1.0 - w->nodes[from].loss_out) *
				  (1.0 - w->nodes[dst].loss_in);
	if (p > 0 && mesh_rng_unit(&w->net_rng) < p) {
		w->st.dropped_loss++;
		return;
	}
	enqueue_copy(w, from, dst, msg, len);
	if (w->dup > 0 && mesh_rng_unit(&w->net_rng) < w->dup) {
		w->st.duplicated++;
		enqueue_copy(w, from, dst, msg, len);
	}
}

static void
deliver(struct sim_world *w, struct pkt *p)
{
	struct node *n = &w->nodes[p->to];
	uint32_t from = sim_addr_node(w, &p->from);

	if (from != UINT32_MAX && w->nodes[from].group != n->group) {
		w->st.dropped_partition++;
		free(p);
		return;
	}
	switch (n->state) {
	case SIM_NODE_UP:
		w->st.delivered++;
		n->ops.input(n->ctx, w->now, &p->from, p->data, p->len);
		schedule_tick(w, p->to, false);
		free(p);
		return;
	case SIM_NODE_PAUSED:
		if (n->q_len >= 4096) {
			w->st.dropped_queue++;
			free(p);
			return;
		}
		p->next = NULL;
		if (n->q_tail)
			n->q_tail->next = p;
		else
			n->q_head = p;
		n->q_tail = p;
		n->q_len++;
		return;
	default:
		w->st.dropped_down++;
		free(p);
		return;
	}
}

void
sim_at(struct sim_world *w, uint64_t at_ns, sim_timer_f fn, void *ctx, uint64_t arg)
{
	struct event ev = { 0 };

	ev.t = at_ns < w->now ? w->now : at_ns;
	ev.kind = EV_TIMER;
	ev.fn = fn;
	ev.p = ctx;
	ev.arg = arg;
	heap_push(w, ev);
}

static void
run_to(struct sim_world *w, uint64_t end)
{
	while (w->heap_n > 0 && w->heap[0].t <= end) {
		struct event ev = heap_pop(w);
		struct node *n;

		w->now = ev.t;
		w->n_events++;
		switch (ev.kind) {
		case EV_DELIVER:
			deliver(w, ev.p);
			break;
		case EV_TICK:
			n = &w->nodes[ev.node];
			if (n->state != SIM_NODE_UP || ev.arg != n->tick_gen)
				break;
			n->tick_at = UINT64_MAX;
			n->ops.tick(n->ctx, w->now);
			if (n->state == SIM_NODE_UP && n->tick_at == UINT64_MAX) {
				uint64_t d = n->ops.deadline(n->ctx);

				if (d != UINT64_MAX && d <= w->now) /* guard against spinning */
					d = w->now + MESH_NS_PER_US;
				if (d != UINT64_MAX) {
					struct event te = { 0 };

					n->tick_at = d;
					n->tick_gen++;
					te.t = d;
					te.kind = EV_TICK;
					te.node = ev.node;
					te.arg = n->tick_gen;
					heap_push(w, te);
				}
			}
			break;
		case EV_TIMER:
			ev.fn(w, ev.p, ev.arg);
			break;
		default:
			break;
		}
	}
	if (end > w->now)
		w->now = end;
}

void
sim_run_for(struct sim_world *w, uint64_t ns)
{
	run_to(w, w->now + ns);
}

uint64_t
sim_run_until(struct sim_world *w, sim_pred_f pred, void *ctx, uint64_t step_ns,
	      uint64_t timeout_ns)
{
	uint64_t start = w->now;

	if (step_ns == 0)
		step_ns = MESH_NS_PER_MS;
	for (;;) {
		if (pred(ctx))
			return w->now - start;
		if (w->now - start >= timeout_ns)
			return UINT64_MAX;
		run_to(w, w->now + step_ns);
	}
}
