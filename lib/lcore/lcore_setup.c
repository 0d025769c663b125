/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Planning the loops: each role's lcore from the configuration (the main lcore unless
 * given), one loop per distinct lcore with the roles it runs, an idle wait per loop, and
 * a ring only between roles on different lcores. Running: the merge loop also wakes for
 * client requests and telemetry queries; in event mode the control thread shares the
 * merge lcore's CPUs; the process's pages are locked (cfg.lock_memory); the main lcore
 * runs its own loop or waits for the merge lcore's stop.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "lcore_internal.h"

#define RING_SIZE 4096

const char *
mesh_lcore_roles_name(unsigned roles)
{
	static const char *const names[8] = {
		"idle", "rx", "merge", "rx+merge", "tx", "rx+tx", "merge+tx", "rx+merge+tx",
	};
	return names[roles & 7];
}

static struct mesh_lcore *
lcore_of(struct mesh_lcores *l, unsigned role)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->lc[i].roles & role)
			return &l->lc[i];
	return NULL; /* not reached: setup gives every role an lcore */
}

static void
plan_lcore(struct mesh_lcores *l, unsigned id, unsigned role)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->lc[i].lcore_id == id) {
			l->lc[i].roles |= role;
			return;
		}
	l->lc[l->n++] = (struct mesh_lcore){ .lcore_id = id, .roles = role, .all = l };
}

static int
plan(struct mesh_lcores *l)
{
	static const char *const role_names[3] = { "rx", "merge", "tx" };
	unsigned *ids[3] = { &l->cfg.lcore_rx, &l->cfg.lcore_merge, &l->cfg.lcore_tx };

	for (unsigned r = 0; r < 3; r++) {
		if (*ids[r] == UINT32_MAX)
			*ids[r] = rte_get_main_lcore();
		if (*ids[r] >= RTE_MAX_LCORE || !rte_lcore_is_enabled(*ids[r])) {
			MESH_RTE_LOG(ERR, app, "%s role on lcore %u, which EAL did not enable "
				     "(give it with -l or --lcores)", role_names[r], *ids[r]);
			return -EINVAL;
		}
		plan_lcore(l, *ids[r], 1u << r);
	}
	l->merge_lc = lcore_of(l, MESH_LCORE_MERGE);
	l->tx_lc = lcore_of(l, MESH_LCORE_TX);
	return 0;
}

static int
rings_create(struct mesh_lcores *l)
{
	const struct mesh_lcores_cfg *c = &l->cfg;
	int socket = (int)rte_socket_id(), ret = 0;

	if (c->lcore_rx != c->lcore_merge)
		ret = mesh_handoff_create(&l->rx_merge, "rx_merge", RING_SIZE, socket);
	if (ret == 0 && c->lcore_rx != c->lcore_tx)
		ret = mesh_handoff_create(&l->rx_tx, "rx_tx", RING_SIZE / 4, socket);
	if (ret == 0 && c->lcore_merge != c->lcore_tx)
		ret = mesh_handoff_create(&l->merge_tx, "merge_tx", RING_SIZE, socket);
	if (ret < 0)
		MESH_RTE_LOG(ERR, app, "handoff rings: %s", rte_strerror(-ret));
	return ret;
}

int
mesh_lcores_setup(struct mesh_lcores *l, const struct mesh_lcores_cfg *cfg,
		  struct mesh_net_port *port, struct mesh_net_node_io *io)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->port = port;
	l->io = io;
	ret = plan(l);
	if (ret < 0) {
		l->n = 0; /* no idle wait is set up yet */
		return ret;
	}
	for (unsigned i = 0; i < l->n; i++) {
		ret = mesh_net_idle_init(&l->lc[i].idle, cfg->poll_mode, cfg->idle_sleep_max_us);
		if (ret < 0) {
			MESH_RTE_LOG(ERR, app, "idle wait of lcore %u: %s", l->lc[i].lcore_id,
				     strerror(-ret));
			l->n = i; /* the ones set up are closed below */
			mesh_lcores_fini(l);
			return ret;
		}
	}
	mesh_net_idle_add_port(&lcore_of(l, MESH_LCORE_RX)->idle, port->port_id);
	ret = rings_create(l);
	if (ret < 0) {
		mesh_lcores_fini(l);
		return ret;
	}
	io->to_tx = l->merge_tx.ring != NULL ? &l->merge_tx : NULL;
	lcore_tel_register(l);
	return 0;
}

