/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear histogram. Bucket i < 16 holds the value i; above, a value with its highest
 * set bit at position e (e >= 4) goes to ((e - 3) << 4) | (the 4 bits below that bit), so
 * every octave [2^e, 2^(e+1)) has 16 equal sub-buckets. Finding a bucket is a clz and two
 * shifts; recording is three relaxed stores and a compare (single writer).
 */
#include "mesh_common.h"

#define SUB (1u << MESH_HIST_SUB_BITS)

uint32_t
mesh_hist_bucket(uint64_t v)
{
	uint32_t e;

	if (v < SUB)
		return (uint32_t)v;
	e = 63u - (uint32_t)__builtin_clzll(v);
	if (e >= MESH_HIST_TOP_BIT)
		return MESH_HIST_BUCKETS - 1;
	return ((e - MESH_HIST_SUB_BITS + 1u) << MESH_HIST_SUB_BITS) |
	       (uint32_t)((v >> (e - MESH_HIST_SUB_BITS)) & (SUB - 1));
}

uint64_t
mesh_hist_bucket_low(uint32_t i)
{
	uint32_t e;

	if (i < SUB)
		return i;
	e = (i >> MESH_HIST_SUB_BITS) + MESH_HIST_SUB_BITS - 1u;
	return (1ULL << e) | ((uint64_t)(i & (SUB - 1)) << (e - MESH_HIST_SUB_BITS));
}

uint64_t
mesh_hist_bucket_high(uint32_t i)
{
	if (i < SUB)
		return i;
	if (i >= MESH_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return mesh_hist_bucket_low(i + 1) - 1;
}

void
mesh_hist_add(struct mesh_hist *h, uint64_t v)
{
	mesh_counter_add(&h->bucket[mesh_hist_bucket(v)], 1);
	mesh_counter_add(&h->count, 1);
	mesh_counter_add(&h->sum, v);
	if (v > mesh_counter_read(&h->max))
		__atomic_store_n(&h->max, v, __ATOMIC_RELAXED);
}

void
mesh_hist_snapshot(const struct mesh_hist *h, struct mesh_hist *out)
{
	out->count = mesh_counter_read(&h->count);
	out->sum = mesh_counter_read(&h->sum);
	out->max = mesh_counter_read(&h->max);
	for (uint32_t i = 0; i < MESH_HIST_BUCKETS; i++)
		out->bucket[i] = mesh_counter_read(&h->bucket[i]);
}

void
mesh_hist_diff(const struct mesh_hist *a, const struct mesh_hist *b, struct mesh_hist *out)
{
	out->count = 0;
	for (uint32_t i = 0; i < MESH_HIST_BUCKETS; i++) {
		out->bucket[i] = a->bucket[i] >= b->bucket[i] ? a->bucket[i] - b->bucket[i] : 0;
		out->count += out->bucket[i];
	}
	out->sum = a->sum >= b->sum ? a->sum - b->sum : 0;
	out->max = a->max;
}

uint64_t
mesh_hist_quantile(const struct mesh_hist *h, double q)
{
	uint64_t total = 0, want, run = 0;

	for (uint32_t i = 0; i < MESH_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (total == 0)
		return 0;
	if (q <= 0)
		q = 0;
	want = q >= 1 ? total : (uint64_t)(q * (double)total + 0.999999);
	if (want == 0)
		want = 1;
	for (uint32_t i = 0; i < MESH_HIST_BUCKETS; i++) {
		run += h->bucket[i];
		if (run >= want)
			return MESH_MIN(mesh_hist_bucket_high(i), h->max);
	}
	return h->max;
}
