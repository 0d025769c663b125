/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_load: bulk writes into one running meshd through the client API, for the
 * convergence benchmark (bench/cluster/converge.sh).
 *
 *   mesh_load [--delete] [--conns C] [--value-bytes B] [--tag T] SOCK PREFIX FIRST COUNT
 *
 * Keys PREFIX<FIRST> .. PREFIX<FIRST+COUNT-1>; values are B bytes (default 64) that name
 * the key and the tag, padded, so two loads with different tags write different values
 * for the same keys (divergence). C connections (default 4), one thread each, take
 * interleaved keys: each client call is a synchronous round trip, several keep the merge
 * core busy. --delete deletes the keys instead. Prints one JSON object (ops, errors,
 * seconds, ops_per_s); exits 1 when any call failed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_client.h"

#define MAX_CONNS 32

struct load {
	const char *sock, *prefix, *tag;
	long first, count;
	int conns;
	size_t value_bytes;
	bool del;
};

struct worker {
	const struct load *l;
	int idx;
	long ops, errors;
	char err[160];
	pthread_t th;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	const struct load *l = w->l;
	struct mesh_client *c = mesh_client_connect(l->sock);
	char key[256], value[4096];

	if (c == NULL) {
		snprintf(w->err, sizeof(w->err), "connect %s failed", l->sock);
		w->errors = l->count;
		return NULL;
	}
	mesh_client_timeout_set(c, 30000);
	for (long i = l->first + w->idx; i < l->first + l->count; i += l->conns) {
		int klen = snprintf(key, sizeof(key), "%s%ld", l->prefix, i);
		int rc;

		if (l->del) {
			rc = mesh_client_delete(c, key, (size_t)klen);
		} else {
			int n = snprintf(value, sizeof(value), "%s=%s;", key, l->tag);

			if ((size_t)n < l->value_bytes)
				memset(value + n, '.', l->value_bytes - (size_t)n);
			rc = mesh_client_put(c, key, (size_t)klen, value, l->value_bytes);
		}
		if (rc != 0) {
			if (w->errors++ == 0)
				snprintf(w->err, sizeof(w->err), "%.60s: %.90s", key,
					 mesh_client_error(c));
		} else {
			w->ops++;
		}
	}
	mesh_client_close(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct load l = { .conns = 4, .value_bytes = 64, .tag = "v" };
	struct worker w[MAX_CONNS];
	long ops = 0, errors = 0;
	double t0, dt;
	int a = 1;

	for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (strcmp(argv[a], "--delete") == 0)
			l.del = true;
		else if (strcmp(argv[a], "--conns") == 0 && a + 1 < argc)
			l.conns = atoi(argv[++a]);
		else if (strcmp(argv[a], "--value-bytes") == 0 && a + 1 < argc)
			l.value_bytes = (size_t)atol(argv[++a]);
		else if (strcmp(argv[a], "--tag") == 0 && a + 1 < argc)
			l.tag = argv[++a];
		else
			break;
	}
	if (argc - a != 4 || l.conns < 1 || l.conns > MAX_CONNS || l.value_bytes < 1 ||
	    l.value_bytes > 4096) {
		fprintf(stderr, "usage: mesh_load [--delete] [--conns C<=%d] "
				"[--value-bytes B<=4096] [--tag T] SOCK PREFIX FIRST COUNT\n",
			MAX_CONNS);
		return 2;
	}
	l.sock = argv[a];
	l.prefix = argv[a + 1];
	l.first = atol(argv[a + 2]);
	l.count = atol(argv[a + 3]);
	t0 = now_s();
	for (int i = 0; i < l.conns; i++) {
		w[i] = (struct worker){ .l = &l, .idx = i };
		if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
			fprintf(stderr, "mesh_load: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < l.conns; i++) {
		pthread_join(w[i].th, NULL);
		ops += w[i].ops;
		errors += w[i].errors;
		if (w[i].errors > 0)
			fprintf(stderr, "mesh_load: conn %d: %ld errors, first %s\n", i,
				w[i].errors, w[i].err);
	}
	dt = now_s() - t0;
	printf("{\"ops\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"ops_per_s\": %.0f}\n", ops,
	       errors, dt, dt > 0 ? (double)ops / dt : 0.0);
	return errors > 0;
}
