/* SPDX-License-Identifier: MIT */
/*
 * The configuration model as JSON (Jansson): the peer and interface objects
 * of the REST API (docs/api.md) and the records of the state file. One codec
 * for both, so what the API accepts and what the state file holds cannot
 * drift apart.
 *
 * Field names are wg(8)'s in snake_case: public_key, preshared_key,
 * endpoint, allowed_ips, persistent_keepalive, listen_port, fwmark, private_key,
 * plus wgdp's own: name, enabled, addresses (the client's tunnel addresses),
 * address_pools. Keys are standard base64 as wg writes them.
 *
 * Parsing is strict: an unknown field, a field of the wrong type, a bad key,
 * endpoint or CIDR (host bits set included) is an error naming the field and
 * the value (never a secret), and the output is left empty. Parsers produce
 * deltas (conf/config.h flags), the same that the UAPI and the config file
 * produce, for control/change.c.
 */
#ifndef WG_CONF_MODEL_JSON_H
#define WG_CONF_MODEL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "conf/config.h"

/* how much a writer writes */
enum {
	WG_JSON_SECRETS = 1u << 0, /* preshared_key, client_private_key, private_key (state file) */
};

/* what a parser accepts */
enum wg_json_mode {
	WG_JSON_CREATE, /* POST /peers: a new peer; public_key optional (the caller generates one) */
	WG_JSON_PATCH,  /* PATCH: any subset of the writable fields; public_key not allowed */
	WG_JSON_STATE,  /* a state file record: everything, secrets included */
};

/*
 * A peer's configuration. Without WG_JSON_SECRETS: public_key, name,
 * enabled, has_preshared_key, endpoint (configured; null when none),
 * persistent_keepalive, allowed_ips, addresses, server_generated_key.
 * NULL on ENOMEM.
 */
json_t *wg_json_from_peer(const struct wg_conf_peer *p, unsigned flags);

/*
 * Parse a peer object into a delta (*out zeroed by the caller). CREATE and
 * PATCH accept: public_key (CREATE only), preshared_key (base64, "generate",
 * or null / "" for none), name, enabled, endpoint ("addr:port", numeric),
 * persistent_keepalive (0-65535), allowed_ips (replaces the list), addresses
 * (host addresses; replaces the list). Fields the API only reports
 * (latest_handshake, rx_bytes, ...) are refused as read-only. STATE
 * accepts what wg_json_from_peer(WG_JSON_SECRETS) writes. 0, -EINVAL (a bad
 * value: err "allowed_ips: entry 2 `10.0.0.1/24' has host bits set"),
 * -ENOENT (an unknown field), -EROFS (a field that may not be written here),
 * -ENOMEM; err always starts with the field's name.
 * *generate_psk (may be NULL) is set when preshared_key is "generate".
 */
int wg_json_to_peer(const json_t *o, enum wg_json_mode mode, struct wg_conf_peer *out, bool *generate_psk,
		    char *err, size_t errlen);

/*
 * The interface: device fields of d (private_key with WG_JSON_SECRETS
 * only), addresses and address_pools (as prefixes) of in. NULL on ENOMEM.
 */
json_t *wg_json_from_interface(const struct wg_conf_device *d, const struct wg_conf_inside *in, unsigned flags);

/*
 * Parse an interface object into deltas (*d and *in zeroed by the caller):
 * private_key (base64 or "generate": *generate_key), listen_port, fwmark,
 * address_pools (replaces them), addresses (the inside interface's, as the
 * config file's Address: host bits kept; replaces them). Read-only fields
 * (public_key, mtu, peers, ...) are refused in PATCH; an all-zero private
 * key too (only the state file may record "no key"). 0, -EINVAL, -ENOENT,
 * -EROFS, -ENOMEM, as for peers.
 */
int wg_json_to_interface(const json_t *o, enum wg_json_mode mode, struct wg_conf_device *d,
			 struct wg_conf_inside *in, bool *generate_key, char *err, size_t errlen);

/* Parse one CIDR string as the API takes it (host bits must be zero). */
bool wg_json_parse_cidr(const char *s, struct wg_conf_prefix *out, const char **why);

#endif
