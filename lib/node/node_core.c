/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's life and its three entry points. mesh_node_input() dispatches frames by type:
 * HELLO and HELLO_REPLY to the diagnostic, MSGS payloads record by record (SWIM records to
 * lib/swim with the sender's address, every other record to lib/stream with the sender's
 * id). mesh_node_request() serves clients (node_client.c). mesh_node_poll() runs the
 * protocol timers, the replication export (node_repl.c), subscription events and the
 * digest republication. Whatever a call produced leaves through env->send in batches
 * (node_tx.c) before the call returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define DIGEST_INTERVAL_NS (100 * MESH_NS_PER_MS)

#define NODE_CTR_NAME(name, desc) #name,
#define NODE_CTR_DESC(name, desc) desc,
const char *const mesh_node_counter_names[MESH_NODE_CTR_MAX] = {
	MESH_NODE_COUNTERS(NODE_CTR_NAME)
};
const char *const mesh_node_counter_descs[MESH_NODE_CTR_MAX] = {
	MESH_NODE_COUNTERS(NODE_CTR_DESC)
};

void
mesh_node_cfg_default(struct mesh_node_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mesh_swim_cfg_fast(&cfg->swim);
	mesh_stream_config_default(&cfg->stream);
	cfg->stream.rto_initial_ns = 20 * MESH_NS_PER_MS;
	cfg->stream.rto_max_ns = 1000 * MESH_NS_PER_MS;
	cfg->stream.nack_delay_ns = 5 * MESH_NS_PER_MS;
	cfg->stream.nack_interval_ns = 20 * MESH_NS_PER_MS;
	/* a put reaches each peer on its maker's channel only: the widest window */
	cfg->stream.window = 64;
	cfg->max_payload = cfg->stream.max_payload;
	cfg->hello_interval_ns = 1000 * MESH_NS_PER_MS;
	cfg->ae_interval_ns = 1000 * MESH_NS_PER_MS;
	cfg->ae_fast_ns = 50 * MESH_NS_PER_MS;
	cfg->gc_interval_ns = 100 * MESH_NS_PER_MS;
	cfg->gc_budget = 4096;
	/* every member pushes its own changes to every other; anti-entropy repairs the rest */
	cfg->crdt.export_local_only = true;
}

int
mesh_node_cfg_profile(struct mesh_node_cfg *cfg, const char *name)
{
	mesh_node_cfg_default(cfg);
	if (mesh_swim_cfg_profile(&cfg->swim, name) < 0) {
		mesh_swim_cfg_fast(&cfg->swim);
		return -EINVAL;
	}
	if (strcmp(name, "lan") == 0)
		mesh_stream_config_default(&cfg->stream);
	return 0;
}

static int
cfg_check(const struct mesh_node_cfg *cfg, const struct mesh_node_env_ops *env)
{
	size_t name_len = strnlen(cfg->name, sizeof(cfg->name));

	if (env == NULL || env->send == NULL || env->random == NULL || env->wall_ns == NULL)
		return -EINVAL;
	if (name_len == 0 || name_len > MESH_NODE_NAME_MAX || cfg->gen == 0)
		return -EINVAL;
	if (cfg->max_payload < 256 || cfg->max_payload > UINT16_MAX)
		return -EINVAL;
	if (cfg->n_seeds > MESH_NODE_MAX_SEEDS || cfg->n_hello > MESH_NODE_MAX_SEEDS)
		return -EINVAL;
	return 0;
}

struct mesh_node *
mesh_node_new(const struct mesh_node_cfg *cfg, const struct mesh_node_env_ops *env, void *ctx,
	      uint64_t now_ns)
{
	struct mesh_crdt_config kcfg;
	struct mesh_node *n;
	int ret = cfg_check(cfg, env);

	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->cfg = *cfg;
	n->env = env;
	n->ctx = ctx;
	n->now = now_ns;
	n->id = mesh_wire_node_id(cfg->name, cfg->gen);
	n->next_sub_id = 1;
	for (unsigned i = 0; i < cfg->n_hello; i++)
		n->hello[i].addr = cfg->hello[i];
	n->tx.buf = malloc((size_t)MESH_NODE_TX_BATCH * cfg->max_payload);
	kcfg = cfg->crdt;
	if (kcfg.replica_id == 0)
		kcfg.replica_id = mesh_crdt_replica_id_derive(cfg->name, strlen(cfg->name),
							      cfg->gen);
	n->kv = mesh_crdt_store_new(&kcfg);
	if (n->tx.buf == NULL || n->kv == NULL || node_meta_init(n, now_ns) < 0 ||
	    node_repl_init(n) < 0 || node_swim_init(n) < 0) {
		ret = errno != 0 ? errno : ENOMEM;
		mesh_node_delete(n);
		errno = ret;
		return NULL;
	}
	return n;
}

