/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread and its two rings. The thread sleeps in epoll on the listening
 * socket, the clients, the Prometheus listener and an eventfd the merge lcore writes when
 * it queued replies. It never touches protocol state: malformed input is answered here
 * (error reply, counted), everything else goes to the merge lcore; a full ring answers
 * -EBUSY instead of blocking anyone. Client slots carry a generation so that a late reply
 * never reaches a newer client. The Prometheus endpoint has its own thread (ctl_metrics.c).
 *
 * Bounds (doc/security.md, "Local surfaces"): a slow reader gets its events queued within
 * 3/4 of CTL_OUTQ messages and client_out_max bytes (an empty queue takes one message of
 * any size, so a large value reaches a reader that keeps up), its replies within CTL_OUTQ
 * and a quarter more bytes; all clients' queued output and values in parts stay within
 * clients_max_bytes (a quarter more for replies). An event over a cap is dropped and
 * its loss reported in the subscription's next Event.dropped, like the events the ring
 * from the merge lcore refused; a reply over a cap disconnects the client (it sends and
 * does not read). Every drop and disconnect is counted.
 *
 * Where it runs: on the EAL's control-thread CPUs (those without an lcore), except in the
 * event poll mode, where meshd moves it onto the merge lcore's CPUs
 * (mesh_ctl_thread_share_lcore). A request crosses this thread and the merge lcore twice
 * (request ring + eventfd, reply ring + eventfd); on two CPUs each crossing wakes a
 * sleeping CPU, which on a virtual machine costs tens of us (an IPI and a vCPU exit), on
 * one CPU it is a switch between two threads.
 */
#include <errno.h>
#include <grp.h>
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
#include <rte_ring.h>

#include "ctl_internal.h"
#include "mesh_client.h"
#include "mesh_common_dpdk.h"

#define RING_SIZE 1024
#define EV_LISTEN (-1)
#define EV_WAKE (-2)
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
drop_outq(struct mesh_ctl *c, struct ctl_client *cl)
{
	while (cl->out_n > 0) {
		free(cl->outq[cl->out_head]);
		cl->out_head = (cl->out_head + 1) % CTL_OUTQ;
		cl->out_n--;
	}
	c->bytes -= cl->out_bytes;
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
		c->bytes -= o->len;
		free(o);
		cl->out_head = (cl->out_head + 1) % CTL_OUTQ;
		cl->out_n--;
	}
	want_writable(c, slot, 0);
}

int
ctl_out_admit(struct mesh_ctl *c, unsigned slot, size_t bytes, unsigned msgs, bool reply)
{
	const struct ctl_client *cl = &c->clients[slot];
	/* replies have a quarter more room than events: a watcher that fell behind on its
	 * events still gets its replies */
	uint64_t out_max = reply ? c->out_max + c->out_max / 4 : c->out_max;
	uint64_t total_max = reply ? c->total_max + c->total_max / 4 : c->total_max;
	unsigned n_max = reply ? CTL_OUTQ : CTL_OUTQ - CTL_OUTQ / 4;

	if (cl->out_n + msgs > n_max || (cl->out_n > 0 && cl->out_bytes + bytes > out_max))
		return MESH_CTR_ctl_out_drop_client_cap;
	if (c->bytes + bytes > total_max)
		return MESH_CTR_ctl_out_drop_global_cap;
	return 0;
}

/* Send @r to @slot, or queue it when the socket is full: a reply (@capped) within the
 * caps, or an event's part already admitted (ctl_out_admit) within CTL_OUTQ. */
static void
send_or_queue(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r, bool capped)
{
	struct ctl_client *cl = &c->clients[slot];
	Mesh__Client__Response coded = *r;
	size_t len;
	struct ctl_out *o;
	int why;

	coded.code = ctl_error_code(r->status); /* every response: the errno as an Error */
	r = &coded;
	len = mesh__client__response__get_packed_size(r);

	if (cl->doomed)
		return;
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
	why = ctl_out_admit(c, slot, o->len, 1, true);
	if (why != 0 && (capped || cl->out_n == CTL_OUTQ)) {
		/* a reply lost: the client sends and does not read; it goes */
		mesh_counter_add(&ctl_row(c, 0)[why], 1);
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_slow_disconnects], 1);
		MESH_RTE_LOG(DEBUG, app, "client %u (pid %d) disconnected: its output reached "
			     "its cap (%zu bytes queued)", slot, cl->pid, cl->out_bytes);
		cl->doomed = c->doomed = true;
		free(o);
		return;
	}
	cl->outq[(cl->out_head + cl->out_n) % CTL_OUTQ] = o;
	cl->out_n++;
	cl->out_bytes += o->len;
	c->bytes += o->len;
	if (cl->out_n == 1)
		want_writable(c, slot, 1);
}

