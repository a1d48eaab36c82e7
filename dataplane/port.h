/* SPDX-License-Identifier: MIT */
/*
 * DPDK ports: open a port from its devargs (a PCI address, or a vdev spec
 * such as "net_af_packet0,iface=veth0" or "net_tap0,iface=wgdp0"), configure
 * its queues on the NUMA node it sits on, start it, and close it again.
 *
 * A device that EAL already probed (-a / --vdev on the command line) is used
 * as it is; otherwise it is hot-plugged with rte_dev_probe() and removed on
 * close. Setup runs on the main thread before the lcores start.
 */
#ifndef WG_PORT_H
#define WG_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

struct wg_port_params {
	const char *devargs;        /* required */
	uint16_t n_rxq, n_txq;      /* at least 1 each */
	uint16_t rx_desc, tx_desc;  /* 0: the driver's preference, else 1024 */
	uint16_t mtu;               /* 0: leave the port's MTU */
	struct rte_mempool *pool;   /* rx buffers; or, when pool_for is set, ... */
	struct rte_mempool *(*pool_for)(void *ctx, int socket); /* ... the pool of the port's NUMA node */
	void *pool_ctx;
	bool promiscuous;           /* inside TAP: take frames for any MAC */
	bool fit_queues;            /* fewer queues than asked when the device has fewer */
	bool equal_queues;          /* as many RX as TX queues (net_tap) */
};

struct wg_port {
	uint16_t port_id;
	int socket_id;              /* NUMA node, SOCKET_ID_ANY when unknown */
	struct rte_ether_addr mac;
	char name[64];              /* DPDK device name */
	char driver[32];
	bool hotplugged;            /* we probed it, so we remove it */
	struct rte_device *dev;     /* for removal after close */
	bool started;
	bool tx_ipv4_cksum;         /* offloads we enabled */
	bool tx_udp_cksum;
	uint16_t n_rxq, n_txq;
};

/* Open, configure and start a port. 0 or -errno; on error nothing is left open. */
int wg_port_open(struct wg_port *p, const struct wg_port_params *params);
/* Stop and close the port, and remove it when we hot-plugged it. Idempotent. */
void wg_port_close(struct wg_port *p);
/* The device name of devargs (the part before the first ','), into out. */
void wg_port_devargs_name(const char *devargs, char *out, size_t outlen);

#endif
