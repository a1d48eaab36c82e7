/* SPDX-License-Identifier: MIT */
/*
 * Neighbour table of one link: IPv4 and IPv6 next hops -> MAC, with ARP/ND
 * resolution state, a queue of packets per resolving entry, and a driven
 * clock (every call takes now in ns). Pure: it sends nothing itself; the
 * caller builds and transmits solicitations (dataplane/l3.h) when a result
 * or a callback says so.
 *
 * States (docs/neigh.md has the diagram):
 *   INCOMPLETE  solicitation sent, retried every retrans (1 s) up to
 *               max_solicit (3) in all, then FAILED; packets are queued
 *   REACHABLE   confirmed by a reply, for reachable (30 s), then STALE
 *   STALE       usable (the data path too); its first use sends a unicast
 *               solicitation and unanswered re-confirmation (max_solicit, 1 s apart) makes it
 *               FAILED; gc removes it after gc_idle (60 s) without use
 *   FAILED      packets dropped for holddown (5 s), then the next use
 *               starts over as INCOMPLETE; removed after gc_idle
 *
 * Kept entries (wg_neigh_keep(): configured gateways) are never collected
 * or evicted; one that goes STALE is re-probed at once, one that FAILED
 * starts a new round when its holddown ends.
 *
 * Learning rule (no growth from spoofed ARP/ND): replies and unsolicited
 * announcements only update entries that exist (we asked); only the sender
 * of a request aimed at one of our addresses may create an entry, STALE,
 * and only into a free slot. Entries we resolve may evict the least
 * recently used STALE or FAILED entry when the table is full.
 *
 * Single writer: the control thread owns the table. The data path reads a
 * snapshot built with wg_neigh_snapshot_fill() (published through RCU by the
 * DPDK side) with wg_neigh_snap_use(), which writes nothing but the note of
 * a STALE entry it uses; the control thread takes the notes with
 * wg_neigh_snap_take_notes(). Only a missing, INCOMPLETE or FAILED next hop
 * sends packets through the control thread.
 *
 * Callbacks run inside the call that triggers them and must not call back
 * into the table.
 */
#ifndef WG_NEIGH_H
#define WG_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* packets held per resolving entry (Linux holds ~100: unres_qlen_bytes 212992) */
#define WG_NEIGH_QUEUE_LEN_DEFAULT 128u
#define WG_NEIGH_QUEUE_LEN_MAX     4096u
#define WG_NEIGH_QUEUE_TOTAL_MAX   (1u << 20)
#define WG_NEIGH_CAPACITY_MAX      (1u << 20)

enum wg_neigh_state {
	WG_NEIGH_INCOMPLETE,
	WG_NEIGH_REACHABLE,
	WG_NEIGH_STALE,
	WG_NEIGH_FAILED,
};

/* where a (address, MAC) pair came from, for wg_neigh_learn() */
enum wg_neigh_learn {
	WG_NEIGH_LEARN_REPLY,       /* ARP reply to us, NA with S: confirms reachability */
	WG_NEIGH_LEARN_UNSOLICITED, /* gratuitous ARP, NA without S: news, not proof */
	WG_NEIGH_LEARN_REQUEST,     /* sender of an ARP request / NS for our address */
};

enum wg_neigh_result {
	WG_NEIGH_HIT,            /* mac filled; pkt not taken */
	WG_NEIGH_HIT_SOLICIT,    /* mac filled; pkt not taken; STALE: send a unicast
				  * solicitation to mac now to re-confirm */
	WG_NEIGH_QUEUED,         /* pkt taken (if any); resolution under way */
	WG_NEIGH_QUEUED_SOLICIT, /* pkt taken (if any); send a broadcast/multicast
				  * solicitation now */
	WG_NEIGH_DROPPED,        /* pkt NOT taken: FAILED in holddown or table full;
				  * the caller frees and counts it */
};

/* why the free callback gets a packet */
enum wg_neigh_free_reason {
	WG_NEIGH_FREE_OVERFLOW, /* queue full: the entry's oldest packet (or, with the
				 * shared pool empty and nothing queued here, the new one) */
	WG_NEIGH_FREE_FAILED,   /* resolution failed */
	WG_NEIGH_FREE_REMOVED,  /* entry removed (eviction, destroy) */
};

