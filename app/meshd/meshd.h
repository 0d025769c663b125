/* SPDX-License-Identifier: BSD-3-Clause */
/* meshd application: configuration and node state shared by main.c and its helpers. */
#ifndef MESHD_H
#define MESHD_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh_crdt.h"
#include "mesh_handoff.h"
#include "meshd_ctl.h"
#include "mesh_net.h"
#include "mesh_stream.h"

#define MESHD_DEFAULT_PORT 39527
#define MESHD_DEFAULT_CLUSTER 0x4d455348u /* "MESH" */
#define MESHD_MAX_PEERS 64
#define MESHD_NAME_MAX 63

struct meshd_peer {
	uint32_t ip;
	uint16_t port;
	uint64_t hellos_sent;
	uint64_t replies;
	uint64_t last_rtt_ns;
	char name[MESHD_NAME_MAX + 1]; /* learned from its reply */
};

#define MESHD_MAX_NS 32

/** A namespace from a [namespace PREFIX] section. */
struct meshd_ns_cfg {
	char prefix[64];
	int kind;            /* enum mesh_crdt_ns_kind */
	uint32_t max_value;
	uint64_t max_keys;
	uint64_t max_bytes;  /* CRDT: key + value bytes; stream: send buffer bytes */
	bool nested;
	char where[200];     /* "file:line: [namespace PREFIX]" for error messages */
};

/* Merge-lcore counters (single writer). */
#define MESHD_MERGE_COUNTERS(X) \
	X(merge_frames) X(merge_frames_in_place) X(merge_payload_copies) \
	X(merge_swim_records) X(merge_record_unknown_kind) \
	X(merge_tx_frames) X(merge_tx_no_peer)
#define MESHD_MERGE_CTR_ENUM(name) MESHD_CTR_##name,
enum meshd_merge_counter { MESHD_MERGE_COUNTERS(MESHD_MERGE_CTR_ENUM) MESHD_MERGE_CTR_MAX };

/* Origin-to-apply latency histograms (meshd_lat.c), one per update kind. */
enum meshd_lat_kind {
	MESHD_LAT_LWW, MESHD_LAT_DELETE, MESHD_LAT_EPOCH, MESHD_LAT_STREAM, MESHD_LAT_MAX
};

#define MESHD_MAX_PEER_SLOTS 1024

/** A replication peer: an alive member, by node id (mesh_wire_node_id(name, gen)). */
struct meshd_peer_slot {
	uint64_t id;
	uint32_t ip;
	uint16_t port;
	char name[72];
};

struct meshd_addr {
	uint32_t ip;
	uint16_t port;
};

struct meshd_cfg {
	char config_file[256];
	char name[MESHD_NAME_MAX + 1];
	uint32_t ip;
	uint16_t udp_port;
	uint16_t port_id;
	uint32_t cluster_id;
	enum mesh_net_poll_mode poll_mode;
	uint32_t idle_sleep_max_us;
	uint32_t hello_interval_ms;
	/* lcore of each role (UINT32_MAX = the main lcore); all equal = run to completion */
	unsigned lcore_rx, lcore_merge, lcore_tx;
	char ctl_socket[108];  /* client API socket; default /run/meshd/<name>.sock */
	bool ns_no_defaults;   /* [namespaces] defaults = no */
	bool profile_fast;     /* SWIM timing: fast (DPDK-class LAN) instead of lan */
	/* SWIM timing overrides on top of the profile (0 = the profile's value) */
	uint32_t probe_interval_ms, probe_timeout_ms, suspicion_mult;
	char key_file[256];    /* cluster keys: frames are AEAD-sealed when set */
	char metrics_listen[64]; /* "ADDR:PORT" of the Prometheus endpoint, "" = off */
	bool fault_on;         /* rx fault injection (testing only) */
	struct mesh_net_fault_spec fault;
	unsigned n_seeds;
	struct meshd_addr seeds[MESHD_MAX_PEERS];
	unsigned n_ns;
	struct meshd_ns_cfg ns[MESHD_MAX_NS];
	unsigned n_peers;
	struct meshd_peer peers[MESHD_MAX_PEERS];
};

enum meshd_role {
	MESHD_ROLE_RX = 1 << 0,
	MESHD_ROLE_MERGE = 1 << 1,
	MESHD_ROLE_TX = 1 << 2,
};

/* One poll loop per lcore that has a role; its statistics feed /mesh/lcores. */
struct meshd_lcore {
	unsigned lcore_id;
	unsigned roles; /* enum meshd_role bits */
	struct mesh_net_backoff backoff;
};

