/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame header encode/decode: the round trip, pinned byte offsets, and every malformed
 * case the decoder must refuse (short, magic, version, type, flags, length both ways,
 * checksum over header and payload, cluster, AEAD without a keyring, no space).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_common.h"
#include "mesh_wire.h"

#define CLUSTER 0xC1u

static size_t
make_frame(uint8_t *buf, size_t cap, uint8_t type, const char *payload)
{
	struct mesh_wire_hdr h = {
		.type = type,
		.length = (uint16_t)strlen(payload),
		.cluster_id = CLUSTER,
		.sender_id = 0x1122334455667788ULL,
		.seq = 42,
	};
	memcpy(mesh_wire_frame_payload(buf), payload, h.length);
	return mesh_wire_frame_seal_csum(buf, cap, &h);
}

static void
test_round_trip(void **state)
{
	uint8_t buf[256];
	struct mesh_wire_hdr h;
	size_t n;

	(void)state;
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "hello");
	assert_int_equal(n, MESH_WIRE_HDR_LEN + 5 + MESH_WIRE_CSUM_LEN);
	assert_int_equal(mesh_wire_frame_open_csum(buf, n, CLUSTER, &h), MESH_WIRE_OK);
	assert_int_equal(h.version, MESH_WIRE_VERSION);
	assert_int_equal(h.type, MESH_WIRE_TYPE_HELLO);
	assert_int_equal(h.length, 5);
	assert_int_equal(h.cluster_id, CLUSTER);
	assert_int_equal(h.sender_id, 0x1122334455667788ULL);
	assert_int_equal(h.seq, 42);
	assert_memory_equal(mesh_wire_frame_payload(buf), "hello", 5);
	/* cluster 0 = accept any cluster */
	assert_int_equal(mesh_wire_frame_open_csum(buf, n, 0, &h), MESH_WIRE_OK);
}

static void
test_pinned_offsets(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO_REPLY, "");
	assert_int_equal(n, MESH_WIRE_HDR_LEN + MESH_WIRE_CSUM_LEN);
	assert_int_equal(buf[0], 0x4D);
	assert_int_equal(buf[1], 0x53);
	assert_int_equal(buf[2], MESH_WIRE_VERSION);
	assert_int_equal(buf[3], MESH_WIRE_TYPE_HELLO_REPLY);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[6], 0);
	assert_int_equal(buf[7], 0);
	assert_int_equal(buf[11], CLUSTER);
	assert_int_equal(buf[16], 0x11);
	assert_int_equal(buf[23], 0x88);
	assert_int_equal(buf[31], 42);
}

static void
expect_err(uint8_t *buf, size_t n, enum mesh_wire_err want)
{
	struct mesh_wire_hdr h;

	assert_int_equal(mesh_wire_frame_open_csum(buf, n, CLUSTER, &h), want);
}

/* Re-seal after editing a header byte so the checksum is not what rejects it. */
static void
poke_and_reseal(uint8_t *buf, size_t n, size_t off, uint8_t val)
{
	buf[off] = val;
	uint64_t sum = mesh_hash64(buf, n - MESH_WIRE_CSUM_LEN);
	for (int i = 0; i < 8; i++)
		buf[n - 8 + i] = (uint8_t)(sum >> (56 - 8 * i));
}

