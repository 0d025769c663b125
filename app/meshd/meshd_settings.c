/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The settings table: every meshd setting once, with its long option, its INI section and
 * key, its default, its parser (lib/common's mesh_conf_set_* for plain fields,
 * meshd_values.c for meshd's own values: each checks the value and stores it in struct
 * meshd_cfg) and its --help text. The command line (meshd_args.c), the INI file and
 * meshd_usage() all read this table through lib/common's mesh_conf, so a value is checked
 * the same way wherever it comes from, and --help cannot miss a setting.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "mesh_client.h"
#include "meshd_settings.h"

/* the field @f of struct meshd_cfg, or of the open struct meshd_ns_cfg */
#define CFG(f) .off = offsetof(struct meshd_cfg, f), .size = sizeof(((struct meshd_cfg *)0)->f)
#define NS(f) .off = offsetof(struct meshd_ns_cfg, f), \
	.size = sizeof(((struct meshd_ns_cfg *)0)->f), .flags = MESH_CONF_SUB

const struct mesh_conf_def meshd_settings[] = {
	{ OPT_CONFIG, "config", NULL, NULL, "FILE", NULL,
	  "INI file with any of the [section] keys shown here; options given\n"
	  "on the command line override it",
	  mesh_conf_set_str, CFG(config_file) },
	{ OPT_NAME, "name", "node", "name", "NAME", NULL,
	  "node name: letters, digits, '.', '_', '-' (max 63); required",
	  mesh_conf_set_name, CFG(name) },
	{ OPT_IP, "ip", "node", "ip", "A.B.C.D", NULL,
	  "IPv4 address meshd answers on (ARP and UDP); required", mesh_conf_set_ipv4,
	  CFG(ip) },
	{ OPT_PORT, "port", "node", "port", "N", RTE_STR(MESHD_DEFAULT_PORT), "UDP port",
	  mesh_conf_set_num, CFG(udp_port), .min = 1, .max = 65535 },
	{ OPT_PORT_ID, "port-id", "node", "port_id", "N", "0", "ethdev port to use",
	  mesh_conf_set_num, CFG(port_id), .max = RTE_MAX_ETHPORTS - 1 },
	{ OPT_CLUSTER, "cluster-id", "node", "cluster_id", "N", "0x4d455348",
	  "cluster id carried in every frame (decimal, or hex with 0x)",
	  mesh_conf_set_hex, CFG(cluster_id), .min = 1, .max = UINT32_MAX },
	{ OPT_POLL, "poll-mode", "node", "poll_mode", "MODE", "event",
	  "event (when idle, block until traffic or the next timer), backoff (timed idle "
	  "sleeps) or busy (dedicated cores)", meshd_value_poll },
	{ OPT_IDLE_SLEEP, "idle-sleep-us", "node", "idle_sleep_us", "N", "500",
	  "longest idle sleep in backoff mode, microseconds",
	  mesh_conf_set_num, CFG(idle_sleep_max_us), .max = 1000000 },
	{ OPT_RT_PRIORITY, "rt-priority", "node", "rt_priority", "N", "1",
	  "event mode: the poll loops run under SCHED_FIFO at this priority, so that other\n"
	  "threads on their CPUs cannot delay a probe or an ack; 0 = the normal scheduler",
	  mesh_conf_set_num, CFG(rt_priority), .max = 99 },
	{ OPT_LOCK_MEMORY, "lock-memory", "node", "lock_memory", "yes|no", "yes",
	  "lock meshd's pages in memory (mlockall), so that a page the kernel reclaimed\n"
	  "cannot stall a poll loop on a disk read", mesh_conf_set_bool, CFG(lock_memory) },
	{ OPT_CTL_SOCKET, "ctl-socket", "node", "ctl_socket", "PATH", NULL,
	  "client API socket (default " MESH_CLIENT_SOCKET_DIR "/NAME.sock)",
	  mesh_conf_set_str, CFG(ctl_socket) },
	{ OPT_CTL_SOCKET_MODE, "ctl-socket-mode", "node", "ctl_socket_mode", "MODE", "0660",
	  "the client socket's mode (octal), whatever the umask", mesh_ctl_conf_set_mode,
	  CFG(ctl_socket_mode) },
	{ OPT_CTL_SOCKET_GROUP, "ctl-socket-group", "node", "ctl_socket_group", "GROUP", NULL,
	  "the client socket's group (default: meshd if that group exists)",
	  mesh_ctl_conf_set_group, CFG(ctl_socket_group) },
	{ OPT_CTL_OUT_MAX, "ctl-client-out-max", "node", "ctl_client_out_max", "SIZE", "4M",
	  "output queued for one slow client at most; an event beyond it is dropped\n"
	  "(Event.dropped), a reply beyond it disconnects the client",
	  mesh_conf_set_size, CFG(ctl_client_out_max), .min = 64 * 1024, .max = 1ull << 32 },
	{ OPT_CTL_PARTS_MAX, "ctl-client-parts-max", "node", "ctl_client_parts_max", "SIZE",
	  "64M", "largest value one client may publish in parts",
	  mesh_conf_set_size, CFG(ctl_client_parts_max), .min = 1,
	  .max = MESH_CLIENT_MAX_VALUE },
	{ OPT_CTL_CLIENTS_MAX, "ctl-clients-max-bytes", "node", "ctl_clients_max_bytes", "SIZE",
	  "256M", "queued output and values in parts of all clients together at most",
	  mesh_conf_set_size, CFG(ctl_clients_max_bytes), .min = 1024 * 1024,
	  .max = 1ull << 40 },
	{ OPT_METRICS, "metrics-listen", "node", "metrics_listen", "[A.B.C.D:]PORT", NULL,
	  "serve Prometheus text at http://A.B.C.D:PORT/metrics (default: off;\n"
	  "PORT alone: 127.0.0.1; another address than 127.x logs a warning)",
	  mesh_ctl_conf_set_metrics, CFG(metrics_listen) },
	{ OPT_FAULT, "fault-inject", "node", "fault_inject", "SPEC", NULL,
	  "testing only: drop, duplicate, delay received frames;\n"
	  "SPEC = loss=P,dup=P,delay=US|MIN-MAX,seed=N (P in %)", meshd_value_fault },
	{ OPT_LCORE_RX, "lcore-rx", "lcores", "rx", "N", NULL,
	  "lcore of the rx role (default: the main lcore; all roles there = run to\n"
	  "completion; roles on different lcores use SPSC rings, e.g. EAL\n"
	  "--lcores '(0-2)@(0-1)' with rx 0, merge 1, tx 2)",
	  mesh_conf_set_num, CFG(lcore_rx), .max = RTE_MAX_LCORE - 1 },
	{ OPT_LCORE_MERGE, "lcore-merge", "lcores", "merge", "N", NULL,
	  "lcore of the merge role (default: the main lcore)",
	  mesh_conf_set_num, CFG(lcore_merge), .max = RTE_MAX_LCORE - 1 },
	{ OPT_LCORE_TX, "lcore-tx", "lcores", "tx", "N", NULL,
	  "lcore of the tx role (default: the main lcore)",
	  mesh_conf_set_num, CFG(lcore_tx), .max = RTE_MAX_LCORE - 1 },
	{ OPT_SEED, "seed", "cluster", "seed", "A.B.C.D[:PORT]", NULL,
	  "join the cluster through this member (repeatable)",
	  meshd_value_seed, .flags = MESH_CONF_REPEAT },
	{ OPT_PROFILE, "profile", "cluster", "profile", "lan|fast|tight", "fast",
	  "SWIM timing: fast (8 ms probes, one-period suspicion stretched for members\n"
	  "that stall), tight (5 ms probes: dedicated cores) or lan (memberlist-like,\n"
	  "1 s probes)", meshd_value_profile },
	{ OPT_KEY_FILE, "key-file", "cluster", "key_file", "FILE", NULL,
	  "cluster keys ('ID HEX64 [primary]' per line, made by 'meshd keygen FILE'):\n"
	  "frames are sealed with XChaCha20-Poly1305, others refused; required\n"
	  "unless insecure_plaintext", mesh_conf_set_str, CFG(key_file) },
	{ OPT_INSECURE_PLAINTEXT, "insecure-plaintext", "cluster", "insecure_plaintext", NULL,
	  NULL, "run without keys (file: yes|no): frames only checksummed, any host on\n"
	  "the segment can join, read and write (doc/security.md)",
	  mesh_conf_set_flag, CFG(insecure_plaintext) },
	{ OPT_ACCEPT_PLAINTEXT, "accept-plaintext", "cluster", "accept_plaintext", NULL, NULL,
	  "keyless-to-keyed migration (file: yes|no): with a key file, also accept\n"
	  "keyless frames (doc/deployment.md)", mesh_conf_set_flag, CFG(accept_plaintext) },
	{ OPT_SEND_PLAINTEXT, "send-plaintext", "cluster", "send_plaintext", NULL, NULL,
	  "migration's first pass (file: yes|no): the keys open frames, none seals\n"
	  "(implies accept_plaintext)", mesh_conf_set_flag, CFG(send_plaintext) },
	{ OPT_PROBE_MS, "probe-interval-ms", "cluster", "probe_interval_ms", "N", NULL,
	  "SWIM probe period (default: the profile's)",
	  mesh_conf_set_num, CFG(probe_interval_ms), .min = 1, .max = 60000 },
	{ OPT_PROBE_TIMEOUT_MS, "probe-timeout-ms", "cluster", "probe_timeout_ms", "N", NULL,
	  "SWIM direct ack timeout, below the period (default: the profile's)",
	  mesh_conf_set_num, CFG(probe_timeout_ms), .min = 1, .max = 60000 },
	{ OPT_SUSPICION_MULT, "suspicion-mult", "cluster", "suspicion_mult", "N", NULL,
	  "SWIM suspicion multiplier (default: the profile's)",
	  mesh_conf_set_num, CFG(suspicion_mult), .min = 1, .max = 64 },
	{ OPT_MAX_MEMBERS, "max-members", "cluster", "max_members", "N", "1024",
	  "SWIM member table bound, self excluded: past it joiners are refused\n"
	  "(dead/left members evicted first; replication peers are at most 1024)",
	  mesh_conf_set_num, CFG(max_members), .min = 2, .max = 65536 },
	{ OPT_QUORUM, "quorum", "cluster", "quorum", "N", "0",
	  "reachable members (self included) for should_serve; 0 = a majority\n"
	  "of the known ones (doc/client-api.md, cluster state)",
	  mesh_conf_set_num, CFG(quorum), .max = 65536 },
	{ OPT_METADATA, "metadata", "node", "metadata", "TEXT", NULL,
	  "this node's metadata (max 512 bytes), shown to every member's clients",
	  mesh_conf_set_str, CFG(metadata) },
	{ OPT_PEER, "peer", "hello", "peer", "A.B.C.D[:PORT]", NULL,
	  "send periodic hellos to this peer (repeatable; diagnostics)",
	  meshd_value_peer, .flags = MESH_CONF_REPEAT },
	{ OPT_HELLO_MS, "hello-interval-ms", "hello", "interval_ms", "N", "1000",
	  "hello period, milliseconds", mesh_conf_set_num, CFG(hello_interval_ms), .min = 1,
	  .max = 3600000 },
	{ OPT_DRAIN_MS, "drain-ms", "node", "drain_ms", "N", "2000",
	  "on SIGTERM, wait at most N ms until live peers acknowledged what this node sent,\n"
	  "then leave (0: leave at once)", mesh_conf_set_num, CFG(drain_ms), .max = 60000 },
	{ OPT_HELP, "help", NULL, NULL, NULL, NULL, "print this help and exit", NULL },
	{ OPT_HELP_EAL, "help-eal", NULL, NULL, NULL, NULL, "print EAL's options and exit", NULL },
	{ OPT_VERSION, "version", NULL, NULL, NULL, NULL, "print the version and exit", NULL },
	{ OPT_CHECK_CONFIG, "check-config", NULL, NULL, "FILE", NULL,
	  "validate FILE completely (EAL options included) without starting EAL,\n"
	  "exit 0 or 2; given alone", NULL },
	{ OPT_EAL_ARGS, NULL, "eal", "args", "EAL-OPTIONS", NULL,
	  "EAL options separated by white space (no quoting), placed before those\n"
	  "of the command line; checked against EAL's option names",
	  meshd_value_eal_args, CFG(eal_args) },
	{ OPT_NS_DEFAULTS, NULL, "namespaces", "defaults", "yes|no", "yes",
	  "the default namespaces: worker: config: (lww), rl: (epoch_max),\n"
	  "td: (broadcast 4M), tree:req: (targeted 256K), tree:page: (targeted 32M)",
	  meshd_value_ns_defaults, CFG(ns_no_defaults) },
	{ OPT_NS_KIND, NULL, MESHD_SECTION_NS, "kind", "KIND", NULL,
	  "lww, epoch_max, broadcast or targeted; required", meshd_value_ns_kind,
	  .flags = MESH_CONF_SUB },
	{ OPT_NS_MAX_VALUE, NULL, MESHD_SECTION_NS, "max_value", "SIZE", NULL,
	  "largest value (CRDT kinds)", mesh_conf_set_size, NS(max_value), .max = UINT32_MAX },
	{ OPT_NS_MAX_KEYS, NULL, MESHD_SECTION_NS, "max_keys", "N", NULL,
	  "live keys + tombstones", mesh_conf_set_num, NS(max_keys), .max = UINT64_MAX },
	{ OPT_NS_MAX_BYTES, NULL, MESHD_SECTION_NS, "max_bytes", "SIZE", NULL,
	  "CRDT kinds: key + value bytes; stream kinds: the send buffer",
	  mesh_conf_set_size, NS(max_bytes), .max = UINT64_MAX },
	{ OPT_NS_NESTED, NULL, MESHD_SECTION_NS, "nested", "yes|no", NULL,
	  "may sit inside a shorter prefix (longest prefix wins)", mesh_conf_set_bool, NS(nested) },
	{ 0 },
};

void
meshd_settings_init(struct mesh_conf *c, struct meshd_cfg *cfg)
{
	*c = (struct mesh_conf){ .defs = meshd_settings, .obj = cfg, .sub_arg = "PREFIX",
				 .section = meshd_config_section };
	memset(cfg, 0, sizeof(*cfg));
	cfg->lcore_rx = cfg->lcore_merge = cfg->lcore_tx = UINT32_MAX; /* = main lcore */
	mesh_conf_defaults(c);
}

void
meshd_usage(const struct mesh_conf *c)
{
	printf("Usage: meshd [EAL options] -- [options]\n"
	       "       meshd --check-config FILE | --help | --help-eal | --version\n"
	       "       meshd keygen FILE   (a new cluster key file, mode 0600)\n\n"
	       "Options (after \"--\"), each with the INI [section] key that sets the same:\n");
	mesh_conf_usage(c, true);
	printf("\nINI file only:\n");
	mesh_conf_usage(c, false);
	printf("\nEAL options go before \"--\" (see --help-eal); a --config file's [eal] args\n"
	       "come first. Numbers are decimal; SIZE takes a K, M or G suffix (x1024).\n"
	       "INI comments start with '#' or ';' (a whole line, or after white space).\n");
}
