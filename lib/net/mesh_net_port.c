/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port bring-up for lib/net: mempool, one rx and one tx queue, start, MAC, counters.
 * Works with any ethdev (PCI NIC or vdev such as net_af_packet, net_tap, net_memif,
 * net_ring); offloads are not required because the builders write full checksums.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"
#include "net_internal.h"

static const char *counter_names[MESH_NET_CTR_MAX];
static const char *counter_descs[MESH_NET_CTR_MAX];
static char drop_names[MESH_NET_CTR_MAX - MESH_NET_CTR_PKT_DROP_BASE][48];

static const char *const plain_names[] = { MESH_NET_COUNTERS(MESH_COUNTER_NAME) };
static const char *const plain_descs[] = { MESH_NET_COUNTERS(MESH_COUNTER_DESC) };
_Static_assert(MESH_ARRAY_SIZE(plain_names) == MESH_NET_CTR_PKT_DROP_BASE,
	       "plain counter list matches the enum");

/* the per-cause drop counters are named and described from their causes, once */
static void
counters_describe(void)
{
	if (counter_names[0] != NULL)
		return;
	for (unsigned i = 0; i < MESH_NET_CTR_PKT_DROP_BASE; i++) {
		counter_names[i] = plain_names[i];
		counter_descs[i] = plain_descs[i];
	}
	for (int d = 1; d < MESH_NET_PKT_DROP_MAX; d++) {
		unsigned idx = MESH_NET_CTR_PKT_DROP_BASE + d - 1;
		char *n = drop_names[idx - MESH_NET_CTR_PKT_DROP_BASE];
		snprintf(n, sizeof(drop_names[0]), "rx_drop_%s", mesh_net_pkt_drop_name(d));
		counter_names[idx] = n;
		counter_descs[idx] = mesh_net_pkt_drop_desc(d);
	}
	for (int e = 1; e < MESH_WIRE_ERR_MAX; e++) {
		unsigned idx = MESH_NET_CTR_FRAME_DROP_BASE + e - 1;
		char *n = drop_names[idx - MESH_NET_CTR_PKT_DROP_BASE];
		snprintf(n, sizeof(drop_names[0]), "rx_drop_frame_%s", mesh_wire_err_name(e));
		counter_names[idx] = n;
		counter_descs[idx] = mesh_wire_counter_descs[mesh_wire_err_counter(e)];
	}
}

const char *const *
mesh_net_counter_names(void)
{
	counters_describe();
	return counter_names;
}

const char *const *
mesh_net_counter_descs(void)
{
	counters_describe();
	return counter_descs;
}

uint64_t *
mesh_net_ctr(struct mesh_net_port *p)
{
	unsigned lc = rte_lcore_id();

	return mesh_counters_row(&p->ctr, lc < RTE_MAX_LCORE ? lc : RTE_MAX_LCORE);
}

/*
 * The MAC meshd answers ARP with. An override is programmed into the port; ports that
 * cannot take it (net_ring) or that report no address (all zero) get a software MAC,
 * random and locally administered when none was given, and are put in promiscuous mode
 * so frames for it are still delivered.
 */
static int
port_mac(const struct mesh_net_port_cfg *cfg, struct rte_ether_addr *mac)
{
	static const uint8_t zero[6];
	int ret;

	if (memcmp(cfg->mac, zero, 6) != 0) {
		memcpy(mac->addr_bytes, cfg->mac, 6);
		ret = rte_eth_dev_default_mac_addr_set(cfg->port_id, mac);
		if (ret == 0)
			return 0;
	} else {
		ret = rte_eth_macaddr_get(cfg->port_id, mac);
		if (ret < 0)
			return ret;
		if (!rte_is_zero_ether_addr(mac))
			return 0;
		rte_eth_random_addr(mac->addr_bytes);
	}
	MESH_RTE_LOG(NOTICE, net, "port %u: using software MAC " RTE_ETHER_ADDR_PRT_FMT
		     " in promiscuous mode", cfg->port_id, RTE_ETHER_ADDR_BYTES(mac));
	ret = rte_eth_promiscuous_enable(cfg->port_id);
	return ret == -ENOTSUP ? 0 : ret;
}

/* One rx and one tx queue, then start; on failure *@stage names the step that failed. */
static int
port_start(const struct mesh_net_port_cfg *cfg, struct rte_mempool *pool, int socket,
	   bool rx_intr, const char **stage)
{
	struct rte_eth_conf conf = { .intr_conf.rxq = rx_intr };
	uint16_t nrx = cfg->n_rxd ? cfg->n_rxd : 1024, ntx = cfg->n_txd ? cfg->n_txd : 1024;
	int ret;

	*stage = "configure";
	ret = rte_eth_dev_configure(cfg->port_id, 1, 1, &conf);
	if (ret == 0) {
		*stage = "descriptors";
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(cfg->port_id, &nrx, &ntx);
	}
	if (ret == 0) {
		*stage = "rx queue";
		ret = rte_eth_rx_queue_setup(cfg->port_id, 0, nrx, socket, NULL, pool);
	}
	if (ret == 0) {
		*stage = "tx queue";
		ret = rte_eth_tx_queue_setup(cfg->port_id, 0, ntx, socket, NULL);
	}
	if (ret == 0) {
		*stage = "start";
		ret = rte_eth_dev_start(cfg->port_id);
	}
	return ret;
}

