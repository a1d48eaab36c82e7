/* SPDX-License-Identifier: MIT */
/*
 * The wg(8) userspace API socket, /var/run/wireguard/<UapiInterface>.sock,
 * so that stock `wg show/set/setconf/syncconf/showconf` and exporters built
 * on them work against wgdp as against wireguard-go. Its own thread accepts
 * connections and parses requests (conf/uapi.c); reads and changes run on the
 * control thread (control/call.h), changes through control/change.c, so a
 * `wg set` is applied whole or not at all and is persisted before `errno=0`.
 */
#ifndef WG_UAPI_SERVER_H
#define WG_UAPI_SERVER_H

#include <stddef.h>

struct wgdp;

/* Listen (when dev->conf.appliance.uapi_name is set). 0 or -errno with err. */
int wg_uapi_server_start(struct wgdp *dev, char *err, size_t errlen);
/* Stop accepting, finish nothing more, remove the socket. Safe when not started. */
void wg_uapi_server_stop(struct wgdp *dev);

#endif
