/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/wire (pure C): the meshd frame. Every UDP datagram meshd sends or accepts is one
 * frame: a fixed 32-byte header, a payload, and a trailer that authenticates both
 * (an xxh3-64 checksum, or a 16-byte AEAD tag when a cluster key is configured).
 * doc/wire-format.md has the byte diagram and the versioning rules.
 *
 * Contents: header encode/decode; frame seal/open with a keyring (XChaCha20-Poly1305,
 * per-node keys binding the sender id); per-sender replay windows; the MSGS container
 * of [kind][length][body] records; zero-copy readers and encoders for the hot messages
 * (CrdtBatch, StreamBatch, StreamAck, CrdtAck); protobuf-c codecs over a bump arena for
 * the cold ones (Heartbeat, StreamNack, CrdtDigest); drop counters.
 */
#ifndef MESH_WIRE_H
#define MESH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 *  0               1               2               3
 *  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
 * +-------------------------------+---------------+---------------+
 * |        magic 0x4D53 "MS"      |    version    |     type      |  0
 * +---------------+---------------+---------------+---------------+
 * |     flags     |    key id     |        payload length         |  4
 * +---------------+---------------+-------------------------------+
 * |                          cluster id                           |  8
 * +---------------------------------------------------------------+
 * |                     reserved (send 0)                         | 12
 * +---------------------------------------------------------------+
 * |                        sender node id                         | 16
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                    sequence (per sender)                      | 24
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                  payload (payload length bytes)             ...  32
 * +---------------------------------------------------------------+
 * |  trailer: xxh3-64 of header+payload (8 B), or AEAD tag (16 B) |
 * +---------------------------------------------------------------+
 * All multi-byte fields are big-endian.
 */
#define MESH_WIRE_MAGIC 0x4D53u
#define MESH_WIRE_VERSION 1u
#define MESH_WIRE_HDR_LEN 32u
#define MESH_WIRE_CSUM_LEN 8u
#define MESH_WIRE_TAG_LEN 16u
/** Default UDP payload budget (Ethernet MTU 1500 - IPv4 20 - UDP 8). */
#define MESH_WIRE_DEFAULT_MAX_FRAME 1472u
/** Largest frame the length field can describe (jumbo frames up to 9000 fit). */
#define MESH_WIRE_MAX_FRAME (MESH_WIRE_HDR_LEN + 65535u + MESH_WIRE_TAG_LEN)

#define MESH_WIRE_OFF_MAGIC 0
#define MESH_WIRE_OFF_VERSION 2
#define MESH_WIRE_OFF_TYPE 3
#define MESH_WIRE_OFF_FLAGS 4
#define MESH_WIRE_OFF_KEY_ID 5
#define MESH_WIRE_OFF_LENGTH 6
#define MESH_WIRE_OFF_CLUSTER 8
#define MESH_WIRE_OFF_RESERVED 12
#define MESH_WIRE_OFF_SENDER 16
#define MESH_WIRE_OFF_SEQ 24

/** Frame types. New types are appended; receivers drop unknown types (counted). */
enum mesh_wire_type {
	MESH_WIRE_TYPE_HELLO = 1,       /**< liveness/diagnostic probe, payload opaque */
	MESH_WIRE_TYPE_HELLO_REPLY = 2, /**< answer to HELLO, payload = responder name */
	MESH_WIRE_TYPE_MSGS = 3,        /**< container of protocol messages */
	MESH_WIRE_TYPE_MAX_KNOWN = 3,
};

/** Flag bits. Unknown bits make a frame undecodable (dropped as bad flags). */
#define MESH_WIRE_F_AEAD 0x01u /**< payload encrypted, trailer is a 16-byte AEAD tag */
#define MESH_WIRE_F_KNOWN (MESH_WIRE_F_AEAD)

/** Host view of the header. */
struct mesh_wire_hdr {
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint8_t key_id;
	uint16_t length; /**< payload bytes */
	uint32_t cluster_id;
	uint64_t sender_id;
	uint64_t seq;
};

