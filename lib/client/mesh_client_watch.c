/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient watches (client protocol version 2): WatchReq (a prefix watch with a
 * snapshot or a resume point) and MembersWatchReq (membership events). Their events share
 * the connection's bounded event queue with subscription events (mesh_client_core.c
 * routes Event and MemberEvent messages there) and reach the application through
 * mesh_client_event_next() or the event callback as struct mesh_client_event with a kind.
 *
 * The library keeps one small record per open watch: the node's life (WatchResp
 * generation), the seq the node was at when the watch began, and the cursor: the highest
 * change seq such that every change up to it has been handed to the application. The
 * cursor moves when an event is taken from the queue (not when it is read from the
 * socket), so the cursor an event carries is exactly "everything up to here handled":
 *   live      starts at WatchResp.seq;
 *   resumed   starts at the resume seq;
 *   snapshot  (asked for, or after a refused resume) starts at 0 and follows the snapshot
 *             events (the node sends them in seq order); at the snapshot's end it becomes
 *             at least WatchResp.seq.
 * Events the node marks with snapshot_end are split: the key's CHANGE, then a
 * SNAPSHOT_END event (an empty range sends only the latter). A refused resume (missed) is
 * queued as a MISSED event ahead of the snapshot that follows it.
 *
 * Losses: the queue stays bounded (MC_EVENT_QUEUE). When it is full, a watch's event is
 * the one dropped (not the oldest, as for subscription events): the events of the watch
 * already queued stay contiguous and the count is told with the event after the last one
 * kept. The cursor of a watch that lost an event (here, or the node's Event.dropped, or a
 * value's parts incomplete) never moves past the last event before the loss: resuming
 * from it brings back what was lost, and a backlog larger than the queue still makes
 * progress, a queue-full per resume (keys are state: what comes twice is harmless).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_client_internal.h"

#define MC_MAX_WATCHES 1024u /* per connection; a node serves 256 watches and 64 members watches */

static struct mc_watch *
watch_find(const struct mesh_client *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_watches; i++)
		if (c->watches[i].id == id)
			return &c->watches[i];
	return NULL;
}

