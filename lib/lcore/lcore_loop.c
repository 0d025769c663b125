/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The role loops. Three roles, each on exactly one lcore:
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
 * In event mode a loop runs under SCHED_FIFO (cfg.rt_priority): it sleeps unless there is
 * work, so the priority costs the application nothing while idle, and a probe or an ack
 * never waits behind another thread's time slice (tens of ms under CFS on a shared CPU,
 * long enough to be suspected and declared dead by the fast profile).
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <rte_lcore.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "lcore_internal.h"

/* rx role: returns packets received */
static unsigned
step_rx(struct mesh_lcores *l, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST], *arp[MESH_NET_BURST];
	uint16_t nf, na, n;

	n = mesh_net_rx_classify(l->port, now, frames, &nf, arp, &na);
	if (roles & MESH_LCORE_TX)
		for (uint16_t i = 0; i < na; i++)
			mesh_net_arp_input(l->port, arp[i], now);
	else if (mesh_handoff_put(&l->rx_tx, arp, na) > 0)
		mesh_net_idle_wake(&l->tx_lc->idle);
	if (roles & MESH_LCORE_MERGE)
		mesh_net_node_input(l->node, frames, nf, now);
	else if (mesh_handoff_put(&l->rx_merge, frames, nf) > 0)
		mesh_net_idle_wake(&l->merge_lc->idle);
	return n;
}

/* the merge lcore ends every loop, waking those blocked in their idle wait */
static void
stop_all(struct mesh_lcores *l)
{
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < l->n; i++)
		mesh_net_idle_wake(&l->lc[i].idle);
}

/* Shutdown, on the merge lcore: drain, leave (lib/node's mesh_node_stop_step; the tx role
 * flushes the leave for as long as the profile asks), then tell every loop to stop. */
static void
merge_shutdown(struct mesh_lcores *l, uint64_t now)
{
	if (*l->quit && mesh_node_stop_step(l->node, &l->stopping, l->cfg.drain_ns, 0, now))
		stop_all(l);
}

/* merge role: frames from the rx ring (when rx is elsewhere), client requests, telemetry
 * queries, protocol timers; then wake the control thread for what the node answered, and
 * the tx lcore for what it sent */
static unsigned
step_merge(struct mesh_lcores *l, unsigned roles, uint64_t now)
{
	struct rte_mbuf *frames[MESH_NET_BURST];
	uint64_t sent = l->merge_tx.enq; /* this lcore is the ring's producer */
	unsigned n = 0;

	if (!(roles & MESH_LCORE_RX)) {
		n = mesh_handoff_get(&l->rx_merge, frames, MESH_NET_BURST);
		mesh_net_node_input(l->node, frames, n, now);
	}
	n += mesh_ctl_merge_poll(l->ctl, l->node, now);
	n += mesh_telemetry_node_poll();
	n += mesh_node_poll(l->node, now);
	mesh_ctl_merge_kick(l->ctl);
	if (l->merge_tx.enq != sent)
		mesh_net_idle_wake(&l->tx_lc->idle);
	return n;
}

/* tx role: ARP and outbound datagrams from the rings, ARP timers, one burst out */
static unsigned
step_tx(struct mesh_lcores *l, unsigned roles, uint64_t now, uint64_t *next_arp)
{
	struct rte_mbuf *m[MESH_NET_BURST];
	unsigned n = 0, k;

	if (!(roles & MESH_LCORE_RX)) {
		k = mesh_handoff_get(&l->rx_tx, m, MESH_NET_BURST);
		for (unsigned i = 0; i < k; i++)
			mesh_net_arp_input(l->port, m[i], now);
		n += k;
	}
	if (!(roles & MESH_LCORE_MERGE)) {
		k = mesh_handoff_get(&l->merge_tx, m, MESH_NET_BURST);
		for (unsigned i = 0; i < k; i++)
			mesh_net_tx_submit(l->port, m[i], now);
		n += k;
	}
	if (now >= *next_arp) {
		mesh_net_arp_tick(l->port, now);
		*next_arp = now + 10 * MESH_NS_PER_MS;
	}
	mesh_net_tx_flush(l->port);
	return n;
}

/*
 * The earliest time one of this loop's roles has timed work: the node's timers (merge),
 * the release of a frame the fault injection delays (rx), the ARP retry timer while a
 * neighbour is unresolved (tx). While shutting down the merge role also polls its drain
 * and leave deadlines every millisecond.
 */
static uint64_t
loop_deadline(const struct mesh_lcores *l, unsigned roles, uint64_t next_arp, uint64_t now)
{
	uint64_t t = UINT64_MAX;

	if (roles & MESH_LCORE_RX)
		t = mesh_net_fault_next_ns(l->port);
	if (roles & MESH_LCORE_MERGE) {
		t = MESH_MIN(t, mesh_node_next_deadline(l->node));
		if (*l->quit)
			t = MESH_MIN(t, now + MESH_NS_PER_MS);
	}
	if ((roles & MESH_LCORE_TX) && next_arp < t && mesh_net_arp_pending(l->port))
		t = next_arp; /* the table scan only when the ARP timer would be the earliest */
	return t;
}

/* event mode only: a loop that spins must not hold a CPU at real-time priority */
static void
sched_rt(struct mesh_lcore *lc)
{
	const struct mesh_lcores_cfg *c = &lc->all->cfg;
	struct sched_param sp = { .sched_priority = (int)c->rt_priority };
	int ret;

	if (c->poll_mode != MESH_NET_POLL_EVENT || c->rt_priority == 0)
		return;
	ret = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (ret != 0) {
		MESH_RTE_LOG(WARNING, app, "lcore %u: SCHED_FIFO priority %u: %s; other threads "
			     "on its CPUs can delay probes and acks (rt_priority, "
			     "doc/deployment.md)", lc->lcore_id, c->rt_priority, strerror(ret));
		return;
	}
	__atomic_store_n(&lc->rt_priority, sp.sched_priority, __ATOMIC_RELAXED);
}

int
lcore_loop(void *arg)
{
	struct mesh_lcore *lc = arg;
	struct mesh_lcores *l = lc->all;
	unsigned roles = lc->roles;
	uint64_t next_arp = 0;

	sched_rt(lc);
	MESH_RTE_LOG(INFO, app, "lcore %u runs %s%s", rte_lcore_id(), mesh_lcore_roles_name(roles),
		     lc->rt_priority ? " under SCHED_FIFO" : "");
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = mesh_tsc_now_ns();
		unsigned work = 0;

		if (roles & MESH_LCORE_RX)
			work += step_rx(l, roles, now);
		if (roles & MESH_LCORE_MERGE) {
			__atomic_store_n(&l->merge_beat_ns, now, __ATOMIC_RELAXED); /* watchdog */
			work += step_merge(l, roles, now);
			merge_shutdown(l, now);
		}
		if (roles & MESH_LCORE_TX)
			work += step_tx(l, roles, now, &next_arp);
		if (mesh_net_idle_account(&lc->idle, work)) {
			now = mesh_tsc_now_ns();
			mesh_net_idle_sleep(&lc->idle, now, loop_deadline(l, roles, next_arp, now));
		}
	}
	return 0;
}
