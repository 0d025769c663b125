/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ctl's local-surface pieces that need no EAL: the settings parsers
 * (metrics address with its 127.0.0.1 default, octal socket mode, socket group), the
 * warnings --check-config prints, and the lost-event tables behind Event.dropped (per
 * subscription, the overflow bucket, taking clears).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_internal.h"

struct obj {
	char metrics[64];
	uint32_t mode;
	char group[64];
};

#define F(f) .off = offsetof(struct obj, f), .size = sizeof(((struct obj *)0)->f)

static const struct mesh_conf_def defs[] = {
	{ 256, "metrics", "n", "metrics", "A", NULL, "m", mesh_ctl_conf_set_metrics, F(metrics) },
	{ 257, "mode", "n", "mode", "M", NULL, "m", mesh_ctl_conf_set_mode, F(mode) },
	{ 258, "group", "n", "group", "G", NULL, "g", mesh_ctl_conf_set_group, F(group) },
	{ 0 },
};

static int
apply(struct obj *o, int id, const char *val)
{
	struct mesh_conf c = { .defs = defs, .obj = o };

	return mesh_conf_apply(&c, id, val, "--x");
}

static void
test_metrics_addr(void **state)
{
	struct obj o = { 0 };

	(void)state;
	assert_int_equal(apply(&o, 256, "9464"), 0);
	assert_string_equal(o.metrics, "127.0.0.1:9464");
	assert_int_equal(apply(&o, 256, ":9100"), 0);
	assert_string_equal(o.metrics, "127.0.0.1:9100");
	assert_int_equal(apply(&o, 256, "0.0.0.0:9464"), 0);
	assert_string_equal(o.metrics, "0.0.0.0:9464");
	assert_int_equal(apply(&o, 256, "0.0.0.0"), -EINVAL);
	assert_int_equal(apply(&o, 256, "70000"), -EINVAL);
	assert_int_equal(apply(&o, 256, "host:80"), -EINVAL);
	assert_int_equal(apply(&o, 256, ":"), -EINVAL);
}

static void
test_mode_group(void **state)
{
	struct obj o = { 0 };
	uint32_t gid = 99;

	(void)state;
	assert_int_equal(apply(&o, 257, "0660"), 0);
	assert_int_equal(o.mode, 0660);
	assert_int_equal(apply(&o, 257, "600"), 0);
	assert_int_equal(o.mode, 0600);
	assert_int_equal(apply(&o, 257, "0800"), -EINVAL);
	assert_int_equal(apply(&o, 257, "0000"), -EINVAL); /* 0 is the API's "default" */
	assert_int_equal(apply(&o, 257, "01777"), -EINVAL);
	assert_int_equal(apply(&o, 257, "rw"), -EINVAL);
	assert_int_equal(apply(&o, 258, "root"), 0);
	assert_string_equal(o.group, "root");
	assert_int_equal(apply(&o, 258, "0"), 0);
	assert_int_equal(apply(&o, 258, "no-such-group-here"), -EINVAL);
	assert_int_equal(mesh_ctl_group_lookup("root", &gid), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(mesh_ctl_group_lookup("no-such-group-here", &gid), -ENOENT);
}

static void
test_warnings(void **state)
{
	struct mesh_ctl_cfg cfg = { .metrics = "127.0.0.1:9464", .socket_mode = 0660 };
	char buf[512];

	(void)state;
	assert_int_equal(mesh_ctl_cfg_warnings(&cfg, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	cfg.metrics = "127.1.2.3:9464";
	assert_int_equal(mesh_ctl_cfg_warnings(&cfg, buf, sizeof(buf)), 0);
	cfg.metrics = "0.0.0.0:9464";
	assert_int_equal(mesh_ctl_cfg_warnings(&cfg, buf, sizeof(buf)), 1);
	assert_non_null(strstr(buf, "metrics_listen 0.0.0.0:9464 is not a loopback address"));
	cfg.socket_mode = 0666;
	assert_int_equal(mesh_ctl_cfg_warnings(&cfg, buf, sizeof(buf)), 2);
	assert_non_null(strstr(buf, "ctl_socket_mode 0666"));
	cfg.metrics = NULL;
	assert_int_equal(mesh_ctl_cfg_warnings(&cfg, buf, 8), 1); /* cut, still counted */
	assert_int_equal(strlen(buf), 7);
}

static void
test_lost(void **state)
{
	struct ctl_lost t = { 0 };

	(void)state;
	assert_int_equal(ctl_lost_take(&t, 7), 0);
	ctl_lost_add(&t, 7, 3);
	ctl_lost_add(&t, 8, 1);
	ctl_lost_add(&t, 7, 2);
	assert_int_equal(ctl_lost_take(&t, 9), 0);
	assert_int_equal(ctl_lost_take(&t, 7), 5);
	assert_int_equal(ctl_lost_take(&t, 7), 0); /* taking clears */
	assert_int_equal(ctl_lost_take(&t, 8), 1);
	/* more subscriptions than entries: the rest goes to the next event of any of them */
	for (uint64_t s = 100; s < 100 + CTL_LOST_SUBS + 2; s++)
		ctl_lost_add(&t, s, 1);
	assert_int_equal(ctl_lost_take(&t, 100), 1 + 2);
	assert_int_equal(ctl_lost_take(&t, 101), 1);
	assert_int_equal(ctl_lost_take(&t, 100 + CTL_LOST_SUBS + 1), 0);
	/* freed entries are reused */
	ctl_lost_add(&t, 100, 4);
	assert_int_equal(ctl_lost_take(&t, 100), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_addr),
		cmocka_unit_test(test_mode_group),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
