/* SPDX-License-Identifier: BSD-3-Clause */
/* SWIM <-> simulator binding and the cluster DSL (see sim_swim.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_swim.h"
#include "swim_internal.h"

static void
env_send(void *ctx, const struct mesh_swim_pkt *pkts, unsigned n)
{
	struct sim_swim_node *nd = ctx;

	for (unsigned i = 0; i < n; i++) {
		struct sim_addr to = { pkts[i].to.ip, pkts[i].to.port };

		sim_send(nd->c->w, nd->id, &to, pkts[i].msg, pkts[i].len);
	}
}

static uint64_t
env_random(void *ctx)
{
	struct sim_swim_node *nd = ctx;

	return mesh_rng_next(sim_rng(nd->c->w));
}

static uint32_t
subject_of(const struct sim_cluster *c, const char *name, size_t len)
{
	char buf[16];
	char *end;
	unsigned long v;

	if (len < 2 || len >= sizeof(buf) || name[0] != 'n')
		return UINT32_MAX;
	memcpy(buf, name + 1, len - 1);
	buf[len - 1] = 0;
	v = strtoul(buf, &end, 10);
	if (*end != 0 || v >= c->n)
		return UINT32_MAX;
	return (uint32_t)v;
}

static bool
running(const struct sim_swim_node *nd)
{
	return nd->started && !nd->crashed && !nd->left;
}

uint32_t
sim_cluster_live(const struct sim_cluster *c)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < c->n; i++)
		k += running(&c->nodes[i]);
	return k;
}

static void
env_event(void *ctx, const struct mesh_swim_event *ev)
{
	struct sim_swim_node *obs = ctx;
	struct sim_cluster *c = obs->c;
	uint32_t j = subject_of(c, ev->name, ev->name_len);
	struct sim_swim_node *sub;
	uint64_t now = sim_now(c->w);

	if ((unsigned)ev->type < MESH_ARRAY_SIZE(c->n_events))
		c->n_events[ev->type]++;
	if (c->verbose)
		printf("%10.3f ms  n%u: %s n%u gen=%" PRIu64 " inc=%u\n", (double)now / 1e6,
		       obs->id, mesh_swim_event_name(ev->type), j, ev->gen, ev->inc);
	if (j == UINT32_MAX)
		return;
	if (c->trace == j + 1)
		printf("TRACE %10.3f ms  n%u: %s n%u gen=%" PRIu64 " inc=%u prev=%s\n",
		       (double)now / 1e6, obs->id, mesh_swim_event_name(ev->type), j, ev->gen,
		       ev->inc, mesh_swim_status_name(ev->prev_status));
	sub = &c->nodes[j];
	if (ev->gen != sub->gen)
		return;
	if (running(sub)) {
		if (ev->type == MESH_SWIM_EV_DEAD) {
			c->false_dead++;
			if (!c->quiet_fp)
				printf("FALSE POSITIVE at %.3f ms: n%u declared n%u dead "
				       "(gen %" PRIu64 " inc %u)\n",
				       (double)now / 1e6, obs->id, j, ev->gen, ev->inc);
			if (c->trace) {
				struct mesh_swim_member_info mi;

				for (size_t k = 0; mesh_swim_member_at(obs->s, k, &mi) == 0; k++)
					if (mi.name_len == ev->name_len &&
					    !memcmp(mi.name, ev->name, mi.name_len))
						printf("  entry %zu: %s inc %u\n", k,
						       mesh_swim_status_name(mi.status), mi.inc);
			}
		} else if (ev->type == MESH_SWIM_EV_SUSPECT) {
			c->false_suspect++;
		}
		return;
	}
	if (!sub->crashed && !sub->left)
		return;
	if ((ev->type == MESH_SWIM_EV_SUSPECT || ev->type == MESH_SWIM_EV_DEAD ||
	     ev->type == MESH_SWIM_EV_LEFT) && sub->first_detect_at == 0)
		sub->first_detect_at = now;
	if ((ev->type == MESH_SWIM_EV_DEAD || ev->type == MESH_SWIM_EV_LEFT) &&
	    ev->prev_status != MESH_SWIM_DEAD && ev->prev_status != MESH_SWIM_LEFT &&
	    running(obs)) {
		sub->dead_views++;
		if (sub->all_know_at == 0 && sub->dead_views >= sub->live_at_down)
			sub->all_know_at = now;
	}
}

static const struct mesh_swim_env_ops env_ops = {
	.send = env_send,
	.random = env_random,
	.event = env_event,
};

static void
node_input(void *ctx, uint64_t now, const struct sim_addr *from, const uint8_t *msg,
	   size_t len)
{
	struct sim_swim_node *nd = ctx;
	struct mesh_swim_addr a = { from->ip, from->port };
	uint32_t j = sim_addr_node(nd->c->w, from);

	mesh_swim_input(nd->s, now, &a, msg, len);
	/* as lib/node does: every accepted frame from a member is liveness evidence */
	if (j < nd->c->n && nd->c->nodes[j].s != NULL) {
		char name[16];
		int nl = snprintf(name, sizeof(name), "n%u", j);

		mesh_swim_member_heard(nd->s, name, (size_t)nl, nd->c->nodes[j].gen, now);
	}
}

