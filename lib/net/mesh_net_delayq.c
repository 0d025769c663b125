/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay queue for receive fault injection: a bounded binary min-heap keyed by (release
 * time, push order) over caller memory. Random delays reorder frames, so a FIFO would
 * hold a short-delay frame behind a long one; the heap releases each frame at its own
 * time in O(log n), and the push order keeps frames with equal release times (a fixed
 * delay) in arrival order. Pure: items are opaque pointers (mbufs in lib/net).
 */
#include <errno.h>
#include <string.h>

#include "mesh_net_pkt.h"

static int
before(const struct mesh_net_delayq_slot *a, const struct mesh_net_delayq_slot *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->order < b->order);
}

void
mesh_net_delayq_create(struct mesh_net_delayq *q, struct mesh_net_delayq_slot *slots,
		       uint32_t cap)
{
	memset(q, 0, sizeof(*q));
	q->slots = slots;
	q->cap = cap;
}

int
mesh_net_delayq_push(struct mesh_net_delayq *q, uint64_t due_ns, void *item)
{
	struct mesh_net_delayq_slot s = { .due_ns = due_ns, .order = q->pushes, .item = item };
	uint32_t i;

	if (q->n == q->cap)
		return -ENOSPC;
	q->pushes++;
	for (i = q->n++; i > 0; i = (i - 1) / 2) {
		uint32_t parent = (i - 1) / 2;

		if (!before(&s, &q->slots[parent]))
			break;
		q->slots[i] = q->slots[parent];
	}
	q->slots[i] = s;
	return 0;
}

void *
mesh_net_delayq_pop_due(struct mesh_net_delayq *q, uint64_t now_ns)
{
	struct mesh_net_delayq_slot last;
	void *item;
	uint32_t i = 0;

	if (q->n == 0 || q->slots[0].due_ns > now_ns)
		return NULL;
	item = q->slots[0].item;
	last = q->slots[--q->n];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->slots[c + 1], &q->slots[c]))
			c++;
		if (!before(&q->slots[c], &last))
			break;
		q->slots[i] = q->slots[c];
		i = c;
	}
	if (q->n > 0)
		q->slots[i] = last;
	return item;
}

uint64_t
mesh_net_delayq_next_ns(const struct mesh_net_delayq *q)
{
	return q->n > 0 ? q->slots[0].due_ns : UINT64_MAX;
}
