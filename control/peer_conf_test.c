/* SPDX-License-Identifier: MIT */
/*
 * The compact peer configuration (control/peer_conf.h), no EAL needed: for a
 * table of configurations (none to all of the rarely set fields), set on one
 * peer in turn (each replacing the last: extras come and go), the extras
 * block is there exactly when one of its fields is set, and the view and
 * the deep copy give back the configuration that was set, field for field,
 * with the duplicated ones read from the handshake and the disabled flag.
 * Under AddressSanitizer the replacements and the final free show leaks and
 * double frees.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/peer_conf.h"
#include "crypto/secure.h"
#include "dataplane/peer.h"
#include "tests/harness.h"

enum {
	PSK = 1u << 0,
	KEEPALIVE = 1u << 1,
	AIPS = 1u << 2,
	DISABLED = 1u << 3,
	NAME = 1u << 4,
	ENDPOINT = 1u << 5,
	CLIENT_KEY = 1u << 6,
	ADDRESSES = 1u << 7,
	LONG_NAME = 1u << 8,
};

static const struct {
	const char *what;
	unsigned set;
	bool extras;
} cases[] = {
	{ "bare", 0, false },
	{ "psk, keepalive, allowed IPs, disabled", PSK | KEEPALIVE | AIPS | DISABLED, false },
	{ "name", NAME, true },
	{ "addresses only", AIPS | ADDRESSES, false },
	{ "endpoint", ENDPOINT | KEEPALIVE, true },
	{ "client key and addresses", CLIENT_KEY | ADDRESSES | AIPS, true },
	{ "bare again", 0, false },
	{ "everything", PSK | KEEPALIVE | AIPS | DISABLED | LONG_NAME | ENDPOINT | CLIENT_KEY | ADDRESSES, true },
	{ "psk only", PSK, false },
};

static void prefix(struct wg_conf_prefixes *l, uint8_t family, uint8_t cidr, uint8_t b)
{
	struct wg_conf_prefix p = { .family = family, .cidr = cidr };

	p.addr[0] = 10;
	p.addr[3] = b;
	if (family == AF_INET6) {
		p.addr[0] = 0xfd;
		p.addr[15] = b;
	}
	CHECK(wg_conf_prefixes_add(l, &p) == 0);
}

static void make(struct wg_conf_peer *c, unsigned set, unsigned i)
{
	memset(c, 0, sizeof(*c));
	c->flags = WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE;
	memset(c->public_key, 0x40 + (int)i, WG_KEY_LEN);
	if (set & PSK)
		memset(c->preshared_key, 0x11 + (int)i, WG_KEY_LEN);
	if (set & KEEPALIVE)
		c->persistent_keepalive = (uint16_t)(25 + i);
	if (set & AIPS) {
		prefix(&c->allowedips, AF_INET, 24, 0);
		prefix(&c->allowedips, AF_INET6, 128, (uint8_t)i);
	}
	if (set & DISABLED)
		c->disabled = true;
	if (set & NAME)
		strcpy(c->name, "laptop");
	if (set & LONG_NAME)
		memset(c->name, 'n', WG_CONF_PEER_NAME_MAX - 1);
	if (set & ENDPOINT) {
		c->flags |= WG_CONF_PEER_HAS_ENDPOINT;
		c->endpoint.family = AF_INET;
		c->endpoint.port = 0x3351;
		memcpy(c->endpoint.addr, "\xc0\x00\x02\x07", 4);
	}
	if (set & CLIENT_KEY)
		memset(c->client_private_key, 0x70 + (int)i, WG_KEY_LEN);
	if (set & ADDRESSES) {
		prefix(&c->addresses, AF_INET, 32, (uint8_t)(100 + i));
		prefix(&c->allowedips, AF_INET, 32, (uint8_t)(100 + i));
	}
}

static bool same(const struct wg_conf_peer *a, const struct wg_conf_peer *b)
{
	struct wg_conf_device da = { .peers = (struct wg_conf_peer *)a, .n_peers = 1 };
	struct wg_conf_device db = { .peers = (struct wg_conf_peer *)b, .n_peers = 1 };

	return wg_conf_device_equal(&da, &db);
}

static void test_set_view_copy(void)
{
	struct wg_peer *p = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*p));
	static const uint8_t zero[sizeof(struct wg_peer_conf)];

	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_conf_peer conf, want, view, copy;
		struct wg_peer_extras *x = (struct wg_peer_extras *)1;

		make(&conf, cases[i].set, i);
		CHECK(wg_conf_peer_copy(&want, &conf) == 0);
		CHECK_MSG(wg_peer_conf_needs_extras(&conf) == cases[i].extras, "%s", cases[i].what);
		CHECK(wg_peer_conf_extras_new(&conf, &x) == 0);
		CHECK_MSG((x != NULL) == cases[i].extras, "%s", cases[i].what);
		/* what wg_peers_insert and commit_update set outside the compact part */
		wg_noise_handshake_init(&p->hs, NULL, conf.public_key,
					wg_secure_is_zero(conf.preshared_key, WG_KEY_LEN) ? NULL : conf.preshared_key);
		p->disabled = conf.disabled;
		wg_peer_conf_set(p, &conf, x);
		CHECK_MSG(wg_secure_is_zero(&conf, sizeof(conf)), "%s: conf left zeroed", cases[i].what);
		CHECK_MSG(p->conf.extras == x, "%s", cases[i].what);
		CHECK(p->conf.allowedips.cap == p->conf.allowedips.n);

		wg_peer_conf_view(p, &view);
		CHECK_MSG(same(&view, &want), "%s: view", cases[i].what);
		CHECK(view.allowedips.v == p->conf.allowedips.v && view.addresses.v == p->conf.addresses.v);
		wg_secure_wipe(&view, sizeof(view));

		CHECK(wg_peer_conf_copy(p, &copy) == 0);
		CHECK_MSG(same(&copy, &want), "%s: copy", cases[i].what);
		CHECK(!copy.allowedips.n || copy.allowedips.v != p->conf.allowedips.v);
		CHECK(!copy.addresses.n || copy.addresses.v != p->conf.addresses.v);
		wg_conf_peer_free(&copy);
		wg_conf_peer_free(&want);
	}
	wg_peer_conf_free(p);
	CHECK(!memcmp(&p->conf, zero, sizeof(zero)));
	wg_peer_conf_free(p); /* twice: nothing left to free */
	wg_noise_handshake_wipe(&p->hs);
	free(p);
}

/* a configured endpoint is the configuration's, not the live one */
static void test_endpoint_apart(void)
{
	struct wg_peer *p = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*p));
	struct wg_conf_peer conf, view;
	struct wg_peer_extras *x;

	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	make(&conf, ENDPOINT, 0);
	CHECK(wg_peer_conf_extras_new(&conf, &x) == 0 && x);
	wg_peer_conf_set(p, &conf, x);
	p->endpoint.family = AF_INET6; /* roamed */
	p->endpoint.port = 0x1111;
	wg_peer_conf_view(p, &view);
	CHECK(view.flags & WG_CONF_PEER_HAS_ENDPOINT);
	CHECK(view.endpoint.family == AF_INET && view.endpoint.port == 0x3351);
	CHECK(!memcmp(view.endpoint.addr, "\xc0\x00\x02\x07", 4));
	wg_peer_conf_free(p);
	free(p);
}

int main(void)
{
	TEST_BEGIN("control/peer_conf_test");
	RUN_TEST(test_set_view_copy);
	RUN_TEST(test_endpoint_apart);
	return TEST_END();
}
