/* SPDX-License-Identifier: MIT */
/*
 * Neighbour table: the ARP (RFC 826) / ND (RFC 4861) cache of the outside
 * link, reduced to what a concentrator needs.
 *
 * State machine (t = the entry's timer, P = max_solicit, all times in ns):
 *
 *   (none) --resolve--> INCOMPLETE   probes = 1, t = now + retrans; the
 *                                    caller sends the first solicitation
 *   INCOMPLETE --tick, t passed, probes < P--> INCOMPLETE (solicit again)
 *   INCOMPLETE --tick, t passed, probes = P--> FAILED (queue freed)
 *   any --learn REPLY--> REACHABLE   t = now + reachable; queue sent
 *   INCOMPLETE/FAILED --learn UNSOLICITED/REQUEST--> STALE; queue sent
 *   REACHABLE/STALE --learn UNSOLICITED/REQUEST, other MAC--> STALE
 *   REACHABLE --t passed (tick or resolve)--> STALE
 *   STALE --resolve, not probing--> STALE, probes = 1, t = now + retrans;
 *                                    the caller sends a unicast solicitation
 *   STALE probing --tick, t passed, probes < P--> unicast solicit again
 *   STALE probing --tick, t passed, probes = P--> FAILED
 *   FAILED --resolve before t = failed + holddown--> DROPPED
 *   FAILED --resolve after--> INCOMPLETE (a new round)
 *   STALE not probing / FAILED --tick, unused for gc_idle--> removed
 *   (none) --learn REQUEST, free slot--> STALE
 *   kept: STALE not probing --tick--> STALE probing (unicast solicit now)
 *   kept: FAILED --tick, t passed--> INCOMPLETE (a new round, solicit now)
 *   kept entries are never removed by gc nor evicted
 *
 * "Used" is the last resolve of the entry (or its creation); learning does
 * not refresh it, so a neighbour that only talks to us is collected. The
 * data path's use of a STALE entry reaches resolve through the snapshot's
 * notes (wg_neigh_snap_take_notes); its use of a REACHABLE one does not
 * need to: that entry goes STALE within `reachable` and is noted then.
 *
 * Storage: a pool of capacity entries with a free list (lowest first, so
 * scans stop at the high-water mark of entries ever in use), a shared pool
 * of queue_total packet slots chained into one FIFO per entry (at most
 * queue_len each), and an open-addressing index (linear probing, at least
 * twice as many slots as entries, backward-shift deletion) keyed on
 * (family, address) under a random per-table key. All allocated in create;
 * nothing else allocates. Owned by the control thread.
 */
#include "dataplane/neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define NSEC_PER_SEC 1000000000ull
#define EMPTY UINT32_MAX

static const struct wg_neigh_timers default_timers = {
	.retrans = NSEC_PER_SEC,
	.reachable = 30 * NSEC_PER_SEC,
	.holddown = 5 * NSEC_PER_SEC,
	.gc_idle = 60 * NSEC_PER_SEC,
	.max_solicit = 3,
};

struct entry {
	uint8_t ip[16];
	uint8_t family; /* 0: free */
	uint8_t state;
	uint8_t mac[6];
	uint8_t probes;
	uint8_t kept;
	uint16_t qcount;
	uint32_t qhead, qtail; /* packet slots, valid when qcount */
	uint32_t hash;
	uint64_t timer;
	uint64_t used;
};

