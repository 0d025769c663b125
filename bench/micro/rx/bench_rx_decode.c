/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX decode micro benchmark on a real ethdev (net_ring), one lcore.
 *
 * Target from the benchmark issue: rx decode >= 5 M deltas/s per lcore on net_ring/memif.
 *
 * What is measured (the "rx" figure): everything meshd's rx lcore does for a burst,
 * up to the point where it would hand the frames to the merge lcore, plus the zero-copy
 * decode that the merge lcore's stream layer does on each frame:
 *   rte_eth_rx_burst on the net_ring port (ring dequeue), Ethernet/IPv4/UDP parse with the
 *   IPv4 header checksum, meshd frame check (xxh3 trailer, or AEAD XChaCha20-Poly1305
 *   decrypt in place with the node key derivation and the per-sender replay window), mbuf
 *   private metadata, lib/net counters (all of it mesh_net_rx_classify, as step_rx in
 *   lib/lcore/lcore_loop.c calls it, with now from mesh_tsc_now_ns per poll), then the
 *   MSGS container walk (mesh_wire_msgr_*) and mesh_wire_crdt_batch_read of the CrdtBatch
 *   (as lib/stream does), then rte_pktmbuf_free back to the pool.
 * Not included: the handoff ring to the merge lcore (see bench/micro/handoff), the stream
 * layer's per-peer window/dedup bookkeeping, and the CRDT merge itself (bench/micro/crdt).
 *
 * The "stage" figure is the cost of playing the peer: allocate mbufs from the port's pool,
 * copy prebuilt frames into them (a copy is needed: AEAD decrypts in place) and enqueue
 * them on the ring that feeds the port's RX queue. It is timed separately (rte_rdtsc) and
 * is not part of the rx figure. Frames are staged a window at a time (default 1024 frames,
 * about 1.4 MB), so the rx stage finds them in L2/L3, not L1.
 *
 * Frames are built exactly as a peer sends them: UDP/IPv4/Ethernet to the port's MAC,
 * address and port, a MSGS frame (sealed by the peer's lib/wire security context) holding
 * one CrdtBatch of K ops (24-byte keys, 16-byte values, 8-byte replica id, timestamp,
 * origin_ns), K = as many as fit a 1400-byte meshd frame. In the AEAD run the port's replay
 * windows are cleared between windows (in the stage phase), because the same prebuilt
 * sequence numbers are sent again.
 *
 * Every run checks lib/net's counters: every staged frame must be received and accepted
 * (rx_frames), no drop counter may move, and every op must be decoded; otherwise it prints
 * the counters that moved and exits non-zero instead of reporting a rate.
 *
 * Usage: bench_rx_decode [-t seconds per run (2.5)] [-r runs, best is reported (3)]
 *                        [-w frames per window (1024)] [-v xxh3|aead|both] [-l lcore (0)]
 *                        [-F: self-test, corrupt one frame per window; must exit non-zero]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "mesh_wire.h"

#define TARGET_DELTAS_PER_S 5e6
#define FRAME_BYTES 1400u /* meshd frame: header + payload + trailer */
#define KEY_LEN 24u
#define VAL_LEN 16u
#define MAX_OPS 256u
#define MAX_WINDOW 2048u
#define RING_SLOTS 4096u
#define N_MBUFS 4095u

#define SELF_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define SELF_PORT 39527
#define PEER_PORT 39527
#define CLUSTER_ID 0x6d657368u
#define SELF_ID 0xB0B0B0B0B0B0B0B0ull
#define PEER_ID 0xA1A1A1A1A1A1A1A1ull

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x0a };

struct opts {
	double secs;
	unsigned runs;
	unsigned window;
	bool xxh3, aead;
	bool fault; /* self-test: corrupt one frame per window, the run must fail */
	unsigned lcore;
};

/* A prebuilt Ethernet frame (what a peer's NIC would put on the wire). */
struct pframe {
	uint16_t len;
	uint8_t data[FRAME_BYTES + MESH_NET_HDRS_LEN];
};

struct variant {
	const char *name;
	struct mesh_wire_sec rx_sec;   /* meshd's own security context (port.sec) */
	struct mesh_wire_sec peer_sec; /* the sender's */
	struct pframe *frames;         /* window of prebuilt frames, seq 1 .. window */
	uint32_t k_ops;
};

struct run_result {
	uint64_t frames, ops;
	uint64_t rx_cycles, stage_cycles;
	double wall_s;
};

