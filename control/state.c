/* SPDX-License-Identifier: MIT */
/*
 * Persistent state (see state.h): the model written as JSON into
 * conf/statefile.c's snapshot + journal, and read back at start.
 *
 * Replay builds the state in a plain struct wg_conf before the device
 * exists (peers by public key through a wg_keymap, removed ones marked), so
 * the device is built from it exactly as from a config file, through the
 * change path. Every JSON document is checked by the same strict parsers as
 * the REST API: a record that does not parse is corruption, as a bad
 * checksum is.
 */
#include "control/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/key.h"
#include "conf/keymap.h"
#include "conf/model_json.h"
#include "conf/statefile.h"
#include "control/peer_conf.h"
#include "crypto/secure.h"
#include "dataplane/wgdp.h"

#define STATE_FORMAT "wgdp-state"
#define STATE_VERSION 1

/* ---- writing ---- */

/* dump o compactly; the text holds keys: wipe it when done (free_text) */
static char *dump(json_t *o)
{
	return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

static void free_text(char *s)
{
	if (s) {
		wg_secure_wipe(s, strlen(s));
		free(s);
	}
}

int wg_state_log(struct wgdp *dev, const struct wg_change_log *log, char *err, size_t errlen)
{
	json_t *rec = json_object(), *put = json_array(), *rm = json_array();
	bool ok = rec && put && rm;
	char *text;
	int ret;

	if (!dev->state) {
		json_decref(rec);
		json_decref(put);
		json_decref(rm);
		return 0;
	}
	for (size_t i = 0; ok && i < log->n_put; i++)
		ok = !json_array_append_new(put, wg_json_from_peer(log->put[i], WG_JSON_SECRETS));
	for (size_t i = 0; ok && i < log->n_removed; i++) {
		char b64[WG_KEY_B64_LEN + 1];

		wg_key_to_base64(b64, log->removed[i]);
		ok = !json_array_append_new(rm, json_string(b64));
	}
	if (ok && log->interface)
		ok = !json_object_set_new(rec, "interface",
					  wg_json_from_interface(log->dev, log->inside, WG_JSON_SECRETS));
	ok = ok && !json_object_set(rec, "put", put) && !json_object_set(rec, "remove", rm);
	json_decref(put);
	json_decref(rm);
	text = ok ? dump(rec) : NULL;
	json_decref(rec);
	if (!text) {
		snprintf(err, errlen, "state file: out of memory");
		return -ENOMEM;
	}
	ret = wg_statefile_append(dev->state, text, strlen(text));
	free_text(text);
	if (ret) {
		snprintf(err, errlen, "state file %s: %s (the change is not applied)",
			 dev->conf.appliance.state_file, wg_statefile_error(dev->state));
		return ret;
	}
	dev->state_changes++;
	return 0;
}

/* the whole state as a snapshot document */
static char *snapshot_text(const struct wgdp *dev)
{
	struct wg_conf_device d = dev->conf.device;
	json_t *doc = json_object(), *peers = json_array();
	bool ok = doc && peers;
	char *text;

	d.flags = dev->identity.has_identity ? WG_CONF_DEVICE_HAS_PRIVATE_KEY : 0;
	d.listen_port = dev->listen_port;
	/* oldest first: the device lists peers newest first, and a replay adds them in order */
	const struct wg_peer **order = malloc((dev->n_peers + 1) * sizeof(*order));
	size_t n = 0;

	ok = ok && order;
	for (const struct wg_peer *p = dev->peers; ok && p; p = p->list_next)
		order[n++] = p;
	while (ok && n) {
		struct wg_conf_peer c;

		wg_peer_conf_view(order[--n], &c); /* shallow: the lists are only read */
		ok = !json_array_append_new(peers, wg_json_from_peer(&c, WG_JSON_SECRETS));
		wg_secure_wipe(&c, sizeof(c));
	}
	free(order);
	ok = ok && !json_object_set_new(doc, "format", json_string(STATE_FORMAT)) &&
	     !json_object_set_new(doc, "version", json_integer(STATE_VERSION)) &&
	     !json_object_set_new(doc, "interface", wg_json_from_interface(&d, &dev->conf.inside, WG_JSON_SECRETS)) &&
	     !json_object_set(doc, "peers", peers);
	json_decref(peers);
	text = ok ? dump(doc) : NULL;
	json_decref(doc);
	return text;
}

static int compact(struct wgdp *dev)
{
	char *text = snapshot_text(dev);
	int ret;

	if (!text)
		return -ENOMEM;
	ret = wg_statefile_compact(dev->state, text, strlen(text));
	free_text(text);
	return ret;
}

void wg_state_maybe_compact(struct wgdp *dev)
{
	int ret;

	if (!dev->state || !wg_statefile_should_compact(dev->state))
		return;
	ret = compact(dev);
	if (ret) /* the journal still holds everything: go on */
		fprintf(stderr, "wgdp: state file %s: compaction failed: %s\n", dev->conf.appliance.state_file,
			ret == -ENOMEM ? "out of memory" : wg_statefile_error(dev->state));
}

int wg_state_start(struct wgdp *dev, const struct wg_state_boot *boot, char *err, size_t errlen)
{
	const char *path = dev->conf.appliance.state_file;
	char why[512] = "";
	int ret;

	if (!path[0])
		return 0;
	ret = wg_statefile_open(&dev->state, path, boot->last_seq, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "StateFile %s: %s", path, why);
		return ret;
	}
	if (why[0])
		printf("wgdp: state file %s: %s\n", path, why);
	if (!boot->found || boot->n_records) {
		ret = compact(dev);
		if (ret) {
			snprintf(err, errlen, "StateFile %s: cannot write the snapshot: %s", path,
				 ret == -ENOMEM ? "out of memory" : wg_statefile_error(dev->state));
			wg_state_stop(dev);
			return ret;
		}
	}
	return 0;
}

