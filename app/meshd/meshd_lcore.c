/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lcore roles. Three roles, each on exactly one lcore:
 *   rx    polls the port, drops and counts what is not for meshd, passes valid frames on
 *   merge owns protocol state: handles frames, runs protocol timers, builds replies
 *   tx    owns the tx queue and the neighbour table: ARP, MAC resolution, bursts out
 * Roles on different lcores talk through SPSC rings (lib/handoff; full = drop + count);
 * roles on the same lcore call each other directly, so one lcore running all three is a
 * plain run-to-completion loop with no ring in the way. Every lcore backs off when none of
 * its roles found work (or spins, in busy mode); /mesh/lcores reports each loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd.h"

#define RING_SIZE 4096

static struct meshd *tel_node; /* for /mesh/lcores (telemetry callbacks have no context) */

static const char *
roles_name(unsigned roles)
{
	static const char *const names[8] = {
		"idle", "rx", "merge", "rx+merge", "tx", "rx+tx", "merge+tx", "rx+merge+tx",
	};
	return names[roles & 7];
}

/* rx role: returns packets received */
static unsigned
step_rx(struct meshd *d, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST];
	uint16_t nf, na, n;

	n = mesh_net_rx_classify(&d->port, now, frames, &nf, arp, &na);
	if (roles & MESHD_ROLE_TX)
		for (uint16_t i = 0; i < na; i++)
			mesh_net_arp_input(&d->port, arp[i], now);
	else
		mesh_handoff_put(&d->rx_tx, arp, na);
	if (roles & MESHD_ROLE_MERGE)
		meshd_node_input(d, frames, nf, now);
	else
		mesh_handoff_put(&d->rx_merge, frames, nf);
	return n;
}

/*
 * Shutdown, on the merge lcore. First drain: keep running until live peers acknowledged
 * what this node sent (bounded by drain_ms), so an acknowledged write is not lost with the
 * node; then announce a graceful leave and keep every role running until it had time to
 * spread (the tx role flushes it), at most 1 s; then tell every loop to stop.
 */
static void
merge_shutdown(struct meshd *d, volatile int *quit, uint64_t now)
{
	if (!*quit)
		return;
	if (d->drain_deadline_ns == 0) {
		d->drain_deadline_ns = now + (uint64_t)d->cfg.drain_ms * MESH_NS_PER_MS + 1;
		MESH_RTE_LOG(NOTICE, app, "draining: waiting up to %u ms for peers' acks",
			     d->cfg.drain_ms);
	}
	if (d->leave_deadline_ns == 0) {
		if (!mesh_node_drained(d->node) && now < d->drain_deadline_ns)
			return;
		if (!mesh_node_drained(d->node))
			MESH_RTE_LOG(WARNING, app, "drain: peers still have unacknowledged ops");
		mesh_node_leave(d->node, now);
		d->leave_deadline_ns = now + (d->cfg.profile_fast ? 200 : 1000) * MESH_NS_PER_MS;
		MESH_RTE_LOG(NOTICE, app, "leaving the cluster");
	} else if (now >= d->leave_deadline_ns) {
		__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	}
}

/* merge role: frames from the rx ring (when rx is elsewhere), client requests, telemetry
 * queries, protocol timers; then wake the control thread for what the node answered */
static unsigned
step_merge(struct meshd *d, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST];
	unsigned n = 0;

	if (!(roles & MESHD_ROLE_RX)) {
		n = mesh_handoff_get(&d->rx_merge, frames, MESH_NET_BURST);
		meshd_node_input(d, frames, n, now);
	}
	n += mesh_ctl_merge_poll(d->ctl, d->node, now);
	n += mesh_telemetry_node_poll();
	n += mesh_node_poll(d->node, now);
	mesh_ctl_merge_kick(d->ctl);
	return n;
}

