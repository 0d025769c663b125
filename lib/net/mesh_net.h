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
#define MESH_NET_LEARN_Q 64 /* (address, MAC) of valid frames, rx stage to tx stage */
#define MESH_NET_LEARN_SEEN 64 /* rx stage: what it last passed on, per address hash */
#define MESH_NET_REPLAY_SLOTS 1024 /* senders with a replay window (keyed clusters) */
#define MESH_NET_FAULT_QUEUE_CAP 4096 /* frames the rx fault injection may hold */

/*
 * Plain counters, X(name, description); the per-cause rx/frame drop counters follow them
 * (see below), described by MESH_NET_PKT_DROPS and MESH_WIRE_COUNTERS.
 */
#define MESH_NET_COUNTERS(X) \
	X(rx_packets, "packets received from the port") \
	X(rx_bytes, "bytes received from the port") \
	X(rx_frames, "meshd frames that passed every check") \
	X(rx_arp_request, "ARP requests received") \
	X(rx_arp_reply, "ARP replies received") \
	X(rx_arp_learned, "ARP replies that resolved one of our outstanding requests") \
	X(rx_arp_ignored_invalid, "ARP ignored: sender 0.0.0.0 or a multicast/zero sender MAC") \
	X(rx_arp_ignored_claims_self, "ARP ignored: it claims our own address for another MAC") \
	X(rx_arp_ignored_gratuitous, "ARP ignored: gratuitous (sender address = target address)") \
	X(rx_arp_ignored_request, "ARP requests not learned from (those for us are answered)") \
	X(rx_arp_ignored_unsolicited, "ARP replies ignored: not to us or no request outstanding") \
	X(rx_arp_ignored_conflict, "ARP replies ignored: a resolved neighbour with another MAC") \
	X(neigh_learn_frame, "resolved neighbours refreshed by valid meshd frames") \
	X(neigh_move_refused, "valid frames from a known neighbour's IP but another MAC: entry kept") \
	X(neigh_learn_unknown, "valid frames from an IP with no resolved entry: nothing learned (ARP resolves it)") \
	X(neigh_learn_queue_full, "neighbour updates from valid frames lost: rx-to-tx queue full") \
	X(neigh_evicted, "neighbour entries evicted to resolve an address we send to") \
	X(rx_drop_multiseg, "packets dropped: chained (multi-segment) mbuf") \
	X(rx_drop_neigh_mac, "frames dropped: source IP resolved to another MAC (spoofed)") \
	X(tx_packets, "packets sent on the port") \
	X(tx_bytes, "bytes sent on the port") \
	X(tx_arp_request, "ARP requests sent") \
	X(tx_arp_reply, "ARP replies sent") \
	X(tx_drop_full, "packets dropped on send: the port's tx queue was full") \
	X(tx_drop_nombuf, "packets dropped on send: mbuf pool empty") \
	X(tx_drop_arp_unresolved, "packets dropped on send: the neighbour never answered ARP") \
	X(tx_drop_arp_hold_full, "packets dropped on send: too many held for one ARP answer") \
	X(tx_drop_too_big, "packets dropped on send: frame larger than an mbuf or a datagram") \
	X(fault_drop, "frames dropped by --fault-inject (testing only)") \
	X(fault_dup, "frames duplicated by --fault-inject (testing only)") \
	X(fault_delay, "frames delayed by --fault-inject (testing only)") \
	X(fault_queue_full, "frames --fault-inject could not delay: its queue was full")

#define MESH_NET_CTR_ENUM(name, desc) MESH_NET_CTR_##name,
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
	/* receive fault injection, testing only (NULL = off); the pool grows by the delay
	 * queue's capacity */
	const struct mesh_net_fault_spec *fault;
	/* Rx queue interrupts (intr_conf.rxq) are asked for, so event polling can block on
	 * them; a PMD that refuses is configured without. true: never ask */
	bool no_rx_intr;
};

/** Replay window of one authenticated sender (rx stage only). */
struct mesh_net_replay_slot {
	uint64_t sender;       /* 0 = free */
	uint64_t used_ns;
	struct mesh_wire_replay w;
};

