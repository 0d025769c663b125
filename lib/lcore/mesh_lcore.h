/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/lcore: the node's poll loops. Three roles, rx, merge and tx, each on exactly one
 * lcore (all on one lcore = run to completion); roles on different lcores talk through
 * SPSC rings (lib/handoff). Each loop idles as the poll mode says (lib/net's
 * mesh_net_idle) and never sleeps past its roles' next deadline. /mesh/lcores reports
 * each loop; the handoff rings' counters join /mesh/counters.
 */
#ifndef MESH_LCORE_H
#define MESH_LCORE_H

#include <stdint.h>

#include "mesh_ctl.h"
#include "mesh_handoff.h"
#include "mesh_net.h"
#include "mesh_node.h"

enum mesh_lcore_role {
	MESH_LCORE_RX = 1 << 0,    /* polls the port, classifies, checks frames */
	MESH_LCORE_MERGE = 1 << 1, /* owns the node: frames, client requests, timers */
	MESH_LCORE_TX = 1 << 2,    /* owns the tx queue and the neighbour table */
};

struct mesh_lcores_cfg {
	/* lcore of each role; UINT32_MAX: the main lcore */
	unsigned lcore_rx, lcore_merge, lcore_tx;
	enum mesh_net_poll_mode poll_mode;
	uint32_t idle_sleep_max_us; /* backoff mode's longest sleep */
	uint64_t drain_ns;          /* on quit: wait this long at most for peers' acks */
	/* event mode: each loop runs under SCHED_FIFO at this priority (0: the normal
	 * scheduler), so that the application's threads on the same CPUs cannot delay a
	 * probe or an ack by a time slice. Other modes spin and keep the normal scheduler. */
	unsigned rt_priority;
	/* lock the process's pages in memory (mlockall) before the loops start, so that a
	 * page the kernel reclaimed (cold code: a refutation, a telemetry handler) cannot
	 * stall a loop on a disk read, milliseconds, tens under I/O load, long enough for
	 * the fast profile to declare this node dead. What is mapped at that point, each
	 * page from its first use (MCL_ONFAULT): untouched reservations cost nothing. */
	bool lock_memory;
};

struct mesh_lcores;

/** One poll loop: an lcore and the roles it runs. */
struct mesh_lcore {
	unsigned lcore_id;
	unsigned roles;             /* enum mesh_lcore_role bits */
	struct mesh_net_idle idle;  /* what it does when a pass found no work */
	int rt_priority;            /* SCHED_FIFO priority it runs at, 0: SCHED_OTHER */
	struct mesh_lcores *all;
};

struct mesh_lcores {
	struct mesh_lcores_cfg cfg;
	struct mesh_net_port *port;
	struct mesh_net_node_io *io;
	struct mesh_node *node;        /* set by mesh_lcores_run */
	struct mesh_ctl *ctl;          /* set by mesh_lcores_run */
	volatile int *quit;            /* non-zero: drain, leave, stop */
	unsigned n;
	struct mesh_lcore lc[3];
	struct mesh_lcore *merge_lc, *tx_lc;
	/* SPSC rings between roles on different lcores (ring == NULL when co-located) */
	struct mesh_handoff rx_merge;  /* valid frames */
	struct mesh_handoff rx_tx;     /* ARP packets */
	struct mesh_handoff merge_tx;  /* prepared outbound datagrams */
	struct mesh_node_stop stopping;
	volatile int stop;             /* set by the merge lcore when every loop may end */
	int memory_locked;             /* mlockall succeeded (cfg.lock_memory) */
	uint64_t merge_beat_ns;        /* the merge loop's last pass (systemd watchdog) */
};

/**
 * Plan the lcores of @cfg (each must be enabled in EAL), set up their idle waits, create
 * the rings between roles on different lcores and point @io's output at the tx ring when
 * there is one; register /mesh/lcores. 0 or -errno (logged; nothing is left set up).
 */
int mesh_lcores_setup(struct mesh_lcores *l, const struct mesh_lcores_cfg *cfg,
		      struct mesh_net_port *port, struct mesh_net_node_io *io);

/**
 * Run the loops of @node and @ctl (workers, then the main lcore's own) until *@quit is
 * set and the node has drained and left; returns when every loop has ended.
 */
void mesh_lcores_run(struct mesh_lcores *l, struct mesh_node *node, struct mesh_ctl *ctl,
		     volatile int *quit);

/** Free the rings and what they still hold; unregister /mesh/lcores' data. */
void mesh_lcores_fini(struct mesh_lcores *l);

/** "rx", "merge+tx", ... for a set of roles. */
const char *mesh_lcore_roles_name(unsigned roles);

#endif