struct wg_neigh_callbacks {
	void *ctx;
	/* a queued packet may go now, to mac (resolution succeeded), in queue order */
	void (*send)(void *ctx, void *pkt, const uint8_t mac[6]);
	/* a queued packet is dropped, for the reason given */
	void (*free)(void *ctx, void *pkt, enum wg_neigh_free_reason why);
	/*
	 * send a solicitation for ip (4 or 16 bytes): broadcast/multicast when
	 * mac is NULL, unicast to mac when re-confirming a STALE entry.
	 */
	void (*solicit)(void *ctx, int family, const uint8_t *ip, const uint8_t *mac);
};

/* all in ns; 0 in a field means its default */
struct wg_neigh_timers {
	uint64_t retrans;     /* between solicitations: 1 s */
	uint64_t reachable;   /* REACHABLE -> STALE: 30 s */
	uint64_t holddown;    /* FAILED drops packets for: 5 s */
	uint64_t gc_idle;     /* STALE/FAILED unused for this long are removed: 60 s */
	unsigned max_solicit; /* solicitations per round: 3 */
};

#define WG_NEIGH_STATS(X)                                                                        \
	X(hits)            /* resolve found a usable MAC */                                      \
	X(misses)          /* resolve started a resolution */                                    \
	X(queued)          /* packets queued while resolving */                                  \
	X(queue_overflow)  /* packets freed because a queue was full (FREE_OVERFLOW) */          \
	X(solicits)        /* solicitations asked for (results and callbacks) */                 \
	X(confirmed)       /* replies that made an entry REACHABLE */                            \
	X(failed)          /* entries that became FAILED */                                      \
	X(failed_freed)    /* queued packets freed because resolution failed */                  \
	X(dropped)         /* resolve returned DROPPED */                                        \
	X(learn_ignored)   /* reply/announcement for an address we did not ask about */          \
	X(created)         /* entries created */                                                 \
	X(table_full)      /* an entry could not be created */                                   \
	X(evicted)         /* STALE/FAILED entries removed to make room */                       \
	X(gc)              /* entries removed after gc_idle */                                   \
	X(noted)           /* STALE entries the data path reported using (snapshot notes) */

struct wg_neigh_stats {
#define WG_NEIGH_X_FIELD(f) uint64_t f;
	WG_NEIGH_STATS(WG_NEIGH_X_FIELD)
#undef WG_NEIGH_X_FIELD
	uint64_t entries;                 /* current */
	uint64_t by_state[4];             /* current, indexed by enum wg_neigh_state */
};

/* one resolved entry of an exported snapshot (24 bytes) */
struct wg_neigh_snap_entry {
	uint8_t ip[16];  /* IPv4 in the first 4 bytes, rest zero */
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t flags;   /* WG_NEIGH_SNAP_STALE */
	uint8_t mac[6];
};
_Static_assert(sizeof(struct wg_neigh_snap_entry) == 24, "snapshot entry");

/*
 * The entry is STALE: the data path uses it and leaves a note for the
 * control thread (wg_neigh_snap_use()), which then re-confirms it
 * (wg_neigh_snap_take_notes()), so that a used neighbour is not left to go away.
 */
#define WG_NEIGH_SNAP_STALE 0x1u

/* a snapshot entry's note (wg_neigh_snapshot.note[i]) */
enum {
	WG_NEIGH_NOTE_NONE,  /* not used since published, or not STALE */
	WG_NEIGH_NOTE_USED,  /* STALE and used: set by a worker */
	WG_NEIGH_NOTE_TAKEN, /* the control thread acted on it; stays until the next snapshot */
};

/*
 * A published copy of the resolved entries, for the data path: n entries
 * sorted for wg_neigh_snap_lookup(), and one note byte per entry, the only
 * thing readers write (relaxed atomics, on cache lines of their own after
 * the entries). *noted is set (release) after a note becomes USED, so the
 * control thread scans only when there is something to take.
 */
