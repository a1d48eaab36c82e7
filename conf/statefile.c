// SPDX-License-Identifier: MIT
/*
 * Snapshot plus journal: every accepted change is appended to PATH.journal
 * and fdatasync'ed before the API answers; from time to time the whole state
 * is written as a new snapshot PATH and the journal emptied. Writing the
 * whole state for every change would cost O(n) per change.
 *
 * All integers are little-endian. SUM = BLAKE2s-256 (plain: this protects
 * against torn writes and bit rot, not against someone who can write the
 * files).
 *
 * Snapshot PATH (written as PATH.tmp, fsync, rename over PATH, fsync the
 * directory, so it is always complete unless the disk damaged it):
 *   0  magic "wgdp-state\n\0"          12 bytes
 *   12 version = 1                      u32
 *   16 seq: last journal record it includes (0: none)   u64
 *   24 len: payload length              u64
 *   32 payload                          len bytes
 *   .. SUM(bytes 0 .. 32 + len)         32 bytes
 * Any defect (magic, version, a file size other than 64 + len, checksum) is
 * -EBADMSG.
 *
 * Journal PATH.journal, a sequence of records:
 *   0  magic "wgjr"                     4 bytes
 *   4  version = 1                      u32
 *   8  seq                              u64
 *   16 len                              u64
 *   24 header check: the first 8 bytes of SUM(bytes 0 .. 24)
 *   32 payload                          len bytes
 *   .. SUM(bytes 0 .. 32 + len)         32 bytes
 * Sequence numbers go up by exactly 1. Without a snapshot the first is 1;
 * with one, the first is at most snapshot seq + 1 (records at or below the
 * snapshot's seq are leftovers of a compaction interrupted between the
 * rename and the truncation, and are skipped).
 *
 * Torn tail versus corruption. An append that was never acknowledged (the
 * crash came before its fdatasync returned) can only leave bytes after the
 * last complete record, because the writer never writes after a partial
 * record. The header check makes every complete record's framing
 * trustworthy: a damaged length field is a header check failure, never a
 * record that seems to run past the end of the file. So the end of the
 * journal is a torn tail, reported (torn_tail, err) and dropped, only when:
 *   - fewer than 32 bytes follow the last good record (a partial header);
 *   - a valid header (magic, check, version, length, the next sequence
 *     number) describes a record that runs past the end of the file;
 *   - everything from the last good record to the end is zero bytes, or the
 *     last record is complete in length but its checksum field is all zero
 *     (filesystems that extend the size before the data lands read the
 *     missing data as zeros).
 * Everything else is corruption, -EBADMSG with the byte offset: a bad magic
 * or header check with non-zero data after it, a checksum mismatch in a
 * complete record, a sequence gap, repeat or decrease, a version or length
 * out of range. A single changed byte anywhere in either file is therefore
 * always -EBADMSG. What cannot be told from a torn append is loss of the
 * file's end (a truncation or zeroing by the filesystem at a record
 * boundary or inside the last record): that is reported as a torn tail.
 *
 * Failed appends: on a write or fdatasync error the journal is cut back to
 * its previous length (ftruncate + fdatasync) so no partial record can sit
 * in front of later ones. If that fails too, the writer refuses further
 * appends (-EIO) until a compaction succeeds or it is reopened; whatever the
 * disk then holds ends with at most one extra record, either torn or (when
 * only the fdatasync failed) complete: the refused change may reappear after
 * a restart in that double-failure case.
 *
 * Compaction: the snapshot is renamed into place (and the directory synced)
 * before the journal is truncated. A crash between the two leaves the old
 * records, which the sequence numbers mark as already included; a failure
 * at any step leaves a snapshot and journal that describe the same state.
 * A PATH.tmp left by a crash before the rename is ignored by reads and
 * removed by the writer's open.
 *
 * One writer: open takes flock(LOCK_EX) on the journal (-EBUSY for a second
 * one) and re-reads the state under the lock, so it cannot trim a record a
 * caller has not seen (-ESTALE when the state moved since the read).
 *
 * Files are created 0600 and fchmod'ed to it (they hold private keys). The
 * payloads are written from the caller's buffers (pwritev, no copies); what
 * a read allocates is wiped when freed. Freed disk blocks (an old snapshot,
 * a truncated journal) are not overwritten: that needs disk encryption.
 */
#include "conf/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crypto/blake2s.h"
#include "crypto/secure.h"

