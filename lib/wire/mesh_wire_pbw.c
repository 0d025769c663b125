/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Encoders for the hot messages, writing the same bytes protobuf-c packs (fields in number
 * order, proto3 zero values omitted, repeated scalars packed) without building generated
 * structs: the stream layer appends ops/entries straight into a frame's payload. Each
 * append computes its exact size first and writes nothing when it does not fit.
 */
#include <errno.h>
#include <string.h>

#include "mesh_wire.h"

static inline size_t
vsize(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint8_t *
wvar(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *
wfix64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* size of "tag + len + bytes" for a length-delimited field (0 if empty: proto3 default) */
static inline size_t
lsize(size_t len)
{
	return len == 0 ? 0 : 1 + vsize(len) + len;
}

static inline size_t
usize(uint64_t v)
{
	return v == 0 ? 0 : 1 + vsize(v);
}

static inline size_t
f64size(uint64_t v)
{
	return v == 0 ? 0 : 9;
}

static inline uint8_t *
wlen(uint8_t *p, uint32_t field, const struct mesh_wire_slice *s)
{
	if (s->len == 0)
		return p;
	*p++ = (uint8_t)(field << 3 | 2);
	p = wvar(p, s->len);
	memcpy(p, s->p, s->len);
	return p + s->len;
}

static inline uint8_t *
wu(uint8_t *p, uint32_t field, uint64_t v)
{
	if (v == 0)
		return p;
	*p++ = (uint8_t)(field << 3);
	return wvar(p, v);
}

static inline uint8_t *
wf64(uint8_t *p, uint32_t field, uint64_t v)
{
	if (v == 0)
		return p;
	*p++ = (uint8_t)(field << 3 | 1);
	return wfix64(p, v);
}

static size_t
crdt_op_body(const struct mesh_wire_crdt_op *op)
{
	return lsize(op->key.len) + lsize(op->value.len) + (op->tombstone ? 2 : 0) +
	       usize(op->timestamp) + lsize(op->replica_id.len) + f64size(op->origin_ns) +
	       (op->owned ? 2 : 0);
}

size_t
mesh_wire_crdt_op_wire_size(const struct mesh_wire_crdt_op *op)
{
	size_t b = crdt_op_body(op);

	return 1 + vsize(b) + b;
}

size_t
mesh_wire_crdt_batch_hdr_size(uint64_t seq, uint64_t epoch)
{
	return usize(seq) + f64size(epoch);
}

int
mesh_wire_crdt_batch_put_op(uint8_t *buf, size_t cap, size_t *len,
			    const struct mesh_wire_crdt_op *op)
{
	size_t b = crdt_op_body(op);
	uint8_t *p = buf + *len;

	if (1 + vsize(b) + b > cap - *len)
		return -ENOSPC;
	*p++ = 0x0a;
	p = wvar(p, b);
	p = wlen(p, 1, &op->key);
	p = wlen(p, 2, &op->value);
	if (op->tombstone) {
		*p++ = 3 << 3;
		*p++ = 1;
	}
	p = wu(p, 4, op->timestamp);
	p = wlen(p, 5, &op->replica_id);
	p = wf64(p, 6, op->origin_ns);
	if (op->owned) {
		*p++ = 7 << 3;
		*p++ = 1;
	}
	*len = (size_t)(p - buf);
	return 0;
}

int
mesh_wire_crdt_batch_put_hdr(uint8_t *buf, size_t cap, size_t *len, uint64_t seq,
			     uint64_t epoch)
{
	uint8_t *p = buf + *len;

	if (mesh_wire_crdt_batch_hdr_size(seq, epoch) > cap - *len)
		return -ENOSPC;
	p = wu(p, 2, seq);
	p = wf64(p, 3, epoch);
	*len = (size_t)(p - buf);
	return 0;
}

size_t
mesh_wire_crdt_batch_frag_size(uint32_t index, uint32_t total, size_t dlen)
{
	return usize(index) + usize(total) + lsize(dlen);
}

int
mesh_wire_crdt_batch_put_frag(uint8_t *buf, size_t cap, size_t *len, uint32_t index,
			      uint32_t total, const uint8_t *data, size_t dlen)
{
	struct mesh_wire_slice d = { data, dlen };
	uint8_t *p = buf + *len;

	if (mesh_wire_crdt_batch_frag_size(index, total, dlen) > cap - *len)
		return -ENOSPC;
	p = wu(p, 4, index);
	p = wu(p, 5, total);
	p = wlen(p, 6, &d);
	*len = (size_t)(p - buf);
	return 0;
}

static size_t
stream_entry_body(const struct mesh_wire_stream_entry *e)
{
	return lsize(e->key.len) + usize(e->generation) + usize(e->chunk_index) +
	       usize(e->total_chunks) + lsize(e->data.len) + f64size(e->origin) +
	       f64size(e->origin_ns);
}

size_t
mesh_wire_stream_entry_wire_size(const struct mesh_wire_stream_entry *e)
{
	size_t b = stream_entry_body(e);

	return 1 + vsize(b) + b;
}

int
mesh_wire_stream_batch_put(uint8_t *buf, size_t cap, size_t *len,
			   const struct mesh_wire_stream_entry *e)
{
	size_t b = stream_entry_body(e);
	uint8_t *p = buf + *len;

	if (1 + vsize(b) + b > cap - *len)
		return -ENOSPC;
	*p++ = 0x0a;
	p = wvar(p, b);
	p = wlen(p, 1, &e->key);
	p = wu(p, 2, e->generation);
	p = wu(p, 3, e->chunk_index);
	p = wu(p, 4, e->total_chunks);
	p = wlen(p, 5, &e->data);
	p = wf64(p, 6, e->origin);
	p = wf64(p, 7, e->origin_ns);
	*len = (size_t)(p - buf);
	return 0;
}

int
mesh_wire_crdt_ack_put(uint8_t *buf, size_t cap, size_t *len, const struct mesh_wire_crdt_kv *kv)
{
	size_t b = lsize(kv->key.len) + usize(kv->version) + lsize(kv->replica_id.len);
	uint8_t *p = buf + *len;

	if (1 + vsize(b) + b > cap - *len)
		return -ENOSPC;
	*p++ = 0x0a;
	p = wvar(p, b);
	p = wlen(p, 1, &kv->key);
	p = wu(p, 2, kv->version);
	p = wlen(p, 3, &kv->replica_id);
	*len = (size_t)(p - buf);
	return 0;
}

int
mesh_wire_stream_ack_write(uint8_t *buf, size_t cap, size_t *len,
			   const struct mesh_wire_stream_ack *a)
{
	size_t packed = 0, need;
	uint32_t n = a->n_nacks < MESH_WIRE_ACK_MAX_NACKS ? a->n_nacks : MESH_WIRE_ACK_MAX_NACKS;
	uint8_t *p = buf + *len;

	for (uint32_t i = 0; i < n; i++)
		packed += vsize(a->nacks[i]);
	need = usize(a->seq) + (a->success ? 2 : 0) + lsize(a->error_message.len) +
	       f64size(a->epoch) + f64size(a->sack) + lsize(packed) + (a->reset ? 2 : 0);
	if (need > cap - *len)
		return -ENOSPC;
	p = wu(p, 1, a->seq);
	if (a->success) {
		*p++ = 2 << 3;
		*p++ = 1;
	}
	p = wlen(p, 3, &a->error_message);
	p = wf64(p, 4, a->epoch);
	p = wf64(p, 5, a->sack);
	if (packed > 0) {
		*p++ = 6 << 3 | 2;
		p = wvar(p, packed);
		for (uint32_t i = 0; i < n; i++)
			p = wvar(p, a->nacks[i]);
	}
	if (a->reset) {
		*p++ = 7 << 3;
		*p++ = 1;
	}
	*len = (size_t)(p - buf);
	return 0;
}