struct wg_neigh_table {
	struct entry *e;
	void **qpkt;      /* packet slots: qtotal */
	uint32_t *qnext;  /* next slot of a queue or of the free list, or EMPTY */
	uint32_t qfree;   /* first free packet slot, or EMPTY */
	uint32_t *index;  /* slot -> entry number, or EMPTY */
	uint32_t *free;   /* stack of free entry numbers */
	size_t n_free;
	size_t mask;      /* index slots - 1 */
	size_t capacity;
	size_t hwm;       /* entries at and above this number were never used */
	size_t qlen;
	size_t qtotal;
	size_t count;
	uint64_t version; /* see wg_neigh_version() */
	uint64_t k0, k1;  /* hash key */
	struct wg_neigh_callbacks cb;
	struct wg_neigh_timers tm;
	struct wg_neigh_stats st;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* the 16-byte key of ip: IPv4 in the first 4 bytes, rest zero */
static bool make_key(uint8_t key[16], int family, const uint8_t *ip)
{
	size_t n = addr_len(family);

	if (!n || !ip)
		return false;
	memset(key, 0, 16);
	memcpy(key, ip, n);
	return true;
}

static bool mac_ok(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return mac && !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * Keyed mix of the key (not a PRF; the random key keeps a remote sender
 * from aiming at one probe chain blindly, and the capacity bounds it).
 */
static uint32_t hash_key(const struct wg_neigh_table *t, int family, const uint8_t key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (uint32_t)mix(mix(mix(t->k0 ^ a) ^ b ^ t->k1) ^ (uint64_t)family);
}

static struct entry *find(const struct wg_neigh_table *t, int family, const uint8_t key[16],
			  uint32_t *hash_out)
{
	uint32_t h = hash_key(t, family, key);

	if (hash_out)
		*hash_out = h;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uint32_t n = t->index[i];
		if (n == EMPTY)
			return NULL;
		struct entry *e = &t->e[n];
		if (e->hash == h && e->family == family && memcmp(e->ip, key, 16) == 0)
			return e;
	}
}

static void index_remove(struct wg_neigh_table *t, uint32_t n)
{
	size_t i = t->e[n].hash & t->mask;

	while (t->index[i] != n)
		i = (i + 1) & t->mask;
	t->index[i] = EMPTY;
	/* backward shift: pull later members of the cluster into the hole */
	for (size_t j = (i + 1) & t->mask; t->index[j] != EMPTY; j = (j + 1) & t->mask) {
		size_t home = t->e[t->index[j]].hash & t->mask;
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->index[i] = t->index[j];
			t->index[j] = EMPTY;
			i = j;
		}
	}
}

/* the oldest packet of e's queue (qcount > 0); its slot goes back to the pool */
static void *queue_pop(struct wg_neigh_table *t, struct entry *e)
{
	uint32_t slot = e->qhead;
	void *pkt = t->qpkt[slot];

	e->qhead = t->qnext[slot];
	e->qcount--;
	t->qnext[slot] = t->qfree;
	t->qfree = slot;
	return pkt;
}

/*
 * At most qlen packets per entry, qtotal in all: a full queue, or an empty
 * pool, frees the entry's oldest packet to make room; with nothing of its
 * own to give, the new packet is freed instead.
 */
static void enqueue(struct wg_neigh_table *t, struct entry *e, void *pkt)
{
	uint32_t slot;

	if (!pkt)
		return;
	if (!t->qlen || (!e->qcount && t->qfree == EMPTY)) {
		t->st.queue_overflow++;
		t->cb.free(t->cb.ctx, pkt, WG_NEIGH_FREE_OVERFLOW);
		return;
	}
	if (e->qcount == t->qlen || t->qfree == EMPTY) {
		t->st.queue_overflow++;
		t->cb.free(t->cb.ctx, queue_pop(t, e), WG_NEIGH_FREE_OVERFLOW);
	}
	slot = t->qfree;
	t->qfree = t->qnext[slot];
	t->qpkt[slot] = pkt;
	t->qnext[slot] = EMPTY;
	if (e->qcount)
		t->qnext[e->qtail] = slot;
	else
		e->qhead = slot;
	e->qtail = slot;
	e->qcount++;
	t->st.queued++;
}

/* hand every queued packet to send, in order: the MAC is known */
static void send_queue(struct wg_neigh_table *t, struct entry *e)
{
	while (e->qcount)
		t->cb.send(t->cb.ctx, queue_pop(t, e), e->mac);
}

