/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the client protocol decoders. meshd's control thread unpacks every
 * message from a local client as a mesh.client.Request, and libmeshclient unpacks what
 * the node sends as a mesh.client.Response; both must refuse garbage without crashing and
 * free what they accept. The fields meshd reads afterwards are walked too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Mesh__Client__Request *q = mesh__client__request__unpack(NULL, size, data);
	Mesh__Client__Response *r = mesh__client__response__unpack(NULL, size, data);

	if (q != NULL) {
		switch (q->op_case) {
		case MESH__CLIENT__REQUEST__OP_PUT:
			sink += q->put->key.len + q->put->value.len;
			break;
		case MESH__CLIENT__REQUEST__OP_PUBLISH:
			sink += q->publish->key.len + q->publish->value.len +
				strlen(q->publish->target) + q->publish->total_len +
				q->publish->offset;
			break;
		case MESH__CLIENT__REQUEST__OP_STATS:
			sink += strlen(q->stats->group);
			break;
		case MESH__CLIENT__REQUEST__OP_BATCH:
			for (size_t i = 0; i < q->batch->n_ops; i++)
				sink += q->batch->ops[i]->key.len + q->batch->ops[i]->value.len +
					(size_t)q->batch->ops[i]->kind + q->batch->ops[i]->owned;
			break;
		case MESH__CLIENT__REQUEST__OP_WATCH:
			sink += q->watch->prefix.len + q->watch->resume_seq;
			break;
		case MESH__CLIENT__REQUEST__OP_SET_METADATA:
			sink += q->set_metadata->metadata.len;
			break;
		case MESH__CLIENT__REQUEST__OP_HELLO:
			sink += strlen(q->hello->client) + q->hello->n_features;
			break;
		default:
			break;
		}
		mesh__client__request__free_unpacked(q, NULL);
	}
	if (r != NULL) {
		sink += strlen(r->error);
		if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_MEMBERS)
			for (size_t i = 0; i < r->members->n_members; i++)
				sink += strlen(r->members->members[i]->name);
		if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_EVENT)
			sink += r->event->key.len + r->event->value.len + r->event->total_len;
		mesh__client__response__free_unpacked(r, NULL);
	}
	return 0;
}
