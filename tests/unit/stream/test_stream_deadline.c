/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_stream_next_deadline(): the time the next tick has work is exact. A timer due at t
 * does not fire in a tick at t - 1 ns and fires in a tick at t (batch retransmission,
 * heartbeat, fragment nack, idle timeout); nothing pending, no deadline; a caller that
 * ticks only at the deadline (an idle node) keeps the channel working, and an idle pair
 * wakes about once per heartbeat with a pass over the peers only after a tick.
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

#include "mesh_stream.h"

#define MS MESH_NS_PER_MS
#define A_ID 0xA1ULL
#define B_ID 0xB2ULL
#define QMAX 4096

struct frame {
	uint64_t from, to;
	size_t len;
	uint8_t *p;
};

struct node {
	struct mesh_stream *s;
	uint64_t id;
	uint32_t applied, delivered, downs;
};

static struct frame fq[QMAX];
static uint32_t fq_n;
static struct node na, nb;

static void
env_send(void *ctx, uint64_t peer, const uint8_t *payload, size_t len)
{
	struct node *n = ctx;

	assert_true(fq_n < QMAX);
	fq[fq_n] = (struct frame){ n->id, peer, len, malloc(len) };
	memcpy(fq[fq_n].p, payload, len);
	fq_n++;
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n, bool *fresh)
{
	struct node *x = ctx;

	(void)from;
	(void)ops;
	for (uint32_t i = 0; i < n; i++)
		fresh[i] = true;
	x->applied += n;
	return 0;
}

static void
env_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	    const uint8_t *value, size_t len, uint64_t origin_ns)
{
	struct node *x = ctx;

	(void)from;
	(void)origin;
	(void)key;
	(void)key_len;
	(void)value;
	(void)len;
	(void)origin_ns;
	x->delivered++;
}

static void
env_state(void *ctx, uint64_t peer, bool up)
{
	struct node *x = ctx;

	(void)peer;
	x->downs += !up;
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.stream_deliver = env_deliver,
	.peer_state = env_state,
};

static struct mesh_stream *
new_stream(struct node *n, uint64_t id)
{
	struct mesh_stream_config c;

	mesh_stream_config_default(&c);
	c.self_id = id;
	c.seed = 3;
	n->id = id;
	n->s = mesh_stream_new(&c, &env, n);
	assert_non_null(n->s);
	return n->s;
}

static int
setup(void **state)
{
	(void)state;
	memset(&na, 0, sizeof(na));
	memset(&nb, 0, sizeof(nb));
	new_stream(&na, A_ID);
	new_stream(&nb, B_ID);
	fq_n = 0;
	return 0;
}

static void
drop_queue(void)
{
	for (uint32_t i = 0; i < fq_n; i++)
		free(fq[i].p);
	fq_n = 0;
}

static int
teardown(void **state)
{
	(void)state;
	drop_queue();
	mesh_stream_delete(na.s);
	mesh_stream_delete(nb.s);
	return 0;
}

/* deliver what is queued (and what that triggers) at @now; @lose: every frame is lost */
static void
pump(uint64_t now, bool lose)
{
	while (fq_n > 0) {
		uint32_t n = fq_n;
		struct frame batch[QMAX];

		memcpy(batch, fq, n * sizeof(batch[0]));
		fq_n = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct node *to = batch[i].to == A_ID ? &na : &nb;

			if (!lose)
				mesh_stream_rx_payload(to->s, batch[i].from, batch[i].p, batch[i].len,
						       now);
			free(batch[i].p);
		}
		mesh_stream_flush(na.s, now);
		mesh_stream_flush(nb.s, now);
	}
}

static uint64_t
ctr(const struct node *n, enum mesh_stream_counter c)
{
	return mesh_stream_counters(n->s)[c];
}

static void
publish(struct node *n, const char *key, uint64_t now)
{
	struct mesh_stream_op op = {
		.key = (const uint8_t *)key, .key_len = (uint32_t)strlen(key),
		.value = (const uint8_t *)"v", .value_len = 1,
		.replica = (const uint8_t *)"r", .replica_len = 1,
		.timestamp = 1, .version = 1,
	};

	assert_int_equal(mesh_stream_op_publish(n->s, &op, now), 0);
	mesh_stream_flush(n->s, now);
}

