/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient: talk to a local meshd over its control socket (AF_UNIX SOCK_SEQPACKET,
 * one protobuf message per packet; proto/client.proto, version 2).
 *
 * Two ways to call, on one non-blocking socket:
 *  - synchronous calls (mesh_client_put, _get, _batch, ...): send one request and wait for
 *    the reply with its id; events that arrive meanwhile are queued for
 *    mesh_client_event_next(), replies to async requests are kept for the next
 *    mesh_client_process();
 *  - asynchronous requests (mesh_client_submit, _submit_batch): return the request id at
 *    once; many may be in flight; mesh_client_process() sends what the socket had no room
 *    for, reads whatever is ready without blocking and runs each completion callback
 *    (replies come in any order and are matched by id). Drive it from any event loop:
 *    poll mesh_client_fd() for POLLIN, plus POLLOUT while mesh_client_want_write().
 *
 * Thread safety: none inside a connection. A connection belongs to one thread at a time
 * (use one connection per thread, or your own lock around every call on it, callbacks
 * included: they run inside mesh_client_process() and the sync calls of that thread).
 * Sync and async calls may be mixed on one connection: a sync call in the middle of async
 * traffic keeps the async replies it reads for the next mesh_client_process(); a sync
 * mesh_client_batch() itself runs on the async core and also runs other callbacks due.
 * Connections are cheap (one socket, ~300 KiB of buffers): share a node by opening one
 * per thread.
 *
 * Calls return 0 or a negative errno; the server's reason for a refusal is in
 * mesh_client_error(), its Error code in mesh_client_error_code().
 */
#ifndef MESH_CLIENT_H
#define MESH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default control socket of node NAME: /run/meshd/NAME.sock */
#define MESH_CLIENT_SOCKET_DIR "/run/meshd"
/** Largest request or reply (one SOCK_SEQPACKET message). */
#define MESH_CLIENT_MAX_MSG (256 * 1024)
/**
 * Stream values above this travel in parts of this size (publish requests and events),
 * so each message fits a default socket buffer; the library splits and reassembles.
 */
#define MESH_CLIENT_PART (128 * 1024)
/** Largest value a client reassembles from parts. */
#define MESH_CLIENT_MAX_VALUE (64u * 1024 * 1024)

struct mesh_client;

/** A value returned by get; free with mesh_client_value_free(). */
struct mesh_client_value {
	bool found;
	uint8_t *data;
	size_t len;
	uint64_t timestamp; /* Lamport timestamp of the winning write */
	uint64_t replica;   /* replica id of the winning write */
};

/**
 * A watch's resume point: the node's life (HelloResp.generation) and the highest change
 * sequence whose changes were all handed to the application. {0, 0}: none.
 */
struct mesh_client_cursor {
	uint64_t generation;
	uint64_t seq;
};

struct mesh_client_member;

/** What an event is (mesh_client_event.kind). */
enum mesh_client_event_kind {
	MESH_CLIENT_EVENT_CHANGE = 0,       /* a key changed (subscribe or watch) */
	MESH_CLIENT_EVENT_SNAPSHOT_END = 1, /* watch: the snapshot is complete (no key) */
	MESH_CLIENT_EVENT_MISSED = 2,       /* watch: the resume was refused; a snapshot follows */
	MESH_CLIENT_EVENT_MEMBER = 3,       /* members watch: see member_kind, member */
};

/** What happened to a member (MemberEvent.Kind). */
enum mesh_client_member_kind {
	MESH_CLIENT_MEMBER_JOIN = 0,     /* new to this node, or back after dead or left */
	MESH_CLIENT_MEMBER_ALIVE = 1,    /* a suspicion refuted, or a new life */
	MESH_CLIENT_MEMBER_SUSPECT = 2,
	MESH_CLIENT_MEMBER_DEAD = 3,
	MESH_CLIENT_MEMBER_LEFT = 4,
	MESH_CLIENT_MEMBER_METADATA = 5, /* its metadata changed (the new value is in member) */
};

struct mesh_client_event {
	uint64_t subscription;
	uint8_t *key;
	size_t key_len;
	uint8_t *value;
	size_t value_len;
	bool tombstone;
	uint64_t dropped;
	uint64_t origin_ns; /* origin node's wall clock for this change (0 = not stamped) */
	/* version 2 (mesh_client_watch_open, mesh_client_members_watch_open); a subscribe
	 * event is a MESH_CLIENT_EVENT_CHANGE with the rest 0 */
	int kind;                         /* enum mesh_client_event_kind */
	uint64_t seq;                     /* CHANGE of a watch: the node's change sequence */
	bool snapshot;                    /* CHANGE: part of the watch's initial snapshot */
	struct mesh_client_cursor cursor; /* watch: where to resume once this event is handled */
	int member_kind;                  /* MEMBER: enum mesh_client_member_kind */
	struct mesh_client_member *member; /* MEMBER: the member (freed by event_free) */
};

