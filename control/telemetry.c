/* SPDX-License-Identifier: MIT */
/*
 * /wgdp/... commands of DPDK's telemetry socket (see telemetry.h and
 * docs/telemetry.md): the interface, a page of peers, one peer, the summed
 * counters and the lcores.
 *
 * Threads: rte_telemetry runs each callback on a thread of its own (one per
 * client connection). A callback never reads the device: it asks the control
 * thread (wg_call) to copy what the reply shows into a struct of the
 * callback's, then builds the rte_tel_data from that copy. Private and
 * preshared keys are never copied (only whether a preshared key is set).
 *
 * What DPDK 22.11's telemetry allows, and so shapes the replies: a reply is
 * at most 16 KiB of JSON and what does not fit is silently left out (hence
 * pages of PAGE_MAX peers and capped lists); a dict holds 256 entries and
 * may hold dicts, but an array holds only numbers or strings (so a page of
 * peers is a dict keyed by index) and a dict name may not hold base64's '+'
 * or '='; strings are up to 127 bytes and only ASCII is escaped correctly
 * (names are shown with other bytes as '?'); no booleans (0/1). A callback
 * that returns a negative errno gets the reply {"<command>": null}, without
 * a message. Commands cannot be unregistered: after wg_telemetry_unregister
 * they answer -ENODEV.
 */
#include "control/telemetry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "conf/key.h"
#include "control/peer_conf.h"
#include "control/scale.h"
#include "conf/parse_util.h"
#include "control/call.h"
#include "control/peers.h"
#include "control/stats.h"
#include "crypto/secure.h"
#include "dataplane/wgdp.h"

/* peers per /wgdp/peers reply: at most 227 bytes of JSON each, 64 fit in 16 KiB */
#define PAGE_MAX 64u
/* list entries of /wgdp/peer (at most 46 bytes of JSON each) */
#define PEER_MAX_ALLOWEDIPS 128u
#define PEER_MAX_ADDRESSES 64u
#define PARAM_MAX 128u

static struct wgdp *tel_dev; /* NULL: not registered, or unregistered */
static bool registered;

static struct wgdp *device(void)
{
	return __atomic_load_n(&tel_dev, __ATOMIC_ACQUIRE);
}

/* ---- parameters: NULL or the text after the command's first ',' ---- */

/* params without surrounding blanks into buf; false when too long */
static bool param_copy(const char *params, char *buf, size_t len)
{
	size_t n;

	buf[0] = '\0';
	if (!params)
		return true;
	while (*params == ' ' || *params == '\t' || *params == '\n' || *params == '\r')
		params++;
	n = strlen(params);
	while (n && (params[n - 1] == ' ' || params[n - 1] == '\t' || params[n - 1] == '\n' ||
		     params[n - 1] == '\r'))
		n--;
	if (n >= len)
		return false;
	memcpy(buf, params, n);
	buf[n] = '\0';
	return true;
}

static bool no_params(const char *params)
{
	char buf[PARAM_MAX];

	return param_copy(params, buf, sizeof(buf)) && !buf[0];
}

/* decimal numbers "a" or (b not NULL) "a,b", each <= max; missing ones keep their value */
static bool param_numbers(const char *params, uint64_t max, uint64_t *a, uint64_t *b)
{
	char buf[PARAM_MAX], *comma;
	const char *why;

	if (!param_copy(params, buf, sizeof(buf)))
		return false;
	if (!buf[0])
		return true;
	comma = strchr(buf, ',');
	if (comma && !b)
		return false;
	if (comma)
		*comma = '\0';
	if (!wg_conf_parse_uint(buf, max, a, &why))
		return false;
	return !comma || wg_conf_parse_uint(comma + 1, max, b, &why);
}

/* ---- building replies ----
 *
 * The library frees the containers of a reply when it sends it, but not
 * those of a callback that fails: every container is allocated before the
 * reply is built, and building cannot fail (no dict here comes near 256
 * entries).
 */

