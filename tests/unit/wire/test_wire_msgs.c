/* SPDX-License-Identifier: BSD-3-Clause */
/* The MSGS container: writer bounds, reader round trip, every malformed record case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_wire.h"

static void
test_round_trip(void **state)
{
	uint8_t buf[64], kind;
	struct mesh_wire_msgw w;
	struct mesh_wire_msgr r;
	struct mesh_wire_slice s;
	size_t room;
	uint8_t *p;

	(void)state;
	mesh_wire_msgw_init(&w, buf, sizeof(buf));
	assert_int_equal(mesh_wire_msgw_room(&w), 61);
	assert_int_equal(mesh_wire_msgw_add(&w, MESH_WIRE_KIND_SWIM, "swim", 4), 0);
	assert_int_equal(mesh_wire_msgw_add(&w, MESH_WIRE_KIND_HEARTBEAT, NULL, 0), 0);
	p = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_CRDT_ACK, &room);
	assert_non_null(p);
	assert_int_equal(room, 64 - 7 - 3 - 3);
	memcpy(p, "abc", 3);
	mesh_wire_msgw_end(&w, 3);
	assert_int_equal(mesh_wire_msgw_add(&w, 200, "x", 1), 0); /* unknown kind travels */
	assert_int_equal(w.n_recs, 4);
	assert_int_equal(mesh_wire_msgw_add(&w, 0, "x", 1), -EINVAL);
	assert_int_equal(mesh_wire_msgw_add(&w, 1, NULL, 70000), -EINVAL);

	mesh_wire_msgr_init(&r, buf, w.len);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 1);
	assert_int_equal(kind, MESH_WIRE_KIND_SWIM);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.p, "swim", 4);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 1);
	assert_int_equal(kind, MESH_WIRE_KIND_HEARTBEAT);
	assert_int_equal(s.len, 0);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 1);
	assert_int_equal(kind, MESH_WIRE_KIND_CRDT_ACK);
	assert_memory_equal(s.p, "abc", 3);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 1);
	assert_int_equal(kind, 200);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 0);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 0);
	/* empty payload */
	mesh_wire_msgr_init(&r, buf, 0);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 0);
}

static void
test_writer_bounds(void **state)
{
	uint8_t buf[16], src[16] = { 0 };
	struct mesh_wire_msgw w;
	size_t room;

	(void)state;
	mesh_wire_msgw_init(&w, buf, sizeof(buf));
	assert_int_equal(mesh_wire_msgw_add(&w, 1, src, 14), -ENOSPC);
	assert_int_equal(w.len, 0);
	assert_int_equal(mesh_wire_msgw_add(&w, 1, src, 13), 0); /* exactly full */
	assert_int_equal(mesh_wire_msgw_room(&w), 0);
	assert_int_equal(mesh_wire_msgw_add(&w, 1, NULL, 0), -ENOSPC);
	assert_null(mesh_wire_msgw_begin(&w, 1, &room));
	assert_int_equal(room, 0);
	/* 2 bytes left: no header fits */
	mesh_wire_msgw_init(&w, buf, sizeof(buf));
	assert_int_equal(mesh_wire_msgw_add(&w, 1, src, 11), 0);
	assert_int_equal(mesh_wire_msgw_room(&w), 0);
	assert_int_equal(mesh_wire_msgw_add(&w, 1, NULL, 0), -ENOSPC);
}

static void
expect_bad(const uint8_t *p, size_t n, int good_before)
{
	struct mesh_wire_msgr r;
	struct mesh_wire_slice s;
	uint8_t kind;
	int rc, good = 0;

	mesh_wire_msgr_init(&r, p, n);
	while ((rc = mesh_wire_msgr_next(&r, &kind, &s)) == 1)
		good++;
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(good, good_before);
	assert_int_equal(mesh_wire_msgr_next(&r, &kind, &s), 0); /* stops after an error */
}

static void
test_malformed(void **state)
{
	static const uint8_t kind0[] = { 0, 0, 0 };
	static const uint8_t short_hdr[] = { 1, 0 };
	static const uint8_t past_end[] = { 1, 0, 5, 'a', 'b' };
	static const uint8_t good_then_bad[] = { 7, 0, 0, 1, 0, 2, 'a' };
	static const uint8_t huge[] = { 2, 0xff, 0xff, 1 };

	(void)state;
	expect_bad(kind0, sizeof(kind0), 0);
	expect_bad(short_hdr, sizeof(short_hdr), 0);
	expect_bad(past_end, sizeof(past_end), 0);
	expect_bad(good_then_bad, sizeof(good_then_bad), 1);
	expect_bad(huge, sizeof(huge), 0);
	expect_bad(kind0, 1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