/* hand every queued packet to free (failure, removal) */
static void free_queue(struct wg_neigh_table *t, struct entry *e, enum wg_neigh_free_reason why)
{
	while (e->qcount)
		t->cb.free(t->cb.ctx, queue_pop(t, e), why);
}

static void remove_entry(struct wg_neigh_table *t, struct entry *e)
{
	uint32_t n = (uint32_t)(e - t->e);

	free_queue(t, e, WG_NEIGH_FREE_REMOVED);
	index_remove(t, n);
	e->family = 0;
	t->free[t->n_free++] = n;
	t->count--;
	t->version++;
}

/* the least recently used STALE (not probing) or FAILED entry not kept, or NULL */
static struct entry *victim(struct wg_neigh_table *t)
{
	struct entry *best = NULL;

	for (size_t i = 0; i < t->hwm; i++) {
		struct entry *e = &t->e[i];
		if (!e->family || e->kept)
			continue;
		if (!((e->state == WG_NEIGH_STALE && !e->probes) || e->state == WG_NEIGH_FAILED))
			continue;
		if (!best || e->used < best->used)
			best = e;
	}
	return best;
}

static struct entry *add(struct wg_neigh_table *t, int family, const uint8_t key[16], uint32_t h,
			 bool may_evict)
{
	struct entry *e;
	size_t i;

	if (!t->n_free) {
		if (!may_evict || !(e = victim(t))) {
			t->st.table_full++;
			return NULL;
		}
		remove_entry(t, e);
		t->st.evicted++;
	}
	uint32_t n = t->free[--t->n_free];
	e = &t->e[n];
	memset(e, 0, sizeof(*e));
	memcpy(e->ip, key, 16);
	e->family = (uint8_t)family;
	e->hash = h;
	e->qhead = e->qtail = EMPTY;
	if (n >= t->hwm)
		t->hwm = (size_t)n + 1;
	for (i = h & t->mask; t->index[i] != EMPTY; i = (i + 1) & t->mask)
		;
	t->index[i] = n;
	t->count++;
	t->st.created++;
	return e;
}

static void start_round(struct wg_neigh_table *t, struct entry *e, uint64_t now)
{
	e->state = WG_NEIGH_INCOMPLETE;
	e->probes = 1;
	e->timer = now + t->tm.retrans;
	t->st.misses++;
	t->st.solicits++;
}

static void fail(struct wg_neigh_table *t, struct entry *e, uint64_t now)
{
	e->state = WG_NEIGH_FAILED;
	e->probes = 0;
	e->timer = now + t->tm.holddown;
	t->st.failed++;
	t->st.failed_freed += e->qcount;
	free_queue(t, e, WG_NEIGH_FREE_FAILED);
	t->version++;
}

static void age(struct wg_neigh_table *t, struct entry *e, uint64_t now)
{
	if (e->state == WG_NEIGH_REACHABLE && now >= e->timer) {
		e->state = WG_NEIGH_STALE;
		e->probes = 0;
		t->version++;
	}
}

/* a round of unicast solicitations to re-confirm a STALE entry, the first now */
static void reprobe(struct wg_neigh_table *t, struct entry *e, uint64_t now)
{
	e->probes = 1;
	e->timer = now + t->tm.retrans;
	t->st.solicits++;
}

