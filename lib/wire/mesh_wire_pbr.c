/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy protobuf reader for the hot messages (CrdtBatch, StreamBatch, StreamAck,
 * CrdtAck). Strings and bytes are returned as slices into the input; nothing is copied or
 * allocated. The accept/reject rules mirror protobuf-c 1.4 (the reference decoder, see
 * tests/unit/wire/test_wire_pb.c and fuzz_wire_pb_diff) so the two never disagree:
 * - tag: at most 5 bytes, first byte with field bits 0 is an error, value truncated to
 *   32 bits; wire types 3, 4, 6, 7 are errors; unknown fields are skipped;
 * - varint: at most 10 bytes; uint32 keeps the low 32 bits; bool is true when any 7-bit
 *   group is non-zero;
 * - length prefix: at most 5 bytes, must fit in the remaining input;
 * - a known field with the wrong wire type is an error, except that repeated scalars
 *   accept both packed (length-delimited) and unpacked encodings, and that bool fields
 *   take any wire type (protobuf-c: true when any 7-bit group of the field's raw bytes,
 *   length prefix included, is non-zero);
 * - scalars: last value wins; repeated fields accumulate.
 */
#include <errno.h>
#include <string.h>

#include "mesh_wire.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct pbf {
	uint32_t field;
	uint8_t wt;
	bool nonzero; /* any 7-bit group of the raw value bytes set (protobuf-c bool) */
	uint64_t v;
	const uint8_t *p; /* WT_LEN body */
	size_t len;
};

static int
rd_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v, bool *nonzero)
{
	const uint8_t *p = *pp;
	size_t max = (size_t)(end - p) < 10 ? (size_t)(end - p) : 10;
	uint64_t x = 0;
	bool nz = false;

	for (size_t i = 0; i < max; i++) {
		if (i < 10)
			x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] & 0x7f)
			nz = true;
		if ((p[i] & 0x80) == 0) {
			*pp = p + i + 1;
			*v = x;
			if (nonzero != NULL)
				*nonzero = nz;
			return 0;
		}
	}
	return -EBADMSG;
}

static uint64_t
rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* 1: field read, 0: end of input, -EBADMSG */
static int
next_field(const uint8_t **pp, const uint8_t *end, struct pbf *f)
{
	const uint8_t *p = *pp;
	size_t rem = (size_t)(end - p), max, i;
	const uint8_t *raw;
	uint64_t tag;

	if (rem == 0)
		return 0;
	if ((p[0] & 0xf8) == 0)
		return -EBADMSG;
	f->wt = p[0] & 7;
	tag = (p[0] & 0x7f) >> 3;
	if (p[0] & 0x80) {
		max = rem < 5 ? rem : 5;
		for (i = 1; i < max; i++) {
			tag |= (uint64_t)(p[i] & 0x7f) << (4 + 7 * (i - 1));
			if ((p[i] & 0x80) == 0)
				break;
		}
		if (i == max)
			return -EBADMSG;
		p += i + 1;
	} else {
		p += 1;
	}
	f->field = (uint32_t)tag;
	rem = (size_t)(end - p);
	raw = p;
	switch (f->wt) {
	case WT_VARINT:
		if (rd_varint(&p, end, &f->v, &f->nonzero) != 0)
			return -EBADMSG;
		break;
	case WT_I64:
		if (rem < 8)
			return -EBADMSG;
		f->v = rd_le(p, 8);
		p += 8;
		break;
	case WT_I32:
		if (rem < 4)
			return -EBADMSG;
		f->v = rd_le(p, 4);
		p += 4;
		break;
	case WT_LEN: {
		uint64_t n = 0;

		max = rem < 5 ? rem : 5;
		for (i = 0; i < max; i++) {
			n |= (uint64_t)(p[i] & 0x7f) << (7 * i);
			if ((p[i] & 0x80) == 0)
				break;
		}
		if (i == max || n > 0x7fffffffu || n > rem - (i + 1))
			return -EBADMSG;
		f->p = p + i + 1;
		f->len = (size_t)n;
		p = f->p + n;
		break;
	}
	default:
		return -EBADMSG;
	}
	if (f->wt != WT_VARINT) {
		f->nonzero = false;
		for (const uint8_t *q = raw; q < p; q++)
			if (*q & 0x7f) {
				f->nonzero = true;
				break;
			}
	}
	*pp = p;
	return 1;
}

#define FOR_EACH_FIELD(p, end, f, rc) while (((rc) = next_field(&(p), (end), &(f))) == 1)

static inline void
set_slice(struct mesh_wire_slice *s, const struct pbf *f)
{
	s->p = f->p;
	s->len = f->len;
}

static int
read_crdt_op(const uint8_t *p, size_t len, struct mesh_wire_crdt_op *op)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	memset(op, 0, sizeof(*op));
	FOR_EACH_FIELD(p, end, f, rc) {
		switch (f.field) {
		case 1:
		case 2:
		case 5:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			set_slice(f.field == 1 ? &op->key : f.field == 2 ? &op->value
									: &op->replica_id,
				  &f);
			break;
		case 3:
			op->tombstone = f.nonzero;
			break;
		case 4:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			op->timestamp = f.v;
			break;
		case 6:
			if (f.wt != WT_I64)
				return -EBADMSG;
			op->origin_ns = f.v;
			break;
		case 7:
			op->owned = f.nonzero;
			break;
		default:
			break;
		}
	}
	return rc;
}

