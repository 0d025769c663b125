/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/ctl private: the server state and the protocol codec between its files. */
#ifndef CTL_INTERNAL_H
#define CTL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "client.pb-c.h"
#include "mesh_ctl.h"
#include "mesh_handoff.h"
#include "mesh_node.h"

#define CTL_MAX_CLIENTS 64
#define CTL_OUTQ 512                  /* queued replies per client at most */
#define CTL_OUTQ_BYTES (96u << 20)    /* and their bytes */

/** A request on its way to the merge lcore: host struct plus its bytes (one malloc). */
struct ctl_req {
	struct mesh_node_req req;
	char target[72];
	uint8_t data[];
};

/** An encoded Response on its way out (freed by the control thread). */
struct ctl_out {
	uint32_t len;
	uint8_t data[];
};

/** A large stream value arriving in parts (one at a time per client). */
struct ctl_parts {
	uint8_t *key;
	size_t key_len;
	uint8_t *buf;
	size_t total, got;
	char target[72];
};

struct ctl_client {
	int fd;
	uint32_t gen;
	/* replies the socket could not take yet (slow reader), sent on EPOLLOUT */
	struct ctl_out *outq[CTL_OUTQ];
	unsigned out_head, out_n;
	size_t out_bytes;
	struct ctl_parts parts;
};

struct mesh_ctl {
	char path[108];
	int listen_fd, epoll_fd, event_fd, metrics_fd;
	int merge_fd;               /* eventfd: requests queued for the merge lcore */
	volatile int stop;
	pthread_t thread;
	bool kick;                  /* merge lcore: replies queued since the last wake-up */
	struct mesh_handoff to_merge; /* struct ctl_req * */
	struct mesh_handoff to_ctl;   /* struct mesh_node_reply * (mesh_node_reply_copy) */
	struct mesh_counters ctr;   /* row 0: control thread, row 1: merge lcore */
	struct ctl_client clients[CTL_MAX_CLIENTS];
	uint8_t *rxbuf;
};

static inline uint64_t *
ctl_row(struct mesh_ctl *c, unsigned row)
{
	return mesh_counters_row(&c->ctr, row);
}

/* ctl_codec.c: protobuf <-> host structs (control thread) */
/** Decode @req of client @slot: a request for the merge lcore, or NULL after answering
 *  it here (stats, parts in progress, errors) through ctl_send_response. */
struct ctl_req *ctl_codec_request(struct mesh_ctl *c, unsigned slot, Mesh__Client__Request *req);
/** Encode and send @r (a node reply or event; events may be split into parts). */
void ctl_codec_reply(struct mesh_ctl *c, const struct mesh_node_reply *r);
/** Send or queue one Response to @slot. */
void ctl_send_response(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r);
void ctl_parts_free(struct ctl_parts *p);

/* ctl_metrics.c: the Prometheus endpoint */
int ctl_metrics_listen(struct mesh_ctl *c, const char *spec);
void ctl_metrics_serve(struct mesh_ctl *c);

#endif
