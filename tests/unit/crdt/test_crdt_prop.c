/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Randomized convergence property: 3-5 replicas make random puts/deletes on a small key
 * space (lww and epoch_max namespaces); changes travel through the export/ack API as
 * batches over a fake network that reorders freely, duplicates and drops (acks are sent
 * even for batches after a dropped one, so omissions are permanent until repaired), with
 * random rewinds and, in one variant, tombstone GC. Finally every message in flight is
 * delivered and pairwise digest exchange repairs the rest: all replicas must end with
 * identical digests and identical get results, and (without GC) equal to an oracle that
 * knows every write. Prints the seed; MESH_SEED=<n> replays.
 */
#include "crdt_test_util.h"

#define MAXR 5
#define NKEYS 48
#define MAXMSG 4096

struct msg {
	int from, to;
	uint32_t n;
	uint64_t last_seq;
	struct owned_op ops[8];
};

struct world {
	struct mesh_rng rng;
	int nr;
	struct mesh_crdt_store *r[MAXR];
	struct msg *net[MAXMSG];
	uint32_t n_net;
	uint64_t now;
	bool gc;
	/* oracle: best write per key */
	struct {
		bool set;
		bool tomb;
		struct mesh_crdt_version v;
		uint8_t val[32];
		uint32_t len;
	} best[NKEYS];
};

static void
key_name(int i, char *buf, size_t cap, uint32_t *len)
{
	/* a third of the keys are epoch_max */
	*len = (uint32_t)snprintf(buf, cap, "%s%d", i % 3 == 2 ? "rl:" : i % 3 ? "config:" : "worker:",
				  i);
}

static uint64_t
rid(int i)
{
	return 0x1000 + (uint64_t)i;
}

static void
msg_free(struct msg *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		free(m->ops[i].buf);
	free(m);
}

static struct msg *
msg_copy(const struct msg *m)
{
	struct msg *c = malloc(sizeof(*c));

	assert_non_null(c);
	*c = *m;
	for (uint32_t i = 0; i < m->n; i++)
		own_op(&c->ops[i], &m->ops[i].op);
	return c;
}

static void
net_push(struct world *w, struct msg *m)
{
	if (w->n_net == MAXMSG) {
		msg_free(m);
		return;
	}
	w->net[w->n_net++] = m;
}

static void
oracle_note(struct world *w, int k, struct mesh_crdt_store *s, const char *key, uint32_t klen)
{
	struct mesh_crdt_version v;
	const void *val = NULL;
	uint32_t len = 0;
	int rc = mesh_crdt_get(s, key, klen, &val, &len, &v);

	/* the local write just made is the replica's current state for the key */
	if (k % 3 == 2) { /* epoch_max: keep the max value */
		if (!w->best[k].set ||
		    mesh_crdt_epoch_merge(w->best[k].val, w->best[k].len, val, len)) {
			memcpy(w->best[k].val, val, len); /* always 16 bytes */
			w->best[k].len = len;
			w->best[k].set = true;
		}
		return;
	}
	if (w->best[k].set && (v.ts < w->best[k].v.ts ||
			       (v.ts == w->best[k].v.ts && v.replica <= w->best[k].v.replica)))
		return;
	w->best[k].set = true;
	w->best[k].v = v;
	w->best[k].tomb = rc != 0;
	w->best[k].len = rc ? 0 : len;
	if (!rc && len)
		memcpy(w->best[k].val, val, len);
}

