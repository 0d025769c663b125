/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handoff ring cost: cycles per mbuf pointer through lib/handoff's SPSC rte_ring, in
 * bursts of 32 — on one lcore (enqueue then dequeue) and across two lcores (producer on the
 * main lcore, consumer on a worker), the rx -> merge path of meshd. Real EAL, no hugepages.
 */
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "mesh_handoff.h"

#define BURST 32
#define OBJS (8u << 20)

static struct mesh_handoff h;
static volatile int go;

static int
consumer(void *arg)
{
	struct rte_mbuf *m[BURST];
	uint64_t got = 0;

	(void)arg;
	while (!go)
		rte_pause();
	while (got < OBJS)
		got += mesh_handoff_get(&h, m, BURST);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_mbuf *objs[BURST];
	uint64_t t0, t1;
	unsigned worker;

	if (rte_eal_init(argc, argv) < 0)
		return 1;
	for (unsigned i = 0; i < BURST; i++)
		objs[i] = (struct rte_mbuf *)(uintptr_t)(0x1000 + i * 64);
	if (mesh_handoff_create(&h, "bench", 4096, (int)rte_socket_id()) < 0)
		return 1;

	t0 = rte_rdtsc();
	for (uint64_t n = 0; n < OBJS; n += BURST) {
		struct rte_mbuf *out[BURST];
		rte_ring_sp_enqueue_burst(h.ring, (void **)objs, BURST, NULL);
		mesh_handoff_get(&h, out, BURST);
	}
	t1 = rte_rdtsc();
	printf("handoff one lcore: %.2f cycles per object (enqueue + dequeue, burst %d)\n",
	       (double)(t1 - t0) / OBJS, BURST);

	worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		printf("handoff across lcores: skipped (give two lcores, e.g. -l 0-1)\n");
		return 0;
	}
	rte_eal_remote_launch(consumer, NULL, worker);
	go = 1;
	t0 = rte_rdtsc();
	for (uint64_t n = 0; n < OBJS;)
		n += rte_ring_sp_enqueue_burst(h.ring, (void **)objs, BURST, NULL);
	rte_eal_mp_wait_lcore();
	t1 = rte_rdtsc();
	printf("handoff across lcores %u -> %u: %.2f cycles per object, %.1f M objects/s\n",
	       rte_lcore_id(), worker, (double)(t1 - t0) / OBJS,
	       OBJS / ((double)(t1 - t0) / rte_get_tsc_hz()) / 1e6);
	rte_ring_free(h.ring);
	rte_eal_cleanup();
	return 0;
}
