/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM membership on the merge lcore. lib/swim is a pure state machine; this file is its
 * environment: SWIM blobs go out as one-record MSGS frames built directly in mbufs (to the
 * tx role through meshd_emit), SWIM records of received MSGS frames come in with the
 * sender's address, protocol timers run from the merge loop, member events are logged and
 * counted. Membership queries from telemetry and clients run on the merge lcore too
 * (/mesh/members, /mesh/member,<name>), so no other thread reads the member table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_random.h>
#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "mesh_swim.h"
#include "meshd.h"

#define PAGE 64

static void
swim_send(void *ctx, const struct mesh_swim_pkt *pkts, unsigned n)
{
	struct meshd *d = ctx;
	uint64_t now = mesh_tsc_now_ns();

	for (unsigned i = 0; i < n; i++) {
		size_t payload_len = MESH_WIRE_REC_HDR_LEN + pkts[i].len;
		struct mesh_wire_msgw w;
		uint8_t *frame;
		struct rte_mbuf *m;

		if (payload_len > UINT16_MAX)
			continue;
		m = mesh_net_udp_alloc(&d->port, (uint16_t)meshd_frame_size(d, payload_len),
				       &frame);
		if (m == NULL)
			continue; /* counted by lib/net (tx_drop_nombuf / too_big) */
		mesh_wire_msgw_init(&w, mesh_wire_frame_payload(frame), payload_len);
		mesh_wire_msgw_add(&w, MESH_WIRE_KIND_SWIM, pkts[i].msg, pkts[i].len);
		meshd_frame_finish(d, m, frame, MESH_WIRE_TYPE_MSGS, (uint16_t)w.len,
				   pkts[i].to.ip, pkts[i].to.port, now);
	}
}

static uint64_t
swim_random(void *ctx)
{
	(void)ctx;
	return rte_rand();
}

static void
swim_event(void *ctx, const struct mesh_swim_event *ev)
{
	struct meshd *d = ctx;
	char ip[16];

	meshd_repl_member(d, ev, mesh_tsc_now_ns());
	MESH_RTE_LOG(NOTICE, app, "member %.*s (%s:%u gen %" PRIu64 " inc %u): %s",
		     (int)ev->name_len, ev->name, mesh_net_ip_format(ev->addr.ip, ip, sizeof(ip)),
		     ev->addr.port, ev->gen, ev->inc, mesh_swim_event_name(ev->type));
}

void
meshd_swim_cfg_from(const struct meshd_cfg *mc, struct mesh_swim_cfg *cfg)
{
	if (mc->profile_fast)
		mesh_swim_cfg_fast(cfg);
	else
		mesh_swim_cfg_lan(cfg);
	if (mc->probe_interval_ms)
		cfg->probe_interval_ns = (uint64_t)mc->probe_interval_ms * MESH_NS_PER_MS;
	if (mc->probe_timeout_ms) {
		cfg->probe_timeout_ns = (uint64_t)mc->probe_timeout_ms * MESH_NS_PER_MS;
		/* the fast profile bounds the indirect wait by the direct one; lan waits for
		 * the end of the period (0) */
		if (cfg->indirect_timeout_ns != 0)
			cfg->indirect_timeout_ns = cfg->probe_timeout_ns;
	}
	if (mc->suspicion_mult)
		cfg->suspicion_mult = mc->suspicion_mult;
}

int
meshd_swim_timing_check(const struct meshd_cfg *mc)
{
	struct mesh_swim_cfg c;

	meshd_swim_cfg_from(mc, &c);
	if (c.probe_timeout_ns >= c.probe_interval_ns) {
		fprintf(stderr, "meshd: SWIM probe timeout (%" PRIu64 " ms) must be below the probe "
			"interval (%" PRIu64 " ms)\n", (uint64_t)(c.probe_timeout_ns / MESH_NS_PER_MS),
			(uint64_t)(c.probe_interval_ns / MESH_NS_PER_MS));
		return -EINVAL;
	}
	return 0;
}

