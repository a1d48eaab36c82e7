/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, the WireGuard handshake (paper
 * section 5.4, the kernel's noise.c), on plain buffers.
 *
 * Symmetric state: a chaining key ck (the running KDF key, from which the
 * message keys and finally the transport keys come) and a hash h (the running
 * transcript, used as AEAD associated data so every ciphertext also
 * authenticates everything said before it).
 *
 *   ck = HASH(CONSTRUCTION); h = HASH(ck || IDENTIFIER); h = HASH(h || S_r)
 *
 * Initiation:  e, es, s, ss, {timestamp}
 * Response:    e, ee, se, psk, {}
 * Transport:   (T_send_i, T_recv_i) = KDF2(ck, "")
 *
 * Invariants kept by every function here:
 * - a step that fails changes nothing: all work happens in locals, and the
 *   handshake (and the destination message) is written only once every step
 *   has succeeded. A garbage response cannot clear a pending initiation and a
 *   rejected initiation cannot move a peer's timestamp;
 * - a DH with an all-zero result (a low-order point) aborts the handshake;
 * - every secret local is wiped before return;
 * - time is an argument (timestamps and the monotonic now_ns come from the
 *   caller), so tests drive the clock.
 */
#include "control/noise.h"

#include <errno.h>
#include <string.h>

#include "control/tai64n.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"

_Static_assert(WG_TAI64N_LEN == WG_TIMESTAMP_LEN, "timestamp length");
_Static_assert(WG_BLAKE2S_HASH_LEN == WG_HASH_LEN, "hash length");
_Static_assert(WG_X25519_LEN == WG_KEY_LEN, "key length");

/* HASH("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"): the initial chaining key */
static const uint8_t initial_chaining_key[WG_HASH_LEN] = {
	0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0,
	0x2e, 0xc3, 0x35, 0xe2, 0xa0, 0x25, 0xd2, 0xd0,
	0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72, 0x77, 0xf5,
	0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
};

/* HASH(initial_chaining_key || "WireGuard v1 zx2c4 Jason@zx2c4.com"): the initial hash */
static const uint8_t initial_hash[WG_HASH_LEN] = {
	0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66,
	0x69, 0x12, 0x43, 0xdb, 0x45, 0x8a, 0xd5, 0x32,
	0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93, 0xe8, 0xb7,
	0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
};

/* the empty plaintext of the response, and the empty KDF input of the keys */
static const uint8_t empty[1];

/* h = HASH(h || src) */
static void mix_hash(uint8_t h[WG_HASH_LEN], const void *src, size_t len)
{
	wg_blake2s_hash2(h, h, WG_HASH_LEN, src, len);
}

/* ck, h for a handshake whose responder has static public key responder_static */
static void symmetric_init(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
			   const uint8_t responder_static[WG_KEY_LEN])
{
	memcpy(ck, initial_chaining_key, WG_HASH_LEN);
	memcpy(h, initial_hash, WG_HASH_LEN);
	mix_hash(h, responder_static, WG_KEY_LEN);
}

/* ephemeral public key: ck = KDF1(ck, e); h = HASH(h || e) */
static void mix_ephemeral(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN], const uint8_t e[WG_KEY_LEN])
{
	wg_blake2s_kdf(ck, NULL, NULL, ck, e, WG_KEY_LEN);
	mix_hash(h, e, WG_KEY_LEN);
}

/*
 * (ck, key) = KDF2(ck, DH(priv, pub)), or ck = KDF1(...) with key NULL.
 * -EINVAL when the DH result is all zeros (pub has small order): the
 * contributory behaviour Noise relies on is gone, so the handshake stops.
 */
static int mix_dh(uint8_t ck[WG_HASH_LEN], uint8_t *key, const uint8_t priv[WG_KEY_LEN],
		  const uint8_t pub[WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];

	if (wg_x25519(dh, priv, pub)) {
		wg_secure_wipe(dh, sizeof(dh));
		return -EINVAL;
	}
	wg_blake2s_kdf(ck, key, NULL, ck, dh, sizeof(dh));
	wg_secure_wipe(dh, sizeof(dh));
	return 0;
}

