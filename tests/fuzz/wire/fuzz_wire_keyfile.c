/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the cluster key file parser (mesh_wire_keyring_parse) on arbitrary
 * text. Accepted: 1..8 keys with distinct ids and a primary among them. Refused: -EINVAL,
 * an empty keyring and a message naming the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_wire_keyring kr;
	char err[256] = "";
	int ret = mesh_wire_keyring_parse((const char *)data, size, "fuzz.keys", &kr, err,
					  sizeof(err));

	if (ret == 0) {
		if (kr.n_keys == 0 || kr.n_keys > MESH_WIRE_KEYRING_MAX || kr.primary < 0 ||
		    (uint32_t)kr.primary >= kr.n_keys)
			abort();
		for (uint32_t i = 0; i < kr.n_keys; i++)
			for (uint32_t j = i + 1; j < kr.n_keys; j++)
				if (kr.keys[i].id == kr.keys[j].id)
					abort();
	} else if (ret != -EINVAL || kr.n_keys != 0 || strncmp(err, "fuzz.keys", 9) != 0) {
		abort();
	}
	mesh_wire_keyring_fini(&kr);
	return 0;
}