int wg_neigh_create(struct wg_neigh_table **out, const struct wg_neigh_limits *lim,
		    const struct wg_neigh_callbacks *cb, const struct wg_neigh_timers *timers)
{
	struct wg_neigh_table *t;
	size_t slots = 2, capacity, qtotal;

	if (!out || !lim || !cb || !cb->send || !cb->free || lim->capacity == 0 ||
	    lim->capacity > WG_NEIGH_CAPACITY_MAX || lim->queue_len > WG_NEIGH_QUEUE_LEN_MAX ||
	    lim->queue_total > WG_NEIGH_QUEUE_TOTAL_MAX)
		return -EINVAL;
	if (timers && timers->max_solicit > 255)
		return -EINVAL;
	capacity = lim->capacity;
	qtotal = lim->queue_total;
	if (!qtotal)
		qtotal = capacity * lim->queue_len < WG_NEIGH_QUEUE_TOTAL_MAX ? capacity * lim->queue_len
									: WG_NEIGH_QUEUE_TOTAL_MAX;
	if (!lim->queue_len)
		qtotal = 0;
	while (slots < 2 * capacity)
		slots <<= 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = calloc(capacity, sizeof(*t->e));
	if (!t->e)
		goto err_e;
	t->qpkt = calloc(qtotal ? qtotal : 1, sizeof(*t->qpkt));
	if (!t->qpkt)
		goto err_qpkt;
	t->qnext = malloc((qtotal ? qtotal : 1) * sizeof(*t->qnext));
	if (!t->qnext)
		goto err_qnext;
	t->index = malloc(slots * sizeof(*t->index));
	if (!t->index)
		goto err_index;
	t->free = malloc(capacity * sizeof(*t->free));
	if (!t->free)
		goto err_free;

	memset(t->index, 0xff, slots * sizeof(*t->index));
	for (size_t i = 0; i < capacity; i++)
		t->free[i] = (uint32_t)(capacity - 1 - i); /* pop 0 first */
	for (size_t i = 0; i < qtotal; i++)
		t->qnext[i] = i + 1 < qtotal ? (uint32_t)(i + 1) : EMPTY;
	t->qfree = qtotal ? 0 : EMPTY;
	t->n_free = capacity;
	t->mask = slots - 1;
	t->capacity = capacity;
	t->qlen = lim->queue_len;
	t->qtotal = qtotal;
	t->cb = *cb;
	t->tm = default_timers;
	if (timers) {
		if (timers->retrans)
			t->tm.retrans = timers->retrans;
		if (timers->reachable)
			t->tm.reachable = timers->reachable;
		if (timers->holddown)
			t->tm.holddown = timers->holddown;
		if (timers->gc_idle)
			t->tm.gc_idle = timers->gc_idle;
		if (timers->max_solicit)
			t->tm.max_solicit = timers->max_solicit;
	}
	if (getrandom(&t->k0, sizeof(t->k0), 0) != sizeof(t->k0) ||
	    getrandom(&t->k1, sizeof(t->k1), 0) != sizeof(t->k1)) {
		/* no entropy: still correct, only predictable */
		t->k0 = (uint64_t)(uintptr_t)t;
		t->k1 = 0x9e3779b97f4a7c15ull;
	}
	*out = t;
	return 0;

err_free:
	free(t->index);
err_index:
	free(t->qnext);
err_qnext:
	free(t->qpkt);
err_qpkt:
	free(t->e);
err_e:
	free(t);
	return -ENOMEM;
}

void wg_neigh_destroy(struct wg_neigh_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->hwm; i++)
		if (t->e[i].family)
			free_queue(t, &t->e[i], WG_NEIGH_FREE_REMOVED);
	free(t->free);
	free(t->index);
	free(t->qnext);
	free(t->qpkt);
	free(t->e);
	free(t);
}

enum wg_neigh_result wg_neigh_resolve(struct wg_neigh_table *t, int family, const uint8_t *ip,
				      uint64_t now, uint8_t mac_out[6], void *pkt)
{
	uint8_t key[16];
	uint32_t h;
	struct entry *e;

	if (!make_key(key, family, ip)) {
		t->st.dropped++;
		return WG_NEIGH_DROPPED;
	}
	e = find(t, family, key, &h);
	if (!e) {
		e = add(t, family, key, h, true);
		if (!e) {
			t->st.dropped++;
			return WG_NEIGH_DROPPED;
		}
		e->used = now;
		start_round(t, e, now);
		enqueue(t, e, pkt);
		return WG_NEIGH_QUEUED_SOLICIT;
	}
	e->used = now;
	age(t, e, now);
	switch (e->state) {
	case WG_NEIGH_REACHABLE:
		t->st.hits++;
		memcpy(mac_out, e->mac, 6);
		return WG_NEIGH_HIT;
	case WG_NEIGH_STALE:
		t->st.hits++;
		memcpy(mac_out, e->mac, 6);
		if (e->probes)
			return WG_NEIGH_HIT;
		reprobe(t, e, now);
		return WG_NEIGH_HIT_SOLICIT;
	case WG_NEIGH_INCOMPLETE:
		enqueue(t, e, pkt);
		return WG_NEIGH_QUEUED;
	default: /* FAILED */
		if (now < e->timer) {
			t->st.dropped++;
			return WG_NEIGH_DROPPED;
		}
		start_round(t, e, now);
		enqueue(t, e, pkt);
		return WG_NEIGH_QUEUED_SOLICIT;
	}
}

