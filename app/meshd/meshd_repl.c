/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication on the merge lcore: lib/crdt (the store) joined to lib/stream (reliable
 * per-peer channels, at-most-once stream values) and to SWIM membership.
 *
 * - Peers: every alive member is a peer, identified like frame senders by
 *   mesh_wire_node_id(name, generation). A member declared dead, left or replaced by a
 *   restart (new generation) stops being one; when it comes back it is added again with
 *   fresh watermarks, so it receives the whole store again (catch-up after a crash,
 *   restart or partition).
 * - CRDT ops: each loop exports, per peer, what changed after that peer's send cursor
 *   (mesh_crdt_export) and hands it to the peer's reliable channel (mesh_stream_crdt_send).
 *   When a peer's channel has nothing in flight, everything exported to it is
 *   acknowledged and the store's ack watermark (tombstone GC) moves to the send cursor.
 *   Received batches are merged with mesh_crdt_apply_batch (idempotent, any order).
 * - Stream values: client publishes are buffered by the store (byte-capped FIFO); each loop
 *   drains them into lib/stream (chunked when large, at most once); received values are
 *   delivered to subscribers, not stored.
 * Direct push to every peer is the policy here (clusters up to the stream layer's
 * direct_max); epidemic relay above it is lib/stream's mesh_stream_crdt_publish.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_random.h>
#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_swim.h"
#include "mesh_telemetry.h"
#include "meshd.h"

#define EXPORT_OPS 64
#define EXPORT_BYTES (64 * 1024)

static struct meshd_peer_slot *
peer_find(struct meshd *d, uint64_t id)
{
	for (unsigned i = 0; i < d->n_peer_slots; i++)
		if (d->peer_slots[i].id == id)
			return &d->peer_slots[i];
	return NULL;
}

static struct meshd_peer_slot *
peer_find_name(struct meshd *d, const char *name, size_t len)
{
	for (unsigned i = 0; i < d->n_peer_slots; i++)
		if (strlen(d->peer_slots[i].name) == len &&
		    memcmp(d->peer_slots[i].name, name, len) == 0)
			return &d->peer_slots[i];
	return NULL;
}

static void
peer_drop(struct meshd *d, struct meshd_peer_slot *p)
{
	mesh_stream_peer_remove(d->stream, p->id);
	mesh_crdt_peer_remove(d->kv, p->id);
	*p = d->peer_slots[--d->n_peer_slots];
}

