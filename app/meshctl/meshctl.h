/* SPDX-License-Identifier: BSD-3-Clause */
/* meshctl internals: the options, command table and helpers shared by its files. */
#ifndef MESHCTL_H
#define MESHCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mesh_client.h"

/** Exit statuses. */
enum {
	MESHCTL_EXIT_OK = 0,
	MESHCTL_EXIT_REFUSED = 1,     /* refused by the node, key not found, watch timeout */
	MESHCTL_EXIT_USAGE = 2,       /* bad command line */
	MESHCTL_EXIT_UNREACHABLE = 3, /* no node, connection lost, timeout */
};

/** How values are written on the command line and printed. */
enum meshctl_enc {
	MESHCTL_ENC_TEXT,   /* as they are (JSON: UTF-8 string, else base64) */
	MESHCTL_ENC_HEX,    /* lower-case hex, two digits a byte */
	MESHCTL_ENC_BASE64, /* RFC 4648 base64 with padding */
};

#define MESHCTL_EPOCH_LEN 16 /* epoch_max value: u64 epoch, i64 count, big-endian */
#define MESHCTL_MAX_EPOCH_PREFIX 8

struct meshctl_opts {
	bool json;
	enum meshctl_enc enc;
	int watch_timeout_ms; /* -1: watch waits forever */
	const char *epoch_prefix[MESHCTL_MAX_EPOCH_PREFIX]; /* none given: "rl:" */
	unsigned n_epoch_prefix;
};
extern struct meshctl_opts meshctl;

/*
 * A command: its arguments are checked against @types before the node is contacted, one
 * letter an argument: 's' any text, 'v' a VALUE (text, hex or base64 by --hex/--base64,
 * or @FILE), 'e' a key under an epoch_max prefix, 'u' a decimal u64, 'i' a decimal i64;
 * the first @min are required.
 */
typedef int (*meshctl_cmd_f)(struct mesh_client *c, int argc, char **argv);
struct meshctl_cmd {
	const char *name;
	const char *args;
	const char *types;
	int min;
	const char *help;
	meshctl_cmd_f run;
};
extern const struct meshctl_cmd meshctl_cmds[];
extern const size_t meshctl_n_cmds;

/* ---- meshctl_v2.c: commands of client protocol version 2 */
int meshctl_put_owned(struct mesh_client *c, int argc, char **argv);
int meshctl_put_batch(struct mesh_client *c, int argc, char **argv);
int meshctl_put_pipeline(struct mesh_client *c, int argc, char **argv);
int meshctl_hello(struct mesh_client *c, int argc, char **argv);
int meshctl_cluster(struct mesh_client *c, int argc, char **argv);
int meshctl_meta(struct mesh_client *c, int argc, char **argv);
/** put's variants, chosen by main() from put's first argument. */
extern const struct meshctl_cmd meshctl_put_variants[];
extern const size_t meshctl_n_put_variants;

/* ---- meshctl_value.c: value encodings */

/** @n bytes as a NUL-terminated hex or base64 string (malloc); NULL on ENOMEM. */
char *meshctl_encode(const uint8_t *v, size_t n, enum meshctl_enc enc);
/** Decode hex or base64 text into @out (may be NULL: only check); length or -EINVAL. */
long meshctl_decode(const char *s, enum meshctl_enc enc, uint8_t *out);
/** Whether @key names an epoch_max key (--epoch-prefix, default rl:). */
bool meshctl_epoch_key(const void *key, size_t key_len);
void meshctl_epoch_encode(uint8_t v[MESHCTL_EPOCH_LEN], uint64_t epoch, int64_t count);
/** A VALUE argument in the --hex/--base64 encoding, or a file's bytes for @FILE. */
int meshctl_value_load(const char *arg, uint8_t **out, size_t *len);
/** Print a value for humans: decoded epoch_max, hex, base64, or the bytes (@escape: one line). */
void meshctl_value_print(FILE *f, const void *key, size_t key_len, const uint8_t *v, size_t n,
			 bool escape);
/** Add the value to a JSON object: "value" (text or {epoch, count}), "value_hex", "value_base64". */
int meshctl_value_json(json_t *obj, const void *key, size_t key_len, const uint8_t *v, size_t n);

/* ---- meshctl_out.c: JSON documents, escaping, errors */

/** Print @doc (reference stolen) on one line of stdout; 0, or 1 when it is NULL (no memory). */
int meshctl_json_print(json_t *doc);
/** An unsigned number: a JSON integer, or a decimal string above INT64_MAX. */
json_t *meshctl_json_u64(uint64_t v);
/** Set @field to the bytes as a string when they are UTF-8, else @field_base64. 0 or -ENOMEM. */
int meshctl_json_bytes(json_t *obj, const char *field, const void *p, size_t n);
/** Write bytes on one line: \\ \n \r \t and \xHH for other control bytes and non-UTF-8. */
void meshctl_escape(FILE *f, const void *p, size_t n);
/** Report an error on stderr (text, or a JSON object with --json) and return @status. */
int meshctl_error(int status, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Report a failed client call (the node's reason when it gave one): exit status 1 or 3. */
int meshctl_fail(struct mesh_client *c, const char *what, int err);

/* ---- meshctl_args.c: command-line arguments */

/** Check @argc arguments against @cmd's table entry: 0, or exit status 2 (reported). */
int meshctl_args_check(const struct meshctl_cmd *cmd, int argc, char **argv);

/** A decimal number (no sign, no spaces) up to @max. 0 or -EINVAL. */
int meshctl_parse_u64(const char *s, uint64_t max, uint64_t *out);
/** A decimal number with an optional '-'. 0 or -EINVAL. */
int meshctl_parse_i64(const char *s, int64_t *out);

#endif /* MESHCTL_H */
