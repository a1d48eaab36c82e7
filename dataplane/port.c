/* SPDX-License-Identifier: MIT */
/*
 * DPDK port setup and teardown (see port.h). Every step that can fail
 * unwinds the steps before it, in reverse.
 */
#include "dataplane/port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#define DEFAULT_DESC 1024

void wg_port_devargs_name(const char *devargs, char *out, size_t outlen)
{
	size_t n = strcspn(devargs, ",");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, devargs, n);
	out[n] = '\0';
}

/* find the port of a device name; hot-plug devargs first when unknown */
static int find_or_probe(struct wg_port *p, const char *devargs)
{
	uint16_t port_id;
	int ret;

	wg_port_devargs_name(devargs, p->name, sizeof(p->name));
	if (rte_eth_dev_get_port_by_name(p->name, &port_id) == 0) {
		p->port_id = port_id;
		return 0;
	}
	ret = rte_dev_probe(devargs);
	if (ret < 0) {
		RTE_LOG(ERR, USER1, "cannot probe device `%s': %s\n", devargs, strerror(-ret));
		return ret;
	}
	if (rte_eth_dev_get_port_by_name(p->name, &port_id) != 0) {
		RTE_LOG(ERR, USER1, "device `%s' probed but has no ethdev port named `%s'\n",
			devargs, p->name);
		return -ENODEV;
	}
	p->port_id = port_id;
	p->hotplugged = true;
	return 0;
}

static void unplug(struct wg_port *p)
{
	if (p->hotplugged && p->dev)
		rte_dev_remove(p->dev);
	p->hotplugged = false;
	p->dev = NULL;
}

int wg_port_open(struct wg_port *p, const struct wg_port_params *params)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd, txd, q, n_rxq, n_txq;
	struct rte_mempool *pool;
	int ret;

	memset(p, 0, sizeof(*p));
	if (!params->devargs || (!params->pool && !params->pool_for) || !params->n_rxq || !params->n_txq)
		return -EINVAL;
	ret = find_or_probe(p, params->devargs);
	if (ret)
		return ret;

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret)
		goto err_unplug;
	p->dev = info.device;
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name ? info.driver_name : "?");
	n_rxq = params->n_rxq;
	n_txq = params->n_txq;
	if (params->fit_queues) {
		n_rxq = RTE_MIN(n_rxq, info.max_rx_queues);
		n_txq = RTE_MIN(n_txq, info.max_tx_queues);
		if (params->equal_queues)
			n_rxq = n_txq = RTE_MIN(n_rxq, n_txq);
	}
	if (!n_rxq || !n_txq || n_rxq > info.max_rx_queues || n_txq > info.max_tx_queues) {
		RTE_LOG(ERR, USER1, "port %s: %u rx / %u tx queues wanted, device has %u / %u\n",
			p->name, params->n_rxq, params->n_txq, info.max_rx_queues, info.max_tx_queues);
		ret = -ENOTSUP;
		goto err_unplug;
	}
	p->socket_id = rte_eth_dev_socket_id(p->port_id);
	pool = params->pool_for ? params->pool_for(params->pool_ctx, p->socket_id) : params->pool;
	if (!pool) {
		ret = -ENOMEM;
		goto err_unplug;
	}

	memset(&conf, 0, sizeof(conf));
	/* checksum offloads where the port has them; software otherwise */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->tx_ipv4_cksum = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		p->tx_udp_cksum = true;
	}
	if (n_rxq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	ret = rte_eth_dev_configure(p->port_id, n_rxq, n_txq, &conf);
	if (ret)
		goto err_unplug;
	if (params->mtu) {
		ret = rte_eth_dev_set_mtu(p->port_id, params->mtu);
		if (ret && ret != -ENOTSUP) {
			RTE_LOG(ERR, USER1, "port %s: cannot set MTU %u: %s\n", p->name, params->mtu,
				strerror(-ret));
			goto err_close;
		}
	}
	rxd = params->rx_desc ? params->rx_desc : DEFAULT_DESC;
	txd = params->tx_desc ? params->tx_desc : DEFAULT_DESC;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (ret)
		goto err_close;
	for (q = 0; q < n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, q, rxd, p->socket_id, NULL, pool);
		if (ret)
			goto err_close;
	}
	for (q = 0; q < n_txq; q++) {
		struct rte_eth_txconf txconf = info.default_txconf;

		txconf.offloads = conf.txmode.offloads;
		ret = rte_eth_tx_queue_setup(p->port_id, q, txd, p->socket_id, &txconf);
		if (ret)
			goto err_close;
	}
	p->n_rxq = n_rxq;
	p->n_txq = n_txq;
	ret = rte_eth_macaddr_get(p->port_id, &p->mac);
	if (ret)
		goto err_close;
	if (params->promiscuous) {
		ret = rte_eth_promiscuous_enable(p->port_id);
		if (ret && ret != -ENOTSUP)
			goto err_close;
	}
	ret = rte_eth_dev_start(p->port_id);
	if (ret)
		goto err_close;
	p->started = true;
	return 0;

err_close:
	rte_eth_dev_close(p->port_id);
err_unplug:
	unplug(p);
	RTE_LOG(ERR, USER1, "port %s: setup failed: %s\n", p->name, strerror(ret < 0 ? -ret : ret));
	return ret < 0 ? ret : -EIO;
}

void wg_port_close(struct wg_port *p)
{
	if (!p->name[0])
		return;
	if (p->started)
		rte_eth_dev_stop(p->port_id);
	p->started = false;
	rte_eth_dev_close(p->port_id);
	unplug(p);
	p->name[0] = '\0';
}
