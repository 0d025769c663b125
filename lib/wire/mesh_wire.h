/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/wire (pure C): the meshd frame. Every UDP datagram meshd sends or accepts is one
 * frame: a fixed 32-byte header, a payload, and a trailer that authenticates both
 * (an xxh3-64 checksum, or a 16-byte AEAD tag when a cluster key is configured).
 * doc/wire-format.md has the byte diagram and the versioning rules.
 */
#ifndef MESH_WIRE_H
#define MESH_WIRE_H

#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif

#endif /* MESH_WIRE_H */
