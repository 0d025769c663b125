/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lost events owed to a client (struct ctl_lost): each thread that drops an event on its
 * way to a client (the merge lcore when the ring to the control thread refuses it, the
 * control thread at a client's output cap) adds it here under its subscription, with the
 * losses the event itself carried, and the subscription's next event that gets through
 * takes them into Event.dropped. So the client's count is complete: events received plus
 * Event.dropped is every event of the subscription (up to its last loss, reported with
 * the next event).
 */
#include "ctl_internal.h"

void
ctl_lost_add(struct ctl_lost *t, uint64_t sub, uint64_t n)
{
	int free_at = -1;

	for (int i = 0; i < CTL_LOST_SUBS; i++) {
		if (t->e[i].n > 0 && t->e[i].sub == sub) {
			t->e[i].n += n;
			return;
		}
		if (t->e[i].n == 0 && free_at < 0)
			free_at = i;
	}
	if (free_at < 0) {
		t->any += n;
		return;
	}
	t->e[free_at].sub = sub;
	t->e[free_at].n = n;
}

uint64_t
ctl_lost_take(struct ctl_lost *t, uint64_t sub)
{
	uint64_t n = t->any;

	t->any = 0;
	for (int i = 0; i < CTL_LOST_SUBS; i++)
		if (t->e[i].n > 0 && t->e[i].sub == sub) {
			n += t->e[i].n;
			t->e[i].n = 0;
		}
	return n;
}
