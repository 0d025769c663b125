/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/wire micro-benchmarks (single core, figures only, no assertions):
 *   - decode of a full 1400-byte CrdtBatch / StreamBatch frame payload: zero-copy reader vs
 *     protobuf-c unpack (bump arena allocator, and the default malloc allocator):
 *     frames/s and ns per delta (op / entry);
 *   - hand encoder vs protobuf-c pack of the same batch;
 *   - frame seal/open of a 1400-byte payload: AEAD (XChaCha20-Poly1305 + node-key
 *     derivation) and keyless xxh3.
 * Usage: bench_wire [seconds per case, default 0.3]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh.pb-c.h"
#include "mesh_common.h"
#include "mesh_wire.h"
#include "wire_codec.h"

static double secs = 0.3;
static volatile uint64_t sink;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

typedef void (*case_f)(void *ctx);

/* Runs @fn until secs elapsed; returns ns per call. */
static double
measure(case_f fn, void *ctx)
{
	uint64_t n = 0, t0 = now_ns(), t;

	do {
		for (int i = 0; i < 64; i++)
			fn(ctx);
		n += 64;
		t = now_ns();
	} while (t - t0 < (uint64_t)(secs * 1e9));
	return (double)(t - t0) / (double)n;
}

static uint8_t batch[1500], sbatch[1500];
static size_t batch_len, sbatch_len;
static uint32_t batch_ops, sbatch_ents;
static struct mesh_wire_crdt_op ops[256];
static struct mesh_wire_stream_entry ents[256];
static uint8_t arena_mem[1 << 16];

static void
build_batches(void)
{
	char keys[64][32], vals[64][80];
	size_t cap = 1400 - MESH_WIRE_REC_HDR_LEN - mesh_wire_crdt_batch_hdr_size(~0ULL, ~0ULL);

	batch_len = 0;
	for (uint32_t i = 0; i < 64; i++) {
		struct mesh_wire_crdt_op op;

		snprintf(keys[i], sizeof(keys[i]), "worker:http://10.0.%u.%u:8000", i / 8, i);
		snprintf(vals[i], sizeof(vals[i]),
			 "{\"model\":\"llama-3-70b\",\"health\":true,\"load\":0.%02u}", i);
		op = (struct mesh_wire_crdt_op){
			.key = { (const uint8_t *)keys[i], strlen(keys[i]) },
			.value = { (const uint8_t *)vals[i], strlen(vals[i]) },
			.replica_id = { (const uint8_t *)"0191e0e4-5e1f-7000-8000-00000000abcd",
					36 },
			.timestamp = 1000000 + i,
		};
		if (mesh_wire_crdt_batch_put_op(batch, cap, &batch_len, &op) != 0)
			break;
		batch_ops++;
	}
	mesh_wire_crdt_batch_put_hdr(batch, sizeof(batch), &batch_len, 12345, 0xfeedfacecafebeefULL);

	/* td: tree deltas, ~40-byte values */
	for (uint32_t i = 0; i < 200; i++) {
		uint8_t v[40];
		struct mesh_wire_stream_entry e = {
			.key = { (const uint8_t *)"td:llama-3-70b", 14 },
			.data = { v, sizeof(v) },
			.generation = 77 + i,
			.total_chunks = 1,
		};

		memset(v, (int)i, sizeof(v));
		if (mesh_wire_stream_batch_put(sbatch, 1400, &sbatch_len, &e) != 0)
			break;
		sbatch_ents++;
	}
}

static void
zc_crdt(void *ctx)
{
	struct mesh_wire_crdt_batch b;

	(void)ctx;
	mesh_wire_crdt_batch_read(batch, batch_len, &b, ops, 256);
	sink += b.n_ops + ops[b.n_ops - 1].value.len;
}

static void
pbc_crdt_arena(void *ctx)
{
	struct mesh_arena a;
	ProtobufCAllocator al;
	Mesh__Gossip__CrdtBatch *m;

	(void)ctx;
	mesh_arena_create(&a, arena_mem, sizeof(arena_mem));
	mesh_wire_pbc_allocator(&al, &a);
	m = mesh__gossip__crdt_batch__unpack(&al, batch_len, batch);
	sink += m->n_ops + m->ops[m->n_ops - 1]->value.len;
}

static void
pbc_crdt_malloc(void *ctx)
{
	Mesh__Gossip__CrdtBatch *m;

	(void)ctx;
	m = mesh__gossip__crdt_batch__unpack(NULL, batch_len, batch);
	sink += m->n_ops;
	mesh__gossip__crdt_batch__free_unpacked(m, NULL);
}

static void
zc_stream(void *ctx)
{
	uint32_t n;

	(void)ctx;
	mesh_wire_stream_batch_read(sbatch, sbatch_len, ents, 256, &n);
	sink += n + ents[n - 1].data.len;
}

static void
pbc_stream_arena(void *ctx)
{
	struct mesh_arena a;
	ProtobufCAllocator al;
	Mesh__Gossip__StreamBatch *m;

	(void)ctx;
	mesh_arena_create(&a, arena_mem, sizeof(arena_mem));
	mesh_wire_pbc_allocator(&al, &a);
	m = mesh__gossip__stream_batch__unpack(&al, sbatch_len, sbatch);
	sink += m->n_entries;
}

static void
enc_crdt(void *ctx)
{
	static uint8_t out[1500];
	size_t len = 0;

	(void)ctx;
	for (uint32_t i = 0; i < batch_ops; i++)
		mesh_wire_crdt_batch_put_op(out, sizeof(out), &len, &ops[i]);
	mesh_wire_crdt_batch_put_hdr(out, sizeof(out), &len, 12345, 0xfeedfacecafebeefULL);
	sink += len;
}

