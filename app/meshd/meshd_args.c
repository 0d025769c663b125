/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd application arguments. The INI file (meshd_config.c) is read first, then
 * command-line options override it; both go through meshd_setting_apply(), so a value is
 * checked the same way wherever it comes from. Every error names the option (or the file,
 * line, section and key) and the bad value; nothing is silently defaulted.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "mesh_client.h"
#include "mesh_crdt.h"
#include "meshd.h"


static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "port-id", required_argument, NULL, OPT_PORT_ID },
	{ "cluster-id", required_argument, NULL, OPT_CLUSTER },
	{ "poll-mode", required_argument, NULL, OPT_POLL },
	{ "idle-sleep-us", required_argument, NULL, OPT_IDLE_SLEEP },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "hello-interval-ms", required_argument, NULL, OPT_HELLO_MS },
	{ "lcore-rx", required_argument, NULL, OPT_LCORE_RX },
	{ "lcore-merge", required_argument, NULL, OPT_LCORE_MERGE },
	{ "lcore-tx", required_argument, NULL, OPT_LCORE_TX },
	{ "ctl-socket", required_argument, NULL, OPT_CTL_SOCKET },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS },
	{ "fault-inject", required_argument, NULL, OPT_FAULT },
	{ "probe-interval-ms", required_argument, NULL, OPT_PROBE_MS },
	{ "probe-timeout-ms", required_argument, NULL, OPT_PROBE_TIMEOUT_MS },
	{ "suspicion-mult", required_argument, NULL, OPT_SUSPICION_MULT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void
meshd_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "  --config FILE           INI file ([node], [hello], [lcores]); options override it\n"
	       "  --name NAME             node name (letters, digits, . _ -; max 63)\n"
	       "  --ip A.B.C.D            IPv4 address meshd answers on (ARP and UDP)\n"
	       "  --port N                UDP port (default %u)\n"
	       "  --port-id N             ethdev port to use (default 0)\n"
	       "  --cluster-id N          cluster id carried in every frame (default 0x%x)\n"
	       "  --poll-mode MODE        backoff (default: sleeps when idle) | busy (dedicated cores)\n"
	       "  --idle-sleep-us N       longest idle sleep in backoff mode (default 500)\n"
	       "  --peer A.B.C.D[:PORT]   send periodic hellos to this peer (repeatable)\n"
	       "  --hello-interval-ms N   hello period (default 1000)\n"
	       "  --lcore-rx N, --lcore-merge N, --lcore-tx N\n"
	       "                          lcore of each role (default: all on the main lcore,\n"
	       "                          run to completion); roles on different lcores use\n"
	       "                          SPSC rings, e.g. --lcores '(0-2)@(0-1)' with 0, 1, 2\n"
	       "  --ctl-socket PATH       client API socket (default %s/NAME.sock)\n"
	       "  --seed A.B.C.D[:PORT]   join the cluster through this member (repeatable)\n"
	       "  --profile lan|fast      SWIM timing: lan (memberlist-like, 1 s probes) or fast\n"
	       "                          (10 ms probes, for DPDK-class networks; default)\n"
	       "  --probe-interval-ms N, --probe-timeout-ms N, --suspicion-mult N\n"
	       "                          override the profile's SWIM probe period, direct ack\n"
	       "                          timeout and suspicion multiplier (timeout < period)\n"
	       "  --key-file FILE         cluster keys ('ID HEX64 [primary]' per line): frames\n"
	       "                          are sealed with XChaCha20-Poly1305; others refused\n"
	       "  --metrics-listen A.B.C.D:PORT  serve Prometheus text at http://.../metrics\n"
	       "  --fault-inject SPEC     testing only: drop, duplicate, delay received frames;\n"
	       "                          SPEC = loss=P,dup=P,delay=US|MIN-MAX,seed=N (P in %%)\n"
	       "  --help, --version\n"
	       "Also: meshd --check-config FILE  (validate a configuration, start nothing)\n",
	       prog, MESHD_DEFAULT_PORT, MESHD_DEFAULT_CLUSTER, MESH_CLIENT_SOCKET_DIR);
}

