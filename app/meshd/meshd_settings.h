/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd settings, private to app/meshd: the one table that describes every setting
 * (meshd_settings.c), the INI reader (meshd_ini.c) and the EAL option check
 * (meshd_eal.c). The command line (meshd_args.c) and the INI file (meshd_config.c) both
 * go through the table; neither knows the other.
 */
#ifndef MESHD_SETTINGS_H
#define MESHD_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "meshd.h"

#define MESHD_SETTING_REPEAT (1u << 0) /* may be given more than once (peer, seed) */
#define MESHD_SETTING_NS     (1u << 1) /* a key of the current [namespace PREFIX] */

#define MESHD_SECTION_NS "namespace" /* the table's name for every [namespace PREFIX] */

struct meshd_setting_def;

/**
 * Check @val and store it; on refusal write the reason (a full phrase, e.g. "invalid
 * value 'x': ...") to @why. 0 or -EINVAL.
 */
typedef int (*meshd_setting_set_f)(struct meshd_cfg *cfg, const struct meshd_setting_def *s,
				   const char *val, char *why, size_t why_len);

/** One setting: where it comes from, how it is checked, what --help says about it. */
struct meshd_setting_def {
	int id;                  /* enum meshd_setting */
	const char *option;      /* long option without "--"; NULL: INI file only */
	const char *section;     /* INI section; NULL: command line only */
	const char *key;         /* INI key */
	const char *arg;         /* value placeholder for --help; NULL: takes no value */
	const char *def;         /* default, applied through @set; NULL: none */
	const char *help;        /* usage text; '\n' starts a continuation line */
	meshd_setting_set_f set; /* NULL: a command, handled by meshd_args.c */
	unsigned flags;          /* MESHD_SETTING_* */
	uint16_t off, size;      /* field of struct meshd_cfg (or meshd_ns_cfg with _NS) */
	uint64_t min, max;       /* numbers: accepted range */
};

/** Write the reason for a refusal to @why (printf-style); returns -EINVAL. */
int meshd_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The parsers of the table (meshd_values.c), each a meshd_setting_set_f. */
#define MESHD_VALUE(name) int name(struct meshd_cfg *cfg, const struct meshd_setting_def *s, \
				   const char *val, char *why, size_t why_len)
MESHD_VALUE(meshd_value_num);     /* decimal number in [min, max] into the field */
MESHD_VALUE(meshd_value_hex);     /* the same, or hex with 0x */
MESHD_VALUE(meshd_value_size);    /* the same, with an optional K, M or G suffix */
MESHD_VALUE(meshd_value_bool);    /* yes|no, true|false, 1|0 into a bool field */
MESHD_VALUE(meshd_value_str);     /* a non-empty string that fits the char[] field */
MESHD_VALUE(meshd_value_name);    /* a node name into the field */
/* settings with their own rules and destination (the field is unused) */
MESHD_VALUE(meshd_value_ip);
MESHD_VALUE(meshd_value_poll);
MESHD_VALUE(meshd_value_profile);
MESHD_VALUE(meshd_value_peer);
MESHD_VALUE(meshd_value_seed);
MESHD_VALUE(meshd_value_fault);
MESHD_VALUE(meshd_value_ns_kind);
MESHD_VALUE(meshd_value_metrics);   /* A.B.C.D:PORT into the field */
MESHD_VALUE(meshd_value_key_file);  /* a loadable key file's path into the field */
MESHD_VALUE(meshd_value_eal_args);  /* checked EAL options into the field */
MESHD_VALUE(meshd_value_ns_defaults); /* yes|no into the (inverted) bool field */

/** The table, ended by an entry with id 0. */
extern const struct meshd_setting_def meshd_settings[];

/** Lookups: NULL when unknown. @section is MESHD_SECTION_NS for [namespace PREFIX]. */
const struct meshd_setting_def *meshd_setting_find(int id);
const struct meshd_setting_def *meshd_setting_find_key(const char *section, const char *key);
const struct meshd_setting_def *meshd_setting_find_option(const char *option);

/** Whether a [section] of that name exists (MESHD_SECTION_NS for namespaces). */
int meshd_setting_section_known(const char *section);

/** Reset @cfg to the defaults of the table. */
void meshd_settings_defaults(struct meshd_cfg *cfg);

/**
 * Receives one line of an INI file: a [section] header (@key and @value NULL) or a
 * "key = value" inside @section. Returns 0, or -errno to stop (after printing why).
 */
typedef int (*meshd_ini_f)(void *ctx, const char *section, const char *key, const char *value,
			   int line);

/**
 * Read the INI file @path line by line: [section] headers, key = value, comments from '#'
 * or ';' (whole lines, or after white space). Prints and stops at the first syntax error
 * ("FILE:LINE: ..."), or when @fn fails. 0 or -EINVAL.
 */
int meshd_ini_parse(const char *path, meshd_ini_f fn, void *ctx);

#define MESHD_EAL_ARGS_MAX 64 /* tokens of [eal] args */

/**
 * Check EAL options @tok[0..@n-1]: every option is one DPDK 22.11's EAL knows, given its
 * value when it needs one; no stray arguments. 0, or -EINVAL with the reason in @why.
 */
int meshd_eal_opts_check(int n, char *const *tok, char *why, size_t why_len);

/** Index of the "--" that ends the command line's EAL options, or @argc. */
int meshd_eal_opts_end(int argc, char **argv);

/** Check the [eal] args value @args (white space separated options). 0 or -EINVAL. */
int meshd_eal_args_check(const char *args, char *why, size_t why_len);

/** meshd --help-eal: have EAL print its usage (EAL exits 0); returns only on failure. */
int meshd_eal_help(const char *prog);

#endif
