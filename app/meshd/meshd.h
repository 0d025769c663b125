/* SPDX-License-Identifier: BSD-3-Clause */
/* meshd application: configuration and run-time state shared by main.c and its helpers. */
#ifndef MESHD_H
#define MESHD_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh_crdt.h"
#include "mesh_ctl.h"
#include "mesh_lcore.h"
#include "mesh_net.h"
#include "mesh_node.h"

#define MESHD_DEFAULT_PORT 39527
#define MESHD_DEFAULT_CLUSTER 0x4d455348u /* "MESH" */
#define MESHD_MAX_PEERS 64
#define MESHD_NAME_MAX 63

struct meshd_hello_peer {
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
	uint32_t rt_priority;  /* event mode: SCHED_FIFO priority of the poll loops, 0 = off */
	bool lock_memory;      /* mlockall before the loops start */
	uint32_t hello_interval_ms;
	/* lcore of each role (UINT32_MAX = the main lcore); all equal = run to completion */
	unsigned lcore_rx, lcore_merge, lcore_tx;
	char ctl_socket[108];  /* client API socket; default /run/meshd/<name>.sock */
	uint32_t ctl_socket_mode;   /* its mode (default 0660) */
	char ctl_socket_group[64];  /* its group ("" = meshd if it exists) */
	/* the control thread's byte caps (lib/ctl's mesh_ctl_cfg) */
	uint64_t ctl_client_out_max, ctl_client_parts_max, ctl_clients_max_bytes;
	bool ns_no_defaults;   /* [namespaces] defaults = no */
	char profile[8];       /* SWIM timing profile: lan, fast or tight (mesh_swim_cfg_profile) */
	/* SWIM timing overrides on top of the profile (0 = the profile's value) */
	uint32_t probe_interval_ms, probe_timeout_ms, suspicion_mult;
	uint32_t max_members;  /* SWIM member table bound, self excluded (default 1024) */
	uint32_t quorum;       /* should_serve's quorum (0 = a majority of known members) */
	char metadata[MESH_NODE_META_MAX + 1]; /* this node's metadata, replicated */
	uint32_t drain_ms;     /* SIGTERM: wait this long at most for peers' acks, then leave */
	char key_file[256];    /* cluster keys: frames are AEAD-sealed when set */
	bool insecure_plaintext; /* no keys on purpose: frames only checksummed */
	bool accept_plaintext; /* keyed, migration: keyless frames are accepted too */
	bool send_plaintext;   /* keyed, migration: keys open frames, none seals (implies accept) */
	char metrics_listen[64]; /* "ADDR:PORT" of the Prometheus endpoint, "" = off */
	bool fault_on;         /* rx fault injection (testing only) */
	struct mesh_net_fault_spec fault;
	unsigned n_seeds;
	struct meshd_addr seeds[MESHD_MAX_PEERS];
	unsigned n_ns;
	struct meshd_ns_cfg ns[MESHD_MAX_NS];
	unsigned n_peers;
	struct meshd_hello_peer peers[MESHD_MAX_PEERS];
	char eal_args[1024];   /* [eal] args of the --config file (checked EAL options) */
};

struct meshd {
	struct meshd_cfg cfg;
	struct mesh_net_port port;
	struct mesh_lcores lcores;     /* the poll loops (lib/lcore) */
	struct mesh_ctl *ctl;          /* client API: control thread + its rings */
	struct mesh_wire_keyring keyring;
	struct mesh_wire_sec sec;      /* how frames are sealed and opened */
	struct mesh_net_node_io io;    /* the node's frames <-> mbufs (merge lcore) */
	struct mesh_node *node;        /* the merge core (lib/node), owned by the merge lcore */
	uint64_t boot_gen;
};

/**
 * Every setting, whether it comes from the command line or the INI file; described once in
 * the settings table (meshd_settings.c: option, section and key, parser, help).
 */
