/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the INI tokenizer (mesh_ini_parse) on arbitrary text, and lib/common's
 * parsers of operator input on every value it hands on. Lines come in increasing order,
 * sections and keys are non-empty and trimmed, values trimmed; a callback's refusal stops
 * the parse with its return value; any other failure carries a "NAME:" message; parsed
 * numbers respect their bounds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	int last_line;
	bool stopped;
};

static void
check_trimmed(const char *s, bool may_be_empty)
{
	size_t n = strlen(s);

	if ((n == 0 && !may_be_empty) ||
	    (n > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))))
		abort();
}

static void
check_values(const char *v)
{
	uint64_t u;
	uint32_t ip;
	uint16_t port;
	bool b;

	if (mesh_parse_u64(v, 1000, &u) == 0 && u > 1000)
		abort();
	if (mesh_parse_hex(v, UINT32_MAX, &u) == 0 && u > UINT32_MAX)
		abort();
	if (mesh_parse_size(v, UINT32_MAX, &u) == 0 && u > UINT32_MAX)
		abort();
	if (mesh_parse_ipv4_port(v, 0, &ip, &port) == 0 && port == 0)
		abort();
	(void)mesh_parse_bool(v, &b);
}

static int
on_line(void *ctx, const char *section, const char *key, const char *value, int line)
{
	struct state *s = ctx;

	if (s->stopped || line <= s->last_line || strlen(section) >= MESH_INI_SECTION_MAX)
		abort();
	s->last_line = line;
	check_trimmed(section, false);
	if (key == NULL)
		return value == NULL ? 0 : -EFAULT;
	check_trimmed(key, false);
	check_trimmed(value, true);
	if (strchr(key, '=') != NULL)
		abort();
	check_values(value);
	s->stopped = strcmp(value, "stop") == 0;
	return s->stopped ? -EPERM : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = { .last_line = 0 };
	char err[256] = "";
	int ret = mesh_ini_parse((const char *)data, size, "fuzz.ini", on_line, &s, err,
				 sizeof(err));

	if ((ret == -EPERM) != s.stopped || ret == -EFAULT)
		abort();
	if (ret == -EINVAL && strncmp(err, "fuzz.ini:", 9) != 0)
		abort();
	if (ret != 0 && ret != -EINVAL && ret != -EPERM)
		abort();
	return 0;
}
