/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hello exchange: the walking skeleton of meshd's protocol path. A HELLO frame is
 * answered with HELLO_REPLY = [u8 name length][name][the HELLO payload echoed, <= 256 B];
 * meshd sends its own HELLO (payload = 8-byte send time) to configured peers and derives
 * the round-trip time from the echo. Built directly in mbufs; the request mbuf is freed.
 */
#include <string.h>

#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd.h"

#define ECHO_MAX 256

static struct rte_mbuf *
frame_alloc(struct meshd *d, uint16_t len, uint8_t **payload, uint8_t **frame)
{
	struct rte_mbuf *m = mesh_net_udp_alloc(&d->port, (uint16_t)meshd_frame_size(d, len), frame);

	if (m != NULL)
		*payload = mesh_wire_frame_payload(*frame);
	return m;
}

void
meshd_frame_finish(struct meshd *d, struct rte_mbuf *m, uint8_t *frame, uint8_t type,
		   uint16_t len, uint32_t ip, uint16_t port, uint64_t now_ns)
{
	struct mesh_wire_hdr h = { .type = type, .length = len, .seq = ++d->tx_seq };

	/* the merge lcore seals (and encrypts, when keyed) before the frame leaves it */
	if (mesh_wire_frame_seal(&d->sec, frame, meshd_frame_size(d, len), &h) == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	mesh_net_udp_prepare(&d->port, m, ip, port);
	mesh_counter_add(&mesh_counters_row(&d->merge_ctr, 0)[MESHD_CTR_merge_tx_frames], 1);
	meshd_emit(d, m, now_ns);
}

static void
hello_reply(struct meshd *d, struct rte_mbuf *req, uint64_t now_ns)
{
	const struct mesh_net_meta *meta = mesh_net_meta(req);
	size_t name_len = strlen(d->cfg.name);
	uint16_t echo = MESH_MIN(meta->payload_len, ECHO_MAX);
	uint16_t len = (uint16_t)(1 + name_len + echo);
	uint8_t *payload, *frame;
	struct rte_mbuf *m = frame_alloc(d, len, &payload, &frame);

	if (m == NULL)
		return;
	payload[0] = (uint8_t)name_len;
	memcpy(payload + 1, d->cfg.name, name_len);
	memcpy(payload + 1 + name_len, mesh_net_frame_payload(req), echo);
	meshd_frame_finish(d, m, frame, MESH_WIRE_TYPE_HELLO_REPLY, len, meta->peer_ip, meta->peer_port,
		   now_ns);
	mesh_counter_add(&mesh_net_ctr(&d->port)[MESH_NET_CTR_tx_hello_reply], 1);
}

static void
hello_reply_input(struct meshd *d, struct rte_mbuf *m, uint64_t now_ns)
{
	const struct mesh_net_meta *meta = mesh_net_meta(m);
	const uint8_t *p = mesh_net_frame_payload(m);
	uint16_t len = meta->payload_len;
	uint64_t sent = 0;

	mesh_counter_add(&mesh_net_ctr(&d->port)[MESH_NET_CTR_rx_hello_reply], 1);
	if (len < 1 || (size_t)p[0] + 1 + 8 > len)
		return; /* not one of ours: counted, nothing to learn */
	for (unsigned i = 0; i < d->cfg.n_peers; i++) {
		struct meshd_peer *peer = &d->cfg.peers[i];
		if (peer->ip != meta->peer_ip || peer->port != meta->peer_port)
			continue;
		memcpy(&sent, p + 1 + p[0], 8);
		peer->replies++;
		peer->last_rtt_ns = now_ns > sent ? now_ns - sent : 0;
		memcpy(peer->name, p + 1, p[0] < MESHD_NAME_MAX ? p[0] : MESHD_NAME_MAX);
		peer->name[p[0] < MESHD_NAME_MAX ? p[0] : MESHD_NAME_MAX] = '\0';
	}
}

/* A MSGS frame: lib/stream walks its records (SWIM records come back to meshd_swim). */
static void
msgs_input(struct meshd *d, struct rte_mbuf *m, uint64_t now_ns)
{
	const struct mesh_net_meta *meta = mesh_net_meta(m);
	const uint8_t *payload = mesh_net_frame_payload(m);
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t *ctr = mesh_counters_row(&d->merge_ctr, 0);

	mesh_counter_add(&ctr[MESHD_CTR_merge_frames], 1);
	/* zero copy: what the stream layer decodes (slices of it end in the store) is the
	 * mbuf's own data, decrypted in place by the rx stage; the mbuf is freed after */
	if (payload >= data && payload + meta->payload_len <= data + rte_pktmbuf_data_len(m))
		mesh_counter_add(&ctr[MESHD_CTR_merge_frames_in_place], 1);
	else
		mesh_counter_add(&ctr[MESHD_CTR_merge_payload_copies], 1);
	meshd_repl_rx(d, meta->sender_id, payload, meta->payload_len, meta->peer_ip,
		      meta->peer_port, now_ns);
}

void
meshd_frame_input(void *ctx, struct mesh_net_port *port, struct rte_mbuf *m, uint64_t now_ns)
{
	struct meshd *d = ctx;
	uint64_t *ctr = mesh_net_ctr(port);

	switch (mesh_net_meta(m)->type) {
	case MESH_WIRE_TYPE_HELLO:
		mesh_counter_add(&ctr[MESH_NET_CTR_rx_hello], 1);
		hello_reply(d, m, now_ns);
		break;
	case MESH_WIRE_TYPE_HELLO_REPLY:
		hello_reply_input(d, m, now_ns);
		break;
	case MESH_WIRE_TYPE_MSGS:
		msgs_input(d, m, now_ns);
		break;
	default:
		mesh_counter_add(&ctr[MESH_NET_CTR_rx_drop_unhandled_type], 1);
		break;
	}
	rte_pktmbuf_free(m);
}

void
meshd_hello_tick(struct meshd *d, uint64_t now_ns)
{
	if (d->cfg.n_peers == 0 || now_ns < d->next_hello_ns)
		return;
	d->next_hello_ns = now_ns + (uint64_t)d->cfg.hello_interval_ms * MESH_NS_PER_MS;
	for (unsigned i = 0; i < d->cfg.n_peers; i++) {
		struct meshd_peer *peer = &d->cfg.peers[i];
		uint8_t *payload, *frame;
		struct rte_mbuf *m = frame_alloc(d, 8, &payload, &frame);

		if (m == NULL)
			return;
		memcpy(payload, &now_ns, 8);
		meshd_frame_finish(d, m, frame, MESH_WIRE_TYPE_HELLO, 8, peer->ip, peer->port, now_ns);
		peer->hellos_sent++;
		mesh_counter_add(&mesh_net_ctr(&d->port)[MESH_NET_CTR_tx_hello], 1);
	}
}

static void
hello_gauges(void *ctx, struct rte_tel_data *dict)
{
	struct meshd *d = ctx;
	uint64_t answering = 0, rtt_max = 0;

	for (unsigned i = 0; i < d->cfg.n_peers; i++) {
		const struct meshd_peer *p = &d->cfg.peers[i];
		if (__atomic_load_n(&p->replies, __ATOMIC_RELAXED) > 0)
			answering++;
		rtt_max = MESH_MAX(rtt_max, __atomic_load_n(&p->last_rtt_ns, __ATOMIC_RELAXED));
	}
	rte_tel_data_add_dict_u64(dict, "peers_configured", d->cfg.n_peers);
	rte_tel_data_add_dict_u64(dict, "peers_answering", answering);
	rte_tel_data_add_dict_u64(dict, "last_rtt_max_us", rtt_max / MESH_NS_PER_US);
}

void
meshd_hello_telemetry(struct meshd *d)
{
	mesh_telemetry_gauges_add("hello", hello_gauges, d);
}
