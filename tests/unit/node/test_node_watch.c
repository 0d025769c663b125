/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watches and membership events through lib/node's request and poll path: resume after
 * changes gets exactly the keys changed since the seq (latest values, tombstones), in seq
 * order; resume from another life, from the future or past a collected tombstone is
 * refused (missed) and a snapshot follows; a 10,000-key snapshot arrives in slices,
 * complete, with one snapshot_end, and changes made while it is sent are not lost (the
 * events rebuild the store's state); an empty snapshot is one snapshot_end event;
 * unsubscribe ends a watch. Membership: JOIN snapshot (self first), JOIN of nodes that
 * join, SUSPECT and DEAD of a killed node, LEFT of a node that leaves; a full queue drops
 * and reports the count in the next event; unsubscribe and close end the subscription.
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

#include "mesh_node.h"
#include "mesh_wire.h"
#include "node_internal.h"

#define NODES 3
#define QCAP 4096
#define PORT 7000
#define MS (1000ull * 1000ull)

struct rec {
	enum mesh_node_reply_type type;
	uint64_t sub, seq, dropped, generation;
	int status;
	bool tomb, snap, end, resumed, missed;
	uint32_t key_len, value_len;
	uint8_t key[64], value[64];
	enum mesh_node_member_event mev;
	char name[64];
	enum mesh_swim_status mstatus;
	uint32_t n_members;
	char meta[64];
};

struct pkt {
	uint32_t to;
	struct mesh_node_frame f;
	uint8_t buf[1500];
};

struct world;
struct tnode {
	struct world *w;
	unsigned idx;
	struct mesh_node *n;
	uint64_t rng;
	struct rec *recs;
	size_t n_recs, cap;
};

struct world {
	uint64_t now;
	struct tnode nodes[NODES];
	struct pkt *q;
	unsigned qn;
};

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	struct tnode *t = ctx;
	struct world *w = t->w;

	for (unsigned i = 0; i < n; i++) {
		uint32_t to = frames[i].peer.ip - 1;
		struct pkt *p;

		if (to >= NODES || w->qn == QCAP)
			continue;
		p = &w->q[w->qn++];
		p->to = to;
		p->f = frames[i];
		p->f.sender = mesh_node_id(t->n);
		p->f.peer = (struct mesh_node_addr){ .ip = t->idx + 1, .port = PORT };
		memcpy(p->buf, frames[i].payload, frames[i].len);
		p->f.payload = p->buf;
	}
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	struct tnode *t = ctx;
	struct rec *x;

	if (t->n_recs == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->recs = realloc(t->recs, t->cap * sizeof(*t->recs));
		assert_non_null(t->recs);
	}
	x = &t->recs[t->n_recs++];
	memset(x, 0, sizeof(*x));
	x->type = r->type;
	x->status = r->status;
	x->sub = r->subscription;
	x->seq = r->seq;
	x->dropped = r->dropped;
	x->generation = r->generation;
	x->tomb = r->tombstone;
	x->snap = r->snapshot;
	x->end = r->snapshot_end;
	x->resumed = r->resumed;
	x->missed = r->missed;
	assert_true(r->key.len <= sizeof(x->key) && r->value.len <= sizeof(x->value));
	x->key_len = r->key.len;
	x->value_len = r->value.len;
	if (r->key.len)
		memcpy(x->key, r->key.data, r->key.len);
	if (r->value.len)
		memcpy(x->value, r->value.data, r->value.len);
	x->mev = r->member_event;
	x->n_members = r->n_members;
	if (r->type == MESH_NODE_REPLY_MEMBER_EVENT) {
		assert_int_equal(r->n_members, 1);
		snprintf(x->name, sizeof(x->name), "%.*s", (int)r->members[0].name.len,
			 (const char *)r->members[0].name.data);
		x->mstatus = r->members[0].status;
		snprintf(x->meta, sizeof(x->meta), "%.*s", (int)r->members[0].metadata.len,
			 (const char *)r->members[0].metadata.data);
	}
}

