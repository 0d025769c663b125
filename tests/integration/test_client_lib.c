/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient's async core and batch splitting against a scripted fake node (a thread
 * on a real AF_UNIX SOCK_SEQPACKET socket, no meshd): replies out of order matched by id,
 * a sync call in the middle of async traffic, events to a callback, a v1 refusal's errno
 * mapped to its Error code, a batch split at hello's max_batch with every part sent before
 * any reply, a reply nobody asked for dropped and counted, and in-flight requests
 * completed with -ECONNRESET when the node goes away; watches: a snapshot's end split
 * into its own event and the cursor moved to the watch's start seq there, a backlog over
 * the bounded event queue (the watch's newest events dropped, the count told with the
 * next event, the cursor frozen at the last one kept and sent back in the next resume),
 * a refused resume queued as MISSED ahead of an empty snapshot, and a membership event
 * with its member.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.pb-c.h"
#include "mesh_client.h"

struct fake {
	int lfd, fd;
	char path[108];
	pthread_t th;
	void (*script)(struct fake *f);
	int batch_sizes[8];
	int n_batches;
	bool hang_up; /* close after the script, else wait for the client to close */
	int bad; /* the fake node's first failed check (its line): cmocka asserts only in main */
};

#define FAKE_CHECK(f, cond)                   \
	do {                                  \
		if (!(cond)) {                \
			(f)->bad = __LINE__;  \
			return;               \
		}                             \
	} while (0)

static Mesh__Client__Request *
fake_recv(struct fake *f)
{
	static uint8_t buf[MESH_CLIENT_MAX_MSG];
	ssize_t n = recv(f->fd, buf, sizeof(buf), 0);

	if (n <= 0)
		return NULL;
	return mesh__client__request__unpack(NULL, (size_t)n, buf);
}

static void
fake_send(struct fake *f, Mesh__Client__Response *r)
{
	static uint8_t buf[MESH_CLIENT_MAX_MSG];
	size_t len = mesh__client__response__pack(r, buf);

	if (send(f->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len && f->bad == 0)
		f->bad = __LINE__;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	char b[64];

	f->fd = accept(f->lfd, NULL, NULL);
	f->script(f);
	while (!f->hang_up && recv(f->fd, b, sizeof(b), 0) > 0)
		;
	close(f->fd);
	return NULL;
}

static struct mesh_client *
fake_start(struct fake *f, void (*script)(struct fake *f))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mesh_client *c;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/mesh_client_lib_%d.sock", getpid());
	unlink(f->path);
	strcpy(sa.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	f->script = script;
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	c = mesh_client_connect(f->path);
	assert_non_null(c);
	mesh_client_timeout_set(c, 3000);
	return c;
}

static void
fake_stop(struct fake *f, struct mesh_client *c)
{
	mesh_client_close(c);
	pthread_join(f->th, NULL);
	assert_int_equal(f->bad, 0);
	close(f->lfd);
	unlink(f->path);
}

/* ---- replies out of order, a sync call in between, an event */

static void
script_order(struct fake *f)
{
	Mesh__Client__Request *q[4];
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__GetResp g = MESH__CLIENT__GET_RESP__INIT;
	Mesh__Client__Event ev = MESH__CLIENT__EVENT__INIT;

	for (int i = 0; i < 4; i++) /* 3 async gets, then the sync put */
		FAKE_CHECK(f, (q[i] = fake_recv(f)) != NULL);
	FAKE_CHECK(f, q[3]->op_case == MESH__CLIENT__REQUEST__OP_PUT);
	for (int i = 0; i < 3; i++)
		FAKE_CHECK(f, q[i]->op_case == MESH__CLIENT__REQUEST__OP_GET);
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_GET;
	r.get = &g;
	for (int i = 2; i >= 0; i--) { /* answer the gets last first, the value = its key */
		r.id = q[i]->id;
		g.found = true;
		g.value = q[i]->get->key;
		fake_send(f, &r);
	}
	ev.subscription = 7;
	ev.key.data = (uint8_t *)"k";
	ev.key.len = 1;
	r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_EVENT;
	r.event = &ev;
	fake_send(f, &r); /* id 0: an event */
	r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
	r.id = 999; /* nobody asked: dropped and counted */
	fake_send(f, &r);
	r.id = q[3]->id;
	r.status = -EDQUOT; /* a version 1 refusal: no code */
	r.error = (char *)"quota";
	fake_send(f, &r);
	for (int i = 0; i < 4; i++)
		mesh__client__request__free_unpacked(q[i], NULL);
}

struct seen {
	uint64_t ids[8];
	char vals[8][8];
	int n;
	int events;
};

static void
on_reply(struct mesh_client *c, const struct mesh_client_reply *r, void *arg)
{
	struct seen *s = arg;

	(void)c;
	s->ids[s->n] = r->id;
	snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)r->get.value_len,
		 (const char *)r->get.value);
	s->n++;
}

