/* SPDX-License-Identifier: MIT */
/*
 * Tests of conf/statefile.c: round trips, compaction, a crash at every byte
 * of an append, every single-byte corruption of both files, the tail rules,
 * failed appends, locking, permissions. Everything happens in a fresh
 * mkdtemp directory under /tmp, removed at the end. The known answers for
 * the format come from Python's hashlib.blake2s.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "conf/statefile.h"
#include "crypto/blake2s.h"

static char dir[] = "/tmp/statefile_test.XXXXXX";
static char path[PATH_MAX], jpath[PATH_MAX + 16];
static char err[1024];

/* ---- files ---- */

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(p, O_RDONLY);

	*len = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	if (buf)
		*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		fprintf(stderr, "cannot write %s\n", p);
		abort();
	}
	close(fd);
}

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* ---- payloads: deterministic, varied lengths, 0 included ---- */

static size_t payload(uint64_t i, uint8_t *buf)
{
	size_t len = (size_t)((i * 37) % 211);

	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 131 + k * 7 + 1);
	return len;
}

static bool is_payload(const struct wg_statefile_record *r, uint64_t i)
{
	uint8_t want[256];
	size_t len = payload(i, want);

	return r->seq == i && r->len == len && memcmp(r->data, want, len) == 0;
}

/* a writer over a fresh state with records 1..n; NULL on failure */
static struct wg_statefile *fresh(uint64_t n)
{
	struct wg_statefile *sf;
	uint8_t buf[256];

