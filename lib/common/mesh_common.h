/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd common library (pure C, no DPDK): logging with a pluggable hook, rate-limited
 * logging, counters declared once with X-macros and kept per writer slot, time constants
 * and a monotonic clock for non-protocol code, and a bump arena; for programs, parsers of
 * operator input, an INI tokenizer and settings tables (command line, INI file, --help).
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
 * Counters are declared once per module with an X-macro list of (name, description):
 *
 *   #define MESH_CTL_COUNTERS(X) \
 *           X(ctl_requests, "client requests received") \
 *           X(ctl_busy, "client requests refused: the merge core's request ring was full")
 *   enum mesh_ctl_counter { MESH_CTL_COUNTERS(MESH_COUNTER_ENUM) MESH_CTL_CTR_MAX };
 *   static const char *const names[] = { MESH_CTL_COUNTERS(MESH_COUNTER_NAME) };
 *   static const char *const descs[] = { MESH_CTL_COUNTERS(MESH_COUNTER_DESC) };
 *
 * MESH_COUNTER_ENUM yields MESH_CTR_<name>, so counter names are unique across modules
 * (they are also the telemetry keys, xstats style: rx_frames, rx_drop_bad_magic ...).
 * The description is one line for whoever reads a dashboard (it becomes the Prometheus
 * # HELP text): what is counted and, for a drop, why ("frames dropped: AEAD tag did not
 * verify").
 *
 * A counter table has one row per writer (lcore or control thread); each row is written
 * by exactly one thread with relaxed stores, and readers sum the rows with relaxed loads,
 * so telemetry never takes a lock on the data path.
 */
#define MESH_COUNTER_ENUM(name, desc) MESH_CTR_##name,
#define MESH_COUNTER_NAME(name, desc) #name,
#define MESH_COUNTER_DESC(name, desc) desc,

struct mesh_counters {
	const char *const *names;
	const char *const *descs; /* one line per counter, in the order of names */
	uint32_t n_counters;
	uint32_t n_rows;
	uint32_t row_stride; /* in uint64_t, rounded to a cache line */
	uint64_t *values;
};

/**
 * Allocate a zeroed table of @n_rows rows of @n counters named @names and described by
 * @descs (both kept, not copied). 0 or -ENOMEM / -EINVAL.
 */
int mesh_counters_create(struct mesh_counters *t, const char *const *names,
			 const char *const *descs, uint32_t n, uint32_t n_rows);
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

/* ---------------------------------------------------------------- operator input */

/*
 * Parsers of values typed by operators (command lines, configuration and key files),
 * strict so that a typo is an error: 0, or -EINVAL leaving *out untouched.
 */

/** Write a refusal's reason into @err (@len bytes; NULL/0: none), printf-style. -EINVAL. */
int mesh_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Decimal digits only, at most @max ("010" is 10; no sign, blank, base prefix or tail). */
int mesh_parse_u64(const char *s, uint64_t max, uint64_t *out);

/** "0x" (or "0X") and 1..16 hex digits, or a decimal number as mesh_parse_u64(); <= @max. */
int mesh_parse_hex(const char *s, uint64_t max, uint64_t *out);

/** A decimal number with an optional unit K, M or G (either case, powers of 1024); the
 * result is at most @max ("4M" is 4194304). */
int mesh_parse_size(const char *s, uint64_t max, uint64_t *out);

/** yes|no, true|false, 1|0. */
int mesh_parse_bool(const char *s, bool *out);

/** "A.B.C.D", four decimal parts 0..255, into a host-order address. */
int mesh_parse_ipv4(const char *s, uint32_t *ip);

/** "A.B.C.D[:PORT]", PORT 1..65535; without ":PORT" the port is @default_port, and
 * @default_port 0 makes ":PORT" required. */
int mesh_parse_ipv4_port(const char *s, uint16_t default_port, uint32_t *ip, uint16_t *port);

/**
 * Read the file @path into a NUL-terminated buffer (free it; wipe it first if it holds
 * secrets) of *@len bytes. 0, -EFBIG when it is larger than @max bytes, or -errno.
 */
int mesh_file_read(const char *path, size_t max, char **text, size_t *len);

/* ---------------------------------------------------------------- INI files */

#define MESH_INI_SECTION_MAX 128 /* a section header's text, with its NUL */

/**
 * Receives one line of an INI file: a [section] header (@key and @value NULL; @section is
 * the text between the brackets, trimmed) or "key = value" inside @section (both trimmed).
 * Returns 0, or non-zero to stop (after writing why where the caller will find it).
 */
typedef int (*mesh_ini_f)(void *ctx, const char *section, const char *key, const char *value,
			  int line);

/**
 * Tokenize the INI text @text[0..@len-1], named @name in messages, line by line: [section]
 * headers, key = value, comments from '#' or ';' (whole lines, or after white space), blank
 * lines. Stops at the first syntax error (-EINVAL, "NAME:LINE: ..." in @err) or at the
 * first non-zero return of @fn, which it returns. 0 when every line was handed on.
 */
int mesh_ini_parse(const char *text, size_t len, const char *name, mesh_ini_f fn, void *ctx,
		   char *err, size_t err_len);

/** The same for the file @path (at most 1 MiB): "PATH: cannot read: ..." when unreadable. */
int mesh_ini_parse_file(const char *path, mesh_ini_f fn, void *ctx, char *err,
			size_t err_len);

/* ---------------------------------------------------------------- settings tables */

/*
 * A program's settings, each described once in a table (struct mesh_conf_def): its long
 * option, its INI [section] key, default, parser, destination field and help text. The
 * command line, INI files and --help all read the table, so a value is checked the same way
 * wherever it comes from and --help cannot miss a setting. Refusals are full messages in
 * c->err ("FILE:LINE: [section] key: invalid value ..."); nothing here prints them.
 */
#define MESH_CONF_REPEAT (1u << 0) /* may be given more than once */
#define MESH_CONF_SUB    (1u << 1) /* a key of [SECTION NAME]: a field of c->sub */

struct mesh_conf;
struct mesh_conf_def;

/**
 * A setting's parser: check @val and store it (mesh_conf_field() is where); on refusal
 * write the reason ("invalid value 'x': expected ...") to @why. 0 or -EINVAL.
 */
typedef int (*mesh_conf_set_f)(struct mesh_conf *c, const struct mesh_conf_def *d,
			       const char *val, char *why, size_t why_len);
/* a mesh_conf_set_f named @name (a parser may leave @d unused) */
#define MESH_CONF_SETTER(name) \
	int name(struct mesh_conf *c, const struct mesh_conf_def *d __attribute__((unused)), \
		 const char *val, char *why, size_t why_len)

/** One setting. */
struct mesh_conf_def {
	int id;               /**< unique and above 255 (getopt_long returns it); 0 ends a table */
	const char *option;   /**< long option without "--"; NULL: INI file only */
	const char *section;  /**< INI section; NULL: command line only */
	const char *key;      /**< INI key */
	const char *arg;      /**< value placeholder for --help; NULL: takes no value */
	const char *def;      /**< default, applied through @set; NULL: none */
	const char *help;     /**< --help text; '\n' starts a continuation line */
	mesh_conf_set_f set;  /**< NULL: a command (--help...), the program's business */
	unsigned flags;       /**< MESH_CONF_* */
	uint16_t off, size;   /**< the field in c->obj (c->sub with MESH_CONF_SUB) */
	uint64_t min, max;    /**< numbers: accepted range */
};

/**
 * Called at each [section] header of an INI file (@section the table's name, @name "" or
 * the NAME of [SECTION NAME], @where "FILE:LINE: [header]"), and once more with all three
 * NULL after the last line; for sections of MESH_CONF_SUB keys it points c->sub at NAME's
 * fields. 0, or -EINVAL with the reason in c->err.
 */
typedef int (*mesh_conf_section_f)(struct mesh_conf *c, const char *section, const char *name,
				   const char *where);

/** A table applied to one object. */
struct mesh_conf {
	const struct mesh_conf_def *defs; /**< the table, ended by an entry with id 0 */
	void *obj;                    /**< where the settings' fields are */
	void *sub;                    /**< the open [SECTION NAME]'s fields, or NULL */
	const char *sub_arg;          /**< --help's word for NAME ("PREFIX"); NULL: "NAME" */
	mesh_conf_section_f section;  /**< NULL: nothing to do at section headers */
	char err[1024];               /**< why the last call failed */
};

/** Lookups, NULL when unknown. mesh_conf_find_key(defs, section, NULL): the section's first
 * setting (whether the section exists). */
const struct mesh_conf_def *mesh_conf_find(const struct mesh_conf_def *defs, int id);
const struct mesh_conf_def *mesh_conf_find_key(const struct mesh_conf_def *defs,
					       const char *section, const char *key);
const struct mesh_conf_def *mesh_conf_find_option(const struct mesh_conf_def *defs,
						  const char *option);

/** Where setting @d is stored. */
void *mesh_conf_field(const struct mesh_conf *c, const struct mesh_conf_def *d);

/**
 * Check and store @val for setting @id; @where names its origin ("--port", or
 * "file:12: [node] port") in the refusal ("WHERE: invalid value ..."). 0 or -EINVAL.
 */
int mesh_conf_apply(struct mesh_conf *c, int id, const char *val, const char *where);

/** Apply every default of the table. 0 or -EINVAL (a default its parser refuses). */
int mesh_conf_defaults(struct mesh_conf *c);

/* Parsers of plain fields: a number in [min, max] (decimal; or also 0x hex; or a size with
 * K, M, G) into a 1, 2, 4 or 8-byte unsigned field; a bool; a non-empty string that fits
 * the char[] field. */
MESH_CONF_SETTER(mesh_conf_set_num);
MESH_CONF_SETTER(mesh_conf_set_hex);
MESH_CONF_SETTER(mesh_conf_set_size);
MESH_CONF_SETTER(mesh_conf_set_bool);
/* A bool that is also a command-line flag (no value there: the option turns it on). */
MESH_CONF_SETTER(mesh_conf_set_flag);
MESH_CONF_SETTER(mesh_conf_set_str);
/* A string of letters, digits, '.', '_', '-' into the char[] field (a node name). */
MESH_CONF_SETTER(mesh_conf_set_name);
/* A.B.C.D (mesh_parse_ipv4) into a 4-byte field. */
MESH_CONF_SETTER(mesh_conf_set_ipv4);
/* "A.B.C.D:PORT", checked, kept as a string in the char[] field (a listen address). */
MESH_CONF_SETTER(mesh_conf_set_addr);

/**
 * Load the INI file @path: every section and key must be in the table, a section appears
 * once and a key once per section unless MESH_CONF_REPEAT (a repeat names both lines);
 * the settings of MESH_CONF_SUB are keys of [SECTION NAME] sections (see
 * mesh_conf_section_f). Errors name the file, line, section and key. 0 or -EINVAL.
 */
int mesh_conf_ini_load(struct mesh_conf *c, const char *path);

/** Receives one known option of a command line (@d; @val NULL when it takes none, or misses
 * it); @alone: it is the first and only argument, with its value. 0 to go on; non-zero
 * stops the scan. */
typedef int (*mesh_conf_arg_f)(void *ctx, const struct mesh_conf_def *d, const char *val,
			       bool alone);

/** A mesh_conf_arg_f that stores the setting (@ctx: the struct mesh_conf), named "--OPTION"
 * in refusals. */
int mesh_conf_arg_apply(void *ctx, const struct mesh_conf_def *d, const char *val,
			bool alone);

/**
 * getopt_long over the table's options in @argv[1..@argc-1] (@argv[0] is skipped; @argv
 * itself is not reordered): @fn for each known option, until it returns non-zero, which
 * is returned. @strict: an unknown option, a missing value or a stray argument is refused
 * (-EINVAL, message in c->err); lenient: unknown options and stray arguments are skipped,
 * and an option missing its value is handed on with @val NULL. 0 at the end.
 */
int mesh_conf_args_each(struct mesh_conf *c, int argc, char **argv, bool strict,
			mesh_conf_arg_f fn, void *ctx);

/** Print the settings that have an option (@options) or that have none, for --help. */
void mesh_conf_usage(const struct mesh_conf *c, bool options);

#ifdef __cplusplus
}
#endif

#endif /* MESH_COMMON_H */
