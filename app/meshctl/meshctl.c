/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl: command-line client of a local meshd (libmeshclient). Human-readable output by
 * default, one JSON document per command (or per watch event) with --json; values in hex
 * or base64 with --hex/--base64. Results go to stdout, errors to stderr. Exit status:
 * 0 success, 1 the node refused or the key was not found, 2 usage error, 3 cannot reach
 * the node. main() parses options, checks the command's arguments (meshctl_args.c) and
 * only then connects and runs it (meshctl_cmd.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

struct meshctl_opts meshctl = { .watch_timeout_ms = -1 };

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: meshctl [-s SOCKET | -n NODE] [--json] [--hex | --base64] [--timeout MS]\n"
		"               [--epoch-prefix PREFIX]... COMMAND [ARGS]\n"
		"       meshctl --version | --help\n"
		"Commands:\n");
	for (size_t i = 0; i < meshctl_n_cmds; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", meshctl_cmds[i].name, meshctl_cmds[i].args);
		fprintf(f, "  %-24s %s\n", head, meshctl_cmds[i].help);
	}
	fprintf(f,
		"Options:\n"
		"  -j, --json               one JSON document per result; errors as JSON on stderr\n"
		"  -x, --hex, -b, --base64  values in that encoding, printed and as VALUE arguments\n"
		"                           (binary-safe; without them JSON carries non-UTF-8\n"
		"                           values as \"value_base64\")\n"
		"  -t, --timeout MS         reply timeout (default 5000); also ends watch\n"
		"  -e, --epoch-prefix P     keys under P hold epoch_max values: get/watch decode\n"
		"                           them, rl-set writes them (repeatable; replaces rl:)\n"
		"  -V, --version            print the version\n"
		"The socket defaults to %s/NODE.sock; NODE defaults to $MESHD_NODE.\n",
		MESH_CLIENT_SOCKET_DIR);
}

/*
 * A bad command line: the reason ("what 'ARG' why"), then the usage (of @cmd only, when
 * given), on stderr; with --json only the JSON error, so that stderr stays one document.
 */
static int
usage_error(const struct meshctl_cmd *cmd, const char *what, const char *arg, const char *why)
{
	if (what != NULL && arg != NULL)
		meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "%s'%s'%s", what, arg, why);
	else if (what != NULL)
		meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "%s", what);
	if (meshctl.json)
		return MESHCTL_EXIT_USAGE;
	if (cmd != NULL)
		fprintf(stderr, "Usage: meshctl [OPTIONS] %s %s (meshctl --help for more)\n",
			cmd->name, cmd->args);
	else
		usage(stderr);
	return MESHCTL_EXIT_USAGE;
}

static int
version(void)
{
	if (meshctl.json)
		return meshctl_json_print(json_pack("{s:s}", "version", MESH_VERSION));
	printf("meshctl %s\n", MESH_VERSION);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ "base64", no_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "epoch-prefix", required_argument, NULL, 'e' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *node = getenv("MESHD_NODE"), *sock = NULL;
	const struct meshctl_cmd *cmd = NULL;
	int opt, timeout = 5000, ret, show_version = 0;
	struct mesh_client *c;
	uint64_t v;
	char path[256];

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:n:jxbt:e:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'n': node = optarg; break;
		case 'j': meshctl.json = true; break;
		case 'x': meshctl.enc = MESHCTL_ENC_HEX; break;
		case 'b': meshctl.enc = MESHCTL_ENC_BASE64; break;
		case 't':
			if (meshctl_parse_u64(optarg, INT_MAX, &v) < 0)
				return usage_error(NULL, "--timeout: ", optarg, " is not a number of ms");
			timeout = meshctl.watch_timeout_ms = (int)v;
			break;
		case 'e':
			if (meshctl.n_epoch_prefix == MESHCTL_MAX_EPOCH_PREFIX || optarg[0] == '\0')
				return usage_error(NULL, "--epoch-prefix: ", optarg,
						   ": give 1 to 8 non-empty prefixes");
			meshctl.epoch_prefix[meshctl.n_epoch_prefix++] = optarg;
			break;
		case 'V': show_version = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			return usage_error(NULL, "unknown option or missing argument: ",
					   argv[optind - 1], "");
		}
	}
	if (show_version)
		return version();
	if (optind >= argc)
		return usage_error(NULL, "no command given", NULL, NULL);
	for (size_t i = 0; i < meshctl_n_cmds; i++)
		if (cmd == NULL && strcmp(argv[optind], meshctl_cmds[i].name) == 0)
			cmd = &meshctl_cmds[i];
	if (cmd == NULL)
		return usage_error(NULL, "unknown command ", argv[optind], "");
	/* put --owned/--batch/--pipeline: the variant's own argument table */
	if (strcmp(cmd->name, "put") == 0 && optind + 1 < argc && argv[optind + 1][0] == '-' &&
	    argv[optind + 1][1] == '-') {
		const struct meshctl_cmd *var = NULL;

		size_t len = strlen(argv[optind + 1]);

		for (size_t i = 0; i < meshctl_n_put_variants; i++)
			if (strncmp(argv[optind + 1], meshctl_put_variants[i].args, len) == 0 &&
			    meshctl_put_variants[i].args[len] == ' ')
				var = &meshctl_put_variants[i];
		if (var == NULL)
			return usage_error(cmd, "put: unknown option ", argv[optind + 1], "");
		argv[optind + 1] = argv[optind];
		optind++;
		cmd = var;
	}
	if (meshctl_args_check(cmd, argc - optind - 1, argv + optind + 1) != 0)
		return usage_error(cmd, NULL, NULL, NULL);
	if (sock == NULL) {
		if (node == NULL)
			return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL,
					     "give -s SOCKET or -n NODE (or set MESHD_NODE)");
		snprintf(path, sizeof(path), "%s/%s.sock", MESH_CLIENT_SOCKET_DIR, node);
		sock = path;
	}
	c = mesh_client_connect(sock);
	if (c == NULL)
		return meshctl_error(MESHCTL_EXIT_UNREACHABLE, errno, "cannot connect to %s: %s",
				     sock, strerror(errno));
	mesh_client_timeout_set(c, timeout);
	ret = cmd->run(c, argc - optind - 1, argv + optind + 1);
	mesh_client_close(c);
	return ret;
}
