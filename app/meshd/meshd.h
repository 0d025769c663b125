/* SPDX-License-Identifier: BSD-3-Clause */
/* meshd application: configuration and node state shared by main.c and its helpers. */
#ifndef MESHD_H
#define MESHD_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh_net.h"

#define MESHD_DEFAULT_PORT 39527
#define MESHD_DEFAULT_CLUSTER 0x4d455348u /* "MESH" */
#define MESHD_MAX_PEERS 64
#define MESHD_NAME_MAX 63

struct meshd_peer {
	uint32_t ip;
	uint16_t port;
	uint64_t hellos_sent;
	uint64_t replies;
	uint64_t last_rtt_ns;
	char name[MESHD_NAME_MAX + 1]; /* learned from its reply */
};

struct meshd_cfg {
	char config_file[256];
	char name[MESHD_NAME_MAX + 1];
	uint32_t ip;
	uint16_t udp_port;
	uint16_t port_id;
	uint32_t cluster_id;
	enum mesh_net_poll_mode poll_mode;
	uint32_t idle_sleep_max_us;
	uint32_t hello_interval_ms;
	unsigned n_peers;
	struct meshd_peer peers[MESHD_MAX_PEERS];
};

struct meshd {
	struct meshd_cfg cfg;
	struct mesh_net_port port;
	struct mesh_net_backoff backoff;
	uint64_t boot_gen;
	uint64_t node_id;
	uint64_t tx_seq;
	uint64_t next_hello_ns;
};

/**
 * Parse application arguments (after EAL's) and the optional INI file into @cfg.
 * Command-line values override the file. Returns 0, 1 when help/version was printed, or
 * -EINVAL after printing an error that names the option, or the file and key.
 */
int meshd_args_parse(struct meshd_cfg *cfg, int argc, char **argv);

/** Print usage to stdout. */
void meshd_usage(const char *prog);

/** Handle one valid frame (consumes the mbuf). */
void meshd_frame_input(void *ctx, struct mesh_net_port *port, const struct mesh_net_frame *f,
		       uint64_t now_ns);

/** Send a hello to every configured peer when due. */
void meshd_hello_tick(struct meshd *d, uint64_t now_ns);

/** Register the "hello" telemetry group. */
void meshd_hello_telemetry(struct meshd *d);

#endif
