/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame header encode/decode and the keyless integrity trailer (xxh3-64 over header and
 * payload). Decoding never trusts the length field: it must match the datagram exactly.
 * Byte order is handled with explicit shifts so the code is endian-independent and can
 * read unaligned input (mbuf data offsets are arbitrary).
 */
#include <stddef.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_wire.h"
#include "wire_internal.h"

_Static_assert(MESH_WIRE_OFF_SEQ + 8 == MESH_WIRE_HDR_LEN, "header is 32 bytes");
_Static_assert(MESH_WIRE_OFF_LENGTH + 2 == MESH_WIRE_OFF_CLUSTER, "length before cluster");
_Static_assert(MESH_WIRE_OFF_RESERVED + 4 == MESH_WIRE_OFF_SENDER, "reserved before sender");

static const char *const err_names[MESH_WIRE_ERR_MAX] = {
	[MESH_WIRE_OK] = "ok",
	[MESH_WIRE_ERR_SHORT] = "short",
	[MESH_WIRE_ERR_MAGIC] = "bad_magic",
	[MESH_WIRE_ERR_VERSION] = "bad_version",
	[MESH_WIRE_ERR_TYPE] = "bad_type",
	[MESH_WIRE_ERR_FLAGS] = "bad_flags",
	[MESH_WIRE_ERR_LENGTH] = "bad_length",
	[MESH_WIRE_ERR_CHECKSUM] = "bad_checksum",
	[MESH_WIRE_ERR_CLUSTER] = "bad_cluster",
	[MESH_WIRE_ERR_AUTH] = "bad_auth",
	[MESH_WIRE_ERR_NOSPACE] = "nospace",
	[MESH_WIRE_ERR_NO_KEY] = "no_key",
	[MESH_WIRE_ERR_UNKNOWN_KEY] = "unknown_key",
	[MESH_WIRE_ERR_PLAINTEXT] = "plaintext",
	[MESH_WIRE_ERR_SENDER] = "bad_sender",
	[MESH_WIRE_ERR_REPLAY] = "replayed",
	[MESH_WIRE_ERR_STALE] = "stale_seq",
};

const char *const mesh_wire_counter_names[MESH_WIRE_CTR_MAX] = {
	MESH_WIRE_COUNTERS(MESH_WIRE_CTR_NAME)
};
const char *const mesh_wire_counter_descs[MESH_WIRE_CTR_MAX] = {
	MESH_WIRE_COUNTERS(MESH_COUNTER_DESC)
};

_Static_assert(MESH_WIRE_CTR_rx_drop_stale_seq - MESH_WIRE_CTR_rx_drop_short ==
		       MESH_WIRE_ERR_STALE - MESH_WIRE_ERR_SHORT,
	       "one rx_drop counter per error, in enum order");

enum mesh_wire_counter
mesh_wire_err_counter(enum mesh_wire_err err)
{
	if (err == MESH_WIRE_OK || (unsigned)err >= MESH_WIRE_ERR_MAX)
		return MESH_WIRE_CTR_rx_frames_ok;
	return (enum mesh_wire_counter)(MESH_WIRE_CTR_rx_drop_short + (err - MESH_WIRE_ERR_SHORT));
}

const char *
mesh_wire_err_name(enum mesh_wire_err err)
{
	if ((unsigned)err < MESH_WIRE_ERR_MAX)
		return err_names[err];
	return "unknown";
}

void
mesh_wire_hdr_encode(uint8_t *buf, const struct mesh_wire_hdr *h)
{
	put16(buf + MESH_WIRE_OFF_MAGIC, MESH_WIRE_MAGIC);
	buf[MESH_WIRE_OFF_VERSION] = h->version != 0 ? h->version : MESH_WIRE_VERSION;
	buf[MESH_WIRE_OFF_TYPE] = h->type;
	buf[MESH_WIRE_OFF_FLAGS] = h->flags;
	buf[MESH_WIRE_OFF_KEY_ID] = h->key_id;
	put16(buf + MESH_WIRE_OFF_LENGTH, h->length);
	put32(buf + MESH_WIRE_OFF_CLUSTER, h->cluster_id);
	put32(buf + MESH_WIRE_OFF_RESERVED, 0);
	put64(buf + MESH_WIRE_OFF_SENDER, h->sender_id);
	put64(buf + MESH_WIRE_OFF_SEQ, h->seq);
}

