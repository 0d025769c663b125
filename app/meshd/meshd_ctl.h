/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The local client API of meshd: a control pthread serves the SOCK_SEQPACKET socket and
 * forwards decoded requests to the merge lcore through an SPSC ring; the merge lcore
 * answers through a second ring and an eventfd. See meshd_ctl.c and meshd_req.c.
 */
#ifndef MESHD_CTL_H
#define MESHD_CTL_H

#include <pthread.h>
#include <stdint.h>

#include <rte_ring.h>

#include "mesh_common.h"

struct meshd;
struct mesh_crdt_store;
struct Mesh__Client__Request;

#define MESHD_CTL_MAX_CLIENTS 64
#define MESHD_CTL_OUTQ 512                   /* queued replies per client at most */
#define MESHD_CTL_OUTQ_BYTES (96u << 20)     /* and their bytes */
#define MESHD_CTL_COUNTERS(X) \
	X(ctl_accepted) X(ctl_refused_full) X(ctl_requests) X(ctl_bad_requests) \
	X(ctl_busy) X(ctl_responses) X(ctl_response_drops) X(ctl_events) \
	X(ctl_event_drops) X(ctl_send_errors) X(ctl_metrics_scrapes) X(ctl_metrics_bad)
#define MESHD_CTL_CTR_ENUM(name) MESHD_CTR_##name,
enum meshd_ctl_counter { MESHD_CTL_COUNTERS(MESHD_CTL_CTR_ENUM) MESHD_CTL_CTR_MAX };

/** A request on its way to the merge lcore (freed there). */
struct meshd_ctl_req {
	uint32_t client;     /* slot */
	uint32_t client_gen; /* generation of the slot when the request arrived */
	int closed;          /* 1: the client went away (drop its subscriptions) */
	struct Mesh__Client__Request *req;
};

/** An encoded Response on its way back (freed by the control thread). */
struct meshd_ctl_resp {
	uint32_t client;
	uint32_t client_gen;
	uint32_t len;
	uint8_t data[];
};

struct meshd_ctl {
	char path[108];
	int listen_fd;
	int epoll_fd;
	int event_fd;       /* merge -> control wakeup */
	int metrics_fd;     /* --metrics-listen TCP socket, -1 when off */
	struct meshd *node;
	volatile int stop;
	pthread_t thread;
	struct rte_ring *to_merge;
	struct rte_ring *to_ctl;
	struct mesh_counters ctr; /* row 0: control thread, row 1: merge lcore */
	struct {
		int fd;
		uint32_t gen;
		/* replies the socket could not take yet (slow reader), sent on EPOLLOUT */
		struct meshd_ctl_resp *outq[MESHD_CTL_OUTQ];
		unsigned out_head, out_n;
		size_t out_bytes;
	} clients[MESHD_CTL_MAX_CLIENTS];
};

/**
 * Create the socket at @path (its directory is created), rings, the optional metrics
 * listener (@metrics "ADDR:PORT" or NULL), and start the thread.
 */
int meshd_ctl_start(struct meshd *d, const char *path, const char *metrics);

/** Stop the thread, close every socket, remove the socket file, free queued messages. */
void meshd_ctl_stop(struct meshd *d);

/** Merge lcore: serve queued requests and subscription events. Returns work done. */
unsigned meshd_req_poll(struct meshd *d, uint64_t now_ns);

/** Merge lcore: drop every subscription (shutdown). */
void meshd_req_fini(struct meshd *d);

#endif
