/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the Ethernet/ARP/IPv4/UDP parser on arbitrary frames, with and without
 * address filtering. Any parse that succeeds must point inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_net_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mesh_net_addr self = {
		.mac = { 0x02, 0, 0, 0, 0, 0xb }, .ip = 0x0a630002u, .port = 39527,
	};
	struct mesh_net_pkt p;

	for (int filtered = 0; filtered < 2; filtered++) {
		int r = mesh_net_pkt_parse(data, size, filtered ? &self : NULL, &p);
		if (r < 0 || r >= MESH_NET_PKT_DROP_MAX)
			abort();
		if (r == MESH_NET_PKT_OK && p.kind == MESH_NET_PKT_UDP &&
		    (p.payload < data || p.payload + p.payload_len > data + size))
			abort();
	}
	return 0;
}