static void
node_tick(void *ctx, uint64_t now)
{
	struct sim_swim_node *nd = ctx;

	mesh_swim_tick(nd->s, now);
}

static uint64_t
node_deadline(void *ctx)
{
	struct sim_swim_node *nd = ctx;

	return mesh_swim_next_deadline(nd->s);
}

static const struct sim_node_ops node_ops = {
	.input = node_input,
	.tick = node_tick,
	.deadline = node_deadline,
};

struct sim_cluster *
sim_cluster_new(uint32_t n, const struct mesh_swim_cfg *cfg, uint64_t seed)
{
	struct sim_cluster *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->w = sim_world_new(seed);
	c->nodes = calloc(n, sizeof(*c->nodes));
	if (c->w == NULL || c->nodes == NULL) {
		sim_cluster_delete(c);
		return NULL;
	}
	c->n = n;
	c->cfg = *cfg;
	c->n_seeds = 3;
	if (getenv("MESH_SIM_TRACE"))
		c->trace = (uint32_t)strtoul(getenv("MESH_SIM_TRACE"), NULL, 0) + 1;
	for (uint32_t i = 0; i < n; i++) {
		c->nodes[i].c = c;
		c->nodes[i].id = sim_node_add(c->w);
		c->nodes[i].gen = 1;
	}
	return c;
}

void
sim_cluster_delete(struct sim_cluster *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; c->nodes && i < c->n; i++)
		mesh_swim_delete(c->nodes[i].s);
	free(c->nodes);
	sim_world_delete(c->w);
	free(c);
}

void
sim_cluster_start_node(struct sim_cluster *c, uint32_t i)
{
	struct sim_swim_node *nd = &c->nodes[i];
	struct mesh_swim_cfg cfg = c->cfg;
	struct mesh_swim_addr seeds[16];
	struct sim_addr a = sim_node_addr(c->w, i);
	size_t ns = 0;

	if (nd->s != NULL) {
		mesh_swim_delete(nd->s);
		nd->s = NULL;
		nd->gen++;
	}
	snprintf(cfg.name, sizeof(cfg.name), "n%u", i);
	cfg.gen = nd->gen;
	cfg.addr.ip = a.ip;
	cfg.addr.port = a.port;
	nd->s = mesh_swim_new(&cfg, &env_ops, nd);
	if (nd->s == NULL) {
		fprintf(stderr, "sim: mesh_swim_new failed\n");
		abort();
	}
	nd->started = true;
	nd->pending = false;
	nd->crashed = false;
	nd->left = false;
	nd->first_detect_at = nd->all_know_at = 0;
	nd->dead_views = 0;
	sim_node_start(c->w, i, &node_ops, nd);
	for (uint32_t k = 0; k < c->n_seeds && k < c->n && ns < 16; k++) {
		struct sim_addr sa = sim_node_addr(c->w, k);

		if (k != i)
			seeds[ns++] = (struct mesh_swim_addr){ sa.ip, sa.port };
	}
	mesh_swim_join(nd->s, seeds, ns, sim_now(c->w));
	sim_node_poke(c->w, i);
}