static int
watch_add(struct mesh_client *c, const struct mc_watch *w)
{
	if (c->n_watches == c->cap_watches) {
		size_t cap = c->cap_watches ? c->cap_watches * 2 : 8;
		struct mc_watch *t = realloc(c->watches, cap * sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		c->watches = t;
		c->cap_watches = cap;
	}
	c->watches[c->n_watches++] = *w;
	return 0;
}

/* forget watch @id and discard its queued events */
static void
watch_forget(struct mesh_client *c, uint64_t id)
{
	struct mc_watch *w = watch_find(c, id);
	unsigned kept = 0;

	if (w != NULL)
		*w = c->watches[--c->n_watches];
	for (unsigned i = 0; i < c->ev_count; i++) {
		struct mc_qent *q = &c->events[(c->ev_head + i) % MC_EVENT_QUEUE];

		if (q->sub == id) {
			c->ev_lost += q->lost_after; /* other watches' losses */
			mc_qent_free(q);
			continue;
		}
		c->events[(c->ev_head + kept++) % MC_EVENT_QUEUE] = *q;
	}
	c->ev_count = kept;
	if (c->part_total != 0 && c->part.subscription == id)
		mc_part_reset(c);
}

void
mc_watch_fini(struct mesh_client *c)
{
	free(c->watches);
	c->watches = NULL;
	c->n_watches = c->cap_watches = 0;
}

/* the cursor of @w never goes past @at any more */
static void
freeze(struct mc_watch *w, uint64_t at)
{
	if (!w->frozen || at < w->limit)
		w->limit = at;
	w->frozen = true;
}

/* move the cursor of @w to @seq (it never goes back, nor past a loss) */
static void
advance(struct mc_watch *w, uint64_t seq)
{
	if (w->frozen && seq > w->limit)
		seq = w->limit;
	if (seq > w->cur.seq)
		w->cur.seq = seq;
}

void
mc_watch_lost(struct mesh_client *c, uint64_t sub)
{
	struct mc_watch *w = watch_find(c, sub);

	if (w != NULL && !w->members)
		freeze(w, w->cur.seq);
}

bool
mc_watch_queue(struct mesh_client *c, const Mesh__Client__Event *e, bool full)
{
	struct mc_watch *w = watch_find(c, e->subscription);

	if (w == NULL || w->members)
		return false;
	if (full) {
		freeze(w, w->queued);
		return true;
	}
	if (e->seq > w->queued)
		w->queued = e->seq;
	if (e->snapshot_end && w->start > w->queued)
		w->queued = w->start;
	return false;
}

int
mesh_client_watch_open(struct mesh_client *c, const void *prefix, size_t prefix_len,
		       bool snapshot, const struct mesh_client_cursor *resume, uint64_t *watch)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__WatchReq wq = MESH__CLIENT__WATCH_REQ__INIT;
	Mesh__Client__Response *r;
	const Mesh__Client__WatchResp *wr;
	struct mc_watch w = { 0 };
	int ret;

	*watch = 0;
	if (c->n_watches >= MC_MAX_WATCHES)
		return -ENOSPC;
	if (resume != NULL && resume->generation == 0)
		resume = NULL; /* the zero cursor: nothing to resume */
	wq.prefix = mc_bin(prefix, prefix_len);
	wq.snapshot = snapshot;
	if (resume != NULL) {
		wq.resume = true;
		wq.resume_generation = resume->generation;
		wq.resume_seq = resume->seq;
	}
	req.op_case = MESH__CLIENT__REQUEST__OP_WATCH;
	req.watch = &wq;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case != MESH__CLIENT__RESPONSE__RESULT_WATCH || r->watch->subscription == 0) {
		mesh__client__response__free_unpacked(r, NULL);
		return -EPROTO;
	}
	wr = r->watch;
	w.id = wr->subscription;
	w.start = wr->seq;
	w.cur.generation = wr->generation;
	if (wr->resumed && resume != NULL)
		w.cur.seq = resume->seq;
	else if (!wr->missed && !snapshot)
		w.cur.seq = wr->seq;
	w.queued = w.cur.seq;
	ret = watch_add(c, &w);
	if (ret == 0 && wr->missed)
		mc_event_queue(c, NULL, w.id, MESH_CLIENT_EVENT_MISSED);
	mesh__client__response__free_unpacked(r, NULL);
	if (ret < 0) {
		mesh_client_unsubscribe(c, w.id);
		return ret;
	}
	*watch = w.id;
	return 0;
}

int
mesh_client_members_watch_open(struct mesh_client *c, bool snapshot, uint64_t *watch)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__MembersWatchReq mq = MESH__CLIENT__MEMBERS_WATCH_REQ__INIT;
	Mesh__Client__Response *r;
	struct mc_watch w = { .members = true };
	int ret;

	*watch = 0;
	if (c->n_watches >= MC_MAX_WATCHES)
		return -ENOSPC;
	mq.snapshot = snapshot;
	req.op_case = MESH__CLIENT__REQUEST__OP_MEMBERS_WATCH;
	req.members_watch = &mq;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_SUBSCRIBE)
		w.id = r->subscribe->subscription;
	mesh__client__response__free_unpacked(r, NULL);
	if (w.id == 0)
		return -EPROTO;
	ret = watch_add(c, &w);
	if (ret < 0) {
		mesh_client_unsubscribe(c, w.id);
		return ret;
	}
	*watch = w.id;
	return 0;
}

int
mesh_client_watch_close(struct mesh_client *c, uint64_t watch)
{
	int ret = mesh_client_unsubscribe(c, watch);

	watch_forget(c, watch); /* after the reply: no event of it can follow */
	return ret;
}

int
mesh_client_watch_cursor_get(const struct mesh_client *c, uint64_t watch,
			     struct mesh_client_cursor *out)
{
	const struct mc_watch *w = watch_find(c, watch);

	if (w == NULL || w->members)
		return -ENOENT;
	*out = w->cur;
	return 0;
}