static void
test_malformed(void **state)
{
	uint8_t buf[256];
	size_t n;

	(void)state;
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");

	expect_err(buf, 0, MESH_WIRE_ERR_SHORT);
	expect_err(buf, MESH_WIRE_HDR_LEN, MESH_WIRE_ERR_SHORT);
	expect_err(buf, MESH_WIRE_HDR_LEN + MESH_WIRE_CSUM_LEN - 1, MESH_WIRE_ERR_SHORT);
	expect_err(buf, n - 1, MESH_WIRE_ERR_LENGTH);  /* truncated */
	expect_err(buf, n + 1, MESH_WIRE_ERR_LENGTH);  /* trailing garbage */

	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	buf[0] = 'X';
	expect_err(buf, n, MESH_WIRE_ERR_MAGIC);

	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_VERSION, 2);
	expect_err(buf, n, MESH_WIRE_ERR_VERSION);

	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_TYPE, 0);
	expect_err(buf, n, MESH_WIRE_ERR_TYPE);
	poke_and_reseal(buf, n, MESH_WIRE_OFF_TYPE, MESH_WIRE_TYPE_MAX_KNOWN + 1);
	expect_err(buf, n, MESH_WIRE_ERR_TYPE);

	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_FLAGS, 0x80);
	expect_err(buf, n, MESH_WIRE_ERR_FLAGS);

	/* length field larger and smaller than the datagram */
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_LENGTH + 1, 8);
	expect_err(buf, n, MESH_WIRE_ERR_LENGTH);
	poke_and_reseal(buf, n, MESH_WIRE_OFF_LENGTH + 1, 6);
	expect_err(buf, n, MESH_WIRE_ERR_LENGTH);
	poke_and_reseal(buf, n, MESH_WIRE_OFF_LENGTH, 0xff);
	expect_err(buf, n, MESH_WIRE_ERR_LENGTH);

	/* one flipped bit anywhere in header, payload or trailer is caught */
	for (size_t off = 0; off < n; off++) {
		struct mesh_wire_hdr h;
		n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
		buf[off] ^= 0x10;
		assert_int_not_equal(mesh_wire_frame_open_csum(buf, n, CLUSTER, &h), MESH_WIRE_OK);
	}
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	buf[MESH_WIRE_HDR_LEN + 2] ^= 1;
	expect_err(buf, n, MESH_WIRE_ERR_CHECKSUM);

	/* another cluster's (valid) frame */
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_CLUSTER + 3, CLUSTER + 1);
	expect_err(buf, n, MESH_WIRE_ERR_CLUSTER);

	/* AEAD-flagged frame on the keyless path */
	n = make_frame(buf, sizeof(buf), MESH_WIRE_TYPE_HELLO, "payload01234567");
	poke_and_reseal(buf, n, MESH_WIRE_OFF_FLAGS, MESH_WIRE_F_AEAD);
	poke_and_reseal(buf, n, MESH_WIRE_OFF_LENGTH + 1, 7); /* 32+7+16 == 32+15+8 */
	expect_err(buf, n, MESH_WIRE_ERR_AUTH);
}

static void
test_seal_refuses(void **state)
{
	uint8_t buf[128];
	struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_HELLO, .length = 30 };

	(void)state;
	assert_int_equal(mesh_wire_frame_seal_csum(buf, 69, &h), 0); /* needs 70 */
	assert_int_equal(mesh_wire_frame_seal_csum(buf, 70, &h), 70);
	h.flags = MESH_WIRE_F_AEAD;
	assert_int_equal(mesh_wire_frame_seal_csum(buf, sizeof(buf), &h), 0);
}

static void
test_err_names_and_ids(void **state)
{
	(void)state;
	for (int e = 0; e < MESH_WIRE_ERR_MAX; e++)
		assert_string_not_equal(mesh_wire_err_name(e), "unknown");
	assert_string_equal(mesh_wire_err_name(MESH_WIRE_ERR_MAGIC), "bad_magic");
	assert_string_equal(mesh_wire_err_name(MESH_WIRE_ERR_MAX), "unknown");
	assert_int_not_equal(mesh_wire_node_id("a", 1), mesh_wire_node_id("a", 2));
	assert_int_equal(mesh_wire_node_id("a", 1), mesh_wire_node_id("a", 1));
	/* short names: XXH3 seeded with the generation collided here */
	assert_int_not_equal(mesh_wire_node_id("n20", 2), mesh_wire_node_id("n21", 1));
	assert_int_equal(mesh_wire_frame_size(10, 0), 50);
	assert_int_equal(mesh_wire_frame_size(10, MESH_WIRE_F_AEAD), 58);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* names n0 .. n499 (1..4 bytes) with generations 1..8 and 1 << 32: 4,500 distinct ids */
static void
test_node_id_distinct(void **state)
{
	enum { NAMES = 500, GENS = 9 };
	static uint64_t ids[NAMES * GENS];
	uint32_t k = 0;
	char name[16];

	(void)state;
	for (uint32_t i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		for (uint64_t g = 1; g < GENS; g++)
			ids[k++] = mesh_wire_node_id(name, g);
		ids[k++] = mesh_wire_node_id(name, UINT64_C(1) << 32);
	}
	qsort(ids, k, sizeof(ids[0]), cmp_u64);
	for (uint32_t i = 1; i < k; i++)
		assert_int_not_equal(ids[i - 1], ids[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_pinned_offsets),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_err_names_and_ids),
		cmocka_unit_test(test_node_id_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