static void
on_event(struct mesh_client *c, const struct mesh_client_event *ev, void *arg)
{
	struct seen *s = arg;

	(void)c;
	assert_int_equal(ev->subscription, 7);
	s->events++;
}

static void
test_out_of_order(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_order);
	struct seen s = { 0 };
	int64_t id[3];
	const char *keys[3] = { "a", "b", "c" };

	(void)state;
	mesh_client_event_cb_set(c, on_event, &s);
	for (int i = 0; i < 3; i++) {
		struct mesh_client_op op = { .kind = MESH_CLIENT_OP_GET, .key = keys[i],
					     .key_len = 1 };
		id[i] = mesh_client_submit(c, &op, on_reply, &s);
		assert_true(id[i] > 0);
	}
	assert_int_equal(mesh_client_pending(c), 3);
	/* a sync call in the middle: it reads the async replies and keeps them */
	assert_int_equal(mesh_client_put(c, "k", 1, "v", 1), -EDQUOT);
	assert_int_equal(mesh_client_error_code(c), MESH_CLIENT_E_QUOTA);
	assert_string_equal(mesh_client_error_name(mesh_client_error_code(c)), "QUOTA");
	assert_string_equal(mesh_client_error(c), "quota");
	assert_int_equal(s.n, 0); /* no callback ran inside the sync call */
	while (mesh_client_pending(c) > 0 || s.events == 0)
		assert_true(mesh_client_wait(c, 2000) >= 0);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 3; i++) { /* answered c, b, a: each matched to its id */
		assert_int_equal(s.ids[i], (uint64_t)id[2 - i]);
		assert_string_equal(s.vals[i], keys[2 - i]);
	}
	assert_int_equal(s.events, 1);
	assert_int_equal(mesh_client_dropped_replies(c), 1);
	fake_stop(&f, c);
}

/* ---- batch split at max_batch, every part sent before any reply */

static void
hello_answer(struct fake *f, uint32_t max_batch)
{
	Mesh__Client__Request *q = fake_recv(f);
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__HelloResp h = MESH__CLIENT__HELLO_RESP__INIT;
	char *feat[] = { (char *)"batch" };

	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_HELLO);
	r.id = q->id;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_HELLO;
	r.hello = &h;
	h.version = 2;
	h.max_batch = max_batch;
	h.node = (char *)"fake";
	h.n_features = 1;
	h.features = feat;
	fake_send(f, &r);
	mesh__client__request__free_unpacked(q, NULL);
}

static void
script_batch(struct fake *f)
{
	Mesh__Client__Request *parts[8];
	Mesh__Client__Response r;

	hello_answer(f, 3);
	/* 7 ops at 3 a batch: 3 requests, all before we answer any */
	for (int i = 0; i < 3; i++) {
		parts[i] = fake_recv(f);
		FAKE_CHECK(f, parts[i] != NULL &&
				      parts[i]->op_case == MESH__CLIENT__REQUEST__OP_BATCH &&
				      parts[i]->batch->n_ops <= 3);
		f->batch_sizes[f->n_batches++] = (int)parts[i]->batch->n_ops;
	}
	for (int i = 2; i >= 0; i--) {
		Mesh__Client__BatchResp br = MESH__CLIENT__BATCH_RESP__INIT;
		Mesh__Client__BatchResult res[3], *rp[3];

		for (size_t k = 0; k < parts[i]->batch->n_ops; k++) {
			const Mesh__Client__BatchOp *op = parts[i]->batch->ops[k];

			mesh__client__batch_result__init(&res[k]);
			rp[k] = &res[k];
			if (op->key.data[0] == 'x') {
				res[k].status = -ENXIO;
				res[k].code = MESH__CLIENT__ERROR__NO_NAMESPACE;
			} else if (op->kind == MESH__CLIENT__BATCH_OP__KIND__GET) {
				res[k].found = true;
				res[k].value = op->key;
			}
		}
		br.n_results = parts[i]->batch->n_ops;
		br.results = rp;
		r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
		r.id = parts[i]->id;
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_BATCH;
		r.batch = &br;
		fake_send(f, &r);
	}
	for (int i = 0; i < 3; i++)
		mesh__client__request__free_unpacked(parts[i], NULL);
}

