/* SPDX-License-Identifier: BSD-3-Clause */
/* Creation and teardown of handoff rings; the hot path is inline in mesh_handoff.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "mesh_handoff.h"

int
mesh_handoff_create(struct mesh_handoff *h, const char *name, unsigned size, int socket)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->ring = rte_ring_create(name, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	return h->ring != NULL ? 0 : -rte_errno;
}

void
mesh_handoff_destroy(struct mesh_handoff *h)
{
	struct rte_mbuf *m[64];
	unsigned n;

	if (h->ring == NULL)
		return;
	while ((n = rte_ring_sc_dequeue_burst(h->ring, (void **)m, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
	rte_ring_free(h->ring);
	h->ring = NULL;
}