/* put a SNAPSHOT_END marker of @sub at the head of the queue (there is room: the event
 * it follows was just taken from it) */
static void
marker_push_front(struct mesh_client *c, uint64_t sub)
{
	if (c->ev_count == MC_EVENT_QUEUE) {
		c->ev_lost++;
		mc_watch_lost(c, sub);
		return;
	}
	c->ev_head = (c->ev_head + MC_EVENT_QUEUE - 1) % MC_EVENT_QUEUE;
	c->events[c->ev_head] =
		(struct mc_qent){ .sub = sub, .kind = MESH_CLIENT_EVENT_SNAPSHOT_END };
	c->ev_count++;
}

void
mc_watch_event_seen(struct mesh_client *c, const Mesh__Client__Event *e,
		    struct mesh_client_event *ev)
{
	struct mc_watch *w = watch_find(c, ev->subscription);

	ev->kind = MESH_CLIENT_EVENT_CHANGE;
	ev->seq = e->seq;
	ev->snapshot = e->snapshot;
	if (w == NULL || w->members)
		return; /* a subscribe event */
	/* the node lost events of this watch before this one (a value in parts: its first
	 * part's count is folded into ev->dropped with the local losses) */
	if (e->dropped > 0 || (e->total_len > 0 && ev->dropped > 0))
		freeze(w, w->cur.seq);
	advance(w, e->seq);
	if (e->snapshot_end) {
		advance(w, w->start);
		if (e->key.len == 0) /* an empty snapshot: the marker alone */
			ev->kind = MESH_CLIENT_EVENT_SNAPSHOT_END;
		else
			marker_push_front(c, w->id);
	}
	ev->cursor = w->cur;
}

static void
member_copy(struct mesh_client_member *o, const Mesh__Client__Member *m)
{
	if (m == NULL)
		return;
	snprintf(o->name, sizeof(o->name), "%s", m->name ? m->name : "");
	snprintf(o->address, sizeof(o->address), "%s", m->address ? m->address : "");
	snprintf(o->status, sizeof(o->status), "%s", m->status ? m->status : "");
	o->incarnation = m->incarnation;
	o->generation = m->generation;
	o->metadata_len = m->metadata.len < sizeof(o->metadata) ? m->metadata.len
								 : sizeof(o->metadata);
	if (o->metadata_len > 0)
		memcpy(o->metadata, m->metadata.data, o->metadata_len);
}

int
mc_watch_event_take(struct mesh_client *c, struct mc_qent *q, struct mesh_client_event *ev)
{
	const struct mc_watch *w = watch_find(c, q->sub);
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	ev->subscription = q->sub;
	ev->kind = q->kind;
	ev->dropped = c->ev_lost;
	c->ev_lost = 0;
	ev->key = calloc(1, 1); /* "" like any event's key and value */
	ev->value = calloc(1, 1);
	if (q->kind == MESH_CLIENT_EVENT_MEMBER) {
		const Mesh__Client__MemberEvent *me = q->r->member_event;

		ev->dropped += me->dropped;
		ev->member_kind = (int)me->kind;
		ev->member = calloc(1, sizeof(*ev->member));
		if (ev->member != NULL)
			member_copy(ev->member, me->member);
	} else if (w != NULL) {
		ev->cursor = w->cur;
	}
	if (ev->key == NULL || ev->value == NULL ||
	    (q->kind == MESH_CLIENT_EVENT_MEMBER && ev->member == NULL)) {
		mesh_client_event_free(ev);
		ret = -ENOMEM;
	}
	mc_qent_free(q);
	return ret;
}

const char *
mesh_client_event_kind_name(int kind)
{
	static const char *const names[] = { "CHANGE", "SNAPSHOT_END", "MISSED", "MEMBER" };

	if (kind < 0 || (size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[kind];
}

const char *
mesh_client_member_kind_name(int kind)
{
	static const char *const names[] = { "JOIN", "ALIVE", "SUSPECT", "DEAD", "LEFT",
					     "METADATA" };

	if (kind < 0 || (size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[kind];
}
