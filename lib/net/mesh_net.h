/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: meshd's DPDK data plane for one port. It owns the port, its mempool, ARP
 * (answer, resolve, learn), Ethernet/IPv4/UDP parsing on receive, the meshd frame check,
 * and UDP transmission with complete checksums. Frames that pass every check are handed
 * to a callback with zero copies: the payload pointer aliases the mbuf.
 *
 * Every drop has its own counter (rx_drop_<cause>, tx_drop_<cause>); counters live per
 * lcore (one row each, plus one for non-EAL threads) and are summed by telemetry.
 */
#ifndef MESH_NET_H
#define MESH_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"
#include "mesh_wire.h"

#define MESH_NET_BURST 32
#define MESH_NET_ARP_SLOTS 256
#define MESH_NET_ARP_HOLD 4 /* packets held per unresolved neighbour */

/* Plain counters; the per-cause rx/frame drop counters follow them (see below). */
#define MESH_NET_COUNTERS(X) \
	X(rx_packets) X(rx_bytes) X(rx_frames) X(rx_arp_request) X(rx_arp_reply) \
	X(rx_drop_multiseg) X(rx_drop_unhandled_type) \
	X(tx_packets) X(tx_bytes) X(tx_arp_request) X(tx_arp_reply) \
	X(tx_drop_full) X(tx_drop_nombuf) X(tx_drop_arp_unresolved) X(tx_drop_arp_hold_full) \
	X(tx_drop_too_big) \
	X(rx_hello) X(tx_hello) X(rx_hello_reply) X(tx_hello_reply)

#define MESH_NET_CTR_ENUM(name) MESH_NET_CTR_##name,
enum mesh_net_counter {
	MESH_NET_COUNTERS(MESH_NET_CTR_ENUM)
	/* rx_drop_<mesh_net_pkt drop cause>, one per cause except OK */
	MESH_NET_CTR_PKT_DROP_BASE,
	/* rx_drop_frame_<mesh_wire_err>, one per error except OK */
	MESH_NET_CTR_FRAME_DROP_BASE = MESH_NET_CTR_PKT_DROP_BASE + MESH_NET_PKT_DROP_MAX - 1,
	MESH_NET_CTR_MAX = MESH_NET_CTR_FRAME_DROP_BASE + MESH_WIRE_ERR_MAX - 1,
};

/** A neighbour in the ARP cache. */
struct mesh_net_neigh {
	uint32_t ip;            /* 0 = free slot */
	bool resolved;
	struct rte_ether_addr mac;
	uint64_t updated_ns;
	uint64_t last_request_ns;
	uint32_t requests;
	uint16_t n_hold;
	struct rte_mbuf *hold[MESH_NET_ARP_HOLD];
};

struct mesh_net_port_cfg {
	uint16_t port_id;
	uint32_t ip;            /* host order */
	uint16_t udp_port;
	uint32_t cluster_id;    /* 0 accepts any cluster */
	uint32_t n_mbufs;       /* mempool size (default 4095) */
	uint16_t n_rxd, n_txd;  /* descriptors (default 1024) */
	uint8_t mac[6];         /* override the port's MAC (all zero: keep the port's) */
};

struct mesh_net_port {
	uint16_t port_id;
	struct mesh_net_addr self;
	uint32_t cluster_id;
	uint16_t ip_id;
	struct rte_mempool *pool;
	struct mesh_counters ctr;
	struct mesh_net_neigh neigh[MESH_NET_ARP_SLOTS];
	uint16_t tx_n;
	struct rte_mbuf *tx_buf[MESH_NET_BURST];
	struct mesh_ratelimit drop_log;
};

/** What the rx path hands to its consumer for one valid meshd frame. */
struct mesh_net_frame {
	struct rte_mbuf *mbuf;          /* owned by the callback from here on */
	const struct mesh_wire_hdr *hdr;
	const uint8_t *payload;         /* aliases the mbuf */
	uint32_t src_ip;
	uint16_t src_port;
};

/** Consumer of valid frames; must free or keep the mbuf. */
typedef void (*mesh_net_frame_f)(void *ctx, struct mesh_net_port *port,
				 const struct mesh_net_frame *f, uint64_t now_ns);

/** Configure and start @cfg->port_id with one rx and one tx queue. 0 or -errno. */
int mesh_net_port_init(struct mesh_net_port *p, const struct mesh_net_port_cfg *cfg);

/** Stop and close the port, free held packets. */
void mesh_net_port_fini(struct mesh_net_port *p);

/** The counter row of the calling thread. */
uint64_t *mesh_net_ctr(struct mesh_net_port *p);

/**
 * Poll one burst: answer ARP, learn neighbours, check meshd frames and pass the valid
 * ones to @cb. Returns the number of packets received (0 = idle poll).
 */
uint16_t mesh_net_rx(struct mesh_net_port *p, mesh_net_frame_f cb, void *ctx, uint64_t now_ns);

/** Allocate an mbuf for a UDP datagram of @len bytes; *@payload is where to write it. */
struct rte_mbuf *mesh_net_udp_alloc(struct mesh_net_port *p, uint16_t len, uint8_t **payload);

/**
 * Fill Ethernet/IPv4/UDP headers and queue @m for @dst_ip:@dst_port. Resolves the MAC with
 * ARP if needed (holding a few packets per neighbour). Consumes @m in every case.
 */
void mesh_net_udp_send(struct mesh_net_port *p, struct rte_mbuf *m, uint32_t dst_ip,
		       uint16_t dst_port, uint64_t now_ns);

/** Transmit what is queued; what the NIC refuses is freed and counted (tx_drop_full). */
void mesh_net_tx_flush(struct mesh_net_port *p);

/** Retry or expire unresolved neighbours (call every few ms). */
void mesh_net_arp_tick(struct mesh_net_port *p, uint64_t now_ns);

/** Counter names (MESH_NET_CTR_MAX entries), for telemetry. */
const char *const *mesh_net_counter_names(void);

/* ---------------------------------------------------------------- polling */

enum mesh_net_poll_mode {
	MESH_NET_POLL_BUSY = 0,    /**< never sleep: dedicated cores */
	MESH_NET_POLL_BACKOFF = 1, /**< sleep after empty polls: shared cores, tests */
};

/**
 * Idle back-off: after @spin empty polls, sleep @min_us, doubling up to @max_us while the
 * port stays idle; any received packet resets it.
 */
struct mesh_net_backoff {
	enum mesh_net_poll_mode mode;
	uint32_t spin;
	uint32_t min_us;
	uint32_t max_us;
	uint32_t empty;
	uint32_t cur_us;
	uint64_t polls;
	uint64_t busy_polls;
	uint64_t sleeps;
	uint64_t slept_us;
};

void mesh_net_backoff_init(struct mesh_net_backoff *b, enum mesh_net_poll_mode mode,
			   uint32_t max_us);
/** Account one poll that received @n packets; sleeps when idle in backoff mode. */
void mesh_net_backoff_poll(struct mesh_net_backoff *b, unsigned n);

const char *mesh_net_poll_mode_name(enum mesh_net_poll_mode m);
int mesh_net_poll_mode_parse(const char *s, enum mesh_net_poll_mode *out);

#endif /* MESH_NET_H */