/** Why a frame was refused. Each value maps to one drop counter (rx_drop_<name>). */
enum mesh_wire_err {
	MESH_WIRE_OK = 0,
	MESH_WIRE_ERR_SHORT,      /**< shorter than header + trailer */
	MESH_WIRE_ERR_MAGIC,      /**< not a meshd frame */
	MESH_WIRE_ERR_VERSION,    /**< version this node does not speak */
	MESH_WIRE_ERR_TYPE,       /**< unknown frame type */
	MESH_WIRE_ERR_FLAGS,      /**< unknown flag bits */
	MESH_WIRE_ERR_LENGTH,     /**< length field disagrees with the datagram */
	MESH_WIRE_ERR_CHECKSUM,   /**< xxh3 trailer mismatch */
	MESH_WIRE_ERR_CLUSTER,    /**< another cluster's frame */
	MESH_WIRE_ERR_AUTH,       /**< AEAD frame this node cannot authenticate */
	MESH_WIRE_ERR_NOSPACE,    /**< (encode) output buffer too small */
	MESH_WIRE_ERR_NO_KEY,     /**< AEAD frame but this node has no keyring */
	MESH_WIRE_ERR_UNKNOWN_KEY, /**< AEAD frame under a key id the keyring lacks */
	MESH_WIRE_ERR_PLAINTEXT,  /**< checksum-only frame while a keyring requires AEAD */
	MESH_WIRE_ERR_SENDER,     /**< sender id 0, or this node's own id (reflection) */
	MESH_WIRE_ERR_REPLAY,     /**< sequence already seen from this sender */
	MESH_WIRE_ERR_STALE,      /**< sequence 0 or older than the replay window */
	MESH_WIRE_ERR_MAX,
};

/** Short stable name of an error ("bad_magic", ...), used in counter names. */
const char *mesh_wire_err_name(enum mesh_wire_err err);

/** Total frame size for a payload of @payload_len bytes with the given flags. */
static inline size_t
mesh_wire_frame_size(size_t payload_len, uint8_t flags)
{
	return MESH_WIRE_HDR_LEN + payload_len +
	       ((flags & MESH_WIRE_F_AEAD) ? MESH_WIRE_TAG_LEN : MESH_WIRE_CSUM_LEN);
}

/** Pointer to where the payload goes/lives in a frame buffer. */
static inline uint8_t *
mesh_wire_frame_payload(uint8_t *frame)
{
	return frame + MESH_WIRE_HDR_LEN;
}

/** Write the 32-byte header of @h (length included) at @buf. */
void mesh_wire_hdr_encode(uint8_t *buf, const struct mesh_wire_hdr *h);

/**
 * Parse the header of a @len-byte datagram without checking the trailer: magic, version,
 * type, flags and that @len equals header + length + trailer. Fails soft.
 */
enum mesh_wire_err mesh_wire_hdr_decode(const uint8_t *buf, size_t len,
					struct mesh_wire_hdr *h);

/**
 * Seal an unencrypted frame in place: the caller has written @h->length payload bytes at
 * mesh_wire_frame_payload(@buf); this writes the header and the xxh3 trailer.
 * Returns the frame size, or 0 if @cap is too small or @h has the AEAD flag.
 */
size_t mesh_wire_frame_seal_csum(uint8_t *buf, size_t cap, const struct mesh_wire_hdr *h);

/**
 * Check an unencrypted frame: header rules, then the cluster id (when @cluster_id is not
 * 0) and the xxh3 trailer. On success *@h is filled and the payload is
 * mesh_wire_frame_payload(buf)[0 .. h->length).
 */
enum mesh_wire_err mesh_wire_frame_open_csum(const uint8_t *buf, size_t len,
					     uint32_t cluster_id, struct mesh_wire_hdr *h);

/** Stable 64-bit node id from a node name and its boot generation. */
uint64_t mesh_wire_node_id(const char *name, uint64_t boot_gen);

/* ================================================================ counters */

