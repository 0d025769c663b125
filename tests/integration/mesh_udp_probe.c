/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_udp_probe: a kernel-socket client for meshd integration tests and the demo.
 *
 *   mesh_udp_probe hello IP PORT COUNT [GAP_MS]
 *                                             send COUNT hellos one by one, wait for each
 *                                             reply (1 s) and GAP_MS (default 0) after it;
 *                                             print replies and RTTs; exit 0 only if every
 *                                             hello was answered
 *   mesh_udp_probe bad IP PORT KIND           send one malformed datagram; KIND is one of
 *                                             short, magic, version, type, flags, length,
 *                                             checksum, cluster, random, oversize; exit 0
 *                                             if no reply came within 200 ms
 *   mesh_udp_probe raw IFACE DSTMAC ETHERTYPE send one 60-byte Ethernet frame of that
 *                                             type on IFACE (AF_PACKET), e.g. 0x88b5
 *
 * With MESH_PROBE_KEYS=FILE (a cluster key file) hellos are sealed with its primary key
 * and replies opened with it, as a keyed node's are, under a sender id of this run's own
 * (replay windows); without it, keyless (xxh3) from a fixed sender id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mesh_common.h"
#include "mesh_wire.h"

#define CLUSTER 0x4d455348u
#define PROBE_ID 0x70726f6265ULL /* "probe" */

/* MESH_PROBE_KEYS: seal and open like a keyed node */
static struct mesh_wire_keyring keyring;
static struct mesh_wire_sec sec = { .cluster_id = CLUSTER, .self_id = PROBE_ID };

static void
keys_load(void)
{
	const char *path = getenv("MESH_PROBE_KEYS");
	char err[320];

	if (path == NULL || path[0] == '\0')
		return;
	if (mesh_wire_keyring_load(path, &keyring, err, sizeof(err)) < 0) {
		fprintf(stderr, "probe: %s\n", err);
		exit(2);
	}
	sec.keyring = &keyring;
	/* keyed frames pass a per-sender replay window, and every run starts at sequence 1:
	 * a sender id of its own per run, as a node's boot generation gives it */
	sec.self_id = mesh_wire_node_id("probe", mesh_time_real_ns());
}

static int
udp_socket(const char *ip, const char *port, struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)atoi(port));
	if (fd < 0 || inet_pton(AF_INET, ip, &to->sin_addr) != 1) {
		fprintf(stderr, "probe: bad address %s\n", ip);
		exit(2);
	}
	return fd;
}

static size_t
make_hello(uint8_t *buf, uint64_t seq, const void *payload, uint16_t len)
{
	struct mesh_wire_hdr h = {
		.type = MESH_WIRE_TYPE_HELLO,
		.length = len,
		.cluster_id = CLUSTER,
		.sender_id = sec.self_id,
		.seq = seq,
	};
	memcpy(mesh_wire_frame_payload(buf), payload, len);
	if (sec.keyring != NULL)
		return mesh_wire_frame_seal(&sec, buf, MESH_WIRE_MAX_FRAME, &h);
	return mesh_wire_frame_seal_csum(buf, MESH_WIRE_MAX_FRAME, &h);
}

static int
wait_reply(int fd, int timeout_ms, uint8_t *buf, size_t cap, ssize_t *n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	*n = recv(fd, buf, cap, 0);
	return *n > 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int
do_hello(int argc, char **argv)
{
	static uint8_t buf[MESH_WIRE_MAX_FRAME], rbuf[MESH_WIRE_MAX_FRAME];
	struct sockaddr_in to;
	int count = argc > 4 ? atoi(argv[4]) : 1, gap_ms = argc > 5 ? atoi(argv[5]) : 0;
	int replies = 0, fd;
	uint64_t *rtt = calloc((size_t)count + 1, sizeof(uint64_t));

	fd = udp_socket(argv[2], argv[3], &to);
	for (int i = 0; i < count; i++) {
		uint64_t t0 = mesh_time_mono_ns(), token = t0 ^ (uint64_t)i;
		/* the token, padded: a node answers a HELLO with a reply no longer than it
		 * (its name and the start of the payload), so leave room for a 63-byte name */
		uint8_t hello[1 + 63 + sizeof(token)] = { 0 };
		size_t len;

		memcpy(hello, &token, sizeof(token));
		len = make_hello(buf, (uint64_t)i + 1, hello, sizeof(hello));
		ssize_t n;
		struct mesh_wire_hdr h;

		if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("probe: sendto");
			return 1;
		}
		while (wait_reply(fd, 1000, rbuf, sizeof(rbuf), &n)) {
			const uint8_t *p = mesh_wire_frame_payload(rbuf);
			if ((sec.keyring != NULL ? mesh_wire_frame_open(&sec, rbuf, (size_t)n, &h)
			     : mesh_wire_frame_open_csum(rbuf, (size_t)n, CLUSTER, &h)) != MESH_WIRE_OK ||
			    h.type != MESH_WIRE_TYPE_HELLO_REPLY || h.length < 1 ||
			    (size_t)p[0] + 1 + sizeof(token) > h.length ||
			    memcmp(p + 1 + p[0], &token, sizeof(token)) != 0)
				continue; /* stale or foreign reply */
			rtt[replies++] = mesh_time_mono_ns() - t0;
			if (i == 0)
				printf("reply from %.*s\n", p[0], (const char *)p + 1);
			break;
		}
		if (gap_ms > 0)
			poll(NULL, 0, gap_ms); /* the node goes back to sleep */
	}
	qsort(rtt, (size_t)replies, sizeof(uint64_t), cmp_u64);
	printf("hellos=%d replies=%d", count, replies);
	if (replies > 0)
		printf(" rtt_us_min=%.1f p50=%.1f max=%.1f p99=%.1f", rtt[0] / 1e3,
		       rtt[replies / 2] / 1e3, rtt[replies - 1] / 1e3,
		       rtt[(replies * 99 + 99) / 100 - 1] / 1e3);
	printf("\n");
	free(rtt);
	return replies == count ? 0 : 1;
}