	clean_dir();
	if (wg_statefile_open(&sf, path, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return NULL;
	}
	for (uint64_t i = 1; i <= n; i++)
		if (wg_statefile_append(sf, buf, payload(i, buf)) != 0) {
			fprintf(stderr, "append: %s\n", wg_statefile_error(sf));
			wg_statefile_close(sf);
			return NULL;
		}
	return sf;
}

/* read must give: snapshot seq/has as given, records first..last, and torn */
static bool reads_as(bool has_snap, uint64_t snap_seq, uint64_t first, uint64_t last, bool torn)
{
	struct wg_statefile_load l;
	int ret = wg_statefile_read(path, &l, err, sizeof(err));
	bool ok = ret == 0;

	if (!ok) {
		fprintf(stderr, "read: %d %s\n", ret, err);
		return false;
	}
	ok = ok && l.has_snapshot == has_snap && l.snapshot_seq == (has_snap ? snap_seq : 0);
	ok = ok && l.n_records == (last >= first ? last - first + 1 : 0);
	for (size_t k = 0; ok && k < l.n_records; k++)
		ok = is_payload(&l.records[k], first + k);
	ok = ok && l.torn_tail == torn && (torn == (err[0] != '\0'));
	ok = ok && l.last_seq == (last >= first ? last : snap_seq);
	if (!ok)
		fprintf(stderr, "read: snap %d/%lu records %zu last %lu torn %d (%s)\n",
			l.has_snapshot, (unsigned long)l.snapshot_seq, l.n_records,
			(unsigned long)l.last_seq, l.torn_tail, err);
	wg_statefile_load_free(&l);
	return ok;
}

static int read_ret(void)
{
	struct wg_statefile_load l;
	int ret = wg_statefile_read(path, &l, err, sizeof(err));

	if (ret != 0)
		CHECK(l.snapshot == NULL && l.records == NULL && l.n_records == 0);
	wg_statefile_load_free(&l);
	return ret;
}

/* ---- an encoder written from the format description, independent of statefile.c ---- */

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t enc_record(uint8_t *out, uint64_t seq, const void *data, size_t len)
{
	uint8_t sum[32];

	memcpy(out, "wgjr", 4);
	le(out + 4, 1, 4);
	le(out + 8, seq, 8);
	le(out + 16, len, 8);
	wg_blake2s_hash(sum, out, 24);
	memcpy(out + 24, sum, 8);
	memcpy(out + 32, data, len);
	wg_blake2s_hash(out + 32 + len, out, 32 + len);
	return 64 + len;
}

static size_t enc_snapshot(uint8_t *out, uint64_t seq, const void *data, size_t len)
{
	memcpy(out, "wgdp-state\n", 12);
	le(out + 12, 1, 4);
	le(out + 16, seq, 8);
	le(out + 24, len, 8);
	memcpy(out + 32, data, len);
	wg_blake2s_hash(out + 32 + len, out, 32 + len);
	return 64 + len;
}

/* ---- tests ---- */

static void test_known_answer(void)
{
	static const char rec_hex[] =
		"77676a720100000001000000000000000500000000000000919dfad46be4fb90"
		"68656c6c6fa78788f5ae12ece37fd32c106bab816a23d3355c9c2d84e23239e3"
		"8f4001bb2b";
	static const char snap_hex[] =
		"776764702d73746174650a000100000001000000000000000200000000000000"
		"7b7dcff2efc36dea42208dd31b87b8b446bbdede8a7b45b40be11670c2ed5914"
		"c3d0";
	uint8_t want[128], mine[128];
	struct wg_statefile *sf;
	uint8_t *got;
	size_t n, len;

	clean_dir();
	if (wg_statefile_open(&sf, path, 0, err, sizeof(err)) != 0) {
		CHECK_MSG(0, "open: %s", err);
		return;
	}
	CHECK(wg_statefile_append(sf, "hello", 5) == 0);
	n = wg_test_unhex(want, sizeof(want), rec_hex);
	got = slurp(jpath, &len);
	CHECK(got && len == n && memcmp(got, want, n) == 0);
	CHECK(enc_record(mine, 1, "hello", 5) == n && memcmp(mine, want, n) == 0);
	free(got);
	CHECK(wg_statefile_compact(sf, "{}", 2) == 0);
	n = wg_test_unhex(want, sizeof(want), snap_hex);
	got = slurp(path, &len);
	CHECK(got && len == n && memcmp(got, want, n) == 0);
	CHECK(enc_snapshot(mine, 1, "{}", 2) == n && memcmp(mine, want, n) == 0);
	free(got);
	CHECK(file_size(jpath) == 0);
	wg_statefile_close(sf);
}

static void test_first_start(void)
{
	struct wg_statefile_load l;
	struct wg_statefile *sf = NULL;
	char missing[PATH_MAX + 32];

	clean_dir();
	CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "no state yet") != NULL);
	/* a missing directory is named, for read and open alike */
	snprintf(missing, sizeof(missing), "%s/nodir/state", dir);
	CHECK(wg_statefile_read(missing, &l, err, sizeof(err)) == -ENOENT);
	CHECK_MSG(strstr(err, "nodir") && strstr(err, "does not exist"), "%s", err);
	CHECK(wg_statefile_open(&sf, missing, 0, err, sizeof(err)) == -ENOENT);
	CHECK_MSG(strstr(err, "directory") && strstr(err, "nodir"), "%s", err);
	CHECK(sf == NULL);
	snprintf(missing, sizeof(missing), "%s/", dir);
	CHECK(wg_statefile_read(missing, &l, err, sizeof(err)) == -EINVAL);
	CHECK(wg_statefile_open(&sf, missing, 0, err, sizeof(err)) == -EINVAL);
	/* the writer creates an empty journal: state that started empty */
	CHECK(wg_statefile_open(&sf, path, 0, err, sizeof(err)) == 0 && err[0] == '\0');
	if (!sf)
		return;
	CHECK(wg_statefile_journal_bytes(sf) == 0 && wg_statefile_snapshot_bytes(sf) == 0);
	CHECK(wg_statefile_last_seq(sf) == 0);
	wg_statefile_close(sf);
	CHECK(reads_as(false, 0, 1, 0, false));
	/* a snapshot is read back where PATH is a directory: an error, not "no state" */
	clean_dir();
	CHECK(mkdir(path, 0700) == 0);
	CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == -EISDIR);
	rmdir(path);
}

static void test_append_reload(void)
{
	struct wg_statefile *sf = fresh(50);
	uint64_t bytes = 0;
	uint8_t buf[256];

	if (!sf) {
		CHECK(0);
		return;
	}
	for (uint64_t i = 1; i <= 50; i++)
		bytes += 64 + payload(i, buf);
	CHECK(wg_statefile_last_seq(sf) == 50);
	CHECK(wg_statefile_journal_bytes(sf) == bytes);
	CHECK(file_size(jpath) == (off_t)bytes);
	CHECK(!wg_statefile_should_compact(sf));
	wg_statefile_close(sf);
	CHECK(reads_as(false, 0, 1, 50, false));
	/* reopen where it ended and go on */
	CHECK(wg_statefile_open(&sf, path, 50, err, sizeof(err)) == 0 && err[0] == '\0');
	if (!sf)
		return;
	for (uint64_t i = 51; i <= 60; i++)
		CHECK(wg_statefile_append(sf, buf, payload(i, buf)) == 0);
	wg_statefile_close(sf);
	CHECK(reads_as(false, 0, 1, 60, false));
}

