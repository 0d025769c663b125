/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream layer in the simulator (tests/sim/core): N nodes of the real lib/stream over real
 * frames (lib/wire seal/open, AEAD or xxh3, per-sender replay windows) on a fake network
 * with loss, duplication and reordering, in virtual time. Scenarios (argv[1]):
 *   crdt      2, 3 and 5 peers x 0/10/30 % loss (+5 % dup, 10 % reorder): every op
 *             reaches every node and is applied exactly once;
 *   bigvalue  a 5 MB stream value between two peers at 5 % loss (nack repair);
 *   n200      200 nodes, epidemic relay (fanout 3) + digest anti-entropy: every change
 *             reaches every node, each node relays it at most once (only when it
 *             changed its store); prints rounds (relay hops) and time;
 *   down      a 70 s partition: the channel goes down, ops published meanwhile arrive
 *             after the heal (new epoch, requeue), still exactly once.
 * Deterministic from the seed (printed; MESH_SEED= replays).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_stream.h"
#include "mesh_wire.h"
#include "sim.h"

#define MS MESH_NS_PER_MS
#define SEC MESH_NS_PER_SEC
#define ID_BASE 0x1000u
#define BUCKETS 64

struct cl;

struct snode {
	struct cl *c;
	uint32_t idx;
	uint64_t id;
	struct mesh_stream *s;
	struct mesh_wire_sec sec;
	uint64_t tx_seq, next_tick;
	struct mesh_wire_replay *replay;
	uint8_t *have;   /* per op: times applied (origin: 1 at publish) */
	uint16_t *hops;  /* per op: relay hops from the origin */
	uint32_t n_have;
	uint32_t values;
	uint64_t value_hash;
	size_t value_len;
};

struct cl {
	struct sim_world *w;
	uint32_t n;
	struct snode *nodes;
	uint32_t n_ops, max_ops;
	uint32_t *op_origin;
	struct mesh_wire_keyring kr;
	uint64_t tick_ns;
	uint64_t dup_applies, frame_drops, replay_drops, frames;
	bool aead;
	bool no_replay; /* leave duplicates to the stream layer */
};

static struct snode *
node_by_id(struct cl *c, uint64_t id)
{
	return id >= ID_BASE && id < ID_BASE + c->n ? &c->nodes[id - ID_BASE] : NULL;
}

static void
op_key(uint32_t op, char *buf, size_t n)
{
	snprintf(buf, n, "worker:%u", op);
}

static void
env_send(void *ctx, uint64_t peer, const uint8_t *payload, size_t len)
{
	struct snode *nd = ctx;
	struct cl *c = nd->c;
	struct snode *to = node_by_id(c, peer);
	uint8_t buf[MESH_WIRE_DEFAULT_MAX_FRAME + 64];
	struct mesh_wire_hdr h = { .type = MESH_WIRE_TYPE_MSGS };
	struct sim_addr a;
	size_t n;

	if (to == NULL)
		return;
	h.length = (uint16_t)len;
	h.seq = ++nd->tx_seq;
	memcpy(mesh_wire_frame_payload(buf), payload, len);
	n = mesh_wire_frame_seal(&nd->sec, buf, sizeof(buf), &h);
	if (n == 0 || n > MESH_WIRE_DEFAULT_MAX_FRAME) {
		fprintf(stderr, "frame too large: %zu\n", n);
		abort();
	}
	a = sim_node_addr(c->w, to->idx);
	c->frames++;
	sim_send(c->w, nd->idx, &a, buf, n);
}

static int
env_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n,
	  bool *fresh)
{
	struct snode *nd = ctx;
	struct cl *c = nd->c;
	struct snode *src = node_by_id(c, from);

	for (uint32_t i = 0; i < n; i++) {
		char k[32];
		uint32_t op;

		snprintf(k, sizeof(k), "%.*s", (int)ops[i].key_len, (const char *)ops[i].key);
		op = (uint32_t)strtoul(k + 7, NULL, 10);
		if (op >= c->n_ops)
			abort();
		if (nd->have[op]++ == 0) {
			fresh[i] = true;
			nd->n_have++;
			nd->hops[op] = (uint16_t)(src != NULL && src->have[op] ? src->hops[op] + 1
									      : 1);
		} else {
			c->dup_applies++;
		}
	}
	return 0;
}

