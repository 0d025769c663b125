/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/swim private header: the SWIM blob codec (used by swim.c, the unit tests and the
 * fuzz target).
 *
 * Wire layout of one SWIM blob (all integers big-endian):
 *
 *   0      1      2      3      4 ...
 *   +------+------+------+------+------------------+-----------------+
 *   | ver  | type | flags| slen | sender name      | sender gen u64  |
 *   +------+------+------+------+------------------+-----------------+
 *   type-specific part:
 *     PING      u32 seq | u8 tlen | target name
 *     PING_REQ  u32 seq | u8 tlen | target name | u32 target ip | u16 target port
 *     ACK/NACK  u32 seq
 *     GOSSIP    (nothing)
 *     PUSH_PULL (nothing; flags carry REPLY and JOIN)
 *   u16 n_records, then n records:
 *     u8 status | u8 nlen | name | u64 gen | u32 inc | u32 ip | u16 port |
 *     u16 mlen | meta | (status == SUSPECT: u8 flen | from name)
 *   nothing after the last record.
 *
 * A record is 22 bytes + name (+ 1 + from for SUSPECT) + meta. The decoder validates
 * every length against the remaining bytes, never reads past @len, never allocates and
 * fails with the first problem found (one counter per cause).
 */
#ifndef SWIM_INTERNAL_H
#define SWIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mesh_swim.h"

#define SWIM_WIRE_VERSION 1u

enum swim_msg_type {
	SWIM_MSG_PING = 1,
	SWIM_MSG_PING_REQ = 2,
	SWIM_MSG_ACK = 3,
	SWIM_MSG_NACK = 4,
	SWIM_MSG_GOSSIP = 5,
	SWIM_MSG_PUSH_PULL = 6,
	SWIM_MSG_TYPE_MAX = 6,
};

/* flags */
#define SWIM_F_NACK 0x01u        /* PING_REQ: relay must nack on timeout */
#define SWIM_F_PP_REPLY 0x01u    /* PUSH_PULL: please answer with your state */
#define SWIM_F_PP_JOIN 0x02u     /* PUSH_PULL: sender is joining */

#define SWIM_HDR_FIXED 12u            /* ver type flags slen + gen (name excluded) */
#define SWIM_REC_FIXED 22u            /* record without name, meta, from */
#define SWIM_MAX_RECORDS 1024u        /* decoder cap per blob */

enum swim_decode_err {
	SWIM_DEC_OK = 0,
	SWIM_DEC_SHORT,     /* truncated */
	SWIM_DEC_VERSION,   /* unknown version */
	SWIM_DEC_TYPE,      /* unknown type */
	SWIM_DEC_FLAGS,     /* unknown flag bits for the type */
	SWIM_DEC_NAME,      /* name length 0 or > 64, or a NUL byte in a name */
	SWIM_DEC_META,      /* metadata longer than the bound */
	SWIM_DEC_STATUS,    /* unknown record status */
	SWIM_DEC_TRAILING,  /* bytes after the last record */
	SWIM_DEC_TOO_MANY,  /* more records than rec_cap (or SWIM_MAX_RECORDS) */
	SWIM_DEC_MAX,
};

/** One decoded record; pointers point into the input. */
struct swim_rec {
	uint8_t status;
	uint8_t name_len;
	uint8_t from_len;
	uint16_t meta_len;
	const char *name;
	const char *from;
	const uint8_t *meta;
	uint64_t gen;
	uint32_t inc;
	struct mesh_swim_addr addr;
};

/** One decoded blob; pointers point into the input. */
struct swim_msg {
	uint8_t type;
	uint8_t flags;
	uint8_t sender_len;
	uint8_t target_len;
	const char *sender;
	const char *target;
	uint64_t sender_gen;
	uint32_t seq;
	struct mesh_swim_addr target_addr;
	uint32_t n_rec;
	uint32_t rec_cap;      /* set by the caller: capacity of @rec */
	struct swim_rec *rec;  /* caller-provided array */
};

/**
 * Decode @len bytes into @m (m->rec / m->rec_cap provided by the caller). @meta_max bounds
 * record metadata. SWIM_DEC_OK or the first cause found.
 */
enum swim_decode_err swim_msg_decode(const uint8_t *buf, size_t len, uint32_t meta_max,
				     struct swim_msg *m);

/** Name of a decode error ("short", "version", ...). */
const char *swim_decode_err_name(enum swim_decode_err e);

/** Encoder over a caller buffer. Overflow sets @err and makes every later call a no-op. */
struct swim_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t nrec_off; /* offset of the u16 record count */
	uint16_t n_rec;
	int err;
};

/**
 * Start a blob: header + type-specific part. For PING/PING_REQ pass @target (+@taddr for
 * PING_REQ); @seq for PING/PING_REQ/ACK/NACK. Leaves room for the record count.
 */
void swim_enc_begin(struct swim_enc *e, uint8_t *buf, size_t cap, uint8_t type,
		    uint8_t flags, const char *sender, size_t sender_len, uint64_t sender_gen,
		    uint32_t seq, const char *target, size_t target_len,
		    const struct mesh_swim_addr *taddr);

/** Encoded size of a record. */
size_t swim_rec_size(const struct swim_rec *r);

/** Append a record if it fits within @limit total bytes; 0 when appended, -1 otherwise. */
int swim_enc_rec(struct swim_enc *e, const struct swim_rec *r, size_t limit);

/** Finish (patch the record count); returns the blob length or 0 on overflow. */
size_t swim_enc_end(struct swim_enc *e);

#endif /* SWIM_INTERNAL_H */
