/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2 handshake tests: two in-memory peers, the clock an argument.
 *
 * Pinned here:
 * - the initial chaining key and hash are design.md's known answers, and an
 *   independent re-derivation of the initiation from those constants (in this
 *   file, from the BLAKE2s/X25519/AEAD primitives) decrypts what noise.c sends;
 * - complete handshakes in both roles, with and without a psk, from random
 *   and from fixed (RFC 7748) keys; both sides end with the same hash and
 *   chaining key, crosswise keypairs, and exchange transport messages;
 * - every failure leaves the handshake as it was: mismatched psk, garbage or
 *   bit-flipped responses, responses to another index, replayed, older,
 *   equal-timestamp and too-frequent initiations, unknown static keys,
 *   low-order keys in every position, bit flips in every encrypted field;
 * - wg_msg_classify rejects every wrong length and non-zero reserved bytes;
 * - the ephemeral state is the caller's storage (hs->eph): without it nothing
 *   starts; with a pool standing for the appliance's slab it is held only
 *   while a handshake is pending, back in the pool after derive, clear and
 *   every failed consume that leaves nothing pending, wiped when it goes back,
 *   and kept byte for byte through failed consumes while pending.
 */
#include <errno.h>
#include <stdint.h>

#include "control/noise.h"
#include "control/tai64n.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"
#include "dataplane/transport.h"
#include "tests/harness.h"

#define NS WG_NSEC_PER_SEC
#define MS WG_NSEC_PER_MSEC
#define NOW0 (100 * NS)                      /* monotonic clock */
#define REAL0 (1700000000ull * NS)            /* wall clock for timestamps */
#define IDX_I 0x0000beefu
#define IDX_R 0xcafe0001u

struct side {
	struct wg_noise_identity id;
	struct wg_noise_handshake hs; /* our handshake with the other side */
	struct wg_noise_ephemeral eph; /* its storage: hs.eph = &eph (attach) */
};

/* the caller's storage for the handshake in flight: here, always the side's own */
static void attach(struct side *s)
{
	s->hs.eph = &s->eph;
}

/* a handshake and its ephemeral state, to check that a failure changed neither */
struct hs_snap {
	struct wg_noise_handshake hs;
	struct wg_noise_ephemeral eph;
	bool has_eph;
};

static void snap_take(struct hs_snap *sn, const struct wg_noise_handshake *hs)
{
	memset(sn, 0, sizeof(*sn));
	memcpy(&sn->hs, hs, sizeof(*hs));
	sn->has_eph = hs->eph != NULL;
	if (hs->eph)
		memcpy(&sn->eph, hs->eph, sizeof(sn->eph));
}

static bool snap_same(const struct hs_snap *sn, const struct wg_noise_handshake *hs)
{
	if (memcmp(&sn->hs, hs, sizeof(*hs)) != 0 || sn->has_eph != (hs->eph != NULL))
		return false;
	return !hs->eph || memcmp(&sn->eph, hs->eph, sizeof(sn->eph)) == 0;
}

/* the responder knows exactly one peer: the one its hs was made for */
static struct wg_noise_handshake *lookup(void *ctx, const uint8_t pk[WG_KEY_LEN])
{
	struct side *s = ctx;
	return memcmp(s->hs.remote_static, pk, WG_KEY_LEN) == 0 ? &s->hs : NULL;
}

static void ts_at(uint8_t ts[WG_TIMESTAMP_LEN], uint64_t real)
{
	wg_tai64n_encode(ts, real);
}

/* identities (random when the private key is NULL) and handshakes for a pair */
static void make_sides(struct side *a, struct side *b, const uint8_t *a_priv, const uint8_t *b_priv,
		       const uint8_t *a_psk, const uint8_t *b_psk)
{
	uint8_t k[WG_KEY_LEN];

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	if (!a_priv)
		wg_secure_random(k, sizeof(k));
	CHECK(wg_noise_identity_set(&a->id, a_priv ? a_priv : k) == 0);
	if (!b_priv)
		wg_secure_random(k, sizeof(k));
	CHECK(wg_noise_identity_set(&b->id, b_priv ? b_priv : k) == 0);
	CHECK(a->id.has_identity && b->id.has_identity);
	wg_noise_handshake_init(&a->hs, &a->id, b->id.public_key, a_psk);
	wg_noise_handshake_init(&b->hs, &b->id, a->id.public_key, b_psk);
	CHECK(a->hs.eph == NULL && b->hs.eph == NULL);
	attach(a);
	attach(b);
	CHECK(!wg_secure_is_zero(a->hs.precomputed_static_static, WG_KEY_LEN));
	CHECK_MEM(a->hs.precomputed_static_static, b->hs.precomputed_static_static, WG_KEY_LEN);
	wg_secure_wipe(k, sizeof(k));
}

/* transport messages both ways through the derived keypairs */
static bool exchange(struct wg_keypair *x, struct wg_keypair *y, uint64_t now)
{
	static const char text[] = "The quick brown fox jumps over the lazy dog";
	uint8_t msg[128], out[128];
	struct wg_keypair *from = x, *to = y;

	for (int dir = 0; dir < 2; dir++) {
		ssize_t n = wg_transport_encrypt(from, msg, sizeof(msg), (const uint8_t *)text, sizeof(text), 0, now);
		if (n <= 0 || wg_le32_read(msg + 4) != to->local_index)
			return false;
		if (wg_transport_decrypt(to, out, sizeof(out), msg, (size_t)n, now) != 48 ||
		    memcmp(out, text, sizeof(text)) != 0)
			return false;
		from = y;
		to = x;
	}
	return true;
}

/*
 * A complete handshake, initiator i to responder r, checking every step and
 * the white-box state in between. Returns true when all of it held.
 */
static bool full_handshake(struct side *i, struct side *r, uint64_t now, uint64_t real, struct wg_keypair *ki,
			   struct wg_keypair *kr)
{
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_noise_handshake *found = NULL;
	uint8_t ts[WG_TIMESTAMP_LEN];
	int failed_before = wg_test_failed_now;
	bool ok;

	wg_test_failed_now = 0;

	ts_at(ts, real);
	CHECK(wg_noise_create_initiation(&i->id, &i->hs, &init, IDX_I, ts) == 0);
	CHECK(i->hs.state == WG_HANDSHAKE_CREATED_INITIATION && i->hs.local_index == IDX_I);
	CHECK(wg_msg_classify(&init, sizeof(init)) == WG_MSG_HANDSHAKE_INITIATION);
	CHECK(wg_le32_read(&init.sender_index) == IDX_I);

