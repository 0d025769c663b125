/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/swim: SWIM membership with the Lifeguard extensions, as a pure state machine.
 *
 * The state machine never reads a clock, never touches a socket and never blocks. A caller
 * (lib/net on the merge lcore, the simulator in tests/sim, a unit test) drives it:
 *
 *   s = mesh_swim_new(&cfg, &ops, ctx);          // cfg from mesh_swim_cfg_lan/_fast
 *   mesh_swim_join(s, seeds, n_seeds, now);      // several seeds, retried with backoff
 *   loop:
 *     for each received SWIM blob:  mesh_swim_input(s, now, &from, blob, len);
 *     if (now >= mesh_swim_next_deadline(s)) mesh_swim_tick(s, now);
 *   mesh_swim_leave(s, now); keep ticking for a few gossip intervals; mesh_swim_delete(s);
 *
 * Every outgoing message produced while handling one input or tick is handed to
 * ops->send in one batch at the end of the call (or earlier when the batch is full), never
 * one call per packet; with cfg.defer_flush the batch spans calls until mesh_swim_flush
 * (e.g. once per rx burst on the merge lcore). Member events are reported through ops->event as they happen.
 * Addresses are IPv4 + UDP port in host byte order. One SWIM message ("blob") never
 * exceeds cfg.max_msg bytes (default 1420 = 1472 UDP - 32 frame header - 16 tag - 4
 * container overhead); lib/net wraps blobs into MSGS frames.
 *
 * Identity is (name, generation). The generation is chosen by the caller at start
 * (meshd uses the wall clock in ns, so that a restart always gets a higher one); a record
 * with a higher generation for a known name is a restart and replaces the old life; records
 * of a lower generation are stale and ignored, also when they are about this node.
 *
 * Identity binding: a record that gives member X a new generation or a new address is
 * applied only when it is first-hand, i.e. the blob's header names X at that generation
 * and the blob came from that address (lib/node has checked the frame's sender id
 * against the header). Third parties may gossip X's suspicion, death, leave and
 * refutations at X's known generation and address, and introduce members we do not know
 * yet (unverified until X itself is heard from; a first-hand record replaces an unverified
 * life). Incarnation 0xFFFFFFFF is reserved and refused. See doc/security.md.
 *
 * Thread safety: none; one instance belongs to one thread (the merge lcore). Counters are
 * stored with relaxed atomics so that telemetry may read them from another thread.
 */
#ifndef MESH_SWIM_H
#define MESH_SWIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest member name in bytes (names are byte strings without NUL, 1..64 bytes). */
#define MESH_SWIM_NAME_MAX 64
/** Hard upper bound for per-member metadata; cfg.meta_max (default 512) may be lower. */
#define MESH_SWIM_META_MAX 4096
/** Default SWIM blob budget: 1472 - 32 frame header - 16 AEAD tag - 4 container entry. */
#define MESH_SWIM_DEFAULT_MAX_MSG 1420u
/** Smallest budget accepted (a ping with a 64-byte target and one full record fits). */
#define MESH_SWIM_MIN_MAX_MSG 256u
/** Largest budget accepted (jumbo frames). */
#define MESH_SWIM_MAX_MAX_MSG 65000u
/** Messages handed to ops->send in one call at most. */
#define MESH_SWIM_SEND_BATCH 32u

/** IPv4 address and UDP port, host byte order. */
struct mesh_swim_addr {
	uint32_t ip;
	uint16_t port;
};

/** Member status. The numeric values are also the wire values. */
enum mesh_swim_status {
	MESH_SWIM_ALIVE = 1,
	MESH_SWIM_SUSPECT = 2,
	MESH_SWIM_DEAD = 3,
	MESH_SWIM_LEFT = 4,
};

