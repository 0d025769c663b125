/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/common's settings tables (mesh_conf*.c) over a small table: defaults,
 * the plain parsers into 1/2/4/8-byte fields and their refusals, INI files (sections,
 * [SECTION NAME] through the section hook, repeatable keys, duplicates naming both lines,
 * unknown sections and keys), command lines (strict and lenient passes, abbreviations,
 * "alone", the caller's argv left in order), --help generated from the table, and the
 * setters for names, IPv4 addresses and listen addresses.
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

struct sub {
	char name[8];
	uint8_t level;
	bool on;
};

struct obj {
	uint16_t port;
	uint32_t id;
	uint64_t size;
	bool flag;
	char name[8];
	unsigned n_peers, n_subs, ends;
	struct sub subs[2];
};

enum { T_PORT = 256, T_ID, T_SIZE, T_FLAG, T_NAME, T_PEER, T_HELP, T_LEVEL, T_ON };

static MESH_CONF_SETTER(set_peer)
{
	(void)why;
	(void)why_len;
	if (strcmp(val, "bad") == 0)
		return -EINVAL; /* no reason given: "invalid value 'bad'" */
	((struct obj *)c->obj)->n_peers++;
	return 0;
}

#define F(f) .off = offsetof(struct obj, f), .size = sizeof(((struct obj *)0)->f)
#define S(f) .off = offsetof(struct sub, f), .size = sizeof(((struct sub *)0)->f), \
	.flags = MESH_CONF_SUB

static const struct mesh_conf_def defs[] = {
	{ T_PORT, "port", "net", "port", "N", "80", "a port", mesh_conf_set_num, F(port),
	  .min = 1, .max = 65535 },
	{ T_ID, "id", "net", "id", "N", NULL, "an id", mesh_conf_set_hex, F(id),
	  .max = UINT32_MAX },
	{ T_SIZE, NULL, "net", "size", "SIZE", NULL, "a size", mesh_conf_set_size, F(size),
	  .max = UINT64_MAX },
	{ T_FLAG, "flag", "misc", "flag", "yes|no", "no", "a flag\nsecond line",
	  mesh_conf_set_bool, F(flag) },
	{ T_NAME, "name", "misc", "name", "NAME", NULL, "a name", mesh_conf_set_str, F(name) },
	{ T_PEER, "peer", "misc", "peer", "P", NULL, "repeatable", set_peer,
	  .flags = MESH_CONF_REPEAT },
	{ T_HELP, "help", NULL, NULL, NULL, NULL, "help", NULL },
	{ T_LEVEL, NULL, "sub", "level", "N", NULL, "a level", mesh_conf_set_num, S(level),
	  .max = 9 },
	{ T_ON, NULL, "sub", "on", "yes|no", NULL, "on", mesh_conf_set_bool, S(on) },
	{ 0 },
};

static int
on_section(struct mesh_conf *c, const char *section, const char *name, const char *where)
{
	struct obj *o = c->obj;

	if (section == NULL) {
		o->ends++;
		return 0;
	}
	c->sub = NULL;
	if (strcmp(section, "sub") != 0)
		return 0;
	if (*name == '\0' || o->n_subs == 2)
		return mesh_errf(c->err, sizeof(c->err), "%s: bad", where);
	c->sub = &o->subs[o->n_subs++];
	snprintf(o->subs[o->n_subs - 1].name, sizeof(o->subs[0].name), "%s", name);
	return 0;
}

static void
conf_init(struct mesh_conf *c, struct obj *o)
{
	memset(o, 0, sizeof(*o));
	*c = (struct mesh_conf){ .defs = defs, .obj = o, .section = on_section };
	assert_int_equal(mesh_conf_defaults(c), 0);
}

static void
test_conf_apply(void **state)
{
	struct mesh_conf c;
	struct obj o;
	struct sub s = { .level = 0 };

	(void)state;
	conf_init(&c, &o);
	assert_int_equal(o.port, 80);
	assert_false(o.flag);
	assert_ptr_equal(mesh_conf_find(defs, T_ID), &defs[1]);
	assert_ptr_equal(mesh_conf_find_key(defs, "misc", "name"), &defs[4]);
	assert_ptr_equal(mesh_conf_find_key(defs, "sub", NULL), &defs[7]);
	assert_ptr_equal(mesh_conf_find_option(defs, "peer"), &defs[5]);
	assert_null(mesh_conf_find(defs, 1));
	assert_null(mesh_conf_find_key(defs, "net", "nope"));
	assert_null(mesh_conf_find_option(defs, "size"));

	assert_int_equal(mesh_conf_apply(&c, T_PORT, "65535", "w"), 0);
	assert_int_equal(o.port, 65535);
	assert_int_equal(mesh_conf_apply(&c, T_ID, "0xffffffff", "w"), 0);
	assert_int_equal(o.id, 0xffffffffu);
	assert_int_equal(mesh_conf_apply(&c, T_SIZE, "2G", "w"), 0);
	assert_int_equal(o.size, 2ull << 30);
	assert_int_equal(mesh_conf_apply(&c, T_FLAG, "true", "w"), 0);
	assert_true(o.flag);
	assert_int_equal(mesh_conf_apply(&c, T_NAME, "seven77", "w"), 0);
	assert_string_equal(o.name, "seven77");
	assert_int_equal(o.port, 65535); /* neighbours untouched */

	assert_int_equal(mesh_conf_apply(&c, T_PORT, "0", "--port"), -EINVAL);
	assert_string_equal(c.err, "--port: invalid value '0': expected a decimal number 1..65535");
	assert_int_equal(mesh_conf_apply(&c, T_ID, "0x", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value '0x': expected a decimal or 0x hex number "
			    "0..4294967295");
	assert_int_equal(mesh_conf_apply(&c, T_SIZE, "1Q", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value '1Q': expected a size (K, M or G suffix "
			    "allowed) 0..18446744073709551615");
	assert_int_equal(mesh_conf_apply(&c, T_FLAG, "on", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value 'on': expected yes or no");
	assert_int_equal(mesh_conf_apply(&c, T_NAME, "eight888", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value 'eight888': expected 1..7 characters");
	assert_int_equal(mesh_conf_apply(&c, T_NAME, "", "w"), -EINVAL);
	assert_int_equal(mesh_conf_apply(&c, T_PEER, "bad", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value 'bad'");
	assert_int_equal(mesh_conf_apply(&c, T_HELP, NULL, "w"), -EINVAL);
	assert_string_equal(c.err, "w: not a setting");
	assert_int_equal(mesh_conf_apply(&c, T_LEVEL, "1", "w"), -EINVAL);
	assert_string_equal(c.err, "w: not in a [sub NAME] section");
	c.sub = &s;
	assert_int_equal(mesh_conf_apply(&c, T_LEVEL, "9", "w"), 0);
	assert_int_equal(s.level, 9);
	assert_int_equal(mesh_conf_apply(&c, T_LEVEL, "10", "w"), -EINVAL);
}

/* Load @text as an INI file into a fresh @o; the result, with the file's path in @path. */
static int
load(const char *text, struct mesh_conf *c, struct obj *o, char *path)
{
	int fd, ret;

	strcpy(path, "/tmp/test_common_conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	conf_init(c, o);
	ret = mesh_conf_ini_load(c, path);
	unlink(path);
	return ret;
}

static void
test_conf_ini(void **state)
{
	static const struct {
		const char *text, *err; /* err after "PATH:" */
	} bad[] = {
		{ "[nope]\n", "1: unknown section [nope]" },
		{ "[net x]\n", "1: unknown section [net x]" },
		{ "[net]\n[misc]\n[net]\n", "3: [net]: duplicate section (first at line 1)" },
		{ "[net]\nport = 1\nport = 2\n", "3: [net] port: duplicate key (first at line 2)" },
		{ "[net]\nbogus = 1\n", "2: [net] bogus: unknown key" },
		{ "[net]\nlevel = 1\n", "2: [net] level: unknown key" },
		{ "[net]\nport = x\n", "2: [net] port: invalid value 'x': expected a decimal "
		  "number 1..65535" },
		{ "[sub]\n", "1: [sub]: bad" },
		{ "[sub a]\nlevel = 1\n[sub a]\n",
		  "3: [sub a]: duplicate section (first at line 1)" },
		{ "[misc]\npeer = a\npeer = bad\n", "3: [misc] peer: invalid value 'bad'" },
		{ "[net]\nport\n", "2: expected 'key = value'" },
	};
	struct mesh_conf c;
	struct obj o;
	char path[64], want[256];

	(void)state;
	assert_int_equal(load("[net]\nport = 8080\nsize = 4K\n[misc]\npeer = a\npeer = b\n"
			      "[sub one]\nlevel = 3\n[sub two]\non = yes\nlevel = 0\n", &c, &o,
			      path), 0);
	assert_int_equal(o.port, 8080);
	assert_int_equal(o.size, 4096);
	assert_int_equal(o.n_peers, 2);
	assert_int_equal(o.n_subs, 2);
	assert_string_equal(o.subs[0].name, "one");
	assert_int_equal(o.subs[0].level, 3);
	assert_false(o.subs[0].on);
	assert_string_equal(o.subs[1].name, "two");
	assert_true(o.subs[1].on);
	assert_int_equal(o.ends, 1);

	for (size_t i = 0; i < MESH_ARRAY_SIZE(bad); i++) {
		assert_int_equal(load(bad[i].text, &c, &o, path), -EINVAL);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].err);
		assert_string_equal(c.err, want);
		assert_int_equal(o.ends, 0);
	}
	conf_init(&c, &o);
	assert_int_equal(mesh_conf_ini_load(&c, "/nonexistent/x.ini"), -EINVAL);
	assert_string_equal(c.err, "/nonexistent/x.ini: cannot read: No such file or directory");
}

/* records what a pass over a command line saw */
struct seen_args {
	char out[256];
	int stop;
};

static int
on_arg(void *ctx, const struct mesh_conf_def *d, const char *val, bool alone)
{
	struct seen_args *s = ctx;
	size_t n = strlen(s->out);

	snprintf(s->out + n, sizeof(s->out) - n, "%s=%s%s ", d->option, val != NULL ? val : "-",
		 alone ? " alone" : "");
	return d->id == s->stop ? 7 : 0;
}

static void
test_conf_args(void **state)
{
	char *ok[] = { "p", "--port", "81", "x?", "--flag=yes", "--na", "n" };
	char *ok_copy[MESH_ARRAY_SIZE(ok)];
	struct mesh_conf c;
	struct obj o;
	struct seen_args s = { .stop = 0 };

	(void)state;
	memcpy(ok_copy, ok, sizeof(ok));
	conf_init(&c, &o);
	/* lenient: the stray "x?" is skipped */
	assert_int_equal(mesh_conf_args_each(&c, MESH_ARRAY_SIZE(ok), ok, false, on_arg, &s), 0);
	assert_string_equal(s.out, "port=81 flag=yes name=n ");
	assert_memory_equal(ok, ok_copy, sizeof(ok)); /* not reordered */
	assert_int_equal(mesh_conf_args_each(&c, MESH_ARRAY_SIZE(ok), ok, true,
					     mesh_conf_arg_apply, &c), -EINVAL);
	assert_string_equal(c.err, "unexpected argument 'x?'; see --help");
	assert_int_equal(o.port, 81);
	assert_true(o.flag);
	assert_string_equal(o.name, "n");

	{
		char *v[] = { "p", "--bogus", "--help", "--port" };

		s.out[0] = '\0';
		s.stop = T_HELP;
		assert_int_equal(mesh_conf_args_each(&c, 4, v, false, on_arg, &s), 7);
		assert_string_equal(s.out, "help=- "); /* stopped there */
		assert_int_equal(mesh_conf_args_each(&c, 2, v, true, on_arg, &s), -EINVAL);
		assert_string_equal(c.err, "unknown option '--bogus'; see --help");
		assert_int_equal(mesh_conf_args_each(&c, 1, v + 3, true, on_arg, &s), 0);
		assert_int_equal(mesh_conf_args_each(&c, 2, v + 2, true, on_arg, &s), -EINVAL);
		assert_string_equal(c.err, "a value is needed after '--port'; see --help");
	}
	{
		char *alone1[] = { "p", "--help" }, *alone2[] = { "p", "--port", "1" };
		char *not1[] = { "p", "x", "--port=1" }, *not2[] = { "p", "--help", "--help" };
		char *novalue[] = { "p", "--port" };

		s.stop = 0;
		s.out[0] = '\0';
		mesh_conf_args_each(&c, 2, alone1, false, on_arg, &s);
		mesh_conf_args_each(&c, 3, alone2, false, on_arg, &s);
		mesh_conf_args_each(&c, 3, not1, false, on_arg, &s);
		mesh_conf_args_each(&c, 3, not2, false, on_arg, &s);
		mesh_conf_args_each(&c, 2, novalue, false, on_arg, &s); /* lenient: no value */
		assert_string_equal(s.out, "help=- alone port=1 alone port=1 help=- help=- "
				    "port=- alone ");
	}
	assert_int_equal(mesh_conf_args_each(&c, 0, NULL, true, on_arg, &s), 0);
}

/* --help text of the table's settings with (@options) or without an option */
static void
usage(const struct mesh_conf *c, bool options, char *buf, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(1);
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	dup2(fileno(tmp), 1);
	mesh_conf_usage(c, options);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, len - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

static void
test_conf_usage(void **state)
{
	struct mesh_conf c;
	struct obj o;
	char buf[1024];

	(void)state;
	conf_init(&c, &o);
	usage(&c, true, buf, sizeof(buf));
	assert_string_equal(buf,
			    "  --port N   [net] port   (default 80)\n        a port\n"
			    "  --id N   [net] id\n        an id\n"
			    "  --flag yes|no   [misc] flag   (default no)\n"
			    "        a flag\n        second line\n"
			    "  --name NAME   [misc] name\n        a name\n"
			    "  --peer P   [misc] peer\n        repeatable\n"
			    "  --help\n        help\n");
	c.sub_arg = "ID";
	usage(&c, false, buf, sizeof(buf));
	assert_string_equal(buf,
			    "  [net] size = SIZE\n        a size\n"
			    "  [sub ID] level = N\n        a level\n"
			    "  [sub ID] on = yes|no\n        on\n");
}

/* the setters for names, IPv4 addresses and listen addresses, over their own table */
struct addrs {
	char name[8];
	uint32_t ip;
	char listen[24];
};

#define A(f) .off = offsetof(struct addrs, f), .size = sizeof(((struct addrs *)0)->f)

static const struct mesh_conf_def addr_defs[] = {
	{ 256, "name", NULL, NULL, "NAME", NULL, "", mesh_conf_set_name, A(name) },
	{ 257, "ip", NULL, NULL, "A.B.C.D", NULL, "", mesh_conf_set_ipv4, A(ip) },
	{ 258, "listen", NULL, NULL, "A.B.C.D:PORT", NULL, "", mesh_conf_set_addr, A(listen) },
	{ 0 },
};

static void
test_conf_addr_values(void **state)
{
	struct addrs a = { .ip = 7 };
	struct mesh_conf c = { .defs = addr_defs, .obj = &a };

	(void)state;
	assert_int_equal(mesh_conf_apply(&c, 256, "n-1_a.b", "w"), 0);
	assert_string_equal(a.name, "n-1_a.b");
	assert_int_equal(mesh_conf_apply(&c, 256, "a b", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value 'a b': letters, digits, '.', '_', '-' only");
	assert_int_equal(mesh_conf_apply(&c, 256, "toolong8", "w"), -EINVAL);
	assert_string_equal(a.name, "n-1_a.b");

	assert_int_equal(mesh_conf_apply(&c, 257, "10.0.0.2", "w"), 0);
	assert_int_equal(a.ip, 0x0a000002u);
	assert_int_equal(mesh_conf_apply(&c, 257, "10.0.0.256", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value '10.0.0.256': expected A.B.C.D");
	assert_int_equal(a.ip, 0x0a000002u);

	assert_int_equal(mesh_conf_apply(&c, 258, "127.0.0.1:9100", "w"), 0);
	assert_string_equal(a.listen, "127.0.0.1:9100");
	assert_int_equal(mesh_conf_apply(&c, 258, "127.0.0.1", "w"), -EINVAL);
	assert_string_equal(c.err, "w: invalid value '127.0.0.1': expected A.B.C.D:PORT");
	assert_string_equal(a.listen, "127.0.0.1:9100");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_apply),
		cmocka_unit_test(test_conf_ini),
		cmocka_unit_test(test_conf_args),
		cmocka_unit_test(test_conf_usage),
		cmocka_unit_test(test_conf_addr_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
