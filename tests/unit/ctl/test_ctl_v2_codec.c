/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client codec's version 2 parts, without EAL: HelloReq, BatchReq (ops and bytes
 * copied into one allocation; more than MESH_NODE_BATCH_MAX ops answered -ENOSPC with
 * Error NO_SPACE), SetMetadataReq, ClusterReq and PutReq.owned decode into lib/node's
 * request; HelloResp, BatchResp (a code per result), ClusterResp encode from lib/node's
 * replies; every errno maps to one Error (unknown -> INTERNAL).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_internal.h"

#include "ctl_test_fix.h"
}

static Mesh__Client__BatchOp *
op(Mesh__Client__BatchOp *o, Mesh__Client__BatchOp__Kind kind, const char *k, const char *v,
   bool owned)
{
	mesh__client__batch_op__init(o);
	o->kind = kind;
	o->key = (ProtobufCBinaryData){ .len = strlen(k), .data = (uint8_t *)k };
	if (v != NULL)
		o->value = (ProtobufCBinaryData){ .len = strlen(v), .data = (uint8_t *)v };
	o->owned = owned;
	return o;
}

static void
test_decode(void **state)
{
	struct fix f = fix_new();
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__BatchReq b = MESH__CLIENT__BATCH_REQ__INIT;
	Mesh__Client__BatchOp o[3], **list;
	Mesh__Client__HelloReq h = MESH__CLIENT__HELLO_REQ__INIT;
	Mesh__Client__SetMetadataReq sm = MESH__CLIENT__SET_METADATA_REQ__INIT;
	Mesh__Client__ClusterReq cq = MESH__CLIENT__CLUSTER_REQ__INIT;
	Mesh__Client__PutReq p = MESH__CLIENT__PUT_REQ__INIT;
	Mesh__Client__Response *resp;
	const struct mesh_node_batch_op *ops;
	struct ctl_req *q;

	(void)state;
	list = calloc(MESH_NODE_BATCH_MAX + 1, sizeof(*list));
	assert_non_null(list);
	list[0] = op(&o[0], MESH__CLIENT__BATCH_OP__KIND__PUT, "k1", "val", true);
	list[1] = op(&o[1], MESH__CLIENT__BATCH_OP__KIND__GET, "k2", NULL, false);
	list[2] = op(&o[2], MESH__CLIENT__BATCH_OP__KIND__DELETE, "k3", NULL, false);
	b.ops = list;
	b.n_ops = 3;
	req.id = 21;
	req.op_case = MESH__CLIENT__REQUEST__OP_BATCH;
	req.batch = &b;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_BATCH);
	assert_int_equal(q->req.id, 21);
	assert_int_equal(q->req.client_gen, 5);
	assert_int_equal(q->req.n_ops, 3);
	ops = q->req.ops;
	assert_int_equal(ops[0].kind, MESH_NODE_BATCH_PUT);
	assert_true(ops[0].owned);
	assert_int_equal(ops[0].key_len, 2);
	assert_memory_equal(ops[0].key, "k1", 2);
	assert_int_equal(ops[0].value_len, 3);
	assert_memory_equal(ops[0].value, "val", 3);
	/* copied: the bytes live inside the request, not in the protobuf message */
	assert_ptr_not_equal(ops[0].key, o[0].key.data);
	assert_true((const uint8_t *)ops[0].key > (const uint8_t *)q &&
		    (const uint8_t *)ops[2].key < (const uint8_t *)q + sizeof(*q) +
		    3 * sizeof(*ops) + 9);
	assert_int_equal(ops[1].kind, MESH_NODE_BATCH_GET);
	assert_false(ops[1].owned);
	assert_int_equal(ops[2].kind, MESH_NODE_BATCH_DEL);
	assert_memory_equal(ops[2].key, "k3", 2);
	free(q);

	/* over the limit: refused by the control thread, NO_SPACE */
	for (size_t i = 3; i <= MESH_NODE_BATCH_MAX; i++)
		list[i] = &o[1];
	b.n_ops = MESH_NODE_BATCH_MAX + 1;
	req.id = 22;
	assert_null(ctl_codec_request(f.c, 0, &req));
	resp = recv_resp(&f);
	assert_int_equal(resp->id, 22);
	assert_int_equal(resp->status, -ENOSPC);
	assert_int_equal(resp->code, MESH__CLIENT__ERROR__NO_SPACE);
	mesh__client__response__free_unpacked(resp, NULL);
	free(list);

	req.op_case = MESH__CLIENT__REQUEST__OP_HELLO;
	req.hello = &h;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_HELLO);
	free(q);

	sm.metadata = (ProtobufCBinaryData){ .len = 6, .data = (uint8_t *)"z\0ne=a" };
	req.op_case = MESH__CLIENT__REQUEST__OP_SET_METADATA;
	req.set_metadata = &sm;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_SET_METADATA);
	assert_int_equal(q->req.value_len, 6);
	assert_memory_equal(q->req.value, "z\0ne=a", 6);
	free(q);

	req.op_case = MESH__CLIENT__REQUEST__OP_CLUSTER;
	req.cluster = &cq;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_CLUSTER);
	free(q);

	p.key = (ProtobufCBinaryData){ .len = 1, .data = (uint8_t *)"k" };
	p.value = (ProtobufCBinaryData){ .len = 1, .data = (uint8_t *)"v" };
	p.owned = true;
	req.op_case = MESH__CLIENT__REQUEST__OP_PUT;
	req.put = &p;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_PUT);
	assert_true(q->req.owned);
	free(q);
	fix_delete(&f);
}

