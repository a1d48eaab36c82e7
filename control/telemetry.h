/* SPDX-License-Identifier: MIT */
/*
 * /wgdp/... commands for DPDK's rte_telemetry socket, so that
 * dpdk-telemetry.py shows the interface, the peers (paged) and the counters.
 * The telemetry thread answers through control/call.h.
 */
#ifndef WG_TELEMETRY_H
#define WG_TELEMETRY_H

struct wgdp;

/* Register the commands (once, after the device is up). 0 or -errno. */
int wg_telemetry_register(struct wgdp *dev);
/* The device goes away: commands answer an error from now on. */
void wg_telemetry_unregister(void);

#endif