enum meshd_setting {
	OPT_CONFIG = 256,
	OPT_NAME,
	OPT_IP,
	OPT_PORT,
	OPT_PORT_ID,
	OPT_CLUSTER,
	OPT_POLL,
	OPT_IDLE_SLEEP,
	OPT_RT_PRIORITY,
	OPT_LOCK_MEMORY,
	OPT_PEER,
	OPT_HELLO_MS,
	OPT_LCORE_RX,
	OPT_LCORE_MERGE,
	OPT_LCORE_TX,
	OPT_CTL_SOCKET,
	OPT_CTL_SOCKET_MODE,
	OPT_CTL_SOCKET_GROUP,
	OPT_CTL_OUT_MAX,
	OPT_CTL_PARTS_MAX,
	OPT_CTL_CLIENTS_MAX,
	OPT_SEED,
	OPT_PROFILE,
	OPT_KEY_FILE,
	OPT_METRICS,
	OPT_FAULT,
	OPT_PROBE_MS,
	OPT_PROBE_TIMEOUT_MS,
	OPT_SUSPICION_MULT,
	OPT_MAX_MEMBERS,
	OPT_QUORUM,
	OPT_METADATA,
	OPT_HELP,
	OPT_VERSION,
	OPT_HELP_EAL,        /* command line only */
	OPT_CHECK_CONFIG,    /* command line only */
	OPT_EAL_ARGS,        /* INI only: [eal] args */
	OPT_NS_DEFAULTS,     /* INI only: [namespaces] defaults */
	OPT_NS_KIND,         /* INI only: keys of a [namespace PREFIX] section */
	OPT_NS_MAX_VALUE,
	OPT_NS_MAX_KEYS,
	OPT_NS_MAX_BYTES,
	OPT_NS_NESTED,
	OPT_DRAIN_MS,
	OPT_INSECURE_PLAINTEXT,
	OPT_ACCEPT_PLAINTEXT,
	OPT_SEND_PLAINTEXT,
};

/**
 * Add the configured namespaces (after the defaults unless disabled) to @kv. Errors name
 * the file, line and section. 0 or -EINVAL.
 */
struct mesh_crdt_store;
int meshd_config_namespaces(const struct meshd_cfg *cfg, struct mesh_crdt_store *kv);

/**
 * Parse the whole command line, "meshd [EAL options] -- [options]", and the optional INI
 * file into @cfg, before EAL starts: meshd's options come after "--" and override the
 * file; the EAL options before it are only checked (known option names). Also answers
 * --help, --version, --help-eal and "--check-config FILE". Returns 0 (start), 1 when
 * nothing is to be started (help, version or a valid --check-config was printed), or
 * -EINVAL after printing an error that names the option, or the file, line and key.
 */
int meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv);

/* The node on the merge lcore (meshd_node.c) */
/** The node's configuration from @mc's profile and SWIM timing overrides (only these). */
void meshd_node_cfg_timing(const struct meshd_cfg *mc, struct mesh_node_cfg *nc);
/** Refuse timing overrides SWIM cannot run with (timeout >= period). 0 or -EINVAL. */
int meshd_swim_timing_check(const struct meshd_cfg *mc);
/** Keys, frame security and the node with its namespaces. 0 or -errno (logged). */
int meshd_node_create(struct meshd *d);
void meshd_node_destroy(struct meshd *d);

/* systemd service (meshd_service.c, over lib/ctl's mesh_ctl_service) */
/**
 * Start the service thread (SIGHUP reload, watchdog) and tell systemd READY=1. Call once
 * the port is up and the client socket listens. @eal_argc, @argv: the command line's EAL
 * options (argv[1 .. eal_argc-1]), re-applied after the file's on reload. 0 or -errno.
 */
int meshd_service_start(struct meshd *d, int eal_argc, char **argv);
/** Tell systemd STOPPING=1 and end the service thread. */
void meshd_service_stop(void);

#endif
