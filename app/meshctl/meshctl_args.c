/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl arguments: a command's arguments are checked against its table entry before the
 * node is contacted, so a wrong command line always ends in exit status 2 with a reason
 * and the usage, never in a silently different request (`keys worker: abc` used to list
 * everything). Numbers are decimal and whole: no sign where none is allowed, no spaces,
 * no trailing text, no overflow.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

int
meshctl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
meshctl_parse_i64(const char *s, int64_t *out)
{
	bool neg = s[0] == '-';
	uint64_t v;

	if (meshctl_parse_u64(s + neg, (uint64_t)INT64_MAX + neg, &v) < 0)
		return -EINVAL;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static const char *
what(char type)
{
	switch (type) {
	case 'u': return "a decimal number >= 0";
	case 'i': return "a decimal number";
	case 'e': return "under an epoch_max prefix (rl:, or give it with --epoch-prefix)";
	default: return meshctl.enc == MESHCTL_ENC_HEX ? "hex" : "base64";
	}
}

int
meshctl_args_check(const struct meshctl_cmd *cmd, int argc, char **argv)
{
	int max = (int)strlen(cmd->types);
	const char *takes = cmd->args[0] != '\0' ? cmd->args : "no arguments";

	if (argc > max)
		return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL,
				     "%s takes %s: unexpected argument '%s'", cmd->name, takes,
				     argv[max]);
	if (argc < cmd->min)
		return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "%s takes %s", cmd->name, takes);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		uint64_t u;
		int64_t s;
		int bad = 0;

		switch (cmd->types[i]) {
		case 'u':
			bad = meshctl_parse_u64(a, UINT64_MAX, &u) < 0;
			break;
		case 'i':
			bad = meshctl_parse_i64(a, &s) < 0;
			break;
		case 'v':
			bad = a[0] != '@' && meshctl.enc != MESHCTL_ENC_TEXT &&
			      meshctl_decode(a, meshctl.enc, NULL) < 0;
			break;
		case 'e':
			bad = !meshctl_epoch_key(a, strlen(a));
			break;
		}
		if (bad)
			return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "%s: '%s' is not %s",
					     cmd->name, a, what(cmd->types[i]));
	}
	return 0;
}
