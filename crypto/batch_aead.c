/* SPDX-License-Identifier: MIT */
/*
 * Batch ChaCha20-Poly1305 through the intel-ipsec-mb job API.
 *
 * The job API is asynchronous: the library fills SIMD lanes with submitted
 * jobs and computes them when a lane set is full, so IMB_SUBMIT_JOB hands back
 * an earlier job (always the earliest still outstanding) or none, and
 * IMB_FLUSH_JOB forces the lanes that are only partly filled. Until a job
 * comes back the library may still read its IV, so every job in flight needs
 * its own IV buffer. We map a completed manager job back to ours through
 * user_data (our job) and user_data2 (the index of its scratch slot).
 *
 * The library never reads the received tag: in the decrypt direction it
 * writes the tag it COMPUTED over the ciphertext to auth_tag_output. We point
 * that at a scratch slot and compare it, in constant time, with the last 16
 * bytes of src, using crypto_verify_16: at 64-byte packets the general
 * sodium_memcmp behind wg_secure_equal costs about 30 ns more per message,
 * over 10% of the decrypt rate. On mismatch the plaintext already written to
 * dst is wiped before the job is reported, so forged plaintext is never
 * released.
 *
 * Jobs are processed in chunks of CHUNK: the IV and tag scratch for one chunk
 * live in struct wg_batch_aead, so a run allocates nothing, and the manager
 * (IMB_MAX_JOBS deep) can never hold more than a chunk of ours.
 *
 * Locking: none. A struct wg_batch_aead is used by one thread at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "crypto/batch_aead.h"
#include "crypto/secure.h"

#define CHUNK 64u
#define TAG_LEN 16u
#define KEY_LEN 32u
#define IV_LEN 12u

/* status of a job handed to the library that has not come back yet */
#define STATUS_PENDING (-EINPROGRESS)

_Static_assert(CHUNK <= IMB_MAX_JOBS, "a chunk must fit in the manager's job ring");
_Static_assert(TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES,
	       "the tag is compared with crypto_verify_16");

struct slot {
	uint8_t iv[16];      /* 4 zero bytes || le64 counter, then unused */
	uint8_t tag[TAG_LEN]; /* decrypt: the tag the library computed */
};

struct wg_batch_aead {
	IMB_MGR *mgr;
	const char *arch;
	struct slot slots[CHUNK];
};

struct arch_desc {
	const char *name;
	uint64_t cpuflags;
	void (*init)(IMB_MGR *mgr);
};

/* best first */
static const struct arch_desc arches[] = {
	{ "avx512", IMB_CPUFLAGS_AVX512, init_mb_mgr_avx512 },
	{ "avx2", IMB_CPUFLAGS_AVX2, init_mb_mgr_avx2 },
	{ "sse", IMB_CPUFLAGS_SSE, init_mb_mgr_sse },
};

static const uint8_t no_aad[1];

/*
 * Initialise mgr for one instruction set. The CPU flags are checked before
 * calling into the library so that it never runs an instruction the CPU
 * lacks; init itself reports missing flags or a failed self-test through
 * imb_get_errno.
 */
static int init_arch(IMB_MGR *mgr, const struct arch_desc *a)
{
	if ((mgr->features & a->cpuflags) != a->cpuflags)
		return -ENOTSUP;
	a->init(mgr);
	if (imb_get_errno(mgr) != 0)
		return -ENOTSUP;
	return 0;
}

int wg_batch_aead_create(struct wg_batch_aead **out, const char *arch)
{
	struct wg_batch_aead *ba;
	bool automatic = !arch || !strcmp(arch, "auto");
	bool known = automatic;
	int ret = -ENOTSUP;

	if (!out)
		return -EINVAL;
	*out = NULL;
	for (size_t i = 0; !known && i < sizeof(arches) / sizeof(arches[0]); i++)
		known = !strcmp(arch, arches[i].name);
	if (!known)
		return -EINVAL;

	ba = calloc(1, sizeof(*ba));
	if (!ba)
		return -ENOMEM;
	ba->mgr = alloc_mb_mgr(0);
	if (!ba->mgr) {
		ret = -ENOMEM;
		goto err_free_ba;
	}
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		if (!automatic && strcmp(arch, arches[i].name))
			continue;
		ret = init_arch(ba->mgr, &arches[i]);
		if (ret == 0) {
			ba->arch = arches[i].name;
			break;
		}
	}
	if (ret)
		goto err_free_mgr;

	*out = ba;
	return 0;

err_free_mgr:
	free_mb_mgr(ba->mgr);
err_free_ba:
	free(ba);
	return ret;
}