/* ss from the precomputed DH(S_local, S_remote); zero means unusable peer */
static int mix_precomputed_dh(uint8_t ck[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
			      const uint8_t precomputed[WG_KEY_LEN])
{
	if (wg_secure_is_zero(precomputed, WG_KEY_LEN))
		return -EINVAL;
	wg_blake2s_kdf(ck, key, NULL, ck, precomputed, WG_KEY_LEN);
	return 0;
}

/* (ck, tau, key) = KDF3(ck, psk); h = HASH(h || tau) */
static void mix_psk(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
		    const uint8_t psk[WG_KEY_LEN])
{
	uint8_t tau[WG_HASH_LEN];

	wg_blake2s_kdf(ck, tau, key, ck, psk, WG_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));
	wg_secure_wipe(tau, sizeof(tau));
}

/* dst = AEAD(key, 0, src, h); h = HASH(h || dst). Each key seals one message, so counter 0. */
static void encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[WG_KEY_LEN],
			     uint8_t h[WG_HASH_LEN])
{
	wg_aead_encrypt(dst, src, len, h, WG_HASH_LEN, 0, key);
	mix_hash(h, dst, len + WG_AEAD_TAG_LEN);
}

/* dst = AEAD-open(key, 0, src, h); h = HASH(h || src). -EBADMSG when forged. */
static int decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t key[WG_KEY_LEN],
			    uint8_t h[WG_HASH_LEN])
{
	if (wg_aead_decrypt(dst, src, srclen, h, WG_HASH_LEN, 0, key))
		return -EBADMSG;
	mix_hash(h, src, srclen);
	return 0;
}

/* fresh ephemeral keypair */
static int ephemeral_generate(uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN])
{
	wg_x25519_generate(priv);
	return wg_x25519_public(pub, priv);
}

int wg_noise_identity_set(struct wg_noise_identity *id, const uint8_t *private_key)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int ret = 0;

	if (!private_key) {
		wg_noise_identity_wipe(id);
		return 0;
	}
	memcpy(priv, private_key, sizeof(priv));
	wg_x25519_clamp(priv);
	if (wg_x25519_public(pub, priv)) {
		ret = -EINVAL; /* id unchanged */
		goto out;
	}
	memcpy(id->private_key, priv, sizeof(priv));
	memcpy(id->public_key, pub, sizeof(pub));
	id->has_identity = true;
out:
	wg_secure_wipe(priv, sizeof(priv));
	return ret;
}

void wg_noise_identity_wipe(struct wg_noise_identity *id)
{
	wg_secure_wipe(id, sizeof(*id));
	id->has_identity = false;
}

/*
 * Resets the whole handshake, including the replay timestamp and the flood
 * clock: use it when a peer is created (or its static key changes), not to
 * abandon a handshake (that is wg_noise_handshake_clear).
 */
void wg_noise_handshake_init(struct wg_noise_handshake *hs, const struct wg_noise_identity *id,
			     const uint8_t remote_static[WG_KEY_LEN], const uint8_t *psk)
{
	wg_secure_wipe(hs, sizeof(*hs));
	hs->state = WG_HANDSHAKE_ZEROED;
	memcpy(hs->remote_static, remote_static, WG_KEY_LEN);
	if (psk)
		memcpy(hs->preshared_key, psk, WG_KEY_LEN);
	wg_noise_handshake_precompute(hs, id);
}

void wg_noise_handshake_precompute(struct wg_noise_handshake *hs, const struct wg_noise_identity *id)
{
	/* wg_x25519 leaves zeros on a low-order key: every handshake then fails */
	if (!id || !id->has_identity ||
	    wg_x25519(hs->precomputed_static_static, id->private_key, hs->remote_static))
		wg_secure_wipe(hs->precomputed_static_static, WG_KEY_LEN);
}

/*
 * Drops the ephemeral half of a handshake (the kernel's handshake_zero):
 * static keys, psk, the precomputed DH, the latest timestamp and the flood
 * clock stay, so replay protection survives. local_index stays too: the
 * caller owns the index table and may still need it to remove the entry.
 * hs->eph stays too (wiped): the storage is the caller's to take back.
 */
