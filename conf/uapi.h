/* SPDX-License-Identifier: MIT */
/*
 * The codec of WireGuard's cross-platform userspace API ("UAPI",
 * https://www.wireguard.com/xplatform/), the text protocol wg(8) speaks to
 * wireguard-go over /var/run/wireguard/<iface>.sock. Pure functions on
 * buffers and FILE streams: no sockets, no DPDK, nothing applied here.
 *
 * A request is one operation line and key=value lines up to an empty line:
 *   get=1\n\n                          -> the device as key=value lines, then errno=0\n\n
 *   set=1\n<key=value\n>...\n          -> errno=0\n\n, or errno=-EINVAL\n\n and such
 * Keys are hex (64 digits, either case on input, lower case on output).
 * Numbers, booleans ("true", nothing else) and the order of the get
 * response follow wireguard-go's device/uapi.go; uapi.c lists the details.
 *
 * A set request becomes a struct wg_conf_device delta (conf/config.h), the
 * model the config file and the REST API produce, applied by one function.
 */
#ifndef WG_CONF_UAPI_H
#define WG_CONF_UAPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/config.h"

/* the first line of a request */
enum wg_uapi_op {
	WG_UAPI_INVALID, /* neither: wireguard-go closes the connection without a reply */
	WG_UAPI_GET,     /* "get=1" */
	WG_UAPI_SET,     /* "set=1" */
};

/*
 * Where the first request in buf[0..len) ends: the number of bytes up to and
 * including the '\n' of its first empty line ("\n" or "\r\n"), so 7 for
 * "get=1\n\n"; 0 while no empty line has arrived. A buffer that starts with
 * an empty line gives 1 (an invalid request). The caller bounds len.
 */
size_t wg_uapi_request_len(const char *buf, size_t len);

/* Classify a request by its first line, "get=1\n" or "set=1\n" exactly. */
enum wg_uapi_op wg_uapi_op(const char *req, size_t len);

/*
 * Check a get request: 0 when req[0..len) is exactly "get=1\n\n", else
 * -EINVAL (wireguard-go answers "trailing character in UAPI get" so).
 */
int wg_uapi_parse_get(const char *req, size_t len);

/*
 * Parse a whole set request req[0..len) (as wg_uapi_request_len delimits it,
 * "set=1\n" included) into *out. 0 on success, *out overwritten (its old
 * content is not freed). On failure *out is untouched, nothing is left
 * allocated, and err holds one line "line N: ..." naming the key and, for
 * non-key values, the value (never a key's hex); the return is
 *   -EINVAL  a bad value, an unknown key, a device key among peer lines or a
 *            peer key before any public_key, a NUL byte, a line over
 *            WG_CONF_MAX_LINE bytes, more than WG_CONF_MAX_PEERS peers or
 *            WG_CONF_MAX_ALLOWEDIPS allowed IPs (wireguard-go: IpcErrorInvalid)
 *   -EPROTO  not "set=1", a line without '=', no empty line at the end, or
 *            bytes after it (IpcErrorProtocol)
 *   -ENOMEM
 * The delta: private_key (all zero kept: "remove the key"), listen_port,
 * fwmark and replace_peers set the WG_CONF_DEVICE_ flags; each public_key
 * starts a peer with remove, update_only, preshared_key (all zero: none),
 * endpoint (numeric), persistent_keepalive_interval, replace_allowed_ips,
 * allowed_ip=addr/cidr (host bits masked off) and allowed_ip=-addr/cidr
 * (a prefix flagged WG_CONF_PREFIX_REMOVE_ME). A public key given twice is
 * merged into its first entry, as uapi.c describes. Keys are not clamped.
 */
int wg_uapi_parse_set(const char *req, size_t len, struct wg_conf_device *out, char *err,
		      size_t errlen);

/* what a get response tells about a peer besides its configuration */
struct wg_uapi_peer_stats {
	uint64_t last_handshake_sec, last_handshake_nsec; /* Unix time; 0, 0 = never */
	uint64_t rx_bytes, tx_bytes;
};

/*
 * The device part of a get response: private_key= when HAS_PRIVATE_KEY is
 * set and the key is not all zero, listen_port= when not 0 (pass the bound
 * port), fwmark= when not 0. 0 or -EIO. The stream's buffer then holds the
 * private key: wipe it after sending.
 */
int wg_uapi_write_device(FILE *f, const struct wg_conf_device *dev);

/*
 * One peer of a get response, in wireguard-go's order: public_key,
 * preshared_key (always, all zero when none), protocol_version=1, endpoint
 * (when p->endpoint has a family), last_handshake_time_sec,
 * last_handshake_time_nsec, tx_bytes, rx_bytes,
 * persistent_keepalive_interval, then one allowed_ip= per prefix (those
 * flagged WG_CONF_PREFIX_REMOVE_ME skipped). st NULL means all zero.
 * 0 or -EIO.
 */
int wg_uapi_write_peer(FILE *f, const struct wg_conf_peer *p, const struct wg_uapi_peer_stats *st);

/*
 * The status that ends every reply: "errno=<err>\n\n", err 0 or negative
 * (a positive err is negated), as wireguard-go writes it and wg(8) reads it
 * back as -errno. 0 or -EIO.
 */
int wg_uapi_write_errno(FILE *f, int err);

/*
 * dev as the set request wg(8) would send for it (wireguard-tools'
 * userspace_set_device, plus update_only and allowed_ip=- removals):
 * wg_uapi_parse_set reads it back to an equal delta. 0 or -EIO.
 */
int wg_uapi_write_set(FILE *f, const struct wg_conf_device *dev);

#endif
