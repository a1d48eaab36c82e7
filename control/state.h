/* SPDX-License-Identifier: MIT */
/*
 * Persistent state ([Appliance] StateFile): every accepted change is on disk
 * before the API that made it answers, and a restart (after a clean stop,
 * kill -9 or a power cut) comes back with every peer, key and allocated
 * address.
 *
 * On disk: conf/statefile.c's snapshot + journal, with JSON payloads from
 * conf/model_json.c. The snapshot is {"format": "wgdp-state", "version": 1,
 * "interface": {...}, "peers": [...]}; a journal record is one change:
 * {"interface": {...}, "put": [peer, ...], "remove": [public_key, ...]}
 * (every member optional), each peer its full configuration with secrets.
 * Records are idempotent (full states, not increments), so replaying one
 * twice is harmless.
 *
 * What the state holds replaces the config file's WireGuard part: the
 * interface's private key, listen port, fwmark, inside addresses and address
 * pools, and every peer. The config file seeds the state on the first start
 * (no state file yet) and keeps the rest ([Appliance], MTU). A state file that
 * fails its checks stops the start with the reason: nothing of it is applied.
 */
#ifndef WG_STATE_H
#define WG_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "control/change.h"

struct wgdp;

/* what wg_state_load found, for wg_state_start */
struct wg_state_boot {
	bool found;          /* a state file existed and was applied to the conf */
	bool torn_tail;      /* its journal ended in a record never acknowledged: dropped */
	uint64_t last_seq;
	size_t n_records, n_peers;
};

/*
 * Before the device is built: when conf->appliance.state_file names a state
 * file, replace conf's WireGuard part with it. 0 (also when there is none
 * yet: boot->found false), or -EBADMSG / -errno with err naming the file and
 * the fault (conf untouched).
 */
int wg_state_load(struct wg_conf *conf, struct wg_state_boot *boot, char *err, size_t errlen);

/*
 * After the device is built: open the journal for appending, and write a
 * snapshot of the whole state when the file is new or a journal was
 * replayed (so the next start reads one snapshot). 0 or -errno with err.
 */
int wg_state_start(struct wgdp *dev, const struct wg_state_boot *boot, char *err, size_t errlen);
void wg_state_stop(struct wgdp *dev);

/*
 * Called by wg_change_apply before it commits: append the change durably.
 * 0 (also with no state file) or -EIO / -ENOSPC / -ENOMEM with err; then the
 * change must not be applied.
 */
int wg_state_log(struct wgdp *dev, const struct wg_change_log *log, char *err, size_t errlen);
/* After a commit: replace snapshot + journal by one snapshot when the journal has grown large. */
void wg_state_maybe_compact(struct wgdp *dev);

#endif