static void test_compact(void)
{
	struct wg_statefile_load l;
	struct wg_statefile *sf = fresh(10);
	uint8_t buf[256];
	static const char s1[] = "snapshot one", s2[] = "snapshot two, longer";

	if (!sf) {
		CHECK(0);
		return;
	}
	CHECK(wg_statefile_compact(sf, s1, sizeof(s1)) == 0);
	CHECK(wg_statefile_journal_bytes(sf) == 0 && file_size(jpath) == 0);
	CHECK(wg_statefile_snapshot_bytes(sf) == 64 + sizeof(s1));
	CHECK(file_size(path) == (off_t)(64 + sizeof(s1)));
	for (uint64_t i = 11; i <= 15; i++)
		CHECK(wg_statefile_append(sf, buf, payload(i, buf)) == 0);
	wg_statefile_close(sf);
	CHECK(reads_as(true, 10, 11, 15, false));
	CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == 0);
	CHECK(l.snapshot_len == sizeof(s1) && memcmp(l.snapshot, s1, sizeof(s1)) == 0);
	wg_statefile_load_free(&l);
	CHECK(l.snapshot == NULL && l.records == NULL);
	/* a second compaction, then an empty one */
	CHECK(wg_statefile_open(&sf, path, 15, err, sizeof(err)) == 0);
	if (!sf)
		return;
	CHECK(wg_statefile_compact(sf, s2, sizeof(s2)) == 0);
	wg_statefile_close(sf);
	CHECK(reads_as(true, 15, 16, 15, false));
	CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == 0);
	CHECK(l.snapshot_len == sizeof(s2) && memcmp(l.snapshot, s2, sizeof(s2)) == 0);
	wg_statefile_load_free(&l);
	CHECK(wg_statefile_open(&sf, path, 15, err, sizeof(err)) == 0);
	if (!sf)
		return;
	CHECK(wg_statefile_compact(sf, NULL, 0) == 0);
	CHECK(wg_statefile_append(sf, buf, payload(16, buf)) == 0);
	wg_statefile_close(sf);
	CHECK(reads_as(true, 15, 16, 16, false));
	/* the compaction policy */
	clean_dir();
	CHECK(wg_statefile_open(&sf, path, 0, err, sizeof(err)) == 0);
	if (!sf)
		return;
	{
		size_t big = WG_STATEFILE_COMPACT_MIN;
		uint8_t *p = calloc(1, big + 100);
		CHECK(p && wg_statefile_append(sf, p, big / 2) == 0);
		CHECK(!wg_statefile_should_compact(sf));
		CHECK(p && wg_statefile_append(sf, p, big / 2) == 0);
		CHECK(wg_statefile_should_compact(sf));
		CHECK(p && wg_statefile_compact(sf, p, big + 100) == 0);
		CHECK(p && wg_statefile_append(sf, p, big) == 0);
		CHECK(!wg_statefile_should_compact(sf)); /* not larger than the snapshot */
		CHECK(p && wg_statefile_append(sf, p, 200) == 0);
		CHECK(wg_statefile_should_compact(sf));
		free(p);
	}
	wg_statefile_close(sf);
}

/*
 * A crash during an append leaves the journal cut at any byte. Every cut
 * must read as a prefix of the records (torn_tail exactly when the cut is
 * inside a record), never an error; the writer then trims and goes on.
 */
static void crash_at_every_byte(bool with_snapshot)
{
	uint64_t first = with_snapshot ? 4 : 1, last = first + 5, bound[8];
	struct wg_statefile *sf = fresh(first - 1);
	uint8_t *full, buf[256];
	size_t len, nb = 0;

	if (!sf) {
		CHECK(0);
		return;
	}
	if (with_snapshot)
		CHECK(wg_statefile_compact(sf, "base", 4) == 0);
	bound[nb++] = wg_statefile_journal_bytes(sf);
	for (uint64_t i = first; i <= last; i++) {
		CHECK(wg_statefile_append(sf, buf, payload(i, buf)) == 0);
		bound[nb++] = wg_statefile_journal_bytes(sf);
	}
	wg_statefile_close(sf);
	full = slurp(jpath, &len);
	if (!full || len != bound[nb - 1]) {
		CHECK(0);
		free(full);
		return;
	}
	for (size_t cut = 0, k = 0; cut <= len; cut++) {
		bool torn;
		uint64_t have;

		while (k + 1 < nb && bound[k + 1] <= cut)
			k++;
		torn = cut != bound[k];
		have = first - 1 + k; /* last complete record */
		spit(jpath, full, cut);
		CHECK_MSG(reads_as(with_snapshot, first - 1, first, have, torn), "cut at %zu", cut);
		if (torn)
			CHECK_MSG(strstr(err, "offset") != NULL, "cut at %zu: %s", cut, err);
		if (wg_statefile_open(&sf, path, have, err, sizeof(err)) != 0) {
			CHECK_MSG(0, "cut at %zu: open: %s", cut, err);
			continue;
		}
		CHECK_MSG(torn == (err[0] != '\0'), "cut at %zu: %s", cut, err);
		CHECK(wg_statefile_journal_bytes(sf) == bound[k]);
		CHECK(file_size(jpath) == (off_t)bound[k]);
		CHECK(wg_statefile_append(sf, buf, payload(have + 1, buf)) == 0);
		wg_statefile_close(sf);
		CHECK_MSG(reads_as(with_snapshot, first - 1, first, have + 1, false), "cut at %zu",
			  cut);
	}
	free(full);
}

