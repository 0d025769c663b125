/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's telemetry: store, members, peers and counter groups.
 * - /mesh/kv/stats reads per-namespace figures the store keeps with relaxed atomics and
 *   the digest fingerprint the node republishes every 100 ms (no query needed);
 * - /mesh/kv/get, /mesh/members, /mesh/member and /mesh/peers need the merge lcore's
 *   tables: they are queries (mesh_telemetry_query.c);
 * - counter groups node, crdt, swim, stream and hello join the registry, so /mesh/stats,
 *   client stats and Prometheus show the same names.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_net_pkt.h"
#include "telemetry_internal.h"

#define VALUE_SHOW 1024
#define PAGE 48       /* members per /mesh/members page (a dict each, ~200 B at most) */
#define PEERS_PAGE 16 /* peers per /mesh/peers page (~700 B each): 16 KiB replies */

struct mesh_node *tel_node;

const char *
tel_addr(const struct mesh_node_addr *a, char *buf, size_t cap)
{
	char ip[16];

	snprintf(buf, cap, "%s:%u", mesh_net_ip_format(a->ip, ip, sizeof(ip)), a->port);
	return buf;
}

/* ---------------------------------------------------------------- store */

static int
q_kv_get(struct mesh_node *n, const char *key, struct rte_tel_data *out)
{
	struct mesh_crdt_version v;
	const void *val;
	uint32_t len;
	int ret = mesh_crdt_get(mesh_node_store(n), key, strlen(key), &val, &len, &v);

	rte_tel_data_start_dict(out);
	rte_tel_data_add_dict_string(out, "key", key);
	if (ret == 0) {
		const uint8_t *p = val;
		uint32_t show = MESH_MIN(len, (uint32_t)VALUE_SHOW);
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
cmd_kv_get(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return tel_error(d, "usage: /mesh/kv/get,<key>");
	if (strlen(params) > MESH_CRDT_KEY_MAX)
		return tel_error(d, "key too long");
	return tel_query_run(q_kv_get, params, d);
}

/* telemetry names allow only [A-Za-z0-9_/-]: "tree:req:" is listed as "tree_req" with the
 * real prefix inside */
static void
tel_name(const char *prefix, char *name, size_t cap)
{
	snprintf(name, cap, "%s", prefix);
	for (char *c = name; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '/')
			*c = '_';
	while (strlen(name) > 1 && name[strlen(name) - 1] == '_')
		name[strlen(name) - 1] = '\0';
}

static int
cmd_kv_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const kinds[] = { "lww", "epoch_max", "broadcast", "targeted" };
	struct mesh_crdt_store *kv;
	char digest[24], name[64];

	(void)cmd;
	if (tel_node == NULL)
		return tel_error(d, "not running");
	if (params != NULL && params[0] != '\0')
		return tel_error(d, "/mesh/kv/stats takes no parameters");
	kv = mesh_node_store(tel_node);
	rte_tel_data_start_dict(d);
	snprintf(digest, sizeof(digest), "%016" PRIx64, mesh_node_digest(tel_node));
	rte_tel_data_add_dict_string(d, "digest", digest);
	for (int ns = 0;; ns++) {
		struct mesh_crdt_ns_stats st;
		enum mesh_crdt_ns_kind kind;
		const char *prefix;
		struct rte_tel_data *e;

		if (mesh_crdt_ns_info(kv, ns, &kind, &prefix) < 0 ||
		    mesh_crdt_ns_stats(kv, ns, &st) < 0)
			break;
		if ((uint8_t)prefix[0] == 0xff)
			continue; /* the node's reserved namespace: not UTF-8 (JSON) */
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
		tel_name(prefix, name, sizeof(name));
		rte_tel_data_add_dict_container(d, name, e, 0);
	}
	return 0;
}

/* ---------------------------------------------------------------- members */

static const char *
name_of(const struct mesh_swim_member_info *m, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)m->name_len, m->name);
	return buf;
}

