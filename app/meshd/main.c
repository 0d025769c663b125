/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd: EAL start-up, configuration, port bring-up, telemetry, the lcore role loops
 * (meshd_lcore.c) and a clean shutdown on SIGINT/SIGTERM.
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
#include "mesh_crdt.h"
#include "mesh_swim.h"
#include "mesh_telemetry.h"
#include "meshd.h"

static volatile int quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

static const char *const merge_names[] = { MESHD_MERGE_COUNTERS(MESH_COUNTER_NAME) };

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
	struct mesh_telemetry_info info = { 0 };
	struct mesh_crdt_config kcfg = { 0 };
	int ret;

	d->boot_gen = mesh_time_real_ns();
	d->node_id = mesh_wire_node_id(d->cfg.name, d->boot_gen);
	mesh_wire_keyring_init(&d->keyring);
	if (d->cfg.key_file[0] != '\0' && meshd_keys_load(d->cfg.key_file, &d->keyring) < 0)
		return -EINVAL;
	d->sec.cluster_id = d->cfg.cluster_id;
	d->sec.self_id = d->node_id;
	d->sec.keyring = &d->keyring;
	d->frame_flags = d->keyring.n_keys > 0 ? MESH_WIRE_F_AEAD : 0;
	kcfg.replica_id = mesh_crdt_replica_id_derive(d->cfg.name, strlen(d->cfg.name),
						      d->boot_gen);
	d->kv = mesh_crdt_store_new(&kcfg);
	if (d->kv == NULL || meshd_config_namespaces(&d->cfg, d->kv) < 0) {
		MESH_RTE_LOG(ERR, app, "CRDT store: %s", strerror(errno));
		return -ENOMEM;
	}
	ret = mesh_net_port_init(&d->port, &pcfg);
	if (ret < 0)
		return ret;
	d->port.sec = &d->sec;
	snprintf(info.name, sizeof(info.name), "%s", d->cfg.name);
	mesh_net_ip_format(d->cfg.ip, info.ip, sizeof(info.ip));
	snprintf(info.mac, sizeof(info.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 d->port.self.mac[0], d->port.self.mac[1], d->port.self.mac[2],
		 d->port.self.mac[3], d->port.self.mac[4], d->port.self.mac[5]);
	info.udp_port = d->cfg.udp_port;
	info.port_id = d->cfg.port_id;
	info.cluster_id = d->cfg.cluster_id;
	info.poll_mode = mesh_net_poll_mode_name(d->cfg.poll_mode);
	info.security = d->frame_flags ? "xchacha20poly1305" : "xxh3";
	info.lcores = rte_lcore_count();
	ret = meshd_lcores_setup(d);
	if (ret < 0)
		return ret;
	info.start_ns = mesh_time_mono_ns();
	ret = mesh_telemetry_init(&info);
	if (ret < 0) {
		MESH_RTE_LOG(ERR, app, "telemetry: %s", strerror(-ret));
		return ret;
	}
	mesh_telemetry_counters_add("net", &d->port.ctr);
	meshd_hello_telemetry(d);
	ret = meshd_ctl_start(d, d->cfg.ctl_socket, d->cfg.metrics_listen);
	if (ret < 0)
		return ret;
	mesh_telemetry_counters_add("ctl", &d->ctl.ctr);
	ret = meshd_tel_init(d);
	if (ret < 0)
		return ret;
	ret = mesh_counters_create(&d->merge_ctr, merge_names, MESHD_MERGE_CTR_MAX, 1);
	if (ret < 0)
		return ret;
	mesh_telemetry_counters_add("merge", &d->merge_ctr);
	ret = meshd_repl_init(d);
	if (ret < 0)
		return ret;
	meshd_repl_telemetry(d);
	ret = meshd_lat_init(d);
	if (ret < 0)
		return ret;
	meshd_lat_telemetry(d);
	ret = meshd_swim_init(d, mesh_tsc_now_ns());
	if (ret < 0)
		return ret;
	meshd_swim_telemetry(d);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct meshd d; /* large (ARP table), keep it off the stack */
	char ip[16];
	int ret;

	if (argc == 3 && strcmp(argv[1], "--check-config") == 0)
		return meshd_config_check(argv[2]);
	ret = meshd_eal_argv(argc, argv, &argc, &argv);
	if (ret < 0)
		return 2;
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
	MESH_RTE_LOG(NOTICE, app, "node %s on %s:%u, %s polling, %s profile, %u seed(s)",
		     d.cfg.name, mesh_net_ip_format(d.cfg.ip, ip, sizeof(ip)), d.cfg.udp_port,
		     mesh_net_poll_mode_name(d.cfg.poll_mode),
		     d.cfg.profile_fast ? "fast" : "lan", d.cfg.n_seeds);
	meshd_lcores_run(&d, &quit_signal);
	MESH_RTE_LOG(NOTICE, app, "signal %d: shutting down", (int)quit_signal);
	mesh_telemetry_fini();
	meshd_tel_fini();
	meshd_ctl_stop(&d);
	meshd_req_fini(&d);
	meshd_lcores_fini(&d);
	mesh_swim_delete(d.swim);
	meshd_repl_fini(&d);
	meshd_lat_fini(&d);
	mesh_crdt_store_delete(d.kv);
	mesh_wire_keyring_fini(&d.keyring);
	mesh_net_port_fini(&d.port);
	rte_eal_cleanup();
	return 0;
}