#define SNAP_MAGIC "wgdp-state\n" /* with its NUL: 12 bytes */
#define SNAP_MAGIC_LEN 12u
#define SNAP_HDR 32u
#define REC_MAGIC "wgjr"
#define REC_MAGIC_LEN 4u
#define REC_HDR 32u
#define REC_CHECK_AT 24u
#define REC_CHECK_LEN 8u
#define FORMAT_VERSION 1u
#define SUM_LEN WG_BLAKE2S_HASH_LEN

_Static_assert(sizeof(SNAP_MAGIC) == SNAP_MAGIC_LEN, "snapshot magic length");
_Static_assert(REC_CHECK_AT + REC_CHECK_LEN == REC_HDR, "record header layout");

/* the state path split into a directory and the names inside it */
struct names {
	const char *path;
	char dir[PATH_MAX];
	char snap[NAME_MAX + 1], journal[NAME_MAX + 1], tmp[NAME_MAX + 1];
	char jpath[PATH_MAX + 16];
};

struct wg_statefile {
	struct names n;
	int dirfd, jfd;
	uint64_t last_seq, jsize, snap_size;
	int broken; /* errno that left a possibly partial record at the end */
	char err[512];
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void free_wiped(void *p, size_t len)
{
	if (p) {
		wg_secure_wipe(p, len);
		free(p);
	}
}

static int split_path(struct names *n, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;

	n->path = path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return fail(err, errlen, -EINVAL, "state path `%s' does not name a file", path);
	if (strlen(path) >= PATH_MAX || strlen(base) + sizeof(".journal") > sizeof(n->snap))
		return fail(err, errlen, -ENAMETOOLONG, "state path `%s' is too long", path);
	if (!slash)
		strcpy(n->dir, ".");
	else if (dirlen == 0)
		strcpy(n->dir, "/");
	else
		snprintf(n->dir, sizeof(n->dir), "%.*s", (int)dirlen, path);
	snprintf(n->snap, sizeof(n->snap), "%s", base);
	snprintf(n->journal, sizeof(n->journal), "%s.journal", base);
	snprintf(n->tmp, sizeof(n->tmp), "%s.tmp", base);
	snprintf(n->jpath, sizeof(n->jpath), "%s.journal", path);
	return 0;
}

static int open_dir(const struct names *n, char *err, size_t errlen)
{
	int fd = open(n->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return fail(err, errlen, -ENOENT, "directory %s of the state file %s does not exist",
			    n->dir, n->path);
	return fail(err, errlen, -errno, "cannot open directory %s of the state file %s: %s", n->dir,
		    n->path, strerror(errno));
}

/* read up to len bytes; the count read (short only at end of file) or -errno */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (uint8_t *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Write all of iov at offset off, through short writes and EINTR. 0 or
 * -errno; *done counts the bytes that did reach the file.
 */
static int pwritev_full(int fd, uint64_t off, struct iovec *iov, int cnt, uint64_t *done)
{
	*done = 0;
	while (cnt > 0) {
		ssize_t w = pwritev(fd, iov, cnt, (off_t)(off + *done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		*done += (uint64_t)w;
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int sync_fd(int fd, bool data_only)
{
	int r;

	do
		r = data_only ? fdatasync(fd) : fsync(fd);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* open a file of the state for reading: an fd, -ENOENT when absent (no message), or -errno */
static int open_regular(int dirfd, const char *name, const char *shown, struct stat *st,
			char *err, size_t errlen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return fail(err, errlen, -errno, "cannot open %s: %s", shown, strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		int ret = -errno;
		close(fd);
		return fail(err, errlen, ret, "cannot stat %s: %s", shown, strerror(-ret));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return fail(err, errlen, S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL,
			    "%s is not a regular file", shown);
	}
	return fd;
}

/* the snapshot into out: 0, 1 when there is none, or -errno */
static int load_snapshot(int dirfd, const struct names *n, struct wg_statefile_load *out,
			 char *err, size_t errlen)
{
	uint8_t hdr[SNAP_HDR], sum[SUM_LEN], want[SUM_LEN];
	uint8_t *payload = NULL;
	uint64_t size, len = 0;
	struct stat st;
	ssize_t got;
	int fd, ret;

	fd = open_regular(dirfd, n->snap, n->path, &st, err, errlen);
	if (fd == -ENOENT)
		return 1;
	if (fd < 0)
		return fd;
	size = (uint64_t)st.st_size;
	got = read_full(fd, hdr, sizeof(hdr));
	if (got < 0) {
		ret = fail(err, errlen, (int)got, "cannot read %s: %s", n->path, strerror((int)-got));
		goto out;
	}
	ret = -EBADMSG;
	if (memcmp(hdr, SNAP_MAGIC, (size_t)got < SNAP_MAGIC_LEN ? (size_t)got : SNAP_MAGIC_LEN)) {
		fail(err, errlen, ret, "%s: corrupt at byte offset 0: bad magic (not a wgdp state "
			    "snapshot)", n->path);
		goto out;
	}
	if (size < SNAP_HDR + SUM_LEN || (size_t)got < SNAP_HDR) {
		fail(err, errlen, ret, "%s: corrupt: truncated to %" PRIu64 " bytes (a snapshot has "
			    "at least %u)", n->path, size, SNAP_HDR + SUM_LEN);
		goto out;
	}
	if (get_le32(hdr + 12) != FORMAT_VERSION) {
		fail(err, errlen, ret, "%s: corrupt at byte offset 12: unsupported format version "
			    "%" PRIu32 " (this build reads %u)", n->path, get_le32(hdr + 12),
		     FORMAT_VERSION);
		goto out;
	}
	len = get_le64(hdr + 24);
	if (len > WG_STATEFILE_MAX_PAYLOAD) {
		fail(err, errlen, ret, "%s: corrupt at byte offset 24: payload length %" PRIu64
			    " exceeds the limit of %u bytes", n->path, len, WG_STATEFILE_MAX_PAYLOAD);
		goto out;
	}
	if (size != SNAP_HDR + len + SUM_LEN) {
		fail(err, errlen, ret, "%s: corrupt: the header says %" PRIu64 " payload bytes "
			    "(a %" PRIu64 "-byte file) but the file has %" PRIu64 " bytes (%s)",
		     n->path, len, SNAP_HDR + len + SUM_LEN, size,
		     size < SNAP_HDR + len + SUM_LEN ? "truncated" : "trailing data");
		goto out;
	}
	payload = malloc(len ? len : 1);
	if (!payload) {
		ret = fail(err, errlen, -ENOMEM, "%s: no memory for %" PRIu64 " bytes", n->path, len);
		goto out;
	}
	got = read_full(fd, payload, len);
	if (got == (ssize_t)len)
		got = read_full(fd, sum, sizeof(sum));
	if (got != (ssize_t)sizeof(sum)) {
		if (got < 0)
			ret = fail(err, errlen, (int)got, "cannot read %s: %s", n->path,
				   strerror((int)-got));
		else
			fail(err, errlen, ret, "%s: corrupt: the file shrank while being read",
			     n->path);
		goto out;
	}
	wg_blake2s_hash2(want, hdr, sizeof(hdr), payload, len);
	if (!wg_secure_equal(want, sum, sizeof(sum))) {
		fail(err, errlen, ret, "%s: corrupt at byte offset %" PRIu64 ": checksum mismatch",
		     n->path, size - SUM_LEN);
		goto out;
	}
	out->snapshot = payload;
	out->snapshot_len = len;
	out->has_snapshot = true;
	out->snapshot_seq = get_le64(hdr + 16);
	payload = NULL;
	ret = 0;
out:
	free_wiped(payload, len);
	close(fd);
	return ret;
}

static int push_record(struct wg_statefile_load *out, size_t *cap, uint64_t seq, uint8_t *data,
		       size_t len)
{
	if (out->n_records == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		void *p = realloc(out->records, ncap * sizeof(*out->records));
		if (!p)
			return -ENOMEM;
		out->records = p;
		*cap = ncap;
	}
	out->records[out->n_records++] = (struct wg_statefile_record){ seq, data, len };
	return 0;
}

static void set_torn(struct wg_statefile_load *out, size_t off, size_t size)
{
	out->torn_tail = true;
	out->torn_offset = off;
	out->torn_bytes = size - off;
}

/*
 * Parse the journal in buf against the snapshot already in out (see the
 * rules at the top). Fills records, journal_len, torn_*; 0 or -errno.
 */
static int scan_journal(uint8_t *buf, size_t size, const char *jpath,
			struct wg_statefile_load *out, char *err, size_t errlen)
{
	uint64_t prev = 0, seq, len = 0;
	size_t off = 0, cap = 0;
	uint8_t sum[SUM_LEN];
	const char *why;

	for (; off < size; off += REC_HDR + len + SUM_LEN) {
		uint8_t *h = buf + off;
		size_t rem = size - off;

		if (rem < REC_HDR) {
			set_torn(out, off, size);
			fail(err, errlen, 0, "%s: dropped a torn last record at byte offset %zu: the "
				    "file ends %zu bytes into its header", jpath, off, rem);
			break;
		}
		wg_blake2s_hash(sum, h, REC_CHECK_AT);
		if (memcmp(h, REC_MAGIC, REC_MAGIC_LEN) ||
		    memcmp(sum, h + REC_CHECK_AT, REC_CHECK_LEN)) {
			if (all_zero(h, rem)) {
				set_torn(out, off, size);
				fail(err, errlen, 0, "%s: dropped a torn last record at byte offset "
					    "%zu: %zu zero bytes end the file (data never written)",
				     jpath, off, rem);
				break;
			}
			why = memcmp(h, REC_MAGIC, REC_MAGIC_LEN) ? "bad record magic"
								  : "record header check mismatch";
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset %zu: %s", jpath,
				    off, why);
		}
		seq = get_le64(h + 8);
		len = get_le64(h + 16);
		if (get_le32(h + 4) != FORMAT_VERSION)
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset %zu: "
				    "unsupported record version %" PRIu32, jpath, off, get_le32(h + 4));
		if (len > WG_STATEFILE_MAX_PAYLOAD)
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset %zu: record "
				    "length %" PRIu64 " exceeds the limit of %u bytes", jpath, off, len,
				    WG_STATEFILE_MAX_PAYLOAD);
		if (off == 0 && !out->has_snapshot && seq != 1)
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset 0: the first "
				    "record has sequence %" PRIu64 " but there is no snapshot (records "
				    "1..%" PRIu64 " are missing)", jpath, seq, seq - 1);
		if (off == 0 && out->has_snapshot && (seq == 0 || seq - 1 > out->snapshot_seq))
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset 0: the first "
				    "record has sequence %" PRIu64 " but the snapshot ends at %" PRIu64,
				    jpath, seq, out->snapshot_seq);
		if (off > 0 && (seq != prev + 1 || prev == UINT64_MAX))
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset %zu: record "
				    "sequence %" PRIu64 " follows %" PRIu64 " (%s)", jpath, off, seq,
				    prev, prev == UINT64_MAX ? "wraps around" : seq > prev ? "gap" : "repeat or decrease");
		if (rem < REC_HDR + len + SUM_LEN) {
			set_torn(out, off, size);
			fail(err, errlen, 0, "%s: dropped a torn last record (sequence %" PRIu64 ") at "
				    "byte offset %zu: the file ends after %zu of its %" PRIu64 " bytes",
			     jpath, seq, off, rem, REC_HDR + len + SUM_LEN);
			break;
		}
		wg_blake2s_hash2(sum, h, REC_HDR, h + REC_HDR, len);
		if (!wg_secure_equal(sum, h + REC_HDR + len, SUM_LEN)) {
			if (rem == REC_HDR + len + SUM_LEN && all_zero(h + REC_HDR + len, SUM_LEN)) {
				set_torn(out, off, size);
				fail(err, errlen, 0, "%s: dropped a torn last record (sequence %" PRIu64
					    ") at byte offset %zu: its checksum was never written",
				     jpath, seq, off);
				break;
			}
			return fail(err, errlen, -EBADMSG, "%s: corrupt at byte offset %zu: record "
				    "%" PRIu64 ": checksum mismatch", jpath, off, seq);
		}
		if (!out->has_snapshot || seq > out->snapshot_seq)
			if (push_record(out, &cap, seq, h + REC_HDR, len) < 0)
				return fail(err, errlen, -ENOMEM, "%s: no memory for the record list",
					    jpath);
		prev = seq;
	}
	out->journal_len = off;
	if (prev > out->last_seq)
		out->last_seq = prev;
	return 0;
}

/* the journal into out: 0, 1 when there is none, or -errno */
static int load_journal(int dirfd, const struct names *n, struct wg_statefile_load *out,
			char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	ssize_t got;
	int fd;

	fd = open_regular(dirfd, n->journal, n->jpath, &st, err, errlen);
	if (fd == -ENOENT)
		return 1;
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size >= SIZE_MAX / 2) {
		close(fd);
		return fail(err, errlen, -EFBIG, "%s is too large to read", n->jpath);
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return fail(err, errlen, -ENOMEM, "%s: no memory for %jd bytes", n->jpath,
			    (intmax_t)st.st_size);
	}
	got = read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	out->journal_buf = buf;
	out->journal_buf_len = (size_t)st.st_size;
	if (got < 0)
		return fail(err, errlen, (int)got, "cannot read %s: %s", n->jpath,
			    strerror((int)-got));
	return scan_journal(buf, (size_t)got, n->jpath, out, err, errlen);
}

static int read_at(int dirfd, const struct names *n, struct wg_statefile_load *out, char *err,
		   size_t errlen)
{
	int rs, rj;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	rs = load_snapshot(dirfd, n, out, err, errlen);
	if (rs < 0)
		goto err;
	out->last_seq = out->snapshot_seq;
	rj = load_journal(dirfd, n, out, err, errlen);
	if (rj < 0)
		goto err;
	if (rs == 1 && rj == 1) {
		wg_statefile_load_free(out);
		return fail(err, errlen, -ENOENT, "no state yet: neither %s nor %s exists", n->path,
			    n->jpath);
	}
	return 0;
err:
	wg_statefile_load_free(out);
	return rs < 0 ? rs : rj;
}

int wg_statefile_read(const char *path, struct wg_statefile_load *out, char *err, size_t errlen)
{
	struct names *n = malloc(sizeof(*n));
	int dirfd, ret;

	memset(out, 0, sizeof(*out));
	if (!n)
		return fail(err, errlen, -ENOMEM, "no memory");
	ret = split_path(n, path, err, errlen);
	if (ret < 0)
		goto out;
	dirfd = ret = open_dir(n, err, errlen);
	if (ret < 0)
		goto out;
	ret = read_at(dirfd, n, out, err, errlen);
	close(dirfd);
out:
	free(n);
	return ret;
}

void wg_statefile_load_free(struct wg_statefile_load *l)
{
	free_wiped(l->snapshot, l->snapshot_len);
	free_wiped(l->journal_buf, l->journal_buf_len);
	free(l->records);
	memset(l, 0, sizeof(*l));
}

/* cut the journal to len and make that durable */
static int truncate_journal(struct wg_statefile *sf, uint64_t len)
{
	if (ftruncate(sf->jfd, (off_t)len) < 0)
		return -errno;
	return sync_fd(sf->jfd, false);
}

int wg_statefile_open(struct wg_statefile **out, const char *path, uint64_t last_seq, char *err,
		      size_t errlen)
{
	struct wg_statefile_load l;
	struct wg_statefile *sf;
	struct stat st;
	uint64_t keep;
	int ret;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return fail(err, errlen, -ENOMEM, "no memory");
	sf->jfd = -1;
	ret = split_path(&sf->n, path, err, errlen);
	if (ret < 0)
		goto err_free;
	sf->dirfd = ret = open_dir(&sf->n, err, errlen);
	if (ret < 0)
		goto err_free;
	sf->jfd = openat(sf->dirfd, sf->n.journal, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sf->jfd < 0) {
		ret = fail(err, errlen, -errno, "cannot open %s: %s", sf->n.jpath, strerror(errno));
		goto err_dir;
	}
	if (fstat(sf->jfd, &st) < 0) {
		ret = fail(err, errlen, -errno, "cannot stat %s: %s", sf->n.jpath, strerror(errno));
		goto err_journal;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = fail(err, errlen, -EINVAL, "%s is not a regular file", sf->n.jpath);
		goto err_journal;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(sf->jfd, 0600) < 0) {
		ret = fail(err, errlen, -errno, "cannot chmod 0600 %s: %s", sf->n.jpath,
			   strerror(errno));
		goto err_journal;
	}
	if (flock(sf->jfd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		fail(err, errlen, ret, "cannot lock %s: %s", sf->n.jpath,
		     ret == -EBUSY ? "another writer has it open" : strerror(-ret));
		goto err_journal;
	}
	/* the journal's directory entry may be new; a leftover PATH.tmp holds secrets */
	if (unlinkat(sf->dirfd, sf->n.tmp, 0) < 0 && errno != ENOENT) {
		ret = fail(err, errlen, -errno, "cannot remove %s.tmp: %s", path, strerror(errno));
		goto err_journal;
	}
	/* a snapshot put back by hand may be readable by others: it holds keys */
	if (fstatat(sf->dirfd, sf->n.snap, &st, 0) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) && fchmodat(sf->dirfd, sf->n.snap, 0600, 0) < 0) {
		ret = fail(err, errlen, -errno, "cannot chmod 0600 %s: %s", path, strerror(errno));
		goto err_journal;
	}
	ret = sync_fd(sf->dirfd, false);
	if (ret < 0) {
		fail(err, errlen, ret, "cannot sync directory %s: %s", sf->n.dir, strerror(-ret));
		goto err_journal;
	}
	/* under the lock, re-read what the caller applied */
	ret = read_at(sf->dirfd, &sf->n, &l, err, errlen);
	if (ret < 0)
		goto err_journal;
	if (l.last_seq != last_seq) {
		ret = fail(err, errlen, -ESTALE, "the state at %s ends at sequence %" PRIu64 ", not "
			   "%" PRIu64 " as read before", path, l.last_seq, last_seq);
		goto err_load;
	}
	/* nothing after the snapshot: the journal's records (if any) are in it */
	keep = l.n_records ? l.journal_len : 0;
	if (keep != (uint64_t)l.journal_buf_len) {
		ret = truncate_journal(sf, keep);
		if (ret < 0) {
			fail(err, errlen, ret, "cannot truncate %s: %s", sf->n.jpath,
			     strerror(-ret));
			goto err_load;
		}
		fail(err, errlen, 0, "%s: removed %" PRIu64 " bytes at byte offset %" PRIu64 " (%s%s)",
		     sf->n.jpath, (uint64_t)l.journal_buf_len - keep, keep,
		     keep < l.journal_len ? "records already in the snapshot" : "",
		     !l.torn_tail ? "" : keep < l.journal_len ? " and a torn last record"
							      : "a torn last record");
	}
	sf->last_seq = last_seq;
	sf->jsize = keep;
	sf->snap_size = l.has_snapshot ? SNAP_HDR + l.snapshot_len + SUM_LEN : 0;
	wg_statefile_load_free(&l);
	*out = sf;
	return 0;

err_load:
	wg_statefile_load_free(&l);
err_journal:
	close(sf->jfd);
err_dir:
	close(sf->dirfd);
err_free:
	free(sf);
	return ret;
}

static void put_record_header(uint8_t h[REC_HDR], uint64_t seq, uint64_t len)
{
	uint8_t sum[SUM_LEN];

	memcpy(h, REC_MAGIC, REC_MAGIC_LEN);
	put_le32(h + 4, FORMAT_VERSION);
	put_le64(h + 8, seq);
	put_le64(h + 16, len);
	wg_blake2s_hash(sum, h, REC_CHECK_AT);
	memcpy(h + REC_CHECK_AT, sum, REC_CHECK_LEN);
}

int wg_statefile_append(struct wg_statefile *sf, const void *data, size_t len)
{
	uint8_t hdr[REC_HDR], sum[SUM_LEN];
	struct iovec iov[3];
	uint64_t done;
	int ret, r2;

	if (sf->broken)
		return fail(sf->err, sizeof(sf->err), -EIO, "%s: refusing to append after an "
			    "earlier failure (%s) could not be undone", sf->n.jpath,
			    strerror(sf->broken));
	if (len > WG_STATEFILE_MAX_PAYLOAD)
		return fail(sf->err, sizeof(sf->err), -EFBIG, "a change of %zu bytes exceeds the "
			    "limit of %u", len, WG_STATEFILE_MAX_PAYLOAD);
	if (sf->last_seq == UINT64_MAX)
		return fail(sf->err, sizeof(sf->err), -EOVERFLOW, "sequence numbers exhausted");
	put_record_header(hdr, sf->last_seq + 1, len);
	wg_blake2s_hash2(sum, hdr, sizeof(hdr), data, len);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ (void *)data, len };
	iov[2] = (struct iovec){ sum, sizeof(sum) };
	ret = pwritev_full(sf->jfd, sf->jsize, iov, 3, &done);
	if (ret < 0) {
		fail(sf->err, sizeof(sf->err), ret, "cannot write %s: %s", sf->n.jpath,
		     strerror(-ret));
		if (done == 0)
			return ret; /* the file is unchanged */
	} else {
		ret = sync_fd(sf->jfd, true);
		if (ret == 0) {
			sf->jsize += sizeof(hdr) + len + sizeof(sum);
			sf->last_seq++;
			return 0;
		}
		fail(sf->err, sizeof(sf->err), ret, "cannot fdatasync %s: %s", sf->n.jpath,
		     strerror(-ret));
	}
	/* take the record back: a later append must not follow a partial one */
	r2 = truncate_journal(sf, sf->jsize);
	if (r2 < 0) {
		sf->broken = -r2;
		fail(sf->err, sizeof(sf->err), ret, "%s: the append failed (%s) and cutting it off "
		     "failed too (%s): appends are refused until a compaction succeeds",
		     sf->n.jpath, strerror(-ret), strerror(-r2));
	}
	return ret;
}

