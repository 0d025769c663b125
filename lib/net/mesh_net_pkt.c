/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/ARP/IPv4/UDP parser and builders (pure C). The parser reads every field with
 * bounds checked against the frame length first and never trusts a length field; it is
 * fuzzed by tests/fuzz/net. The builders always write complete IPv4 and UDP checksums so
 * kernel peers behind veth accept what meshd sends (see doc/architecture.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const char *const drop_names[MESH_NET_PKT_DROP_MAX] = {
	"ok",
	MESH_NET_PKT_DROPS(MESH_COUNTER_NAME)
};
static const char *const drop_descs[MESH_NET_PKT_DROP_MAX] = {
	"packets accepted",
	MESH_NET_PKT_DROPS(MESH_COUNTER_DESC)
};

static const char *
drop_lookup(const char *const *table, int drop, const char *unknown)
{
	return drop >= 0 && drop < MESH_NET_PKT_DROP_MAX ? table[drop] : unknown;
}

const char *
mesh_net_pkt_drop_name(int drop)
{
	return drop_lookup(drop_names, drop, "unknown");
}

const char *
mesh_net_pkt_drop_desc(int drop)
{
	return drop_lookup(drop_descs, drop, "unknown drop cause");
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

uint32_t
mesh_net_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 2) {
		acc += rd16(p);
		p += 2;
		len -= 2;
	}
	if (len == 1)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t
mesh_net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int
parse_arp(const uint8_t *p, size_t len, struct mesh_net_pkt *out)
{
	if (len < MESH_NET_ARP_LEN)
		return MESH_NET_PKT_DROP_arp_malformed;
	/* Ethernet (1) / IPv4, hlen 6, plen 4 */
	if (rd16(p) != 1 || rd16(p + 2) != MESH_NET_ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4)
		return MESH_NET_PKT_DROP_arp_malformed;
	out->arp_op = rd16(p + 6);
	if (out->arp_op != MESH_NET_ARP_OP_REQUEST && out->arp_op != MESH_NET_ARP_OP_REPLY)
		return MESH_NET_PKT_DROP_arp_malformed;
	out->arp_sha = p + 8;
	out->arp_spa = rd32(p + 14);
	out->arp_tpa = rd32(p + 24);
	out->kind = MESH_NET_PKT_ARP;
	return MESH_NET_PKT_OK;
}

static int
parse_ipv4_udp(const uint8_t *p, size_t len, const struct mesh_net_addr *self,
	       struct mesh_net_pkt *out)
{
	size_t ihl, tot, ulen;
	const uint8_t *udp;

	if (len < MESH_NET_IP_HLEN || (p[0] >> 4) != 4)
		return MESH_NET_PKT_DROP_ip_header;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	/* Ethernet pads short frames, so the IP packet may be shorter than what we got. */
	if (ihl < MESH_NET_IP_HLEN || tot < ihl || tot > len)
		return MESH_NET_PKT_DROP_ip_header;
	if (mesh_net_csum_fold(mesh_net_csum_partial(p, ihl, 0)) != 0)
		return MESH_NET_PKT_DROP_ip_checksum;
	if ((rd16(p + 6) & 0x3fff) != 0) /* MF set or fragment offset */
		return MESH_NET_PKT_DROP_ip_fragment;
	if (p[9] != MESH_NET_IPPROTO_UDP)
		return MESH_NET_PKT_DROP_ip_not_udp;
	out->src_ip = rd32(p + 12);
	out->dst_ip = rd32(p + 16);
	out->ttl = p[8];
	if (self != NULL && out->dst_ip != self->ip)
		return MESH_NET_PKT_DROP_ip_not_for_us;
	udp = p + ihl;
	if (tot - ihl < MESH_NET_UDP_HLEN)
		return MESH_NET_PKT_DROP_udp_length;
	ulen = rd16(udp + 4);
	if (ulen < MESH_NET_UDP_HLEN || ulen != tot - ihl)
		return MESH_NET_PKT_DROP_udp_length;
	out->src_port = rd16(udp);
	out->dst_port = rd16(udp + 2);
	if (self != NULL && self->port != 0 && out->dst_port != self->port)
		return MESH_NET_PKT_DROP_wrong_port;
	out->payload = udp + MESH_NET_UDP_HLEN;
	out->payload_len = (uint16_t)(ulen - MESH_NET_UDP_HLEN);
	out->kind = MESH_NET_PKT_UDP;
	return MESH_NET_PKT_OK;
}

int
mesh_net_pkt_parse(const uint8_t *frame, size_t len, const struct mesh_net_addr *self,
		   struct mesh_net_pkt *out)
{
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (len < MESH_NET_ETH_HLEN)
		return MESH_NET_PKT_DROP_runt;
	out->eth_dst = frame;
	out->eth_src = frame + 6;
	if (self != NULL && memcmp(frame, self->mac, 6) != 0 && memcmp(frame, bcast, 6) != 0)
		return MESH_NET_PKT_DROP_not_for_us_mac;
	type = rd16(frame + 12);
	if (type == MESH_NET_ETHERTYPE_ARP)
		return parse_arp(frame + MESH_NET_ETH_HLEN, len - MESH_NET_ETH_HLEN, out);
	if (type == MESH_NET_ETHERTYPE_IPV4)
		return parse_ipv4_udp(frame + MESH_NET_ETH_HLEN, len - MESH_NET_ETH_HLEN, self,
				      out);
	return MESH_NET_PKT_DROP_ethertype;
}

static void
write_eth(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	wr16(f + 12, type);
}

size_t
mesh_net_pkt_build_udp(uint8_t *frame, const uint8_t *src_mac, const uint8_t *dst_mac,
		       uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
		       size_t udp_payload_len, uint16_t ip_id)
{
	uint8_t *ip = frame + MESH_NET_ETH_HLEN;
	uint8_t *udp = ip + MESH_NET_IP_HLEN;
	size_t ulen = MESH_NET_UDP_HLEN + udp_payload_len;
	size_t tot = MESH_NET_IP_HLEN + ulen;
	uint32_t sum;
	uint16_t csum;

	if (tot > 0xffff)
		return 0;
	write_eth(frame, src_mac, dst_mac, MESH_NET_ETHERTYPE_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 4, ip_id);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = MESH_NET_IPPROTO_UDP;
	wr16(ip + 10, 0);
	wr32(ip + 12, src_ip);
	wr32(ip + 16, dst_ip);
	wr16(ip + 10, mesh_net_csum_fold(mesh_net_csum_partial(ip, MESH_NET_IP_HLEN, 0)));

	wr16(udp, src_port);
	wr16(udp + 2, dst_port);
	wr16(udp + 4, (uint16_t)ulen);
	wr16(udp + 6, 0);
	/* pseudo header: src, dst, zero+proto, udp length */
	sum = mesh_net_csum_partial(ip + 12, 8, 0);
	sum += MESH_NET_IPPROTO_UDP + (uint32_t)ulen;
	sum = mesh_net_csum_partial(udp, ulen, sum);
	csum = mesh_net_csum_fold(sum);
	wr16(udp + 6, csum == 0 ? 0xffff : csum);
	return MESH_NET_ETH_HLEN + tot;
}

size_t
mesh_net_pkt_build_arp(uint8_t *frame, uint16_t op, const uint8_t *src_mac,
		       const uint8_t *dst_mac, const uint8_t *sha, uint32_t spa,
		       const uint8_t *tha, uint32_t tpa)
{
	static const uint8_t zero[6];
	uint8_t *a = frame + MESH_NET_ETH_HLEN;

	write_eth(frame, src_mac, dst_mac, MESH_NET_ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, MESH_NET_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha, 6);
	wr32(a + 14, spa);
	memcpy(a + 18, tha != NULL ? tha : zero, 6);
	wr32(a + 24, tpa);
	return MESH_NET_ETH_HLEN + MESH_NET_ARP_LEN;
}

int
mesh_net_ip_parse(const char *s, uint32_t *ip)
{
	unsigned a, b, c, d;
	char tail;

	if (s == NULL || sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
	    b > 255 || c > 255 || d > 255)
		return -EINVAL;
	*ip = (a << 24) | (b << 16) | (c << 8) | d;
	return 0;
}

char *
mesh_net_ip_format(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
	return buf;
}
