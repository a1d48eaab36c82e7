/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and cookie replies (WireGuard paper sections 5.3 and 5.4.4/7,
 * the kernel's cookie.c).
 *
 *   mac1   = MAC(HASH("mac1----" || S_receiver), msg[0 : len - 32])
 *   cookie = MAC(R_secret, source address || source port)   R_secret: 120 s
 *   mac2   = MAC(cookie, msg[0 : len - 16])
 *   reply  = type 3 | receiver index | nonce(24) |
 *            XAEAD(HASH("cookie--" || S_responder), nonce, cookie, ad = mac1)
 *
 * mac1 lets a responder drop, for the price of one BLAKE2s, every handshake
 * message from someone who does not know its public key. Under load mac2
 * proves the sender can receive at its source address (it got the cookie
 * there) before the responder spends a DH on it; the rate limiter keys on
 * that address. The reply's associated data ties it to the one message it
 * answers, so a cookie cannot be injected by someone who did not see mac1.
 *
 * MACs are compared in constant time. Failed operations leave the maker
 * unchanged. Time is an argument. The maker keeps no key: mac1's and the
 * cookie's keys for a peer are derived from its public key when used (one
 * BLAKE2s each; the checker, one per interface, keeps its own).
 */
#include "control/cookie.h"

#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/secure.h"

_Static_assert(WG_BLAKE2S_MAC_LEN == WG_MAC_LEN && WG_MAC_LEN == WG_COOKIE_LEN, "mac length");
_Static_assert(WG_XAEAD_NONCE_LEN == WG_XNONCE_LEN, "xnonce length");

#define LABEL_LEN 8u

/* key = HASH(label || public) */
static void precompute_key(uint8_t key[WG_KEY_LEN], const uint8_t public[WG_KEY_LEN], const char *label)
{
	wg_blake2s_hash2(key, label, LABEL_LEN, public, WG_KEY_LEN);
}

/* older than max_age at now (the kernel's wg_birthdate_has_expired) */
static bool expired(uint64_t birth_ns, uint64_t max_age_ns, uint64_t now_ns)
{
	return now_ns >= birth_ns && now_ns - birth_ns >= max_age_ns;
}

/* mac1 covers the message up to mac1 */
static void compute_mac1(uint8_t mac[WG_MAC_LEN], const uint8_t *msg, size_t len, const uint8_t key[WG_KEY_LEN])
{
	wg_blake2s_mac(mac, key, WG_KEY_LEN, msg, WG_MSG_MAC1_OFFSET(len));
}

/* mac2 covers the message up to mac2, mac1 included */
static void compute_mac2(uint8_t mac[WG_MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[WG_COOKIE_LEN])
{
	wg_blake2s_mac(mac, cookie, WG_COOKIE_LEN, msg, WG_MSG_MAC2_OFFSET(len));
}

/*
 * cookie = MAC(secret, address || port). A secret older than 120 s (or none
 * yet) is replaced first, which is what makes old cookies stop working.
 */
static void make_cookie(struct wg_cookie_checker *c, uint8_t cookie[WG_COOKIE_LEN],
			const struct wg_endpoint *src, uint64_t now_ns)
{
	uint8_t bytes[18];
	size_t n;

	if (!c->secret_valid || expired(c->secret_birth_ns, WG_COOKIE_SECRET_MAX_AGE, now_ns)) {
		wg_secure_random(c->secret, sizeof(c->secret));
		c->secret_birth_ns = now_ns;
		c->secret_valid = true;
	}
	n = wg_endpoint_cookie_bytes(src, bytes);
	wg_blake2s_mac(cookie, c->secret, sizeof(c->secret), bytes, n);
	wg_secure_wipe(bytes, sizeof(bytes));
}

/* a handshake message must at least hold its header and both macs */
static bool plausible_len(size_t len)
{
	return len >= sizeof(struct wg_msg_header) + sizeof(struct wg_msg_macs);
}

void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t local_public[WG_KEY_LEN])
{
	wg_secure_wipe(c, sizeof(*c));
	/* as the kernel: without an identity the keys stay zero */
	if (wg_secure_is_zero(local_public, WG_KEY_LEN))
		return;
	precompute_key(c->cookie_encryption_key, local_public, WG_LABEL_COOKIE);
	precompute_key(c->message_mac1_key, local_public, WG_LABEL_MAC1);
}

void wg_cookie_checker_wipe(struct wg_cookie_checker *c)
{
	wg_secure_wipe(c, sizeof(*c));
}

void wg_cookie_maker_init(struct wg_cookie_maker *m)
{
	wg_secure_wipe(m, sizeof(*m));
}

void wg_cookie_mac1_key(uint8_t key[WG_KEY_LEN], const uint8_t public[WG_KEY_LEN])
{
	precompute_key(key, public, WG_LABEL_MAC1);
}

void wg_cookie_cookie_key(uint8_t key[WG_KEY_LEN], const uint8_t public[WG_KEY_LEN])
{
	precompute_key(key, public, WG_LABEL_COOKIE);
}

