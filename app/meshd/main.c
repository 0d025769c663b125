/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd: a thin main. Settings first (command line and INI, no EAL needed: --help,
 * --version and every argument or config error answer before EAL starts), then EAL, the
 * port, the node (meshd_node.c), telemetry, the control thread (lib/ctl), the lcore role
 * loops (lib/lcore), systemd's READY/watchdog/SIGHUP reload (meshd_service.c) and a
 * clean shutdown on SIGINT/SIGTERM.
 * Exit codes: 0 clean shutdown, 1 runtime failure (EAL, port), 2 bad arguments or config.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd.h"

static volatile int quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

static int
telemetry_start(struct meshd *d)
{
	struct mesh_telemetry_info info = { 0 };
	const uint8_t *mac = d->port.self.mac;
	int ret;

	snprintf(info.name, sizeof(info.name), "%s", d->cfg.name);
	mesh_net_ip_format(d->cfg.ip, info.ip, sizeof(info.ip));
	snprintf(info.mac, sizeof(info.mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	info.udp_port = d->cfg.udp_port;
	info.port_id = d->cfg.port_id;
	info.cluster_id = d->cfg.cluster_id;
	info.poll_mode = mesh_net_poll_mode_name(d->cfg.poll_mode);
	info.security = d->io.frame_flags ? "xchacha20poly1305" : "xxh3";
	info.lcores = rte_lcore_count();
	info.start_ns = mesh_time_mono_ns();
	ret = mesh_telemetry_init(&info);
	if (ret == 0)
		ret = mesh_telemetry_counters_add("net", &d->port.ctr);
	if (ret == 0)
		ret = mesh_telemetry_counters_add("ctl", mesh_ctl_counters(d->ctl));
	if (ret == 0)
		ret = mesh_telemetry_node_init(d->node);
	if (ret == 0)
		ret = mesh_telemetry_log_init();
	if (ret < 0)
		MESH_RTE_LOG(ERR, app, "telemetry: %s", strerror(-ret));
	return ret;
}

static int
setup(struct meshd *d)
{
	struct mesh_net_port_cfg pcfg = {
		.port_id = d->cfg.port_id,
		.ip = d->cfg.ip,
		.udp_port = d->cfg.udp_port,
		.cluster_id = d->cfg.cluster_id,
		.fault = d->cfg.fault_on ? &d->cfg.fault : NULL,
	};
	struct mesh_lcores_cfg lcfg = {
		.lcore_rx = d->cfg.lcore_rx, .lcore_merge = d->cfg.lcore_merge,
		.lcore_tx = d->cfg.lcore_tx, .poll_mode = d->cfg.poll_mode,
		.idle_sleep_max_us = d->cfg.idle_sleep_max_us, .rt_priority = d->cfg.rt_priority,
		.lock_memory = d->cfg.lock_memory,
		.drain_ns = (uint64_t)d->cfg.drain_ms * MESH_NS_PER_MS,
	};
	struct mesh_ctl_cfg ccfg = {
		.socket_path = d->cfg.ctl_socket,
		.socket_mode = d->cfg.ctl_socket_mode,
		.socket_group = d->cfg.ctl_socket_group,
		.metrics = d->cfg.metrics_listen,
		.client_out_max = d->cfg.ctl_client_out_max,
		.client_parts_max = d->cfg.ctl_client_parts_max,
		.clients_max_bytes = d->cfg.ctl_clients_max_bytes,
	};
	int ret = meshd_node_create(d);

	if (ret < 0)
		return ret;
	ret = mesh_net_port_init(&d->port, &pcfg);
	if (ret < 0)
		return ret;
	d->port.sec = &d->sec;
	ret = mesh_lcores_setup(&d->lcores, &lcfg, &d->port, &d->io);
	if (ret < 0)
		return ret;
	d->ctl = mesh_ctl_start(&ccfg);
	if (d->ctl == NULL)
		return -errno;
	ret = telemetry_start(d);
	return ret < 0 ? ret : mesh_node_join(d->node, mesh_tsc_now_ns());
}

static void
teardown(struct meshd *d)
{
	mesh_telemetry_fini();
	mesh_telemetry_node_fini();
	mesh_ctl_stop(d->ctl);
	mesh_lcores_fini(&d->lcores);
	meshd_node_destroy(d);
	mesh_net_port_fini(&d->port);
}

int
main(int argc, char **argv)
{
	static struct meshd d; /* large (ARP table), keep it off the stack */
	char ip[16], **eal_argv;
	int ret, eal_argc;

	ret = meshd_args_parse(&d.cfg, argc, argv);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	/* EAL's file prefix defaults to the node name: one name for the DPDK runtime
	 * directory (dpdk-telemetry.py -f) and meshctl -n (/run/meshd/NAME.sock) */
	if (mesh_common_eal_argv_build(d.cfg.eal_args, mesh_common_eal_opts_end(argc, argv),
				       argv, d.cfg.name, &eal_argc, &eal_argv) < 0)
		return 1;
	mesh_ctl_service_signals_block(); /* SIGHUP: reload, on the service thread */
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "meshd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	mesh_common_dpdk_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = setup(&d);
	if (ret >= 0)
		ret = meshd_service_start(&d, mesh_common_eal_opts_end(argc, argv), argv);
	if (ret < 0) {
		MESH_RTE_LOG(ERR, app, "start-up failed: %s", strerror(-ret));
		mesh_ctl_stop(d.ctl); /* removes the socket file */
		rte_eal_cleanup();
		return 1;
	}
	MESH_RTE_LOG(NOTICE, app, "node %s on %s:%u, %s polling, %s profile, %u seed(s)",
		     d.cfg.name, mesh_net_ip_format(d.cfg.ip, ip, sizeof(ip)), d.cfg.udp_port,
		     mesh_net_poll_mode_name(d.cfg.poll_mode),
		     d.cfg.profile, d.cfg.n_seeds);
	mesh_lcores_run(&d.lcores, d.node, d.ctl, &quit_signal);
	MESH_RTE_LOG(NOTICE, app, "signal %d: shutting down", (int)quit_signal);
	meshd_service_stop();
	teardown(&d);
	rte_eal_cleanup();
	return 0;
}
