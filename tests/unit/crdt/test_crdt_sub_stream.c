/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subscriptions (prefix match, post-merge values, tombstones, bounded by count and bytes,
 * drops counted, unsubscribe) and stream namespaces (byte-capped FIFO dropping the oldest,
 * routing kind errors, drain per round, delivery to subscribers, defaults).
 */
#include "crdt_test_util.h"

static void
test_sub_events(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_sub *all, *w, *small;
	struct mesh_crdt_event ev;
	uint8_t e1[16], e2[16];
	bool ch;

	(void)state;
	errno = 0;
	assert_null(mesh_crdt_sub_new(s, "x", 1, 0, 0));
	assert_int_equal(errno, EINVAL);
	all = mesh_crdt_sub_new(s, NULL, 0, 100, 0);
	w = mesh_crdt_sub_new(s, "worker:", 7, 100, 0);
	small = mesh_crdt_sub_new(s, "rl:", 3, 2, 0);
	assert_non_null(all);
	assert_non_null(w);
	assert_non_null(small);

	assert_int_equal(put_s(s, "worker:a", "v1", 0), 0);
	assert_int_equal(put_s(s, "config:c", "cv", 0), 0);
	assert_int_equal(del_s(s, "worker:a", 0), 0);
	assert_int_equal(mesh_crdt_sub_pending(all), 3);
	assert_int_equal(mesh_crdt_sub_pending(w), 2);
	assert_int_equal(mesh_crdt_sub_poll(w, &ev), 1);
	assert_int_equal(ev.key_len, 8);
	assert_memory_equal(ev.key, "worker:a", 8);
	assert_int_equal(ev.value_len, 2);
	assert_memory_equal(ev.value, "v1", 2);
	assert_false(ev.tombstone);
	assert_false(ev.stream);
	assert_int_equal(mesh_crdt_sub_poll(w, &ev), 1);
	assert_true(ev.tombstone);
	assert_null(ev.value);
	assert_int_equal(mesh_crdt_sub_poll(w, &ev), 0);

	/* a losing remote op produces no event; a winning one shows the merged state */
	assert_int_equal(apply_op(s, op_s("worker:a", "old", 1, 1, false), 0, &ch), 0);
	assert_false(ch);
	assert_int_equal(mesh_crdt_sub_pending(w), 0);
	/* epoch_max: the event carries the post-merge value, not the op's */
	mesh_crdt_epoch_encode(5, 10, e1);
	mesh_crdt_epoch_encode(5, 3, e2);
	assert_int_equal(mesh_crdt_put(s, "rl:x", 4, e1, 16, 0), 0);
	assert_int_equal(mesh_crdt_put(s, "rl:x", 4, e2, 16, 0), 0); /* no change, no event */
	assert_int_equal(mesh_crdt_sub_pending(small), 1);
	assert_int_equal(mesh_crdt_sub_poll(small, &ev), 1);
	assert_memory_equal(ev.value, e1, 16);
	/* bounded: capacity 2, the third event is dropped and counted */
	for (int i = 0; i < 3; i++) {
		mesh_crdt_epoch_encode(6 + (uint64_t)i, 0, e1);
		assert_int_equal(mesh_crdt_put(s, "rl:x", 4, e1, 16, 0), 0);
	}
	assert_int_equal(mesh_crdt_sub_pending(small), 2);
	assert_int_equal(mesh_crdt_sub_dropped(small), 1);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_sub_drop), 1);
	mesh_crdt_sub_delete(small); /* with pending events */
	mesh_crdt_sub_delete(w);
	mesh_crdt_sub_delete(NULL);
	assert_int_equal(put_s(s, "worker:b", "v", 0), 0);
	/* store delete frees remaining subscriptions (all still has events) */
	mesh_crdt_store_delete(s);
}

static void
test_sub_byte_cap(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_sub *sub = mesh_crdt_sub_new(s, "config:", 7, 100, 40);
	struct mesh_crdt_event ev;

	(void)state;
	assert_non_null(sub);
	assert_int_equal(put_s(s, "config:a", "0123456789", 0), 0); /* 18 */
	assert_int_equal(put_s(s, "config:b", "0123456789", 0), 0); /* 36 */
	assert_int_equal(put_s(s, "config:c", "0123456789", 0), 0); /* dropped */
	assert_int_equal(mesh_crdt_sub_pending(sub), 2);
	assert_int_equal(mesh_crdt_sub_dropped(sub), 1);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_int_equal(put_s(s, "config:d", "0123456789", 0), 0); /* fits again */
	assert_int_equal(mesh_crdt_sub_pending(sub), 2);
	assert_int_equal(mesh_crdt_sub_default_capacity("worker:"), 1000);
	assert_int_equal(mesh_crdt_sub_default_capacity("tree:page:"), 32);
	assert_int_equal(mesh_crdt_sub_default_capacity("other:"), 100);
	assert_int_equal(mesh_crdt_sub_default_capacity(NULL), 100);
	mesh_crdt_store_delete(s);
}

