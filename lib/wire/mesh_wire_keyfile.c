/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cluster key files. One key per line, "ID HEX [primary]": ID 0..255, HEX 64 hex digits
 * (32 bytes), "primary" marks the sealing key (default: the first). Lines starting with
 * '#' and blank lines are ignored. Every error names the file and line. The file is read
 * whole without stdio buffering (mesh_file_read) and every copy of key material made here
 * is wiped. Rotation without downtime: add the new key (not primary) on every node,
 * reload them (SIGHUP), make it primary everywhere, then drop the old one
 * (doc/deployment.md, doc/security.md). New files come from mesh_wire_keyfile_generate
 * (meshd keygen FILE): one random key, mode 0600, never over an existing file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mesh_wire.h"

#define KEYFILE_MAX (64u << 10)

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "ID HEX [primary]" into @kr (*@primary: the id marked so), or a comment or blank line */
static int
line_parse(const char *line, const char *name, int no, struct mesh_wire_keyring *kr,
	   int *primary, char *err, size_t err_len)
{
	char hex[80] = "", flag[16] = "";
	uint8_t key[MESH_WIRE_KEY_LEN];
	unsigned id;
	int n = sscanf(line, "%u %79s %15s", &id, hex, flag), ret = 0;

	if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#')
		goto out;
	if (n < 2 || id > 255 || strlen(hex) != 2 * MESH_WIRE_KEY_LEN ||
	    (n == 3 && strcmp(flag, "primary") != 0)) {
		ret = mesh_errf(err, err_len, "%s:%d: expected 'ID HEX64 [primary]' with ID 0..255 "
				"and 64 hex digits", name, no);
		goto out;
	}
	for (unsigned i = 0; i < MESH_WIRE_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			ret = mesh_errf(err, err_len, "%s:%d: not a hex digit", name, no);
			goto out;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	ret = mesh_wire_keyring_add(kr, (uint8_t)id, key);
	if (ret < 0)
		ret = mesh_errf(err, err_len, "%s:%d: key %u: %s", name, no, id,
				ret == -EEXIST ? "duplicate id" : "too many keys (max 8)");
	else if (n == 3 && *primary >= 0)
		ret = mesh_errf(err, err_len, "%s:%d: a second primary key", name, no);
	else if (n == 3)
		*primary = (int)id;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return ret;
}

int
mesh_wire_keyring_parse(const char *text, size_t len, const char *name,
			struct mesh_wire_keyring *kr, char *err, size_t err_len)
{
	const char *p = text, *end = text + len;
	char line[256];
	int no = 0, primary = -1, ret = 0;

	mesh_wire_keyring_init(kr);
	while (ret == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);

		/* a longer line is cut: sscanf would ignore its tail anyway */
		memcpy(line, p, MESH_MIN(n, sizeof(line) - 1));
		line[MESH_MIN(n, sizeof(line) - 1)] = '\0';
		ret = line_parse(line, name, ++no, kr, &primary, err, err_len);
		p += n + 1;
	}
	sodium_memzero(line, sizeof(line));
	if (ret == 0 && kr->n_keys == 0)
		ret = mesh_errf(err, err_len, "%s: no keys", name);
	if (ret == 0 && primary >= 0)
		mesh_wire_keyring_set_primary(kr, (uint8_t)primary);
	if (ret < 0)
		mesh_wire_keyring_fini(kr);
	return ret < 0 ? -EINVAL : 0;
}

int
mesh_wire_keyring_load(const char *path, struct mesh_wire_keyring *kr, char *err,
		       size_t err_len)
{
	struct stat st;
	char *text;
	size_t len;
	int ret = mesh_file_read(path, KEYFILE_MAX, &text, &len);

	if (ret < 0) {
		mesh_wire_keyring_init(kr);
		return mesh_errf(err, err_len, "%s: cannot read key file: %s", path,
				 strerror(-ret));
	}
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		mesh_log(MESH_LOG_WARNING, "wire", "%s: key file is readable by group/others "
			 "(chmod 600)", path);
	ret = mesh_wire_keyring_parse(text, len, path, kr, err, err_len);
	sodium_memzero(text, len);
	free(text);
	return ret;
}

int
mesh_wire_keyring_check(const char *path, char *err, size_t err_len)
{
	struct mesh_wire_keyring kr;
	int ret = mesh_wire_keyring_load(path, &kr, err, err_len);

	mesh_wire_keyring_fini(&kr);
	return ret;
}

int
mesh_wire_keyfile_generate(const char *path, char *err, size_t err_len)
{
	static const char head[] = "# meshd cluster key (meshd keygen): the same file on every "
				   "node, mode 0600\n";
	uint8_t key[MESH_WIRE_KEY_LEN];
	char text[sizeof(head) + 2 * MESH_WIRE_KEY_LEN + 16];
	size_t len;
	ssize_t n;
	int fd, ret = 0;

	if (sodium_init() < 0) {
		mesh_errf(err, err_len, "%s: no entropy source", path);
		return -EIO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		mesh_errf(err, err_len, "%s: %s", path, ret == -EEXIST ?
			  "exists; a key file is never overwritten (remove it first)" :
			  strerror(-ret));
		return ret;
	}
	randombytes_buf(key, sizeof(key));
	memcpy(text, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	memcpy(text + len, "1 ", 2);
	len += 2;
	sodium_bin2hex(text + len, 2 * MESH_WIRE_KEY_LEN + 1, key, sizeof(key));
	len += 2 * MESH_WIRE_KEY_LEN;
	memcpy(text + len, " primary\n", 9);
	len += 9;
	/* the umask may have narrowed 0600 (it cannot widen it): make it exactly 0600 */
	if (fchmod(fd, 0600) < 0)
		ret = -errno;
	n = ret == 0 ? write(fd, text, len) : 0;
	if (ret == 0 && n != (ssize_t)len)
		ret = n < 0 ? -errno : -EIO;
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	if (ret < 0) {
		unlink(path);
		mesh_errf(err, err_len, "%s: cannot write key file: %s", path, strerror(-ret));
	}
	return ret;
}
