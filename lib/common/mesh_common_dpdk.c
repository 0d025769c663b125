/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_log bridge. Pure modules log through mesh_log(level, module, ...); this hook maps the
 * module name to a "meshd.<module>" log type so operators control every module with the
 * usual --log-level=meshd.swim:debug. meshd's types and the known modules' are registered
 * by a constructor (like RTE_LOG_REGISTER), before EAL parses --log-level: the options
 * apply to them and --log-level=help lists them.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "mesh_common_dpdk.h"

int mesh_logtype_app;
int mesh_logtype_net;
int mesh_logtype_telemetry;
uint64_t mesh_tsc_hz = 1;

#define MAX_PURE_TYPES 16

static struct {
	const char *module;
	int type;
} pure_types[MAX_PURE_TYPES];
static unsigned n_pure_types;

/* the modules that log through mesh_log() (their names as they pass them) */
static const char *const pure_modules[] = { "common", "wire", "crdt", "swim", "stream", "node" };

static int
pure_logtype(const char *module)
{
	char name[64];
	int type;

	for (unsigned i = 0; i < n_pure_types; i++)
		if (strcmp(pure_types[i].module, module) == 0)
			return pure_types[i].type;
	snprintf(name, sizeof(name), "meshd.%s", module);
	type = rte_log_register_type_and_pick_level(name, RTE_LOG_NOTICE);
	if (type < 0)
		return mesh_logtype_app;
	if (n_pure_types < MAX_PURE_TYPES) {
		pure_types[n_pure_types].module = module; /* modules pass string literals */
		pure_types[n_pure_types].type = type;
		n_pure_types++;
	}
	return type;
}

static void
log_to_rte(void *ctx, enum mesh_log_level level, const char *module, const char *msg)
{
	(void)ctx;
	rte_log((uint32_t)level, (uint32_t)pure_logtype(module), "meshd.%s: %s\n", module, msg);
}

RTE_INIT(mesh_logtypes_register)
{
	mesh_logtype_app = rte_log_register_type_and_pick_level("meshd.app", RTE_LOG_INFO);
	mesh_logtype_net = rte_log_register_type_and_pick_level("meshd.net", RTE_LOG_NOTICE);
	mesh_logtype_telemetry =
		rte_log_register_type_and_pick_level("meshd.telemetry", RTE_LOG_NOTICE);
	for (unsigned i = 0; i < RTE_DIM(pure_modules); i++)
		pure_logtype(pure_modules[i]);
}

void
mesh_common_dpdk_init(void)
{
	mesh_tsc_hz = rte_get_tsc_hz();
	/* rte_log filters by type level; let everything through the pure-side filter. */
	mesh_log_level_set(MESH_LOG_DEBUG);
	mesh_log_hook_set(log_to_rte, NULL);
}
