/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crdt_merge: single-core merge throughput of lib/crdt (issue 3).
 *
 *   bench_crdt_merge [keys=1000000] [remote_ops=10000000] [seed]
 *   MESH_BENCH_MERGE_ONLY=1 valgrind --tool=callgrind --toggle-collect=mesh_crdt_apply_batch \
 *       bench_crdt_merge 100000 1000000      (instructions per merge = Ir / remote_ops)
 *
 * 1. local put of every key once (keys 16-64 B under worker:, values 64-256 B): put/s;
 * 2. remote LWW ops on uniformly random keys, each at a newer version than the key holds,
 *    so every op wins and rewrites the value (the worst case: alloc/copy, digest rehash,
 *    change-log append), applied with mesh_crdt_apply_batch in bursts of 32: merges/s;
 * 3. the last chunk replayed (every op a duplicate: lookup + compare only): merges/s;
 * 4. digest costs: the per-change digest hash over a value, taking a digest (32 KiB copy)
 *    and diffing two digests.
 * Ops are generated in 1 M chunks outside the timed region, their keys and values copied
 * back to back into a "frame" buffer as the decoder would leave them in received mbufs. For instruction
 * counts run a smaller N under valgrind --tool=callgrind (see doc/crdt.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crdt_internal.h"

/*
 * jemalloc tuning read at startup (the application's choice, not the library's): back the
 * arenas holding entries and values with transparent huge pages. Override at run time with
 * MALLOC_CONF=thp:default to measure without.
 */
#if defined(MESH_CRDT_JEMALLOC) && MESH_CRDT_JEMALLOC
const char *malloc_conf = "thp:always,metadata_thp:always";
#endif

#define CHUNK (1u << 20)
#define BURST 128u
#define VPOOL 65536u

/*
 * Thread CPU time next to wall time: on a shared machine the wall clock also counts time
 * the thread spent descheduled; CPU time does not (cache pollution by neighbours remains).
 */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double
secs(uint64_t t0, uint64_t t1)
{
	return (double)(t1 - t0) / 1e9;
}

static long
rss_mib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * 4096 / (1024 * 1024);
}

