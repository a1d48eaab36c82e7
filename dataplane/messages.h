/* SPDX-License-Identifier: MIT */
/*
 * WireGuard wire formats and protocol constants: the one place they live.
 *
 * Every multi-byte integer on the wire is little-endian, except the TAI64N
 * timestamp inside the (encrypted) initiation, which is big-endian. Structs
 * are packed and their sizes asserted below; code that parses a packet must
 * check its length against these sizes before casting.
 */
#ifndef WG_MESSAGES_H
#define WG_MESSAGES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- sizes of primitives ------------------------------------------------ */
#define WG_KEY_LEN        32u /* X25519 keys, symmetric keys, hashes */
#define WG_HASH_LEN       32u
#define WG_AEAD_TAG_LEN   16u
#define WG_COOKIE_LEN     16u
#define WG_MAC_LEN        16u
#define WG_TIMESTAMP_LEN  12u /* TAI64N */
#define WG_XNONCE_LEN     24u
#define WG_COOKIE_SECRET_LEN 32u

/* ---- Noise parameters --------------------------------------------------- */
#define WG_NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_NOISE_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define WG_LABEL_MAC1         "mac1----"
#define WG_LABEL_COOKIE       "cookie--"

/* ---- message types ------------------------------------------------------ */
enum wg_message_type {
	WG_MSG_INVALID = 0,
	WG_MSG_HANDSHAKE_INITIATION = 1,
	WG_MSG_HANDSHAKE_RESPONSE = 2,
	WG_MSG_HANDSHAKE_COOKIE = 3,
	WG_MSG_DATA = 4,
};

/* ---- time (all times in this code base are nanoseconds) ----------------- */
#define WG_NSEC_PER_SEC  1000000000ull
#define WG_NSEC_PER_MSEC 1000000ull

#define WG_REKEY_AFTER_MESSAGES  (1ull << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))  /* 2^64 - 2^13 - 1 */
#define WG_REKEY_TIMEOUT         (5ull * WG_NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT_JITTER_MAX (WG_NSEC_PER_SEC / 3)
#define WG_KEEPALIVE_TIMEOUT     (10ull * WG_NSEC_PER_SEC)
#define WG_REKEY_AFTER_TIME      (120ull * WG_NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME    (90ull * WG_NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME     (180ull * WG_NSEC_PER_SEC)
/* initiator rekeys on receive when its current keypair is older than this */
#define WG_REKEY_AFTER_TIME_RECV (WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT)
#define WG_ZERO_KEYS_AFTER       (3ull * WG_REJECT_AFTER_TIME)
#define WG_COOKIE_SECRET_MAX_AGE (120ull * WG_NSEC_PER_SEC)
#define WG_COOKIE_SECRET_LATENCY (5ull * WG_NSEC_PER_SEC)
#define WG_COOKIE_MAX_AGE        (WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY)
#define WG_INITIATIONS_PER_SECOND 50u
#define WG_INITIATION_MIN_INTERVAL (WG_NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)
#define WG_MAX_TIMER_HANDSHAKES  (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)

/* rate limiter for handshake messages under load (per IPv4 /32, IPv6 /64) */
#define WG_RATELIMIT_PACKETS_PER_SECOND 20u
#define WG_RATELIMIT_PACKETS_BURST      5u

/* ---- transport data ----------------------------------------------------- */
#define WG_DATA_PADDING_MULTIPLE 16u
#define WG_DATA_HEADER_LEN       16u
#define WG_DATA_MIN_LEN          (WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN) /* keepalive */
/* padded length of a plaintext of len bytes, never above mtu (kernel rule) */
static inline size_t wg_data_padded_len(size_t len, size_t mtu)
{
	size_t padded = (len + WG_DATA_PADDING_MULTIPLE - 1) & ~(size_t)(WG_DATA_PADDING_MULTIPLE - 1);
	if (mtu && padded > mtu && len <= mtu)
		padded = mtu;
	return padded;
}

