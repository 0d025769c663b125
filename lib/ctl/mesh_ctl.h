/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctl: the daemon side of the local client API. A control pthread serves the
 * SOCK_SEQPACKET socket (one protobuf mesh.client.Request per message, proto/client.proto)
 * and the optional Prometheus endpoint. It decodes requests into lib/node's host structs
 * (struct mesh_node_req, bytes copied into one message), reassembles values sent in parts,
 * answers what needs no node state itself (stats, malformed input), and forwards the rest
 * to the merge lcore through a handoff ring. The merge lcore runs them
 * (mesh_ctl_merge_poll) and hands replies and events back (mesh_ctl_merge_reply, lib/node's
 * env->reply) through a second ring and an eventfd; the control thread encodes them and
 * sends them, queueing for slow readers within per-client bounds. No generated protobuf
 * type ever reaches the merge lcore.
 */
#ifndef MESH_CTL_H
#define MESH_CTL_H

#include <stdint.h>

#include "mesh_common.h"

struct mesh_node;
struct mesh_node_reply;

/* Counters of the control thread, X(name, description) (mesh_common.h convention). */
#define MESH_CTL_COUNTERS(X) \
	X(ctl_accepted, "client connections accepted") \
	X(ctl_refused_full, "client connections refused: every client slot in use") \
	X(ctl_requests, "client requests received") \
	X(ctl_bad_requests, "client requests refused: malformed") \
	X(ctl_busy, "client requests refused: the merge core's request ring was full") \
	X(ctl_responses, "responses sent to clients") \
	X(ctl_response_drops, "responses lost: a slow client, a full ring or no memory") \
	X(ctl_events, "subscription events sent to clients") \
	X(ctl_event_drops, "subscription events lost on the way to the control thread") \
	X(ctl_send_errors, "client sockets that failed on send") \
	X(ctl_metrics_scrapes, "metrics endpoint requests served (GET or HEAD /metrics)") \
	X(ctl_metrics_bad, "metrics endpoint requests refused: not GET or HEAD /metrics")
enum mesh_ctl_counter { MESH_CTL_COUNTERS(MESH_COUNTER_ENUM) MESH_CTL_CTR_MAX };

struct mesh_ctl_cfg {
	const char *socket_path;  /**< created with its directory (one level) */
	const char *metrics;      /**< "ADDR:PORT" of the Prometheus endpoint; NULL/"" = off */
};

struct mesh_ctl;

/** Create the socket, rings and listener and start the thread. NULL and errno. */
struct mesh_ctl *mesh_ctl_start(const struct mesh_ctl_cfg *cfg);

/** Stop the thread, close every socket, remove the socket file, free what is queued. */
void mesh_ctl_stop(struct mesh_ctl *c);

/** Counters (row 0: control thread, row 1: merge lcore), for the registry. */
const struct mesh_counters *mesh_ctl_counters(const struct mesh_ctl *c);

/** Merge lcore: run queued client requests on @n. Returns how many. */
unsigned mesh_ctl_merge_poll(struct mesh_ctl *c, struct mesh_node *n, uint64_t now_ns);

/** Merge lcore: lib/node's env->reply (copies @r for the control thread). */
void mesh_ctl_merge_reply(struct mesh_ctl *c, const struct mesh_node_reply *r);

/** Merge lcore: wake the control thread if replies were queued since the last call. */
void mesh_ctl_merge_kick(struct mesh_ctl *c);

/**
 * An eventfd the control thread signals after each request it queues for the merge lcore,
 * so an idle merge lcore can block on it (event poll mode). Read-only for the caller.
 */
int mesh_ctl_merge_fd(const struct mesh_ctl *c);

/* ---------------------------------------------------------------- systemd service */

/* The daemon as a systemd service (mesh_ctl_service.c): notifications, a service thread
 * for SIGHUP reloads and the watchdog. One per process. */
struct mesh_ctl_service_cfg {
	int (*reload)(void *ctx);  /**< on SIGHUP; 0 reloaded, <0 failed (logged), kept going */
	void *ctx;
	uint64_t *beat_ns;         /**< a loop's last pass (mesh_tsc_now_ns), stored each pass */
	const char *beat_name;     /**< that loop, for the log ("merge loop") */
	const char *what;          /**< STATUS prefix after a reload ("node a") */
	const char *thread_name;   /**< at most 15 characters */
};

/** Block SIGHUP in this thread and those it creates later (before rte_eal_init). */
void mesh_ctl_service_signals_block(void);
/**
 * Start the service thread: SIGHUP calls @cfg->reload between RELOADING=1 and READY=1;
 * with a systemd watchdog, WATCHDOG=1 every WatchdogSec/4 while *@cfg->beat_ns (set to
 * now here) is younger than WatchdogSec/2. Strings must outlive the service. 0 or -errno.
 */
int mesh_ctl_service_start(const struct mesh_ctl_service_cfg *cfg);
/** Tell systemd READY=1 with STATUS=@fmt... (printf; up to 255 characters). */
void mesh_ctl_service_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Tell systemd STOPPING=1 and end the service thread (if started). */
void mesh_ctl_service_stop(void);

#endif /* MESH_CTL_H */