int
main(int argc, char **argv)
{
	uint64_t nkeys = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	uint64_t nops = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 42;
	struct mesh_crdt_config cfg = { .replica_id = 1, .expected_keys = nkeys };
	struct mesh_crdt_store *s;
	struct mesh_crdt_op *ops;
	struct mesh_rng rng;
	uint8_t *kbuf, *vbuf, *frame;
	uint32_t *koff, *voff;
	uint8_t *klen, *vlen_pool;
	uint64_t t0, t1, changed = 0, done = 0, ts_base;
	double t_merge = 0, t_dup = 0, c_merge = 0;
	uint64_t c0, c1;

	if (nkeys == 0 || nops == 0) {
		fprintf(stderr, "usage: %s [keys] [remote_ops] [seed]\n", argv[0]);
		return 2;
	}
	mesh_rng_seed(&rng, seed);
	s = mesh_crdt_store_new(&cfg);
	if (s == NULL || mesh_crdt_ns_add_defaults(s) != 0) {
		perror("store");
		return 1;
	}

	/* keys: "worker:" + random printable, total length 16..64 */
	kbuf = malloc(nkeys * 64);
	koff = malloc(nkeys * sizeof(*koff));
	klen = malloc(nkeys);
	vbuf = malloc((size_t)VPOOL * 256);
	voff = malloc(VPOOL * sizeof(*voff));
	vlen_pool = malloc(VPOOL);
	ops = malloc(CHUNK * sizeof(*ops));
	frame = malloc((size_t)CHUNK * (64 + 256));
	if (!frame || !kbuf || !koff || !klen || !vbuf || !voff || !vlen_pool || !ops) {
		perror("malloc");
		return 1;
	}
	for (uint64_t i = 0; i < nkeys; i++) {
		uint8_t *k = kbuf + i * 64;
		uint32_t len = 16 + (uint32_t)mesh_rng_below(&rng, 49);

		memcpy(k, "worker:", 7);
		for (uint32_t j = 7; j < len; j++)
			k[j] = (uint8_t)('a' + mesh_rng_below(&rng, 26));
		/* make keys unique: embed the index */
		for (uint32_t j = 0; j < 6; j++)
			k[7 + j] = (uint8_t)('A' + ((i >> (4 * j)) & 15));
		koff[i] = (uint32_t)(i * 64);
		klen[i] = (uint8_t)len;
	}
	for (uint32_t i = 0; i < VPOOL; i++) {
		voff[i] = i * 256;
		vlen_pool[i] = (uint8_t)(64 + mesh_rng_below(&rng, 193) - 1);
		for (uint32_t j = 0; j < 256; j++)
			vbuf[i * 256 + j] = (uint8_t)mesh_rng_next(&rng);
	}

	/* 1. local puts */
	c0 = cpu_ns();
	t0 = mesh_time_mono_ns();
	for (uint64_t i = 0; i < nkeys; i++) {
		uint32_t v = (uint32_t)mesh_rng_below(&rng, VPOOL);

		if (mesh_crdt_put(s, kbuf + koff[i], klen[i], vbuf + voff[v], vlen_pool[v] + 1u,
				  0) != 0) {
			fprintf(stderr, "put: %s\n", mesh_crdt_store_errmsg(s));
			return 1;
		}
	}
	t1 = mesh_time_mono_ns();
	c1 = cpu_ns();
	printf("keys %" PRIu64 ", local put (insert): %6.2f M puts/s (%.1f ns/put; cpu %.1f ns), RSS %ld MiB\n",
	       nkeys, (double)nkeys / secs(t0, t1) / 1e6, (double)(t1 - t0) / (double)nkeys,
	       (double)(c1 - c0) / (double)nkeys, rss_mib());

	/* 1b. local puts that overwrite existing keys (random order) */
	{
		uint64_t n = MESH_MIN(nkeys, (uint64_t)CHUNK);
		uint64_t *idx = malloc(n * sizeof(*idx));

		for (uint64_t i = 0; i < n; i++)
			idx[i] = mesh_rng_below(&rng, nkeys);
		c0 = cpu_ns();
		t0 = mesh_time_mono_ns();
		for (uint64_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)(i & (VPOOL - 1));

			(void)mesh_crdt_put(s, kbuf + koff[idx[i]], klen[idx[i]], vbuf + voff[v],
					    vlen_pool[v] + 1u, 0);
		}
		t1 = mesh_time_mono_ns();
		c1 = cpu_ns();
		printf("local put (update, random key): %6.2f M puts/s (%.1f ns/put; cpu %.1f ns)\n",
		       (double)n / secs(t0, t1) / 1e6, (double)(t1 - t0) / (double)n,
		       (double)(c1 - c0) / (double)n);
		free(idx);
	}

	/* 2. remote ops, every one newer than what the key holds */
	ts_base = mesh_crdt_store_clock(s) + 1;
	while (done < nops) {
		uint32_t n = (uint32_t)MESH_MIN((uint64_t)CHUNK, nops - done);
		uint8_t *fp = frame;

		for (uint32_t i = 0; i < n; i++) {
			uint64_t k = mesh_rng_below(&rng, nkeys);
			uint32_t v = (uint32_t)mesh_rng_below(&rng, VPOOL);
			uint32_t vl = vlen_pool[v] + 1u;

			memcpy(fp, kbuf + koff[k], klen[k]);
			memcpy(fp + klen[k], vbuf + voff[v], vl);
			ops[i] = (struct mesh_crdt_op){
				.key = fp, .key_len = klen[k],
				.value = fp + klen[k], .value_len = vl,
				.ts = ts_base + done + i, .replica = 2 + mesh_rng_below(&rng, 16),
			};
			fp += klen[k] + vl;
		}
		c0 = cpu_ns();
		t0 = mesh_time_mono_ns();
		for (uint32_t i = 0; i < n; i += BURST)
			changed += mesh_crdt_apply_batch(s, ops + i, MESH_MIN(BURST, n - i), 0, NULL);
		t1 = mesh_time_mono_ns();
		c_merge += secs(c0, cpu_ns());
		t_merge += secs(t0, t1);
		done += n;
	}
	printf("remote ops %" PRIu64 " (changed %" PRIu64 "): %6.2f M merges/s (%.1f ns/merge; cpu %.2f M/s, %.1f ns), RSS %ld MiB\n",
	       nops, changed, (double)nops / t_merge / 1e6, t_merge * 1e9 / (double)nops,
	       (double)nops / c_merge / 1e6, c_merge * 1e9 / (double)nops, rss_mib());

	/* 3. replay the last chunk: all duplicates (skipped with MESH_BENCH_MERGE_ONLY=1,
	 * which callgrind runs use to count instructions of the winning-merge path alone) */
	if (getenv("MESH_BENCH_MERGE_ONLY") == NULL) {
		uint32_t n = (uint32_t)(nops % CHUNK ? nops % CHUNK : MESH_MIN((uint64_t)CHUNK, nops));
		uint64_t ch = 0;

		c0 = cpu_ns();
		t0 = mesh_time_mono_ns();
		for (uint32_t i = 0; i < n; i += BURST)
			ch += mesh_crdt_apply_batch(s, ops + i, MESH_MIN(BURST, n - i), 0, NULL);
		t1 = mesh_time_mono_ns();
		c1 = cpu_ns();
		t_dup = secs(t0, t1);
		printf("duplicate ops %u (changed %" PRIu64 "): %6.2f M merges/s (%.1f ns/merge; cpu %.1f ns)\n",
		       n, ch, (double)n / t_dup / 1e6, t_dup * 1e9 / (double)n,
		       (double)(c1 - c0) / (double)n);
	}

	/* 4. digest costs */
	{
		struct mesh_crdt_digest *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		struct crdt_entry *e = calloc(1, sizeof(*e) + 64);
		struct crdt_ns *ns = &s->ns[0];
		volatile uint64_t sink = 0;
		uint16_t diff[16];
		const int reps = 2000000;

		e->key_len = 32;
		t0 = mesh_time_mono_ns();
		for (int i = 0; i < reps; i++) {
			uint32_t v = (uint32_t)i & (VPOOL - 1);

			e->value = vbuf + voff[v];
			e->value_len = vlen_pool[v] + 1u;
			e->ts = (uint64_t)i;
			sink ^= crdt_digest_entry(ns, (uint64_t)i * 0x9E3779B97F4A7C15ULL, e);
		}
		t1 = mesh_time_mono_ns();
		printf("digest update (hash of key hash + version + value guard, 1 XOR): %.1f ns/change\n",
		       (double)(t1 - t0) / reps);
		t0 = mesh_time_mono_ns();
		for (int i = 0; i < 10000; i++) {
			mesh_crdt_digest_get(s, a);
			sink ^= a->bucket[i & 4095];
		}
		t1 = mesh_time_mono_ns();
		printf("digest get (4096 buckets, 32 KiB copy): %.2f us\n",
		       (double)(t1 - t0) / 10000 / 1e3);
		memcpy(b, a, sizeof(*a));
		b->bucket[77] ^= 1;
		t0 = mesh_time_mono_ns();
		for (int i = 0; i < 10000; i++)
			sink ^= mesh_crdt_digest_diff(a, b, diff, 16);
		t1 = mesh_time_mono_ns();
		printf("digest diff (4096 buckets): %.2f us\n", (double)(t1 - t0) / 10000 / 1e3);
		(void)sink;
		free(a);
		free(b);
		free(e);
	}
	printf("counters: apply %" PRIu64 " changed %" PRIu64 " dup %" PRIu64 " log_compact %" PRIu64 "\n",
	       mesh_crdt_store_counter(s, MESH_CTR_crdt_apply),
	       mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_changed),
	       mesh_crdt_store_counter(s, MESH_CTR_crdt_apply_dup),
	       mesh_crdt_store_counter(s, MESH_CTR_crdt_log_compact));
	mesh_crdt_store_delete(s);
	free(kbuf);
	free(koff);
	free(klen);
	free(vbuf);
	free(voff);
	free(vlen_pool);
	free(ops);
	free(frame);
	return 0;
}
