/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for every parser of outer packets in libwgproto: the
 * message classifier and everything that consumes a received message
 * (initiation, response, cookie reply, mac1/mac2 check, transport data).
 *
 * The first input byte picks the consumer; the rest is the message body,
 * cut or padded to the size the consumer needs so the fuzzer reaches the
 * crypto checks instead of the length checks (the length checks get the
 * raw input in mode 0). State (an identity, a peer with a pending
 * handshake, a keypair) is built once; nothing here may succeed on forged
 * input, and whatever does succeed must be self-consistent, or we abort.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/cookie.h"
#include "control/noise.h"
#include "control/tai64n.h"
#include "crypto/secure.h"
#include "dataplane/messages.h"
#include "dataplane/transport.h"

static struct wg_noise_identity local, remote;
static struct wg_noise_handshake peer_hs;    /* our view of the remote peer */
static struct wg_noise_handshake pending_hs; /* a handshake we initiated */
static struct wg_noise_ephemeral peer_eph, pending_eph; /* their storage (noise.h "Ephemeral state") */
static struct wg_cookie_checker checker;
static struct wg_cookie_maker maker;
static struct wg_keypair kp;
static uint64_t now_ns = 1000 * WG_NSEC_PER_SEC;

static struct wg_noise_handshake *lookup(void *ctx, const uint8_t pub[WG_KEY_LEN])
{
	(void)ctx;
	return memcmp(pub, peer_hs.remote_static, WG_KEY_LEN) == 0 ? &peer_hs : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t sk[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_msg_initiation init;

	(void)argc;
	(void)argv;
	if (wg_crypto_init())
		abort();
	memset(sk, 0x11, sizeof(sk));
	wg_noise_identity_set(&local, sk);
	memset(sk, 0x22, sizeof(sk));
	wg_noise_identity_set(&remote, sk);
	wg_noise_handshake_init(&peer_hs, &local, remote.public_key, NULL);
	wg_noise_handshake_init(&pending_hs, &local, remote.public_key, NULL);
	peer_hs.eph = &peer_eph;
	pending_hs.eph = &pending_eph;
	wg_tai64n_encode(ts, now_ns);
	if (wg_noise_create_initiation(&local, &pending_hs, &init, 0x01020304, ts))
		abort();
	wg_cookie_checker_init(&checker, local.public_key);
	wg_cookie_maker_init(&maker);
	wg_cookie_add_macs(&maker, remote.public_key, (uint8_t *)&init, sizeof(init), now_ns);
	memset(kp.send_key, 0x33, WG_KEY_LEN);
	memset(kp.recv_key, 0x33, WG_KEY_LEN);
	kp.local_index = 0x05060708;
	kp.remote_index = 0x05060708;
	kp.birth_ns = now_ns;
	kp.valid = true;
	wg_replay_init(&kp.replay);
	return 0;
}

/* copy src into a zeroed dst of exactly n bytes */
static void fit(void *dst, size_t n, const uint8_t *src, size_t len)
{
	memset(dst, 0, n);
	memcpy(dst, src, len < n ? len : n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[2048], out[2048];
	struct wg_endpoint src = { .family = AF_INET, .port = 0x3412, .addr = { 192, 0, 2, 1 } };
	struct wg_noise_handshake *hs = NULL, saved;
	struct wg_noise_ephemeral saved_eph;
	ssize_t n;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	now_ns += WG_NSEC_PER_SEC; /* past the initiation flood limit every time */
	kp.birth_ns = now_ns;      /* and the keypair stays fresh */

	switch (mode % 7) {
	case 0: /* raw classification of any length */
		(void)wg_msg_classify(data, size);
		break;
	case 1: { /* initiation */
		struct wg_msg_initiation m;
		fit(&m, sizeof(m), data, size);
		if (wg_noise_consume_initiation(&local, &m, lookup, NULL, now_ns, &hs) == 0)
			abort(); /* cannot be forged without the remote's static key */
		break;
	}
	case 2: { /* response to our pending initiation */
		struct wg_msg_response m;
		fit(&m, sizeof(m), data, size);
		wg_le32_write(&m.receiver_index, 0x01020304);
		saved = pending_hs;
		saved_eph = pending_eph;
		if (wg_noise_consume_response(&local, &pending_hs, &m) == 0)
			abort();
		if (memcmp(&saved, &pending_hs, sizeof(saved)) || memcmp(&saved_eph, &pending_eph, sizeof(saved_eph)))
			abort(); /* a failed consume must change nothing */
		break;
	}
	case 3: { /* cookie reply */
		struct wg_msg_cookie m;
		struct wg_cookie_maker before = maker;
		fit(&m, sizeof(m), data, size);
		if (wg_cookie_consume_reply(&maker, remote.public_key, &m, now_ns) == 0)
			abort();
		if (memcmp(&before, &maker, sizeof(before)))
			abort();
		break;
	}
	case 4: /* mac1/mac2 of a handshake message of fuzzed length */
		if (size > sizeof(buf))
			size = sizeof(buf);
		memcpy(buf, data, size);
		if (size >= sizeof(struct wg_msg_macs) &&
		    wg_cookie_validate(&checker, buf, size, &src, mode & 0x80, now_ns) != WG_COOKIE_INVALID_MAC)
			abort();
		break;
	case 5: /* transport data: forged messages never open */
		if (size > sizeof(buf))
			size = sizeof(buf);
		memcpy(buf, data, size);
		if (size >= 8)
			wg_le32_write(buf + 4, kp.local_index);
		n = wg_transport_decrypt(&kp, out, sizeof(out), buf, size, now_ns);
		if (n >= 0)
			abort();
		break;
	case 6: { /* sealed by us with a fuzzed counter: opens once, then is a replay */
		size_t len = size > 1400 ? 1400 : size;
		uint64_t ctr = 0;
		memcpy(&ctr, data, len < 8 ? len : 8);
		kp.send_counter = ctr;
		n = wg_transport_encrypt(&kp, buf, sizeof(buf), data, len, 0, now_ns);
		if (n < 0)
			break; /* counter at the limit */
		ssize_t m1 = wg_transport_decrypt(&kp, out, sizeof(out), buf, (size_t)n, now_ns);
		if (m1 >= 0 && ((size_t)m1 < len || memcmp(out, data, len)))
			abort(); /* opened, but not to what we sealed */
		if (wg_transport_decrypt(&kp, out, sizeof(out), buf, (size_t)n, now_ns) != -EALREADY)
			abort(); /* the same message twice */
		break;
	}
	}
	return 0;
}