static void
member_dict(struct rte_tel_data *e, const struct mesh_swim_member_info *m)
{
	struct mesh_node_addr a = { .ip = m->addr.ip, .port = m->addr.port };
	char addr[24], name[MESH_SWIM_NAME_MAX + 1];

	name_of(m, name, sizeof(name));
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_string(e, "name", name);
	rte_tel_data_add_dict_string(e, "address", tel_addr(&a, addr, sizeof(addr)));
	rte_tel_data_add_dict_string(e, "status", mesh_swim_status_name(m->status));
	rte_tel_data_add_dict_u64(e, "incarnation", m->inc);
	rte_tel_data_add_dict_u64(e, "generation", m->gen);
}

/* /mesh/members[,page]: counts, and "members", member dicts (as /mesh/member) by name:
 * self first (self = 1), then PAGE members per page */
static int
q_members(struct mesh_node *n, const char *params, struct rte_tel_data *out)
{
	struct mesh_swim *s = mesh_node_swim(n);
	struct mesh_swim_member_info m;
	size_t total = mesh_swim_member_count(s, 0), page = 0;
	struct rte_tel_data *list;
	char *end;

	if (params[0] != '\0') {
		page = strtoul(params, &end, 10);
		if (*end != '\0' || (page > 0 && page * PAGE >= total))
			return tel_error(out, "bad page number");
	}
	rte_tel_data_start_dict(out);
	mesh_swim_self(s, &m);
	rte_tel_data_add_dict_u64(out, "total", total + 1);
	rte_tel_data_add_dict_u64(out, "alive", mesh_swim_member_count(s, MESH_SWIM_ALIVE) + 1);
	rte_tel_data_add_dict_u64(out, "suspect", mesh_swim_member_count(s, MESH_SWIM_SUSPECT));
	rte_tel_data_add_dict_u64(out, "dead", mesh_swim_member_count(s, MESH_SWIM_DEAD));
	rte_tel_data_add_dict_u64(out, "left", mesh_swim_member_count(s, MESH_SWIM_LEFT));
	rte_tel_data_add_dict_u64(out, "page", page);
	rte_tel_data_add_dict_u64(out, "pages", total == 0 ? 1 : (total + PAGE - 1) / PAGE);
	rte_tel_data_add_dict_u64(out, "health", mesh_swim_health(s));
	list = rte_tel_data_alloc();
	if (list == NULL)
		return 0;
	rte_tel_data_start_dict(list); /* DPDK 22.11 nests no arrays of containers */
	/* page 0 starts with self; the members follow, PAGE per page (j = -1: self) */
	for (long j = page == 0 ? -1 : (long)(page * PAGE);
	     j < (long)total && j < (long)((page + 1) * PAGE); j++) {
		struct rte_tel_data *e = rte_tel_data_alloc();
		char name[MESH_SWIM_NAME_MAX + 1];

		if (e == NULL || (j >= 0 && mesh_swim_member_at(s, (size_t)j, &m) < 0)) {
			rte_tel_data_free(e);
			break;
		}
		if (j < 0)
			mesh_swim_self(s, &m);
		member_dict(e, &m);
		rte_tel_data_add_dict_int(e, "self", j < 0);
		if (rte_tel_data_add_dict_container(list, name_of(&m, name, sizeof(name)), e, 0) < 0)
			rte_tel_data_free(e); /* a name telemetry refuses (it allows no dots) */
	}
	rte_tel_data_add_dict_container(out, "members", list, 0);
	return 0;
}

/* /mesh/member,<name> */
static int
q_member(struct mesh_node *n, const char *params, struct rte_tel_data *out)
{
	struct mesh_swim_member_info m;

	if (params[0] == '\0')
		return tel_error(out, "usage: /mesh/member,<name>");
	if (mesh_swim_member_get(mesh_node_swim(n), params, strlen(params), &m) < 0)
		return tel_error(out, "no such member");
	member_dict(out, &m);
	return 0;
}

