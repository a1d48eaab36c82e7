/* SPDX-License-Identifier: MIT */
/* Kernel-side configuration of the inside TAP interface (see tapif.h). */
#include "dataplane/tapif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* <linux/ipv6.h>'s struct, which clashes with glibc's headers */
struct in6_ifreq {
	struct in6_addr ifr6_addr;
	uint32_t ifr6_prefixlen;
	int ifr6_ifindex;
};

static int fail(char *err, size_t errlen, int ret, const char *ifname, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", ifname, what, strerror(-ret));
	return ret;
}

static int ifreq_init(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	if (strlen(ifname) >= sizeof(ifr->ifr_name))
		return -ENAMETOOLONG;
	strcpy(ifr->ifr_name, ifname);
	return 0;
}

/* /proc/sys/net/ipv6/conf/<if>/accept_dad = 0; absent IPv6 is not an error */
static int disable_dad(const char *ifname)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (write(fd, "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * IPv4 addresses go through rtnetlink (RTM_NEWADDR), as `ip addr add` does:
 * the SIOCSIFADDR ioctl keeps one IPv4 address per interface, and wg-quick's
 * Address may list several (the inside network, the pools' gateways).
 */
static int nl_addr(unsigned ifindex, const struct wg_tapif_addr *a, int type)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char reply[512];
	struct rtattr *rta;
	ssize_t n;
	int fd, ret = 0;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = (uint16_t)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = a->prefixlen;
	req.ifa.ifa_index = ifindex;
	for (unsigned i = 0; i < 2; i++) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = i ? IFA_ADDRESS : IFA_LOCAL;
		rta->rta_len = RTA_LENGTH(4);
		memcpy(RTA_DATA(rta), a->addr, 4);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
	} else if ((n = recv(fd, reply, sizeof(reply), 0)) < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		ret = n < 0 ? -errno : -EPROTO;
	} else {
		struct nlmsghdr *h = (struct nlmsghdr *)reply;

		if (h->nlmsg_type == NLMSG_ERROR)
			ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		if ((ret == -EEXIST && type == RTM_NEWADDR) || (ret == -EADDRNOTAVAIL && type == RTM_DELADDR))
			ret = 0; /* already there / already gone: fine */
	}
	close(fd);
	return ret;
}

static int add_v4(unsigned ifindex, const struct wg_tapif_addr *a)
{
	return nl_addr(ifindex, a, RTM_NEWADDR);
}

static int add_v6(int sock6, unsigned ifindex, const struct wg_tapif_addr *a)
{
	struct in6_ifreq r;

	memset(&r, 0, sizeof(r));
	memcpy(&r.ifr6_addr, a->addr, 16);
	r.ifr6_prefixlen = a->prefixlen;
	r.ifr6_ifindex = (int)ifindex;
	if (ioctl(sock6, SIOCSIFADDR, &r) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int wg_tapif_configure(const char *ifname, const struct wg_tapif_addr *addrs, size_t n, unsigned mtu,
		       char *err, size_t errlen)
{
	struct ifreq ifr;
	int sock = -1, sock6 = -1, ret;
	unsigned ifindex;
	size_t i;

	ret = ifreq_init(&ifr, ifname);
	if (ret)
		return fail(err, errlen, ret, ifname, "interface name");
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return fail(err, errlen, -errno, ifname, "no such interface");
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return fail(err, errlen, -errno, ifname, "socket");

	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
			ret = fail(err, errlen, -errno, ifname, "set MTU");
			goto out;
		}
	}
	ret = disable_dad(ifname);
	if (ret) {
		fail(err, errlen, ret, ifname, "disable IPv6 DAD");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct wg_tapif_addr *a = &addrs[i];

		if (a->family == AF_INET) {
			ret = add_v4(ifindex, a);
		} else if (a->family == AF_INET6) {
			if (sock6 < 0)
				sock6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			ret = sock6 < 0 ? -errno : add_v6(sock6, ifindex, a);
		} else {
			ret = -EAFNOSUPPORT;
		}
		if (ret) {
			char text[INET6_ADDRSTRLEN] = "?";

			inet_ntop(a->family, a->addr, text, sizeof(text));
			snprintf(err, errlen, "%s: add address %s/%u: %s", ifname, text, a->prefixlen,
				 strerror(-ret));
			goto out;
		}
	}
	ifreq_init(&ifr, ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		ret = fail(err, errlen, -errno, ifname, "get flags");
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
		ret = fail(err, errlen, -errno, ifname, "set up");
		goto out;
	}
	ret = 0;
out:
	if (sock6 >= 0)
		close(sock6);
	close(sock);
	return ret;
}

/* one address more or less, on a running interface */
static int change_addr(const char *ifname, const struct wg_tapif_addr *a, bool add)
{
	unsigned ifindex = if_nametoindex(ifname);
	struct in6_ifreq r;
	int sock, ret = 0;

	if (!ifindex)
		return -errno;
	if (a->family == AF_INET)
		return a->prefixlen > 32 ? -EINVAL : nl_addr(ifindex, a, add ? RTM_NEWADDR : RTM_DELADDR);
	if (a->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (a->prefixlen > 128)
		return -EINVAL;
	sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	memcpy(&r.ifr6_addr, a->addr, 16);
	r.ifr6_prefixlen = a->prefixlen;
	r.ifr6_ifindex = (int)ifindex;
	if (ioctl(sock, add ? SIOCSIFADDR : SIOCDIFADDR, &r) < 0 &&
	    !(add ? errno == EEXIST : errno == EADDRNOTAVAIL))
		ret = -errno;
	close(sock);
	return ret;
}

int wg_tapif_addr_add(const char *ifname, const struct wg_tapif_addr *a)
{
	return change_addr(ifname, a, true);
}

int wg_tapif_addr_del(const char *ifname, const struct wg_tapif_addr *a)
{
	return change_addr(ifname, a, false);
}

int wg_tapif_get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int sock, ret = 0;

	if (ifreq_init(&ifr, ifname))
		return -ENAMETOOLONG;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(sock);
	return ret;
}
