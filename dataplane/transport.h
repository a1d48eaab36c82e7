/* SPDX-License-Identifier: MIT */
/*
 * Transport data messages (type 4) one at a time, on libsodium: what
 * wgprobe and the tests use. The DPDK data path does the same work in
 * bursts through crypto/batch_aead.h; both follow these rules:
 * - plaintext is zero-padded to a multiple of 16 (not above mtu when mtu != 0);
 * - nonce = the keypair's next send counter; a keypair refuses to send once
 *   older than REJECT_AFTER_TIME or at REJECT_AFTER_MESSAGES;
 * - on receive: authenticate first, then the replay window.
 */
#ifndef WG_TRANSPORT_H
#define WG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keypair.h"

/* bytes a message for a plaintext of len bytes takes */
static inline size_t wg_transport_msg_len(size_t len, size_t mtu)
{
	return WG_DATA_HEADER_LEN + wg_data_padded_len(len, mtu) + WG_AEAD_TAG_LEN;
}

/*
 * Build a data message for plain[0..len) (len 0: keepalive) into out.
 * Returns the message length, -ENOSPC (outcap too small) or -ESTALE (the
 * keypair may not send any more).
 */
ssize_t wg_transport_encrypt(struct wg_keypair *kp, uint8_t *out, size_t outcap, const uint8_t *plain,
			     size_t len, size_t mtu, uint64_t now_ns);

/*
 * Open a data message (already matched to kp by its receiver index) into
 * plain. Returns the padded plaintext length (0 for a keepalive), -EINVAL
 * (malformed or wrong index), -ENOSPC, -ESTALE (keypair expired), -EBADMSG
 * (authentication failed; plain holds nothing), or -EALREADY (replayed or
 * outside the window).
 */
ssize_t wg_transport_decrypt(struct wg_keypair *kp, uint8_t *plain, size_t cap, const uint8_t *msg,
			     size_t len, uint64_t now_ns);

#endif
