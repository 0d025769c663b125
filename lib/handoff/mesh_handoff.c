/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Creation and teardown of handoff rings, and the list of live rings that telemetry walks
 * (one drop accounting for every ring); the hot path is inline in mesh_handoff.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "mesh_handoff.h"

#define MAX_RINGS 16

/* live rings; written at start-up and shutdown, read by telemetry threads */
static struct mesh_handoff *rings[MAX_RINGS];

static int
create(struct mesh_handoff *h, const char *name, unsigned size, int socket, unsigned flags)
{
	h->ring = rte_ring_create(name, size, socket, flags);
	if (h->ring == NULL)
		return -rte_errno;
	for (unsigned i = 0; i < MAX_RINGS; i++)
		if (__atomic_load_n(&rings[i], __ATOMIC_ACQUIRE) == NULL) {
			__atomic_store_n(&rings[i], h, __ATOMIC_RELEASE);
			break;
		}
	return 0;
}

void
mesh_handoff_visit(mesh_handoff_value_f fn, void *ctx)
{
	char key[RTE_RING_NAMESIZE + 16];

	for (unsigned i = 0; i < MAX_RINGS; i++) {
		const struct mesh_handoff *h = __atomic_load_n(&rings[i], __ATOMIC_ACQUIRE);

		if (h == NULL)
			continue;
		snprintf(key, sizeof(key), "%s_enq", h->name);
		fn(ctx, key, mesh_counter_read(&h->enq));
		snprintf(key, sizeof(key), "%s_deq", h->name);
		fn(ctx, key, mesh_counter_read(&h->deq));
		snprintf(key, sizeof(key), "handoff_drop_%s", h->name);
		fn(ctx, key, mesh_counter_read(&h->drop_full));
	}
}

int
mesh_handoff_create(struct mesh_handoff *h, const char *name, unsigned size, int socket)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	return create(h, name, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

int
mesh_handoff_create_ptr(struct mesh_handoff *h, const char *name, unsigned size, int socket,
			bool multi_producer, mesh_handoff_free_f free_fn)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->multi_producer = multi_producer;
	h->free_fn = free_fn;
	return create(h, name, size, socket, RING_F_SC_DEQ | (multi_producer ? 0 : RING_F_SP_ENQ));
}

void
mesh_handoff_destroy(struct mesh_handoff *h)
{
	void *p[64];
	unsigned n;

	if (h->ring == NULL)
		return;
	for (unsigned i = 0; i < MAX_RINGS; i++)
		if (__atomic_load_n(&rings[i], __ATOMIC_ACQUIRE) == h)
			__atomic_store_n(&rings[i], NULL, __ATOMIC_RELEASE);
	while ((n = rte_ring_sc_dequeue_burst(h->ring, p, 64, NULL)) > 0) {
		if (h->free_fn == NULL)
			rte_pktmbuf_free_bulk((struct rte_mbuf **)p, n);
		else
			for (unsigned i = 0; i < n; i++)
				h->free_fn(p[i]);
	}
	rte_ring_free(h->ring);
	h->ring = NULL;
}
