/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Public key-value entry points: validation, namespace resolution and the clock
 * (crdt_clock.c), around the shared merge core (crdt_merge.c). Local writes tick the clock
 * and always win for lww (their ts exceeds every ts seen); remote ops are bounded by the
 * clock's skew check and move it to max(clock, ts). apply_batch is the merge lcore's hot loop: it hashes and prefetches a window of ops
 * ahead (home slot, then entry) before merging them one by one.
 */
#include "crdt_internal.h"

static int
check_value(struct mesh_crdt_store *s, struct crdt_ns *ns, const void *key, size_t key_len,
	    const void *value, size_t value_len)
{
	if (value_len > 0 && value == NULL)
		return crdt_fail(s, -EINVAL, "NULL value of %zu bytes", value_len);
	if (ns->kind == MESH_CRDT_NS_EPOCH_MAX && value_len != MESH_CRDT_EPOCH_LEN)
		return crdt_fail(s, -EINVAL,
				 "epoch_max value for '%.*s' must be %u bytes, got %zu",
				 (int)MESH_MIN(key_len, 64u), (const char *)key,
				 MESH_CRDT_EPOCH_LEN, value_len);
	if (value_len > ns->max_value) {
		crdt_stat_add(&ns->st.rejected, 1);
		return crdt_fail(s, -EMSGSIZE, "value of %zu bytes in '%s' (max_value %u)",
				 value_len, ns->prefix, ns->max_value);
	}
	return 0;
}

int
crdt_local_write(struct mesh_crdt_store *s, struct crdt_ns *ns, struct mesh_crdt_op *op,
		 uint64_t now_ns)
{
	int rc;

	crdt_now(s, now_ns);
	op->ts = crdt_clock_tick(s);
	if (op->ts == 0)
		return crdt_fail(s, -EOVERFLOW, "clock at %" PRIu64, s->clock);
	op->replica = s->replica;
	rc = crdt_merge_op(s, ns, crdt_key_hash(op->key, op->key_len), op, now_ns, true);
	return rc < 0 ? rc : 0;
}

int
mesh_crdt_put(struct mesh_crdt_store *s, const void *key, size_t key_len, const void *value,
	      size_t value_len, uint64_t now_ns)
{
	return mesh_crdt_put_origin(s, key, key_len, value, value_len, now_ns, 0);
}

int
mesh_crdt_put_origin(struct mesh_crdt_store *s, const void *key, size_t key_len,
		     const void *value, size_t value_len, uint64_t now_ns, uint64_t origin_ns)
{
	return mesh_crdt_put_owned(s, key, key_len, value, value_len, now_ns, origin_ns, false);
}

int
mesh_crdt_put_owned(struct mesh_crdt_store *s, const void *key, size_t key_len,
		    const void *value, size_t value_len, uint64_t now_ns, uint64_t origin_ns,
		    bool owned)
{
	struct mesh_crdt_op op = { 0 };
	struct crdt_ns *ns;
	int rc;

	ns = crdt_ns_lookup(s, key, key_len, false, &rc);
	if (ns == NULL)
		return rc;
	if (owned && ns->kind != MESH_CRDT_NS_LWW)
		return crdt_fail(s, -EOPNOTSUPP,
				 "'%s' is epoch_max: its keys cannot be owner-bound (never deleted)",
				 ns->prefix);
	rc = check_value(s, ns, key, key_len, value, value_len);
	if (rc)
		return rc;
	op.key = key;
	op.key_len = (uint32_t)key_len;
	op.value = value;
	op.value_len = (uint32_t)value_len;
	op.origin_ns = origin_ns;
	op.owned = owned;
	rc = crdt_local_write(s, ns, &op, now_ns);
	if (rc == 0)
		crdt_ctr(s, MESH_CTR_crdt_put, 1);
	return rc;
}

int
mesh_crdt_delete(struct mesh_crdt_store *s, const void *key, size_t key_len, uint64_t now_ns)
{
	return mesh_crdt_delete_origin(s, key, key_len, now_ns, 0);
}