/*
 * Receive-side counters of the frame layer (xstats names), X(name, description).
 * rx_drop_<err> has one entry per enum mesh_wire_err value in the same order, so
 * mesh_wire_err_counter() is arithmetic and lib/net describes its rx_drop_frame_<err>
 * counters with these descriptions.
 */
#define MESH_WIRE_COUNTERS(X) \
	X(rx_frames, "frames received") \
	X(rx_frames_ok, "frames that passed every check") \
	X(tx_frames, "frames sent") \
	X(rx_drop_short, "frames dropped: shorter than header and trailer") \
	X(rx_drop_bad_magic, "frames dropped: not a meshd frame (bad magic)") \
	X(rx_drop_bad_version, "frames dropped: a frame version this node does not speak") \
	X(rx_drop_bad_type, "frames dropped: unknown frame type") \
	X(rx_drop_bad_flags, "frames dropped: unknown flag bits") \
	X(rx_drop_bad_length, "frames dropped: length field disagrees with the datagram") \
	X(rx_drop_bad_checksum, "frames dropped: xxh3 checksum mismatch (corrupted)") \
	X(rx_drop_bad_cluster, "frames dropped: another cluster's id") \
	X(rx_drop_bad_auth, "frames dropped: AEAD tag did not verify") \
	X(rx_drop_nospace, "frames dropped: no room (an encode-side error, never seen on receive)") \
	X(rx_drop_no_key, "frames dropped: encrypted but this node has no cluster key") \
	X(rx_drop_unknown_key, "frames dropped: encrypted under a key id the keyring lacks") \
	X(rx_drop_plaintext, "frames dropped: unencrypted while the cluster requires keys") \
	X(rx_drop_bad_sender, "frames dropped: sender id 0 or this node's own (reflected)") \
	X(rx_drop_replayed, "frames dropped: sequence already seen from this sender (replay)") \
	X(rx_drop_stale_seq, "frames dropped: sequence older than the replay window") \
	X(rx_msgs, "messages decoded from accepted frames") \
	X(rx_msg_unknown_kind, "messages of a kind this node does not know, skipped") \
	X(rx_drop_bad_container, "frames dropped: malformed message container") \
	X(rx_drop_bad_msg, "messages dropped: malformed body")

#define MESH_WIRE_CTR_ENUM(name, desc) MESH_WIRE_CTR_##name,
#define MESH_WIRE_CTR_NAME(name, desc) "wire_" #name,
/** Indices MESH_WIRE_CTR_<name>; telemetry names are "wire_<name>". */
enum mesh_wire_counter { MESH_WIRE_COUNTERS(MESH_WIRE_CTR_ENUM) MESH_WIRE_CTR_MAX };

/** Counter names and one-line descriptions, indexed by enum mesh_wire_counter. */
extern const char *const mesh_wire_counter_names[MESH_WIRE_CTR_MAX];
extern const char *const mesh_wire_counter_descs[MESH_WIRE_CTR_MAX];

/** The rx_drop_* counter for @err (MESH_WIRE_OK maps to rx_frames_ok). */
enum mesh_wire_counter mesh_wire_err_counter(enum mesh_wire_err err);

/* ================================================================ keys and AEAD */

/*
 * Frame security (doc/wire-format.md, "Security"):
 * - keyless: xxh3-64 trailer (integrity against corruption only);
 * - keyed: XChaCha20-Poly1305-IETF (libsodium). AAD = the 32-byte header, the payload is
 *   encrypted in place, the trailer is the 16-byte tag. The 24-byte nonce is
 *   sender id (8, BE) || sequence (8, BE) || 0 (8) and never travels.
 * - identity binding: a frame is sealed with the *sender's node key*
 *   K_node = BLAKE2b-256(key = cluster key[key id], salt = sender id BE || key id,
 *   personal = "meshd-node-key1"), so a tag verifies only under the key derived for the
 *   sender id the header claims; rewriting the sender id of a captured frame fails.
 * - keyring: up to MESH_WIRE_KEYRING_MAX cluster keys by 1-byte id; one primary seals,
 *   every present key opens (the header names the key id; no trial decryption).
 */
