/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/telemetry private: the node being served and questions for the merge lcore. */
#ifndef TELEMETRY_INTERNAL_H
#define TELEMETRY_INTERNAL_H

#include <rte_telemetry.h>

#include "mesh_node.h"
#include "mesh_telemetry.h"

/** The node whose commands are registered (NULL before init / after fini). */
extern struct mesh_node *tel_node;

/** A question answered on the merge lcore: fill @out from @params. */
typedef int (*tel_query_f)(struct mesh_node *n, const char *params, struct rte_tel_data *out);

/**
 * Telemetry thread: have the merge lcore run @fn and fill @out; waits at most 500 ms,
 * then answers an error object. Always returns 0 (errors are reported in @out).
 */
int tel_query_run(tel_query_f fn, const char *params, struct rte_tel_data *out);
int tel_query_init(void);

/** An error object as the whole reply. Returns 0. */
int tel_error(struct rte_tel_data *d, const char *msg);

/** "a.b.c.d:port" of @a into @buf (24 bytes). */
const char *tel_addr(const struct mesh_node_addr *a, char *buf, size_t cap);

/** Register /mesh/latency. */
int tel_latency_init(void);

#endif