int wg_statefile_compact(struct wg_statefile *sf, const void *data, size_t len)
{
	uint8_t hdr[SNAP_HDR], sum[SUM_LEN];
	struct iovec iov[3];
	uint64_t done;
	int fd, ret;

	if (len > WG_STATEFILE_MAX_PAYLOAD)
		return fail(sf->err, sizeof(sf->err), -EFBIG, "a snapshot of %zu bytes exceeds the "
			    "limit of %u", len, WG_STATEFILE_MAX_PAYLOAD);
	memcpy(hdr, SNAP_MAGIC, SNAP_MAGIC_LEN);
	put_le32(hdr + 12, FORMAT_VERSION);
	put_le64(hdr + 16, sf->last_seq);
	put_le64(hdr + 24, len);
	wg_blake2s_hash2(sum, hdr, sizeof(hdr), data, len);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ (void *)data, len };
	iov[2] = (struct iovec){ sum, sizeof(sum) };

	fd = openat(sf->dirfd, sf->n.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(sf->err, sizeof(sf->err), -errno, "cannot create %s.tmp: %s",
			    sf->n.path, strerror(errno));
	if (fchmod(fd, 0600) < 0) {
		ret = fail(sf->err, sizeof(sf->err), -errno, "cannot chmod 0600 %s.tmp: %s",
			   sf->n.path, strerror(errno));
		goto err_tmp;
	}
	ret = pwritev_full(fd, 0, iov, 3, &done);
	if (ret == 0)
		ret = sync_fd(fd, false);
	if (ret < 0) {
		fail(sf->err, sizeof(sf->err), ret, "cannot write %s.tmp: %s", sf->n.path,
		     strerror(-ret));
		goto err_tmp;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = fail(sf->err, sizeof(sf->err), -errno, "cannot write %s.tmp: %s", sf->n.path,
			   strerror(errno));
		goto err_tmp;
	}
	fd = -1;
	if (renameat(sf->dirfd, sf->n.tmp, sf->dirfd, sf->n.snap) < 0) {
		ret = fail(sf->err, sizeof(sf->err), -errno, "cannot rename %s.tmp to %s: %s",
			   sf->n.path, sf->n.path, strerror(errno));
		goto err_tmp;
	}
	sf->snap_size = sizeof(hdr) + len + sizeof(sum);
	/* the journal may only go once the new snapshot is sure to be there */
	ret = sync_fd(sf->dirfd, false);
	if (ret < 0)
		return fail(sf->err, sizeof(sf->err), ret, "cannot sync directory %s: %s",
			    sf->n.dir, strerror(-ret));
	ret = truncate_journal(sf, 0);
	if (ret < 0)
		return fail(sf->err, sizeof(sf->err), ret, "cannot truncate %s: %s", sf->n.jpath,
			    strerror(-ret));
	sf->jsize = 0;
	sf->broken = 0;
	return 0;

err_tmp:
	if (fd >= 0)
		close(fd);
	unlinkat(sf->dirfd, sf->n.tmp, 0);
	return ret;
}

uint64_t wg_statefile_last_seq(const struct wg_statefile *sf)
{
	return sf->last_seq;
}

uint64_t wg_statefile_journal_bytes(const struct wg_statefile *sf)
{
	return sf->jsize;
}

uint64_t wg_statefile_snapshot_bytes(const struct wg_statefile *sf)
{
	return sf->snap_size;
}

bool wg_statefile_should_compact(const struct wg_statefile *sf)
{
	return sf->jsize > WG_STATEFILE_COMPACT_MIN && sf->jsize > sf->snap_size;
}

const char *wg_statefile_error(const struct wg_statefile *sf)
{
	return sf->err;
}

void wg_statefile_close(struct wg_statefile *sf)
{
	if (!sf)
		return;
	close(sf->jfd);
	close(sf->dirfd);
	free(sf);
}
