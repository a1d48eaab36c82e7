/* SPDX-License-Identifier: MIT */
/*
 * wg_tapif_configure on a real kernel TAP interface, inside a network
 * namespace of the test's own (unshare), so the host is not touched.
 * Needs root (CAP_NET_ADMIN); skipped otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/tapif.h"
#include "tests/harness.h"

static int tap_fd = -1;
static int in_netns;

/* a TAP interface named name in our private namespace; 0 or -errno */
static int make_tap(const char *name)
{
	struct ifreq ifr;

	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap_fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, name);
	if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	return 0;
}

static bool has_addr(const char *ifname, int family, const char *text, unsigned prefixlen)
{
	struct ifaddrs *ifa, *i;
	uint8_t want[16];
	bool found = false;

	inet_pton(family, text, want);
	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, ifname))
			continue;
		const void *a = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		const uint8_t *m = family == AF_INET
					   ? (uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
					   : (uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		unsigned bits = 0;
		for (unsigned b = 0; b < (family == AF_INET ? 4u : 16u); b++)
			bits += (unsigned)__builtin_popcount(m[b]);
		if (memcmp(a, want, family == AF_INET ? 4 : 16) == 0 && bits == prefixlen)
			found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static unsigned get_mtu_flags(const char *ifname, short *flags)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned mtu = 0;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		*flags = ifr.ifr_flags;
	close(s);
	return mtu;
}

static struct wg_tapif_addr addr(int family, const char *text, uint8_t prefixlen)
{
	struct wg_tapif_addr a = { .family = family, .prefixlen = prefixlen };
	inet_pton(family, text, a.addr);
	return a;
}

static void test_configure(void)
{
	struct wg_tapif_addr addrs[] = {
		addr(AF_INET, "198.51.100.1", 24),
		addr(AF_INET6, "fd00:99::1", 64),
		addr(AF_INET6, "2001:db8:99::1", 48),
		addr(AF_INET, "10.77.0.1", 29), /* a second IPv4 address (a pool's gateway) */
	};
	char err[256] = "";
	short flags = 0;
	uint8_t mac[6], zero[6] = { 0 };

	if (!in_netns)
		SKIP_TEST("needs root for a private network namespace");
	CHECK(make_tap("wgtt0") == 0);
	CHECK_MSG(wg_tapif_configure("wgtt0", addrs, 4, 1420, err, sizeof(err)) == 0, "%s", err);
	CHECK(get_mtu_flags("wgtt0", &flags) == 1420);
	CHECK(flags & IFF_UP);
	CHECK(has_addr("wgtt0", AF_INET, "198.51.100.1", 24));
	CHECK(has_addr("wgtt0", AF_INET6, "fd00:99::1", 64));
	CHECK(has_addr("wgtt0", AF_INET6, "2001:db8:99::1", 48));
	CHECK(has_addr("wgtt0", AF_INET, "10.77.0.1", 29));
	CHECK(!has_addr("wgtt0", AF_INET, "198.51.100.2", 24));
	CHECK(wg_tapif_get_mac("wgtt0", mac) == 0);
	CHECK(memcmp(mac, zero, 6) != 0);
	/* configuring again is fine (addresses already there) */
	CHECK_MSG(wg_tapif_configure("wgtt0", addrs, 4, 0, err, sizeof(err)) == 0, "%s", err);
	/* one by one on the running interface, both families; twice is fine */
	{
		struct wg_tapif_addr more[] = { addr(AF_INET, "10.78.0.1", 24), addr(AF_INET6, "fd00:78::1", 64) };

		for (int k = 0; k < 2; k++) {
			CHECK(wg_tapif_addr_add("wgtt0", &more[k]) == 0);
			CHECK(wg_tapif_addr_add("wgtt0", &more[k]) == 0);
		}
		CHECK(has_addr("wgtt0", AF_INET, "10.78.0.1", 24));
		CHECK(has_addr("wgtt0", AF_INET6, "fd00:78::1", 64));
		CHECK(wg_tapif_addr_del("wgtt0", &addrs[3]) == 0);
		CHECK(wg_tapif_addr_del("wgtt0", &more[1]) == 0);
		CHECK(wg_tapif_addr_del("wgtt0", &more[1]) == 0);
		CHECK(!has_addr("wgtt0", AF_INET, "10.77.0.1", 29));
		CHECK(!has_addr("wgtt0", AF_INET6, "fd00:78::1", 64));
		CHECK(has_addr("wgtt0", AF_INET, "198.51.100.1", 24));
		CHECK(has_addr("wgtt0", AF_INET, "10.78.0.1", 24));
		CHECK(wg_tapif_addr_add("nosuchif0", &more[0]) == -ENODEV);
	}
}

static void test_errors(void)
{
	struct wg_tapif_addr bad4 = addr(AF_INET, "192.0.2.1", 33);
	struct wg_tapif_addr bad = { .family = 99 };
	char err[256] = "";

	if (!in_netns)
		SKIP_TEST("needs root for a private network namespace");
	CHECK(wg_tapif_configure("nosuchif0", NULL, 0, 0, err, sizeof(err)) == -ENODEV);
	CHECK(strstr(err, "nosuchif0") != NULL);
	CHECK(wg_tapif_configure("a-name-much-too-long-for-linux", NULL, 0, 0, err, sizeof(err)) ==
	      -ENAMETOOLONG);
	CHECK(wg_tapif_configure("wgtt0", &bad4, 1, 0, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "192.0.2.1/33") != NULL);
	CHECK(wg_tapif_configure("wgtt0", &bad, 1, 0, err, sizeof(err)) == -EAFNOSUPPORT);
	CHECK(wg_tapif_configure("wgtt0", NULL, 0, 70000, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "MTU") != NULL);
}

int main(void)
{
	TEST_BEGIN("dataplane/tapif_test");
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	RUN_TEST(test_configure);
	RUN_TEST(test_errors);
	return TEST_END();
}
