/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP for lib/net, on the tx stage (it owns the neighbour table): answer requests for our
 * address, resolve unknown next hops with retried requests while holding a few packets
 * per neighbour, learn neighbours. A direct-mapped table with short linear probing:
 * lookups on the send path touch one or two cache lines.
 *
 * Learning is closed to strangers (doc/security.md, "ARP"): a MAC comes only from a reply
 * to a request of ours that is still outstanding (mesh_net_arp_policy.c decides) or from
 * a valid meshd frame (authenticated when keyed), which the rx stage passes on through
 * the port's learn queue. Requests are answered, never learned from; gratuitous ARP and
 * unsolicited or contradicting replies are counted and dropped. Only our own resolution
 * may evict an entry (an unresolved one first, else the least recently refreshed), a
 * frame creates one only in a free slot, and valid traffic keeps entries fresh.
 */
#include <string.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "mesh_net_arp_policy.h"
#include "net_internal.h"

#define PROBE 8
#define RETRY_NS (200 * MESH_NS_PER_MS)
#define MAX_REQUESTS 5
#define STALE_NS (300 * MESH_NS_PER_SEC)
#define LEARN_REFRESH_NS MESH_NS_PER_SEC
#define IPV4_FMT "%u.%u.%u.%u"
#define IPV4_ARGS(ip) (ip) >> 24, ((ip) >> 16) & 255, ((ip) >> 8) & 255, (ip) & 255

_Static_assert(MESH_NET_CTR_rx_arp_ignored_conflict - MESH_NET_CTR_rx_arp_learned ==
		       MESH_NET_ARP_conflict - MESH_NET_ARP_learn,
	       "one counter per ARP verdict, in the same order");

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct mesh_net_neigh *
slot(struct mesh_net_port *p, uint32_t ip, unsigned i)
{
	return &p->neigh[(ip + i) & (MESH_NET_ARP_SLOTS - 1)];
}

static struct mesh_net_neigh *
neigh_lookup(struct mesh_net_port *p, uint32_t ip)
{
	for (unsigned i = 0; i < PROBE; i++)
		if (slot(p, ip, i)->ip == ip)
			return slot(p, ip, i);
	return NULL;
}

static struct mesh_net_neigh *
neigh_free_slot(struct mesh_net_port *p, uint32_t ip)
{
	for (unsigned i = 0; i < PROBE; i++)
		if (slot(p, ip, i)->ip == 0)
			return slot(p, ip, i);
	return NULL;
}

static void
neigh_claim(struct mesh_net_neigh *n, uint32_t ip, uint64_t now_ns)
{
	memset(n, 0, sizeof(*n));
	n->ip = ip;
	n->updated_ns = now_ns;
}

struct mesh_net_neigh *
net_neigh_find(struct mesh_net_port *p, uint32_t ip, bool create, uint64_t now_ns)
{
	struct mesh_net_neigh *victim = neigh_lookup(p, ip);

	if (victim != NULL || !create)
		return victim;
	victim = neigh_free_slot(p, ip);
	if (victim == NULL) {
		/* our own resolution: evict an unresolved entry first, else the least recently
		 * refreshed one (members' entries are refreshed by their traffic) */
		for (unsigned i = 0; i < PROBE; i++) {
			struct mesh_net_neigh *n = slot(p, ip, i);
			if (victim == NULL || (!n->resolved && victim->resolved) ||
			    (n->resolved == victim->resolved && n->updated_ns < victim->updated_ns))
				victim = n;
		}
		rte_pktmbuf_free_bulk(victim->hold, victim->n_hold);
		mesh_counter_add(&mesh_net_ctr(p)[MESH_NET_CTR_neigh_evicted], 1);
	}
	neigh_claim(victim, ip, now_ns);
	return victim;
}

static void
neigh_flush(struct mesh_net_port *p, struct mesh_net_neigh *n)
{
	for (uint16_t i = 0; i < n->n_hold; i++)
		net_tx_enqueue_resolved(p, n->hold[i], &n->mac);
	n->n_hold = 0;
}

static void
neigh_set(struct mesh_net_port *p, struct mesh_net_neigh *n, const uint8_t *mac,
	  uint64_t now_ns)
{
	memcpy(n->mac.addr_bytes, mac, 6);
	n->resolved = true;
	n->updated_ns = now_ns;
	n->requests = 0;
	neigh_flush(p, n);
}

/*
 * A valid frame from @ip came from @mac: it refreshes a resolved neighbour at that same
 * MAC, nothing else. A frame that opens proves nothing about the host that sent it
 * (keyless xxh3 is no authentication, and a captured frame replayed from another host
 * opens too, keyed or not): creating an entry from it lets a replayer pin a member's IP
 * to its own MAC before our ARP request is answered, and moving one cuts a member off.
 * Entries are created and resolved only by replies to our own requests; a neighbour that
 * really moved stops refreshing its old entry, which ages out and is resolved again.
 */