/* n fresh containers into v, or none (false) */
static bool alloc_all(struct rte_tel_data **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		v[i] = rte_tel_data_alloc();
		if (!v[i]) {
			while (i)
				rte_tel_data_free(v[--i]);
			return false;
		}
	}
	return true;
}

/* d[name] = child, which the library frees once sent */
static void add_child(struct rte_tel_data *d, const char *name, struct rte_tel_data *child)
{
	if (rte_tel_data_add_dict_container(d, name, child, 0) < 0)
		rte_tel_data_free(child); /* not with the layouts here */
}

static void add_key(struct rte_tel_data *d, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	rte_tel_data_add_dict_string(d, name, b64);
}

static void add_endpoint(struct rte_tel_data *d, const char *name, const struct wg_endpoint *ep)
{
	char text[WG_CONF_ENDPOINT_STR] = "";

	if (ep->family)
		wg_conf_format_endpoint(text, ep);
	rte_tel_data_add_dict_string(d, name, text);
}

/* a as an array of prefix strings */
static void prefix_array(struct rte_tel_data *a, const struct wg_conf_prefix *v, size_t n)
{
	char text[WG_CONF_PREFIX_STR];

	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	for (size_t i = 0; i < n; i++) {
		wg_conf_format_prefix(text, &v[i]);
		rte_tel_data_add_array_string(a, text);
	}
}

static const struct {
	const char *name;
	size_t off;
} simple_counters[] = {
#define C(field) { #field, offsetof(struct wg_lcore_counters, field) }
	C(rx_packets),    C(rx_bytes),      C(tx_packets),    C(tx_bytes),       C(keepalives_rx),
	C(keepalives_tx), C(handshakes_rx), C(handshakes_tx), C(cookies_tx),     C(arp_nd_replies),
	C(echo_replies),
#undef C
};

static uint64_t drops_total(const struct wg_lcore_counters *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < WG_DROP_MAX; i++)
		n += c->drops[i];
	for (unsigned i = 0; i < WG_L3_DROP_MAX; i++)
		n += c->l3_drops[i];
	return n;
}

/*
 * The counters of c into d: every one, every named drop (into the container
 * drops) and every outside frame drop (into l3).
 */
static void add_counters(struct rte_tel_data *d, const struct wg_lcore_counters *c, struct rte_tel_data *drops,
			 struct rte_tel_data *l3)
{
	for (size_t i = 0; i < sizeof(simple_counters) / sizeof(simple_counters[0]); i++)
		rte_tel_data_add_dict_u64(d, simple_counters[i].name,
					  *(const uint64_t *)((const char *)c + simple_counters[i].off));
	rte_tel_data_add_dict_u64(d, "drops_total", drops_total(c));
	rte_tel_data_start_dict(drops);
	for (unsigned i = 0; i < WG_DROP_MAX; i++)
		rte_tel_data_add_dict_u64(drops, wg_drop_names[i], c->drops[i]);
	rte_tel_data_start_dict(l3);
	for (unsigned i = 0; i < WG_L3_DROP_MAX; i++)
		rte_tel_data_add_dict_u64(l3, wg_l3_drop_name(i), c->l3_drops[i]);
	add_child(d, "drops", drops);
	add_child(d, "outside_drops", l3);
}

/* ---- /wgdp/interface ---- */

struct iface_copy {
	bool has_identity;
	uint8_t public_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t n_peers, max_peers;
	unsigned n_workers, control_lcore;
	uint16_t worker_lcores[WG_MAX_WORKERS];
	uint64_t uptime_ns;
	char outside[64], inside[64];
};

