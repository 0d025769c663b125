/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /mesh/info, /mesh/stats and the counter registry they and the other readers (client
 * stats, Prometheus) walk. A group is a counter table (names and descriptions from the
 * module's X-macro), a described walk (name, description, counter or gauge) or a plain
 * walk (names and counts: the handoff rings); every reader sees them as one stream of
 * described values. DPDK 22.11 telemetry callbacks carry no user pointer, so the
 * registered tables live in this file; registration happens before the data plane starts
 * and fini flips an "active" flag that callbacks check, so a query racing shutdown answers
 * an error object instead of touching freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "mesh_telemetry.h"

#define MAX_GROUPS 32

static struct mesh_telemetry_info info;
static struct {
	const char *name;
	const struct mesh_counters *table;
	mesh_telemetry_walk_desc_f walk_desc;
	mesh_telemetry_walk_f walk;
	void *ctx;
} groups[MAX_GROUPS];
static unsigned n_groups;
static volatile int active;

static int
answer_error(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static int
cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (!active)
		return answer_error(d, "meshd is shutting down");
	if (params != NULL && params[0] != '\0')
		return answer_error(d, "/mesh/info takes no parameters");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", info.name);
	rte_tel_data_add_dict_string(d, "version", MESH_VERSION);
	rte_tel_data_add_dict_string(d, "address", info.ip);
	rte_tel_data_add_dict_string(d, "mac", info.mac);
	rte_tel_data_add_dict_u64(d, "port", info.udp_port);
	rte_tel_data_add_dict_u64(d, "ethdev_port", info.port_id);
	rte_tel_data_add_dict_u64(d, "cluster_id", info.cluster_id);
	rte_tel_data_add_dict_string(d, "poll_mode", info.poll_mode);
	rte_tel_data_add_dict_string(d, "frames", info.security ? info.security : "xxh3");
	rte_tel_data_add_dict_u64(d, "lcores", info.lcores);
	rte_tel_data_add_dict_u64(d, "uptime_ms",
				  (mesh_time_mono_ns() - info.start_ns) / MESH_NS_PER_MS);
	return 0;
}

static void
emit_dict(void *ctx, const struct mesh_telemetry_value *v)
{
	rte_tel_data_add_dict_u64(ctx, v->name, v->v);
}

/* a plain walk's counters, passed on as described values without a description */
struct plain {
	mesh_telemetry_emit_f emit;
	void *emit_ctx;
};

static void
emit_plain(void *ctx, const char *name, uint64_t v)
{
	const struct plain *p = ctx;
	const struct mesh_telemetry_value val = { .name = name, .v = v };

	p->emit(p->emit_ctx, &val);
}

static void
walk_group(unsigned g, mesh_telemetry_emit_f emit, void *emit_ctx)
{
	const struct mesh_counters *t = groups[g].table;

	if (t != NULL)
		for (uint32_t i = 0; i < t->n_counters; i++) {
			const struct mesh_telemetry_value v = {
				.name = t->names[i], .desc = t->descs[i],
				.type = MESH_TELEMETRY_COUNTER, .v = mesh_counters_sum(t, i),
			};

			emit(emit_ctx, &v);
		}
	if (groups[g].walk_desc != NULL)
		groups[g].walk_desc(groups[g].ctx, emit, emit_ctx);
	if (groups[g].walk != NULL) {
		struct plain p = { .emit = emit, .emit_ctx = emit_ctx };

		groups[g].walk(groups[g].ctx, emit_plain, &p);
	}
}

static int
add_group(struct rte_tel_data *d, unsigned g)
{
	struct rte_tel_data *sub = rte_tel_data_alloc();

	if (sub == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(sub);
	walk_group(g, emit_dict, sub);
	if (rte_tel_data_add_dict_container(d, groups[g].name, sub, 0) < 0) {
		rte_tel_data_free(sub);
		return -ENOSPC;
	}
	return 0;
}

static int
group_find(const char *name)
{
	for (unsigned g = 0; g < n_groups; g++)
		if (strcmp(name, groups[g].name) == 0)
			return (int)g;
	return -1;
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (!active)
		return answer_error(d, "meshd is shutting down");
	if (params != NULL && params[0] != '\0' && group_find(params) < 0)
		return answer_error(d, "unknown stats group");
	rte_tel_data_start_dict(d);
	for (unsigned g = 0; g < n_groups; g++) {
		/* "/mesh/stats,net" narrows the reply to one group */
		if (params != NULL && params[0] != '\0' && strcmp(params, groups[g].name) != 0)
			continue;
		if (add_group(d, g) < 0)
			return answer_error(d, "out of memory");
	}
	return 0;
}

struct visit {
	const char *group;
	mesh_telemetry_visit_f fn;
	void *ctx;
};

static void
emit_visit(void *ctx, const struct mesh_telemetry_value *v)
{
	struct visit *w = ctx;

	w->fn(w->ctx, w->group, v);
}

int
mesh_telemetry_values_visit(const char *filter, mesh_telemetry_visit_f fn, void *ctx)
{
	int found = 0;

	for (unsigned g = 0; g < n_groups; g++) {
		struct visit w = { .group = groups[g].name, .fn = fn, .ctx = ctx };

		if (filter != NULL && filter[0] != '\0' && strcmp(filter, groups[g].name) != 0)
			continue;
		found = 1;
		walk_group(g, emit_visit, &w);
	}
	return found ? 0 : -ENOENT;
}

struct counter_visit {
	mesh_telemetry_counter_f fn;
	void *ctx;
};

static void
visit_counter(void *ctx, const char *group, const struct mesh_telemetry_value *v)
{
	const struct counter_visit *cv = ctx;

	cv->fn(cv->ctx, group, v->name, v->v);
}

int
mesh_telemetry_counters_visit(const char *filter, mesh_telemetry_counter_f fn, void *ctx)
{
	struct counter_visit cv = { .fn = fn, .ctx = ctx };

	return mesh_telemetry_values_visit(filter, visit_counter, &cv);
}

void
mesh_telemetry_group_names(char *buf, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (unsigned g = 0; g < n_groups && len < cap; g++) {
		int k = snprintf(buf + len, cap - len, "%s%s", g ? ", " : "", groups[g].name);

		len += k > 0 ? (size_t)k : 0;
	}
}

int
mesh_telemetry_init(const struct mesh_telemetry_info *i)
{
	int ret;

	info = *i;
	ret = rte_telemetry_register_cmd("/mesh/info", cmd_info,
		"Node name, version, address, port, poll mode, lcores, uptime. No parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/mesh/stats", cmd_stats,
			"All meshd counters by group. Parameter: optional group name");
	if (ret < 0 && ret != -EEXIST)
		return ret;
	active = 1;
	return 0;
}

static int
group_add(const char *name, const struct mesh_counters *t, mesh_telemetry_walk_desc_f walk_desc,
	  mesh_telemetry_walk_f walk, void *ctx)
{
	if (n_groups == MAX_GROUPS)
		return -ENOSPC;
	groups[n_groups].name = name;
	groups[n_groups].table = t;
	groups[n_groups].walk_desc = walk_desc;
	groups[n_groups].walk = walk;
	groups[n_groups].ctx = ctx;
	n_groups++;
	return 0;
}

int
mesh_telemetry_counters_add(const char *group, const struct mesh_counters *t)
{
	return group_add(group, t, NULL, NULL, NULL);
}

int
mesh_telemetry_group_add_desc(const char *group, mesh_telemetry_walk_desc_f walk, void *ctx)
{
	return group_add(group, NULL, walk, NULL, ctx);
}

int
mesh_telemetry_group_add(const char *group, mesh_telemetry_walk_f walk, void *ctx)
{
	return group_add(group, NULL, NULL, walk, ctx);
}

void
mesh_telemetry_fini(void)
{
	active = 0;
}