#define MESH_WIRE_KEY_LEN 32u
#define MESH_WIRE_NONCE_LEN 24u
#define MESH_WIRE_KEYRING_MAX 8u

struct mesh_wire_key {
	uint8_t id;
	uint8_t key[MESH_WIRE_KEY_LEN];
};

/**
 * Cluster keyring (caller memory). Not locked: mutate it only while no lcore reads it
 * (rotate by building a new keyring and swapping the pointer readers use).
 */
struct mesh_wire_keyring {
	uint32_t n_keys;
	int32_t primary; /**< index into keys[], -1 = none */
	bool accept_plaintext; /**< migration only: also accept xxh3 (keyless) frames */
	struct mesh_wire_key keys[MESH_WIRE_KEYRING_MAX];
};

/** Empty keyring (no primary). */
void mesh_wire_keyring_init(struct mesh_wire_keyring *kr);
/** Wipe key material. */
void mesh_wire_keyring_fini(struct mesh_wire_keyring *kr);
/** Add key @id. 0, -EEXIST (id present), -ENOSPC (full). The first key becomes primary. */
int mesh_wire_keyring_add(struct mesh_wire_keyring *kr, uint8_t id,
			  const uint8_t key[MESH_WIRE_KEY_LEN]);
/** Remove key @id. 0, -ENOENT, -EBUSY (it is the primary: promote another first). */
int mesh_wire_keyring_remove(struct mesh_wire_keyring *kr, uint8_t id);
/** Make @id the sealing key. 0 or -ENOENT. */
int mesh_wire_keyring_set_primary(struct mesh_wire_keyring *kr, uint8_t id);
/** The key with @id, or NULL. */
const struct mesh_wire_key *mesh_wire_keyring_find(const struct mesh_wire_keyring *kr,
						   uint8_t id);

/**
 * Load the cluster key file @path into @kr (initialised here): one key per line, "ID HEX64
 * [primary]" (ID 0..255, 64 hex digits, "primary" marks the sealing key, else the first);
 * '#' comments and blank lines. Warns (mesh_log) when group or others may read the file.
 * 0, or -EINVAL with "PATH:LINE: ..." in @err and @kr empty.
 */
int mesh_wire_keyring_load(const char *path, struct mesh_wire_keyring *kr, char *err,
			   size_t err_len);
/** Whether @path loads (mesh_wire_keyring_load, keys wiped again): a config check. */
int mesh_wire_keyring_check(const char *path, char *err, size_t err_len);
/** The same for the key file text @text[0..@len-1], named @name in messages. */
int mesh_wire_keyring_parse(const char *text, size_t len, const char *name,
			    struct mesh_wire_keyring *kr, char *err, size_t err_len);
/**
 * Write a new key file at @path: one random key, "1 HEX64 primary", after a comment line.
 * The file is created mode 0600 and never replaces anything (-EEXIST when @path exists,
 * a symlink included). 0, or -errno with "PATH: ..." in @err (nothing left behind).
 */
int mesh_wire_keyfile_generate(const char *path, char *err, size_t err_len);

/** Derive the node key of @sender_id under cluster key @k (see above). */
void mesh_wire_node_key(const struct mesh_wire_key *k, uint64_t sender_id,
			uint8_t out[MESH_WIRE_KEY_LEN]);

/** What a node needs to seal and open frames. */
struct mesh_wire_sec {
	uint32_t cluster_id; /**< stamped on send; checked on receive unless 0 */
	uint64_t self_id;    /**< this node's id (frames claiming it are reflections) */
	const struct mesh_wire_keyring *keyring; /**< NULL or no primary = keyless */
};

/** Payload bytes available in a frame of @max_frame bytes under @sec. */
size_t mesh_wire_payload_max(const struct mesh_wire_sec *sec, size_t max_frame);