void
mesh_node_delete(struct mesh_node *n)
{
	if (n == NULL)
		return;
	node_client_fini(n);
	mesh_swim_delete(n->swim);
	mesh_stream_delete(n->stream);
	mesh_crdt_store_delete(n->kv);
	free(n->tx.buf);
	free(n);
}

int
mesh_node_join(struct mesh_node *n, uint64_t now_ns)
{
	struct mesh_swim_addr seeds[MESH_NODE_MAX_SEEDS];
	int ret;

	if (n->cfg.n_seeds == 0)
		return 0;
	for (unsigned i = 0; i < n->cfg.n_seeds; i++) {
		seeds[i].ip = n->cfg.seeds[i].ip;
		seeds[i].port = n->cfg.seeds[i].port;
	}
	n->now = now_ns;
	ret = mesh_swim_join(n->swim, seeds, n->cfg.n_seeds, now_ns);
	node_tx_flush(n);
	return ret;
}

/*
 * A MSGS payload: SWIM records to membership, the rest to the channels. Channel state
 * (windows, reassembly, repair caches) exists only for members: channel records from a
 * sender that is not a replication peer are dropped and counted before lib/stream sees
 * them (a reliable sender retransmits once membership knows it).
 */
static void
msgs_input(struct mesh_node *n, const struct mesh_node_frame *f, uint64_t now_ns)
{
	bool member = node_repl_peer(n, f->sender) != NULL;
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	uint8_t kind;
	int rc;

	NODE_CTR(n, node_rx_msgs_frames);
	mesh_wire_msgr_init(&r, f->payload, f->len);
	while ((rc = mesh_wire_msgr_next(&r, &kind, &body)) == 1) {
		if (kind == MESH_WIRE_KIND_SWIM) {
			NODE_CTR(n, node_rx_swim_records);
			node_swim_input(n, f, body.p, body.len, now_ns);
		} else if (member) {
			mesh_stream_rx(n->stream, f->sender, kind, body.p, body.len, now_ns);
		} else {
			NODE_CTR(n, node_rx_drop_not_member);
		}
	}
	if (rc < 0) /* the records before the bad one were handled */
		NODE_CTR(n, node_rx_drop_bad_container);
	/* after its SWIM blobs (an ack in them counts as the ack): any accepted frame from a
	 * member is liveness evidence, so channel traffic satisfies a probe of its sender */
	node_swim_heard(n, f, now_ns);
}

void
mesh_node_input(struct mesh_node *n, const struct mesh_node_frame *frames, unsigned count,
		uint64_t now_ns)
{
	n->now = now_ns;
	for (unsigned i = 0; i < count; i++) {
		const struct mesh_node_frame *f = &frames[i];

		NODE_CTR(n, node_rx_frames);
		switch (f->type) {
		case MESH_WIRE_TYPE_MSGS:
			msgs_input(n, f, now_ns);
			break;
		case MESH_WIRE_TYPE_HELLO:
		case MESH_WIRE_TYPE_HELLO_REPLY:
			node_hello_input(n, f);
			break;
		default:
			NODE_CTR(n, node_rx_unknown_type);
			break;
		}
	}
	node_tx_flush(n);
}

void
mesh_node_request(struct mesh_node *n, const struct mesh_node_req *reqs, unsigned count,
		  uint64_t now_ns)
{
	n->now = now_ns;
	for (unsigned i = 0; i < count; i++)
		node_client_request(n, &reqs[i], now_ns);
	node_tx_flush(n);
}

/* member counts for other threads (telemetry), each field a relaxed store */
static void
members_publish(struct mesh_node *n)
{
	struct mesh_node_members *m = &n->members_pub;
	struct mesh_node_cluster c;

	__atomic_store_n(&m->alive, mesh_swim_member_count(n->swim, MESH_SWIM_ALIVE) + 1,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->suspect, mesh_swim_member_count(n->swim, MESH_SWIM_SUSPECT),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->dead, mesh_swim_member_count(n->swim, MESH_SWIM_DEAD),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->left, mesh_swim_member_count(n->swim, MESH_SWIM_LEFT),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->peers, n->n_peers, __ATOMIC_RELAXED);
	node_cluster_state(n, &c);
	__atomic_store_n(&m->reachable, c.reachable, __ATOMIC_RELAXED);
	__atomic_store_n(&m->quorum, c.quorum, __ATOMIC_RELAXED);
	__atomic_store_n(&m->should_serve, (uint32_t)c.should_serve, __ATOMIC_RELAXED);
}