int
meshd_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MESHD_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* "A.B.C.D[:PORT]" */
static int
parse_addr(const char *spec, uint32_t *ip, uint16_t *port)
{
	char buf[64];
	char *colon;
	uint64_t p = MESHD_DEFAULT_PORT;

	snprintf(buf, sizeof(buf), "%s", spec);
	colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (meshd_parse_u64(colon + 1, 65535, &p) < 0 || p == 0)
			return -EINVAL;
	}
	if (mesh_net_ip_parse(buf, ip) < 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int
add_peer(struct meshd_cfg *cfg, const char *spec)
{
	struct meshd_peer *p;

	if (cfg->n_peers == MESHD_MAX_PEERS)
		return -ENOSPC;
	p = &cfg->peers[cfg->n_peers];
	memset(p, 0, sizeof(*p));
	if (parse_addr(spec, &p->ip, &p->port) < 0)
		return -EINVAL;
	cfg->n_peers++;
	return 0;
}

static int
add_seed(struct meshd_cfg *cfg, const char *spec)
{
	if (cfg->n_seeds == MESHD_MAX_PEERS)
		return -ENOSPC;
	if (parse_addr(spec, &cfg->seeds[cfg->n_seeds].ip, &cfg->seeds[cfg->n_seeds].port) < 0)
		return -EINVAL;
	cfg->n_seeds++;
	return 0;
}

int
meshd_setting_apply(struct meshd_cfg *cfg, int opt, const char *val, const char *where)
{
	uint64_t v;
	int ret = 0;

	switch (opt) {
	case OPT_NAME:
		if (!valid_name(val))
			ret = -EINVAL;
		else
			snprintf(cfg->name, sizeof(cfg->name), "%s", val);
		break;
	case OPT_IP:
		ret = mesh_net_ip_parse(val, &cfg->ip);
		break;
	case OPT_PORT:
		ret = meshd_parse_u64(val, 65535, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->udp_port = (uint16_t)v;
		break;
	case OPT_PORT_ID:
		ret = meshd_parse_u64(val, RTE_MAX_ETHPORTS - 1, &v);
		cfg->port_id = (uint16_t)v;
		break;
	case OPT_CLUSTER:
		ret = meshd_parse_u64(val, UINT32_MAX, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->cluster_id = (uint32_t)v;
		break;
	case OPT_POLL:
		ret = mesh_net_poll_mode_parse(val, &cfg->poll_mode);
		break;
	case OPT_IDLE_SLEEP:
		ret = meshd_parse_u64(val, 1000000, &v);
		cfg->idle_sleep_max_us = (uint32_t)v;
		break;
	case OPT_PEER:
		ret = add_peer(cfg, val);
		break;
	case OPT_LCORE_RX:
	case OPT_LCORE_MERGE:
	case OPT_LCORE_TX:
		ret = meshd_parse_u64(val, RTE_MAX_LCORE - 1, &v);
		*(opt == OPT_LCORE_RX ? &cfg->lcore_rx
		  : opt == OPT_LCORE_MERGE ? &cfg->lcore_merge : &cfg->lcore_tx) = (unsigned)v;
		break;
	case OPT_SEED:
		ret = add_seed(cfg, val);
		break;
	case OPT_PROFILE:
		if (strcmp(val, "fast") == 0)
			cfg->profile_fast = true;
		else if (strcmp(val, "lan") == 0)
			cfg->profile_fast = false;
		else
			ret = -EINVAL;
		break;
	case OPT_KEY_FILE:
		if (val[0] == '\0' || strlen(val) >= sizeof(cfg->key_file)) {
			ret = -EINVAL;
		} else {
			struct mesh_wire_keyring kr;

			/* loaded here to check it; meshd loads it again at start-up */
			ret = meshd_keys_load(val, &kr);
			mesh_wire_keyring_fini(&kr);
			if (ret == 0)
				snprintf(cfg->key_file, sizeof(cfg->key_file), "%s", val);
		}
		break;
	case OPT_METRICS: {
		uint32_t ip;
		uint16_t port;

		if (strlen(val) >= sizeof(cfg->metrics_listen) || strchr(val, ':') == NULL ||
		    parse_addr(val, &ip, &port) < 0)
			ret = -EINVAL;
		else
			snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", val);
		break;
	}
	case OPT_FAULT: {
		char err[160];

		if (mesh_net_fault_spec_parse(val, &cfg->fault, err, sizeof(err)) < 0) {
			fprintf(stderr, "meshd: %s: %s\n", where, err);
			return -EINVAL;
		}
		cfg->fault_on = true;
		break;
	}
	case OPT_CTL_SOCKET:
		if (val[0] == '\0' || strlen(val) >= sizeof(cfg->ctl_socket))
			ret = -EINVAL;
		else
			snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s", val);
		break;
	case OPT_PROBE_MS:
	case OPT_PROBE_TIMEOUT_MS:
	case OPT_SUSPICION_MULT:
		ret = meshd_parse_u64(val, opt == OPT_SUSPICION_MULT ? 64 : 60000, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		*(opt == OPT_PROBE_MS ? &cfg->probe_interval_ms
		  : opt == OPT_PROBE_TIMEOUT_MS ? &cfg->probe_timeout_ms
						 : &cfg->suspicion_mult) = (uint32_t)v;
		break;
	case OPT_HELLO_MS:
		ret = meshd_parse_u64(val, 3600000, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->hello_interval_ms = (uint32_t)v;
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -ENOSPC)
		fprintf(stderr, "meshd: %s: too many addresses (max %d)\n", where, MESHD_MAX_PEERS);
	else if (ret < 0)
		fprintf(stderr, "meshd: %s: invalid value '%s'\n", where, val);
	return ret < 0 ? -EINVAL : 0;
}

/* Namespaces are checked at start-up against a scratch store, so a bad one is a config
 * error (exit 2) with its file and line, not a runtime failure. */
static int
meshd_config_check_namespaces(const struct meshd_cfg *cfg)
{
	struct mesh_crdt_config kc = { .replica_id = 1 };
	struct mesh_crdt_store *kv = mesh_crdt_store_new(&kc);
	int ret;

	if (kv == NULL)
		return -ENOMEM;
	ret = meshd_config_namespaces(cfg, kv);
	mesh_crdt_store_delete(kv);
	return ret;
}

int
meshd_config_check(const char *path)
{
	char *argv[] = { (char *)"meshd", (char *)"--config", (char *)(uintptr_t)path, NULL };
	static struct meshd_cfg cfg;

	if (meshd_args_parse(&cfg, 3, argv) != 0)
		return 2;
	printf("%s: ok (node %s, %u namespace section(s), %u hello peer(s))\n", path, cfg.name,
	       cfg.n_ns, cfg.n_peers);
	return 0;
}

int
meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv)
{
	char where[64];
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->udp_port = MESHD_DEFAULT_PORT;
	cfg->cluster_id = MESHD_DEFAULT_CLUSTER;
	cfg->poll_mode = MESH_NET_POLL_BACKOFF;
	cfg->idle_sleep_max_us = 500;
	cfg->hello_interval_ms = 1000;
	cfg->profile_fast = true;
	cfg->lcore_rx = cfg->lcore_merge = cfg->lcore_tx = UINT32_MAX; /* = main lcore */

	/* first pass: only --config and --help/--version, so the file is applied first */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			meshd_usage(argv[0]);
			return 1;
		}
		if (opt == OPT_VERSION) {
			printf("meshd %s\n", MESH_VERSION);
			return 1;
		}
		if (opt == OPT_CONFIG)
			snprintf(cfg->config_file, sizeof(cfg->config_file), "%s", optarg);
	}
	if (cfg->config_file[0] != '\0' && meshd_config_load(cfg, cfg->config_file) < 0)
		return -EINVAL;

	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "meshd: bad command line; see --help\n");
			return -EINVAL;
		}
		if (opt == OPT_CONFIG)
			continue;
		for (const struct option *o = long_opts; o->name != NULL; o++)
			if (o->val == opt)
				snprintf(where, sizeof(where), "--%s", o->name);
		if (meshd_setting_apply(cfg, opt, optarg, where) < 0)
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "meshd: unexpected argument '%s'; see --help\n", argv[optind]);
		return -EINVAL;
	}
	if (cfg->name[0] == '\0') {
		fprintf(stderr, "meshd: a node name is required (--name or [node] name)\n");
		return -EINVAL;
	}
	if (cfg->ip == 0) {
		fprintf(stderr, "meshd: an IPv4 address is required (--ip or [node] ip)\n");
		return -EINVAL;
	}
	if (meshd_config_check_namespaces(cfg) < 0)
		return -EINVAL;
	if (meshd_swim_timing_check(cfg) < 0)
		return -EINVAL;
	if (cfg->ctl_socket[0] == '\0')
		snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s/%s.sock",
			 MESH_CLIENT_SOCKET_DIR, cfg->name);
	return 0;
}