static void test_crash_at_every_byte(void)
{
	crash_at_every_byte(false);
	crash_at_every_byte(true);
}

/* every byte of a file changed in several ways must be -EBADMSG */
static void flip_every_byte(const char *victim, const char *what)
{
	static const int how[] = { 0x01, 0x80, 0xff, -1 /* set to zero */ };
	uint8_t *orig, *mod;
	size_t len;

	orig = slurp(victim, &len);
	mod = malloc(len + 1);
	if (!orig || !mod || !len) {
		CHECK(0);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		for (size_t h = 0; h < sizeof(how) / sizeof(how[0]); h++) {
			int ret;

			memcpy(mod, orig, len);
			mod[i] = how[h] < 0 ? 0 : mod[i] ^ (uint8_t)how[h];
			if (mod[i] == orig[i])
				continue;
			spit(victim, mod, len);
			ret = read_ret();
			CHECK_MSG(ret == -EBADMSG, "%s byte %zu changed (%d): %d %s", what, i, how[h],
				  ret, err);
			CHECK_MSG(strstr(err, victim) && strstr(err, "corrupt"), "%s", err);
		}
	spit(victim, orig, len);
	CHECK(read_ret() == 0);
out:
	free(orig);
	free(mod);
}

static void test_corrupt_snapshot(void)
{
	struct wg_statefile *sf = fresh(3);
	uint8_t snap[300], *orig;
	size_t len;

	if (!sf) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i < sizeof(snap); i++)
		snap[i] = (uint8_t)(i * 13);
	CHECK(wg_statefile_compact(sf, snap, 200) == 0);
	CHECK(wg_statefile_append(sf, snap, payload(4, snap)) == 0);
	wg_statefile_close(sf);
	flip_every_byte(path, "snapshot");
	/* a snapshot is never legitimately short: every cut is corruption */
	orig = slurp(path, &len);
	if (!orig) {
		CHECK(0);
		return;
	}
	for (size_t cut = 0; cut < len; cut++) {
		spit(path, orig, cut);
		CHECK_MSG(read_ret() == -EBADMSG, "snapshot cut at %zu", cut);
	}
	memcpy(snap, orig, len);
	snap[len] = '\n';
	spit(path, snap, len + 1);
	CHECK(read_ret() == -EBADMSG && strstr(err, "trailing data"));
	/* a length field far beyond the file and the limit */
	memcpy(snap, orig, len);
	le(snap + 24, (uint64_t)1 << 40, 8);
	spit(path, snap, len);
	CHECK(read_ret() == -EBADMSG && strstr(err, "exceeds"));
	le(snap + 24, 1000, 8);
	spit(path, snap, len);
	CHECK(read_ret() == -EBADMSG && strstr(err, "truncated"));
	memcpy(snap, orig, len);
	le(snap + 12, 2, 4);
	spit(path, snap, len);
	CHECK(read_ret() == -EBADMSG && strstr(err, "version 2"));
	spit(path, "{\"peers\": []}\n", 14);
	CHECK(read_ret() == -EBADMSG && strstr(err, "bad magic"));
	spit(path, orig, len);
	CHECK(reads_as(true, 3, 4, 4, false));
	free(orig);
}