static uint64_t
env_random(void *ctx)
{
	struct tnode *t = ctx;

	t->rng = t->rng * 6364136223846793005ull + 1442695040888963407ull;
	return t->rng >> 11 ^ t->rng;
}

static uint64_t
env_wall(void *ctx)
{
	struct tnode *t = ctx;

	return 1700000000ull * 1000000000ull + t->w->now;
}

static const struct mesh_node_env_ops env = {
	.send = env_send, .reply = env_reply, .random = env_random, .wall_ns = env_wall,
};

static void
node_start(struct world *w, unsigned i, uint64_t gen)
{
	struct mesh_node_cfg cfg;
	struct tnode *t = &w->nodes[i];

	mesh_node_cfg_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "n%u", i);
	cfg.gen = gen;
	cfg.addr = (struct mesh_node_addr){ .ip = i + 1, .port = PORT };
	cfg.crdt.tomb_grace_ns = 1000; /* GC as soon as it runs (single node) */
	cfg.gc_interval_ns = 0;        /* tests run GC themselves */
	if (i > 0) {
		cfg.n_seeds = 1;
		cfg.seeds[0] = (struct mesh_node_addr){ .ip = 1, .port = PORT };
	}
	t->w = w;
	t->idx = i;
	t->rng = 42 + i + gen;
	t->n = mesh_node_new(&cfg, &env, t, w->now);
	assert_non_null(t->n);
	assert_int_equal(mesh_crdt_ns_add_defaults(mesh_node_store(t->n)), 0);
	assert_int_equal(mesh_node_join(t->n, w->now), 0);
}

static struct world *
world_new(unsigned n)
{
	struct world *w = calloc(1, sizeof(*w));

	w->q = calloc(QCAP, sizeof(*w->q));
	w->now = 1000000;
	for (unsigned i = 0; i < n; i++)
		node_start(w, i, 100 + i);
	return w;
}

static void
node_kill(struct world *w, unsigned i)
{
	mesh_node_delete(w->nodes[i].n);
	w->nodes[i].n = NULL;
}

static void
world_delete(struct world *w)
{
	for (unsigned i = 0; i < NODES; i++) {
		mesh_node_delete(w->nodes[i].n);
		free(w->nodes[i].recs);
	}
	free(w->q);
	free(w);
}

static void
run(struct world *w, uint64_t ns)
{
	uint64_t end = w->now + ns;
	struct pkt *batch = calloc(QCAP, sizeof(*batch));

	while (w->now < end) {
		unsigned n = w->qn;

		memcpy(batch, w->q, n * sizeof(*batch));
		w->qn = 0;
		for (unsigned i = 0; i < n; i++) {
			struct tnode *t = &w->nodes[batch[i].to];

			batch[i].f.payload = batch[i].buf;
			if (t->n != NULL)
				mesh_node_input(t->n, &batch[i].f, 1, w->now);
		}
		for (unsigned i = 0; i < NODES; i++)
			if (w->nodes[i].n != NULL)
				mesh_node_poll(w->nodes[i].n, w->now);
		w->now += 100 * 1000;
	}
	free(batch);
}

static struct rec *
request(struct tnode *t, const struct mesh_node_req *in)
{
	struct mesh_node_req q = *in;
	size_t before = t->n_recs;

	q.client = 3;
	q.client_gen = 7;
	q.id = 99;
	mesh_node_request(t->n, &q, 1, t->w->now);
	assert_true(t->n_recs > before);
	return &t->recs[before];
}

static void
put(struct tnode *t, const char *k, const char *v)
{
	struct mesh_node_req q = { .type = MESH_NODE_REQ_PUT, .key = (const uint8_t *)k,
				   .key_len = (uint32_t)strlen(k), .value = (const uint8_t *)v,
				   .value_len = (uint32_t)strlen(v) };

	assert_int_equal(request(t, &q)->status, 0);
}