static void copy_interface(struct wgdp *dev, void *arg)
{
	struct iface_copy *c = arg;

	c->has_identity = dev->identity.has_identity;
	memcpy(c->public_key, dev->identity.public_key, WG_KEY_LEN);
	c->listen_port = dev->listen_port;
	c->n_peers = dev->n_peers;
	c->max_peers = dev->conf.appliance.max_peers;
	c->n_workers = dev->n_workers;
	c->control_lcore = rte_lcore_id();
	for (unsigned i = 0; i < dev->n_workers; i++)
		c->worker_lcores[i] = (uint16_t)dev->workers[i].lcore_id;
	c->uptime_ns = wg_now_ns() - dev->start_ns;
	snprintf(c->outside, sizeof(c->outside), "%s", dev->out.port.name);
	snprintf(c->inside, sizeof(c->inside), "%s",
		 dev->inside_is_tap ? dev->conf.appliance.inside_interface : dev->in.port.name);
}

static int cmd_interface(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wgdp *dev = device();
	struct iface_copy c = { 0 };
	struct rte_tel_data *lcores;
	int ret;

	(void)cmd;
	if (!dev)
		return -ENODEV;
	if (!no_params(params))
		return -EINVAL;
	ret = wg_call(dev, copy_interface, &c);
	if (ret)
		return ret;
	if (!alloc_all(&lcores, 1))
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	if (c.has_identity)
		add_key(d, "public_key", c.public_key);
	else
		rte_tel_data_add_dict_string(d, "public_key", "");
	rte_tel_data_add_dict_u64(d, "listen_port", c.listen_port);
	rte_tel_data_add_dict_u64(d, "peers", c.n_peers);
	rte_tel_data_add_dict_u64(d, "max_peers", c.max_peers);
	rte_tel_data_add_dict_u64(d, "workers", c.n_workers);
	rte_tel_data_start_array(lcores, RTE_TEL_INT_VAL);
	for (unsigned i = 0; i < c.n_workers; i++)
		rte_tel_data_add_array_int(lcores, c.worker_lcores[i]);
	add_child(d, "worker_lcores", lcores);
	rte_tel_data_add_dict_u64(d, "control_lcore", c.control_lcore);
	rte_tel_data_add_dict_u64(d, "uptime_seconds", c.uptime_ns / 1000000000ull);
	rte_tel_data_add_dict_string(d, "outside_port", c.outside);
	rte_tel_data_add_dict_string(d, "inside", c.inside);
	return 0;
}

/* ---- /wgdp/peers[,start[,count]] ---- */

struct peer_row {
	uint8_t public_key[WG_KEY_LEN];
	struct wg_endpoint endpoint;
	uint64_t last_handshake_ns, rx_bytes, tx_bytes;
};

struct page_copy {
	uint64_t start, want; /* in */
	uint32_t total;       /* out */
	unsigned n;
	struct peer_row rows[PAGE_MAX];
};

static void copy_page(struct wgdp *dev, void *arg)
{
	struct page_copy *c = arg;
	const struct wg_peer *p = dev->peers;
	struct wg_peer_stats st;

	c->total = dev->n_peers;
	for (uint64_t i = 0; p && i < c->start; i++)
		p = p->list_next;
	for (c->n = 0; p && c->n < c->want; p = p->list_next, c->n++) {
		struct peer_row *r = &c->rows[c->n];

		wg_stats_peer(p, &st);
		memcpy(r->public_key, wg_peer_public_key(p), WG_KEY_LEN);
		r->endpoint = st.endpoint;
		r->last_handshake_ns = st.last_handshake_ns;
		r->rx_bytes = st.rx_bytes;
		r->tx_bytes = st.tx_bytes;
	}
}

