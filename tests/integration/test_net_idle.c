/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net event-driven idle (mesh_net_idle) on real EAL: no lost wake-up when a producer
 * thread races the arming (tens of thousands of hand-offs, none recovered by the 100 ms
 * safety timeout), deadline wake-ups from the timerfd counted with their lateness, an
 * external eventfd ends a wait and is drained, a port without a wake-up source (net_ring)
 * sleeps the back-off's growing timeout, and the backoff mode's sleep stops at a deadline.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"

#define HANDOFFS 20000

/* ---------------------------------------------------------------- lost wake-ups */

struct race {
	struct mesh_net_idle w;
	uint64_t produced, consumed; /* produced: atomic; consumed: the consumer's */
	int done;
};

static void *
consumer(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) ||
	       r->consumed < __atomic_load_n(&r->produced, __ATOMIC_ACQUIRE)) {
		uint64_t p = __atomic_load_n(&r->produced, __ATOMIC_ACQUIRE);
		unsigned work = (unsigned)(p - r->consumed);

		r->consumed = p;
		if (mesh_net_idle_account(&r->w, work))
			mesh_net_idle_sleep(&r->w, mesh_tsc_now_ns(), UINT64_MAX);
	}
	return NULL;
}

static void
test_no_lost_wakeup(void **state)
{
	static struct race r;
	pthread_t t;

	(void)state;
	assert_int_equal(mesh_net_idle_init(&r.w, MESH_NET_POLL_EVENT, 500), 0);
	assert_int_equal(pthread_create(&t, NULL, consumer, &r), 0);
	for (unsigned i = 0; i < HANDOFFS; i++) {
		__atomic_fetch_add(&r.produced, 1, __ATOMIC_RELEASE);
		mesh_net_idle_wake(&r.w);
		/* vary the gap so hand-offs land in every phase of the consumer's arming */
		for (volatile unsigned k = 0; k < (i * 7919u) % 4096; k++)
			;
		if (i % 1024 == 0)
			usleep(200);
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	mesh_net_idle_wake(&r.w);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.consumed, HANDOFFS);
	/* the consumer blocked, producers woke it, and never did it sit out the 100 ms cap */
	assert_true(r.w.blocks > 10);
	assert_true(r.w.wake_fd_events > 10);
	assert_int_equal(r.w.wake_timer, 0);
	mesh_net_idle_fini(&r.w);
}

/* ---------------------------------------------------------------- deadlines, fds */

static void
test_deadline_and_fd(void **state)
{
	struct mesh_net_idle w;
	uint64_t t0, one = 1, v;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(mesh_net_idle_init(&w, MESH_NET_POLL_EVENT, 500), 0);
	assert_int_equal(mesh_net_idle_add_fd(&w, fd), 0);
	for (int i = 0; i < 10; i++) {
		t0 = mesh_tsc_now_ns();
		mesh_net_idle_sleep(&w, t0, t0 + 2 * MESH_NS_PER_MS);
		assert_true(mesh_tsc_now_ns() >= t0 + 2 * MESH_NS_PER_MS);
	}
	assert_int_equal(w.wake_timer, 10);
	assert_int_equal(w.b.timed, 10);
	assert_true(w.b.late_max_ns < 50 * MESH_NS_PER_MS); /* generous: shared CI machines */
	/* a deadline already due returns at once and records nothing */
	mesh_net_idle_sleep(&w, mesh_tsc_now_ns(), 1);
	assert_int_equal(w.blocks, 10);
	/* a signalled fd ends a wait long before its 100 ms deadline, and is drained */
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	t0 = mesh_tsc_now_ns();
	mesh_net_idle_sleep(&w, t0, t0 + 100 * MESH_NS_PER_MS);
	assert_true(mesh_tsc_now_ns() - t0 < 50 * MESH_NS_PER_MS);
	assert_int_equal(w.wake_fd_events, 1);
	assert_true(read(fd, &v, sizeof(v)) < 0);
	mesh_net_idle_fini(&w);
	close(fd);
}

/* a port that cannot wake anyone (net_ring): the back-off's growing timeout */
static void
test_port_without_wakeup(void **state)
{
	static struct mesh_net_port p;
	struct rte_ring *r = rte_ring_create("idle_r", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct mesh_net_port_cfg cfg = { .ip = 0x0a000001u, .udp_port = 39527, .n_mbufs = 511,
					 .mac = { 0x02, 0, 0, 0, 0, 9 } };
	struct mesh_net_idle w;
	uint64_t t0;
	int port;

	(void)state;
	assert_non_null(r);
	port = rte_eth_from_rings("idle_ring", &r, 1, &r, 1, 0);
	assert_true(port >= 0);
	cfg.port_id = (uint16_t)port;
	assert_int_equal(mesh_net_port_init(&p, &cfg), 0); /* asks for Rx interrupts: refused */
	assert_int_equal(mesh_net_idle_init(&w, MESH_NET_POLL_EVENT, 40), 0);
	assert_int_equal(mesh_net_idle_add_port(&w, cfg.port_id), MESH_NET_RX_WAKE_NONE);
	t0 = mesh_tsc_now_ns();
	for (int i = 0; i < 4; i++) /* 10, 20, 40, 40 us instead of the 1 s deadline */
		mesh_net_idle_sleep(&w, mesh_tsc_now_ns(), t0 + MESH_NS_PER_SEC);
	assert_true(mesh_tsc_now_ns() - t0 < 500 * MESH_NS_PER_MS);
	assert_int_equal(w.b.cur_us, 40);
	assert_int_equal(w.b.timed, 0); /* none of them was a deadline */
	assert_int_equal(w.wake_timer, 4);
	mesh_net_idle_fini(&w);
	mesh_net_port_fini(&p);
	rte_ring_free(r);
}

/* backoff mode: the sleep is capped by the deadline and its lateness recorded */
static void
test_backoff_deadline(void **state)
{
	struct mesh_net_idle w;
	uint64_t t0;
	unsigned polls = 0;

	(void)state;
	assert_int_equal(mesh_net_idle_init(&w, MESH_NET_POLL_BACKOFF, 100000), 0);
	w.b.cur_us = 100000; /* a 100 ms back-off ... */
	while (!mesh_net_idle_account(&w, 0))
		polls++;
	assert_int_equal(polls, w.b.spin - 1);
	t0 = mesh_tsc_now_ns();
	mesh_net_idle_sleep(&w, t0, t0 + MESH_NS_PER_MS); /* ... ends at the 1 ms deadline */
	assert_true(mesh_tsc_now_ns() - t0 < 50 * MESH_NS_PER_MS);
	assert_int_equal(w.b.timed, 1);
	assert_int_equal(w.b.sleeps, 1);
	/* busy mode never asks to sleep */
	mesh_net_idle_fini(&w);
	assert_int_equal(mesh_net_idle_init(&w, MESH_NET_POLL_BUSY, 500), 0);
	for (int i = 0; i < 1000; i++)
		assert_false(mesh_net_idle_account(&w, 0));
	mesh_net_idle_fini(&w);
}

static int
setup(void **state)
{
	char *argv[] = { "test_net_idle", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", "test_net_idle",
			 "--log-level", "lib.eal:warning" };

	(void)state;
	if (rte_eal_init((int)MESH_ARRAY_SIZE(argv), argv) < 0)
		return -1;
	mesh_common_dpdk_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_lost_wakeup),
		cmocka_unit_test(test_deadline_and_fd),
		cmocka_unit_test(test_port_without_wakeup),
		cmocka_unit_test(test_backoff_deadline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