static void
del(struct tnode *t, const char *k)
{
	struct mesh_node_req q = { .type = MESH_NODE_REQ_DEL, .key = (const uint8_t *)k,
				   .key_len = (uint32_t)strlen(k) };

	assert_int_equal(request(t, &q)->status, 0);
}

static struct rec
watch(struct tnode *t, const char *prefix, bool snapshot, bool resume, uint64_t gen,
      uint64_t seq)
{
	struct mesh_node_req q = { .type = MESH_NODE_REQ_WATCH, .key = (const uint8_t *)prefix,
				   .key_len = (uint32_t)strlen(prefix) };
	struct rec r;

	q.watch.snapshot = snapshot;
	q.watch.resume = resume;
	q.watch.generation = gen;
	q.watch.seq = seq;
	r = *request(t, &q);
	return r;
}

static uint64_t
store_seq(struct tnode *t)
{
	return mesh_crdt_store_seq(mesh_node_store(t->n));
}

/* poll once; the events of subscription @sub since record @from */
static size_t
events_of(struct tnode *t, uint64_t sub, size_t from, struct rec **out)
{
	size_t k = 0;

	for (size_t i = from; i < t->n_recs; i++)
		if (t->recs[i].type == MESH_NODE_REPLY_EVENT && t->recs[i].sub == sub)
			out[k++] = &t->recs[i];
	return k;
}

static bool
key_is(const struct rec *r, const char *k)
{
	return r->key_len == strlen(k) && memcmp(r->key, k, r->key_len) == 0;
}

static void
test_watch_resume(void **state)
{
	struct world *w = world_new(1);
	struct tnode *a = &w->nodes[0];
	struct rec *ev[16], wr;
	uint64_t s;
	size_t from;

	(void)state;
	put(a, "worker:a", "1");
	put(a, "worker:b", "1");
	put(a, "worker:c", "1");
	s = store_seq(a);
	put(a, "worker:b", "2");
	del(a, "worker:c");
	put(a, "worker:d", "1");
	put(a, "config:x", "1"); /* another prefix */
	put(a, "worker:b", "3"); /* b again: sent once, latest, after d */
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, s);
	assert_int_equal(wr.type, MESH_NODE_REPLY_WATCH);
	assert_int_equal(wr.status, 0);
	assert_true(wr.resumed);
	assert_false(wr.missed);
	assert_int_equal(wr.generation, 100);
	assert_int_equal(wr.seq, store_seq(a));
	assert_int_equal(events_of(a, wr.sub, from, ev), 0); /* events come with the poll */
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 3);
	assert_true(key_is(ev[0], "worker:c") && ev[0]->tomb);
	assert_true(key_is(ev[1], "worker:d") && !ev[1]->tomb);
	assert_true(key_is(ev[2], "worker:b"));
	assert_memory_equal(ev[2]->value, "3", 1);
	for (int i = 0; i < 3; i++) {
		assert_true(ev[i]->seq > s);
		assert_false(ev[i]->snap || ev[i]->end);
		if (i)
			assert_true(ev[i]->seq > ev[i - 1]->seq);
	}
	assert_int_equal(ev[2]->seq, wr.seq);
	/* then live */
	put(a, "worker:e", "1");
	put(a, "config:y", "1");
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 4);
	assert_true(key_is(ev[3], "worker:e"));
	assert_int_equal(ev[3]->seq, store_seq(a) - 1);
	/* many changes elsewhere (the marker lets polls skip them), then one here */
	for (int i = 0; i < 3000; i++) {
		char k[32];

		snprintf(k, sizeof(k), "config:%d", i);
		put(a, k, "x");
		if (i % 500 == 0)
			run(w, 100 * 1000);
	}
	put(a, "worker:e", "2");
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 5);
	assert_true(key_is(ev[4], "worker:e"));
	assert_memory_equal(ev[4]->value, "2", 1);
	assert_int_equal(ev[4]->seq, store_seq(a));
	/* resume from the newest seq: nothing to replay */
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, store_seq(a));
	assert_true(wr.resumed);
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 0);
	/* unsubscribe ends a watch */
	{
		struct mesh_node_req q = { .type = MESH_NODE_REQ_UNSUBSCRIBE,
					   .subscription = wr.sub };

		assert_int_equal(request(a, &q)->status, 0);
	}
	put(a, "worker:f", "1");
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 0);
	/* plain subscription events carry the change's seq too */
	{
		struct mesh_node_req q = { .type = MESH_NODE_REQ_SUBSCRIBE,
					   .key = (const uint8_t *)"worker:", .key_len = 7 };
		uint64_t sub = request(a, &q)->sub;

		from = a->n_recs;
		put(a, "worker:g", "1");
		run(w, 100 * 1000);
		assert_int_equal(events_of(a, sub, from, ev), 1);
		assert_int_equal(ev[0]->seq, store_seq(a));
	}
	world_delete(w);
}

