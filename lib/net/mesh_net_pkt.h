/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pure (no DPDK) Ethernet/ARP/IPv4/UDP parsing and header building for meshd's data plane.
 * Kept free of DPDK so the parser is unit tested and fuzzed without EAL; lib/net's DPDK
 * code calls it on mbuf data. Every refusal has its own cause, which lib/net counts.
 * Also pure: the receive fault injection (testing only) spec parser, its per-packet
 * decision and the delay queue the rx stage holds delayed frames in.
 */
#ifndef MESH_NET_PKT_H
#define MESH_NET_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_NET_ETH_HLEN 14u
#define MESH_NET_IP_HLEN 20u
#define MESH_NET_UDP_HLEN 8u
#define MESH_NET_HDRS_LEN (MESH_NET_ETH_HLEN + MESH_NET_IP_HLEN + MESH_NET_UDP_HLEN)
#define MESH_NET_ARP_LEN 28u
#define MESH_NET_ETHERTYPE_IPV4 0x0800u
#define MESH_NET_ETHERTYPE_ARP 0x0806u
#define MESH_NET_IPPROTO_UDP 17u
#define MESH_NET_ARP_OP_REQUEST 1u
#define MESH_NET_ARP_OP_REPLY 2u

/** What a received Ethernet frame turned out to be. */
enum mesh_net_pkt_kind {
	MESH_NET_PKT_NONE = 0,
	MESH_NET_PKT_UDP,       /**< IPv4/UDP to our address and port */
	MESH_NET_PKT_ARP,       /**< well-formed Ethernet/IPv4 ARP */
};

/**
 * Parse outcomes: 0 = accepted, otherwise the drop cause, X(name, description). The
 * X-macro gives lib/net its counters (rx_drop_<name>) and their descriptions.
 */
#define MESH_NET_PKT_DROPS(X) \
	X(runt, "packets dropped: shorter than an Ethernet header") \
	X(not_for_us_mac, "packets dropped: unicast to another MAC") \
	X(ethertype, "packets dropped: neither IPv4 nor ARP (IPv6, VLAN, LLDP ...)") \
	X(arp_malformed, "packets dropped: truncated ARP, or not Ethernet/IPv4 ARP") \
	X(ip_header, "packets dropped: bad IPv4 version, header length or total length") \
	X(ip_checksum, "packets dropped: IPv4 header checksum mismatch") \
	X(ip_fragment, "packets dropped: IPv4 fragment (fragments are not reassembled)") \
	X(ip_not_udp, "packets dropped: an IP protocol other than UDP") \
	X(ip_not_for_us, "packets dropped: IPv4 to another address") \
	X(udp_length, "packets dropped: UDP length disagrees with the IP packet") \
	X(wrong_port, "packets dropped: UDP to a port this node does not serve")

#define MESH_NET_PKT_DROP_ENUM(name, desc) MESH_NET_PKT_DROP_##name,
enum mesh_net_pkt_drop {
	MESH_NET_PKT_OK = 0,
	MESH_NET_PKT_DROPS(MESH_NET_PKT_DROP_ENUM)
	MESH_NET_PKT_DROP_MAX
};

/** Parsed view of a frame; pointers alias the input. Addresses/ports in host order. */
struct mesh_net_pkt {
	enum mesh_net_pkt_kind kind;
	const uint8_t *eth_src;
	const uint8_t *eth_dst;
	/* UDP */
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ttl;
	const uint8_t *payload;
	uint16_t payload_len;
	/* ARP */
	uint16_t arp_op;
	const uint8_t *arp_sha;
	uint32_t arp_spa;
	uint32_t arp_tpa;
};

/** Addressing a node filters on. port 0 accepts any UDP port. */
struct mesh_net_addr {
	uint8_t mac[6];
	uint32_t ip;
	uint16_t port;
};

/**
 * Parse @len bytes of an Ethernet frame. The UDP checksum is not verified (kernel veth
 * peers hand over partial checksums; meshd frames carry their own checksum or AEAD tag);
 * the IPv4 header checksum is. Returns MESH_NET_PKT_OK or a drop cause (>= 1).
 */
int mesh_net_pkt_parse(const uint8_t *frame, size_t len, const struct mesh_net_addr *self,
		       struct mesh_net_pkt *out);

/** Internet checksum (RFC 1071) over @len bytes, folded, not inverted, seeded by @sum. */
uint32_t mesh_net_csum_partial(const void *data, size_t len, uint32_t sum);

/** Fold and invert a partial sum into the 16-bit header value. */
uint16_t mesh_net_csum_fold(uint32_t sum);

/**
 * Write Ethernet + IPv4 + UDP headers in front of @udp_payload_len payload bytes that
 * already sit at @frame + MESH_NET_HDRS_LEN, with full IPv4 and UDP checksums.
 * Returns the frame length (MESH_NET_HDRS_LEN + payload), or 0 if it exceeds 65535 B.
 */
