/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd common library (pure C, no DPDK): logging with a pluggable hook, rate-limited
 * logging, counters declared once with X-macros and kept per writer slot, time constants
 * and a monotonic clock for non-protocol code, and a bump arena.
 *
 * Protocol cores take time as a parameter and never call mesh_time_mono_ns() themselves.
 */
#ifndef MESH_COMMON_H
#define MESH_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- helpers */

#define MESH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MESH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MESH_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MESH_CACHE_LINE 64
#define MESH_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define mesh_likely(x) __builtin_expect(!!(x), 1)
#define mesh_unlikely(x) __builtin_expect(!!(x), 0)

/* ---------------------------------------------------------------- time */

#define MESH_NS_PER_US 1000ULL
#define MESH_NS_PER_MS 1000000ULL
#define MESH_NS_PER_SEC 1000000000ULL

/** Monotonic clock in ns (CLOCK_MONOTONIC). For apps and tools, not for protocol cores. */
uint64_t mesh_time_mono_ns(void);

/** Wall clock in ns since the Unix epoch (CLOCK_REALTIME): origin timestamps across nodes. */
uint64_t mesh_time_real_ns(void);

/* ---------------------------------------------------------------- logging */

/** Levels use the syslog/rte_log numbering so the DPDK bridge maps them 1:1. */
enum mesh_log_level {
	MESH_LOG_ERR = 4,
	MESH_LOG_WARNING = 5,
	MESH_LOG_NOTICE = 6,
	MESH_LOG_INFO = 7,
	MESH_LOG_DEBUG = 8,
};

/** Receives one formatted log line (no trailing newline). */
typedef void (*mesh_log_hook_f)(void *ctx, enum mesh_log_level level, const char *module,
				const char *msg);

/** Install a hook (NULL restores the default stderr writer). Not thread-safe: call at init. */
void mesh_log_hook_set(mesh_log_hook_f hook, void *ctx);

/** Messages above @level are discarded before formatting. Default MESH_LOG_NOTICE. */
void mesh_log_level_set(enum mesh_log_level level);
enum mesh_log_level mesh_log_level_get(void);

/** Format and emit one message for @module (e.g. "swim"). */
void mesh_log(enum mesh_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mesh_log_v(enum mesh_log_level level, const char *module, const char *fmt, va_list ap);

/** Name of a level ("err", "warning", ...). */
const char *mesh_log_level_name(enum mesh_log_level level);

/** Parse a level name; returns 0 and sets *out, or -EINVAL. */
int mesh_log_level_parse(const char *name, enum mesh_log_level *out);

/**
 * Token bucket for "log once per interval" on paths that see hostile input: at most
 * @burst messages per @interval_ns; the rest are counted in @suppressed.
 */
struct mesh_ratelimit {
	uint64_t interval_ns;
	uint64_t window_start_ns;
	uint32_t burst;
	uint32_t used;
	uint64_t suppressed;
};

#define MESH_RATELIMIT_INIT(interval, burst_) \
	{ .interval_ns = (interval), .window_start_ns = 0, .burst = (burst_), .used = 0, \
	  .suppressed = 0 }

/** True when a message may be logged at @now_ns. */
bool mesh_ratelimit_allow(struct mesh_ratelimit *rl, uint64_t now_ns);

/* ---------------------------------------------------------------- counters */

/*
 * Counters are declared once per module with an X-macro list:
 *
 *   #define MESH_NET_COUNTERS(X) X(rx_frames) X(rx_drop_short) ...
 *   enum mesh_net_counter { MESH_NET_COUNTERS(MESH_COUNTER_ENUM) MESH_NET_CTR_MAX };
 *   static const char *const names[] = { MESH_NET_COUNTERS(MESH_COUNTER_NAME) };
 *
 * MESH_COUNTER_ENUM yields MESH_CTR_<name>, so counter names are unique across modules
 * (they are also the telemetry keys, xstats style: rx_frames, rx_drop_bad_magic ...).
 *
 * A counter table has one row per writer (lcore or control thread); each row is written
 * by exactly one thread with relaxed stores, and readers sum the rows with relaxed loads,
 * so telemetry never takes a lock on the data path.
 */
#define MESH_COUNTER_ENUM(name) MESH_CTR_##name,
#define MESH_COUNTER_NAME(name) #name,

struct mesh_counters {
	const char *const *names;
	uint32_t n_counters;
	uint32_t n_rows;
	uint32_t row_stride; /* in uint64_t, rounded to a cache line */
	uint64_t *values;
};

/** Allocate a zeroed table of @n_rows rows of @n counters. 0 or -ENOMEM / -EINVAL. */
int mesh_counters_create(struct mesh_counters *t, const char *const *names, uint32_t n,
			 uint32_t n_rows);
void mesh_counters_destroy(struct mesh_counters *t);

/** The row written by one thread. @row < n_rows (callers clamp foreign threads). */
static inline uint64_t *
mesh_counters_row(const struct mesh_counters *t, uint32_t row)
{
	return t->values + (size_t)row * t->row_stride;
}

/** Single-writer increment: a relaxed store, safe against concurrent relaxed readers. */
static inline void
mesh_counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t
mesh_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/** Sum of counter @idx over all rows. */
uint64_t mesh_counters_sum(const struct mesh_counters *t, uint32_t idx);

/** Sum every counter into @out[n_counters]. */
void mesh_counters_sum_all(const struct mesh_counters *t, uint64_t *out);

/* ---------------------------------------------------------------- histogram */

/**
 * Log-linear latency histogram (HDR style): values below 16 ns have their own bucket, above
 * that every power of two is split in 16 sub-buckets, so a bucket is at most 1/16 (6.25 %)
 * wide relative to its values. Values at or above 2^40 ns (~18 min) land in the last
 * bucket. One writer (relaxed stores, like counters), any number of relaxed readers; a
 * reader sees each field consistent, not the histogram as a whole (good enough for
 * percentiles that are snapshots anyway).
 */
#define MESH_HIST_SUB_BITS 4u
#define MESH_HIST_TOP_BIT 40u
#define MESH_HIST_BUCKETS (((MESH_HIST_TOP_BIT - MESH_HIST_SUB_BITS) + 1u) << MESH_HIST_SUB_BITS)

struct mesh_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[MESH_HIST_BUCKETS];
};

