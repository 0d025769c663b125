/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive fault injection, the DPDK half (testing only). On the rx stage, after a frame
 * passed parsing and the frame check and before it goes on (to the merge role directly or
 * through the rx->merge ring), each valid frame gets a verdict from the pure decision
 * (mesh_net_fault.c): drop, pass, pass plus a copy, and a delay. Copies are made with
 * rte_pktmbuf_copy (later stages may modify headers in place) plus the metadata in the
 * private area. Delayed frames wait in a bounded min-heap keyed by release time
 * (mesh_net_delayq.c); when it is full a frame passes at once and is counted. Due frames
 * are released on every rx poll, also when the port delivered nothing, and the poll loop
 * caps its idle sleep at the next release (mesh_net_fault_next_ns). ARP never comes here.
 * Counters: fault_drop, fault_dup, fault_delay, fault_queue_full.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "net_internal.h"

struct mesh_net_fault_rx {
	struct mesh_net_fault_spec spec;
	struct mesh_rng rng;
	struct mesh_net_delayq q;
	struct mesh_net_delayq_slot slots[MESH_NET_FAULT_QUEUE_CAP];
};

int
net_fault_init(struct mesh_net_port *p, const struct mesh_net_fault_spec *spec, int socket)
{
	struct mesh_net_fault_rx *f;
	char text[128];

	f = rte_zmalloc_socket("mesh_net_fault", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL)
		return -ENOMEM;
	f->spec = *spec;
	if (!f->spec.has_seed)
		f->spec.seed = mesh_time_mono_ns() ^ ((uint64_t)p->self.ip << 32);
	mesh_rng_seed(&f->rng, f->spec.seed);
	mesh_net_delayq_create(&f->q, f->slots, MESH_NET_FAULT_QUEUE_CAP);
	p->fault = f;
	MESH_RTE_LOG(WARNING, net, "port %u: rx fault injection on (testing only): %s",
		     p->port_id, mesh_net_fault_spec_format(&f->spec, text, sizeof(text)));
	return 0;
}

void
net_fault_fini(struct mesh_net_port *p)
{
	struct rte_mbuf *m;

	if (p->fault == NULL)
		return;
	while ((m = mesh_net_delayq_pop_due(&p->fault->q, UINT64_MAX)) != NULL)
		rte_pktmbuf_free(m);
	rte_free(p->fault);
	p->fault = NULL;
}

uint64_t
mesh_net_fault_next_ns(const struct mesh_net_port *p)
{
	return p->fault != NULL ? mesh_net_delayq_next_ns(&p->fault->q) : UINT64_MAX;
}

static struct rte_mbuf *
frame_copy(struct mesh_net_port *p, struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, p->pool, 0, UINT32_MAX);

	if (c != NULL)
		memcpy(mesh_net_meta(c), mesh_net_meta(m), sizeof(struct mesh_net_meta));
	return c;
}

uint16_t
net_fault_rx(struct mesh_net_port *p, uint64_t now_ns, struct rte_mbuf **frames, uint16_t *n)
{
	struct mesh_net_fault_rx *f = p->fault;
	struct rte_mbuf *dups[MESH_NET_BURST], *m;
	uint64_t dup_due[MESH_NET_BURST];
	uint64_t c_drop = 0, c_dup = 0, c_delay = 0, c_full = 0;
	uint16_t n_in = *n, n_out = 0, n_dup = 0, released = 0;
	uint64_t *ctr;

	/* originals first: at most n_in of them pass now, so they always fit */
	for (uint16_t i = 0; i < n_in; i++) {
		struct mesh_net_fault_verdict v;

		m = frames[i];
		if (mesh_net_fault_decide(&f->spec, &f->rng, now_ns, &v) == MESH_NET_FAULT_DROP) {
			rte_pktmbuf_free(m);
			c_drop++;
			continue;
		}
		if (v.dups > 0) {
			struct rte_mbuf *c = frame_copy(p, m);

			if (c != NULL) {
				dups[n_dup] = c;
				dup_due[n_dup++] = v.release_ns;
				c_dup++;
			} else {
				c_full++; /* no mbuf for the copy */
			}
		}
		if (v.delay_ns > 0) {
			if (mesh_net_delayq_push(&f->q, v.release_ns, m) == 0) {
				c_delay++;
				continue;
			}
			c_full++;
		}
		frames[n_out++] = m;
	}
	/* then copies: held with their original, else now, else (burst full) next poll */
	for (uint16_t i = 0; i < n_dup; i++) {
		m = dups[i];
		if (dup_due[i] > now_ns) {
			if (mesh_net_delayq_push(&f->q, dup_due[i], m) == 0) {
				c_delay++;
				continue;
			}
			c_full++;
		}
		if (n_out < MESH_NET_BURST) {
			frames[n_out++] = m;
		} else if (mesh_net_delayq_push(&f->q, now_ns, m) < 0) {
			rte_pktmbuf_free(m);
			c_full++;
		}
	}
	/* due frames, earliest first, as far as the burst has room (the rest: next poll) */
	while (n_out < MESH_NET_BURST && (m = mesh_net_delayq_pop_due(&f->q, now_ns)) != NULL) {
		mesh_net_meta(m)->rx_ns = now_ns;
		frames[n_out++] = m;
		released++;
	}
	*n = n_out;
	if (c_drop | c_dup | c_delay | c_full) {
		ctr = mesh_net_ctr(p);
		mesh_counter_add(&ctr[MESH_NET_CTR_fault_drop], c_drop);
		mesh_counter_add(&ctr[MESH_NET_CTR_fault_dup], c_dup);
		mesh_counter_add(&ctr[MESH_NET_CTR_fault_delay], c_delay);
		mesh_counter_add(&ctr[MESH_NET_CTR_fault_queue_full], c_full);
	}
	return released;
}
