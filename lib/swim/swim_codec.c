/* SPDX-License-Identifier: BSD-3-Clause */
/* SWIM blob codec: a fixed big-endian layout, zero-copy decode, no allocation. */
#include <errno.h>
#include <string.h>

#include "swim_internal.h"

struct rd {
	const uint8_t *p;
	size_t left;
};

static inline int
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

static inline int
rd_u16(struct rd *r, uint16_t *v)
{
	if (r->left < 2)
		return -1;
	*v = (uint16_t)((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return 0;
}

static inline int
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) |
	     r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static inline int
rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (r->left < 8)
		return -1;
	rd_u32(r, &hi);
	rd_u32(r, &lo);
	*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

static inline int
rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

/* A name: u8 length 1..64, bytes without NUL. */
static enum swim_decode_err
rd_name(struct rd *r, const char **name, uint8_t *len)
{
	const uint8_t *b;

	if (rd_u8(r, len) < 0)
		return SWIM_DEC_SHORT;
	if (*len == 0 || *len > MESH_SWIM_NAME_MAX)
		return SWIM_DEC_NAME;
	if (rd_bytes(r, *len, &b) < 0)
		return SWIM_DEC_SHORT;
	if (memchr(b, 0, *len) != NULL)
		return SWIM_DEC_NAME;
	*name = (const char *)b;
	return SWIM_DEC_OK;
}

static uint8_t
known_flags(uint8_t type)
{
	switch (type) {
	case SWIM_MSG_PING_REQ:
		return SWIM_F_NACK;
	case SWIM_MSG_PUSH_PULL:
		return SWIM_F_PP_REPLY | SWIM_F_PP_JOIN;
	default:
		return 0;
	}
}

int
mesh_swim_msg_sender(const uint8_t *msg, size_t len, char *name, uint64_t *gen)
{
	struct rd r = { msg, len };
	const char *n;
	uint8_t ver, type, flags, nlen;

	if (msg == NULL || name == NULL || gen == NULL || rd_u8(&r, &ver) < 0 ||
	    rd_u8(&r, &type) < 0 || rd_u8(&r, &flags) < 0 || ver != SWIM_WIRE_VERSION ||
	    rd_name(&r, &n, &nlen) != SWIM_DEC_OK || rd_u64(&r, gen) < 0)
		return -EBADMSG;
	memcpy(name, n, nlen);
	name[nlen] = 0;
	return 0;
}

enum swim_decode_err
swim_msg_decode(const uint8_t *buf, size_t len, uint32_t meta_max, struct swim_msg *m)
{
	struct rd r = { buf, len };
	enum swim_decode_err e;
	uint8_t ver;
	uint16_t n;

	if (buf == NULL || m == NULL)
		return SWIM_DEC_SHORT;
	if (meta_max > MESH_SWIM_META_MAX)
		meta_max = MESH_SWIM_META_MAX;
	m->n_rec = 0;
	m->target = NULL;
	m->target_len = 0;
	m->seq = 0;
	m->target_addr.ip = 0;
	m->target_addr.port = 0;
	if (rd_u8(&r, &ver) < 0 || rd_u8(&r, &m->type) < 0 || rd_u8(&r, &m->flags) < 0)
		return SWIM_DEC_SHORT;
	if (ver != SWIM_WIRE_VERSION)
		return SWIM_DEC_VERSION;
	if (m->type == 0 || m->type > SWIM_MSG_TYPE_MAX)
		return SWIM_DEC_TYPE;
	if (m->flags & ~known_flags(m->type))
		return SWIM_DEC_FLAGS;
	if ((e = rd_name(&r, &m->sender, &m->sender_len)) != SWIM_DEC_OK)
		return e;
	if (rd_u64(&r, &m->sender_gen) < 0)
		return SWIM_DEC_SHORT;
	switch (m->type) {
	case SWIM_MSG_PING:
	case SWIM_MSG_PING_REQ:
		if (rd_u32(&r, &m->seq) < 0)
			return SWIM_DEC_SHORT;
		if ((e = rd_name(&r, &m->target, &m->target_len)) != SWIM_DEC_OK)
			return e;
		if (m->type == SWIM_MSG_PING_REQ &&
		    (rd_u32(&r, &m->target_addr.ip) < 0 || rd_u16(&r, &m->target_addr.port) < 0))
			return SWIM_DEC_SHORT;
		break;
	case SWIM_MSG_ACK:
	case SWIM_MSG_NACK:
		if (rd_u32(&r, &m->seq) < 0)
			return SWIM_DEC_SHORT;
		break;
	default:
		break;
	}
	if (rd_u16(&r, &n) < 0)
		return SWIM_DEC_SHORT;
	if (n > SWIM_MAX_RECORDS || n > m->rec_cap || (n > 0 && m->rec == NULL))
		return SWIM_DEC_TOO_MANY;
	/* Cheap upper bound before walking: every record needs at least 23 bytes. */
	if ((size_t)n * (SWIM_REC_FIXED + 1) > r.left)
		return SWIM_DEC_SHORT;
	for (uint16_t i = 0; i < n; i++) {
		struct swim_rec *rec = &m->rec[i];

		if (rd_u8(&r, &rec->status) < 0)
			return SWIM_DEC_SHORT;
		if (rec->status < MESH_SWIM_ALIVE || rec->status > MESH_SWIM_LEFT)
			return SWIM_DEC_STATUS;
		if ((e = rd_name(&r, &rec->name, &rec->name_len)) != SWIM_DEC_OK)
			return e;
		if (rd_u64(&r, &rec->gen) < 0 || rd_u32(&r, &rec->inc) < 0 ||
		    rd_u32(&r, &rec->addr.ip) < 0 || rd_u16(&r, &rec->addr.port) < 0 ||
		    rd_u16(&r, &rec->meta_len) < 0)
			return SWIM_DEC_SHORT;
		if (rec->meta_len > meta_max)
			return SWIM_DEC_META;
		if (rd_bytes(&r, rec->meta_len, &rec->meta) < 0)
			return SWIM_DEC_SHORT;
		if (rec->meta_len == 0)
			rec->meta = NULL;
		rec->from = NULL;
		rec->from_len = 0;
		if (rec->status == MESH_SWIM_SUSPECT &&
		    (e = rd_name(&r, &rec->from, &rec->from_len)) != SWIM_DEC_OK)
			return e;
	}
	if (r.left != 0)
		return SWIM_DEC_TRAILING;
	m->n_rec = n;
	return SWIM_DEC_OK;
}

const char *
swim_decode_err_name(enum swim_decode_err e)
{
	static const char *const names[SWIM_DEC_MAX] = {
		"ok", "short", "version", "type", "flags", "name", "meta", "status", "trailing",
		"too_many",
	};

	return (unsigned)e < SWIM_DEC_MAX ? names[e] : "?";
}

/* ---------------------------------------------------------------- encoder */

static inline void
wr(struct swim_enc *e, const void *p, size_t n)
{
	if (e->err || e->len + n > e->cap) {
		e->err = 1;
		return;
	}
	if (n)
		memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static inline void
wr_u8(struct swim_enc *e, uint8_t v)
{
	wr(e, &v, 1);
}

static inline void
wr_u16(struct swim_enc *e, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	wr(e, b, 2);
}

static inline void
wr_u32(struct swim_enc *e, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	wr(e, b, 4);
}

static inline void
wr_u64(struct swim_enc *e, uint64_t v)
{
	wr_u32(e, (uint32_t)(v >> 32));
	wr_u32(e, (uint32_t)v);
}

static inline void
wr_name(struct swim_enc *e, const char *name, size_t len)
{
	if (len == 0 || len > MESH_SWIM_NAME_MAX) {
		e->err = 1;
		return;
	}
	wr_u8(e, (uint8_t)len);
	wr(e, name, len);
}

void
swim_enc_begin(struct swim_enc *e, uint8_t *buf, size_t cap, uint8_t type, uint8_t flags,
	       const char *sender, size_t sender_len, uint64_t sender_gen, uint32_t seq,
	       const char *target, size_t target_len, const struct mesh_swim_addr *taddr)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->n_rec = 0;
	e->err = 0;
	wr_u8(e, SWIM_WIRE_VERSION);
	wr_u8(e, type);
	wr_u8(e, flags);
	wr_name(e, sender, sender_len);
	wr_u64(e, sender_gen);
	switch (type) {
	case SWIM_MSG_PING:
	case SWIM_MSG_PING_REQ:
		wr_u32(e, seq);
		wr_name(e, target, target_len);
		if (type == SWIM_MSG_PING_REQ) {
			wr_u32(e, taddr ? taddr->ip : 0);
			wr_u16(e, taddr ? taddr->port : 0);
		}
		break;
	case SWIM_MSG_ACK:
	case SWIM_MSG_NACK:
		wr_u32(e, seq);
		break;
	default:
		break;
	}
	e->nrec_off = e->len;
	wr_u16(e, 0);
}

size_t
swim_rec_size(const struct swim_rec *r)
{
	return SWIM_REC_FIXED + r->name_len + r->meta_len +
	       (r->status == MESH_SWIM_SUSPECT ? 1u + r->from_len : 0u);
}

int
swim_enc_rec(struct swim_enc *e, const struct swim_rec *r, size_t limit)
{
	size_t sz = swim_rec_size(r);

	if (e->err || e->len + sz > limit || e->len + sz > e->cap || e->n_rec == UINT16_MAX ||
	    e->n_rec >= SWIM_MAX_RECORDS)
		return -1;
	if (r->status == MESH_SWIM_SUSPECT && r->from_len == 0)
		return -1;
	wr_u8(e, r->status);
	wr_name(e, r->name, r->name_len);
	wr_u64(e, r->gen);
	wr_u32(e, r->inc);
	wr_u32(e, r->addr.ip);
	wr_u16(e, r->addr.port);
	wr_u16(e, r->meta_len);
	wr(e, r->meta, r->meta_len);
	if (r->status == MESH_SWIM_SUSPECT)
		wr_name(e, r->from, r->from_len);
	if (e->err)
		return -1;
	e->n_rec++;
	return 0;
}

size_t
swim_enc_end(struct swim_enc *e)
{
	if (e->err)
		return 0;
	e->buf[e->nrec_off] = (uint8_t)(e->n_rec >> 8);
	e->buf[e->nrec_off + 1] = (uint8_t)e->n_rec;
	return e->len;
}