int
mesh_crdt_delete_origin(struct mesh_crdt_store *s, const void *key, size_t key_len,
			uint64_t now_ns, uint64_t origin_ns)
{
	struct mesh_crdt_op op = { 0 };
	struct crdt_ns *ns;
	uint64_t idx;
	int rc;

	ns = crdt_ns_lookup(s, key, key_len, false, &rc);
	if (ns == NULL)
		return rc;
	if (ns->kind != MESH_CRDT_NS_LWW)
		return crdt_fail(s, -EOPNOTSUPP,
				 "'%s' is epoch_max: reset with a higher epoch instead of deleting",
				 ns->prefix);
	idx = crdt_table_find(&s->table, crdt_key_hash(key, key_len), key, (uint32_t)key_len);
	if (idx == UINT64_MAX || (s->table.slots[idx].e->flags & CRDT_F_TOMB))
		return crdt_fail(s, -ENOENT, "no live value for '%.*s'",
				 (int)MESH_MIN(key_len, 64u), (const char *)key);
	op.key = key;
	op.key_len = (uint32_t)key_len;
	op.tombstone = true;
	op.origin_ns = origin_ns;
	rc = crdt_local_write(s, ns, &op, now_ns);
	if (rc == 0)
		crdt_ctr(s, MESH_CTR_crdt_delete, 1);
	return rc;
}

int
mesh_crdt_get(const struct mesh_crdt_store *cs, const void *key, size_t key_len,
	      const void **value, uint32_t *value_len, struct mesh_crdt_version *version)
{
	struct mesh_crdt_store *s = (struct mesh_crdt_store *)cs; /* errmsg only */
	const struct crdt_entry *e;
	struct crdt_ns *ns;
	uint64_t idx;
	int rc;

	ns = crdt_ns_lookup(s, key, key_len, false, &rc);
	if (ns == NULL)
		return rc;
	idx = crdt_table_find(&s->table, crdt_key_hash(key, key_len), key, (uint32_t)key_len);
	if (idx == UINT64_MAX)
		return -ENOENT;
	e = s->table.slots[idx].e;
	if (version) {
		version->ts = e->ts;
		version->replica = e->replica;
	}
	if (e->flags & CRDT_F_TOMB)
		return -ENOENT;
	if (value)
		*value = e->value;
	if (value_len)
		*value_len = e->value_len;
	return 0;
}

uint64_t
mesh_crdt_foreach(const struct mesh_crdt_store *s, const void *prefix, size_t prefix_len,
		  mesh_crdt_foreach_f fn, void *ctx)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i <= s->table.mask; i++) {
		const struct crdt_entry *e = s->table.slots[i].e;

		if (e == NULL || (e->flags & CRDT_F_TOMB) || e->key_len < prefix_len ||
		    (prefix_len && memcmp(e->key, prefix, prefix_len) != 0))
			continue;
		n++;
		if (fn && fn(ctx, e->key, e->key_len, e->value, e->value_len))
			break;
	}
	return n;
}

/* Validate a remote op and find its namespace. */
static struct crdt_ns *
remote_check(struct mesh_crdt_store *s, const struct mesh_crdt_op *op, int *rc)
{
	struct crdt_ns *ns;

	*rc = crdt_clock_check(s, op);
	if (*rc != 0)
		return NULL;
	ns = crdt_ns_lookup(s, op->key, op->key_len, false, rc);
	if (ns == NULL)
		return NULL;
	if ((op->tombstone || op->owned) && ns->kind != MESH_CRDT_NS_LWW) {
		*rc = crdt_fail(s, -EINVAL, "%s op on epoch_max '%s'",
				op->tombstone ? "tombstone" : "owner-bound", ns->prefix);
		return NULL;
	}
	if (!op->tombstone) {
		*rc = check_value(s, ns, op->key, op->key_len, op->value, op->value_len);
		if (*rc)
			return NULL;
	}
	return ns;
}

int
mesh_crdt_apply(struct mesh_crdt_store *s, const struct mesh_crdt_op *op, uint64_t now_ns,
		bool *changed)
{
	struct mesh_crdt_op tmp;
	struct crdt_ns *ns;
	int rc;

	if (changed)
		*changed = false;
	crdt_now(s, now_ns);
	crdt_ctr(s, MESH_CTR_crdt_apply, 1);
	ns = remote_check(s, op, &rc);
	if (ns == NULL) {
		crdt_ctr(s, MESH_CTR_crdt_apply_reject, 1);
		return rc;
	}
	op = crdt_owner_filter(s, op, &tmp);
	rc = crdt_merge_op(s, ns, crdt_key_hash(op->key, op->key_len), op, now_ns, false);
	if (rc < 0) {
		crdt_ctr(s, MESH_CTR_crdt_apply_reject, 1);
		return rc;
	}
	if (rc > 0)
		crdt_ctr(s, MESH_CTR_crdt_apply_changed, 1);
	if (changed)
		*changed = rc > 0;
	return 0;
}

