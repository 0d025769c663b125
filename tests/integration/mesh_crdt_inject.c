/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_crdt_inject: a member that sends crafted CrdtOps, for test_converge.sh.
 *
 *   mesh_crdt_inject MY_IP PORT SEED_IP PEERS HOLD_S
 *
 * Runs a whole node (lib/node) over a kernel UDP socket bound to PORT, in a keyless
 * cluster (cluster id 0x4d455348): joins through SEED_IP, waits until PEERS members are
 * its replication peers, then puts two ops straight into its own store (which has no skew
 * bound) for replication to send to every peer: worker:inj-max at timestamp 2^62 and
 * worker:inj-below at 2^62 - 1. Every peer must ack them as refused: for each peer it
 * prints "refused NAME ACKS REASON", then "READY", stays a member for HOLD_S seconds or
 * until SIGTERM (so the caller can look at the peers' telemetry) and leaves. Exit 0 only if
 * every peer refused within 15 s; 2 on a usage or setup error. With MESH_INJECT_KEYS=FILE
 * (a cluster key file) it is a keyed member: its frames are sealed with that keyring.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mesh_common.h"
#include "mesh_node.h"
#include "mesh_wire.h"

#define CLUSTER 0x4d455348u

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

struct inj {
	int fd;
	struct mesh_wire_sec sec;
	uint64_t seq;
	struct mesh_rng rng;
	uint8_t buf[MESH_WIRE_MAX_FRAME];
};

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	struct inj *j = ctx;

	for (unsigned i = 0; i < n; i++) {
		const struct mesh_node_frame *f = &frames[i];
		struct mesh_wire_hdr h = { .type = f->type, .length = (uint16_t)f->len,
					   .seq = ++j->seq };
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(f->peer.port),
					  .sin_addr.s_addr = htonl(f->peer.ip) };
		size_t len;

		memcpy(mesh_wire_frame_payload(j->buf), f->payload, f->len);
		len = mesh_wire_frame_seal(&j->sec, j->buf, sizeof(j->buf), &h);
		if (len > 0)
			sendto(j->fd, j->buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	}
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	(void)ctx;
	(void)r;
}

static uint64_t
env_random(void *ctx)
{
	return mesh_rng_next(&((struct inj *)ctx)->rng);
}

static uint64_t
env_wall(void *ctx)
{
	(void)ctx;
	return mesh_time_real_ns();
}

/* Receive what arrives within @ms, then poll the node. */
static void
step(struct mesh_node *n, struct inj *j, int ms)
{
	struct pollfd p = { .fd = j->fd, .events = POLLIN };

	if (poll(&p, 1, ms) > 0) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len;

		while ((len = recvfrom(j->fd, j->buf, sizeof(j->buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl)) > 0) {
			struct mesh_wire_hdr h;
			struct mesh_node_frame f;

			if (mesh_wire_frame_open(&j->sec, j->buf, (size_t)len, &h) != MESH_WIRE_OK)
				continue;
			f = (struct mesh_node_frame){
				.sender = h.sender_id, .type = h.type, .len = h.length,
				.payload = mesh_wire_frame_payload(j->buf),
				.peer = { .ip = ntohl(from.sin_addr.s_addr),
					  .port = ntohs(from.sin_port) },
			};
			mesh_node_input(n, &f, 1, mesh_time_mono_ns());
			fl = sizeof(from);
		}
	}
	mesh_node_poll(n, mesh_time_mono_ns());
}

static uint32_t
count_refused(struct mesh_node *n, bool print)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < mesh_node_peer_count(n); i++) {
		struct mesh_node_peer_info p;

		if (mesh_node_peer_at(n, i, &p) != 0 || p.channel.refused == 0)
			continue;
		k++;
		if (print)
			printf("refused %s %llu %s\n", p.name, (unsigned long long)p.channel.refused,
			       p.channel.refused_reason);
	}
	return k;
}

static void
inject(struct mesh_node *n, const char *key, uint64_t ts)
{
	struct mesh_crdt_op op = { .key = key, .key_len = (uint32_t)strlen(key),
				   .value = "evil", .value_len = 4, .ts = ts,
				   .replica = 0x1be0000000000001ULL };
	int rc = mesh_crdt_apply(mesh_node_store(n), &op, mesh_time_mono_ns(), NULL);

	if (rc != 0)
		fprintf(stderr, "inject: own store refused %s: %d\n", key, rc);
}

