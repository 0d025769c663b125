/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node on the merge lcore: lib/node built from the settings, with the environment it
 * runs in here. Frames leave through lib/net (sealed into mbufs, to the tx role), replies
 * and events through lib/ctl (to the control thread), randomness from rte_rand, the wall
 * clock from CLOCK_REALTIME; member events are logged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_random.h>

#include "mesh_common_dpdk.h"
#include "meshd.h"

static void
env_send(void *ctx, const struct mesh_node_frame *frames, unsigned n)
{
	struct meshd *d = ctx;

	mesh_net_node_send(&d->io, frames, n, mesh_tsc_now_ns());
}

static void
env_reply(void *ctx, const struct mesh_node_reply *r)
{
	struct meshd *d = ctx;

	mesh_ctl_merge_reply(d->ctl, r);
}

static bool
env_client_busy(void *ctx, uint32_t client, uint32_t client_gen)
{
	struct meshd *d = ctx;

	return mesh_ctl_merge_client_busy(d->ctl, client, client_gen);
}

static uint64_t
env_random(void *ctx)
{
	(void)ctx;
	return rte_rand();
}

static uint64_t
env_wall_ns(void *ctx)
{
	(void)ctx;
	return mesh_time_real_ns();
}

static void
env_member(void *ctx, const struct mesh_swim_event *ev)
{
	char ip[16];

	(void)ctx;
	MESH_RTE_LOG(NOTICE, app, "member %.*s (%s:%u gen %" PRIu64 " inc %u): %s",
		     (int)ev->name_len, ev->name, mesh_net_ip_format(ev->addr.ip, ip, sizeof(ip)),
		     ev->addr.port, ev->gen, ev->inc, mesh_swim_event_name(ev->type));
}

void
meshd_node_cfg_timing(const struct meshd_cfg *mc, struct mesh_node_cfg *nc)
{
	mesh_node_cfg_profile(nc, mc->profile); /* checked when it was set */
	mesh_swim_cfg_override(&nc->swim, mc->probe_interval_ms, mc->probe_timeout_ms,
			       mc->suspicion_mult);
	nc->swim.max_members = mc->max_members;
}

int
meshd_swim_timing_check(const struct meshd_cfg *mc)
{
	struct mesh_node_cfg nc;
	char why[160];

	meshd_node_cfg_timing(mc, &nc);
	if (mesh_swim_cfg_timing_check(&nc.swim, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "meshd: %s\n", why);
	return -EINVAL;
}

/* The node's configuration from the settings. */
static void
node_cfg(const struct meshd *d, struct mesh_node_cfg *nc)
{
	meshd_node_cfg_timing(&d->cfg, nc);
	snprintf(nc->name, sizeof(nc->name), "%s", d->cfg.name);
	nc->gen = d->boot_gen;
	nc->addr = (struct mesh_node_addr){ .ip = d->cfg.ip, .port = d->cfg.udp_port };
	nc->metadata_len = (uint32_t)strlen(d->cfg.metadata);
	memcpy(nc->metadata, d->cfg.metadata, nc->metadata_len);
	nc->quorum = d->cfg.quorum;
	nc->max_payload = mesh_wire_payload_max(&d->sec, MESH_WIRE_DEFAULT_MAX_FRAME);
	nc->stream.max_payload = nc->max_payload;
	nc->n_seeds = MESH_MIN(d->cfg.n_seeds, (unsigned)MESH_NODE_MAX_SEEDS);
	for (unsigned i = 0; i < nc->n_seeds; i++)
		nc->seeds[i] = (struct mesh_node_addr){ .ip = d->cfg.seeds[i].ip,
							.port = d->cfg.seeds[i].port };
	nc->n_hello = MESH_MIN(d->cfg.n_peers, (unsigned)MESH_NODE_MAX_SEEDS);
	for (unsigned i = 0; i < nc->n_hello; i++)
		nc->hello[i] = (struct mesh_node_addr){ .ip = d->cfg.peers[i].ip,
							.port = d->cfg.peers[i].port };
	nc->hello_interval_ns = (uint64_t)d->cfg.hello_interval_ms * MESH_NS_PER_MS;
}

int
meshd_node_create(struct meshd *d)
{
	static const struct mesh_node_env_ops env = {
		.send = env_send, .reply = env_reply, .random = env_random,
		.wall_ns = env_wall_ns, .member = env_member, .client_busy = env_client_busy,
	};
	struct mesh_node_cfg nc;
	char err[320];

	d->boot_gen = mesh_time_real_ns();
	mesh_wire_keyring_init(&d->keyring);
	if (d->cfg.key_file[0] != '\0' &&
	    mesh_wire_keyring_load(d->cfg.key_file, &d->keyring, err, sizeof(err)) < 0) {
		MESH_RTE_LOG(ERR, app, "%s", err);
		return -EINVAL;
	}
	if (d->cfg.insecure_plaintext)
		MESH_RTE_LOG(WARNING, app, "insecure_plaintext: no cluster keys, frames are only "
			     "checksummed: any host on the segment can join, read and write "
			     "(doc/security.md)");
	/* keyless-to-keyed migration (doc/deployment.md); a reload keeps the mode */
	d->keyring.accept_plaintext = d->cfg.accept_plaintext || d->cfg.send_plaintext;
	if (d->cfg.send_plaintext)
		d->keyring.primary = -1; /* the keys open frames, none seals */
	if (d->keyring.accept_plaintext)
		MESH_RTE_LOG(WARNING, app, "migration: keyless frames accepted%s; remove "
			     "%s once every node has keys", d->cfg.send_plaintext ?
			     ", frames sent keyless" : "", d->cfg.send_plaintext ?
			     "send_plaintext, then accept_plaintext," : "accept_plaintext");
	d->sec.cluster_id = d->cfg.cluster_id;
	d->sec.self_id = mesh_wire_node_id(d->cfg.name, d->boot_gen);
	d->sec.keyring = &d->keyring;
	d->io = (struct mesh_net_node_io){
		.port = &d->port, .sec = &d->sec,
		.frame_flags = d->keyring.primary >= 0 ? MESH_WIRE_F_AEAD : 0,
	};
	node_cfg(d, &nc);
	/* keyed without keyless frames: a frame's sender id is authenticated (lib/swim) */
	nc.swim.sender_authenticated = d->cfg.key_file[0] != '\0' && !d->keyring.accept_plaintext;
	d->node = mesh_node_new(&nc, &env, d, mesh_tsc_now_ns());
	if (d->node == NULL) {
		MESH_RTE_LOG(ERR, app, "node: %s", strerror(errno));
		return -errno;
	}
	return meshd_config_namespaces(&d->cfg, mesh_node_store(d->node)) < 0 ? -EINVAL : 0;
}

void
meshd_node_destroy(struct meshd *d)
{
	mesh_node_delete(d->node);
	d->node = NULL;
	mesh_wire_keyring_fini(&d->keyring);
}