static void test_corrupt_journal(void)
{
	struct wg_statefile *sf;

	/* with and without a snapshot in front */
	sf = fresh(4);
	if (!sf) {
		CHECK(0);
		return;
	}
	wg_statefile_close(sf);
	flip_every_byte(jpath, "journal");
	CHECK(reads_as(false, 0, 1, 4, false));

	sf = fresh(2);
	if (!sf) {
		CHECK(0);
		return;
	}
	CHECK(wg_statefile_compact(sf, "s", 1) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(wg_statefile_append(sf, "", 0) == 0);
	wg_statefile_close(sf);
	flip_every_byte(jpath, "journal after a snapshot");
}

/*
 * Hand-built journals (the encoder above) for the rules on sequences and on
 * what may end a journal.
 */
#define SNAP_TOP (-2)
#define SNAP_SEQ(t) ((t)->snap == SNAP_TOP ? UINT64_MAX - 1 : (uint64_t)(t)->snap)

enum tail { T_NONE, T_ZEROS, T_ZEROS_SHORT, T_JUNK, T_JUNK_SHORT, T_ZERO_LAST_SUM,
	    T_ZERO_MID_SUM, T_HUGE_LEN, T_VERSION, T_TORN_GAP };

static const struct jcase {
	const char *name;
	int snap; /* -1: no snapshot, SNAP_TOP: at 2^64 - 2, else its seq */
	uint64_t seqs[8];
	size_t n;
	enum tail tail;
	int ret;
	uint64_t first, last; /* records returned */
	bool torn;
	const char *msg; /* in err */
} jcases[] = {
	{ "consecutive", -1, { 1, 2, 3 }, 3, T_NONE, 0, 1, 3, false, NULL },
	{ "gap", -1, { 1, 2, 4 }, 3, T_NONE, -EBADMSG, 0, 0, false, "gap" },
	{ "repeat", -1, { 1, 2, 2 }, 3, T_NONE, -EBADMSG, 0, 0, false, "repeat" },
	{ "decrease", -1, { 1, 2, 3, 1 }, 4, T_NONE, -EBADMSG, 0, 0, false, "repeat or decrease" },
	{ "wraps past 2^64 - 1", SNAP_TOP, { UINT64_MAX, 0 }, 2, T_NONE, -EBADMSG, 0, 0, false, "wraps around" },
	{ "no snapshot, starts at 2", -1, { 2, 3 }, 2, T_NONE, -EBADMSG, 0, 0, false,
	  "no snapshot" },
	{ "starts at 0", 0, { 0, 1 }, 2, T_NONE, -EBADMSG, 0, 0, false, "sequence 0" },
	{ "after the snapshot", 5, { 6, 7 }, 2, T_NONE, 0, 6, 7, false, NULL },
	{ "gap after the snapshot", 5, { 7, 8 }, 2, T_NONE, -EBADMSG, 0, 0, false,
	  "snapshot ends at 5" },
	{ "compaction cut short", 5, { 3, 4, 5 }, 3, T_NONE, 0, 6, 5, false, NULL },
	{ "compaction cut short, then more", 3, { 1, 2, 3, 4, 5, 6 }, 6, T_NONE, 0, 4, 6, false,
	  NULL },
	{ "empty journal after a snapshot", 9, { 0 }, 0, T_NONE, 0, 10, 9, false, NULL },
	{ "zero-filled tail", -1, { 1, 2 }, 2, T_ZEROS, 0, 1, 2, true, "zero bytes" },
	{ "short zero tail", -1, { 1, 2 }, 2, T_ZEROS_SHORT, 0, 1, 2, true, "into its header" },
	{ "short junk tail", -1, { 1, 2 }, 2, T_JUNK_SHORT, 0, 1, 2, true, "into its header" },
	{ "junk after the last record", -1, { 1, 2 }, 2, T_JUNK, -EBADMSG, 0, 0, false,
	  "offset" },
	{ "last checksum never written", -1, { 1, 2, 3 }, 3, T_ZERO_LAST_SUM, 0, 1, 2, true,
	  "never written" },
	{ "zeroed checksum mid-journal", -1, { 1, 2, 3 }, 3, T_ZERO_MID_SUM, -EBADMSG, 0, 0,
	  false, "checksum mismatch" },
	{ "huge length in a valid header", -1, { 1, 2 }, 2, T_HUGE_LEN, -EBADMSG, 0, 0, false,
	  "exceeds" },
	{ "unknown record version", -1, { 1 }, 1, T_VERSION, -EBADMSG, 0, 0, false, "version 9" },
	{ "torn record out of sequence", -1, { 1, 2 }, 2, T_TORN_GAP, -EBADMSG, 0, 0, false,
	  "gap" },
};

static void test_journal_cases(void)
{
	uint8_t j[8192], buf[256], snap[64];
	struct wg_statefile_load l;

	for (size_t c = 0; c < sizeof(jcases) / sizeof(jcases[0]); c++) {
		const struct jcase *t = &jcases[c];
		size_t len = 0, at = 0;
		int ret;

		clean_dir();
		if (t->snap != -1)
			spit(path, snap, enc_snapshot(snap, SNAP_SEQ(t), "", 0));
		for (size_t i = 0; i < t->n; i++) {
			at = len;
			len += enc_record(j + len, t->seqs[i], buf, payload(t->seqs[i], buf));
		}
		switch (t->tail) {
		case T_NONE:
			break;
		case T_ZEROS:
			memset(j + len, 0, 500);
			len += 500;
			break;
		case T_ZEROS_SHORT:
			memset(j + len, 0, 31);
			len += 31;
			break;
		case T_JUNK:
			memset(j + len, 0, 100);
			j[len + 77] = 1;
			len += 100;
			break;
		case T_JUNK_SHORT:
			memcpy(j + len, "garbage", 7);
			len += 7;
			break;
		case T_ZERO_LAST_SUM:
			memset(j + len - 32, 0, 32);
			break;
		case T_ZERO_MID_SUM:
			memset(j + at - 32, 0, 32);
			break;
		case T_HUGE_LEN:
		case T_VERSION:
			/* rewrite the last header with a valid header check */
			le(j + at + (t->tail == T_VERSION ? 4 : 16),
			   t->tail == T_VERSION ? 9 : (uint64_t)WG_STATEFILE_MAX_PAYLOAD + 1,
			   t->tail == T_VERSION ? 4 : 8);
			wg_blake2s_hash(buf, j + at, 24);
			memcpy(j + at + 24, buf, 8);
			break;
		case T_TORN_GAP:
			len += enc_record(j + len, 4, "x", 1) - 10;
			break;
		}
		spit(jpath, j, len);
		ret = wg_statefile_read(path, &l, err, sizeof(err));
		CHECK_MSG(ret == t->ret, "%s: %d (%s)", t->name, ret, err);
		CHECK_MSG(!t->msg || strstr(err, t->msg), "%s: `%s'", t->name, err);
		if (ret == 0 && t->ret == 0) {
			CHECK_MSG(l.n_records == (t->last >= t->first ? t->last - t->first + 1 : 0),
				  "%s: %zu records", t->name, l.n_records);
			for (size_t k = 0; k < l.n_records && k <= t->last - t->first; k++)
				CHECK_MSG(is_payload(&l.records[k], t->first + k), "%s: record %zu",
					  t->name, k);
			CHECK_MSG(l.torn_tail == t->torn, "%s", t->name);
			CHECK_MSG(l.last_seq == (t->last >= t->first ? t->last : t->first - 1), "%s",
				  t->name);
		}
		wg_statefile_load_free(&l);
		/* the writer agrees and leaves only what is needed */
		if (t->ret == 0) {
			struct wg_statefile *sf;
			uint64_t last = t->last >= t->first ? t->last : t->first - 1;

			CHECK_MSG(wg_statefile_open(&sf, path, last, err, sizeof(err)) == 0, "%s: %s",
				  t->name, err);
			if (sf) {
				CHECK(wg_statefile_append(sf, buf, payload(last + 1, buf)) == 0);
				wg_statefile_close(sf);
			}
			CHECK_MSG(reads_as(t->snap != -1, t->snap != -1 ? SNAP_SEQ(t) : 0, t->first,
					   last + 1, false), "%s", t->name);
		}
	}
}

/* a crash between the snapshot's rename and the journal's truncation */
static void test_interrupted_compaction(void)
{
	struct wg_statefile *sf = fresh(5);
	uint8_t *old;
	size_t len;

	if (!sf) {
		CHECK(0);
		return;
	}
	old = slurp(jpath, &len);
	CHECK(wg_statefile_compact(sf, "S", 1) == 0);
	wg_statefile_close(sf);
	if (!old) {
		CHECK(0);
		return;
	}
	spit(jpath, old, len);
	CHECK(reads_as(true, 5, 6, 5, false));
	/* a leftover PATH.tmp from a compaction cut before its rename is ignored */
	{
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		spit(tmp, "half a snapshot", 15);
		CHECK(reads_as(true, 5, 6, 5, false));
		CHECK(wg_statefile_open(&sf, path, 5, err, sizeof(err)) == 0);
		CHECK_MSG(strstr(err, "already in the snapshot"), "%s", err);
		CHECK(file_size(tmp) == -1); /* removed: it may hold keys */
	}
	if (!sf)
		goto out;
	CHECK(wg_statefile_journal_bytes(sf) == 0 && file_size(jpath) == 0);
	CHECK(wg_statefile_append(sf, "x", 1) == 0);
	wg_statefile_close(sf);
	{
		struct wg_statefile_load l;
		CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == 0);
		CHECK(l.n_records == 1 && l.records[0].seq == 6 && l.records[0].len == 1);
		wg_statefile_load_free(&l);
	}
out:
	free(old);
}