void
ctl_send_response(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r)
{
	if (mesh__client__response__get_packed_size(r) > MESH_CLIENT_MAX_MSG) {
		Mesh__Client__Response e = MESH__CLIENT__RESPONSE__INIT;

		e.id = r->id;
		e.status = -EMSGSIZE;
		e.error = (char *)"reply larger than the client protocol allows";
		send_or_queue(c, slot, &e, true);
		return;
	}
	send_or_queue(c, slot, r, true);
}

void
ctl_send_admitted(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r)
{
	send_or_queue(c, slot, r, false);
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

	drop_outq(c, cl);
	ctl_parts_free(c, &cl->parts);
	memset(&cl->lost, 0, sizeof(cl->lost));
	cl->doomed = false;
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
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);
	int sndbuf = 2 * MESH_CLIENT_MAX_MSG;

	if (fd < 0)
		return;
	/* a reply may fill a whole client message (MESH_CLIENT_MAX_MSG, e.g. a BATCH of
	 * GETs): under the default send buffer (wmem_default, often 208 KiB) the kernel
	 * refuses such a message with EMSGSIZE; FORCE passes wmem_max where we may */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->clients[i];

		if (cl->fd >= 0)
			continue;
		cl->fd = fd;
		cl->pid = (int)cred.pid;
		cl->uid = (int)cred.uid;
		cl->gid = (int)cred.gid;
		ev.data.u64 = i;
		epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_accepted], 1);
		MESH_RTE_LOG(DEBUG, app, "client %u connected: pid %d uid %d gid %d", i, cl->pid,
			     cl->uid, cl->gid);
		return;
	}
	MESH_RTE_LOG(DEBUG, app, "client refused (every slot in use): pid %d uid %d gid %d",
		     (int)cred.pid, (int)cred.uid, (int)cred.gid);
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_refused_full], 1);
	{
		Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
		uint8_t buf[128];

		r.status = -EUSERS;
		r.code = ctl_error_code(r.status);
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

/* Close the clients that went over their output cap in this pass. */
static void
close_doomed(struct mesh_ctl *c)
{
	c->doomed = false;
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].doomed)
			client_close(c, i);
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

			if (c->doomed)
				close_doomed(c);
			if (tag == EV_LISTEN)
				accept_client(c);
			else if (tag == EV_WAKE)
				deliver_replies(c);
			else if (c->clients[tag].fd < 0)
				continue; /* closed earlier in this batch */
			else if (evs[i].events & (EPOLLHUP | EPOLLERR))
				client_close(c, (unsigned)tag);
			else {
				if (evs[i].events & EPOLLOUT)
					flush_client(c, (unsigned)tag);
				if (evs[i].events & EPOLLIN)
					client_input(c, (unsigned)tag);
			}
		}
		if (c->doomed)
			close_doomed(c);
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
	bool event = r->type == MESH_NODE_REPLY_EVENT || r->type == MESH_NODE_REPLY_MEMBER_EVENT;
	struct ctl_lost *lost = NULL;
	uint64_t owed = 0;

	if (event && r->client < CTL_MAX_CLIENTS) {
		lost = &c->merge_lost[r->client];
		if (lost->gen != r->client_gen) /* a new client in the slot: nothing owed */
			*lost = (struct ctl_lost){ .gen = r->client_gen };
		owed = copy != NULL ? ctl_lost_take(lost, r->subscription) : 0;
		if (copy != NULL)
			copy->dropped += owed;
	}
	if (copy == NULL || mesh_handoff_put_ptrs(&c->to_ctl, (void *const *)&copy, 1) != 1) {
		/* this event and what it carried are owed to the subscription's next one */
		if (lost != NULL)
			ctl_lost_add(lost, r->subscription,
				     1 + (copy != NULL ? copy->dropped : r->dropped));
		free(copy);
		mesh_counter_add(&row[event ? MESH_CTR_ctl_event_drops
					    : MESH_CTR_ctl_response_drops], 1);
		return;
	}
	mesh_counter_add(&row[MESH_CTR_ctl_events_lost_reported], owed);
	c->kick = true;
}

bool
mesh_ctl_merge_client_busy(const struct mesh_ctl *c, uint32_t client, uint32_t gen)
{
	const struct ctl_client *cl;

	if (client >= CTL_MAX_CLIENTS)
		return false;
	cl = &c->clients[client];
	/* the control thread's fields, read without a lock: a stale answer only delays a
	 * slice by one pass or lets one more in, and the caps still hold */
	if (__atomic_load_n(&cl->gen, __ATOMIC_RELAXED) != gen)
		return false;
	return rte_ring_free_count(c->to_ctl.ring) < 2 * MESH_CTL_BUSY_SLICE ||
	       __atomic_load_n(&cl->out_n, __ATOMIC_RELAXED) > CTL_OUTQ / 4 ||
	       __atomic_load_n(&cl->out_bytes, __ATOMIC_RELAXED) > c->out_max / 4;
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

int
mesh_ctl_thread_share_lcore(struct mesh_ctl *c, unsigned lcore_id)
{
	rte_cpuset_t cpus;

	if (lcore_id >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore_id) || c->thread == 0)
		return -EINVAL;
	cpus = rte_lcore_cpuset(lcore_id);
	return -pthread_setaffinity_np(c->thread, sizeof(cpus), &cpus);
}

