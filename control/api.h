/* SPDX-License-Identifier: MIT */
/*
 * The REST API (docs/api.md, docs/openapi.json) and /metrics, on
 * libmicrohttpd with its own thread, when [Appliance] ApiTokenFile is set.
 * Requests are parsed and authenticated on libmicrohttpd's thread; they are
 * answered on the control thread (control/call.h), changes through
 * control/change.c.
 */
#ifndef WG_API_H
#define WG_API_H

#include <stddef.h>

struct wgdp;

/* Start listening on ApiListen. 0 (also when the API is off) or -errno with err. */
int wg_api_start(struct wgdp *dev, char *err, size_t errlen);
void wg_api_stop(struct wgdp *dev);

#endif