static void
start_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	(void)w;
	sim_cluster_start_node(ctx, (uint32_t)arg);
}

void
sim_cluster_start(struct sim_cluster *c, uint64_t spread_ns)
{
	uint64_t now = sim_now(c->w);

	for (uint32_t i = 0; i < c->n; i++) {
		uint64_t at = i == 0 || spread_ns == 0 ?
			now : now + mesh_rng_below(sim_rng(c->w), spread_ns);

		c->nodes[i].pending = true;
		sim_at(c->w, at, start_cb, c, i);
	}
}

void
sim_cluster_bootstrap(struct sim_cluster *c)
{
	size_t cap = 64, nb = 0;
	struct {
		uint8_t *b;
		size_t len;
	} *blobs = malloc(cap * sizeof(*blobs));
	uint32_t saved = c->n_seeds, i = 0;
	/* (the bench measures convergence separately) */
	struct mesh_swim_addr from = { 0x0B000001u, 1 };

	if (blobs == NULL)
		abort();
	while (i < c->n) {
		struct swim_enc e;
		uint8_t *buf = malloc(c->cfg.max_msg);

		if (buf == NULL)
			abort();
		swim_enc_begin(&e, buf, c->cfg.max_msg, SWIM_MSG_PUSH_PULL, 0, "boot", 4, 1, 0,
			       NULL, 0, NULL);
		for (; i < c->n; i++) {
			char name[16];
			struct sim_addr a = sim_node_addr(c->w, i);
			struct swim_rec r = { .status = MESH_SWIM_ALIVE, .name = name,
					      .gen = c->nodes[i].gen,
					      .addr = { a.ip, a.port } };

			r.name_len = (uint8_t)snprintf(name, sizeof(name), "n%u", i);
			if (swim_enc_rec(&e, &r, c->cfg.max_msg) != 0)
				break;
		}
		if (nb == cap) {
			cap *= 2;
			blobs = realloc(blobs, cap * sizeof(*blobs));
			if (blobs == NULL)
				abort();
		}
		blobs[nb].b = buf;
		blobs[nb].len = swim_enc_end(&e);
		nb++;
	}
	c->n_seeds = 0;
	for (uint32_t k = 0; k < c->n; k++) {
		sim_cluster_start_node(c, k);
		for (size_t j = 0; j < nb; j++)
			mesh_swim_input(c->nodes[k].s, sim_now(c->w), &from, blobs[j].b,
					blobs[j].len);
		sim_node_poke(c->w, k);
	}
	c->n_seeds = saved;
	for (size_t j = 0; j < nb; j++)
		free(blobs[j].b);
	free(blobs);
}

void
sim_cluster_run_for(struct sim_cluster *c, uint64_t ns)
{
	sim_run_for(c->w, ns);
}

uint64_t
sim_cluster_now(const struct sim_cluster *c)
{
	return sim_now(c->w);
}

void
sim_cluster_set_loss(struct sim_cluster *c, double p)
{
	sim_net_set_loss(c->w, p);
}

void
sim_cluster_partition(struct sim_cluster *c, const uint32_t *ids, size_t n)
{
	sim_net_partition(c->w, ids, n);
}

void
sim_cluster_heal(struct sim_cluster *c)
{
	sim_net_heal(c->w);
}

void
sim_cluster_crash(struct sim_cluster *c, uint32_t i)
{
	struct sim_swim_node *nd = &c->nodes[i];

	sim_node_crash(c->w, i);
	if (!nd->left) {
		nd->down_at = sim_now(c->w);
		nd->first_detect_at = nd->all_know_at = 0;
		nd->dead_views = 0;
	}
	nd->crashed = true;
	nd->live_at_down = sim_cluster_live(c);
}