void
meshd_repl_member(struct meshd *d, const struct mesh_swim_event *ev, uint64_t now_ns)
{
	uint64_t id = 0;
	struct meshd_peer_slot *p = peer_find_name(d, ev->name, ev->name_len);
	char name[MESH_SWIM_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%.*s", (int)ev->name_len, ev->name);
	/* a suspect member is still a peer: only dead, left or reaped ones stop being one */
	if (ev->status == MESH_SWIM_ALIVE || ev->status == MESH_SWIM_SUSPECT)
		id = mesh_wire_node_id(name, ev->gen);
	if (p != NULL && p->id != id)
		peer_drop(d, p); /* gone, or an older life of a restarted member */
	if (id == 0 || (p != NULL && p->id == id) || d->n_peer_slots == MESHD_MAX_PEER_SLOTS)
		return;
	p = &d->peer_slots[d->n_peer_slots++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->ip = ev->addr.ip;
	p->port = ev->addr.port;
	snprintf(p->name, sizeof(p->name), "%s", name);
	mesh_crdt_peer_add(d->kv, id);
	mesh_stream_peer_add(d->stream, id, now_ns);
}

/* lib/stream env: one MSGS payload for a peer, sealed into a frame in a fresh mbuf */
static void
env_send(void *ctx, uint64_t peer, const uint8_t *payload, size_t len)
{
	struct meshd *d = ctx;
	struct meshd_peer_slot *p = peer_find(d, peer);
	uint8_t *frame;
	struct rte_mbuf *m;

	if (p == NULL || len > UINT16_MAX) {
		mesh_counter_add(&mesh_counters_row(&d->merge_ctr, 0)[MESHD_CTR_merge_tx_no_peer],
				 1);
		return;
	}
	m = mesh_net_udp_alloc(&d->port, (uint16_t)meshd_frame_size(d, len), &frame);
	if (m == NULL)
		return;
	memcpy(mesh_wire_frame_payload(frame), payload, len);
	meshd_frame_finish(d, m, frame, MESH_WIRE_TYPE_MSGS, (uint16_t)len, p->ip, p->port,
			   mesh_tsc_now_ns());
}

static int
env_crdt_apply(void *ctx, uint64_t from, const struct mesh_stream_op *ops, uint32_t n)
{
	struct meshd *d = ctx;
	struct mesh_crdt_op cops[EXPORT_OPS];
	int result[EXPORT_OPS];
	uint64_t now = mesh_tsc_now_ns(), real = mesh_time_real_ns();

	(void)from;
	for (uint32_t done = 0; done < n;) {
		uint32_t k = MESH_MIN(n - done, (uint32_t)EXPORT_OPS);

		for (uint32_t i = 0; i < k; i++) {
			const struct mesh_stream_op *o = &ops[done + i];
			uint64_t replica = 0;

			for (uint32_t b = 0; b < o->replica_len && b < 8; b++)
				replica = (replica << 8) | o->replica[b];
			cops[i] = (struct mesh_crdt_op){
				.key = o->key, .key_len = o->key_len,
				.value = o->value, .value_len = o->value_len,
				.ts = o->timestamp, .replica = replica, .tombstone = o->tombstone,
				.origin_ns = o->origin_ns,
			};
		}
		if (mesh_crdt_apply_batch(d->kv, cops, k, now, result) > 0)
			for (uint32_t i = 0; i < k; i++)
				if (result[i] == 1)
					meshd_lat_record_op(d, &cops[i], real);
		done += k;
	}
	return 0; /* refused ops are counted by the store (crdt_apply_reject) */
}

static void
env_stream_deliver(void *ctx, uint64_t from, uint64_t origin, const uint8_t *key,
		   size_t key_len, const uint8_t *value, size_t len, uint64_t origin_ns)
{
	struct meshd *d = ctx;

	(void)origin;
	meshd_lat_record(d, MESHD_LAT_STREAM, origin_ns, mesh_time_real_ns());
	mesh_crdt_stream_deliver_origin(d->kv, from, key, key_len, value, len, origin_ns);
}

static void
env_other_rx(void *ctx, uint64_t from, uint8_t kind, const uint8_t *body, size_t len)
{
	struct meshd *d = ctx;

	(void)from;
	if (kind == MESH_WIRE_KIND_SWIM)
		meshd_swim_input(d, body, len, d->rx_peer_ip, d->rx_peer_port, d->rx_now);
	else
		mesh_counter_add(&mesh_counters_row(&d->merge_ctr, 0)
					  [MESHD_CTR_merge_record_unknown_kind], 1);
}

int
meshd_repl_init(struct meshd *d)
{
	static const struct mesh_stream_env_ops ops = {
		.send = env_send,
		.crdt_apply = env_crdt_apply,
		.stream_deliver = env_stream_deliver,
		.other_rx = env_other_rx,
	};
	struct mesh_stream_config cfg;

	mesh_stream_config_default(&cfg);
	cfg.self_id = d->node_id;
	cfg.seed = rte_rand();
	cfg.max_payload = mesh_wire_payload_max(&d->sec, MESH_WIRE_DEFAULT_MAX_FRAME);
	if (d->cfg.profile_fast) {
		cfg.rto_initial_ns = 20 * MESH_NS_PER_MS;
		cfg.rto_max_ns = 1000 * MESH_NS_PER_MS;
		cfg.nack_delay_ns = 5 * MESH_NS_PER_MS;
		cfg.nack_interval_ns = 20 * MESH_NS_PER_MS;
	}
	d->stream = mesh_stream_new(&cfg, &ops, d);
	if (d->stream == NULL) {
		MESH_RTE_LOG(ERR, app, "stream layer: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A MSGS frame from a peer: the stream layer walks it, SWIM records come back above. */
void
meshd_repl_rx(struct meshd *d, uint64_t sender, const uint8_t *payload, size_t len,
	      uint32_t ip, uint16_t port, uint64_t now_ns)
{
	d->rx_peer_ip = ip;
	d->rx_peer_port = port;
	d->rx_now = now_ns;
	mesh_stream_rx_payload(d->stream, sender, payload, len, now_ns);
}

static void
drain_value(void *ctx, int ns, uint64_t peer, const void *key, uint32_t key_len,
	    const void *value, uint32_t value_len)
{
	struct meshd *d = ctx;

	(void)ns;
	/* stamped when drained: in the same merge-loop pass as the publish */
	mesh_stream_value_send_origin(d->stream, peer, key, key_len, value, value_len, d->rx_now,
				      mesh_time_real_ns());
}

unsigned
meshd_repl_poll(struct meshd *d, uint64_t now_ns)
{
	struct mesh_crdt_op ops[EXPORT_OPS];
	unsigned work = 0;

	for (unsigned i = 0; i < d->n_peer_slots; i++) {
		struct meshd_peer_slot *p = &d->peer_slots[i];
		uint64_t acked, sent;
		int n;

		while ((n = mesh_crdt_export(d->kv, p->id, ops, EXPORT_OPS, EXPORT_BYTES)) > 0) {
			for (int k = 0; k < n; k++) {
				uint8_t replica[8];
				struct mesh_stream_op so = {
					.key = ops[k].key, .key_len = ops[k].key_len,
					.value = ops[k].value, .value_len = ops[k].value_len,
					.replica = replica, .replica_len = 8,
					.timestamp = ops[k].ts, .version = ops[k].seq,
					.origin_ns = ops[k].origin_ns,
					.tombstone = ops[k].tombstone,
				};
				for (int b = 0; b < 8; b++)
					replica[b] = (uint8_t)(ops[k].replica >> (56 - 8 * b));
				mesh_stream_crdt_send(d->stream, p->id, &so, now_ns);
			}
			work += (unsigned)n;
		}
		if (mesh_stream_peer_backlog(d->stream, p->id) == 0 &&
		    mesh_crdt_peer_watermarks(d->kv, p->id, &acked, &sent) == 0 && sent > acked)
			mesh_crdt_ack(d->kv, p->id, sent);
	}
	d->rx_now = now_ns;
	if (mesh_crdt_stream_drain(d->kv, -1, drain_value, d) > 0)
		work++;
	if (now_ns >= d->next_stream_tick_ns) {
		mesh_stream_tick(d->stream, now_ns);
		d->next_stream_tick_ns = now_ns + MESH_NS_PER_MS;
	} else {
		mesh_stream_flush(d->stream, now_ns);
	}
	return work;
}

uint64_t
meshd_repl_peer_id(struct meshd *d, const char *name)
{
	struct meshd_peer_slot *p = peer_find_name(d, name, strlen(name));

	return p != NULL ? p->id : 0;
}

static void
stream_gauges(void *ctx, struct rte_tel_data *dict)
{
	struct meshd *d = ctx;
	const uint64_t *c;

	if (d->stream == NULL)
		return;
	c = mesh_stream_counters(d->stream);
	for (int i = 0; i < MESH_STREAM_CTR_MAX; i++)
		rte_tel_data_add_dict_u64(dict, mesh_stream_counter_names[i],
					  __atomic_load_n(&c[i], __ATOMIC_RELAXED));
}

/* /mesh/peers: one entry per peer channel, answered on the merge lcore */
static int
q_peers(struct meshd *d, const char *params, struct rte_tel_data *out)
{
	(void)params;
	rte_tel_data_start_dict(out);
	for (unsigned i = 0; i < d->n_peer_slots; i++) {
		const struct meshd_peer_slot *p = &d->peer_slots[i];
		struct rte_tel_data *e = rte_tel_data_alloc();
		struct mesh_stream_peer_stats st = { 0 };
		uint64_t acked = 0, sent = 0;
		char ip[16], addr[24];

		if (e == NULL)
			break;
		mesh_crdt_peer_watermarks(d->kv, p->id, &acked, &sent);
		mesh_stream_peer_stats(d->stream, p->id, &st);
		snprintf(addr, sizeof(addr), "%s:%u", mesh_net_ip_format(p->ip, ip, sizeof(ip)),
			 p->port);
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "address", addr);
		rte_tel_data_add_dict_u64(e, "id", p->id);
		rte_tel_data_add_dict_int(e, "up", st.up);
		rte_tel_data_add_dict_u64(e, "in_flight", st.backlog);
		rte_tel_data_add_dict_u64(e, "rtt_us", st.srtt_ns / MESH_NS_PER_US);
		rte_tel_data_add_dict_u64(e, "retransmits", st.retransmits);
		rte_tel_data_add_dict_u64(e, "acks", st.acks);
		rte_tel_data_add_dict_u64(e, "nacks", st.nacks);
		rte_tel_data_add_dict_u64(e, "drops", st.drops);
		rte_tel_data_add_dict_u64(e, "crdt_sent_seq", sent);
		rte_tel_data_add_dict_u64(e, "crdt_acked_seq", acked);
		rte_tel_data_add_dict_container(out, p->name, e, 0);
	}
	return 0;
}

static int
cmd_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params != NULL && params[0] != '\0') {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", "/mesh/peers takes no parameters");
		return 0;
	}
	return meshd_query_run(q_peers, params, d);
}

void
meshd_repl_telemetry(struct meshd *d)
{
	mesh_telemetry_gauges_add("stream", stream_gauges, d);
	rte_telemetry_register_cmd("/mesh/peers", cmd_peers,
				   "Per peer channel: rtt, in flight, retransmits, acks, nacks, drops");
}

void
meshd_repl_fini(struct meshd *d)
{
	mesh_stream_delete(d->stream);
	d->stream = NULL;
}