/* Once everything is set up, lock what is mapped now (code, libraries, DPDK memory, the
 * heap so far), each page as it is first touched. Not later mappings (MCL_FUTURE): with a
 * finite RLIMIT_MEMLOCK every one would count against it and an allocation could fail.
 * A refusal (no CAP_IPC_LOCK and a small RLIMIT_MEMLOCK) is logged and the loops run on. */
static void
memory_lock(struct mesh_lcores *l)
{
	if (!l->cfg.lock_memory)
		return;
	if (mlockall(MCL_CURRENT | MCL_ONFAULT) != 0) {
		MESH_RTE_LOG(WARNING, app, "locking memory (mlockall): %s; a page the kernel "
			     "reclaims can stall the poll loops (lock_memory, doc/deployment.md)",
			     strerror(errno));
		return;
	}
	l->memory_locked = 1;
}

void
mesh_lcores_run(struct mesh_lcores *l, struct mesh_node *node, struct mesh_ctl *ctl,
		volatile int *quit)
{
	unsigned main_lcore = rte_get_main_lcore();
	struct mesh_lcore *main_lc = NULL;

	l->node = node;
	l->ctl = ctl;
	l->quit = quit;
	/* the merge lcore also wakes for client requests and telemetry queries */
	if (mesh_net_idle_add_fd(&l->merge_lc->idle, mesh_ctl_merge_fd(ctl)) < 0 ||
	    mesh_net_idle_add_fd(&l->merge_lc->idle, mesh_telemetry_node_wake_fd()) < 0)
		MESH_RTE_LOG(WARNING, app, "the merge lcore's idle wait misses a wake-up source");
	/* event mode: the control thread next to the merge lcore, which sleeps while idle,
	 * so a client request is handed over on one CPU (mesh_ctl_thread_share_lcore) */
	if (l->cfg.poll_mode == MESH_NET_POLL_EVENT) {
		int ret = mesh_ctl_thread_share_lcore(ctl, l->merge_lc->lcore_id);

		if (ret < 0)
			MESH_RTE_LOG(WARNING, app, "control thread on lcore %u's CPUs: %s",
				     l->merge_lc->lcore_id, strerror(-ret));
		else
			MESH_RTE_LOG(INFO, app, "control thread runs on the CPUs of lcore %u "
				     "(merge)", l->merge_lc->lcore_id);
	}
	memory_lock(l);
	for (unsigned i = 0; i < l->n; i++) {
		if (l->lc[i].lcore_id == main_lcore)
			main_lc = &l->lc[i];
		else
			rte_eal_remote_launch(lcore_loop, &l->lc[i], l->lc[i].lcore_id);
	}
	if (main_lc != NULL) {
		lcore_loop(main_lc);
	} else {
		/* the main lcore has no role: it only waits for the merge lcore's stop */
		while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE))
			rte_delay_us_sleep(10000);
	}
	rte_eal_mp_wait_lcore();
}

void
mesh_lcores_fini(struct mesh_lcores *l)
{
	lcore_tel_register(NULL);
	for (unsigned i = 0; i < l->n; i++)
		mesh_net_idle_fini(&l->lc[i].idle);
	l->n = 0;
	mesh_handoff_destroy(&l->rx_merge);
	mesh_handoff_destroy(&l->rx_tx);
	mesh_handoff_destroy(&l->merge_tx);
}