int
mesh_net_port_init(struct mesh_net_port *p, const struct mesh_net_port_cfg *cfg)
{
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	const char *stage;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	int ret, socket;

	memset(p, 0, sizeof(*p));
	p->port_id = cfg->port_id;
	p->self.ip = cfg->ip;
	p->self.port = cfg->udp_port;
	p->cluster_id = cfg->cluster_id;
	p->drop_log = (struct mesh_ratelimit)MESH_RATELIMIT_INIT(MESH_NS_PER_SEC, 5);

	if (!rte_eth_dev_is_valid_port(cfg->port_id)) {
		MESH_RTE_LOG(ERR, net, "port %u does not exist (%u ports available; add a --vdev "
			     "or bind a NIC)", cfg->port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	ret = mesh_counters_create(&p->ctr, mesh_net_counter_names(), mesh_net_counter_descs(),
				   MESH_NET_CTR_MAX, RTE_MAX_LCORE + 1);
	if (ret < 0)
		return ret;

	socket = rte_eth_dev_socket_id(cfg->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	snprintf(pool_name, sizeof(pool_name), "mesh_pool_%u", cfg->port_id);
	p->pool = rte_pktmbuf_pool_create(pool_name, (cfg->n_mbufs ? cfg->n_mbufs : 4095) +
					  (cfg->fault != NULL ? MESH_NET_FAULT_QUEUE_CAP : 0), 256,
					  RTE_ALIGN(sizeof(struct mesh_net_meta), RTE_MBUF_PRIV_ALIGN),
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p->pool == NULL) {
		ret = -rte_errno;
		MESH_RTE_LOG(ERR, net, "mbuf pool: %s (raise -m or lower n_mbufs)",
			     rte_strerror(rte_errno));
		goto fail;
	}
	if (cfg->fault != NULL) {
		ret = net_fault_init(p, cfg->fault, socket);
		if (ret < 0)
			goto fail;
	}

	ret = rte_eth_dev_info_get(cfg->port_id, &info);
	if (ret < 0)
		goto fail;
	/* Rx interrupts let event polling block; a PMD that cannot have them runs without */
	ret = port_start(cfg, p->pool, socket, !cfg->no_rx_intr, &stage);
	if (ret < 0 && !cfg->no_rx_intr) {
		MESH_RTE_LOG(INFO, net, "port %u: %s with Rx interrupts failed (%s), retrying "
			     "without", cfg->port_id, stage, strerror(-ret));
		ret = port_start(cfg, p->pool, socket, false, &stage);
	}
	if (ret < 0) {
		MESH_RTE_LOG(ERR, net, "port %u: %s: %s", cfg->port_id, stage, strerror(-ret));
		goto fail;
	}
	ret = port_mac(cfg, &mac);
	if (ret < 0)
		goto fail_started;
	memcpy(p->self.mac, mac.addr_bytes, 6);
	MESH_RTE_LOG(INFO, net, "port %u (%s) up, mac " RTE_ETHER_ADDR_PRT_FMT,
		     cfg->port_id, info.driver_name, RTE_ETHER_ADDR_BYTES(&mac));
	if (net_neigh_tel_init(p) < 0)
		MESH_RTE_LOG(WARNING, net, "/mesh/neighbours not registered");
	return 0;

fail_started:
	rte_eth_dev_stop(cfg->port_id);
fail:
	net_fault_fini(p);
	rte_mempool_free(p->pool);
	p->pool = NULL;
	mesh_counters_destroy(&p->ctr);
	return ret < 0 ? ret : -EIO;
}

void
mesh_net_port_fini(struct mesh_net_port *p)
{
	net_neigh_tel_fini(p);
	for (unsigned i = 0; i < MESH_NET_ARP_SLOTS; i++) {
		struct mesh_net_neigh *n = &p->neigh[i];
		rte_pktmbuf_free_bulk(n->hold, n->n_hold);
		n->n_hold = 0;
	}
	rte_pktmbuf_free_bulk(p->tx_buf, p->tx_n);
	p->tx_n = 0;
	net_fault_fini(p);
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->pool);
	p->pool = NULL;
	/* counters stay readable until the caller destroys them after telemetry stops */
}