	CHECK(wg_noise_consume_initiation(&r->id, &init, lookup, r, now, &found) == 0);
	CHECK(found == &r->hs);
	CHECK(r->hs.state == WG_HANDSHAKE_CONSUMED_INITIATION && r->hs.remote_index == IDX_I);
	CHECK_MEM(r->hs.latest_timestamp, ts, WG_TIMESTAMP_LEN);
	CHECK(r->hs.has_consumed_initiation && r->hs.last_initiation_consumption_ns == now);
	/* after the initiation both sides hold the same transcript */
	CHECK_MEM(r->hs.eph->hash, i->hs.eph->hash, WG_HASH_LEN);
	CHECK_MEM(r->hs.eph->chaining_key, i->hs.eph->chaining_key, WG_HASH_LEN);

	CHECK(wg_noise_create_response(&r->id, &r->hs, &resp, IDX_R) == 0);
	CHECK(r->hs.state == WG_HANDSHAKE_CREATED_RESPONSE);
	CHECK(wg_msg_classify(&resp, sizeof(resp)) == WG_MSG_HANDSHAKE_RESPONSE);
	CHECK(wg_le32_read(&resp.sender_index) == IDX_R && wg_le32_read(&resp.receiver_index) == IDX_I);

	CHECK(wg_noise_consume_response(&i->id, &i->hs, &resp) == 0);
	CHECK(i->hs.state == WG_HANDSHAKE_CONSUMED_RESPONSE && i->hs.remote_index == IDX_R);
	/* white box: same hash and chaining key on both sides before deriving */
	CHECK_MEM(i->hs.eph->hash, r->hs.eph->hash, WG_HASH_LEN);
	CHECK_MEM(i->hs.eph->chaining_key, r->hs.eph->chaining_key, WG_HASH_LEN);
	CHECK_MEM(i->hs.eph->remote_ephemeral, resp.unencrypted_ephemeral, WG_KEY_LEN);
	CHECK_MEM(r->hs.eph->remote_ephemeral, init.unencrypted_ephemeral, WG_KEY_LEN);

	CHECK(wg_noise_derive_keypair(&i->hs, ki, now + 1) == 0);
	CHECK(wg_noise_derive_keypair(&r->hs, kr, now + 2) == 0);
	CHECK(ki->valid && kr->valid && ki->is_initiator && !kr->is_initiator);
	CHECK(ki->birth_ns == now + 1 && kr->birth_ns == now + 2);
	CHECK(ki->send_counter == 0 && kr->send_counter == 0);
	CHECK(ki->local_index == IDX_I && ki->remote_index == IDX_R);
	CHECK(kr->local_index == IDX_R && kr->remote_index == IDX_I);
	CHECK_MEM(ki->send_key, kr->recv_key, WG_KEY_LEN);
	CHECK_MEM(ki->recv_key, kr->send_key, WG_KEY_LEN);
	CHECK(memcmp(ki->send_key, ki->recv_key, WG_KEY_LEN) != 0);
	CHECK(!wg_secure_is_zero(ki->send_key, WG_KEY_LEN) && !wg_secure_is_zero(ki->recv_key, WG_KEY_LEN));
	/* ephemeral state gone on both sides */
	CHECK(i->hs.state == WG_HANDSHAKE_ZEROED && r->hs.state == WG_HANDSHAKE_ZEROED);
	CHECK(wg_noise_derive_keypair(&i->hs, ki, now) == -EINVAL);
	CHECK(exchange(ki, kr, now + 3));
	ok = !wg_test_failed_now;
	wg_test_failed_now |= failed_before;
	return ok;
}

/* ---- known answers -------------------------------------------------------------- */

static const char construction_hash_hex[] = "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";
static const char identifier_hash_hex[] = "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3";

/*
 * design.md's constants are HASH(CONSTRUCTION) and HASH(ck || IDENTIFIER);
 * and noise.c starts from them: re-derive the responder's side of an
 * initiation here, from the constants and the primitives only, and decrypt
 * what noise.c produced.
 */
static void test_known_initial_state(void)
{
	uint8_t ck[32], h[32], want_ck[32], want_h[32], key[32], dh[32], got[32], ts[12], ts_got[12];
	struct side i, r;
	struct wg_msg_initiation init;

	wg_test_unhex(want_ck, 32, construction_hash_hex);
	wg_test_unhex(want_h, 32, identifier_hash_hex);
	wg_blake2s_hash(ck, WG_NOISE_CONSTRUCTION, strlen(WG_NOISE_CONSTRUCTION));
	CHECK_MEM(ck, want_ck, 32);
	wg_blake2s_hash2(h, ck, 32, WG_NOISE_IDENTIFIER, strlen(WG_NOISE_IDENTIFIER));
	CHECK_MEM(h, want_h, 32);

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);

	/* responder, by hand: ck = C, h = HASH(H || S_r) */
	memcpy(ck, want_ck, 32);
	wg_blake2s_hash2(h, want_h, 32, r.id.public_key, 32);
	/* e */
	wg_blake2s_kdf(ck, NULL, NULL, ck, init.unencrypted_ephemeral, 32);
	wg_blake2s_hash2(h, h, 32, init.unencrypted_ephemeral, 32);
	/* es */
	CHECK(wg_x25519(dh, r.id.private_key, init.unencrypted_ephemeral) == 0);
	wg_blake2s_kdf(ck, key, NULL, ck, dh, 32);
	/* s */
	CHECK(wg_aead_decrypt(got, init.encrypted_static, 48, h, 32, 0, key) == 0);
	CHECK_MEM(got, i.id.public_key, 32);
	wg_blake2s_hash2(h, h, 32, init.encrypted_static, 48);
	/* ss */
	CHECK(wg_x25519(dh, r.id.private_key, i.id.public_key) == 0);
	wg_blake2s_kdf(ck, key, NULL, ck, dh, 32);
	/* {t} */
	CHECK(wg_aead_decrypt(ts_got, init.encrypted_timestamp, 28, h, 32, 0, key) == 0);
	CHECK_MEM(ts_got, ts, 12);
	wg_blake2s_hash2(h, h, 32, init.encrypted_timestamp, 28);
	CHECK_MEM(h, i.hs.eph->hash, 32);
	CHECK_MEM(ck, i.hs.eph->chaining_key, 32);
}

