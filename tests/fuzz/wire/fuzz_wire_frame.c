/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame parser: the keyless (xxh3) path and the keyed (AEAD) path over arbitrary bytes,
 * plus the replay window fed with the sequences of the frames that opened. Input byte 0
 * picks the receiver's configuration; the rest is the datagram. Every third run also
 * seals a frame around the input and checks it opens back to the same payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_wire.h"

static struct mesh_wire_keyring kr;
static struct mesh_wire_replay win;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MESH_WIRE_MAX_FRAME + 64];
	struct mesh_wire_sec sec = { .cluster_id = 0xC1, .self_id = 0x2222 };
	struct mesh_wire_hdr h;
	enum mesh_wire_err err;
	uint8_t mode;

	if (!ready) {
		uint8_t k[MESH_WIRE_KEY_LEN] = { 1, 2, 3 };

		mesh_wire_keyring_init(&kr);
		mesh_wire_keyring_add(&kr, 1, k);
		k[0] = 9;
		mesh_wire_keyring_add(&kr, 2, k);
		ready = 1;
	}
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	mode = data[0];
	memcpy(buf, data + 1, size - 1);
	sec.keyring = (mode & 1) ? &kr : NULL;
	kr.accept_plaintext = (mode & 2) != 0;
	if (mode & 4)
		sec.cluster_id = 0;
	err = mesh_wire_frame_open(&sec, buf, size - 1, &h);
	if (err == MESH_WIRE_OK) {
		if (h.length + MESH_WIRE_HDR_LEN > size - 1)
			abort();
		if (mesh_wire_replay_check(&win, h.seq) == MESH_WIRE_OK)
			mesh_wire_replay_commit(&win, h.seq);
	}
	if ((unsigned)err >= MESH_WIRE_ERR_MAX || mesh_wire_err_name(err) == NULL)
		abort();
	/* csum-only decoder on the raw bytes too */
	memcpy(buf, data + 1, size - 1);
	(void)mesh_wire_frame_open_csum(buf, size - 1, 0xC1, &h);

	/* seal/open round trip of the input as a payload */
	if (mode % 3 == 0 && size - 1 <= 1400) {
		struct mesh_wire_sec tx = { .cluster_id = 0xC1, .self_id = 0x1111,
					    .keyring = (mode & 8) ? &kr : NULL };
		struct mesh_wire_hdr t = { .type = MESH_WIRE_TYPE_MSGS,
					   .length = (uint16_t)(size - 1), .seq = 1 + mode };
		size_t n;

		memcpy(mesh_wire_frame_payload(buf), data + 1, size - 1);
		n = mesh_wire_frame_seal(&tx, buf, sizeof(buf), &t);
		sec.keyring = tx.keyring;
		sec.cluster_id = 0xC1;
		kr.accept_plaintext = false;
		if (n == 0 || mesh_wire_frame_open(&sec, buf, n, &h) != MESH_WIRE_OK ||
		    memcmp(mesh_wire_frame_payload(buf), data + 1, size - 1) != 0)
			abort();
	}
	return 0;
}
