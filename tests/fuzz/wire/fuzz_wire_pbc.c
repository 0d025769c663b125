/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every protobuf-c decoder of mesh.proto over a bump arena (the allocator meshd uses),
 * and lib/wire's cold-message wrappers. Byte 0 picks the message type.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh.pb-c.h"
#include "mesh_common.h"
#include "mesh_wire.h"
#include "wire_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const descs[] = {
	&mesh__gossip__node_state__descriptor,   &mesh__gossip__state_sync__descriptor,
	&mesh__gossip__ping__descriptor,         &mesh__gossip__ping_req__descriptor,
	&mesh__gossip__ack__descriptor,          &mesh__gossip__node_update__descriptor,
	&mesh__gossip__gossip_message__descriptor, &mesh__gossip__stream_entry__descriptor,
	&mesh__gossip__stream_batch__descriptor, &mesh__gossip__stream_ack__descriptor,
	&mesh__gossip__stream_nack__descriptor,  &mesh__gossip__crdt_op__descriptor,
	&mesh__gossip__crdt_batch__descriptor,   &mesh__gossip__crdt_key_version__descriptor,
	&mesh__gossip__crdt_ack__descriptor,     &mesh__gossip__heartbeat__descriptor,
	&mesh__gossip__crdt_digest__descriptor,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[1 << 20];
	static uint8_t out[1 << 16];
	struct mesh_arena arena;
	ProtobufCAllocator a;
	ProtobufCMessage *m;
	size_t which;

	if (size < 1)
		return 0;
	which = data[0] % (MESH_ARRAY_SIZE(descs) + 3);
	mesh_arena_create(&arena, mem, sizeof(mem));
	if (which < MESH_ARRAY_SIZE(descs)) {
		mesh_wire_pbc_allocator(&a, &arena);
		m = protobuf_c_message_unpack(descs[which], &a, size - 1, data + 1);
		if (m != NULL) {
			size_t n = protobuf_c_message_get_packed_size(m);

			/* what decoded re-encodes (sizes only grow by canonicalisation limits) */
			if (n <= sizeof(out))
				protobuf_c_message_pack(m, out);
		}
		return 0;
	}
	switch (which - MESH_ARRAY_SIZE(descs)) {
	case 0: {
		struct mesh_wire_heartbeat hb;

		(void)mesh_wire_heartbeat_decode(data + 1, size - 1, &arena, &hb);
		break;
	}
	case 1: {
		struct mesh_wire_stream_nack nk;

		if (mesh_wire_stream_nack_decode(data + 1, size - 1, &arena, &nk) == 0 &&
		    nk.n_missing > 0 && nk.missing == NULL)
			abort();
		break;
	}
	default: {
		struct mesh_wire_digest d;

		if (mesh_wire_digest_decode(data + 1, size - 1, &arena, &d) == 0 &&
		    d.n_hashes > 0 && d.bucket_hash == NULL)
			abort();
		break;
	}
	}
	return 0;
}
