/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame security: AEAD round trip, every forged/tampered/replayed/misaddressed frame
 * refused with its own error, keyring rotation without downtime, node-key identity
 * binding, the replay window, and the error -> counter mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mesh_common.h"
#include "mesh_wire.h"

#define CLUSTER 0xC1u
#define NODE_A 0xA0A0A0A0A0A0A0A0ULL
#define NODE_B 0xB0B0B0B0B0B0B0B0ULL
#define NODE_C 0xC0C0C0C0C0C0C0C0ULL

static void
key_bytes(uint8_t k[MESH_WIRE_KEY_LEN], uint8_t fill)
{
	for (unsigned i = 0; i < MESH_WIRE_KEY_LEN; i++)
		k[i] = (uint8_t)(fill + i);
}

static void
ring_with(struct mesh_wire_keyring *kr, uint8_t id)
{
	uint8_t k[MESH_WIRE_KEY_LEN];

	key_bytes(k, id);
	mesh_wire_keyring_init(kr);
	assert_int_equal(mesh_wire_keyring_add(kr, id, k), 0);
}

static size_t
seal(const struct mesh_wire_sec *sec, uint8_t *buf, size_t cap, uint64_t seq, const char *pl)
{
	struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS, .seq = seq };

	h.length = (uint16_t)strlen(pl);
	memcpy(mesh_wire_frame_payload(buf), pl, h.length);
	return mesh_wire_frame_seal(sec, buf, cap, &h);
}

static void
test_aead_round_trip(void **state)
{
	struct mesh_wire_keyring kr;
	struct mesh_wire_sec a, b;
	struct mesh_wire_hdr h;
	uint8_t buf[256];
	size_t n;

	(void)state;
	ring_with(&kr, 7);
	/* keyring init ran sodium_init(), so libsodium uses its SIMD code (1 = already done) */
	assert_int_equal(sodium_init(), 1);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &kr };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &kr };
	n = seal(&a, buf, sizeof(buf), 9, "secret payload");
	assert_int_equal(n, MESH_WIRE_HDR_LEN + 14 + MESH_WIRE_TAG_LEN);
	assert_int_equal(buf[MESH_WIRE_OFF_FLAGS], MESH_WIRE_F_AEAD);
	assert_int_equal(buf[MESH_WIRE_OFF_KEY_ID], 7);
	assert_memory_not_equal(mesh_wire_frame_payload(buf), "secret payload", 14);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	assert_memory_equal(mesh_wire_frame_payload(buf), "secret payload", 14);
	assert_int_equal(h.sender_id, NODE_A);
	assert_int_equal(h.seq, 9);
	assert_int_equal(h.key_id, 7);
	/* empty payload still authenticates the header */
	n = seal(&a, buf, sizeof(buf), 10, "");
	assert_int_equal(n, MESH_WIRE_HDR_LEN + MESH_WIRE_TAG_LEN);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	/* seq 0 and short buffers are refused on seal */
	assert_int_equal(seal(&a, buf, sizeof(buf), 0, "x"), 0);
	assert_int_equal(seal(&a, buf, MESH_WIRE_HDR_LEN + 1 + MESH_WIRE_TAG_LEN - 1, 1, "x"), 0);
	assert_int_equal(mesh_wire_payload_max(&a, 1472), 1472 - 32 - 16);
	a.keyring = NULL;
	assert_int_equal(mesh_wire_payload_max(&a, 1472), 1472 - 32 - 8);
	assert_int_equal(mesh_wire_payload_max(&a, 10), 0);
	mesh_wire_keyring_fini(&kr);
}

static void
test_aead_tamper(void **state)
{
	struct mesh_wire_keyring kr;
	struct mesh_wire_sec a, b;
	struct mesh_wire_hdr h;
	uint8_t buf[256], orig[256];
	size_t n;

	(void)state;
	ring_with(&kr, 1);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &kr };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &kr };
	n = seal(&a, orig, sizeof(orig), 5, "tamper with me");
	/* every single-bit flip anywhere is refused */
	for (size_t off = 0; off < n; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, orig, n);
			buf[off] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
		}
	}
	/* payload and tag flips are bad_auth specifically */
	memcpy(buf, orig, n);
	buf[MESH_WIRE_HDR_LEN + 3] ^= 1;
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_AUTH);
	memcpy(buf, orig, n);
	buf[n - 1] ^= 1;
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_AUTH);
	/* sequence rewritten (nonce changes) */
	memcpy(buf, orig, n);
	buf[MESH_WIRE_OFF_SEQ + 7] ^= 2;
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_AUTH);
	/* truncated / extended */
	assert_int_equal(mesh_wire_frame_open(&b, orig, n - 1, &h), MESH_WIRE_ERR_LENGTH);
	mesh_wire_keyring_fini(&kr);
}