static void
env_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key, size_t key_len,
	    const uint8_t *value, size_t len, uint64_t origin_ns)
{
	struct snode *nd = ctx;

	(void)origin_ns;
	(void)from;
	(void)origin;
	(void)key;
	(void)key_len;
	nd->values++;
	nd->value_len = len;
	nd->value_hash = mesh_hash64(value, len);
}

static void
digest_of(const struct snode *nd, uint64_t *b)
{
	memset(b, 0, BUCKETS * sizeof(*b));
	for (uint32_t op = 0; op < nd->c->n_ops; op++)
		if (nd->have[op])
			b[mesh_hash64(&op, sizeof(op)) % BUCKETS] ^= mesh_hash64_seed(&op, 4, 77);
}

static int
env_digest_build(void *ctx, uint8_t *buf, size_t cap, bool reply)
{
	struct snode *nd = ctx;
	uint64_t b[BUCKETS];
	struct mesh_wire_digest d = { .bucket_count = BUCKETS, .n_hashes = BUCKETS,
				      .bucket_hash = b, .key_count = nd->n_have, .reply = reply };

	digest_of(nd, b);
	return mesh_wire_digest_encode(buf, cap, &d);
}

static void
publish_to(struct snode *nd, uint64_t peer, uint32_t op, uint64_t now)
{
	char k[32];
	struct mesh_stream_op o = { 0 };

	op_key(op, k, sizeof(k));
	o.key = (const uint8_t *)k;
	o.key_len = (uint32_t)strlen(k);
	static uint8_t shard[6000];

	o.value = (const uint8_t *)"{\"health\":true,\"load\":0.5}";
	o.value_len = 27;
	if (op % 10 == 7) { /* an rl: shard larger than a frame: fragmented, still reliable */
		o.value = shard;
		o.value_len = 3000 + op % 3000;
	}
	o.replica = (const uint8_t *)"0191e0e4-5e1f-7000-8000-000000000000";
	o.replica_len = 36;
	o.timestamp = op + 1;
	o.version = op;
	if (peer == 0)
		mesh_stream_op_publish(nd->s, &o, now);
	else
		mesh_stream_op_send(nd->s, peer, &o, now);
}

static void
env_digest_recv(void *ctx, uint64_t from, const struct mesh_wire_digest *d)
{
	struct snode *nd = ctx;
	uint64_t mine[BUCKETS], now = sim_now(nd->c->w);

	if (d->bucket_count != BUCKETS || d->n_hashes != BUCKETS)
		return;
	digest_of(nd, mine);
	for (uint32_t op = 0; op < nd->c->n_ops; op++) {
		uint32_t b = (uint32_t)(mesh_hash64(&op, sizeof(op)) % BUCKETS);

		if (nd->have[op] && mine[b] != d->bucket_hash[b])
			publish_to(nd, from, op, now);
	}
	if (!d->reply)
		mesh_stream_digest_send(nd->s, from, true, now);
}

static const struct mesh_stream_env_ops env = {
	.send = env_send,
	.crdt_apply = env_apply,
	.stream_deliver = env_deliver,
	.digest_build = env_digest_build,
	.digest_recv = env_digest_recv,
};

static void
node_input(void *ctx, uint64_t now, const struct sim_addr *from, const uint8_t *msg, size_t len)
{
	struct snode *nd = ctx;
	struct cl *c = nd->c;
	uint8_t buf[MESH_WIRE_DEFAULT_MAX_FRAME + 64];
	struct mesh_wire_hdr h;
	struct snode *src;

	(void)from;
	if (len > sizeof(buf))
		return;
	memcpy(buf, msg, len);
	if (mesh_wire_frame_open(&nd->sec, buf, len, &h) != MESH_WIRE_OK) {
		c->frame_drops++;
		return;
	}
	src = node_by_id(c, h.sender_id);
	if (src == NULL)
		return;
	if (!c->no_replay &&
	    mesh_wire_replay_check(&nd->replay[src->idx], h.seq) != MESH_WIRE_OK) {
		c->replay_drops++;
		return;
	}
	mesh_wire_replay_commit(&nd->replay[src->idx], h.seq);
	mesh_stream_rx_payload(nd->s, h.sender_id, mesh_wire_frame_payload(buf), h.length, now);
	mesh_stream_flush(nd->s, now);
}