/*
 * Neighbour learning from valid frames: the rx stage knows a frame's source MAC and IP,
 * the tx stage owns the table. The rx stage passes (ip, mac) through this SPSC queue when
 * the pair is new to it or it passed it on more than a second ago (seen[], rx only), so a
 * busy peer costs one entry a second; the tx stage applies them before it sends.
 */
struct mesh_net_learn {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t ns;
};

struct mesh_net_learn_q {
	uint32_t head;                              /* tx stage: next to read */
	uint32_t tail;                              /* rx stage: next to write */
	struct mesh_net_learn e[MESH_NET_LEARN_Q];
	struct mesh_net_learn seen[MESH_NET_LEARN_SEEN]; /* rx stage only */
};

struct mesh_net_fault_rx;

struct mesh_net_port {
	uint16_t port_id;
	/*
	 * Frame security (lib/wire): NULL = keyless xxh3 frames checked against cluster_id;
	 * else frames are opened with it (AEAD when its keyring has keys) and, when keyed,
	 * checked against a per-sender replay window.
	 */
	const struct mesh_wire_sec *sec;
	struct mesh_net_replay_slot replay[MESH_NET_REPLAY_SLOTS];
	struct mesh_net_addr self;
	uint32_t cluster_id;
	uint16_t ip_id;
	struct rte_mempool *pool;
	struct mesh_counters ctr;
	struct mesh_net_neigh neigh[MESH_NET_ARP_SLOTS];
	struct mesh_net_learn_q learn;
	uint16_t tx_n;
	struct rte_mbuf *tx_buf[MESH_NET_BURST];
	struct mesh_ratelimit drop_log;
	struct mesh_net_fault_rx *fault; /* rx fault injection state (NULL = off) */
};

/*
 * Per-packet metadata kept in the mbuf private area (the port's pool is created with room
 * for it), so a packet can cross lcores through a ring of bare mbuf pointers: the rx stage
 * fills it for valid frames, the merge stage reads it, and for outbound frames the builder
 * records the destination that the tx stage resolves.
 */
struct mesh_net_meta {
	uint64_t sender_id;   /* rx: frame header sender id */
	uint64_t seq;         /* rx: frame header sequence */
	uint64_t rx_ns;       /* rx: time the burst was received */
	uint32_t peer_ip;     /* rx: source address; tx: destination address */
	uint16_t peer_port;   /* rx: source port; tx: destination port */
	uint16_t payload_off; /* rx: frame payload offset from the start of mbuf data */
	uint16_t payload_len; /* rx: frame payload length */
	uint8_t type;         /* rx: frame type */
	uint8_t flags;        /* rx: frame flags */
};

static inline struct mesh_net_meta *
mesh_net_meta(struct rte_mbuf *m)
{
	return (struct mesh_net_meta *)rte_mbuf_to_priv(m);
}

/** The frame payload of a received frame (zero copy: it aliases the mbuf). */
static inline const uint8_t *
mesh_net_frame_payload(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, mesh_net_meta(m)->payload_off);
}

/** Consumer of valid frames (run-to-completion helper); must free or keep the mbuf. */
typedef void (*mesh_net_frame_f)(void *ctx, struct mesh_net_port *port, struct rte_mbuf *m,
				 uint64_t now_ns);

/** Configure and start @cfg->port_id with one rx and one tx queue. 0 or -errno. */
int mesh_net_port_init(struct mesh_net_port *p, const struct mesh_net_port_cfg *cfg);

/** Stop and close the port, free held packets. */
void mesh_net_port_fini(struct mesh_net_port *p);

/** The counter row of the calling thread. */
uint64_t *mesh_net_ctr(struct mesh_net_port *p);

/*
 * Stages. The rx stage (one lcore) classifies a burst; the tx stage (one lcore) owns the
 * tx queue and the neighbour table, so ARP packets go to it; frames go to whoever merges.
 * In run-to-completion mode one lcore calls all of them (mesh_net_rx does rx+ARP).
 */

/**
 * Rx stage: poll one burst, drop and count what is not for meshd, fill the metadata of
 * valid frames. Valid frames land in @frames (*@n_frames), ARP packets in @arp
 * (*@n_arp); both arrays hold MESH_NET_BURST. Returns the number of packets received.
 * With fault injection on, valid frames then go through it (dropped, duplicated, held
 * in the delay queue) and held frames that are due join @frames; the return value then
 * also counts the frames released from the queue.
 */