struct meshd {
	struct meshd_cfg cfg;
	struct mesh_net_port port;
	unsigned n_lcores;
	struct meshd_lcore lcores[3];
	/* SPSC rings between roles on different lcores (ring == NULL when co-located) */
	struct mesh_handoff rx_merge;  /* valid frames */
	struct mesh_handoff rx_tx;     /* ARP packets: the tx lcore owns the neighbour table */
	struct mesh_handoff merge_tx;  /* prepared outbound datagrams */
	struct meshd_ctl ctl;          /* client API: control thread + its rings */
	struct mesh_wire_keyring keyring;
	struct mesh_wire_sec sec;      /* how frames are sealed and opened */
	uint8_t frame_flags;           /* MESH_WIRE_F_AEAD when keyed */
	struct mesh_crdt_store *kv;    /* owned by the merge lcore */
	struct mesh_swim *swim;        /* owned by the merge lcore */
	struct mesh_stream *stream;    /* owned by the merge lcore */
	unsigned n_peer_slots;
	struct meshd_peer_slot peer_slots[MESHD_MAX_PEER_SLOTS];
	uint64_t next_stream_tick_ns;
	uint32_t rx_peer_ip;           /* sender of the frame being handled (SWIM records) */
	uint16_t rx_peer_port;
	uint64_t rx_now;
	struct mesh_counters merge_ctr;
	uint64_t leave_deadline_ns;    /* shutdown: stop when reached (0 = not leaving) */
	volatile int stop;             /* set by the merge lcore when the node may stop */
	uint64_t kv_digest;            /* folded store digest, republished every 100 ms */
	uint64_t next_digest_ns;
	struct mesh_crdt_digest digest_scratch;
	uint64_t boot_gen;
	uint64_t node_id;
	uint64_t tx_seq;
	uint64_t next_hello_ns;
	struct mesh_hist *lat;         /* [MESHD_LAT_MAX], written by the merge lcore */
	uint64_t lat_skewed;           /* origin stamps from the future (clock skew) */
};

/** Every setting, whether it comes from the command line or the INI file. */
enum meshd_setting {
	OPT_CONFIG = 256,
	OPT_NAME,
	OPT_IP,
	OPT_PORT,
	OPT_PORT_ID,
	OPT_CLUSTER,
	OPT_POLL,
	OPT_IDLE_SLEEP,
	OPT_PEER,
	OPT_HELLO_MS,
	OPT_LCORE_RX,
	OPT_LCORE_MERGE,
	OPT_LCORE_TX,
	OPT_CTL_SOCKET,
	OPT_SEED,
	OPT_PROFILE,
	OPT_KEY_FILE,
	OPT_METRICS,
	OPT_FAULT,
	OPT_PROBE_MS,
	OPT_PROBE_TIMEOUT_MS,
	OPT_SUSPICION_MULT,
	OPT_HELP,
	OPT_VERSION,
};

/** Parse a decimal/hex/octal number <= @max (no sign, no trailing text). 0 or -EINVAL. */
int meshd_parse_u64(const char *s, uint64_t max, uint64_t *out);

/**
 * Check and store one setting; @where names its origin ("--port", or "file:12: [node]
 * port") for the error message printed on refusal. 0 or -EINVAL.
 */
int meshd_setting_apply(struct meshd_cfg *cfg, int setting, const char *val,
			const char *where);

/**
 * meshd --check-config FILE: validate a configuration file completely (every section and
 * key, namespaces, required settings) without starting EAL or the data plane. Prints
 * "FILE: ok" and returns 0, or prints the errors and returns 2.
 */
int meshd_config_check(const char *path);

/** Receives one counter of a walk over every module's counters. */
typedef void (*meshd_counter_f)(void *ctx, const char *group, const char *name, uint64_t v);

/**
 * Visit every counter of group @filter (NULL/"" = all: net, ctl, merge, crdt, swim,
 * stream). Safe from any thread. 0, or -ENOENT for an unknown group.
 */
int meshd_counters_visit(struct meshd *d, const char *filter, meshd_counter_f fn, void *ctx);

/** Prometheus text exposition of every counter into @buf; returns the length. */
size_t meshd_metrics_render(struct meshd *d, char *buf, size_t cap);

struct mesh_crdt_op;
/** Allocate the latency histograms. 0 or -ENOMEM. */
int meshd_lat_init(struct meshd *d);
void meshd_lat_fini(struct meshd *d);
/** Merge lcore: record now - @origin_ns under @k (origin 0: not stamped, nothing). */
void meshd_lat_record(struct meshd *d, enum meshd_lat_kind k, uint64_t origin_ns,
		      uint64_t now_real_ns);
/** Merge lcore: @op changed local state; record its origin-to-apply latency if stamped. */
void meshd_lat_record_op(struct meshd *d, const struct mesh_crdt_op *op, uint64_t now_real_ns);
/** Prometheus summary meshd_replication_latency_seconds{kind,quantile} into @buf. */
size_t meshd_lat_metrics(struct meshd *d, char *buf, size_t cap);
/** Register /mesh/latency. */
void meshd_lat_telemetry(struct meshd *d);

/** Load a cluster key file into @kr (errors name file and line). 0 or -EINVAL. */
int meshd_keys_load(const char *path, struct mesh_wire_keyring *kr);

/** Bytes of a frame carrying @len payload bytes under this node's security. */
static inline size_t
meshd_frame_size(const struct meshd *d, size_t len)
{
	return mesh_wire_frame_size(len, d->frame_flags);
}