static void
node_tick(void *ctx, uint64_t now)
{
	struct snode *nd = ctx;

	mesh_stream_tick(nd->s, now);
	nd->next_tick = now + nd->c->tick_ns;
}

static uint64_t
node_deadline(void *ctx)
{
	return ((struct snode *)ctx)->next_tick;
}

static const struct sim_node_ops node_ops = {
	.input = node_input,
	.tick = node_tick,
	.deadline = node_deadline,
};

static struct cl *
cl_new(uint64_t seed, uint32_t n, uint32_t max_ops, bool aead,
       void (*tweak)(struct mesh_stream_config *))
{
	struct cl *c = calloc(1, sizeof(*c));
	uint8_t key[MESH_WIRE_KEY_LEN];

	c->w = sim_world_new(seed);
	c->n = n;
	c->max_ops = max_ops;
	c->aead = aead;
	c->tick_ns = 10 * MS;
	c->nodes = calloc(n, sizeof(*c->nodes));
	mesh_wire_keyring_init(&c->kr);
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(seed + i);
	mesh_wire_keyring_add(&c->kr, 1, key);
	for (uint32_t i = 0; i < n; i++) {
		struct snode *nd = &c->nodes[i];
		struct mesh_stream_config cfg;

		sim_node_add(c->w);
		nd->c = c;
		nd->idx = i;
		nd->id = ID_BASE + i;
		nd->sec.cluster_id = 0xC1;
		nd->sec.self_id = nd->id;
		nd->sec.keyring = aead ? &c->kr : NULL;
		nd->replay = calloc(n, sizeof(*nd->replay));
		nd->have = calloc(max_ops, 1);
		nd->hops = calloc(max_ops, sizeof(*nd->hops));
		mesh_stream_config_default(&cfg);
		cfg.self_id = nd->id;
		cfg.seed = seed + i;
		cfg.max_payload = mesh_wire_payload_max(&nd->sec, MESH_WIRE_DEFAULT_MAX_FRAME);
		if (tweak != NULL)
			tweak(&cfg);
		nd->s = mesh_stream_new(&cfg, &env, nd);
		if (nd->s == NULL)
			abort();
	}
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < n; j++)
			if (i != j)
				mesh_stream_peer_add(c->nodes[i].s, c->nodes[j].id, 0);
		sim_node_start(c->w, i, &node_ops, &c->nodes[i]);
	}
	return c;
}

static void
cl_delete(struct cl *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		mesh_stream_delete(c->nodes[i].s);
		free(c->nodes[i].replay);
		free(c->nodes[i].have);
		free(c->nodes[i].hops);
	}
	free(c->nodes);
	mesh_wire_keyring_fini(&c->kr);
	sim_world_delete(c->w);
	free(c);
}

static void
publish_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	struct cl *c = ctx;
	uint32_t op = (uint32_t)arg;
	struct snode *nd = &c->nodes[mesh_rng_below(sim_rng(w), c->n)];
	uint64_t now = sim_now(w);

	nd->have[op] = 1;
	nd->n_have++;
	nd->hops[op] = 0;
	publish_to(nd, 0, op, now);
	mesh_stream_flush(nd->s, now);
}

static void
schedule_ops(struct cl *c, uint32_t n_ops, uint64_t start, uint64_t spread)
{
	for (uint32_t i = 0; i < n_ops; i++)
		sim_at(c->w, start + mesh_rng_below(sim_rng(c->w), spread), publish_cb, c,
		       c->n_ops++);
}

static bool
all_have(void *ctx)
{
	struct cl *c = ctx;

	for (uint32_t i = 0; i < c->n; i++)
		if (c->nodes[i].n_have != c->n_ops)
			return false;
	return true;
}

static uint64_t
sum_ctr(struct cl *c, enum mesh_stream_counter k)
{
	uint64_t s = 0;

	for (uint32_t i = 0; i < c->n; i++)
		s += mesh_stream_counters(c->nodes[i].s)[k];
	return s;
}

