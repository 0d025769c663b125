/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's command line, "meshd [EAL options] -- [options]", parsed completely before EAL
 * starts: --help, --version, --help-eal and --check-config are answered, and every
 * argument or configuration error is reported (exit 2), on machines where EAL could not
 * even start. The EAL options before "--" are only checked (lib/common's
 * mesh_common_eal_*). meshd's own options come from the settings table (meshd_settings.c)
 * through lib/common's mesh_conf: first passes answer commands (before "--" too) and find
 * --config, whose file is applied, then the options override it. Nothing is silently defaulted: every
 * error names the option (or the file, line, section and key) and the bad value.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_client.h"
#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "meshd_settings.h"

/* Print why the settings refused something. */
static int
refused(const struct mesh_conf *c)
{
	fprintf(stderr, "meshd: %s\n", c->err);
	return -EINVAL;
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

/* Keyed unless keyless is asked for by name; the migration modes need keys. */
static int
keys_check(const struct meshd_cfg *cfg)
{
	bool keyed = cfg->key_file[0] != '\0';
	char err[320];

	if (!keyed && !cfg->insecure_plaintext) {
		fprintf(stderr, "meshd: no cluster key: give a key file (--key-file FILE or "
			"[cluster] key_file; make one with 'meshd keygen FILE'), or run keyless "
			"on a trusted segment with --insecure-plaintext ([cluster] "
			"insecure_plaintext = yes)\n");
		return -EINVAL;
	}
	if (keyed && cfg->insecure_plaintext) {
		fprintf(stderr, "meshd: a key file and --insecure-plaintext ([cluster] "
			"insecure_plaintext) exclude each other\n");
		return -EINVAL;
	}
	/* loaded here to check it (errors name its line); meshd loads it again at start-up */
	if (keyed && mesh_wire_keyring_check(cfg->key_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "meshd: invalid key file (--key-file, [cluster] key_file): %s\n",
			err);
		return -EINVAL;
	}
	if (!keyed && (cfg->accept_plaintext || cfg->send_plaintext)) {
		fprintf(stderr, "meshd: --%s ([cluster] %s) is a keyless-to-keyed migration "
			"mode: it needs a key file (--key-file or [cluster] key_file)\n",
			cfg->send_plaintext ? "send-plaintext" : "accept-plaintext",
			cfg->send_plaintext ? "send_plaintext" : "accept_plaintext");
		return -EINVAL;
	}
	return 0;
}

/* What no single setting can check: required ones, keys, namespaces, SWIM timing. */
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
	if (namespaces_check(cfg) < 0 || meshd_swim_timing_check(cfg) < 0 || keys_check(cfg) < 0)
		return -EINVAL;
	if (cfg->ctl_socket[0] == '\0')
		snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s/%s.sock",
			 MESH_CLIENT_SOCKET_DIR, cfg->name);
	return 0;
}

/* meshd --check-config FILE: the whole file without EAL; prints "FILE: ok". 0 or -EINVAL. */
static int
config_check(const char *path)
{
	static struct meshd_cfg cfg;
	struct mesh_conf c;
	char ip[16], warn[512];

	meshd_settings_init(&c, &cfg);
	if (mesh_conf_apply(&c, OPT_CONFIG, path, "--check-config") < 0 ||
	    mesh_conf_ini_load(&c, cfg.config_file) < 0)
		return refused(&c);
	if (cfg_finish(&cfg) < 0)
		return -EINVAL;
	mesh_ctl_cfg_warnings(&(struct mesh_ctl_cfg){ .metrics = cfg.metrics_listen,
			      .socket_mode = cfg.ctl_socket_mode }, warn, sizeof(warn));
	for (char *sv, *w = strtok_r(warn, "\n", &sv); w != NULL; w = strtok_r(NULL, "\n", &sv))
		printf("%s: warning: %s\n", path, w);
	printf("%s: ok (node %s at %s:%u, cluster 0x%x, %u namespace section(s), %u seed(s), "
	       "%u hello peer(s), %s)\n", path, cfg.name,
	       mesh_net_ip_format(cfg.ip, ip, sizeof(ip)), cfg.udp_port, cfg.cluster_id, cfg.n_ns,
	       cfg.n_seeds, cfg.n_peers, cfg.insecure_plaintext ? "KEYLESS" : "keyed");
	return 0;
}

