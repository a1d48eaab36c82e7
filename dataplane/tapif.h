/* SPDX-License-Identifier: MIT */
/*
 * The kernel side of the inside TAP interface: give it wg-quick's Address
 * list and MTU and bring it up, so the host routes peers' allowed IPs into
 * the tunnel. Plain Linux ioctls and rtnetlink, no DPDK.
 */
#ifndef WG_TAPIF_H
#define WG_TAPIF_H

#include <stddef.h>
#include <stdint.h>

struct wg_tapif_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order; IPv4 in the first 4 bytes */
	uint8_t prefixlen;
};

/*
 * Set the MTU (when mtu != 0), turn off IPv6 duplicate address detection on
 * the interface (its addresses are ours by configuration, and usable at once),
 * add each address (an address already present is fine) and bring the link
 * up. 0 or -errno, with a message in err.
 */
int wg_tapif_configure(const char *ifname, const struct wg_tapif_addr *addrs, size_t n, unsigned mtu,
		       char *err, size_t errlen);
/*
 * Add or remove one address on a configured interface (a REST API change of
 * the inside addresses). Adding one that is there, or removing one that is
 * not, is fine. 0 or -errno.
 */
int wg_tapif_addr_add(const char *ifname, const struct wg_tapif_addr *a);
int wg_tapif_addr_del(const char *ifname, const struct wg_tapif_addr *a);
/* The interface's hardware address. 0 or -errno. */
int wg_tapif_get_mac(const char *ifname, uint8_t mac[6]);

#endif