static int cmd_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wgdp *dev = device();
	struct rte_tel_data *t[1 + PAGE_MAX], *peers, **row = t + 1;
	struct page_copy *c;
	char name[24];
	uint64_t start = 0, want = PAGE_MAX;
	int ret;

	(void)cmd;
	if (!dev)
		return -ENODEV;
	if (!param_numbers(params, WG_CONF_MAX_MAX_PEERS, &start, &want) || want < 1 || want > PAGE_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->start = start;
	c->want = want;
	ret = wg_call(dev, copy_page, c);
	if (!ret && !alloc_all(t, 1 + c->n))
		ret = -ENOMEM;
	if (ret) {
		free(c);
		return ret;
	}
	peers = t[0];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", c->total);
	rte_tel_data_add_dict_u64(d, "start", start);
	rte_tel_data_add_dict_u64(d, "count", c->n);
	rte_tel_data_add_dict_u64(d, "next", start + c->n > c->total ? c->total : start + c->n);
	rte_tel_data_start_dict(peers);
	for (unsigned i = 0; i < c->n; i++) {
		const struct peer_row *r = &c->rows[i];

		rte_tel_data_start_dict(row[i]);
		add_key(row[i], "public_key", r->public_key);
		add_endpoint(row[i], "endpoint", &r->endpoint);
		rte_tel_data_add_dict_u64(row[i], "latest_handshake", r->last_handshake_ns / 1000000000ull);
		rte_tel_data_add_dict_u64(row[i], "rx_bytes", r->rx_bytes);
		rte_tel_data_add_dict_u64(row[i], "tx_bytes", r->tx_bytes);
		snprintf(name, sizeof(name), "%llu", (unsigned long long)(start + i));
		add_child(peers, name, row[i]);
	}
	add_child(d, "peers", peers);
	free(c);
	return 0;
}

/* ---- /wgdp/peer,<public key> ---- */

struct peer_copy {
	uint8_t public_key[WG_KEY_LEN]; /* in */
	bool found;
	struct wg_peer_stats st;
	struct wg_endpoint configured;
	uint16_t keepalive;
	bool enabled, has_psk, server_key;
	char name[WG_CONF_PEER_NAME_MAX];
	unsigned worker, lcore;
	size_t n_aips, total_aips, n_addrs, total_addrs;
	struct wg_conf_prefix aips[PEER_MAX_ALLOWEDIPS], addrs[PEER_MAX_ADDRESSES];
};

/* what is not REMOVE_ME, up to max entries; returns how many there are */
static size_t copy_prefixes(const struct wg_conf_prefixes *l, struct wg_conf_prefix *out, size_t max, size_t *n)
{
	size_t total = 0;

	*n = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].flags & WG_CONF_PREFIX_REMOVE_ME)
			continue;
		if (*n < max)
			out[(*n)++] = l->v[i];
		total++;
	}
	return total;
}

static void copy_peer(struct wgdp *dev, void *arg)
{
	struct peer_copy *c = arg;
	const struct wg_peer *p = wg_peers_lookup(dev, c->public_key);
	struct wg_conf_peer view;
	const struct wg_conf_peer *cp = &view;

	if (!p)
		return;
	wg_peer_conf_view(p, &view); /* shallow: the lists are only read */
	c->found = true;
	wg_stats_peer(p, &c->st);
	if (cp->flags & WG_CONF_PEER_HAS_ENDPOINT)
		c->configured = cp->endpoint;
	c->keepalive = cp->persistent_keepalive;
	c->enabled = !cp->disabled;
	c->has_psk = !wg_secure_is_zero(cp->preshared_key, WG_KEY_LEN);
	c->server_key = !wg_secure_is_zero(cp->client_private_key, WG_KEY_LEN);
	memcpy(c->name, cp->name, sizeof(c->name));
	c->worker = wg_scale_owner(dev, p);
	c->lcore = c->worker < dev->n_workers ? dev->workers[c->worker].lcore_id : 0;
	c->total_aips = copy_prefixes(&cp->allowedips, c->aips, PEER_MAX_ALLOWEDIPS, &c->n_aips);
	c->total_addrs = copy_prefixes(&cp->addresses, c->addrs, PEER_MAX_ADDRESSES, &c->n_addrs);
	wg_secure_wipe(&view, sizeof(view));
}

