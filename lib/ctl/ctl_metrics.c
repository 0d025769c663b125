/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `--metrics-listen ADDR:PORT`: a plain HTTP/1.0 endpoint on the control thread serving
 * GET /metrics with the Prometheus text of lib/telemetry (mesh_telemetry_prom_render),
 * and HEAD /metrics with the same headers and no body; anything else gets 404, and a
 * text that outgrew the buffer 500 rather than a cut-off scrape. One scrape at a time,
 * its request read under a 200 ms receive timeout so a silent client cannot hold the
 * thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl_internal.h"
#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"

#define METRICS_MAX (256 * 1024)

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

void
ctl_metrics_serve(struct mesh_ctl *c)
{
	static char body[METRICS_MAX]; /* control thread only */
	static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	static const char big[] = "HTTP/1.0 500 Internal Server Error\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char req[1024], head[160];
	ssize_t n;
	size_t len;
	int method, fd = accept4(c->metrics_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, req, sizeof(req) - 1, 0);
	method = n > 0 ? (req[n] = '\0', request_method(req)) : 0;
	if (method == 0) {
		mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_metrics_bad], 1);
		if (n > 0)
			send(fd, nf, sizeof(nf) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	len = mesh_telemetry_prom_render(body, sizeof(body));
	if (len >= sizeof(body)) {
		MESH_RTE_LOG(ERR, app, "metrics text of %zu bytes outgrew its %d-byte buffer",
			     len, METRICS_MAX);
		send(fd, big, sizeof(big) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
		 "version=0.0.4\r\nContent-Length: %zu\r\n\r\n", len);
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) > 0 && method == 1)
		send(fd, body, len, MSG_NOSIGNAL);
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_metrics_scrapes], 1);
	close(fd);
}

int
ctl_metrics_listen(struct mesh_ctl *c, const char *spec)
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