int
mesh_wire_crdt_batch_read(const uint8_t *p, size_t len, struct mesh_wire_crdt_batch *b,
			  struct mesh_wire_crdt_op *ops, uint32_t max_ops)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	memset(b, 0, sizeof(*b));
	FOR_EACH_FIELD(p, end, f, rc) {
		switch (f.field) {
		case 1:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			if (b->n_ops >= max_ops)
				return -E2BIG;
			if (read_crdt_op(f.p, f.len, &ops[b->n_ops]) != 0)
				return -EBADMSG;
			b->n_ops++;
			break;
		case 2:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			b->seq = f.v;
			break;
		case 3:
			if (f.wt != WT_I64)
				return -EBADMSG;
			b->epoch = f.v;
			break;
		case 4:
		case 5:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			if (f.field == 4)
				b->frag_index = (uint32_t)f.v;
			else
				b->frag_total = (uint32_t)f.v;
			break;
		case 6:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			set_slice(&b->frag, &f);
			break;
		default:
			break;
		}
	}
	return rc;
}

static int
read_stream_entry(const uint8_t *p, size_t len, struct mesh_wire_stream_entry *e)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	memset(e, 0, sizeof(*e));
	FOR_EACH_FIELD(p, end, f, rc) {
		switch (f.field) {
		case 1:
		case 5:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			set_slice(f.field == 1 ? &e->key : &e->data, &f);
			break;
		case 2:
		case 3:
		case 4:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			if (f.field == 2)
				e->generation = f.v;
			else if (f.field == 3)
				e->chunk_index = (uint32_t)f.v;
			else
				e->total_chunks = (uint32_t)f.v;
			break;
		case 6:
			if (f.wt != WT_I64)
				return -EBADMSG;
			e->origin = f.v;
			break;
		case 7:
			if (f.wt != WT_I64)
				return -EBADMSG;
			e->origin_ns = f.v;
			break;
		default:
			break;
		}
	}
	return rc;
}

int
mesh_wire_stream_batch_read(const uint8_t *p, size_t len, struct mesh_wire_stream_entry *e,
			    uint32_t max, uint32_t *n)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	*n = 0;
	FOR_EACH_FIELD(p, end, f, rc) {
		if (f.field != 1)
			continue;
		if (f.wt != WT_LEN)
			return -EBADMSG;
		if (*n >= max)
			return -E2BIG;
		if (read_stream_entry(f.p, f.len, &e[*n]) != 0)
			return -EBADMSG;
		(*n)++;
	}
	return rc;
}

int
mesh_wire_stream_ack_read(const uint8_t *p, size_t len, struct mesh_wire_stream_ack *a)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	memset(a, 0, offsetof(struct mesh_wire_stream_ack, nacks));
	FOR_EACH_FIELD(p, end, f, rc) {
		switch (f.field) {
		case 1:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			a->seq = f.v;
			break;
		case 2:
			a->success = f.nonzero;
			break;
		case 3:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			set_slice(&a->error_message, &f);
			break;
		case 4:
		case 5:
			if (f.wt != WT_I64)
				return -EBADMSG;
			if (f.field == 4)
				a->epoch = f.v;
			else
				a->sack = f.v;
			break;
		case 7:
			a->reset = f.nonzero;
			break;
		case 6:
			if (f.wt == WT_VARINT) {
				if (a->n_nacks >= MESH_WIRE_ACK_MAX_NACKS)
					return -E2BIG;
				a->nacks[a->n_nacks++] = f.v;
			} else if (f.wt == WT_LEN) {
				const uint8_t *q = f.p, *qe = f.p + f.len;

				while (q < qe) {
					uint64_t v;

					if (rd_varint(&q, qe, &v, NULL) != 0)
						return -EBADMSG;
					if (a->n_nacks >= MESH_WIRE_ACK_MAX_NACKS)
						return -E2BIG;
					a->nacks[a->n_nacks++] = v;
				}
			} else {
				return -EBADMSG;
			}
			break;
		default:
			break;
		}
	}
	return rc;
}

static int
read_crdt_kv(const uint8_t *p, size_t len, struct mesh_wire_crdt_kv *kv)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	memset(kv, 0, sizeof(*kv));
	FOR_EACH_FIELD(p, end, f, rc) {
		switch (f.field) {
		case 1:
		case 3:
			if (f.wt != WT_LEN)
				return -EBADMSG;
			set_slice(f.field == 1 ? &kv->key : &kv->replica_id, &f);
			break;
		case 2:
			if (f.wt != WT_VARINT)
				return -EBADMSG;
			kv->version = f.v;
			break;
		default:
			break;
		}
	}
	return rc;
}

int
mesh_wire_crdt_ack_read(const uint8_t *p, size_t len, struct mesh_wire_crdt_kv *e,
			uint32_t max, uint32_t *n)
{
	const uint8_t *end = p + len;
	struct pbf f;
	int rc;

	*n = 0;
	FOR_EACH_FIELD(p, end, f, rc) {
		if (f.field != 1)
			continue;
		if (f.wt != WT_LEN)
			return -EBADMSG;
		if (*n >= max)
			return -E2BIG;
		if (read_crdt_kv(f.p, f.len, &e[*n]) != 0)
			return -EBADMSG;
		(*n)++;
	}
	return rc;
}
