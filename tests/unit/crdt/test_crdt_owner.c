/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner-bound keys (crdt_owner.c): the owned flag survives put, export/apply and bucket
 * export; expiry deletes exactly the live keys whose winning version the ended life owns,
 * with tombstones that replicate and win; a later write by another replica survives; an
 * owned op of an ended life that arrives late becomes a tombstone (and converts the
 * stores that still hold the value); the set of ended lives is bounded (FIFO) and
 * revivable; and a randomized run of three stores converges with no live key of the
 * ended life anywhere. MESH_SEED=<n> replays the randomized tests.
 */
#include "crdt_test_util.h"

#define RA 0xA1 /* the owner whose life ends */
#define RB 0xB2
#define RC 0xC3

static int
put_o(struct mesh_crdt_store *s, const char *k, const char *v, bool owned)
{
	return mesh_crdt_put_owned(s, k, strlen(k), v, strlen(v), 0, 0, owned);
}

static bool
owned_by(struct mesh_crdt_store *s, const char *k, uint64_t *owner)
{
	return mesh_crdt_owner_of(s, k, strlen(k), owner);
}

static bool
live(struct mesh_crdt_store *s, const char *k)
{
	char buf[64];

	return get_s(s, k, buf, sizeof(buf)) != NULL;
}

static void
test_owned_travels(void **state)
{
	struct mesh_crdt_store *a = store_new(RA), *b = store_new(RB), *c = store_new(RC);
	struct mesh_crdt_op ops[8];
	uint64_t who = 0;
	int n;

	(void)state;
	assert_int_equal(put_o(a, "worker:owned", "1", true), 0);
	assert_int_equal(put_o(a, "worker:plain", "2", false), 0);
	assert_true(owned_by(a, "worker:owned", &who));
	assert_int_equal(who, RA);
	assert_false(owned_by(a, "worker:plain", NULL));
	/* export carries the flag */
	assert_int_equal(mesh_crdt_peer_add(a, RB), 0);
	n = mesh_crdt_export(a, RB, ops, 8, SIZE_MAX);
	assert_int_equal(n, 2);
	assert_true(ops[0].owned);
	assert_false(ops[1].owned);
	for (int i = 0; i < n; i++)
		assert_int_equal(mesh_crdt_apply(b, &ops[i], 0, NULL), 0);
	who = 0;
	assert_true(owned_by(b, "worker:owned", &who));
	assert_int_equal(who, RA);
	assert_false(owned_by(b, "worker:plain", NULL));
	/* anti-entropy (bucket export) carries it too */
	assert_true(anti_entropy(b, c, 0, NULL) > 0);
	assert_true(owned_by(c, "worker:owned", NULL));
	assert_false(owned_by(c, "worker:plain", NULL));
	/* a plain overwrite clears it, an owned one by another replica moves it */
	assert_int_equal(put_o(b, "worker:owned", "3", false), 0);
	assert_false(owned_by(b, "worker:owned", NULL));
	assert_int_equal(put_o(b, "worker:plain", "4", true), 0);
	assert_true(owned_by(b, "worker:plain", &who));
	assert_int_equal(who, RB);
	/* epoch_max keys cannot be owned (they are never deleted) */
	{
		uint8_t v[MESH_CRDT_EPOCH_LEN];
		struct mesh_crdt_op op = { .key = "rl:x", .key_len = 4, .value = v,
					   .value_len = sizeof(v), .ts = 9, .replica = RA,
					   .owned = true };

		mesh_crdt_epoch_encode(1, 1, v);
		assert_int_equal(mesh_crdt_put_owned(a, "rl:x", 4, v, sizeof(v), 0, 0, true),
				 -EOPNOTSUPP);
		assert_int_equal(mesh_crdt_apply(b, &op, 0, NULL), -EINVAL);
		assert_int_equal(mesh_crdt_put_owned(a, "rl:x", 4, v, sizeof(v), 0, 0, false), 0);
	}
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
}