/** Bucket holding @v. */
uint32_t mesh_hist_bucket(uint64_t v);
/** Smallest and largest value of bucket @i (inclusive). */
uint64_t mesh_hist_bucket_low(uint32_t i);
uint64_t mesh_hist_bucket_high(uint32_t i);
/** Record @v (single writer). */
void mesh_hist_add(struct mesh_hist *h, uint64_t v);
/** Relaxed copy of @h into @out (any thread). */
void mesh_hist_snapshot(const struct mesh_hist *h, struct mesh_hist *out);
/** @out = @a - @b bucket by bucket (a later snapshot minus an earlier one; max from @a). */
void mesh_hist_diff(const struct mesh_hist *a, const struct mesh_hist *b, struct mesh_hist *out);
/**
 * Value at quantile @q (0..1) of a snapshot: the upper bound of the bucket where the
 * cumulative count reaches q * count, never above the recorded max. 0 when empty.
 */
uint64_t mesh_hist_quantile(const struct mesh_hist *h, double q);

/* ---------------------------------------------------------------- arena */

/**
 * Bump allocator over caller memory: O(1) alloc, free everything with reset. Used for
 * per-frame decode scratch (protobuf-c allocator) and config parsing.
 */
struct mesh_arena {
	uint8_t *base;
	size_t size;
	size_t used;
	size_t high_water;
	uint64_t failed; /* allocations refused because the arena was full */
};

/** Use @buf[@size] as the arena's memory. */
void mesh_arena_create(struct mesh_arena *a, void *buf, size_t size);

/** @size bytes aligned to @align (a power of two, 0 = 16); NULL when it does not fit. */
void *mesh_arena_alloc(struct mesh_arena *a, size_t size, size_t align);

/** Forget every allocation (keeps the high-water mark). */
void mesh_arena_reset(struct mesh_arena *a);

/* ---------------------------------------------------------------- hashing */

/** 64-bit xxh3 of @len bytes: keys, digests, node ids. */
uint64_t mesh_hash64(const void *data, size_t len);

/** 64-bit xxh3 with a seed. */
uint64_t mesh_hash64_seed(const void *data, size_t len, uint64_t seed);

/* ---------------------------------------------------------------- random */

/**
 * splitmix64/xoshiro256** generator: deterministic from a seed, used by tests, the
 * simulator and anywhere reproducibility matters. Not for key material (use libsodium).
 */
struct mesh_rng {
	uint64_t s[4];
};

void mesh_rng_seed(struct mesh_rng *r, uint64_t seed);
uint64_t mesh_rng_next(struct mesh_rng *r);
/** Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t mesh_rng_below(struct mesh_rng *r, uint64_t bound);
/** Uniform double in [0, 1). */
double mesh_rng_unit(struct mesh_rng *r);

#ifdef __cplusplus
}
#endif

#endif /* MESH_COMMON_H */
