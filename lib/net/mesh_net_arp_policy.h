/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What meshd does with one received ARP packet (pure C, no DPDK): the decision half of
 * mesh_net_arp.c, so it is unit tested without EAL. The rule (doc/security.md, "ARP"): a
 * neighbour's MAC is learned from an ARP reply only while our own request for that
 * address is outstanding; requests (answered when they ask for our address), gratuitous
 * ARP, replies nobody asked for and replies that contradict a resolved entry change
 * nothing. Valid meshd frames are the other source (mesh_net_io.c).
 */
#ifndef MESH_NET_ARP_POLICY_H
#define MESH_NET_ARP_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh_net_pkt.h"

/** State of the neighbour entry for the packet's sender address. */
enum mesh_net_arp_entry {
	MESH_NET_ARP_ENTRY_NONE = 0, /**< no entry */
	MESH_NET_ARP_ENTRY_PENDING,  /**< our request for it is outstanding */
	MESH_NET_ARP_ENTRY_RESOLVED, /**< resolved, its MAC is given */
};

/** Verdicts: LEARN, or why the packet changes nothing (one counter each in lib/net). */
#define MESH_NET_ARP_VERDICTS(X) \
	X(learn, "ARP replies that resolved one of our outstanding requests") \
	X(invalid, "ARP ignored: sender address 0.0.0.0 or a multicast/zero sender MAC") \
	X(claims_self, "ARP ignored: it claims our own address for another MAC") \
	X(gratuitous, "ARP ignored: gratuitous (sender address = target address)") \
	X(request, "ARP requests not learned from (those for our address are answered)") \
	X(unsolicited, "ARP replies ignored: not for us, or no request of ours outstanding") \
	X(conflict, "ARP replies ignored: a resolved neighbour claimed with another MAC")

#define MESH_NET_ARP_VERDICT_ENUM(name, desc) MESH_NET_ARP_##name,
enum mesh_net_arp_verdict {
	MESH_NET_ARP_VERDICTS(MESH_NET_ARP_VERDICT_ENUM)
	MESH_NET_ARP_VERDICT_MAX
};

/**
 * Decide about a parsed ARP packet @pkt (kind MESH_NET_PKT_ARP) received by @self_ip, the
 * entry for pkt->arp_spa being @entry (@entry_mac its MAC when RESOLVED, else unused).
 */
enum mesh_net_arp_verdict mesh_net_arp_decide(const struct mesh_net_pkt *pkt, uint32_t self_ip,
					      enum mesh_net_arp_entry entry,
					      const uint8_t *entry_mac);

/**
 * True when a UDP frame from an address whose neighbour entry is @entry (@entry_mac when
 * RESOLVED) came from another MAC (@src_mac): drop it before decode, leave the entry as it
 * is. Frames from addresses without a resolved entry are not judged here (false).
 */
bool mesh_net_neigh_mac_mismatch(enum mesh_net_arp_entry entry, const uint8_t *entry_mac,
				 const uint8_t *src_mac);

/** True when @pkt is a request for @self_ip from a unicast sender: answer it. */
bool mesh_net_arp_answer(const struct mesh_net_pkt *pkt, uint32_t self_ip);

/** Name of a verdict ("learn", "unsolicited", ...). */
const char *mesh_net_arp_verdict_name(enum mesh_net_arp_verdict v);

#endif