static Mesh__Gossip__CrdtBatch *pbc_msg;

static void
pbc_pack_crdt(void *ctx)
{
	static uint8_t out[1500];

	(void)ctx;
	sink += mesh__gossip__crdt_batch__pack(pbc_msg, out);
}

struct frame_ctx {
	struct mesh_wire_sec tx, rx;
	uint8_t buf[1500];
	uint8_t scratch[1500];
	size_t n;
};

static void
seal_case(void *arg)
{
	struct frame_ctx *c = arg;
	struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS, .length = 1400, .seq = 1 };

	sink += mesh_wire_frame_seal(&c->tx, c->buf, sizeof(c->buf), &h);
}

static void
open_case(void *arg)
{
	struct frame_ctx *c = arg;
	struct mesh_wire_hdr h;

	memcpy(c->scratch, c->buf, c->n);
	sink += mesh_wire_frame_open(&c->rx, c->scratch, c->n, &h);
}

static void
copy_case(void *arg)
{
	struct frame_ctx *c = arg;

	memcpy(c->scratch, c->buf, c->n);
	sink += c->scratch[7];
}

static void
nodekey_case(void *arg)
{
	struct frame_ctx *c = arg;
	uint8_t k[MESH_WIRE_KEY_LEN];

	mesh_wire_node_key(&c->tx.keyring->keys[0], sink, k);
	sink += k[0];
}

int
main(int argc, char **argv)
{
	struct mesh_wire_crdt_batch b;
	struct mesh_wire_keyring kr;
	uint8_t key[MESH_WIRE_KEY_LEN] = { 42 };
	struct frame_ctx fc;
	double zc, pa, pm, zs, ps, ec, pc, copy;
	uint32_t n;

	if (argc > 1)
		secs = atof(argv[1]);
	build_batches();
	mesh_wire_crdt_batch_read(batch, batch_len, &b, ops, 256);
	pbc_msg = mesh__gossip__crdt_batch__unpack(NULL, batch_len, batch);
	mesh_wire_stream_batch_read(sbatch, sbatch_len, ents, 256, &n);

	printf("decode 1400 B payloads: CrdtBatch %zu B / %u ops, StreamBatch %zu B / %u entries\n",
	       batch_len, batch_ops, sbatch_len, sbatch_ents);
	zc = measure(zc_crdt, NULL);
	pa = measure(pbc_crdt_arena, NULL);
	pm = measure(pbc_crdt_malloc, NULL);
	printf("  CrdtBatch  zero-copy        %8.0f ns/frame %8.2f Mframes/s %6.1f ns/delta\n", zc,
	       1e3 / zc, zc / batch_ops);
	printf("  CrdtBatch  protobuf-c arena %8.0f ns/frame %8.2f Mframes/s %6.1f ns/delta "
	       "(x%.1f)\n", pa, 1e3 / pa, pa / batch_ops, pa / zc);
	printf("  CrdtBatch  protobuf-c malloc%8.0f ns/frame %8.2f Mframes/s %6.1f ns/delta "
	       "(x%.1f)\n", pm, 1e3 / pm, pm / batch_ops, pm / zc);
	zs = measure(zc_stream, NULL);
	ps = measure(pbc_stream_arena, NULL);
	printf("  StreamBatch zero-copy       %8.0f ns/frame %8.2f Mframes/s %6.1f ns/delta\n", zs,
	       1e3 / zs, zs / sbatch_ents);
	printf("  StreamBatch protobuf-c arena%8.0f ns/frame %8.2f Mframes/s %6.1f ns/delta "
	       "(x%.1f)\n", ps, 1e3 / ps, ps / sbatch_ents, ps / zs);
	ec = measure(enc_crdt, NULL);
	pc = measure(pbc_pack_crdt, NULL);
	printf("encode CrdtBatch: hand encoder %.0f ns/frame, protobuf-c pack %.0f ns/frame\n", ec,
	       pc);

	mesh_wire_keyring_init(&kr);
	mesh_wire_keyring_add(&kr, 1, key);
	memset(&fc, 0, sizeof(fc));
	fc.tx = (struct mesh_wire_sec){ .cluster_id = 1, .self_id = 0xAAAA, .keyring = &kr };
	fc.rx = (struct mesh_wire_sec){ .cluster_id = 1, .self_id = 0xBBBB, .keyring = &kr };
	memset(mesh_wire_frame_payload(fc.buf), 0x5a, 1400);
	copy = measure(copy_case, &fc);
	printf("frame of 1400 B payload (memcpy of the frame per open: %.0f ns, subtracted):\n",
	       copy);
	{
		double s1 = measure(seal_case, &fc), o1, dk;
		struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS, .length = 1400, .seq = 1 };

		fc.n = mesh_wire_frame_seal(&fc.tx, fc.buf, sizeof(fc.buf), &h);
		o1 = measure(open_case, &fc) - copy;
		dk = measure(nodekey_case, &fc);
		printf("  AEAD  seal %.0f ns  open %.0f ns  (%.2f / %.2f Gbit/s); of which node-key "
		       "derivation %.0f ns\n", s1, o1, 1400 * 8 / s1, 1400 * 8 / o1, dk);
		fc.tx.keyring = NULL;
		fc.rx.keyring = NULL;
		s1 = measure(seal_case, &fc);
		fc.n = mesh_wire_frame_seal(&fc.tx, fc.buf, sizeof(fc.buf), &h);
		o1 = measure(open_case, &fc) - copy;
		printf("  xxh3  seal %.0f ns  open %.0f ns\n", s1, o1);
	}
	mesh__gossip__crdt_batch__free_unpacked(pbc_msg, NULL);
	mesh_wire_keyring_fini(&kr);
	return sink == 42 ? 1 : 0;
}
