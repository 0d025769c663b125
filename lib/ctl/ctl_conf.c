/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The settings of lib/ctl's local surfaces, as mesh_conf parsers for the program's
 * settings table, and the warnings a configuration deserves (printed by --check-config,
 * logged at start-up): the metrics address ("PORT" alone binds 127.0.0.1; any other
 * address than 127/8 is accepted with a warning), the client socket's mode (octal) and
 * group (a name or a number that exists on this host), and the per-client and global byte
 * caps of the control thread. They need no EAL.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_ctl.h"

MESH_CONF_SETTER(mesh_ctl_conf_set_metrics)
{
	char full[64];
	uint32_t ip;
	uint16_t port;

	/* "PORT" or ":PORT": the loopback address */
	if (val[strspn(val, "0123456789")] == '\0' || (val[0] == ':' && val[1] != '\0'))
		snprintf(full, sizeof(full), "127.0.0.1:%s", val + (val[0] == ':'));
	else
		snprintf(full, sizeof(full), "%s", val);
	if (mesh_parse_ipv4_port(full, 0, &ip, &port) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected PORT (127.0.0.1) "
				 "or A.B.C.D:PORT", val);
	return mesh_conf_set_str(c, d, full, why, why_len);
}

MESH_CONF_SETTER(mesh_ctl_conf_set_mode)
{
	char *end;
	unsigned long v = strtoul(val, &end, 8);

	if (val[0] < '0' || val[0] > '7' || *end != '\0' || v == 0 || v > 0777)
		return mesh_errf(why, why_len, "invalid value '%s': expected an octal mode "
				 "0001..0777", val);
	*(uint32_t *)mesh_conf_field(c, d) = (uint32_t)v;
	return 0;
}

int
mesh_ctl_group_lookup(const char *name, uint32_t *gid)
{
	struct group *g = getgrnam(name);
	char *end;
	unsigned long v;

	if (g != NULL) {
		*gid = (uint32_t)g->gr_gid;
		return 0;
	}
	v = strtoul(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || *end != '\0' || v > UINT32_MAX)
		return -ENOENT;
	*gid = (uint32_t)v;
	return 0;
}

MESH_CONF_SETTER(mesh_ctl_conf_set_group)
{
	uint32_t gid;

	if (mesh_ctl_group_lookup(val, &gid) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': no such group on this host "
				 "(a group name or a numeric gid)", val);
	return mesh_conf_set_str(c, d, val, why, why_len);
}

/* A.B.C.D:PORT outside 127.0.0.0/8 */
static bool
metrics_public(const char *spec)
{
	uint32_t ip;
	uint16_t port;

	return spec != NULL && spec[0] != '\0' && mesh_parse_ipv4_port(spec, 0, &ip, &port) == 0
	       && (ip >> 24) != 127;
}

unsigned
mesh_ctl_cfg_warnings(const struct mesh_ctl_cfg *cfg, char *buf, size_t len)
{
	unsigned n = 0;
	size_t at = 0;

	if (len > 0)
		buf[0] = '\0';
#define WARN(...) do { \
		if (at < len) \
			at += (size_t)snprintf(buf + at, len - at, __VA_ARGS__); \
		n++; \
	} while (0)
	if (metrics_public(cfg->metrics))
		WARN("metrics_listen %s is not a loopback address: anyone who reaches it reads "
		     "every counter, member name and address of this node (no authentication; "
		     "bind 127.0.0.1 and scrape through a proxy or an SSH tunnel)\n", cfg->metrics);
	if (cfg->socket_mode & 0002)
		WARN("ctl_socket_mode %04o lets every local user connect: any of them can read "
		     "and write every key\n", cfg->socket_mode);
#undef WARN
	return n;
}
