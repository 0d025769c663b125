/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cluster key file. One key per line, "ID HEX [primary]": ID 0..255, HEX 64 hex digits
 * (32 bytes), "primary" marks the sealing key (default: the first). Lines starting with
 * '#' and blank lines are ignored. Every error names the file and line. Rotation without
 * downtime: add the new key (not primary) on every node, restart them one by one, make it
 * primary everywhere, then drop the old one (doc/deployment.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "meshd.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
meshd_keys_load(const char *path, struct mesh_wire_keyring *kr)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int no = 0, primary = -1, ret = 0;
	struct stat st;

	mesh_wire_keyring_init(kr);
	if (f == NULL) {
		fprintf(stderr, "meshd: %s: cannot read key file: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr, "meshd: %s: warning: key file is readable by group/others "
			"(chmod 600)\n", path);
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		char hex[80] = "", flag[16] = "";
		uint8_t key[MESH_WIRE_KEY_LEN];
		unsigned id;
		int n;

		no++;
		n = sscanf(line, "%u %79s %15s", &id, hex, flag);
		if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		if (n < 2 || id > 255 || strlen(hex) != 2 * MESH_WIRE_KEY_LEN ||
		    (n == 3 && strcmp(flag, "primary") != 0)) {
			fprintf(stderr, "meshd: %s:%d: expected 'ID HEX64 [primary]' with ID 0..255 "
				"and 64 hex digits\n", path, no);
			ret = -EINVAL;
			break;
		}
		for (unsigned i = 0; i < MESH_WIRE_KEY_LEN && ret == 0; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "meshd: %s:%d: not a hex digit\n", path, no);
				ret = -EINVAL;
			}
			key[i] = (uint8_t)(hi << 4 | lo);
		}
		if (ret == 0) {
			ret = mesh_wire_keyring_add(kr, (uint8_t)id, key);
			if (ret < 0)
				fprintf(stderr, "meshd: %s:%d: key %u: %s\n", path, no, id,
					ret == -EEXIST ? "duplicate id" : "too many keys (max 8)");
		}
		if (ret == 0 && n == 3) {
			if (primary >= 0) {
				fprintf(stderr, "meshd: %s:%d: a second primary key\n", path, no);
				ret = -EINVAL;
			}
			primary = (int)id;
		}
		sodium_memzero(key, sizeof(key));
		sodium_memzero(hex, sizeof(hex));
		sodium_memzero(line, sizeof(line));
	}
	fclose(f);
	if (ret == 0 && kr->n_keys == 0) {
		fprintf(stderr, "meshd: %s: no keys\n", path);
		ret = -EINVAL;
	}
	if (ret == 0 && primary >= 0)
		mesh_wire_keyring_set_primary(kr, (uint8_t)primary);
	if (ret < 0)
		mesh_wire_keyring_fini(kr);
	return ret < 0 ? -EINVAL : 0;
}