uint16_t mesh_net_rx_classify(struct mesh_net_port *p, uint64_t now_ns,
			      struct rte_mbuf **frames, uint16_t *n_frames,
			      struct rte_mbuf **arp, uint16_t *n_arp);

/** Tx stage: answer/learn from one ARP packet (consumes it). */
void mesh_net_arp_input(struct mesh_net_port *p, struct rte_mbuf *m, uint64_t now_ns);

/** Run-to-completion: classify a burst, handle ARP, hand valid frames to @cb. */
uint16_t mesh_net_rx(struct mesh_net_port *p, mesh_net_frame_f cb, void *ctx, uint64_t now_ns);

/** Any lcore: an mbuf for a UDP datagram of @len bytes; *@payload is where to write it. */
struct rte_mbuf *mesh_net_udp_alloc(struct mesh_net_port *p, uint16_t len, uint8_t **payload);

/** Any lcore: write IPv4/UDP headers with checksums and record the destination. */
void mesh_net_udp_prepare(struct mesh_net_port *p, struct rte_mbuf *m, uint32_t dst_ip,
			  uint16_t dst_port);

/**
 * Tx stage: resolve the destination MAC of a prepared datagram and queue it; resolves with
 * ARP if needed (holding a few packets per neighbour). Consumes @m in every case.
 */
void mesh_net_tx_submit(struct mesh_net_port *p, struct rte_mbuf *m, uint64_t now_ns);

/** Run-to-completion: prepare + submit. */
void mesh_net_udp_send(struct mesh_net_port *p, struct rte_mbuf *m, uint32_t dst_ip,
		       uint16_t dst_port, uint64_t now_ns);

/** Tx stage: transmit what is queued; what the NIC refuses is freed, counted tx_drop_full. */
void mesh_net_tx_flush(struct mesh_net_port *p);

/**
 * Tx stage: apply the neighbour updates the rx stage passed on from valid frames (also
 * done by mesh_net_tx_submit and mesh_net_arp_tick).
 */
void mesh_net_neigh_sync(struct mesh_net_port *p, uint64_t now_ns);

/** Retry or expire unresolved neighbours (call every few ms). */
void mesh_net_arp_tick(struct mesh_net_port *p, uint64_t now_ns);

/**
 * Rx stage: release time of the earliest frame the fault injection holds, UINT64_MAX when
 * none (or injection is off). The poll loop must not sleep past it.
 */
uint64_t mesh_net_fault_next_ns(const struct mesh_net_port *p);

/** Counter names and one-line descriptions (MESH_NET_CTR_MAX entries each). */
const char *const *mesh_net_counter_names(void);
const char *const *mesh_net_counter_descs(void);

/* ---------------------------------------------------------------- polling */

enum mesh_net_poll_mode {
	MESH_NET_POLL_BUSY = 0,    /**< never sleep: dedicated cores */
	MESH_NET_POLL_BACKOFF = 1, /**< timed sleeps after empty polls (no wake-up sources) */
	MESH_NET_POLL_EVENT = 2,   /**< block until traffic, a wake-up or the next deadline */
};

/* Lateness of deadline wake-ups: buckets up to 10, 50, 100, 250, 500 us, 1, 5 ms, more. */
#define MESH_NET_LATE_BUCKETS 8

/**
 * Idle pacing of one poll loop. Backoff mode: after @spin empty polls, sleep @min_us,
 * doubling up to @max_us while the port stays idle; any received packet resets it; a sleep
 * never runs past the caller's deadline. Also the statistics of every mode (the event
 * mode's timed fallback uses the same growth).
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
	/* sleeps that ended at their deadline, and how late the loop woke for it */
	uint64_t timed;
	uint64_t late_max_ns;
	uint64_t late[MESH_NET_LATE_BUCKETS];
};

void mesh_net_backoff_init(struct mesh_net_backoff *b, enum mesh_net_poll_mode mode,
			   uint32_t max_us);
/** Account one poll that received @n packets; sleeps when idle in backoff mode. */
void mesh_net_backoff_poll(struct mesh_net_backoff *b, unsigned n);

