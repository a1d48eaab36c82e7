/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake as WireGuard uses it
 * (WireGuard paper section 5.4; the kernel's noise.c). Pure: buffers in,
 * buffers out, time as an argument, no locks (the caller serialises access to
 * a handshake; in wgdp the control thread owns them all).
 *
 * Initiator                                Responder
 *   wg_noise_create_initiation  -- 1 -->    wg_noise_consume_initiation
 *   wg_noise_consume_response   <-- 2 --    wg_noise_create_response
 *   wg_noise_derive_keypair                 wg_noise_derive_keypair
 *
 * mac1/mac2 are not touched here: cookie.h adds and checks them. Indices are
 * chosen by the caller (who owns the index table) and passed in host order.
 * Every failed consume leaves the handshake exactly as it was (a garbage
 * response does not clear a pending initiation).
 *
 * Ephemeral state. What a handshake needs only while it is in flight (our
 * ephemeral private key, the peer's ephemeral, the running hash and chaining
 * key: 128 bytes) lives in a struct wg_noise_ephemeral the caller provides
 * and hangs on hs->eph, so that a peer with no handshake in flight holds
 * none. The rule, for any caller:
 * - before wg_noise_create_initiation, and in the lookup callback of
 *   wg_noise_consume_initiation (for the handshake it returns), hs->eph must
 *   point at storage (the one already there when a handshake is pending, or
 *   fresh zeroed storage); without it those fail with -ENOMEM, hs unchanged;
 * - the functions here read and write *hs->eph but never change hs->eph;
 * - state != WG_HANDSHAKE_ZEROED implies hs->eph != NULL;
 * - whenever the state is WG_HANDSHAKE_ZEROED, *hs->eph holds no secret
 *   (derive_keypair and clear wipe it; a failed consume that started from
 *   ZEROED never wrote it), so the caller may take the storage back then
 *   (hs->eph = NULL) and must not before: wg_noise_handshake_pending() says
 *   which;
 * - wg_noise_handshake_init and _wipe set hs->eph to NULL (wipe wipes
 *   *hs->eph first): take the storage back before, or lose it.
 * The appliance takes them from a slab (control/peers.c).
 */
#ifndef WG_NOISE_H
#define WG_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "../dataplane/keypair.h"
#include "../dataplane/messages.h"

enum wg_noise_state {
	WG_HANDSHAKE_ZEROED,
	WG_HANDSHAKE_CREATED_INITIATION,
	WG_HANDSHAKE_CONSUMED_INITIATION,
	WG_HANDSHAKE_CREATED_RESPONSE,
	WG_HANDSHAKE_CONSUMED_RESPONSE,
};

/* our static identity */
struct wg_noise_identity {
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	bool has_identity;
};

/* the state of a handshake in flight (see "Ephemeral state" above) */
struct wg_noise_ephemeral {
	uint8_t ephemeral_private[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
};

/* per-peer handshake state */
struct wg_noise_handshake {
	enum wg_noise_state state;
	uint32_t local_index;
	uint32_t remote_index;
	bool has_consumed_initiation;                  /* last_initiation_consumption_ns is set */
	uint8_t latest_timestamp[WG_TIMESTAMP_LEN];    /* newest TAI64N accepted from the peer */
	uint64_t last_initiation_consumption_ns;
	uint8_t remote_static[WG_KEY_LEN];
	uint8_t precomputed_static_static[WG_KEY_LEN]; /* DH(Spriv_local, Spub_remote); zero = unusable */
	uint8_t preshared_key[WG_KEY_LEN];             /* zeros when none */
	struct wg_noise_ephemeral *eph;                /* the caller's storage; NULL when none */
};

/* A handshake is in flight: hs->eph holds its state and must stay. */
static inline bool wg_noise_handshake_pending(const struct wg_noise_handshake *hs)
{
	return hs->state != WG_HANDSHAKE_ZEROED;
}

/* Set (or with private_key NULL, clear) our identity. 0 or -EINVAL. */
int wg_noise_identity_set(struct wg_noise_identity *id, const uint8_t *private_key);
void wg_noise_identity_wipe(struct wg_noise_identity *id);

/*
 * Prepare the handshake state of a peer with static key remote_static and
 * optional preshared key psk (NULL = none). Precomputes DH(local, remote); a
 * low-order remote key leaves it zero and every handshake with the peer
 * fails. Re-run after our identity changes.
 */
void wg_noise_handshake_init(struct wg_noise_handshake *hs, const struct wg_noise_identity *id,
			     const uint8_t remote_static[WG_KEY_LEN], const uint8_t *psk);
/*
 * (Re)compute DH(S_local, S_remote) for id (zero without an identity or for
 * a low-order remote key). wg_noise_handshake_init does it; with id NULL
 * there, the caller may call this later, before the first handshake (the
 * appliance does, so that adding 100,000 peers costs no X25519 each).
 */
void wg_noise_handshake_precompute(struct wg_noise_handshake *hs, const struct wg_noise_identity *id);
/*
 * Forget the handshake in progress: state ZEROED, *hs->eph wiped (hs->eph
 * stays: the caller takes the storage back); keeps keys and timestamp.
 */
void wg_noise_handshake_clear(struct wg_noise_handshake *hs);
/* Wipe everything, including static keys and *hs->eph; hs->eph becomes NULL. */
void wg_noise_handshake_wipe(struct wg_noise_handshake *hs);

/*
 * Initiator: write a handshake initiation (all but the macs) into dst with
 * sender index local_index and the TAI64N timestamp, keeping its state in
 * *hs->eph. 0, -EINVAL (no identity, low-order key) or -ENOMEM (hs->eph
 * NULL); hs unchanged on error.
 */
int wg_noise_create_initiation(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			       struct wg_msg_initiation *dst, uint32_t local_index,
			       const uint8_t timestamp[WG_TIMESTAMP_LEN]);

/*
 * Finds the handshake of the peer with this static public key, or NULL. The
 * handshake it returns should have hs->eph set (see "Ephemeral state"); a
 * caller that attached fresh storage here takes it back after a failed
 * consume when the handshake is not pending.
 */
typedef struct wg_noise_handshake *(*wg_noise_lookup_fn)(void *ctx, const uint8_t public_key[WG_KEY_LEN]);

/*
 * Responder: consume an initiation (macs already checked). On success *out is
 * the peer's handshake, now CONSUMED_INITIATION. Errors: -EBADMSG (does not
 * decrypt, low-order ephemeral), -ENOENT (unknown static key), -EINVAL
 * (unusable peer key or no identity), -EALREADY (timestamp not newer:
 * replay), -EAGAIN (less than 1/50 s since the last accepted initiation),
 * -ENOMEM (the handshake found has no hs->eph). Every error leaves every
 * handshake (and its *eph) as it was.
 */
int wg_noise_consume_initiation(const struct wg_noise_identity *id, const struct wg_msg_initiation *src,
				wg_noise_lookup_fn lookup, void *ctx, uint64_t now_ns,
				struct wg_noise_handshake **out);

/*
 * Responder: write the response to the consumed initiation into dst (all
 * but macs), with sender index local_index. 0 or -EINVAL (wrong state).
 */
int wg_noise_create_response(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			     struct wg_msg_response *dst, uint32_t local_index);

/*
 * Initiator: consume a response (macs already checked) that the caller has
 * matched to hs by its receiver index. 0, -EINVAL (state or index mismatch),
 * -EBADMSG (does not authenticate, low-order ephemeral); hs unchanged on error.
 */
int wg_noise_consume_response(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			      const struct wg_msg_response *src);

/*
 * Either side, after CONSUMED_RESPONSE (initiator) or CREATED_RESPONSE
 * (responder): derive the transport keypair into kp, born at now_ns, and
 * wipe the handshake's ephemeral state (*hs->eph; state ZEROED, so the
 * caller takes the storage back). 0 or -EINVAL (wrong state).
 */
int wg_noise_derive_keypair(struct wg_noise_handshake *hs, struct wg_keypair *kp, uint64_t now_ns);

#endif