/* RFC 7748 section 6.1 keys as identities: public keys and the shared secret */
static const char alice_priv[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_priv[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pub[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static void test_identity_fixed_keys(void)
{
	uint8_t a[32], b[32], want[32];
	struct side x, y;

	wg_test_unhex(a, 32, alice_priv);
	wg_test_unhex(b, 32, bob_priv);
	make_sides(&x, &y, a, b, NULL, NULL);
	wg_test_unhex(want, 32, alice_pub);
	CHECK_MEM(x.id.public_key, want, 32);
	CHECK_MEM(y.hs.remote_static, want, 32);
	wg_test_unhex(want, 32, bob_pub);
	CHECK_MEM(y.id.public_key, want, 32);
	wg_test_unhex(want, 32, shared);
	CHECK_MEM(x.hs.precomputed_static_static, want, 32);
	CHECK_MEM(y.hs.precomputed_static_static, want, 32);
	/* the stored private key is clamped */
	CHECK((x.id.private_key[0] & 7) == 0 && (x.id.private_key[31] & 0xc0) == 0x40);
	/* no psk means zeros */
	CHECK(wg_secure_is_zero(x.hs.preshared_key, 32));

	/* clearing the identity */
	CHECK(wg_noise_identity_set(&x.id, NULL) == 0);
	CHECK(!x.id.has_identity && wg_secure_is_zero(&x.id, sizeof(x.id)));
	wg_noise_handshake_init(&x.hs, &x.id, y.id.public_key, NULL);
	CHECK(wg_secure_is_zero(x.hs.precomputed_static_static, 32));
	/* computed later, the DH is the same as at init */
	{
		struct side p, q;

		make_sides(&p, &q, a, b, NULL, NULL);
		wg_noise_handshake_init(&p.hs, NULL, q.id.public_key, NULL);
		CHECK(wg_secure_is_zero(p.hs.precomputed_static_static, 32));
		wg_noise_handshake_precompute(&p.hs, &p.id);
		wg_test_unhex(want, 32, shared);
		CHECK_MEM(p.hs.precomputed_static_static, want, 32);
		wg_noise_handshake_precompute(&p.hs, NULL);
		CHECK(wg_secure_is_zero(p.hs.precomputed_static_static, 32));
	}
	wg_noise_identity_set(&y.id, b);
	wg_noise_identity_wipe(&y.id);
	CHECK(!y.id.has_identity && wg_secure_is_zero(&y.id, sizeof(y.id)));
}

/* both roles, psk or not, random or fixed keys */
static void test_handshake_matrix(void)
{
	uint8_t a[32], b[32], psk[32];

	wg_test_unhex(a, 32, alice_priv);
	wg_test_unhex(b, 32, bob_priv);
	wg_secure_random(psk, sizeof(psk));
	for (int fixed = 0; fixed < 2; fixed++) {
		for (int with_psk = 0; with_psk < 2; with_psk++) {
			for (int role = 0; role < 2; role++) {
				struct side x, y;
				struct wg_keypair kx, ky;
				const uint8_t *p = with_psk ? psk : NULL;

				make_sides(&x, &y, fixed ? a : NULL, fixed ? b : NULL, p, p);
				bool ok = role ? full_handshake(&y, &x, NOW0, REAL0, &ky, &kx)
					       : full_handshake(&x, &y, NOW0, REAL0, &kx, &ky);
				CHECK_MSG(ok, "fixed %d psk %d role %d", fixed, with_psk, role);
				/* a second handshake in the other direction, later */
				ok = role ? full_handshake(&x, &y, NOW0 + NS, REAL0 + NS, &kx, &ky)
					  : full_handshake(&y, &x, NOW0 + NS, REAL0 + NS, &ky, &kx);
				CHECK_MSG(ok, "second: fixed %d psk %d role %d", fixed, with_psk, role);
			}
		}
	}
}

/* keys of two handshakes differ; what derive keeps and what it clears */
static void test_derive_and_clear(void)
{
	struct side i, r;
	struct wg_keypair k1i, k1r, k2i, k2r;
	uint8_t psk[32], ts[12];

	wg_secure_random(psk, sizeof(psk));
	make_sides(&i, &r, NULL, NULL, psk, psk);
	CHECK(full_handshake(&i, &r, NOW0, REAL0, &k1i, &k1r));
	CHECK(full_handshake(&i, &r, NOW0 + NS, REAL0 + NS, &k2i, &k2r));
	CHECK(memcmp(k1i.send_key, k2i.send_key, 32) != 0);
	/* old keypair cannot read the new one's traffic */
	CHECK(!exchange(&k1i, &k2r, NOW0 + NS));

	ts_at(ts, REAL0 + NS);
	for (int s = 0; s < 2; s++) {
		struct wg_noise_handshake *hs = s ? &r.hs : &i.hs;
		CHECK(hs->state == WG_HANDSHAKE_ZEROED);
		CHECK(hs->eph && wg_secure_is_zero(hs->eph, sizeof(*hs->eph)));
		CHECK_MEM(hs->preshared_key, psk, 32);
		CHECK(!wg_secure_is_zero(hs->precomputed_static_static, 32));
		CHECK_MEM(hs->remote_static, s ? i.id.public_key : r.id.public_key, 32);
	}
	/* the responder still remembers the timestamp and time of the last initiation */
	CHECK_MEM(r.hs.latest_timestamp, ts, 12);
	CHECK(r.hs.has_consumed_initiation && r.hs.last_initiation_consumption_ns == NOW0 + NS);

	/* derive in a wrong state leaves kp untouched */
	struct wg_keypair kp;
	memset(&kp, 0x33, sizeof(kp));
	struct wg_keypair copy;
	memcpy(&copy, &kp, sizeof(kp));
	CHECK(wg_noise_derive_keypair(&i.hs, &kp, NOW0) == -EINVAL);
	CHECK(memcmp(&kp, &copy, sizeof(kp)) == 0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &(struct wg_msg_initiation){ 0 }, IDX_I, ts) == 0);
	CHECK(wg_noise_derive_keypair(&i.hs, &kp, NOW0) == -EINVAL);
	CHECK(memcmp(&kp, &copy, sizeof(kp)) == 0);

	/* wipe */
	CHECK(!wg_secure_is_zero(&i.eph, sizeof(i.eph)));
	wg_noise_handshake_wipe(&i.hs);
	CHECK(wg_secure_is_zero(&i.hs, sizeof(i.hs)) && i.hs.state == WG_HANDSHAKE_ZEROED && !i.hs.eph);
	CHECK(wg_secure_is_zero(&i.eph, sizeof(i.eph)));
	wg_keypair_wipe(&k1i);
	CHECK(wg_secure_is_zero(&k1i, sizeof(k1i)) && !k1i.valid);
}

/*
 * Mismatched psk: the initiator rejects the response (-EBADMSG) and stays
 * CREATED_INITIATION, byte for byte; a response from a responder with the
 * right psk to the same initiation still completes.
 */
static void test_psk_mismatch(void)
{
	struct side i, r_wrong, r_right;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct hs_snap before;
	struct wg_noise_handshake *found;
	struct wg_keypair ki, kr;
	uint8_t psk[32], other[32], ts[12], i_priv[32], r_priv[32];

	wg_secure_random(psk, 32);
	wg_secure_random(other, 32);
	wg_secure_random(i_priv, 32);
	wg_secure_random(r_priv, 32);
	/* one initiator, two responders with the same key: one right psk, one wrong */
	make_sides(&i, &r_wrong, i_priv, r_priv, psk, other);
	make_sides(&i, &r_right, i_priv, r_priv, psk, psk);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	CHECK(wg_noise_consume_initiation(&r_wrong.id, &init, lookup, &r_wrong, NOW0, &found) == 0);
	CHECK(wg_noise_consume_initiation(&r_right.id, &init, lookup, &r_right, NOW0, &found) == 0);
	CHECK(wg_noise_create_response(&r_wrong.id, &r_wrong.hs, &resp, IDX_R) == 0);
	snap_take(&before, &i.hs);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == -EBADMSG);
	CHECK(i.hs.state == WG_HANDSHAKE_CREATED_INITIATION);
	CHECK(snap_same(&before, &i.hs));
	CHECK(wg_noise_create_response(&r_right.id, &r_right.hs, &resp, IDX_R) == 0);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	CHECK(wg_noise_derive_keypair(&i.hs, &ki, NOW0) == 0);
	CHECK(wg_noise_derive_keypair(&r_right.hs, &kr, NOW0) == 0);
	CHECK(exchange(&ki, &kr, NOW0));
	/* psk present on one side only also fails */
	make_sides(&i, &r_wrong, NULL, NULL, psk, NULL);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	CHECK(wg_noise_consume_initiation(&r_wrong.id, &init, lookup, &r_wrong, NOW0, &found) == 0);
	CHECK(wg_noise_create_response(&r_wrong.id, &r_wrong.hs, &resp, IDX_R) == 0);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == -EBADMSG);
	CHECK(i.hs.state == WG_HANDSHAKE_CREATED_INITIATION);
}

