/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/lcore's files among themselves. */
#ifndef LCORE_INTERNAL_H
#define LCORE_INTERNAL_H

#include "mesh_lcore.h"

/** One lcore's poll loop (rte_lcore_function_t; @arg: its struct mesh_lcore). */
int lcore_loop(void *arg);

/** /mesh/lcores and the handoff counters on /mesh/counters, for @l (NULL: none). */
void lcore_tel_register(struct mesh_lcores *l);

#endif
