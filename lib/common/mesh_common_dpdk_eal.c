/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL's arguments, checked before EAL starts, so that a typo is an argument or config
 * error of the program rather than an EAL failure: every option must be one of DPDK
 * 22.11's EAL options (eal_common_options.c), given its value when it takes one. Then
 * EAL's argv: argv[0], options from a configuration file (split on white space, no
 * quoting), and the command line's, so that single-valued options of the command line win.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "mesh_common_dpdk.h"

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
mesh_common_eal_opts_check(int n, char *const *tok, int *bad, char *why, size_t why_len)
{
	for (int i = 0; i < n; i++) {
		const char *t = tok[i];
		bool is_long = t[0] == '-' && t[1] == '-';
		/* the value in the same token: --opt=VALUE or -lVALUE */
		bool joined = is_long ? strchr(t, '=') != NULL : t[0] == '-' && t[1] && t[2];
		int arity = t[0] == '-' && strcmp(t, "--") != 0 ? eal_option(t) : -2;

		*bad = i;
		if (arity == -2)
			return mesh_errf(why, why_len, "unexpected argument '%s'", t);
		if (arity < 0) {
			mesh_errf(why, why_len, "unknown EAL option '%s'", t);
			return -ENOENT;
		}
		if (arity == no_argument && joined)
			return mesh_errf(why, why_len, "EAL option '%s' takes no value", t);
		if (arity == required_argument && !joined && ++i == n)
			return mesh_errf(why, why_len, "EAL option '%s' needs a value", t);
	}
	return 0;
}

int
mesh_common_eal_opts_check_own(int n, char *const *tok, const struct mesh_conf_def *own,
			       const char *prog, char *why, size_t why_len)
{
	char name[64];
	int bad, ret = mesh_common_eal_opts_check(n, tok, &bad, why, why_len);

	if (ret != -ENOENT || tok[bad][1] != '-')
		return ret < 0 ? -EINVAL : 0;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(tok[bad] + 2, "="), tok[bad] + 2);
	if (mesh_conf_find_option(own, name) != NULL)
		mesh_errf(why, why_len, "'%s' is a %s option: put it after \"--\"", tok[bad], prog);
	return -EINVAL;
}

int
mesh_common_eal_args_split(char *s, char **tok, int max)
{
	char *save;
	int n = 0;

	for (char *t = strtok_r(s, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -E2BIG;
		tok[n++] = t;
	}
	return n;
}

int
mesh_common_eal_opts_end(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	return i;
}

static bool
has_file_prefix(int n, char **v)
{
	for (int i = 1; i < n; i++)
		if (strcmp(v[i], "--file-prefix") == 0 || strncmp(v[i], "--file-prefix=", 14) == 0)
			return true;
	return false;
}

int
mesh_common_eal_argv_build(const char *args, int argc, char **argv, const char *prefix,
			   int *out_argc, char ***out_argv)
{
	char **v = calloc((size_t)argc + MESH_COMMON_EAL_ARGS_MAX + 3, sizeof(char *));
	char *copy = strdup(args); /* stays allocated for the life of the process */
	int n = v != NULL && copy != NULL ?
		mesh_common_eal_args_split(copy, v + 1, MESH_COMMON_EAL_ARGS_MAX) : -ENOMEM;

	if (n < 0) {
		free(v);
		free(copy);
		return n;
	}
	v[0] = argv[0];
	n++;
	for (int i = 1; i < argc; i++)
		v[n++] = argv[i];
	if (prefix != NULL && !has_file_prefix(n, v)) {
		v[n++] = (char *)(uintptr_t)"--file-prefix";
		v[n++] = (char *)(uintptr_t)prefix;
	}
	*out_argc = n;
	*out_argv = v;
	return 0;
}

int
mesh_common_eal_help(const char *prog)
{
	char *v[] = { (char *)(uintptr_t)prog, (char *)(uintptr_t)"--help", NULL };

	rte_eal_init(2, v); /* prints EAL's usage and exits 0 while parsing, before any set-up */
	fprintf(stderr, "%s: EAL did not print its usage: %s\n", prog, rte_strerror(rte_errno));
	return -EIO;
}
