/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/common's INI tokenizer (mesh_ini.c): headers and key = value lines
 * with their line numbers, trimming, '#' and ';' comments (whole lines, and after white
 * space only), CRLF and a last line without newline; every syntax error named with its
 * line; a callback's refusal stops the parse with its own return value; files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mesh_common.h"

/* every line handed on, as "LINE [section]" or "LINE section.key=value" */
struct record {
	char out[1024];
	int stop_at; /* return -EPERM at this line (0: never) */
};

static int
on_line(void *ctx, const char *section, const char *key, const char *value, int line)
{
	struct record *r = ctx;
	size_t n = strlen(r->out);

	if (key == NULL)
		snprintf(r->out + n, sizeof(r->out) - n, "%d [%s]\n", line, section);
	else
		snprintf(r->out + n, sizeof(r->out) - n, "%d %s.%s=%s\n", line, section, key,
			 value);
	return line == r->stop_at ? -EPERM : 0;
}

static int
parse(const char *text, struct record *r, char *err, size_t err_len)
{
	memset(r->out, 0, sizeof(r->out));
	err[0] = '\0';
	return mesh_ini_parse(text, strlen(text), "t.ini", on_line, r, err, err_len);
}

static void
test_ini_lines(void **state)
{
	static const char text[] =
		"# comment\n"
		"; another\n"
		"   # indented\n"
		"[node]   # after a header\n"
		"name = c1 ; trailing\n"
		"ip=10.0.0.1\t# after a tab\n"
		"\n"
		"  [ namespace  jobs: ]\n"
		"  kind   =   lww  \r\n"
		"url = a#b;c\n"
		"empty =\n"
		"[last]\n"
		"k = v"; /* no newline at the end */
	struct record r = { .stop_at = 0 };
	char err[128];

	(void)state;
	assert_int_equal(parse(text, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out,
			    "4 [node]\n"
			    "5 node.name=c1\n"
			    "6 node.ip=10.0.0.1\n"
			    "8 [namespace  jobs:]\n"
			    "9 namespace  jobs:.kind=lww\n"
			    "10 namespace  jobs:.url=a#b;c\n"
			    "11 namespace  jobs:.empty=\n"
			    "12 [last]\n"
			    "13 last.k=v\n");
	assert_string_equal(err, "");
	assert_int_equal(parse("", &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "");
}

static void
test_ini_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "[a\n", "t.ini:1: malformed section header" },
		{ "\n[a]x\n", "t.ini:2: malformed section header" },
		{ "[]\n", "t.ini:1: malformed section header" },
		{ "[  ]\n", "t.ini:1: malformed section header" },
		{ "[a]\nnovalue\n", "t.ini:2: expected 'key = value'" },
		{ "[a]\n = x\n", "t.ini:2: expected 'key = value'" },
		{ "k = v\n", "t.ini:1: key outside any [section]" },
		{ "[a]\nk = v\n\nx", "t.ini:4: expected 'key = value'" },
	};
	struct record r = { .stop_at = 0 };
	char err[128], text[300];

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(cases[i].text, &r, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
	memset(text, 'x', sizeof(text));
	text[0] = '[';
	text[MESH_INI_SECTION_MAX + 1] = ']';
	text[MESH_INI_SECTION_MAX + 2] = '\0';
	assert_int_equal(parse(text, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini:1: section name too long");
	text[MESH_INI_SECTION_MAX] = ']'; /* 127 characters fit */
	text[MESH_INI_SECTION_MAX + 1] = '\0';
	assert_int_equal(parse(text, &r, err, sizeof(err)), 0);

	/* a NUL byte: not a text file */
	assert_int_equal(mesh_ini_parse("[a]\nk = v\0w\n", 12, "t.ini", on_line, &r, err,
					sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini:2: NUL byte (not a text file?)");
	/* no error buffer: still refused */
	assert_int_equal(mesh_ini_parse("[a", 2, "t.ini", on_line, &r, NULL, 0), -EINVAL);
}

static void
test_ini_callback_stops(void **state)
{
	struct record r = { .stop_at = 2 };
	char err[64];

	(void)state;
	assert_int_equal(parse("[a]\nk = 1\nl = 2\n[b\n", &r, err, sizeof(err)), -EPERM);
	assert_string_equal(r.out, "1 [a]\n2 a.k=1\n"); /* nothing after the refusal */
	assert_string_equal(err, "");                  /* the callback reports its own */
}

static void
test_ini_file(void **state)
{
	char path[] = "/tmp/test_common_ini.XXXXXX";
	int fd = mkstemp(path);
	struct record r = { .stop_at = 0 };
	char err[256];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[s]\nk = v\n", 10), 10);
	close(fd);
	assert_int_equal(mesh_ini_parse_file(path, on_line, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "1 [s]\n2 s.k=v\n");
	unlink(path);
	assert_int_equal(mesh_ini_parse_file(path, on_line, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": cannot read: No such file or directory"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_lines),
		cmocka_unit_test(test_ini_errors),
		cmocka_unit_test(test_ini_callback_stops),
		cmocka_unit_test(test_ini_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
