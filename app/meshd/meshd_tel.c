/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's store-facing telemetry: /mesh/kv/stats and /mesh/kv/get,<key>.
 * Telemetry runs on DPDK's client threads, which must never touch the merge lcore's tables.
 * kv/stats reads per-namespace figures the store keeps with relaxed atomics plus a digest
 * fingerprint the merge lcore republishes every 100 ms. kv/get is a question for the merge
 * lcore: the telemetry thread enqueues a query (meshd_query_run) on a multi-producer ring
 * and waits up to 500 ms; the merge lcore runs it in its loop and fills the reply. The same
 * mechanism serves every command that needs merge-owned state (members, peers).
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

enum { Q_PENDING = 0, Q_RUNNING, Q_DONE, Q_ABANDONED };

/*
 * A question for the merge lcore. The asker waits for at most WAIT_MS; it abandons a query
 * only while it is still PENDING (one CAS), so the merge lcore never writes into a reply
 * its asker has stopped waiting for: it either claims the query first (RUNNING, and the
 * asker waits the few microseconds until DONE) or finds it ABANDONED and frees it.
 */
struct query {
	int state;
	meshd_query_f fn;
	const char *params;
	struct rte_tel_data *out;
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

int
meshd_query_run(meshd_query_f fn, const char *params, struct rte_tel_data *out)
{
	struct query *q;
	uint64_t deadline;
	int expected = Q_PENDING;

	if (node == NULL || queries == NULL)
		return error_reply(out, "not running");
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return error_reply(out, "out of memory");
	q->fn = fn;
	q->params = params != NULL ? params : "";
	q->out = out;
	if (rte_ring_mp_enqueue(queries, q) != 0) {
		free(q);
		return error_reply(out, "merge core busy; retry");
	}
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_MS / 1000;
	while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == Q_PENDING &&
	       rte_get_timer_cycles() < deadline)
		rte_delay_us_sleep(100);
	if (__atomic_compare_exchange_n(&q->state, &expected, Q_ABANDONED, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return error_reply(out, "merge core did not answer in time");
	while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) != Q_DONE)
		rte_pause();
	free(q);
	return 0;
}

static int
kv_get(struct meshd *d, const char *key, struct rte_tel_data *out)
{
	struct mesh_crdt_version v;
	const void *val;
	uint32_t len;
	int ret;

	if (key[0] == '\0')
		return error_reply(out, "usage: /mesh/kv/get,<key>");
	ret = mesh_crdt_get(d->kv, key, strlen(key), &val, &len, &v);
	rte_tel_data_start_dict(out);
	rte_tel_data_add_dict_string(out, "key", key);
	if (ret == 0) {
		const uint8_t *p = val;
		uint32_t show = MESH_MIN(len, VALUE_SHOW);
		char shown[2 * VALUE_SHOW + 1];
		int hex = 0;

		for (uint32_t i = 0; i < show && !hex; i++)
			hex = !isprint(p[i]);
		for (uint32_t i = 0; i < show; i++) {
			if (hex)
				snprintf(shown + 2 * i, 3, "%02x", p[i]);
			else
				shown[i] = (char)p[i];
		}
		shown[hex ? 2 * show : show] = '\0';
		rte_tel_data_add_dict_int(out, "found", 1);
		rte_tel_data_add_dict_u64(out, "length", len);
		rte_tel_data_add_dict_string(out, hex ? "value_hex" : "value", shown);
		rte_tel_data_add_dict_u64(out, "timestamp", v.ts);
		rte_tel_data_add_dict_u64(out, "replica", v.replica);
	} else if (ret == -ENOENT) {
		rte_tel_data_add_dict_int(out, "found", 0);
	} else {
		rte_tel_data_add_dict_string(out, "error", mesh_crdt_strerror(ret));
	}
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
	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return error_reply(d, "usage: /mesh/kv/get,<key>");
	if (strlen(params) > MESH_CRDT_KEY_MAX)
		return error_reply(d, "key too long");
	return meshd_query_run(kv_get, params, d);
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
	for (unsigned i = 0; i < n; i++) {
		int expected = Q_PENDING;

		if (!__atomic_compare_exchange_n(&q[i]->state, &expected, Q_RUNNING, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			free(q[i]); /* the asker gave up */
			continue;
		}
		q[i]->fn(d, q[i]->params, q[i]->out);
		__atomic_store_n(&q[i]->state, Q_DONE, __ATOMIC_RELEASE);
	}
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
	/* queued queries: their askers time out (PENDING -> ABANDONED) and return; those
	 * already abandoned are freed here */
	while (queries != NULL && rte_ring_dequeue(queries, &q) == 0) {
		int expected = Q_ABANDONED;
		if (__atomic_compare_exchange_n(&((struct query *)q)->state, &expected, Q_DONE,
						false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			free(q);
	}
}