void wg_batch_aead_destroy(struct wg_batch_aead *ba)
{
	if (!ba)
		return;
	free_mb_mgr(ba->mgr);
	wg_secure_wipe(ba->slots, sizeof(ba->slots));
	free(ba);
}

const char *wg_batch_aead_arch(const struct wg_batch_aead *ba)
{
	return ba ? ba->arch : NULL;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Settle one job the library handed back. In the decrypt direction this is
 * where the tag is checked: status 0 only when the library completed the job
 * and the computed tag equals the received one.
 */
static void complete(struct wg_batch_aead *ba, enum wg_batch_dir dir, const IMB_JOB *job)
{
	struct wg_aead_job *j = job->user_data;
	struct slot *s = &ba->slots[(uintptr_t)job->user_data2];
	int status = 0;

	/* rejected by the library's own checks: nothing was computed */
	if (job->status != IMB_STATUS_COMPLETED)
		status = -EINVAL;
	else if (dir == WG_BATCH_DECRYPT && crypto_verify_16(s->tag, j->src + j->len) != 0)
		status = -EBADMSG;

	if (dir == WG_BATCH_DECRYPT) {
		if (status)
			wg_secure_wipe(j->dst, j->len);
		/* the computed tag of a forged message is a valid forgery: drop it */
		wg_secure_wipe(s->tag, TAG_LEN);
	}
	j->status = status;
}

static void drain(struct wg_batch_aead *ba, enum wg_batch_dir dir, IMB_JOB *job)
{
	while (job) {
		complete(ba, dir, job);
		job = IMB_GET_COMPLETED_JOB(ba->mgr);
	}
}

/* one chunk of at most CHUNK jobs; returns how many succeeded */
static unsigned run_chunk(struct wg_batch_aead *ba, enum wg_batch_dir dir, struct wg_aead_job *jobs,
			  unsigned n)
{
	IMB_MGR *mgr = ba->mgr;
	unsigned ok = 0;
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_job *j = &jobs[i];
		struct slot *s = &ba->slots[i];

		if (!j->key || !j->src || !j->dst) {
			j->status = -EINVAL;
			continue;
		}
		j->status = STATUS_PENDING;
		memset(s->iv, 0, 4);
		put_le64(s->iv + 4, j->counter);

		job = IMB_GET_NEXT_JOB(mgr);
		job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
		job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
		job->enc_keys = j->key;
		job->dec_keys = j->key;
		job->key_len_in_bytes = KEY_LEN;
		job->src = j->src;
		job->dst = j->dst;
		job->cipher_start_src_offset_in_bytes = 0;
		job->msg_len_to_cipher_in_bytes = j->len;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = j->len;
		job->iv = s->iv;
		job->iv_len_in_bytes = IV_LEN;
		job->u.CHACHA20_POLY1305.aad = no_aad;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = 0;
		job->auth_tag_output_len_in_bytes = TAG_LEN;
		if (dir == WG_BATCH_ENCRYPT) {
			job->cipher_direction = IMB_DIR_ENCRYPT;
			job->chain_order = IMB_ORDER_CIPHER_HASH;
			job->auth_tag_output = j->dst + j->len;
		} else {
			job->cipher_direction = IMB_DIR_DECRYPT;
			job->chain_order = IMB_ORDER_HASH_CIPHER;
			job->auth_tag_output = s->tag;
		}
		job->user_data = j;
		job->user_data2 = (void *)(uintptr_t)i;

		drain(ba, dir, IMB_SUBMIT_JOB(mgr));
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		drain(ba, dir, job);

	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_job *j = &jobs[i];

		/* never handed back by the library: fail it, release nothing */
		if (j->status == STATUS_PENDING) {
			j->status = -EIO;
			if (dir == WG_BATCH_DECRYPT)
				wg_secure_wipe(j->dst, j->len);
		}
		ok += j->status == 0;
	}
	return ok;
}

unsigned wg_batch_aead_run(struct wg_batch_aead *ba, enum wg_batch_dir dir,
			   struct wg_aead_job *jobs, unsigned n)
{
	unsigned ok = 0;

	if (!jobs)
		return 0;
	if (!ba || (dir != WG_BATCH_ENCRYPT && dir != WG_BATCH_DECRYPT)) {
		for (unsigned i = 0; i < n; i++)
			jobs[i].status = -EINVAL;
		return 0;
	}
	for (unsigned off = 0; off < n; off += CHUNK)
		ok += run_chunk(ba, dir, jobs + off, n - off < CHUNK ? n - off : CHUNK);
	return ok;
}