struct mesh_client_member {
	char name[64];
	char address[32];
	char status[16];
	uint64_t incarnation;
	uint64_t generation;
	uint8_t metadata[512]; /* what the member set (SetMetadataReq, [node] metadata) */
	size_t metadata_len;
};

struct mesh_client_stat {
	char group[32];
	char name[64];
	uint64_t value;
};

/** Connect to the control socket at @path. NULL and errno on failure. */
struct mesh_client *mesh_client_connect(const char *path);
void mesh_client_close(struct mesh_client *c);

/** The socket, for poll(): readable when an event may be waiting. */
int mesh_client_fd(const struct mesh_client *c);

/** Reply timeout for every call (default 5000 ms). */
void mesh_client_timeout_set(struct mesh_client *c, int timeout_ms);

/** The server's text for the last refused call ("" if none). */
const char *mesh_client_error(const struct mesh_client *c);

int mesh_client_put(struct mesh_client *c, const void *key, size_t key_len, const void *value,
		    size_t value_len);
int mesh_client_get(struct mesh_client *c, const void *key, size_t key_len,
		    struct mesh_client_value *out);
void mesh_client_value_free(struct mesh_client_value *v);
int mesh_client_delete(struct mesh_client *c, const void *key, size_t key_len);

/**
 * Up to @limit keys under @prefix that sort after @after (NULL = from the start), as
 * NUL-terminated copies in *@keys (free with mesh_client_keys_free); *@more tells whether
 * another page follows (pass the last key as @after).
 */
int mesh_client_keys(struct mesh_client *c, const char *prefix, const char *after,
		     uint32_t limit, char ***keys, size_t *n, bool *more);
void mesh_client_keys_free(char **keys, size_t n);

int mesh_client_subscribe(struct mesh_client *c, const char *prefix, uint64_t *subscription);
int mesh_client_unsubscribe(struct mesh_client *c, uint64_t subscription);

/** Next event (subscriptions and watches); -ETIMEDOUT after @timeout_ms (-1 = wait
 * forever). The library queues at most 256 events: when the application falls behind, the
 * oldest is dropped (a watch's own newest: see mesh_client_watch_open) and counted into
 * the next event's `dropped`. */
int mesh_client_event_next(struct mesh_client *c, int timeout_ms, struct mesh_client_event *ev);
void mesh_client_event_free(struct mesh_client_event *ev);

/** Publish a stream message: broadcast when @target is NULL, else to that node only. */
int mesh_client_publish(struct mesh_client *c, const void *key, size_t key_len,
			const void *value, size_t value_len, const char *target);

/** Members as this node sees them; free *@out with free(). */
int mesh_client_members(struct mesh_client *c, struct mesh_client_member **out, size_t *n);

/** Counters of @group (NULL = all); free *@out with free(). */
int mesh_client_stats(struct mesh_client *c, const char *group, struct mesh_client_stat **out,
		      size_t *n);

/* ---- version 2 ---- */

/** Error codes (proto Error): why a request was refused. */
enum mesh_client_error {
	MESH_CLIENT_OK = 0,
	MESH_CLIENT_E_NOT_FOUND = 1,
	MESH_CLIENT_E_NO_NAMESPACE = 2,
	MESH_CLIENT_E_WRONG_KIND = 3,
	MESH_CLIENT_E_INVALID = 4,
	MESH_CLIENT_E_TOO_LARGE = 5,
	MESH_CLIENT_E_NO_SPACE = 6,
	MESH_CLIENT_E_QUOTA = 7,
	MESH_CLIENT_E_BUSY = 8,
	MESH_CLIENT_E_BAD_MESSAGE = 9,
	MESH_CLIENT_E_UNREACHABLE = 10,
	MESH_CLIENT_E_UNSUPPORTED = 11,
	MESH_CLIENT_E_VALUE_TOO_BIG = 12,
	MESH_CLIENT_E_NO_BUFFERS = 13,
	MESH_CLIENT_E_RESERVED = 14,
	MESH_CLIENT_E_STALE = 15,
	MESH_CLIENT_E_INTERNAL = 16,
};

/** Error code of the last refused call (MESH_CLIENT_OK if none); from the node's
 * Response.code, or derived from its errno for a version 1 node. */
int mesh_client_error_code(const struct mesh_client *c);
/** "NOT_FOUND", "QUOTA", ... as in client.proto; "UNKNOWN" for other values. */
const char *mesh_client_error_name(int code);
/** The Error code matching a negative errno (as the node maps them). */
int mesh_client_error_from_errno(int err);