static void
write_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void
test_identity_binding(void **state)
{
	struct mesh_wire_keyring kr;
	struct mesh_wire_sec a, b;
	struct mesh_wire_hdr h;
	uint8_t buf[256], ka[MESH_WIRE_KEY_LEN], kc[MESH_WIRE_KEY_LEN], k2[MESH_WIRE_KEY_LEN];
	size_t n;

	(void)state;
	ring_with(&kr, 1);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &kr };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &kr };
	/* A's frame re-labelled as coming from C: the tag was made with A's node key */
	n = seal(&a, buf, sizeof(buf), 77, "i am C, honest");
	write_u64(buf + MESH_WIRE_OFF_SENDER, NODE_C);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_AUTH);
	/* a frame claiming to come from the receiver itself (reflection) */
	n = seal(&a, buf, sizeof(buf), 78, "reflect");
	write_u64(buf + MESH_WIRE_OFF_SENDER, NODE_B);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_SENDER);
	write_u64(buf + MESH_WIRE_OFF_SENDER, 0);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_SENDER);
	/* node keys differ per sender and per key id */
	mesh_wire_node_key(&kr.keys[0], NODE_A, ka);
	mesh_wire_node_key(&kr.keys[0], NODE_C, kc);
	assert_memory_not_equal(ka, kc, sizeof(ka));
	assert_memory_not_equal(ka, kr.keys[0].key, sizeof(ka));
	{
		struct mesh_wire_key other = kr.keys[0];

		other.id = 2;
		mesh_wire_node_key(&other, NODE_A, k2);
		assert_memory_not_equal(ka, k2, sizeof(ka));
	}
	mesh_wire_keyring_fini(&kr);
}

static void
test_key_errors(void **state)
{
	struct mesh_wire_keyring kr, other;
	struct mesh_wire_sec a, b, plain_a, plain_b;
	struct mesh_wire_hdr h;
	uint8_t buf[256];
	size_t n;

	(void)state;
	ring_with(&kr, 1);
	ring_with(&other, 2);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &kr };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &other };
	plain_a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A };
	plain_b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B };

	n = seal(&a, buf, sizeof(buf), 1, "k1");
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_UNKNOWN_KEY);
	n = seal(&a, buf, sizeof(buf), 2, "k1");
	assert_int_equal(mesh_wire_frame_open(&plain_b, buf, n, &h), MESH_WIRE_ERR_NO_KEY);
	/* a keyed node refuses plaintext unless migrating */
	n = seal(&plain_a, buf, sizeof(buf), 3, "plain");
	assert_int_equal(buf[MESH_WIRE_OFF_FLAGS], 0);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_PLAINTEXT);
	other.accept_plaintext = true;
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	assert_int_equal(mesh_wire_frame_open(&plain_b, buf, n, &h), MESH_WIRE_OK);
	/* another cluster */
	plain_b.cluster_id = CLUSTER + 1;
	assert_int_equal(mesh_wire_frame_open(&plain_b, buf, n, &h), MESH_WIRE_ERR_CLUSTER);
	b.cluster_id = CLUSTER + 1;
	n = seal(&a, buf, sizeof(buf), 4, "k1");
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_ERR_CLUSTER);
	mesh_wire_keyring_fini(&kr);
	mesh_wire_keyring_fini(&other);
}