static void
test_batch_split(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_batch);
	const char *keys[7] = { "p0", "p1", "x2", "p3", "g4", "p5", "g6" };
	struct mesh_client_op ops[7];
	struct mesh_client_result res[7];

	(void)state;
	for (int i = 0; i < 7; i++)
		ops[i] = (struct mesh_client_op){
			.kind = keys[i][0] == 'g' ? MESH_CLIENT_OP_GET : MESH_CLIENT_OP_PUT,
			.key = keys[i], .key_len = 2, .value = "v", .value_len = 1 };
	assert_int_equal(mesh_client_batch(c, ops, 7, res), 0);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(res[i].status, keys[i][0] == 'x' ? -ENXIO : 0);
		assert_int_equal(res[i].code, keys[i][0] == 'x' ? MESH_CLIENT_E_NO_NAMESPACE : 0);
		assert_int_equal(res[i].found, keys[i][0] == 'g');
		if (res[i].found)
			assert_string_equal((char *)res[i].value, keys[i]);
	}
	mesh_client_results_free(res, 7);
	fake_stop(&f, c);
	assert_int_equal(f.n_batches, 3);
	assert_int_equal(f.batch_sizes[0], 3);
	assert_int_equal(f.batch_sizes[1], 3);
	assert_int_equal(f.batch_sizes[2], 1);
}

/* ---- GETs refused as too large for one reply are asked again, alone */

/* each batch answers its first GET and refuses the other GETs as TOO_LARGE */
static void
script_reask(struct fake *f)
{
	hello_answer(f, 64);
	for (int round = 0; round < 3; round++) {
		Mesh__Client__Request *q = fake_recv(f);
		Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
		Mesh__Client__BatchResp br = MESH__CLIENT__BATCH_RESP__INIT;
		Mesh__Client__BatchResult res[8], *rp[8];
		bool answered = false;

		FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_BATCH &&
				      q->batch->n_ops <= 8);
		f->batch_sizes[f->n_batches++] = (int)q->batch->n_ops;
		for (size_t k = 0; k < q->batch->n_ops; k++) {
			const Mesh__Client__BatchOp *op = q->batch->ops[k];

			mesh__client__batch_result__init(&res[k]);
			rp[k] = &res[k];
			if (op->kind != MESH__CLIENT__BATCH_OP__KIND__GET)
				continue;
			if (!answered) {
				res[k].found = true;
				res[k].value = op->key;
				answered = true;
			} else {
				res[k].status = -EMSGSIZE;
				res[k].code = MESH__CLIENT__ERROR__TOO_LARGE;
			}
		}
		br.n_results = q->batch->n_ops;
		br.results = rp;
		r.id = q->id;
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_BATCH;
		r.batch = &br;
		fake_send(f, &r);
		mesh__client__request__free_unpacked(q, NULL);
	}
}

static void
test_batch_reask(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_reask);
	const char *keys[4] = { "g0", "p1", "g2", "g3" };
	struct mesh_client_op ops[4];
	struct mesh_client_result res[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		ops[i] = (struct mesh_client_op){
			.kind = keys[i][0] == 'g' ? MESH_CLIENT_OP_GET : MESH_CLIENT_OP_PUT,
			.key = keys[i], .key_len = 2, .value = "v", .value_len = 1 };
	assert_int_equal(mesh_client_batch(c, ops, 4, res), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(res[i].status, 0);
		assert_int_equal(res[i].found, keys[i][0] == 'g');
		if (res[i].found)
			assert_string_equal((char *)res[i].value, keys[i]);
	}
	mesh_client_results_free(res, 4);
	fake_stop(&f, c);
	assert_int_equal(f.n_batches, 3); /* 4 ops, then g2 g3, then g3 */
	assert_int_equal(f.batch_sizes[0], 4);
	assert_int_equal(f.batch_sizes[1], 2);
	assert_int_equal(f.batch_sizes[2], 1);
}

