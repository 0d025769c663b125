/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/node's environment over mbufs (see struct mesh_net_node_io in mesh_net.h).
 * In: the rx stage already opened each frame in place (decrypted when keyed) and stored
 * its sender, source and payload offset in the mbuf metadata, so a node frame is a view
 * of the mbuf; mesh_net_node_input frees the mbufs after mesh_node_input returns.
 * Out: one copy of each payload into a fresh mbuf, sealed there, then handed to the tx
 * stage in one burst (ring) or queued on the port directly (run to completion).
 */
#include <string.h>

#include "mesh_handoff.h"
#include "mesh_net.h"
#include "mesh_node.h"

void
mesh_net_node_frames(struct rte_mbuf *const *m, unsigned n, struct mesh_node_frame *out)
{
	for (unsigned i = 0; i < n; i++) {
		const struct mesh_net_meta *meta = mesh_net_meta(m[i]);

		out[i] = (struct mesh_node_frame){
			.sender = meta->sender_id,
			.peer = { .ip = meta->peer_ip, .port = meta->peer_port },
			.type = meta->type,
			.payload = mesh_net_frame_payload(m[i]),
			.len = meta->payload_len,
		};
	}
}

void
mesh_net_node_input(struct mesh_node *node, struct rte_mbuf **m, unsigned n, uint64_t now_ns)
{
	struct mesh_node_frame frames[MESH_NET_BURST];

	for (unsigned done = 0; done < n;) {
		unsigned k = MESH_MIN(n - done, (unsigned)MESH_NET_BURST);

		mesh_net_node_frames(m + done, k, frames);
		mesh_node_input(node, frames, k, now_ns);
		/* zero copy: the node read the payloads in place; only now may they go */
		rte_pktmbuf_free_bulk(m + done, k);
		done += k;
	}
}

/* One sealed datagram for @f, or NULL (counted by lib/net or here). */
static struct rte_mbuf *
seal(struct mesh_net_node_io *io, const struct mesh_node_frame *f)
{
	size_t size = mesh_wire_frame_size(f->len, io->frame_flags);
	struct mesh_wire_hdr h = { .type = f->type, .length = (uint16_t)f->len };
	struct rte_mbuf *m;
	uint8_t *frame;

	if (size > UINT16_MAX) {
		mesh_counter_add(&mesh_net_ctr(io->port)[MESH_NET_CTR_tx_drop_too_big], 1);
		return NULL;
	}
	m = mesh_net_udp_alloc(io->port, (uint16_t)size, &frame);
	if (m == NULL)
		return NULL; /* tx_drop_nombuf / tx_drop_too_big */
	memcpy(mesh_wire_frame_payload(frame), f->payload, f->len);
	h.seq = ++io->tx_seq;
	if (mesh_wire_frame_seal(io->sec, frame, size, &h) == 0) {
		rte_pktmbuf_free(m);
		mesh_counter_add(&mesh_net_ctr(io->port)[MESH_NET_CTR_tx_drop_too_big], 1);
		return NULL;
	}
	mesh_net_udp_prepare(io->port, m, f->peer.ip, f->peer.port);
	return m;
}

void
mesh_net_node_send(struct mesh_net_node_io *io, const struct mesh_node_frame *frames,
		   unsigned n, uint64_t now_ns)
{
	struct rte_mbuf *out[MESH_NODE_TX_BATCH];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = seal(io, &frames[i]);

		if (m == NULL)
			continue;
		if (io->to_tx == NULL)
			mesh_net_tx_submit(io->port, m, now_ns);
		else
			out[k++] = m;
		if (k == MESH_NODE_TX_BATCH) {
			mesh_handoff_put(io->to_tx, out, k);
			k = 0;
		}
	}
	if (k > 0)
		mesh_handoff_put(io->to_tx, out, k);
}