/* consume one initiation and expect err, with the responder's state unchanged on error */
static int consume(struct side *r, const struct wg_msg_initiation *init, uint64_t now)
{
	struct hs_snap before;
	struct wg_noise_handshake *found = (void *)1;
	int ret;

	snap_take(&before, &r->hs);
	ret = wg_noise_consume_initiation(&r->id, init, lookup, r, now, &found);

	if (ret) {
		CHECK_MSG(snap_same(&before, &r->hs), "failed consume (%d) changed state", ret);
		CHECK(found == NULL);
	} else {
		CHECK(found == &r->hs);
	}
	return ret;
}

/*
 * Replay and flood rules on the responder:
 * - the same bytes again (20 ms and more later): -EALREADY by timestamp;
 * - an older or equal timestamp: -EALREADY;
 * - a newer timestamp less than 1/50 s after the last accepted: -EAGAIN.
 */
static void test_replay_and_flood(void)
{
	struct side i, r;
	struct wg_msg_initiation m_old, m1, m1_again, m2, m3;
	uint8_t ts[12];

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	ts_at(ts, REAL0 - NS);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &m_old, IDX_I, ts) == 0);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &m1, IDX_I, ts) == 0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &m1_again, IDX_I, ts) == 0); /* same ts, new e */
	ts_at(ts, REAL0 + NS);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &m2, IDX_I, ts) == 0);
	ts_at(ts, REAL0 + 2 * NS);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &m3, IDX_I, ts) == 0);

	CHECK(consume(&r, &m1, NOW0) == 0);
	/* replay of the same bytes, well past the flood interval */
	CHECK(consume(&r, &m1, NOW0 + 21 * MS) == -EALREADY);
	CHECK(consume(&r, &m1, NOW0 + 100 * NS) == -EALREADY);
	/* older timestamp */
	CHECK(consume(&r, &m_old, NOW0 + 100 * NS) == -EALREADY);
	/* equal timestamp, fresh ephemeral */
	CHECK(consume(&r, &m1_again, NOW0 + 100 * NS) == -EALREADY);
	/* newer, but within 1/50 s of the accepted one */
	CHECK(consume(&r, &m2, NOW0) == -EAGAIN);
	CHECK(consume(&r, &m2, NOW0 + 1 * MS) == -EAGAIN);
	CHECK(consume(&r, &m2, NOW0 + WG_INITIATION_MIN_INTERVAL - 1) == -EAGAIN);
	CHECK(consume(&r, &m2, NOW0 - 1) == -EAGAIN); /* clock behind the last: not trusted */
	/* exactly 1/50 s later: accepted */
	CHECK(consume(&r, &m2, NOW0 + WG_INITIATION_MIN_INTERVAL) == 0);
	CHECK(r.hs.last_initiation_consumption_ns == NOW0 + WG_INITIATION_MIN_INTERVAL);
	/* the previous one is now older */
	CHECK(consume(&r, &m1, NOW0 + NS) == -EALREADY);
	CHECK(consume(&r, &m3, NOW0 + WG_INITIATION_MIN_INTERVAL + 19 * MS) == -EAGAIN);
	CHECK(consume(&r, &m3, NOW0 + WG_INITIATION_MIN_INTERVAL + 20 * MS) == 0);
	/* the first initiation is not subject to the interval (no previous one) */
	struct side i2, r2;
	make_sides(&i2, &r2, NULL, NULL, NULL, NULL);
	CHECK(wg_noise_create_initiation(&i2.id, &i2.hs, &m1, IDX_I, ts) == 0);
	CHECK(consume(&r2, &m1, 0) == 0);
}

