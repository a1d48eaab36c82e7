/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the state file reader (conf/statefile.c). Each input
 * becomes a snapshot file and a journal file in a private directory (made
 * once per process under /dev/shm, else /tmp, and removed at exit); then
 *   - wg_statefile_read either fails (-EBADMSG, -ENOENT only when neither
 *     file exists) with a one-line message and the load all zero, or
 *     succeeds with: the snapshot as in the file, records whose seq goes up
 *     by exactly one from the snapshot's seq + 1 (1 without a snapshot),
 *     payloads that lie in order inside the parsed part of the journal and
 *     hold the file's bytes, a torn tail that covers exactly the rest of the
 *     file, and last_seq the last record's (else the snapshot's);
 *   - after a successful read, wg_statefile_open with its last_seq, one
 *     wg_statefile_append and wg_statefile_close, and a second read gives
 *     the same snapshot and records plus the appended one, with no torn
 *     tail. The append's fdatasync costs nothing on tmpfs.
 *
 * Layout: byte 0 holds flags, bytes 1-2 the snapshot's length (little-
 * endian, cut to what follows), then the snapshot's bytes, then the
 * journal's. The sums are BLAKE2s, which no fuzzer forges, so flags let the
 * target fill them in:
 *   bit 0  no snapshot file        bit 1  no journal file
 *   bit 2  fix the snapshot: magic, version, length field and checksum
 *   bit 3  fix the journal: for each record that starts with the magic, its
 *          header check and (when the file holds all of it) its checksum
 *   bit 4  with bit 3, number the records on from the first one's seq
 *   bit 5  with bit 3, leave the last complete record's checksum as given
 *          (all zero is a torn append, anything else corruption)
 *   bit 6  with bit 4, start at the snapshot's seq + 1 (1 without one),
 *   bit 7  with bit 6, one lower (a record the snapshot already holds)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/statefile.h"
#include "crypto/blake2s.h"

#define SNAP_HDR 32u
#define REC_HDR 32u
#define SUM 32u
#define ERRLEN 512

static char dir[64], path[96], jpath[112];

static void cleanup(void)
{
	char tmp[112];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(path);
	unlink(jpath);
	unlink(tmp);
	rmdir(dir);
}

static void setup(void)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
				   ? "/dev/shm"
				   : "/tmp";

	snprintf(dir, sizeof(dir), "%s/fuzz_statefile.XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(jpath, sizeof(jpath), "%s.journal", path);
	atexit(cleanup);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void write_file(const char *name, const uint8_t *data, size_t len, bool present)
{
	int fd;

	if (!present) {
		if (unlink(name) < 0 && errno != ENOENT)
			abort();
		return;
	}
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd) < 0) {
		perror(name);
		abort();
	}
}

static void fix_snapshot(uint8_t *s, size_t len)
{
	if (len < SNAP_HDR + SUM)
		return;
	memcpy(s, "wgdp-state\n", 12);
	put_le(s + 12, 1, 4);
	put_le(s + 24, len - SNAP_HDR - SUM, 8);
	wg_blake2s_hash(s + len - SUM, s, len - SUM);
}

static void fix_journal(uint8_t *j, size_t size, unsigned flags, uint64_t snap_seq)
{
	uint8_t sum[SUM];
	uint64_t seq = 0, len;
	size_t off = 0;

	if (flags & 0x40)
		seq = snap_seq + 1 - ((flags & 0x80) ? 1 : 0);
	for (bool first = true; size - off >= REC_HDR; first = false) {
		uint8_t *h = j + off;

		if (memcmp(h, "wgjr", 4))
			return;
		if (flags & 0x10) {
			if (first && !(flags & 0x40))
				seq = get_le64(h + 8);
			put_le(h + 8, seq++, 8);
		}
		wg_blake2s_hash(sum, h, 24);
		memcpy(h + 24, sum, 8);
		len = get_le64(h + 16);
		if (len > size - off - REC_HDR || size - off - REC_HDR - len < SUM)
			return;
		if (!((flags & 0x20) && size - off - REC_HDR - len - SUM < REC_HDR))
			wg_blake2s_hash2(h + REC_HDR + len, h, REC_HDR, h + REC_HDR, len);
		off += REC_HDR + len + SUM;
	}
}

static void check_message(const char *err, bool empty)
{
	if (!memchr(err, '\0', ERRLEN) || strchr(err, '\n') || (empty ? err[0] != '\0' : err[0] == '\0')) {
		fprintf(stderr, "bad message: `%.*s'\n", ERRLEN, err);
		abort();
	}
}