static struct mesh_net_port port;
static struct rte_ring *rx_ring, *tx_ring;
static struct mesh_wire_crdt_op dops[MAX_OPS];
static volatile uint64_t sink;

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t seconds per run] [-r runs] [-w frames per window (32..%u)]\n"
		"          [-v xxh3|aead|both] [-l lcore] [-F (self-test: corrupt a frame, must fail)]\n",
		prog, MAX_WINDOW);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .secs = 2.5, .runs = 3, .window = 1024, .xxh3 = true, .aead = true };
	while ((c = getopt(argc, argv, "t:r:w:v:l:Fh")) != -1) {
		switch (c) {
		case 't':
			o->secs = atof(optarg);
			break;
		case 'r':
			o->runs = (unsigned)atoi(optarg);
			break;
		case 'w':
			o->window = (unsigned)atoi(optarg);
			break;
		case 'v':
			o->xxh3 = strcmp(optarg, "xxh3") == 0 || strcmp(optarg, "both") == 0;
			o->aead = strcmp(optarg, "aead") == 0 || strcmp(optarg, "both") == 0;
			if (!o->xxh3 && !o->aead)
				return -1;
			break;
		case 'l':
			o->lcore = (unsigned)atoi(optarg);
			break;
		case 'F':
			o->fault = true;
			break;
		default:
			return -1;
		}
	}
	if (o->secs <= 0 || o->runs == 0 || o->window < MESH_NET_BURST || o->window > MAX_WINDOW)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- frame building */

static void
make_op(struct mesh_wire_crdt_op *op, uint8_t *key, uint8_t *val, const uint8_t *replica,
	uint64_t seq, uint32_t i)
{
	char tmp[KEY_LEN + 1];

	snprintf(tmp, sizeof(tmp), "k:%010" PRIu64 ":%011u", seq, i);
	memcpy(key, tmp, KEY_LEN);
	snprintf(tmp, sizeof(tmp), "v%015" PRIu64, seq * MAX_OPS + i);
	memcpy(val, tmp, VAL_LEN);
	*op = (struct mesh_wire_crdt_op){
		.key = { key, KEY_LEN },
		.value = { val, VAL_LEN },
		.replica_id = { replica, 8 },
		.timestamp = (1ull << 60) + seq * MAX_OPS + i, /* HLC-sized: 9-byte varint */
		.origin_ns = 1700000000000000000ull + seq * 1000 + i,
	};
}

/*
 * One CrdtBatch of @max_ops ops (0 = as many as fit) in a MSGS payload of at most @cap
 * bytes at @payload. Returns the payload length, *@n_ops the op count; 0 on failure.
 */
static size_t
build_msgs(uint8_t *payload, size_t cap, uint64_t seq, uint32_t max_ops, uint32_t *n_ops)
{
	static const uint8_t replica[8] = { 0x01, 0x91, 0xe0, 0xe4, 0x5e, 0x1f, 0x70, 0x00 };
	uint8_t keys[MAX_OPS][KEY_LEN], vals[MAX_OPS][VAL_LEN];
	struct mesh_wire_msgw w;
	size_t room, len = 0, hdr = mesh_wire_crdt_batch_hdr_size(seq, 7);
	uint8_t *body;
	uint32_t n = 0;

	mesh_wire_msgw_init(&w, payload, cap);
	body = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_CRDT_BATCH, &room);
	if (body == NULL || room <= hdr)
		return 0;
	while (n < MAX_OPS && (max_ops == 0 || n < max_ops)) {
		struct mesh_wire_crdt_op op;

		make_op(&op, keys[n], vals[n], replica, seq, n);
		if (mesh_wire_crdt_batch_put_op(body, room - hdr, &len, &op) != 0)
			break;
		n++;
	}
	if (mesh_wire_crdt_batch_put_hdr(body, room, &len, seq, 7) != 0)
		return 0;
	mesh_wire_msgw_end(&w, len);
	*n_ops = n;
	return w.len;
}

