/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive and transmit stages of lib/net.
 * Rx: burst in, prefetch, parse L2-L4 in place, check the meshd frame, record what the next
 * stage needs in the mbuf's private area, sort into frames and ARP; everything else is
 * dropped under its own counter; counters are accumulated per burst and written once.
 * Tx: frames are built directly in mbufs; the tx stage resolves next-hop MACs (it owns the
 * neighbour table) and sends in bursts.
 * The source MAC and IP of every valid frame (authenticated when keyed) go to the tx
 * stage's neighbour table through the port's learn queue (mesh_net_arp.c).
 * With receive fault injection on (testing only), valid frames pass through it last
 * (mesh_net_fault_rx.c).
 */
#include <string.h>

#include <rte_prefetch.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "net_internal.h"

static void
count_drop(struct mesh_net_port *p, uint64_t *ctr, unsigned idx, const char *why,
	   uint64_t now_ns)
{
	mesh_counter_add(&ctr[idx], 1);
	if (mesh_ratelimit_allow(&p->drop_log, now_ns))
		MESH_RTE_LOG(DEBUG, net, "drop: %s", why);
}

/* The replay window of @sender, created only for frames that authenticated. */
static struct mesh_net_replay_slot *
replay_slot(struct mesh_net_port *p, uint64_t sender, bool create)
{
	struct mesh_net_replay_slot *victim = NULL;
	unsigned h = (unsigned)(sender ^ (sender >> 29)) & (MESH_NET_REPLAY_SLOTS - 1);

	for (unsigned i = 0; i < 8; i++) {
		struct mesh_net_replay_slot *s = &p->replay[(h + i) & (MESH_NET_REPLAY_SLOTS - 1)];
		if (s->sender == sender)
			return s;
		/* a free slot, else the least recently used one of the 8 */
		if (victim == NULL || (s->sender == 0 && victim->sender != 0) ||
		    ((s->sender == 0) == (victim->sender == 0) && s->used_ns < victim->used_ns))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->sender = sender;
	return victim;
}

/*
 * The meshd frame check: keyless (xxh3) without a security context; otherwise header,
 * then the replay window of an already known sender, then authentication (AEAD, payload
 * decrypted in place), then the window is committed. Returns MESH_WIRE_OK or the cause.
 */
static enum mesh_wire_err
frame_check(struct mesh_net_port *p, uint8_t *frame, size_t len, struct mesh_wire_hdr *hdr,
	    uint64_t now_ns)
{
	const struct mesh_wire_keyring *kr;
	struct mesh_net_replay_slot *rs = NULL;
	enum mesh_wire_err err;
	bool keyed;

	if (p->sec == NULL)
		return mesh_wire_frame_open_csum(frame, len, p->cluster_id, hdr);
	kr = p->sec->keyring;
	keyed = kr != NULL && kr->n_keys > 0;
	if (keyed) {
		err = mesh_wire_hdr_decode(frame, len, hdr);
		if (err != MESH_WIRE_OK)
			return err;
		rs = replay_slot(p, hdr->sender_id, false);
		if (rs != NULL && (err = mesh_wire_replay_check(&rs->w, hdr->seq)) != MESH_WIRE_OK)
			return err;
	}
	err = mesh_wire_frame_open(p->sec, frame, len, hdr);
	if (err != MESH_WIRE_OK || !keyed)
		return err;
	if (rs == NULL)
		rs = replay_slot(p, hdr->sender_id, true);
	mesh_wire_replay_commit(&rs->w, hdr->seq);
	rs->used_ns = now_ns;
	return MESH_WIRE_OK;
}

/* Classify one packet: 1 = valid frame (meta filled), 2 = ARP, 0 = dropped and freed. */
static int
classify(struct mesh_net_port *p, struct rte_mbuf *m, uint64_t *ctr, uint64_t now_ns)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	struct mesh_net_meta *meta;
	struct mesh_net_pkt pkt;
	struct mesh_wire_hdr hdr;
	enum mesh_wire_err werr;
	int drop;

	if (m->nb_segs != 1) {
		count_drop(p, ctr, MESH_NET_CTR_rx_drop_multiseg, "multi-segment", now_ns);
		goto free;
	}
	drop = mesh_net_pkt_parse(data, rte_pktmbuf_data_len(m), &p->self, &pkt);
	if (drop != MESH_NET_PKT_OK) {
		count_drop(p, ctr, MESH_NET_CTR_PKT_DROP_BASE + drop - 1,
			   mesh_net_pkt_drop_name(drop), now_ns);
		goto free;
	}
	if (pkt.kind == MESH_NET_PKT_ARP)
		return 2;
	if (net_neigh_mac_mismatch(p, pkt.src_ip, pkt.eth_src)) {
		count_drop(p, ctr, MESH_NET_CTR_rx_drop_neigh_mac, "source MAC not the neighbour's",
			   now_ns);
		goto free;
	}
	werr = frame_check(p, (uint8_t *)(uintptr_t)pkt.payload, pkt.payload_len, &hdr, now_ns);
	if (werr != MESH_WIRE_OK) {
		count_drop(p, ctr, MESH_NET_CTR_FRAME_DROP_BASE + werr - 1,
			   mesh_wire_err_name(werr), now_ns);
		goto free;
	}
	net_neigh_learn_post(p, pkt.src_ip, pkt.eth_src, now_ns);
	meta = mesh_net_meta(m);
	meta->sender_id = hdr.sender_id;
	meta->seq = hdr.seq;
	meta->rx_ns = now_ns;
	meta->peer_ip = pkt.src_ip;
	meta->peer_port = pkt.src_port;
	meta->payload_off = (uint16_t)(pkt.payload + MESH_WIRE_HDR_LEN - data);
	meta->payload_len = hdr.length;
	meta->type = hdr.type;
	meta->flags = hdr.flags;
	return 1;
free:
	rte_pktmbuf_free(m);
	return 0;
}

