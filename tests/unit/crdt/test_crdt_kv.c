/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/crdt store basics: namespace configuration (duplicates, overlap, nesting, longest
 * prefix, unknown keys), LWW ordering and tie-breaks, clock rules, tombstones,
 * limits and error paths with their messages, table growth and deletion.
 */
#include "crdt_test_util.h"

static void
test_store_new_errors(void **state)
{
	struct mesh_crdt_config cfg = { 0 };

	(void)state;
	errno = 0;
	assert_null(mesh_crdt_store_new(&cfg));
	assert_int_equal(errno, EINVAL);
	assert_null(mesh_crdt_store_new(NULL));
	mesh_crdt_store_delete(NULL);
	assert_int_not_equal(mesh_crdt_replica_id_derive("n1", 2, 1), 0);
	assert_int_not_equal(mesh_crdt_replica_id_derive("n1", 2, 1),
			     mesh_crdt_replica_id_derive("n1", 2, 2));
}

static void
test_ns_config(void **state)
{
	struct mesh_crdt_config cfg = { .replica_id = 7 };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);
	struct mesh_crdt_ns_config c = { .prefix = "tree:", .kind = MESH_CRDT_NS_LWW };
	enum mesh_crdt_ns_kind kind;
	const char *prefix;
	int id;

	(void)state;
	assert_non_null(s);
	assert_int_equal(mesh_crdt_ns_add_defaults(s), 0);
	/* defaults as DESIGN.md section 1 */
	assert_int_equal(mesh_crdt_ns_info(s, mesh_crdt_ns_find(s, "worker:a", 8), &kind, &prefix), 0);
	assert_int_equal(kind, MESH_CRDT_NS_LWW);
	assert_string_equal(prefix, "worker:");
	mesh_crdt_ns_info(s, mesh_crdt_ns_find(s, "rl:x", 4), &kind, NULL);
	assert_int_equal(kind, MESH_CRDT_NS_EPOCH_MAX);
	mesh_crdt_ns_info(s, mesh_crdt_ns_find(s, "td:x", 4), &kind, NULL);
	assert_int_equal(kind, MESH_CRDT_NS_BROADCAST);
	mesh_crdt_ns_info(s, mesh_crdt_ns_find(s, "tree:page:1", 11), &kind, NULL);
	assert_int_equal(kind, MESH_CRDT_NS_TARGETED);
	assert_int_equal(mesh_crdt_ns_info(s, 99, &kind, NULL), -EINVAL);

	/* duplicate: same prefix again, any kind */
	c.prefix = "worker:";
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EEXIST);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "'worker:' is already configured"));
	c.kind = MESH_CRDT_NS_BROADCAST;
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EEXIST);
	/* overlap both ways */
	c.prefix = "tree:";
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EBUSY);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "overlaps"));
	c.prefix = "worker:gpu:";
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EBUSY);
	/* nested sub-namespace: allowed and resolved by longest prefix */
	c.nested = true;
	c.kind = MESH_CRDT_NS_EPOCH_MAX;
	id = mesh_crdt_ns_add(s, &c);
	assert_true(id >= 0);
	assert_int_equal(mesh_crdt_ns_find(s, "worker:gpu:1", 12), id);
	assert_int_not_equal(mesh_crdt_ns_find(s, "worker:cpu:1", 12), id);
	assert_true(mesh_crdt_ns_find(s, "worker:cpu:1", 12) >= 0);
	/* resolution order must not matter (last-namespace cache) */
	assert_int_equal(mesh_crdt_ns_find(s, "worker:gpu:2", 12), id);
	assert_int_equal(put_s(s, "worker:cpu:2", "v", 0), 0);
	assert_int_equal(put_s(s, "worker:gpu:2", "v", 0), -EINVAL); /* epoch_max: 16 bytes */
	assert_int_equal(mesh_crdt_ns_find(s, "rl:a", 4), mesh_crdt_ns_find(s, "rl:bcdefghij", 11));
	assert_int_equal(mesh_crdt_ns_find(s, "rl", 2), -ENXIO);
	/* a nested namespace added after its parent was resolved (and cached) takes over */
	assert_int_equal(put_s(s, "config:x:1234", "v", 0), 0);
	c.prefix = "config:x:";
	c.kind = MESH_CRDT_NS_BROADCAST;
	id = mesh_crdt_ns_add(s, &c);
	assert_true(id >= 0);
	assert_int_equal(mesh_crdt_ns_find(s, "config:x:5678", 13), id);
	assert_int_equal(put_s(s, "config:x:1234", "v", 0), -EPROTOTYPE);
	c.kind = MESH_CRDT_NS_EPOCH_MAX;
	/* but a shorter prefix over a nested one that is not nested itself is refused */
	c.prefix = "work";
	c.nested = false;
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EBUSY);
	/* bad configs */
	c.prefix = "";
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EINVAL);
	assert_int_equal(mesh_crdt_ns_add(s, NULL), -EINVAL);
	c.prefix = "x:";
	c.kind = (enum mesh_crdt_ns_kind)42;
	assert_int_equal(mesh_crdt_ns_add(s, &c), -EINVAL);
	c.kind = MESH_CRDT_NS_LWW;
	c.prefix = "0123456789012345678901234567890123456789012345678901234567890123456789";
	assert_int_equal(mesh_crdt_ns_add(s, &c), -ENAMETOOLONG);

	/* a key in no namespace */
	assert_int_equal(mesh_crdt_ns_find(s, "nope", 4), -ENXIO);
	assert_int_equal(put_s(s, "nope:1", "v", 0), -ENXIO);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "matches no namespace"));
	assert_int_equal(del_s(s, "nope:1", 0), -ENXIO);
	assert_int_equal(mesh_crdt_get(s, "nope:1", 6, NULL, NULL, NULL), -ENXIO);
	mesh_crdt_store_delete(s);
}

