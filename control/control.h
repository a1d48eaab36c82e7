/* SPDX-License-Identifier: MIT */
/*
 * The control thread (docs/dataplane.md): handshakes, cookies under load,
 * the per-source rate limiter, the timer state machine of every peer, ARP/ND
 * and ICMP echo for our outside addresses, next-hop resolution, and RCU
 * publication and reclamation. Runs on the main lcore until dev->stop.
 */
#ifndef WG_CONTROL_H
#define WG_CONTROL_H

#include <stdio.h>

#include "dataplane/wgdp.h"

/* Set up what only the control thread uses (neighbour table). 0 or -errno. */
int wg_control_setup(struct wgdp *dev);
void wg_control_teardown(struct wgdp *dev);
/* Print ports, queues, lcores and NUMA nodes, as the operator sees them at start. */
void wg_control_print_layout(const struct wgdp *dev, FILE *f);
/* Print every non-zero counter, summed over lcores (at exit, and for debugging). */
void wg_control_print_counters(const struct wgdp *dev, FILE *f);
/* The control loop; returns when dev->stop is set. */
void wg_control_run(struct wgdp *dev);

#endif
