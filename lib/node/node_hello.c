/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HELLO diagnostic (meshd --peer): a HELLO is answered with HELLO_REPLY =
 * [u8 name length][name][the start of the HELLO payload echoed], exactly as long as the
 * HELLO (<= 256 B echoed), so a spoofed HELLO never makes the node send more than it got;
 * a HELLO too short for the replier's name and an 8-byte echo is not answered
 * (node_rx_hello_short). The node greets its configured peers every hello_interval_ns with
 * an 8-byte send time padded to HELLO_LEN and derives the round trip from the echo.
 * Independent of membership: it checks that frames flow.
 */
#include <string.h>

#include "node_internal.h"

#define ECHO_MAX 256
#define HELLO_LEN (1 + MESH_NODE_NAME_MAX + 8) /* room for any replier's name + the time */

static void
reply(struct mesh_node *n, const struct mesh_node_frame *f)
{
	uint8_t out[1 + MESH_NODE_NAME_MAX + ECHO_MAX];
	size_t name_len = strlen(n->cfg.name);
	size_t echo;

	if ((size_t)f->len < 1 + name_len + 8) { /* no reply larger than the request */
		NODE_CTR(n, node_rx_hello_short);
		return;
	}
	echo = MESH_MIN((size_t)f->len - 1 - name_len, (size_t)ECHO_MAX);
	out[0] = (uint8_t)name_len;
	memcpy(out + 1, n->cfg.name, name_len);
	memcpy(out + 1 + name_len, f->payload, echo);
	node_tx_put(n, &f->peer, MESH_WIRE_TYPE_HELLO_REPLY, out, 1 + name_len + echo);
}

static void
reply_input(struct mesh_node *n, const struct mesh_node_frame *f)
{
	uint64_t sent;

	if (f->len < 1 || (size_t)f->payload[0] + 1 + 8 > f->len)
		return; /* not one of ours: counted, nothing to learn */
	memcpy(&sent, f->payload + 1 + f->payload[0], 8);
	for (unsigned i = 0; i < n->cfg.n_hello; i++) {
		struct node_hello_peer *p = &n->hello[i];

		if (p->addr.ip != f->peer.ip || p->addr.port != f->peer.port)
			continue;
		mesh_counter_add(&p->replies, 1);
		__atomic_store_n(&p->last_rtt_ns, n->now > sent ? n->now - sent : 0,
				 __ATOMIC_RELAXED);
	}
}

void
node_hello_input(struct mesh_node *n, const struct mesh_node_frame *f)
{
	if (f->type == MESH_WIRE_TYPE_HELLO) {
		NODE_CTR(n, node_rx_hello);
		reply(n, f);
	} else {
		NODE_CTR(n, node_rx_hello_reply);
		reply_input(n, f);
	}
}

void
node_hello_tick(struct mesh_node *n, uint64_t now_ns)
{
	uint8_t hello[HELLO_LEN];

	if (n->cfg.n_hello == 0 || now_ns < n->next_hello_ns)
		return;
	n->next_hello_ns = now_ns + n->cfg.hello_interval_ns;
	memset(hello, 0, sizeof(hello));
	memcpy(hello, &now_ns, 8);
	for (unsigned i = 0; i < n->cfg.n_hello; i++) {
		node_tx_put(n, &n->hello[i].addr, MESH_WIRE_TYPE_HELLO, hello, sizeof(hello));
		NODE_CTR(n, node_tx_hello);
	}
}

void
mesh_node_hello_stats(const struct mesh_node *n, struct mesh_node_hello_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->peers = n->cfg.n_hello;
	for (unsigned i = 0; i < n->cfg.n_hello; i++) {
		if (__atomic_load_n(&n->hello[i].replies, __ATOMIC_RELAXED) > 0)
			out->answering++;
		out->rtt_max_ns = MESH_MAX(out->rtt_max_ns,
					   __atomic_load_n(&n->hello[i].last_rtt_ns,
							   __ATOMIC_RELAXED));
	}
}
