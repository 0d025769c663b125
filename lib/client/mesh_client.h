/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient: talk to a local meshd over its control socket (AF_UNIX SOCK_SEQPACKET,
 * one protobuf message per packet; proto/client.proto). Calls are synchronous: each sends
 * one request and waits for the reply with the same id; subscription events that arrive
 * meanwhile are queued for mesh_client_event_next(). Not thread-safe: one connection per
 * thread. Calls return 0 or a negative errno; the server's reason for a refusal is in
 * mesh_client_error().
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

struct mesh_client_event {
	uint64_t subscription;
	uint8_t *key;
	size_t key_len;
	uint8_t *value;
	size_t value_len;
	bool tombstone;
	uint64_t dropped;
	uint64_t origin_ns; /* origin node's wall clock for this change (0 = not stamped) */
};

struct mesh_client_member {
	char name[64];
	char address[32];
	char status[16];
	uint64_t incarnation;
	uint64_t generation;
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

/** Next subscription event; -ETIMEDOUT after @timeout_ms (-1 = wait forever). */
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
