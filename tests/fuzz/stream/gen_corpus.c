/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the committed seed corpora of tests/fuzz/wire and tests/fuzz/stream from real
 * encoders (run by hand after a format change: gen_corpus <tests/fuzz dir>).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mesh.pb-c.h"
#include "mesh_stream.h"
#include "mesh_wire.h"

static const char *root;
static int counter;

static void
put(const char *target, const void *a, size_t an, const void *b, size_t bn)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/corpus", root,
		 strncmp(target, "fuzz_wire", 9) == 0 ? "wire" : "stream");
	mkdir(path, 0755);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", target);
	mkdir(path, 0755);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/seed-%03d", counter++);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	if (an)
		fwrite(a, 1, an, f);
	if (bn)
		fwrite(b, 1, bn, f);
	fclose(f);
}

/* captured frames of a sender talking to one peer */
static uint8_t cap[64][1500];
static size_t cap_len[64];
static int n_cap;

static void
env_send(void *ctx, uint64_t peer, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)peer;
	if (n_cap < 64) {
		memcpy(cap[n_cap], p, len);
		cap_len[n_cap++] = len;
	}
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n,
	  bool *fresh)
{
	(void)fresh;
	(void)ctx;
	(void)from;
	(void)ops;
	(void)n;
	return 0;
}

static void
env_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	    const uint8_t *value, size_t len, uint64_t origin_ns)
{
	(void)origin_ns;
	(void)ctx;
	(void)from;
	(void)origin;
	(void)key;
	(void)key_len;
	(void)value;
	(void)len;
}

static int
env_digest_build(void *ctx, uint8_t *buf, size_t cap_, bool reply)
{
	uint64_t h[4] = { 1, 2, 3, 4 };
	struct mesh_wire_digest d = { .bucket_count = 4, .n_hashes = 4, .bucket_hash = h,
				      .reply = reply };

	(void)ctx;
	return mesh_wire_digest_encode(buf, cap_, &d);
}

static void
env_digest_recv(void *ctx, uint64_t from, const struct mesh_wire_digest *d)
{
	(void)ctx;
	(void)from;
	(void)d;
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.stream_deliver = env_deliver,
	.digest_build = env_digest_build,
	.digest_recv = env_digest_recv,
};

static void
stream_seeds(void)
{
	struct mesh_stream_config cfg;
	struct mesh_stream *a;
	struct mesh_stream_op op = {
		.key = (const uint8_t *)"worker:1", .key_len = 8,
		.value = (const uint8_t *)"{\"load\":1}", .value_len = 10,
		.replica = (const uint8_t *)"r1", .replica_len = 2, .timestamp = 5,
	};
	static uint8_t big[3000];
	uint8_t rec[1600];

	mesh_stream_config_default(&cfg);
	cfg.self_id = 2; /* frames appear to come from peer 2 in the fuzzer */
	a = mesh_stream_new(&cfg, &env, NULL);
	mesh_stream_peer_add(a, 100, 0);
	mesh_stream_op_publish(a, &op, 0);
	op.owned = true; /* CrdtOp.owned = 7 */
	op.timestamp = 5;
	op.key = (const uint8_t *)"worker:2";
	mesh_stream_op_publish(a, &op, 0);
	op.owned = false;
	op.tombstone = true;
	op.timestamp = 6;
	mesh_stream_op_publish(a, &op, 0);
	op.value = big; /* a large op: fragment batches */
	op.value_len = 2000;
	op.timestamp = 7;
	mesh_stream_op_publish(a, &op, 0);
	mesh_stream_value_send(a, 0, "td:m", 4, "small", 5, 0);
	mesh_stream_value_send(a, 100, "tree:page:1", 11, big, sizeof(big), 0);
	mesh_stream_flush(a, 0);
	mesh_stream_tick(a, 2 * MESH_NS_PER_SEC); /* heartbeat + retransmission */
	mesh_stream_digest_send(a, 100, false, 2 * MESH_NS_PER_SEC);
	mesh_stream_flush(a, 2 * MESH_NS_PER_SEC);
	for (int i = 0; i < n_cap; i++) {
		rec[0] = 1; /* from peer 2 */
		rec[1] = (uint8_t)(i * 7 + 1);
		rec[2] = (uint8_t)(cap_len[i] >> 8);
		rec[3] = (uint8_t)cap_len[i];
		put("fuzz_stream_rx", rec, 4, cap[i], cap_len[i]);
		put("fuzz_wire_msgs", cap[i], cap_len[i], NULL, 0);
	}
	/* an ack and a nack as the peer would send them */
	{
		struct mesh_wire_stream_ack ack = { .seq = 1, .success = true, .sack = 2,
						    .n_nacks = 1, .nacks = { 2 } };
		uint32_t missing[] = { 0, 2 };
		struct mesh_wire_stream_nack nk = { .key = { (const uint8_t *)"tree:page:1", 11 },
						    .generation = 2, .n_missing = 2,
						    .missing = missing };
		size_t n = 0;
		int m;

		rec[0] = 1;
		rec[1] = 3;
		rec[4] = MESH_WIRE_KIND_STREAM_ACK;
		mesh_wire_stream_ack_write(rec + 7, 512, &n, &ack);
		rec[5] = 0;
		rec[6] = (uint8_t)n;
		rec[4 + 3 + n] = MESH_WIRE_KIND_STREAM_NACK;
		m = mesh_wire_stream_nack_encode(rec + 4 + 3 + n + 3, 512, &nk);
		rec[4 + 3 + n + 1] = 0;
		rec[4 + 3 + n + 2] = (uint8_t)m;
		rec[2] = 0;
		rec[3] = (uint8_t)(3 + n + 3 + (size_t)m);
		put("fuzz_stream_rx", rec, 4 + 3 + n + 3 + (size_t)m, NULL, 0);
	}
	mesh_stream_delete(a);
}

