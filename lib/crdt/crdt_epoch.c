/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EpochMaxWins values: exactly 16 bytes, big-endian {u64 epoch, i64 count}. Order: higher
 * epoch wins, then higher (signed) count. A reset writes a higher epoch with count 0 and
 * must beat an old high count, which a plain max over the bytes would not guarantee for
 * negative counts. Malformed (length != 16) loses to well-formed; both malformed keep
 * local. The store itself never holds a malformed value (put and apply refuse them), so
 * inside the store the merge is a true join: commutative, associative, idempotent.
 */
#include "crdt_internal.h"

static inline uint64_t
load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
mesh_crdt_epoch_encode(uint64_t epoch, int64_t count, uint8_t out[MESH_CRDT_EPOCH_LEN])
{
	store_be64(out, epoch);
	store_be64(out + 8, (uint64_t)count);
}

int
mesh_crdt_epoch_decode(const void *buf, size_t len, struct mesh_crdt_epoch *out)
{
	const uint8_t *p = buf;

	if (len != MESH_CRDT_EPOCH_LEN || buf == NULL)
		return -EINVAL;
	out->epoch = load_be64(p);
	out->count = (int64_t)load_be64(p + 8);
	return 0;
}

int
mesh_crdt_epoch_merge(const void *local, size_t local_len, const void *remote,
		      size_t remote_len)
{
	struct mesh_crdt_epoch l, r;
	bool lok = mesh_crdt_epoch_decode(local, local_len, &l) == 0;
	bool rok = mesh_crdt_epoch_decode(remote, remote_len, &r) == 0;

	if (!rok)
		return 0; /* malformed remote never wins */
	if (!lok)
		return 1; /* well-formed remote beats malformed local */
	if (r.epoch != l.epoch)
		return r.epoch > l.epoch;
	return r.count > l.count;
}