/* ---- the node goes away with requests in flight */

static void
script_close(struct fake *f)
{
	Mesh__Client__Request *q = fake_recv(f);

	f->hang_up = true;
	mesh__client__request__free_unpacked(q, NULL);
	q = fake_recv(f);
	mesh__client__request__free_unpacked(q, NULL);
	/* return: the connection closes unanswered */
}

static void
on_lost(struct mesh_client *c, const struct mesh_client_reply *r, void *arg)
{
	int *n = arg;

	(void)c;
	assert_int_equal(r->status, -ECONNRESET);
	(*n)++;
}

static void
test_connection_lost(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_close);
	struct mesh_client_op op = { .kind = MESH_CLIENT_OP_DELETE, .key = "k", .key_len = 1 };
	int lost = 0, ret = 0;

	(void)state;
	assert_true(mesh_client_submit(c, &op, on_lost, &lost) > 0);
	assert_true(mesh_client_submit(c, &op, on_lost, &lost) > 0);
	for (int i = 0; i < 100 && ret >= 0; i++)
		ret = mesh_client_wait(c, 1000);
	assert_int_equal(ret, -ECONNRESET);
	assert_int_equal(lost, 2);
	assert_int_equal(mesh_client_pending(c), 0);
	assert_true(mesh_client_submit(c, &op, on_lost, &lost) < 0);
	fake_stop(&f, c);
}

/* ---- watches */

static volatile int fake_sent_all;

/* an event of watch @sub, sent without blocking: the client does not read meanwhile */
static void
fake_event(struct fake *f, uint64_t sub, const char *key, uint64_t seq, bool snap, bool end)
{
	static uint8_t buf[4096];
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__Event ev = MESH__CLIENT__EVENT__INIT;
	size_t len;

	ev.subscription = sub;
	ev.key.data = (uint8_t *)key;
	ev.key.len = strlen(key);
	ev.value.data = (uint8_t *)"v";
	ev.value.len = 1;
	ev.seq = seq;
	ev.snapshot = snap;
	ev.snapshot_end = end;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_EVENT;
	r.event = &ev;
	len = mesh__client__response__pack(&r, buf);
	if (send(f->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len && f->bad == 0)
		f->bad = __LINE__;
}

static void
fake_watch_resp(struct fake *f, uint64_t id, uint64_t sub, uint64_t gen, uint64_t seq,
		bool resumed, bool missed)
{
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__WatchResp w = MESH__CLIENT__WATCH_RESP__INIT;

	w.subscription = sub;
	w.generation = gen;
	w.seq = seq;
	w.resumed = resumed;
	w.missed = missed;
	r.id = id;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_WATCH;
	r.watch = &w;
	fake_send(f, &r);
}

static void
script_watch_overflow(struct fake *f)
{
	Mesh__Client__Request *q = fake_recv(f);
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	int big = 4 << 20;
	char key[16];

	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_WATCH &&
			      q->watch->snapshot && !q->watch->resume &&
			      q->watch->prefix.len == 2 && memcmp(q->watch->prefix.data, "p/", 2) == 0);
	fake_watch_resp(f, q->id, 5, 77, 1000, false, false);
	mesh__client__request__free_unpacked(q, NULL);
	/* room for everything below, so the client's first read finds it all */
	setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	fake_event(f, 5, "p/k1", 10, true, false);
	fake_event(f, 5, "p/k2", 20, true, true); /* the snapshot's last key */
	for (int i = 0; i < 300; i++) { /* live: 254 fit the queue after k1, k2 */
		snprintf(key, sizeof(key), "p/L%04d", 1001 + i);
		fake_event(f, 5, key, 1001 + (uint64_t)i, false, false);
	}
	__atomic_store_n(&fake_sent_all, 1, __ATOMIC_RELEASE);
	q = fake_recv(f); /* the client has drained the queue: one more change, then the ack */
	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_PUT);
	fake_event(f, 5, "p/after", 1400, false, false);
	r.id = q->id;
	fake_send(f, &r);
	mesh__client__request__free_unpacked(q, NULL);
	q = fake_recv(f); /* the resume: from the last event kept before the loss */
	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_WATCH &&
			      q->watch->resume && !q->watch->snapshot &&
			      q->watch->resume_generation == 77 && q->watch->resume_seq == 1254);
	fake_watch_resp(f, q->id, 6, 77, 1500, true, false);
	mesh__client__request__free_unpacked(q, NULL);
}

