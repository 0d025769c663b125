/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging for pure code: a process-wide level and one hook. The default hook writes
 * "meshd <module> <level>: msg" to stderr; DPDK programs install the rte_log bridge from
 * mesh_common_dpdk so pure modules log through DPDK log types.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_common.h"

static void
log_stderr(void *ctx, enum mesh_log_level level, const char *module, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "meshd %s %s: %s\n", module, mesh_log_level_name(level), msg);
}

static mesh_log_hook_f log_hook = log_stderr;
static void *log_ctx;
static enum mesh_log_level log_level = MESH_LOG_NOTICE;

static const char *const level_names[] = {
	[MESH_LOG_ERR] = "err",
	[MESH_LOG_WARNING] = "warning",
	[MESH_LOG_NOTICE] = "notice",
	[MESH_LOG_INFO] = "info",
	[MESH_LOG_DEBUG] = "debug",
};

void
mesh_log_hook_set(mesh_log_hook_f hook, void *ctx)
{
	log_hook = hook != NULL ? hook : log_stderr;
	log_ctx = hook != NULL ? ctx : NULL;
}

void
mesh_log_level_set(enum mesh_log_level level)
{
	log_level = level;
}

enum mesh_log_level
mesh_log_level_get(void)
{
	return log_level;
}

const char *
mesh_log_level_name(enum mesh_log_level level)
{
	if ((unsigned)level < MESH_ARRAY_SIZE(level_names) && level_names[level] != NULL)
		return level_names[level];
	return "?";
}

int
mesh_log_level_parse(const char *name, enum mesh_log_level *out)
{
	for (unsigned i = 0; i < MESH_ARRAY_SIZE(level_names); i++) {
		if (level_names[i] != NULL && strcmp(level_names[i], name) == 0) {
			*out = (enum mesh_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

__attribute__((format(printf, 3, 0))) void
mesh_log_v(enum mesh_log_level level, const char *module, const char *fmt, va_list ap)
{
	char buf[512];

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_hook(log_ctx, level, module, buf);
}

void
mesh_log(enum mesh_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mesh_log_v(level, module, fmt, ap);
	va_end(ap);
}

bool
mesh_ratelimit_allow(struct mesh_ratelimit *rl, uint64_t now_ns)
{
	if (rl->used == 0 || now_ns - rl->window_start_ns >= rl->interval_ns) {
		rl->window_start_ns = now_ns;
		rl->used = 0;
	}
	if (rl->used < rl->burst) {
		rl->used++;
		return true;
	}
	rl->suppressed++;
	return false;
}
