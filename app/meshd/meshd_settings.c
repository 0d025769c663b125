/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The settings table: every meshd setting once, with its long option, its INI section and
 * key, its default, its parser (meshd_values.c: checks the value and stores it in struct
 * meshd_cfg) and its --help text. The command line (meshd_args.c), the INI file
 * (meshd_config.c) and meshd_usage() all read this table, so a value is checked the same
 * way wherever it comes from, and --help cannot miss a setting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "mesh_client.h"
#include "meshd_settings.h"

/* the field @f of struct meshd_cfg, or of the current struct meshd_ns_cfg */
#define CFG(f) .off = offsetof(struct meshd_cfg, f), .size = sizeof(((struct meshd_cfg *)0)->f)
#define NS(f) .off = offsetof(struct meshd_ns_cfg, f), \
	.size = sizeof(((struct meshd_ns_cfg *)0)->f), .flags = MESHD_SETTING_NS

const struct meshd_setting_def meshd_settings[] = {
	{ OPT_CONFIG, "config", NULL, NULL, "FILE", NULL,
	  "INI file with any of the [section] keys shown here; options given\n"
	  "on the command line override it",
	  meshd_value_str, CFG(config_file) },
	{ OPT_NAME, "name", "node", "name", "NAME", NULL,
	  "node name: letters, digits, '.', '_', '-' (max 63); required",
	  meshd_value_name, CFG(name) },
	{ OPT_IP, "ip", "node", "ip", "A.B.C.D", NULL,
	  "IPv4 address meshd answers on (ARP and UDP); required", meshd_value_ip },
	{ OPT_PORT, "port", "node", "port", "N", RTE_STR(MESHD_DEFAULT_PORT), "UDP port",
	  meshd_value_num, CFG(udp_port), .min = 1, .max = 65535 },
	{ OPT_PORT_ID, "port-id", "node", "port_id", "N", "0", "ethdev port to use",
	  meshd_value_num, CFG(port_id), .max = RTE_MAX_ETHPORTS - 1 },
	{ OPT_CLUSTER, "cluster-id", "node", "cluster_id", "N", "0x4d455348",
	  "cluster id carried in every frame (decimal, or hex with 0x)",
	  meshd_value_hex, CFG(cluster_id), .min = 1, .max = UINT32_MAX },
	{ OPT_POLL, "poll-mode", "node", "poll_mode", "MODE", "backoff",
	  "backoff (sleep when idle) or busy (dedicated cores)", meshd_value_poll },
	{ OPT_IDLE_SLEEP, "idle-sleep-us", "node", "idle_sleep_us", "N", "500",
	  "longest idle sleep in backoff mode, microseconds",
	  meshd_value_num, CFG(idle_sleep_max_us), .max = 1000000 },
	{ OPT_CTL_SOCKET, "ctl-socket", "node", "ctl_socket", "PATH", NULL,
	  "client API socket (default " MESH_CLIENT_SOCKET_DIR "/NAME.sock)",
	  meshd_value_str, CFG(ctl_socket) },
	{ OPT_METRICS, "metrics-listen", "node", "metrics_listen", "A.B.C.D:PORT", NULL,
	  "serve Prometheus text at http://A.B.C.D:PORT/metrics (default: off)",
	  meshd_value_metrics, CFG(metrics_listen) },
	{ OPT_FAULT, "fault-inject", "node", "fault_inject", "SPEC", NULL,
	  "testing only: drop, duplicate, delay received frames;\n"
	  "SPEC = loss=P,dup=P,delay=US|MIN-MAX,seed=N (P in %)", meshd_value_fault },
	{ OPT_LCORE_RX, "lcore-rx", "lcores", "rx", "N", NULL,
	  "lcore of the rx role (default: the main lcore; all roles there = run to\n"
	  "completion; roles on different lcores use SPSC rings, e.g. EAL\n"
	  "--lcores '(0-2)@(0-1)' with rx 0, merge 1, tx 2)",
	  meshd_value_num, CFG(lcore_rx), .max = RTE_MAX_LCORE - 1 },
	{ OPT_LCORE_MERGE, "lcore-merge", "lcores", "merge", "N", NULL,
	  "lcore of the merge role (default: the main lcore)",
	  meshd_value_num, CFG(lcore_merge), .max = RTE_MAX_LCORE - 1 },
	{ OPT_LCORE_TX, "lcore-tx", "lcores", "tx", "N", NULL,
	  "lcore of the tx role (default: the main lcore)",
	  meshd_value_num, CFG(lcore_tx), .max = RTE_MAX_LCORE - 1 },
	{ OPT_SEED, "seed", "cluster", "seed", "A.B.C.D[:PORT]", NULL,
	  "join the cluster through this member (repeatable)",
	  meshd_value_seed, .flags = MESHD_SETTING_REPEAT },
	{ OPT_PROFILE, "profile", "cluster", "profile", "lan|fast", "fast",
	  "SWIM timing: fast (10 ms probes, DPDK-class networks) or lan\n"
	  "(memberlist-like, 1 s probes)", meshd_value_profile },
	{ OPT_KEY_FILE, "key-file", "cluster", "key_file", "FILE", NULL,
	  "cluster keys ('ID HEX64 [primary]' per line): frames are sealed with\n"
	  "XChaCha20-Poly1305, others refused (default: no keys)",
	  meshd_value_key_file, CFG(key_file) },
	{ OPT_PROBE_MS, "probe-interval-ms", "cluster", "probe_interval_ms", "N", NULL,
	  "SWIM probe period (default: the profile's)",
	  meshd_value_num, CFG(probe_interval_ms), .min = 1, .max = 60000 },
	{ OPT_PROBE_TIMEOUT_MS, "probe-timeout-ms", "cluster", "probe_timeout_ms", "N", NULL,
	  "SWIM direct ack timeout, below the period (default: the profile's)",
	  meshd_value_num, CFG(probe_timeout_ms), .min = 1, .max = 60000 },
	{ OPT_SUSPICION_MULT, "suspicion-mult", "cluster", "suspicion_mult", "N", NULL,
	  "SWIM suspicion multiplier (default: the profile's)",
	  meshd_value_num, CFG(suspicion_mult), .min = 1, .max = 64 },
	{ OPT_PEER, "peer", "hello", "peer", "A.B.C.D[:PORT]", NULL,
	  "send periodic hellos to this peer (repeatable; diagnostics)",
	  meshd_value_peer, .flags = MESHD_SETTING_REPEAT },
	{ OPT_HELLO_MS, "hello-interval-ms", "hello", "interval_ms", "N", "1000",
	  "hello period, milliseconds", meshd_value_num, CFG(hello_interval_ms), .min = 1,
	  .max = 3600000 },
	{ OPT_DRAIN_MS, "drain-ms", "node", "drain_ms", "N", "2000",
	  "on SIGTERM, wait at most N ms until live peers acknowledged what this node sent,\n"
	  "then leave (0: leave at once)", meshd_value_num, CFG(drain_ms), .max = 60000 },
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
	  "lww, epoch_max, broadcast or targeted; required", meshd_value_ns_kind },
	{ OPT_NS_MAX_VALUE, NULL, MESHD_SECTION_NS, "max_value", "SIZE", NULL,
	  "largest value (CRDT kinds)", meshd_value_size, NS(max_value), .max = UINT32_MAX },
	{ OPT_NS_MAX_KEYS, NULL, MESHD_SECTION_NS, "max_keys", "N", NULL,
	  "live keys + tombstones", meshd_value_num, NS(max_keys), .max = UINT64_MAX },
	{ OPT_NS_MAX_BYTES, NULL, MESHD_SECTION_NS, "max_bytes", "SIZE", NULL,
	  "CRDT kinds: key + value bytes; stream kinds: the send buffer",
	  meshd_value_size, NS(max_bytes), .max = UINT64_MAX },
	{ OPT_NS_NESTED, NULL, MESHD_SECTION_NS, "nested", "yes|no", NULL,
	  "may sit inside a shorter prefix (longest prefix wins)", meshd_value_bool, NS(nested) },
	{ 0 },
};

