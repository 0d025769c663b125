/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's own setting values: the parsers of the settings table (meshd_settings.c) for
 * what is not a plain number, size, bool or string (those are lib/common's
 * mesh_conf_set_*): node names, addresses, poll mode, SWIM profile, fault injection,
 * namespace kinds, key files (loaded to check them) and EAL options (checked against
 * EAL's names). Each checks one value and stores it in struct meshd_cfg, or writes why it
 * refused it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "meshd_settings.h"

#define CFG(c) ((struct meshd_cfg *)(c)->obj)

MESH_CONF_SETTER(meshd_value_name)
{
	if (val[strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")]
	    != '\0')
		return mesh_errf(why, why_len, "invalid value '%s': letters, digits, '.', '_', '-' "
				 "only", val);
	return mesh_conf_set_str(c, d, val, why, why_len);
}

/* [namespaces] defaults = yes|no, stored as its opposite */
MESH_CONF_SETTER(meshd_value_ns_defaults)
{
	if (mesh_conf_set_bool(c, d, val, why, why_len) < 0)
		return -EINVAL;
	CFG(c)->ns_no_defaults = !CFG(c)->ns_no_defaults;
	return 0;
}

MESH_CONF_SETTER(meshd_value_ip)
{
	if (mesh_parse_ipv4(val, &CFG(c)->ip) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected A.B.C.D", val);
	return 0;
}

MESH_CONF_SETTER(meshd_value_poll)
{
	if (mesh_net_poll_mode_parse(val, &CFG(c)->poll_mode) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected backoff or busy", val);
	return 0;
}

MESH_CONF_SETTER(meshd_value_profile)
{
	if (strcmp(val, "fast") != 0 && strcmp(val, "lan") != 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected lan or fast", val);
	CFG(c)->profile_fast = strcmp(val, "fast") == 0;
	return 0;
}

/* one more "A.B.C.D[:PORT]" of a repeatable setting with @n entries */
static int
add_addr(unsigned *n, uint32_t *ip, uint16_t *port, const char *val, char *why, size_t len)
{
	if (*n == MESHD_MAX_PEERS)
		return mesh_errf(why, len, "too many addresses (max %d)", MESHD_MAX_PEERS);
	if (mesh_parse_ipv4_port(val, MESHD_DEFAULT_PORT, ip, port) < 0)
		return mesh_errf(why, len, "invalid value '%s': expected A.B.C.D[:PORT]", val);
	(*n)++;
	return 0;
}

MESH_CONF_SETTER(meshd_value_peer)
{
	struct meshd_cfg *cfg = c->obj;
	struct meshd_hello_peer *p = &cfg->peers[MESH_MIN(cfg->n_peers, MESHD_MAX_PEERS - 1u)];

	if (cfg->n_peers < MESHD_MAX_PEERS)
		memset(p, 0, sizeof(*p));
	return add_addr(&cfg->n_peers, &p->ip, &p->port, val, why, why_len);
}

MESH_CONF_SETTER(meshd_value_seed)
{
	struct meshd_cfg *cfg = c->obj;
	struct meshd_addr *a = &cfg->seeds[MESH_MIN(cfg->n_seeds, MESHD_MAX_PEERS - 1u)];

	return add_addr(&cfg->n_seeds, &a->ip, &a->port, val, why, why_len);
}

MESH_CONF_SETTER(meshd_value_metrics)
{
	uint32_t ip;
	uint16_t port;

	if (mesh_parse_ipv4_port(val, 0, &ip, &port) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected A.B.C.D:PORT", val);
	return mesh_conf_set_str(c, d, val, why, why_len);
}

MESH_CONF_SETTER(meshd_value_key_file)
{
	struct mesh_wire_keyring kr;
	char err[320];
	int ret;

	if (mesh_conf_set_str(c, d, val, why, why_len) < 0)
		return -EINVAL;
	/* loaded here to check it (errors name its line); meshd loads it again at start-up */
	ret = mesh_wire_keyring_load(val, &kr, err, sizeof(err));
	mesh_wire_keyring_fini(&kr);
	return ret < 0 ? mesh_errf(why, why_len, "invalid key file: %s", err) : 0;
}

int
meshd_keys_load(const char *path, struct mesh_wire_keyring *kr)
{
	char err[320];

	if (mesh_wire_keyring_load(path, kr, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "meshd: %s\n", err);
	return -EINVAL;
}

MESH_CONF_SETTER(meshd_value_fault)
{
	if (mesh_net_fault_spec_parse(val, &CFG(c)->fault, why, why_len) < 0)
		return -EINVAL;
	CFG(c)->fault_on = true;
	return 0;
}

int
meshd_eal_opts_check(int n, char *const *tok, char *why, size_t why_len)
{
	char name[64];
	int bad, ret = mesh_common_eal_opts_check(n, tok, &bad, why, why_len);

	if (ret != -ENOENT || tok[bad][1] != '-')
		return ret < 0 ? -EINVAL : 0;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(tok[bad] + 2, "="), tok[bad] + 2);
	if (mesh_conf_find_option(meshd_settings, name) != NULL)
		mesh_errf(why, why_len, "'%s' is a meshd option: put it after \"--\"", tok[bad]);
	return -EINVAL;
}

MESH_CONF_SETTER(meshd_value_eal_args)
{
	char *tok[MESH_COMMON_EAL_ARGS_MAX], *copy = strdup(val);
	int n = copy != NULL ? mesh_common_eal_args_split(copy, tok, MESH_COMMON_EAL_ARGS_MAX)
			     : -ENOMEM;

	if (n == -E2BIG)
		mesh_errf(why, why_len, "more than %d EAL arguments", MESH_COMMON_EAL_ARGS_MAX);
	else if (n >= 0)
		n = meshd_eal_opts_check(n, tok, why, why_len);
	free(copy);
	return n < 0 ? -EINVAL : mesh_conf_set_str(c, d, val, why, why_len);
}

MESH_CONF_SETTER(meshd_value_ns_kind)
{
	static const char *const names[] = {
		[MESH_CRDT_NS_LWW] = "lww", [MESH_CRDT_NS_EPOCH_MAX] = "epoch_max",
		[MESH_CRDT_NS_BROADCAST] = "broadcast", [MESH_CRDT_NS_TARGETED] = "targeted",
	};
	struct meshd_ns_cfg *ns = c->sub;

	for (int i = 0; i < (int)MESH_ARRAY_SIZE(names); i++)
		if (strcmp(val, names[i]) == 0) {
			ns->kind = i;
			return 0;
		}
	return mesh_errf(why, why_len, "invalid value '%s': expected lww, epoch_max, broadcast "
			 "or targeted", val);
}
