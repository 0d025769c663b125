/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP for lib/net: answer requests for our address, learn neighbours from ARP and from
 * authenticated meshd frames, resolve unknown next hops with retried requests while holding
 * a few packets per neighbour. A direct-mapped table with short linear probing: lookups on
 * the send path touch one or two cache lines.
 */
#include <string.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "net_internal.h"

#define PROBE 8
#define RETRY_NS (200 * MESH_NS_PER_MS)
#define MAX_REQUESTS 5
#define STALE_NS (300 * MESH_NS_PER_SEC)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct mesh_net_neigh *
net_neigh_find(struct mesh_net_port *p, uint32_t ip, bool create, uint64_t now_ns)
{
	struct mesh_net_neigh *victim = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct mesh_net_neigh *n = &p->neigh[(ip + i) & (MESH_NET_ARP_SLOTS - 1)];
		if (n->ip == ip)
			return n;
		if (n->ip == 0 && victim == NULL)
			victim = n;
	}
	if (!create)
		return NULL;
	if (victim == NULL) {
		/* evict the oldest resolved entry in the probe window */
		for (unsigned i = 0; i < PROBE; i++) {
			struct mesh_net_neigh *n = &p->neigh[(ip + i) & (MESH_NET_ARP_SLOTS - 1)];
			if (victim == NULL || n->updated_ns < victim->updated_ns)
				victim = n;
		}
		rte_pktmbuf_free_bulk(victim->hold, victim->n_hold);
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	victim->updated_ns = now_ns;
	return victim;
}

static void
neigh_flush(struct mesh_net_port *p, struct mesh_net_neigh *n)
{
	for (uint16_t i = 0; i < n->n_hold; i++)
		net_tx_enqueue_resolved(p, n->hold[i], &n->mac);
	n->n_hold = 0;
}

void
net_neigh_learn(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac, bool create,
		uint64_t now_ns)
{
	struct mesh_net_neigh *n;

	if (ip == 0 || ip == p->self.ip || (mac[0] & 1) != 0)
		return;
	n = net_neigh_find(p, ip, create, now_ns);
	if (n == NULL)
		return;
	memcpy(n->mac.addr_bytes, mac, 6);
	n->resolved = true;
	n->updated_ns = now_ns;
	n->requests = 0;
	neigh_flush(p, n);
}

static void
send_arp(struct mesh_net_port *p, uint16_t op, const uint8_t *dst_mac, const uint8_t *tha,
	 uint32_t tpa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	uint64_t *ctr = mesh_net_ctr(p);
	uint8_t *f;

	if (m == NULL) {
		mesh_counter_add(&ctr[MESH_NET_CTR_tx_drop_nombuf], 1);
		return;
	}
	f = (uint8_t *)rte_pktmbuf_append(m, MESH_NET_ETH_HLEN + MESH_NET_ARP_LEN);
	mesh_net_pkt_build_arp(f, op, p->self.mac, dst_mac, p->self.mac, p->self.ip, tha, tpa);
	mesh_counter_add(&ctr[op == MESH_NET_ARP_OP_REPLY ? MESH_NET_CTR_tx_arp_reply
							  : MESH_NET_CTR_tx_arp_request], 1);
	net_tx_enqueue_raw(p, m);
}

void
mesh_net_arp_input(struct mesh_net_port *p, struct rte_mbuf *m, uint64_t now_ns)
{
	uint64_t *ctr = mesh_net_ctr(p);
	struct mesh_net_pkt pkt;
	bool for_us;

	/* classified as ARP by the rx stage; parse again here, it is 42 bytes */
	if (mesh_net_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       &p->self, &pkt) != MESH_NET_PKT_OK || pkt.kind != MESH_NET_PKT_ARP) {
		rte_pktmbuf_free(m);
		return;
	}
	for_us = pkt.arp_tpa == p->self.ip;
	mesh_counter_add(&ctr[pkt.arp_op == MESH_NET_ARP_OP_REQUEST ? MESH_NET_CTR_rx_arp_request
								    : MESH_NET_CTR_rx_arp_reply], 1);
	/* RFC 826: update an existing entry always; create one only if the ARP targets us */
	net_neigh_learn(p, pkt.arp_spa, pkt.arp_sha, for_us, now_ns);
	if (for_us && pkt.arp_op == MESH_NET_ARP_OP_REQUEST)
		send_arp(p, MESH_NET_ARP_OP_REPLY, pkt.eth_src, pkt.arp_sha, pkt.arp_spa);
	rte_pktmbuf_free(m);
}

void
net_arp_resolve(struct mesh_net_port *p, struct mesh_net_neigh *n, struct rte_mbuf *m,
		uint64_t now_ns)
{
	uint64_t *ctr = mesh_net_ctr(p);

	if (n->n_hold == MESH_NET_ARP_HOLD) {
		/* keep the newest packets: drop the oldest held one */
		rte_pktmbuf_free(n->hold[0]);
		memmove(n->hold, n->hold + 1, sizeof(n->hold[0]) * (MESH_NET_ARP_HOLD - 1));
		n->n_hold--;
		mesh_counter_add(&ctr[MESH_NET_CTR_tx_drop_arp_hold_full], 1);
	}
	n->hold[n->n_hold++] = m;
	if (n->requests == 0 || now_ns - n->last_request_ns >= RETRY_NS) {
		n->requests++;
		n->last_request_ns = now_ns;
		send_arp(p, MESH_NET_ARP_OP_REQUEST, bcast, NULL, n->ip);
	}
}

void
mesh_net_arp_tick(struct mesh_net_port *p, uint64_t now_ns)
{
	uint64_t *ctr = mesh_net_ctr(p);

	for (unsigned i = 0; i < MESH_NET_ARP_SLOTS; i++) {
		struct mesh_net_neigh *n = &p->neigh[i];
		if (n->ip == 0)
			continue;
		if (n->resolved) {
			if (now_ns - n->updated_ns > STALE_NS)
				memset(n, 0, sizeof(*n)); /* re-resolve on next use */
			continue;
		}
		if (now_ns - n->last_request_ns < RETRY_NS)
			continue;
		if (n->requests >= MAX_REQUESTS) {
			mesh_counter_add(&ctr[MESH_NET_CTR_tx_drop_arp_unresolved], n->n_hold);
			rte_pktmbuf_free_bulk(n->hold, n->n_hold);
			memset(n, 0, sizeof(*n));
			continue;
		}
		if (n->n_hold > 0) {
			n->requests++;
			n->last_request_ns = now_ns;
			send_arp(p, MESH_NET_ARP_OP_REQUEST, bcast, NULL, n->ip);
		}
	}
}