#define MESH_CLIENT_PUT_OWNED 0x1u /* the key dies with this node (see client.proto) */

/** A put with flags (MESH_CLIENT_PUT_OWNED). */
int mesh_client_put_flags(struct mesh_client *c, const void *key, size_t key_len,
			  const void *value, size_t value_len, unsigned flags);
/** An owner-bound put: deleted cluster-wide when this node is declared dead or left. */
int mesh_client_put_owned(struct mesh_client *c, const void *key, size_t key_len,
			  const void *value, size_t value_len);

#define MESH_CLIENT_MAX_FEATURES 16

/** What the node speaks (HelloResp). */
struct mesh_client_hello {
	uint32_t version;
	char node[64];
	uint64_t generation;
	uint32_t max_message;
	uint32_t max_batch;
	char features[MESH_CLIENT_MAX_FEATURES][32];
	size_t n_features;
};

/** Say hello (version 2); the answer is also kept for mesh_client_batch's limits. */
int mesh_client_hello(struct mesh_client *c, struct mesh_client_hello *out);
/** Whether @h lists @feature ("batch", "watch", "members_watch", "owned", ...). */
bool mesh_client_has_feature(const struct mesh_client_hello *h, const char *feature);

/** Cluster state (ClusterResp): the partition/quorum hint. */
struct mesh_client_cluster {
	uint32_t alive, suspect, dead, left, known, reachable;
	double reachable_fraction;
	uint32_t quorum;
	bool should_serve;
};
int mesh_client_cluster(struct mesh_client *c, struct mesh_client_cluster *out);

/** Set this node's metadata (at most 512 bytes; empty clears it). */
int mesh_client_metadata_set(struct mesh_client *c, const void *data, size_t len);

enum mesh_client_op_kind {
	MESH_CLIENT_OP_PUT = 0,
	MESH_CLIENT_OP_DELETE = 1,
	MESH_CLIENT_OP_GET = 2,
};

/** One op of a batch or an async request; key and value are only read during the call. */
struct mesh_client_op {
	enum mesh_client_op_kind kind;
	const void *key;
	size_t key_len;
	const void *value; /* PUT */
	size_t value_len;
	bool owned;        /* PUT: owner-bound */
};

/** The result of one op. */
struct mesh_client_result {
	int status; /* 0 or a negative errno */
	int code;   /* enum mesh_client_error */
	bool found; /* GET */
	uint8_t *value;
	size_t value_len;
	uint64_t timestamp, replica;
};

/**
 * Apply @n ops in order; one result each in @results (a refused op does not stop the
 * others). Split into requests of at most hello's max_batch ops and ~192 KiB (hello is
 * said first if it was not); every part is sent before replies are read. GETs the node
 * refused because their values did not fit one reply (-EMSGSIZE, TOO_LARGE) are asked
 * again without the others until each is answered or refused alone. GET values in
 * @results are malloc'd: free with mesh_client_results_free(). Returns 0 when every part
 * was answered (look at each result's status), else a negative errno (a part refused as a
 * whole, connection lost, timeout).
 */
int mesh_client_batch(struct mesh_client *c, const struct mesh_client_op *ops, size_t n,
		      struct mesh_client_result *results);
void mesh_client_results_free(struct mesh_client_result *results, size_t n);

/* ---- asynchronous requests ---- */

/** What a callback gets; pointers are valid only during the callback. */
struct mesh_client_reply {
	uint64_t id;
	int status;        /* 0, or a negative errno (-ECONNRESET: the connection ended) */
	int code;          /* enum mesh_client_error */
	const char *error; /* the node's reason ("" if none) */
	struct mesh_client_result get;            /* a GET request's result */
	const struct mesh_client_result *results; /* a batch's results */
	size_t n_results;
};
typedef void (*mesh_client_cb)(struct mesh_client *c, const struct mesh_client_reply *r,
			       void *arg);

/** Most async requests in flight on one connection. */
#define MESH_CLIENT_MAX_INFLIGHT (1u << 20)

/**
 * Send one put, delete or get without waiting: returns its id (> 0), or a negative errno
 * (-ENOBUFS: MESH_CLIENT_MAX_INFLIGHT in flight; -ECONNRESET). @cb (may be NULL) runs in
 * mesh_client_process() when the reply comes. When the socket is full the request is
 * queued in the library (sent by mesh_client_process); then, and every 64 requests,
 * replies already there are read into memory (not run), so the node never has to hold
 * them while the caller only submits. Async requests never time out.
 */
int64_t mesh_client_submit(struct mesh_client *c, const struct mesh_client_op *op,
			   mesh_client_cb cb, void *arg);