static int
do_bad(int argc, char **argv)
{
	static uint8_t buf[MESH_WIRE_MAX_FRAME + 4096];
	struct sockaddr_in to;
	const char *kind = argc > 4 ? argv[4] : "";
	const char payload[] = "malformed";
	size_t len = make_hello(buf, 1, payload, sizeof(payload));
	uint8_t rbuf[2048];
	ssize_t n;
	int fd = udp_socket(argv[2], argv[3], &to);

	if (strcmp(kind, "short") == 0) {
		len = 12;
	} else if (strcmp(kind, "magic") == 0) {
		buf[0] ^= 0xff;
	} else if (strcmp(kind, "version") == 0) {
		buf[MESH_WIRE_OFF_VERSION] = 99;
	} else if (strcmp(kind, "type") == 0) {
		buf[MESH_WIRE_OFF_TYPE] = 200;
	} else if (strcmp(kind, "flags") == 0) {
		buf[MESH_WIRE_OFF_FLAGS] = 0x80;
	} else if (strcmp(kind, "length") == 0) {
		buf[MESH_WIRE_OFF_LENGTH + 1] += 3;
	} else if (strcmp(kind, "checksum") == 0) {
		buf[MESH_WIRE_HDR_LEN] ^= 1;
	} else if (strcmp(kind, "cluster") == 0) {
		struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_HELLO, .length = 4,
					   .cluster_id = CLUSTER + 1, .sender_id = 7, .seq = 1 };
		len = mesh_wire_frame_seal_csum(buf, sizeof(buf), &h);
	} else if (strcmp(kind, "random") == 0) {
		struct mesh_rng r;
		mesh_rng_seed(&r, mesh_time_mono_ns());
		len = 1 + mesh_rng_below(&r, 1400);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)mesh_rng_next(&r);
	} else if (strcmp(kind, "oversize") == 0) {
		len = 1472; /* largest datagram that fits the MTU, length field says less */
		memset(buf + 64, 0xab, len - 64);
	} else {
		fprintf(stderr, "probe: unknown kind '%s'\n", kind);
		return 2;
	}
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("probe: sendto");
		return 1;
	}
	if (wait_reply(fd, 200, rbuf, sizeof(rbuf), &n)) {
		fprintf(stderr, "probe: unexpected reply to a '%s' datagram\n", kind);
		return 1;
	}
	return 0;
}

static int
do_raw(int argc, char **argv)
{
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	uint8_t frame[60] = { 0 };
	unsigned mac[6], type;
	int fd;

	if (argc < 5 || sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3],
			       &mac[4], &mac[5]) != 6 || sscanf(argv[4], "%x", &type) != 1) {
		fprintf(stderr, "probe: raw IFACE DSTMAC ETHERTYPE\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("probe: AF_PACKET");
		return 1;
	}
	for (int i = 0; i < 6; i++)
		frame[i] = (uint8_t)mac[i];
	strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("probe: SIOCGIFHWADDR");
		return 1;
	}
	memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6); /* our own source MAC */
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons((uint16_t)type);
	sll.sll_ifindex = (int)if_nametoindex(argv[2]);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frame, 6);
	if (sll.sll_ifindex == 0 ||
	    sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("probe: raw send");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	keys_load();
	if (argc >= 4 && strcmp(argv[1], "hello") == 0)
		return do_hello(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "bad") == 0)
		return do_bad(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "raw") == 0)
		return do_raw(argc, argv);
	fprintf(stderr, "usage: mesh_udp_probe hello IP PORT [COUNT [GAP_MS]] | bad IP PORT KIND | "
			"raw IFACE DSTMAC ETHERTYPE\n");
	return 2;
}
