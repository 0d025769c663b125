/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd's own setting values: the parsers of the settings table (meshd_settings.c) for
 * what lib/common's mesh_conf_set_* (numbers, sizes, bools, strings, names, addresses)
 * does not cover: peer and seed lists, poll mode, SWIM profile, fault injection,
 * namespace kinds and EAL options (checked against EAL's names). Each checks one value
 * and stores it in struct meshd_cfg, or writes why it refused it. (The key file is
 * checked once the settings are complete: meshd_args.c.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "meshd_settings.h"

#define CFG(c) ((struct meshd_cfg *)(c)->obj)

/* [namespaces] defaults = yes|no, stored as its opposite */
MESH_CONF_SETTER(meshd_value_ns_defaults)
{
	if (mesh_conf_set_bool(c, d, val, why, why_len) < 0)
		return -EINVAL;
	CFG(c)->ns_no_defaults = !CFG(c)->ns_no_defaults;
	return 0;
}

MESH_CONF_SETTER(meshd_value_poll)
{
	if (mesh_net_poll_mode_parse(val, &CFG(c)->poll_mode) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected event, backoff or busy", val);
	return 0;
}

MESH_CONF_SETTER(meshd_value_profile)
{
	struct mesh_swim_cfg scratch;

	if (mesh_swim_cfg_profile(&scratch, val) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected lan, fast or tight",
				 val);
	snprintf(CFG(c)->profile, sizeof(CFG(c)->profile), "%s", val);
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

MESH_CONF_SETTER(meshd_value_fault)
{
	if (mesh_net_fault_spec_parse(val, &CFG(c)->fault, why, why_len) < 0)
		return -EINVAL;
	CFG(c)->fault_on = true;
	return 0;
}

MESH_CONF_SETTER(meshd_value_eal_args)
{
	char *tok[MESH_COMMON_EAL_ARGS_MAX], *copy = strdup(val);
	int n = copy != NULL ? mesh_common_eal_args_split(copy, tok, MESH_COMMON_EAL_ARGS_MAX)
			     : -ENOMEM;

	if (n == -E2BIG)
		mesh_errf(why, why_len, "more than %d EAL arguments", MESH_COMMON_EAL_ARGS_MAX);
	else if (n >= 0)
		n = mesh_common_eal_opts_check_own(n, tok, meshd_settings, "meshd", why, why_len);
	free(copy);
	return n < 0 ? -EINVAL : mesh_conf_set_str(c, d, val, why, why_len);
}

MESH_CONF_SETTER(meshd_value_ns_kind)
{
	enum mesh_crdt_ns_kind kind;

	if (mesh_crdt_ns_kind_parse(val, &kind) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected lww, epoch_max, "
				 "broadcast or targeted", val);
	((struct meshd_ns_cfg *)c->sub)->kind = (int)kind;
	return 0;
}
