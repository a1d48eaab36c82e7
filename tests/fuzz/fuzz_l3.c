/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for dataplane/l3.c: the outside-frame classifier, the
 * replies built from what it accepts, encapsulation, and the inner-packet
 * parser.
 *
 * The first input byte picks the mode (bits 0-1: raw frame, assisted
 * frame, encap, inner packet) and our address set (bits 2-3); the rest is
 * the frame (or packet, or message). An assisted frame has our MAC, an
 * ethertype, lengths, our address and port and valid checksums written
 * into it first (bits 4-7 choose), so that runs from an empty corpus get
 * past the checksums to the protocol logic. Besides running everything under ASan and
 * UBSan, it aborts on any broken promise:
 *  - classify: the verdict and drop reason are in range, every offset and
 *    length it reports lies inside the frame, a WIREGUARD result is UDP to
 *    our port, learned MACs are unicast;
 *  - replies: each accepted request gets a reply, built the same in place
 *    and out of place; the requester, classifying our reply with its own
 *    addresses, learns our address at our MAC (ARP, NA), and the echo reply
 *    carries valid checksums and the request's data;
 *  - encap: a fuzzed message to a fuzzed endpoint classifies, at the peer,
 *    as WireGuard from us with the same bytes;
 *  - solicitations: our ARP request / NS for a fuzzed target classifies, at
 *    a host owning the target, as a request that learns us;
 *  - inner: a parsed packet's length lies inside the buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/l3.h"

static struct wg_l3_local locals[4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < 4; i++) {
		struct wg_l3_local *l = &locals[i];
		memcpy(l->mac, (const uint8_t[]){ 2, 0, 0, 0, 0, 0x0b }, 6);
		l->has_ipv4 = i != 2;
		inet_pton(AF_INET, "192.0.2.2", l->ipv4);
		l->n_ipv6 = i == 3 ? 0 : 2;
		inet_pton(AF_INET6, "2001:db8::2", l->ipv6[0]);
		inet_pton(AF_INET6, "fe80::b:2", l->ipv6[1]);
		l->port = htons(51820);
	}
	/* a local whose port and addresses are easy to hit by chance */
	locals[1].port = 0;
	inet_pton(AF_INET, "1.1.1.1", locals[1].ipv4);
	return 0;
}

static uint32_t ref_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	return acc;
}

