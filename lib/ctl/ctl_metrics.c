/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `--metrics-listen ADDR:PORT`: a plain HTTP/1.0 endpoint on its own thread serving
 * GET /metrics with the Prometheus text of lib/telemetry (mesh_telemetry_prom_render),
 * and HEAD /metrics with the same headers and no body; anything else gets 404, and a
 * text that outgrew the buffer 500 rather than a cut-off scrape.
 *
 * The thread never blocks on a client and never shares the control thread's loop, so no
 * metrics client can slow put/get/watch. Every socket is non-blocking in one epoll; each
 * connection has METRICS_REQ_MS to send its request headers and METRICS_REPLY_MS to read
 * the reply, then it is closed (counted): a silent or trickling client (slowloris) holds a
 * slot for two seconds at most. At most METRICS_CONNS connections: a new one takes the slot
 * of the oldest that is still sending its request (counted), so idle connections never
 * lock a scraper out; only when every slot is writing a reply is the new one refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "ctl_internal.h"
#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"

#define METRICS_MAX (256 * 1024)
#define METRICS_CONNS 16
#define METRICS_REQ_MAX 2048
#define METRICS_REQ_MS 2000
#define METRICS_REPLY_MS 10000
#define EV_LISTEN UINT64_MAX

struct metrics_conn {
	int fd;                /* -1: free */
	uint64_t deadline_ns;
	uint64_t since_ns;     /* accepted */
	size_t req_len;
	char req[METRICS_REQ_MAX + 1];
	char *out;             /* the reply being written, NULL while reading */
	size_t out_len, out_off;
};

struct ctl_metrics {
	int listen_fd, epoll_fd;
	volatile int stop;
	pthread_t thread;
	bool started;
	uint64_t *row;         /* counters row of this thread */
	struct metrics_conn conns[METRICS_CONNS];
	char body[METRICS_MAX];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "GET /metrics" or "HEAD /metrics", then a space or a query: 1 = GET, 2 = HEAD, else 0 */
static int
request_method(const char *req)
{
	static const char *const methods[] = { "GET /metrics", "HEAD /metrics" };

	for (int m = 0; m < 2; m++) {
		size_t len = strlen(methods[m]);

		if (strncmp(req, methods[m], len) == 0 && (req[len] == ' ' || req[len] == '?'))
			return m + 1;
	}
	return 0;
}

static void
conn_close(struct ctl_metrics *m, struct metrics_conn *k)
{
	epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k->out);
	k->out = NULL;
	k->fd = -1;
}

/* Write what is left of the reply; close when done or when the peer is gone. */
static void
conn_write(struct ctl_metrics *m, struct metrics_conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT is armed */
		if (n <= 0)
			break;
		k->out_off += (size_t)n;
	}
	shutdown(k->fd, SHUT_WR);
	conn_close(m, k);
}

/* The request is in: build the whole reply and start writing it. */
static void
conn_reply(struct ctl_metrics *m, struct metrics_conn *k)
{
	static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	static const char big[] = "HTTP/1.0 500 Internal Server Error\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)(k - m->conns) };
	int method = request_method(k->req);
	size_t len, hlen;
	char head[160];

	k->out_len = 0;
	if (method == 0) {
		mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_bad], 1);
		k->out = strdup(nf);
		k->out_len = sizeof(nf) - 1;
	} else if ((len = mesh_telemetry_prom_render(m->body, sizeof(m->body))) >=
		   sizeof(m->body)) {
		MESH_RTE_LOG(ERR, app, "metrics text of %zu bytes outgrew its %d-byte buffer",
			     len, METRICS_MAX);
		k->out = strdup(big);
		k->out_len = sizeof(big) - 1;
	} else {
		snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			 "version=0.0.4\r\nContent-Length: %zu\r\n\r\n", len);
		hlen = strlen(head);
		len = method == 1 ? len : 0; /* HEAD: the headers only */
		k->out = malloc(hlen + len);
		if (k->out != NULL) {
			memcpy(k->out, head, hlen);
			memcpy(k->out + hlen, m->body, len);
			k->out_len = hlen + len;
		}
		mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_scrapes], 1);
	}
	if (k->out == NULL) {
		conn_close(m, k);
		return;
	}
	k->out_off = 0;
	k->deadline_ns = now_ns() + METRICS_REPLY_MS * 1000000ull;
	epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, k->fd, &ev);
	conn_write(m, k);
}

