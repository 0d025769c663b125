/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL's arguments. meshd checks them before EAL starts, so a typo is an argument or
 * config error (exit 2, with the file line for [eal] args) rather than an EAL failure:
 * every option must be one of DPDK 22.11's EAL options (eal_common_options.c), given its
 * value when it takes one. EAL's argv is then argv[0], the --config file's [eal] args
 * (split on white space, no quoting) and the command line's options before "--", so
 *     meshd -- --config drivers-config/af_packet-veth.ini
 * is a complete invocation, and single-valued options given on the command line win.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "meshd_settings.h"

static const char eal_short[] = "a:b:c:d:hl:m:n:r:s:S:v";

static const struct option eal_long[] = {
	{ "allow", required_argument, NULL, 0 },
	{ "base-virtaddr", required_argument, NULL, 0 },
	{ "block", required_argument, NULL, 0 },
	{ "create-uio-dev", no_argument, NULL, 0 },
	{ "file-prefix", required_argument, NULL, 0 },
	{ "force-max-simd-bitwidth", required_argument, NULL, 0 },
	{ "help", no_argument, NULL, 0 },
	{ "huge-dir", required_argument, NULL, 0 },
	{ "huge-unlink", optional_argument, NULL, 0 },
	{ "huge-worker-stack", optional_argument, NULL, 0 },
	{ "in-memory", no_argument, NULL, 0 },
	{ "iova-mode", required_argument, NULL, 0 },
	{ "lcores", required_argument, NULL, 0 },
	{ "legacy-mem", no_argument, NULL, 0 },
	{ "log-level", required_argument, NULL, 0 },
	{ "main-lcore", required_argument, NULL, 0 },
	{ "match-allocations", no_argument, NULL, 0 },
	{ "mbuf-pool-ops-name", required_argument, NULL, 0 },
	{ "no-hpet", no_argument, NULL, 0 },
	{ "no-huge", no_argument, NULL, 0 },
	{ "no-pci", no_argument, NULL, 0 },
	{ "no-shconf", no_argument, NULL, 0 },
	{ "no-telemetry", no_argument, NULL, 0 },
	{ "proc-type", required_argument, NULL, 0 },
	{ "single-file-segments", no_argument, NULL, 0 },
	{ "socket-limit", required_argument, NULL, 0 },
	{ "socket-mem", required_argument, NULL, 0 },
	{ "syslog", required_argument, NULL, 0 },
	{ "telemetry", no_argument, NULL, 0 },
	{ "trace", required_argument, NULL, 0 },
	{ "trace-bufsz", required_argument, NULL, 0 },
	{ "trace-dir", required_argument, NULL, 0 },
	{ "trace-mode", required_argument, NULL, 0 },
	{ "vdev", required_argument, NULL, 0 },
	{ "vfio-intr", required_argument, NULL, 0 },
	{ "vfio-vf-token", required_argument, NULL, 0 },
	{ "vmware-tsc-map", no_argument, NULL, 0 },
};

/* Whether @tok is one of meshd's own options ("--name", "--port=1"). */
static bool
meshd_option(const char *tok)
{
	char name[64];

	if (tok[1] != '-')
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(tok + 2, "="), tok + 2);
	return meshd_setting_find_option(name) != NULL;
}

/* The arity of option @tok (no_argument...), or -1 if EAL does not know it. */
static int
eal_option(const char *tok)
{
	const char *o;
	size_t len;

	if (tok[1] != '-') {
		o = tok[1] != '\0' && tok[1] != ':' ? strchr(eal_short, tok[1]) : NULL;
		return o == NULL ? -1 : o[1] == ':' ? required_argument : no_argument;
	}
	len = strcspn(tok + 2, "=");
	for (size_t i = 0; i < sizeof(eal_long) / sizeof(eal_long[0]); i++)
		if (strncmp(tok + 2, eal_long[i].name, len) == 0 && eal_long[i].name[len] == '\0')
			return eal_long[i].has_arg;
	return -1;
}

int
meshd_eal_opts_check(int n, char *const *tok, char *why, size_t why_len)
{
	for (int i = 0; i < n; i++) {
		const char *t = tok[i];
		bool is_long = t[0] == '-' && t[1] == '-';
		/* the value in the same token: --opt=VALUE or -lVALUE */
		bool joined = is_long ? strchr(t, '=') != NULL : t[0] == '-' && t[1] && t[2];
		int arity;

		if (t[0] != '-' || strcmp(t, "--") == 0)
			return meshd_why(why, why_len, "unexpected argument '%s'", t);
		arity = eal_option(t);
		if (arity < 0 && meshd_option(t))
			return meshd_why(why, why_len, "'%s' is a meshd option: put it after \"--\"",
					 t);
		if (arity < 0)
			return meshd_why(why, why_len, "unknown EAL option '%s'", t);
		if (arity == no_argument && joined)
			return meshd_why(why, why_len, "EAL option '%s' takes no value", t);
		if (arity == required_argument && !joined && ++i == n)
			return meshd_why(why, why_len, "EAL option '%s' needs a value", t);
	}
	return 0;
}

/* Split @s in place on white space into @tok; the count, or -E2BIG. */
static int
split(char *s, char **tok)
{
	char *save;
	int n = 0;

	for (char *t = strtok_r(s, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == MESHD_EAL_ARGS_MAX)
			return -E2BIG;
		tok[n++] = t;
	}
	return n;
}

int
meshd_eal_args_check(const char *args, char *why, size_t why_len)
{
	char *tok[MESHD_EAL_ARGS_MAX];
	char *copy = strdup(args);
	int n = copy != NULL ? split(copy, tok) : -ENOMEM;

	if (n == -E2BIG)
		meshd_why(why, why_len, "more than %d EAL arguments", MESHD_EAL_ARGS_MAX);
	else if (n >= 0)
		n = meshd_eal_opts_check(n, tok, why, why_len);
	free(copy);
	return n < 0 ? -EINVAL : 0;
}

int
meshd_eal_opts_end(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	return i;
}

int
meshd_eal_argv(const struct meshd_cfg *cfg, int argc, char **argv, int *out_argc,
	       char ***out_argv)
{
	int end = meshd_eal_opts_end(argc, argv);
	char **v = calloc((size_t)end + MESHD_EAL_ARGS_MAX + 1, sizeof(char *));
	char *copy = strdup(cfg->eal_args); /* stays allocated for the life of the process */
	int n;

	if (v == NULL || copy == NULL) {
		free(v);
		free(copy);
		return -ENOMEM;
	}
	n = split(copy, v + 1); /* meshd_value_eal_args() checked the count */
	if (n < 0) {
		free(v);
		free(copy);
		return n;
	}
	v[0] = argv[0];
	n++;
	for (int i = 1; i < end; i++)
		v[n++] = argv[i];
	*out_argc = n;
	*out_argv = v;
	return 0;
}

int
meshd_eal_help(const char *prog)
{
	char *v[] = { (char *)(uintptr_t)prog, (char *)(uintptr_t)"--help", NULL };

	rte_eal_init(2, v); /* prints EAL's usage and exits 0 while parsing, before any set-up */
	fprintf(stderr, "meshd: EAL did not print its usage: %s\n", rte_strerror(rte_errno));
	return -EIO;
}