static void test_permissions(void)
{
	mode_t old = umask(0);
	struct wg_statefile *sf;
	struct stat st;

	clean_dir();
	spit(jpath, "", 0);
	CHECK(chmod(jpath, 0644) == 0);
	CHECK(wg_statefile_open(&sf, path, 0, err, sizeof(err)) == 0);
	if (sf) {
		CHECK(wg_statefile_append(sf, "secret", 6) == 0);
		CHECK(wg_statefile_compact(sf, "secret", 6) == 0);
		wg_statefile_close(sf);
	}
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(jpath, &st) == 0 && (st.st_mode & 07777) == 0600);
	/* a snapshot restored by hand with looser permissions is tightened */
	CHECK(chmod(path, 0644) == 0);
	CHECK(wg_statefile_open(&sf, path, 1, err, sizeof(err)) == 0);
	wg_statefile_close(sf);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	clean_dir();
	CHECK(wg_statefile_open(&sf, path, 0, err, sizeof(err)) == 0);
	CHECK(stat(jpath, &st) == 0 && (st.st_mode & 07777) == 0600);
	wg_statefile_close(sf);
	umask(old);
}

static void test_lock_and_stale(void)
{
	struct wg_statefile *a = fresh(3), *b = NULL;

	if (!a) {
		CHECK(0);
		return;
	}
	CHECK(wg_statefile_open(&b, path, 3, err, sizeof(err)) == -EBUSY && b == NULL);
	CHECK_MSG(strstr(err, "another writer"), "%s", err);
	wg_statefile_close(a);
	CHECK(wg_statefile_open(&b, path, 2, err, sizeof(err)) == -ESTALE && b == NULL);
	CHECK_MSG(strstr(err, "sequence 3"), "%s", err);
	CHECK(wg_statefile_open(&b, path, 3, err, sizeof(err)) == 0);
	wg_statefile_close(b);
	/* a corrupt state is not opened for writing either */
	spit(jpath, "wgjr and then some junk that is not a record", 44);
	CHECK(wg_statefile_open(&b, path, 0, err, sizeof(err)) == -EBADMSG && b == NULL);
}