/* tx role: ARP and outbound datagrams from the rings, ARP timers, one burst out */
static unsigned
step_tx(struct meshd *d, unsigned roles, uint64_t now, uint64_t *next_arp)
{
	struct rte_mbuf *m[MESH_NET_BURST];
	unsigned n = 0, k;

	if (!(roles & MESHD_ROLE_RX)) {
		k = mesh_handoff_get(&d->rx_tx, m, MESH_NET_BURST);
		for (unsigned i = 0; i < k; i++)
			mesh_net_arp_input(&d->port, m[i], now);
		n += k;
	}
	if (!(roles & MESHD_ROLE_MERGE)) {
		k = mesh_handoff_get(&d->merge_tx, m, MESH_NET_BURST);
		for (unsigned i = 0; i < k; i++)
			mesh_net_tx_submit(&d->port, m[i], now);
		n += k;
	}
	if (now >= *next_arp) {
		mesh_net_arp_tick(&d->port, now);
		*next_arp = now + 10 * MESH_NS_PER_MS;
	}
	mesh_net_tx_flush(&d->port);
	return n;
}

struct loop_arg {
	struct meshd *d;
	struct meshd_lcore *lc;
	volatile int *quit;
};

static struct loop_arg loop_args[3];

static int
lcore_loop(void *arg)
{
	struct loop_arg *a = arg;
	struct meshd *d = a->d;
	unsigned roles = a->lc->roles;
	uint64_t next_arp = 0;

	MESH_RTE_LOG(INFO, app, "lcore %u runs %s", rte_lcore_id(), roles_name(roles));
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = mesh_tsc_now_ns();
		unsigned work = 0;

		if (roles & MESHD_ROLE_RX)
			work += step_rx(d, roles, now);
		if (roles & MESHD_ROLE_MERGE) {
			work += step_merge(d, roles, now);
			merge_shutdown(d, a->quit, now);
		}
		if (roles & MESHD_ROLE_TX)
			work += step_tx(d, roles, now, &next_arp);
		/* the rx role wakes up for frames the fault injection delays */
		mesh_net_backoff_poll_until(&a->lc->backoff, work, now,
					    (roles & MESHD_ROLE_RX) ?
					    mesh_net_fault_next_ns(&d->port) : UINT64_MAX);
	}
	return 0;
}