/* check a snapshot of the live worker: keys a, b (c deleted) */
static void
check_snapshot(struct tnode *t, uint64_t sub, size_t from, size_t expect)
{
	struct rec *ev[16];
	size_t k = events_of(t, sub, from, ev);

	assert_int_equal(k, expect);
	for (size_t i = 0; i < k; i++) {
		assert_true(ev[i]->snap);
		assert_false(ev[i]->tomb);
		assert_int_equal(ev[i]->end, i + 1 == k);
		if (i)
			assert_true(ev[i]->seq > ev[i - 1]->seq);
	}
}

static void
test_watch_missed(void **state)
{
	struct world *w = world_new(1);
	struct tnode *a = &w->nodes[0];
	struct rec wr, *ev[16];
	uint64_t s, s2;
	size_t from;

	(void)state;
	put(a, "worker:a", "1");
	put(a, "worker:b", "1");
	put(a, "worker:c", "1");
	s = store_seq(a);
	del(a, "worker:c");
	s2 = store_seq(a);
	/* another life */
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 99, s);
	assert_true(wr.missed);
	assert_false(wr.resumed);
	run(w, 100 * 1000);
	check_snapshot(a, wr.sub, from, 2);
	/* a seq from the future */
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, s2 + 5);
	assert_true(wr.missed);
	run(w, 100 * 1000);
	check_snapshot(a, wr.sub, from, 2);
	/* before GC: resumable */
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, s);
	assert_true(wr.resumed);
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 1);
	assert_true(ev[0]->tomb && key_is(ev[0], "worker:c"));
	/* GC collects the tombstone (seq s2 > s): resume from s is refused, from s2 not */
	w->now += 10 * MS;
	assert_int_equal(mesh_crdt_gc(mesh_node_store(a->n), w->now, 0), 1);
	assert_int_equal(mesh_crdt_store_gc_seq(mesh_node_store(a->n)), s2);
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, s);
	assert_true(wr.missed);
	run(w, 100 * 1000);
	check_snapshot(a, wr.sub, from, 2);
	from = a->n_recs;
	wr = watch(a, "worker:", false, true, 100, s2);
	assert_true(wr.resumed);
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 0);
	/* an empty range: one event with only snapshot_end */
	from = a->n_recs;
	wr = watch(a, "config:", true, false, 0, 0);
	assert_false(wr.missed || wr.resumed);
	run(w, 100 * 1000);
	assert_int_equal(events_of(a, wr.sub, from, ev), 1);
	assert_true(ev[0]->end && ev[0]->snap);
	assert_int_equal(ev[0]->key_len, 0);
	assert_int_equal(ev[0]->seq, wr.seq); /* a resume point */
	/* a sparse prefix in a big store: a poll that scanned without finding anything yet
	 * still counts as work (an event-driven loop must not sleep on it) */
	for (int i = 0; i < 20000; i++) {
		char k[32];

		snprintf(k, sizeof(k), "config:n%05d", i);
		put(a, k, "x");
	}
	put(a, "worker:zz", "1");
	from = a->n_recs;
	wr = watch(a, "worker:z", true, false, 0, 0);
	assert_true(mesh_node_poll(a->n, w->now) >= 1);
	assert_int_equal(events_of(a, wr.sub, from, ev), 0);
	mesh_node_poll(a->n, w->now);
	assert_int_equal(events_of(a, wr.sub, from, ev), 1);
	assert_true(key_is(ev[0], "worker:zz") && ev[0]->end);
	/* the reserved prefix is refused */
	{
		struct mesh_node_req q = { .type = MESH_NODE_REQ_WATCH,
					   .key = (const uint8_t *)MESH_NODE_RESERVED_PREFIX "x",
					   .key_len = MESH_NODE_RESERVED_PREFIX_LEN + 1 };

		assert_int_equal(request(a, &q)->status, -EPERM);
	}
	world_delete(w);
}