enum mesh_wire_err
mesh_wire_hdr_decode(const uint8_t *buf, size_t len, struct mesh_wire_hdr *h)
{
	if (len < MESH_WIRE_HDR_LEN + MESH_WIRE_CSUM_LEN)
		return MESH_WIRE_ERR_SHORT;
	if (get16(buf + MESH_WIRE_OFF_MAGIC) != MESH_WIRE_MAGIC)
		return MESH_WIRE_ERR_MAGIC;
	h->version = buf[MESH_WIRE_OFF_VERSION];
	if (h->version != MESH_WIRE_VERSION)
		return MESH_WIRE_ERR_VERSION;
	h->type = buf[MESH_WIRE_OFF_TYPE];
	if (h->type == 0 || h->type > MESH_WIRE_TYPE_MAX_KNOWN)
		return MESH_WIRE_ERR_TYPE;
	h->flags = buf[MESH_WIRE_OFF_FLAGS];
	if ((h->flags & ~MESH_WIRE_F_KNOWN) != 0)
		return MESH_WIRE_ERR_FLAGS;
	h->key_id = buf[MESH_WIRE_OFF_KEY_ID];
	h->length = get16(buf + MESH_WIRE_OFF_LENGTH);
	if (mesh_wire_frame_size(h->length, h->flags) != len)
		return MESH_WIRE_ERR_LENGTH;
	h->cluster_id = get32(buf + MESH_WIRE_OFF_CLUSTER);
	h->sender_id = get64(buf + MESH_WIRE_OFF_SENDER);
	h->seq = get64(buf + MESH_WIRE_OFF_SEQ);
	return MESH_WIRE_OK;
}

size_t
mesh_wire_frame_seal_csum(uint8_t *buf, size_t cap, const struct mesh_wire_hdr *h)
{
	size_t body = MESH_WIRE_HDR_LEN + h->length;

	if ((h->flags & MESH_WIRE_F_AEAD) != 0 || cap < body + MESH_WIRE_CSUM_LEN)
		return 0;
	mesh_wire_hdr_encode(buf, h);
	put64(buf + body, mesh_hash64(buf, body));
	return body + MESH_WIRE_CSUM_LEN;
}

enum mesh_wire_err
mesh_wire_frame_open_csum(const uint8_t *buf, size_t len, uint32_t cluster_id,
			  struct mesh_wire_hdr *h)
{
	enum mesh_wire_err err = mesh_wire_hdr_decode(buf, len, h);
	size_t body;

	if (err != MESH_WIRE_OK)
		return err;
	if ((h->flags & MESH_WIRE_F_AEAD) != 0)
		return MESH_WIRE_ERR_AUTH; /* needs the keyring path */
	body = MESH_WIRE_HDR_LEN + h->length;
	if (get64(buf + body) != mesh_hash64(buf, body))
		return MESH_WIRE_ERR_CHECKSUM;
	if (cluster_id != 0 && h->cluster_id != cluster_id)
		return MESH_WIRE_ERR_CLUSTER;
	return MESH_WIRE_OK;
}

/*
 * XXH3 of the name, then XXH3 of the 16 bytes (name hash, generation): both inputs go
 * through the full mixing path. Seeding XXH3 with the generation is not enough: for
 * 1..3-byte names it only XORs (constant + seed) into the packed bytes, so ("n20", 2) and
 * ("n21", 1) got the same id.
 */
uint64_t
mesh_wire_node_id(const char *name, uint64_t boot_gen)
{
	uint8_t b[16];

	put64(b, mesh_hash64(name, strlen(name)));
	put64(b + 8, boot_gen);
	return mesh_hash64(b, sizeof(b));
}