/**
 * Seal a frame in place. The caller wrote @h->length payload bytes at
 * mesh_wire_frame_payload(@buf) and set type and seq; this fills version, flags, key id,
 * cluster id and sender id from @sec, writes the header, encrypts the payload (keyed) and
 * appends the trailer. Returns the frame size, or 0 when @cap is too small or @h->seq is 0.
 */
size_t mesh_wire_frame_seal(const struct mesh_wire_sec *sec, uint8_t *buf, size_t cap,
			    struct mesh_wire_hdr *h);

/**
 * Check and open a frame in place: header rules, sender id, cluster id, then the xxh3
 * trailer or the AEAD tag (decrypting the payload in place). Replay is the caller's
 * per-peer business (mesh_wire_replay_*), checked before and committed after this call.
 */
enum mesh_wire_err mesh_wire_frame_open(const struct mesh_wire_sec *sec, uint8_t *buf,
					size_t len, struct mesh_wire_hdr *h);

/* ================================================================ replay window */

/*
 * Per-sender replay window (WireGuard style): a ring of MESH_WIRE_REPLAY_WINDOW bits
 * indexed by sequence, cleared a 64-bit word at a time as the top advances, so sequences
 * up to MESH_WIRE_REPLAY_SPAN below the highest accepted one are still accepted once
 * (bursts reordered by multi-queue RX or the network do not turn into drops).
 */
#define MESH_WIRE_REPLAY_WINDOW 1024u
#define MESH_WIRE_REPLAY_SPAN (MESH_WIRE_REPLAY_WINDOW - 64u)

struct mesh_wire_replay {
	uint64_t top; /**< highest sequence accepted (0: none) */
	uint64_t bits[MESH_WIRE_REPLAY_WINDOW / 64];
};

/** MESH_WIRE_OK when @seq is new and inside the window, else ERR_REPLAY / ERR_STALE. */
enum mesh_wire_err mesh_wire_replay_check(const struct mesh_wire_replay *w, uint64_t seq);
/** Record @seq as accepted (call only after the frame authenticated). */
void mesh_wire_replay_commit(struct mesh_wire_replay *w, uint64_t seq);

/* ================================================================ MSGS container */

/*
 * A MSGS frame payload is a sequence of records [u8 kind][u16 length BE][body]. Unknown
 * kinds are skipped (forward compatible); kind 0 and truncated records end the frame.
 */
enum mesh_wire_kind {
	MESH_WIRE_KIND_SWIM = 1,         /**< lib/swim message, opaque here */
	MESH_WIRE_KIND_CRDT_BATCH = 2,   /**< CrdtBatch (zero-copy) */
	MESH_WIRE_KIND_CRDT_ACK = 3,     /**< CrdtAck (zero-copy) */
	MESH_WIRE_KIND_STREAM_BATCH = 4, /**< StreamBatch (zero-copy) */
	MESH_WIRE_KIND_STREAM_ACK = 5,   /**< StreamAck (zero-copy) */
	MESH_WIRE_KIND_STREAM_NACK = 6,  /**< StreamNack (protobuf-c) */
	MESH_WIRE_KIND_HEARTBEAT = 7,    /**< Heartbeat (protobuf-c) */
	MESH_WIRE_KIND_DIGEST = 8,       /**< CrdtDigest (protobuf-c) */
	MESH_WIRE_KIND_MAX_KNOWN = 8,
};

#define MESH_WIRE_REC_HDR_LEN 3u
#define MESH_WIRE_REC_MAX_BODY 65535u

/** A (pointer, length) view into an input buffer. */
struct mesh_wire_slice {
	const uint8_t *p;
	size_t len;
};

/** Record writer over caller memory. */
struct mesh_wire_msgw {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint32_t n_recs;
};

