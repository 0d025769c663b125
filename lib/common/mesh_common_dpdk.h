/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK side of lib/common: meshd's rte_log types, the bridge that routes pure-code logging
 * (mesh_log) into them, and TSC-based time for lcores.
 */
#ifndef MESH_COMMON_DPDK_H
#define MESH_COMMON_DPDK_H

#include <stdint.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "mesh_common.h"

/** Log type of meshd's DPDK code ("meshd.net", "meshd.app", ...), registered at init. */
extern int mesh_logtype_app;
extern int mesh_logtype_net;
extern int mesh_logtype_telemetry;

#define MESH_RTE_LOG(level, type, fmt, ...) \
	rte_log(RTE_LOG_##level, mesh_logtype_##type, "meshd." #type ": " fmt "\n", ##__VA_ARGS__)

/**
 * Register meshd's log types (level from --log-level=meshd.*:...) and route mesh_log()
 * through rte_log under "meshd.<module>". Call once after rte_eal_init.
 */
void mesh_common_dpdk_init(void);

/** TSC frequency captured at init (ticks per second). */
extern uint64_t mesh_tsc_hz;

/** Convert TSC ticks to ns (exact to the ns for spans under a few hours). */
static inline uint64_t
mesh_tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)((__uint128_t)ticks * 1000000000ULL / mesh_tsc_hz);
}

/** Monotonic ns from the TSC: the clock lcores pass to the protocol cores. */
static inline uint64_t
mesh_tsc_now_ns(void)
{
	return mesh_tsc_to_ns(rte_rdtsc());
}

#endif /* MESH_COMMON_DPDK_H */
