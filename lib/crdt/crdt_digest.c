/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-entropy digests. Bucket b = top 12 bits of xxh3(key) holds the XOR of the 64-bit
 * hashes of its live (key, version) pairs (crdt_digest_entry in crdt_merge.c: lww version =
 * (ts, replica) plus a length/head/tail guard on the value; epoch_max version = the value,
 * since equal values may carry different ts). The merge core updates one bucket per change
 * (XOR out the old contribution, XOR in the new one), so taking a digest is a 32 KiB copy.
 * Two replicas with equal live state have equal digests; a differing bucket is repaired by
 * exporting it (live values and tombstones) in both directions. Because the table's home
 * slot is also the top bits of the hash, a bucket's keys sit in one run of slots.
 */
#include "crdt_internal.h"

void
mesh_crdt_digest_get(const struct mesh_crdt_store *s, struct mesh_crdt_digest *out)
{
	memcpy(out->bucket, s->digest, sizeof(out->bucket));
}

uint64_t
mesh_crdt_digest_fold(const struct mesh_crdt_digest *d)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < MESH_CRDT_DIGEST_BUCKETS; i++)
		x ^= d->bucket[i] * (2 * (uint64_t)i + 1);
	return x;
}

uint32_t
mesh_crdt_digest_bucket_of(const void *key, size_t key_len)
{
	return crdt_bucket(crdt_key_hash(key, key_len));
}

uint32_t
mesh_crdt_digest_diff(const struct mesh_crdt_digest *a, const struct mesh_crdt_digest *b,
		      uint16_t *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < MESH_CRDT_DIGEST_BUCKETS; i++) {
		if (a->bucket[i] == b->bucket[i])
			continue;
		if (n < max && out)
			out[n] = (uint16_t)i;
		n++;
	}
	return n;
}

int
mesh_crdt_bucket_export(const struct mesh_crdt_store *s, uint32_t bucket, mesh_crdt_op_f fn,
			void *ctx)
{
	const struct crdt_table *t = &s->table;
	uint64_t per = (t->mask + 1) / MESH_CRDT_DIGEST_BUCKETS;
	uint64_t lo, hi;
	int n = 0;

	if (bucket >= MESH_CRDT_DIGEST_BUCKETS || fn == NULL)
		return -EINVAL;
	lo = (uint64_t)bucket * per;
	hi = lo + per;
	/*
	 * Keys of the bucket live in [lo, hi) or were pushed past hi by linear probing, always
	 * within the cluster that continues at hi: scan until the first empty slot at or
	 * after hi (wrapping), filtering on the bucket.
	 */
	for (uint64_t j = lo; j - lo <= t->mask; j++) {
		const struct crdt_slot *sl = &t->slots[j & t->mask];
		struct mesh_crdt_op op;

		if (sl->e == NULL) {
			if (j >= hi)
				break;
			continue;
		}
		if (crdt_bucket(sl->hash) != bucket)
			continue;
		crdt_entry_op(sl->e, &op);
		n++;
		if (fn(ctx, &op))
			break;
	}
	return n;
}
