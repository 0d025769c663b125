/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential: the zero-copy reader and protobuf-c must agree (accept/reject and every
 * field) on arbitrary bytes. Byte 0 picks the message (CrdtBatch, StreamBatch, StreamAck,
 * CrdtAck); any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d;

	if (size < 1)
		return 0;
	d = pb_diff((enum pb_diff_msg)(data[0] % PB_MSG_MAX), data + 1, size - 1);
	if (d != NULL) {
		fprintf(stderr, "zero-copy vs protobuf-c: %s\n", d);
		abort();
	}
	return 0;
}
