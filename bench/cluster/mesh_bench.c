/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_bench: convergence latency of a running meshd cluster, measured through the
 * client API of every node from one process (one host clock).
 *
 *   mesh_bench --kind lww|delete|epoch|stream --updates U --rate R [--samples FILE]
 *              SOCK1 SOCK2 ... SOCKN
 *
 * Node 1 (SOCK1) writes U updates at R per second; every other node has a subscription on
 * the benchmark prefix. For each update the time from just before the client call on
 * node 1 to the event on each other node is recorded. "to all" is the time until the last
 * node had it (the dissemination figure of anchors.md). Prints one JSON object; --samples
 * also writes every update's to-all latency (ms, one per line) for CDF plots.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_client.h"

#define MAX_NODES 16

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double
pct(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return -1;
	return (double)v[(size_t)((double)(n - 1) * p + 0.5)] / 1e6;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

int
main(int argc, char **argv)
{
	const char *kind = "lww", *prefix, *samples = NULL;
	long updates = 1000, rate = 200;
	struct mesh_client *c[MAX_NODES];
	int n = 0, a;
	uint64_t *sent, *seen_last, *lat_one, *lat_all;
	uint8_t *seen_count;
	size_t n_one = 0, n_all = 0, events = 0;

	for (a = 1; a < argc && argv[a][0] == '-'; a += 2) {
		if (a + 1 >= argc)
			goto usage;
		if (strcmp(argv[a], "--kind") == 0)
			kind = argv[a + 1];
		else if (strcmp(argv[a], "--updates") == 0)
			updates = strtol(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--rate") == 0)
			rate = strtol(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--samples") == 0)
			samples = argv[a + 1];
		else
			goto usage;
	}
	if (argc - a < 2 || argc - a > MAX_NODES || updates <= 0 || rate <= 0)
		goto usage;
	prefix = strcmp(kind, "epoch") == 0 ? "rl:bench-" :
		 strcmp(kind, "stream") == 0 ? "td:bench-" : "worker:bench-";
	for (; a < argc; a++) {
		c[n] = mesh_client_connect(argv[a]);
		if (c[n] == NULL) {
			fprintf(stderr, "mesh_bench: %s: %s\n", argv[a], strerror(errno));
			return 1;
		}
		if (n > 0) {
			uint64_t sub;
			if (mesh_client_subscribe(c[n], prefix, &sub) < 0) {
				fprintf(stderr, "mesh_bench: subscribe: %s\n", mesh_client_error(c[n]));
				return 1;
			}
		}
		n++;
	}
	sent = calloc((size_t)updates, sizeof(*sent));
	seen_last = calloc((size_t)updates, sizeof(*seen_last));
	seen_count = calloc((size_t)updates, 1);
	lat_one = calloc((size_t)updates * (size_t)n, sizeof(*lat_one));
	lat_all = calloc((size_t)updates, sizeof(*lat_all));

	/* delete: the keys must exist everywhere first */
	if (strcmp(kind, "delete") == 0) {
		for (long i = 0; i < updates; i++) {
			char key[64];
			snprintf(key, sizeof(key), "%s%ld", prefix, i);
			mesh_client_put(c[0], key, strlen(key), "x", 1);
		}
		for (int k = 1; k < n; k++) { /* drain their put events */
			struct mesh_client_event ev;
			for (long got = 0; got < updates &&
			     mesh_client_event_next(c[k], 3000, &ev) == 0; got++)
				mesh_client_event_free(&ev);
		}
	}

	uint64_t start = now_ns(), gap = 1000000000ULL / (uint64_t)rate, deadline;
	long next = 0;
	uint64_t last_send = start;
	struct pollfd pf[MAX_NODES];

	for (int k = 1; k < n; k++)
		pf[k - 1] = (struct pollfd){ .fd = mesh_client_fd(c[k]), .events = POLLIN };
	/* drain for 5 s after the last update was sent: a writer slower than the asked rate
	 * (one synchronous client) must not cut the delivery count short */
	deadline = start + (uint64_t)updates * gap + 5000000000ULL;
	while ((next < updates ||
		now_ns() < (deadline > last_send + 5000000000ULL ? deadline : last_send + 5000000000ULL)) &&
	       (next < updates || n_all < (size_t)updates)) {
		uint64_t t = now_ns();

		if (next < updates && t >= start + (uint64_t)next * gap) {
			char key[64], val[32];
			uint8_t ev16[16];
			int ret;

			snprintf(key, sizeof(key), "%s%ld", prefix, next);
			sent[next] = now_ns();
			if (strcmp(kind, "delete") == 0) {
				ret = mesh_client_delete(c[0], key, strlen(key));
			} else if (strcmp(kind, "epoch") == 0) {
				put_be64(ev16, 1);
				put_be64(ev16 + 8, (uint64_t)next + 1);
				ret = mesh_client_put(c[0], key, strlen(key), ev16, 16);
			} else if (strcmp(kind, "stream") == 0) {
				snprintf(val, sizeof(val), "%ld", next);
				ret = mesh_client_publish(c[0], key, strlen(key), val, strlen(val), NULL);
			} else {
				snprintf(val, sizeof(val), "v%ld", next);
				ret = mesh_client_put(c[0], key, strlen(key), val, strlen(val));
			}
			if (ret < 0)
				fprintf(stderr, "mesh_bench: update %ld: %s\n", next,
					mesh_client_error(c[0]));
			next++;
			last_send = now_ns();
		}
		if (poll(pf, (nfds_t)(n - 1), 0) <= 0) {
			if (next >= updates)
				poll(pf, (nfds_t)(n - 1), 1);
			continue;
		}
		for (int k = 1; k < n; k++) {
			struct mesh_client_event ev;

			if (!(pf[k - 1].revents & POLLIN))
				continue;
			while (mesh_client_event_next(c[k], 0, &ev) == 0) {
				uint64_t at = now_ns();
				long i = strtol((const char *)ev.key + strlen(prefix), NULL, 10);

				events++;
				if (i >= 0 && i < updates && sent[i] != 0 &&
				    (strcmp(kind, "delete") != 0 || ev.tombstone)) {
					lat_one[n_one++] = at - sent[i];
					if (++seen_count[i] == n - 1) {
						lat_all[n_all++] = at - sent[i];
						seen_last[i] = at;
					}
				}
				mesh_client_event_free(&ev);
			}
		}
	}
	qsort(lat_one, n_one, sizeof(*lat_one), cmp_u64);
	qsort(lat_all, n_all, sizeof(*lat_all), cmp_u64);
	if (samples != NULL) {
		FILE *f = fopen(samples, "w");

		if (f == NULL) {
			fprintf(stderr, "mesh_bench: %s: %s\n", samples, strerror(errno));
		} else {
			for (size_t i = 0; i < n_all; i++)
				fprintf(f, "%.4f\n", (double)lat_all[i] / 1e6);
			fclose(f);
		}
	}
	printf("{\"kind\": \"%s\", \"nodes\": %d, \"updates\": %ld, \"rate\": %ld, "
	       "\"achieved_rate\": %.0f, \"delivered_pct\": %.2f, \"to_all_ms\": {\"p50\": %.3f, \"p90\": %.3f, "
	       "\"p99\": %.3f, \"max\": %.3f}, \"per_node_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
	       "\"events\": %zu}\n",
	       kind, n, updates, rate,
	       last_send > start ? (double)updates * 1e9 / (double)(last_send - start) : 0.0,
	       100.0 * (double)n_one / ((double)updates * (n - 1)),
	       pct(lat_all, n_all, 0.5), pct(lat_all, n_all, 0.9), pct(lat_all, n_all, 0.99),
	       pct(lat_all, n_all, 1.0), pct(lat_one, n_one, 0.5), pct(lat_one, n_one, 0.99),
	       events);
	for (int k = 0; k < n; k++)
		mesh_client_close(c[k]);
	return n_all == (size_t)updates ? 0 : 3;
usage:
	fprintf(stderr, "usage: mesh_bench [--kind lww|delete|epoch|stream] [--updates U] "
			"[--rate R] [--samples FILE] SOCK1 SOCK2 ...\n");
	return 2;
}