struct drained {
	int n;
	int ns[16];
	uint64_t peer[16];
	char key[16][32];
	uint32_t vlen[16];
	struct mesh_crdt_store *s;
};

static void
drain_cb(void *ctx, int ns, uint64_t peer, const void *key, uint32_t key_len, const void *value,
	 uint32_t value_len)
{
	struct drained *d = ctx;

	(void)value;
	assert_true(d->n < 16);
	d->ns[d->n] = ns;
	d->peer[d->n] = peer;
	memcpy(d->key[d->n], key, key_len);
	d->key[d->n][key_len] = 0;
	d->vlen[d->n] = value_len;
	d->n++;
	if (d->s) /* publishing from the callback goes to the next round */
		assert_int_equal(mesh_crdt_stream_publish(d->s, "td:next", 7, "x", 1), 0);
}

static void
test_stream_fifo(void **state)
{
	struct mesh_crdt_config cfg = { .replica_id = 1 };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);
	struct mesh_crdt_ns_config b = { .prefix = "bc:", .kind = MESH_CRDT_NS_BROADCAST,
					 .max_bytes = 20 };
	struct mesh_crdt_ns_config t = { .prefix = "tg:", .kind = MESH_CRDT_NS_TARGETED,
					 .max_bytes = 64 };
	struct mesh_crdt_ns_stats st;
	struct drained d = { 0 };
	char v10[11] = "0123456789";
	int nb, nt;

	(void)state;
	nb = mesh_crdt_ns_add(s, &b);
	nt = mesh_crdt_ns_add(s, &t);
	assert_true(nb >= 0 && nt >= 0);
	/* upstream's case: 20 B cap, three 10 B messages (here key 3 B + value 7 B) */
	assert_int_equal(mesh_crdt_stream_publish(s, "bc:", 3, v10, 7), 0);
	assert_int_equal(mesh_crdt_stream_publish(s, "bc:", 3, v10 + 1, 7), 0);
	assert_int_equal(mesh_crdt_stream_publish(s, "bc:", 3, v10 + 2, 7), 0);
	mesh_crdt_ns_stats(s, nb, &st);
	assert_int_equal(st.buffered, 2);
	assert_int_equal(st.bytes, 20);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.dropped_bytes, 10);
	/* a message larger than the whole buffer is refused, nothing dropped */
	assert_int_equal(mesh_crdt_stream_publish(s, "bc:long-key-x", 13, v10, 8), -EMSGSIZE);
	mesh_crdt_ns_stats(s, nb, &st);
	assert_int_equal(st.buffered, 2);
	assert_int_equal(st.rejected, 1);
	/* wrong routing kind: an error, not a crash */
	assert_int_equal(mesh_crdt_stream_publish_to(s, 7, "bc:x", 4, "v", 1), -EPROTOTYPE);
	assert_non_null(strstr(mesh_crdt_store_errmsg(s), "broadcast"));
	assert_int_equal(mesh_crdt_stream_publish(s, "tg:x", 4, "v", 1), -EPROTOTYPE);
	assert_int_equal(mesh_crdt_stream_publish(s, "zz:x", 4, "v", 1), -ENXIO);
	assert_int_equal(mesh_crdt_stream_publish(s, NULL, 4, "v", 1), -EINVAL);
	assert_int_equal(mesh_crdt_stream_publish(s, "bc:x", 4, NULL, 1), -EINVAL);
	/* targeted */
	assert_int_equal(mesh_crdt_stream_publish_to(s, 7, "tg:a", 4, "hello", 5), 0);
	assert_int_equal(mesh_crdt_stream_publish_to(s, 8, "tg:b", 4, "", 0), 0);
	/* drain one namespace: oldest first, emptied */
	assert_int_equal(mesh_crdt_stream_drain(s, nb, drain_cb, &d), 2);
	assert_int_equal(d.vlen[0], 7);
	assert_int_equal(d.ns[0], nb);
	assert_int_equal(d.peer[0], 0);
	assert_int_equal(mesh_crdt_stream_drain(s, nb, drain_cb, &d), 0);
	mesh_crdt_ns_stats(s, nb, &st);
	assert_int_equal(st.buffered, 0);
	assert_int_equal(st.bytes, 0);
	/* drain all */
	d.n = 0;
	assert_int_equal(mesh_crdt_stream_drain(s, -1, drain_cb, &d), 2);
	assert_string_equal(d.key[0], "tg:a");
	assert_int_equal(d.peer[0], 7);
	assert_int_equal(d.peer[1], 8);
	assert_int_equal(d.vlen[1], 0);
	assert_int_equal(mesh_crdt_stream_drain(s, 99, drain_cb, &d), -EINVAL);
	assert_int_equal(mesh_crdt_stream_drain(s, -1, NULL, NULL), 0);
	assert_int_equal(mesh_crdt_store_counter(s, MESH_CTR_crdt_stream_drop), 1);
	/* leftovers freed by store delete */
	assert_int_equal(mesh_crdt_stream_publish_to(s, 7, "tg:a", 4, "left", 4), 0);
	mesh_crdt_store_delete(s);
}