enum wg_neigh_result wg_neigh_keep(struct wg_neigh_table *t, int family, const uint8_t *ip,
				   uint64_t now, uint8_t mac_out[6])
{
	enum wg_neigh_result r = wg_neigh_resolve(t, family, ip, now, mac_out, NULL);
	uint8_t key[16];
	struct entry *e;

	if (make_key(key, family, ip) && (e = find(t, family, key, NULL)))
		e->kept = 1;
	return r;
}

int wg_neigh_learn(struct wg_neigh_table *t, int family, const uint8_t *ip, const uint8_t mac[6],
		   enum wg_neigh_learn how, uint64_t now)
{
	uint8_t key[16];
	uint32_t h;
	struct entry *e;

	if (!make_key(key, family, ip) || !mac_ok(mac) || how > WG_NEIGH_LEARN_REQUEST)
		return -EINVAL;
	e = find(t, family, key, &h);
	if (!e) {
		if (how != WG_NEIGH_LEARN_REQUEST) {
			t->st.learn_ignored++;
			return -ENOENT;
		}
		e = add(t, family, key, h, false);
		if (!e)
			return -ENOSPC;
		memcpy(e->mac, mac, 6);
		e->state = WG_NEIGH_STALE;
		e->used = now;
		t->version++;
		return 0;
	}
	age(t, e, now);
	if (how == WG_NEIGH_LEARN_REPLY) {
		memcpy(e->mac, mac, 6);
		e->state = WG_NEIGH_REACHABLE;
		e->probes = 0;
		e->timer = now + t->tm.reachable;
		t->st.confirmed++;
		t->version++;
		send_queue(t, e);
		return 0;
	}
	/* news, not proof: a waiting or failed entry gets a MAC, a known one may change it */
	if (e->state == WG_NEIGH_INCOMPLETE || e->state == WG_NEIGH_FAILED ||
	    memcmp(e->mac, mac, 6) != 0) {
		memcpy(e->mac, mac, 6);
		e->state = WG_NEIGH_STALE;
		e->probes = 0;
		t->version++;
		send_queue(t, e);
	}
	return 0;
}

void wg_neigh_tick(struct wg_neigh_table *t, uint64_t now)
{
	for (size_t i = 0; i < t->hwm; i++) {
		struct entry *e = &t->e[i];

		if (!e->family)
			continue;
		age(t, e, now);
		switch (e->state) {
		case WG_NEIGH_INCOMPLETE:
		case WG_NEIGH_STALE:
			if (e->state == WG_NEIGH_STALE && !e->probes) {
				if (e->kept) {
					reprobe(t, e, now);
					if (t->cb.solicit)
						t->cb.solicit(t->cb.ctx, e->family, e->ip, e->mac);
				} else if (now >= e->used && now - e->used >= t->tm.gc_idle) {
					remove_entry(t, e);
					t->st.gc++;
				}
				break;
			}
			if (now < e->timer)
				break;
			if (e->probes >= t->tm.max_solicit) {
				fail(t, e, now);
				break;
			}
			e->probes++;
			e->timer = now + t->tm.retrans;
			t->st.solicits++;
			if (t->cb.solicit)
				t->cb.solicit(t->cb.ctx, e->family, e->ip,
					      e->state == WG_NEIGH_STALE ? e->mac : NULL);
			break;
		case WG_NEIGH_FAILED:
			if (now < e->timer)
				break;
			if (e->kept) {
				start_round(t, e, now);
				if (t->cb.solicit)
					t->cb.solicit(t->cb.ctx, e->family, e->ip, NULL);
			} else if (now >= e->used && now - e->used >= t->tm.gc_idle) {
				remove_entry(t, e);
				t->st.gc++;
			}
			break;
		default:
			break;
		}
	}
}

