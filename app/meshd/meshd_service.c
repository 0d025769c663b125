/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshd as a systemd service (Type=notify in meshd@.service). READY=1 once the port is up
 * and the client socket listens; STOPPING=1 when the node stops. A service thread (not
 * an lcore) waits for SIGHUP, blocked in every other thread, and for the watchdog period:
 *   SIGHUP   reload: the --log-level options of the config file's [eal] section (then
 *            the command line's, which win as at start) and the key file; the node stays
 *            up. Keys are swapped between two keyrings: the lcores read the one that
 *            d->sec.keyring points at, and a keyring is rewritten only a second after it
 *            was swapped out (a frame's seal or open takes microseconds).
 *   watchdog WATCHDOG=1 every WatchdogSec/4, but only while the merge loop's beat
 *            (d->merge_beat_ns, stored each pass) is younger than WatchdogSec/2: a stuck
 *            merge loop stops feeding it and systemd restarts the node.
 * Without systemd (no NOTIFY_SOCKET) the notifications do nothing; SIGHUP still reloads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "mesh_common_dpdk.h"
#include "mesh_telemetry.h"
#include "meshd_settings.h"

#define SWAP_GRACE_NS (1000 * MESH_NS_PER_MS)

static struct {
	struct meshd *d;
	int argc;          /* the command line's EAL options: argv[1 .. argc-1] */
	char **argv;
	pthread_t thread;
	bool running;
	volatile int quit;
	uint64_t wd_period_ns, wd_stale_ns; /* 0: no watchdog */
	bool wd_starved;
	struct mesh_wire_keyring spare;     /* the keyring not in use (after a reload) */
	uint64_t swapped_ns;
} svc;

void
meshd_service_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads created later inherit it */
}

/* Apply the --log-level options among @n tokens. Returns how many were applied. */
static unsigned
log_levels_apply(int n, char *const *tok)
{
	unsigned applied = 0;
	char why[256];

	for (int i = 0; i < n; i++) {
		const char *v = NULL;

		if (strcmp(tok[i], "--log-level") == 0 && i + 1 < n)
			v = tok[++i];
		else if (strncmp(tok[i], "--log-level=", 12) == 0)
			v = tok[i] + 12;
		if (v == NULL)
			continue;
		if (mesh_telemetry_log_level_set(v, why, sizeof(why)) < 0)
			MESH_RTE_LOG(WARNING, app, "reload: %s", why);
		else
			applied++;
	}
	return applied;
}

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
	n_applied = log_levels_apply(n < 0 ? 0 : n, tok);
	n_applied += log_levels_apply(svc.argc - 1, svc.argv + 1);
	MESH_RTE_LOG(NOTICE, app, "reload: %u --log-level option(s) applied", n_applied);
	return 0;
}

static int
keys_reload(struct meshd *d)
{
	struct mesh_wire_keyring *next = &svc.spare, *cur;
	uint64_t since = mesh_tsc_now_ns() - svc.swapped_ns;

	if (d->cfg.key_file[0] == '\0')
		return 0; /* keyless: a key file is read only at start (frame format) */
	cur = (struct mesh_wire_keyring *)(uintptr_t)
		__atomic_load_n(&d->sec.keyring, __ATOMIC_ACQUIRE);
	if (cur == &svc.spare)
		next = &d->keyring;
	if (svc.swapped_ns != 0 && since < SWAP_GRACE_NS) {
		struct timespec ts = { 0, (long)(SWAP_GRACE_NS - since) };

		nanosleep(&ts, NULL); /* readers of @next may still be in a seal or open */
	}
	mesh_wire_keyring_fini(next);
	mesh_wire_keyring_init(next);
	if (meshd_keys_load(d->cfg.key_file, next) < 0 || next->n_keys == 0) {
		MESH_RTE_LOG(ERR, app, "reload: key file %s refused, keys unchanged",
			     d->cfg.key_file);
		return -EINVAL;
	}
	__atomic_store_n(&d->sec.keyring, next, __ATOMIC_RELEASE);
	svc.swapped_ns = mesh_tsc_now_ns();
	MESH_RTE_LOG(NOTICE, app, "reload: %u key(s) from %s, primary id %u", next->n_keys,
		     d->cfg.key_file, next->keys[next->primary].id);
	return 0;
}

