/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsers of operator input (command lines, configuration and key files): numbers, sizes,
 * booleans, IPv4 addresses with a port. Strict on purpose, so that a typo is an error and
 * not a surprise: decimal numbers are digits only ("010" is 10; no sign, blank or base
 * prefix), hex needs its 0x, and trailing text is refused. mesh_errf() writes the reason of
 * a refusal for the callers that report one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

int
mesh_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int
mesh_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
mesh_parse_hex(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	size_t n;

	if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return mesh_parse_u64(s, max, out);
	n = strlen(s + 2);
	if (n == 0 || n > 16 || strspn(s + 2, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	v = strtoull(s + 2, NULL, 16); /* at most 16 hex digits: cannot overflow */
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
mesh_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const char units[] = "kmg";
	char digits[24];
	size_t n = s != NULL ? strlen(s) : 0;
	const char *u = n > 1 ? strchr(units, tolower((unsigned char)s[n - 1])) : NULL;
	unsigned shift = u != NULL ? 10 * (unsigned)(u - units + 1) : 0;
	uint64_t v;

	if (u != NULL)
		n--;
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (mesh_parse_u64(digits, max >> shift, &v) < 0)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

int
mesh_parse_bool(const char *s, bool *out)
{
	static const char *const names[][2] = { { "no", "yes" }, { "false", "true" },
						{ "0", "1" } };

	for (size_t i = 0; s != NULL && i < MESH_ARRAY_SIZE(names); i++)
		for (int v = 0; v < 2; v++)
			if (strcmp(s, names[i][v]) == 0) {
				*out = v == 1;
				return 0;
			}
	return -EINVAL;
}

int
mesh_parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t addr = 0;

	if (s == NULL)
		return -EINVAL;
	for (int part = 0; part < 4; part++) {
		const char *start = s;
		unsigned v = 0;

		while (*s >= '0' && *s <= '9' && v <= 255)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (s == start || v > 255 || *s != (part < 3 ? '.' : '\0'))
			return -EINVAL;
		addr = addr << 8 | v;
		s += part < 3;
	}
	*ip = addr;
	return 0;
}

int
mesh_parse_ipv4_port(const char *s, uint16_t default_port, uint32_t *ip, uint16_t *port)
{
	const char *colon = s != NULL ? strchr(s, ':') : NULL;
	size_t n = colon != NULL ? (size_t)(colon - s) : s != NULL ? strlen(s) : 0;
	uint64_t p = default_port;
	char addr[16];

	if (s == NULL || n >= sizeof(addr) || (colon == NULL && default_port == 0))
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (colon != NULL && (mesh_parse_u64(colon + 1, 65535, &p) < 0 || p == 0))
		return -EINVAL;
	if (mesh_parse_ipv4(addr, ip) < 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}