static int
cmd_lcores(const char *cmd, const char *params, struct rte_tel_data *data)
{
	struct meshd *d = tel_node;

	(void)cmd;
	rte_tel_data_start_dict(data);
	if (d == NULL || (params != NULL && params[0] != '\0')) {
		rte_tel_data_add_dict_string(data, "error",
					     d == NULL ? "not running" : "no parameters");
		return 0;
	}
	for (unsigned i = 0; i < d->n_lcores; i++) {
		const struct meshd_lcore *lc = &d->lcores[i];
		struct rte_tel_data *e = rte_tel_data_alloc();
		uint64_t polls = __atomic_load_n(&lc->backoff.polls, __ATOMIC_RELAXED);
		uint64_t busy = __atomic_load_n(&lc->backoff.busy_polls, __ATOMIC_RELAXED);
		char key[16];

		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "roles", roles_name(lc->roles));
		rte_tel_data_add_dict_u64(e, "polls", polls);
		rte_tel_data_add_dict_u64(e, "busy_polls", busy);
		rte_tel_data_add_dict_u64(e, "busy_share_ppm", polls ? busy * 1000000 / polls : 0);
		rte_tel_data_add_dict_u64(e, "idle_sleeps",
					  __atomic_load_n(&lc->backoff.sleeps, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(e, "idle_slept_us",
					  __atomic_load_n(&lc->backoff.slept_us, __ATOMIC_RELAXED));
		snprintf(key, sizeof(key), "lcore%u", lc->lcore_id);
		rte_tel_data_add_dict_container(data, key, e, 0);
	}
	return 0;
}

static void
walk_handoff(void *ctx, mesh_telemetry_value_f emit, void *emit_ctx)
{
	(void)ctx;
	mesh_handoff_visit(emit, emit_ctx);
}

static struct meshd_lcore *
plan_lcore(struct meshd *d, unsigned id, unsigned role)
{
	for (unsigned i = 0; i < d->n_lcores; i++)
		if (d->lcores[i].lcore_id == id) {
			d->lcores[i].roles |= role;
			return &d->lcores[i];
		}
	d->lcores[d->n_lcores].lcore_id = id;
	d->lcores[d->n_lcores].roles = role;
	return &d->lcores[d->n_lcores++];
}

int
meshd_lcores_setup(struct meshd *d)
{
	static const char *const role_names[3] = { "rx", "merge", "tx" };
	const unsigned roles[3] = { MESHD_ROLE_RX, MESHD_ROLE_MERGE, MESHD_ROLE_TX };
	unsigned ids[3];
	int socket = (int)rte_socket_id(), ret = 0;

	if (d->cfg.lcore_rx == UINT32_MAX)
		d->cfg.lcore_rx = rte_get_main_lcore();
	if (d->cfg.lcore_merge == UINT32_MAX)
		d->cfg.lcore_merge = rte_get_main_lcore();
	if (d->cfg.lcore_tx == UINT32_MAX)
		d->cfg.lcore_tx = rte_get_main_lcore();
	ids[0] = d->cfg.lcore_rx;
	ids[1] = d->cfg.lcore_merge;
	ids[2] = d->cfg.lcore_tx;
	for (unsigned r = 0; r < 3; r++) {
		if (ids[r] >= RTE_MAX_LCORE || !rte_lcore_is_enabled(ids[r])) {
			MESH_RTE_LOG(ERR, app, "%s role on lcore %u, which EAL did not enable "
				     "(give it with -l or --lcores)", role_names[r], ids[r]);
			return -EINVAL;
		}
		plan_lcore(d, ids[r], roles[r]);
	}
	for (unsigned i = 0; i < d->n_lcores; i++)
		mesh_net_backoff_init(&d->lcores[i].backoff, d->cfg.poll_mode,
				      d->cfg.idle_sleep_max_us);
	if (ids[0] != ids[1])
		ret = mesh_handoff_create(&d->rx_merge, "rx_merge", RING_SIZE, socket);
	if (ret == 0 && ids[0] != ids[2])
		ret = mesh_handoff_create(&d->rx_tx, "rx_tx", RING_SIZE / 4, socket);
	if (ret == 0 && ids[1] != ids[2])
		ret = mesh_handoff_create(&d->merge_tx, "merge_tx", RING_SIZE, socket);
	d->io.to_tx = d->merge_tx.ring != NULL ? &d->merge_tx : NULL;
	if (ret < 0) {
		MESH_RTE_LOG(ERR, app, "handoff rings: %s", rte_strerror(-ret));
		meshd_lcores_fini(d);
		return ret;
	}
	tel_node = d;
	rte_telemetry_register_cmd("/mesh/lcores", cmd_lcores,
				   "Per lcore: roles, polls, busy share, idle sleeps. No parameters");
	mesh_telemetry_group_add("handoff", walk_handoff, NULL);
	return 0;
}

void
meshd_lcores_run(struct meshd *d, volatile int *quit)
{
	unsigned main_lcore = rte_get_main_lcore();
	struct loop_arg *main_arg = NULL;

	for (unsigned i = 0; i < d->n_lcores; i++) {
		loop_args[i] = (struct loop_arg){ .d = d, .lc = &d->lcores[i], .quit = quit };
		if (d->lcores[i].lcore_id == main_lcore)
			main_arg = &loop_args[i];
		else
			rte_eal_remote_launch(lcore_loop, &loop_args[i], d->lcores[i].lcore_id);
	}
	if (main_arg != NULL) {
		lcore_loop(main_arg);
	} else {
		/* the main lcore has no role: it only waits for the merge lcore's stop */
		while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE))
			rte_delay_us_sleep(10000);
	}
	rte_eal_mp_wait_lcore();
}

void
meshd_lcores_fini(struct meshd *d)
{
	tel_node = NULL;
	mesh_handoff_destroy(&d->rx_merge);
	mesh_handoff_destroy(&d->rx_tx);
	mesh_handoff_destroy(&d->merge_tx);
}