static int
check_exactly_once(struct cl *c, const char *what)
{
	for (uint32_t i = 0; i < c->n; i++)
		for (uint32_t op = 0; op < c->n_ops; op++)
			if (c->nodes[i].have[op] != 1) {
				printf("FAIL %s: node %u op %u applied %u times\n", what, i, op,
				       c->nodes[i].have[op]);
				return 1;
			}
	return 0;
}

/* ---------------------------------------------------------------- scenarios */

static int
run_crdt(uint64_t seed)
{
	static const uint32_t sizes[] = { 2, 3, 5 };
	static const double losses[] = { 0.0, 0.10, 0.30 };
	int fails = 0;

	for (size_t a = 0; a < MESH_ARRAY_SIZE(sizes); a++) {
		for (size_t b = 0; b < MESH_ARRAY_SIZE(losses); b++) {
			struct cl *c = cl_new(seed + a * 10 + b, sizes[a], 1000, true, NULL);
			uint64_t t;
			char what[64];

			sim_net_set_loss(c->w, losses[b]);
			sim_net_set_dup(c->w, 0.05);
			sim_net_set_reorder(c->w, 0.10, 5 * MS);
			schedule_ops(c, 100 * sizes[a], 0, 2 * SEC);
			sim_run_for(c->w, 2 * SEC);
			t = sim_run_until(c->w, all_have, c, 50 * MS, 600 * SEC);
			snprintf(what, sizeof(what), "n=%u loss=%.0f%%", sizes[a],
				 losses[b] * 100);
			printf("crdt %-16s ops=%u (large %llu) done=%s %.2fs after last publish | "
			       "batches=%llu retx=%llu fast_retx=%llu dup_batches=%llu acks=%llu "
			       "ack_fail=%llu replay_drops=%llu dup_applies=%llu\n",
			       what, c->n_ops,
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_crdt_big_ops),
			       t == UINT64_MAX ? "NO" : "yes",
			       t == UINT64_MAX ? -1.0 : (double)t / SEC,
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_crdt_batches),
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_crdt_retransmits),
			       (unsigned long long)sum_ctr(c,
							   MESH_STREAM_CTR_tx_crdt_fast_retransmits),
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_crdt_dup_batches),
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_acks),
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_ack_failure),
			       (unsigned long long)c->replay_drops,
			       (unsigned long long)c->dup_applies);
			if (t == UINT64_MAX || c->frame_drops != 0)
				fails++;
			fails += check_exactly_once(c, what);
			if (sum_ctr(c, MESH_STREAM_CTR_rx_ack_failure) != 0)
				fails++;
			cl_delete(c);
		}
	}
	/* heavy duplication with no replay window: the channel itself must deduplicate */
	{
		struct cl *c = cl_new(seed + 99, 5, 1000, false, NULL);
		uint64_t t;

		c->no_replay = true;
		sim_net_set_loss(c->w, 0.30);
		sim_net_set_dup(c->w, 0.30);
		sim_net_set_reorder(c->w, 0.20, 5 * MS);
		schedule_ops(c, 500, 0, 2 * SEC);
		sim_run_for(c->w, 2 * SEC);
		t = sim_run_until(c->w, all_have, c, 50 * MS, 600 * SEC);
		printf("crdt n=5 loss=30%% dup=30%% reorder=20%%, no replay window: done=%s "
		       "%.2fs | dup_batches=%llu dup_ops=%llu dup_applies=%llu\n",
		       t == UINT64_MAX ? "NO" : "yes", t == UINT64_MAX ? -1.0 : (double)t / SEC,
		       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_crdt_dup_batches),
		       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_crdt_dup_ops),
		       (unsigned long long)c->dup_applies);
		if (t == UINT64_MAX)
			fails++;
		fails += check_exactly_once(c, "no-replay");
		cl_delete(c);
	}
	return fails;
}

static struct cl *g_big;
static uint8_t *g_value;
static size_t g_value_len;

static bool
value_arrived(void *ctx)
{
	struct cl *c = ctx;

	return c->nodes[1].values > 0;
}

static void
send_big_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	struct cl *c = ctx;

	(void)arg;
	mesh_stream_value_send(c->nodes[0].s, 0, "tree:page:big", 13, g_value, g_value_len,
			       sim_now(w));
	mesh_stream_flush(c->nodes[0].s, sim_now(w));
}

