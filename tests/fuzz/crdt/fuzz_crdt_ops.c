/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the CRDT store's external inputs: remote ops (as the stream layer
 * hands them over after decoding a CRDT batch) including epoch_max values, interleaved
 * with local puts/deletes, export/ack/rewind, GC and bucket export. The input is a byte
 * program; each record is
 *
 *   u8 cmd | u8 key_len | key | u8 value_len | value | u8 ts | u8 replica
 *
 * Checks: no crash/leak/UB and every refused call returns a -errno this module documents.
 * A second store receives a's exports and bucket repairs (exercising the apply path with
 * ops produced by the store itself).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_crdt.h"

struct rd {
	const uint8_t *p;
	size_t n;
};

static int
take(struct rd *r, size_t k, const uint8_t **out)
{
	if (r->n < k)
		return -1;
	*out = r->p;
	r->p += k;
	r->n -= k;
	return 0;
}

static int
take8(struct rd *r, uint8_t *v)
{
	const uint8_t *p;

	if (take(r, 1, &p))
		return -1;
	*v = *p;
	return 0;
}

static int
known(int rc)
{
	return rc >= 0 || strcmp(mesh_crdt_strerror(rc), "unknown error") != 0;
}

static int
apply_cb(void *ctx, const struct mesh_crdt_op *op)
{
	(void)mesh_crdt_apply(ctx, op, 0, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_crdt_config ca = { .replica_id = 1, .tomb_grace_ns = 5 };
	struct mesh_crdt_config cb = { .replica_id = 2 };
	struct mesh_crdt_ns_config lim = { .prefix = "l:", .kind = MESH_CRDT_NS_LWW,
					   .max_value = 8, .max_keys = 4, .max_bytes = 64 };
	struct mesh_crdt_store *a = mesh_crdt_store_new(&ca), *b = mesh_crdt_store_new(&cb);
	struct rd r = { data, size };
	struct mesh_crdt_op ops[16];
	struct mesh_crdt_sub *sub;
	struct mesh_crdt_event ev;
	uint64_t now = 0;

	if (!a || !b || mesh_crdt_ns_add_defaults(a) || mesh_crdt_ns_add_defaults(b) ||
	    mesh_crdt_ns_add(a, &lim) < 0 || mesh_crdt_ns_add(b, &lim) < 0)
		abort();
	mesh_crdt_peer_add(a, 2);
	sub = mesh_crdt_sub_new(a, "", 0, 4, 256);
	while (r.n > 0) {
		const uint8_t *key, *val;
		uint8_t cmd, kl, vl, ts, rep;
		struct mesh_crdt_epoch e;
		struct mesh_crdt_op op;
		int rc = 0, n;

		if (take8(&r, &cmd) || take8(&r, &kl) || take(&r, kl, &key) || take8(&r, &vl) ||
		    take(&r, vl, &val) || take8(&r, &ts) || take8(&r, &rep))
			break;
		now += ts;
		(void)mesh_crdt_epoch_decode(val, vl, &e);
		(void)mesh_crdt_epoch_merge(key, kl, val, vl);
		switch (cmd % 8) {
		case 0:
		case 1:
		case 2:
			op = (struct mesh_crdt_op){ .key = key, .key_len = kl, .value = val,
						    .value_len = vl, .ts = ts, .replica = rep,
						    .tombstone = cmd & 0x80, .owned = cmd & 0x40 };
			if (cmd % 8 == 2) {
				int res;

				(void)mesh_crdt_apply_batch(a, &op, 1, now, &res);
				rc = res;
			} else {
				rc = mesh_crdt_apply(a, &op, now, NULL);
			}
			break;
		case 3:
			rc = mesh_crdt_put_owned(a, key, kl, val, vl, now, 0, cmd & 0x40);
			if (cmd & 0x80) /* owner-bound keys: a life ends or comes back */
				(void)((cmd & 0x20) ? mesh_crdt_owner_revive(a, rep)
						    : mesh_crdt_owner_expire(a, rep, now) != 0);
			break;
		case 4:
			rc = mesh_crdt_delete(a, key, kl, now);
			break;
		case 5:
			n = mesh_crdt_export(a, 2, ops, 1 + (cmd >> 4), vl * 4u);
			for (int i = 0; i < n; i++)
				(void)mesh_crdt_apply(b, &ops[i], now, NULL);
			if (n > 0 && (cmd & 8))
				rc = mesh_crdt_ack(a, 2, ops[n - 1].seq);
			else if (cmd & 4)
				rc = mesh_crdt_peer_rewind(a, 2);
			break;
		case 6:
			(void)mesh_crdt_gc(a, now, cmd >> 5);
			(void)mesh_crdt_bucket_export(a, (uint32_t)(ts << 4 | rep), apply_cb, b);
			break;
		default:
			rc = (cmd & 16) ? mesh_crdt_stream_publish(a, key, kl, val, vl)
					: mesh_crdt_stream_publish_to(a, rep, key, kl, val, vl);
			if (cmd & 32)
				(void)mesh_crdt_stream_drain(a, -1, NULL, NULL);
			(void)mesh_crdt_stream_deliver(a, rep, key, kl, val, vl);
			while (mesh_crdt_sub_poll(sub, &ev) > 0)
				;
			break;
		}
		if (!known(rc))
			abort();
	}
	/* resend everything to b, then repair differing buckets */
	mesh_crdt_peer_rewind(a, 2);
	{
		struct mesh_crdt_digest *da = malloc(sizeof(*da)), *db = malloc(sizeof(*db));
		uint16_t diff[64];
		uint32_t nd;
		int n;

		while ((n = mesh_crdt_export(a, 2, ops, 16, SIZE_MAX)) > 0)
			for (int i = 0; i < n; i++)
				(void)mesh_crdt_apply(b, &ops[i], now, NULL);
		mesh_crdt_digest_get(a, da);
		mesh_crdt_digest_get(b, db);
		nd = mesh_crdt_digest_diff(da, db, diff, 64);
		for (uint32_t i = 0; i < nd && i < 64; i++)
			(void)mesh_crdt_bucket_export(a, diff[i], apply_cb, b);
		free(da);
		free(db);
	}
	mesh_crdt_sub_delete(sub);
	mesh_crdt_store_delete(a);
	mesh_crdt_store_delete(b);
	return 0;
}
