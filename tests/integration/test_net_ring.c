/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net and lib/handoff on real EAL with two net_ring ethdevs cross-wired in one process:
 * ARP resolution
 * (request, reply, learning, held packets released), a meshd frame delivered zero-copy to
 * the callback, every rx drop cause counted, unresolved neighbours expiring with their held
 * packets counted, the hold queue bound, the split rx stage feeding an SPSC handoff ring
 * (overflow dropped and counted), and the idle back-off schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "mesh_common_dpdk.h"
#include "mesh_handoff.h"
#include "mesh_net.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define PORT 39527

static struct mesh_net_port pa, pb;
static struct rte_ring *ring_ab, *ring_ba;
static uint64_t now = MESH_NS_PER_SEC;
static unsigned frames_seen;
static char last_payload[64];

static void
on_frame(void *ctx, struct mesh_net_port *p, struct rte_mbuf *m, uint64_t t)
{
	const struct mesh_net_meta *meta = mesh_net_meta(m);
	const uint8_t *payload = mesh_net_frame_payload(m);

	(void)ctx;
	(void)p;
	(void)t;
	frames_seen++;
	/* zero copy: the payload lives inside the mbuf's data room */
	assert_true(payload >= rte_pktmbuf_mtod(m, const uint8_t *));
	assert_true(payload + meta->payload_len <=
		    rte_pktmbuf_mtod(m, const uint8_t *) + rte_pktmbuf_data_len(m));
	assert_int_equal(meta->type, MESH_WIRE_TYPE_HELLO);
	snprintf(last_payload, sizeof(last_payload), "%.*s", meta->payload_len, payload);
	rte_pktmbuf_free(m);
}

static uint64_t
ctr(struct mesh_net_port *p, unsigned idx)
{
	return mesh_counters_sum(&p->ctr, idx);
}

static uint64_t
drop_ctr(struct mesh_net_port *p, int cause)
{
	return ctr(p, MESH_NET_CTR_PKT_DROP_BASE + cause - 1);
}

static uint64_t
frame_drop_ctr(struct mesh_net_port *p, enum mesh_wire_err e)
{
	return ctr(p, MESH_NET_CTR_FRAME_DROP_BASE + e - 1);
}

static void
pump(void)
{
	for (int i = 0; i < 4; i++) {
		mesh_net_rx(&pa, on_frame, NULL, now);
		mesh_net_tx_flush(&pa);
		mesh_net_rx(&pb, on_frame, NULL, now);
		mesh_net_tx_flush(&pb);
	}
}

static void
send_text(struct mesh_net_port *from, uint32_t ip, const char *text)
{
	uint16_t len = (uint16_t)strlen(text);
	uint8_t *frame;
	struct rte_mbuf *m = mesh_net_udp_alloc(from, mesh_wire_frame_size(len, 0), &frame);
	struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_HELLO, .length = len, .seq = 1 };

	assert_non_null(m);
	memcpy(mesh_wire_frame_payload(frame), text, len);
	assert_int_not_equal(mesh_wire_frame_seal_csum(frame, mesh_wire_frame_size(len, 0), &h),
			     0);
	mesh_net_udp_send(from, m, ip, PORT, now);
}

/* Put a raw frame straight onto B's receive ring. */
static void
inject(const uint8_t *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pb.pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
	assert_int_equal(rte_ring_enqueue(ring_ab, m), 0);
}

static void
test_arp_then_frame(void **state)
{
	(void)state;
	send_text(&pa, IP_B, "first");
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_arp_request), 1);
	pump();
	assert_int_equal(ctr(&pb, MESH_NET_CTR_rx_arp_request), 1);
	assert_int_equal(ctr(&pb, MESH_NET_CTR_tx_arp_reply), 1);
	assert_int_equal(ctr(&pa, MESH_NET_CTR_rx_arp_reply), 1);
	assert_int_equal(frames_seen, 1);
	assert_string_equal(last_payload, "first");
	assert_int_equal(ctr(&pb, MESH_NET_CTR_rx_frames), 1);

	/* A resolved B: no new request. B learned nothing from A's frame (a frame that opens
	 * is no proof of its sender's MAC), so it resolves A with its own request */
	send_text(&pa, IP_B, "second");
	send_text(&pb, IP_A, "back");
	pump();
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_arp_request), 1);
	assert_int_equal(ctr(&pb, MESH_NET_CTR_tx_arp_request), 1);
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_arp_reply), 1);
	assert_int_equal(frames_seen, 3);
	/* ARP request + 2 frames + ARP reply */
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_packets), 4);
}

