/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd as a systemd service (Type=notify in meshd@.service) over lib/ctl's service thread
 * (mesh_ctl_service: READY/STOPPING, watchdog fed by the merge loop's beat
 * d->lcores.merge_beat_ns, SIGHUP). What is meshd's own is the reload: the --log-level options
 * of the config file's [eal] section (then the command line's, which win as at start)
 * and the key file (lib/net's mesh_net_keyswap: the lcores keep sealing and opening
 * frames while the keyring is swapped); the node stays up.
 */
#include <errno.h>
#include <stdio.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd_settings.h"

static struct {
	int argc;          /* the command line's EAL options: argv[1 .. argc-1] */
	char **argv;
	char what[8 + MESHD_NAME_MAX]; /* "node NAME" */
	struct mesh_net_keyswap keys;
} svc;

static int
log_levels_reload(const struct meshd *d)
{
	static struct meshd_cfg cfg; /* large: off the stack */
	char *tok[MESH_COMMON_EAL_ARGS_MAX];
	struct mesh_conf c;
	unsigned n_applied;
	int n = 0;

	meshd_settings_init(&c, &cfg);
	if (d->cfg.config_file[0] != '\0' && mesh_conf_ini_load(&c, d->cfg.config_file) < 0) {
		MESH_RTE_LOG(ERR, app, "reload: %s (log levels unchanged)", c.err);
		return -EINVAL;
	}
	if (cfg.eal_args[0] != '\0')
		n = mesh_common_eal_args_split(cfg.eal_args, tok, MESH_COMMON_EAL_ARGS_MAX);
	n_applied = mesh_telemetry_log_levels_apply(n < 0 ? 0 : n, tok);
	n_applied += mesh_telemetry_log_levels_apply(svc.argc - 1, svc.argv + 1);
	MESH_RTE_LOG(NOTICE, app, "reload: %u --log-level option(s) applied", n_applied);
	return 0;
}

static int
keys_reload(struct meshd *d)
{
	const struct mesh_wire_keyring *kr;
	char err[320];

	if (d->cfg.key_file[0] == '\0')
		return 0; /* keyless: a key file is read only at start (frame format) */
	if (mesh_net_keyswap_load(&svc.keys, d->cfg.key_file, err, sizeof(err)) < 0) {
		MESH_RTE_LOG(ERR, app, "reload: key file %s refused, keys unchanged: %s",
			     d->cfg.key_file, err);
		return -EINVAL;
	}
	kr = d->sec.keyring;
	MESH_RTE_LOG(NOTICE, app, "reload: %u key(s) from %s, primary id %u", kr->n_keys,
		     d->cfg.key_file, kr->keys[kr->primary].id);
	return 0;
}

/* mesh_ctl_service's reload callback, on the service thread */
static int
reload(void *ctx)
{
	struct meshd *d = ctx;
	int ret = log_levels_reload(d);

	return keys_reload(d) | ret;
}

int
meshd_service_start(struct meshd *d, int eal_argc, char **argv)
{
	struct mesh_ctl_service_cfg sc = {
		.reload = reload, .ctx = d, .beat_ns = &d->lcores.merge_beat_ns,
		.beat_name = "merge loop", .what = svc.what, .thread_name = "meshd-service",
	};
	char ip[16];
	int ret;

	svc.argc = eal_argc;
	svc.argv = argv;
	snprintf(svc.what, sizeof(svc.what), "node %s", d->cfg.name);
	mesh_net_keyswap_init(&svc.keys, &d->sec, &d->keyring);
	ret = mesh_ctl_service_start(&sc);
	if (ret == 0)
		mesh_ctl_service_ready("node %s on %s:%u, client socket %s", d->cfg.name,
				       mesh_net_ip_format(d->cfg.ip, ip, sizeof(ip)),
				       d->cfg.udp_port, d->cfg.ctl_socket);
	return ret;
}

void
meshd_service_stop(void)
{
	mesh_ctl_service_stop();
	mesh_net_keyswap_fini(&svc.keys); /* before meshd_node_destroy wipes d->keyring */
}