static void
test_ns_max_count(void **state)
{
	struct mesh_crdt_config cfg = { .replica_id = 7 };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);
	char p[16];

	(void)state;
	for (unsigned i = 0; i < MESH_CRDT_NS_MAX; i++) {
		struct mesh_crdt_ns_config c = { .prefix = p, .kind = MESH_CRDT_NS_LWW };

		snprintf(p, sizeof(p), "n%02u:", i);
		assert_int_equal(mesh_crdt_ns_add(s, &c), (int)i);
	}
	struct mesh_crdt_ns_config c = { .prefix = "last:", .kind = MESH_CRDT_NS_LWW };
	assert_int_equal(mesh_crdt_ns_add(s, &c), -ENOSPC);
	mesh_crdt_store_delete(s);
}

static void
test_lww_local(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_version v;
	struct mesh_crdt_ns_stats st;
	char buf[64];
	int ns = mesh_crdt_ns_find(s, "worker:", 7);

	(void)state;
	assert_int_equal(put_s(s, "worker:a", "one", 1), 0);
	assert_string_equal(get_s(s, "worker:a", buf, sizeof(buf)), "one");
	assert_int_equal(mesh_crdt_store_clock(s), 1);
	assert_int_equal(put_s(s, "worker:a", "two", 2), 0);
	assert_string_equal(get_s(s, "worker:a", buf, sizeof(buf)), "two");
	assert_int_equal(mesh_crdt_get(s, "worker:a", 8, NULL, NULL, &v), 0);
	assert_int_equal(v.ts, 2);
	assert_int_equal(v.replica, 0x10);
	/* empty value is a value, not a delete */
	assert_int_equal(mesh_crdt_put(s, "worker:e", 8, NULL, 0, 3), 0);
	assert_string_equal(get_s(s, "worker:e", buf, sizeof(buf)), "");
	assert_int_equal(mesh_crdt_ns_stats(s, ns, &st), 0);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.bytes, 8 + 3 + 8);
	/* delete writes a tombstone */
	assert_int_equal(del_s(s, "worker:a", 4), 0);
	assert_null(get_s(s, "worker:a", buf, sizeof(buf)));
	assert_int_equal(mesh_crdt_get(s, "worker:a", 8, NULL, NULL, &v), -ENOENT);
	assert_int_equal(v.ts, 4); /* the tombstone's version is still reported */
	assert_int_equal(del_s(s, "worker:a", 5), -ENOENT);
	assert_int_equal(del_s(s, "worker:never", 5), -ENOENT);
	mesh_crdt_ns_stats(s, ns, &st);
	assert_int_equal(st.keys, 1);
	assert_int_equal(st.tombstones, 1);
	assert_int_equal(st.bytes, 8 + 8);
	/* a put after a delete revives */
	assert_int_equal(put_s(s, "worker:a", "three", 6), 0);
	assert_string_equal(get_s(s, "worker:a", buf, sizeof(buf)), "three");
	mesh_crdt_ns_stats(s, ns, &st);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_put), 4);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_delete), 1);
	assert_string_equal(mesh_crdt_counter_name(MESH_CTR_crdt_put), "crdt_put");
	assert_null(mesh_crdt_counter_name(MESH_CRDT_CTR_MAX));
	for (int c = 0; c < MESH_CRDT_CTR_MAX; c++)
		assert_true(strlen(mesh_crdt_counter_desc(c)) > 8);
	assert_null(mesh_crdt_counter_desc(MESH_CRDT_CTR_MAX));
	/* stream namespaces are not key-value */
	assert_int_equal(put_s(s, "td:x", "v", 7), -EPROTOTYPE);
	assert_int_equal(mesh_crdt_get(s, "td:x", 4, NULL, NULL, NULL), -EPROTOTYPE);
	mesh_crdt_store_delete(s);
}

