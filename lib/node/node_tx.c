/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output batching. lib/swim and lib/stream produce one payload at a time; the node copies
 * each into a slot of one buffer (MESH_NODE_TX_BATCH slots of max_payload bytes) and hands
 * the whole batch to env->send when it is full and at the end of every entry point, so
 * the environment sees one call per batch, never one per packet.
 */
#include <string.h>

#include "node_internal.h"

void
node_tx_flush(struct mesh_node *n)
{
	if (n->tx.n == 0)
		return;
	n->env->send(n->ctx, n->tx.frames, n->tx.n);
	n->tx.n = 0;
}

/* The next free slot's buffer (flushing a full batch first). */
static uint8_t *
slot(struct mesh_node *n, const struct mesh_node_addr *to, uint8_t type, size_t len)
{
	struct mesh_node_frame *f;

	if (n->tx.n == MESH_NODE_TX_BATCH)
		node_tx_flush(n);
	f = &n->tx.frames[n->tx.n];
	f->sender = n->id;
	f->peer = *to;
	f->type = type;
	f->len = (uint32_t)len;
	f->payload = n->tx.buf + (size_t)n->tx.n * n->cfg.max_payload;
	return (uint8_t *)(uintptr_t)f->payload;
}

void
node_tx_put(struct mesh_node *n, const struct mesh_node_addr *to, uint8_t type,
	    const uint8_t *payload, size_t len)
{
	if (len > n->cfg.max_payload) {
		NODE_CTR(n, node_tx_drop_too_big);
		return;
	}
	memcpy(slot(n, to, type, len), payload, len);
	n->tx.n++;
	NODE_CTR(n, node_tx_frames);
}

void
node_tx_swim(struct mesh_node *n, const struct mesh_node_addr *to, const uint8_t *blob,
	     size_t len)
{
	struct mesh_wire_msgw w;
	uint8_t *buf;

	if (len + MESH_WIRE_REC_HDR_LEN > n->cfg.max_payload) {
		NODE_CTR(n, node_tx_drop_too_big);
		return;
	}
	buf = slot(n, to, MESH_WIRE_TYPE_MSGS, 0);
	mesh_wire_msgw_init(&w, buf, n->cfg.max_payload);
	mesh_wire_msgw_add(&w, MESH_WIRE_KIND_SWIM, blob, len);
	n->tx.frames[n->tx.n].len = (uint32_t)w.len;
	n->tx.n++;
	NODE_CTR(n, node_tx_frames);
}