void wg_noise_handshake_clear(struct wg_noise_handshake *hs)
{
	if (hs->eph)
		wg_secure_wipe(hs->eph, sizeof(*hs->eph));
	hs->remote_index = 0;
	hs->state = WG_HANDSHAKE_ZEROED;
}

void wg_noise_handshake_wipe(struct wg_noise_handshake *hs)
{
	if (hs->eph)
		wg_secure_wipe(hs->eph, sizeof(*hs->eph));
	wg_secure_wipe(hs, sizeof(*hs)); /* hs->eph = NULL */
	hs->state = WG_HANDSHAKE_ZEROED;
}

/*
 * Initiator -> responder:
 *   e:   E_i = fresh; msg.ephemeral = E_i; ck = KDF1(ck, E_i); h = HASH(h || E_i)
 *   es:  (ck, k) = KDF2(ck, DH(E_i, S_r))
 *   s:   msg.static = AEAD(k, 0, S_i, h); h = HASH(h || msg.static)
 *   ss:  (ck, k) = KDF2(ck, DH(S_i, S_r))   (precomputed)
 *   {t}: msg.timestamp = AEAD(k, 0, TAI64N, h); h = HASH(h || msg.timestamp)
 * On failure dst is zeroed (type 0: nothing sendable) and hs is unchanged.
 */
int wg_noise_create_initiation(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			       struct wg_msg_initiation *dst, uint32_t local_index,
			       const uint8_t timestamp[WG_TIMESTAMP_LEN])
{
	struct wg_msg_initiation msg;
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN], e_priv[WG_KEY_LEN];
	int ret = -EINVAL;

	memset(&msg, 0, sizeof(msg));
	if (!id->has_identity || wg_secure_is_zero(hs->precomputed_static_static, WG_KEY_LEN))
		goto out;
	ret = -ENOMEM;
	if (!hs->eph)
		goto out;
	ret = -EINVAL;

	msg.header.type = WG_MSG_HANDSHAKE_INITIATION;
	wg_le32_write(&msg.sender_index, local_index);
	symmetric_init(ck, h, hs->remote_static);

	/* e */
	if (ephemeral_generate(e_priv, msg.unencrypted_ephemeral))
		goto out;
	mix_ephemeral(ck, h, msg.unencrypted_ephemeral);
	/* es */
	if (mix_dh(ck, key, e_priv, hs->remote_static))
		goto out;
	/* s */
	encrypt_and_hash(msg.encrypted_static, id->public_key, WG_KEY_LEN, key, h);
	/* ss */
	if (mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	/* {t} */
	encrypt_and_hash(msg.encrypted_timestamp, timestamp, WG_TIMESTAMP_LEN, key, h);

	memcpy(dst, &msg, sizeof(msg));
	memcpy(hs->eph->ephemeral_private, e_priv, sizeof(e_priv));
	wg_secure_wipe(hs->eph->remote_ephemeral, WG_KEY_LEN);
	memcpy(hs->eph->chaining_key, ck, sizeof(ck));
	memcpy(hs->eph->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = WG_HANDSHAKE_CREATED_INITIATION;
	ret = 0;
out:
	if (ret)
		memset(dst, 0, sizeof(*dst));
	wg_secure_wipe(&msg, sizeof(msg));
	wg_secure_wipe(ck, sizeof(ck));
	wg_secure_wipe(h, sizeof(h));
	wg_secure_wipe(key, sizeof(key));
	wg_secure_wipe(e_priv, sizeof(e_priv));
	return ret;
}

/*
 * Responder: mirror the initiation with S_r in place of the initiator's
 * view, find the peer by the decrypted static key, then accept only a
 * timestamp strictly newer than the last accepted one (replay) and only
 * WG_INITIATION_MIN_INTERVAL after the last accepted initiation (flood).
 */
int wg_noise_consume_initiation(const struct wg_noise_identity *id, const struct wg_msg_initiation *src,
				wg_noise_lookup_fn lookup, void *ctx, uint64_t now_ns,
				struct wg_noise_handshake **out)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN];
	uint8_t e[WG_KEY_LEN], s[WG_KEY_LEN], t[WG_TIMESTAMP_LEN];
	struct wg_noise_handshake *hs;
	int ret;

	if (out)
		*out = NULL;
	if (!id->has_identity)
		return -EINVAL;

	symmetric_init(ck, h, id->public_key);
	/* e */
	memcpy(e, src->unencrypted_ephemeral, sizeof(e));
	mix_ephemeral(ck, h, e);
	/* es: a low-order E_i ends here */
	ret = -EBADMSG;
	if (mix_dh(ck, key, id->private_key, e))
		goto out;
	/* s */
	if (decrypt_and_hash(s, src->encrypted_static, sizeof(src->encrypted_static), key, h))
		goto out;
	ret = -ENOENT;
	hs = lookup(ctx, s);
	if (!hs)
		goto out;
	/* ss */
	ret = -EINVAL;
	if (mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	/* {t} */
	ret = -EBADMSG;
	if (decrypt_and_hash(t, src->encrypted_timestamp, sizeof(src->encrypted_timestamp), key, h))
		goto out;

	/* authentic; now is it fresh? */
	ret = -EALREADY;
	if (!wg_tai64n_after(t, hs->latest_timestamp))
		goto out;
	ret = -EAGAIN;
	if (hs->has_consumed_initiation &&
	    (now_ns < hs->last_initiation_consumption_ns ||
	     now_ns - hs->last_initiation_consumption_ns < WG_INITIATION_MIN_INTERVAL))
		goto out;
	ret = -ENOMEM;
	if (!hs->eph)
		goto out;

	wg_secure_wipe(hs->eph->ephemeral_private, WG_KEY_LEN); /* a pending initiation of ours ends */
	memcpy(hs->eph->remote_ephemeral, e, sizeof(e));
	memcpy(hs->latest_timestamp, t, sizeof(t));
	memcpy(hs->eph->hash, h, sizeof(h));
	memcpy(hs->eph->chaining_key, ck, sizeof(ck));
	hs->remote_index = wg_le32_read(&src->sender_index);
	hs->last_initiation_consumption_ns = now_ns;
	hs->has_consumed_initiation = true;
	hs->state = WG_HANDSHAKE_CONSUMED_INITIATION;
	if (out)
		*out = hs;
	ret = 0;
out:
	wg_secure_wipe(ck, sizeof(ck));
	wg_secure_wipe(h, sizeof(h));
	wg_secure_wipe(key, sizeof(key));
	wg_secure_wipe(e, sizeof(e));
	wg_secure_wipe(s, sizeof(s));
	wg_secure_wipe(t, sizeof(t));
	return ret;
}