/*
 * Hot loop. Keys are hashed for a window of up to 128 ops first (they sit in the received
 * frame, sequential), then a software pipeline runs ahead of the merge: home slot of op
 * i + 24, entry of op i + 16 (two lines; the slot was fetched by then), value buffer of op
 * i + 8 (the entry was fetched), so the dependent cache misses of random keys overlap.
 */
#define APPLY_WINDOW 128u
#define PF_SLOT 24u
#define PF_ENTRY 16u
#define PF_VALUE 8u

static inline struct crdt_entry *
home_entry(const struct crdt_table *t, uint64_t hash)
{
	const struct crdt_slot *sl = &t->slots[crdt_table_home(t, hash)];

	return sl->hash == hash ? sl->e : NULL;
}

uint32_t
mesh_crdt_apply_batch(struct mesh_crdt_store *s, const struct mesh_crdt_op *ops, uint32_t n,
		      uint64_t now_ns, int *result)
{
	uint64_t hash[APPLY_WINDOW];
	struct crdt_entry *ent[APPLY_WINDOW];
	uint32_t n_changed = 0, n_reject = 0;

	crdt_now(s, now_ns);
	for (uint32_t base = 0; base < n; base += APPLY_WINDOW) {
		uint32_t w = MESH_MIN(APPLY_WINDOW, n - base);
		const struct mesh_crdt_op *win = &ops[base];

		for (uint32_t i = 0; i < w; i++) {
			/* never hash past a bogus length: remote_check refuses the op later */
			hash[i] = win[i].key && win[i].key_len - 1u < MESH_CRDT_KEY_MAX
					  ? crdt_key_hash(win[i].key, win[i].key_len)
					  : 0;
			ent[i] = NULL;
		}
		for (uint32_t i = 0; i < MESH_MIN(w, PF_SLOT); i++)
			crdt_table_prefetch(&s->table, hash[i]);
		for (uint32_t i = 0; i < MESH_MIN(w, PF_ENTRY); i++)
			if ((ent[i] = home_entry(&s->table, hash[i])) != NULL) {
				__builtin_prefetch(ent[i], 1);
				__builtin_prefetch((const uint8_t *)ent[i] + 64, 1);
			}
		for (uint32_t i = 0; i < w; i++) {
			const struct mesh_crdt_op *op = &win[i];
			struct mesh_crdt_op tmp;
			struct crdt_ns *ns;
			int rc = 0;

			if (i + PF_SLOT < w)
				crdt_table_prefetch(&s->table, hash[i + PF_SLOT]);
			if (i + PF_ENTRY < w &&
			    (ent[i + PF_ENTRY] = home_entry(&s->table, hash[i + PF_ENTRY])) != NULL)
			{
				__builtin_prefetch(ent[i + PF_ENTRY], 1);
				__builtin_prefetch((const uint8_t *)ent[i + PF_ENTRY] + 64, 1);
			}
			if (i + PF_VALUE < w && ent[i + PF_VALUE] != NULL) {
				const struct crdt_entry *pe = ent[i + PF_VALUE];

				/* the whole buffer (up to 256 B): a winning op rewrites it */
				for (uint32_t off = 0; off < MESH_MIN(pe->value_cap, 256u); off += 64)
					__builtin_prefetch(pe->value + off, 1);
			}

			ns = remote_check(s, op, &rc);
			if (ns != NULL)
				rc = crdt_merge_op(s, ns, hash[i], crdt_owner_filter(s, op, &tmp),
						   now_ns, false);
			if (rc < 0)
				n_reject++;
			else
				n_changed += (uint32_t)rc;
			if (result)
				result[base + i] = rc;
		}
	}
	crdt_ctr(s, MESH_CTR_crdt_apply, n);
	crdt_ctr(s, MESH_CTR_crdt_apply_changed, n_changed);
	if (n_reject)
		crdt_ctr(s, MESH_CTR_crdt_apply_reject, n_reject);
	return n_changed;
}