struct wg_neigh_snapshot {
	size_t n;
	uint8_t *noted;  /* 1 byte */
	uint8_t *note;   /* n bytes, WG_NEIGH_NOTE_* */
	struct wg_neigh_snap_entry e[];
};

/* what wg_neigh_get() reports about one entry */
struct wg_neigh_info {
	uint8_t state; /* enum wg_neigh_state */
	uint8_t mac[6];
	uint8_t probes;  /* solicitations sent in the current round */
	bool kept;       /* wg_neigh_keep(): never collected or evicted */
	uint32_t queued; /* packets waiting */
	uint64_t timer;  /* next event: solicitation, STALE, end of holddown */
	uint64_t used;   /* last use or update */
};

/* sizes of a table: 0 in queue_total means min(capacity * queue_len, WG_NEIGH_QUEUE_TOTAL_MAX) */
struct wg_neigh_limits {
	size_t capacity;    /* most entries: 1..WG_NEIGH_CAPACITY_MAX */
	size_t queue_len;   /* packets held per resolving entry: 0..WG_NEIGH_QUEUE_LEN_MAX */
	size_t queue_total; /* packets held by all entries together: 0..WG_NEIGH_QUEUE_TOTAL_MAX */
};

struct wg_neigh_table;

/*
 * lim: see struct wg_neigh_limits (queue_len usually WG_NEIGH_QUEUE_LEN_DEFAULT);
 * cb: send and free required, solicit optional; timers NULL for the
 * defaults. 0, -EINVAL or -ENOMEM.
 */
int wg_neigh_create(struct wg_neigh_table **out, const struct wg_neigh_limits *lim,
		    const struct wg_neigh_callbacks *cb, const struct wg_neigh_timers *timers);
/* frees every queued packet through the free callback */
void wg_neigh_destroy(struct wg_neigh_table *t);

/*
 * A packet (or NULL) needs the MAC of next hop ip (4 or 16 bytes by family).
 * See enum wg_neigh_result for who owns pkt afterwards. A queue already
 * holding queue_len packets, or finding the shared pool empty, frees its
 * oldest through the callback (FREE_OVERFLOW); with nothing queued and the
 * pool empty, pkt itself is freed so.
 */
enum wg_neigh_result wg_neigh_resolve(struct wg_neigh_table *t, int family, const uint8_t *ip,
				      uint64_t now, uint8_t mac_out[6], void *pkt);

/*
 * Keep the entry of ip (a configured gateway, used by most packets): it is
 * created when missing (may evict, as resolve) and from then on never
 * collected or evicted, re-probed (unicast) as soon as it goes STALE, and
 * retried (a new round) when a failure's holddown ends. Returns as
 * wg_neigh_resolve() with pkt NULL: the caller sends the solicitation a
 * *_SOLICIT result asks for; DROPPED when there was no room for it.
 */
enum wg_neigh_result wg_neigh_keep(struct wg_neigh_table *t, int family, const uint8_t *ip,
				   uint64_t now, uint8_t mac_out[6]);

/*
 * ip is at mac, says a frame of kind how (see the learning rule above).
 * An entry waiting for it hands its queued packets to the send callback.
 * 0, -ENOENT (ignored: we did not ask), -ENOSPC (no free slot), -EINVAL
 * (family, multicast or zero MAC).
 */
int wg_neigh_learn(struct wg_neigh_table *t, int family, const uint8_t *ip, const uint8_t mac[6],
		   enum wg_neigh_learn how, uint64_t now);

/*
 * Run the clock to now: solicitations due (solicit callback), INCOMPLETE and
 * probed STALE entries that ran out of solicitations become FAILED (queued
 * packets freed), REACHABLE ages to STALE, idle entries are removed. Call it
 * every 100 ms or so; timers fire late by at most that period.
 */
void wg_neigh_tick(struct wg_neigh_table *t, uint64_t now);

/* 0 and info filled, or -ENOENT */
int wg_neigh_get(const struct wg_neigh_table *t, int family, const uint8_t *ip,
		 struct wg_neigh_info *info);
