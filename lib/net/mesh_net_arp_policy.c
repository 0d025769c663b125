/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ARP learning rule of lib/net (see mesh_net_arp_policy.h). Checks run from the
 * cheapest and most general to the entry-specific ones, and the first that fails names
 * the verdict, so every ignored packet is counted exactly once.
 */
#include <string.h>

#include "mesh_net_arp_policy.h"

static bool
mac_unicast(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

enum mesh_net_arp_verdict
mesh_net_arp_decide(const struct mesh_net_pkt *pkt, uint32_t self_ip,
		    enum mesh_net_arp_entry entry, const uint8_t *entry_mac)
{
	if (pkt->arp_spa == 0 || !mac_unicast(pkt->arp_sha))
		return MESH_NET_ARP_invalid;
	if (pkt->arp_spa == self_ip)
		return MESH_NET_ARP_claims_self;
	if (pkt->arp_spa == pkt->arp_tpa)
		return MESH_NET_ARP_gratuitous;
	if (pkt->arp_op != MESH_NET_ARP_OP_REPLY)
		return MESH_NET_ARP_request;
	if (pkt->arp_tpa != self_ip)
		return MESH_NET_ARP_unsolicited;
	switch (entry) {
	case MESH_NET_ARP_ENTRY_PENDING:
		return MESH_NET_ARP_learn;
	case MESH_NET_ARP_ENTRY_RESOLVED:
		return memcmp(entry_mac, pkt->arp_sha, 6) == 0 ? MESH_NET_ARP_unsolicited
							       : MESH_NET_ARP_conflict;
	case MESH_NET_ARP_ENTRY_NONE:
	default:
		return MESH_NET_ARP_unsolicited;
	}
}

bool
mesh_net_arp_answer(const struct mesh_net_pkt *pkt, uint32_t self_ip)
{
	return pkt->arp_op == MESH_NET_ARP_OP_REQUEST && pkt->arp_tpa == self_ip &&
	       pkt->arp_spa != self_ip && mac_unicast(pkt->arp_sha);
}

const char *
mesh_net_arp_verdict_name(enum mesh_net_arp_verdict v)
{
#define NAME(n, d) #n,
	static const char *const names[] = { MESH_NET_ARP_VERDICTS(NAME) };
#undef NAME
	return (unsigned)v < MESH_NET_ARP_VERDICT_MAX ? names[v] : "?";
}

bool
mesh_net_neigh_mac_mismatch(enum mesh_net_arp_entry entry, const uint8_t *entry_mac,
			    const uint8_t *src_mac)
{
	return entry == MESH_NET_ARP_ENTRY_RESOLVED && entry_mac != NULL && src_mac != NULL &&
	       memcmp(entry_mac, src_mac, 6) != 0;
}
