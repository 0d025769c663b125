/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread and its two rings. The thread sleeps in epoll on the listening
 * socket, the clients, the Prometheus listener and an eventfd the merge lcore writes when
 * it queued replies. It never touches protocol state: malformed input is answered here
 * (error reply, counted), everything else goes to the merge lcore; a full ring answers
 * -EBUSY instead of blocking anyone. Client slots carry a generation so that a late reply
 * never reaches a newer client; a slow reader gets its replies queued, within CTL_OUTQ
 * messages and CTL_OUTQ_BYTES, and loses what exceeds that (counted).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "ctl_internal.h"
#include "mesh_client.h"
#include "mesh_common_dpdk.h"

#define RING_SIZE 1024
#define EV_LISTEN (-1)
#define EV_WAKE (-2)
#define EV_METRICS (-3)
#define MERGE_BURST 32

static const char *const ctl_names[] = { MESH_CTL_COUNTERS(MESH_COUNTER_NAME) };
static const char *const ctl_descs[] = { MESH_CTL_COUNTERS(MESH_COUNTER_DESC) };

/* ---------------------------------------------------------------- sending */

static void
want_writable(struct mesh_ctl *c, unsigned slot, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = slot };

	epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, c->clients[slot].fd, &ev);
}

static void
drop_outq(struct ctl_client *cl)
{
	while (cl->out_n > 0) {
		free(cl->outq[cl->out_head]);
		cl->out_head = (cl->out_head + 1) % CTL_OUTQ;
		cl->out_n--;
	}
	cl->out_bytes = 0;
}

/* Send queued replies of @slot in order until the socket is full again. */
static void
flush_client(struct mesh_ctl *c, unsigned slot)
{
	struct ctl_client *cl = &c->clients[slot];

	while (cl->out_n > 0) {
		struct ctl_out *o = cl->outq[cl->out_head];

		if (send(cl->fd, o->data, o->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return; /* still full: EPOLLOUT stays armed */
			mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_send_errors], 1);
		}
		cl->out_bytes -= o->len;
		free(o);
		cl->out_head = (cl->out_head + 1) % CTL_OUTQ;
		cl->out_n--;
	}
	want_writable(c, slot, 0);
}

void
ctl_send_response(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r)
{
	struct ctl_client *cl = &c->clients[slot];
	size_t len = mesh__client__response__get_packed_size(r);
	struct ctl_out *o;

	if (len > MESH_CLIENT_MAX_MSG) {
		Mesh__Client__Response e = MESH__CLIENT__RESPONSE__INIT;

		e.id = r->id;
		e.status = -EMSGSIZE;
		e.error = (char *)"reply larger than the client protocol allows";
		ctl_send_response(c, slot, &e);
		return;
	}
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_responses], 1);
	o = malloc(sizeof(*o) + len);
	if (o == NULL) {
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_response_drops], 1);
		return;
	}
	o->len = (uint32_t)mesh__client__response__pack(r, o->data);
	if (cl->out_n == 0 && send(cl->fd, o->data, o->len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
		free(o);
		return;
	}
	if (cl->out_n == 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_send_errors], 1);
		free(o);
		return;
	}
	if (cl->out_n == CTL_OUTQ || cl->out_bytes + o->len > CTL_OUTQ_BYTES) {
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_response_drops], 1); /* too slow */
		free(o);
		return;
	}
	cl->outq[(cl->out_head + cl->out_n) % CTL_OUTQ] = o;
	cl->out_n++;
	cl->out_bytes += o->len;
	if (cl->out_n == 1)
		want_writable(c, slot, 1);
}

/* ---------------------------------------------------------------- receiving */

static void
forward(struct mesh_ctl *c, unsigned slot, struct ctl_req *q)
{
	static const uint64_t one = 1;

	if (mesh_handoff_put_ptrs(&c->to_merge, (void *const *)&q, 1) == 1) {
		if (write(c->merge_fd, &one, sizeof(one)) < 0) {
			/* saturated: the merge lcore has not drained it, so it is awake */
		}
		return;
	}
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_busy], 1);
	if (q->req.type != MESH_NODE_REQ_CLOSED) {
		Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;

		r.id = q->req.id;
		r.status = -EBUSY;
		r.error = (char *)"meshd merge core is busy; retry";
		ctl_send_response(c, slot, &r);
	}
	free(q);
}

