/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Questions for the merge lcore. Telemetry runs on DPDK's client threads, which must never
 * touch the merge lcore's tables: a command that needs them (one key, members, peers)
 * enqueues a query on a multi-producer handoff ring, signals an eventfd (an idle merge lcore
 * blocks on it) and waits up to 500 ms; the merge lcore answers in its loop
 * (mesh_telemetry_node_poll).
 *
 * The asker abandons a query only while it is still PENDING (one CAS), so the merge lcore
 * never writes into a reply its asker has stopped waiting for: it either claims the query
 * first (RUNNING, and the asker waits the few microseconds until DONE) or finds it
 * ABANDONED and frees it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "mesh_handoff.h"
#include "telemetry_internal.h"

#define WAIT_MS 500
#define RING_SIZE 64

enum { Q_PENDING = 0, Q_RUNNING, Q_DONE, Q_ABANDONED };

struct query {
	int state;
	tel_query_f fn;
	const char *params;
	struct rte_tel_data *out;
};

static struct mesh_handoff queries;
static int wake_fd = -1; /* signalled per query: the merge lcore may be blocked */

int
tel_error(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

int
tel_query_run(tel_query_f fn, const char *params, struct rte_tel_data *out)
{
	static const uint64_t one = 1;
	struct query *q;
	uint64_t deadline;
	int expected = Q_PENDING;

	if (tel_node == NULL || queries.ring == NULL)
		return tel_error(out, "not running");
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return tel_error(out, "out of memory");
	q->fn = fn;
	q->params = params != NULL ? params : "";
	q->out = out;
	if (mesh_handoff_put_ptrs(&queries, (void *const *)&q, 1) != 1) {
		free(q);
		return tel_error(out, "merge core busy; retry");
	}
	if (write(wake_fd, &one, sizeof(one)) < 0) {
		/* saturated: nobody drains it, so the merge lcore is polling */
	}
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_MS / 1000;
	while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == Q_PENDING &&
	       rte_get_timer_cycles() < deadline)
		rte_delay_us_sleep(100);
	if (__atomic_compare_exchange_n(&q->state, &expected, Q_ABANDONED, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return tel_error(out, "merge core did not answer in time");
	while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) != Q_DONE)
		rte_pause();
	free(q);
	return 0;
}

unsigned
mesh_telemetry_node_poll(void)
{
	struct query *q[8];
	unsigned n;

	if (queries.ring == NULL || tel_node == NULL)
		return 0;
	n = mesh_handoff_get_ptrs(&queries, (void **)q, 8);
	for (unsigned i = 0; i < n; i++) {
		int expected = Q_PENDING;

		if (!__atomic_compare_exchange_n(&q[i]->state, &expected, Q_RUNNING, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			free(q[i]); /* the asker gave up */
			continue;
		}
		q[i]->fn(tel_node, q[i]->params, q[i]->out);
		__atomic_store_n(&q[i]->state, Q_DONE, __ATOMIC_RELEASE);
	}
	return n;
}

/* destroy time: askers still waiting time out (PENDING -> ABANDONED) and return; the
 * queries they abandoned are freed here */
static void
query_release(void *p)
{
	struct query *q = p;
	int expected = Q_ABANDONED;

	if (__atomic_compare_exchange_n(&q->state, &expected, Q_DONE, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		free(q);
}

int
tel_query_init(void)
{
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0)
		return -errno;
	return mesh_handoff_create_ptr(&queries, "tel_queries", RING_SIZE, (int)rte_socket_id(),
				       true, query_release);
}

int
mesh_telemetry_node_wake_fd(void)
{
	return wake_fd;
}

void
mesh_telemetry_node_fini(void)
{
	tel_node = NULL;
	mesh_handoff_destroy(&queries);
	if (wake_fd >= 0)
		close(wake_fd);
	wake_fd = -1;
}