void mesh_wire_msgw_init(struct mesh_wire_msgw *w, uint8_t *buf, size_t cap);
/** Room left for one more record's body (0 when even a header does not fit). */
size_t mesh_wire_msgw_room(const struct mesh_wire_msgw *w);
/** Append one record. 0, -ENOSPC (does not fit; @w unchanged) or -EINVAL (kind 0/size). */
int mesh_wire_msgw_add(struct mesh_wire_msgw *w, uint8_t kind, const void *body, size_t len);
/** Start a record to be encoded in place: returns where the body goes (room bytes). */
uint8_t *mesh_wire_msgw_begin(struct mesh_wire_msgw *w, uint8_t kind, size_t *room);
/** Finish the record begun last with @len body bytes (<= room). */
void mesh_wire_msgw_end(struct mesh_wire_msgw *w, size_t len);

struct mesh_wire_msgr {
	const uint8_t *p;
	const uint8_t *end;
};

void mesh_wire_msgr_init(struct mesh_wire_msgr *r, const void *payload, size_t len);
/** Next record: 1 (kind and body set), 0 at the end, -EBADMSG (kind 0 or truncated). */
int mesh_wire_msgr_next(struct mesh_wire_msgr *r, uint8_t *kind, struct mesh_wire_slice *body);

/* ================================================================ zero-copy protobuf */

/*
 * Hot messages are read in place: strings and bytes come back as slices into the input;
 * scalars follow proto3 rules (last value wins, unknown fields skipped, packed and
 * unpacked repeated scalars both accepted). Any malformed input is -EBADMSG; more
 * elements than the caller's array holds is -E2BIG. protobuf-c is the reference decoder
 * (tests/unit/wire/test_wire_pb.c checks both agree).
 */
#define MESH_WIRE_ACK_MAX_NACKS 64u

struct mesh_wire_crdt_op {
	struct mesh_wire_slice key;
	struct mesh_wire_slice value;
	struct mesh_wire_slice replica_id;
	uint64_t timestamp;
	uint64_t origin_ns; /**< origin wall clock (0 = absent), see CrdtOp.origin_ns */
	bool tombstone;
	bool owned;         /**< owner-bound value, see CrdtOp.owned */
};

struct mesh_wire_crdt_batch {
	uint64_t seq;
	uint64_t epoch;
	uint32_t n_ops;
	uint32_t frag_index; /**< fragment of one large op (frag_total >= 2), else 0 */
	uint32_t frag_total;
	struct mesh_wire_slice frag;
};

struct mesh_wire_stream_entry {
	struct mesh_wire_slice key;
	struct mesh_wire_slice data;
	uint64_t generation;
	uint64_t origin;
	uint64_t origin_ns; /**< origin wall clock (0 = absent), see StreamEntry.origin_ns */
	uint32_t chunk_index;
	uint32_t total_chunks;
};

struct mesh_wire_stream_ack {
	uint64_t seq;
	uint64_t epoch;
	uint64_t sack;
	bool success;
	bool reset;    /**< the receiver lost this channel's state: restart it */
	struct mesh_wire_slice error_message;
	uint32_t n_nacks;
	uint64_t nacks[MESH_WIRE_ACK_MAX_NACKS];
};

struct mesh_wire_crdt_kv {
	struct mesh_wire_slice key;
	struct mesh_wire_slice replica_id;
	uint64_t version;
};

/** CrdtBatch: header in @b, up to @max_ops ops in @ops[]. 0, -EBADMSG or -E2BIG. */
int mesh_wire_crdt_batch_read(const uint8_t *p, size_t len, struct mesh_wire_crdt_batch *b,
			      struct mesh_wire_crdt_op *ops, uint32_t max_ops);
/** StreamBatch: up to @max entries; *@n set. 0, -EBADMSG or -E2BIG. */
int mesh_wire_stream_batch_read(const uint8_t *p, size_t len,
				struct mesh_wire_stream_entry *e, uint32_t max, uint32_t *n);
/** StreamAck. 0, -EBADMSG or -E2BIG (more than MESH_WIRE_ACK_MAX_NACKS nacks). */
int mesh_wire_stream_ack_read(const uint8_t *p, size_t len, struct mesh_wire_stream_ack *a);
/** CrdtAck: up to @max entries. */
int mesh_wire_crdt_ack_read(const uint8_t *p, size_t len, struct mesh_wire_crdt_kv *e,
			    uint32_t max, uint32_t *n);