static void
test_lww_remote_order(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	char buf[64];
	bool ch;

	(void)state;
	/* newer ts wins; a remote version moves the clock to it */
	assert_int_equal(apply_op(s, op_s("worker:k", "a", 10, 5, false), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(mesh_crdt_store_clock(s), 10);
	assert_int_equal(apply_op(s, op_s("worker:k", "old", 9, 99, false), 0, &ch), 0);
	assert_false(ch);
	assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "a");
	assert_int_equal(mesh_crdt_store_clock(s), 10); /* already past a stale op */
	/* equal ts: higher replica wins */
	assert_int_equal(apply_op(s, op_s("worker:k", "b", 10, 6, false), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "c", 10, 4, false), 0, &ch), 0);
	assert_false(ch);
	assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "b");
	/* duplicate is a no-op */
	assert_int_equal(apply_op(s, op_s("worker:k", "b", 10, 6, false), 0, &ch), 0);
	assert_false(ch);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_dup), 1);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_stale), 2);
	/* equal (ts, replica), different content: deterministic - greater bytes, then longer */
	assert_int_equal(apply_op(s, op_s("worker:k", "bb", 10, 6, false), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "b", 10, 6, false), 0, &ch), 0);
	assert_false(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "ba", 10, 6, false), 0, &ch), 0);
	assert_false(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "c", 10, 6, false), 0, &ch), 0);
	assert_true(ch);
	assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "c");
	/* ... and a tombstone beats a value at the same version */
	assert_int_equal(apply_op(s, op_s("worker:k", NULL, 10, 6, true), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "zzz", 10, 6, false), 0, &ch), 0);
	assert_false(ch);
	assert_null(get_s(s, "worker:k", buf, sizeof(buf)));
	/* tombstone loses to a newer write, beats an older one */
	assert_int_equal(apply_op(s, op_s("worker:k", "new", 11, 1, false), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", NULL, 10, 99, true), 0, &ch), 0);
	assert_false(ch);
	assert_string_equal(get_s(s, "worker:k", buf, sizeof(buf)), "new");
	/* a remote tombstone for an unknown key is stored (it must beat older writes later) */
	assert_int_equal(apply_op(s, op_s("worker:gone", NULL, 20, 3, true), 0, &ch), 0);
	assert_true(ch);
	assert_int_equal(apply_op(s, op_s("worker:gone", "late", 19, 3, false), 0, &ch), 0);
	assert_false(ch);
	/* a local put after remote ops always wins (clock ahead of everything seen) */
	assert_int_equal(put_s(s, "worker:gone", "mine", 0), 0);
	assert_string_equal(get_s(s, "worker:gone", buf, sizeof(buf)), "mine");
	mesh_crdt_store_delete(s);
}

static void
test_tie_break_order_independent(void **state)
{
	/* the same three conflicting ops in all 6 orders give the same state everywhere */
	static const int perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					 { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	struct mesh_crdt_op ops[3] = {
		op_s("config:x", "alpha", 5, 9, false),
		op_s("config:x", "beta", 5, 9, false),
		op_s("config:x", NULL, 5, 9, true),
	};
	struct mesh_crdt_digest d0, d;

	(void)state;
	for (int i = 0; i < 6; i++) {
		struct mesh_crdt_store *s = store_new(100 + (uint64_t)i);

		for (int j = 0; j < 3; j++)
			assert_int_equal(mesh_crdt_apply(s, &ops[perms[i][j]], 0, NULL), 0);
		assert_int_equal(mesh_crdt_get(s, "config:x", 8, NULL, NULL, NULL), -ENOENT);
		mesh_crdt_digest_get(s, i == 0 ? &d0 : &d);
		if (i)
			assert_memory_equal(&d0, &d, sizeof(d));
		mesh_crdt_store_delete(s);
	}
	/* without the tombstone, "beta" wins (greater bytes) in every order */
	for (int i = 0; i < 6; i++) {
		struct mesh_crdt_store *s = store_new(100 + (uint64_t)i);
		char buf[16];

		for (int j = 0; j < 3; j++)
			if (perms[i][j] != 2)
				mesh_crdt_apply(s, &ops[perms[i][j]], 0, NULL);
		assert_string_equal(get_s(s, "config:x", buf, sizeof(buf)), "beta");
		mesh_crdt_store_delete(s);
	}
}

static void
test_remote_rejects(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_op op;
	bool ch = true;

	(void)state;
	assert_int_equal(apply_op(s, op_s("worker:k", "v", MESH_CRDT_TS_MAX + 1, 1, false), 0, &ch),
			 -ERANGE);
	assert_false(ch);
	assert_int_equal(apply_op(s, op_s("worker:k", "v", 1, 0, false), 0, NULL), -ERANGE);
	assert_int_equal(apply_op(s, op_s("other:k", "v", 1, 1, false), 0, NULL), -ENXIO);
	assert_int_equal(apply_op(s, op_s("td:k", "v", 1, 1, false), 0, NULL), -EPROTOTYPE);
	assert_int_equal(apply_op(s, op_s("rl:k", NULL, 1, 1, true), 0, NULL), -EINVAL);
	assert_int_equal(apply_op(s, op_s("rl:k", "short", 1, 1, false), 0, NULL), -EINVAL);
	op = op_s("worker:k", "v", 1, 1, false);
	op.value = NULL;
	assert_int_equal(mesh_crdt_apply(s, &op, 0, NULL), -EINVAL);
	op = op_s("worker:k", "v", 1, 1, false);
	op.key_len = 0;
	assert_int_equal(mesh_crdt_apply(s, &op, 0, NULL), -EINVAL);
	op.key = NULL;
	op.key_len = 3;
	assert_int_equal(mesh_crdt_apply(s, &op, 0, NULL), -EINVAL);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_reject), 9);
	/* the batch path refuses the same ops one by one, without touching bogus lengths */
	{
		struct mesh_crdt_op b[5] = {
			op_s("worker:ok", "v", 3, 1, false),
			op_s("worker:big", "v", 3, 1, false),
			op_s("worker:k", "v", MESH_CRDT_TS_MAX + 1, 1, false),
			op_s("nons:k", "v", 3, 1, false),
			op_s("worker:ok", "v", 3, 1, false),
		};
		int res[5];

		b[1].key_len = UINT32_MAX; /* a decoder bug must not make us hash 4 GiB */
		assert_int_equal(mesh_crdt_apply_batch(s, b, 5, 0, res), 1);
		assert_int_equal(res[0], 1);
		assert_int_equal(res[1], -ENAMETOOLONG);
		assert_int_equal(res[2], -ERANGE);
		assert_int_equal(res[3], -ENXIO);
		assert_int_equal(res[4], 0);
		assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_reject), 12);
	}
	/* remote ops never move the clock to the cap (test_crdt_clock has the skew bound) */
	assert_int_equal(apply_op(s, op_s("worker:k", "v", MESH_CRDT_TS_MAX, 1, false), 0, NULL),
			 -ERANGE);
	assert_true(mesh_crdt_store_clock(s) < MESH_CRDT_TS_MAX);
	assert_int_equal(put_s(s, "worker:k", "mine", 0), 0);
	mesh_crdt_store_delete(s);
}