static void
test_keyring_rotation(void **state)
{
	struct mesh_wire_keyring ka, kb;
	struct mesh_wire_sec a, b;
	struct mesh_wire_hdr h;
	uint8_t buf[256], k[MESH_WIRE_KEY_LEN];
	size_t n;

	(void)state;
	ring_with(&ka, 1);
	ring_with(&kb, 1);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &ka };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &kb };
	key_bytes(k, 2);
	/* step 1: everyone accepts key 2 */
	assert_int_equal(mesh_wire_keyring_add(&ka, 2, k), 0);
	assert_int_equal(mesh_wire_keyring_add(&kb, 2, k), 0);
	assert_int_equal(mesh_wire_keyring_add(&kb, 2, k), -EEXIST);
	n = seal(&a, buf, sizeof(buf), 1, "old key");
	assert_int_equal(buf[MESH_WIRE_OFF_KEY_ID], 1);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	/* step 2: A seals with key 2 while B still seals with key 1: both directions work */
	assert_int_equal(mesh_wire_keyring_set_primary(&ka, 2), 0);
	assert_int_equal(mesh_wire_keyring_set_primary(&ka, 9), -ENOENT);
	n = seal(&a, buf, sizeof(buf), 2, "new key");
	assert_int_equal(buf[MESH_WIRE_OFF_KEY_ID], 2);
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	n = seal(&b, buf, sizeof(buf), 1, "b old key");
	assert_int_equal(mesh_wire_frame_open(&a, buf, n, &h), MESH_WIRE_OK);
	/* step 3: retire key 1 */
	assert_int_equal(mesh_wire_keyring_remove(&kb, 1), -EBUSY);
	assert_int_equal(mesh_wire_keyring_set_primary(&kb, 2), 0);
	assert_int_equal(mesh_wire_keyring_remove(&kb, 1), 0);
	assert_int_equal(mesh_wire_keyring_remove(&kb, 1), -ENOENT);
	assert_int_equal(mesh_wire_keyring_remove(&ka, 1), 0);
	n = seal(&a, buf, sizeof(buf), 3, "only key 2");
	assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
	/* a straggler still on key 1 is now refused as unknown_key */
	{
		struct mesh_wire_keyring old;
		struct mesh_wire_sec c;

		ring_with(&old, 1);
		c = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_C,
					    .keyring = &old };
		n = seal(&c, buf, sizeof(buf), 1, "stale");
		assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h),
				 MESH_WIRE_ERR_UNKNOWN_KEY);
	}
	/* capacity */
	for (unsigned i = 10; kb.n_keys < MESH_WIRE_KEYRING_MAX; i++)
		assert_int_equal(mesh_wire_keyring_add(&kb, (uint8_t)i, k), 0);
	assert_int_equal(mesh_wire_keyring_add(&kb, 200, k), -ENOSPC);
	assert_non_null(mesh_wire_keyring_find(&kb, 2));
	assert_null(mesh_wire_keyring_find(&kb, 1));
	mesh_wire_keyring_fini(&ka);
	mesh_wire_keyring_fini(&kb);
}