int
main(int argc, char **argv)
{
	static const struct mesh_node_env_ops env = {
		.send = env_send, .reply = env_reply, .random = env_random, .wall_ns = env_wall,
	};
	static struct inj j;
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct mesh_node_cfg cfg;
	struct mesh_node *n;
	struct in_addr a;
	uint64_t deadline;
	uint32_t peers;
	int ok;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &a) != 1) {
		fprintf(stderr, "usage: mesh_crdt_inject MY_IP PORT SEED_IP PEERS HOLD_S\n");
		return 2;
	}
	peers = (uint32_t)atoi(argv[4]);
	signal(SIGTERM, on_term);
	mesh_node_cfg_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "inject");
	cfg.gen = mesh_time_real_ns();
	cfg.addr = (struct mesh_node_addr){ .ip = ntohl(a.s_addr), .port = (uint16_t)atoi(argv[2]) };
	cfg.crdt.max_skew_ns = MESH_CRDT_MAX_SKEW_NONE; /* holds what it injects */
	if (inet_pton(AF_INET, argv[3], &a) != 1)
		return 2;
	cfg.seeds[0] = (struct mesh_node_addr){ .ip = ntohl(a.s_addr), .port = cfg.addr.port };
	cfg.n_seeds = 1;
	mesh_rng_seed(&j.rng, cfg.gen);
	j.sec = (struct mesh_wire_sec){ .cluster_id = CLUSTER,
					.self_id = mesh_wire_node_id(cfg.name, cfg.gen) };
	if (getenv("MESH_INJECT_KEYS") != NULL) {
		static struct mesh_wire_keyring kr;
		char err[320];

		if (mesh_wire_keyring_load(getenv("MESH_INJECT_KEYS"), &kr, err, sizeof(err)) < 0) {
			fprintf(stderr, "inject: %s\n", err);
			return 2;
		}
		j.sec.keyring = &kr;
	}
	cfg.max_payload = mesh_wire_payload_max(&j.sec, MESH_WIRE_DEFAULT_MAX_FRAME);
	cfg.stream.max_payload = cfg.max_payload;
	j.fd = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons(cfg.addr.port);
	if (j.fd < 0 || bind(j.fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
		perror("inject: socket");
		return 2;
	}
	n = mesh_node_new(&cfg, &env, &j, mesh_time_mono_ns());
	if (n == NULL || mesh_crdt_ns_add_defaults(mesh_node_store(n)) != 0 ||
	    mesh_node_join(n, mesh_time_mono_ns()) != 0) {
		fprintf(stderr, "inject: node setup failed\n");
		return 2;
	}
	deadline = mesh_time_mono_ns() + 20 * MESH_NS_PER_SEC;
	while (mesh_node_peer_count(n) < peers && mesh_time_mono_ns() < deadline)
		step(n, &j, 1);
	printf("peers %u\n", mesh_node_peer_count(n));
	inject(n, "worker:inj-max", MESH_CRDT_TS_MAX);
	inject(n, "worker:inj-below", MESH_CRDT_TS_MAX - 1);
	deadline = mesh_time_mono_ns() + 15 * MESH_NS_PER_SEC;
	while (count_refused(n, false) < peers && mesh_time_mono_ns() < deadline)
		step(n, &j, 1);
	ok = count_refused(n, true) >= peers && peers > 0;
	printf("READY\n");
	fflush(stdout);
	deadline = mesh_time_mono_ns() + (uint64_t)atoi(argv[5]) * MESH_NS_PER_SEC;
	while (mesh_time_mono_ns() < deadline && !stop)
		step(n, &j, 1);
	mesh_node_leave(n, mesh_time_mono_ns());
	deadline = mesh_time_mono_ns() + MESH_NS_PER_SEC / 2;
	while (mesh_time_mono_ns() < deadline && !mesh_node_drained(n))
		step(n, &j, 1);
	mesh_node_delete(n);
	return ok ? 0 : 1;
}
