/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log levels at run time. One parser for EAL's --log-level values ("LEVEL",
 * "PATTERN:LEVEL" with a glob, "REGEX,LEVEL"), used by the /mesh/log_level telemetry
 * command and by meshd's SIGHUP reload (mesh_telemetry_log_levels_apply: the --log-level
 * options among EAL arguments, e.g. the [eal] section's).
 * Levels are DPDK's names (emergency .. debug) or numbers 1-8, as on the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_telemetry.h>

#include "mesh_telemetry.h"

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emergency", [RTE_LOG_ALERT] = "alert",
	[RTE_LOG_CRIT] = "critical",   [RTE_LOG_ERR] = "error",
	[RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info",       [RTE_LOG_DEBUG] = "debug",
};

/* meshd's own log types ("meshd.<name>"), shown by /mesh/log_level under "meshd" (telemetry
 * names allow no dots) */
static const char *const mesh_types[] = {
	"app", "net", "telemetry", "common", "wire", "crdt", "swim", "stream", "node",
};

static const char *
level_name(uint32_t level)
{
	return level >= RTE_LOG_EMERG && level <= RTE_LOG_DEBUG ? level_names[level] : "?";
}

static int
level_parse(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0')
		return n >= (long)RTE_LOG_EMERG && n <= (long)RTE_LOG_DEBUG ? (int)n : -EINVAL;
	for (int i = (int)RTE_LOG_EMERG; i <= (int)RTE_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -EINVAL;
}

int
mesh_telemetry_log_level_set(const char *spec, char *why, size_t why_len)
{
	char buf[256], *sep;
	int level, ret;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(why, why_len, "log level '%.40s...' is too long", spec);
		return -EINVAL;
	}
	sep = strrchr(buf, ':');
	if (sep == NULL)
		sep = strrchr(buf, ',');
	level = level_parse(sep != NULL ? sep + 1 : buf);
	if (level < 0 || (sep != NULL && sep == buf)) {
		snprintf(why, why_len, "log level '%s': expected LEVEL, TYPE:LEVEL or REGEX,LEVEL "
			 "with LEVEL one of emergency alert critical error warning notice "
			 "info debug (or 1-8)", spec);
		return -EINVAL;
	}
	if (sep == NULL) {
		rte_log_set_global_level((uint32_t)level);
		return 0;
	}
	if (*sep == ':') {
		*sep = '\0';
		ret = rte_log_set_level_pattern(buf, (uint32_t)level);
	} else {
		*sep = '\0';
		ret = rte_log_set_level_regexp(buf, (uint32_t)level);
	}
	if (ret < 0)
		snprintf(why, why_len, "log level '%s': bad pattern '%s'", spec, buf);
	return ret < 0 ? -EINVAL : 0;
}

static int
cmd_log_level(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *types;
	char why[256];

	(void)cmd;
	if (params != NULL && params[0] != '\0' &&
	    mesh_telemetry_log_level_set(params, why, sizeof(why)) < 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", why);
		return 0;
	}
	types = rte_tel_data_alloc();
	if (types == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(types);
	for (size_t i = 0; i < sizeof(mesh_types) / sizeof(mesh_types[0]); i++) {
		char name[64];
		int type;

		snprintf(name, sizeof(name), "meshd.%s", mesh_types[i]);
		type = rte_log_register(name); /* the id of a registered type */
		if (type >= 0)
			rte_tel_data_add_dict_string(types, mesh_types[i],
				level_name((uint32_t)rte_log_get_level((uint32_t)type)));
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "global", level_name(rte_log_get_global_level()));
	rte_tel_data_add_dict_container(d, "meshd", types, 0);
	return 0;
}

unsigned
mesh_telemetry_log_levels_apply(int n, char *const *tok)
{
	unsigned applied = 0;
	char why[256];

	for (int i = 0; i < n; i++) {
		const char *v = NULL;

		if (strcmp(tok[i], "--log-level") == 0 && i + 1 < n)
			v = tok[++i];
		else if (strncmp(tok[i], "--log-level=", 12) == 0)
			v = tok[i] + 12;
		if (v == NULL)
			continue;
		if (mesh_telemetry_log_level_set(v, why, sizeof(why)) < 0)
			mesh_log(MESH_LOG_WARNING, "telemetry", "--log-level: %s", why);
		else
			applied++;
	}
	return applied;
}

int
mesh_telemetry_log_init(void)
{
	int ret = rte_telemetry_register_cmd("/mesh/log_level", cmd_log_level,
		"Log levels, global and meshd.*. Parameter: optional TYPE:LEVEL, REGEX,LEVEL "
		"or LEVEL to set, as --log-level"); /* < 128 bytes */

	return ret == -EEXIST ? 0 : ret;
}