/* a stream with nothing to time has no deadline, before and after ticks */
static void
test_no_deadline(void **state)
{
	(void)state;
	assert_int_equal(mesh_stream_next_deadline(na.s), UINT64_MAX);
	mesh_stream_tick(na.s, 5 * MESH_NS_PER_SEC);
	assert_int_equal(mesh_stream_next_deadline(na.s), UINT64_MAX);
	assert_int_equal(fq_n, 0);
	/* a member brings its heartbeat; removing it takes it away again */
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, 7 * MS), 0);
	assert_int_equal(mesh_stream_next_deadline(na.s), 7 * MS + MESH_NS_PER_SEC);
	assert_int_equal(mesh_stream_peer_remove(na.s, B_ID), 0);
	assert_int_equal(mesh_stream_next_deadline(na.s), UINT64_MAX);
}

/* the heartbeat of an idle member channel is due exactly heartbeat_ns after the last send */
static void
test_heartbeat_exact(void **state)
{
	uint64_t t0 = 3 * MS, due;

	(void)state;
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, t0), 0);
	due = mesh_stream_next_deadline(na.s);
	assert_int_equal(due, t0 + MESH_NS_PER_SEC);
	mesh_stream_tick(na.s, due - 1);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_heartbeats), 0);
	mesh_stream_tick(na.s, due);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_heartbeats), 1);
	assert_int_equal(mesh_stream_next_deadline(na.s), due + MESH_NS_PER_SEC);
	drop_queue();
}

/* a batch's retransmission is due at send + rto_initial, then at + 2 rto_initial; once
 * acknowledged, no retransmission deadline is left (only the heartbeat) */
static void
test_retransmit_exact(void **state)
{
	uint64_t t0 = 10 * MS, rto = 200 * MS, due;

	(void)state;
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, 0), 0);
	assert_int_equal(mesh_stream_peer_add(nb.s, A_ID, 0), 0);
	assert_int_equal(mesh_stream_next_deadline(na.s), MESH_NS_PER_SEC); /* heartbeat */
	publish(&na, "k1", t0); /* the batch sent moves the cached deadline */
	pump(t0, true); /* the batch is lost */
	due = mesh_stream_next_deadline(na.s);
	assert_int_equal(due, t0 + rto);
	mesh_stream_tick(na.s, due - 1);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_crdt_retransmits), 0);
	assert_int_equal(fq_n, 0);
	mesh_stream_tick(na.s, due);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_crdt_retransmits), 1);
	pump(due, true); /* lost again: backoff doubles */
	assert_int_equal(mesh_stream_next_deadline(na.s), due + 2 * rto);
	mesh_stream_tick(na.s, due + 2 * rto - 1);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_crdt_retransmits), 1);
	mesh_stream_tick(na.s, due + 2 * rto);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_crdt_retransmits), 2);
	pump(due + 2 * rto, false); /* delivered and acknowledged */
	assert_int_equal(nb.applied, 1);
	assert_int_equal(mesh_stream_peer_backlog(na.s, B_ID), 0);
	/* no retransmission left: the next thing is the heartbeat, 1 s after the last send
	 * (the cached deadline may be early, never late; a tick makes it exact) */
	due = mesh_stream_next_deadline(na.s);
	assert_true(due <= t0 + 3 * rto + MESH_NS_PER_SEC);
	if (due < t0 + 3 * rto + MESH_NS_PER_SEC) {
		mesh_stream_tick(na.s, due);
		assert_int_equal(fq_n, 0);
	}
	assert_int_equal(mesh_stream_next_deadline(na.s), t0 + 3 * rto + MESH_NS_PER_SEC);
	assert_int_equal(ctr(&na, MESH_STREAM_CTR_tx_crdt_retransmits), 2);
}

/* a value missing a fragment: the receiver's nack is due nack_delay after the last
 * fragment, then every nack_interval */
static void
test_nack_exact(void **state)
{
	static uint8_t v[5000];
	uint64_t t0 = 50 * MS, due;
	uint32_t n;

	(void)state;
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, 0), 0);
	assert_int_equal(mesh_stream_peer_add(nb.s, A_ID, 0), 0);
	assert_int_equal(mesh_stream_value_send(na.s, B_ID, "big", 3, v, sizeof(v), t0), 0);
	mesh_stream_flush(na.s, t0);
	assert_true(fq_n >= 2);
	free(fq[0].p); /* the first frame (fragment 0) is lost */
	memmove(&fq[0], &fq[1], --fq_n * sizeof(fq[0]));
	n = fq_n;
	for (uint32_t i = 0; i < n; i++) {
		mesh_stream_rx_payload(nb.s, A_ID, fq[i].p, fq[i].len, t0);
		free(fq[i].p);
	}
	fq_n = 0;
	mesh_stream_flush(nb.s, t0);
	drop_queue(); /* acks, if any */
	due = mesh_stream_next_deadline(nb.s);
	assert_int_equal(due, t0 + 20 * MS);
	mesh_stream_tick(nb.s, due - 1);
	assert_int_equal(ctr(&nb, MESH_STREAM_CTR_tx_chunk_nacks), 0);
	mesh_stream_tick(nb.s, due);
	assert_int_equal(ctr(&nb, MESH_STREAM_CTR_tx_chunk_nacks), 1);
	assert_int_equal(mesh_stream_next_deadline(nb.s), due + 100 * MS);
	drop_queue();
}

