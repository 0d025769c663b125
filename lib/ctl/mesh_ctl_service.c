/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon as a systemd service (Type=notify): READY=1 once the program says it serves,
 * STOPPING=1 when it stops, and a service thread (not an lcore) that waits for SIGHUP,
 * blocked in every other thread, and for the watchdog period:
 *   SIGHUP   RELOADING=1, the program's reload callback, then READY=1 with a STATUS that
 *            says whether it reloaded; the daemon stays up.
 *   watchdog WATCHDOG=1 every WatchdogSec/4, but only while the heartbeat (a timestamp a
 *            loop stores each pass) is younger than WatchdogSec/2: a stuck loop stops
 *            feeding it and systemd restarts the daemon.
 * Without systemd (no NOTIFY_SOCKET) the notifications do nothing; SIGHUP still reloads.
 * One service per process: signals are the process's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "mesh_common_dpdk.h"
#include "mesh_ctl.h"

static struct {
	struct mesh_ctl_service_cfg cfg;
	pthread_t thread;
	bool running;
	volatile int quit;
	uint64_t wd_period_ns, wd_stale_ns; /* 0: no watchdog */
	bool wd_starved;
} svc;

void
mesh_ctl_service_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads created later inherit it */
}

void
mesh_ctl_service_ready(const char *fmt, ...)
{
	char status[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

static void
reload(void)
{
	int ret;

	sd_notify(0, "RELOADING=1");
	ret = svc.cfg.reload(svc.cfg.ctx);
	mesh_ctl_service_ready("%s: %s", svc.cfg.what, ret == 0 ? "reloaded" :
			       "reload failed (see the log), running as before");
}

static void
watchdog_feed(void)
{
	uint64_t beat = __atomic_load_n(svc.cfg.beat_ns, __ATOMIC_RELAXED);
	uint64_t age = mesh_tsc_now_ns() - beat;

	if (age < svc.wd_stale_ns) {
		sd_notify(0, "WATCHDOG=1");
		svc.wd_starved = false;
	} else if (!svc.wd_starved) {
		svc.wd_starved = true;
		MESH_RTE_LOG(ERR, app, "%s made no pass for %llu ms: watchdog not fed",
			     svc.cfg.beat_name, (unsigned long long)(age / MESH_NS_PER_MS));
	}
}

static void *
service_thread(void *arg)
{
	uint64_t wait_ns = svc.wd_period_ns != 0 ? svc.wd_period_ns : 3600ull * NS_PER_S;
	struct timespec ts = { (time_t)(wait_ns / NS_PER_S), (long)(wait_ns % NS_PER_S) };
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	while (!__atomic_load_n(&svc.quit, __ATOMIC_ACQUIRE)) {
		int sig = sigtimedwait(&set, NULL, &ts);

		if (__atomic_load_n(&svc.quit, __ATOMIC_ACQUIRE))
			break;
		if (sig == SIGHUP)
			reload();
		if (svc.wd_period_ns != 0)
			watchdog_feed();
	}
	return NULL;
}

int
mesh_ctl_service_start(const struct mesh_ctl_service_cfg *cfg)
{
	uint64_t usec = 0;
	int ret;

	svc.cfg = *cfg;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		svc.wd_period_ns = usec * 1000 / 4;
		svc.wd_stale_ns = usec * 1000 / 2;
	}
	__atomic_store_n(cfg->beat_ns, mesh_tsc_now_ns(), __ATOMIC_RELAXED);
	ret = pthread_create(&svc.thread, NULL, service_thread, NULL);
	if (ret != 0) {
		MESH_RTE_LOG(ERR, app, "service thread: %s", strerror(ret));
		return -ret;
	}
	pthread_setname_np(svc.thread, cfg->thread_name);
	svc.running = true;
	if (svc.wd_period_ns != 0)
		MESH_RTE_LOG(INFO, app, "systemd watchdog: fed every %llu ms while the %s runs",
			     (unsigned long long)(svc.wd_period_ns / MESH_NS_PER_MS),
			     cfg->beat_name);
	return 0;
}

void
mesh_ctl_service_stop(void)
{
	sd_notify(0, "STOPPING=1");
	if (svc.running) {
		__atomic_store_n(&svc.quit, 1, __ATOMIC_RELEASE);
		pthread_kill(svc.thread, SIGHUP); /* ends its sigtimedwait */
		pthread_join(svc.thread, NULL);
		svc.running = false;
	}
}
