/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's store-facing telemetry: /mesh/kv/stats and /mesh/kv/get,<key>.
 * Telemetry runs on DPDK's client threads, which must never touch the merge lcore's tables.
 * kv/stats reads per-namespace figures the store keeps with relaxed atomics plus a digest
 * fingerprint the merge lcore republishes every 100 ms. kv/get is a question for the merge
 * lcore: the telemetry thread enqueues a query on a multi-producer ring and waits up to
 * 500 ms; the merge lcore answers in its loop. A query whose asker gave up is freed by
 * whichever side sees it last (one atomic state word decides).
 */
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "meshd.h"

#define VALUE_SHOW 1024
#define WAIT_MS 500

enum { Q_PENDING = 0, Q_DONE = 1, Q_ABANDONED = 2 };

struct query {
	int state;
	char key[MESH_CRDT_KEY_MAX + 1];
	size_t key_len;
	int status;
	uint32_t value_len;
	uint64_t ts, replica;
	char shown[2 * VALUE_SHOW + 1];
	int hex;
};

static struct meshd *node;
static struct rte_ring *queries;

static int
error_reply(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static int
cmd_kv_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char digest[24], name[64];

	(void)cmd;
	if (node == NULL || node->kv == NULL)
		return error_reply(d, "not running");
	if (params != NULL && params[0] != '\0')
		return error_reply(d, "/mesh/kv/stats takes no parameters");
	rte_tel_data_start_dict(d);
	snprintf(digest, sizeof(digest), "%016" PRIx64,
		 __atomic_load_n(&node->kv_digest, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_string(d, "digest", digest);
	for (int ns = 0;; ns++) {
		struct mesh_crdt_ns_stats st;
		enum mesh_crdt_ns_kind kind;
		const char *prefix;
		struct rte_tel_data *e;
		static const char *const kinds[] = { "lww", "epoch_max", "broadcast",
						     "targeted" };

		if (mesh_crdt_ns_info(node->kv, ns, &kind, &prefix) < 0 ||
		    mesh_crdt_ns_stats(node->kv, ns, &st) < 0)
			break;
		e = rte_tel_data_alloc();
		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "prefix", prefix);
		rte_tel_data_add_dict_string(e, "kind", kinds[kind & 3]);
		rte_tel_data_add_dict_u64(e, "keys", st.keys);
		rte_tel_data_add_dict_u64(e, "tombstones", st.tombstones);
		rte_tel_data_add_dict_u64(e, "bytes", st.bytes);
		rte_tel_data_add_dict_u64(e, "rejected", st.rejected);
		if (kind == MESH_CRDT_NS_BROADCAST || kind == MESH_CRDT_NS_TARGETED) {
			rte_tel_data_add_dict_u64(e, "buffered", st.buffered);
			rte_tel_data_add_dict_u64(e, "dropped", st.dropped);
		}
		/* telemetry names allow only [A-Za-z0-9_/-]: "tree:req:" is listed as "tree_req"
		 * with the real prefix inside */
		snprintf(name, sizeof(name), "%s", prefix);
		for (char *c = name; *c != '\0'; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '/')
				*c = '_';
		while (strlen(name) > 1 && name[strlen(name) - 1] == '_')
			name[strlen(name) - 1] = '\0';
		rte_tel_data_add_dict_container(d, name, e, 0);
	}
	return 0;
}

static int
cmd_kv_get(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct query *q;
	uint64_t deadline;
	int expected = Q_PENDING;

	(void)cmd;
	if (node == NULL || queries == NULL)
		return error_reply(d, "not running");
	if (params == NULL || params[0] == '\0')
		return error_reply(d, "usage: /mesh/kv/get,<key>");
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return error_reply(d, "out of memory");
	q->key_len = strlen(params);
	if (q->key_len >= sizeof(q->key)) {
		free(q);
		return error_reply(d, "key too long");
	}
	memcpy(q->key, params, q->key_len);
	if (rte_ring_mp_enqueue(queries, q) != 0) {
		free(q);
		return error_reply(d, "merge core busy; retry");
	}
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_MS / 1000;
	while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == Q_PENDING &&
	       rte_get_timer_cycles() < deadline)
		rte_delay_us_sleep(200);
	if (__atomic_compare_exchange_n(&q->state, &expected, Q_ABANDONED, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return error_reply(d, "merge core did not answer in time");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "key", q->key);
	if (q->status == 0) {
		rte_tel_data_add_dict_int(d, "found", 1);
		rte_tel_data_add_dict_u64(d, "length", q->value_len);
		rte_tel_data_add_dict_string(d, q->hex ? "value_hex" : "value", q->shown);
		rte_tel_data_add_dict_u64(d, "timestamp", q->ts);
		rte_tel_data_add_dict_u64(d, "replica", q->replica);
	} else if (q->status == -ENOENT) {
		rte_tel_data_add_dict_int(d, "found", 0);
	} else {
		rte_tel_data_add_dict_string(d, "error", mesh_crdt_strerror(q->status));
	}
	free(q);
	return 0;
}

static void
answer(struct meshd *d, struct query *q)
{
	struct mesh_crdt_version v;
	const void *val;
	uint32_t len;
	int expected = Q_PENDING;

	q->status = mesh_crdt_get(d->kv, q->key, q->key_len, &val, &len, &v);
	if (q->status == 0) {
		const uint8_t *p = val;
		uint32_t show = MESH_MIN(len, VALUE_SHOW);

		q->value_len = len;
		q->ts = v.ts;
		q->replica = v.replica;
		for (uint32_t i = 0; i < show && !q->hex; i++)
			q->hex = !isprint(p[i]);
		for (uint32_t i = 0; i < show; i++) {
			if (q->hex)
				snprintf(q->shown + 2 * i, 3, "%02x", p[i]);
			else
				q->shown[i] = (char)p[i];
		}
	}
	if (!__atomic_compare_exchange_n(&q->state, &expected, Q_DONE, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(q); /* the asker gave up */
}

unsigned
meshd_tel_poll(struct meshd *d, uint64_t now_ns)
{
	struct query *q[8];
	unsigned n;

	if (now_ns >= d->next_digest_ns) {
		struct mesh_crdt_digest *dg = &d->digest_scratch;

		mesh_crdt_digest_get(d->kv, dg);
		__atomic_store_n(&d->kv_digest, mesh_crdt_digest_fold(dg), __ATOMIC_RELAXED);
		d->next_digest_ns = now_ns + 100 * MESH_NS_PER_MS;
	}
	if (queries == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst(queries, (void **)q, 8, NULL);
	for (unsigned i = 0; i < n; i++)
		answer(d, q[i]);
	return n;
}

int
meshd_tel_init(struct meshd *d)
{
	queries = rte_ring_create("tel_queries", 64, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (queries == NULL)
		return -ENOMEM;
	node = d;
	rte_telemetry_register_cmd("/mesh/kv/stats", cmd_kv_stats,
				   "Per namespace: kind, keys, tombstones, bytes; store digest");
	rte_telemetry_register_cmd("/mesh/kv/get", cmd_kv_get,
				   "One key as the merge core sees it. Parameter: key");
	return 0;
}

void
meshd_tel_fini(void)
{
	void *q;

	node = NULL;
	/* queries still queued belong to askers that will time out and find them unanswered:
	 * leave them (a bounded leak at exit) rather than race the telemetry threads */
	while (queries != NULL && rte_ring_dequeue(queries, &q) == 0)
		__atomic_store_n(&((struct query *)q)->state, Q_DONE, __ATOMIC_RELEASE);
}