/** Member events (see struct mesh_swim_event). */
enum mesh_swim_event_type {
	MESH_SWIM_EV_ALIVE = 1,   /**< new member, restarted member, or refuted suspicion */
	MESH_SWIM_EV_SUSPECT,     /**< member suspected */
	MESH_SWIM_EV_DEAD,        /**< member declared dead */
	MESH_SWIM_EV_LEFT,        /**< member left gracefully */
	MESH_SWIM_EV_UPDATED,     /**< alive member changed address or metadata */
	MESH_SWIM_EV_REMOVED,     /**< dead/left member reaped after cfg.dead_timeout_ns */
	MESH_SWIM_EV_CONFLICT,    /**< a name (maybe ours) claimed from another address/life */
};

/** One member event. Pointers are valid for the duration of the callback only. */
struct mesh_swim_event {
	enum mesh_swim_event_type type;
	enum mesh_swim_status status;      /**< status after the event */
	enum mesh_swim_status prev_status; /**< status before (0: member was unknown) */
	const char *name;                  /**< not NUL-terminated */
	size_t name_len;
	uint64_t gen;                      /**< boot generation */
	uint32_t inc;                      /**< incarnation */
	struct mesh_swim_addr addr;
	const uint8_t *meta;
	size_t meta_len;
	struct mesh_swim_addr conflict_addr; /**< CONFLICT only: the other claimant's address */
	uint64_t conflict_gen;               /**< CONFLICT only: the other claimant's generation */
};

/** One outgoing message. */
struct mesh_swim_pkt {
	struct mesh_swim_addr to;
	const uint8_t *msg;
	size_t len;
};

/** send: hand over @n messages (valid during the call only). */
typedef void (*mesh_swim_send_f)(void *ctx, const struct mesh_swim_pkt *pkts, unsigned n);
/** random: 64 random bits (probe order, relay and gossip target choice). */
typedef uint64_t (*mesh_swim_random_f)(void *ctx);
/** event: one member event. Must not call back into the same instance. */
typedef void (*mesh_swim_event_f)(void *ctx, const struct mesh_swim_event *ev);

/** The environment. send and random are required; event may be NULL. */
struct mesh_swim_env_ops {
	mesh_swim_send_f send;
	mesh_swim_random_f random;
	mesh_swim_event_f event;
};

/**
 * Configuration. Start from mesh_swim_cfg_lan() or mesh_swim_cfg_fast(), then set the
 * identity (name, gen, addr, meta). Times in ns.
 */
struct mesh_swim_cfg {
	/* identity */
	char name[MESH_SWIM_NAME_MAX + 1]; /**< NUL-terminated, 1..64 bytes */
	uint64_t gen;                      /**< boot generation, > 0, higher on every restart */
	struct mesh_swim_addr addr;        /**< advertised address */
	const uint8_t *meta;               /**< copied by mesh_swim_new */
	size_t meta_len;

	/* failure detection */
	uint64_t probe_interval_ns;   /**< protocol period T' (LAN 1 s) */
	uint64_t probe_timeout_ns;    /**< direct ack wait before indirect probes (LAN 500 ms) */
	uint64_t indirect_timeout_ns; /**< extra wait for indirect acks; 0: until period end */
	uint32_t indirect_checks;     /**< k relays (3) */
	uint32_t awareness_max;       /**< Lifeguard local health multiplier cap (8) */

	/* suspicion (Lifeguard) */
	uint32_t suspicion_mult;      /**< min = mult * max(1, log10(N)) * T' (LAN 4) */
	uint32_t suspicion_max_mult;  /**< max = min * this (6) */
	uint32_t suspicion_k;         /**< independent confirmations that bring the timeout
				       *   down to min; 0: mult - 2 (memberlist) */
	uint32_t direct_max;          /**< at most this many members: suspicions and deaths we
				       *   declare go straight to every member, not only by
				       *   gossip (fast 32, lan 0) */

	/* dissemination */
	uint32_t retransmit_mult;     /**< limit = mult * ceil(log10(N + 1)) (4) */
	uint64_t gossip_interval_ns;  /**< (200 ms) */
	uint32_t gossip_nodes;        /**< fan-out per gossip round (3) */
	uint64_t gossip_to_dead_ns;   /**< keep gossiping to dead members this long (30 s) */
	uint64_t push_pull_interval_ns; /**< full-state sync with one random peer (30 s); 0 = off */

