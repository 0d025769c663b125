/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the lib/crdt unit tests (header-only, static). */
#ifndef CRDT_TEST_UTIL_H
#define CRDT_TEST_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_common.h"
#include "mesh_crdt.h"

#define SEC MESH_NS_PER_SEC

static inline struct mesh_crdt_store *
store_new_grace(uint64_t replica, uint64_t grace)
{
	struct mesh_crdt_config cfg = { .replica_id = replica, .tomb_grace_ns = grace };
	struct mesh_crdt_store *s = mesh_crdt_store_new(&cfg);

	assert_non_null(s);
	assert_int_equal(mesh_crdt_ns_add_defaults(s), 0);
	return s;
}

static inline struct mesh_crdt_store *
store_new(uint64_t replica)
{
	return store_new_grace(replica, 0);
}

static inline int
put_s(struct mesh_crdt_store *s, const char *k, const char *v, uint64_t now)
{
	return mesh_crdt_put(s, k, strlen(k), v, strlen(v), now);
}

static inline int
del_s(struct mesh_crdt_store *s, const char *k, uint64_t now)
{
	return mesh_crdt_delete(s, k, strlen(k), now);
}

/* Value of @k as a NUL-terminated string in @buf, or NULL when absent. */
static inline const char *
get_s(struct mesh_crdt_store *s, const char *k, char *buf, size_t cap)
{
	const void *v;
	uint32_t n;

	if (mesh_crdt_get(s, k, strlen(k), &v, &n, NULL) != 0)
		return NULL;
	assert_true(n < cap);
	if (n)
		memcpy(buf, v, n);
	buf[n] = 0;
	return buf;
}

static inline struct mesh_crdt_op
op_s(const char *k, const char *v, uint64_t ts, uint64_t replica, bool tomb)
{
	struct mesh_crdt_op op = {
		.key = k,
		.key_len = (uint32_t)strlen(k),
		.value = v,
		.value_len = v ? (uint32_t)strlen(v) : 0,
		.ts = ts,
		.replica = replica,
		.tombstone = tomb,
	};
	return op;
}

static inline int
apply_op(struct mesh_crdt_store *s, struct mesh_crdt_op op, uint64_t now, bool *changed)
{
	return mesh_crdt_apply(s, &op, now, changed);
}

/* Seed for randomized tests: MESH_SEED=<n> replays, otherwise time-based; printed. */
static inline uint64_t
test_seed(const char *name)
{
	const char *e = getenv("MESH_SEED");
	uint64_t seed = e && *e ? strtoull(e, NULL, 0) : mesh_time_real_ns();

	printf("[%s] seed %" PRIu64 " (replay with MESH_SEED=%" PRIu64 ")\n", name, seed, seed);
	fflush(stdout);
	return seed;
}

/* Copy ops out of the store (export points into it) into owned memory. */
struct owned_op {
	struct mesh_crdt_op op;
	uint8_t *buf;
};

static inline void
own_op(struct owned_op *o, const struct mesh_crdt_op *op)
{
	o->buf = malloc((size_t)op->key_len + op->value_len + 1);
	assert_non_null(o->buf);
	memcpy(o->buf, op->key, op->key_len);
	if (op->value_len)
		memcpy(o->buf + op->key_len, op->value, op->value_len);
	o->op = *op;
	o->op.key = o->buf;
	o->op.value = o->buf + op->key_len;
}

/* Export everything pending for @peer from @from into @to (acking it when @ack). */
static inline int
export_all(struct mesh_crdt_store *from, uint64_t peer, struct mesh_crdt_store *to,
	   uint64_t now, bool ack)
{
	struct mesh_crdt_op ops[16];
	int n, total = 0;

	while ((n = mesh_crdt_export(from, peer, ops, 16, SIZE_MAX)) > 0) {
		for (int i = 0; i < n; i++)
			assert_int_equal(mesh_crdt_apply(to, &ops[i], now, NULL), 0);
		if (ack)
			assert_int_equal(mesh_crdt_ack(from, peer, ops[n - 1].seq), 0);
		total += n;
	}
	assert_true(n == 0);
	return total;
}

/* Repair every differing bucket both ways (anti-entropy round). */
struct bucket_ctx {
	struct mesh_crdt_store *to;
	uint64_t now;
	int n;
	int refused; /* ops the receiver refused as older than its GC horizon */
};

static inline int
bucket_apply(void *ctx, const struct mesh_crdt_op *op)
{
	struct bucket_ctx *c = ctx;
	struct owned_op o;
	int rc;

	own_op(&o, op); /* the source store is not mutated, but keep the test honest */
	rc = mesh_crdt_apply(c->to, &o.op, c->now, NULL);
	if (rc == -ESTALE)
		c->refused++;
	else
		assert_int_equal(rc, 0);
	free(o.buf);
	c->n++;
	return 0;
}

/* One anti-entropy round between @x and @y: the number of differing buckets; *@refused
 * (optional) gets the ops either side refused. */
static inline uint32_t
anti_entropy(struct mesh_crdt_store *x, struct mesh_crdt_store *y, uint64_t now, int *refused)
{
	static uint16_t diff[MESH_CRDT_DIGEST_BUCKETS];
	struct mesh_crdt_digest dx, dy;
	uint32_t n;

	if (refused)
		*refused = 0;
	mesh_crdt_digest_get(x, &dx);
	mesh_crdt_digest_get(y, &dy);
	n = mesh_crdt_digest_diff(&dx, &dy, diff, MESH_CRDT_DIGEST_BUCKETS);
	for (uint32_t i = 0; i < n; i++) {
		struct bucket_ctx cx = { .to = y, .now = now }, cy = { .to = x, .now = now };

		assert_true(mesh_crdt_bucket_export(x, diff[i], bucket_apply, &cx) >= 0);
		assert_true(mesh_crdt_bucket_export(y, diff[i], bucket_apply, &cy) >= 0);
		if (refused)
			*refused += cx.refused + cy.refused;
	}
	return n;
}

#endif /* CRDT_TEST_UTIL_H */