int wg_neigh_get(const struct wg_neigh_table *t, int family, const uint8_t *ip,
		 struct wg_neigh_info *info)
{
	uint8_t key[16];
	const struct entry *e;

	if (!make_key(key, family, ip) || !(e = find(t, family, key, NULL)))
		return -ENOENT;
	info->state = e->state;
	memcpy(info->mac, e->mac, 6);
	info->probes = e->probes;
	info->kept = e->kept;
	info->queued = e->qcount;
	info->timer = e->timer;
	info->used = e->used;
	return 0;
}

void wg_neigh_get_stats(const struct wg_neigh_table *t, struct wg_neigh_stats *st)
{
	*st = t->st;
	st->entries = t->count;
	memset(st->by_state, 0, sizeof(st->by_state));
	for (size_t i = 0; i < t->hwm; i++)
		if (t->e[i].family)
			st->by_state[t->e[i].state]++;
}

const char *const *wg_neigh_stat_names(size_t *n)
{
	static const char *const names[] = {
#define WG_NEIGH_X_NAME(f) #f,
		WG_NEIGH_STATS(WG_NEIGH_X_NAME)
#undef WG_NEIGH_X_NAME
	};
	*n = sizeof(names) / sizeof(names[0]);
	return names;
}

const char *wg_neigh_state_name(enum wg_neigh_state s)
{
	switch (s) {
	case WG_NEIGH_INCOMPLETE:
		return "incomplete";
	case WG_NEIGH_REACHABLE:
		return "reachable";
	case WG_NEIGH_STALE:
		return "stale";
	case WG_NEIGH_FAILED:
		return "failed";
	}
	return "?";
}

size_t wg_neigh_resolved_count(const struct wg_neigh_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->hwm; i++)
		if (t->e[i].family &&
		    (t->e[i].state == WG_NEIGH_REACHABLE || t->e[i].state == WG_NEIGH_STALE))
			n++;
	return n;
}

/* order of a snapshot: family, then address bytes */
static int snap_cmp(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, 16);
}

static int snap_qsort_cmp(const void *pa, const void *pb)
{
	const struct wg_neigh_snap_entry *a = pa, *b = pb;

	return snap_cmp(a->family, a->ip, b->family, b->ip);
}

ssize_t wg_neigh_export(const struct wg_neigh_table *t, struct wg_neigh_snap_entry *out, size_t cap)
{
	size_t n = 0;

	if (wg_neigh_resolved_count(t) > cap)
		return -ENOSPC;
	for (size_t i = 0; i < t->hwm; i++) {
		const struct entry *e = &t->e[i];
		if (!e->family || (e->state != WG_NEIGH_REACHABLE && e->state != WG_NEIGH_STALE))
			continue;
		memcpy(out[n].ip, e->ip, 16);
		out[n].family = e->family;
		out[n].flags = e->state == WG_NEIGH_STALE ? WG_NEIGH_SNAP_STALE : 0;
		memcpy(out[n].mac, e->mac, 6);
		n++;
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), snap_qsort_cmp);
	return (ssize_t)n;
}