	/* lifecycle */
	uint64_t dead_timeout_ns;     /**< reap dead/left members after this (60 s) */
	uint64_t join_retry_ns;       /**< first join retry (1 s), doubled per retry */
	uint64_t join_retry_max_ns;   /**< cap of the join backoff (30 s) */

	/* limits */
	uint32_t max_msg;             /**< SWIM blob budget in bytes (1420) */
	uint32_t meta_max;            /**< per-member metadata bound (512) */
	uint32_t size_hint;           /**< expected members (pre-sizes tables; 0 = grow) */
	uint32_t max_members;         /**< member table bound, self excluded (0: 16384); when
				       *   full, dead/left members are evicted, live ones never */
	bool defer_flush;             /**< input/tick keep their output until mesh_swim_flush
				       *   (or 32 messages are pending): one send per rx burst */
	bool sender_authenticated;    /**< every message's sender is authenticated (keyed,
				       *   no keyless frames accepted); false: a live member's
				       *   new life or address only from its known address */
};

/** memberlist DefaultLANConfig equivalents (probe 1 s / 500 ms, gossip 200 ms x 3, ...). */
void mesh_swim_cfg_lan(struct mesh_swim_cfg *cfg);

/**
 * DPDK-class LAN profile (meshd's default): 8 ms probes and a one-period suspicion floor,
 * a crash dead everywhere in about 20 ms at N = 8; a member that refuted a recent
 * suspicion late gets twice the time it needed (doc/swim.md §3).
 */
void mesh_swim_cfg_fast(struct mesh_swim_cfg *cfg);

/**
 * Dedicated-core profile: the fast one probing every 5 ms (a crash dead everywhere in
 * about 12 ms median at N = 8 in the simulator; doc/swim.md §3).
 */
void mesh_swim_cfg_tight(struct mesh_swim_cfg *cfg);

/** The profile named @name: "lan", "fast" or "tight". 0, or -EINVAL for another name. */
int mesh_swim_cfg_profile(struct mesh_swim_cfg *cfg, const char *name);

/**
 * Operator overrides on top of a profile, 0 keeping the profile's value: the probe
 * period, the direct ack timeout (also the indirect wait where the profile bounds it by
 * the direct one; lan waits for the period's end) and the suspicion multiplier.
 */
void mesh_swim_cfg_override(struct mesh_swim_cfg *cfg, uint32_t probe_interval_ms,
			    uint32_t probe_timeout_ms, uint32_t suspicion_mult);

/** Refuse timing SWIM cannot run with (ack timeout >= probe period). 0, or -EINVAL + @why. */
int mesh_swim_cfg_timing_check(const struct mesh_swim_cfg *cfg, char *why, size_t why_len);

/** Opaque instance. */
struct mesh_swim;

/** Create an instance (status alive, not yet joined). NULL + errno (EINVAL, ENOMEM). */
struct mesh_swim *mesh_swim_new(const struct mesh_swim_cfg *cfg,
				const struct mesh_swim_env_ops *ops, void *ctx);

/** Free an instance (no messages are sent). NULL is a no-op. */
void mesh_swim_delete(struct mesh_swim *s);

/**
 * Handle one received SWIM blob from @from. Returns 0 when it was accepted, or -EBADMSG
 * when it was dropped (malformed, counted per cause), -EINVAL on bad arguments.
 */
int mesh_swim_input(struct mesh_swim *s, uint64_t now_ns, const struct mesh_swim_addr *from,
		    const uint8_t *msg, size_t len);

/**
 * The sender a SWIM blob names in its header: copies the name (NUL-terminated) into
 * @name[MESH_SWIM_NAME_MAX + 1] and the generation into @gen. 0, or -EBADMSG when the
 * header does not decode. lib/node checks it against the frame's (authenticated) sender id.
 */