size_t mesh_net_pkt_build_udp(uint8_t *frame, const uint8_t *src_mac, const uint8_t *dst_mac,
			      uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			      uint16_t dst_port, size_t udp_payload_len, uint16_t ip_id);

/** Write a 42-byte ARP request or reply frame. @tha may be NULL (zeros). Returns 42. */
size_t mesh_net_pkt_build_arp(uint8_t *frame, uint16_t op, const uint8_t *src_mac,
			      const uint8_t *dst_mac, const uint8_t *sha, uint32_t spa,
			      const uint8_t *tha, uint32_t tpa);

/** Short name of a drop cause ("runt", "wrong_port", ...). */
const char *mesh_net_pkt_drop_name(int drop);
/** One-line description of a drop cause ("packets dropped: ..."). */
const char *mesh_net_pkt_drop_desc(int drop);

/** Parse "a.b.c.d" into a host-order address. 0 or -EINVAL. */
int mesh_net_ip_parse(const char *s, uint32_t *ip);

/** Format a host-order address into @buf (>= 16 bytes). Returns @buf. */
char *mesh_net_ip_format(uint32_t ip, char *buf, size_t len);

/* ---------------------------------------------------------------- fault injection */

/*
 * Receive fault injection (testing only: the kernel here has no netem). Spec text:
 * comma-separated loss=P, dup=P (P a percentage 0..100, decimals allowed), delay=US or
 * delay=MIN-MAX (microseconds, uniform in the range; random delays also reorder) and
 * seed=N. Each key at most once.
 */
#define MESH_NET_FAULT_DELAY_MAX_US 10000000u /* 10 s */

struct mesh_net_fault_spec {
	double loss;            /* drop probability, 0..1 */
	double dup;             /* probability of one extra copy, 0..1 */
	uint64_t delay_min_ns;  /* hold every frame this long ... */
	uint64_t delay_max_ns;  /* ... up to this (uniform); 0 = no delay */
	uint64_t seed;
	bool has_seed;          /* seed= given (else the user picks one) */
};

/**
 * Parse @text into @out. 0, or -EINVAL with a message naming the bad token in @err
 * (@err_len bytes, may be NULL/0).
 */
int mesh_net_fault_spec_parse(const char *text, struct mesh_net_fault_spec *out, char *err,
			      size_t err_len);

/** Write the spec back as text ("loss=5,dup=0,delay=100-200,seed=N") into @buf. */
char *mesh_net_fault_spec_format(const struct mesh_net_fault_spec *s, char *buf, size_t len);

enum mesh_net_fault_action {
	MESH_NET_FAULT_PASS = 0, /**< deliver (maybe later, maybe with copies) */
	MESH_NET_FAULT_DROP,     /**< free the frame; nothing else applies */
};

/** What to do with one frame. */
struct mesh_net_fault_verdict {
	enum mesh_net_fault_action action;
	uint32_t dups;          /* extra copies to deliver (0 or 1) */
	uint64_t delay_ns;      /* hold the frame and its copies this long (0 = now) */
	uint64_t release_ns;    /* now_ns + delay_ns */
};

struct mesh_rng;

/**
 * Decide the fate of one frame received at @now_ns, drawing from @rng (seeded by the
 * caller; the same spec, seed and call sequence give the same verdicts). Returns
 * v->action.
 */
enum mesh_net_fault_action mesh_net_fault_decide(const struct mesh_net_fault_spec *s,
						 struct mesh_rng *rng, uint64_t now_ns,
						 struct mesh_net_fault_verdict *v);

/**
 * Delay queue: a binary min-heap of (release time, item) over caller memory; equal release
 * times leave in push order. Bounded: a full queue refuses the push.
 */
struct mesh_net_delayq_slot {
	uint64_t due_ns;
	uint64_t order;   /* push sequence: FIFO among equal due times */
	void *item;
};

struct mesh_net_delayq {
	struct mesh_net_delayq_slot *slots;
	uint32_t cap;
	uint32_t n;
	uint64_t pushes;
};

/** Use @slots[@cap] as an empty queue. */
void mesh_net_delayq_create(struct mesh_net_delayq *q, struct mesh_net_delayq_slot *slots,
			    uint32_t cap);

/** Hold @item until @due_ns. 0, or -ENOSPC when full. */
int mesh_net_delayq_push(struct mesh_net_delayq *q, uint64_t due_ns, void *item);

/** The earliest item due at or before @now_ns (removed), or NULL. UINT64_MAX drains. */
void *mesh_net_delayq_pop_due(struct mesh_net_delayq *q, uint64_t now_ns);

/** Release time of the earliest item, UINT64_MAX when empty. */
uint64_t mesh_net_delayq_next_ns(const struct mesh_net_delayq *q);

#endif /* MESH_NET_PKT_H */