static void
test_rx_drop_causes(void **state)
{
	uint8_t f[256];
	uint8_t *payload;
	size_t n;
	unsigned seen = frames_seen;

	(void)state;
	assert_memory_equal(pb.self.mac, ((const uint8_t[]){ 0x02, 0, 0, 0, 0, 0xb }), 6);
	inject((const uint8_t[]){ 1, 2, 3 }, 3);
	pump();
	assert_int_equal(drop_ctr(&pb, MESH_NET_PKT_DROP_runt), 1);

	/* a valid UDP datagram whose payload is not a meshd frame */
	payload = f + MESH_NET_HDRS_LEN;
	memcpy(payload, "not a meshd frame at all, but long enough", 42);
	n = mesh_net_pkt_build_udp(f, pa.self.mac, pb.self.mac, IP_A, IP_B, 5, PORT, 42, 1);
	inject(f, n);
	pump();
	assert_int_equal(frame_drop_ctr(&pb, MESH_WIRE_ERR_MAGIC), 1);

	n = mesh_net_pkt_build_udp(f, pa.self.mac, pb.self.mac, IP_A, IP_B, 5, PORT + 1, 42, 1);
	inject(f, n);
	n = mesh_net_pkt_build_udp(f, pa.self.mac, pb.self.mac, IP_A, IP_A, 5, PORT, 42, 1);
	inject(f, n);
	n = mesh_net_pkt_build_udp(f, pa.self.mac, pa.self.mac, IP_A, IP_B, 5, PORT, 42, 1);
	inject(f, n);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f, pb.self.mac, 6);
	inject(f, 60);
	pump();
	assert_int_equal(drop_ctr(&pb, MESH_NET_PKT_DROP_wrong_port), 1);
	assert_int_equal(drop_ctr(&pb, MESH_NET_PKT_DROP_ip_not_for_us), 1);
	assert_int_equal(drop_ctr(&pb, MESH_NET_PKT_DROP_not_for_us_mac), 1);
	assert_int_equal(drop_ctr(&pb, MESH_NET_PKT_DROP_ethertype), 1);
	assert_int_equal(frames_seen, seen);

	/* and the port still works */
	send_text(&pa, IP_B, "alive");
	pump();
	assert_string_equal(last_payload, "alive");
}

static void
test_unresolved_neighbour(void **state)
{
	(void)state;
	/* 6 packets to an address nobody answers: 4 held, the 2 oldest dropped */
	for (int i = 0; i < 6; i++)
		send_text(&pa, 0x0a000063u, "void");
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_drop_arp_hold_full), 2);
	for (int i = 0; i < 10; i++) {
		now += 250 * MESH_NS_PER_MS;
		mesh_net_arp_tick(&pa, now);
		pump();
	}
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_drop_arp_unresolved), 4);
	/* 1 request at first send + 4 retries, then given up */
	assert_int_equal(ctr(&pa, MESH_NET_CTR_tx_arp_request), 1 + 5);
}