static void
test_replay_window(void **state)
{
	struct mesh_wire_replay w = { 0 };

	(void)state;
	assert_int_equal(mesh_wire_replay_check(&w, 0), MESH_WIRE_ERR_STALE);
	assert_int_equal(mesh_wire_replay_check(&w, 1), MESH_WIRE_OK);
	mesh_wire_replay_commit(&w, 1);
	assert_int_equal(mesh_wire_replay_check(&w, 1), MESH_WIRE_ERR_REPLAY);
	/* out of order inside the window */
	mesh_wire_replay_commit(&w, 5);
	assert_int_equal(mesh_wire_replay_check(&w, 3), MESH_WIRE_OK);
	mesh_wire_replay_commit(&w, 3);
	assert_int_equal(mesh_wire_replay_check(&w, 3), MESH_WIRE_ERR_REPLAY);
	assert_int_equal(mesh_wire_replay_check(&w, 4), MESH_WIRE_OK);
	assert_int_equal(mesh_wire_replay_check(&w, 5), MESH_WIRE_ERR_REPLAY);
	/* slide by exactly 64 and by 100: old bits move across the word boundary */
	mesh_wire_replay_commit(&w, 69);
	assert_int_equal(mesh_wire_replay_check(&w, 5), MESH_WIRE_ERR_REPLAY);
	assert_int_equal(mesh_wire_replay_check(&w, 4), MESH_WIRE_OK);
	mesh_wire_replay_commit(&w, 105);
	assert_int_equal(mesh_wire_replay_check(&w, 5), MESH_WIRE_ERR_REPLAY);
	assert_int_equal(mesh_wire_replay_check(&w, 69), MESH_WIRE_ERR_REPLAY);
	assert_int_equal(mesh_wire_replay_check(&w, 3), MESH_WIRE_ERR_REPLAY);
	assert_int_equal(mesh_wire_replay_check(&w, 2), MESH_WIRE_OK);
	/* beyond the window */
	mesh_wire_replay_commit(&w, 2 + MESH_WIRE_REPLAY_SPAN);
	assert_int_equal(mesh_wire_replay_check(&w, 2), MESH_WIRE_ERR_STALE);
	assert_int_equal(mesh_wire_replay_check(&w, 3), MESH_WIRE_ERR_REPLAY);
	mesh_wire_replay_commit(&w, 100000);
	assert_int_equal(mesh_wire_replay_check(&w, 2 + MESH_WIRE_REPLAY_SPAN),
			 MESH_WIRE_ERR_STALE);
	assert_int_equal(mesh_wire_replay_check(&w, 100000 - MESH_WIRE_REPLAY_SPAN + 1),
			 MESH_WIRE_OK);
	assert_int_equal(mesh_wire_replay_check(&w, 100000 - MESH_WIRE_REPLAY_SPAN),
			 MESH_WIRE_ERR_STALE);
	/* a burst of 900 delivered in reverse order is accepted once each */
	{
		struct mesh_wire_replay y = { 0 };

		for (uint64_t q = 900; q >= 1; q--) {
			assert_int_equal(mesh_wire_replay_check(&y, q), MESH_WIRE_OK);
			mesh_wire_replay_commit(&y, q);
		}
		for (uint64_t q = 1; q <= 900; q++)
			assert_int_equal(mesh_wire_replay_check(&y, q), MESH_WIRE_ERR_REPLAY);
	}
	/* randomized against a reference set */
	{
		struct mesh_rng r;
		static uint8_t seen[20001];
		struct mesh_wire_replay x = { 0 };
		uint64_t top = 0;

		memset(seen, 0, sizeof(seen));
		mesh_rng_seed(&r, 42);
		for (int i = 0; i < 20000; i++) {
			uint64_t s = 1 + mesh_rng_below(&r, 20000);
			enum mesh_wire_err want;

			if (s > top)
				want = MESH_WIRE_OK;
			else if (top - s >= MESH_WIRE_REPLAY_SPAN)
				want = MESH_WIRE_ERR_STALE;
			else
				want = seen[s] ? MESH_WIRE_ERR_REPLAY : MESH_WIRE_OK;
			assert_int_equal(mesh_wire_replay_check(&x, s), want);
			if (want == MESH_WIRE_OK && mesh_rng_below(&r, 2)) {
				mesh_wire_replay_commit(&x, s);
				seen[s] = 1;
				top = s > top ? s : top;
			}
		}
	}
}

static void
test_replay_end_to_end(void **state)
{
	struct mesh_wire_keyring kr;
	struct mesh_wire_sec a, b;
	struct mesh_wire_replay w = { 0 };
	struct mesh_wire_hdr h;
	uint8_t frame[128], buf[128];
	size_t n;

	(void)state;
	ring_with(&kr, 3);
	a = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_A, .keyring = &kr };
	b = (struct mesh_wire_sec){ .cluster_id = CLUSTER, .self_id = NODE_B, .keyring = &kr };
	n = seal(&a, frame, sizeof(frame), 11, "once");
	for (int i = 0; i < 2; i++) {
		memcpy(buf, frame, n);
		assert_int_equal(mesh_wire_frame_open(&b, buf, n, &h), MESH_WIRE_OK);
		if (i == 0) {
			assert_int_equal(mesh_wire_replay_check(&w, h.seq), MESH_WIRE_OK);
			mesh_wire_replay_commit(&w, h.seq);
		} else {
			assert_int_equal(mesh_wire_replay_check(&w, h.seq), MESH_WIRE_ERR_REPLAY);
		}
	}
	mesh_wire_keyring_fini(&kr);
}

static void
test_counter_names(void **state)
{
	char want[64];

	(void)state;
	for (int e = MESH_WIRE_ERR_SHORT; e < MESH_WIRE_ERR_MAX; e++) {
		snprintf(want, sizeof(want), "wire_rx_drop_%s", mesh_wire_err_name(e));
		assert_string_equal(mesh_wire_counter_names[mesh_wire_err_counter(e)], want);
	}
	assert_string_equal(mesh_wire_counter_names[mesh_wire_err_counter(MESH_WIRE_OK)],
			    "wire_rx_frames_ok");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_round_trip),
		cmocka_unit_test(test_aead_tamper),
		cmocka_unit_test(test_identity_binding),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_keyring_rotation),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replay_end_to_end),
		cmocka_unit_test(test_counter_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