/* the file size limit cuts a write short, as a full disk would */
static void test_failed_append_short_write(void)
{
	struct wg_statefile *sf = fresh(3);
	struct rlimit old, lim;
	uint8_t big[500] = { 0 };
	off_t before;
	int ret, ret2;

	if (!sf) {
		CHECK(0);
		return;
	}
	if (getrlimit(RLIMIT_FSIZE, &old) != 0) {
		wg_statefile_close(sf);
		SKIP_TEST("getrlimit: %s", strerror(errno));
	}
	signal(SIGXFSZ, SIG_IGN);
	before = file_size(jpath);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 40; /* the header and a few bytes fit */
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	ret = wg_statefile_append(sf, big, sizeof(big));
	ret2 = wg_statefile_compact(sf, big, sizeof(big));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_MSG(ret == -EFBIG, "%d %s", ret, wg_statefile_error(sf));
	CHECK(ret2 == -EFBIG && strstr(wg_statefile_error(sf), ".tmp"));
	CHECK(file_size(jpath) == before && wg_statefile_journal_bytes(sf) == (uint64_t)before);
	CHECK(wg_statefile_last_seq(sf) == 3);
	CHECK(file_size(path) == -1);
	CHECK(reads_as(false, 0, 1, 3, false));
	/* the refused change left nothing: the next one takes its number */
	{
		uint8_t buf[256];
		CHECK(wg_statefile_append(sf, buf, payload(4, buf)) == 0);
	}
	wg_statefile_close(sf);
	CHECK(reads_as(false, 0, 1, 4, false));
}

/* the writer's journal descriptor, found through /proc/self/fd */
static int journal_fd(void)
{
	char real[PATH_MAX], link[PATH_MAX + 32], target[PATH_MAX];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d || !realpath(jpath, real)) {
		if (d)
			closedir(d);
		return -1;
	}
	while ((e = readdir(d))) {
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (!strcmp(target, real))
				found = atoi(e->d_name);
		}
	}
	closedir(d);
	return found;
}