static int ref_ok(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc == 0xffff;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ref_cksum(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/*
 * Help the fuzzer past the fields it cannot guess from an empty corpus:
 * our MAC (or broadcast), an ethertype, IP version and lengths, our
 * address and port, and every checksum, all derived from the input. The
 * result is still just an input; the parser is not told about any of it.
 */
static void assist(uint8_t *f, size_t n, uint8_t mode, const struct wg_l3_local *l)
{
	static const uint16_t types[4] = { 0x0806, 0x0800, 0x86dd, 0x0800 };
	uint16_t type = types[(mode >> 4) & 3];

	if (n < 14)
		return;
	if (mode & 0x80)
		memset(f, 0xff, 6);
	else
		memcpy(f, l->mac, 6);
	f[6] &= 0xfe;
	put16(f + 12, type);
	if (type == 0x0806 && n >= 42) {
		memcpy(f + 14, (const uint8_t[]){ 0, 1, 8, 0, 6, 4, 0 }, 7);
		f[21] = 1 + (f[21] & 1);
		if (mode & 0x40)
			memcpy(f + 38, l->ipv4, 4);
	} else if (type == 0x0800 && n >= 34) {
		size_t tot = n - 14 > 0xffff ? 0xffff : n - 14;
		f[14] = 0x45;
		put16(f + 16, tot);
		if (mode & 0x40)
			memcpy(f + 30, l->ipv4, 4);
		if (f[15] & 0x80) {
			/* leave the L4 checksum as the input has it */
		} else if (f[23] == 17 && tot >= 28) {
			put16(f + 36, ntohs(l->port));
			put16(f + 38, tot - 20);
			f[40] = f[41] = 0;
			uint8_t ph[4] = { 0, 17, (uint8_t)((tot - 20) >> 8), (uint8_t)(tot - 20) };
			put16(f + 40, ref_cksum(ref_add(ref_add(ref_add(0, f + 26, 8), ph, 4), f + 34,
							tot - 20)));
		} else if (f[23] == 1 && tot >= 24) {
			f[36] = f[37] = 0;
			put16(f + 36, ref_cksum(ref_add(0, f + 34, tot - 20)));
		}
		f[24] = f[25] = 0;
		put16(f + 24, ref_cksum(ref_add(0, f + 14, 20)));
	} else if (type == 0x86dd && n >= 54) {
		size_t plen = n - 54 > 0xffff ? 0xffff : n - 54;
		f[14] = (uint8_t)(0x60 | (f[14] & 0x0f));
		put16(f + 18, plen);
		if (mode & 0x40)
			memcpy(f + 38, l->ipv6[0], 16);
		if (f[21] & 1)
			f[21] = 255; /* ND needs it */
		uint8_t ph[8] = { 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, f[20] };
		size_t at = f[20] == 17 ? 6 : 2;
		if (((f[20] == 17 && plen >= 8) || (f[20] == 58 && plen >= 4)) && !(f[15] & 0x80)) {
			if (f[20] == 17) {
				put16(f + 56, ntohs(l->port));
				put16(f + 58, plen);
			}
			f[54 + at] = f[55 + at] = 0;
			put16(f + 54 + at, ref_cksum(ref_add(ref_add(ref_add(0, f + 22, 32), ph, 8),
							     f + 54, plen)));
		}
	}
}

static void check_reply_echo(const uint8_t *req, const struct wg_l3_result *res, const uint8_t *r,
			     size_t n)
{
	if (res->family == AF_INET) {
		if (n != 34 + res->l4_len || r[14] != 0x45 || !ref_ok(ref_add(0, r + 14, 20)) ||
		    r[34] != 0 || !ref_ok(ref_add(0, r + 34, n - 34)) ||
		    memcmp(r + 26, req + 30, 4) || memcmp(r + 30, req + 26, 4))
			abort();
	} else {
		uint8_t ph[8] = { 0, 0, (uint8_t)(res->l4_len >> 8), (uint8_t)res->l4_len, 0, 0, 0, 58 };
		if (n != 54 + res->l4_len || r[54] != 129 ||
		    !ref_ok(ref_add(ref_add(ref_add(0, r + 22, 32), ph, 8), r + 54, n - 54)) ||
		    memcmp(r + 22, req + 38, 16) || memcmp(r + 38, req + 22, 16))
			abort();
	}
	if (memcmp(r + n - res->l4_len + 4, req + res->l4_off + 4, res->l4_len - 4))
		abort(); /* identifier, sequence and data */
}

static void check_replies(const struct wg_l3_local *l, const uint8_t *req, size_t len,
			  const struct wg_l3_result *res)
{
	static uint8_t out[70000], inplace[70000];
	struct wg_l3_local peer = { 0 };
	struct wg_l3_result back;
	ssize_t n, m;

	memcpy(inplace, req, len);
	switch (res->verdict) {
	case WG_L3_ARP_REQUEST:
		n = wg_l3_arp_reply(out, sizeof(out), req, len, res, l);
		m = wg_l3_arp_reply(inplace, sizeof(inplace), inplace, len, res, l);
		if (n != WG_L3_ARP_LEN || m != n || memcmp(out, inplace, (size_t)n))
			abort();
		if (!res->learn.family)
			break; /* a probe from 0.0.0.0: nobody to classify it */
		memcpy(peer.mac, req + 22, 6);
		peer.has_ipv4 = true;
		memcpy(peer.ipv4, req + 28, 4);
		if (wg_l3_classify(&peer, out, (size_t)n, &back) != WG_L3_NEIGH_LEARN ||
		    back.learn.how != WG_NEIGH_LEARN_REPLY || memcmp(back.learn.ip, l->ipv4, 4) ||
		    memcmp(back.learn.mac, l->mac, 6))
			abort();
		break;
	case WG_L3_ND_SOLICIT: {
		static const uint8_t unspec[16];
		bool dad = memcmp(req + 22, unspec, 16) == 0;
		n = wg_l3_nd_advert(out, sizeof(out), req, len, res, l);
		m = wg_l3_nd_advert(inplace, sizeof(inplace), inplace, len, res, l);
		if (n != WG_L3_ND_LEN || m != n || memcmp(out, inplace, (size_t)n))
			abort();
		memcpy(peer.mac, out, 6);
		if (peer.mac[0] & 1)
			peer.mac[0] = 2; /* to all-nodes (DAD): any station */
		peer.n_ipv6 = 1;
		if (dad)
			inet_pton(AF_INET6, "2001:db8::99", peer.ipv6[0]);
		else
			memcpy(peer.ipv6[0], req + 22, 16);
		if (wg_l3_classify(&peer, out, (size_t)n, &back) != WG_L3_NEIGH_LEARN ||
		    back.learn.how != (dad ? WG_NEIGH_LEARN_UNSOLICITED : WG_NEIGH_LEARN_REPLY) ||
		    memcmp(back.learn.ip, req + res->l4_off + 8, 16) || memcmp(back.learn.mac, l->mac, 6))
			abort();
		break;
	}
	case WG_L3_ECHO_REQUEST:
		n = wg_l3_echo_reply(out, sizeof(out), req, len, res, l);
		m = wg_l3_echo_reply(inplace, sizeof(inplace), inplace, len, res, l);
		if (n <= 0 || m != n || memcmp(out, inplace, (size_t)n))
			abort();
		check_reply_echo(req, res, out, (size_t)n);
		break;
	default:
		break;
	}
}

static void fuzz_classify(const struct wg_l3_local *l, const uint8_t *data, size_t size)
{
	struct wg_l3_result res;
	enum wg_l3_verdict v = wg_l3_classify(l, data, size, &res);

	if (v != res.verdict || v > WG_L3_ECHO_REQUEST)
		abort();
	if (v == WG_L3_DROP) {
		if (res.drop >= WG_L3_DROP_MAX || res.learn.family)
			abort();
		return;
	}
	if (res.l3_off != 14)
		abort();
	if (res.family) {
		if (14 + (size_t)res.l3_len > size || res.l4_off < 34 ||
		    (size_t)res.l4_off + res.l4_len != 14 + (size_t)res.l3_len)
			abort();
	} else if (size < WG_L3_ARP_LEN) {
		abort();
	}
	if (v == WG_L3_WIREGUARD) {
		if (res.payload_off != res.l4_off + 8 || res.payload_len + 8 > res.l4_len ||
		    res.src.family != res.family || res.dst.family != res.family ||
		    res.dst.port != l->port)
			abort();
	}
	if (res.learn.family) {
		if ((res.learn.family != AF_INET && res.learn.family != AF_INET6) ||
		    (res.learn.mac[0] & 1) || res.learn.how > WG_NEIGH_LEARN_REQUEST)
			abort();
	}
	check_replies(l, data, size, &res);
}

static void fuzz_encap(const uint8_t *data, size_t size)
{
	static uint8_t frame[70000];
	struct wg_l3_encap_params p = { 0 };
	struct wg_l3_local peer = { 0 };
	struct wg_l3_result res;
	bool v6;

	if (size < 40)
		return;
	v6 = data[0] & 1;
	memcpy(p.src_mac, (const uint8_t[]){ 2, 0, 0, 0, 0, 0x0b }, 6);
	memcpy(p.dst_mac, (const uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
	p.src.family = p.dst.family = v6 ? AF_INET6 : AF_INET;
	memcpy(&p.src.port, data + 1, 2);
	memcpy(&p.dst.port, data + 3, 2);
	memcpy(&p.ip_id, data + 5, 2);
	/* 10.x.y.z / 2001:db8::/32 addresses from the input, distinct */
	memcpy(p.src.addr, data + 7, 16);
	memcpy(p.dst.addr, data + 23, 16);
	if (v6) {
		memcpy(p.src.addr, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		memcpy(p.dst.addr, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	} else {
		p.src.addr[0] = p.dst.addr[0] = 10;
		memset(p.src.addr + 4, 0, 12);
		memset(p.dst.addr + 4, 0, 12);
	}
	if (memcmp(p.src.addr, p.dst.addr, 16) == 0)
		p.dst.addr[15 - (v6 ? 0 : 12)] ^= 1;
	data += 39;
	size -= 39;
	if (size > 9000)
		size = 9000;

	size_t h = wg_l3_encap_len(p.dst.family);
	memcpy(frame + h, data, size);
	ssize_t n = wg_l3_encap(frame, sizeof(frame), size, &p);
	if (n != (ssize_t)(h + size))
		abort();
	memcpy(peer.mac, p.dst_mac, 6);
	peer.port = p.dst.port;
	if (v6) {
		peer.n_ipv6 = 1;
		memcpy(peer.ipv6[0], p.dst.addr, 16);
	} else {
		peer.has_ipv4 = true;
		memcpy(peer.ipv4, p.dst.addr, 4);
	}
	if (wg_l3_classify(&peer, frame, (size_t)n, &res) != WG_L3_WIREGUARD ||
	    res.payload_off != h || res.payload_len != size || memcmp(frame + h, data, size) ||
	    !wg_endpoint_equal(&res.src, &p.src))
		abort();
	/* with offload the NIC finishes the checksums; only the length is ours to check */
	p.flags = WG_L3_ENCAP_IP_CSUM_OFFLOAD | WG_L3_ENCAP_UDP_CSUM_OFFLOAD;
	if (wg_l3_encap(frame, sizeof(frame), size, &p) != n)
		abort();
}

/* our ARP request / NS for a fuzzed target is a request at the target */
static void fuzz_solicit(const struct wg_l3_local *l, const uint8_t *data, size_t size)
{
	uint8_t out[128];
	struct wg_l3_local peer = { 0 };
	struct wg_l3_result res;
	ssize_t n;

	if (size < 16)
		return;
	memcpy(peer.mac, (const uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
	n = wg_l3_arp_request(out, sizeof(out), l, data, (data[0] & 1) ? peer.mac : NULL);
	if (!l->has_ipv4) {
		if (n != -EINVAL)
			abort();
	} else if (n != WG_L3_ARP_LEN) {
		abort();
	} else if (memcmp(data, l->ipv4, 4) != 0) {
		peer.has_ipv4 = true;
		memcpy(peer.ipv4, data, 4);
		if (wg_l3_classify(&peer, out, (size_t)n, &res) != WG_L3_ARP_REQUEST ||
		    res.learn.how != WG_NEIGH_LEARN_REQUEST || memcmp(res.learn.ip, l->ipv4, 4) ||
		    memcmp(res.learn.mac, l->mac, 6))
			abort();
	}
	n = wg_l3_nd_solicit(out, sizeof(out), l, data, (data[1] & 1) ? peer.mac : NULL);
	bool ours = false;
	for (unsigned i = 0; i < l->n_ipv6; i++)
		ours |= memcmp(data, l->ipv6[i], 16) == 0;
	if (!l->n_ipv6 || data[0] == 0xff) {
		if (n != -EINVAL)
			abort();
	} else if (n != WG_L3_ND_LEN) {
		abort();
	} else if (!ours) {
		peer.n_ipv6 = 1;
		memcpy(peer.ipv6[0], data, 16);
		if (wg_l3_classify(&peer, out, (size_t)n, &res) != WG_L3_ND_SOLICIT ||
		    res.learn.how != WG_NEIGH_LEARN_REQUEST || memcmp(res.learn.mac, l->mac, 6))
			abort();
	}
}

static void fuzz_inner(const uint8_t *data, size_t size)
{
	struct wg_l3_inner in;

	if (wg_l3_inner_parse(data, size, &in) != 0)
		return;
	if (in.len > size || (in.family == AF_INET ? in.len < 20 || data[0] >> 4 != 4
						   : in.family != AF_INET6 || in.len < 41 ||
							     data[0] >> 4 != 6))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65600)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	/* an exact-size copy, so reading past size is an ASan error */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	switch (mode % 4) {
	case 1:
		assist(copy, size, mode, &locals[(mode >> 2) & 3]);
		/* fall through */
	case 0:
		fuzz_classify(&locals[(mode >> 2) & 3], copy, size);
		break;
	case 2:
		fuzz_encap(copy, size);
		fuzz_solicit(&locals[(mode >> 2) & 3], copy, size);
		break;
	case 3:
		fuzz_inner(copy, size);
		break;
	}
	free(copy);
	return 0;
}
