/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl output: JSON documents (jansson: one document a line, keys in insertion order,
 * UTF-8 kept as it is), the one-line escaping of plain `watch` and `keys`, and errors.
 * Errors always go to stderr, as "meshctl: what: why" or, with --json, as
 * {"error": "what: why", "errno": N}; stdout carries only results.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

static void
json_line(FILE *f, json_t *doc)
{
	json_dumpf(doc, f, JSON_PRESERVE_ORDER);
	json_decref(doc);
	fputc('\n', f);
	fflush(f);
}

int
meshctl_json_print(json_t *doc)
{
	if (doc == NULL)
		return meshctl_error(MESHCTL_EXIT_REFUSED, ENOMEM, "%s", strerror(ENOMEM));
	json_line(stdout, doc);
	return 0;
}

json_t *
meshctl_json_u64(uint64_t v)
{
	char buf[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

int
meshctl_json_bytes(json_t *obj, const char *field, const void *p, size_t n)
{
	json_t *s = json_stringn(p, n); /* NULL when not UTF-8 */
	char name[64], *b;

	if (s != NULL)
		return json_object_set_new(obj, field, s) < 0 ? -ENOMEM : 0;
	snprintf(name, sizeof(name), "%s_base64", field);
	b = meshctl_encode(p, n, MESHCTL_ENC_BASE64);
	s = b != NULL ? json_string(b) : NULL;
	free(b);
	return json_object_set_new(obj, name, s) < 0 ? -ENOMEM : 0;
}

/* Length of the valid UTF-8 sequence at @p that is not a C1 control, else 0. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	size_t len = p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
	uint8_t lo = 0x80, hi = 0xbf;

	if (len == 0 || len > n)
		return 0;
	if (p[0] == 0xc2)
		lo = 0xa0; /* U+0080..U+009F are C1 controls */
	else if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

void
meshctl_escape(FILE *f, const void *bytes, size_t n)
{
	const uint8_t *p = bytes;

	for (size_t i = 0; i < n;) {
		size_t len = p[i] >= 0x80 ? utf8_seq(p + i, n - i) : 1;
		const char *e = p[i] == '\\' ? "\\\\" : p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r"
			      : p[i] == '\t' ? "\\t" : NULL;

		if (e != NULL)
			fputs(e, f);
		else if (len == 0 || p[i] < 0x20 || p[i] == 0x7f)
			fprintf(f, "\\x%02x", p[i]);
		else
			fwrite(p + i, 1, len, f);
		i += len > 0 ? len : 1;
	}
}

int
meshctl_error(int status, int err, const char *fmt, ...)
{
	char msg[512];
	json_t *doc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	doc = meshctl.json ? json_object() : NULL;
	if (doc != NULL && meshctl_json_bytes(doc, "error", msg, strlen(msg)) == 0 &&
	    json_object_set_new(doc, "errno", json_integer(err)) == 0) {
		json_line(stderr, doc);
		return status;
	}
	json_decref(doc);
	fprintf(stderr, "meshctl: %s\n", msg);
	return status;
}

int
meshctl_fail(struct mesh_client *c, const char *what, int err)
{
	const char *why = c != NULL && mesh_client_error(c)[0] ? mesh_client_error(c)
							       : strerror(-err);
	int status = err == -ETIMEDOUT || err == -ECONNRESET || err == -EPIPE
			     ? MESHCTL_EXIT_UNREACHABLE
			     : MESHCTL_EXIT_REFUSED;

	if (c != NULL && mesh_client_error_code(c) != MESH_CLIENT_OK)
		return meshctl_error(status, -err, "%s: %s (%s)", what, why,
				     mesh_client_error_name(mesh_client_error_code(c)));
	return meshctl_error(status, -err, "%s: %s", what, why);
}