/*
 * Responder -> initiator:
 *   e:   E_r = fresh; msg.ephemeral = E_r; ck = KDF1(ck, E_r); h = HASH(h || E_r)
 *   ee:  ck = KDF1(ck, DH(E_r, E_i))
 *   se:  ck = KDF1(ck, DH(E_r, S_i))
 *   psk: (ck, tau, k) = KDF3(ck, psk); h = HASH(h || tau)
 *   {}:  msg.empty = AEAD(k, 0, "", h); h = HASH(h || msg.empty)
 * On failure dst is zeroed and hs is unchanged.
 */
int wg_noise_create_response(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			     struct wg_msg_response *dst, uint32_t local_index)
{
	struct wg_msg_response msg;
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN], e_priv[WG_KEY_LEN];
	int ret = -EINVAL;

	memset(&msg, 0, sizeof(msg));
	if (!id->has_identity || hs->state != WG_HANDSHAKE_CONSUMED_INITIATION || !hs->eph)
		goto out;

	memcpy(ck, hs->eph->chaining_key, sizeof(ck));
	memcpy(h, hs->eph->hash, sizeof(h));
	msg.header.type = WG_MSG_HANDSHAKE_RESPONSE;
	wg_le32_write(&msg.sender_index, local_index);
	wg_le32_write(&msg.receiver_index, hs->remote_index);

	/* e */
	if (ephemeral_generate(e_priv, msg.unencrypted_ephemeral))
		goto out;
	mix_ephemeral(ck, h, msg.unencrypted_ephemeral);
	/* ee */
	if (mix_dh(ck, NULL, e_priv, hs->eph->remote_ephemeral))
		goto out;
	/* se */
	if (mix_dh(ck, NULL, e_priv, hs->remote_static))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	encrypt_and_hash(msg.encrypted_nothing, empty, 0, key, h);

	memcpy(dst, &msg, sizeof(msg));
	memcpy(hs->eph->ephemeral_private, e_priv, sizeof(e_priv));
	memcpy(hs->eph->chaining_key, ck, sizeof(ck));
	memcpy(hs->eph->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = WG_HANDSHAKE_CREATED_RESPONSE;
	ret = 0;
out:
	if (ret)
		memset(dst, 0, sizeof(*dst));
	wg_secure_wipe(&msg, sizeof(msg));
	wg_secure_wipe(ck, sizeof(ck));
	wg_secure_wipe(h, sizeof(h));
	wg_secure_wipe(key, sizeof(key));
	wg_secure_wipe(e_priv, sizeof(e_priv));
	return ret;
}