/* Build @v->frames[0 .. window) with sequences 1 .. window, K ops each. */
static int
build_frames(struct variant *v, unsigned window, uint32_t k_ops)
{
	size_t cap = mesh_wire_payload_max(&v->peer_sec, FRAME_BYTES);

	v->frames = calloc(window, sizeof(*v->frames));
	if (v->frames == NULL)
		return -ENOMEM;
	v->k_ops = k_ops;
	for (unsigned i = 0; i < window; i++) {
		struct pframe *f = &v->frames[i];
		uint8_t *wire = f->data + MESH_NET_HDRS_LEN;
		struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS, .seq = i + 1 };
		uint32_t n = 0;
		size_t plen = build_msgs(mesh_wire_frame_payload(wire), cap, i + 1, k_ops, &n);
		size_t flen;

		if (plen == 0 || n != k_ops) {
			fprintf(stderr, "frame %u: only %u of %u ops fit\n", i, n, k_ops);
			return -ENOSPC;
		}
		h.length = (uint16_t)plen;
		flen = mesh_wire_frame_seal(&v->peer_sec, wire, FRAME_BYTES, &h);
		if (flen == 0)
			return -EINVAL;
		f->len = (uint16_t)mesh_net_pkt_build_udp(f->data, peer_mac, port.self.mac, PEER_IP,
							  SELF_IP, PEER_PORT, SELF_PORT, flen,
							  (uint16_t)i);
		if (f->len == 0)
			return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- the measured path */

/* The merge side's decode of one frame (lib/stream's MSGS walk + CrdtBatch read). */
static uint32_t
decode_frame(struct rte_mbuf *m, uint32_t k_ops, uint64_t *bad)
{
	const struct mesh_net_meta *meta = mesh_net_meta(m);
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	struct mesh_wire_crdt_batch b;
	uint64_t acc = 0;
	uint32_t ops = 0;
	uint8_t kind;
	int rc;

	if (meta->type != MESH_WIRE_TYPE_MSGS) {
		(*bad)++;
		return 0;
	}
	mesh_wire_msgr_init(&r, mesh_net_frame_payload(m), meta->payload_len);
	while ((rc = mesh_wire_msgr_next(&r, &kind, &body)) == 1) {
		if (kind != MESH_WIRE_KIND_CRDT_BATCH ||
		    mesh_wire_crdt_batch_read(body.p, body.len, &b, dops, MAX_OPS) != 0 ||
		    b.seq == 0 || b.epoch == 0 || b.n_ops != k_ops) {
			(*bad)++;
			continue;
		}
		for (uint32_t i = 0; i < b.n_ops; i++)
			acc += dops[i].key.len + dops[i].value.len + dops[i].timestamp;
		ops += b.n_ops;
	}
	if (rc < 0)
		(*bad)++;
	sink += acc;
	return ops;
}

/* Play the peer: copy the window's frames into fresh mbufs and put them on the RX ring. */
static int
stage_window(const struct variant *v, unsigned window, bool keyed, bool fault)
{
	struct rte_mbuf *m[MAX_WINDOW];

	if (keyed) /* the same sequences come again: forget them */
		memset(port.replay, 0, sizeof(port.replay));
	if (rte_pktmbuf_alloc_bulk(port.pool, m, window) != 0)
		return -ENOBUFS;
	for (unsigned i = 0; i < window; i++) {
		const struct pframe *f = &v->frames[i];

		rte_memcpy(rte_pktmbuf_mtod(m[i], void *), f->data, f->len);
		m[i]->data_len = f->len;
		m[i]->pkt_len = f->len;
	}
	if (fault) /* last byte of the trailer of the window's middle frame */
		rte_pktmbuf_mtod(m[window / 2], uint8_t *)[v->frames[window / 2].len - 1] ^= 1;
	if (rte_ring_sp_enqueue_bulk(rx_ring, (void **)m, window, NULL) != window) {
		rte_pktmbuf_free_bulk(m, window);
		return -ENOSPC;
	}
	return 0;
}

/* meshd's rx lcore on one window: classify bursts until the window is drained. */
static int
rx_window(const struct variant *v, unsigned window, uint64_t *ops, uint64_t *bad)
{
	unsigned got = 0;

	while (got < window) {
		struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST];
		uint16_t nf, na, n;

		n = mesh_net_rx_classify(&port, mesh_tsc_now_ns(), frames, &nf, arp, &na);
		if (n == 0)
			return -EIO; /* the ring ran dry: packets went missing */
		got += n;
		for (uint16_t i = 0; i < nf; i++)
			*ops += decode_frame(frames[i], v->k_ops, bad);
		rte_pktmbuf_free_bulk(frames, nf);
		if (na > 0) {
			*bad += na;
			rte_pktmbuf_free_bulk(arp, na);
		}
	}
	return 0;
}

static void
ctr_snapshot(uint64_t *out)
{
	mesh_counters_sum_all(&port.ctr, out);
}

