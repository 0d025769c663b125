/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /mesh/info and /mesh/stats. DPDK 22.11 telemetry callbacks carry no user pointer, so the
 * registered tables live in this file; registration happens before the data plane starts
 * and fini flips an "active" flag that callbacks check, so a query racing shutdown answers
 * an error object instead of touching freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "mesh_telemetry.h"

#define MAX_GROUPS 16

static struct mesh_telemetry_info info;
static struct {
	const char *name;
	const struct mesh_counters *table;
	mesh_telemetry_gauges_f gauges;
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

static int
add_group(struct rte_tel_data *d, unsigned g)
{
	struct rte_tel_data *sub = rte_tel_data_alloc();
	const struct mesh_counters *t = groups[g].table;

	if (sub == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(sub);
	if (t != NULL)
		for (uint32_t i = 0; i < t->n_counters; i++)
			rte_tel_data_add_dict_u64(sub, t->names[i], mesh_counters_sum(t, i));
	if (groups[g].gauges != NULL)
		groups[g].gauges(groups[g].ctx, sub);
	if (rte_tel_data_add_dict_container(d, groups[g].name, sub, 0) < 0) {
		rte_tel_data_free(sub);
		return -ENOSPC;
	}
	return 0;
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (!active)
		return answer_error(d, "meshd is shutting down");
	rte_tel_data_start_dict(d);
	for (unsigned g = 0; g < n_groups; g++) {
		/* "/mesh/stats,net" narrows the reply to one group */
		if (params != NULL && params[0] != '\0' && strcmp(params, groups[g].name) != 0)
			continue;
		if (add_group(d, g) < 0)
			return answer_error(d, "out of memory");
	}
	if (params != NULL && params[0] != '\0') {
		for (unsigned g = 0; g < n_groups; g++)
			if (strcmp(params, groups[g].name) == 0)
				return 0;
		return answer_error(d, "unknown stats group");
	}
	return 0;
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
group_add(const char *name, const struct mesh_counters *t, mesh_telemetry_gauges_f fn,
	  void *ctx)
{
	if (n_groups == MAX_GROUPS)
		return -ENOSPC;
	groups[n_groups].name = name;
	groups[n_groups].table = t;
	groups[n_groups].gauges = fn;
	groups[n_groups].ctx = ctx;
	n_groups++;
	return 0;
}

int
mesh_telemetry_counters_add(const char *group, const struct mesh_counters *t)
{
	return group_add(group, t, NULL, NULL);
}

int
mesh_telemetry_gauges_add(const char *group, mesh_telemetry_gauges_f fn, void *ctx)
{
	return group_add(group, NULL, fn, ctx);
}

void
mesh_telemetry_fini(void)
{
	active = 0;
}