void
sim_cluster_pause(struct sim_cluster *c, uint32_t i)
{
	sim_node_pause(c->w, i);
}

void
sim_cluster_resume(struct sim_cluster *c, uint32_t i)
{
	sim_node_resume(c->w, i);
}

void
sim_cluster_restart(struct sim_cluster *c, uint32_t i)
{
	if (!c->nodes[i].crashed)
		sim_cluster_crash(c, i);
	sim_cluster_start_node(c, i);
}

void
sim_cluster_leave(struct sim_cluster *c, uint32_t i)
{
	struct sim_swim_node *nd = &c->nodes[i];

	nd->left = true;
	nd->down_at = sim_now(c->w);
	nd->first_detect_at = nd->all_know_at = 0;
	nd->dead_views = 0;
	nd->live_at_down = sim_cluster_live(c);
	mesh_swim_leave(nd->s, sim_now(c->w));
	sim_node_poke(c->w, i);
}

bool
sim_cluster_sees(const struct sim_cluster *c, uint32_t observer, uint32_t subject,
		 enum mesh_swim_status status)
{
	const struct sim_swim_node *o = &c->nodes[observer];
	struct mesh_swim_member_info mi;
	char name[16];
	int len = snprintf(name, sizeof(name), "n%u", subject);

	if (o->s == NULL)
		return false;
	if (mesh_swim_member_get(o->s, name, (size_t)len, &mi) != 0)
		return false;
	return mi.status == status && mi.gen == c->nodes[subject].gen;
}

bool
sim_cluster_converged(const struct sim_cluster *c)
{
	uint32_t live = sim_cluster_live(c);

	for (uint32_t i = 0; i < c->n; i++)
		if (c->nodes[i].pending)
			return false;
	for (uint32_t i = 0; i < c->n; i++) {
		if (!running(&c->nodes[i]))
			continue;
		if (mesh_swim_member_count(c->nodes[i].s, MESH_SWIM_ALIVE) != live - 1)
			return false;
		for (uint32_t j = 0; j < c->n; j++)
			if (j != i && running(&c->nodes[j]) &&
			    !sim_cluster_sees(c, i, j, MESH_SWIM_ALIVE))
				return false;
	}
	return true;
}

static bool
pred_converged(void *ctx)
{
	return sim_cluster_converged(ctx);
}

uint64_t
sim_cluster_wait_converged(struct sim_cluster *c, uint64_t timeout_ns)
{
	uint64_t step = c->cfg.probe_interval_ns;

	if (c->n > 200)
		step *= 5;
	return sim_run_until(c->w, pred_converged, c, step, timeout_ns);
}

struct status_pred {
	struct sim_cluster *c;
	uint32_t subject;
	enum mesh_swim_status status;
};

static bool
pred_status(void *ctx)
{
	struct status_pred *p = ctx;

	for (uint32_t i = 0; i < p->c->n; i++)
		if (i != p->subject && running(&p->c->nodes[i]) &&
		    !sim_cluster_sees(p->c, i, p->subject, p->status))
			return false;
	return true;
}

uint64_t
sim_cluster_wait_status_everywhere(struct sim_cluster *c, uint32_t subject,
				   enum mesh_swim_status status, uint64_t timeout_ns)
{
	struct status_pred p = { c, subject, status };

	return sim_run_until(c->w, pred_status, &p, c->cfg.probe_interval_ns / 10 + 1,
			     timeout_ns);
}

uint64_t
sim_cluster_counter(const struct sim_cluster *c, enum mesh_swim_counter ctr)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < c->n; i++)
		if (c->nodes[i].s != NULL && !c->nodes[i].crashed)
			sum += mesh_swim_counter(c->nodes[i].s, ctr);
	return sum;
}
