/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /mesh/neighbours: the neighbour table of the port, for operators and the hostile-input
 * test (is a member still at its real MAC?). The tx stage owns the table and the telemetry
 * thread reads it without a lock: an entry that changes during the query may be reported
 * torn, which a diagnostic tolerates; the table itself is a fixed array that never moves.
 * DPDK 22.11 telemetry callbacks carry no user pointer, so the port is remembered here.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_telemetry.h>

#include "mesh_net.h"
#include "net_internal.h"

static const struct mesh_net_port *volatile tel_port;

static int
cmd_neighbours(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct mesh_net_port *p = tel_port;
	unsigned resolved = 0, pending = 0;
	struct rte_tel_data *list;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (p == NULL) {
		rte_tel_data_add_dict_string(d, "error", "no port");
		return 0;
	}
	list = rte_tel_data_alloc();
	if (list == NULL)
		return -ENOMEM;
	/* dict keys may not hold dots: entries are "ADDRESS MAC" strings in a list */
	rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < MESH_NET_ARP_SLOTS; i++) {
		const struct mesh_net_neigh *n = &p->neigh[i];
		const uint8_t *m = n->mac.addr_bytes;
		uint32_t ip = n->ip;
		char e[40];

		if (ip == 0)
			continue;
		if (n->resolved) {
			resolved++;
			snprintf(e, sizeof(e), "%u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x",
				 ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, m[0], m[1],
				 m[2], m[3], m[4], m[5]);
		} else {
			pending++;
			snprintf(e, sizeof(e), "%u.%u.%u.%u pending", ip >> 24, (ip >> 16) & 255,
				 (ip >> 8) & 255, ip & 255);
		}
		/* an array holds RTE_TEL_MAX_ARRAY_ENTRIES; a fuller table is cut short */
		if (rte_tel_data_add_array_string(list, e) < 0)
			break;
	}
	rte_tel_data_add_dict_u64(d, "resolved", resolved);
	rte_tel_data_add_dict_u64(d, "pending", pending);
	rte_tel_data_add_dict_container(d, "entries", list, 0);
	return 0;
}

int
net_neigh_tel_init(const struct mesh_net_port *p)
{
	int ret;

	tel_port = p;
	ret = rte_telemetry_register_cmd("/mesh/neighbours", cmd_neighbours,
		"The port's neighbour (ARP) table: \"ADDRESS MAC\" or \"ADDRESS pending\". No parameters");
	return ret == -EEXIST ? 0 : ret;
}

void
net_neigh_tel_fini(const struct mesh_net_port *p)
{
	if (tel_port == p)
		tel_port = NULL;
}