static void
client_close(struct mesh_ctl *c, unsigned slot)
{
	struct ctl_client *cl = &c->clients[slot];
	struct ctl_req *q = calloc(1, sizeof(*q));

	drop_outq(cl);
	ctl_parts_free(&cl->parts);
	epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	if (q != NULL) { /* drop its subscriptions on the merge lcore */
		q->req.type = MESH_NODE_REQ_CLOSED;
		q->req.client = slot;
		q->req.client_gen = cl->gen;
		forward(c, slot, q);
	}
	cl->fd = -1;
	cl->gen++;
}

static void
client_input(struct mesh_ctl *c, unsigned slot)
{
	Mesh__Client__Response err = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__Request *req;
	struct ctl_req *q;
	ssize_t n = recv(c->clients[slot].fd, c->rxbuf, MESH_CLIENT_MAX_MSG, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c, slot);
		return;
	}
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_requests], 1);
	req = mesh__client__request__unpack(NULL, (size_t)n, c->rxbuf);
	if (req == NULL || req->op_case == MESH__CLIENT__REQUEST__OP__NOT_SET) {
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_bad_requests], 1);
		err.id = req != NULL ? req->id : 0;
		err.status = req != NULL ? -EINVAL : -EBADMSG;
		err.error = (char *)(req != NULL ? "request names no operation"
						 : "malformed request (not a mesh.client.Request)");
		ctl_send_response(c, slot, &err);
		mesh__client__request__free_unpacked(req, NULL);
		return;
	}
	q = ctl_codec_request(c, slot, req);
	mesh__client__request__free_unpacked(req, NULL);
	if (q != NULL)
		forward(c, slot, q);
}