static void
test_expire(void **state)
{
	struct mesh_crdt_store *a = store_new(RA), *b = store_new(RB), *c = store_new(RC);
	struct mesh_crdt_version ver;

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(a, RB), 0);
	assert_int_equal(mesh_crdt_peer_add(c, RB), 0);
	assert_int_equal(mesh_crdt_peer_add(b, RA), 0);
	assert_int_equal(put_o(a, "worker:1", "a1", true), 0);
	assert_int_equal(put_o(a, "worker:2", "a2", true), 0);
	assert_int_equal(put_o(a, "worker:3", "a3", false), 0);
	assert_int_equal(put_o(a, "config:4", "a4", true), 0);
	assert_int_equal(put_o(a, "worker:gone", "x", true), 0);
	assert_int_equal(del_s(a, "worker:gone", 0), 0); /* a tombstone is never owned */
	assert_int_equal(put_o(c, "worker:5", "c5", true), 0); /* owned by another life */
	assert_int_equal(export_all(a, RB, b, 0, true), 5);
	assert_int_equal(export_all(c, RB, b, 0, true), 1);

	assert_int_equal(mesh_crdt_owner_expire(b, RA, 1), 3);
	assert_false(live(b, "worker:1"));
	assert_false(live(b, "worker:2"));
	assert_false(live(b, "config:4"));
	assert_true(live(b, "worker:3"));
	assert_true(live(b, "worker:5"));
	assert_true(mesh_crdt_owner_is_expired(b, RA));
	assert_false(mesh_crdt_owner_is_expired(b, RC));
	assert_int_equal(mesh_crdt_store_counter(b, MESH_CTR_crdt_owner_expired), 3);
	/* the delete is a fresh local version above the owned one */
	assert_int_equal(mesh_crdt_get(b, "worker:1", 8, NULL, NULL, &ver), -ENOENT);
	assert_int_equal(ver.replica, RB);
	assert_true(ver.ts > 5);
	/* idempotent */
	assert_int_equal(mesh_crdt_owner_expire(b, RA, 2), 0);
	assert_int_equal(mesh_crdt_owner_expire(b, 0, 2), 0);
	/* the tombstones replicate and win where the owned values still live (C got them
	 * from A before A's end) */
	assert_int_equal(mesh_crdt_peer_add(a, RC), 0);
	assert_int_equal(mesh_crdt_peer_add(b, RC), 0);
	export_all(a, RC, c, 0, true);
	assert_true(live(c, "worker:1"));
	assert_int_equal(export_all(b, RC, c, 3, true), 6); /* every key B holds */
	assert_false(live(c, "worker:1"));
	assert_false(live(c, "worker:2"));
	assert_false(live(c, "config:4"));
	assert_true(live(c, "worker:3"));
	assert_true(live(c, "worker:5"));
	assert_int_equal(mesh_crdt_store_counter(c, MESH_CTR_crdt_owner_reasserted), 0);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
}

/*
 * A false death: B ends A's life while A runs. A refutes each expiry tombstone by writing
 * its value again; B turns those writes into tombstones while it counts A as ended, and
 * takes them once it revives A. A client's delete of an owned key is never refuted.
 */
static void
test_refute(void **state)
{
	struct mesh_crdt_store *a = store_new(RA), *b = store_new(RB);
	struct mesh_crdt_version va, vb;
	uint64_t who = 0;
	char buf[16];

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(a, RB), 0);
	assert_int_equal(mesh_crdt_peer_add(b, RA), 0);
	assert_int_equal(put_o(a, "worker:1", "a1", true), 0);
	assert_int_equal(put_o(a, "worker:2", "a2", true), 0);
	export_all(a, RB, b, 0, true);
	assert_int_equal(del_s(b, "worker:2", 0), 0); /* a client's delete */
	assert_int_equal(mesh_crdt_owner_expire(b, RA, 1), 1);
	assert_false(live(b, "worker:1"));
	export_all(b, RA, a, 2, true);
	assert_string_equal(get_s(a, "worker:1", buf, sizeof(buf)), "a1");
	assert_true(owned_by(a, "worker:1", &who));
	assert_int_equal(who, RA);
	assert_false(live(a, "worker:2"));
	assert_int_equal(mesh_crdt_store_counter(a, MESH_CTR_crdt_owner_reasserted), 1);
	assert_int_equal(mesh_crdt_get(a, "worker:1", 8, NULL, NULL, &va), 0);
	assert_int_equal(mesh_crdt_get(b, "worker:1", 8, NULL, NULL, &vb), -ENOENT);
	assert_true(va.ts > vb.ts);
	/* B still counts A as ended: the new write lands as an expiry tombstone again */
	export_all(a, RB, b, 3, true);
	assert_false(live(b, "worker:1"));
	export_all(b, RA, a, 4, true);
	assert_true(live(a, "worker:1"));
	assert_int_equal(mesh_crdt_store_counter(a, MESH_CTR_crdt_owner_reasserted), 2);
	/* once B revives A, A's write is kept and both agree */
	assert_true(mesh_crdt_owner_revive(b, RA));
	export_all(a, RB, b, 5, true);
	assert_string_equal(get_s(b, "worker:1", buf, sizeof(buf)), "a1");
	assert_true(owned_by(b, "worker:1", NULL));
	assert_int_equal(export_all(b, RA, a, 6, true), 1);
	assert_int_equal(mesh_crdt_store_counter(a, MESH_CTR_crdt_owner_reasserted), 2);
	assert_int_equal(anti_entropy(a, b, 6, NULL), 0);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
}