static void
test_watch_overflow(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_watch_overflow);
	struct mesh_client_cursor cur, from;
	struct mesh_client_event ev;
	char key[16];
	uint64_t id;

	(void)state;
	fake_sent_all = 0;
	assert_int_equal(mesh_client_watch_open(c, "p/", 2, true, NULL, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(mesh_client_watch_cursor_get(c, 5, &cur), 0);
	assert_true(cur.generation == 77 && cur.seq == 0); /* a snapshot starts from 0 */
	while (!__atomic_load_n(&fake_sent_all, __ATOMIC_ACQUIRE))
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_string_equal((char *)ev.key, "p/k1");
	assert_true(ev.kind == MESH_CLIENT_EVENT_CHANGE && ev.snapshot && ev.seq == 10);
	assert_true(ev.cursor.generation == 77 && ev.cursor.seq == 10);
	mesh_client_event_free(&ev);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_string_equal((char *)ev.key, "p/k2");
	assert_true(ev.kind == MESH_CLIENT_EVENT_CHANGE && ev.snapshot);
	assert_int_equal(ev.cursor.seq, 1000); /* the snapshot is complete: the watch's start */
	mesh_client_event_free(&ev);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_int_equal(ev.kind, MESH_CLIENT_EVENT_SNAPSHOT_END);
	assert_true(ev.key_len == 0 && ev.subscription == 5 && ev.cursor.seq == 1000);
	mesh_client_event_free(&ev);
	/* the queue held 256 messages: k1, k2 and 254 live ones; the 46 newest were dropped */
	for (int i = 0; i < 254; i++) {
		assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
		snprintf(key, sizeof(key), "p/L%04d", 1001 + i);
		assert_string_equal((char *)ev.key, key);
		assert_int_equal(ev.dropped, 0);
		assert_int_equal(ev.cursor.seq, 1001 + (uint64_t)i);
		mesh_client_event_free(&ev);
	}
	assert_int_equal(mesh_client_event_next(c, 200, &ev), -ETIMEDOUT);
	assert_int_equal(mesh_client_put(c, "go", 2, "1", 1), 0);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_string_equal((char *)ev.key, "p/after");
	assert_int_equal(ev.dropped, 46); /* told with the next event */
	assert_int_equal(ev.seq, 1400);
	assert_int_equal(ev.cursor.seq, 1254); /* not past the loss */
	mesh_client_event_free(&ev);
	assert_int_equal(mesh_client_watch_cursor_get(c, 5, &from), 0);
	assert_true(from.generation == 77 && from.seq == 1254);
	assert_int_equal(mesh_client_watch_open(c, "p/", 2, false, &from, &id), 0);
	assert_int_equal(id, 6);
	assert_int_equal(mesh_client_watch_cursor_get(c, 6, &cur), 0);
	assert_true(cur.generation == 77 && cur.seq == 1254); /* resumed: from there */
	fake_stop(&f, c);
}

static void
script_watch_missed(struct fake *f)
{
	Mesh__Client__Request *q = fake_recv(f);
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__SubscribeResp sr = MESH__CLIENT__SUBSCRIBE_RESP__INIT;
	Mesh__Client__MemberEvent me = MESH__CLIENT__MEMBER_EVENT__INIT;
	Mesh__Client__Member m = MESH__CLIENT__MEMBER__INIT;
	Mesh__Client__Event ev = MESH__CLIENT__EVENT__INIT;

	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_WATCH &&
			      q->watch->resume && q->watch->resume_generation == 77 &&
			      q->watch->resume_seq == 5);
	fake_watch_resp(f, q->id, 5, 78, 50, false, true); /* another life: missed */
	mesh__client__request__free_unpacked(q, NULL);
	ev.subscription = 5; /* an empty snapshot: only its end */
	ev.seq = 50;
	ev.snapshot = ev.snapshot_end = true;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_EVENT;
	r.event = &ev;
	fake_send(f, &r);
	q = fake_recv(f);
	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_MEMBERS_WATCH &&
			      q->members_watch->snapshot);
	r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
	r.id = q->id;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_SUBSCRIBE;
	r.subscribe = &sr;
	sr.subscription = 9;
	fake_send(f, &r);
	mesh__client__request__free_unpacked(q, NULL);
	m.name = (char *)"n2";
	m.address = (char *)"10.0.0.2:7946";
	m.status = (char *)"dead";
	m.generation = 42;
	m.metadata.data = (uint8_t *)"m\0x";
	m.metadata.len = 3;
	me.subscription = 9;
	me.kind = MESH__CLIENT__MEMBER_EVENT__KIND__DEAD;
	me.member = &m;
	me.dropped = 2;
	r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_MEMBER_EVENT;
	r.member_event = &me;
	fake_send(f, &r);
	q = fake_recv(f);
	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_UNSUBSCRIBE &&
			      q->unsubscribe->subscription == 5);
	r = (Mesh__Client__Response)MESH__CLIENT__RESPONSE__INIT;
	r.id = q->id;
	fake_send(f, &r);
	mesh__client__request__free_unpacked(q, NULL);
}

