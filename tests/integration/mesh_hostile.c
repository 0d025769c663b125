/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_hostile: the attacker of tests/integration/test_hostile.sh. It writes raw Ethernet
 * frames on an interface (AF_PACKET) with its own MAC unless told otherwise:
 *
 *   mesh_hostile IFACE DSTMAC DSTIP SRCIP KIND COUNT [RATE]
 *
 *   arp-grat   gratuitous ARP (requests and replies) claiming SRCIP at our MAC
 *   arp-reply  forged unsolicited replies to DSTIP: "SRCIP is at our MAC"
 *   arp-flood  requests and replies for DSTIP from random addresses and MACs
 *   sid        keyless-valid MSGS frames (xxh3) with random sender ids and junk payload
 *   hello      keyless-valid HELLO frames from SRCIP (a spoofed third party)
 *   junk       random bytes in a UDP datagram to the meshd port
 *
 * RATE caps frames per second (default 20000). Prints "sent=N". Exit 0 unless the
 * socket could not be opened.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"
#include "mesh_wire.h"

#define CLUSTER 0x4d455348u
#define MESH_PORT 39527

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t
ip_of(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "hostile: bad address %s\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void
mac_of(const char *s, uint8_t *mac)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
		fprintf(stderr, "hostile: bad MAC %s\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

/* a UDP frame to the meshd port carrying @len bytes already at f + MESH_NET_HDRS_LEN */
static size_t
udp(uint8_t *f, const uint8_t *own, const uint8_t *dmac, uint32_t sip, uint32_t dip,
    size_t len)
{
	return mesh_net_pkt_build_udp(f, own, dmac, sip, dip, MESH_PORT, MESH_PORT, len,
				      (uint16_t)rnd());
}

static size_t
sealed(uint8_t *f, const uint8_t *own, const uint8_t *dmac, uint32_t sip, uint32_t dip,
       uint8_t type, uint64_t sender, uint16_t len)
{
	uint8_t *w = f + MESH_NET_HDRS_LEN;
	struct mesh_wire_hdr h = {
		.type = type, .length = len, .cluster_id = CLUSTER, .sender_id = sender,
		.seq = rnd() & 0xffffff,
	};
	uint8_t *pl = mesh_wire_frame_payload(w);

	for (uint16_t i = 0; i < len; i++)
		pl[i] = (uint8_t)rnd();
	return udp(f, own, dmac, sip, dip, mesh_wire_frame_seal_csum(w, 2048, &h));
}

int
main(int argc, char **argv)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static uint8_t f[4096];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct ifreq ifr = { 0 };
	uint8_t own[6], dmac[6], rmac[6];
	uint32_t dip, sip;
	long count, rate, sent = 0;
	const char *kind;
	int fd;

	if (argc < 7) {
		fprintf(stderr, "usage: mesh_hostile IFACE DSTMAC DSTIP SRCIP KIND COUNT [RATE]\n");
		return 2;
	}
	mac_of(argv[2], dmac);
	dip = ip_of(argv[3]);
	sip = ip_of(argv[4]);
	kind = argv[5];
	count = atol(argv[6]);
	rate = argc > 7 ? atol(argv[7]) : 20000;
	rng ^= (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("hostile: socket");
		return 2;
	}
	memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
	to.sll_ifindex = (int)if_nametoindex(argv[1]);
	for (long k = 0; k < count; k++) {
		size_t n = 0;

		if (strcmp(kind, "arp-grat") == 0) {
			uint16_t op = (k & 1) ? MESH_NET_ARP_OP_REPLY : MESH_NET_ARP_OP_REQUEST;
			n = mesh_net_pkt_build_arp(f, op, own, bcast, own, sip, NULL, sip);
		} else if (strcmp(kind, "arp-reply") == 0) {
			n = mesh_net_pkt_build_arp(f, MESH_NET_ARP_OP_REPLY, own, dmac, own, sip, dmac,
						   dip);
		} else if (strcmp(kind, "arp-flood") == 0) {
			uint32_t rip = 0x0a000000u | ((uint32_t)rnd() & 0xffffff);
			uint16_t op = (k & 1) ? MESH_NET_ARP_OP_REPLY : MESH_NET_ARP_OP_REQUEST;
			uint64_t r = rnd();
			memcpy(rmac, &r, 6);
			rmac[0] = (uint8_t)((rmac[0] & 0xfe) | 2);
			n = mesh_net_pkt_build_arp(f, op, rmac, op == MESH_NET_ARP_OP_REPLY ? dmac : bcast,
						   rmac, rip, op == MESH_NET_ARP_OP_REPLY ? dmac : NULL,
						   dip);
		} else if (strcmp(kind, "sid") == 0) {
			n = sealed(f, own, dmac, sip, dip, MESH_WIRE_TYPE_MSGS, rnd() | 1,
				   (uint16_t)(16 + rnd() % 200));
		} else if (strcmp(kind, "hello") == 0) {
			n = sealed(f, own, dmac, sip, dip, MESH_WIRE_TYPE_HELLO, rnd() | 1, 8);
		} else if (strcmp(kind, "junk") == 0) {
			size_t len = 1 + rnd() % 1400;
			for (size_t i = 0; i < len; i++)
				f[MESH_NET_HDRS_LEN + i] = (uint8_t)rnd();
			n = udp(f, own, dmac, sip, dip, len);
		} else {
			fprintf(stderr, "hostile: unknown kind %s\n", kind);
			return 2;
		}
		memcpy(to.sll_addr, f, 6);
		if (sendto(fd, f, n, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)n)
			sent++;
		if (rate > 0 && k % 64 == 63) {
			struct timespec ts = { 0, (long)(64 * 1000000000LL / rate) };
			nanosleep(&ts, NULL);
		}
	}
	printf("sent=%ld\n", sent);
	close(fd);
	return 0;
}
