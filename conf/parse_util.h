/* SPDX-License-Identifier: MIT */
/*
 * Value syntax of the config file, shared with the coming UAPI and REST
 * parsers: numbers, addresses, prefixes, endpoints, lcore lists, devargs and
 * interface names, and their canonical text forms.
 *
 * Every parser takes a NUL-terminated value without surrounding whitespace
 * and returns false on bad input, setting *why to a short static reason
 * ("prefix length must be 0-32"). Nothing here allocates or logs.
 */
#ifndef WG_CONF_PARSE_UTIL_H
#define WG_CONF_PARSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "control/endpoint.h"

/* longest text of a prefix: a full IPv6 address, '/', three digits */
#define WG_CONF_PREFIX_STR 48u
/* longest text of an endpoint: '[', IPv6, "]:", five digits */
#define WG_CONF_ENDPOINT_STR 56u

/* Decimal digits only (no sign, no space, at most 20 of them), value <= max. */
bool wg_conf_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why);
/* A literal IPv4 (dotted quad) or IPv6 address. */
bool wg_conf_parse_addr(const char *s, uint8_t *family, uint8_t addr[16], const char **why);
/*
 * addr/cidr. Without "/cidr" the prefix is a host (32 or 128) unless
 * cidr_required. Host bits are kept; see wg_conf_prefix_mask.
 */
bool wg_conf_parse_prefix(const char *s, bool cidr_required, struct wg_conf_prefix *p,
			  const char **why);
/* Clear the bits beyond p->cidr; true when any was set. */
bool wg_conf_prefix_mask(struct wg_conf_prefix *p);
/* true when addr (of net's family) lies inside net */
bool wg_conf_prefix_contains(const struct wg_conf_prefix *net, const uint8_t addr[16]);
/* Not unspecified, multicast or (IPv4) limited broadcast. */
bool wg_conf_addr_is_unicast(uint8_t family, const uint8_t addr[16]);
/* IPv6 fe80::/10 */
bool wg_conf_addr_is_link_local(uint8_t family, const uint8_t addr[16]);

/*
 * host:port or [IPv6]:port, port 1..65535. A host that is not a literal
 * address is resolved with getaddrinfo (first result, no AI_ADDRCONFIG)
 * unless numeric_only. An IPv6 address must be in brackets.
 */
bool wg_conf_parse_endpoint(const char *s, bool numeric_only, struct wg_endpoint *ep,
			    const char **why);

/*
 * An lcore list: "1", "1-3,5". Ids below WG_CONF_MAX_LCORES, no id twice,
 * ranges ascending. out holds up to WG_CONF_MAX_LCORES ids in the order given.
 */
bool wg_conf_parse_lcores(const char *s, uint16_t out[WG_CONF_MAX_LCORES], unsigned *n,
			  const char **why);

/*
 * DPDK devargs: a PCI address (0000:3b:00.0 or 3b:00.0) or a device name
 * (net_tap0, net_af_packet0), optionally followed by ",key=value" arguments;
 * printable, no spaces, shorter than WG_CONF_DEVARGS_MAX.
 */
bool wg_conf_check_devargs(const char *s, const char **why);
/* A Linux interface name: 1..15 characters, no '/', ':' or space, not "." or "..". */
bool wg_conf_check_ifname(const char *s, const char **why);

/* Text forms, NUL-terminated; they parse back to the same value. */
void wg_conf_format_addr(char out[WG_CONF_PREFIX_STR], uint8_t family, const uint8_t addr[16]);
void wg_conf_format_prefix(char out[WG_CONF_PREFIX_STR], const struct wg_conf_prefix *p);
void wg_conf_format_endpoint(char out[WG_CONF_ENDPOINT_STR], const struct wg_endpoint *ep);
/* "1-3,5": consecutive ascending runs of three or more as ranges; out needs 8 * n + 1 bytes. */
void wg_conf_format_lcores(char *out, size_t outlen, const uint16_t *ids, unsigned n);

#endif
