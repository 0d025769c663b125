/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_watch: when does every observer list a member with a given status?
 *
 *   mesh_watch NAME STATUS TIMEOUT_MS SOCK1 SOCK2 ...
 *
 * One process polls every observer's member list through the client API (a request per
 * observer per millisecond, no process spawned per poll, so the watchers do not compete
 * with the nodes for the CPU they are timing) and records, per observer, the first
 * CLOCK_REALTIME at which NAME showed STATUS. It prints "ready" on stderr once connected,
 * then one JSON object on stdout when all observers saw it or TIMEOUT_MS passed:
 *   {"name": ..., "status": ..., "seen_ns": [t1, t2, ...]}   (0 = never seen)
 * The caller stamps its own action (kill, leave) with the same clock (date +%s%N).
 * Exit status 0 when every observer saw it, 3 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_client.h"

#define MAX_OBS 64

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
shows(struct mesh_client *c, const char *name, const char *status)
{
	struct mesh_client_member *m = NULL;
	size_t n = 0;
	int hit = 0;

	if (mesh_client_members(c, &m, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && !hit; i++)
		hit = strcmp(m[i].name, name) == 0 && strcmp(m[i].status, status) == 0;
	free(m);
	return hit;
}

int
main(int argc, char **argv)
{
	struct mesh_client *c[MAX_OBS];
	uint64_t seen[MAX_OBS] = { 0 }, end;
	int n, left;

	if (argc < 5 || argc - 4 > MAX_OBS) {
		fprintf(stderr, "usage: mesh_watch NAME STATUS TIMEOUT_MS SOCK1 SOCK2 ...\n");
		return 2;
	}
	n = argc - 4;
	for (int i = 0; i < n; i++) {
		c[i] = mesh_client_connect(argv[4 + i]);
		if (c[i] == NULL) {
			fprintf(stderr, "mesh_watch: %s: %s\n", argv[4 + i], strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "ready\n");
	end = clock_ns(CLOCK_MONOTONIC) + (uint64_t)strtoull(argv[3], NULL, 10) * 1000000ULL;
	left = n;
	while (left > 0 && clock_ns(CLOCK_MONOTONIC) < end) {
		struct timespec ms = { 0, 1000000 };

		for (int i = 0; i < n; i++) {
			if (seen[i] == 0 && shows(c[i], argv[1], argv[2])) {
				seen[i] = clock_ns(CLOCK_REALTIME);
				left--;
			}
		}
		nanosleep(&ms, NULL);
	}
	printf("{\"name\": \"%s\", \"status\": \"%s\", \"seen_ns\": [", argv[1], argv[2]);
	for (int i = 0; i < n; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)seen[i]);
	printf("]}\n");
	for (int i = 0; i < n; i++)
		mesh_client_close(c[i]);
	return left == 0 ? 0 : 3;
}