/**
 * EAL arguments: the [eal] args of the --config file (if any) followed by the command
 * line's own. *@out_argv is @argv itself when there is nothing to add. 0 or -errno.
 */
int meshd_eal_argv(int argc, char **argv, int *out_argc, char ***out_argv);

/**
 * Read the INI file @path (rte_cfgfile) into @cfg: sections [node], [hello], [lcores],
 * [namespaces] and [namespace PREFIX]. Errors name the file, line, section and key.
 */
int meshd_config_load(struct meshd_cfg *cfg, const char *path);

/**
 * Add the configured namespaces (after the defaults unless disabled) to @kv. Errors name
 * the file, line and section. 0 or -EINVAL.
 */
struct mesh_crdt_store;
int meshd_config_namespaces(const struct meshd_cfg *cfg, struct mesh_crdt_store *kv);

/**
 * Parse application arguments (after EAL's) and the optional INI file into @cfg.
 * Command-line values override the file. Returns 0, 1 when help/version was printed, or
 * -EINVAL after printing an error that names the option, or the file and key.
 */
int meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv);

/** Print usage to stdout. */
void meshd_usage(const char *prog);

/** Merge role: handle one valid frame (consumes the mbuf). */
void meshd_frame_input(void *ctx, struct mesh_net_port *port, struct rte_mbuf *m,
		       uint64_t now_ns);

/** Merge role: hand a prepared datagram to the tx role (ring, or directly when co-located). */
void meshd_emit(struct meshd *d, struct rte_mbuf *m, uint64_t now_ns);

/** Plan the lcores from the configuration and create the rings. 0 or -errno (logged). */
int meshd_lcores_setup(struct meshd *d);

/** Launch the role loops (workers, then the main lcore's own) and wait for them. */
void meshd_lcores_run(struct meshd *d, volatile int *quit);

/** Free the rings and what they still hold. */
void meshd_lcores_fini(struct meshd *d);

struct rte_tel_data;
/** A telemetry question answered on the merge lcore: fill @out from @params. */
typedef int (*meshd_query_f)(struct meshd *d, const char *params, struct rte_tel_data *out);

/**
 * Telemetry thread: have the merge lcore run @fn and fill @out; waits at most 500 ms, then
 * answers an error object. Always returns 0 (errors are reported in @out).
 */
int meshd_query_run(meshd_query_f fn, const char *params, struct rte_tel_data *out);

/** Register /mesh/kv/stats and /mesh/kv/get (after the store exists). 0 or -errno. */
int meshd_tel_init(struct meshd *d);
/** Merge lcore: answer telemetry queries, republish the digest. Returns queries answered. */
unsigned meshd_tel_poll(struct meshd *d, uint64_t now_ns);
void meshd_tel_fini(void);

/**
 * Merge role: seal a frame whose @len payload bytes are written, prepare the datagram to
 * @ip:@port and hand it to the tx role.
 */
void meshd_frame_finish(struct meshd *d, struct rte_mbuf *m, uint8_t *frame, uint8_t type,
			uint16_t len, uint32_t ip, uint16_t port, uint64_t now_ns);

/* SWIM membership on the merge lcore (meshd_swim.c) */
struct mesh_swim_cfg;
/** The SWIM configuration of @mc: its profile plus the timing overrides. */
void meshd_swim_cfg_from(const struct meshd_cfg *mc, struct mesh_swim_cfg *cfg);
/** Refuse timing overrides SWIM cannot run with (timeout >= period). 0 or -EINVAL. */
int meshd_swim_timing_check(const struct meshd_cfg *mc);
int meshd_swim_init(struct meshd *d, uint64_t now_ns);
void meshd_swim_input(struct meshd *d, const uint8_t *blob, size_t len, uint32_t ip,
		      uint16_t port, uint64_t now_ns);
unsigned meshd_swim_poll(struct meshd *d, uint64_t now_ns);
void meshd_swim_leave(struct meshd *d, uint64_t now_ns);
void meshd_swim_telemetry(struct meshd *d);

/* Replication on the merge lcore (meshd_repl.c) */
struct mesh_swim_event;
int meshd_repl_init(struct meshd *d);
void meshd_repl_member(struct meshd *d, const struct mesh_swim_event *ev, uint64_t now_ns);
void meshd_repl_rx(struct meshd *d, uint64_t sender, const uint8_t *payload, size_t len,
		   uint32_t ip, uint16_t port, uint64_t now_ns);
unsigned meshd_repl_poll(struct meshd *d, uint64_t now_ns);
uint64_t meshd_repl_peer_id(struct meshd *d, const char *name);
void meshd_repl_telemetry(struct meshd *d);
void meshd_repl_fini(struct meshd *d);

/** Send a hello to every configured peer when due. */
void meshd_hello_tick(struct meshd *d, uint64_t now_ns);

/** Register the "hello" telemetry group. */
void meshd_hello_telemetry(struct meshd *d);

#endif
