/* SPDX-License-Identifier: MIT */
/*
 * A worker lcore: polls its queue on the outside and the inside port and
 * moves WireGuard data messages between them in bursts (docs/dataplane.md).
 * Handshake messages and ARP/ND/ICMP go to the control thread; requests come
 * back from it (flush staged packets, send a keepalive, purge).
 */
#ifndef WG_WORKER_H
#define WG_WORKER_H

#include "dataplane/wgdp.h"

/* lcore entry point; arg is a struct wg_worker. Returns when dev->stop is set. */
int wg_worker_main(void *arg);

#endif