static void test_unknown_static(void)
{
	struct side i, r, stranger, other;
	struct wg_msg_initiation init;
	uint8_t ts[12];

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	/* stranger knows r's public key, r does not know stranger */
	make_sides(&stranger, &other, NULL, r.id.private_key, NULL, NULL);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&stranger.id, &stranger.hs, &init, IDX_I, ts) == 0);
	CHECK(consume(&r, &init, NOW0) == -ENOENT);
	/* and r with no identity refuses everything */
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	struct wg_noise_identity none = { 0 };
	struct wg_noise_handshake *found;
	CHECK(wg_noise_consume_initiation(&none, &init, lookup, &r, NOW0, &found) == -EINVAL);
	CHECK(consume(&r, &init, NOW0) == 0);
	/* a peer whose precomputed DH is unusable: -EINVAL, nothing changed */
	struct side i3, r3;
	make_sides(&i3, &r3, NULL, NULL, NULL, NULL);
	CHECK(wg_noise_create_initiation(&i3.id, &i3.hs, &init, IDX_I, ts) == 0);
	memset(r3.hs.precomputed_static_static, 0, 32);
	CHECK(consume(&r3, &init, NOW0) == -EINVAL);
}

static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

/*
 * An initiation from i to r whose ephemeral is point, built by hand the way
 * an attacker holding i's static key would if the responder accepted an
 * all-zero DH: es is taken as 32 zero bytes. Only the zero-DH check stands
 * between this message and a session.
 */
static void forge_initiation(struct wg_msg_initiation *m, const struct side *i, const struct side *r,
			     const uint8_t point[32], const uint8_t ts[12])
{
	uint8_t ck[32], h[32], key[32], zero[32] = { 0 }, init_h[32];

	memset(m, 0, sizeof(*m));
	m->header.type = WG_MSG_HANDSHAKE_INITIATION;
	wg_le32_write(&m->sender_index, IDX_I);
	memcpy(m->unencrypted_ephemeral, point, 32);
	wg_test_unhex(ck, 32, construction_hash_hex);
	wg_test_unhex(init_h, 32, identifier_hash_hex);
	wg_blake2s_hash2(h, init_h, 32, r->id.public_key, 32);
	wg_blake2s_kdf(ck, NULL, NULL, ck, point, 32);
	wg_blake2s_hash2(h, h, 32, point, 32);
	wg_blake2s_kdf(ck, key, NULL, ck, zero, 32); /* es = "0" */
	wg_aead_encrypt(m->encrypted_static, i->id.public_key, 32, h, 32, 0, key);
	wg_blake2s_hash2(h, h, 32, m->encrypted_static, 48);
	wg_blake2s_kdf(ck, key, NULL, ck, i->hs.precomputed_static_static, 32);
	wg_aead_encrypt(m->encrypted_timestamp, ts, 12, h, 32, 0, key);
}

/*
 * The response a responder with the consumed-initiation state rs would send
 * with ephemeral point if ee and se were allowed to be zero.
 */
static void forge_response(struct wg_msg_response *m, const struct wg_noise_handshake *rs, const uint8_t point[32])
{
	uint8_t ck[32], h[32], key[32], tau[32], zero[32] = { 0 };

	memset(m, 0, sizeof(*m));
	m->header.type = WG_MSG_HANDSHAKE_RESPONSE;
	wg_le32_write(&m->sender_index, IDX_R);
	wg_le32_write(&m->receiver_index, IDX_I);
	memcpy(m->unencrypted_ephemeral, point, 32);
	memcpy(ck, rs->eph->chaining_key, 32);
	memcpy(h, rs->eph->hash, 32);
	wg_blake2s_kdf(ck, NULL, NULL, ck, point, 32);
	wg_blake2s_hash2(h, h, 32, point, 32);
	wg_blake2s_kdf(ck, NULL, NULL, ck, zero, 32); /* ee = "0" */
	wg_blake2s_kdf(ck, NULL, NULL, ck, zero, 32); /* se = "0" */
	wg_blake2s_kdf(ck, tau, key, ck, rs->preshared_key, 32);
	wg_blake2s_hash2(h, h, 32, tau, 32);
	wg_aead_encrypt(m->encrypted_nothing, (const uint8_t *)"", 0, h, 32, 0, key);
}

/*
 * Low-order keys never give a session and never make us send anything:
 * (a) as the peer's static key, (b) as the ephemeral in an initiation,
 * (c) as the ephemeral in a response.
 */
static void test_low_order_keys(void)
{
	for (size_t v = 0; v < sizeof(low_order) / sizeof(low_order[0]); v++) {
		uint8_t point[32], scalar[32], dh[32], ts[12];
		struct side i, r;
		struct wg_msg_initiation init, forged;
		struct wg_msg_response resp, bad;
		struct hs_snap before, fresh_r;
		struct wg_noise_handshake fresh_hs;
		bool is_low;

		wg_test_unhex(point, 32, low_order[v]);
		wg_x25519_generate(scalar);
		is_low = wg_x25519(dh, scalar, point) != 0;
		CHECK_MSG(is_low, "value %zu is not low order for this X25519", v);
		ts_at(ts, REAL0);

		/* (a) configured static key */
		make_sides(&i, &r, NULL, NULL, NULL, NULL);
		wg_noise_handshake_init(&i.hs, &i.id, point, NULL);
		attach(&i);
		if (is_low)
			CHECK_MSG(wg_secure_is_zero(i.hs.precomputed_static_static, 32), "value %zu", v);
		snap_take(&before, &i.hs);
		memset(&init, 0xaa, sizeof(init));
		int ret = wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts);
		if (is_low) {
			CHECK_MSG(ret == -EINVAL, "value %zu: %d", v, ret);
			CHECK_MSG(wg_secure_is_zero(&init, sizeof(init)), "value %zu left bytes in dst", v);
			CHECK(wg_msg_classify(&init, sizeof(init)) == WG_MSG_INVALID);
			CHECK(snap_same(&before, &i.hs));
		} else {
			/* a real point: the initiation goes out but nobody can answer it */
			CHECK(ret == 0);
		}
		/* even with a (corrupted) non-zero precomputed DH, es stops it */
		wg_secure_random(i.hs.precomputed_static_static, 32);
		snap_take(&before, &i.hs);
		memset(&init, 0xaa, sizeof(init));
		ret = wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts);
		if (is_low) {
			CHECK_MSG(ret == -EINVAL, "value %zu: %d", v, ret);
			CHECK(wg_secure_is_zero(&init, sizeof(init)));
			CHECK(snap_same(&before, &i.hs));
		}

		/* (b) ephemeral of an initiation */
		make_sides(&i, &r, NULL, NULL, NULL, NULL);
		CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
		forged = init;
		memcpy(forged.unencrypted_ephemeral, point, 32);
		CHECK_MSG(consume(&r, &forged, NOW0) == -EBADMSG, "value %zu", v);
		CHECK(r.hs.state == WG_HANDSHAKE_ZEROED);
		/* ... also when everything else in it is right (es taken as zero) */
		forge_initiation(&forged, &i, &r, point, ts);
		CHECK_MSG(consume(&r, &forged, NOW0) == -EBADMSG, "value %zu forged", v);
		CHECK(r.hs.state == WG_HANDSHAKE_ZEROED);

		/* (c) ephemeral of a response (fresh pair: (b) must not matter) */
		make_sides(&i, &r, NULL, NULL, NULL, NULL);
		CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
		CHECK(consume(&r, &init, NOW0) == 0);
		snap_take(&fresh_r, &r.hs);
		fresh_hs = fresh_r.hs;
		fresh_hs.eph = &fresh_r.eph;
		CHECK(wg_noise_create_response(&r.id, &r.hs, &resp, IDX_R) == 0);
		bad = resp;
		memcpy(bad.unencrypted_ephemeral, point, 32);
		snap_take(&before, &i.hs);
		CHECK_MSG(wg_noise_consume_response(&i.id, &i.hs, &bad) == -EBADMSG, "value %zu", v);
		CHECK(snap_same(&before, &i.hs));
		/* ... also when everything else in it is right (ee, se taken as zero) */
		forge_response(&bad, &fresh_hs, point);
		CHECK_MSG(wg_noise_consume_response(&i.id, &i.hs, &bad) == -EBADMSG, "value %zu forged", v);
		CHECK(snap_same(&before, &i.hs));
		/* the real response still completes */
		CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	}
}