void wg_neigh_get_stats(const struct wg_neigh_table *t, struct wg_neigh_stats *st);
/* names of the WG_NEIGH_STATS counters, in order; n set to their number */
const char *const *wg_neigh_stat_names(size_t *n);
const char *wg_neigh_state_name(enum wg_neigh_state s);

/* number of REACHABLE and STALE entries: the size an export needs */
size_t wg_neigh_resolved_count(const struct wg_neigh_table *t);
/*
 * Changes whenever an export may have changed (an entry resolved, removed,
 * aged, moved): equal versions mean an equal export, so a publisher can skip
 * the work.
 */
uint64_t wg_neigh_version(const struct wg_neigh_table *t);
/*
 * Copy the REACHABLE and STALE entries into out, sorted by (family, ip) for
 * wg_neigh_snap_lookup(). Returns the count, or -ENOSPC when cap is short.
 */
ssize_t wg_neigh_export(const struct wg_neigh_table *t, struct wg_neigh_snap_entry *out, size_t cap);
/*
 * Binary search of an exported snapshot; reads only, so any number of
 * lcores may search one snapshot while the control thread builds the next.
 */
const struct wg_neigh_snap_entry *wg_neigh_snap_lookup(const struct wg_neigh_snap_entry *snap,
						       size_t n, int family, const uint8_t *ip);

/* bytes of a struct wg_neigh_snapshot for up to cap entries (notes included) */
size_t wg_neigh_snapshot_size(size_t cap);
/*
 * Export t into snap, a (cache-line aligned) block of
 * wg_neigh_snapshot_size(cap) bytes: entries sorted, notes cleared. 0, or
 * -ENOSPC when t has more than cap resolved entries.
 */
int wg_neigh_snapshot_fill(const struct wg_neigh_table *t, struct wg_neigh_snapshot *snap, size_t cap);
/* the same entries (notes aside); NULL equals only NULL */
bool wg_neigh_snapshot_equal(const struct wg_neigh_snapshot *a, const struct wg_neigh_snapshot *b);
/*
 * Before publishing to (not yet seen by workers) in place of from (NULL:
 * none): the notes of entries that did not change carry over, so that a
 * STALE entry is noted once per staleness period however often other
 * entries change. Workers may still be writing from's notes (relaxed).
 */
void wg_neigh_snapshot_carry_notes(struct wg_neigh_snapshot *to, const struct wg_neigh_snapshot *from);

/*
 * Data path: the MAC of next hop ip from a published snapshot (NULL: none).
 * true: mac filled, transmit now; a STALE entry is used as well, and its
 * first use leaves a note for the control thread (a relaxed load, then at
 * most one store per entry and snapshot: no shared-line writes in steady
 * state). false: no usable entry (missing, INCOMPLETE, FAILED): the control
 * thread must resolve it.
 */
static inline bool wg_neigh_snap_use(const struct wg_neigh_snapshot *snap, int family,
				     const uint8_t *ip, uint8_t mac[6])
{
	const struct wg_neigh_snap_entry *e;
	uint8_t *note;

	if (!snap || !(e = wg_neigh_snap_lookup(snap->e, snap->n, family, ip)))
		return false;
	memcpy(mac, e->mac, 6);
	if (e->flags & WG_NEIGH_SNAP_STALE) {
		note = &snap->note[e - snap->e];
		if (__atomic_load_n(note, __ATOMIC_RELAXED) == WG_NEIGH_NOTE_NONE) {
			__atomic_store_n(note, WG_NEIGH_NOTE_USED, __ATOMIC_RELAXED);
			__atomic_store_n(snap->noted, 1, __ATOMIC_RELEASE);
		}
	}
	return true;
}

/*
 * Control thread: act on the notes workers left in snap (an export of t,
 * the one published): every STALE entry used since is resolved with a NULL
 * packet, which counts as a use (gc) and starts its unicast re-confirmation
 * through the solicit callback (broadcast when the entry went meanwhile).
 * A note is taken once: the entry's next snapshot (REACHABLE again, or
 * STALE again 30 s later) starts without. Returns the notes taken.
 */
size_t wg_neigh_snap_take_notes(struct wg_neigh_table *t, struct wg_neigh_snapshot *snap,
				uint64_t now);

#endif
