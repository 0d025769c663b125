/* SPDX-License-Identifier: BSD-3-Clause */
/* libmeshclient internals shared by its files: the connection and its I/O core. */
#ifndef MESH_CLIENT_INTERNAL_H
#define MESH_CLIENT_INTERNAL_H

#include "client.pb-c.h"
#include "mesh_client.h"

#define MC_EVENT_QUEUE 256

/* an async request waiting for its reply */
struct mc_pending {
	uint64_t id; /* 0: free slot */
	mesh_client_cb cb;
	void *arg;
};

/* an encoded request the socket had no room for yet */
struct mc_out {
	struct mc_out *next;
	size_t len;
	uint8_t data[];
};

/* a reply read but not yet handed to its callback */
struct mc_rx {
	struct mc_rx *next;
	Mesh__Client__Response *r;
};

/* a queued event: a Response holding an Event or a MemberEvent, or a marker the library
 * made (r NULL: kind is MESH_CLIENT_EVENT_SNAPSHOT_END or _MISSED of watch sub) */
struct mc_qent {
	Mesh__Client__Response *r;
	uint64_t sub;
	int kind;
	uint64_t lost_after; /* events dropped right after this one (a full queue) */
};

/* what the library knows of one watch (mesh_client_watch.c) */
struct mc_watch {
	uint64_t id;
	bool members;    /* a membership watch: no cursor */
	bool frozen;     /* an event was lost: the cursor stays at most at limit */
	uint64_t limit;
	uint64_t start;  /* WatchResp.seq: the node's seq when the watch began */
	uint64_t queued; /* the cursor once every event queued is taken */
	struct mesh_client_cursor cur;
};

struct mesh_client {
	int fd;
	int timeout_ms;
	uint64_t next_id;
	char error[256];
	int code; /* enum mesh_client_error of the last refusal */
	uint8_t *buf; /* MESH_CLIENT_MAX_MSG, receive buffer */
	struct mc_qent events[MC_EVENT_QUEUE];
	unsigned ev_head, ev_count;
	uint64_t ev_lost;
	struct mc_watch *watches; /* open watches (mesh_client_watch.c) */
	size_t n_watches, cap_watches;
	/* reassembly of a large event value sent in parts */
	struct mesh_client_event part;
	size_t part_total, part_got;
	/* the synchronous call in progress */
	uint64_t sync_id;
	Mesh__Client__Response *sync_resp;
	/* async core */
	struct mc_pending *pend; /* open table indexed by id & (pend_cap - 1) */
	size_t pend_cap, pend_n;
	struct mc_out *out_head, *out_tail;
	size_t out_n;
	struct mc_rx *rx_head, *rx_tail;
	int dead; /* 0, or the negative errno that ended the connection */
	mesh_client_event_cb ev_cb;
	void *ev_arg;
	uint64_t bad_replies; /* replies that did not decode (dropped) */
	uint64_t late_replies; /* replies nobody waited for (dropped) */
	bool hello_done;
	struct mesh_client_hello hello;
};

/** Encode @req (its id set by the caller) and send it, or queue it when the socket is full. */
int mc_send(struct mesh_client *c, Mesh__Client__Request *req);
/** Send what is queued, read every reply ready (waiting up to @timeout_ms for the first:
 * 0 = do not wait, -1 = forever) and route them. 0, -ETIMEDOUT or a negative errno. */
int mc_pump(struct mesh_client *c, int timeout_ms);
/** Run the callbacks of replies read so far. Returns how many ran. */
int mc_dispatch(struct mesh_client *c);
/** Send @req and wait for its reply (caller frees it); a refusal is returned as its errno. */
int mc_call(struct mesh_client *c, Mesh__Client__Request *req, Mesh__Client__Response **out);
int mc_call_simple(struct mesh_client *c, Mesh__Client__Request *req);
/** Register an async request. 0 or -ENOBUFS/-ENOMEM. */
int mc_pending_add(struct mesh_client *c, uint64_t id, mesh_client_cb cb, void *arg);
/** Forget an async request (a sync wrapper that gave up). */
void mc_pending_remove(struct mesh_client *c, uint64_t id);
/** Set c->error and c->code from a refused Response. Returns its negative errno. */
int mc_refusal(struct mesh_client *c, const Mesh__Client__Response *r);
int64_t mc_now_ms(void);
void mc_part_reset(struct mesh_client *c);
int mc_event_take(struct mesh_client *c, struct mesh_client_event *ev);
/** Queue a received event (@r holds an Event or a MemberEvent; owned by the queue) or a
 * marker (@r NULL). When the queue is full a watch's event is dropped itself, anything
 * else drops the oldest (mc_watch_queue). */
void mc_event_queue(struct mesh_client *c, Mesh__Client__Response *r, uint64_t sub, int kind);
/** Free a queue entry's message. */
void mc_qent_free(struct mc_qent *q);

/* mesh_client_watch.c */
/** An event of @sub was lost here, after every event of it taken so far: a watch's
 * cursor stops where it is. */
void mc_watch_lost(struct mesh_client *c, uint64_t sub);
/** Event @e is about to be queued (@full: there is no room). Returns true when it must be
 * dropped rather than the oldest event: a watch's event (its cursor then stops after the
 * events of it already queued, which stay contiguous). */
bool mc_watch_queue(struct mesh_client *c, const Mesh__Client__Event *e, bool full);
/** Turn @q (a marker or a MemberEvent) into @ev (frees @q's message). 0 or -ENOMEM. */
int mc_watch_event_take(struct mesh_client *c, struct mc_qent *q, struct mesh_client_event *ev);
/** @ev was made from Event @e: set its watch fields and move the watch's cursor; the
 * last event of a snapshot puts a SNAPSHOT_END marker at the head of the queue. */
void mc_watch_event_seen(struct mesh_client *c, const Mesh__Client__Event *e,
			 struct mesh_client_event *ev);
void mc_watch_fini(struct mesh_client *c);

static inline ProtobufCBinaryData
mc_bin(const void *p, size_t n)
{
	return (ProtobufCBinaryData){ .len = n, .data = (uint8_t *)(uintptr_t)p };
}

#endif /* MESH_CLIENT_INTERNAL_H */