/* an up channel that hears nothing goes down exactly idle_timeout later */
static void
test_idle_timeout_exact(void **state)
{
	uint64_t t, down = 60 * MESH_NS_PER_SEC + 1;

	(void)state;
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, 0), 0);
	/* tick at every deadline: heartbeats out (lost), nothing heard */
	for (t = mesh_stream_next_deadline(na.s); t < down; t = mesh_stream_next_deadline(na.s)) {
		mesh_stream_tick(na.s, t);
		drop_queue();
	}
	assert_int_equal(t, down);
	assert_int_equal(mesh_stream_peer_up(na.s, B_ID), 1);
	mesh_stream_tick(na.s, t);
	assert_int_equal(mesh_stream_peer_up(na.s, B_ID), 0);
	assert_int_equal(na.downs, 1);
	drop_queue();
}

/*
 * Two streams driven only at their deadlines (an idle node's loop): ops published now and
 * then over a link losing every fourth frame all arrive; while idle the pair wakes about
 * once per heartbeat, and the deadline is computed again by a pass over the peers only
 * after a tick, not on each query.
 */
static void
test_driven_by_deadline(void **state)
{
	uint64_t now = 0, ticks = 0, scans, frames = 0;
	char key[16];

	(void)state;
	assert_int_equal(mesh_stream_peer_add(na.s, B_ID, 0), 0);
	assert_int_equal(mesh_stream_peer_add(nb.s, A_ID, 0), 0);
	for (int k = 0; k < 20; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		publish(k % 2 ? &nb : &na, key, now);
		for (uint64_t end = now + 500 * MS; now < end;) {
			uint64_t da = mesh_stream_next_deadline(na.s);
			uint64_t db = mesh_stream_next_deadline(nb.s);

			now = MESH_MIN(MESH_MIN(da, db), end);
			if (now >= da) {
				mesh_stream_tick(na.s, now);
				ticks++;
			}
			if (now >= db) {
				mesh_stream_tick(nb.s, now);
				ticks++;
			}
			/* frames in flight: every fourth is lost */
			while (fq_n > 0) {
				uint32_t n = fq_n;
				struct frame b[QMAX];

				memcpy(b, fq, n * sizeof(b[0]));
				fq_n = 0;
				for (uint32_t i = 0; i < n; i++) {
					if (++frames % 4 != 0)
						mesh_stream_rx_payload(b[i].to == A_ID ? na.s : nb.s,
								       b[i].from, b[i].p, b[i].len,
								       now);
					free(b[i].p);
				}
				mesh_stream_flush(na.s, now);
				mesh_stream_flush(nb.s, now);
			}
		}
	}
	assert_int_equal(na.applied + nb.applied, 20);
	/* 10 s of that: a 1 ms tick would have run 20,000 times */
	assert_true(ticks < 400);
	/* idle: 10 s more, two heartbeats a second between them, a few spurious wake-ups */
	ticks = 0;
	scans = ctr(&na, MESH_STREAM_CTR_deadline_scans);
	for (uint64_t end = now + 10 * MESH_NS_PER_SEC; now < end;) {
		uint64_t da = mesh_stream_next_deadline(na.s);
		uint64_t db = mesh_stream_next_deadline(nb.s);

		for (int q = 0; q < 100; q++) /* queries without change: no pass */
			assert_int_equal(mesh_stream_next_deadline(na.s), da);
		now = MESH_MIN(da, db);
		if (now >= da) {
			mesh_stream_tick(na.s, now);
			ticks++;
		}
		if (now >= db) {
			mesh_stream_tick(nb.s, now);
			ticks++;
		}
		pump(now, false);
	}
	assert_true(ticks >= 10 && ticks <= 30);
	/* what the lossy link left unacknowledged was retransmitted at its deadline */
	assert_int_equal(mesh_stream_peer_backlog(na.s, B_ID), 0);
	assert_int_equal(mesh_stream_peer_backlog(nb.s, A_ID), 0);
	assert_true(ctr(&na, MESH_STREAM_CTR_deadline_scans) - scans <= ticks + 2);
	assert_int_equal(na.downs + nb.downs, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driven_by_deadline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
