/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole small files (configuration, keys) read into memory, so that their parsers work on
 * a buffer and can be fuzzed as such. One allocation of the bound and unbuffered reads:
 * the contents never sit in a stdio buffer or a freed, reallocated copy, which matters
 * for key files (the caller wipes the buffer; on failure it is wiped here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

int
mesh_file_read(const char *path, size_t max, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int ret = 0;

	if (f == NULL)
		return -errno;
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	setvbuf(f, NULL, _IONBF, 0);
	errno = 0;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		ret = errno != 0 ? -errno : -EIO;
	else if (n > max)
		ret = -EFBIG;
	fclose(f);
	if (ret < 0) {
		explicit_bzero(buf, n);
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}
