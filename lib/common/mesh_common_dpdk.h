/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK side of lib/common: meshd's rte_log types, the bridge that routes pure-code logging
 * (mesh_log) into them, TSC-based time for lcores, and EAL's arguments checked before EAL
 * starts (mesh_common_dpdk_eal.c).
 */
#ifndef MESH_COMMON_DPDK_H
#define MESH_COMMON_DPDK_H

#include <stddef.h>
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
 * Route mesh_log() through rte_log under "meshd.<module>" (the log types themselves are
 * registered by a constructor, before EAL parses --log-level=meshd.*:...) and read the
 * TSC frequency. Call once after rte_eal_init.
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

/* ---------------------------------------------------------------- EAL arguments */

#define MESH_COMMON_EAL_ARGS_MAX 64 /* options in one string of EAL arguments */

/**
 * Check EAL options @tok[0..@n-1] before EAL starts: each is one DPDK 22.11's EAL knows
 * (short or long), carries its value when it takes one (--opt=V, -lV or the next token)
 * and none when it takes none; no stray arguments. 0; or -ENOENT for an unknown option,
 * -EINVAL for anything else, with the reason in @why and the refused token's index in
 * *@bad.
 */
int mesh_common_eal_opts_check(int n, char *const *tok, int *bad, char *why, size_t why_len);

/**
 * mesh_common_eal_opts_check for a program with its own settings table @own (mesh_conf):
 * one of its long options among the EAL options is refused with advice ("'--name' is a
 * @prog option: put it after \"--\""). 0, or -EINVAL with the reason in @why.
 */
int mesh_common_eal_opts_check_own(int n, char *const *tok, const struct mesh_conf_def *own,
				   const char *prog, char *why, size_t why_len);

/** Split @s in place on blanks (no quoting) into @tok[0..@max-1]. The count, or -E2BIG. */
int mesh_common_eal_args_split(char *s, char **tok, int max);

/**
 * EAL's argv: @argv[0], the options in @args (split on blanks; at most
 * MESH_COMMON_EAL_ARGS_MAX), then @argv[1..@argc-1], then "--file-prefix @prefix" unless
 * @prefix is NULL or either set a file prefix (@prefix must outlive EAL). Allocated for
 * the life of the process. 0, -E2BIG or -ENOMEM.
 */
int mesh_common_eal_argv_build(const char *args, int argc, char **argv, const char *prefix,
			       int *out_argc, char ***out_argv);

/** "PROG [EAL options] -- ...": the index of the "--" in @argv, or @argc when none. */
int mesh_common_eal_opts_end(int argc, char **argv);

/** Have EAL print its usage for @prog, which exits 0; returns (-EIO) only when it did not. */
int mesh_common_eal_help(const char *prog);

#endif /* MESH_COMMON_DPDK_H */
