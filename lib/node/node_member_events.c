/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Membership events for clients (MembersWatchReq). A membership subscription is a bounded
 * FIFO (MEV_QUEUE events) per client subscription, at most NODE_MAX_MSUBS per node. lib/swim
 * events reach node_mev_swim (node_swim.c) and are mapped:
 *   ALIVE of an unknown, dead or left member, or of a new life of a live one (a restart:
 *   its replication peer still has the old generation) -> JOIN; ALIVE otherwise (refuted
 *   suspicion) -> ALIVE; SUSPECT, DEAD, LEFT -> the same; UPDATED, REMOVED, CONFLICT ->
 *   none.
 * Metadata lives in the store under "\xffmeshd/meta/<name>" (node_meta.c): an internal store
 * subscription on that prefix, open while some membership subscription is, turns each
 * change into a METADATA event of that member (members not known to SWIM are skipped).
 * A full queue drops the new event and counts it (node_event_drops); the next event sent
 * carries the count in MemberEvent.dropped. Events hold the member's identity; status and
 * metadata are read when the event is sent (at most MEV_PER_POLL per subscription per
 * poll). A snapshot (one JOIN per member, self first) is sent right after the reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define MEV_QUEUE 64u
#define MEV_PER_POLL 64u
#define META_PREFIX MESH_NODE_RESERVED_PREFIX "meta/"
#define META_PREFIX_LEN (MESH_NODE_RESERVED_PREFIX_LEN + 5)
#define META_SUB_CAP 256u

struct mev {
	enum mesh_node_member_event kind;
	enum mesh_swim_status status;
	uint32_t inc;
	uint64_t gen;
	struct mesh_node_addr addr;
	uint8_t name_len;
	char name[MESH_SWIM_NAME_MAX];
};

struct node_msub {
	uint64_t id;
	uint32_t client, client_gen;
	uint32_t head, count;
	uint64_t dropped; /* lost since the last event sent */
	struct mev q[MEV_QUEUE];
};

static void
push(struct mesh_node *n, struct node_msub *m, const struct mev *e)
{
	if (m->count == MEV_QUEUE) {
		m->dropped++;
		NODE_CTR(n, node_event_drops);
		return;
	}
	m->q[(m->head + m->count++) % MEV_QUEUE] = *e;
}

static void
push_all(struct mesh_node *n, const struct mev *e)
{
	for (unsigned i = 0; i < NODE_MAX_MSUBS; i++)
		if (n->msubs[i] != NULL)
			push(n, n->msubs[i], e);
}

static struct mev
mev_of(enum mesh_node_member_event kind, const struct mesh_swim_member_info *mi)
{
	struct mev e = {
		.kind = kind, .status = mi->status, .inc = mi->inc, .gen = mi->gen,
		.addr = { .ip = mi->addr.ip, .port = mi->addr.port },
		.name_len = (uint8_t)MESH_MIN(mi->name_len, (size_t)MESH_SWIM_NAME_MAX),
	};

	memcpy(e.name, mi->name, e.name_len);
	return e;
}

void
node_mev_swim(struct mesh_node *n, const struct mesh_swim_event *ev)
{
	struct mesh_swim_member_info mi = {
		.name = ev->name, .name_len = ev->name_len, .gen = ev->gen, .inc = ev->inc,
		.status = ev->status, .addr = ev->addr,
	};
	enum mesh_node_member_event kind;

	if (n->n_msubs == 0)
		return;
	switch (ev->type) {
	case MESH_SWIM_EV_ALIVE: {
		const struct node_peer *p = node_peer_find_name(n, ev->name, ev->name_len);

		kind = ev->prev_status == 0 || ev->prev_status == MESH_SWIM_DEAD ||
				       ev->prev_status == MESH_SWIM_LEFT ||
				       (p != NULL && p->gen != ev->gen)
			       ? MESH_NODE_MEMBER_JOIN
			       : MESH_NODE_MEMBER_ALIVE;
		break;
	}
	case MESH_SWIM_EV_SUSPECT:
		kind = MESH_NODE_MEMBER_SUSPECT;
		break;
	case MESH_SWIM_EV_DEAD:
		kind = MESH_NODE_MEMBER_DEAD;
		break;
	case MESH_SWIM_EV_LEFT:
		kind = MESH_NODE_MEMBER_LEFT;
		break;
	default:
		return;
	}
	struct mev e = mev_of(kind, &mi);
	push_all(n, &e);
}

/* Current record of member @name (self included). 0 or -ENOENT. */
static int
member_info(struct mesh_node *n, const char *name, size_t len, struct mesh_swim_member_info *mi)
{
	mesh_swim_self(n->swim, mi);
	if (mi->name_len == len && memcmp(mi->name, name, len) == 0)
		return 0;
	return mesh_swim_member_get(n->swim, name, len, mi);
}