/**
 * As mesh_net_backoff_poll, but an idle sleep ends no later than @wake_ns (the poll
 * started at @now_ns): the loop's next deadline. UINT64_MAX = no limit.
 */
void mesh_net_backoff_poll_until(struct mesh_net_backoff *b, unsigned n, uint64_t now_ns,
				 uint64_t wake_ns);

/** One back-off sleep (growing the next), ending no later than @wake_ns (see above). */
void mesh_net_backoff_sleep(struct mesh_net_backoff *b, uint64_t now_ns, uint64_t wake_ns);

/** Record that a sleep aimed at @deadline_ns ended at @woke_ns (lateness statistics). */
void mesh_net_backoff_late(struct mesh_net_backoff *b, uint64_t deadline_ns,
			   uint64_t woke_ns);

/** Name of lateness bucket @i ("le_10us" ... "gt_5ms"), a telemetry key suffix. */
const char *mesh_net_late_bucket_name(unsigned i);

const char *mesh_net_poll_mode_name(enum mesh_net_poll_mode m);
int mesh_net_poll_mode_parse(const char *s, enum mesh_net_poll_mode *out);

/** How an idle loop learns that the port received something (event mode). */
enum mesh_net_rx_wake {
	MESH_NET_RX_WAKE_NONE = 0, /**< nothing to wait on: timed back-off sleeps */
	MESH_NET_RX_WAKE_INTR,     /**< the PMD's Rx queue interrupt (net_tap, most NICs) */
	MESH_NET_RX_WAKE_SOCKET,   /**< the kernel socket under the PMD (af_packet, af_xdp) */
};

#define MESH_NET_IDLE_FDS 6

/**
 * Event-driven idle of one lcore (mesh_net_idle.c). In event mode an lcore that found no
 * work arms its wake-ups, polls once more, then blocks in epoll until the port receives
 * (when the lcore polls it), another thread signals one of its file descriptors, or its
 * next deadline (a timerfd, ns precise); an lcore whose port has no wake-up source sleeps
 * in the same epoll with the back-off's growing timeout instead. Busy and backoff modes
 * only use @b.
 */
struct mesh_net_idle {
	struct mesh_net_backoff b;
	int epfd, timer_fd, wake_fd;
	uint64_t timer_at;           /* deadline the timerfd is set for and has not reached */
	int sleeping;                /* armed: other lcores must signal wake_fd */
	bool armed;
	bool rx_role;                /* this lcore polls the port */
	enum mesh_net_rx_wake rx_wake;
	uint16_t port_id;
	unsigned n_ev;
	struct rte_epoll_event ev[MESH_NET_IDLE_FDS];
	uint64_t blocks;             /* epoll waits */
	uint64_t wake_rx;            /* ... ended by the port */
	uint64_t wake_fd_events;     /* ... ended by another thread (rings, control, queries) */
	uint64_t wake_timer;         /* ... ended by the deadline or the back-off timeout */
};

/**
 * Set up @w for @mode (event mode: epoll set, timerfd and wake-up eventfd); @max_us caps
 * the timed sleeps (backoff, and event mode without an Rx wake-up source). 0 or -errno.
 */
int mesh_net_idle_init(struct mesh_net_idle *w, enum mesh_net_poll_mode mode,
		       uint32_t max_us);

/**
 * Event mode, an lcore with the rx role: wait on @port_id's Rx queue 0 too, through its
 * interrupt when the PMD has one (the port asked for it, see mesh_net_port_cfg), else
 * through the PMD's kernel socket (af_packet bound to the port's interface, af_xdp);
 * neither: timed sleeps. Returns the source (logged). No-op in the other modes.
 */
enum mesh_net_rx_wake mesh_net_idle_add_port(struct mesh_net_idle *w, uint16_t port_id);

/**
 * Event mode: wake up when another thread signals @fd (an eventfd; drained on wake-up,
 * owned by the caller). 0, -ENOSPC, or -errno. No-op in the other modes or for @fd < 0.
 */
int mesh_net_idle_add_fd(struct mesh_net_idle *w, int fd);

/**
 * Any thread, after handing @w's lcore work (a ring it reads): wake it if it sleeps. A
 * store-load fence pairs with the arming, so either the lcore's last poll before blocking
 * sees the work or this call sees it armed and signals it.
 */
