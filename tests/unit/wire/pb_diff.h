/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential oracle: decode one buffer with the zero-copy reader and with protobuf-c and
 * report the first disagreement (accept/reject or any field). Shared by the unit test and
 * the fuzz target fuzz_wire_pb_diff.
 */
#ifndef PB_DIFF_H
#define PB_DIFF_H

#include <stddef.h>
#include <stdint.h>

enum pb_diff_msg { PB_CRDT_BATCH, PB_STREAM_BATCH, PB_STREAM_ACK, PB_CRDT_ACK, PB_MSG_MAX };

/** NULL when both decoders agree on @p[@len] as message @m, else what differs. */
const char *pb_diff(enum pb_diff_msg m, const uint8_t *p, size_t len);

/** Number of inputs pb_diff() accepted on both sides / rejected on both sides. */
extern uint64_t pb_diff_both_ok, pb_diff_both_bad;

#endif
