/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/ARP/IPv4/UDP parser and builders: round trips, checksums against a kernel-style
 * verification, and one test per drop cause (runt, MAC, ethertype, ARP, IP header,
 * checksum, fragment, protocol, address, UDP length, port).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_net_pkt.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };
#define IP_A 0x0a630001u
#define IP_B 0x0a630002u

static const struct mesh_net_addr self_b = {
	.mac = { 0x02, 0, 0, 0, 0, 0xb }, .ip = IP_B, .port = 39527,
};

static size_t
udp_frame(uint8_t *f, const char *payload)
{
	size_t n = strlen(payload);

	memcpy(f + MESH_NET_HDRS_LEN, payload, n);
	return mesh_net_pkt_build_udp(f, mac_a, mac_b, IP_A, IP_B, 4000, 39527, n, 7);
}

static void
fix_ip_csum(uint8_t *f)
{
	uint8_t *ip = f + MESH_NET_ETH_HLEN;
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = mesh_net_csum_fold(mesh_net_csum_partial(ip, (ip[0] & 15) * 4u, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

static void
test_udp_round_trip_and_checksums(void **state)
{
	uint8_t f[256];
	struct mesh_net_pkt p;
	size_t n;
	uint32_t sum;

	(void)state;
	n = udp_frame(f, "hello!!");
	assert_int_equal(n, MESH_NET_HDRS_LEN + 7);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_OK);
	assert_int_equal(p.kind, MESH_NET_PKT_UDP);
	assert_int_equal(p.src_ip, IP_A);
	assert_int_equal(p.dst_ip, IP_B);
	assert_int_equal(p.src_port, 4000);
	assert_int_equal(p.dst_port, 39527);
	assert_int_equal(p.payload_len, 7);
	assert_memory_equal(p.payload, "hello!!", 7);
	assert_memory_equal(p.eth_src, mac_a, 6);
	/* a receiver verifying the UDP checksum over pseudo header + datagram gets 0 */
	sum = mesh_net_csum_partial(f + MESH_NET_ETH_HLEN + 12, 8, 0);
	sum += MESH_NET_IPPROTO_UDP + 8 + 7;
	sum = mesh_net_csum_partial(f + MESH_NET_ETH_HLEN + MESH_NET_IP_HLEN, 15, sum);
	assert_int_equal(mesh_net_csum_fold(sum), 0);
	/* Ethernet padding after the IP packet is accepted and ignored */
	memset(f + n, 0, 20);
	assert_int_equal(mesh_net_pkt_parse(f, n + 20, &self_b, &p), MESH_NET_PKT_OK);
	assert_int_equal(p.payload_len, 7);
	/* broadcast destination MAC is accepted; no filter when self is NULL */
	memset(f, 0xff, 6);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_OK);
	assert_int_equal(mesh_net_pkt_parse(f, n, NULL, &p), MESH_NET_PKT_OK);
}

static void
test_rfc1071_vector(void **state)
{
	/* RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 */
	static const uint8_t v[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(mesh_net_csum_fold(mesh_net_csum_partial(v, sizeof(v), 0)),
			 (uint16_t)~0xddf2);
	/* odd length pads with a zero byte */
	assert_int_equal(mesh_net_csum_partial((const uint8_t[]){ 0x12 }, 1, 0), 0x1200);
}

static void
test_arp_build_parse(void **state)
{
	uint8_t f[64];
	struct mesh_net_pkt p;
	size_t n;

	(void)state;
	n = mesh_net_pkt_build_arp(f, MESH_NET_ARP_OP_REQUEST, mac_a,
				   (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, mac_a,
				   IP_A, NULL, IP_B);
	assert_int_equal(n, 42);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_OK);
	assert_int_equal(p.kind, MESH_NET_PKT_ARP);
	assert_int_equal(p.arp_op, MESH_NET_ARP_OP_REQUEST);
	assert_int_equal(p.arp_spa, IP_A);
	assert_int_equal(p.arp_tpa, IP_B);
	assert_memory_equal(p.arp_sha, mac_a, 6);
	assert_int_equal(mesh_net_pkt_parse(f, n - 1, &self_b, &p),
			 MESH_NET_PKT_DROP_arp_malformed);
	f[MESH_NET_ETH_HLEN + 7] = 9; /* unknown op */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_arp_malformed);
	f[MESH_NET_ETH_HLEN + 7] = 2;
	f[MESH_NET_ETH_HLEN + 4] = 8; /* hardware length */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_arp_malformed);
}