static void
test_encode(void **state)
{
	struct fix f = fix_new();
	struct mesh_node_batch_result res[3] = {
		{ .status = 0, .timestamp = 9, .replica = 4 },
		{ .status = 0, .found = true, .value = { .data = (const uint8_t *)"v1", .len = 2 } },
		{ .status = -EPERM },
	};
	struct mesh_node_reply r = {
		.type = MESH_NODE_REPLY_HELLO, .client = 0, .client_gen = 5, .id = 1,
		.node_name = { .data = (const uint8_t *)"n0", .len = 2 }, .generation = 100,
		.max_batch = MESH_NODE_BATCH_MAX,
	};
	Mesh__Client__Response *resp;
	bool batch = false;

	(void)state;
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_HELLO);
	assert_int_equal(resp->code, MESH__CLIENT__ERROR__OK);
	assert_int_equal(resp->hello->version, 2);
	assert_string_equal(resp->hello->node, "n0");
	assert_int_equal(resp->hello->generation, 100);
	assert_int_equal(resp->hello->max_batch, MESH_NODE_BATCH_MAX);
	assert_true(resp->hello->max_message > 0);
	for (size_t i = 0; i < resp->hello->n_features; i++)
		batch |= strcmp(resp->hello->features[i], "batch") == 0;
	assert_true(batch);
	mesh__client__response__free_unpacked(resp, NULL);

	r = (struct mesh_node_reply){ .type = MESH_NODE_REPLY_BATCH, .client = 0,
				      .client_gen = 5, .id = 2, .results = res, .n_results = 3 };
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->id, 2);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_BATCH);
	assert_int_equal(resp->batch->n_results, 3);
	assert_int_equal(resp->batch->results[0]->timestamp, 9);
	assert_int_equal(resp->batch->results[0]->replica, 4);
	assert_true(resp->batch->results[1]->found);
	assert_int_equal(resp->batch->results[1]->value.len, 2);
	assert_memory_equal(resp->batch->results[1]->value.data, "v1", 2);
	assert_int_equal(resp->batch->results[2]->status, -EPERM);
	assert_int_equal(resp->batch->results[2]->code, MESH__CLIENT__ERROR__RESERVED);
	mesh__client__response__free_unpacked(resp, NULL);

	r = (struct mesh_node_reply){
		.type = MESH_NODE_REPLY_CLUSTER, .client = 0, .client_gen = 5, .id = 3,
		.cluster = { .alive = 1, .suspect = 0, .dead = 2, .known = 3, .reachable = 1,
			     .quorum = 2, .should_serve = false },
	};
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_CLUSTER);
	assert_int_equal(resp->cluster->dead, 2);
	assert_int_equal(resp->cluster->known, 3);
	assert_int_equal(resp->cluster->quorum, 2);
	assert_false(resp->cluster->should_serve);
	assert_true(resp->cluster->reachable_fraction > 0.33 &&
		    resp->cluster->reachable_fraction < 0.34);
	mesh__client__response__free_unpacked(resp, NULL);

	/* a refusal from the merge core carries its Error too */
	r = (struct mesh_node_reply){ .type = MESH_NODE_REPLY_STATUS, .client = 0,
				      .client_gen = 5, .id = 4, .status = -EMSGSIZE };
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->status, -EMSGSIZE);
	assert_int_equal(resp->code, MESH__CLIENT__ERROR__TOO_LARGE);
	mesh__client__response__free_unpacked(resp, NULL);

	/* the deep copy for the control thread keeps results and the node's name */
	{
		struct mesh_node_reply b = { .type = MESH_NODE_REPLY_BATCH, .results = res,
					     .n_results = 3,
					     .node_name = { .data = (const uint8_t *)"n0",
							    .len = 2 } };
		struct mesh_node_reply *cp = mesh_node_reply_copy(&b);

		assert_non_null(cp);
		assert_ptr_not_equal(cp->results, res);
		assert_ptr_not_equal(cp->results[1].value.data, res[1].value.data);
		assert_memory_equal(cp->results[1].value.data, "v1", 2);
		assert_ptr_not_equal(cp->node_name.data, b.node_name.data);
		assert_memory_equal(cp->node_name.data, "n0", 2);
		free(cp);
	}
	fix_delete(&f);
}

static void
test_error_codes(void **state)
{
	(void)state;
	assert_int_equal(ctl_error_code(0), MESH__CLIENT__ERROR__OK);
	assert_int_equal(ctl_error_code(-ENOENT), MESH__CLIENT__ERROR__NOT_FOUND);
	assert_int_equal(ctl_error_code(-EPERM), MESH__CLIENT__ERROR__RESERVED);
	assert_int_equal(ctl_error_code(-EBADMSG), MESH__CLIENT__ERROR__BAD_MESSAGE);
	assert_int_equal(ctl_error_code(-EBUSY), MESH__CLIENT__ERROR__BUSY);
	assert_int_equal(ctl_error_code(-EFBIG), MESH__CLIENT__ERROR__VALUE_TOO_BIG);
	assert_int_equal(ctl_error_code(-ENOBUFS), MESH__CLIENT__ERROR__NO_BUFFERS);
	assert_int_equal(ctl_error_code(-ENOSPC), MESH__CLIENT__ERROR__NO_SPACE);
	assert_int_equal(ctl_error_code(-EMSGSIZE), MESH__CLIENT__ERROR__TOO_LARGE);
	assert_int_equal(ctl_error_code(-12345), MESH__CLIENT__ERROR__INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_error_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