unsigned
mesh_node_poll(struct mesh_node *n, uint64_t now_ns)
{
	unsigned work = 0;

	n->now = now_ns;
	if (now_ns >= mesh_swim_next_deadline(n->swim)) {
		mesh_swim_tick(n->swim, now_ns);
		work++;
	}
	work += node_repl_poll(n, now_ns);
	work += node_ae_poll(n, now_ns);
	if (n->cfg.gc_interval_ns != 0 && now_ns >= n->next_gc_ns) {
		uint64_t k = mesh_crdt_gc(n->kv, now_ns, n->cfg.gc_budget);

		mesh_counter_add(&n->ctr[MESH_NODE_CTR_node_gc_tombstones], k);
		n->next_gc_ns = now_ns + n->cfg.gc_interval_ns;
	}
	work += node_client_events(n);
	node_hello_tick(n, now_ns);
	if (now_ns >= n->next_digest_ns) {
		mesh_crdt_digest_get(n->kv, &n->digest_scratch);
		__atomic_store_n(&n->digest, mesh_crdt_digest_fold(&n->digest_scratch),
				 __ATOMIC_RELAXED);
		members_publish(n);
		n->next_digest_ns = now_ns + DIGEST_INTERVAL_NS;
	}
	node_tx_flush(n);
	return work;
}

uint64_t
mesh_node_next_deadline(const struct mesh_node *n)
{
	uint64_t t = mesh_swim_next_deadline(n->swim);

	t = MESH_MIN(t, mesh_stream_next_deadline(n->stream));
	t = MESH_MIN(t, n->next_digest_ns);
	if (n->cfg.ae_interval_ns != 0 && n->n_peers > 0)
		t = MESH_MIN(t, n->ae_next_ns);
	if (n->cfg.gc_interval_ns != 0)
		t = MESH_MIN(t, n->next_gc_ns);
	if (n->cfg.n_hello > 0)
		t = MESH_MIN(t, n->next_hello_ns);
	return t;
}

int
mesh_node_leave(struct mesh_node *n, uint64_t now_ns)
{
	int ret;

	n->now = now_ns;
	ret = mesh_swim_leave(n->swim, now_ns);
	node_tx_flush(n);
	return ret;
}

bool
mesh_node_drained(const struct mesh_node *n)
{
	uint64_t seq = mesh_crdt_store_seq(n->kv);

	for (uint32_t i = 0; i < n->n_peers; i++) {
		uint64_t acked, sent;

		if (mesh_stream_peer_backlog(n->stream, n->peers[i].id) > 0 ||
		    mesh_crdt_peer_watermarks(n->kv, n->peers[i].id, &acked, &sent) < 0 ||
		    sent < seq)
			return false; /* queued, in flight, or not exported yet */
	}
	return true;
}

uint64_t
mesh_node_id(const struct mesh_node *n)
{
	return n->id;
}

struct mesh_crdt_store *
mesh_node_store(struct mesh_node *n)
{
	return n->kv;
}

struct mesh_swim *
mesh_node_swim(struct mesh_node *n)
{
	return n->swim;
}

const struct mesh_stream *
mesh_node_stream(const struct mesh_node *n)
{
	return n->stream;
}

uint64_t
mesh_node_digest(const struct mesh_node *n)
{
	return __atomic_load_n(&n->digest, __ATOMIC_RELAXED);
}

void
mesh_node_members_published(const struct mesh_node *n, struct mesh_node_members *out)
{
	const struct mesh_node_members *m = &n->members_pub;

	out->alive = __atomic_load_n(&m->alive, __ATOMIC_RELAXED);
	out->suspect = __atomic_load_n(&m->suspect, __ATOMIC_RELAXED);
	out->dead = __atomic_load_n(&m->dead, __ATOMIC_RELAXED);
	out->left = __atomic_load_n(&m->left, __ATOMIC_RELAXED);
	out->peers = __atomic_load_n(&m->peers, __ATOMIC_RELAXED);
	out->reachable = __atomic_load_n(&m->reachable, __ATOMIC_RELAXED);
	out->quorum = __atomic_load_n(&m->quorum, __ATOMIC_RELAXED);
	out->should_serve = __atomic_load_n(&m->should_serve, __ATOMIC_RELAXED);
}

uint64_t
mesh_node_digest_now(struct mesh_node *n)
{
	mesh_crdt_digest_get(n->kv, &n->digest_scratch);
	return mesh_crdt_digest_fold(&n->digest_scratch);
}

uint64_t
mesh_node_counter(const struct mesh_node *n, enum mesh_node_counter c)
{
	return c < MESH_NODE_CTR_MAX ? __atomic_load_n(&n->ctr[c], __ATOMIC_RELAXED) : 0;
}