static void
frame_seeds(void)
{
	struct mesh_wire_keyring kr;
	uint8_t k[MESH_WIRE_KEY_LEN] = { 1, 2, 3 };
	uint8_t buf[1600];

	mesh_wire_keyring_init(&kr);
	mesh_wire_keyring_add(&kr, 1, k);
	for (int keyed = 0; keyed < 2; keyed++) {
		for (int i = 0; i < n_cap && i < 4; i++) {
			struct mesh_wire_sec sec = { .cluster_id = 0xC1, .self_id = 0x1111,
						     .keyring = keyed ? &kr : NULL };
			struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS,
						   .length = (uint16_t)cap_len[i],
						   .seq = (uint64_t)i + 1 };
			uint8_t mode = (uint8_t)(keyed ? 1 : 0);
			size_t n;

			memcpy(mesh_wire_frame_payload(buf), cap[i], cap_len[i]);
			n = mesh_wire_frame_seal(&sec, buf, sizeof(buf), &h);
			put("fuzz_wire_frame", &mode, 1, buf, n);
			if (i == 0) {
				put("fuzz_wire_frame", &mode, 1, buf, n / 2);
				buf[0] ^= 0xff;
				put("fuzz_wire_frame", &mode, 1, buf, n);
			}
		}
	}
	mesh_wire_keyring_fini(&kr);
}

static void
pb_seeds(void)
{
	struct mesh_wire_slice body;
	struct mesh_wire_msgr r;
	uint8_t kind, sel;

	/* hot messages from the captured frames, for the differential target */
	for (int i = 0; i < n_cap; i++) {
		mesh_wire_msgr_init(&r, cap[i], cap_len[i]);
		while (mesh_wire_msgr_next(&r, &kind, &body) == 1) {
			switch (kind) {
			case MESH_WIRE_KIND_CRDT_BATCH:
				sel = 0;
				break;
			case MESH_WIRE_KIND_STREAM_BATCH:
				sel = 1;
				break;
			case MESH_WIRE_KIND_STREAM_ACK:
				sel = 2;
				break;
			default:
				continue;
			}
			if (body.len < 400)
				put("fuzz_wire_pb_diff", &sel, 1, body.p, body.len);
			if (kind == MESH_WIRE_KIND_CRDT_BATCH)
				sel = 12;
			else if (kind == MESH_WIRE_KIND_STREAM_BATCH)
				sel = 8;
			else
				sel = 9;
			if (body.len < 400)
				put("fuzz_wire_pbc", &sel, 1, body.p, body.len);
		}
	}
	/* a CrdtAck and the membership shapes */
	{
		Mesh__Gossip__CrdtKeyVersion kv = MESH__GOSSIP__CRDT_KEY_VERSION__INIT, *kvp = &kv;
		Mesh__Gossip__CrdtAck ack = MESH__GOSSIP__CRDT_ACK__INIT;
		Mesh__Gossip__NodeState ns = MESH__GOSSIP__NODE_STATE__INIT, *nsp = &ns;
		Mesh__Gossip__StateSync ss = MESH__GOSSIP__STATE_SYNC__INIT;
		Mesh__Gossip__Ping ping = MESH__GOSSIP__PING__INIT;
		Mesh__Gossip__GossipMessage gm = MESH__GOSSIP__GOSSIP_MESSAGE__INIT;
		uint8_t out[512];
		size_t n;

		kv.key = "worker:1";
		kv.version = 5;
		kv.replica_id = "r1";
		ack.n_entries = 1;
		ack.entries = &kvp;
		n = mesh__gossip__crdt_ack__pack(&ack, out);
		sel = 3;
		put("fuzz_wire_pb_diff", &sel, 1, out, n);
		sel = 14;
		put("fuzz_wire_pbc", &sel, 1, out, n);
		ns.name = "node-a";
		ns.address = "10.0.0.1:7946";
		ns.status = MESH__GOSSIP__NODE_STATUS__ALIVE;
		ns.version = 3;
		ss.n_nodes = 1;
		ss.nodes = &nsp;
		ping.state_sync = &ss;
		gm.payload_case = MESH__GOSSIP__GOSSIP_MESSAGE__PAYLOAD_PING;
		gm.ping = &ping;
		n = mesh__gossip__gossip_message__pack(&gm, out);
		sel = 6;
		put("fuzz_wire_pbc", &sel, 1, out, n);
	}
}

static void
reasm_seeds(void)
{
	/* (peer/key, gen, index, total, dt, len) x N */
	static const uint8_t in_order[] = { 0, 1, 0, 3, 1, 10, 0, 1, 1, 3, 1, 10, 0, 1, 2, 3, 1, 5 };
	static const uint8_t gens[] = { 1, 1, 0, 2, 3, 4, 1, 2, 0, 2, 3, 4, 1, 1, 1, 2, 0xff, 4 };
	static const uint8_t bounds[] = { 0, 1, 0, 9, 1, 100, 1, 1, 0, 9, 1, 100, 2, 1, 0, 9, 1,
					  100, 3, 1, 0, 9, 1, 100, 0x40, 1, 0, 9, 0xfe, 100 };

	put("fuzz_stream_reasm", in_order, sizeof(in_order), NULL, 0);
	put("fuzz_stream_reasm", gens, sizeof(gens), NULL, 0);
	put("fuzz_stream_reasm", bounds, sizeof(bounds), NULL, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <tests/fuzz dir>\n", argv[0]);
		return 2;
	}
	root = argv[1];
	stream_seeds();
	frame_seeds();
	pb_seeds();
	reasm_seeds();
	printf("wrote %d seeds\n", counter);
	return 0;
}
