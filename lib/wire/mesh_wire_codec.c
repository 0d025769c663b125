/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * protobuf-c codecs for the cold messages (Heartbeat, StreamNack, CrdtDigest). Decoding
 * allocates only from a caller's bump arena (mesh_arena) through a ProtobufCAllocator
 * whose free is a no-op, so a decode costs no malloc and is released by an arena reset.
 * Generated types stay in this file; callers see the mesh_wire_* host structs.
 */
#include <errno.h>
#include <string.h>

#include "mesh.pb-c.h"
#include "mesh_common.h"
#include "mesh_wire.h"
#include "wire_codec.h"

static void *
arena_alloc(void *data, size_t size)
{
	return mesh_arena_alloc(data, size, 0);
}

static void
arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

void
mesh_wire_pbc_allocator(ProtobufCAllocator *out, struct mesh_arena *arena)
{
	out->alloc = arena_alloc;
	out->free = arena_free;
	out->allocator_data = arena;
}

static int
pack(const ProtobufCMessage *m, uint8_t *buf, size_t cap)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if (n > cap)
		return -ENOSPC;
	return (int)protobuf_c_message_pack(m, buf);
}

static void *
unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
       struct mesh_arena *arena)
{
	ProtobufCAllocator a;

	mesh_wire_pbc_allocator(&a, arena);
	return protobuf_c_message_unpack(d, &a, len, p);
}

int
mesh_wire_heartbeat_encode(uint8_t *buf, size_t cap, const struct mesh_wire_heartbeat *m)
{
	Mesh__Gossip__Heartbeat hb = MESH__GOSSIP__HEARTBEAT__INIT;

	hb.epoch = m->epoch;
	hb.next_sequence = m->next_seq;
	hb.sent_ns = m->sent_ns;
	return pack(&hb.base, buf, cap);
}

int
mesh_wire_heartbeat_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
			   struct mesh_wire_heartbeat *m)
{
	Mesh__Gossip__Heartbeat *hb = unpack(&mesh__gossip__heartbeat__descriptor, p, len, arena);

	if (hb == NULL)
		return -EBADMSG;
	m->epoch = hb->epoch;
	m->next_seq = hb->next_sequence;
	m->sent_ns = hb->sent_ns;
	return 0;
}

int
mesh_wire_stream_nack_encode(uint8_t *buf, size_t cap, const struct mesh_wire_stream_nack *m)
{
	Mesh__Gossip__StreamNack nk = MESH__GOSSIP__STREAM_NACK__INIT;
	char key[256];

	/* protobuf-c strings are NUL-terminated; stream keys are short and NUL-free */
	if (m->key.len >= sizeof(key) || memchr(m->key.p, 0, m->key.len) != NULL)
		return -EINVAL;
	memcpy(key, m->key.p, m->key.len);
	key[m->key.len] = 0;
	nk.key = key;
	nk.generation = m->generation;
	nk.origin = m->origin;
	nk.n_missing = m->n_missing;
	nk.missing = (uint32_t *)(uintptr_t)m->missing;
	return pack(&nk.base, buf, cap);
}

int
mesh_wire_stream_nack_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
			     struct mesh_wire_stream_nack *m)
{
	Mesh__Gossip__StreamNack *nk =
		unpack(&mesh__gossip__stream_nack__descriptor, p, len, arena);

	if (nk == NULL)
		return -EBADMSG;
	m->key.p = (const uint8_t *)nk->key;
	m->key.len = strlen(nk->key);
	m->generation = nk->generation;
	m->origin = nk->origin;
	m->n_missing = (uint32_t)nk->n_missing;
	m->missing = nk->missing;
	return 0;
}

int
mesh_wire_digest_encode(uint8_t *buf, size_t cap, const struct mesh_wire_digest *m)
{
	Mesh__Gossip__CrdtDigest d = MESH__GOSSIP__CRDT_DIGEST__INIT;

	d.bucket_count = m->bucket_count;
	d.n_bucket_hash = m->n_hashes;
	d.bucket_hash = (uint64_t *)(uintptr_t)m->bucket_hash;
	d.key_count = m->key_count;
	d.reply = m->reply;
	d.level = m->level;
	d.n_groups = m->n_groups;
	d.groups = (uint32_t *)(uintptr_t)m->groups;
	return pack(&d.base, buf, cap);
}

int
mesh_wire_digest_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
			struct mesh_wire_digest *m)
{
	Mesh__Gossip__CrdtDigest *d = unpack(&mesh__gossip__crdt_digest__descriptor, p, len, arena);

	if (d == NULL)
		return -EBADMSG;
	m->bucket_count = d->bucket_count;
	m->n_hashes = (uint32_t)d->n_bucket_hash;
	m->bucket_hash = d->bucket_hash;
	m->key_count = d->key_count;
	m->reply = d->reply;
	m->level = d->level;
	m->n_groups = (uint32_t)d->n_groups;
	m->groups = d->groups;
	return 0;
}