const struct wg_neigh_snap_entry *wg_neigh_snap_lookup(const struct wg_neigh_snap_entry *snap,
						       size_t n, int family, const uint8_t *ip)
{
	uint8_t key[16];
	size_t lo = 0, hi = n;

	if (!make_key(key, family, ip))
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = snap_cmp(snap[mid].family, snap[mid].ip, (uint8_t)family, key);
		if (c == 0)
			return &snap[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---------------------------------------------------------------------------
 * published snapshots and their notes
 *
 * Layout of a snapshot for cap entries: the header and e[cap], then on a
 * cache line of its own the noted byte, then the note bytes from the next
 * line on; so the lines readers search are never written after publication.
 */

#define LINE 64u

static size_t line_up(size_t n)
{
	return (n + LINE - 1) & ~(size_t)(LINE - 1);
}

static size_t notes_offset(size_t cap)
{
	return line_up(offsetof(struct wg_neigh_snapshot, e) + cap * sizeof(struct wg_neigh_snap_entry));
}

size_t wg_neigh_snapshot_size(size_t cap)
{
	return notes_offset(cap) + LINE + line_up(cap ? cap : 1);
}

int wg_neigh_snapshot_fill(const struct wg_neigh_table *t, struct wg_neigh_snapshot *snap, size_t cap)
{
	ssize_t n = wg_neigh_export(t, snap->e, cap);

	if (n < 0)
		return (int)n;
	snap->n = (size_t)n;
	snap->noted = (uint8_t *)snap + notes_offset(cap);
	snap->note = snap->noted + LINE;
	*snap->noted = 0;
	memset(snap->note, WG_NEIGH_NOTE_NONE, snap->n);
	return 0;
}

bool wg_neigh_snapshot_equal(const struct wg_neigh_snapshot *a, const struct wg_neigh_snapshot *b)
{
	if (!a || !b)
		return a == b;
	return a->n == b->n && !memcmp(a->e, b->e, a->n * sizeof(a->e[0]));
}

void wg_neigh_snapshot_carry_notes(struct wg_neigh_snapshot *to, const struct wg_neigh_snapshot *from)
{
	size_t i = 0, j = 0;
	bool used = false;

	if (!from)
		return;
	while (i < to->n && j < from->n) {
		const struct wg_neigh_snap_entry *a = &to->e[i], *b = &from->e[j];
		int c = snap_cmp(a->family, a->ip, b->family, b->ip);

		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			if (!memcmp(a, b, sizeof(*a))) {
				uint8_t note = __atomic_load_n(&from->note[j], __ATOMIC_RELAXED);

				to->note[i] = note;
				used |= note == WG_NEIGH_NOTE_USED;
			}
			i++, j++;
		}
	}
	if (used)
		*to->noted = 1;
}

uint64_t wg_neigh_version(const struct wg_neigh_table *t)
{
	return t->version;
}

size_t wg_neigh_snap_take_notes(struct wg_neigh_table *t, struct wg_neigh_snapshot *snap,
				uint64_t now)
{
	size_t taken = 0;

	if (!snap || !__atomic_exchange_n(snap->noted, 0, __ATOMIC_ACQUIRE))
		return 0;
	for (size_t i = 0; i < snap->n; i++) {
		const struct wg_neigh_snap_entry *se = &snap->e[i];
		uint8_t mac[6];

		if (__atomic_load_n(&snap->note[i], __ATOMIC_RELAXED) != WG_NEIGH_NOTE_USED)
			continue;
		__atomic_store_n(&snap->note[i], WG_NEIGH_NOTE_TAKEN, __ATOMIC_RELAXED);
		taken++;
		t->st.noted++;
		switch (wg_neigh_resolve(t, se->family, se->ip, now, mac, NULL)) {
		case WG_NEIGH_HIT_SOLICIT:
			if (t->cb.solicit)
				t->cb.solicit(t->cb.ctx, se->family, se->ip, mac);
			break;
		case WG_NEIGH_QUEUED_SOLICIT:
			if (t->cb.solicit)
				t->cb.solicit(t->cb.ctx, se->family, se->ip, NULL);
			break;
		default:
			break;
		}
	}
	return taken;
}
