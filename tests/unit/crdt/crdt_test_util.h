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

#endif /* CRDT_TEST_UTIL_H */