#define BIG 10000

static void
test_watch_big_snapshot(void **state)
{
	struct world *w = world_new(1);
	struct tnode *a = &w->nodes[0];
	static char val[BIG + 100][16];
	static bool live[BIG + 100], seen[BIG + 100];
	char k[32], v[16];
	struct rec wr;
	size_t from, polls = 0, snap_events = 0, ends = 0, i;
	uint64_t last_seq = 0;
	bool ended = false;

	(void)state;
	memset(live, 0, sizeof(live));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < BIG; i++) {
		snprintf(k, sizeof(k), "worker:%05zu", i);
		put(a, k, "v0");
	}
	from = a->n_recs;
	wr = watch(a, "worker:", true, false, 0, 0);
	assert_int_equal(wr.status, 0);
	assert_int_equal(wr.seq, BIG);
	while (!ended) {
		size_t before = a->n_recs;

		mesh_node_poll(a->n, w->now);
		w->now += 100 * 1000;
		polls++;
		assert_true(a->n_recs - before <= 300); /* a slice, not the whole store */
		for (i = before; i < a->n_recs; i++) {
			struct rec *r = &a->recs[i];

			if (r->type != MESH_NODE_REPLY_EVENT || r->sub != wr.sub)
				continue;
			assert_true(r->snap);
			assert_false(r->tomb);
			assert_true(r->seq > last_seq && r->seq <= wr.seq);
			last_seq = r->seq;
			snap_events++;
			ends += r->end;
			ended = r->end;
		}
		if (polls == 3) {
			/* changes during the snapshot: keys sent already and not yet sent */
			put(a, "worker:00001", "v1");
			put(a, "worker:09998", "v1");
			del(a, "worker:09997");
			del(a, "worker:00002");
			put(a, "worker:10050", "new");
		}
		assert_true(polls < 200);
	}
	assert_true(polls >= BIG / 300);
	assert_int_equal(ends, 1);
	/* snapshot: every key not changed before the slice that held it was read (keys
	 * 00001 and 00002 had been sent; 09997 and 09998 had not: they come after the end) */
	assert_int_equal(snap_events, BIG - 2);
	run(w, 100 * 1000);
	/* rebuild the state from every event and compare with the store */
	for (i = from; i < a->n_recs; i++) {
		struct rec *r = &a->recs[i];
		unsigned idx;

		if (r->type != MESH_NODE_REPLY_EVENT || r->sub != wr.sub || r->key_len == 0)
			continue;
		assert_int_equal(sscanf((const char *)r->key, "worker:%5u", &idx), 1);
		live[idx] = !r->tomb;
		seen[idx] = true;
		snprintf(val[idx], sizeof(val[idx]), "%.*s", (int)r->value_len, r->value);
		if (!r->snap)
			assert_true(r->seq > wr.seq);
	}
	for (i = 0; i < BIG + 100; i++) {
		const void *sv;
		uint32_t sl;
		int rc;

		snprintf(k, sizeof(k), "worker:%05zu", i);
		rc = mesh_crdt_get(mesh_node_store(a->n), k, strlen(k), &sv, &sl, NULL);
		assert_int_equal(rc == 0, live[i]);
		if (rc == 0) {
			snprintf(v, sizeof(v), "%.*s", (int)sl, (const char *)sv);
			assert_string_equal(v, val[i]);
		}
	}
	assert_string_equal(val[1], "v1");
	assert_string_equal(val[9998], "v1");
	assert_false(live[9997] || live[2]);
	assert_true(live[10050]);
	world_delete(w);
}