void mesh_net_idle_wake(struct mesh_net_idle *w);

/**
 * Account one loop pass that found @work items. Returns true when the loop should sleep
 * now (then call mesh_net_idle_sleep): never in busy mode; after the spin polls in backoff
 * mode; in event mode after the spin polls and one more pass with the wake-ups armed.
 */
bool mesh_net_idle_account(struct mesh_net_idle *w, unsigned work);

/** Sleep as the mode says, never past @deadline_ns (UINT64_MAX: none); @now_ns is now. */
void mesh_net_idle_sleep(struct mesh_net_idle *w, uint64_t now_ns, uint64_t deadline_ns);

/** Close what init opened and leave the port's Rx interrupt. The loop must have ended. */
void mesh_net_idle_fini(struct mesh_net_idle *w);

const char *mesh_net_rx_wake_name(enum mesh_net_rx_wake s);

struct rte_tel_data;
/**
 * Add @w's figures (polls, busy share, sleeps, wake-ups, lateness buckets) to @e, a
 * telemetry dict already started (mesh_net_idle_tel.c). Any thread.
 */
void mesh_net_idle_tel_fill(const struct mesh_net_idle *w, struct rte_tel_data *e);

/** True while a neighbour is being resolved: the tx role's ARP timer then has work. */
bool mesh_net_arp_pending(const struct mesh_net_port *p);

/* ---------------------------------------------------------------- key reload */

/** New cluster keys for running lcores (mesh_net_keyswap.c): two keyrings, one in use. */
struct mesh_net_keyswap {
	struct mesh_wire_sec *sec;         /* whose keyring pointer the lcores read */
	struct mesh_wire_keyring *first;   /* the keyring at start (owned by the caller) */
	struct mesh_wire_keyring spare;
	uint64_t swapped_ns;               /* last swap (mesh_tsc_now_ns), 0: none */
};

/** @sec->keyring is @first (or NULL, keyless); a load swaps between @first and a spare. */
void mesh_net_keyswap_init(struct mesh_net_keyswap *ks, struct mesh_wire_sec *sec,
			   struct mesh_wire_keyring *first);
/**
 * Load key file @path into the keyring not in use and point @sec at it; waits while that
 * keyring was swapped out less than a second ago. 0, or -EINVAL with the reason in @err
 * (an empty file is refused) and the keys in use unchanged.
 */
int mesh_net_keyswap_load(struct mesh_net_keyswap *ks, const char *path, char *err,
			  size_t err_len);
/** Point @sec back at @first (the lcores must have stopped) and wipe the spare. */
void mesh_net_keyswap_fini(struct mesh_net_keyswap *ks);

/* ---------------------------------------------------------------- node environment */

struct mesh_node;
struct mesh_node_frame;
struct mesh_handoff;

/**
 * The DPDK side of lib/node's environment, on the merge lcore: received frames become
 * struct mesh_node_frame views of their mbufs (zero copy), and frame payloads the node
 * sends are sealed (lib/wire: checksum or AEAD, this node's sequence numbers) into fresh
 * mbufs, given IPv4/UDP headers and handed to the tx stage: through @to_tx when the tx
 * role runs on another lcore, else straight to the port's tx queue.
 */
struct mesh_net_node_io {
	struct mesh_net_port *port;
	const struct mesh_wire_sec *sec;
	uint8_t frame_flags;          /* MESH_WIRE_F_AEAD when keyed */
	uint64_t tx_seq;
	struct mesh_handoff *to_tx;   /* NULL: the tx role shares this lcore */
};

/** Views of @n received frames for mesh_node_input (valid while the mbufs live). */
void mesh_net_node_frames(struct rte_mbuf *const *m, unsigned n, struct mesh_node_frame *out);

/** Merge lcore: hand @n received frames to @node (zero copy, in bursts), then free them. */
void mesh_net_node_input(struct mesh_node *node, struct rte_mbuf **m, unsigned n,
			 uint64_t now_ns);

/** Seal and send @n node frames (env->send of lib/node). Failures are counted by lib/net. */
void mesh_net_node_send(struct mesh_net_node_io *io, const struct mesh_node_frame *frames,
			unsigned n, uint64_t now_ns);

#endif /* MESH_NET_H */