static void
test_backoff_schedule(void **state)
{
	struct mesh_net_backoff b;

	(void)state;
	mesh_net_backoff_init(&b, MESH_NET_POLL_BACKOFF, 40);
	for (unsigned i = 0; i < b.spin - 1; i++)
		mesh_net_backoff_poll(&b, 0);
	assert_int_equal(b.sleeps, 0);
	mesh_net_backoff_poll(&b, 0); /* 10 us */
	mesh_net_backoff_poll(&b, 0); /* 20 us */
	mesh_net_backoff_poll(&b, 0); /* 40 us */
	mesh_net_backoff_poll(&b, 0); /* 40 us: capped */
	assert_int_equal(b.sleeps, 4);
	assert_int_equal(b.slept_us, 110);
	mesh_net_backoff_poll(&b, 3); /* traffic resets */
	assert_int_equal(b.cur_us, b.min_us);
	assert_int_equal(b.busy_polls, 1);
	mesh_net_backoff_init(&b, MESH_NET_POLL_BUSY, 40);
	for (int i = 0; i < 1000; i++)
		mesh_net_backoff_poll(&b, 0);
	assert_int_equal(b.sleeps, 0);
}

/* The split path: rx classifies, frames cross an SPSC ring, overflow is counted. */
static void
test_split_stages_and_handoff(void **state)
{
	struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST], *out[MESH_NET_BURST];
	struct mesh_handoff h;
	uint16_t nf, na;
	unsigned got;

	(void)state;
	assert_int_equal(mesh_handoff_create(&h, "t_rx_merge", 4, 0), 0); /* 3 usable slots */
	for (int i = 0; i < 5; i++)
		send_text(&pa, IP_B, "split");
	mesh_net_tx_flush(&pa);
	mesh_net_rx_classify(&pb, now, frames, &nf, arp, &na);
	assert_int_equal(nf, 5);
	assert_int_equal(na, 0);
	assert_int_equal(mesh_net_meta(frames[0])->peer_ip, IP_A);
	assert_int_equal(mesh_net_meta(frames[0])->peer_port, PORT);
	assert_int_equal(mesh_handoff_put(&h, frames, nf), 3);
	assert_int_equal(h.drop_full, 2);
	got = mesh_handoff_get(&h, out, MESH_NET_BURST);
	assert_int_equal(got, 3);
	for (unsigned i = 0; i < got; i++)
		on_frame(NULL, &pb, out[i], now);
	assert_string_equal(last_payload, "split");
	assert_int_equal(h.enq, 3);
	assert_int_equal(h.deq, 3);
	mesh_handoff_destroy(&h);
}

static int
make_port(const char *name, struct rte_ring *rx, struct rte_ring *tx, uint8_t last,
	  uint32_t ip, struct mesh_net_port *p)
{
	struct mesh_net_port_cfg cfg = { .ip = ip, .udp_port = PORT, .n_mbufs = 1023,
					 .mac = { 0x02, 0, 0, 0, 0, last } };
	int id = rte_eth_from_rings(name, &rx, 1, &tx, 1, 0);

	if (id < 0)
		return -1;
	cfg.port_id = (uint16_t)id;
	return mesh_net_port_init(p, &cfg);
}

static int
setup(void **state)
{
	char prefix[32];
	char *argv[] = { "test_net_ring", "-l", "0", "--no-huge", "-m", "256", "--no-pci",
			 "--no-shconf", "--no-telemetry", "--log-level=lib.eal:warning",
			 "--file-prefix", prefix };

	(void)state;
	snprintf(prefix, sizeof(prefix), "nr%d", (int)getpid());
	if (rte_eal_init((int)MESH_ARRAY_SIZE(argv), argv) < 0)
		return -1;
	mesh_common_dpdk_init();
	ring_ab = rte_ring_create("ab", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ring_ba = rte_ring_create("ba", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ring_ab == NULL || ring_ba == NULL)
		return -1;
	if (make_port("ra", ring_ba, ring_ab, 0xa, IP_A, &pa) < 0 ||
	    make_port("rb", ring_ab, ring_ba, 0xb, IP_B, &pb) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mesh_net_port_fini(&pa);
	mesh_net_port_fini(&pb);
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_then_frame),
		cmocka_unit_test(test_rx_drop_causes),
		cmocka_unit_test(test_unresolved_neighbour),
		cmocka_unit_test(test_split_stages_and_handoff),
		cmocka_unit_test(test_backoff_schedule),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