/* ---------------------------------------------------------------- life */

/* The socket's mode and group, set before listen(): nobody can connect through the path
 * before they hold (chmod/chown on the path; a socket fd's fchmod does not reach it). */
static int
socket_access(const char *path, const struct mesh_ctl_cfg *cfg)
{
	uint32_t mode = cfg->socket_mode != 0 ? cfg->socket_mode : MESH_CTL_SOCKET_MODE;
	bool named = cfg->socket_group != NULL && cfg->socket_group[0] != '\0';
	const char *group = named ? cfg->socket_group : MESH_CTL_SOCKET_GROUP;
	struct stat st;
	uint32_t gid;

	if (chmod(path, (mode_t)mode) < 0) {
		int err = errno;

		MESH_RTE_LOG(ERR, app, "control socket %s: chmod %04o: %s", path, mode,
			     strerror(err));
		return -err;
	}
	if (mesh_ctl_group_lookup(group, &gid) < 0) {
		if (!named) /* no meshd group here: the process's group stays */
			return 0;
		MESH_RTE_LOG(ERR, app, "control socket %s: no group %s", path, group);
		return -ENOENT;
	}
	/* already ours (the process's group, e.g. systemd's Group=): no chown, which needs
	 * CAP_CHOWN for a group we are not in and which seccomp filters may refuse */
	if ((stat(path, &st) < 0 || st.st_gid != (gid_t)gid) &&
	    chown(path, (uid_t)-1, (gid_t)gid) < 0) {
		int err = errno;

		if (!named) {
			MESH_RTE_LOG(WARNING, app, "control socket %s: group %s: %s", path, group,
				     strerror(err));
			return 0;
		}
		MESH_RTE_LOG(ERR, app, "control socket %s: group %s: %s (without CAP_CHOWN, "
			     "run meshd with that group, e.g. systemd's Group=)", path, group,
			     strerror(err));
		return -err;
	}
	MESH_RTE_LOG(INFO, app, "control socket %s: mode %04o, group %s", path, mode, group);
	return 0;
}

static int
make_socket(struct mesh_ctl *c, const struct mesh_ctl_cfg *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = cfg->socket_path;
	char dir[sizeof(c->path)];
	char *slash;
	int ret;

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
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		MESH_RTE_LOG(ERR, app, "control socket %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = socket_access(path, cfg);
	if (ret == 0 && listen(c->listen_fd, 16) < 0) {
		ret = -errno;
		MESH_RTE_LOG(ERR, app, "control socket %s: %s", path, strerror(-ret));
	}
	return ret;
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
	int ret = mesh_counters_create(&c->ctr, ctl_names, ctl_descs, MESH_CTL_CTR_MAX, 3);
	char warn[512];

	if (ret == 0)
		ret = mesh_handoff_create_ptr(&c->to_merge, "ctl_merge", RING_SIZE, socket_id,
					      false, free);
	if (ret == 0)
		ret = mesh_handoff_create_ptr(&c->to_ctl, "merge_ctl", RING_SIZE, socket_id,
					      false, free);
	if (ret == 0)
		ret = make_socket(c, cfg);
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
		c->metrics = ctl_metrics_start(cfg->metrics, ctl_row(c, 2));
		if (c->metrics == NULL)
			return -errno;
	}
	c->out_max = cfg->client_out_max ? cfg->client_out_max : MESH_CTL_CLIENT_OUT_MAX;
	c->parts_max = cfg->client_parts_max ? cfg->client_parts_max : MESH_CTL_CLIENT_PARTS_MAX;
	c->total_max = cfg->clients_max_bytes ? cfg->clients_max_bytes
					      : MESH_CTL_CLIENTS_MAX_BYTES;
	if (mesh_ctl_cfg_warnings(cfg, warn, sizeof(warn)) > 0)
		for (char *sv, *line = strtok_r(warn, "\n", &sv); line != NULL;
		     line = strtok_r(NULL, "\n", &sv))
			MESH_RTE_LOG(WARNING, app, "%s", line);
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
	c->listen_fd = c->epoll_fd = c->event_fd = c->merge_fd = -1;
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
	ctl_metrics_stop(c->metrics);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		drop_outq(c, &c->clients[i]);
		ctl_parts_free(c, &c->clients[i].parts);
		if (c->clients[i].fd >= 0)
			close(c->clients[i].fd);
	}
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
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
