/* SPDX-License-Identifier: MIT */
/*
 * Internal to conf/: the parser state and the helpers the section parsers
 * share. config.c reads lines and sections and owns [Interface] and [Peer];
 * config_appliance.c owns [Appliance]. Nothing outside conf/ includes this.
 *
 * Handlers get the value with whitespace removed (as wg removes it) unless
 * their key is WG_CONF_K_RAW, return false after reporting through
 * wg_conf_fail*(), and never echo the value of a WG_CONF_K_SECRET key.
 */
#ifndef WG_CONF_CONFIG_PARSER_H
#define WG_CONF_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "conf/config_index.h"

enum wg_conf_section {
	WG_CONF_SEC_NONE,
	WG_CONF_SEC_INTERFACE,
	WG_CONF_SEC_PEER,
	WG_CONF_SEC_APPLIANCE,
};

/* a value checked only at the end, kept with its line and text */
struct wg_conf_deferred {
	unsigned line; /* 0: not given */
	char text[80];
};

struct wg_conf_peer_lines {
	unsigned section; /* line of "[Peer]" */
	unsigned pubkey;  /* line of its PublicKey; 0 = none yet */
};

/* keys of [Interface] and [Peer] (config.c) and of [Appliance], for seen[] */
#define WG_CONF_MAX_WG_KEYS 32u
#define WG_CONF_MAX_APPLIANCE_KEYS 32u
#define WG_CONF_MAX_KEYS (WG_CONF_MAX_WG_KEYS + WG_CONF_MAX_APPLIANCE_KEYS)

struct wg_conf_parser {
	const char *name;
	const struct wg_conf_parse_opts *opts;
	char *err;
	size_t errlen;
	int ret; /* 0, or the error once one is reported */
	unsigned line;
	enum wg_conf_section sec;
	const struct wg_conf_key *key; /* key of the current line */
	const char *raw;               /* its value as written, trimmed */

	struct wg_conf conf;
	struct wg_conf_peer_lines *plines; /* one per peer */
	size_t cap_plines;
	struct wg_conf_index index;
	unsigned seen[WG_CONF_MAX_KEYS]; /* line of each single-valued key in this section */

	unsigned interface_line, appliance_line, private_key_line;
	bool any_v6; /* an IPv6 Address or allowed IP: MTU >= 1280 */
	struct wg_conf_deferred mtu, outside_addr[2], outside_gw[2], inside_gw[2], inside_iface,
		inside_dev, control, uapi, api_listen, tls_cert, tls_key;
};

#define WG_CONF_K_REPEAT 1u  /* accumulates over lines */
#define WG_CONF_K_SECRET 2u  /* value never echoed */
#define WG_CONF_K_IGNORED 4u /* wg-quick only: accepted, warned about, unused */
#define WG_CONF_K_RAW 8u     /* value as written (trimmed), inner spaces kept: devargs, names */

struct wg_conf_key {
	const char *name;
	enum wg_conf_section sec;
	unsigned flags;
	bool (*parse)(struct wg_conf_parser *p, char *v);
	const char *note; /* for WG_CONF_K_IGNORED and FwMark */
};

/* config_appliance.c */
extern const struct wg_conf_key wg_conf_appliance_keys[];
extern const size_t wg_conf_appliance_n_keys;
/* the checks of [Appliance] that need the whole file; false after reporting */
bool wg_conf_appliance_check(struct wg_conf_parser *p);

/* config.c: reporting. All return false so handlers can `return wg_conf_fail(...)`. */
bool wg_conf_fail_at(struct wg_conf_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define wg_conf_fail(p, ...) wg_conf_fail_at((p), (p)->line, __VA_ARGS__)
/* "Unable to parse Key: `elem' (why)", <redacted> for secret keys */
bool wg_conf_fail_value(struct wg_conf_parser *p, const char *elem, const char *why);
bool wg_conf_fail_nomem(struct wg_conf_parser *p);
void wg_conf_warn_at(struct wg_conf_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* s as a printable excerpt: control bytes as \xNN, long text cut with "..." */
void wg_conf_quote(char *out, size_t outlen, const char *s);
void wg_conf_defer(struct wg_conf_deferred *d, unsigned line, const char *text);

/* config.c: value helpers that report on failure */
bool wg_conf_number(struct wg_conf_parser *p, const char *v, uint64_t lo, uint64_t hi,
		    uint64_t *out);
bool wg_conf_pow2(struct wg_conf_parser *p, const char *v, uint64_t lo, uint64_t hi,
		  uint32_t *out);
/* split v at commas and call one() on each element; empty elements are errors */
bool wg_conf_each_item(struct wg_conf_parser *p, char *v,
		       bool (*one)(struct wg_conf_parser *p, char *item));

#endif