static int cmd_peer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wgdp *dev = device();
	struct rte_tel_data *lists[2];
	struct peer_copy *c;
	char key[PARAM_MAX];
	int ret;

	(void)cmd;
	if (!dev)
		return -ENODEV;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (!param_copy(params, key, sizeof(key)) || !wg_key_from_base64(c->public_key, key, strlen(key))) {
		free(c);
		return -EINVAL;
	}
	ret = wg_call(dev, copy_peer, c);
	if (!ret && !c->found)
		ret = -ENOENT;
	if (!ret && !alloc_all(lists, 2))
		ret = -ENOMEM;
	if (ret) {
		free(c);
		return ret;
	}
	/* printable ASCII only: see the file comment */
	for (char *s = c->name; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
	rte_tel_data_start_dict(d);
	add_key(d, "public_key", c->public_key);
	rte_tel_data_add_dict_string(d, "name", c->name);
	rte_tel_data_add_dict_u64(d, "enabled", c->enabled);
	rte_tel_data_add_dict_u64(d, "has_preshared_key", c->has_psk);
	rte_tel_data_add_dict_u64(d, "server_generated_key", c->server_key);
	add_endpoint(d, "endpoint", &c->st.endpoint);
	add_endpoint(d, "configured_endpoint", &c->configured);
	rte_tel_data_add_dict_u64(d, "persistent_keepalive", c->keepalive);
	rte_tel_data_add_dict_u64(d, "latest_handshake", c->st.last_handshake_ns / 1000000000ull);
	rte_tel_data_add_dict_u64(d, "rx_bytes", c->st.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_bytes", c->st.tx_bytes);
	rte_tel_data_add_dict_u64(d, "rx_packets", c->st.rx_packets);
	rte_tel_data_add_dict_u64(d, "tx_packets", c->st.tx_packets);
	rte_tel_data_add_dict_u64(d, "worker", c->worker);
	rte_tel_data_add_dict_u64(d, "lcore", c->lcore);
	rte_tel_data_add_dict_u64(d, "allowed_ips_total", c->total_aips);
	rte_tel_data_add_dict_u64(d, "addresses_total", c->total_addrs);
	prefix_array(lists[0], c->aips, c->n_aips);
	add_child(d, "allowed_ips", lists[0]);
	prefix_array(lists[1], c->addrs, c->n_addrs);
	add_child(d, "addresses", lists[1]);
	free(c);
	return 0;
}

/* ---- /wgdp/counters and /wgdp/lcores[,lcore] ---- */

struct lcores_copy {
	unsigned control_lcore, n_workers;
	struct wg_lcore_counters control;
	struct {
		unsigned lcore;
		uint16_t queue;
		struct wg_lcore_counters cnt;
	} w[WG_MAX_WORKERS];
};

static void copy_lcores(struct wgdp *dev, void *arg)
{
	struct lcores_copy *c = arg;

	c->control_lcore = rte_lcore_id();
	c->control = dev->control_cnt;
	c->n_workers = dev->n_workers;
	for (unsigned i = 0; i < dev->n_workers; i++) {
		c->w[i].lcore = dev->workers[i].lcore_id;
		c->w[i].queue = dev->workers[i].txq_out;
		c->w[i].cnt = dev->workers[i].cnt;
	}
}

static void copy_sum(struct wgdp *dev, void *arg)
{
	wg_stats_sum(dev, arg);
}

static int cmd_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wgdp *dev = device();
	struct wg_lcore_counters sum;
	struct rte_tel_data *t[2];
	int ret;

	(void)cmd;
	if (!dev)
		return -ENODEV;
	if (!no_params(params))
		return -EINVAL;
	ret = wg_call(dev, copy_sum, &sum);
	if (ret)
		return ret;
	if (!alloc_all(t, 2))
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	add_counters(d, &sum, t[0], t[1]);
	return 0;
}