/* wrong-length and reserved-byte messages never get a type */
static void test_classify(void)
{
	static const size_t exact[] = { WG_MSG_INITIATION_LEN, WG_MSG_RESPONSE_LEN, WG_MSG_COOKIE_LEN };
	uint8_t buf[256];

	memset(buf, 0, sizeof(buf));
	for (unsigned type = 1; type <= 4; type++) {
		buf[0] = (uint8_t)type;
		for (size_t len = 0; len <= 200; len++) {
			enum wg_message_type want;

			if (type == 4)
				want = len >= 32 ? WG_MSG_DATA : WG_MSG_INVALID;
			else
				want = len == exact[type - 1] ? (enum wg_message_type)type : WG_MSG_INVALID;
			CHECK_MSG(wg_msg_classify(buf, len) == want, "type %u len %zu", type, len);
		}
		size_t len = type == 4 ? 32 : exact[type - 1];
		for (int pos = 1; pos <= 3; pos++) {
			for (int bit = 0; bit < 8; bit++) {
				buf[pos] = (uint8_t)(1u << bit);
				CHECK_MSG(wg_msg_classify(buf, len) == WG_MSG_INVALID, "type %u reserved %d", type, pos);
				buf[pos] = 0;
			}
		}
	}
	static const uint8_t bad_types[] = { 0, 5, 6, 0x80, 0xff };
	for (size_t t = 0; t < sizeof(bad_types); t++) {
		buf[0] = bad_types[t];
		for (size_t len = 0; len <= 200; len++)
			CHECK(wg_msg_classify(buf, len) == WG_MSG_INVALID);
	}
}

/* responses that are not for this handshake, or arrive in the wrong state */
static void test_response_wrong_index_and_state(void)
{
	struct side i, r;
	struct wg_msg_initiation init;
	struct wg_msg_response resp, bad;
	struct hs_snap before;
	uint8_t ts[12];

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	ts_at(ts, REAL0);
	/* no initiation pending */
	memset(&resp, 0, sizeof(resp));
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == -EINVAL);
	/* responder has consumed nothing */
	memset(&bad, 0x55, sizeof(bad));
	CHECK(wg_noise_create_response(&r.id, &r.hs, &bad, IDX_R) == -EINVAL);
	CHECK(wg_secure_is_zero(&bad, sizeof(bad)));

	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	CHECK(consume(&r, &init, NOW0) == 0);
	CHECK(wg_noise_create_response(&r.id, &r.hs, &resp, IDX_R) == 0);
	/* a second create_response in CREATED_RESPONSE is refused */
	struct hs_snap rb;
	snap_take(&rb, &r.hs);
	CHECK(wg_noise_create_response(&r.id, &r.hs, &bad, IDX_R) == -EINVAL);
	CHECK(snap_same(&rb, &r.hs));

	snap_take(&before, &i.hs);
	static const uint32_t wrong[] = { IDX_I ^ 1, IDX_I ^ 0x80000000u, 0, 0xffffffffu, IDX_R };
	for (size_t k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++) {
		bad = resp;
		wg_le32_write(&bad.receiver_index, wrong[k]);
		CHECK(wg_noise_consume_response(&i.id, &i.hs, &bad) == -EINVAL);
		CHECK(snap_same(&before, &i.hs));
	}
	/* no identity */
	struct wg_noise_identity none = { 0 };
	CHECK(wg_noise_consume_response(&none, &i.hs, &resp) == -EINVAL);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	/* consumed already: the same response again is refused */
	snap_take(&before, &i.hs);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == -EINVAL);
	CHECK(snap_same(&before, &i.hs));
	/* no identity, no initiation; dst zeroed */
	memset(&init, 0x55, sizeof(init));
	CHECK(wg_noise_create_initiation(&none, &i.hs, &init, IDX_I, ts) == -EINVAL);
	CHECK(wg_secure_is_zero(&init, sizeof(init)));
}

/* random responses with the right index never complete nor disturb the handshake */
static void test_garbage_response(void)
{
	struct side i, r;
	struct wg_msg_initiation init;
	struct wg_msg_response resp, junk;
	struct hs_snap before;
	struct wg_keypair ki, kr;
	uint8_t ts[12];

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	snap_take(&before, &i.hs);
	for (int k = 0; k < 200; k++) {
		wg_secure_random(&junk, sizeof(junk));
		junk.header.type = WG_MSG_HANDSHAKE_RESPONSE;
		memset(junk.header.reserved_zero, 0, 3);
		wg_le32_write(&junk.receiver_index, IDX_I);
		if (k == 0)
			memset(junk.encrypted_nothing, 0, sizeof(junk.encrypted_nothing));
		int ret = wg_noise_consume_response(&i.id, &i.hs, &junk);
		CHECK_MSG(ret == -EBADMSG, "garbage %d: %d", k, ret);
		CHECK(snap_same(&before, &i.hs));
	}
	CHECK(consume(&r, &init, NOW0) == 0);
	CHECK(wg_noise_create_response(&r.id, &r.hs, &resp, IDX_R) == 0);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	CHECK(wg_noise_derive_keypair(&i.hs, &ki, NOW0) == 0);
	CHECK(wg_noise_derive_keypair(&r.hs, &kr, NOW0) == 0);
	CHECK(exchange(&ki, &kr, NOW0));
}

