/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lcore roles. Three roles, each on exactly one lcore:
 *   rx    polls the port, drops and counts what is not for meshd, passes valid frames on
 *   merge owns protocol state: handles frames, runs protocol timers, builds replies
 *   tx    owns the tx queue and the neighbour table: ARP, MAC resolution, bursts out
 * Roles on different lcores talk through SPSC rings (lib/handoff; full = drop + count);
 * roles on the same lcore call each other directly, so one lcore running all three is a
 * plain run-to-completion loop with no ring in the way.
 * When a pass of a loop found no work it idles as the poll mode says (lib/net
 * mesh_net_idle): busy spins; backoff sleeps on a growing timer; event blocks until the
 * port receives (rx role), a producer signals (the lcore reading a ring it filled, the
 * control thread and telemetry queries for the merge role) or the loop's next deadline:
 * the node's timers (merge), the fault injection's next release (rx), ARP retries (tx).
 * No sleep runs past that deadline; /mesh/lcores reports each loop and how late it woke.
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

struct loop_arg {
	struct meshd *d;
	struct meshd_lcore *lc;
	struct meshd_lcore *merge_lc, *tx_lc; /* readers of the rings this loop fills */
	volatile int *quit;
};

static struct loop_arg loop_args[3];

/* rx role: returns packets received */
static unsigned
step_rx(struct loop_arg *a, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST];
	struct meshd *d = a->d;
	uint16_t nf, na, n;

	n = mesh_net_rx_classify(&d->port, now, frames, &nf, arp, &na);
	if (roles & MESHD_ROLE_TX)
		for (uint16_t i = 0; i < na; i++)
			mesh_net_arp_input(&d->port, arp[i], now);
	else if (mesh_handoff_put(&d->rx_tx, arp, na) > 0)
		mesh_net_idle_wake(&a->tx_lc->idle);
	if (roles & MESHD_ROLE_MERGE)
		mesh_net_node_input(d->node, frames, nf, now);
	else if (mesh_handoff_put(&d->rx_merge, frames, nf) > 0)
		mesh_net_idle_wake(&a->merge_lc->idle);
	return n;
}

/* the merge lcore ends every loop, waking those blocked in their idle wait */
static void
stop_all(struct meshd *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < d->n_lcores; i++)
		mesh_net_idle_wake(&d->lcores[i].idle);
}

/* Shutdown, on the merge lcore: drain, leave (lib/node's mesh_node_stop_step; the tx role
 * flushes the leave for as long as the profile asks), then tell every loop to stop. */
static void
merge_shutdown(struct meshd *d, volatile int *quit, uint64_t now)
{
	if (*quit && mesh_node_stop_step(d->node, &d->stopping,
					 (uint64_t)d->cfg.drain_ms * MESH_NS_PER_MS, 0, now))
		stop_all(d);
}

/* merge role: frames from the rx ring (when rx is elsewhere), client requests, telemetry
 * queries, protocol timers; then wake the control thread for what the node answered, and
 * the tx lcore for what it sent */
static unsigned
step_merge(struct loop_arg *a, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST];
	struct meshd *d = a->d;
	uint64_t sent = d->merge_tx.enq; /* this lcore is the ring's producer */
	unsigned n = 0;

	if (!(roles & MESHD_ROLE_RX)) {
		n = mesh_handoff_get(&d->rx_merge, frames, MESH_NET_BURST);
		mesh_net_node_input(d->node, frames, n, now);
	}
	n += mesh_ctl_merge_poll(d->ctl, d->node, now);
	n += mesh_telemetry_node_poll();
	n += mesh_node_poll(d->node, now);
	mesh_ctl_merge_kick(d->ctl);
	if (d->merge_tx.enq != sent)
		mesh_net_idle_wake(&a->tx_lc->idle);
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

/*
 * The earliest time one of this loop's roles has timed work: the node's timers (merge),
 * the release of a frame the fault injection delays (rx), the ARP retry timer while a
 * neighbour is unresolved (tx). While shutting down the merge role also polls its drain
 * and leave deadlines every millisecond.
 */
