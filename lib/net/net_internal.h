/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/net private interfaces between the ARP and the rx/tx files. */
#ifndef MESH_NET_INTERNAL_H
#define MESH_NET_INTERNAL_H

#include "mesh_net.h"

struct mesh_net_neigh *net_neigh_find(struct mesh_net_port *p, uint32_t ip, bool create,
				      uint64_t now_ns);
/** Rx stage: a valid frame from @ip came from @mac; pass it on to the tx stage's table. */
/* rx: @ip has a resolved neighbour entry at another MAC than @mac (drop the frame) */
bool net_neigh_mac_mismatch(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac);
void net_neigh_learn_post(struct mesh_net_port *p, uint32_t ip, const uint8_t *mac,
			  uint64_t now_ns);
/** /mesh/neighbours (mesh_net_neigh_tel.c): show @p's table; fini forgets it. */
int net_neigh_tel_init(const struct mesh_net_port *p);
void net_neigh_tel_fini(const struct mesh_net_port *p);
void net_arp_resolve(struct mesh_net_port *p, struct mesh_net_neigh *n, struct rte_mbuf *m,
		     uint64_t now_ns);

/** Queue a complete frame for transmission. */
void net_tx_enqueue_raw(struct mesh_net_port *p, struct rte_mbuf *m);
/** Write the Ethernet destination of a built UDP frame and queue it. */
void net_tx_enqueue_resolved(struct mesh_net_port *p, struct rte_mbuf *m,
			     const struct rte_ether_addr *dst);

/**
 * Rx fault injection (mesh_net_fault_rx.c): create the state for @spec on @socket (seed
 * from the spec, else from the clock; logged). 0 or -errno.
 */
int net_fault_init(struct mesh_net_port *p, const struct mesh_net_fault_spec *spec,
		   int socket);
/** Free every held frame and the state. */
void net_fault_fini(struct mesh_net_port *p);
/**
 * Apply the faults to the *@n valid frames in @frames (room for MESH_NET_BURST), then
 * append due held frames. Returns the number of frames released from the delay queue.
 */
uint16_t net_fault_rx(struct mesh_net_port *p, uint64_t now_ns, struct rte_mbuf **frames,
		      uint16_t *n);

#endif
