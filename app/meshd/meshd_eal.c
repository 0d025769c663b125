/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL arguments from the configuration file. A deployment keeps everything in one INI file
 * (a drivers-config file, /etc/meshd/meshd.ini): its [eal] section's "args" holds EAL
 * options, which come before any EAL options given on the command line, so
 *     meshd -- --config drivers-config/af_packet-veth.ini
 * is a complete invocation. Values are split on white space (no quoting).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "meshd.h"

#define MAX_EAL_ARGS 64

static const char *
config_path(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	for (i++; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

int
meshd_eal_argv(int argc, char **argv, int *out_argc, char ***out_argv)
{
	const char *path = config_path(argc, argv);
	struct rte_cfgfile *f;
	const char *args;
	char **v, *copy, *tok, *save;
	int n = 0;

	*out_argc = argc;
	*out_argv = argv;
	if (path == NULL)
		return 0;
	f = rte_cfgfile_load(path, 0);
	if (f == NULL)
		return 0; /* the full config check reports the problem with its line */
	args = rte_cfgfile_get_entry(f, "eal", "args");
	if (args == NULL) {
		rte_cfgfile_close(f);
		return 0;
	}
	v = calloc((size_t)argc + MAX_EAL_ARGS + 1, sizeof(char *));
	copy = strdup(args);
	rte_cfgfile_close(f);
	if (v == NULL || copy == NULL) {
		free(v);
		free(copy);
		return -ENOMEM;
	}
	v[n++] = argv[0];
	for (tok = strtok_r(copy, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (n > MAX_EAL_ARGS) {
			fprintf(stderr, "meshd: %s: [eal] args: more than %d arguments\n", path,
				MAX_EAL_ARGS);
			free(v);
			free(copy);
			return -E2BIG;
		}
		v[n++] = tok; /* copy stays allocated for the life of the process */
	}
	for (int i = 1; i < argc; i++)
		v[n++] = argv[i];
	*out_argc = n;
	*out_argv = v;
	return 0;
}
