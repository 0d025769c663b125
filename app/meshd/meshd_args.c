/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd application arguments and the INI configuration file (DPDK rte_cfgfile). The file
 * is read first, then command-line options override it. Every error names the option, or
 * the file, section and key, and the bad value; nothing is silently defaulted.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "meshd.h"

enum {
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
	OPT_HELP,
	OPT_VERSION,
};

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
	       "  --help, --version\n",
	       prog, MESHD_DEFAULT_PORT, MESHD_DEFAULT_CLUSTER);
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
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

static int
add_peer(struct meshd_cfg *cfg, const char *spec)
{
	char buf[64];
	char *colon;
	uint64_t port = MESHD_DEFAULT_PORT;
	struct meshd_peer *p;

	if (cfg->n_peers == MESHD_MAX_PEERS)
		return -ENOSPC;
	snprintf(buf, sizeof(buf), "%s", spec);
	colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (parse_u64(colon + 1, 65535, &port) < 0 || port == 0)
			return -EINVAL;
	}
	p = &cfg->peers[cfg->n_peers];
	memset(p, 0, sizeof(*p));
	if (mesh_net_ip_parse(buf, &p->ip) < 0)
		return -EINVAL;
	p->port = (uint16_t)port;
	cfg->n_peers++;
	return 0;
}

/* Apply one setting; @where names its origin for error messages. */
static int
apply(struct meshd_cfg *cfg, int opt, const char *val, const char *where)
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
		ret = parse_u64(val, 65535, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->udp_port = (uint16_t)v;
		break;
	case OPT_PORT_ID:
		ret = parse_u64(val, RTE_MAX_ETHPORTS - 1, &v);
		cfg->port_id = (uint16_t)v;
		break;
	case OPT_CLUSTER:
		ret = parse_u64(val, UINT32_MAX, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->cluster_id = (uint32_t)v;
		break;
	case OPT_POLL:
		ret = mesh_net_poll_mode_parse(val, &cfg->poll_mode);
		break;
	case OPT_IDLE_SLEEP:
		ret = parse_u64(val, 1000000, &v);
		cfg->idle_sleep_max_us = (uint32_t)v;
		break;
	case OPT_PEER:
		ret = add_peer(cfg, val);
		break;
	case OPT_LCORE_RX:
	case OPT_LCORE_MERGE:
	case OPT_LCORE_TX:
		ret = parse_u64(val, RTE_MAX_LCORE - 1, &v);
		*(opt == OPT_LCORE_RX ? &cfg->lcore_rx
		  : opt == OPT_LCORE_MERGE ? &cfg->lcore_merge : &cfg->lcore_tx) = (unsigned)v;
		break;
	case OPT_HELLO_MS:
		ret = parse_u64(val, 3600000, &v);
		if (ret == 0 && v == 0)
			ret = -EINVAL;
		cfg->hello_interval_ms = (uint32_t)v;
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -ENOSPC)
		fprintf(stderr, "meshd: %s: too many peers (max %d)\n", where, MESHD_MAX_PEERS);
	else if (ret < 0)
		fprintf(stderr, "meshd: %s: invalid value '%s'\n", where, val);
	return ret < 0 ? -EINVAL : 0;
}

static const struct {
	const char *section;
	const char *key;
	int opt;
} ini_keys[] = {
	{ "node", "name", OPT_NAME },
	{ "node", "ip", OPT_IP },
	{ "node", "port", OPT_PORT },
	{ "node", "port_id", OPT_PORT_ID },
	{ "node", "cluster_id", OPT_CLUSTER },
	{ "node", "poll_mode", OPT_POLL },
	{ "node", "idle_sleep_us", OPT_IDLE_SLEEP },
	{ "hello", "interval_ms", OPT_HELLO_MS },
	{ "lcores", "rx", OPT_LCORE_RX },
	{ "lcores", "merge", OPT_LCORE_MERGE },
	{ "lcores", "tx", OPT_LCORE_TX },
};

static int
known_key(const char *section, const char *key)
{
	if (strcmp(section, "hello") == 0 && strcmp(key, "peer") == 0)
		return 1;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(ini_keys); i++)
		if (strcmp(ini_keys[i].section, section) == 0 && strcmp(ini_keys[i].key, key) == 0)
			return 1;
	return 0;
}

static int
load_file(struct meshd_cfg *cfg, const char *path)
{
	struct rte_cfgfile *f = rte_cfgfile_load(path, 0);
	char where[512];
	char **names;
	int n_sections, ret = 0;

	if (f == NULL) {
		fprintf(stderr, "meshd: %s: cannot read or parse INI file\n", path);
		return -EINVAL;
	}
	n_sections = rte_cfgfile_num_sections(f, NULL, 0);
	names = calloc((size_t)n_sections + 1, sizeof(char *));
	for (int s = 0; names != NULL && s < n_sections; s++)
		names[s] = calloc(1, CFG_NAME_LEN);
	if (names != NULL)
		rte_cfgfile_sections(f, names, n_sections);
	for (int s = 0; names != NULL && s < n_sections && ret == 0; s++) {
		struct rte_cfgfile_entry entries[64];
		int n = rte_cfgfile_section_entries(f, names[s], entries, 64);

		if (strcmp(names[s], "node") != 0 && strcmp(names[s], "hello") != 0 &&
		    strcmp(names[s], "lcores") != 0) {
			fprintf(stderr, "meshd: %s: unknown section [%s]\n", path, names[s]);
			ret = -EINVAL;
			break;
		}
		for (int e = 0; e < n && ret == 0; e++) {
			int opt = -1;

			snprintf(where, sizeof(where), "%.256s: [%.64s] %.64s", path, names[s],
				 entries[e].name);
			if (!known_key(names[s], entries[e].name)) {
				fprintf(stderr, "meshd: %s: unknown key\n", where);
				ret = -EINVAL;
				break;
			}
			if (strcmp(entries[e].name, "peer") == 0)
				opt = OPT_PEER;
			for (size_t k = 0; opt < 0 && k < MESH_ARRAY_SIZE(ini_keys); k++)
				if (strcmp(ini_keys[k].section, names[s]) == 0 &&
				    strcmp(ini_keys[k].key, entries[e].name) == 0)
					opt = ini_keys[k].opt;
			ret = apply(cfg, opt, entries[e].value, where);
		}
	}
	for (int s = 0; names != NULL && s < n_sections; s++)
		free(names[s]);
	free(names);
	rte_cfgfile_close(f);
	return ret;
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
	if (cfg->config_file[0] != '\0' && load_file(cfg, cfg->config_file) < 0)
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
		if (apply(cfg, opt, optarg, where) < 0)
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
	return 0;
}