/* Run a command option; @alone: nothing else is on the command line. 1 done, or -errno. */
static int
command(const struct mesh_conf *c, int id, const char *arg, bool alone, const char *prog)
{
	switch (id) {
	case OPT_HELP:
		meshd_usage(c);
		return 1;
	case OPT_VERSION:
		printf("meshd %s\n", MESH_VERSION);
		return 1;
	case OPT_HELP_EAL:
		return mesh_common_eal_help(prog);
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
	return config_check(arg) == 0 ? 1 : -EINVAL;
}

/* The first passes, over the EAL options and then meshd's own: commands answer (alone:
 * nothing else is on the command line), and meshd's --config is applied. */
struct first_pass {
	struct mesh_conf *c;
	const char *prog;
	bool may_be_alone, meshd_part;
};

static int
first_pass(void *ctx, const struct mesh_conf_def *d, const char *val, bool alone)
{
	struct first_pass *f = ctx;

	if (d->set == NULL)
		return command(f->c, d->id, val, f->may_be_alone && alone, f->prog);
	if (f->meshd_part && d->id == OPT_CONFIG && val != NULL &&
	    mesh_conf_apply(f->c, d->id, val, "--config") < 0)
		return refused(f->c);
	return 0;
}

/* meshd keygen FILE: a new key file (mode 0600, never over an existing file). 1 or -EINVAL. */
static int
keygen(int argc, char **argv)
{
	char err[320];

	if (argc != 3 || argv[2][0] == '-') {
		fprintf(stderr, "meshd: usage: meshd keygen FILE\n");
		return -EINVAL;
	}
	if (mesh_wire_keyfile_generate(argv[2], err, sizeof(err)) < 0) {
		fprintf(stderr, "meshd: keygen: %s\n", err);
		return -EINVAL;
	}
	printf("%s: new cluster key (id 1, primary), mode 0600: copy it to every node\n", argv[2]);
	return 1;
}

int
meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv)
{
	/* meshd's part of the command line: argv[end..] */
	int end = mesh_common_eal_opts_end(argc, argv), n = argc - end;
	struct mesh_conf c;
	struct first_pass eal = { &c, argv[0], end == argc, false };
	struct first_pass own = { &c, argv[0], end == 1, true };
	char why[200];
	int ret = 0;

	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return keygen(argc, argv);
	meshd_settings_init(&c, cfg);
	for (int i = 1; i < end && ret == 0; i++)
		if (strcmp(argv[i], "-h") == 0) /* EAL's help flag: meshd's help names both */
			ret = command(&c, OPT_HELP, NULL, true, argv[0]);
	if (ret == 0)
		ret = mesh_conf_args_each(&c, end, argv, false, first_pass, &eal);
	if (ret == 0) /* argv[end], the "--", stands for argv[0] */
		ret = mesh_conf_args_each(&c, n, argv + end, false, first_pass, &own);
	if (ret != 0)
		return ret < 0 ? -EINVAL : ret;
	if (cfg->config_file[0] != '\0' && mesh_conf_ini_load(&c, cfg->config_file) < 0)
		return refused(&c);
	if (mesh_conf_args_each(&c, n, argv + end, true, mesh_conf_arg_apply, &c) < 0)
		return refused(&c);
	/* the EAL options are checked after the commands, so --help always helps */
	if (mesh_common_eal_opts_check_own(end - 1, argv + 1, meshd_settings, "meshd", why,
					   sizeof(why)) < 0) {
		fprintf(stderr, "meshd: %s (see --help, --help-eal)\n", why);
		return -EINVAL;
	}
	return cfg_finish(cfg);
}