/* one lcore: a summary (its role and main counters), or with t[0..1] every counter */
static void lcore_dict(struct rte_tel_data *l, const char *role, int worker, unsigned queue,
		       const struct wg_lcore_counters *cnt, struct rte_tel_data **t)
{
	rte_tel_data_start_dict(l);
	rte_tel_data_add_dict_string(l, "role", role);
	if (worker >= 0) {
		rte_tel_data_add_dict_int(l, "worker", worker);
		rte_tel_data_add_dict_u64(l, "queue", queue);
	}
	if (t) {
		add_counters(l, cnt, t[0], t[1]);
		return;
	}
	rte_tel_data_add_dict_u64(l, "rx_packets", cnt->rx_packets);
	rte_tel_data_add_dict_u64(l, "rx_bytes", cnt->rx_bytes);
	rte_tel_data_add_dict_u64(l, "tx_packets", cnt->tx_packets);
	rte_tel_data_add_dict_u64(l, "tx_bytes", cnt->tx_bytes);
	rte_tel_data_add_dict_u64(l, "drops_total", drops_total(cnt));
}

static int cmd_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wgdp *dev = device();
	struct rte_tel_data *t[1 + WG_MAX_WORKERS];
	struct lcores_copy *c;
	uint64_t only = UINT64_MAX;
	unsigned n = 0, k = 0;
	char name[16];
	int ret;

	(void)cmd;
	if (!dev)
		return -ENODEV;
	if (!param_numbers(params, RTE_MAX_LCORE - 1, &only, NULL))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = wg_call(dev, copy_lcores, c);
	/* containers: one per lcore shown; one lcore in full takes three */
	if (!ret && only == UINT64_MAX)
		n = 1 + c->n_workers;
	else if (!ret) {
		n = only == c->control_lcore ? 3 : 0;
		for (unsigned i = 0; i < c->n_workers; i++)
			n = only == c->w[i].lcore ? 3 : n;
		if (!n)
			ret = -ENOENT; /* not one of ours */
	}
	if (!ret && !alloc_all(t, n))
		ret = -ENOMEM;
	if (ret) {
		free(c);
		return ret;
	}
	rte_tel_data_start_dict(d);
	for (int i = -1; i < (int)c->n_workers; i++) {
		unsigned lcore = i < 0 ? c->control_lcore : c->w[i].lcore;
		struct rte_tel_data *l = t[k], **full = only == UINT64_MAX ? NULL : &t[k + 1];

		if (only != UINT64_MAX && only != lcore)
			continue;
		k += full ? 3 : 1;
		if (i < 0)
			lcore_dict(l, "control", -1, 0, &c->control, full);
		else
			lcore_dict(l, "worker", i, c->w[i].queue, &c->w[i].cnt, full);
		snprintf(name, sizeof(name), "%u", lcore);
		add_child(d, name, l);
		if (full)
			break;
	}
	free(c);
	return 0;
}

/* ---- registration ---- */

static const struct {
	const char *cmd;
	telemetry_cb fn;
	const char *help;
} commands[] = {
	{ "/wgdp/interface", cmd_interface,
	  "wgdp: public key, listen port, peer count, worker lcores, uptime. No parameters" },
	{ "/wgdp/peers", cmd_peers,
	  "wgdp: a page of peers (key, endpoint, handshake, bytes). Parameters: [start[,count<=64]]" },
	{ "/wgdp/peer", cmd_peer, "wgdp: one peer in full, allowed IPs included. Parameter: its public key (base64)" },
	{ "/wgdp/counters", cmd_counters, "wgdp: every counter and named drop, summed over lcores. No parameters" },
	{ "/wgdp/lcores", cmd_lcores,
	  "wgdp: per lcore its role and counters. Parameter: [lcore id] for every counter of that one" },
};

int wg_telemetry_register(struct wgdp *dev)
{
	int ret;

	/* DPDK 22.11 accepts a command twice and cannot remove one: register once */
	if (!registered) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			ret = rte_telemetry_register_cmd(commands[i].cmd, commands[i].fn, commands[i].help);
			if (ret)
				return ret;
		}
		registered = true;
	}
	__atomic_store_n(&tel_dev, dev, __ATOMIC_RELEASE);
	return 0;
}

void wg_telemetry_unregister(void)
{
	__atomic_store_n(&tel_dev, NULL, __ATOMIC_RELEASE);
}