/*
 * Every bit of the initiation's ephemeral and encrypted fields, and of the
 * response's ephemeral and empty ciphertext: rejected, nothing changed, and
 * the genuine messages still complete the handshake afterwards.
 */
static void test_bit_flips(void)
{
	struct side i, r;
	struct wg_msg_initiation init, bad;
	struct wg_msg_response resp, badr;
	struct hs_snap before;
	struct wg_keypair ki, kr;
	uint8_t ts[12];
	const size_t from = offsetof(struct wg_msg_initiation, unencrypted_ephemeral);
	const size_t to = offsetof(struct wg_msg_initiation, macs);

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	for (size_t b = from; b < to; b++) {
		for (int bit = 0; bit < 8; bit++) {
			bad = init;
			((uint8_t *)&bad)[b] ^= (uint8_t)(1u << bit);
			int ret = consume(&r, &bad, NOW0);
			CHECK_MSG(ret == -EBADMSG, "initiation byte %zu bit %d: %d", b, bit, ret);
		}
	}
	CHECK(r.hs.state == WG_HANDSHAKE_ZEROED && !r.hs.has_consumed_initiation);
	CHECK(consume(&r, &init, NOW0) == 0);
	CHECK(wg_noise_create_response(&r.id, &r.hs, &resp, IDX_R) == 0);

	snap_take(&before, &i.hs);
	for (size_t b = offsetof(struct wg_msg_response, unencrypted_ephemeral);
	     b < offsetof(struct wg_msg_response, macs); b++) {
		for (int bit = 0; bit < 8; bit++) {
			badr = resp;
			((uint8_t *)&badr)[b] ^= (uint8_t)(1u << bit);
			int ret = wg_noise_consume_response(&i.id, &i.hs, &badr);
			CHECK_MSG(ret == -EBADMSG, "response byte %zu bit %d: %d", b, bit, ret);
			CHECK(snap_same(&before, &i.hs));
		}
	}
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	CHECK(wg_noise_derive_keypair(&i.hs, &ki, NOW0) == 0);
	CHECK(wg_noise_derive_keypair(&r.hs, &kr, NOW0) == 0);
	CHECK(exchange(&ki, &kr, NOW0));
}