/* Read what the client sent; reply once the headers are complete (or fill the buffer). */
static void
conn_read(struct ctl_metrics *m, struct metrics_conn *k)
{
	for (;;) {
		ssize_t n = recv(k->fd, k->req + k->req_len, METRICS_REQ_MAX - k->req_len,
				 MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* closed before a whole request */
			if (k->req_len > 0)
				mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_bad], 1);
			conn_close(m, k);
			return;
		}
		k->req_len += (size_t)n;
		k->req[k->req_len] = '\0';
		if (strstr(k->req, "\r\n\r\n") != NULL || strstr(k->req, "\n\n") != NULL ||
		    k->req_len == METRICS_REQ_MAX) {
			conn_reply(m, k);
			return;
		}
	}
}

/* A slot for a new connection: a free one, else the oldest still reading (evicted). */
static struct metrics_conn *
conn_slot(struct ctl_metrics *m)
{
	struct metrics_conn *oldest = NULL;

	for (unsigned i = 0; i < METRICS_CONNS; i++) {
		struct metrics_conn *k = &m->conns[i];

		if (k->fd < 0)
			return k;
		if (k->out == NULL && (oldest == NULL || k->since_ns < oldest->since_ns))
			oldest = k;
	}
	if (oldest != NULL) {
		mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_drop_evicted], 1);
		conn_close(m, oldest);
	}
	return oldest;
}

static void
accept_all(struct ctl_metrics *m)
{
	int fd;

	while ((fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct metrics_conn *k = conn_slot(m);
		struct epoll_event ev = { .events = EPOLLIN };

		if (k == NULL) {
			mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_drop_full], 1);
			close(fd);
			continue;
		}
		k->fd = fd;
		k->req_len = 0;
		k->since_ns = now_ns();
		k->deadline_ns = k->since_ns + METRICS_REQ_MS * 1000000ull;
		ev.data.u64 = (uint64_t)(k - m->conns);
		epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* Close the connections past their deadline; ms until the next deadline (at most 100). */
static int
expire(struct ctl_metrics *m)
{
	uint64_t now = now_ns(), next = now + 100 * 1000000ull;

	for (unsigned i = 0; i < METRICS_CONNS; i++) {
		struct metrics_conn *k = &m->conns[i];

		if (k->fd < 0)
			continue;
		if (k->deadline_ns <= now) {
			mesh_counter_add(&m->row[MESH_CTR_ctl_metrics_drop_timeout], 1);
			conn_close(m, k);
		} else if (k->deadline_ns < next) {
			next = k->deadline_ns;
		}
	}
	return (int)((next - now + 999999) / 1000000);
}

static void *
metrics_main(void *arg)
{
	struct ctl_metrics *m = arg;
	struct epoll_event evs[16];

	while (!m->stop) {
		int n = epoll_wait(m->epoll_fd, evs, 16, expire(m));

		for (int i = 0; i < n; i++) {
			struct metrics_conn *k;

			if (evs[i].data.u64 == EV_LISTEN) {
				accept_all(m);
				continue;
			}
			k = &m->conns[evs[i].data.u64];
			if (k->fd < 0)
				continue; /* closed earlier in this batch */
			if (k->out != NULL)
				conn_write(m, k);
			else
				conn_read(m, k);
		}
	}
	return NULL;
}

static int
metrics_listen(struct ctl_metrics *m, const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_LISTEN };
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
	m->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (m->listen_fd < 0 || m->epoll_fd < 0)
		return -errno;
	setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->listen_fd, 64) < 0 ||
	    epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0) {
		int err = errno;

		MESH_RTE_LOG(ERR, app, "metrics listener %s: %s", spec, strerror(err));
		return -err;
	}
	MESH_RTE_LOG(INFO, app, "Prometheus metrics on http://%s/metrics", spec);
	return 0;
}

struct ctl_metrics *
ctl_metrics_start(const char *spec, uint64_t *row)
{
	struct ctl_metrics *m = calloc(1, sizeof(*m));
	int ret;

	if (m == NULL)
		return NULL;
	m->row = row;
	m->listen_fd = m->epoll_fd = -1;
	for (unsigned i = 0; i < METRICS_CONNS; i++)
		m->conns[i].fd = -1;
	ret = metrics_listen(m, spec);
	if (ret == 0)
		ret = -rte_ctrl_thread_create(&m->thread, "meshd-metrics", NULL, metrics_main, m);
	if (ret < 0) {
		ctl_metrics_stop(m);
		errno = -ret;
		return NULL;
	}
	m->started = true;
	return m;
}

void
ctl_metrics_stop(struct ctl_metrics *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		m->stop = 1;
		pthread_join(m->thread, NULL);
	}
	for (unsigned i = 0; i < METRICS_CONNS; i++)
		if (m->conns[i].fd >= 0)
			conn_close(m, &m->conns[i]);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->epoll_fd >= 0)
		close(m->epoll_fd);
	free(m);
}