static void test_failed_append_bad_fd(void)
{
	struct wg_statefile *sf = fresh(3);
	int fd, saved, other;
	uint8_t buf[256];

	if (!sf) {
		CHECK(0);
		return;
	}
	fd = journal_fd();
	saved = fd >= 0 ? dup(fd) : -1;
	if (fd < 0 || saved < 0) {
		wg_statefile_close(sf);
		SKIP_TEST("cannot find the journal descriptor");
	}
	/* a read-only descriptor: the write fails, nothing reached the file */
	other = open(jpath, O_RDONLY);
	CHECK(other >= 0 && dup2(other, fd) == fd);
	close(other);
	CHECK(wg_statefile_append(sf, buf, payload(4, buf)) == -EBADF);
	CHECK_MSG(strstr(wg_statefile_error(sf), "cannot write"), "%s", wg_statefile_error(sf));
	CHECK(dup2(saved, fd) == fd);
	CHECK(wg_statefile_append(sf, buf, payload(4, buf)) == 0);
	CHECK(reads_as(false, 0, 1, 4, false));
	/* /dev/null: the write "succeeds", the sync and the undo fail: refuse until repaired */
	other = open("/dev/null", O_WRONLY);
	CHECK(other >= 0 && dup2(other, fd) == fd);
	close(other);
	CHECK(wg_statefile_append(sf, buf, payload(5, buf)) == -EINVAL);
	CHECK_MSG(strstr(wg_statefile_error(sf), "refused"), "%s", wg_statefile_error(sf));
	CHECK(dup2(saved, fd) == fd);
	CHECK(wg_statefile_append(sf, buf, payload(5, buf)) == -EIO);
	CHECK(wg_statefile_last_seq(sf) == 4);
	CHECK(reads_as(false, 0, 1, 4, false));
	/* a compaction repairs the writer */
	CHECK(wg_statefile_compact(sf, "S", 1) == 0);
	CHECK(wg_statefile_append(sf, buf, payload(5, buf)) == 0);
	close(saved);
	wg_statefile_close(sf);
	CHECK(reads_as(true, 4, 5, 5, false));
}

static void test_limits(void)
{
	struct wg_statefile *sf = fresh(1);
	static uint8_t one[1];

	if (!sf) {
		CHECK(0);
		return;
	}
	/* the length is checked before the buffer is touched */
	CHECK(wg_statefile_append(sf, one, (size_t)WG_STATEFILE_MAX_PAYLOAD + 1) == -EFBIG);
	CHECK(wg_statefile_compact(sf, one, (size_t)WG_STATEFILE_MAX_PAYLOAD + 1) == -EFBIG);
	CHECK(wg_statefile_last_seq(sf) == 1);
	wg_statefile_close(sf);
	CHECK(reads_as(false, 0, 1, 1, false));
}

/* 10,000 durable appends: the cost of one acknowledged change */
static void test_append_timing(void)
{
	const int n = 10000;
	struct wg_statefile *sf = fresh(0);
	struct timespec a, b;
	uint8_t rec[200];
	double s;
	struct wg_statefile_load l;

	if (!sf) {
		CHECK(0);
		return;
	}
	memset(rec, 'p', sizeof(rec));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		if (wg_statefile_append(sf, rec, sizeof(rec)) != 0) {
			CHECK_MSG(0, "append %d: %s", i, wg_statefile_error(sf));
			break;
		}
	clock_gettime(CLOCK_MONOTONIC, &b);
	wg_statefile_close(sf);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("# %d appends of %zu bytes with fdatasync in %s: %.3f s, %.1f us each\n", n,
	       sizeof(rec), dir, s, s * 1e6 / n);
	CHECK(wg_statefile_read(path, &l, err, sizeof(err)) == 0 && l.n_records == (size_t)n &&
	      l.last_seq == (uint64_t)n);
	wg_statefile_load_free(&l);
}

int main(void)
{
	int ret;

	TEST_BEGIN("conf/statefile_test");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(jpath, sizeof(jpath), "%s.journal", path);
	RUN_TEST(test_known_answer);
	RUN_TEST(test_first_start);
	RUN_TEST(test_append_reload);
	RUN_TEST(test_compact);
	RUN_TEST(test_crash_at_every_byte);
	RUN_TEST(test_corrupt_snapshot);
	RUN_TEST(test_corrupt_journal);
	RUN_TEST(test_journal_cases);
	RUN_TEST(test_interrupted_compaction);
	RUN_TEST(test_permissions);
	RUN_TEST(test_lock_and_stale);
	RUN_TEST(test_failed_append_short_write);
	RUN_TEST(test_failed_append_bad_fd);
	RUN_TEST(test_limits);
	RUN_TEST(test_append_timing);
	ret = TEST_END();
	clean_dir();
	rmdir(dir);
	return ret;
}
