/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_bench: convergence latency of a running meshd cluster, measured through the
 * client API of every node from one process (one host clock).
 *
 *   mesh_bench --kind lww|delete|epoch|stream --updates U --rate R [--writers W]
 *              [--samples FILE] SOCK1 SOCK2 ... SOCKN
 *
 * Writers: nodes 1..W (default 1), one thread and one client connection each; update i
 * is due at start + i / R and written by node (i mod W) + 1, so W writers share the rate
 * and a slow synchronous round trip on one node does not hold up the others. Every node
 * that is not the only writer has a subscription on the benchmark prefix. For each update
 * the time from just before the client call to the event on each other node is recorded;
 * "to all" is the time until the last of the N - 1 other nodes had it (the dissemination
 * figure of anchors.md). Prints one JSON object; --samples also writes every update's
 * to-all latency (ms, one per line) for CDF plots.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_client.h"

#define MAX_NODES 16

struct bench {
	const char *kind, *prefix;
	long updates, rate;
	int n, writers;
	uint64_t start, gap;
	uint64_t *sent;      /* per update: send time (release store by its writer) */
	uint64_t last_send;  /* latest send completion over all writers */
	long n_sent;         /* sends completed */
	const char *socks[MAX_NODES];
};

struct writer {
	struct bench *b;
	int node;
	struct mesh_client *c;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleep, never spin: a spinning writer would take CPU from the nodes it times. The send
 * time is stamped after waking, so an overshoot only shifts the schedule. */
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL),
			       .tv_nsec = (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
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

static int
write_one(const struct bench *b, struct mesh_client *c, long i)
{
	char key[64], val[32];
	uint8_t ev16[16];

	snprintf(key, sizeof(key), "%s%ld", b->prefix, i);
	if (strcmp(b->kind, "delete") == 0)
		return mesh_client_delete(c, key, strlen(key));
	if (strcmp(b->kind, "epoch") == 0) {
		put_be64(ev16, 1);
		put_be64(ev16 + 8, (uint64_t)i + 1);
		return mesh_client_put(c, key, strlen(key), ev16, 16);
	}
	snprintf(val, sizeof(val), "v%ld", i);
	if (strcmp(b->kind, "stream") == 0)
		return mesh_client_publish(c, key, strlen(key), val, strlen(val), NULL);
	return mesh_client_put(c, key, strlen(key), val, strlen(val));
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct bench *b = w->b;

	for (long i = w->node; i < b->updates; i += b->writers) {
		uint64_t done;

		sleep_until(b->start + (uint64_t)i * b->gap);
		__atomic_store_n(&b->sent[i], now_ns(), __ATOMIC_RELEASE);
		if (write_one(b, w->c, i) < 0)
			fprintf(stderr, "mesh_bench: update %ld on node %d: %s\n", i, w->node + 1,
				mesh_client_error(w->c));
		done = now_ns();
		for (uint64_t cur = __atomic_load_n(&b->last_send, __ATOMIC_RELAXED);
		     done > cur && !__atomic_compare_exchange_n(&b->last_send, &cur, done, true,
								 __ATOMIC_RELAXED, __ATOMIC_RELAXED);)
			;
		__atomic_add_fetch(&b->n_sent, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static long
writer_of(const struct bench *b, long i)
{
	return i % b->writers;
}

int
main(int argc, char **argv)
{
	struct bench b = { .kind = "lww", .updates = 1000, .rate = 200, .writers = 1 };
	const char *samples = NULL;
	struct mesh_client *sub[MAX_NODES] = { 0 };
	struct writer w[MAX_NODES];
	pthread_t th[MAX_NODES];
	struct pollfd pf[MAX_NODES];
	int pf_node[MAX_NODES], n_pf = 0, a;
	uint64_t *lat_one, *lat_all, deadline;
	uint8_t *seen_count;
	size_t n_one = 0, n_all = 0, events = 0;

	for (a = 1; a < argc && argv[a][0] == '-'; a += 2) {
		if (a + 1 >= argc)
			goto usage;
		if (strcmp(argv[a], "--kind") == 0)
			b.kind = argv[a + 1];
		else if (strcmp(argv[a], "--updates") == 0)
			b.updates = strtol(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--rate") == 0)
			b.rate = strtol(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--writers") == 0)
			b.writers = (int)strtol(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--samples") == 0)
			samples = argv[a + 1];
		else
			goto usage;
	}
	b.n = argc - a;
	if (b.n < 2 || b.n > MAX_NODES || b.updates <= 0 || b.rate <= 0 || b.writers < 1 ||
	    b.writers > b.n)
		goto usage;
	b.prefix = strcmp(b.kind, "epoch") == 0 ? "rl:bench-" :
		   strcmp(b.kind, "stream") == 0 ? "td:bench-" : "worker:bench-";
	for (int k = 0; k < b.n; k++)
		b.socks[k] = argv[a + k];
	/* node k listens unless it is the only writer (it would only see its own updates) */
	for (int k = 0; k < b.n; k++) {
		uint64_t id;

		if (b.writers == 1 && k == 0)
			continue;
		sub[k] = mesh_client_connect(b.socks[k]);
		if (sub[k] == NULL || mesh_client_subscribe(sub[k], b.prefix, &id) < 0) {
			fprintf(stderr, "mesh_bench: subscribe on %s: %s\n", b.socks[k],
				sub[k] ? mesh_client_error(sub[k]) : strerror(errno));
			return 1;
		}
		pf_node[n_pf] = k;
		pf[n_pf++] = (struct pollfd){ .fd = mesh_client_fd(sub[k]), .events = POLLIN };
	}
	for (int k = 0; k < b.writers; k++) {
		w[k] = (struct writer){ .b = &b, .node = k, .c = mesh_client_connect(b.socks[k]) };
		if (w[k].c == NULL) {
			fprintf(stderr, "mesh_bench: %s: %s\n", b.socks[k], strerror(errno));
			return 1;
		}
	}
	b.sent = calloc((size_t)b.updates, sizeof(*b.sent));
	seen_count = calloc((size_t)b.updates, 1);
	lat_one = calloc((size_t)b.updates * (size_t)b.n, sizeof(*lat_one));
	lat_all = calloc((size_t)b.updates, sizeof(*lat_all));
	if (b.sent == NULL || seen_count == NULL || lat_one == NULL || lat_all == NULL)
		return 1;

	/* delete: the keys must exist everywhere first; drain those put events */
	if (strcmp(b.kind, "delete") == 0) {
		for (long i = 0; i < b.updates; i++) {
			char key[64];

			snprintf(key, sizeof(key), "%s%ld", b.prefix, i);
			mesh_client_put(w[0].c, key, strlen(key), "x", 1);
		}
		for (int p = 0; p < n_pf; p++) {
			struct mesh_client_event ev;

			for (long got = 0; got < b.updates &&
			     mesh_client_event_next(sub[pf_node[p]], 3000, &ev) == 0; got++)
				mesh_client_event_free(&ev);
		}
	}

	b.gap = 1000000000ULL / (uint64_t)b.rate;
	b.start = b.last_send = now_ns() + 1000000; /* writers start together */
	for (int k = 0; k < b.writers; k++)
		if (pthread_create(&th[k], NULL, writer_main, &w[k]) != 0)
			return 1;

	/*
	 * Receive until every update reached all N - 1 other nodes, or 5 s after the asked
	 * schedule and after the last send completed (a writer slower than the asked rate must
	 * not cut the delivery count short).
	 */
	deadline = b.start + (uint64_t)b.updates * b.gap + 5000000000ULL;
	for (;;) {
		uint64_t last = __atomic_load_n(&b.last_send, __ATOMIC_RELAXED);
		uint64_t t = now_ns();
		bool all_sent = __atomic_load_n(&b.n_sent, __ATOMIC_ACQUIRE) == b.updates;

		if (n_all == (size_t)b.updates ||
		    (all_sent && t > (deadline > last + 5000000000ULL ? deadline
								   : last + 5000000000ULL)))
			break;
		if (poll(pf, (nfds_t)n_pf, 1) <= 0)
			continue;
		for (int p = 0; p < n_pf; p++) {
			struct mesh_client_event ev;
			int k = pf_node[p];

			if (!(pf[p].revents & POLLIN))
				continue;
			while (mesh_client_event_next(sub[k], 0, &ev) == 0) {
				uint64_t at = now_ns(), s;
				long i = strtol((const char *)ev.key + strlen(b.prefix), NULL, 10);

				events++;
				if (i >= 0 && i < b.updates && writer_of(&b, i) != k &&
				    (s = __atomic_load_n(&b.sent[i], __ATOMIC_ACQUIRE)) != 0 &&
				    (strcmp(b.kind, "delete") != 0 || ev.tombstone)) {
					lat_one[n_one++] = at - s;
					if (++seen_count[i] == b.n - 1)
						lat_all[n_all++] = at - s;
				}
				mesh_client_event_free(&ev);
			}
		}
	}
	for (int k = 0; k < b.writers; k++)
		pthread_join(th[k], NULL);
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
	printf("{\"kind\": \"%s\", \"nodes\": %d, \"writers\": %d, \"updates\": %ld, \"rate\": %ld, "
	       "\"achieved_rate\": %.0f, \"delivered_pct\": %.2f, \"to_all_ms\": {\"p50\": %.3f, "
	       "\"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}, \"per_node_ms\": {\"p50\": %.3f, "
	       "\"p99\": %.3f}, \"events\": %zu}\n",
	       b.kind, b.n, b.writers, b.updates, b.rate,
	       b.last_send > b.start ? (double)b.updates * 1e9 / (double)(b.last_send - b.start)
				     : 0.0,
	       100.0 * (double)n_one / ((double)b.updates * (b.n - 1)),
	       pct(lat_all, n_all, 0.5), pct(lat_all, n_all, 0.9), pct(lat_all, n_all, 0.99),
	       pct(lat_all, n_all, 1.0), pct(lat_one, n_one, 0.5), pct(lat_one, n_one, 0.99),
	       events);
	for (int k = 0; k < b.n; k++)
		if (sub[k] != NULL)
			mesh_client_close(sub[k]);
	for (int k = 0; k < b.writers; k++)
		mesh_client_close(w[k].c);
	return n_all == (size_t)b.updates ? 0 : 3;
usage:
	fprintf(stderr, "usage: mesh_bench [--kind lww|delete|epoch|stream] [--updates U] "
			"[--rate R] [--writers W] [--samples FILE] SOCK1 SOCK2 ...\n");
	return 2;
}
