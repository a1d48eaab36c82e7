/* SPDX-License-Identifier: MIT */
/*
 * Transport data messages (type 4), one at a time:
 *
 *   header (type 4, 3 zero bytes) | key_idx le32 | counter le64 |
 *   ChaCha20-Poly1305(key, nonce = 0^32 || le64 counter, no AD,
 *                     plaintext || zero padding to a multiple of 16)
 *
 * Sending takes the keypair's next counter; a keypair past REJECT_AFTER_TIME
 * or at REJECT_AFTER_MESSAGES sends nothing more (the counter never wraps,
 * so a nonce is never reused under a key). Receiving authenticates first and
 * only then consults the replay window, so forged packets cannot move it;
 * plaintext is released only when both pass.
 */
#include "dataplane/transport.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/secure.h"

ssize_t wg_transport_encrypt(struct wg_keypair *kp, uint8_t *out, size_t outcap, const uint8_t *plain,
			     size_t len, size_t mtu, uint64_t now_ns)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)out;
	size_t padded, msg_len;
	uint64_t counter;

	/* len > outcap first: it also keeps the padding arithmetic from wrapping */
	if (len > outcap)
		return -ENOSPC;
	padded = wg_data_padded_len(len, mtu);
	msg_len = WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN;
	if (msg_len > outcap)
		return -ENOSPC;
	if (msg_len > SSIZE_MAX) /* the length could not be returned */
		return -ENOSPC;

	/*
	 * Take the counter only once the message will be sent. can_send
	 * guarantees send_counter < REJECT_AFTER_MESSAGES < UINT64_MAX, so the
	 * increment cannot wrap, and once the limit is reached every later call
	 * fails here.
	 */
	if (!wg_keypair_can_send(kp, now_ns))
		return -ESTALE;
	counter = kp->send_counter++;

	/* plain may overlap out's payload area: move, then pad */
	if (len)
		memmove(hdr->encrypted_data, plain, len);
	memset(hdr->encrypted_data + len, 0, padded - len);
	hdr->header.type = WG_MSG_DATA;
	memset(hdr->header.reserved_zero, 0, sizeof(hdr->header.reserved_zero));
	wg_le32_write(&hdr->key_idx, kp->remote_index);
	wg_le64_write(&hdr->counter, counter);

	wg_aead_encrypt(hdr->encrypted_data, hdr->encrypted_data, padded, NULL, 0, counter, kp->send_key);
	return (ssize_t)msg_len;
}

ssize_t wg_transport_decrypt(struct wg_keypair *kp, uint8_t *plain, size_t cap, const uint8_t *msg,
			     size_t len, uint64_t now_ns)
{
	const struct wg_msg_data *hdr = (const struct wg_msg_data *)msg;
	size_t plain_len;
	uint64_t counter;

	/* length before any field: at least a keepalive, type 4, reserved zero */
	if (wg_msg_classify(msg, len) != WG_MSG_DATA)
		return -EINVAL;
	if (len - WG_DATA_MIN_LEN > SSIZE_MAX) /* the length could not be returned */
		return -EINVAL;
	if (wg_le32_read(&hdr->key_idx) != kp->local_index)
		return -EINVAL;
	if (!wg_keypair_can_receive(kp, now_ns))
		return -ESTALE;
	plain_len = len - WG_DATA_MIN_LEN;
	if (cap < plain_len)
		return -ENOSPC;

	counter = wg_le64_read(&hdr->counter);
	if (wg_aead_decrypt(plain, hdr->encrypted_data, len - WG_DATA_HEADER_LEN, NULL, 0, counter,
			    kp->recv_key)) {
		/* aead.h promises plain untouched; wipe anyway, nothing forged leaves */
		wg_secure_wipe(plain, plain_len);
		return -EBADMSG;
	}
	/* authentic: now the window may learn the counter (and reject it) */
	if (!wg_replay_check(&kp->replay, counter)) {
		wg_secure_wipe(plain, plain_len);
		return -EALREADY;
	}
	return (ssize_t)plain_len;
}