static void
test_key_limits(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	char key[MESH_CRDT_KEY_MAX + 2];

	(void)state;
	memset(key, 'x', sizeof(key));
	memcpy(key, "worker:", 7);
	assert_int_equal(mesh_crdt_put(s, key, MESH_CRDT_KEY_MAX, "v", 1, 0), 0);
	assert_int_equal(mesh_crdt_put(s, key, MESH_CRDT_KEY_MAX + 1, "v", 1, 0), -ENAMETOOLONG);
	assert_int_equal(mesh_crdt_put(s, key, 0, "v", 1, 0), -EINVAL);
	assert_int_equal(mesh_crdt_put(s, NULL, 3, "v", 1, 0), -EINVAL);
	assert_int_equal(mesh_crdt_put(s, "worker:a", 8, NULL, 1, 0), -EINVAL);
	mesh_crdt_store_delete(s);
}

static void
test_ns_limits(void **state)
{
	struct mesh_crdt_config cfg = { .replica_id = 3 };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);
	struct mesh_crdt_ns_config c = {
		.prefix = "l:", .kind = MESH_CRDT_NS_LWW,
		.max_value = 8, .max_keys = 3, .max_bytes = 40,
	};
	struct mesh_crdt_ns_stats st;
	int ns;

	(void)state;
	ns = mesh_crdt_ns_add(s, &c);
	assert_true(ns >= 0);
	assert_int_equal(put_s(s, "l:a", "123456789", 0), -EMSGSIZE);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "max_value 8"));
	assert_int_equal(put_s(s, "l:a", "12345678", 0), 0);  /* 11 bytes */
	assert_int_equal(put_s(s, "l:b", "12345678", 0), 0);  /* 22 */
	assert_int_equal(put_s(s, "l:c", "1", 0), 0);         /* 26 */
	assert_int_equal(put_s(s, "l:d", "1", 0), -ENOSPC);   /* 4th key */
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "max_keys 3"));
	assert_int_equal(put_s(s, "l:c", "12345678", 0), 0);  /* 33 */
	/* tombstones count as keys until collected */
	assert_int_equal(del_s(s, "l:c", 0), 0);              /* 25 */
	assert_int_equal(put_s(s, "l:d", "1", 0), -ENOSPC);
	assert_int_equal(mesh_crdt_gc(s, 1, 0), 0);     /* no peers: after the grace */
	assert_int_equal(mesh_crdt_gc(s, 300 * SEC, 0), 1);
	assert_int_equal(put_s(s, "l:d", "12345678", 0), 0);  /* 33 */
	assert_int_equal(put_s(s, "l:a", "123456789", 0), -EMSGSIZE);
	c.prefix = "m:";
	c.max_bytes = 12;
	c.max_keys = 0;
	c.max_value = 0;
	assert_true(mesh_crdt_ns_add(s, &c) >= 0);
	assert_int_equal(put_s(s, "m:a", "123456789", 0), 0); /* 12 */
	assert_int_equal(put_s(s, "m:a", "1234567890", 0), -EDQUOT);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "max_bytes 12"));
	assert_int_equal(put_s(s, "m:b", "", 0), -EDQUOT);
	/* remote ops are held to the same limits */
	assert_int_equal(apply_op(s, op_s("m:a", "1234567890", 100, 5, false), 0, NULL), -EDQUOT);
	mesh_crdt_ns_stats(s, ns, &st);
	assert_int_equal(st.rejected, 4);
	assert_int_equal(st.keys, 3);
	assert_int_equal(mesh_crdt_ns_stats(s, 77, &st), -EINVAL);
	/* the one-line config two nodes compare when one refuses the other's ops */
	{
		char d[80];

		assert_int_equal(mesh_crdt_ns_describe(s, ns, d, sizeof(d)), 42);
		assert_string_equal(d, "l: lww max_value=8 max_keys=3 max_bytes=40");
		assert_int_equal(mesh_crdt_ns_describe(s, ns, d, 6), 5);
		assert_string_equal(d, "l: lw");
		assert_int_equal(mesh_crdt_ns_describe(s, 77, d, sizeof(d)), -EINVAL);
	}
	mesh_crdt_store_delete(s);
}