void wg_state_stop(struct wgdp *dev)
{
	if (dev->state)
		wg_statefile_close(dev->state);
	dev->state = NULL;
}

/* ---- reading ---- */

struct replay {
	struct wg_conf_device *dev;
	struct wg_conf_inside *inside;
	struct wg_keymap keys; /* public key -> peer index + 1 */
	char *err;
	size_t errlen;
	const char *what; /* "snapshot", "record 7" */
};

static int rfail(struct replay *r, int ret, const char *fmt, const char *detail)
{
	char what[64];

	snprintf(what, sizeof(what), "%s", r->what);
	snprintf(r->err, r->errlen, "%s: ", what);
	snprintf(r->err + strlen(r->err), r->errlen - strlen(r->err), fmt, detail);
	return ret;
}

static int replay_interface(struct replay *r, const json_t *o)
{
	struct wg_conf_device d = { 0 };
	struct wg_conf_inside in = { 0 };
	char why[256];
	int ret = wg_json_to_interface(o, WG_JSON_STATE, &d, &in, NULL, why, sizeof(why));

	if (ret)
		return rfail(r, ret == -ENOMEM ? ret : -EBADMSG, "interface: %s", why);
	if (d.flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY)
		memcpy(r->dev->private_key, d.private_key, WG_KEY_LEN);
	else
		memset(r->dev->private_key, 0, WG_KEY_LEN);
	if (d.flags & WG_CONF_DEVICE_HAS_LISTEN_PORT)
		r->dev->listen_port = d.listen_port;
	if (d.flags & WG_CONF_DEVICE_HAS_FWMARK)
		r->dev->fwmark = d.fwmark;
	if (in.flags & WG_CONF_INSIDE_HAS_POOLS) {
		free(r->inside->pools.v);
		r->inside->pools = in.pools;
		in.pools.v = NULL;
	}
	if (in.flags & WG_CONF_INSIDE_REPLACE_ADDRESSES) { /* set through the REST API */
		free(r->inside->addresses.v);
		r->inside->addresses = in.addresses;
		in.addresses.v = NULL;
	}
	free(in.addresses.v);
	free(in.pools.v);
	wg_conf_device_free(&d);
	return 0;
}

