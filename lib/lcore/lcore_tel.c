/* SPDX-License-Identifier: BSD-3-Clause */
/* /mesh/lcores: each loop's roles and idle statistics; the handoff rings' counters. */
#include <stdio.h>

#include <rte_telemetry.h>

#include "mesh_telemetry.h"
#include "lcore_internal.h"

static struct mesh_lcores *tel_lcores; /* telemetry callbacks have no context */

static int
cmd_lcores(const char *cmd, const char *params, struct rte_tel_data *data)
{
	struct mesh_lcores *l = tel_lcores;

	(void)cmd;
	rte_tel_data_start_dict(data);
	if (l == NULL || (params != NULL && params[0] != '\0')) {
		rte_tel_data_add_dict_string(data, "error",
					     l == NULL ? "not running" : "no parameters");
		return 0;
	}
	for (unsigned i = 0; i < l->n; i++) {
		const struct mesh_lcore *lc = &l->lc[i];
		struct rte_tel_data *e = rte_tel_data_alloc();
		char key[24];

		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "roles", mesh_lcore_roles_name(lc->roles));
		rte_tel_data_add_dict_int(e, "rt_priority",
					  __atomic_load_n(&lc->rt_priority, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_int(e, "memory_locked", l->memory_locked);
		mesh_net_idle_tel_fill(&lc->idle, e);
		snprintf(key, sizeof(key), "lcore%u", lc->lcore_id);
		rte_tel_data_add_dict_container(data, key, e, 0);
	}
	return 0;
}

static void
walk_handoff(void *ctx, mesh_telemetry_value_f emit, void *emit_ctx)
{
	(void)ctx;
	mesh_handoff_visit(emit, emit_ctx);
}

void
lcore_tel_register(struct mesh_lcores *l)
{
	static int registered;

	tel_lcores = l;
	if (l == NULL || registered)
		return;
	registered = 1;
	rte_telemetry_register_cmd("/mesh/lcores", cmd_lcores,
				   "Per lcore: roles, polls, busy share, idle sleeps and wake-ups, "
				   "deadline lateness. No parameters");
	mesh_telemetry_group_add("handoff", walk_handoff, NULL);
}
