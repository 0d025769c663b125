/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient's async core and batch splitting against a scripted fake node (a thread
 * on a real AF_UNIX SOCK_SEQPACKET socket, no meshd): replies out of order matched by id,
 * a sync call in the middle of async traffic, events to a callback, a v1 refusal's errno
 * mapped to its Error code, a batch split at hello's max_batch with every part sent before
 * any reply, a reply nobody asked for dropped and counted, and in-flight requests
 * completed with -ECONNRESET when the node goes away.
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
script_batch(struct fake *f)
{
	Mesh__Client__Request *q = fake_recv(f), *parts[8];
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__HelloResp h = MESH__CLIENT__HELLO_RESP__INIT;
	char *feat[] = { (char *)"batch" };

	FAKE_CHECK(f, q != NULL && q->op_case == MESH__CLIENT__REQUEST__OP_HELLO);
	r.id = q->id;
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_HELLO;
	r.hello = &h;
	h.version = 2;
	h.max_batch = 3;
	h.node = (char *)"fake";
	h.n_features = 1;
	h.features = feat;
	fake_send(f, &r);
	mesh__client__request__free_unpacked(q, NULL);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_batch_split),
		cmocka_unit_test(test_connection_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