const struct meshd_setting_def *
meshd_setting_find(int id)
{
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->id == id)
			return s;
	return NULL;
}

const struct meshd_setting_def *
meshd_setting_find_key(const char *section, const char *key)
{
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->section != NULL && strcmp(s->section, section) == 0 &&
		    strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

const struct meshd_setting_def *
meshd_setting_find_option(const char *option)
{
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->option != NULL && strcmp(s->option, option) == 0)
			return s;
	return NULL;
}

int
meshd_setting_section_known(const char *section)
{
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->section != NULL && strcmp(s->section, section) == 0)
			return 1;
	return 0;
}

int
meshd_setting_apply(struct meshd_cfg *cfg, int setting, const char *val, const char *where)
{
	const struct meshd_setting_def *s = meshd_setting_find(setting);
	char why[256] = "";

	if (s == NULL || s->set == NULL) {
		fprintf(stderr, "meshd: %s: not a setting\n", where);
		return -EINVAL;
	}
	if (s->set(cfg, s, val, why, sizeof(why)) == 0)
		return 0;
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "invalid value '%s'", val);
	fprintf(stderr, "meshd: %s: %s\n", where, why);
	return -EINVAL;
}

void
meshd_settings_defaults(struct meshd_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lcore_rx = cfg->lcore_merge = cfg->lcore_tx = UINT32_MAX; /* = main lcore */
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->def != NULL)
			meshd_setting_apply(cfg, s->id, s->def, "default");
}

static void
usage_setting(const struct meshd_setting_def *s)
{
	const char *h = s->help;

	if (s->option != NULL)
		printf("  --%s%s%s", s->option, s->arg != NULL ? " " : "",
		       s->arg != NULL ? s->arg : "");
	if (s->option != NULL && s->section != NULL)
		printf("   [%s] %s", s->section, s->key);
	else if (s->section != NULL)
		printf("  [%s] %s = %s", strcmp(s->section, MESHD_SECTION_NS) == 0 ?
		       MESHD_SECTION_NS " PREFIX" : s->section, s->key, s->arg);
	if (s->def != NULL)
		printf("   (default %s)", s->def);
	printf("\n");
	while (*h != '\0') {
		int n = (int)strcspn(h, "\n");

		printf("        %.*s\n", n, h);
		h += n + (h[n] == '\n');
	}
}

void
meshd_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "       %s --check-config FILE | --help | --help-eal | --version\n\n"
	       "Options (after \"--\"), each with the INI [section] key that sets the same:\n",
	       prog, prog);
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->option != NULL)
			usage_setting(s);
	printf("\nINI file only:\n");
	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->option == NULL)
			usage_setting(s);
	printf("\nEAL options go before \"--\" (see --help-eal); a --config file's [eal] args\n"
	       "come first. Numbers are decimal; SIZE takes a K, M or G suffix (x1024).\n"
	       "INI comments start with '#' or ';' (a whole line, or after white space).\n");
}