static int
cmd_members(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_query_run(q_members, params, d);
}

static int
cmd_member(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_query_run(q_member, params, d);
}

/* ---------------------------------------------------------------- peers */

/* /mesh/peers[,START]: "total", "start", "next" (when more follow) and "peers", a dict of
 * up to PEERS_PAGE replication peers by name from index START */
static int
q_peers(struct mesh_node *n, const char *params, struct rte_tel_data *out)
{
	uint32_t total = mesh_node_peer_count(n), start = 0, end;
	struct rte_tel_data *peers;
	char *stop;

	if (params[0] != '\0') {
		unsigned long v = strtoul(params, &stop, 10);

		if (*stop != '\0' || v > total)
			return tel_error(out, "bad start index (0 .. total)");
		start = (uint32_t)v;
	}
	end = total - start > PEERS_PAGE ? start + PEERS_PAGE : total;
	rte_tel_data_start_dict(out);
	rte_tel_data_add_dict_u64(out, "total", total);
	rte_tel_data_add_dict_u64(out, "start", start);
	if (end < total)
		rte_tel_data_add_dict_u64(out, "next", end);
	peers = rte_tel_data_alloc();
	if (peers == NULL)
		return 0;
	rte_tel_data_start_dict(peers);
	for (uint32_t i = start; i < end; i++) {
		struct rte_tel_data *e = rte_tel_data_alloc();
		struct mesh_node_peer_info p;
		char addr[24];

		if (e == NULL || mesh_node_peer_at(n, i, &p) < 0) {
			rte_tel_data_free(e);
			break;
		}
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "address", tel_addr(&p.addr, addr, sizeof(addr)));
		rte_tel_data_add_dict_u64(e, "id", p.id);
		rte_tel_data_add_dict_int(e, "up", p.channel.up);
		rte_tel_data_add_dict_u64(e, "in_flight", p.channel.backlog);
		rte_tel_data_add_dict_u64(e, "rtt_us", p.channel.srtt_ns / MESH_NS_PER_US);
		rte_tel_data_add_dict_u64(e, "retransmits", p.channel.retransmits);
		rte_tel_data_add_dict_u64(e, "acks", p.channel.acks);
		rte_tel_data_add_dict_u64(e, "nacks", p.channel.nacks);
		rte_tel_data_add_dict_u64(e, "drops", p.channel.drops);
		rte_tel_data_add_dict_u64(e, "crdt_sent_seq", p.crdt_sent_seq);
		rte_tel_data_add_dict_u64(e, "crdt_acked_seq", p.crdt_acked_seq);
		/* refusals: the peer's of our ops (its last reason), ours of its ops */
		rte_tel_data_add_dict_u64(e, "refused_acks", p.channel.refused);
		rte_tel_data_add_dict_string(e, "refused_reason", p.channel.refused_reason);
		rte_tel_data_add_dict_u64(e, "refused_ops", p.refused_ops);
		rte_tel_data_add_dict_string(e, "refused_ops_reason", p.refused_ops_reason);
		rte_tel_data_add_dict_container(peers, p.name, e, 0);
	}
	rte_tel_data_add_dict_container(out, "peers", peers, 0);
	return 0;
}

static int
cmd_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_query_run(q_peers, params, d);
}

/* ---------------------------------------------------------------- counter groups */

static void
emit_counter(mesh_telemetry_emit_f emit, void *ec, const char *name, const char *desc,
	     uint64_t v)
{
	const struct mesh_telemetry_value val = {
		.name = name, .desc = desc, .type = MESH_TELEMETRY_COUNTER, .v = v,
	};

	emit(ec, &val);
}