int mesh_swim_msg_sender(const uint8_t *msg, size_t len, char *name, uint64_t *gen);

/** Run the timers due at @now_ns (probe, gossip, suspicion, reap, push-pull, join). 0. */
int mesh_swim_tick(struct mesh_swim *s, uint64_t now_ns);

/** Hand pending output to ops->send now (only needed with cfg.defer_flush). */
void mesh_swim_flush(struct mesh_swim *s);

/** The time at which mesh_swim_tick must next be called (never 0; may be in the past). */
uint64_t mesh_swim_next_deadline(const struct mesh_swim *s);

/**
 * Join through up to 16 seeds (push-pull with each; addresses equal to our own are
 * skipped). Retried with exponential backoff until one answers. 0 or -EINVAL. Optional:
 * a node without seeds (the first one) may skip it; it is then found by the others.
 */
int mesh_swim_join(struct mesh_swim *s, const struct mesh_swim_addr *seeds, size_t n,
		   uint64_t now_ns);

/** True once a seed (or any member) has answered a join. */
bool mesh_swim_joined(const struct mesh_swim *s);

/**
 * Leave gracefully: send LEFT with a new incarnation straight to every alive or suspect
 * member (one message each, up to 1024; swim_leave_sent) and keep gossiping it on the
 * following ticks; probing stops. 0 or -EALREADY.
 */
int mesh_swim_leave(struct mesh_swim *s, uint64_t now_ns);

/**
 * Liveness evidence: a frame from member @name (life @gen) was accepted (authenticated,
 * or valid when keyless); call it after the frame's SWIM blobs, if any, went through
 * mesh_swim_input (an ack in it then counts as an ack). It satisfies an outstanding probe of
 * that member as an ack would (so heavy channel traffic never makes a prober suspect it)
 * and changes nothing else: a suspicion is only refuted by the member's own record, and
 * a dead or left member stays so. Returns 1 when it satisfied a probe, else 0.
 */
int mesh_swim_member_heard(struct mesh_swim *s, const char *name, size_t name_len,
			   uint64_t gen, uint64_t now_ns);

/** Replace our metadata (bumps the incarnation and gossips it). 0, -EINVAL (too long). */
int mesh_swim_meta_set(struct mesh_swim *s, const uint8_t *meta, size_t len, uint64_t now_ns);

/** A snapshot of one member (pointers valid until the next call into the instance). */
struct mesh_swim_member_info {
	const char *name;
	size_t name_len;
	uint64_t gen;
	uint32_t inc;
	enum mesh_swim_status status;
	struct mesh_swim_addr addr;
	const uint8_t *meta;
	size_t meta_len;
	uint64_t change_ns; /**< time of the last status change */
};

/** Members known (self excluded) with @status, or all of them when @status is 0. */
size_t mesh_swim_member_count(const struct mesh_swim *s, int status);

/** Look a member up by name (self included). 0 or -ENOENT. */
int mesh_swim_member_get(const struct mesh_swim *s, const char *name, size_t name_len,
			 struct mesh_swim_member_info *out);

/** Member number @idx (0 .. member_count(s, 0) - 1, self excluded). 0 or -ENOENT. */
int mesh_swim_member_at(const struct mesh_swim *s, size_t idx,
			struct mesh_swim_member_info *out);

/** Our own current record (name, gen, inc, status). */
void mesh_swim_self(const struct mesh_swim *s, struct mesh_swim_member_info *out);

/** Lifeguard local health score, 0 (healthy) .. awareness_max - 1. */
uint32_t mesh_swim_health(const struct mesh_swim *s);

/* ---------------------------------------------------------------- counters */