uint16_t
mesh_net_rx_classify(struct mesh_net_port *p, uint64_t now_ns, struct rte_mbuf **frames,
		     uint16_t *n_frames, struct rte_mbuf **arp, uint16_t *n_arp)
{
	struct rte_mbuf *pkts[MESH_NET_BURST];
	uint64_t *ctr = mesh_net_ctr(p);
	uint64_t bytes = 0;
	uint16_t n, i, nf = 0, na = 0;

	*n_frames = *n_arp = 0;
	n = rte_eth_rx_burst(p->port_id, 0, pkts, MESH_NET_BURST);
	if (n == 0)
		return p->fault != NULL ? net_fault_rx(p, now_ns, frames, n_frames) : 0;
	for (i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		switch (classify(p, pkts[i], ctr, now_ns)) {
		case 1:
			frames[nf++] = pkts[i];
			break;
		case 2:
			arp[na++] = pkts[i];
			break;
		}
	}
	mesh_counter_add(&ctr[MESH_NET_CTR_rx_packets], n);
	mesh_counter_add(&ctr[MESH_NET_CTR_rx_bytes], bytes);
	mesh_counter_add(&ctr[MESH_NET_CTR_rx_frames], nf);
	*n_frames = nf;
	*n_arp = na;
	if (p->fault != NULL)
		n += net_fault_rx(p, now_ns, frames, n_frames);
	return n;
}

uint16_t
mesh_net_rx(struct mesh_net_port *p, mesh_net_frame_f cb, void *ctx, uint64_t now_ns)
{
	struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST];
	uint16_t nf, na, n;

	n = mesh_net_rx_classify(p, now_ns, frames, &nf, arp, &na);
	for (uint16_t i = 0; i < na; i++)
		mesh_net_arp_input(p, arp[i], now_ns);
	for (uint16_t i = 0; i < nf; i++)
		cb(ctx, p, frames[i], now_ns);
	return n;
}