/*
 * Initiator: mirror the response with DH(E_i, E_r) and DH(S_i, E_r). Only a
 * response that authenticates touches hs, so a forged or garbage response
 * leaves the pending initiation able to complete with the real one.
 */
int wg_noise_consume_response(const struct wg_noise_identity *id, struct wg_noise_handshake *hs,
			      const struct wg_msg_response *src)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN], e[WG_KEY_LEN];
	uint8_t nothing[1];
	int ret = -EINVAL;

	if (!id->has_identity || hs->state != WG_HANDSHAKE_CREATED_INITIATION || !hs->eph ||
	    wg_le32_read(&src->receiver_index) != hs->local_index)
		return -EINVAL;

	memcpy(ck, hs->eph->chaining_key, sizeof(ck));
	memcpy(h, hs->eph->hash, sizeof(h));
	/* e */
	memcpy(e, src->unencrypted_ephemeral, sizeof(e));
	mix_ephemeral(ck, h, e);
	/* ee, se: a low-order E_r ends here */
	ret = -EBADMSG;
	if (mix_dh(ck, NULL, hs->eph->ephemeral_private, e))
		goto out;
	if (mix_dh(ck, NULL, id->private_key, e))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	if (decrypt_and_hash(nothing, src->encrypted_nothing, sizeof(src->encrypted_nothing), key, h))
		goto out;

	memcpy(hs->eph->remote_ephemeral, e, sizeof(e));
	memcpy(hs->eph->chaining_key, ck, sizeof(ck));
	memcpy(hs->eph->hash, h, sizeof(h));
	hs->remote_index = wg_le32_read(&src->sender_index);
	hs->state = WG_HANDSHAKE_CONSUMED_RESPONSE;
	ret = 0;
out:
	wg_secure_wipe(ck, sizeof(ck));
	wg_secure_wipe(h, sizeof(h));
	wg_secure_wipe(key, sizeof(key));
	wg_secure_wipe(e, sizeof(e));
	return ret;
}

/*
 * (T1, T2) = KDF2(ck, ""): T1 sends from initiator to responder, T2 the other
 * way. The handshake's ephemeral state (*hs->eph) is then wiped (forward
 * secrecy: the ephemeral keys and ck could re-derive the session); the
 * caller takes the storage back.
 */
int wg_noise_derive_keypair(struct wg_noise_handshake *hs, struct wg_keypair *kp, uint64_t now_ns)
{
	bool initiator;

	if ((hs->state != WG_HANDSHAKE_CREATED_RESPONSE && hs->state != WG_HANDSHAKE_CONSUMED_RESPONSE) ||
	    !hs->eph)
		return -EINVAL;
	initiator = hs->state == WG_HANDSHAKE_CONSUMED_RESPONSE;

	wg_secure_wipe(kp, sizeof(*kp));
	if (initiator)
		wg_blake2s_kdf(kp->send_key, kp->recv_key, NULL, hs->eph->chaining_key, empty, 0);
	else
		wg_blake2s_kdf(kp->recv_key, kp->send_key, NULL, hs->eph->chaining_key, empty, 0);
	kp->send_counter = 0;
	wg_replay_init(&kp->replay);
	kp->birth_ns = now_ns;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->is_initiator = initiator;
	kp->valid = true;

	wg_noise_handshake_clear(hs);
	return 0;
}
