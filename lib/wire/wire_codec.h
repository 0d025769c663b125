/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/wire internal: protobuf-c plumbing shared by the codecs, tests, fuzzers and benches
 * (which may include generated headers; the rest of meshd may not).
 */
#ifndef WIRE_CODEC_H
#define WIRE_CODEC_H

#include <protobuf-c/protobuf-c.h>

struct mesh_arena;

/** A ProtobufCAllocator that bump-allocates from @arena and never frees. */
void mesh_wire_pbc_allocator(ProtobufCAllocator *out, struct mesh_arena *arena);

#endif /* WIRE_CODEC_H */