static void
accept_client(struct mesh_ctl *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return;
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i].fd >= 0)
			continue;
		c->clients[i].fd = fd;
		ev.data.u64 = i;
		epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_accepted], 1);
		return;
	}
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_refused_full], 1);
	{
		Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
		uint8_t buf[128];

		r.status = -EUSERS;
		r.error = (char *)"too many meshd clients";
		if (mesh__client__response__get_packed_size(&r) <= sizeof(buf))
			send(fd, buf, mesh__client__response__pack(&r, buf),
			     MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

static void
deliver_replies(struct mesh_ctl *c)
{
	struct mesh_node_reply *r[32];
	unsigned n;
	uint64_t v;

	if (read(c->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	while ((n = mesh_handoff_get_ptrs(&c->to_ctl, (void **)r, 32)) > 0)
		for (unsigned i = 0; i < n; i++) {
			ctl_codec_reply(c, r[i]);
			free(r[i]);
		}
}

static void *
ctl_main(void *arg)
{
	struct mesh_ctl *c = arg;
	struct epoll_event evs[16];

	while (!c->stop) {
		int n = epoll_wait(c->epoll_fd, evs, 16, 100);

		for (int i = 0; i < n; i++) {
			int64_t tag = (int64_t)evs[i].data.u64;

			if (tag == EV_LISTEN)
				accept_client(c);
			else if (tag == EV_WAKE)
				deliver_replies(c);
			else if (tag == EV_METRICS)
				ctl_metrics_serve(c);
			else if (evs[i].events & (EPOLLHUP | EPOLLERR))
				client_close(c, (unsigned)tag);
			else {
				if (evs[i].events & EPOLLOUT)
					flush_client(c, (unsigned)tag);
				if (evs[i].events & EPOLLIN)
					client_input(c, (unsigned)tag);
			}
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- merge lcore side */

unsigned
mesh_ctl_merge_poll(struct mesh_ctl *c, struct mesh_node *node, uint64_t now_ns)
{
	struct ctl_req *q[MERGE_BURST];
	struct mesh_node_req reqs[MERGE_BURST];
	unsigned n = mesh_handoff_get_ptrs(&c->to_merge, (void **)q, MERGE_BURST);

	for (unsigned i = 0; i < n; i++)
		reqs[i] = q[i]->req;
	if (n > 0)
		mesh_node_request(node, reqs, n, now_ns);
	for (unsigned i = 0; i < n; i++)
		free(q[i]);
	return n;
}

void
mesh_ctl_merge_reply(struct mesh_ctl *c, const struct mesh_node_reply *r)
{
	struct mesh_node_reply *copy = mesh_node_reply_copy(r);
	uint64_t *row = ctl_row(c, 1);

	if (copy == NULL || mesh_handoff_put_ptrs(&c->to_ctl, (void *const *)&copy, 1) != 1) {
		free(copy);
		mesh_counter_add(&row[r->type == MESH_NODE_REPLY_EVENT ? MESH_CTR_ctl_event_drops
								       : MESH_CTR_ctl_response_drops],
				 1);
		return;
	}
	c->kick = true;
}

void
mesh_ctl_merge_kick(struct mesh_ctl *c)
{
	uint64_t one = 1;

	if (!c->kick)
		return;
	c->kick = false;
	if (write(c->event_fd, &one, sizeof(one)) < 0) {
		/* the eventfd counter saturates only if the control thread is gone */
	}
}

int
mesh_ctl_merge_fd(const struct mesh_ctl *c)
{
	return c->merge_fd;
}

/* ---------------------------------------------------------------- life */

static int
make_socket(struct mesh_ctl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(c->path)];
	char *slash;

	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(c->path)) {
		MESH_RTE_LOG(ERR, app, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755); /* one level, like /run/meshd */
	}
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	unlink(path); /* a stale socket of a previous run */
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->listen_fd, 16) < 0) {
		int err = errno;

		MESH_RTE_LOG(ERR, app, "control socket %s: %s", path, strerror(err));
		return -err;
	}
	return 0;
}

static void
epoll_add(struct mesh_ctl *c, int fd, int64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)tag };

	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int
start(struct mesh_ctl *c, const struct mesh_ctl_cfg *cfg)
{
	int socket_id = (int)rte_socket_id();
	int ret = mesh_counters_create(&c->ctr, ctl_names, ctl_descs, MESH_CTL_CTR_MAX, 2);

	if (ret == 0)
		ret = mesh_handoff_create_ptr(&c->to_merge, "ctl_merge", RING_SIZE, socket_id,
					      false, free);
	if (ret == 0)
		ret = mesh_handoff_create_ptr(&c->to_ctl, "merge_ctl", RING_SIZE, socket_id,
					      false, free);
	if (ret == 0)
		ret = make_socket(c, cfg->socket_path);
	if (ret < 0)
		return ret;
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->merge_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->epoll_fd < 0 || c->event_fd < 0 || c->merge_fd < 0)
		return -errno;
	epoll_add(c, c->listen_fd, EV_LISTEN);
	epoll_add(c, c->event_fd, EV_WAKE);
	if (cfg->metrics != NULL && cfg->metrics[0] != '\0') {
		ret = ctl_metrics_listen(c, cfg->metrics);
		if (ret < 0)
			return ret;
		epoll_add(c, c->metrics_fd, EV_METRICS);
	}
	ret = rte_ctrl_thread_create(&c->thread, "meshd-ctl", NULL, ctl_main, c);
	if (ret != 0)
		return -ret;
	MESH_RTE_LOG(INFO, app, "client API on %s", cfg->socket_path);
	return 0;
}

struct mesh_ctl *
mesh_ctl_start(const struct mesh_ctl_cfg *cfg)
{
	struct mesh_ctl *c = calloc(1, sizeof(*c));
	int ret;

	if (c == NULL)
		return NULL;
	c->listen_fd = c->epoll_fd = c->event_fd = c->metrics_fd = c->merge_fd = -1;
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->rxbuf = malloc(MESH_CLIENT_MAX_MSG);
	ret = c->rxbuf != NULL ? start(c, cfg) : -ENOMEM;
	if (ret < 0) {
		mesh_ctl_stop(c);
		errno = -ret;
		return NULL;
	}
	return c;
}

void
mesh_ctl_stop(struct mesh_ctl *c)
{
	if (c == NULL)
		return;
	if (c->thread != 0) {
		c->stop = 1;
		pthread_join(c->thread, NULL);
	}
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		drop_outq(&c->clients[i]);
		ctl_parts_free(&c->clients[i].parts);
		if (c->clients[i].fd >= 0)
			close(c->clients[i].fd);
	}
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	if (c->metrics_fd >= 0)
		close(c->metrics_fd);
	if (c->event_fd >= 0)
		close(c->event_fd);
	if (c->merge_fd >= 0)
		close(c->merge_fd);
	mesh_handoff_destroy(&c->to_merge);
	mesh_handoff_destroy(&c->to_ctl);
	mesh_counters_destroy(&c->ctr);
	free(c->rxbuf);
	free(c);
}

const struct mesh_counters *
mesh_ctl_counters(const struct mesh_ctl *c)
{
	return &c->ctr;
}