/* metadata changes in the store: one METADATA event per change of a known member */
static void
meta_poll(struct mesh_node *n)
{
	struct mesh_crdt_event ev;
	uint64_t dropped;

	for (unsigned k = 0; k < META_SUB_CAP && mesh_crdt_sub_poll(n->meta_sub, &ev) == 1; k++) {
		struct mesh_swim_member_info mi;
		struct mev e;

		if (ev.key_len <= META_PREFIX_LEN ||
		    member_info(n, (const char *)ev.key + META_PREFIX_LEN,
				ev.key_len - META_PREFIX_LEN, &mi) != 0)
			continue;
		e = mev_of(MESH_NODE_MEMBER_METADATA, &mi);
		push_all(n, &e);
	}
	dropped = mesh_crdt_sub_dropped(n->meta_sub);
	if (dropped != n->meta_dropped_seen) { /* metadata changes lost: say so */
		for (unsigned i = 0; i < NODE_MAX_MSUBS; i++)
			if (n->msubs[i] != NULL)
				n->msubs[i]->dropped += dropped - n->meta_dropped_seen;
		n->meta_dropped_seen = dropped;
	}
}

static void
send_event(struct mesh_node *n, struct node_msub *m, const struct mev *e)
{
	struct mesh_node_member mem = {
		.name = { .data = (const uint8_t *)e->name, .len = e->name_len },
		.addr = e->addr, .status = e->status, .incarnation = e->inc,
		.generation = e->gen,
	};
	struct mesh_swim_member_info mi;
	struct mesh_node_reply r = {
		.type = MESH_NODE_REPLY_MEMBER_EVENT,
		.client = m->client,
		.client_gen = m->client_gen,
		.subscription = m->id,
		.member_event = e->kind,
		.members = &mem,
		.n_members = 1,
		.dropped = m->dropped,
	};

	/* a METADATA event shows the member as it is now */
	if (e->kind == MESH_NODE_MEMBER_METADATA &&
	    member_info(n, e->name, e->name_len, &mi) == 0) {
		mem.status = mi.status;
		mem.incarnation = mi.inc;
	}
	mem.metadata = node_meta_of(n, e->name, e->name_len); /* node_meta.c */
	m->dropped = 0;
	if (n->env->reply != NULL)
		n->env->reply(n->ctx, &r);
	NODE_CTR(n, node_events);
}

unsigned
node_mev_poll(struct mesh_node *n)
{
	unsigned sent = 0;

	if (n->n_msubs == 0)
		return 0;
	if (n->meta_sub != NULL)
		meta_poll(n);
	for (unsigned i = 0; i < NODE_MAX_MSUBS; i++) {
		struct node_msub *m = n->msubs[i];

		for (unsigned k = 0; m != NULL && m->count > 0 && k < MEV_PER_POLL; k++) {
			struct mev e = m->q[m->head];

			m->head = (m->head + 1) % MEV_QUEUE;
			m->count--;
			send_event(n, m, &e);
			sent++;
		}
	}
	return sent;
}

void
node_mev_request(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	struct node_msub *m;
	unsigned slot;

	for (slot = 0; slot < NODE_MAX_MSUBS && n->msubs[slot] != NULL; slot++)
		;
	if (slot == NODE_MAX_MSUBS) {
		r->status = -ENOSPC;
		r->error = "too many membership subscriptions on this node";
		return;
	}
	if (n->meta_sub == NULL) {
		n->meta_sub = mesh_crdt_sub_new(n->kv, META_PREFIX, META_PREFIX_LEN,
						META_SUB_CAP, 0);
		n->meta_dropped_seen = 0;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL || n->meta_sub == NULL) {
		free(m);
		r->status = -ENOMEM;
		r->error = "out of memory";
		return;
	}
	m->id = n->next_sub_id++;
	m->client = q->client;
	m->client_gen = q->client_gen;
	n->msubs[slot] = m;
	n->n_msubs++;
	r->type = MESH_NODE_REPLY_SUBSCRIBE;
	r->subscription = m->id;
}

void
node_mev_snapshot(struct mesh_node *n, uint64_t id)
{
	struct node_msub *m = NULL;
	struct mesh_swim_member_info mi;
	size_t total = mesh_swim_member_count(n->swim, 0);

	for (unsigned i = 0; i < NODE_MAX_MSUBS && m == NULL; i++)
		if (n->msubs[i] != NULL && n->msubs[i]->id == id)
			m = n->msubs[i];
	if (m == NULL)
		return;
	for (size_t i = 0; i <= total; i++) { /* self first */
		struct mev e;

		if (i == 0)
			mesh_swim_self(n->swim, &mi);
		else if (mesh_swim_member_at(n->swim, i - 1, &mi) < 0)
			break;
		e = mev_of(MESH_NODE_MEMBER_JOIN, &mi);
		send_event(n, m, &e);
	}
}

static void
msub_close(struct mesh_node *n, unsigned i)
{
	free(n->msubs[i]);
	n->msubs[i] = NULL;
	if (--n->n_msubs == 0) {
		mesh_crdt_sub_delete(n->meta_sub);
		n->meta_sub = NULL;
	}
}

bool
node_mev_drop(struct mesh_node *n, uint32_t client, uint32_t gen, uint64_t id)
{
	bool found = false;

	for (unsigned i = 0; i < NODE_MAX_MSUBS; i++) {
		struct node_msub *m = n->msubs[i];

		if (m == NULL || m->client != client || m->client_gen != gen ||
		    (id != 0 && m->id != id))
			continue;
		msub_close(n, i);
		found = true;
	}
	return found;
}

void
node_mev_fini(struct mesh_node *n)
{
	for (unsigned i = 0; i < NODE_MAX_MSUBS; i++)
		if (n->msubs[i] != NULL)
			msub_close(n, i);
}
