/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for cluster key files (mesh_wire_keyfile.c): keys with and without a primary
 * mark, comments, blank lines and CRLF; every malformed line refused with its file and
 * line and an empty keyring; files (missing, unreadable by others warned about through
 * mesh_log).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mesh_wire.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100"

static int
parse(const char *text, struct mesh_wire_keyring *kr, char *err, size_t err_len)
{
	err[0] = '\0';
	return mesh_wire_keyring_parse(text, strlen(text), "k.keys", kr, err, err_len);
}

static void
test_keyfile_good(void **state)
{
	struct mesh_wire_keyring kr;
	const struct mesh_wire_key *k;
	char err[160];

	(void)state;
	assert_int_equal(parse("# rotation\n\n 1 " HEX_A "\r\n2\t" HEX_B " primary\n  # end", &kr,
			       err, sizeof(err)), 0);
	assert_int_equal(kr.n_keys, 2);
	assert_int_equal(kr.keys[kr.primary].id, 2);
	k = mesh_wire_keyring_find(&kr, 1);
	assert_non_null(k);
	for (unsigned i = 0; i < MESH_WIRE_KEY_LEN; i++)
		assert_int_equal(k->key[i], i);
	k = mesh_wire_keyring_find(&kr, 2);
	assert_non_null(k);
	assert_int_equal(k->key[0], 0xff);
	assert_int_equal(k->key[31], 0x00);
	mesh_wire_keyring_fini(&kr);

	/* no primary mark: the first key seals */
	assert_int_equal(parse("7 " HEX_B "\n255 " HEX_A, &kr, err, sizeof(err)), 0);
	assert_int_equal(kr.keys[kr.primary].id, 7);
	mesh_wire_keyring_fini(&kr);
}

static void
test_keyfile_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "", "k.keys: no keys" },
		{ "# only a comment\n\n", "k.keys: no keys" },
		{ "1 " HEX_A "\n2 00\n", "k.keys:2: expected 'ID HEX64 [primary]' with ID 0..255 "
		  "and 64 hex digits" },
		{ "256 " HEX_A "\n", "k.keys:1: expected 'ID HEX64 [primary]' with ID 0..255 and "
		  "64 hex digits" },
		{ "1 " HEX_A " secondary\n", "k.keys:1: expected 'ID HEX64 [primary]' with ID "
		  "0..255 and 64 hex digits" },
		{ "x " HEX_A "\n", "k.keys:1: expected 'ID HEX64 [primary]' with ID 0..255 and 64 "
		  "hex digits" },
		{ "1 " HEX_A "0\n", "k.keys:1: expected 'ID HEX64 [primary]' with ID 0..255 and 64 "
		  "hex digits" },
		{ "\n1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
		  "k.keys:2: not a hex digit" },
		{ "1 " HEX_A "\n1 " HEX_B "\n", "k.keys:2: key 1: duplicate id" },
		{ "1 " HEX_A " primary\n2 " HEX_B " primary\n", "k.keys:2: a second primary key" },
		{ "0 " HEX_A "\n1 " HEX_A "\n2 " HEX_A "\n3 " HEX_A "\n4 " HEX_A "\n5 " HEX_A
		  "\n6 " HEX_A "\n7 " HEX_A "\n8 " HEX_A "\n", "k.keys:9: key 8: too many keys "
		  "(max 8)" },
	};
	struct mesh_wire_keyring kr;
	char err[160];

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse(bad[i].text, &kr, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(kr.n_keys, 0); /* nothing kept */
		assert_int_equal(kr.primary, -1);
	}
}

static void
test_keyfile_long_line(void **state)
{
	char text[900];
	struct mesh_wire_keyring kr;
	char err[160];

	(void)state;
	/* a long comment is one line; a long key line is read up to its third word */
	memset(text, 'c', sizeof(text));
	text[0] = '#';
	text[400] = '\n';
	snprintf(text + 401, sizeof(text) - 401, "3 %s primary %0300d", HEX_A, 0);
	assert_int_equal(parse(text, &kr, err, sizeof(err)), 0);
	assert_int_equal(kr.n_keys, 1);
	assert_int_equal(kr.keys[0].id, 3);
	mesh_wire_keyring_fini(&kr);
}

static char logged[256];

static void
log_hook(void *ctx, enum mesh_log_level level, const char *module, const char *msg)
{
	(void)ctx;
	snprintf(logged, sizeof(logged), "%d %s %s", (int)level, module, msg);
}

static void
test_keyfile_load(void **state)
{
	char path[] = "/tmp/test_wire_keyfile.XXXXXX", want[256], err[256];
	struct mesh_wire_keyring kr;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "9 " HEX_A "\n", 67), 67);
	close(fd);
	mesh_log_hook_set(log_hook, NULL);
	assert_int_equal(chmod(path, 0600), 0);
	logged[0] = '\0';
	assert_int_equal(mesh_wire_keyring_load(path, &kr, err, sizeof(err)), 0);
	assert_int_equal(kr.n_keys, 1);
	assert_string_equal(logged, "");
	mesh_wire_keyring_fini(&kr);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(mesh_wire_keyring_load(path, &kr, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%d wire %s: key file is readable by group/others "
		 "(chmod 600)", MESH_LOG_WARNING, path);
	assert_string_equal(logged, want);
	mesh_wire_keyring_fini(&kr);
	mesh_log_hook_set(NULL, NULL);

	unlink(path);
	assert_int_equal(mesh_wire_keyring_load(path, &kr, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read key file: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(kr.n_keys, 0);
}

/* keygen: a loadable file, mode 0600 under any umask, never over an existing file */
static void
test_keyfile_generate(void **state)
{
	char dir[] = "/tmp/test_wire_keygen.XXXXXX", path[64], link[64], err[256];
	struct mesh_wire_keyring kr, kr2;
	struct stat st;
	mode_t old;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	old = umask(0);
	assert_int_equal(mesh_wire_keyfile_generate(path, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(mesh_wire_keyring_load(path, &kr, err, sizeof(err)), 0);
	assert_int_equal(kr.n_keys, 1);
	assert_int_equal(kr.keys[kr.primary].id, 1);

	assert_int_equal(mesh_wire_keyfile_generate(path, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "never overwritten"));
	assert_int_equal(mesh_wire_keyring_load(path, &kr2, err, sizeof(err)), 0);
	assert_memory_equal(kr2.keys[0].key, kr.keys[0].key, MESH_WIRE_KEY_LEN); /* unchanged */
	mesh_wire_keyring_fini(&kr2);

	assert_int_equal(symlink(path, link), 0); /* a symlink, even to a key file: refused */
	assert_int_equal(mesh_wire_keyfile_generate(link, err, sizeof(err)), -EEXIST);
	unlink(link);
	unlink(path);
	assert_int_equal(mesh_wire_keyfile_generate(path, err, sizeof(err)), 0);
	assert_int_equal(mesh_wire_keyring_load(path, &kr2, err, sizeof(err)), 0);
	assert_memory_not_equal(kr2.keys[0].key, kr.keys[0].key, MESH_WIRE_KEY_LEN); /* random */
	mesh_wire_keyring_fini(&kr2);
	mesh_wire_keyring_fini(&kr);
	unlink(path);

	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	assert_true(mesh_wire_keyfile_generate(path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, path));
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyfile_good),
		cmocka_unit_test(test_keyfile_errors),
		cmocka_unit_test(test_keyfile_long_line),
		cmocka_unit_test(test_keyfile_load),
		cmocka_unit_test(test_keyfile_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