/** A batch of at most hello's max_batch ops as one request; results in the reply. */
int64_t mesh_client_submit_batch(struct mesh_client *c, const struct mesh_client_op *ops,
				 size_t n, mesh_client_cb cb, void *arg);
/**
 * Send queued requests, read every reply and event ready (never blocks) and run their
 * callbacks. Returns the number of callbacks run, or a negative errno when the connection
 * ended (every request in flight then completes with status -ECONNRESET).
 */
int mesh_client_process(struct mesh_client *c);
/** Wait up to @timeout_ms (-1 = forever) for something to do, then mesh_client_process(). */
int mesh_client_wait(struct mesh_client *c, int timeout_ms);
/** Async requests sent or queued and not yet completed. */
size_t mesh_client_pending(const struct mesh_client *c);
/** Whether requests wait for room in the socket (poll for POLLOUT too). */
bool mesh_client_want_write(const struct mesh_client *c);
/** Replies dropped on this connection: ones that did not decode, and ones nobody waited
 * for (late replies to sync calls that timed out, messages of kinds this library does not
 * handle). */
uint64_t mesh_client_dropped_replies(const struct mesh_client *c);
/**
 * Deliver events (subscriptions and watches) to @cb from mesh_client_process() instead of queueing them
 * for mesh_client_event_next() (NULL: back to queueing). The event is freed after @cb.
 */
typedef void (*mesh_client_event_cb)(struct mesh_client *c, const struct mesh_client_event *ev,
				     void *arg);
void mesh_client_event_cb_set(struct mesh_client *c, mesh_client_event_cb cb, void *arg);

/* ---- watches (version 2; hello's features "watch" and "members_watch") ---- */

/**
 * Watch the keys under @prefix (@prefix_len bytes, 0 = every key); the id is put in
 * *@watch. Its events come through mesh_client_event_next() or the event callback, with
 * subscription = the id:
 *  - @resume NULL, @snapshot false: changes from now on;
 *  - @snapshot: first the current value of every key under the prefix (CHANGE events with
 *    snapshot set), then one SNAPSHOT_END event, then the changes after it;
 *  - @resume (a cursor of an earlier watch of this node; NULL or generation 0: none):
 *    every key changed after it
 *    (latest value or tombstone), then live changes; when the node cannot (another node
 *    life, or the tombstones after it were collected), a MISSED event comes first and a
 *    snapshot follows as with @snapshot: the application drops what it knew under the
 *    prefix and rebuilds from the snapshot.
 * Every event carries in `cursor` the resume point once it is handled: store the last one
 * to resume a later watch (after a reconnect, on any connection to the same node). When
 * the event queue is full a watch's newest event is dropped (the count comes with the
 * next event, in `dropped`) and the watch's cursor stops at the last event kept, so a
 * watch opened again from it gets back exactly what was lost. Keys changed several times
 * may come once, with their latest value. Needs hello's feature "watch".
 */
int mesh_client_watch_open(struct mesh_client *c, const void *prefix, size_t prefix_len,
			   bool snapshot, const struct mesh_client_cursor *resume,
			   uint64_t *watch);
/**
 * Watch membership: MEMBER events (member_kind, and in member the name, address,
 * status, incarnation, generation and metadata); with @snapshot, first one JOIN per
 * member the node knows (itself first). Needs hello's feature "members_watch".
 */
int mesh_client_members_watch_open(struct mesh_client *c, bool snapshot, uint64_t *watch);
/** End a watch of either kind; its events still queued are discarded (use this rather
 * than mesh_client_unsubscribe, which ends it on the node but keeps its state here). */
int mesh_client_watch_close(struct mesh_client *c, uint64_t watch);
/** The resume point of @watch as of the events handed out so far; -ENOENT if unknown. */
int mesh_client_watch_cursor_get(const struct mesh_client *c, uint64_t watch,
				 struct mesh_client_cursor *out);
/** "CHANGE", "SNAPSHOT_END", "MISSED", "MEMBER"; "UNKNOWN" for other values. */
const char *mesh_client_event_kind_name(int kind);
/** "JOIN", "ALIVE", "SUSPECT", "DEAD", "LEFT", "METADATA"; "UNKNOWN" for other values. */
const char *mesh_client_member_kind_name(int kind);

/**
 * Prometheus name of counter @name of @group, as meshd's /metrics and `meshctl metrics`
 * print it: meshd_<group>_<name>, without repeating a group the name already starts with
 * (swim_probe_sent -> meshd_swim_probe_sent). Returns @buf.
 */
const char *mesh_client_metric_name(char *buf, size_t len, const char *group, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* MESH_CLIENT_H */