/* an initiation made for one responder does not open at another */
static void test_wrong_responder(void)
{
	struct side i, r, r2, i2;
	struct wg_msg_initiation init;
	uint8_t ts[12];

	make_sides(&i, &r, NULL, NULL, NULL, NULL);
	make_sides(&i2, &r2, i.id.private_key, NULL, NULL, NULL); /* r2 knows i, i aims at r */
	ts_at(ts, REAL0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	CHECK(consume(&r2, &init, NOW0) == -EBADMSG);
	CHECK(consume(&r, &init, NOW0) == 0);
}

/* ---- ephemeral storage (noise.h "Ephemeral state") ------------------------------- */

/*
 * The caller's side of the rule, as control/peers.c keeps it with a slab: a
 * pool that counts what is handed out. get attaches storage unless there is
 * some; put takes it back unless the handshake is pending, and checks it
 * holds no secret then.
 */
#define POOL_N 4
static struct {
	struct wg_noise_ephemeral obj[POOL_N];
	bool used[POOL_N];
	int out;
} pool;

static int pool_get(struct wg_noise_handshake *hs)
{
	if (hs->eph)
		return 0;
	for (int k = 0; k < POOL_N; k++)
		if (!pool.used[k]) {
			pool.used[k] = true;
			pool.out++;
			memset(&pool.obj[k], 0, sizeof(pool.obj[k]));
			hs->eph = &pool.obj[k];
			return 0;
		}
	return -ENOMEM;
}

static void pool_put(struct wg_noise_handshake *hs)
{
	if (!hs->eph || wg_noise_handshake_pending(hs))
		return;
	CHECK_MSG(wg_secure_is_zero(hs->eph, sizeof(*hs->eph)), "storage given back holds secrets");
	pool.used[hs->eph - pool.obj] = false;
	pool.out--;
	memset(hs->eph, 0x5a, sizeof(*hs->eph)); /* what the next owner must not rely on */
	hs->eph = NULL;
}

/* the lookup of control.c: attaches storage to the handshake it finds */
static struct wg_noise_handshake *pooled_found;
static struct wg_noise_handshake *pool_lookup(void *ctx, const uint8_t pk[WG_KEY_LEN])
{
	struct wg_noise_handshake *hs = lookup(ctx, pk);

	pooled_found = NULL;
	if (!hs || pool_get(hs))
		return NULL;
	pooled_found = hs;
	return hs;
}

/* consume an initiation through the pool, giving fresh storage back on failure */
static int pool_consume(struct side *r, const struct wg_msg_initiation *init, uint64_t now)
{
	struct wg_noise_handshake *found = NULL;
	int ret = wg_noise_consume_initiation(&r->id, init, pool_lookup, r, now, &found);

	if (ret && pooled_found)
		pool_put(pooled_found);
	return ret;
}

/* fresh sides without storage: the pool provides it */
static void make_pooled_sides(struct side *i, struct side *r)
{
	make_sides(i, r, NULL, NULL, NULL, NULL);
	i->hs.eph = r->hs.eph = NULL;
	memset(&pool, 0, sizeof(pool));
}

static void test_ephemeral_storage(void)
{
	struct side i, r;
	struct wg_msg_initiation init, init2;
	struct wg_msg_response resp, bad;
	struct wg_keypair ki, kr;
	struct hs_snap before;
	uint8_t ts[12];

	/* none attached: initiation and consume refuse (-ENOMEM), changing nothing */
	make_pooled_sides(&i, &r);
	ts_at(ts, REAL0);
	snap_take(&before, &i.hs);
	memset(&init, 0xaa, sizeof(init));
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == -ENOMEM);
	CHECK(snap_same(&before, &i.hs) && wg_secure_is_zero(&init, sizeof(init)));
	CHECK(pool_get(&i.hs) == 0 && pool.out == 1);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	{
		struct wg_noise_handshake *found = (void *)1;

		snap_take(&before, &r.hs);
		CHECK(wg_noise_consume_initiation(&r.id, &init, lookup, &r, NOW0, &found) == -ENOMEM);
		CHECK(found == NULL && snap_same(&before, &r.hs));
	}

	/* present only while pending, both roles: 1 (initiator) + 1 (responder), then none */
	CHECK(wg_noise_handshake_pending(&i.hs) && i.hs.eph && pool.out == 1);
	pool_put(&i.hs); /* pending: stays */
	CHECK(i.hs.eph && pool.out == 1);
	CHECK(pool_consume(&r, &init, NOW0) == 0);
	CHECK(r.hs.eph && pool.out == 2 && wg_noise_handshake_pending(&r.hs));
	CHECK(wg_noise_create_response(&r.id, &r.hs, &resp, IDX_R) == 0);
	CHECK(wg_noise_derive_keypair(&r.hs, &kr, NOW0) == 0);
	CHECK(!wg_noise_handshake_pending(&r.hs) && wg_secure_is_zero(r.hs.eph, sizeof(*r.hs.eph)));
	pool_put(&r.hs);
	CHECK(!r.hs.eph && pool.out == 1);

	/* a garbage or forged response keeps the initiator's state, byte for byte */
	bad = resp;
	bad.encrypted_nothing[3] ^= 1;
	snap_take(&before, &i.hs);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &bad) == -EBADMSG);
	pool_put(&i.hs);
	CHECK(snap_same(&before, &i.hs) && pool.out == 1);
	memset(&bad, 0, sizeof(bad));
	bad.header.type = WG_MSG_HANDSHAKE_RESPONSE;
	wg_le32_write(&bad.receiver_index, IDX_I);
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &bad) == -EBADMSG);
	pool_put(&i.hs);
	CHECK(snap_same(&before, &i.hs) && pool.out == 1);
	/* the real one completes; derive ends it and the storage goes back */
	CHECK(wg_noise_consume_response(&i.id, &i.hs, &resp) == 0);
	pool_put(&i.hs);
	CHECK(i.hs.eph && pool.out == 1);
	CHECK(wg_noise_derive_keypair(&i.hs, &ki, NOW0) == 0);
	pool_put(&i.hs);
	CHECK(!i.hs.eph && pool.out == 0);
	CHECK(exchange(&ki, &kr, NOW0));

	/* failed consumes of an initiation on an idle responder: fresh storage goes back */
	CHECK(pool_consume(&r, &init, NOW0 + NS) == -EALREADY); /* replay */
	CHECK(!r.hs.eph && pool.out == 0);
	CHECK(pool_get(&i.hs) == 0);
	ts_at(ts, REAL0 + NS);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init2, IDX_I, ts) == 0);
	CHECK(pool_consume(&r, &init2, NOW0 + 1) == -EAGAIN); /* flood: 1 ns after the last */
	CHECK(!r.hs.eph && pool.out == 1);
	init = init2;
	init.encrypted_timestamp[0] ^= 1;
	CHECK(pool_consume(&r, &init, NOW0 + NS) == -EBADMSG);
	CHECK(!r.hs.eph && pool.out == 1);

	/* a responder with an initiation of its own pending keeps that one on a failed consume */
	{
		struct wg_msg_initiation mine;

		ts_at(ts, REAL0 + 2 * NS);
		CHECK(pool_get(&r.hs) == 0 && pool.out == 2);
		CHECK(wg_noise_create_initiation(&r.id, &r.hs, &mine, IDX_R, ts) == 0);
		snap_take(&before, &r.hs);
		CHECK(pool_consume(&r, &init, NOW0 + NS) == -EBADMSG);
		CHECK(snap_same(&before, &r.hs) && pool.out == 2);
		/* a valid initiation takes the same storage (the kernel's rule: theirs wins) */
		CHECK(pool_consume(&r, &init2, NOW0 + NS) == 0);
		CHECK(r.hs.eph == before.hs.eph && pool.out == 2);
		CHECK(r.hs.state == WG_HANDSHAKE_CONSUMED_INITIATION);
		CHECK(wg_secure_is_zero(r.hs.eph->ephemeral_private, WG_KEY_LEN));
	}

	/* clear ends a handshake in either role: wiped, and it goes back */
	wg_noise_handshake_clear(&r.hs);
	CHECK(r.hs.eph && wg_secure_is_zero(r.hs.eph, sizeof(*r.hs.eph)));
	pool_put(&r.hs);
	wg_noise_handshake_clear(&i.hs);
	pool_put(&i.hs);
	CHECK(!i.hs.eph && !r.hs.eph && pool.out == 0);

	/* wipe: the storage's contents too, and the pointer */
	CHECK(pool_get(&i.hs) == 0);
	CHECK(wg_noise_create_initiation(&i.id, &i.hs, &init, IDX_I, ts) == 0);
	{
		struct wg_noise_ephemeral *e = i.hs.eph;

		wg_noise_handshake_wipe(&i.hs);
		CHECK(!i.hs.eph && wg_secure_is_zero(e, sizeof(*e)));
		pool.used[e - pool.obj] = false;
		pool.out--;
	}
	CHECK(pool.out == 0);
	wg_keypair_wipe(&ki);
	wg_keypair_wipe(&kr);
}

int main(void)
{
	TEST_BEGIN("control/noise_test");
	if (wg_crypto_init()) {
		printf("FAIL control/noise_test/crypto_init\n");
		return 1;
	}
	RUN_TEST(test_known_initial_state);
	RUN_TEST(test_identity_fixed_keys);
	RUN_TEST(test_handshake_matrix);
	RUN_TEST(test_derive_and_clear);
	RUN_TEST(test_psk_mismatch);
	RUN_TEST(test_replay_and_flood);
	RUN_TEST(test_unknown_static);
	RUN_TEST(test_low_order_keys);
	RUN_TEST(test_classify);
	RUN_TEST(test_response_wrong_index_and_state);
	RUN_TEST(test_garbage_response);
	RUN_TEST(test_bit_flips);
	RUN_TEST(test_wrong_responder);
	RUN_TEST(test_ephemeral_storage);
	return TEST_END();
}
