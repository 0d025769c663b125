/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control thread: serves the local client socket (AF_UNIX SOCK_SEQPACKET, one protobuf
 * Request per message, proto/client.proto). It never touches protocol state: it decodes,
 * rejects malformed input itself (error reply, counted), and forwards the rest to the merge
 * lcore through an SPSC ring; replies and subscription events come back through another
 * ring, signalled by an eventfd. A full ring answers -EBUSY instead of blocking the merge
 * lcore. Client slots carry a generation so a late reply never reaches a newer client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "client.pb-c.h"
#include "mesh_client.h"
#include "mesh_common_dpdk.h"
#include "meshd.h"
#include "meshd_ctl.h"

#define RING_SIZE 1024
#define EV_LISTEN (-1)
#define EV_WAKE (-2)
#define EV_METRICS (-3)
#define METRICS_MAX (256 * 1024)

static const char *const ctl_names[] = { MESHD_CTL_COUNTERS(MESH_COUNTER_NAME) };

static uint64_t *
row(struct meshd_ctl *c)
{
	return mesh_counters_row(&c->ctr, 0);
}

static void
send_error(struct meshd_ctl *c, int fd, uint64_t id, int status, const char *msg)
{
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	uint8_t buf[512];
	size_t len;

	r.id = id;
	r.status = status;
	r.error = (char *)(uintptr_t)msg;
	len = mesh__client__response__get_packed_size(&r);
	if (len > sizeof(buf))
		return;
	mesh__client__response__pack(&r, buf);
	if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_send_errors], 1);
}

static void
forward(struct meshd_ctl *c, unsigned slot, Mesh__Client__Request *req, int closed)
{
	struct meshd_ctl_req *m = calloc(1, sizeof(*m));

	if (m == NULL || rte_ring_sp_enqueue(c->to_merge, m) != 0) {
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_busy], 1);
		if (req != NULL) {
			send_error(c, c->clients[slot].fd, req->id, -EBUSY,
				   "meshd merge core is busy; retry");
			mesh__client__request__free_unpacked(req, NULL);
		}
		free(m);
		return;
	}
	m->client = slot;
	m->client_gen = c->clients[slot].gen;
	m->closed = closed;
	m->req = req;
}

static void drop_outq(struct meshd_ctl *c, unsigned slot);

static void
client_close(struct meshd_ctl *c, unsigned slot)
{
	drop_outq(c, slot);
	epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, c->clients[slot].fd, NULL);
	close(c->clients[slot].fd);
	forward(c, slot, NULL, 1); /* drop its subscriptions on the merge lcore */
	c->clients[slot].fd = -1;
	c->clients[slot].gen++;
}

static void
client_input(struct meshd_ctl *c, unsigned slot, uint8_t *buf)
{
	Mesh__Client__Request *req;
	ssize_t n = recv(c->clients[slot].fd, buf, MESH_CLIENT_MAX_MSG, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c, slot);
		return;
	}
	mesh_counter_add(&row(c)[MESHD_CTR_ctl_requests], 1);
	req = mesh__client__request__unpack(NULL, (size_t)n, buf);
	if (req == NULL) {
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_bad_requests], 1);
		send_error(c, c->clients[slot].fd, 0, -EBADMSG,
			   "malformed request (not a mesh.client.Request)");
		return;
	}
	if (req->op_case == MESH__CLIENT__REQUEST__OP__NOT_SET) {
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_bad_requests], 1);
		send_error(c, c->clients[slot].fd, req->id, -EINVAL, "request names no operation");
		mesh__client__request__free_unpacked(req, NULL);
		return;
	}
	forward(c, slot, req, 0);
}

static void
accept_client(struct meshd_ctl *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return;
	for (unsigned i = 0; i < MESHD_CTL_MAX_CLIENTS; i++) {
		if (c->clients[i].fd >= 0)
			continue;
		c->clients[i].fd = fd;
		ev.data.u64 = i;
		epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_accepted], 1);
		return;
	}
	mesh_counter_add(&row(c)[MESHD_CTR_ctl_refused_full], 1);
	send_error(c, fd, 0, -EUSERS, "too many meshd clients");
	close(fd);
}