static void
test_stream_defaults_and_deliver(void **state)
{
	struct mesh_crdt_store *s = store_new(0x10);
	struct mesh_crdt_sub *sub = mesh_crdt_sub_new(s, "td:", 3, 4, 0);
	struct mesh_crdt_event ev;
	struct drained d = { .s = s };
	static uint8_t big[1u << 20];
	struct mesh_crdt_ns_stats st;
	int td = mesh_crdt_ns_find(s, "td:", 3);

	(void)state;
	assert_non_null(sub);
	/* td: is 4 MiB: five 1 MiB messages drop the oldest */
	for (int i = 0; i < 5; i++)
		assert_int_equal(mesh_crdt_stream_publish(s, "td:m", 4, big, sizeof(big)), 0);
	mesh_crdt_ns_stats(s, td, &st);
	assert_int_equal(st.buffered, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(mesh_crdt_stream_drain(s, td, drain_cb, &d), 3);
	/* published from the drain callback: waits for the next round */
	mesh_crdt_ns_stats(s, td, &st);
	assert_int_equal(st.buffered, 3);
	assert_int_equal(mesh_crdt_stream_drain(s, td, NULL, NULL), 3);
	/* tree:req: 256 KiB targeted */
	assert_int_equal(mesh_crdt_stream_publish_to(s, 1, "tree:req:1", 10, big, 300u << 10),
			 -EMSGSIZE);
	assert_int_equal(mesh_crdt_stream_drain(s, mesh_crdt_ns_find(s, "worker:", 7), NULL, NULL),
			 -EPROTOTYPE);
	/* receipt: subscribers only, nothing stored */
	assert_int_equal(mesh_crdt_stream_deliver(s, 0x77, "td:t1", 5, "delta", 5), 0);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_true(ev.stream);
	assert_int_equal(ev.peer, 0x77);
	assert_memory_equal(ev.value, "delta", 5);
	assert_int_equal(mesh_crdt_stream_deliver(s, 1, "worker:x", 8, "v", 1), -EPROTOTYPE);
	assert_int_equal(mesh_crdt_stream_deliver(s, 1, "zz", 2, "v", 1), -ENXIO);
	assert_int_equal(mesh_crdt_stream_deliver(s, 1, "td:x", 4, NULL, 1), -EINVAL);
	assert_int_equal(mesh_crdt_get(s, "td:t1", 5, NULL, NULL, NULL), -EPROTOTYPE);
	mesh_crdt_store_delete(s);
}

/* subscribers get the origin wall clock of a local write, a merged remote op and a
 * delivered stream message */
static void
test_sub_origin(void **state)
{
	struct mesh_crdt_store *s = store_new(0x51);
	struct mesh_crdt_sub *sub = mesh_crdt_sub_new(s, NULL, 0, 16, 0);
	struct mesh_crdt_op op = { .key = "worker:r", .key_len = 8, .value = "x", .value_len = 1,
				   .ts = 5, .replica = 0x99, .origin_ns = 888 };
	struct mesh_crdt_event ev;

	(void)state;
	assert_non_null(sub);
	assert_int_equal(mesh_crdt_put_origin(s, "worker:l", 8, "v", 1, 0, 777), 0);
	assert_int_equal(mesh_crdt_apply(s, &op, 0, NULL), 0);
	assert_int_equal(mesh_crdt_stream_deliver_origin(s, 7, "td:m", 4, "d", 1, 999), 0);
	assert_int_equal(mesh_crdt_put(s, "worker:u", 8, "v", 1, 0), 0);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_int_equal(ev.origin_ns, 777);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_int_equal(ev.origin_ns, 888);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_true(ev.stream);
	assert_int_equal(ev.origin_ns, 999);
	assert_int_equal(mesh_crdt_sub_poll(sub, &ev), 1);
	assert_int_equal(ev.origin_ns, 0); /* not stamped */
	mesh_crdt_store_delete(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sub_events),
		cmocka_unit_test(test_sub_byte_cap),
		cmocka_unit_test(test_sub_origin),
		cmocka_unit_test(test_stream_fifo),
		cmocka_unit_test(test_stream_defaults_and_deliver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