static struct rec *
mevents(struct tnode *t, uint64_t sub, size_t from, size_t *k)
{
	static struct rec out[4096];

	*k = 0;
	for (size_t i = from; i < t->n_recs && *k < 4096; i++)
		if (t->recs[i].type == MESH_NODE_REPLY_MEMBER_EVENT && t->recs[i].sub == sub)
			out[(*k)++] = t->recs[i];
	return out;
}

static bool
has_mev(struct rec *e, size_t k, enum mesh_node_member_event kind, const char *name)
{
	for (size_t i = 0; i < k; i++)
		if (e[i].mev == kind && strcmp(e[i].name, name) == 0)
			return true;
	return false;
}

static void
test_members_events(void **state)
{
	struct world *w = world_new(1);
	struct tnode *a = &w->nodes[0];
	struct mesh_node_req q = { .type = MESH_NODE_REQ_MEMBERS_WATCH };
	struct rec *e, sr;
	size_t k, from;
	uint64_t sub;

	(void)state;
	from = a->n_recs;
	q.watch.snapshot = true;
	sr = *request(a, &q);
	assert_int_equal(sr.type, MESH_NODE_REPLY_SUBSCRIBE);
	sub = sr.sub;
	e = mevents(a, sub, from, &k);
	assert_int_equal(k, 1); /* snapshot: self */
	assert_int_equal(e[0].mev, MESH_NODE_MEMBER_JOIN);
	assert_string_equal(e[0].name, "n0");
	node_start(w, 1, 101);
	node_start(w, 2, 102);
	run(w, 500 * MS);
	e = mevents(a, sub, from, &k);
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_JOIN, "n1"));
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_JOIN, "n2"));
	assert_false(has_mev(e, k, MESH_NODE_MEMBER_METADATA, "n1"));
	/* metadata set on n1 replicates and raises METADATA on n0, carrying it */
	{
		struct mesh_node_req m = { .type = MESH_NODE_REQ_SET_METADATA,
					   .value = (const uint8_t *)"zone=b", .value_len = 6 };
		size_t f3 = a->n_recs;

		assert_int_equal(request(&w->nodes[1], &m)->status, 0);
		run(w, 300 * MS);
		e = mevents(a, sub, f3, &k);
		assert_int_equal(k, 1);
		assert_int_equal(e[0].mev, MESH_NODE_MEMBER_METADATA);
		assert_string_equal(e[0].name, "n1");
		assert_string_equal(e[0].meta, "zone=b");
	}
	/* a second subscriber's snapshot: self first, then both (with metadata) */
	{
		size_t f2 = a->n_recs, k2;
		struct rec r2 = *request(a, &q), *e2 = mevents(a, r2.sub, f2, &k2);

		assert_int_equal(k2, 3);
		assert_string_equal(e2[0].name, "n0");
		for (size_t i = 0; i < k2; i++)
			assert_string_equal(e2[i].meta, strcmp(e2[i].name, "n1") ? "" : "zone=b");
		assert_true(has_mev(e2, k2, MESH_NODE_MEMBER_JOIN, "n1"));
		assert_true(has_mev(e2, k2, MESH_NODE_MEMBER_JOIN, "n2"));
		struct mesh_node_req u = { .type = MESH_NODE_REQ_UNSUBSCRIBE,
					   .subscription = r2.sub };
		assert_int_equal(request(a, &u)->status, 0);
		f2 = a->n_recs;
		node_kill(w, 2);
		run(w, 10000 * MS);
		e2 = mevents(a, r2.sub, f2, &k2);
		assert_int_equal(k2, 0); /* unsubscribed */
	}
	e = mevents(a, sub, from, &k);
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_SUSPECT, "n2"));
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_DEAD, "n2"));
	assert_int_equal(mesh_node_leave(w->nodes[1].n, w->now), 0);
	run(w, 2000 * MS);
	e = mevents(a, sub, from, &k);
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_LEFT, "n1"));
	for (size_t i = 0; i < k; i++)
		assert_int_equal(e[i].dropped, 0);
	/* n2 again, then a restart before anyone saw it die: the new life is a JOIN */
	node_start(w, 2, 202);
	run(w, 500 * MS);
	from = a->n_recs;
	node_kill(w, 2);
	node_start(w, 2, 302);
	run(w, 500 * MS);
	e = mevents(a, sub, from, &k);
	assert_false(has_mev(e, k, MESH_NODE_MEMBER_DEAD, "n2"));
	assert_true(has_mev(e, k, MESH_NODE_MEMBER_JOIN, "n2"));
	assert_false(has_mev(e, k, MESH_NODE_MEMBER_ALIVE, "n2"));
	/* CLOSED ends it */
	q.type = MESH_NODE_REQ_CLOSED;
	mesh_node_request(a->n, &(struct mesh_node_req){ .type = MESH_NODE_REQ_CLOSED,
							  .client = 3, .client_gen = 7 },
			  1, w->now);
	assert_int_equal(a->n->n_msubs, 0);
	assert_null(a->n->meta_sub);
	world_delete(w);
}