void wg_cookie_maker_wipe(struct wg_cookie_maker *m)
{
	wg_secure_wipe(m, sizeof(*m));
}

enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
					    const struct wg_endpoint *src, bool check_cookie, uint64_t now_ns)
{
	const struct wg_msg_macs *macs;
	enum wg_cookie_mac_state ret = WG_COOKIE_INVALID_MAC;
	uint8_t computed[WG_MAC_LEN], cookie[WG_COOKIE_LEN];

	if (!plausible_len(len))
		return WG_COOKIE_INVALID_MAC;
	macs = (const struct wg_msg_macs *)(msg + WG_MSG_MAC1_OFFSET(len));

	compute_mac1(computed, msg, len, c->message_mac1_key);
	if (!wg_secure_equal(computed, macs->mac1, WG_MAC_LEN))
		goto out;
	ret = WG_COOKIE_VALID_MAC_BUT_NO_COOKIE;
	/* a cookie is bound to an address: without one there is none to check */
	if (!check_cookie || !wg_endpoint_addr_len(src))
		goto out;

	make_cookie(c, cookie, src, now_ns);
	compute_mac2(computed, msg, len, cookie);
	if (!wg_secure_equal(computed, macs->mac2, WG_MAC_LEN))
		goto out;
	ret = WG_COOKIE_VALID_MAC_WITH_COOKIE;
out:
	wg_secure_wipe(computed, sizeof(computed));
	wg_secure_wipe(cookie, sizeof(cookie));
	return ret;
}

/*
 * mac1 always; mac2 only with a cookie younger than 120 - 5 s (the latency
 * margin keeps us from sending a cookie the responder's secret rotation is
 * about to invalidate), else zeros. mac1 is remembered: a cookie reply to
 * this message carries it as associated data.
 */
void wg_cookie_add_macs(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN], uint8_t *msg,
			size_t len, uint64_t now_ns)
{
	struct wg_msg_macs *macs;
	uint8_t key[WG_KEY_LEN];

	if (!plausible_len(len))
		return;
	macs = (struct wg_msg_macs *)(msg + WG_MSG_MAC1_OFFSET(len));

	precompute_key(key, remote_public, WG_LABEL_MAC1);
	compute_mac1(macs->mac1, msg, len, key);
	wg_secure_wipe(key, sizeof(key));
	memcpy(m->last_mac1_sent, macs->mac1, WG_MAC_LEN);
	m->have_sent_mac1 = true;

	if (m->cookie_valid && !expired(m->cookie_birth_ns, WG_COOKIE_MAX_AGE, now_ns))
		compute_mac2(macs->mac2, msg, len, m->cookie);
	else
		memset(macs->mac2, 0, WG_MAC_LEN);
}

int wg_cookie_create_reply(struct wg_cookie_checker *c, struct wg_msg_cookie *dst, const uint8_t *msg,
			   size_t len, uint32_t sender_index, const struct wg_endpoint *src, uint64_t now_ns)
{
	const struct wg_msg_macs *macs;
	uint8_t cookie[WG_COOKIE_LEN];

	if (!plausible_len(len) || !wg_endpoint_addr_len(src))
		return -EINVAL;
	macs = (const struct wg_msg_macs *)(msg + WG_MSG_MAC1_OFFSET(len));

	memset(dst, 0, sizeof(*dst));
	dst->header.type = WG_MSG_HANDSHAKE_COOKIE;
	wg_le32_write(&dst->receiver_index, sender_index);
	/* random nonce: XChaCha20's 192 bits make collisions negligible */
	wg_secure_random(dst->nonce, sizeof(dst->nonce));
	make_cookie(c, cookie, src, now_ns);
	wg_xaead_encrypt(dst->encrypted_cookie, cookie, sizeof(cookie), macs->mac1, WG_MAC_LEN, dst->nonce,
			 c->cookie_encryption_key);
	wg_secure_wipe(cookie, sizeof(cookie));
	return 0;
}

int wg_cookie_consume_reply(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN],
			    const struct wg_msg_cookie *src, uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN], key[WG_KEY_LEN];
	int ret;

	/* only a reply to a message we sent (and only once) */
	if (!m->have_sent_mac1)
		return -EINVAL;
	precompute_key(key, remote_public, WG_LABEL_COOKIE);
	ret = wg_xaead_decrypt(cookie, src->encrypted_cookie, sizeof(src->encrypted_cookie), m->last_mac1_sent,
			       WG_MAC_LEN, src->nonce, key);
	wg_secure_wipe(key, sizeof(key));
	if (ret) {
		wg_secure_wipe(cookie, sizeof(cookie));
		return -EBADMSG;
	}
	memcpy(m->cookie, cookie, sizeof(cookie));
	m->cookie_birth_ns = now_ns;
	m->cookie_valid = true;
	m->have_sent_mac1 = false;
	wg_secure_wipe(cookie, sizeof(cookie));
	return 0;
}