/* ---- wire structs ------------------------------------------------------- */
struct wg_msg_header {
	uint8_t type;
	uint8_t reserved_zero[3];
} __attribute__((packed));

struct wg_msg_macs {
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
} __attribute__((packed));

struct wg_msg_initiation {
	struct wg_msg_header header;
	uint32_t sender_index; /* le */
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_static[WG_KEY_LEN + WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TIMESTAMP_LEN + WG_AEAD_TAG_LEN];
	struct wg_msg_macs macs;
} __attribute__((packed));

struct wg_msg_response {
	struct wg_msg_header header;
	uint32_t sender_index;   /* le */
	uint32_t receiver_index; /* le */
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_nothing[WG_AEAD_TAG_LEN];
	struct wg_msg_macs macs;
} __attribute__((packed));

struct wg_msg_cookie {
	struct wg_msg_header header;
	uint32_t receiver_index; /* le */
	uint8_t nonce[WG_XNONCE_LEN];
	uint8_t encrypted_cookie[WG_COOKIE_LEN + WG_AEAD_TAG_LEN];
} __attribute__((packed));

struct wg_msg_data {
	struct wg_msg_header header;
	uint32_t key_idx; /* le: receiver index */
	uint64_t counter; /* le */
	uint8_t encrypted_data[];
} __attribute__((packed));

#define WG_MSG_INITIATION_LEN 148u
#define WG_MSG_RESPONSE_LEN   92u
#define WG_MSG_COOKIE_LEN     64u

_Static_assert(sizeof(struct wg_msg_header) == 4, "header size");
_Static_assert(sizeof(struct wg_msg_initiation) == WG_MSG_INITIATION_LEN, "initiation size");
_Static_assert(sizeof(struct wg_msg_response) == WG_MSG_RESPONSE_LEN, "response size");
_Static_assert(sizeof(struct wg_msg_cookie) == WG_MSG_COOKIE_LEN, "cookie size");
_Static_assert(sizeof(struct wg_msg_data) == WG_DATA_HEADER_LEN, "data header size");

/* mac1 covers the message up to (not including) the macs; mac2 up to mac2 */
#define WG_MSG_MAC1_OFFSET(len) ((len) - sizeof(struct wg_msg_macs))
#define WG_MSG_MAC2_OFFSET(len) ((len) - WG_MAC_LEN)

/* ---- little-endian helpers (wire fields are unaligned) ------------------ */
static inline uint32_t wg_le32_read(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void wg_le32_write(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
}

static inline uint64_t wg_le64_read(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)wg_le32_read(b) | (uint64_t)wg_le32_read(b + 4) << 32;
}

static inline void wg_le64_write(void *p, uint64_t v)
{
	wg_le32_write(p, (uint32_t)v);
	wg_le32_write((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/*
 * Returns the message type if buf/len is a well-formed message of a known type
 * with zero reserved bytes and the exact size for its type (data: at least a
 * keepalive), else WG_MSG_INVALID. Length check before any field access.
 */
static inline enum wg_message_type wg_msg_classify(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	if (len < sizeof(struct wg_msg_header) || b[1] || b[2] || b[3])
		return WG_MSG_INVALID;
	switch (b[0]) {
	case WG_MSG_HANDSHAKE_INITIATION:
		return len == WG_MSG_INITIATION_LEN ? WG_MSG_HANDSHAKE_INITIATION : WG_MSG_INVALID;
	case WG_MSG_HANDSHAKE_RESPONSE:
		return len == WG_MSG_RESPONSE_LEN ? WG_MSG_HANDSHAKE_RESPONSE : WG_MSG_INVALID;
	case WG_MSG_HANDSHAKE_COOKIE:
		return len == WG_MSG_COOKIE_LEN ? WG_MSG_HANDSHAKE_COOKIE : WG_MSG_INVALID;
	case WG_MSG_DATA:
		return len >= WG_DATA_MIN_LEN ? WG_MSG_DATA : WG_MSG_INVALID;
	default:
		return WG_MSG_INVALID;
	}
}

#endif /* WG_MESSAGES_H */
