/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MSGS container plus the zero-copy readers: iterate the records of an arbitrary payload
 * and decode each known hot kind in place; every slice returned must lie inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
in_range(const struct mesh_wire_slice *s, const uint8_t *lo, const uint8_t *hi)
{
	if (s->len > 0 && (s->p < lo || s->p + s->len > hi))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mesh_wire_crdt_op ops[1024];
	static struct mesh_wire_stream_entry ents[1024];
	static struct mesh_wire_crdt_kv kvs[1024];
	static struct mesh_wire_stream_ack ack;
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	struct mesh_wire_crdt_batch b;
	const uint8_t *hi = data + size;
	uint8_t kind;
	uint32_t n;

	mesh_wire_msgr_init(&r, data, size);
	while (mesh_wire_msgr_next(&r, &kind, &body) == 1) {
		in_range(&body, data, hi);
		switch (kind) {
		case MESH_WIRE_KIND_CRDT_BATCH:
			if (mesh_wire_crdt_batch_read(body.p, body.len, &b, ops, 1024) == 0)
				for (uint32_t i = 0; i < b.n_ops; i++) {
					in_range(&ops[i].key, data, hi);
					in_range(&ops[i].value, data, hi);
					in_range(&ops[i].replica_id, data, hi);
				}
			break;
		case MESH_WIRE_KIND_STREAM_BATCH:
			if (mesh_wire_stream_batch_read(body.p, body.len, ents, 1024, &n) == 0)
				for (uint32_t i = 0; i < n; i++) {
					in_range(&ents[i].key, data, hi);
					in_range(&ents[i].data, data, hi);
				}
			break;
		case MESH_WIRE_KIND_STREAM_ACK:
			if (mesh_wire_stream_ack_read(body.p, body.len, &ack) == 0)
				in_range(&ack.error_message, data, hi);
			break;
		case MESH_WIRE_KIND_CRDT_ACK:
			if (mesh_wire_crdt_ack_read(body.p, body.len, kvs, 1024, &n) == 0)
				for (uint32_t i = 0; i < n; i++)
					in_range(&kvs[i].key, data, hi);
			break;
		default:
			break;
		}
	}
	return 0;
}