static int replay_put(struct replay *r, const json_t *o)
{
	struct wg_conf_peer cp = { 0 }, *slot;
	char why[256];
	uint8_t k[32];
	uint32_t v;
	int ret = wg_json_to_peer(o, WG_JSON_STATE, &cp, NULL, why, sizeof(why));

	if (ret)
		return rfail(r, ret == -ENOMEM ? ret : -EBADMSG, "peer: %s", why);
	memcpy(k, cp.public_key, 32);
	v = wg_keymap_get(&r->keys, k);
	if (v) {
		slot = &r->dev->peers[v - 1];
		wg_conf_peer_free(slot);
	} else {
		slot = wg_conf_device_add_peer(r->dev);
		if (!slot || wg_keymap_put(&r->keys, k, (uint32_t)r->dev->n_peers)) {
			wg_conf_peer_free(&cp);
			return rfail(r, -ENOMEM, "%s", "out of memory");
		}
	}
	*slot = cp;
	return 0;
}

static int replay_remove(struct replay *r, const json_t *o)
{
	uint8_t key[WG_KEY_LEN], k[32];
	uint32_t v;

	if (!json_is_string(o) || !wg_key_from_base64(key, json_string_value(o), json_string_length(o)))
		return rfail(r, -EBADMSG, "%s", "remove: not a public key");
	memcpy(k, key, 32);
	v = wg_keymap_get(&r->keys, k);
	if (v) /* marked: dropped when the peers are compacted */
		r->dev->peers[v - 1].flags |= WG_CONF_PEER_REMOVE_ME;
	return 0;
}

/* one document: the snapshot (snapshot = true) or a journal record */
static int replay_doc(struct replay *r, const uint8_t *data, size_t len, bool snapshot)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *name;
	size_t i;
	int ret = 0;

	if (!doc)
		return rfail(r, -EBADMSG, "not JSON: %s", jerr.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return rfail(r, -EBADMSG, "%s", "not a JSON object");
	}
	json_object_foreach(doc, name, v) {
		json_t *item;

		if (snapshot && !strcmp(name, "format")) {
			if (!json_is_string(v) || strcmp(json_string_value(v), STATE_FORMAT))
				ret = rfail(r, -EBADMSG, "%s", "not a wgdp state file");
		} else if (snapshot && !strcmp(name, "version")) {
			if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION)
				ret = rfail(r, -EBADMSG, "%s", "a state format version this wgdp does not know");
		} else if (!strcmp(name, "interface")) {
			ret = replay_interface(r, v);
		} else if ((snapshot && !strcmp(name, "peers")) || (!snapshot && !strcmp(name, "put"))) {
			if (!json_is_array(v))
				ret = rfail(r, -EBADMSG, "%s: not an array", name);
			json_array_foreach(v, i, item) {
				if (ret || (ret = replay_put(r, item)))
					break;
			}
		} else if (!snapshot && !strcmp(name, "remove")) {
			if (!json_is_array(v))
				ret = rfail(r, -EBADMSG, "%s: not an array", name);
			json_array_foreach(v, i, item) {
				if (ret || (ret = replay_remove(r, item)))
					break;
			}
		} else {
			ret = rfail(r, -EBADMSG, "unknown member `%s'", name);
		}
		if (ret)
			break;
	}
	if (!ret && snapshot && !json_object_get(doc, "format"))
		ret = rfail(r, -EBADMSG, "%s", "not a wgdp state file (no format)");
	json_decref(doc);
	return ret;
}

