/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client codec's watch and membership parts, without EAL: WatchReq and
 * MembersWatchReq decode into lib/node's request (prefix, snapshot, resume point);
 * WatchResp, Event.seq/snapshot/snapshot_end and MemberEvent (with the member's
 * metadata) encode from lib/node's replies and reach the client's socket.
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

static void
test_decode(void **state)
{
	struct fix f = fix_new();
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__WatchReq w = MESH__CLIENT__WATCH_REQ__INIT;
	Mesh__Client__MembersWatchReq mw = MESH__CLIENT__MEMBERS_WATCH_REQ__INIT;
	struct ctl_req *q;

	(void)state;
	w.prefix = (ProtobufCBinaryData){ .len = 3, .data = (uint8_t *)"a\0b" };
	w.snapshot = true;
	w.resume = true;
	w.resume_generation = 77;
	w.resume_seq = 1234;
	req.id = 9;
	req.op_case = MESH__CLIENT__REQUEST__OP_WATCH;
	req.watch = &w;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_WATCH);
	assert_int_equal(q->req.id, 9);
	assert_int_equal(q->req.client_gen, 5);
	assert_int_equal(q->req.key_len, 3);
	assert_memory_equal(q->req.key, "a\0b", 3);
	assert_true(q->req.watch.snapshot && q->req.watch.resume);
	assert_int_equal(q->req.watch.generation, 77);
	assert_int_equal(q->req.watch.seq, 1234);
	free(q);
	mw.snapshot = true;
	req.op_case = MESH__CLIENT__REQUEST__OP_MEMBERS_WATCH;
	req.members_watch = &mw;
	q = ctl_codec_request(f.c, 0, &req);
	assert_non_null(q);
	assert_int_equal(q->req.type, MESH_NODE_REQ_MEMBERS_WATCH);
	assert_true(q->req.watch.snapshot);
	free(q);
	fix_delete(&f);
}

static void
test_encode(void **state)
{
	struct fix f = fix_new();
	struct mesh_node_member m = {
		.name = { .data = (const uint8_t *)"n1", .len = 2 },
		.addr = { .ip = 0x0a000001, .port = 7000 },
		.status = MESH_SWIM_SUSPECT, .incarnation = 3, .generation = 101,
		.metadata = { .data = (const uint8_t *)"zone=a", .len = 6 },
	};
	struct mesh_node_reply r = {
		.type = MESH_NODE_REPLY_WATCH, .client = 0, .client_gen = 5, .id = 4,
		.subscription = 12, .generation = 100, .seq = 55, .missed = true,
	};
	Mesh__Client__Response *resp;

	(void)state;
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->id, 4);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_WATCH);
	assert_int_equal(resp->watch->subscription, 12);
	assert_int_equal(resp->watch->generation, 100);
	assert_int_equal(resp->watch->seq, 55);
	assert_true(resp->watch->missed);
	assert_false(resp->watch->resumed);
	mesh__client__response__free_unpacked(resp, NULL);

	r = (struct mesh_node_reply){
		.type = MESH_NODE_REPLY_EVENT, .client = 0, .client_gen = 5,
		.subscription = 12, .key = { .data = (const uint8_t *)"k", .len = 1 },
		.value = { .data = (const uint8_t *)"v", .len = 1 }, .seq = 56,
		.snapshot = true, .snapshot_end = true,
	};
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_EVENT);
	assert_int_equal(resp->event->seq, 56);
	assert_true(resp->event->snapshot && resp->event->snapshot_end);
	mesh__client__response__free_unpacked(resp, NULL);

	r = (struct mesh_node_reply){
		.type = MESH_NODE_REPLY_MEMBER_EVENT, .client = 0, .client_gen = 5,
		.subscription = 13, .member_event = MESH_NODE_MEMBER_SUSPECT, .members = &m,
		.n_members = 1, .dropped = 2,
	};
	ctl_codec_reply(f.c, &r);
	resp = recv_resp(&f);
	assert_int_equal(resp->id, 0);
	assert_int_equal(resp->result_case, MESH__CLIENT__RESPONSE__RESULT_MEMBER_EVENT);
	assert_int_equal(resp->member_event->subscription, 13);
	assert_int_equal(resp->member_event->kind, MESH__CLIENT__MEMBER_EVENT__KIND__SUSPECT);
	assert_int_equal(resp->member_event->dropped, 2);
	assert_string_equal(resp->member_event->member->name, "n1");
	assert_string_equal(resp->member_event->member->address, "10.0.0.1:7000");
	assert_string_equal(resp->member_event->member->status, "suspect");
	assert_int_equal(resp->member_event->member->generation, 101);
	assert_int_equal(resp->member_event->member->metadata.len, 6);
	assert_memory_equal(resp->member_event->member->metadata.data, "zone=a", 6);
	mesh__client__response__free_unpacked(resp, NULL);
	/* the deep copy for the control thread keeps the metadata */
	{
		struct mesh_node_reply *cp = mesh_node_reply_copy(&r);

		assert_non_null(cp);
		assert_ptr_not_equal(cp->members[0].metadata.data, m.metadata.data);
		assert_memory_equal(cp->members[0].metadata.data, "zone=a", 6);
		free(cp);
	}
	fix_delete(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
