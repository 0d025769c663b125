/* SPDX-License-Identifier: BSD-3-Clause */
/* Clocks, xxh3 hashing and the deterministic PRNG (xoshiro256** seeded by splitmix64). */
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "mesh_common.h"

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * MESH_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
mesh_time_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t
mesh_time_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t
mesh_hash64(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

uint64_t
mesh_hash64_seed(const void *data, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(data, len, seed);
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
mesh_rng_seed(struct mesh_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
mesh_rng_next(struct mesh_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t
mesh_rng_below(struct mesh_rng *r, uint64_t bound)
{
	uint64_t threshold, x;

	if (bound == 0)
		return 0;
	threshold = -bound % bound; /* 2^64 mod bound */
	do {
		x = mesh_rng_next(r);
	} while (x < threshold);
	return x % bound;
}

double
mesh_rng_unit(struct mesh_rng *r)
{
	return (double)(mesh_rng_next(r) >> 11) * 0x1.0p-53;
}