struct rte_mbuf *
mesh_net_udp_alloc(struct mesh_net_port *p, uint16_t len, uint8_t **payload)
{
	struct rte_mbuf *m;
	uint8_t *f;

	if ((size_t)len + MESH_NET_HDRS_LEN > RTE_MBUF_DEFAULT_DATAROOM) {
		mesh_counter_add(&mesh_net_ctr(p)[MESH_NET_CTR_tx_drop_too_big], 1);
		return NULL;
	}
	m = rte_pktmbuf_alloc(p->pool);
	if (m == NULL) {
		mesh_counter_add(&mesh_net_ctr(p)[MESH_NET_CTR_tx_drop_nombuf], 1);
		return NULL;
	}
	f = (uint8_t *)rte_pktmbuf_append(m, MESH_NET_HDRS_LEN + len);
	*payload = f + MESH_NET_HDRS_LEN;
	return m;
}

void
net_tx_enqueue_raw(struct mesh_net_port *p, struct rte_mbuf *m)
{
	if (p->tx_n == MESH_NET_BURST)
		mesh_net_tx_flush(p);
	p->tx_buf[p->tx_n++] = m;
}

void
net_tx_enqueue_resolved(struct mesh_net_port *p, struct rte_mbuf *m,
			const struct rte_ether_addr *dst)
{
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), dst->addr_bytes, 6);
	net_tx_enqueue_raw(p, m);
}

void
mesh_net_udp_prepare(struct mesh_net_port *p, struct rte_mbuf *m, uint32_t dst_ip,
		     uint16_t dst_port)
{
	static const uint8_t zero_mac[6];
	struct mesh_net_meta *meta = mesh_net_meta(m);
	uint16_t id = __atomic_fetch_add(&p->ip_id, 1, __ATOMIC_RELAXED);

	mesh_net_pkt_build_udp(rte_pktmbuf_mtod(m, uint8_t *), p->self.mac, zero_mac, p->self.ip,
			       dst_ip, p->self.port, dst_port,
			       rte_pktmbuf_data_len(m) - MESH_NET_HDRS_LEN, id);
	meta->peer_ip = dst_ip;
	meta->peer_port = dst_port;
}

void
mesh_net_tx_submit(struct mesh_net_port *p, struct rte_mbuf *m, uint64_t now_ns)
{
	struct mesh_net_neigh *n;

	if (p->learn.head != __atomic_load_n(&p->learn.tail, __ATOMIC_RELAXED))
		mesh_net_neigh_sync(p, now_ns);
	n = net_neigh_find(p, mesh_net_meta(m)->peer_ip, true, now_ns);
	if (n->resolved)
		net_tx_enqueue_resolved(p, m, &n->mac);
	else
		net_arp_resolve(p, n, m, now_ns);
}

void
mesh_net_udp_send(struct mesh_net_port *p, struct rte_mbuf *m, uint32_t dst_ip,
		  uint16_t dst_port, uint64_t now_ns)
{
	mesh_net_udp_prepare(p, m, dst_ip, dst_port);
	mesh_net_tx_submit(p, m, now_ns);
}

void
mesh_net_tx_flush(struct mesh_net_port *p)
{
	uint64_t *ctr;
	uint64_t bytes = 0;
	uint16_t sent;

	if (p->tx_n == 0)
		return;
	ctr = mesh_net_ctr(p);
	sent = rte_eth_tx_burst(p->port_id, 0, p->tx_buf, p->tx_n);
	for (uint16_t i = 0; i < sent; i++)
		bytes += rte_pktmbuf_pkt_len(p->tx_buf[i]);
	if (sent < p->tx_n) {
		mesh_counter_add(&ctr[MESH_NET_CTR_tx_drop_full], p->tx_n - sent);
		rte_pktmbuf_free_bulk(p->tx_buf + sent, p->tx_n - sent);
	}
	mesh_counter_add(&ctr[MESH_NET_CTR_tx_packets], sent);
	mesh_counter_add(&ctr[MESH_NET_CTR_tx_bytes], bytes);
	p->tx_n = 0;
}