static void
test_later_write_survives(void **state)
{
	struct mesh_crdt_store *a = store_new(RA), *b = store_new(RB), *c = store_new(RC);
	char buf[16];

	(void)state;
	assert_int_equal(mesh_crdt_peer_add(a, RB), 0);
	assert_int_equal(mesh_crdt_peer_add(a, RC), 0);
	assert_int_equal(mesh_crdt_peer_add(c, RB), 0);
	assert_int_equal(put_o(a, "worker:k", "owned", true), 0);
	assert_int_equal(put_o(a, "worker:j", "owned", true), 0);
	export_all(a, RC, c, 0, true);
	/* C replaces both later, one plainly, one owned by itself */
	assert_int_equal(put_o(c, "worker:k", "by-c", false), 0);
	assert_int_equal(put_o(c, "worker:j", "by-c-owned", true), 0);
	export_all(a, RB, b, 0, true);
	export_all(c, RB, b, 0, true);
	assert_int_equal(mesh_crdt_owner_expire(b, RA, 1), 0);
	assert_string_equal(get_s(b, "worker:k", buf, sizeof(buf)), "by-c");
	assert_string_equal(get_s(b, "worker:j", buf, sizeof(buf)), "by-c-owned");

	/* concurrent: B expires A while C, with a clock far ahead, rewrites the key: LWW
	 * decides the same everywhere, here for C's write (A's life is alive again first, or
	 * B would tombstone A's new owned write on arrival) */
	assert_true(mesh_crdt_owner_revive(b, RA));
	assert_int_equal(put_o(a, "worker:m", "owned", true), 0);
	export_all(a, RB, b, 0, true);
	export_all(a, RC, c, 0, true);
	mesh_crdt_store_set_wall(c, 3600ULL * SEC);
	assert_int_equal(put_o(c, "worker:m", "later", false), 0);
	mesh_crdt_store_set_wall(b, 3599ULL * SEC); /* B's delete: earlier than C's write */
	assert_int_equal(mesh_crdt_owner_expire(b, RA, 2), 1);
	assert_false(live(b, "worker:m"));
	assert_int_equal(mesh_crdt_peer_add(b, RC), 0);
	export_all(c, RB, b, 3, true);
	export_all(b, RC, c, 3, true);
	assert_string_equal(get_s(b, "worker:m", buf, sizeof(buf)), "later");
	assert_string_equal(get_s(c, "worker:m", buf, sizeof(buf)), "later");
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(c);
}