static void
reload(struct meshd *d)
{
	int ret;

	sd_notify(0, "RELOADING=1");
	ret = log_levels_reload(d);
	ret |= keys_reload(d);
	sd_notifyf(0, "READY=1\nSTATUS=node %s: %s", d->cfg.name,
		   ret == 0 ? "reloaded" : "reload failed (see the log), running as before");
}

static void
watchdog_feed(const struct meshd *d)
{
	uint64_t beat = __atomic_load_n(&d->merge_beat_ns, __ATOMIC_RELAXED);
	uint64_t age = mesh_tsc_now_ns() - beat;

	if (age < svc.wd_stale_ns) {
		sd_notify(0, "WATCHDOG=1");
		svc.wd_starved = false;
	} else if (!svc.wd_starved) {
		svc.wd_starved = true;
		MESH_RTE_LOG(ERR, app, "merge loop made no pass for %llu ms: watchdog not fed",
			     (unsigned long long)(age / MESH_NS_PER_MS));
	}
}

static void *
service_thread(void *arg)
{
	struct meshd *d = arg;
	uint64_t wait_ns = svc.wd_period_ns != 0 ? svc.wd_period_ns : 3600 * (1000 * MESH_NS_PER_MS);
	struct timespec ts = { (time_t)(wait_ns / (1000 * MESH_NS_PER_MS)),
			       (long)(wait_ns % (1000 * MESH_NS_PER_MS)) };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	while (!__atomic_load_n(&svc.quit, __ATOMIC_ACQUIRE)) {
		int sig = sigtimedwait(&set, NULL, &ts);

		if (__atomic_load_n(&svc.quit, __ATOMIC_ACQUIRE))
			break;
		if (sig == SIGHUP)
			reload(d);
		if (svc.wd_period_ns != 0)
			watchdog_feed(d);
	}
	return NULL;
}

int
meshd_service_start(struct meshd *d, int eal_argc, char **argv)
{
	uint64_t usec = 0;
	char ip[16];
	int ret;

	svc.d = d;
	svc.argc = eal_argc;
	svc.argv = argv;
	mesh_wire_keyring_init(&svc.spare);
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		svc.wd_period_ns = usec * 1000 / 4;
		svc.wd_stale_ns = usec * 1000 / 2;
	}
	__atomic_store_n(&d->merge_beat_ns, mesh_tsc_now_ns(), __ATOMIC_RELAXED);
	ret = pthread_create(&svc.thread, NULL, service_thread, d);
	if (ret != 0) {
		MESH_RTE_LOG(ERR, app, "service thread: %s", strerror(ret));
		return -ret;
	}
	pthread_setname_np(svc.thread, "meshd-service");
	svc.running = true;
	if (svc.wd_period_ns != 0)
		MESH_RTE_LOG(INFO, app, "systemd watchdog: fed every %llu ms while the merge "
			     "loop runs", (unsigned long long)(svc.wd_period_ns / MESH_NS_PER_MS));
	sd_notifyf(0, "READY=1\nSTATUS=node %s on %s:%u, client socket %s", d->cfg.name,
		   mesh_net_ip_format(d->cfg.ip, ip, sizeof(ip)), d->cfg.udp_port,
		   d->cfg.ctl_socket);
	return 0;
}

void
meshd_service_stop(void)
{
	sd_notify(0, "STOPPING=1");
	if (svc.running) {
		__atomic_store_n(&svc.quit, 1, __ATOMIC_RELEASE);
		pthread_kill(svc.thread, SIGHUP); /* ends its sigtimedwait */
		pthread_join(svc.thread, NULL);
		svc.running = false;
	}
	if (svc.d != NULL && svc.d->sec.keyring == &svc.spare)
		svc.d->sec.keyring = &svc.d->keyring; /* meshd_node_destroy wipes both */
	mesh_wire_keyring_fini(&svc.spare);
}
