/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly input: fragments described by the input (peer, key, generation, index,
 * total, length, time step) from four senders go to mesh_stream_reasm_add(); the bounds
 * (per sender and global) must hold after every call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
nack_cb(void *ctx, uint64_t peer, uint64_t origin, const uint8_t *key, size_t key_len,
	uint64_t gen, const uint32_t *missing, uint32_t n)
{
	(void)ctx;
	(void)peer;
	(void)origin;
	(void)key;
	(void)key_len;
	(void)gen;
	if (n == 0 || missing[n - 1] >= 64)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t max_bytes = 4096;
	struct mesh_stream_reasm *r = mesh_stream_reasm_new(3, max_bytes, 64);
	struct mesh_stream_reasm_stats st;
	uint64_t now = 0;

	if (r == NULL)
		abort();
	mesh_stream_reasm_peer_limits(r, 2, 3000); /* per-sender caps below the global ones */
	for (size_t off = 0; off + 6 <= size; off += 6) {
		const uint8_t *d = data + off;
		uint8_t key[2] = { (uint8_t)('a' + (d[0] & 3)), 0 };
		uint8_t *out = NULL;
		size_t n = 0, len = d[5] & 0x7f;
		enum mesh_stream_chunk_res res;

		res = mesh_stream_reasm_add(r, d[0] >> 6, 0, key, 1, d[1] & 3, d[2] & 0x7f,
					    d[3] & 0x7f, d + 1, len > size - off - 1 ? 0 : len, now,
					    &out, &n);
		if (res == MESH_STREAM_CHUNK_COMPLETE)
			free(out);
		mesh_stream_reasm_stats(r, &st);
		if (st.assemblies > 3 || st.bytes > max_bytes)
			abort();
		now += (uint64_t)d[4] * MESH_NS_PER_MS;
		if (d[4] & 1)
			mesh_stream_reasm_nacks(r, now, 1, 1, 16, nack_cb, NULL);
		if (d[4] == 0xff)
			mesh_stream_reasm_gc(r, now, 100 * MESH_NS_PER_MS);
		if (d[4] == 0xfe)
			mesh_stream_reasm_cancel(r, d[0] >> 6, key, 1);
	}
	mesh_stream_reasm_delete(r);
	return 0;
}
