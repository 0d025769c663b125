/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/handoff: every lockless ring between meshd's threads, with one drop accounting.
 * - mbuf rings (SPSC) between lcores: rx -> merge, rx -> tx (ARP), merge -> tx;
 * - pointer rings for host messages: control thread <-> merge lcore (client requests and
 *   replies), telemetry threads -> merge lcore (queries; multi-producer).
 * Rings never block: what does not fit is counted (handoff_drop_full) and, for mbuf rings,
 * freed; a pointer ring returns how many it took and the producer disposes of the rest.
 * Each counter has exactly one writer (the producer writes enq/drop, the consumer writes
 * deq; a multi-producer ring's producer counters are atomic adds), read with relaxed loads.
 */
#ifndef MESH_HANDOFF_H
#define MESH_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "mesh_common.h"

/** Frees one element left in a pointer ring at destroy time. */
typedef void (*mesh_handoff_free_f)(void *p);

struct mesh_handoff {
	struct rte_ring *ring;
	char name[RTE_RING_NAMESIZE];
	bool multi_producer;
	mesh_handoff_free_f free_fn; /* NULL: an mbuf ring */
	uint64_t enq;       /* producer */
	uint64_t drop_full; /* producer */
	uint64_t deq;       /* consumer */
};

/** Create an SPSC mbuf ring of @size slots (a power of two). 0 or -errno. */
int mesh_handoff_create(struct mesh_handoff *h, const char *name, unsigned size, int socket);

/**
 * Create a pointer ring of @size slots; @free_fn disposes of what is left at destroy.
 * @multi_producer: several producer threads (single consumer always). 0 or -errno.
 */
int mesh_handoff_create_ptr(struct mesh_handoff *h, const char *name, unsigned size,
			    int socket, bool multi_producer, mesh_handoff_free_f free_fn);

/** Free the ring and every element still in it. A zeroed handoff is a no-op. */
void mesh_handoff_destroy(struct mesh_handoff *h);

/** Receives one figure of a ring ("<name>_enq", "<name>_deq", "handoff_drop_<name>"). */
typedef void (*mesh_handoff_value_f)(void *ctx, const char *name, uint64_t v);

/** Visit the figures of every live ring (any thread; for the telemetry registry). */
void mesh_handoff_visit(mesh_handoff_value_f fn, void *ctx);

/** Producer: enqueue up to @n mbufs; the rest are freed and counted. Returns enqueued. */
static inline unsigned
mesh_handoff_put(struct mesh_handoff *h, struct rte_mbuf **m, unsigned n)
{
	unsigned done;

	if (n == 0)
		return 0;
	done = rte_ring_sp_enqueue_burst(h->ring, (void **)m, n, NULL);
	mesh_counter_add(&h->enq, done);
	if (mesh_unlikely(done < n)) {
		rte_pktmbuf_free_bulk(m + done, n - done);
		mesh_counter_add(&h->drop_full, n - done);
	}
	return done;
}

/** Consumer: dequeue up to @max mbufs. */
static inline unsigned
mesh_handoff_get(struct mesh_handoff *h, struct rte_mbuf **m, unsigned max)
{
	unsigned n = rte_ring_sc_dequeue_burst(h->ring, (void **)m, max, NULL);

	mesh_counter_add(&h->deq, n);
	return n;
}

/**
 * Producer: enqueue up to @n pointers; returns how many were taken. The rest stay the
 * caller's (counted as drops here: the caller answers or frees them).
 */
static inline unsigned
mesh_handoff_put_ptrs(struct mesh_handoff *h, void *const *p, unsigned n)
{
	unsigned done;

	if (n == 0)
		return 0;
	if (h->multi_producer) {
		done = rte_ring_mp_enqueue_burst(h->ring, p, n, NULL);
		__atomic_fetch_add(&h->enq, done, __ATOMIC_RELAXED);
		__atomic_fetch_add(&h->drop_full, n - done, __ATOMIC_RELAXED);
		return done;
	}
	done = rte_ring_sp_enqueue_burst(h->ring, p, n, NULL);
	mesh_counter_add(&h->enq, done);
	if (mesh_unlikely(done < n))
		mesh_counter_add(&h->drop_full, n - done);
	return done;
}

/** Consumer: dequeue up to @max pointers. */
static inline unsigned
mesh_handoff_get_ptrs(struct mesh_handoff *h, void **p, unsigned max)
{
	unsigned n = rte_ring_sc_dequeue_burst(h->ring, p, max, NULL);

	mesh_counter_add(&h->deq, n);
	return n;
}

#endif /* MESH_HANDOFF_H */
