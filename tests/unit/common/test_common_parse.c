/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/common's parsers of operator input (mesh_parse.c), table-driven where
 * they can be: decimal numbers with a bound, 0x hex, sizes with K/M/G (x1024), booleans,
 * IPv4 with and without a port, each refusing signs, blanks, trailing text and overflow
 * and leaving *out untouched; mesh_errf; and mesh_file_read (whole file, bound, missing
 * file).
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

typedef int (*parse_num_f)(const char *s, uint64_t max, uint64_t *out);

#define OK(fn, s, max, v) { fn, #fn, s, max, 0, v }
#define NO(fn, s, max) { fn, #fn, s, max, -EINVAL, 0 }

/* the number parsers: accepted values, and refusals that leave *out untouched */
static void
test_parse_numbers(void **state)
{
	static const struct {
		parse_num_f fn;
		const char *name, *s;
		uint64_t max;
		int ret;
		uint64_t v;
	} cases[] = {
		OK(mesh_parse_u64, "0", 10, 0), OK(mesh_parse_u64, "010", 10, 10),
		OK(mesh_parse_u64, "18446744073709551615", UINT64_MAX, UINT64_MAX),
		NO(mesh_parse_u64, "11", 10), NO(mesh_parse_u64, "", 9), NO(mesh_parse_u64, "-1", 9),
		NO(mesh_parse_u64, "+1", 9), NO(mesh_parse_u64, " 1", 9), NO(mesh_parse_u64, "1 ", 9),
		NO(mesh_parse_u64, "0x1", 9), NO(mesh_parse_u64, "1k", 9), NO(mesh_parse_u64, "1.0", 9),
		NO(mesh_parse_u64, "18446744073709551616", UINT64_MAX),
		NO(mesh_parse_u64, "99999999999999999999", UINT64_MAX),
		NO(mesh_parse_u64, NULL, 9),
		OK(mesh_parse_hex, "0x4d455348", UINT32_MAX, 0x4d455348),
		OK(mesh_parse_hex, "0XfF", 255, 255), OK(mesh_parse_hex, "42", 100, 42),
		OK(mesh_parse_hex, "0xffffffffffffffff", UINT64_MAX, UINT64_MAX),
		NO(mesh_parse_hex, "0x100000000", UINT32_MAX), NO(mesh_parse_hex, "0x", 9),
		NO(mesh_parse_hex, "0x10000000000000000", UINT64_MAX), NO(mesh_parse_hex, "0xg", 99),
		NO(mesh_parse_hex, "0x-1", 9), NO(mesh_parse_hex, "0x 1", 9),
		NO(mesh_parse_hex, NULL, 9),
		OK(mesh_parse_size, "4M", UINT64_MAX, 4194304),
		OK(mesh_parse_size, "64k", UINT64_MAX, 65536),
		OK(mesh_parse_size, "1g", UINT64_MAX, 1ull << 30),
		OK(mesh_parse_size, "123", UINT64_MAX, 123),
		/* K is 1024: 4194304K is 4 GiB, above 32 bits */
		NO(mesh_parse_size, "4194304K", UINT32_MAX),
		OK(mesh_parse_size, "4194303K", UINT32_MAX, 4194303ull << 10),
		NO(mesh_parse_size, "4Q", UINT64_MAX), NO(mesh_parse_size, "M", UINT64_MAX),
		NO(mesh_parse_size, "", UINT64_MAX), NO(mesh_parse_size, "4MM", UINT64_MAX),
		NO(mesh_parse_size, "17179869184G", UINT64_MAX), NO(mesh_parse_size, NULL, 9),
	};

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(cases); i++) {
		uint64_t v = 0xdead;

		if (cases[i].fn(cases[i].s, cases[i].max, &v) != cases[i].ret ||
		    v != (cases[i].ret == 0 ? cases[i].v : 0xdead))
			fail_msg("%s(\"%s\", %llu): got value %llu", cases[i].name,
				 cases[i].s != NULL ? cases[i].s : "(null)",
				 (unsigned long long)cases[i].max, (unsigned long long)v);
	}
}