/* l as read from snapshot s (has_s) and journal j (has_j) */
static void check_load(const struct wg_statefile_load *l, const uint8_t *s, size_t slen, bool has_s,
		       const uint8_t *j, size_t jlen, bool has_j, const char *err)
{
	uint64_t want = 1, end = 0;

	if (l->has_snapshot != has_s || (!has_s && (l->snapshot || l->snapshot_len || l->snapshot_seq)))
		abort();
	if (has_s) {
		if (!l->snapshot || l->snapshot_len + SNAP_HDR + SUM != slen ||
		    memcmp(l->snapshot, s + SNAP_HDR, l->snapshot_len) || l->snapshot_seq != get_le64(s + 16))
			abort();
		want = l->snapshot_seq + 1;
	}
	if (!has_j && (l->journal_buf || l->journal_buf_len || l->n_records || l->journal_len || l->torn_tail))
		abort();
	if (has_j && (l->journal_buf_len != jlen || l->journal_len > jlen))
		abort();
	if (l->n_records && !l->records)
		abort();
	for (size_t i = 0; i < l->n_records; i++) {
		const struct wg_statefile_record *r = &l->records[i];
		size_t at;

		if (r->seq != want + i || (has_s && r->seq <= l->snapshot_seq)) {
			fprintf(stderr, "record %zu has seq %llu, want %llu\n", i, (unsigned long long)r->seq,
				(unsigned long long)(want + i));
			abort();
		}
		if (r->data < l->journal_buf + REC_HDR || r->data > l->journal_buf + l->journal_len)
			abort();
		at = (size_t)(r->data - l->journal_buf);
		if (at < end + REC_HDR || r->len > l->journal_len - at || l->journal_len - at - r->len < SUM ||
		    memcmp(r->data, j + at, r->len))
			abort();
		end = at + r->len + SUM;
	}
	if (l->last_seq != (l->n_records ? l->records[l->n_records - 1].seq : l->snapshot_seq))
		abort();
	if (l->torn_tail) {
		if (l->torn_offset != l->journal_len || l->torn_offset + l->torn_bytes != jlen || !l->torn_bytes)
			abort();
		check_message(err, false);
	} else {
		if (l->torn_offset || l->torn_bytes || (has_j && l->journal_len != jlen))
			abort();
		check_message(err, true);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_statefile_load l, l2;
	struct wg_statefile *sf;
	bool has_s, has_j;
	uint8_t *buf, *s, *j, payload[16];
	size_t slen, jlen, plen;
	char err[ERRLEN];
	unsigned flags;
	int ret;

	if (size < 3)
		return 0;
	if (!dir[0])
		setup();
	flags = data[0];
	slen = (size_t)data[1] | (size_t)data[2] << 8;
	if (slen > size - 3)
		slen = size - 3;
	jlen = size - 3 - slen;
	has_s = !(flags & 1);
	has_j = !(flags & 2);
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 3, size - 3);
	s = buf;
	j = buf + slen;
	if (flags & 4)
		fix_snapshot(s, slen);
	if (flags & 8)
		fix_journal(j, jlen, flags, has_s && slen >= SNAP_HDR ? get_le64(s + 16) : 0);
	write_file(path, s, slen, has_s);
	write_file(jpath, j, jlen, has_j);

	memset(err, 'x', sizeof(err));
	ret = wg_statefile_read(path, &l, err, sizeof(err));
	if (ret) {
		if (!(ret == -EBADMSG || ret == -ENOMEM || (ret == -ENOENT && !has_s && !has_j)) ||
		    !is_zero(&l, sizeof(l))) {
			fprintf(stderr, "read: %d: %s\n", ret, err);
			abort();
		}
		check_message(err, false);
		free(buf);
		return 0;
	}
	if (!has_s && !has_j)
		abort();
	check_load(&l, s, slen, has_s, j, jlen, has_j, err);

	/* the writer takes it from there: one append comes back last */
	ret = wg_statefile_open(&sf, path, l.last_seq, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "open after a good read: %d: %s\n", ret, err);
		abort();
	}
	/* open cuts off a torn tail or records the snapshot holds, and says so */
	check_message(err, (l.n_records ? l.journal_len : 0) == (has_j ? jlen : 0));
	if (wg_statefile_last_seq(sf) != l.last_seq ||
	    wg_statefile_journal_bytes(sf) != (l.n_records ? l.journal_len : 0) ||
	    wg_statefile_snapshot_bytes(sf) != (has_s ? slen : 0))
		abort();
	plen = size < sizeof(payload) ? size : sizeof(payload);
	memcpy(payload, data + size - plen, plen);
	ret = wg_statefile_append(sf, payload, plen);
	wg_statefile_close(sf);
	if (l.last_seq == UINT64_MAX) {
		if (ret != -EOVERFLOW)
			abort();
		goto out;
	}
	if (ret) {
		fprintf(stderr, "append: %d\n", ret);
		abort();
	}
	ret = wg_statefile_read(path, &l2, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "read after the append: %d: %s\n", ret, err);
		abort();
	}
	check_message(err, true);
	if (l2.torn_tail || l2.has_snapshot != l.has_snapshot || l2.snapshot_seq != l.snapshot_seq ||
	    l2.snapshot_len != l.snapshot_len || (l.has_snapshot && memcmp(l2.snapshot, l.snapshot, l.snapshot_len)) ||
	    l2.n_records != l.n_records + 1 || l2.last_seq != l.last_seq + 1)
		abort();
	for (size_t i = 0; i < l.n_records; i++)
		if (l2.records[i].seq != l.records[i].seq || l2.records[i].len != l.records[i].len ||
		    memcmp(l2.records[i].data, l.records[i].data, l.records[i].len))
			abort();
	if (l2.records[l.n_records].seq != l.last_seq + 1 || l2.records[l.n_records].len != plen ||
	    memcmp(l2.records[l.n_records].data, payload, plen))
		abort();
	wg_statefile_load_free(&l2);
out:
	wg_statefile_load_free(&l);
	free(buf);
	return 0;
}
