/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient's I/O core, shared by the sync and async calls. The socket is
 * non-blocking: a request the socket has no room for waits in an in-library queue (sent
 * by the next pump), and a pump reads every reply ready and routes it: an event or a
 * membership event to the bounded event queue, the sync call's reply to that call, an
 * async request's reply to the rx list whose callbacks mc_dispatch() runs; a reply nobody
 * waits for and one that does not decode are dropped and counted. Async requests live in
 * an open table indexed by id (ids rise, so the table only grows when very old requests
 * are still in flight).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mesh_client_internal.h"

int64_t
mc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const error_names[] = {
	"OK", "NOT_FOUND", "NO_NAMESPACE", "WRONG_KIND", "INVALID", "TOO_LARGE", "NO_SPACE",
	"QUOTA", "BUSY", "BAD_MESSAGE", "UNREACHABLE", "UNSUPPORTED", "VALUE_TOO_BIG",
	"NO_BUFFERS", "RESERVED", "STALE", "INTERNAL",
};

const char *
mesh_client_error_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(error_names) / sizeof(error_names[0]))
		return "UNKNOWN";
	return error_names[code];
}

int
mesh_client_error_from_errno(int err)
{
	switch (-err) {
	case 0: return MESH_CLIENT_OK;
	case ENOENT: return MESH_CLIENT_E_NOT_FOUND;
	case ENXIO: return MESH_CLIENT_E_NO_NAMESPACE;
	case EPROTOTYPE: return MESH_CLIENT_E_WRONG_KIND;
	case EINVAL: return MESH_CLIENT_E_INVALID;
	case EMSGSIZE: return MESH_CLIENT_E_TOO_LARGE;
	case ENOSPC: return MESH_CLIENT_E_NO_SPACE;
	case EDQUOT: return MESH_CLIENT_E_QUOTA;
	case EBUSY: return MESH_CLIENT_E_BUSY;
	case EBADMSG: return MESH_CLIENT_E_BAD_MESSAGE;
	case EHOSTUNREACH: return MESH_CLIENT_E_UNREACHABLE;
	case EOPNOTSUPP: return MESH_CLIENT_E_UNSUPPORTED;
	case EFBIG: return MESH_CLIENT_E_VALUE_TOO_BIG;
	case ENOBUFS: return MESH_CLIENT_E_NO_BUFFERS;
	case EPERM: return MESH_CLIENT_E_RESERVED;
	case ESTALE: return MESH_CLIENT_E_STALE;
	default: return MESH_CLIENT_E_INTERNAL;
	}
}

int
mesh_client_error_code(const struct mesh_client *c)
{
	return c->code;
}

int
mc_refusal(struct mesh_client *c, const Mesh__Client__Response *r)
{
	int ret = r->status < 0 ? r->status : -EPROTO;

	snprintf(c->error, sizeof(c->error), "%s", r->error ? r->error : "");
	c->code = r->code != 0 ? (int)r->code : mesh_client_error_from_errno(ret);
	return ret;
}

/* ---- pending async requests */

static struct mc_pending *
pending_find(const struct mesh_client *c, uint64_t id)
{
	struct mc_pending *p;

	if (c->pend_cap == 0 || id == 0)
		return NULL;
	p = &c->pend[id & (c->pend_cap - 1)];
	return p->id == id ? p : NULL;
}

static int
pending_grow(struct mesh_client *c)
{
	size_t cap = c->pend_cap ? c->pend_cap * 2 : 1024;

	for (; cap <= MESH_CLIENT_MAX_INFLIGHT; cap *= 2) {
		struct mc_pending *t = calloc(cap, sizeof(*t));
		bool clash = false;

		if (t == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->pend_cap && !clash; i++) {
			struct mc_pending *d;

			if (c->pend[i].id == 0)
				continue;
			d = &t[c->pend[i].id & (cap - 1)];
			clash = d->id != 0;
			*d = c->pend[i];
		}
		if (clash) {
			free(t);
			continue;
		}
		free(c->pend);
		c->pend = t;
		c->pend_cap = cap;
		return 0;
	}
	return -ENOBUFS;
}

