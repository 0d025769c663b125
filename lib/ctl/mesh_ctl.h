/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctl: the daemon side of the local client API. A control pthread serves the
 * SOCK_SEQPACKET socket (one protobuf mesh.client.Request per message, proto/client.proto);
 * the optional Prometheus endpoint has a thread of its own. The control thread decodes
 * requests into lib/node's host structs (struct mesh_node_req, bytes copied into one
 * message), reassembles values sent in parts, answers what needs no node state itself
 * (stats, malformed input), and forwards the rest to the merge lcore through a handoff
 * ring. The merge lcore runs them (mesh_ctl_merge_poll) and hands replies and events back
 * (mesh_ctl_merge_reply, lib/node's env->reply) through a second ring and an eventfd; the
 * control thread encodes them and sends them, queueing for slow readers within
 * per-client and global byte caps (events over a cap are reported in Event.dropped). No
 * generated protobuf type ever reaches the merge lcore. doc/security.md, "Local
 * surfaces": the socket's access and every bound.
 */
#ifndef MESH_CTL_H
#define MESH_CTL_H

#include <stdbool.h>
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
	X(ctl_event_drops, "subscription events lost on the way to the control thread " \
	  "(reported in Event.dropped)") \
	X(ctl_send_errors, "client sockets that failed on send") \
	X(ctl_metrics_scrapes, "metrics endpoint requests served (GET or HEAD /metrics)") \
	X(ctl_metrics_bad, "metrics endpoint requests refused: not GET or HEAD /metrics") \
	X(ctl_metrics_drop_timeout, "metrics connections closed: request or reply not done " \
	  "in time (a silent or trickling client)") \
	X(ctl_metrics_drop_evicted, "metrics connections closed at the connection cap: the " \
	  "oldest one still sending its request made room for a new one") \
	X(ctl_metrics_drop_full, "metrics connections refused: every slot was sending a reply") \
	X(ctl_out_drop_client_cap, "replies and events dropped: the client's queued output " \
	  "reached ctl_client_out_max") \
	X(ctl_out_drop_global_cap, "replies and events dropped: all clients' queued bytes " \
	  "reached ctl_clients_max_bytes") \
	X(ctl_parts_drop_client_cap, "values in parts refused: larger than " \
	  "ctl_client_parts_max") \
	X(ctl_parts_drop_global_cap, "values in parts refused: all clients' queued bytes " \
	  "reached ctl_clients_max_bytes") \
	X(ctl_slow_disconnects, "clients disconnected: a reply found their output at its cap " \
	  "(a client that sends but does not read)") \
	X(ctl_events_lost_reported, "lost events reported to clients in Event.dropped by the " \
	  "control layer (its own drops and the rings')")
enum mesh_ctl_counter { MESH_CTL_COUNTERS(MESH_COUNTER_ENUM) MESH_CTL_CTR_MAX };

/* Defaults of the byte caps (mesh_ctl_cfg's 0) */
#define MESH_CTL_CLIENT_OUT_MAX (4ull << 20)   /* a client's queued replies and events */
#define MESH_CTL_CLIENT_PARTS_MAX (64ull << 20) /* its value in parts (= MAX_VALUE) */
#define MESH_CTL_CLIENTS_MAX_BYTES (256ull << 20) /* both, over all clients */
#define MESH_CTL_SOCKET_MODE 0660
#define MESH_CTL_SOCKET_GROUP "meshd"          /* the default group, if it exists */

struct mesh_ctl_cfg {
	const char *socket_path;  /**< created with its directory (one level) */
	uint32_t socket_mode;     /**< chmod after bind, before listen; 0 = 0660 */
	const char *socket_group; /**< name or gid; NULL/"" = "meshd" if it exists, else kept */
	const char *metrics;      /**< "ADDR:PORT" of the Prometheus endpoint; NULL/"" = off */
	uint64_t client_out_max;  /**< bytes; 0 = MESH_CTL_CLIENT_OUT_MAX */
	uint64_t client_parts_max; /**< bytes; 0 = MESH_CTL_CLIENT_PARTS_MAX */
	uint64_t clients_max_bytes; /**< bytes; 0 = MESH_CTL_CLIENTS_MAX_BYTES */
};

/* Settings parsers (mesh_conf, no EAL needed): the metrics address ("PORT" = 127.0.0.1:PORT,
 * stored as "A.B.C.D:PORT" in a char[] field), an octal mode 0001..0777 (uint32_t field)
 * and a group that exists here (name or gid, kept as a string in a char[] field). */
MESH_CONF_SETTER(mesh_ctl_conf_set_metrics);
MESH_CONF_SETTER(mesh_ctl_conf_set_mode);
MESH_CONF_SETTER(mesh_ctl_conf_set_group);
/** Group @name (or a numeric gid) into @gid. 0 or -ENOENT. */
int mesh_ctl_group_lookup(const char *name, uint32_t *gid);
/**
 * What in @cfg deserves a warning (a non-loopback metrics address, a socket every local
 * user may connect to): one line each into @buf. Returns how many.
 */
unsigned mesh_ctl_cfg_warnings(const struct mesh_ctl_cfg *cfg, char *buf, size_t len);

struct mesh_ctl;

/** Create the socket, rings and listener and start the thread. NULL and errno. */
struct mesh_ctl *mesh_ctl_start(const struct mesh_ctl_cfg *cfg);

/** Stop the thread, close every socket, remove the socket file, free what is queued. */
void mesh_ctl_stop(struct mesh_ctl *c);

/** Counters (row 0: control thread, 1: merge lcore, 2: metrics thread), for the registry. */
const struct mesh_counters *mesh_ctl_counters(const struct mesh_ctl *c);

/** Merge lcore: run queued client requests on @n. Returns how many. */
unsigned mesh_ctl_merge_poll(struct mesh_ctl *c, struct mesh_node *n, uint64_t now_ns);

/** Merge lcore: lib/node's env->reply (copies @r for the control thread). */
void mesh_ctl_merge_reply(struct mesh_ctl *c, const struct mesh_node_reply *r);

/** Events a watch sends per pass at most (lib/node's slice): the ring keeps room for two. */
#define MESH_CTL_BUSY_SLICE 256
/**
 * Merge lcore: lib/node's env->client_busy. True while the reply ring is nearly full or
 * the client's queued output is past a quarter of its caps: watch snapshots and replays
 * wait for it (their cursor stays; nothing is lost) instead of overflowing a slow reader.
 */
bool mesh_ctl_merge_client_busy(const struct mesh_ctl *c, uint32_t client, uint32_t gen);

/** Merge lcore: wake the control thread if replies were queued since the last call. */
void mesh_ctl_merge_kick(struct mesh_ctl *c);

/**
 * An eventfd the control thread signals after each request it queues for the merge lcore,
 * so an idle merge lcore can block on it (event poll mode). Read-only for the caller.
 */
int mesh_ctl_merge_fd(const struct mesh_ctl *c);

/**
 * Run the control thread on the CPUs of lcore @lcore_id (the merge lcore) instead of the
 * EAL's control-thread CPUs. For the event poll mode only, where that lcore sleeps while
 * idle: a request then hands over between two threads of one CPU (a few us) instead of
 * waking a sleeping CPU twice (tens of us each on a virtual machine). Never next to a busy
 * poller. 0 or a negative errno.
 */
int mesh_ctl_thread_share_lcore(struct mesh_ctl *c, unsigned lcore_id);

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