static void
walk_node(void *ctx, mesh_telemetry_emit_f emit, void *ec)
{
	for (int i = 0; i < MESH_NODE_CTR_MAX; i++)
		emit_counter(emit, ec, mesh_node_counter_names[i], mesh_node_counter_descs[i],
			     mesh_node_counter(ctx, i));
}

static void
walk_crdt(void *ctx, mesh_telemetry_emit_f emit, void *ec)
{
	const struct mesh_crdt_store *kv = mesh_node_store(ctx);

	for (int i = 0; i < MESH_CRDT_CTR_MAX; i++)
		emit_counter(emit, ec, mesh_crdt_counter_name(i), mesh_crdt_counter_desc(i),
			     mesh_crdt_store_counter(kv, i));
}

static void
walk_swim(void *ctx, mesh_telemetry_emit_f emit, void *ec)
{
	const struct mesh_swim *s = mesh_node_swim(ctx);

	for (int i = 0; i < MESH_SWIM_CTR_MAX; i++)
		emit_counter(emit, ec, mesh_swim_counter_names()[i], mesh_swim_counter_descs()[i],
			     mesh_swim_counter(s, i));
}

static void
walk_stream(void *ctx, mesh_telemetry_emit_f emit, void *ec)
{
	const uint64_t *c = mesh_stream_counters(mesh_node_stream(ctx));

	for (int i = 0; i < MESH_STREAM_CTR_MAX; i++)
		emit_counter(emit, ec, mesh_stream_counter_names[i], mesh_stream_counter_descs[i],
			     __atomic_load_n(&c[i], __ATOMIC_RELAXED));
}

/* levels, not counts: gauges */
static void
walk_hello(void *ctx, mesh_telemetry_emit_f emit, void *ec)
{
	struct mesh_node_hello_stats st;

	mesh_node_hello_stats(ctx, &st);
	const struct mesh_telemetry_value v[] = {
		{ "peers_configured", "HELLO peers in the configuration", MESH_TELEMETRY_GAUGE,
		  st.peers },
		{ "peers_answering", "HELLO peers that answered at least once", MESH_TELEMETRY_GAUGE,
		  st.answering },
		{ "last_rtt_max_us", "largest of the HELLO peers' last round trips",
		  MESH_TELEMETRY_GAUGE, st.rtt_max_ns / MESH_NS_PER_US },
	};

	for (size_t i = 0; i < MESH_ARRAY_SIZE(v); i++)
		emit(ec, &v[i]);
}

int
mesh_telemetry_node_init(struct mesh_node *n)
{
	static const struct {
		const char *name;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/mesh/kv/stats", cmd_kv_stats,
		  "Per namespace: kind, keys, tombstones, bytes; store digest" },
		{ "/mesh/kv/get", cmd_kv_get, "One key as the merge core sees it. Parameter: key" },
		{ "/mesh/members", cmd_members,
		  "Member counts and records (self first). Parameter: optional page" },
		{ "/mesh/member", cmd_member, "One member's record. Parameter: name" },
		{ "/mesh/peers", cmd_peers,
		  "Per peer channel: rtt, in flight, retransmits, acks, drops. Parameter: start" },
	};
	static const struct {
		const char *name;
		mesh_telemetry_walk_desc_f walk;
	} walks[] = {
		{ "node", walk_node }, { "crdt", walk_crdt }, { "swim", walk_swim },
		{ "stream", walk_stream }, { "hello", walk_hello },
	};
	int ret = tel_query_init();

	if (ret < 0)
		return ret;
	tel_node = n;
	for (size_t i = 0; i < MESH_ARRAY_SIZE(cmds) && ret == 0; i++)
		ret = rte_telemetry_register_cmd(cmds[i].name, cmds[i].fn, cmds[i].help);
	for (size_t i = 0; i < MESH_ARRAY_SIZE(walks) && ret == 0; i++)
		ret = mesh_telemetry_group_add_desc(walks[i].name, walks[i].walk, n);
	return ret == 0 ? tel_latency_init() : ret;
}