int
mc_pending_add(struct mesh_client *c, uint64_t id, mesh_client_cb cb, void *arg)
{
	if (c->pend_n >= MESH_CLIENT_MAX_INFLIGHT)
		return -ENOBUFS;
	while (c->pend_cap == 0 || c->pend[id & (c->pend_cap - 1)].id != 0) {
		int ret = pending_grow(c);
		if (ret < 0)
			return ret;
	}
	c->pend[id & (c->pend_cap - 1)] = (struct mc_pending){ .id = id, .cb = cb, .arg = arg };
	c->pend_n++;
	return 0;
}

void
mc_pending_remove(struct mesh_client *c, uint64_t id)
{
	struct mc_pending *p = pending_find(c, id);

	if (p != NULL) {
		p->id = 0;
		c->pend_n--;
	}
}

size_t
mesh_client_pending(const struct mesh_client *c)
{
	return c->pend_n;
}

uint64_t
mesh_client_dropped_replies(const struct mesh_client *c)
{
	return c->bad_replies + c->late_replies;
}

bool
mesh_client_want_write(const struct mesh_client *c)
{
	return c->out_head != NULL;
}

/* ---- sending */

static int
flush(struct mesh_client *c)
{
	while (c->out_head != NULL) {
		struct mc_out *o = c->out_head;

		if (send(c->fd, o->data, o->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			return -errno;
		}
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		c->out_n--;
		free(o);
	}
	return 0;
}

int
mc_send(struct mesh_client *c, Mesh__Client__Request *req)
{
	size_t len = mesh__client__request__get_packed_size(req);
	struct mc_out *o;

	if (c->dead)
		return c->dead;
	if (len > MESH_CLIENT_MAX_MSG) {
		snprintf(c->error, sizeof(c->error), "request of %zu bytes exceeds %d", len,
			 MESH_CLIENT_MAX_MSG);
		c->code = MESH_CLIENT_E_TOO_LARGE;
		return -EMSGSIZE;
	}
	if (c->out_head == NULL) {
		mesh__client__request__pack(req, c->buf);
		if (send(c->fd, c->buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
	}
	o = malloc(sizeof(*o) + len);
	if (o == NULL)
		return -ENOMEM;
	o->next = NULL;
	o->len = mesh__client__request__pack(req, o->data);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_n++;
	return 0;
}

/* ---- receiving */

void
mc_qent_free(struct mc_qent *q)
{
	if (q->r != NULL)
		mesh__client__response__free_unpacked(q->r, NULL);
	q->r = NULL;
}

void
mc_event_queue(struct mesh_client *c, Mesh__Client__Response *r, uint64_t sub, int kind)
{
	bool full = c->ev_count == MC_EVENT_QUEUE;

	/* full: a watch's event is dropped itself (counted after the last one kept, so the
	 * watch's cursor can move up to there); any other drops the oldest */
	if (r != NULL && kind == MESH_CLIENT_EVENT_CHANGE && mc_watch_queue(c, r->event, full)) {
		c->events[(c->ev_head + c->ev_count - 1) % MC_EVENT_QUEUE].lost_after++;
		mesh__client__response__free_unpacked(r, NULL);
		return;
	}
	if (full) {
		struct mc_qent *old = &c->events[c->ev_head];

		mc_watch_lost(c, old->sub);
		c->ev_lost += 1 + old->lost_after;
		mc_qent_free(old);
		c->ev_head = (c->ev_head + 1) % MC_EVENT_QUEUE;
		c->ev_count--;
	}
	c->events[(c->ev_head + c->ev_count) % MC_EVENT_QUEUE] =
		(struct mc_qent){ .r = r, .sub = sub, .kind = kind };
	c->ev_count++;
}

static void
route(struct mesh_client *c, Mesh__Client__Response *r)
{
	if (r->id == 0 && r->result_case == MESH__CLIENT__RESPONSE__RESULT_EVENT) {
		mc_event_queue(c, r, r->event->subscription, MESH_CLIENT_EVENT_CHANGE);
		return;
	} else if (r->id == 0 && r->result_case == MESH__CLIENT__RESPONSE__RESULT_MEMBER_EVENT) {
		mc_event_queue(c, r, r->member_event->subscription, MESH_CLIENT_EVENT_MEMBER);
		return;
	} else if (r->id != 0 && r->id == c->sync_id && c->sync_resp == NULL) {
		c->sync_resp = r;
		return;
	} else if (pending_find(c, r->id) != NULL) {
		struct mc_rx *x = malloc(sizeof(*x));

		if (x != NULL) {
			x->next = NULL;
			x->r = r;
			if (c->rx_tail != NULL)
				c->rx_tail->next = x;
			else
				c->rx_head = x;
			c->rx_tail = x;
			return;
		}
		c->late_replies++; /* no memory: the request completes as lost below */
	} else {
		c->late_replies++; /* a late reply to a sync call that timed out */
	}
	mesh__client__response__free_unpacked(r, NULL);
}

/* Read every message ready. 1 if any was read, 0 if none, or a negative errno. */
static int
read_ready(struct mesh_client *c)
{
	int got = 0;

	for (unsigned i = 0; i < 4096; i++) { /* then let the caller run its callbacks */
		Mesh__Client__Response *r;
		ssize_t n = recv(c->fd, c->buf, MESH_CLIENT_MAX_MSG, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return got;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET; /* meshd went away */
		got = 1;
		r = mesh__client__response__unpack(NULL, (size_t)n, c->buf);
		if (r == NULL) {
			c->bad_replies++;
			continue;
		}
		route(c, r);
		if (c->sync_resp != NULL)
			return got; /* the sync caller's reply: let it go on */
	}
	return got;
}

int
mc_pump(struct mesh_client *c, int timeout_ms)
{
	int64_t deadline = mc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (c->dead)
		return c->dead;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int ret = flush(c), left;

		if (ret == 0)
			ret = read_ready(c);
		if (ret < 0) {
			c->dead = ret;
			return ret;
		}
		if (ret > 0 || timeout_ms == 0)
			return 0;
		if (c->out_head != NULL)
			p.events |= POLLOUT;
		left = timeout_ms < 0 ? -1 : (int)(deadline > mc_now_ms() ? deadline - mc_now_ms() : 0);
		if (left == 0 && timeout_ms > 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret == 0)
			return -ETIMEDOUT;
		if (p.revents & POLLOUT && !(p.revents & POLLIN)) {
			ret = flush(c);
			if (ret < 0) {
				c->dead = ret;
				return ret;
			}
		}
	}
}

int
mc_call(struct mesh_client *c, Mesh__Client__Request *req, Mesh__Client__Response **out)
{
	int64_t deadline;
	int ret;

	c->error[0] = '\0';
	c->code = MESH_CLIENT_OK;
	req->id = c->next_id++;
	c->sync_id = req->id;
	c->sync_resp = NULL;
	ret = mc_send(c, req);
	deadline = mc_now_ms() + c->timeout_ms;
	while (ret == 0 && c->sync_resp == NULL) {
		int64_t left = deadline - mc_now_ms();

		if (c->timeout_ms >= 0 && left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = mc_pump(c, c->timeout_ms < 0 ? -1 : (int)left);
	}
	c->sync_id = 0;
	if (c->sync_resp == NULL)
		return ret < 0 ? ret : -EPROTO;
	*out = c->sync_resp;
	c->sync_resp = NULL;
	if ((*out)->status != 0) {
		ret = mc_refusal(c, *out);
		mesh__client__response__free_unpacked(*out, NULL);
		*out = NULL;
		return ret;
	}
	return 0;
}

int
mc_call_simple(struct mesh_client *c, Mesh__Client__Request *req)
{
	Mesh__Client__Response *r;
	int ret = mc_call(c, req, &r);

	if (ret == 0)
		mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

/* ---- async completions */

static void
fill_result(struct mesh_client_result *o, int status, int code, bool found,
	    ProtobufCBinaryData v, uint64_t ts, uint64_t replica)
{
	o->status = status;
	o->code = code != 0 ? code : mesh_client_error_from_errno(status);
	o->found = found;
	o->value = v.data;
	o->value_len = v.len;
	o->timestamp = ts;
	o->replica = replica;
}

static void
complete(struct mesh_client *c, Mesh__Client__Response *r)
{
	struct mc_pending *p = pending_find(c, r->id), done;
	struct mesh_client_reply rep = { .id = r->id, .status = r->status };
	struct mesh_client_result *res = NULL;

	if (p == NULL)
		return; /* cancelled meanwhile */
	done = *p;
	p->id = 0;
	c->pend_n--;
	if (done.cb == NULL)
		return;
	rep.code = r->status == 0 ? 0
		   : r->code != 0 ? (int)r->code : mesh_client_error_from_errno(r->status);
	rep.error = r->error ? r->error : "";
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_GET)
		fill_result(&rep.get, 0, 0, r->get->found, r->get->value, r->get->timestamp,
			    r->get->replica);
	else
		fill_result(&rep.get, r->status, rep.code, false, mc_bin(NULL, 0), 0, 0);
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_BATCH && r->batch->n_results > 0) {
		res = calloc(r->batch->n_results, sizeof(*res));
		if (res == NULL) {
			rep.status = -ENOMEM;
			rep.code = MESH_CLIENT_E_INTERNAL;
			rep.error = "out of memory";
		} else {
			for (size_t i = 0; i < r->batch->n_results; i++) {
				const Mesh__Client__BatchResult *b = r->batch->results[i];
				fill_result(&res[i], b->status, (int)b->code, b->found, b->value,
					    b->timestamp, b->replica);
			}
			rep.results = res;
			rep.n_results = r->batch->n_results;
		}
	}
	done.cb(c, &rep, done.arg);
	free(res);
}

/* The connection ended: every request in flight completes with its errno. */
static int
fail_all(struct mesh_client *c)
{
	int ran = 0;

	for (size_t i = 0; i < c->pend_cap && c->pend_n > 0; i++) {
		struct mc_pending done = c->pend[i];
		struct mesh_client_reply rep = { 0 };

		if (done.id == 0)
			continue;
		c->pend[i].id = 0;
		c->pend_n--;
		rep.id = done.id;
		rep.status = rep.get.status = c->dead;
		rep.code = rep.get.code = MESH_CLIENT_E_INTERNAL;
		rep.error = "connection to meshd lost";
		if (done.cb != NULL) {
			done.cb(c, &rep, done.arg);
			ran++;
		}
	}
	return ran;
}

int
mc_dispatch(struct mesh_client *c)
{
	int ran = 0;

	while (c->rx_head != NULL) {
		struct mc_rx *x = c->rx_head;

		c->rx_head = x->next;
		if (c->rx_head == NULL)
			c->rx_tail = NULL;
		complete(c, x->r);
		mesh__client__response__free_unpacked(x->r, NULL);
		free(x);
		ran++;
	}
	while (c->ev_cb != NULL && c->ev_count > 0) {
		struct mesh_client_event ev;
		int ret = mc_event_take(c, &ev);

		if (ret == -EAGAIN)
			break;
		if (ret < 0)
			continue;
		c->ev_cb(c, &ev, c->ev_arg);
		mesh_client_event_free(&ev);
		ran++;
	}
	return ran;
}

int
mesh_client_process(struct mesh_client *c)
{
	int ret = mc_pump(c, 0), ran;

	ran = mc_dispatch(c);
	if (c->dead) {
		fail_all(c);
		return c->dead;
	}
	return ret < 0 && ret != -ETIMEDOUT ? ret : ran;
}

int
mesh_client_wait(struct mesh_client *c, int timeout_ms)
{
	if (c->rx_head == NULL && (c->ev_cb == NULL || c->ev_count == 0) && !c->dead) {
		int ret = mc_pump(c, timeout_ms);

		if (ret < 0 && ret != -ETIMEDOUT && !c->dead)
			return ret;
	}
	return mesh_client_process(c);
}

void
mesh_client_event_cb_set(struct mesh_client *c, mesh_client_event_cb cb, void *arg)
{
	c->ev_cb = cb;
	c->ev_arg = arg;
}
