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
#define CTL_OUTQ 1024                 /* queued replies per client at most (and the caps) */
#define CTL_LOST_SUBS 16              /* subscriptions with losses not yet reported */

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

/**
 * Events lost on the way to one client, per subscription, until its next event carries
 * them in Event.dropped; a loss that finds no free entry goes to @any, reported with the
 * client's next event of any subscription. Owned by one thread.
 */
struct ctl_lost {
	uint32_t gen;  /* the client slot's generation the entries belong to */
	uint64_t any;
	struct {
		uint64_t sub, n;
	} e[CTL_LOST_SUBS];
};

struct ctl_client {
	int fd;
	uint32_t gen;
	bool doomed;                /* over its output cap: closed after this pass */
	int pid, uid, gid;          /* SO_PEERCRED at connect */
	/* replies the socket could not take yet (slow reader), sent on EPOLLOUT */
	struct ctl_out *outq[CTL_OUTQ];
	unsigned out_head, out_n;
	size_t out_bytes;
	struct ctl_parts parts;
	struct ctl_lost lost;       /* events the control thread dropped (output cap) */
};

struct ctl_metrics;

struct mesh_ctl {
	char path[108];
	int listen_fd, epoll_fd, event_fd;
	struct ctl_metrics *metrics; /* the Prometheus endpoint's thread, or NULL */
	uint64_t out_max, parts_max, total_max; /* byte caps (mesh_ctl_cfg) */
	uint64_t bytes;             /* queued output + values in parts, all clients */
	bool doomed;                /* some client is doomed */
	struct ctl_lost merge_lost[CTL_MAX_CLIENTS]; /* merge lcore: events refused by the ring */
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
/** Send or queue one Response to @slot; a reply over the client's output caps dooms it
 *  (closed after this pass, counted). */
void ctl_send_response(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r);
/** Whether @bytes in @msgs messages (a @reply, else an event) may be queued for @slot now
 *  (its cap, where an empty queue takes one message of any size; the global cap; replies
 *  have a quarter more room): 0, else the counter to add. */
int ctl_out_admit(struct mesh_ctl *c, unsigned slot, size_t bytes, unsigned msgs, bool reply);
/** Send or queue one part of an event ctl_out_admit admitted (no cap checked). */
void ctl_send_admitted(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Response *r);
void ctl_parts_free(struct mesh_ctl *c, struct ctl_parts *p);

/* The lost-event tables (ctl_server.c) */
void ctl_lost_add(struct ctl_lost *t, uint64_t sub, uint64_t n);
/** What @sub lost since its last event (and the unattributed losses), cleared. */
uint64_t ctl_lost_take(struct ctl_lost *t, uint64_t sub);

/* ctl_metrics.c: the Prometheus endpoint on its own thread, counting into @row */
struct ctl_metrics *ctl_metrics_start(const char *spec, uint64_t *row);
void ctl_metrics_stop(struct ctl_metrics *m);

/** The client protocol's Error for a status (0 or a negative errno). */
Mesh__Client__Error ctl_error_code(int status);

#endif