static void
local_op(struct world *w)
{
	int r = (int)mesh_rng_below(&w->rng, (uint64_t)w->nr);
	int k = (int)mesh_rng_below(&w->rng, NKEYS);
	struct mesh_crdt_store *s = w->r[r];
	char key[32];
	uint8_t val[32];
	uint32_t klen, vlen;
	int rc;

	key_name(k, key, sizeof(key), &klen);
	if (k % 3 == 2) {
		mesh_crdt_epoch_encode(mesh_rng_below(&w->rng, 4),
				       (int64_t)mesh_rng_below(&w->rng, 100) - 50, val);
		assert_int_equal(mesh_crdt_put(s, key, klen, val, 16, w->now), 0);
	} else if (mesh_rng_below(&w->rng, 4) == 0) {
		rc = mesh_crdt_delete(s, key, klen, w->now);
		assert_true(rc == 0 || rc == -ENOENT);
		if (rc)
			return;
	} else {
		vlen = (uint32_t)mesh_rng_below(&w->rng, sizeof(val));
		for (uint32_t i = 0; i < vlen; i++)
			val[i] = (uint8_t)mesh_rng_below(&w->rng, 4); /* frequent equal prefixes */
		assert_int_equal(mesh_crdt_put(s, key, klen, val, vlen, w->now), 0);
	}
	oracle_note(w, k, s, key, klen);
}

static void
export_op(struct world *w)
{
	int from = (int)mesh_rng_below(&w->rng, (uint64_t)w->nr);
	int to = (int)mesh_rng_below(&w->rng, (uint64_t)w->nr - 1);
	struct mesh_crdt_op ops[8];
	struct msg m = { 0 };
	int n;

	to += to >= from;
	n = mesh_crdt_export(w->r[from], rid(to), ops, 1 + (uint32_t)mesh_rng_below(&w->rng, 8),
			     64 + mesh_rng_below(&w->rng, 256));
	assert_true(n >= 0);
	if (n == 0)
		return;
	m.from = from;
	m.to = to;
	m.n = (uint32_t)n;
	m.last_seq = ops[n - 1].seq;
	for (int i = 0; i < n; i++)
		m.ops[i].op = ops[i];
	if (mesh_rng_below(&w->rng, 5) == 0)
		return; /* lost */
	net_push(w, msg_copy(&m));
	if (mesh_rng_below(&w->rng, 6) == 0)
		net_push(w, msg_copy(&m)); /* duplicated */
}

static void
deliver(struct world *w, uint32_t idx)
{
	struct msg *m = w->net[idx];
	struct mesh_crdt_store *s = w->r[m->to];

	w->net[idx] = w->net[--w->n_net];
	if (mesh_rng_below(&w->rng, 2)) {
		for (uint32_t i = 0; i < m->n; i++) {
			int rc = mesh_crdt_apply(s, &m->ops[i].op, w->now, NULL);

			assert_true(rc == 0 || (w->gc && rc == -ESTALE)); /* see below */
		}
	} else {
		struct mesh_crdt_op ops[8];
		int res[8];

		for (uint32_t i = 0; i < m->n; i++)
			ops[i] = m->ops[i].op;
		mesh_crdt_apply_batch(s, ops, m->n, w->now, res);
		/* with GC, an old op still in flight after its key's tombstone was collected
		 * is refused by the GC horizon instead of resurrecting the key */
		for (uint32_t i = 0; i < m->n; i++)
			assert_true(res[i] == 0 || res[i] == 1 || (w->gc && res[i] == -ESTALE));
	}
	/* ack: may fail with -ERANGE after a rewind moved the cursor back */
	(void)mesh_crdt_ack(w->r[m->from], rid(m->to), m->last_seq);
	msg_free(m);
}

static void
check_converged(struct world *w, bool with_oracle)
{
	struct mesh_crdt_digest d0, d;

	mesh_crdt_digest_get(w->r[0], &d0);
	for (int r = 1; r < w->nr; r++) {
		mesh_crdt_digest_get(w->r[r], &d);
		assert_memory_equal(&d0, &d, sizeof(d));
	}
	for (int k = 0; k < NKEYS; k++) {
		char key[32];
		uint32_t klen, len0 = 0, len;
		const void *v0 = NULL, *v;
		int rc0, rc;

		key_name(k, key, sizeof(key), &klen);
		rc0 = mesh_crdt_get(w->r[0], key, klen, &v0, &len0, NULL);
		assert_true(rc0 == 0 || rc0 == -ENOENT);
		for (int r = 1; r < w->nr; r++) {
			rc = mesh_crdt_get(w->r[r], key, klen, &v, &len, NULL);
			assert_int_equal(rc, rc0);
			if (rc == 0) {
				assert_int_equal(len, len0);
				if (len)
					assert_memory_equal(v, v0, len);
			}
		}
		if (!with_oracle)
			continue;
		if (!w->best[k].set || w->best[k].tomb) {
			assert_int_equal(rc0, -ENOENT);
		} else {
			assert_int_equal(rc0, 0);
			assert_int_equal(len0, w->best[k].len);
			if (len0)
				assert_memory_equal(v0, w->best[k].val, len0);
		}
	}
}