static void
test_strerror(void **state)
{
	static const int codes[] = { 0, -EINVAL, -ENXIO, -EEXIST, -EBUSY, -ENOENT,
				     -ENAMETOOLONG, -EMSGSIZE, -ENOSPC, -EDQUOT, -EPROTOTYPE,
				     -EOPNOTSUPP, -EOVERFLOW, -ERANGE, -ESTALE, -ENOMEM };

	(void)state;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(codes); i++)
		assert_string_not_equal(mesh_crdt_strerror(codes[i]), "unknown error");
	assert_string_equal(mesh_crdt_strerror(-12345), "unknown error");
}

static int
count_cb(void *ctx, const void *key, uint32_t key_len, const void *value, uint32_t value_len)
{
	(void)key;
	(void)key_len;
	(void)value;
	(void)value_len;
	++*(int *)ctx;
	return 0;
}

static void
test_table_growth_and_removal(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	char k[32], v[32], buf[64];
	int n = 0;
	const int N = 20000;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "config:%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(put_s(s, k, v, 0), 0);
	}
	for (int i = 0; i < N; i += 2) {
		snprintf(k, sizeof(k), "config:%d", i);
		assert_int_equal(del_s(s, k, 0), 0);
	}
	assert_int_equal(mesh_crdt_gc(s, 300 * SEC, 0), N / 2); /* removes from the table */
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "config:%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		if (i % 2)
			assert_string_equal(get_s(s, k, buf, sizeof(buf)), v);
		else
			assert_null(get_s(s, k, buf, sizeof(buf)));
	}
	assert_int_equal(mesh_crdt_foreach(s, "config:", 7, count_cb, &n), N / 2);
	assert_int_equal(n, N / 2);
	assert_int_equal(mesh_crdt_foreach(s, "config:1", 8, NULL, NULL), 5556);
	assert_int_equal(mesh_crdt_foreach(s, "worker:", 7, NULL, NULL), 0);
	mesh_crdt_store_delete(s);
}

