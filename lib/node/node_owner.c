/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner-bound keys at the membership edge. A put with owned = true binds its key to the
 * writer's life: the store's replica id, mesh_crdt_replica_id_derive(name, gen) (node_core.c
 * derives the node's own the same way). Membership ends a life in three ways, and each one
 * makes the store delete that life's owned keys (mesh_crdt_owner_expire, doc/crdt.md):
 *   - DEAD: the member was declared dead (failure detection, or a member that died while
 *     we were away and whose death we learn by gossip);
 *   - LEFT: a graceful leave;
 *   - a new life: the member restarted (a higher generation) before anyone declared the
 *     old one dead; membership then replaces the life without a DEAD event, so the old
 *     generation is read from the replication peer (live or parked) before node_repl.c
 *     forgets it. A restarted member that was never our peer is not seen here; its old
 *     keys go when some peer that knew it deletes them (the tombstone replicates).
 * A member declared dead that refutes it in the same life (ALIVE or SUSPECT again) is
 * revived: what was deleted stays deleted (the lease was lost), but its owned writes from
 * then on are kept rather than turned into tombstones on arrival.
 * Every node runs this for the events it sees; the deletes are ordinary local tombstones,
 * so a node that missed the event still converges by replication and anti-entropy.
 */
#include <string.h>

#include "node_internal.h"

#define LOG_MOD "node"

static void
life_end(struct mesh_node *n, const struct mesh_swim_event *ev, uint64_t gen, const char *why)
{
	uint64_t replica = mesh_crdt_replica_id_derive(ev->name, ev->name_len, gen);
	uint64_t k;

	node_wall(n); /* the tombstones' versions are made of the wall clock */
	k = mesh_crdt_owner_expire(n->kv, replica, n->now);
	if (k > 0)
		mesh_log(MESH_LOG_NOTICE, LOG_MOD, "%.*s (gen %llu) %s: %llu owner-bound key(s) deleted",
			 (int)ev->name_len, ev->name, (unsigned long long)gen, why,
			 (unsigned long long)k);
}

void
node_owner_member(struct mesh_node *n, const struct mesh_swim_event *ev)
{
	const struct node_peer *p;

	switch (ev->type) {
	case MESH_SWIM_EV_DEAD:
		life_end(n, ev, ev->gen, "declared dead");
		return;
	case MESH_SWIM_EV_LEFT:
		life_end(n, ev, ev->gen, "left");
		return;
	case MESH_SWIM_EV_ALIVE:
	case MESH_SWIM_EV_SUSPECT:
	case MESH_SWIM_EV_UPDATED:
		break;
	default:
		return; /* REMOVED (already ended), CONFLICT (not a life change) */
	}
	/* a restart: the peer's recorded life is older than the event's */
	p = node_peer_find_name(n, ev->name, ev->name_len);
	if (p == NULL)
		p = node_parked_find_name(n, ev->name, ev->name_len);
	if (p != NULL && p->gen != 0 && p->gen < ev->gen)
		life_end(n, ev, p->gen, "restarted");
	/* alive in this life: its owned writes count again */
	if (ev->status == MESH_SWIM_ALIVE || ev->status == MESH_SWIM_SUSPECT)
		mesh_crdt_owner_revive(n->kv,
				       mesh_crdt_replica_id_derive(ev->name, ev->name_len, ev->gen));
}
