/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream layer receive path: the input is a sequence of records
 * [u8 from][u8 dt_ms][u16 len BE][payload] fed to mesh_stream_rx_payload() from one of
 * four peers, with flush/tick between them, so acks, retransmission, reassembly (chunk
 * input), nacks, heartbeats and digests all run on hostile bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
env_send(void *ctx, uint64_t peer, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)peer;
	(void)p;
	if (len == 0)
		abort();
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n,
	  bool *fresh)
{
	uint64_t x = 0;

	(void)ctx;
	(void)from;
	for (uint32_t i = 0; i < n; i++) { /* touch everything ASan can check */
		x += ops[i].key_len ? ops[i].key[ops[i].key_len - 1] : 0;
		fresh[i] = (x & 8) != 0; /* some are relayed */
	}
	return (x & 7) == 0 ? -EAGAIN : (x & 7) == 1 ? -EINVAL : 0;
}

static void
env_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	    const uint8_t *value, size_t len, uint64_t origin_ns)
{
	volatile uint8_t x;

	(void)origin_ns;
	(void)ctx;
	(void)from;
	(void)origin;
	if (key_len)
		x = key[key_len - 1];
	if (len)
		x = value[len - 1];
	(void)x;
}

static int
env_digest_build(void *ctx, uint8_t *buf, size_t cap, bool reply)
{
	uint64_t h[4] = { 1, 2, 3, 4 };
	struct mesh_wire_digest d = { .bucket_count = 4, .n_hashes = 4, .bucket_hash = h,
				      .reply = reply };

	(void)ctx;
	return mesh_wire_digest_encode(buf, cap, &d);
}

static void
env_digest_recv(void *ctx, uint64_t from, const struct mesh_wire_digest *d)
{
	(void)ctx;
	(void)from;
	if (d->n_hashes > 0 && d->bucket_hash == NULL)
		abort();
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.stream_deliver = env_deliver,
	.digest_build = env_digest_build,
	.digest_recv = env_digest_recv,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_stream_config cfg;
	struct mesh_stream *s;
	uint64_t now = 1;
	size_t off = 0;

	mesh_log_level_set(MESH_LOG_ERR);
	mesh_stream_config_default(&cfg);
	cfg.self_id = 100;
	cfg.max_assemblies = 4;
	cfg.max_assembly_bytes = 1 << 20;
	cfg.max_total_chunks = 4096;
	cfg.direct_max = 3; /* relay mode with 4 peers */
	cfg.digest_interval_ns = 50 * MESH_NS_PER_MS;
	s = mesh_stream_new(&cfg, &env, NULL);
	if (s == NULL)
		abort();
	for (uint64_t p = 1; p <= 3; p++)
		mesh_stream_peer_add(s, p, now);
	while (size - off >= 4) {
		uint8_t from = data[off] & 3;
		uint64_t dt = data[off + 1];
		size_t len = ((size_t)data[off + 2] << 8) | data[off + 3];

		off += 4;
		if (len > size - off)
			len = size - off;
		mesh_stream_rx_payload(s, 1 + from, data + off, len, now);
		off += len;
		mesh_stream_flush(s, now);
		now += dt * MESH_NS_PER_MS;
		if (dt & 1)
			mesh_stream_tick(s, now);
		if (dt == 0xff)
			mesh_stream_peer_remove(s, 1 + from);
	}
	mesh_stream_tick(s, now + 40 * MESH_NS_PER_SEC);
	mesh_stream_delete(s);
	return 0;
}
