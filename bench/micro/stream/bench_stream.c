/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stream micro-benchmarks (single core, figures only): two instances wired back to
 * back in memory (no framing), measuring
 *   - CRDT ops through the reliable channel: publish -> batch -> decode -> apply -> ack;
 *   - a 5 MiB stream value: chunk -> reassemble -> deliver (MB/s).
 * Usage: bench_stream [ops, default 200000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_stream.h"

struct q {
	uint64_t to;
	size_t len;
	uint8_t p[1500];
};

static struct q *fq;
static uint32_t fq_n, fq_cap = 1 << 16;
static struct mesh_stream *sa, *sb;
static uint64_t applied, acked, delivered_bytes;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
env_send(void *ctx, uint64_t peer, const uint8_t *p, size_t len)
{
	(void)ctx;
	if (fq_n == fq_cap)
		abort();
	fq[fq_n].to = peer;
	fq[fq_n].len = len;
	memcpy(fq[fq_n].p, p, len);
	fq_n++;
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n,
	  bool *fresh)
{
	(void)fresh;
	(void)ctx;
	(void)from;
	(void)ops;
	applied += n;
	return 0;
}

static void
env_acked(void *ctx, uint64_t peer, const uint64_t *v, uint32_t n)
{
	(void)ctx;
	(void)peer;
	(void)v;
	acked += n;
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
	delivered_bytes += len;
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.crdt_acked = env_acked,
	.stream_deliver = env_deliver,
};

static void
drain(uint64_t now)
{
	while (fq_n > 0) {
		uint32_t n = fq_n;
		static struct q tmp[1 << 16];

		memcpy(tmp, fq, n * sizeof(*fq));
		fq_n = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct mesh_stream *to = tmp[i].to == 1 ? sa : sb;

			mesh_stream_rx_payload(to, tmp[i].to == 1 ? 2 : 1, tmp[i].p, tmp[i].len,
					       now);
		}
		mesh_stream_flush(sa, now);
		mesh_stream_flush(sb, now);
	}
}

int
main(int argc, char **argv)
{
	struct mesh_stream_config c;
	uint64_t n_ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000, t0, t1, now = 1;
	char key[32], val[64];
	uint8_t *big;
	size_t big_len = 5u << 20;

	fq = malloc(fq_cap * sizeof(*fq));
	mesh_stream_config_default(&c);
	c.self_id = 1;
	c.chunk_burst = 4096;
	sa = mesh_stream_new(&c, &env, NULL);
	c.self_id = 2;
	sb = mesh_stream_new(&c, &env, NULL);
	mesh_stream_peer_add(sa, 2, 0);
	mesh_stream_peer_add(sb, 1, 0);

	memset(val, 'v', sizeof(val));
	t0 = now_ns();
	for (uint64_t i = 0; i < n_ops; i++) {
		struct mesh_stream_op op = {
			.key = (const uint8_t *)key,
			.value = (const uint8_t *)val,
			.value_len = 48,
			.replica = (const uint8_t *)"0191e0e4-5e1f-7000-8000-00000000abcd",
			.replica_len = 36,
			.timestamp = i + 1,
			.version = i,
		};

		op.key_len = (uint32_t)snprintf(key, sizeof(key), "worker:%llu",
						(unsigned long long)(i % 5000));
		mesh_stream_op_publish(sa, &op, now);
		if (i % 64 == 63) { /* one poll iteration: idle flush, deliver, acks back */
			mesh_stream_flush(sa, now);
			drain(now);
		}
	}
	mesh_stream_flush(sa, now);
	drain(now);
	t1 = now_ns();
	printf("crdt ops through the reliable channel: %llu ops in %.3f s = %.2f Mops/s, "
	       "%.0f ns/op (applied %llu, acked %llu, batches %llu)\n",
	       (unsigned long long)n_ops, (double)(t1 - t0) / 1e9,
	       (double)n_ops / ((double)(t1 - t0) / 1e3), (double)(t1 - t0) / (double)n_ops,
	       (unsigned long long)applied, (unsigned long long)acked,
	       (unsigned long long)mesh_stream_counters(sa)[MESH_STREAM_CTR_tx_crdt_batches]);

	big = malloc(big_len);
	memset(big, 0x33, big_len);
	t0 = now_ns();
	for (int r = 0; r < 4; r++) {
		mesh_stream_value_send(sa, 0, "tree:page:x", 11, big, big_len, now);
		for (int k = 0; k < 100 && delivered_bytes < (uint64_t)(r + 1) * big_len; k++) {
			now += 100 * MESH_NS_PER_MS;
			mesh_stream_flush(sa, now);
			drain(now);
		}
	}
	t1 = now_ns();
	printf("5 MiB stream value chunk + reassemble + deliver: %.1f MB/s (%llu bytes)\n",
	       (double)delivered_bytes / ((double)(t1 - t0) / 1e3),
	       (unsigned long long)delivered_bytes);
	free(big);
	mesh_stream_delete(sa);
	mesh_stream_delete(sb);
	free(fq);
	return 0;
}
