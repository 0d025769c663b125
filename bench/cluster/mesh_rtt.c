/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_rtt: the round trip of one client call against one node, one in flight, through
 * libmeshclient's synchronous calls (what an application waiting on each put sees).
 * --warmup calls first (not recorded), then --count calls, each timed from just before
 * the call to its return. Prints one JSON object: count, p50/p90/p99/max in us, the
 * client's own CPU time per call (getrusage), and the op.
 *
 *   mesh_rtt [--count N] [--warmup W] [--op put|get] [--value-bytes V] [--gap-us G] SOCKET
 *
 * --gap-us sleeps between calls: a client that writes now and then (each call then finds
 * meshd asleep) rather than back to back.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mesh_client.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
one_call(struct mesh_client *c, int get, const char *key, const char *val, size_t vlen)
{
	struct mesh_client_value v;
	int ret;

	if (!get)
		return mesh_client_put(c, key, strlen(key), val, vlen);
	ret = mesh_client_get(c, key, strlen(key), &v);
	if (ret == 0)
		mesh_client_value_free(&v);
	return ret;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mesh_rtt [--count N] [--warmup W] [--op put|get] "
			"[--value-bytes V] [--gap-us G] SOCKET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "op", required_argument, NULL, 'o' },
		{ "value-bytes", required_argument, NULL, 'v' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	long count = 5000, warmup = 200, vbytes = 16, gap_us = 0;
	const char *op = "put";
	struct mesh_client *c;
	uint64_t *rtt;
	char val[4096];
	double cpu0;
	int o, get;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'w': warmup = strtol(optarg, NULL, 10); break;
		case 'o': op = optarg; break;
		case 'v': vbytes = strtol(optarg, NULL, 10); break;
		case 'g': gap_us = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	get = strcmp(op, "get") == 0;
	if (optind + 1 != argc || count < 1 || warmup < 0 || vbytes < 0 ||
	    vbytes > (long)sizeof(val) || gap_us < 0 || (!get && strcmp(op, "put") != 0))
		usage();
	c = mesh_client_connect(argv[optind]);
	rtt = calloc((size_t)count, sizeof(*rtt));
	if (c == NULL || rtt == NULL) {
		fprintf(stderr, "mesh_rtt: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	memset(val, 'v', sizeof(val));
	for (long i = 0; i < warmup; i++)
		if (one_call(c, get, "config:rtt", val, (size_t)vbytes) < 0) {
			fprintf(stderr, "mesh_rtt: warmup %s: %s\n", op, mesh_client_error(c));
			return 1;
		}
	cpu0 = cpu_s();
	for (long i = 0; i < count; i++) {
		uint64_t t;
		int ret;

		if (gap_us > 0)
			usleep((useconds_t)gap_us);
		t = now_ns();
		ret = one_call(c, get, "config:rtt", val, (size_t)vbytes);
		rtt[i] = now_ns() - t;
		if (ret < 0) {
			fprintf(stderr, "mesh_rtt: %s %ld: %s\n", op, i, mesh_client_error(c));
			return 1;
		}
	}
	cpu0 = cpu_s() - cpu0;
	qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
	printf("{\"op\": \"%s\", \"count\": %ld, \"gap_us\": %ld, \"p50_us\": %.1f, "
	       "\"p90_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, "
	       "\"client_cpu_us_per_call\": %.2f}\n",
	       op, count, gap_us, (double)rtt[count / 2] / 1e3, (double)rtt[count * 9 / 10] / 1e3,
	       (double)rtt[count * 99 / 100] / 1e3, (double)rtt[count - 1] / 1e3,
	       cpu0 * 1e6 / (double)count);
	mesh_client_close(c);
	free(rtt);
	return 0;
}