static int
run_bigvalue(uint64_t seed)
{
	struct cl *c = cl_new(seed, 2, 1, true, NULL);
	struct mesh_rng r;
	uint64_t t;
	int fails = 0;

	g_big = c;
	g_value_len = 5u << 20;
	g_value = malloc(g_value_len);
	mesh_rng_seed(&r, seed);
	for (size_t i = 0; i < g_value_len; i += 8) {
		uint64_t x = mesh_rng_next(&r);

		memcpy(g_value + i, &x, 8);
	}
	sim_net_set_loss(c->w, 0.05);
	sim_net_set_dup(c->w, 0.01);
	sim_net_set_reorder(c->w, 0.05, 2 * MS);
	sim_at(c->w, 10 * MS, send_big_cb, c, 0);
	t = sim_run_until(c->w, value_arrived, c, 10 * MS, 60 * SEC);
	printf("bigvalue 5 MiB at 5%% loss: delivered=%s in %.3fs virtual | chunks=%llu "
	       "nacks=%llu repairs=%llu dup_chunks=%llu\n",
	       t == UINT64_MAX ? "NO" : "yes", t == UINT64_MAX ? -1.0 : (double)t / SEC,
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_stream_chunks),
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_chunk_nacks),
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_chunk_repairs),
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_rx_chunk_dup));
	if (t == UINT64_MAX || c->nodes[1].value_len != g_value_len ||
	    c->nodes[1].value_hash != mesh_hash64(g_value, g_value_len) ||
	    c->nodes[1].values != 1) {
		printf("FAIL bigvalue\n");
		fails++;
	}
	free(g_value);
	cl_delete(c);
	return fails;
}

static void
send_bcast_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	struct cl *c = ctx;
	static uint8_t v[20000];

	(void)arg;
	memset(v, 0x42, sizeof(v));
	mesh_stream_value_send(c->nodes[0].s, 0, "td:llama", 8, v, sizeof(v), sim_now(w));
	mesh_stream_flush(c->nodes[0].s, sim_now(w));
}

static void
tweak_n200(struct mesh_stream_config *cfg)
{
	cfg->seen_slots = 4096;
	cfg->digest_interval_ns = 500 * MS;
	cfg->heartbeat_ns = 5 * SEC;
	cfg->max_assemblies = 4;
}

static void
tweak_n200_no_ae(struct mesh_stream_config *cfg)
{
	tweak_n200(cfg);
	cfg->digest_interval_ns = 0;
}

static int
run_n200_pass(uint64_t seed, bool ae)
{
	const uint32_t n = 200, n_ops = 20;
	struct cl *c = cl_new(seed, n, n_ops, false, ae ? tweak_n200 : tweak_n200_no_ae);
	uint64_t t = 0, covered = 0;
	uint32_t max_hops = 0;
	double mean_hops = 0;
	int fails = 0;

	c->tick_ns = 20 * MS;
	sim_net_set_loss(c->w, 0.01);
	schedule_ops(c, n_ops, 0, 1 * SEC);
	if (!ae)
		sim_at(c->w, 500 * MS, send_bcast_cb, c, 0);
	sim_run_for(c->w, 1 * SEC);
	if (ae)
		t = sim_run_until(c->w, all_have, c, 20 * MS, 120 * SEC);
	else
		sim_run_for(c->w, 3 * SEC);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t op = 0; op < n_ops; op++) {
			uint32_t h = c->nodes[i].hops[op];

			if (!c->nodes[i].have[op])
				continue;
			covered++;
			max_hops = h > max_hops ? h : max_hops;
			mean_hops += h;
		}
	mean_hops /= (double)covered;
	if (!ae) {
		printf("n200 relay only (fanout 3, no anti-entropy): coverage %.2f%% of %u "
		       "node-changes after 3 s | rounds (relay hops) max=%u mean=%.2f | "
		       "relay sends/change=%.0f (%.1f per node)\n",
		       100.0 * (double)covered / ((double)n * n_ops), n * n_ops, max_hops,
		       mean_hops,
		       (double)sum_ctr(c, MESH_STREAM_CTR_tx_crdt_ops) / n_ops,
		       (double)sum_ctr(c, MESH_STREAM_CTR_tx_crdt_ops) / n_ops / n);
		{
			uint32_t got = 0;

			for (uint32_t i = 1; i < n; i++)
				got += c->nodes[i].values == 1 && c->nodes[i].value_len == 20000;
			printf("n200 stream value (20 kB, 15 fragments, at-most-once) relayed with "
			       "fanout 3: reached %u of %u nodes, relayed by %llu\n",
			       got, n - 1,
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_relay_stream_values));
		}
	} else {
		printf("n200 relay + digest anti-entropy (500 ms): all %u nodes have all %u "
		       "changes=%s %.2fs after the last change | rounds (hops incl. repair) "
		       "max=%u mean=%.2f | digests=%llu dup_applies=%llu\n",
		       n, n_ops, t == UINT64_MAX ? "NO" : "yes",
		       t == UINT64_MAX ? -1.0 : (double)t / SEC, max_hops, mean_hops,
		       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_digests),
		       (unsigned long long)c->dup_applies);
		if (t == UINT64_MAX) {
			printf("FAIL n200\n");
			fails++;
		}
		/* copies reach a store more than once (relay paths, digest repair); the store
		 * dedups, and only an op that changed it is relayed: at most once per node */
		if (sum_ctr(c, MESH_STREAM_CTR_relay_crdt_ops) > (uint64_t)n * n_ops) {
			printf("FAIL n200: %llu relays of %u ops by %u nodes\n",
			       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_relay_crdt_ops), n_ops,
			       n);
			fails++;
		}
	}
	cl_delete(c);
	return fails;
}