/* Counters, X(name, description): xstats-style names, the telemetry keys. */
#define MESH_SWIM_COUNTERS(X) \
	X(swim_rx_msgs, "SWIM messages received") \
	X(swim_rx_bytes, "SWIM message bytes received") \
	X(swim_tx_msgs, "SWIM messages sent") \
	X(swim_tx_bytes, "SWIM message bytes sent") \
	X(swim_tx_batches, "batches of SWIM messages handed to the network") \
	X(swim_rx_drop_malformed, "SWIM messages that did not decode (all the causes below)") \
	X(swim_rx_drop_short, "SWIM messages dropped: truncated") \
	X(swim_rx_drop_version, "SWIM messages dropped: unknown version") \
	X(swim_rx_drop_type, "SWIM messages dropped: unknown message type") \
	X(swim_rx_drop_flags, "SWIM messages dropped: unknown flag bits for the type") \
	X(swim_rx_drop_name, "SWIM messages dropped: empty, too long or NUL in a member name") \
	X(swim_rx_drop_meta, "SWIM messages dropped: member metadata longer than the bound") \
	X(swim_rx_drop_status, "SWIM messages dropped: unknown member status") \
	X(swim_rx_drop_trailing, "SWIM messages dropped: bytes after the last record") \
	X(swim_rx_drop_too_many, "SWIM messages dropped: more records than allowed") \
	X(swim_rx_drop_self, "SWIM messages dropped: sent by this node itself (reflected)") \
	X(swim_rx_drop_wrong_target, "SWIM messages dropped: a ping meant for another member") \
	X(swim_rx_drop_stale_seq, "SWIM messages dropped: ack or nack for no pending probe") \
	X(swim_probe_sent, "direct probes (pings) sent") \
	X(swim_probe_ack, "probes acknowledged in time") \
	X(swim_probe_heard, "probes satisfied by other traffic from the target (not an ack)") \
	X(swim_probe_retry, "second direct pings sent with the indirect probes") \
	X(swim_probe_urgent, "probes started at once for a suspect learnt from others") \
	X(swim_probe_indirect, "indirect probe requests sent to relays") \
	X(swim_probe_failed, "probes that got no ack, direct or indirect") \
	X(swim_ping_rx, "pings received") \
	X(swim_ack_sent, "acks sent in answer to pings") \
	X(swim_ping_req_rx, "indirect probe requests received") \
	X(swim_ping_req_drop, "indirect probe requests refused: every relay slot busy") \
	X(swim_nack_sent, "nacks sent: a relayed probe got no answer") \
	X(swim_nack_rx, "nacks received from relays") \
	X(swim_relay_ack_fwd, "acks relayed back to the member that asked for the probe") \
	X(swim_suspect, "members marked suspect") \
	X(swim_suspect_confirm, "independent confirmations of a suspicion") \
	X(swim_dead, "members marked dead") \
	X(swim_left, "members that left gracefully") \
	X(swim_alive, "members that became alive (joined or recovered)") \
	X(swim_updated, "alive members whose address or metadata changed") \
	X(swim_reaped, "dead or left members forgotten after the dead timeout") \
	X(swim_refute, "suspicions of this node refuted (higher incarnation sent)") \
	X(swim_old_self_rumor, "rumors about an earlier run of this node, ignored") \
	X(swim_name_conflict, "records claiming a live name from another address, refused") \
	X(swim_rec_stale, "membership records ignored: older than what is known") \
	X(swim_rec_applied, "membership records that changed the member list") \
	X(swim_gossip_sent, "gossip messages sent") \
	X(swim_bcast_queued, "membership updates queued for dissemination") \
	X(swim_bcast_sent, "membership updates piggybacked on messages") \
	X(swim_bcast_expired, "membership updates retired after their last transmission") \
	X(swim_push_pull_sent, "push-pull state exchanges started") \
	X(swim_push_pull_rx, "push-pull state messages received") \
	X(swim_push_pull_chunks, "push-pull state messages sent (a state may take several)") \
	X(swim_join_sent, "join requests sent to seeds") \
	X(swim_join_ok, "joins answered by a seed") \
	X(swim_join_retry, "join rounds retried: no seed answered yet") \
	X(swim_leave, "graceful leaves started by this node") \
	X(swim_leave_sent, "LEFT records sent straight to members on leave") \
	X(swim_announce_sent, "suspicions and deaths sent straight to every member") \
	X(swim_awareness_up, "local health got worse (probe timeouts grow)") \
	X(swim_awareness_down, "local health got better") \
	X(swim_dead_ping, "pings to a member we declared dead (it refutes if a partition " \
	  "or stall ended)") \
	X(swim_refute_seen, "suspicions of other members that they refuted (their refutation time " \
	  "is learnt as their suspicion floor)") \
	X(swim_susp_stretched, "suspicions given a longer floor: the member refuted a recent one " \
	  "late (it stalls)") \
	X(swim_tick_late, "timer passes that came later than a probe timeout after their " \
	  "deadline (this node was not running): failures wait for the queued input") \
	X(swim_tx_drop_oversize, "SWIM messages not sent: larger than a frame") \
	X(swim_rec_refused_identity, "records refused: a new generation or address for a member, not sent by that member itself") \
	X(swim_rec_refused_inc, "records refused: incarnation 0xFFFFFFFF (reserved) or raised by more than 1024 by a third party") \
	X(swim_self_inc_forged, "accusations of this node at an incarnation it never had (forged; refuted while below the cap)") \
	X(swim_ack_refused, "acks and nacks refused: not from the probed member, the pinged target or a relay we asked") \
	X(swim_ping_req_refused, "indirect probe requests refused: sender or target not a member at that address") \
	X(swim_pp_reply_limited, "push-pull replies to non-members not sent: join reply rate limit reached") \
	X(swim_reply_capped, "replies to non-members cut to the request's size (piggyback left out)") \
	X(swim_member_table_full, "new members refused: the member table is full of live members") \
	X(swim_member_evicted, "dead or left members forgotten early to make room for a new member")