static void
test_ns_kind_parse(void **state)
{
	enum mesh_crdt_ns_kind k = MESH_CRDT_NS_LWW;

	(void)state;
	assert_int_equal(mesh_crdt_ns_kind_parse("epoch_max", &k), 0);
	assert_int_equal(k, MESH_CRDT_NS_EPOCH_MAX);
	assert_int_equal(mesh_crdt_ns_kind_parse("targeted", &k), 0);
	assert_int_equal(k, MESH_CRDT_NS_TARGETED);
	assert_int_equal(mesh_crdt_ns_kind_parse("broadcast", &k), 0);
	assert_int_equal(k, MESH_CRDT_NS_BROADCAST);
	assert_int_equal(mesh_crdt_ns_kind_parse("lww", &k), 0);
	assert_int_equal(k, MESH_CRDT_NS_LWW);
	assert_int_equal(mesh_crdt_ns_kind_parse("LWW", &k), -EINVAL);
	assert_int_equal(mesh_crdt_ns_kind_parse("", &k), -EINVAL);
	assert_int_equal(mesh_crdt_ns_kind_parse("?", &k), -EINVAL);
	assert_int_equal(k, MESH_CRDT_NS_LWW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_new_errors),
		cmocka_unit_test(test_ns_config),
		cmocka_unit_test(test_ns_max_count),
		cmocka_unit_test(test_lww_local),
		cmocka_unit_test(test_lww_remote_order),
		cmocka_unit_test(test_tie_break_order_independent),
		cmocka_unit_test(test_remote_rejects),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_ns_limits),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_table_growth_and_removal),
		cmocka_unit_test(test_ns_kind_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
