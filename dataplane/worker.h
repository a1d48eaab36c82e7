/* SPDX-License-Identifier: MIT */
/*
 * A worker lcore: polls the RX queues it is given on the outside and the
 * inside port, moves WireGuard data messages between them in bursts for the
 * peers it owns and hands the others' packets to their owners
 * (docs/dataplane.md). Handshake messages and ARP/ND/ICMP go to the control
 * thread; requests come back from it (flush staged packets, send a
 * keepalive, purge, give a bucket away, park).
 */
#ifndef WG_WORKER_H
#define WG_WORKER_H

#include "dataplane/wgdp.h"

/* lcore entry point; arg is a struct wg_worker. Returns when dev->stop is set. */
int wg_worker_main(void *arg);
/* wake a parked worker (control thread, and at stop) */
void wg_worker_wake(struct wg_worker *w);

/* the rings between RX queues and workers and between workers (dataplane/handoff.c) */
int wg_handoff_setup(struct wgdp *dev, unsigned ring_size);
void wg_handoff_teardown(struct wgdp *dev);

#endif