int
meshd_swim_init(struct meshd *d, uint64_t now_ns)
{
	static const struct mesh_swim_env_ops ops = {
		.send = swim_send, .random = swim_random, .event = swim_event,
	};
	struct mesh_swim_cfg cfg;
	struct mesh_swim_addr seeds[MESHD_MAX_PEERS];

	meshd_swim_cfg_from(&d->cfg, &cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", d->cfg.name);
	cfg.gen = d->boot_gen;
	cfg.addr.ip = d->cfg.ip;
	cfg.addr.port = d->cfg.udp_port;
	d->swim = mesh_swim_new(&cfg, &ops, d);
	if (d->swim == NULL) {
		MESH_RTE_LOG(ERR, app, "SWIM: %s", strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < d->cfg.n_seeds; i++) {
		seeds[i].ip = d->cfg.seeds[i].ip;
		seeds[i].port = d->cfg.seeds[i].port;
	}
	if (d->cfg.n_seeds > 0)
		mesh_swim_join(d->swim, seeds, d->cfg.n_seeds, now_ns);
	return 0;
}

void
meshd_swim_input(struct meshd *d, const uint8_t *blob, size_t len, uint32_t ip, uint16_t port,
		 uint64_t now_ns)
{
	struct mesh_swim_addr from = { .ip = ip, .port = port };

	mesh_counter_add(&mesh_counters_row(&d->merge_ctr, 0)[MESHD_CTR_merge_swim_records], 1);
	mesh_swim_input(d->swim, now_ns, &from, blob, len);
}

unsigned
meshd_swim_poll(struct meshd *d, uint64_t now_ns)
{
	if (now_ns < mesh_swim_next_deadline(d->swim))
		return 0;
	mesh_swim_tick(d->swim, now_ns);
	return 1;
}

void
meshd_swim_leave(struct meshd *d, uint64_t now_ns)
{
	mesh_swim_leave(d->swim, now_ns);
}

static void
member_dict(struct rte_tel_data *e, const struct mesh_swim_member_info *m)
{
	char ip[16], addr[24], name[MESH_SWIM_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%.*s", (int)m->name_len, m->name);
	snprintf(addr, sizeof(addr), "%s:%u", mesh_net_ip_format(m->addr.ip, ip, sizeof(ip)),
		 m->addr.port);
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_string(e, "name", name);
	rte_tel_data_add_dict_string(e, "address", addr);
	rte_tel_data_add_dict_string(e, "status", mesh_swim_status_name(m->status));
	rte_tel_data_add_dict_u64(e, "incarnation", m->inc);
	rte_tel_data_add_dict_u64(e, "generation", m->gen);
}

/* /mesh/members[,page]: self first, then PAGE members per page */
static int
q_members(struct meshd *d, const char *params, struct rte_tel_data *out)
{
	struct mesh_swim_member_info m;
	size_t total = mesh_swim_member_count(d->swim, 0), page = 0;
	struct rte_tel_data *list;
	char *end;

	if (params[0] != '\0') {
		page = strtoul(params, &end, 10);
		if (*end != '\0' || page * PAGE > total) {
			rte_tel_data_start_dict(out);
			rte_tel_data_add_dict_string(out, "error", "bad page number");
			return 0;
		}
	}
	rte_tel_data_start_dict(out);
	mesh_swim_self(d->swim, &m);
	rte_tel_data_add_dict_u64(out, "total", total + 1);
	rte_tel_data_add_dict_u64(out, "alive", mesh_swim_member_count(d->swim, MESH_SWIM_ALIVE) + 1);
	rte_tel_data_add_dict_u64(out, "suspect", mesh_swim_member_count(d->swim, MESH_SWIM_SUSPECT));
	rte_tel_data_add_dict_u64(out, "dead", mesh_swim_member_count(d->swim, MESH_SWIM_DEAD));
	rte_tel_data_add_dict_u64(out, "left", mesh_swim_member_count(d->swim, MESH_SWIM_LEFT));
	rte_tel_data_add_dict_u64(out, "page", page);
	rte_tel_data_add_dict_u64(out, "pages", total / PAGE + 1);
	rte_tel_data_add_dict_u64(out, "health", mesh_swim_health(d->swim));
	list = rte_tel_data_alloc();
	if (list == NULL)
		return 0;
	rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	if (page == 0) {
		char line[128];
		snprintf(line, sizeof(line), "%.*s alive (self)", (int)m.name_len, m.name);
		rte_tel_data_add_array_string(list, line);
	}
	for (size_t i = page * PAGE; i < total && i < (page + 1) * PAGE; i++) {
		char line[128], ip[16];
		if (mesh_swim_member_at(d->swim, i, &m) < 0)
			break;
		snprintf(line, sizeof(line), "%.*s %s %s:%u inc %u", (int)m.name_len, m.name,
			 mesh_swim_status_name(m.status), mesh_net_ip_format(m.addr.ip, ip, sizeof(ip)),
			 m.addr.port, m.inc);
		rte_tel_data_add_array_string(list, line);
	}
	rte_tel_data_add_dict_container(out, "members", list, 0);
	return 0;
}

/* /mesh/member,<name> */
static int
q_member(struct meshd *d, const char *params, struct rte_tel_data *out)
{
	struct mesh_swim_member_info m;

	mesh_swim_self(d->swim, &m);
	if (params[0] == '\0' ||
	    (!(m.name_len == strlen(params) && memcmp(m.name, params, m.name_len) == 0) &&
	     mesh_swim_member_get(d->swim, params, strlen(params), &m) < 0)) {
		rte_tel_data_start_dict(out);
		rte_tel_data_add_dict_string(out, "error", params[0] ? "no such member"
								     : "usage: /mesh/member,<name>");
		return 0;
	}
	member_dict(out, &m);
	return 0;
}

static int
cmd_members(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return meshd_query_run(q_members, params, d);
}

static int
cmd_member(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return meshd_query_run(q_member, params, d);
}

static void
swim_gauges(void *ctx, struct rte_tel_data *dict)
{
	struct meshd *d = ctx;
	const char *const *names = mesh_swim_counter_names();

	if (d->swim == NULL)
		return;
	for (int i = 0; i < MESH_SWIM_CTR_MAX; i++)
		rte_tel_data_add_dict_u64(dict, names[i], mesh_swim_counter(d->swim, i));
}

void
meshd_swim_telemetry(struct meshd *d)
{
	rte_telemetry_register_cmd("/mesh/members", cmd_members,
				   "Members as this node sees them. Parameter: optional page");
	rte_telemetry_register_cmd("/mesh/member", cmd_member,
				   "One member's record. Parameter: name");
	mesh_telemetry_gauges_add("swim", swim_gauges, d);
}