/* 0 when the counters moved exactly as @frames accepted frames should make them move. */
static int
check_counters(const uint64_t *before, uint64_t frames)
{
	const char *const *names = mesh_net_counter_names();
	uint64_t after[MESH_NET_CTR_MAX];
	int bad = 0;

	ctr_snapshot(after);
	for (unsigned i = 0; i < MESH_NET_CTR_MAX; i++) {
		uint64_t d = after[i] - before[i];
		uint64_t want = 0;

		if (i == MESH_NET_CTR_rx_bytes)
			continue;
		if (i == MESH_NET_CTR_rx_packets || i == MESH_NET_CTR_rx_frames)
			want = frames;
		if (d != want) {
			fprintf(stderr, "  counter %s moved by %" PRIu64 " (expected %" PRIu64 ")\n",
				names[i], d, want);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
run_once(const struct variant *v, const struct opts *o, struct run_result *res)
{
	bool keyed = v->rx_sec.keyring != NULL && v->rx_sec.keyring->n_keys > 0;
	uint64_t before[MESH_NET_CTR_MAX], bad = 0;
	uint64_t stop_tsc, t0, t1, t2;
	double w0;
	int rc;

	memset(res, 0, sizeof(*res));
	ctr_snapshot(before);
	w0 = wall_now();
	stop_tsc = rte_rdtsc() + (uint64_t)(o->secs * (double)rte_get_tsc_hz());
	do {
		t0 = rte_rdtsc();
		rc = stage_window(v, o->window, keyed, o->fault);
		t1 = rte_rdtsc();
		if (rc != 0) {
			fprintf(stderr, "%s: staging failed: %s\n", v->name, strerror(-rc));
			return rc;
		}
		rc = rx_window(v, o->window, &res->ops, &bad);
		t2 = rte_rdtsc();
		res->stage_cycles += t1 - t0;
		res->rx_cycles += t2 - t1;
		res->frames += o->window;
		if (rc != 0) {
			fprintf(stderr, "%s: rx ring ran dry after %" PRIu64 " frames\n", v->name,
				res->frames);
			break;
		}
	} while (t2 < stop_tsc);
	res->wall_s = wall_now() - w0;

	if (rc != 0 || check_counters(before, res->frames) != 0 || bad != 0 ||
	    res->ops != res->frames * v->k_ops || rte_ring_count(rx_ring) != 0) {
		fprintf(stderr,
			"%s: FAILED: the rx path did not accept every frame (%" PRIu64 " frames "
			"staged, %" PRIu64 " of %" PRIu64 " ops decoded, %" PRIu64 " bad frames); "
			"no rate reported\n",
			v->name, res->frames, res->ops, res->frames * v->k_ops, bad);
		return -EPROTO;
	}
	return 0;
}

static int
run_variant(const struct variant *v, const struct opts *o)
{
	double hz = (double)rte_get_tsc_hz();
	struct run_result best = { 0 }, r;
	double best_rate = 0;
	double fps, dps, ns_f, ns_d, cyc_d, stage_ns_f, stage_ns_d;

	port.sec = &v->rx_sec;
	printf("%s: K = %u ops per frame, %u-byte meshd frame (%u B on the wire), window %u "
	       "frames, %u runs of %.1f s\n",
	       v->name, v->k_ops, v->frames[0].len - MESH_NET_HDRS_LEN, v->frames[0].len,
	       o->window, o->runs, o->secs);
	for (unsigned i = 0; i < o->runs; i++) {
		double rate;

		if (run_once(v, o, &r) != 0)
			return -1;
		rate = (double)r.ops / ((double)r.rx_cycles / hz);
		printf("  run %u: %.2f M deltas/s rx, %.1f ns/frame rx, %.1f ns/frame stage, "
		       "%" PRIu64 " frames in %.2f s wall\n",
		       i + 1, rate / 1e6, (double)r.rx_cycles / hz * 1e9 / (double)r.frames,
		       (double)r.stage_cycles / hz * 1e9 / (double)r.frames, r.frames, r.wall_s);
		if (rate > best_rate) {
			best_rate = rate;
			best = r;
		}
	}
	fps = (double)best.frames / ((double)best.rx_cycles / hz);
	dps = (double)best.ops / ((double)best.rx_cycles / hz);
	ns_f = (double)best.rx_cycles / hz * 1e9 / (double)best.frames;
	ns_d = (double)best.rx_cycles / hz * 1e9 / (double)best.ops;
	cyc_d = (double)best.rx_cycles / (double)best.ops;
	stage_ns_f = (double)best.stage_cycles / hz * 1e9 / (double)best.frames;
	stage_ns_d = (double)best.stage_cycles / hz * 1e9 / (double)best.ops;
	printf("%s best of %u (rx + decode, staging excluded):\n"
	       "  %.3f M frames/s, %.2f M deltas/s, %.1f ns/frame, %.2f ns/delta, "
	       "%.1f cycles/delta (TSC %.2f GHz)\n"
	       "  staging (alloc + copy + ring enqueue, not included above): %.1f ns/frame, "
	       "%.2f ns/delta; rx + staging: %.2f M deltas/s\n",
	       v->name, o->runs, fps / 1e6, dps / 1e6, ns_f, ns_d, cyc_d, hz / 1e9, stage_ns_f,
	       stage_ns_d,
	       (double)best.ops / ((double)(best.rx_cycles + best.stage_cycles) / hz) / 1e6);
	printf("  target %.0f M deltas/s per lcore: %s (%.2fx)\n", TARGET_DELTAS_PER_S / 1e6,
	       dps >= TARGET_DELTAS_PER_S ? "MET" : "NOT MET", dps / TARGET_DELTAS_PER_S);
	return 0;
}

/* ---------------------------------------------------------------- setup */

static int
port_setup(void)
{
	struct mesh_net_port_cfg cfg = { .ip = SELF_IP, .udp_port = SELF_PORT,
					 .cluster_id = CLUSTER_ID, .n_mbufs = N_MBUFS,
					 .mac = { 0x02, 0, 0, 0, 0, 0x0b } };
	int id;

	rx_ring = rte_ring_create("rxb_rx", RING_SLOTS, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx_ring = rte_ring_create("rxb_tx", RING_SLOTS, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx_ring == NULL || tx_ring == NULL)
		return -ENOMEM;
	id = rte_eth_from_rings("net_ring_rxb", &rx_ring, 1, &tx_ring, 1, (unsigned)rte_socket_id());
	if (id < 0)
		return -ENODEV;
	cfg.port_id = (uint16_t)id;
	return mesh_net_port_init(&port, &cfg);
}

int
main(int argc, char **argv)
{
	static const uint8_t key[MESH_WIRE_KEY_LEN] = "meshd rx bench cluster key 0001";
	char prefix[64], lcores[16];
	char *eal_argv[] = {
		argv[0], "-l", lcores, "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--file-prefix", prefix, "--no-telemetry", "--log-level=lib.eal:warning",
		"--log-level=pmd.net.ring:warning",
	};
	struct mesh_wire_keyring none, kr;
	struct variant xv, av;
	struct opts o;
	uint32_t k_ops = 0;
	uint8_t probe[FRAME_BYTES];
	int rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr in order */
	if (parse_opts(argc, argv, &o) != 0) {
		usage(argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "bench_rx_%d", (int)getpid());
	snprintf(lcores, sizeof(lcores), "%u", o.lcore);
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	mesh_common_dpdk_init();
	if ((rc = port_setup()) != 0) {
		fprintf(stderr, "net_ring port: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}

	/* meshd always sets port.sec; keyless = a keyring without keys (xxh3 frames) */
	mesh_wire_keyring_init(&none);
	mesh_wire_keyring_init(&kr);
	mesh_wire_keyring_add(&kr, 1, key);
	xv = (struct variant){
		.name = "xxh3",
		.rx_sec = { .cluster_id = CLUSTER_ID, .self_id = SELF_ID, .keyring = &none },
		.peer_sec = { .cluster_id = CLUSTER_ID, .self_id = PEER_ID, .keyring = &none },
	};
	av = (struct variant){
		.name = "aead",
		.rx_sec = { .cluster_id = CLUSTER_ID, .self_id = SELF_ID, .keyring = &kr },
		.peer_sec = { .cluster_id = CLUSTER_ID, .self_id = PEER_ID, .keyring = &kr },
	};
	/* K: as many ops as fit the smaller (AEAD) payload of a 1400-byte frame; both runs
	 * carry the same K */
	if (build_msgs(probe, mesh_wire_payload_max(&av.peer_sec, FRAME_BYTES), 1, 0, &k_ops) == 0 ||
	    k_ops == 0 || build_frames(&xv, o.window, k_ops) != 0 ||
	    build_frames(&av, o.window, k_ops) != 0) {
		fprintf(stderr, "building frames failed\n");
		rc = 1;
		goto out;
	}
	printf("bench_rx_decode: net_ring port %u, lcore %u, mesh_net_rx_classify + MSGS/CrdtBatch "
	       "zero-copy decode\n", port.port_id, rte_lcore_id());
	if (o.xxh3 && run_variant(&xv, &o) != 0)
		rc = 1;
	if (rc == 0 && o.aead && run_variant(&av, &o) != 0)
		rc = 1;
out:
	free(xv.frames);
	free(av.frames);
	port.sec = NULL;
	mesh_net_port_fini(&port);
	mesh_counters_destroy(&port.ctr);
	rte_ring_free(rx_ring);
	rte_ring_free(tx_ring);
	mesh_wire_keyring_fini(&kr);
	mesh_wire_keyring_fini(&none);
	rte_eal_cleanup();
	return rc;
}