/* a queue that fills between polls drops the newest events and reports the count */
static void
test_members_queue_bounded(void **state)
{
	struct world *w = world_new(1);
	struct tnode *a = &w->nodes[0];
	struct mesh_node_req q = { .type = MESH_NODE_REQ_MEMBERS_WATCH };
	struct rec *e, sr;
	size_t k, from;
	uint64_t drops;
	char name[16];

	(void)state;
	sr = *request(a, &q);
	from = a->n_recs;
	drops = mesh_node_counter(a->n, MESH_NODE_CTR_node_event_drops);
	for (unsigned i = 0; i < 100; i++) {
		struct mesh_swim_event ev = {
			.type = MESH_SWIM_EV_SUSPECT, .status = MESH_SWIM_SUSPECT,
			.prev_status = MESH_SWIM_ALIVE, .name = name, .gen = 1,
		};

		ev.name_len = (size_t)snprintf(name, sizeof(name), "x%u", i);
		node_mev_swim(a->n, &ev);
	}
	assert_int_equal(mesh_node_counter(a->n, MESH_NODE_CTR_node_event_drops) - drops, 36);
	mesh_node_poll(a->n, w->now);
	e = mevents(a, sr.sub, from, &k);
	assert_int_equal(k, 64);
	assert_string_equal(e[0].name, "x0");
	assert_int_equal(e[0].dropped, 36); /* the first event sent says what was lost */
	assert_int_equal(e[1].dropped, 0);
	assert_string_equal(e[63].name, "x63");
	assert_int_equal(e[0].mev, MESH_NODE_MEMBER_SUSPECT);
	world_delete(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_resume),
		cmocka_unit_test(test_watch_missed),
		cmocka_unit_test(test_watch_big_snapshot),
		cmocka_unit_test(test_members_events),
		cmocka_unit_test(test_members_queue_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
