/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd: EAL start-up, configuration, port bring-up, telemetry, the poll loop and a clean
 * shutdown on SIGINT/SIGTERM. At this step the node runs run-to-completion on the main
 * lcore: receive, answer ARP and hellos, send its own hellos, flush, and back off when idle.
 * Exit codes: 0 clean shutdown, 1 runtime failure (EAL, port), 2 bad arguments or config.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd.h"

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

static void
poll_gauges(void *ctx, struct rte_tel_data *dict)
{
	const struct mesh_net_backoff *b = ctx;

	rte_tel_data_add_dict_u64(dict, "polls", __atomic_load_n(&b->polls, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(dict, "busy_polls",
				  __atomic_load_n(&b->busy_polls, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(dict, "idle_sleeps",
				  __atomic_load_n(&b->sleeps, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(dict, "idle_slept_us",
				  __atomic_load_n(&b->slept_us, __ATOMIC_RELAXED));
}

static int
setup(struct meshd *d)
{
	struct mesh_net_port_cfg pcfg = {
		.port_id = d->cfg.port_id,
		.ip = d->cfg.ip,
		.udp_port = d->cfg.udp_port,
		.cluster_id = d->cfg.cluster_id,
	};
	struct mesh_telemetry_info info = { 0 };
	int ret;

	d->boot_gen = mesh_time_real_ns();
	d->node_id = mesh_wire_node_id(d->cfg.name, d->boot_gen);
	ret = mesh_net_port_init(&d->port, &pcfg);
	if (ret < 0)
		return ret;
	mesh_net_backoff_init(&d->backoff, d->cfg.poll_mode, d->cfg.idle_sleep_max_us);

	snprintf(info.name, sizeof(info.name), "%s", d->cfg.name);
	mesh_net_ip_format(d->cfg.ip, info.ip, sizeof(info.ip));
	snprintf(info.mac, sizeof(info.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 d->port.self.mac[0], d->port.self.mac[1], d->port.self.mac[2],
		 d->port.self.mac[3], d->port.self.mac[4], d->port.self.mac[5]);
	info.udp_port = d->cfg.udp_port;
	info.port_id = d->cfg.port_id;
	info.cluster_id = d->cfg.cluster_id;
	info.poll_mode = mesh_net_poll_mode_name(d->cfg.poll_mode);
	info.lcores = rte_lcore_count();
	info.start_ns = mesh_time_mono_ns();
	ret = mesh_telemetry_init(&info);
	if (ret < 0) {
		MESH_RTE_LOG(ERR, app, "telemetry: %s", strerror(-ret));
		return ret;
	}
	mesh_telemetry_counters_add("net", &d->port.ctr);
	mesh_telemetry_gauges_add("poll", poll_gauges, &d->backoff);
	meshd_hello_telemetry(d);
	return 0;
}

static void
run(struct meshd *d)
{
	uint64_t next_arp = 0;

	while (!quit_signal) {
		uint64_t now = mesh_tsc_now_ns();
		uint16_t n = mesh_net_rx(&d->port, meshd_frame_input, d, now);

		meshd_hello_tick(d, now);
		if (now >= next_arp) {
			mesh_net_arp_tick(&d->port, now);
			next_arp = now + 10 * MESH_NS_PER_MS;
		}
		mesh_net_tx_flush(&d->port);
		mesh_net_backoff_poll(&d->backoff, n);
	}
}

int
main(int argc, char **argv)
{
	static struct meshd d; /* large (ARP table), keep it off the stack */
	char ip[16];
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "meshd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"meshd";
	mesh_common_dpdk_init();

	ret = meshd_args_parse(&d.cfg, argc, argv);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = setup(&d);
	if (ret < 0) {
		MESH_RTE_LOG(ERR, app, "start-up failed: %s", strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	MESH_RTE_LOG(NOTICE, app, "node %s on %s:%u, %s polling, %u peer(s)", d.cfg.name,
		     mesh_net_ip_format(d.cfg.ip, ip, sizeof(ip)), d.cfg.udp_port,
		     mesh_net_poll_mode_name(d.cfg.poll_mode), d.cfg.n_peers);
	run(&d);
	MESH_RTE_LOG(NOTICE, app, "signal %d: shutting down", (int)quit_signal);
	mesh_telemetry_fini();
	mesh_net_port_fini(&d.port);
	rte_eal_cleanup();
	return 0;
}
