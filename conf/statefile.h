/* SPDX-License-Identifier: MIT */
/*
 * Durable store under wgdp's persistent state: a snapshot file PATH plus an
 * append-only journal PATH.journal, compacted from time to time. Payloads are
 * opaque bytes. An append returns 0 only once the change is on disk; after a
 * crash, a read gives back exactly the acknowledged changes. The formats and
 * the rules that tell a torn last append from corruption are described at
 * the top of statefile.c.
 *
 * Start-up: wg_statefile_read() (-ENOENT on a first start), apply the
 * snapshot then the records in order, then wg_statefile_open() with the
 * load's last_seq. Not thread-safe: one writer (the control thread).
 */
#ifndef WG_CONF_STATEFILE_H
#define WG_CONF_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* largest snapshot or record payload; a longer length field is corruption */
#define WG_STATEFILE_MAX_PAYLOAD (1u << 30)
/* wg_statefile_should_compact(): the journal is larger than this and the snapshot */
#define WG_STATEFILE_COMPACT_MIN (1u << 20)

struct wg_statefile_record {
	uint64_t seq;
	uint8_t *data; /* points into the load's journal buffer */
	size_t len;
};

struct wg_statefile_load {
	uint8_t *snapshot; /* snapshot payload, NULL when there is no snapshot */
	size_t snapshot_len;
	bool has_snapshot;
	uint64_t snapshot_seq; /* sequence of the last change the snapshot includes */
	struct wg_statefile_record *records; /* changes after the snapshot, in order */
	size_t n_records;
	uint64_t last_seq; /* of the last change; pass it to wg_statefile_open() */
	bool torn_tail;    /* the journal ended inside an unacknowledged append: dropped */
	uint64_t torn_offset, torn_bytes; /* where in the journal, how many bytes */
	uint64_t journal_len; /* journal bytes that parse (up to the torn tail) */
	/* private: the journal as read; records point into it */
	uint8_t *journal_buf;
	size_t journal_buf_len;
};

struct wg_statefile;

/*
 * Read the state at path (the snapshot; the journal is path.journal).
 * 0: out filled; when torn_tail is set, err says what was dropped (log it).
 * -ENOENT: neither file exists (a first start; err names the directory when
 * that is what is missing). -EBADMSG: a file is corrupt; err names the file,
 * the byte offset and the reason, and nothing is returned. Else -errno of an
 * I/O call or -ENOMEM. Does not modify the files. out is zeroed on error.
 */
int wg_statefile_read(const char *path, struct wg_statefile_load *out, char *err, size_t errlen);
/* Wipe and free what a read returned; l may be zeroed or already freed. */
void wg_statefile_load_free(struct wg_statefile_load *l);

/*
 * Open the writer: creates path.journal (0600) if needed, locks it against a
 * second writer (-EBUSY), re-reads the state and checks that it still ends at
 * last_seq (-ESTALE otherwise; 0 on a first start), then cuts off a torn tail
 * or records already in the snapshot. On 0, err is empty or describes what
 * was cut off (log it). A missing directory is -ENOENT naming the directory.
 */
int wg_statefile_open(struct wg_statefile **out, const char *path, uint64_t last_seq, char *err,
		      size_t errlen);
/*
 * Append one change with sequence last_seq + 1; 0 only once it is durable
 * (written and fdatasync'ed). On an error the journal is cut back to its
 * previous length, the change is not recorded and must be refused. If even
 * that fails, every later append and compaction fails with -EIO until a
 * compaction succeeds or the writer is reopened. -EFBIG: len > the maximum.
 */
int wg_statefile_append(struct wg_statefile *sf, const void *data, size_t len);
/*
 * Write data as the new snapshot (including every change up to last_seq) and
 * empty the journal. On an error the previous snapshot and journal still
 * describe the same state, and appends may go on.
 */
int wg_statefile_compact(struct wg_statefile *sf, const void *data, size_t len);
uint64_t wg_statefile_last_seq(const struct wg_statefile *sf);
uint64_t wg_statefile_journal_bytes(const struct wg_statefile *sf);
uint64_t wg_statefile_snapshot_bytes(const struct wg_statefile *sf);
/* true when the journal exceeds both the snapshot and WG_STATEFILE_COMPACT_MIN */
bool wg_statefile_should_compact(const struct wg_statefile *sf);
/* what the last failed append or compaction went wrong on ("" if none): log it */
const char *wg_statefile_error(const struct wg_statefile *sf);
void wg_statefile_close(struct wg_statefile *sf);

#endif