static void
test_late_owned_op(void **state)
{
	struct mesh_crdt_store *b = store_new(RB), *d = store_new(0xD4);
	struct mesh_crdt_op op = op_s("worker:late", "v", 50, RA, false);
	struct mesh_crdt_op plain = op_s("worker:plain", "p", 51, RA, false);
	struct mesh_crdt_version ver;
	bool changed;

	(void)state;
	op.owned = true;
	/* D still holds the owned value (it never saw the life end) */
	assert_int_equal(mesh_crdt_apply(d, &op, 0, &changed), 0);
	assert_true(changed);
	assert_int_equal(mesh_crdt_owner_expire(b, RA, 1), 0);
	/* the late owned op lands as a tombstone at its own version */
	assert_int_equal(mesh_crdt_apply(b, &op, 2, &changed), 0);
	assert_true(changed);
	assert_int_equal(mesh_crdt_get(b, "worker:late", 11, NULL, NULL, &ver), -ENOENT);
	assert_int_equal(ver.ts, 50);
	assert_int_equal(ver.replica, RA);
	assert_int_equal(mesh_crdt_store_counter(b, MESH_CTR_crdt_owner_late_tombstoned), 1);
	/* the same op again is a duplicate of what B holds; its plain ops apply normally */
	assert_int_equal(mesh_crdt_apply(b, &op, 2, &changed), 0);
	assert_false(changed);
	assert_int_equal(mesh_crdt_apply_batch(b, &plain, 1, 2, NULL), 1);
	assert_true(live(b, "worker:plain"));
	/* through apply_batch too */
	{
		struct mesh_crdt_op ops[2] = { op_s("worker:l2", "v", 60, RA, false),
					       op_s("worker:l3", "v", 61, RC, false) };

		ops[0].owned = ops[1].owned = true;
		assert_int_equal(mesh_crdt_apply_batch(b, ops, 2, 3, NULL), 2);
		assert_false(live(b, "worker:l2"));
		assert_true(live(b, "worker:l3"));
	}
	/* B's tombstone converts D, which held the value at the same version */
	assert_int_equal(mesh_crdt_peer_add(b, 0xD4), 0);
	assert_true(live(d, "worker:late"));
	export_all(b, 0xD4, d, 4, true);
	assert_false(live(d, "worker:late"));
	/* revived: owned writes of that life count again (what was deleted stays deleted) */
	assert_true(mesh_crdt_owner_revive(b, RA));
	assert_false(mesh_crdt_owner_revive(b, RA));
	assert_false(mesh_crdt_owner_is_expired(b, RA));
	op = op_s("worker:new", "v", 70, RA, false);
	op.owned = true;
	assert_int_equal(mesh_crdt_apply(b, &op, 5, NULL), 0);
	assert_true(live(b, "worker:new"));
	assert_false(live(b, "worker:late"));
	mesh_crdt_store_delete(b);
	mesh_crdt_store_delete(d);
}

static void
test_expired_set_bounded(void **state)
{
	const uint32_t max = MESH_CRDT_OWNER_EXPIRED_MAX;
	struct mesh_crdt_store *b = store_new(RB);
	static bool model[8192];
	struct mesh_rng rng;
	uint64_t order[8192];
	uint32_t n_order = 0;

	(void)state;
	for (uint64_t r = 1; r <= max + 5; r++)
		mesh_crdt_owner_expire(b, r, 0);
	for (uint64_t r = 1; r <= 5; r++)
		assert_false(mesh_crdt_owner_is_expired(b, r));
	for (uint64_t r = 6; r <= max + 5; r++)
		assert_true(mesh_crdt_owner_is_expired(b, r));
	assert_int_equal(mesh_crdt_store_counter(b, MESH_CTR_crdt_owner_set_evicted), 5);
	/* a revived life leaves a gap; the FIFO order of the others holds */
	assert_true(mesh_crdt_owner_revive(b, 100));
	mesh_crdt_owner_expire(b, 5000, 0); /* fills the gap */
	mesh_crdt_owner_expire(b, 5001, 0); /* evicts 6, the oldest */
	assert_false(mesh_crdt_owner_is_expired(b, 6));
	assert_true(mesh_crdt_owner_is_expired(b, 7));
	assert_false(mesh_crdt_owner_is_expired(b, 100));
	assert_true(mesh_crdt_owner_is_expired(b, 5001));
	mesh_crdt_store_delete(b);

	/* randomized against a model: expire/revive over a small id range (collisions,
	 * backward-shift deletion, wrap-around of the ring) */
	b = store_new(RB);
	mesh_rng_seed(&rng, test_seed("owner_set"));
	for (int it = 0; it < 200000; it++) {
		uint64_t r = 1 + mesh_rng_below(&rng, 3000);

		if (mesh_rng_below(&rng, 3) != 0) {
			mesh_crdt_owner_expire(b, r, 0);
			if (!model[r]) {
				model[r] = true;
				order[n_order++] = r;
				if (n_order > max) {
					model[order[0]] = false;
					memmove(order, order + 1, --n_order * sizeof(order[0]));
				}
			}
		} else {
			bool was = model[r];

			assert_int_equal(mesh_crdt_owner_revive(b, r), was);
			if (was) {
				uint32_t i = 0;

				while (order[i] != r)
					i++;
				memmove(order + i, order + i + 1, (n_order - i - 1) * sizeof(order[0]));
				n_order--;
				model[r] = false;
			}
		}
		if (it % 1000 == 0)
			for (uint64_t q = 1; q <= 3000; q++)
				assert_int_equal(mesh_crdt_owner_is_expired(b, q), model[q]);
	}
	mesh_crdt_store_delete(b);
}

