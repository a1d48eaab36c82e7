/* SPDX-License-Identifier: MIT */
/*
 * mac1/mac2 and cookie replies (WireGuard paper section 5.4.4, 5.4.7).
 *
 * Every handshake message carries mac1 = MAC(HASH("mac1----" || Spub_receiver),
 * msg up to mac1), which proves the sender knows our public key. Under load the
 * responder also demands mac2 = MAC(cookie, msg up to mac2), where
 * cookie = MAC(Rm, source address || port) and Rm is a secret rotated every
 * 120 s; a sender without a valid cookie gets a cookie reply instead of a
 * response, the cookie encrypted with XChaCha20-Poly1305 under
 * HASH("cookie--" || Spub_responder) with the message's mac1 as associated data.
 *
 * The checker is the receiving side (one per interface, control thread); it
 * keeps its two keys. The maker is the sending side (one per peer): it keeps
 * no key, the functions that need one derive it from the peer's public key
 * passed in (one BLAKE2s, about 0.3 us: cheaper than 64 bytes a peer).
 * Time is an argument.
 */
#ifndef WG_COOKIE_H
#define WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../dataplane/messages.h"
#include "endpoint.h"

struct wg_cookie_checker {
	uint8_t secret[WG_COOKIE_SECRET_LEN];
	uint64_t secret_birth_ns;
	bool secret_valid;
	uint8_t cookie_encryption_key[WG_KEY_LEN];
	uint8_t message_mac1_key[WG_KEY_LEN];
};

struct wg_cookie_maker {
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_birth_ns;
	bool cookie_valid;
	bool have_sent_mac1;
	uint8_t last_mac1_sent[WG_MAC_LEN];
};

enum wg_cookie_mac_state {
	WG_COOKIE_INVALID_MAC,            /* drop */
	WG_COOKIE_VALID_MAC_BUT_NO_COOKIE, /* under load: answer with a cookie reply */
	WG_COOKIE_VALID_MAC_WITH_COOKIE,  /* under load: process, subject to the rate limiter */
};

/* local_public: our static public key (or all zeros when we have none). */
void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t local_public[WG_KEY_LEN]);
void wg_cookie_checker_wipe(struct wg_cookie_checker *c);
/* An empty maker (no cookie, nothing sent). */
void wg_cookie_maker_init(struct wg_cookie_maker *m);
void wg_cookie_maker_wipe(struct wg_cookie_maker *m);

/* The keys: mac1 key = HASH("mac1----" || public), cookie key = HASH("cookie--" || public). */
void wg_cookie_mac1_key(uint8_t key[WG_KEY_LEN], const uint8_t public[WG_KEY_LEN]);
void wg_cookie_cookie_key(uint8_t key[WG_KEY_LEN], const uint8_t public[WG_KEY_LEN]);

/*
 * Check the macs of a handshake message (initiation or response; len is its
 * exact size). With check_cookie false only mac1 is checked; with it true
 * mac2 must also match the cookie for src. Rotates the secret when older than
 * 120 s.
 */
enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
					    const struct wg_endpoint *src, bool check_cookie, uint64_t now_ns);

/*
 * Fill mac1 (keyed for remote_public, the receiver's static public key) and
 * mac2 (when we hold a cookie younger than 115 s, else zeros) of an outgoing
 * handshake message, and remember mac1 for the cookie reply.
 */
void wg_cookie_add_macs(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN], uint8_t *msg,
			size_t len, uint64_t now_ns);

/*
 * Build the cookie reply to msg (a handshake message from src, whose sender
 * index is sender_index, host order). 0 or -errno.
 */
int wg_cookie_create_reply(struct wg_cookie_checker *c, struct wg_msg_cookie *dst, const uint8_t *msg,
			   size_t len, uint32_t sender_index, const struct wg_endpoint *src, uint64_t now_ns);

/*
 * Take a cookie reply from the peer with static key remote_public addressed
 * to the handshake message we last sent with this maker. 0, -EINVAL (we sent
 * nothing that wants a cookie) or -EBADMSG (does not authenticate); the
 * maker is unchanged on error.
 */
int wg_cookie_consume_reply(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN],
			    const struct wg_msg_cookie *src, uint64_t now_ns);

#endif