static void
want_writable(struct meshd_ctl *c, unsigned slot, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = slot };

	epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, c->clients[slot].fd, &ev);
}

/* Send queued replies of @slot in order until the socket is full again. */
static void
flush_client(struct meshd_ctl *c, unsigned slot)
{
	__typeof__(c->clients[0]) *cl = &c->clients[slot];

	while (cl->out_n > 0) {
		struct meshd_ctl_resp *r = cl->outq[cl->out_head];

		if (send(cl->fd, r->data, r->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return; /* still full: EPOLLOUT stays armed */
			mesh_counter_add(&row(c)[MESHD_CTR_ctl_send_errors], 1);
		}
		cl->out_bytes -= r->len;
		free(r);
		cl->out_head = (cl->out_head + 1) % MESHD_CTL_OUTQ;
		cl->out_n--;
	}
	want_writable(c, slot, 0);
}

static void
drop_outq(struct meshd_ctl *c, unsigned slot)
{
	__typeof__(c->clients[0]) *cl = &c->clients[slot];

	while (cl->out_n > 0) {
		free(cl->outq[cl->out_head]);
		cl->out_head = (cl->out_head + 1) % MESHD_CTL_OUTQ;
		cl->out_n--;
	}
	cl->out_bytes = 0;
}

/* Send @r now, or queue it behind earlier ones (a slow reader never blocks the thread). */
static void
send_or_queue(struct meshd_ctl *c, struct meshd_ctl_resp *r)
{
	__typeof__(c->clients[0]) *cl = &c->clients[r->client];

	if (cl->fd < 0 || cl->gen != r->client_gen) {
		free(r); /* the client went away */
		return;
	}
	if (cl->out_n == 0 && send(cl->fd, r->data, r->len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
		free(r);
		return;
	}
	if (cl->out_n == 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_send_errors], 1);
		free(r);
		return;
	}
	if (cl->out_n == MESHD_CTL_OUTQ || cl->out_bytes + r->len > MESHD_CTL_OUTQ_BYTES) {
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_send_errors], 1); /* reader too slow */
		free(r);
		return;
	}
	cl->outq[(cl->out_head + cl->out_n) % MESHD_CTL_OUTQ] = r;
	cl->out_n++;
	cl->out_bytes += r->len;
	if (cl->out_n == 1)
		want_writable(c, r->client, 1);
}

static void
deliver_responses(struct meshd_ctl *c)
{
	struct meshd_ctl_resp *r[32];
	unsigned n;
	uint64_t v;

	if (read(c->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	while ((n = rte_ring_sc_dequeue_burst(c->to_ctl, (void **)r, 32, NULL)) > 0)
		for (unsigned i = 0; i < n; i++)
			send_or_queue(c, r[i]);
}

/*
 * One scrape: read the request (bounded by a 200 ms receive timeout, so a silent client
 * cannot hold the thread), answer GET /metrics with the Prometheus text, anything else 404.
 */
static void
serve_metrics(struct meshd_ctl *c)
{
	static char body[METRICS_MAX];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char req[1024], head[160];
	ssize_t n;
	size_t len;
	int fd = accept4(c->metrics_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, req, sizeof(req) - 1, 0);
	if (n <= 0 || (req[n] = '\0', strncmp(req, "GET /metrics", 12) != 0 ||
				     (req[12] != ' ' && req[12] != '?'))) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
		mesh_counter_add(&row(c)[MESHD_CTR_ctl_metrics_bad], 1);
		if (n > 0)
			send(fd, nf, sizeof(nf) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	len = meshd_metrics_render(c->node, body, sizeof(body));
	snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
		 "version=0.0.4\r\nContent-Length: %zu\r\n\r\n", len);
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) > 0)
		send(fd, body, len, MSG_NOSIGNAL);
	mesh_counter_add(&row(c)[MESHD_CTR_ctl_metrics_scrapes], 1);
	close(fd);
}

