/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's command line, "meshd [EAL options] -- [options]", parsed completely before EAL
 * starts: --help, --version, --help-eal and --check-config are answered, and every
 * argument or configuration error is reported (exit 2), on machines where EAL could not
 * even start. The EAL options before "--" are only checked (meshd_eal.c). meshd's own
 * options come from the settings table (meshd_settings.c): the --config file is applied
 * first, then the options override it. Nothing is silently defaulted: every error names
 * the option (or the file, line, section and key) and the bad value.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_client.h"
#include "mesh_crdt.h"
#include "meshd_settings.h"

#define MAX_OPTIONS 48

/* getopt_long's view of the table (the id is getopt's return value) */
static void
options_build(struct option *o)
{
	int n = 0;

	for (const struct meshd_setting_def *s = meshd_settings; s->id != 0; s++)
		if (s->option != NULL && n < MAX_OPTIONS - 1)
			o[n++] = (struct option){ s->option, s->arg != NULL ? required_argument
								       : no_argument, NULL, s->id };
	o[n] = (struct option){ NULL, 0, NULL, 0 };
}

/* Namespaces are checked against a scratch store, so a bad one is a config error
 * (exit 2) with its file and line, not a runtime failure. */
static int
namespaces_check(const struct meshd_cfg *cfg)
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

/* What no single setting can check: required ones, namespaces, SWIM timing. */
static int
cfg_finish(struct meshd_cfg *cfg)
{
	if (cfg->name[0] == '\0') {
		fprintf(stderr, "meshd: a node name is required (--name or [node] name)\n");
		return -EINVAL;
	}
	if (cfg->ip == 0) {
		fprintf(stderr, "meshd: an IPv4 address is required (--ip or [node] ip)\n");
		return -EINVAL;
	}
	if (namespaces_check(cfg) < 0 || meshd_swim_timing_check(cfg) < 0)
		return -EINVAL;
	if (cfg->ctl_socket[0] == '\0')
		snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s/%s.sock",
			 MESH_CLIENT_SOCKET_DIR, cfg->name);
	return 0;
}

int
meshd_config_check(const char *path)
{
	static struct meshd_cfg cfg;
	char ip[16];

	meshd_settings_defaults(&cfg);
	if (meshd_setting_apply(&cfg, OPT_CONFIG, path, "--check-config") < 0 ||
	    meshd_config_load(&cfg, cfg.config_file) < 0 || cfg_finish(&cfg) < 0)
		return 2;
	printf("%s: ok (node %s at %s:%u, cluster 0x%x, %u namespace section(s), %u seed(s), "
	       "%u hello peer(s))\n", path, cfg.name, mesh_net_ip_format(cfg.ip, ip, sizeof(ip)),
	       cfg.udp_port, cfg.cluster_id, cfg.n_ns, cfg.n_seeds, cfg.n_peers);
	return 0;
}

/* Run a command option; @alone: nothing else is on the command line. 1 done, or -errno. */
static int
command(int id, const char *arg, bool alone, const char *prog)
{
	switch (id) {
	case OPT_HELP:
		meshd_usage("meshd");
		return 1;
	case OPT_VERSION:
		printf("meshd %s\n", MESH_VERSION);
		return 1;
	case OPT_HELP_EAL:
		return meshd_eal_help(prog);
	default:
		break;
	}
	if (arg == NULL) {
		fprintf(stderr, "meshd: --check-config needs a FILE: meshd --check-config FILE\n");
		return -EINVAL;
	}
	if (!alone) {
		fprintf(stderr, "meshd: --check-config FILE takes no other arguments\n");
		return -EINVAL;
	}
	return meshd_config_check(arg) == 0 ? 1 : -EINVAL;
}

/* A command given before "--": meshd --help, meshd --check-config FILE... (0: none) */
static int
eal_part_command(int argc, char **argv, int end)
{
	for (int i = 1; i < end; i++) {
		const char *eq = strchr(argv[i], '='), *val = NULL;
		const struct meshd_setting_def *s;
		char name[32];
		int used = 1; /* arguments the command takes up */

		if (strcmp(argv[i], "-h") == 0) /* EAL's help flag: meshd's help names both */
			return command(OPT_HELP, NULL, true, argv[0]);
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(argv[i] + 2, "="), argv[i] + 2);
		s = meshd_setting_find_option(name);
		if (s == NULL || s->set != NULL)
			continue; /* EAL's, or a setting: meshd_eal_opts_check() answers */
		if (eq != NULL)
			val = eq + 1;
		else if (s->arg != NULL && i + 1 < end) {
			val = argv[i + 1];
			used = 2;
		}
		return command(s->id, val, i == 1 && argc == 1 + used, argv[0]);
	}
	return 0;
}

/* getopt_long over meshd's options @v[1..@n-1]: the first pass answers commands and
 * finds --config, the second applies the options over the file. */
static int
options_parse(struct meshd_cfg *cfg, int n, char **v, bool only_options)
{
	struct option opts[MAX_OPTIONS];
	char where[64];
	int opt;

	options_build(opts);
	opterr = 0;
	optind = 0;
	for (bool first = true; (opt = getopt_long(n, v, ":", opts, NULL)) != -1; first = false) {
		const struct meshd_setting_def *s = meshd_setting_find(opt);

		if (s != NULL && s->set == NULL)
			return command(opt, optarg, only_options && first && optind == n, v[0]);
		if (opt == OPT_CONFIG && meshd_setting_apply(cfg, opt, optarg, "--config") < 0)
			return -EINVAL;
	}
	if (cfg->config_file[0] != '\0' && meshd_config_load(cfg, cfg->config_file) < 0)
		return -EINVAL;
	optind = 0;
	while ((opt = getopt_long(n, v, ":", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "meshd: %s '%s'; see --help\n", opt == '?' ?
				"unknown option" : "a value is needed after", v[optind - 1]);
			return -EINVAL;
		}
		if (opt == OPT_CONFIG)
			continue;
		snprintf(where, sizeof(where), "--%s", meshd_setting_find(opt)->option);
		if (meshd_setting_apply(cfg, opt, optarg, where) < 0)
			return -EINVAL;
	}
	if (optind < n) {
		fprintf(stderr, "meshd: unexpected argument '%s'; see --help\n", v[optind]);
		return -EINVAL;
	}
	return 0;
}

int
meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv)
{
	int end = meshd_eal_opts_end(argc, argv);
	int n = end < argc ? argc - end : 1, ret;
	char **v = calloc((size_t)n + 1, sizeof(char *)); /* argv[0] + meshd's options */
	char why[200];

	meshd_settings_defaults(cfg);
	ret = eal_part_command(argc, argv, end);
	if (ret != 0 || v == NULL) {
		free(v);
		return ret != 0 ? ret : -ENOMEM;
	}
	v[0] = argv[0];
	memcpy(v + 1, argv + end + 1, (size_t)(n - 1) * sizeof(char *));
	/* the EAL options are checked after the commands, so --help always helps */
	ret = options_parse(cfg, n, v, end == 1);
	if (ret == 0 && meshd_eal_opts_check(end - 1, argv + 1, why, sizeof(why)) < 0) {
		fprintf(stderr, "meshd: %s (see --help, --help-eal)\n", why);
		ret = -EINVAL;
	}
	free(v);
	return ret < 0 ? -EINVAL : ret == 0 ? cfg_finish(cfg) : ret;
}