static void
test_every_drop_cause(void **state)
{
	uint8_t f[256];
	struct mesh_net_pkt p;
	size_t n;
	struct mesh_net_addr other_port = self_b;

	(void)state;
	n = udp_frame(f, "x");
	assert_int_equal(mesh_net_pkt_parse(f, 13, &self_b, &p), MESH_NET_PKT_DROP_runt);

	n = udp_frame(f, "x");
	f[5] = 0xc;
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_not_for_us_mac);

	n = udp_frame(f, "x");
	f[12] = 0x86;
	f[13] = 0xdd;
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ethertype);

	n = udp_frame(f, "x");
	assert_int_equal(mesh_net_pkt_parse(f, MESH_NET_ETH_HLEN + 19, &self_b, &p),
			 MESH_NET_PKT_DROP_ip_header);
	f[MESH_NET_ETH_HLEN] = 0x65; /* version 6 */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_header);
	f[MESH_NET_ETH_HLEN] = 0x44; /* IHL 16 bytes */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_header);
	n = udp_frame(f, "x");
	f[MESH_NET_ETH_HLEN + 3] += 1; /* total length beyond the frame */
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_header);

	n = udp_frame(f, "x");
	f[MESH_NET_ETH_HLEN + 8] ^= 1; /* TTL changed without fixing the checksum */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_checksum);

	n = udp_frame(f, "x");
	f[MESH_NET_ETH_HLEN + 6] = 0x20; /* MF */
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_fragment);
	f[MESH_NET_ETH_HLEN + 6] = 0x40;
	f[MESH_NET_ETH_HLEN + 7] = 0x10; /* offset with DF */
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_fragment);

	n = udp_frame(f, "x");
	f[MESH_NET_ETH_HLEN + 9] = 6; /* TCP */
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_not_udp);

	n = udp_frame(f, "x");
	f[MESH_NET_ETH_HLEN + 19] = 9;
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_ip_not_for_us);

	n = udp_frame(f, "xyz");
	f[MESH_NET_ETH_HLEN + MESH_NET_IP_HLEN + 5] = 9; /* UDP length != IP payload */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_udp_length);
	f[MESH_NET_ETH_HLEN + MESH_NET_IP_HLEN + 5] = 4; /* below the UDP header */
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_udp_length);
	/* IP total length too small for a UDP header */
	n = udp_frame(f, "");
	f[MESH_NET_ETH_HLEN + 3] = 24;
	fix_ip_csum(f);
	assert_int_equal(mesh_net_pkt_parse(f, n, &self_b, &p), MESH_NET_PKT_DROP_udp_length);

	n = udp_frame(f, "x");
	other_port.port = 1234;
	assert_int_equal(mesh_net_pkt_parse(f, n, &other_port, &p), MESH_NET_PKT_DROP_wrong_port);
	other_port.port = 0; /* any port */
	assert_int_equal(mesh_net_pkt_parse(f, n, &other_port, &p), MESH_NET_PKT_OK);

	for (int d = 0; d < MESH_NET_PKT_DROP_MAX; d++)
		assert_string_not_equal(mesh_net_pkt_drop_name(d), "unknown");
	assert_string_equal(mesh_net_pkt_drop_name(MESH_NET_PKT_DROP_wrong_port), "wrong_port");
	assert_string_equal(mesh_net_pkt_drop_name(-1), "unknown");
	for (int d = 1; d < MESH_NET_PKT_DROP_MAX; d++)
		assert_non_null(strstr(mesh_net_pkt_drop_desc(d), "dropped: "));
	assert_string_equal(mesh_net_pkt_drop_desc(MESH_NET_PKT_DROP_ip_checksum),
			    "packets dropped: IPv4 header checksum mismatch");
	assert_string_equal(mesh_net_pkt_drop_desc(MESH_NET_PKT_DROP_MAX), "unknown drop cause");
}

static void
test_ip_parse_format(void **state)
{
	uint32_t ip;
	char buf[16];

	(void)state;
	assert_int_equal(mesh_net_ip_parse("10.99.0.1", &ip), 0);
	assert_int_equal(ip, 0x0a630001u);
	assert_string_equal(mesh_net_ip_format(ip, buf, sizeof(buf)), "10.99.0.1");
	assert_int_equal(mesh_net_ip_parse("10.99.0", &ip), -EINVAL);
	assert_int_equal(mesh_net_ip_parse("10.99.0.256", &ip), -EINVAL);
	assert_int_equal(mesh_net_ip_parse("10.99.0.1x", &ip), -EINVAL);
	assert_int_equal(mesh_net_ip_parse("", &ip), -EINVAL);
	assert_int_equal(mesh_net_ip_parse(NULL, &ip), -EINVAL);
	assert_int_equal(mesh_net_pkt_build_udp((uint8_t *)buf, mac_a, mac_b, 1, 2, 3, 4, 70000, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_round_trip_and_checksums),
		cmocka_unit_test(test_rfc1071_vector),
		cmocka_unit_test(test_arp_build_parse),
		cmocka_unit_test(test_every_drop_cause),
		cmocka_unit_test(test_ip_parse_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