#define MESH_SWIM_CTR_ENUM(name, desc) MESH_SWIM_CTR_##name,
/** Counter indices: MESH_SWIM_CTR_swim_probe_sent ... */
enum mesh_swim_counter { MESH_SWIM_COUNTERS(MESH_SWIM_CTR_ENUM) MESH_SWIM_CTR_MAX };

/** Counter names and one-line descriptions, indexed by enum mesh_swim_counter. */
const char *const *mesh_swim_counter_names(void);
const char *const *mesh_swim_counter_descs(void);

/** Copy the counters into @out[MESH_SWIM_CTR_MAX]. */
void mesh_swim_counters_get(const struct mesh_swim *s, uint64_t *out);

/** One counter. */
uint64_t mesh_swim_counter(const struct mesh_swim *s, enum mesh_swim_counter c);

/* ---------------------------------------------------------------- formulas */

/** memberlist suspicionTimeout: mult * max(1, log10(max(1, n))) * interval. */
uint64_t mesh_swim_suspicion_timeout_ns(uint32_t mult, size_t n, uint64_t interval_ns);

/**
 * Lifeguard remaining suspicion time: max - log(c + 1) / log(k + 1) * (max - min), floored
 * at min, minus @elapsed_ns (may be negative). @k <= 0 gives min.
 */
int64_t mesh_swim_suspicion_remaining_ns(uint32_t confirmations, uint32_t k,
					 uint64_t elapsed_ns, uint64_t min_ns,
					 uint64_t max_ns);

/** memberlist retransmitLimit: mult * ceil(log10(n + 1)). */
uint32_t mesh_swim_retransmit_limit(uint32_t mult, size_t n);

/** memberlist pushPullScale: interval * (ceil(log2 n - log2 32) + 1) once n > 32. */
uint64_t mesh_swim_push_pull_scale(uint64_t interval_ns, size_t n);

/** Names of statuses and event types ("alive", "suspect", ...; "?" when unknown). */
const char *mesh_swim_status_name(int status);
const char *mesh_swim_event_name(int type);

#ifdef __cplusplus
}
#endif

#endif /* MESH_SWIM_H */