/*
 * Three stores write plain and owned keys (replica of store 0 = the life that ends), swap
 * changes in random order, and at random moments the survivors (stores 1, 2) expire store
 * 0's life while it still runs (a false death: store 0 refutes, keeps writing). Then store
 * 0 stops for good, the survivors end its life, and after a full exchange and an
 * anti-entropy pass they are equal and no key owned by the ended life is live.
 */
static int
check_not_ra(void *ctx, const void *key, uint32_t key_len, const void *value,
	     uint32_t value_len)
{
	struct mesh_crdt_store *s = ctx;
	uint64_t who = 0;

	(void)value;
	(void)value_len;
	if (mesh_crdt_owner_of(s, key, key_len, &who))
		assert_int_not_equal(who, RA);
	return 0;
}

static void
test_random_converge(void **state)
{
	static const uint64_t rid[3] = { RA, RB, RC };
	struct mesh_rng rng;

	(void)state;
	mesh_rng_seed(&rng, test_seed("owner_converge"));
	for (int round = 0; round < 40; round++) {
		struct mesh_crdt_store *s[3];
		struct mesh_crdt_digest d0, d;
		bool expired[3] = { false, false, false };

		for (int i = 0; i < 3; i++) {
			s[i] = store_new(rid[i]);
			for (int j = 0; j < 3; j++)
				if (j != i)
					assert_int_equal(mesh_crdt_peer_add(s[i], rid[j]), 0);
		}
		for (int step = 0; step < 400; step++) {
			int i = (int)mesh_rng_below(&rng, 3), j = (int)mesh_rng_below(&rng, 3);
			char k[32], v[32];

			snprintf(k, sizeof(k), "worker:%u", (unsigned)mesh_rng_below(&rng, 40));
			snprintf(v, sizeof(v), "%d.%d", i, step);
			switch (mesh_rng_below(&rng, 8)) {
			case 0:
			case 1:
			case 2:
				assert_int_equal(put_o(s[i], k, v, mesh_rng_below(&rng, 2)), 0);
				break;
			case 3:
				(void)del_s(s[i], k, 0);
				break;
			case 4:
				if (i != 0 && mesh_rng_below(&rng, 10) == 0) {
					mesh_crdt_owner_expire(s[i], RA, 0);
					expired[i] = true;
				}
				break;
			default:
				if (i != j)
					export_all(s[i], rid[j], s[j], 0, mesh_rng_below(&rng, 2));
				break;
			}
		}
		/* store 0's life ends for good: what it sent last reaches one survivor, then
		 * both survivors end its life (again) and exchange everything */
		export_all(s[0], rid[1], s[1], 0, true);
		for (int i = 1; i < 3; i++)
			if (!expired[i] || mesh_rng_below(&rng, 2))
				mesh_crdt_owner_expire(s[i], RA, 0);
		if (mesh_rng_below(&rng, 2))
			export_all(s[0], rid[2], s[2], 0, true); /* late: after the expiry */
		for (int pass = 0; pass < 3; pass++) {
			export_all(s[1], rid[2], s[2], 0, true);
			export_all(s[2], rid[1], s[1], 0, true);
		}
		assert_int_equal(anti_entropy(s[1], s[2], 0, NULL), 0);
		mesh_crdt_digest_get(s[1], &d0);
		mesh_crdt_digest_get(s[2], &d);
		assert_memory_equal(&d, &d0, sizeof(d));
		for (int i = 1; i < 3; i++)
			mesh_crdt_foreach(s[i], "", 0, check_not_ra, s[i]);
		assert_int_equal(mesh_crdt_foreach(s[1], "", 0, NULL, NULL),
				 mesh_crdt_foreach(s[2], "", 0, NULL, NULL));
		for (int i = 0; i < 3; i++)
			mesh_crdt_store_delete(s[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owned_travels),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_refute),
		cmocka_unit_test(test_later_write_survives),
		cmocka_unit_test(test_late_owned_op),
		cmocka_unit_test(test_expired_set_bounded),
		cmocka_unit_test(test_random_converge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
