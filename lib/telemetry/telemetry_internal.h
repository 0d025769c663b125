/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/telemetry private: the node being served, questions for the merge lcore and the
 * Prometheus text writer shared by the registry's and the node's series.
 */
#ifndef TELEMETRY_INTERNAL_H
#define TELEMETRY_INTERNAL_H

#include <stdbool.h>

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

/* ---------------------------------------------------------------- Prometheus text */

/** Text being written: like snprintf, len counts what did not fit too. */
struct tel_prom {
	char *buf;
	size_t cap, len;
};

void tel_prom_printf(struct tel_prom *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** @len bytes of @s, escaped for a HELP line, or for a label value when @quoted. */
void tel_prom_escaped(struct tel_prom *r, const char *s, size_t len, bool quoted);
/** @ns as decimal seconds, exact ("0.000010239", "2.5", "0"). */
void tel_prom_seconds(struct tel_prom *r, uint64_t ns);
/** "# HELP @metric @help" (escaped) and "# TYPE @metric @type" lines. */
void tel_prom_head(struct tel_prom *r, const char *metric, const char *type, const char *help);
/** The node's series: members, replication peers, namespaces, latency histograms. */
void tel_prom_node(struct tel_prom *r, struct mesh_node *n);

#endif