static uint64_t total_repaired, total_changed;

static void
run_world(uint64_t seed, bool gc)
{
	struct world *w = calloc(1, sizeof(*w));
	int rounds = 0;

	assert_non_null(w);
	mesh_rng_seed(&w->rng, seed);
	w->gc = gc;
	w->nr = 3 + (int)mesh_rng_below(&w->rng, 3);
	for (int i = 0; i < w->nr; i++) {
		w->r[i] = store_new_grace(rid(i), gc ? 50 * SEC : MESH_CRDT_TOMB_GRACE_NEVER);
		for (int j = 0; j < w->nr; j++)
			if (j != i)
				assert_int_equal(mesh_crdt_peer_add(w->r[i], rid(j)), 0);
	}
	for (int step = 0; step < 5000; step++) {
		uint64_t a = mesh_rng_below(&w->rng, 100);

		w->now += mesh_rng_below(&w->rng, SEC / 10);
		if (a < 45)
			local_op(w);
		else if (a < 70)
			export_op(w);
		else if (a < 96 && w->n_net)
			deliver(w, (uint32_t)mesh_rng_below(&w->rng, w->n_net));
		else if (a < 98)
			mesh_crdt_peer_rewind(w->r[mesh_rng_below(&w->rng, (uint64_t)w->nr)],
					      rid((int)mesh_rng_below(&w->rng, (uint64_t)w->nr)));
		else if (gc)
			mesh_crdt_gc(w->r[mesh_rng_below(&w->rng, (uint64_t)w->nr)], w->now, 0);
	}
	/* quiesce: deliver everything still in flight, in random order */
	while (w->n_net)
		deliver(w, (uint32_t)mesh_rng_below(&w->rng, w->n_net));
	/* anti-entropy until a full pass finds no difference */
	for (;;) {
		uint32_t diffs = 0;

		for (int i = 0; i < w->nr; i++)
			for (int j = i + 1; j < w->nr; j++)
				diffs += anti_entropy(w->r[i], w->r[j], 0, NULL);
		total_repaired += diffs;
		if (diffs == 0)
			break;
		assert_true(++rounds < 8);
	}
	check_converged(w, !gc);
	for (int i = 0; i < w->nr; i++) {
		total_changed += mesh_crdt_store_counter(w->r[i], MESH_CTR_crdt_apply_changed);
		mesh_crdt_store_delete(w->r[i]);
	}
	free(w);
}

static void
test_converge(void **state)
{
	uint64_t seed = test_seed("crdt_converge");
	struct mesh_rng r;

	(void)state;
	mesh_rng_seed(&r, seed);
	total_repaired = total_changed = 0;
	for (int i = 0; i < 16; i++)
		run_world(mesh_rng_next(&r), false);
	printf("[crdt_converge] %" PRIu64 " remote changes, %" PRIu64 " buckets repaired\n",
	       total_changed, total_repaired);
	/* the scenario must exercise both paths */
	assert_true(total_changed > 1000);
	assert_true(total_repaired > 0);
}

static void
test_converge_with_gc(void **state)
{
	uint64_t seed = test_seed("crdt_converge_gc");
	struct mesh_rng r;

	(void)state;
	mesh_rng_seed(&r, seed);
	total_repaired = total_changed = 0;
	for (int i = 0; i < 16; i++)
		run_world(mesh_rng_next(&r), true);
	printf("[crdt_converge_gc] %" PRIu64 " remote changes, %" PRIu64 " buckets repaired\n",
	       total_changed, total_repaired);
	assert_true(total_changed > 1000);
	assert_true(total_repaired > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge),
		cmocka_unit_test(test_converge_with_gc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