/* ---- encoders for the hot messages (same bytes protobuf-c would produce) ---- */

/** Bytes one op adds to a CrdtBatch (tag + length + body). */
size_t mesh_wire_crdt_op_wire_size(const struct mesh_wire_crdt_op *op);
/** Bytes one entry adds to a StreamBatch. */
size_t mesh_wire_stream_entry_wire_size(const struct mesh_wire_stream_entry *e);
/** Bytes of the CrdtBatch header fields (sequence, epoch). */
size_t mesh_wire_crdt_batch_hdr_size(uint64_t seq, uint64_t epoch);

/**
 * Append to a message being written at @buf[*@len .. @cap). Each returns 0 or -ENOSPC
 * (nothing written). A CrdtBatch is ops (any number) then mesh_wire_crdt_batch_put_hdr.
 */
int mesh_wire_crdt_batch_put_op(uint8_t *buf, size_t cap, size_t *len,
				const struct mesh_wire_crdt_op *op);
int mesh_wire_crdt_batch_put_hdr(uint8_t *buf, size_t cap, size_t *len, uint64_t seq,
				 uint64_t epoch);
/** Fragment fields of a CrdtBatch (after the header; no ops in a fragment batch). */
int mesh_wire_crdt_batch_put_frag(uint8_t *buf, size_t cap, size_t *len, uint32_t index,
				  uint32_t total, const uint8_t *data, size_t dlen);
/** Bytes mesh_wire_crdt_batch_put_frag() adds. */
size_t mesh_wire_crdt_batch_frag_size(uint32_t index, uint32_t total, size_t dlen);
int mesh_wire_stream_batch_put(uint8_t *buf, size_t cap, size_t *len,
			       const struct mesh_wire_stream_entry *e);
int mesh_wire_crdt_ack_put(uint8_t *buf, size_t cap, size_t *len,
			   const struct mesh_wire_crdt_kv *kv);
/** Whole StreamAck (n_nacks from @a). */
int mesh_wire_stream_ack_write(uint8_t *buf, size_t cap, size_t *len,
			       const struct mesh_wire_stream_ack *a);

/* ================================================================ cold messages */

struct mesh_arena;

struct mesh_wire_heartbeat {
	uint64_t epoch;
	uint64_t next_seq;
	uint64_t sent_ns;
};

struct mesh_wire_stream_nack {
	struct mesh_wire_slice key; /**< points into the decode arena */
	uint64_t generation;
	uint64_t origin;
	uint32_t n_missing;
	const uint32_t *missing; /**< decode: in the arena */
};

struct mesh_wire_digest {
	uint32_t bucket_count;
	uint32_t n_hashes;
	const uint64_t *bucket_hash;
	uint64_t key_count;
	bool reply;
	uint32_t level;         /**< 0: one hash per group; 1: the buckets of @groups */
	uint32_t n_groups;
	const uint32_t *groups; /**< level 1: which groups bucket_hash covers, in order */
};

/*
 * protobuf-c codecs. Encoders return the body length or -ENOSPC; decoders unpack with a
 * bump allocator over @arena (reset it after the message is handled) and return 0 or
 * -EBADMSG (malformed or arena too small).
 */
int mesh_wire_heartbeat_encode(uint8_t *buf, size_t cap, const struct mesh_wire_heartbeat *m);
int mesh_wire_heartbeat_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
			       struct mesh_wire_heartbeat *m);
int mesh_wire_stream_nack_encode(uint8_t *buf, size_t cap, const struct mesh_wire_stream_nack *m);
int mesh_wire_stream_nack_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
				 struct mesh_wire_stream_nack *m);
int mesh_wire_digest_encode(uint8_t *buf, size_t cap, const struct mesh_wire_digest *m);
int mesh_wire_digest_decode(const uint8_t *p, size_t len, struct mesh_arena *arena,
			    struct mesh_wire_digest *m);

#ifdef __cplusplus
}
#endif

#endif /* MESH_WIRE_H */