static void
test_watch_missed_and_members(void **state)
{
	struct fake f;
	struct mesh_client *c = fake_start(&f, script_watch_missed);
	struct mesh_client_cursor from = { 77, 5 }, cur;
	struct mesh_client_event ev;
	uint64_t id, mid;

	(void)state;
	assert_int_equal(mesh_client_watch_open(c, "p/", 2, false, &from, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(mesh_client_members_watch_open(c, true, &mid), 0);
	assert_int_equal(mid, 9);
	assert_int_equal(mesh_client_watch_cursor_get(c, 9, &cur), -ENOENT); /* no cursor */
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_int_equal(ev.kind, MESH_CLIENT_EVENT_MISSED);
	assert_string_equal(mesh_client_event_kind_name(ev.kind), "MISSED");
	assert_true(ev.subscription == 5 && ev.cursor.generation == 78 && ev.cursor.seq == 0);
	mesh_client_event_free(&ev);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_int_equal(ev.kind, MESH_CLIENT_EVENT_SNAPSHOT_END);
	assert_true(ev.cursor.generation == 78 && ev.cursor.seq == 50);
	mesh_client_event_free(&ev);
	assert_int_equal(mesh_client_event_next(c, 1000, &ev), 0);
	assert_int_equal(ev.kind, MESH_CLIENT_EVENT_MEMBER);
	assert_int_equal(ev.subscription, 9);
	assert_int_equal(ev.member_kind, MESH_CLIENT_MEMBER_DEAD);
	assert_string_equal(mesh_client_member_kind_name(ev.member_kind), "DEAD");
	assert_non_null(ev.member);
	assert_string_equal(ev.member->name, "n2");
	assert_string_equal(ev.member->address, "10.0.0.2:7946");
	assert_string_equal(ev.member->status, "dead");
	assert_int_equal(ev.member->generation, 42);
	assert_int_equal(ev.member->metadata_len, 3);
	assert_memory_equal(ev.member->metadata, "m\0x", 3);
	assert_int_equal(ev.dropped, 2);
	assert_int_equal(ev.cursor.generation, 0);
	mesh_client_event_free(&ev);
	assert_null(ev.member);
	assert_int_equal(mesh_client_dropped_replies(c), 0); /* nothing dropped any more */
	assert_int_equal(mesh_client_watch_cursor_get(c, 5, &cur), 0);
	assert_true(cur.generation == 78 && cur.seq == 50);
	assert_int_equal(mesh_client_watch_close(c, 5), 0);
	assert_int_equal(mesh_client_watch_cursor_get(c, 5, &cur), -ENOENT);
	fake_stop(&f, c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_batch_split),
		cmocka_unit_test(test_batch_reask),
		cmocka_unit_test(test_connection_lost),
		cmocka_unit_test(test_watch_overflow),
		cmocka_unit_test(test_watch_missed_and_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