static int
run_n200(uint64_t seed)
{
	return run_n200_pass(seed, false) + run_n200_pass(seed, true);
}

static void
partition_cb(struct sim_world *w, void *ctx, uint64_t arg)
{
	static const uint32_t one = 1;

	(void)ctx;
	if (arg)
		sim_net_partition(w, &one, 1);
	else
		sim_net_heal(w);
}

static int
run_down(uint64_t seed)
{
	struct cl *c = cl_new(seed, 2, 200, true, NULL);
	uint64_t t;
	int fails = 0;

	c->tick_ns = 50 * MS;
	sim_net_set_loss(c->w, 0.05);
	schedule_ops(c, 50, 0, 1 * SEC);
	sim_at(c->w, 1 * SEC, partition_cb, c, 1);
	schedule_ops(c, 50, 2 * SEC, 60 * SEC);
	sim_at(c->w, 71 * SEC, partition_cb, c, 0);
	sim_run_for(c->w, 72 * SEC);
	t = sim_run_until(c->w, all_have, c, 50 * MS, 120 * SEC);
	printf("down: 70 s partition: channel_down=%llu channel_up=%llu requeued=%llu "
	       "all delivered=%s %.2fs after heal\n",
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_channel_down),
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_channel_up),
	       (unsigned long long)sum_ctr(c, MESH_STREAM_CTR_tx_crdt_requeued),
	       t == UINT64_MAX ? "NO" : "yes", t == UINT64_MAX ? -1.0 : (double)t / SEC + 1);
	if (t == UINT64_MAX || sum_ctr(c, MESH_STREAM_CTR_channel_down) == 0)
		fails++;
	fails += check_exactly_once(c, "down");
	cl_delete(c);
	return fails;
}

int
main(int argc, char **argv)
{
	uint64_t seed = sim_seed(0x57e4a);
	const char *what = argc > 1 ? argv[1] : "crdt";
	int fails;

	if (strcmp(what, "crdt") == 0)
		fails = run_crdt(seed);
	else if (strcmp(what, "bigvalue") == 0)
		fails = run_bigvalue(seed);
	else if (strcmp(what, "n200") == 0)
		fails = run_n200(seed);
	else if (strcmp(what, "down") == 0)
		fails = run_down(seed);
	else {
		fprintf(stderr, "unknown scenario %s\n", what);
		return 2;
	}
	printf("%s: %s (seed %llu, replay with MESH_SEED=%llu)\n", what,
	       fails ? "FAIL" : "ok", (unsigned long long)seed, (unsigned long long)seed);
	return fails ? 1 : 0;
}
