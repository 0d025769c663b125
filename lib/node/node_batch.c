/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BATCH: up to MESH_NODE_BATCH_MAX puts, deletes and gets applied in order in one pass of
 * the merge core, one result each; a refused op (limits, a reserved key, a stream
 * namespace) refuses only itself. One request and one reply carry what took one round
 * trip per key, and the changes leave together in the next replication frames. The
 * results array is allocated per request (the caller frees it after the reply), and GET
 * values are copied behind it: a later op of the same batch may change or delete the key,
 * so they cannot point into the store. The reply must fit one client message
 * (MESH_NODE_REPLY_MAX): GET values are admitted against what is left once every result's
 * largest fixed part is counted, and a GET past that answers -EMSGSIZE alone. The copy
 * area is only as large as the GETs can need: each one returns the value stored when the
 * batch started or one an earlier op of the batch put, so it needs at most the larger.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

/* a reply's envelope (id, status, code, error, batch field) and one result without its
 * value (status as a 10-byte negative varint, code, found, timestamp, replica, value
 * length, the repeated field's tag and length), encoded, at most */
#define BATCH_REPLY_HEAD 128u
#define BATCH_RESULT_FIXED 48u

_Static_assert(BATCH_REPLY_HEAD + MESH_NODE_BATCH_MAX * BATCH_RESULT_FIXED < MESH_NODE_REPLY_MAX,
	       "a full batch of empty results fits a reply");

/* where GET values go: behind the results, within what the reply has room for */
struct batch_values {
	uint8_t *at;
	size_t room;
};

static int
batch_op(struct mesh_node *n, const struct mesh_node_batch_op *op,
	 struct mesh_node_batch_result *res, struct batch_values *bv, uint64_t now_ns)
{
	struct mesh_crdt_version ver;
	const void *val;
	uint32_t vlen;
	int ret;

	if (node_key_reserved(op->key, op->key_len))
		return -EPERM;
	switch (op->kind) {
	case MESH_NODE_BATCH_PUT:
		return mesh_crdt_put_owned(n->kv, op->key, op->key_len, op->value, op->value_len,
					   now_ns, node_wall(n), op->owned);
	case MESH_NODE_BATCH_DEL:
		return mesh_crdt_delete_origin(n->kv, op->key, op->key_len, now_ns, node_wall(n));
	case MESH_NODE_BATCH_GET:
		ret = mesh_crdt_get(n->kv, op->key, op->key_len, &val, &vlen, &ver);
		if (ret == 0 && vlen > bv->room) {
			NODE_CTR(n, node_batch_get_too_large);
			return -EMSGSIZE;
		}
		if (ret == 0) {
			if (vlen > 0)
				memcpy(bv->at, val, vlen);
			res->found = true;
			res->value = (struct mesh_node_bytes){ .data = bv->at, .len = vlen };
			bv->at += vlen;
			bv->room -= vlen;
			res->timestamp = ver.ts;
			res->replica = ver.replica;
		}
		return ret == -ENOENT ? 0 : ret;
	}
	return -EINVAL;
}

/* what the GETs of @q can copy, at most: per GET, its key's stored value or the largest
 * value an earlier op of the batch puts, whichever is larger (a key can be GET more than
 * once) */
static size_t
batch_values_bound(struct mesh_node *n, const struct mesh_node_req *q)
{
	size_t put_max = 0, need = 0;

	for (uint32_t i = 0; i < q->n_ops; i++) {
		const struct mesh_node_batch_op *op = &q->ops[i];
		uint32_t vlen = 0;

		if (op->kind == MESH_NODE_BATCH_PUT)
			put_max = MESH_MAX(put_max, (size_t)op->value_len);
		if (op->kind != MESH_NODE_BATCH_GET)
			continue;
		if (mesh_crdt_get(n->kv, op->key, op->key_len, NULL, &vlen, NULL) != 0)
			vlen = 0;
		need += MESH_MAX((size_t)vlen, put_max);
	}
	return need;
}

void
node_batch_request(struct mesh_node *n, const struct mesh_node_req *q,
		   struct mesh_node_reply *r, uint64_t now_ns)
{
	struct mesh_node_batch_result *res;
	struct batch_values bv = { 0 };
	size_t head;

	if (q->n_ops > MESH_NODE_BATCH_MAX) {
		r->status = -ENOSPC;
		r->error = "batch larger than max_batch ops";
		return;
	}
	head = (size_t)(q->n_ops ? q->n_ops : 1) * sizeof(*res);
	bv.room = MESH_MIN(batch_values_bound(n, q), MESH_NODE_REPLY_MAX - BATCH_REPLY_HEAD -
							     (size_t)q->n_ops * BATCH_RESULT_FIXED);
	res = malloc(head + bv.room);
	if (res == NULL) {
		r->status = -ENOMEM;
		r->error = "out of memory";
		return;
	}
	memset(res, 0, head);
	bv.at = (uint8_t *)res + head;
	for (uint32_t i = 0; i < q->n_ops; i++) {
		res[i].status = batch_op(n, &q->ops[i], &res[i], &bv, now_ns);
		if (res[i].status < 0)
			NODE_CTR(n, node_batch_op_errors);
	}
	mesh_counter_add(&n->ctr[MESH_NODE_CTR_node_batch_ops], q->n_ops);
	r->type = MESH_NODE_REPLY_BATCH;
	r->results = res;
	r->n_results = q->n_ops;
}