static void
test_parse_bool(void **state)
{
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false",
										"0" };
	static const char *const bad[] = { "", "Yes", "on", "2", "yes " };
	bool b;

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(mesh_parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(mesh_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++)
		assert_int_equal(mesh_parse_bool(bad[i], &b), -EINVAL);
	assert_int_equal(mesh_parse_bool(NULL, &b), -EINVAL);
}

static void
test_parse_ipv4(void **state)
{
	static const char *const bad[] = { "", "10.99.0", "10.99.0.256", "10.99.0.1x", "1..2.3",
					   " 1.2.3.4", "1.2.3.4 ", "+1.2.3.4", "-0.1.2.3",
					   "1.2.3.4.5", "1.2.3.", "1.2.3.99999999999" };
	uint32_t ip = 0;

	(void)state;
	assert_int_equal(mesh_parse_ipv4("10.99.0.1", &ip), 0);
	assert_int_equal(ip, 0x0a630001u);
	assert_int_equal(mesh_parse_ipv4("255.255.255.255", &ip), 0);
	assert_int_equal(ip, 0xffffffffu);
	assert_int_equal(mesh_parse_ipv4("010.0.0.1", &ip), 0); /* decimal, like numbers */
	assert_int_equal(ip, 0x0a000001u);
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++)
		assert_int_equal(mesh_parse_ipv4(bad[i], &ip), -EINVAL);
	assert_int_equal(mesh_parse_ipv4(NULL, &ip), -EINVAL);
}

static void
test_parse_ipv4_port(void **state)
{
	static const char *const bad[] = { "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x",
					   "1.2.3.4:1:2", ":80", "255.255.255.2555:1",
					   "1.2.3.4: 80" };
	uint32_t ip = 0;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(mesh_parse_ipv4_port("10.0.0.2", 39527, &ip, &port), 0);
	assert_int_equal(ip, 0x0a000002u);
	assert_int_equal(port, 39527);
	assert_int_equal(mesh_parse_ipv4_port("10.0.0.3:65535", 39527, &ip, &port), 0);
	assert_int_equal(ip, 0x0a000003u);
	assert_int_equal(port, 65535);
	assert_int_equal(mesh_parse_ipv4_port("10.0.0.3", 0, &ip, &port), -EINVAL); /* required */
	assert_int_equal(mesh_parse_ipv4_port("10.0.0.3:9", 0, &ip, &port), 0);
	assert_int_equal(port, 9);
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++)
		assert_int_equal(mesh_parse_ipv4_port(bad[i], 1, &ip, &port), -EINVAL);
	assert_int_equal(mesh_parse_ipv4_port(NULL, 1, &ip, &port), -EINVAL);
}

static void
test_errf(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(mesh_errf(err, sizeof(err), "%s %d", "abc", 12345), -EINVAL);
	assert_string_equal(err, "abc 123"); /* truncated, terminated */
	assert_int_equal(mesh_errf(NULL, 0, "x"), -EINVAL);
}

static void
test_file_read(void **state)
{
	char path[] = "/tmp/test_common_parse.XXXXXX";
	int fd = mkstemp(path);
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ab\0cd", 5), 5);
	close(fd);
	assert_int_equal(mesh_file_read(path, 5, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "ab\0cd", 6); /* NUL-terminated */
	free(text);
	assert_int_equal(mesh_file_read(path, 4, &text, &len), -EFBIG);
	unlink(path);
	assert_int_equal(mesh_file_read(path, 4, &text, &len), -ENOENT);
	assert_int_equal(mesh_file_read("/", 4, &text, &len), -EISDIR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv4_port),
		cmocka_unit_test(test_errf),
		cmocka_unit_test(test_file_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