static int
metrics_listen(struct meshd_ctl *c, const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	char *colon;
	int one = 1;
	long port;

	snprintf(host, sizeof(host), "%s", spec);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -EINVAL;
	*colon = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	c->metrics_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->metrics_fd < 0)
		return -errno;
	setsockopt(c->metrics_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(c->metrics_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->metrics_fd, 8) < 0) {
		int err = errno;
		MESH_RTE_LOG(ERR, app, "metrics listener %s: %s", spec, strerror(err));
		return -err;
	}
	MESH_RTE_LOG(INFO, app, "Prometheus metrics on http://%s/metrics", spec);
	return 0;
}

static void *
ctl_main(void *arg)
{
	struct meshd *d = arg;
	struct meshd_ctl *c = &d->ctl;
	uint8_t *buf = malloc(MESH_CLIENT_MAX_MSG);
	struct epoll_event evs[16];

	while (buf != NULL && !c->stop) {
		int n = epoll_wait(c->epoll_fd, evs, 16, 100);

		for (int i = 0; i < n; i++) {
			int64_t tag = (int64_t)evs[i].data.u64;
			if (tag == EV_LISTEN)
				accept_client(c);
			else if (tag == EV_WAKE)
				deliver_responses(c);
			else if (tag == EV_METRICS)
				serve_metrics(c);
			else if (evs[i].events & (EPOLLHUP | EPOLLERR))
				client_close(c, (unsigned)tag);
			else {
				if (evs[i].events & EPOLLOUT)
					flush_client(c, (unsigned)tag);
				if (evs[i].events & EPOLLIN)
					client_input(c, (unsigned)tag, buf);
			}
		}
	}
	free(buf);
	return NULL;
}

static int
make_socket(struct meshd_ctl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(c->path)];
	char *slash;

	if (strlen(path) >= sizeof(sa.sun_path)) {
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

int
meshd_ctl_start(struct meshd *d, const char *path, const char *metrics)
{
	struct meshd_ctl *c = &d->ctl;
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	memset(c, 0, sizeof(*c));
	c->listen_fd = c->epoll_fd = c->event_fd = c->metrics_fd = -1;
	c->node = d;
	for (unsigned i = 0; i < MESHD_CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	ret = mesh_counters_create(&c->ctr, ctl_names, MESHD_CTL_CTR_MAX, 2);
	if (ret < 0)
		return ret;
	c->to_merge = rte_ring_create("ctl_merge", RING_SIZE, (int)rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	c->to_ctl = rte_ring_create("merge_ctl", RING_SIZE, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (c->to_merge == NULL || c->to_ctl == NULL)
		return -ENOMEM;
	ret = make_socket(c, path);
	if (ret < 0)
		return ret;
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->epoll_fd < 0 || c->event_fd < 0)
		return -errno;
	ev.data.u64 = (uint64_t)(int64_t)EV_LISTEN;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->listen_fd, &ev);
	ev.data.u64 = (uint64_t)(int64_t)EV_WAKE;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->event_fd, &ev);
	if (metrics != NULL && metrics[0] != '\0') {
		ret = metrics_listen(c, metrics);
		if (ret < 0)
			return ret;
		ev.data.u64 = (uint64_t)(int64_t)EV_METRICS;
		epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->metrics_fd, &ev);
	}
	ret = rte_ctrl_thread_create(&c->thread, "meshd-ctl", NULL, ctl_main, d);
	if (ret != 0)
		return -ret;
	MESH_RTE_LOG(INFO, app, "client API on %s", path);
	return 0;
}

void
meshd_ctl_stop(struct meshd *d)
{
	struct meshd_ctl *c = &d->ctl;
	void *m;

	if (c->thread != 0) {
		c->stop = 1;
		pthread_join(c->thread, NULL);
		c->thread = 0;
	}
	for (unsigned i = 0; i < MESHD_CTL_MAX_CLIENTS; i++) {
		drop_outq(c, i);
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
	while (c->to_merge != NULL && rte_ring_dequeue(c->to_merge, &m) == 0) {
		struct meshd_ctl_req *r = m;
		if (r->req != NULL)
			mesh__client__request__free_unpacked(r->req, NULL);
		free(r);
	}
	while (c->to_ctl != NULL && rte_ring_dequeue(c->to_ctl, &m) == 0)
		free(m);
	rte_ring_free(c->to_merge);
	rte_ring_free(c->to_ctl);
	c->to_merge = c->to_ctl = NULL;
}