/* drop the peers marked removed, keeping the order */
static void compact_peers(struct wg_conf_device *d)
{
	size_t o = 0;

	for (size_t i = 0; i < d->n_peers; i++) {
		if (d->peers[i].flags & WG_CONF_PEER_REMOVE_ME) {
			wg_conf_peer_free(&d->peers[i]);
			continue;
		}
		if (o != i) {
			d->peers[o] = d->peers[i];
			memset(&d->peers[i], 0, sizeof(d->peers[i]));
		}
		o++;
	}
	d->n_peers = o;
}

int wg_state_load(struct wg_conf *conf, struct wg_state_boot *boot, char *err, size_t errlen)
{
	const char *path = conf->appliance.state_file;
	struct wg_statefile_load l;
	struct wg_conf_device d = { 0 };
	struct wg_conf_inside in = { 0 };
	struct replay r = { .dev = &d, .inside = &in };
	char why[512] = "", what[48];
	int ret;

	memset(boot, 0, sizeof(*boot));
	if (!path[0])
		return 0;
	ret = wg_statefile_read(path, &l, why, sizeof(why));
	if (ret == -ENOENT && !strstr(why, "directory"))
		return 0; /* a first start: the config file seeds the state */
	if (ret) {
		snprintf(err, errlen, "StateFile %s: %s (nothing of it is applied)", path, why);
		return ret;
	}
	if (l.torn_tail)
		printf("wgdp: state file %s: %s\n", path, why);
	r.err = why;
	r.errlen = sizeof(why);
	/* start from the config's WireGuard part, so a journal without a snapshot applies to it */
	d.flags = conf->device.flags;
	memcpy(d.private_key, conf->device.private_key, WG_KEY_LEN);
	d.listen_port = conf->device.listen_port;
	d.fwmark = conf->device.fwmark;
	ret = wg_conf_prefixes_copy(&in.pools, &conf->inside.pools) ?: wg_conf_prefixes_copy(&in.addresses, &conf->inside.addresses);
	if (!ret && l.has_snapshot) {
		/* the snapshot is the whole truth: not on top of the config's peers */
		r.what = "snapshot";
		ret = replay_doc(&r, l.snapshot, l.snapshot_len, true);
	} else if (!ret) {
		for (size_t i = 0; i < conf->device.n_peers && !ret; i++) {
			struct wg_conf_peer *slot = wg_conf_device_add_peer(&d);
			uint8_t k[32];

			memcpy(k, conf->device.peers[i].public_key, 32);
			if (!slot || wg_conf_peer_copy(slot, &conf->device.peers[i]) ||
			    wg_keymap_put(&r.keys, k, (uint32_t)d.n_peers))
				ret = -ENOMEM;
		}
	}
	for (size_t i = 0; !ret && i < l.n_records; i++) {
		snprintf(what, sizeof(what), "journal record %llu", (unsigned long long)l.records[i].seq);
		r.what = what;
		ret = replay_doc(&r, l.records[i].data, l.records[i].len, false);
	}
	if (!ret) {
		compact_peers(&d);
		boot->found = true;
		boot->torn_tail = l.torn_tail;
		boot->last_seq = l.last_seq;
		boot->n_records = l.n_records;
		boot->n_peers = d.n_peers;
		/* the state replaces the config's WireGuard part */
		d.flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT | WG_CONF_DEVICE_HAS_FWMARK |
			  WG_CONF_DEVICE_REPLACE_PEERS;
		wg_conf_device_free(&conf->device);
		conf->device = d;
		free(conf->inside.pools.v);
		conf->inside.pools = in.pools;
		free(conf->inside.addresses.v);
		conf->inside.addresses = in.addresses;
		memset(&d, 0, sizeof(d));
		memset(&in, 0, sizeof(in));
	} else {
		snprintf(err, errlen, "StateFile %s: %s (nothing of it is applied)", path, why);
		ret = ret == -ENOMEM ? ret : -EBADMSG;
	}
	wg_conf_device_free(&d);
	free(in.pools.v);
	free(in.addresses.v);
	wg_keymap_free(&r.keys);
	wg_statefile_load_free(&l);
	return ret;
}
