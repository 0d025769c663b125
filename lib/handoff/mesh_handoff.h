/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/handoff: lockless single-producer/single-consumer rte_rings of mbufs between meshd's
 * lcores (rx -> merge, rx -> tx for ARP, merge -> tx). Rings never block: what does not
 * fit is freed and counted (handoff_drop_full). Each counter has exactly one writer (the
 * producer writes enq/drop, the consumer writes deq), read with relaxed loads.
 */
#ifndef MESH_HANDOFF_H
#define MESH_HANDOFF_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "mesh_common.h"

struct mesh_handoff {
	struct rte_ring *ring;
	char name[RTE_RING_NAMESIZE];
	uint64_t enq;       /* producer */
	uint64_t drop_full; /* producer */
	uint64_t deq;       /* consumer */
};

/** Create an SPSC ring of @size slots (a power of two). 0 or -errno. */
int mesh_handoff_create(struct mesh_handoff *h, const char *name, unsigned size, int socket);

/** Free the ring and every mbuf still in it. */
void mesh_handoff_destroy(struct mesh_handoff *h);

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

#endif /* MESH_HANDOFF_H */
