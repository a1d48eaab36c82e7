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
 *
 * "Used" is the last resolve of the entry (or its creation); learning does
 * not refresh it, so a neighbour that only talks to us is collected.
 *
 * Storage: a pool of capacity entries with a free list, a ring of queue_len
 * packet pointers per entry, and an open-addressing index (linear probing,
 * at least twice as many slots as entries, backward-shift deletion) keyed
 * on (family, address) under a random per-table key. All allocated in
 * create; nothing else allocates. Owned by the control thread.
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
	uint8_t qhead, qcount;
	uint32_t hash;
	uint64_t timer;
	uint64_t used;
};

struct wg_neigh_table {
	struct entry *e;
	void **queue;     /* capacity * qlen */
	uint32_t *index;  /* slot -> entry number, or EMPTY */
	uint32_t *free;   /* stack of free entry numbers */
	size_t n_free;
	size_t mask;      /* index slots - 1 */
	size_t capacity;
	size_t qlen;
	size_t count;
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

static void *queue_pop(struct wg_neigh_table *t, struct entry *e)
{
	void **q = t->queue + (size_t)(e - t->e) * t->qlen;
	void *pkt = q[e->qhead];

	e->qhead = (uint8_t)((e->qhead + 1) % t->qlen);
	e->qcount--;
	return pkt;
}

static void enqueue(struct wg_neigh_table *t, struct entry *e, void *pkt)
{
	if (!pkt)
		return;
	if (!t->qlen) {
		t->st.queue_overflow++;
		t->cb.free(t->cb.ctx, pkt);
		return;
	}
	if (e->qcount == t->qlen) {
		t->st.queue_overflow++;
		t->cb.free(t->cb.ctx, queue_pop(t, e));
	}
	t->queue[(size_t)(e - t->e) * t->qlen + (e->qhead + e->qcount) % t->qlen] = pkt;
	e->qcount++;
	t->st.queued++;
}

/* hand every queued packet to send (mac known) or free (failure, removal) */
static void flush(struct wg_neigh_table *t, struct entry *e, bool send)
{
	while (e->qcount) {
		void *pkt = queue_pop(t, e);
		if (send) {
			t->cb.send(t->cb.ctx, pkt, e->mac);
		} else {
			t->cb.free(t->cb.ctx, pkt);
		}
	}
}

static void remove_entry(struct wg_neigh_table *t, struct entry *e)
{
	uint32_t n = (uint32_t)(e - t->e);

	flush(t, e, false);
	index_remove(t, n);
	e->family = 0;
	t->free[t->n_free++] = n;
	t->count--;
}

/* the least recently used STALE (not probing) or FAILED entry, or NULL */
static struct entry *victim(struct wg_neigh_table *t)
{
	struct entry *best = NULL;

	for (size_t i = 0; i < t->capacity; i++) {
		struct entry *e = &t->e[i];
		if (!e->family)
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
	flush(t, e, false);
}

static void age(struct wg_neigh_table *t, struct entry *e, uint64_t now)
{
	(void)t;
	if (e->state == WG_NEIGH_REACHABLE && now >= e->timer) {
		e->state = WG_NEIGH_STALE;
		e->probes = 0;
	}
}

int wg_neigh_create(struct wg_neigh_table **out, size_t capacity, size_t queue_len,
		    const struct wg_neigh_callbacks *cb, const struct wg_neigh_timers *timers)
{
	struct wg_neigh_table *t;
	size_t slots = 2;

	if (!out || !cb || !cb->send || !cb->free || capacity == 0 ||
	    capacity > WG_NEIGH_CAPACITY_MAX || queue_len > WG_NEIGH_QUEUE_LEN_MAX)
		return -EINVAL;
	if (timers && timers->max_solicit > 255)
		return -EINVAL;
	while (slots < 2 * capacity)
		slots <<= 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = calloc(capacity, sizeof(*t->e));
	if (!t->e)
		goto err_e;
	t->queue = calloc(queue_len ? capacity * queue_len : 1, sizeof(*t->queue));
	if (!t->queue)
		goto err_queue;
	t->index = malloc(slots * sizeof(*t->index));
	if (!t->index)
		goto err_index;
	t->free = malloc(capacity * sizeof(*t->free));
	if (!t->free)
		goto err_free;

	memset(t->index, 0xff, slots * sizeof(*t->index));
	for (size_t i = 0; i < capacity; i++)
		t->free[i] = (uint32_t)(capacity - 1 - i); /* pop 0 first */
	t->n_free = capacity;
	t->mask = slots - 1;
	t->capacity = capacity;
	t->qlen = queue_len;
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
	free(t->queue);
err_queue:
	free(t->e);
err_e:
	free(t);
	return -ENOMEM;
}

void wg_neigh_destroy(struct wg_neigh_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->capacity; i++)
		if (t->e[i].family)
			flush(t, &t->e[i], false);
	free(t->free);
	free(t->index);
	free(t->queue);
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
		e->probes = 1;
		e->timer = now + t->tm.retrans;
		t->st.solicits++;
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
		return 0;
	}
	age(t, e, now);
	if (how == WG_NEIGH_LEARN_REPLY) {
		memcpy(e->mac, mac, 6);
		e->state = WG_NEIGH_REACHABLE;
		e->probes = 0;
		e->timer = now + t->tm.reachable;
		t->st.confirmed++;
		flush(t, e, true);
		return 0;
	}
	/* news, not proof: a waiting or failed entry gets a MAC, a known one may change it */
	if (e->state == WG_NEIGH_INCOMPLETE || e->state == WG_NEIGH_FAILED ||
	    memcmp(e->mac, mac, 6) != 0) {
		memcpy(e->mac, mac, 6);
		e->state = WG_NEIGH_STALE;
		e->probes = 0;
		flush(t, e, true);
	}
	return 0;
}

void wg_neigh_tick(struct wg_neigh_table *t, uint64_t now)
{
	for (size_t i = 0; i < t->capacity; i++) {
		struct entry *e = &t->e[i];

		if (!e->family)
			continue;
		age(t, e, now);
		switch (e->state) {
		case WG_NEIGH_INCOMPLETE:
		case WG_NEIGH_STALE:
			if (e->state == WG_NEIGH_STALE && !e->probes) {
				if (now >= e->used && now - e->used >= t->tm.gc_idle) {
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
			if (now >= e->timer && now >= e->used && now - e->used >= t->tm.gc_idle) {
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
	for (size_t i = 0; i < t->capacity; i++)
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

	for (size_t i = 0; i < t->capacity; i++)
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
	for (size_t i = 0; i < t->capacity; i++) {
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
