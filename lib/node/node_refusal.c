/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Refused ops, on both sides of a channel.
 *
 * Receiver: ops of a batch the store refused (limits, namespace config, clock skew, GC
 * horizon, malformed) are counted per peer, logged (rate-limited), and the batch is acked
 * with success = false and a reason that names this node's config of the op's namespace
 * first, then the refused op's id (a hash of key, timestamp, replica, tombstone), then the
 * store's detail and its errno text:
 *
 *   [ns worker: lww max_value=64 max_keys=16777216 max_bytes=4294967296] #9f..e1 value of
 *     200 bytes in 'worker:' (max_value 64) (value larger than the namespace allows)
 *   [ns none: nope:key] #01..7c key 'nope:key' matches no namespace (...)
 *
 * Refused ops are not sent forever: the channel acks a batch once (a refused op is not
 * retransmitted), the export moves on, and the sender remembers the ids its peers named
 * (NODE_REFUSED_IDS per peer) so that anti-entropy, which sees the buckets still differ,
 * does not push those versions to that peer again. A newer version of the key is sent as
 * usual. A batch names its last refused op only, so k refused ops in one batch cost at
 * most k anti-entropy pushes before all are named.
 *
 * Sender: lib/stream counts the failed ack per peer and keeps its reason (/mesh/peers);
 * here the receiver's namespace config is compared with ours for the same prefix (or key,
 * when the receiver has none). A difference is logged once per peer and mismatch (and
 * rate-limited), naming both configs: nodes that disagree on a namespace cannot converge
 * on it, and the operator must align them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define LOG_MOD "node"
#define TAG "[ns "
#define TAG_LEN (sizeof(TAG) - 1)
#define NONE "none: "
#define NONE_LEN (sizeof(NONE) - 1)

static bool
log_allowed(struct mesh_node *n)
{
	if (n->refusal_rl.burst == 0)
		n->refusal_rl = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(MESH_NS_PER_SEC, 5);
	return mesh_ratelimit_allow(&n->refusal_rl, n->now);
}

/* Keys and prefixes are bytes: keep the text printable and JSON-safe (telemetry). */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			*s = '?';
}

/* This node's config of the namespace that @key (@len bytes) falls in, or "none: KEY". */
static void
ns_config(struct mesh_node *n, const void *key, size_t len, char *buf, size_t cap)
{
	int ns = mesh_crdt_ns_find(n->kv, key, len);

	if (ns < 0 || mesh_crdt_ns_describe(n->kv, ns, buf, cap) < 0)
		snprintf(buf, cap, NONE "%.*s", (int)MESH_MIN(len, 40u), (const char *)key);
	printable(buf);
}

static uint64_t
op_id(const struct mesh_crdt_op *op)
{
	uint64_t h = mesh_hash64_seed(op->key, op->key_len, op->ts ^ op->replica);

	return h ^ (op->tombstone ? 0x9e3779b97f4a7c15ULL : 0);
}

bool
node_refusal_known(struct mesh_node *n, uint64_t peer, const struct mesh_crdt_op *op)
{
	const struct node_peer *p = node_repl_peer(n, peer);
	uint64_t id;

	if (p == NULL || p->refused_next == 0)
		return false;
	id = op_id(op);
	for (uint32_t i = 0; i < NODE_REFUSED_IDS; i++)
		if (p->refused_ids[i] == id)
			return true;
	return false;
}

void
node_refusal_rx(struct mesh_node *n, uint64_t from, uint32_t count,
		const struct mesh_crdt_op *last)
{
	struct node_peer *p = node_repl_peer(n, from);
	char cfg[MESH_STREAM_REASON_MAX - 48], why[MESH_STREAM_REASON_MAX + 1];

	const char *msg = mesh_crdt_store_errmsg(n->kv), *detail = strstr(msg, ": ");

	ns_config(n, last->key, last->key_len, cfg, sizeof(cfg));
	/* the store's detail ("max_skew 60000 ms: ...") before its errno text: /mesh/peers
	 * shows the first 127 bytes (DPDK telemetry strings) */
	if (detail != NULL && detail[2] != '\0')
		snprintf(why, sizeof(why), TAG "%s] #%016llx %s (%.*s)", cfg,
			 (unsigned long long)op_id(last), detail + 2, (int)(detail - msg), msg);
	else
		snprintf(why, sizeof(why), TAG "%s] #%016llx %s", cfg,
			 (unsigned long long)op_id(last), msg);
	printable(why);
	mesh_stream_op_refuse(n->stream, from, why);
	if (p != NULL) {
		p->refused_ops += count;
		memcpy(p->refused_reason, why, sizeof(p->refused_reason));
	}
	if (log_allowed(n))
		mesh_log(MESH_LOG_WARNING, LOG_MOD, "refused %u op(s) from %s: %s", count,
			 p != NULL ? p->name : "a non-member", why);
}

void
node_refusal_acked(void *ctx, uint64_t peer, const char *reason, size_t len)
{
	struct mesh_node *n = ctx;
	struct node_peer *p = node_repl_peer(n, peer);
	char theirs[MESH_STREAM_REASON_MAX + 1], mine[MESH_STREAM_REASON_MAX];
	const char *end, *key;
	size_t tlen, klen;
	uint64_t h;

	if (p == NULL || len <= TAG_LEN || memcmp(reason, TAG, TAG_LEN) != 0 ||
	    (end = memchr(reason, ']', len)) == NULL)
		return; /* no namespace named: nothing to compare */
	if ((size_t)(end - reason) + 19 <= len && end[1] == ' ' && end[2] == '#') {
		char hex[17], *stop;

		memcpy(hex, end + 3, 16);
		hex[16] = '\0';
		h = strtoull(hex, &stop, 16);
		if (stop == hex + 16) /* remember it: anti-entropy will not push it again */
			p->refused_ids[p->refused_next++ % NODE_REFUSED_IDS] = h;
	}
	tlen = (size_t)(end - reason) - TAG_LEN;
	memcpy(theirs, reason + TAG_LEN, tlen);
	theirs[tlen] = '\0';
	/* their line names the prefix first (or the key when they have no namespace) */
	key = strncmp(theirs, NONE, NONE_LEN) == 0 ? theirs + NONE_LEN : theirs;
	klen = strcspn(key, key == theirs ? " " : "");
	ns_config(n, key, klen, mine, sizeof(mine));
	if (strcmp(theirs, mine) == 0)
		return; /* same config: refused for another reason (limit reached, skew...) */
	h = mesh_hash64_seed(mine, strlen(mine), mesh_hash64(theirs, tlen));
	if (h == p->mismatch_logged || !log_allowed(n))
		return;
	p->mismatch_logged = h;
	mesh_log(MESH_LOG_WARNING, LOG_MOD,
		 "namespace config differs between this node and %s: %s has [ns %s], this node "
		 "has [ns %s]; %s refused: %.*s", p->name, p->name, theirs, mine, p->name,
		 (int)(len - (size_t)(end - reason) - 1), end + 1);
}