static uint64_t
loop_deadline(const struct loop_arg *a, unsigned roles, uint64_t next_arp, uint64_t now)
{
	struct meshd *d = a->d;
	uint64_t t = UINT64_MAX;

	if (roles & MESHD_ROLE_RX)
		t = mesh_net_fault_next_ns(&d->port);
	if (roles & MESHD_ROLE_MERGE) {
		t = MESH_MIN(t, mesh_node_next_deadline(d->node));
		if (*a->quit)
			t = MESH_MIN(t, now + MESH_NS_PER_MS);
	}
	if ((roles & MESHD_ROLE_TX) && next_arp < t && mesh_net_arp_pending(&d->port))
		t = next_arp; /* the table scan only when the ARP timer would be the earliest */
	return t;
}

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
			work += step_rx(a, roles, now);
		if (roles & MESHD_ROLE_MERGE) {
			__atomic_store_n(&d->merge_beat_ns, now, __ATOMIC_RELAXED); /* watchdog */
			work += step_merge(a, roles, now);
			merge_shutdown(d, a->quit, now);
		}
		if (roles & MESHD_ROLE_TX)
			work += step_tx(d, roles, now, &next_arp);
		if (mesh_net_idle_account(&a->lc->idle, work)) {
			now = mesh_tsc_now_ns();
			mesh_net_idle_sleep(&a->lc->idle, now,
					    loop_deadline(a, roles, next_arp, now));
		}
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
		char key[24];

		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "roles", roles_name(lc->roles));
		mesh_net_idle_tel_fill(&lc->idle, e);
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
lcore_of(struct meshd *d, unsigned role)
{
	for (unsigned i = 0; i < d->n_lcores; i++)
		if (d->lcores[i].roles & role)
			return &d->lcores[i];
	return NULL; /* not reached: setup gives every role an lcore */
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
	for (unsigned i = 0; i < d->n_lcores; i++) {
		ret = mesh_net_idle_init(&d->lcores[i].idle, d->cfg.poll_mode,
					 d->cfg.idle_sleep_max_us);
		if (ret < 0) {
			MESH_RTE_LOG(ERR, app, "idle wait of lcore %u: %s",
				     d->lcores[i].lcore_id, strerror(-ret));
			d->n_lcores = i; /* the ones set up are closed below */
			meshd_lcores_fini(d);
			return ret;
		}
	}
	mesh_net_idle_add_port(&lcore_of(d, MESHD_ROLE_RX)->idle, d->cfg.port_id);
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
				   "Per lcore: roles, polls, busy share, idle sleeps and wake-ups, "
				   "deadline lateness. No parameters");
	mesh_telemetry_group_add("handoff", walk_handoff, NULL);
	return 0;
}

void
meshd_lcores_run(struct meshd *d, volatile int *quit)
{
	unsigned main_lcore = rte_get_main_lcore();
	struct loop_arg *main_arg = NULL;
	struct meshd_lcore *merge = lcore_of(d, MESHD_ROLE_MERGE);

	/* the merge lcore also wakes for client requests and telemetry queries */
	if (mesh_net_idle_add_fd(&merge->idle, mesh_ctl_merge_fd(d->ctl)) < 0 ||
	    mesh_net_idle_add_fd(&merge->idle, mesh_telemetry_node_wake_fd()) < 0)
		MESH_RTE_LOG(WARNING, app, "the merge lcore's idle wait misses a wake-up source");
	/* event mode: the control thread next to the merge lcore, which sleeps while idle,
	 * so a client request is handed over on one CPU (mesh_ctl_thread_share_lcore) */
	if (d->cfg.poll_mode == MESH_NET_POLL_EVENT) {
		int ret = mesh_ctl_thread_share_lcore(d->ctl, merge->lcore_id);

		if (ret < 0)
			MESH_RTE_LOG(WARNING, app, "control thread on lcore %u's CPUs: %s",
				     merge->lcore_id, strerror(-ret));
		else
			MESH_RTE_LOG(INFO, app, "control thread runs on the CPUs of lcore %u "
				     "(merge)", merge->lcore_id);
	}
	for (unsigned i = 0; i < d->n_lcores; i++) {
		loop_args[i] = (struct loop_arg){ .d = d, .lc = &d->lcores[i], .merge_lc = merge,
						  .tx_lc = lcore_of(d, MESHD_ROLE_TX),
						  .quit = quit };
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
	for (unsigned i = 0; i < d->n_lcores; i++)
		mesh_net_idle_fini(&d->lcores[i].idle);
	mesh_handoff_destroy(&d->rx_merge);
	mesh_handoff_destroy(&d->rx_tx);
	mesh_handoff_destroy(&d->merge_tx);
}