static void
neigh_learn_frame(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac, uint64_t now_ns)
{
	uint64_t *ctr = mesh_net_ctr(p);
	struct mesh_net_neigh *n;

	if (ip == 0 || ip == p->self.ip || (mac[0] & 1) != 0)
		return;
	n = neigh_lookup(p, ip);
	if (n == NULL || !n->resolved) {
		mesh_counter_add(&ctr[MESH_NET_CTR_neigh_learn_unknown], 1);
		return;
	}
	if (memcmp(n->mac.addr_bytes, mac, 6) != 0) {
		mesh_counter_add(&ctr[MESH_NET_CTR_neigh_move_refused], 1);
		if (mesh_ratelimit_allow(&p->drop_log, now_ns))
			MESH_RTE_LOG(INFO, net, "neighbour " IPV4_FMT ": a frame from "
				     RTE_ETHER_ADDR_PRT_FMT " does not move it (kept)", IPV4_ARGS(ip),
				     mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return;
	}
	mesh_counter_add(&ctr[MESH_NET_CTR_neigh_learn_frame], 1);
	neigh_set(p, n, mac, now_ns);
}

/*
 * rx: a UDP frame from @ip whose resolved entry names another MAC is a spoofer's (or a
 * replay from another host): the caller drops it before decode. Nothing moves and nothing
 * is resolved again; an address without a resolved entry is not judged here. The entry is
 * the tx stage's: read without a lock, a torn read can only misjudge a frame while its
 * entry is being (re)set.
 */
bool
net_neigh_mac_mismatch(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac)
{
	const struct mesh_net_neigh *n = neigh_lookup(p, ip);

	return n != NULL && mesh_net_neigh_mac_mismatch(n->resolved ? MESH_NET_ARP_ENTRY_RESOLVED
							       : MESH_NET_ARP_ENTRY_PENDING,
							   n->mac.addr_bytes, mac);
}

void
net_neigh_learn_post(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac,
		     uint64_t now_ns)
{
	struct mesh_net_learn_q *q = &p->learn;
	struct mesh_net_learn *seen = &q->seen[(ip ^ (ip >> 8)) & (MESH_NET_LEARN_SEEN - 1)];
	uint32_t tail = q->tail;
	struct mesh_net_learn *e;

	if (seen->ip == ip && memcmp(seen->mac, mac, 6) == 0 &&
	    now_ns - seen->ns < LEARN_REFRESH_NS)
		return;
	if (tail - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == MESH_NET_LEARN_Q) {
		mesh_counter_add(&mesh_net_ctr(p)[MESH_NET_CTR_neigh_learn_queue_full], 1);
		return;
	}
	seen->ip = ip;
	memcpy(seen->mac, mac, 6);
	seen->ns = now_ns;
	e = &q->e[tail & (MESH_NET_LEARN_Q - 1)];
	e->ip = ip;
	memcpy(e->mac, mac, 6);
	e->ns = now_ns;
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
}

void
mesh_net_neigh_sync(struct mesh_net_port *p, uint64_t now_ns)
{
	struct mesh_net_learn_q *q = &p->learn;
	uint32_t head = q->head, tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);

	(void)now_ns;
	for (; head != tail; head++) {
		const struct mesh_net_learn *e = &q->e[head & (MESH_NET_LEARN_Q - 1)];
		neigh_learn_frame(p, e->ip, e->mac, e->ns);
	}
	__atomic_store_n(&q->head, head, __ATOMIC_RELEASE);
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
	enum mesh_net_arp_entry state = MESH_NET_ARP_ENTRY_NONE;
	enum mesh_net_arp_verdict v;
	struct mesh_net_neigh *n;
	struct mesh_net_pkt pkt;

	/* classified as ARP by the rx stage; parse again here, it is 42 bytes */
	if (mesh_net_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       &p->self, &pkt) != MESH_NET_PKT_OK || pkt.kind != MESH_NET_PKT_ARP) {
		rte_pktmbuf_free(m);
		return;
	}
	mesh_counter_add(&ctr[pkt.arp_op == MESH_NET_ARP_OP_REQUEST ? MESH_NET_CTR_rx_arp_request
								    : MESH_NET_CTR_rx_arp_reply], 1);
	n = pkt.arp_spa != 0 ? neigh_lookup(p, pkt.arp_spa) : NULL;
	if (n != NULL)
		state = n->resolved ? MESH_NET_ARP_ENTRY_RESOLVED : MESH_NET_ARP_ENTRY_PENDING;
	v = mesh_net_arp_decide(&pkt, p->self.ip, state, n != NULL ? n->mac.addr_bytes : NULL);
	mesh_counter_add(&ctr[MESH_NET_CTR_rx_arp_learned + v], 1);
	if (v == MESH_NET_ARP_learn)
		neigh_set(p, n, pkt.arp_sha, now_ns);
	else if (v != MESH_NET_ARP_request && mesh_ratelimit_allow(&p->drop_log, now_ns))
		MESH_RTE_LOG(DEBUG, net, "ARP from " IPV4_FMT " ignored: %s",
			     IPV4_ARGS(pkt.arp_spa), mesh_net_arp_verdict_name(v));
	if (mesh_net_arp_answer(&pkt, p->self.ip))
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

	mesh_net_neigh_sync(p, now_ns);
	for (unsigned i = 0; i < MESH_NET_ARP_SLOTS; i++) {
		struct mesh_net_neigh *n = &p->neigh[i];
		if (n->ip == 0)
			continue;
		if (n->resolved) {
			if (now_ns > n->updated_ns && now_ns - n->updated_ns > STALE_NS)
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
