/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame security: keyring, per-node key derivation and frame seal/open.
 *
 * Keyless frames carry an xxh3-64 trailer (corruption only). Keyed frames use libsodium
 * XChaCha20-Poly1305-IETF: AAD = header, payload encrypted in place, 16-byte tag trailer,
 * nonce = sender id || sequence || 0^8 (derived, never sent). The sealing key is not the
 * cluster key itself but the sender's node key, BLAKE2b(cluster key, salt = sender id ||
 * key id, personal = "meshd-node-key1"), so a frame verifies only under the identity its
 * header claims; changing the sender id (or key id, or any header byte) breaks the tag.
 * Nonce uniqueness needs (sender id, seq) never to repeat under one key: node ids embed
 * the boot generation and each boot starts its sequence at 1.
 *
 * Checks run cheapest first and each refusal has its own error (and counter): header
 * shape, sender id, cluster id, key presence/id, then the tag or checksum.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "mesh_common.h"
#include "mesh_wire.h"
#include "wire_internal.h"

_Static_assert(MESH_WIRE_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(MESH_WIRE_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(MESH_WIRE_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key");

static const char node_key_personal[crypto_generichash_blake2b_PERSONALBYTES] =
	"meshd-node-key1";

void
mesh_wire_keyring_init(struct mesh_wire_keyring *kr)
{
	/*
	 * libsodium picks its SIMD ChaCha20/Poly1305 implementations in sodium_init(); without
	 * it every frame runs the portable reference code (about 3x slower here). Idempotent
	 * and thread-safe; it fails only when no entropy source exists, which seal/open do not
	 * need.
	 */
	if (sodium_init() < 0)
		mesh_log(MESH_LOG_WARNING, "wire", "sodium_init failed: no entropy source");
	memset(kr, 0, sizeof(*kr));
	kr->primary = -1;
}

void
mesh_wire_keyring_fini(struct mesh_wire_keyring *kr)
{
	sodium_memzero(kr, sizeof(*kr));
	kr->primary = -1;
}

static int
find_index(const struct mesh_wire_keyring *kr, uint8_t id)
{
	for (uint32_t i = 0; i < kr->n_keys; i++)
		if (kr->keys[i].id == id)
			return (int)i;
	return -1;
}

const struct mesh_wire_key *
mesh_wire_keyring_find(const struct mesh_wire_keyring *kr, uint8_t id)
{
	int i = find_index(kr, id);

	return i < 0 ? NULL : &kr->keys[i];
}

int
mesh_wire_keyring_add(struct mesh_wire_keyring *kr, uint8_t id,
		      const uint8_t key[MESH_WIRE_KEY_LEN])
{
	if (find_index(kr, id) >= 0)
		return -EEXIST;
	if (kr->n_keys >= MESH_WIRE_KEYRING_MAX)
		return -ENOSPC;
	kr->keys[kr->n_keys].id = id;
	memcpy(kr->keys[kr->n_keys].key, key, MESH_WIRE_KEY_LEN);
	if (kr->primary < 0)
		kr->primary = (int32_t)kr->n_keys;
	kr->n_keys++;
	return 0;
}

int
mesh_wire_keyring_remove(struct mesh_wire_keyring *kr, uint8_t id)
{
	int i = find_index(kr, id);

	if (i < 0)
		return -ENOENT;
	if (i == kr->primary)
		return -EBUSY;
	kr->n_keys--;
	if ((uint32_t)i != kr->n_keys) {
		kr->keys[i] = kr->keys[kr->n_keys];
		if (kr->primary == (int32_t)kr->n_keys)
			kr->primary = i;
	}
	sodium_memzero(&kr->keys[kr->n_keys], sizeof(kr->keys[0]));
	return 0;
}

int
mesh_wire_keyring_set_primary(struct mesh_wire_keyring *kr, uint8_t id)
{
	int i = find_index(kr, id);

	if (i < 0)
		return -ENOENT;
	kr->primary = i;
	return 0;
}

void
mesh_wire_node_key(const struct mesh_wire_key *k, uint64_t sender_id,
		   uint8_t out[MESH_WIRE_KEY_LEN])
{
	uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = { 0 };

	put64(salt, sender_id);
	salt[8] = k->id;
	crypto_generichash_blake2b_salt_personal(out, MESH_WIRE_KEY_LEN, NULL, 0, k->key,
						 MESH_WIRE_KEY_LEN, salt,
						 (const unsigned char *)node_key_personal);
}

static void
make_nonce(uint8_t nonce[MESH_WIRE_NONCE_LEN], uint64_t sender, uint64_t seq)
{
	memset(nonce, 0, MESH_WIRE_NONCE_LEN);
	put64(nonce, sender);
	put64(nonce + 8, seq);
}

static const struct mesh_wire_key *
sealing_key(const struct mesh_wire_sec *sec)
{
	const struct mesh_wire_keyring *kr = sec->keyring;

	if (kr == NULL || kr->primary < 0 || (uint32_t)kr->primary >= kr->n_keys)
		return NULL;
	return &kr->keys[kr->primary];
}

size_t
mesh_wire_payload_max(const struct mesh_wire_sec *sec, size_t max_frame)
{
	size_t trailer = sealing_key(sec) != NULL ? MESH_WIRE_TAG_LEN : MESH_WIRE_CSUM_LEN;
	size_t room;

	if (max_frame < MESH_WIRE_HDR_LEN + trailer)
		return 0;
	room = max_frame - MESH_WIRE_HDR_LEN - trailer;
	return room > 65535u ? 65535u : room;
}

size_t
mesh_wire_frame_seal(const struct mesh_wire_sec *sec, uint8_t *buf, size_t cap,
		     struct mesh_wire_hdr *h)
{
	const struct mesh_wire_key *k = sealing_key(sec);
	uint8_t nonce[MESH_WIRE_NONCE_LEN], nk[MESH_WIRE_KEY_LEN];
	size_t body = MESH_WIRE_HDR_LEN + h->length;

	if (h->seq == 0)
		return 0;
	h->version = MESH_WIRE_VERSION;
	h->cluster_id = sec->cluster_id;
	h->sender_id = sec->self_id;
	if (k == NULL) {
		h->flags = 0;
		h->key_id = 0;
		return mesh_wire_frame_seal_csum(buf, cap, h);
	}
	if (cap < body + MESH_WIRE_TAG_LEN)
		return 0;
	h->flags = MESH_WIRE_F_AEAD;
	h->key_id = k->id;
	mesh_wire_hdr_encode(buf, h);
	make_nonce(nonce, h->sender_id, h->seq);
	mesh_wire_node_key(k, h->sender_id, nk);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		buf + MESH_WIRE_HDR_LEN, buf + body, NULL, buf + MESH_WIRE_HDR_LEN, h->length,
		buf, MESH_WIRE_HDR_LEN, NULL, nonce, nk);
	sodium_memzero(nk, sizeof(nk));
	return body + MESH_WIRE_TAG_LEN;
}

enum mesh_wire_err
mesh_wire_frame_open(const struct mesh_wire_sec *sec, uint8_t *buf, size_t len,
		     struct mesh_wire_hdr *h)
{
	const struct mesh_wire_keyring *kr = sec->keyring;
	bool keyed = sealing_key(sec) != NULL || (kr != NULL && kr->n_keys > 0);
	const struct mesh_wire_key *k;
	uint8_t nonce[MESH_WIRE_NONCE_LEN], nk[MESH_WIRE_KEY_LEN];
	enum mesh_wire_err err = mesh_wire_hdr_decode(buf, len, h);
	int rc;

	if (err != MESH_WIRE_OK)
		return err;
	if (h->sender_id == 0 || h->sender_id == sec->self_id)
		return MESH_WIRE_ERR_SENDER;
	if (sec->cluster_id != 0 && h->cluster_id != sec->cluster_id)
		return MESH_WIRE_ERR_CLUSTER;
	if ((h->flags & MESH_WIRE_F_AEAD) == 0) {
		if (keyed && !kr->accept_plaintext)
			return MESH_WIRE_ERR_PLAINTEXT;
		return mesh_wire_frame_open_csum(buf, len, sec->cluster_id, h);
	}
	if (!keyed)
		return MESH_WIRE_ERR_NO_KEY;
	k = mesh_wire_keyring_find(kr, h->key_id);
	if (k == NULL)
		return MESH_WIRE_ERR_UNKNOWN_KEY;
	make_nonce(nonce, h->sender_id, h->seq);
	mesh_wire_node_key(k, h->sender_id, nk);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		buf + MESH_WIRE_HDR_LEN, NULL, buf + MESH_WIRE_HDR_LEN, h->length,
		buf + MESH_WIRE_HDR_LEN + h->length, buf, MESH_WIRE_HDR_LEN, nonce, nk);
	sodium_memzero(nk, sizeof(nk));
	return rc == 0 ? MESH_WIRE_OK : MESH_WIRE_ERR_AUTH;
}

/* ---------------------------------------------------------------- replay window */

enum mesh_wire_err
mesh_wire_replay_check(const struct mesh_wire_replay *w, uint64_t seq)
{
	const uint32_t words = MESH_WIRE_REPLAY_WINDOW / 64;

	if (seq == 0)
		return MESH_WIRE_ERR_STALE;
	if (seq > w->top)
		return MESH_WIRE_OK;
	if (w->top - seq >= MESH_WIRE_REPLAY_SPAN)
		return MESH_WIRE_ERR_STALE;
	return (w->bits[(seq / 64) % words] >> (seq % 64)) & 1 ? MESH_WIRE_ERR_REPLAY
							       : MESH_WIRE_OK;
}

void
mesh_wire_replay_commit(struct mesh_wire_replay *w, uint64_t seq)
{
	const uint32_t words = MESH_WIRE_REPLAY_WINDOW / 64;

	if (seq == 0)
		return;
	if (seq > w->top) {
		uint64_t cur = w->top / 64, idx = seq / 64, diff = idx - cur;

		if (diff > words)
			diff = words;
		for (uint64_t i = 1; i <= diff; i++)
			w->bits[(cur + i) % words] = 0;
		w->top = seq;
	} else if (w->top - seq >= MESH_WIRE_REPLAY_SPAN) {
		return;
	}
	w->bits[(seq / 64) % words] |= 1ULL << (seq % 64);
}
