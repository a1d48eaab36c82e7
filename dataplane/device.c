/* SPDX-License-Identifier: MIT */
/*
 * Setting the appliance up from its configuration and taking it down again
 * (see wgdp.h). Every step of wg_device_setup() has its undo in
 * wg_device_teardown(), which copes with a partly built device, so a failed
 * setup unwinds through the same path.
 */
#include "dataplane/wgdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "control/change.h"
#include "control/control.h"
#include "control/peers.h"
#include "crypto/secure.h"
#include "control/scale.h"
#include "dataplane/tapif.h"
#include "dataplane/worker.h"

#define MBUF_CACHE 256
#define RATELIMITER_ENTRIES (1u << 16)
#define EVENT_RING_SIZE 4096u
#define REQUEST_RING_SIZE 4096u
#define DEFER_QUEUE_SIZE (1u << 16)

static void run_deferred(void *p, void *e, unsigned n)
{
	struct wg_deferred *d = e;

	for (unsigned i = 0; i < n; i++)
		d[i].fn(p, d[i].obj);
}

void wg_device_defer(struct wgdp *dev, void (*fn)(struct wgdp *dev, void *obj), void *obj)
{
	struct wg_deferred d = { .fn = fn, .obj = obj };

	if (dev->dq && rte_rcu_qsbr_dq_enqueue(dev->dq, &d) == 0)
		return;
	/* queue full (or no workers yet): wait for a grace period here */
	if (dev->qsbr)
		rte_rcu_qsbr_synchronize(dev->qsbr, RTE_QSBR_THRID_INVALID);
	fn(dev, obj);
}

static void free_aip_node(struct wgdp *dev, void *node)
{
	(void)dev;
	wg_allowedips_node_free(node);
}

/* the allowed-IP trie hands every unlinked node here */
static void aip_defer(void *ctx, void *node)
{
	wg_device_defer(ctx, free_aip_node, node);
}

static int fail(char *err, size_t errlen, int ret, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what, strerror(ret < 0 ? -ret : ret));
	return ret < 0 ? ret : -ret;
}

static int setup_identity(struct wgdp *dev)
{
	const struct wg_conf_device *c = &dev->conf.device;
	int ret;

	if ((c->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) && !wg_secure_is_zero(c->private_key, WG_KEY_LEN)) {
		ret = wg_noise_identity_set(&dev->identity, c->private_key);
		if (ret)
			return ret;
	}
	wg_cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	dev->listen_port = c->listen_port;
	if (!dev->listen_port) /* like wg: a random port when none is given */
		dev->listen_port = (uint16_t)(49152 + wg_secure_random_u32() % 16384);
	return wg_ratelimiter_create(&dev->ratelimiter, RATELIMITER_ENTRIES);
}

/* the mbuf pool of a NUMA node, made on first use (SOCKET_ID_ANY: the main lcore's node) */
static struct rte_mempool *pool_for(void *ctx, int socket)
{
	struct wgdp *dev = ctx;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		socket = (int)rte_socket_id();
	if (!dev->socket_pool[socket]) {
		snprintf(name, sizeof(name), "wgdp_pool%d", socket);
		dev->socket_pool[socket] = rte_pktmbuf_pool_create(name, dev->conf.appliance.mempool_size, MBUF_CACHE,
								   0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	}
	return dev->socket_pool[socket];
}

static int choose_workers(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	unsigned main_lcore = rte_get_main_lcore(), lcore;

	dev->n_workers = 0;
	if (a->n_workers) {
		if (a->n_workers > WG_MAX_WORKERS) {
			snprintf(err, errlen, "Workers: %u lcores given, at most %u", a->n_workers, WG_MAX_WORKERS);
			return -EINVAL;
		}
		for (unsigned i = 0; i < a->n_workers; i++) {
			lcore = a->workers[i];
			if (!rte_lcore_is_enabled(lcore) || lcore == main_lcore) {
				snprintf(err, errlen, "Workers: lcore %u is %s", lcore,
					 lcore == main_lcore ? "the main lcore"
							     : "not enabled in the EAL options (-l)");
				return -EINVAL;
			}
			dev->workers[dev->n_workers++].lcore_id = lcore;
		}
	} else {
		/* every EAL lcore but the main one (the control thread's) */
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (dev->n_workers == WG_MAX_WORKERS)
				break;
			dev->workers[dev->n_workers++].lcore_id = lcore;
		}
	}
	if (!dev->n_workers) {
		snprintf(err, errlen, "no worker lcore: give EAL at least two lcores (-l 0-1)");
		return -EINVAL;
	}
	for (unsigned i = 0; i < dev->n_workers; i++)
		dev->workers[i].socket_id = (int)rte_lcore_to_socket_id(dev->workers[i].lcore_id);
	return 0;
}

/*
 * The queues of a side, as many as the port has up to what was asked: one
 * RX queue per worker, one TX queue per worker plus the control thread's.
 * With fewer TX queues, workers share them under a lock and the control
 * thread transmits through worker 0 (ctl_tx).
 */
static int open_side(struct wgdp *dev, struct wg_side *side, struct wg_port_params *pp, bool control_tx,
		     const char *ring_name)
{
	unsigned side_ix = side == &dev->out ? 0 : 1, n_txw;
	int ret;

	pp->n_rxq = (uint16_t)dev->n_workers;
	pp->n_txq = (uint16_t)(dev->n_workers + (control_tx ? 1 : 0));
	pp->fit_queues = true;
	ret = wg_port_open(&side->port, pp);
	if (ret)
		return ret;
	n_txw = RTE_MIN((unsigned)side->port.n_txq, dev->n_workers);
	if (control_tx && side->port.n_txq > dev->n_workers) {
		side->control_queue = (uint16_t)dev->n_workers;
	} else if (control_tx) {
		side->ctl_tx = rte_ring_create(ring_name, 1024, side->port.socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!side->ctl_tx)
			return -rte_errno;
	}
	for (unsigned i = 0; i < dev->n_workers; i++) {
		struct wg_worker *w = &dev->workers[i];
		uint16_t q = (uint16_t)(i % n_txw);
		rte_spinlock_t *lock = n_txw < dev->n_workers ? &dev->txlocks[side_ix][q] : NULL;

		if (side_ix == 0) {
			w->txq_out = q;
			w->txlock_out = lock;
		} else {
			w->txq_in = q;
			w->txlock_in = lock;
		}
	}
	for (uint16_t q = 0; q < side->port.n_rxq && dev->n_rxqs < WG_MAX_RXQS; q++)
		dev->rxqs[dev->n_rxqs++] = (struct wg_rxq){
			.side = side,
			.port_id = side->port.port_id,
			.queue = q,
			.outside = side_ix == 0,
		};
	return 0;
}

static int setup_ports(struct wgdp *dev, char *err, size_t errlen)
{
	struct wg_conf_appliance *a = &dev->conf.appliance;
	struct wg_port_params out = {
		.devargs = a->outside_device,
		.pool_for = pool_for,
		.pool_ctx = dev,
	};
	struct wg_port_params in = {
		.pool_for = pool_for,
		.pool_ctx = dev,
		.promiscuous = true,
	};
	char tapargs[WG_CONF_DEVARGS_MAX + 32];
	int ret;

	for (unsigned s = 0; s < 2; s++)
		for (unsigned q = 0; q < WG_MAX_WORKERS; q++)
			rte_spinlock_init(&dev->txlocks[s][q]);
	ret = open_side(dev, &dev->out, &out, true, "wgdp_ctl_tx");
	if (ret)
		return fail(err, errlen, ret, "OutsideDevice `%s': %s", a->outside_device);
	dev->inside_is_tap = !a->inside_device[0];
	if (dev->inside_is_tap) {
		snprintf(tapargs, sizeof(tapargs), "net_tap_%s,iface=%s", a->inside_interface,
			 a->inside_interface);
		in.devargs = tapargs;
		in.equal_queues = true; /* net_tap wants as many RX as TX queues */
	} else {
		in.devargs = a->inside_device;
		in.mtu = dev->conf.inside.mtu;
	}
	/* a DPDK inside port: the control thread answers ARP/ND there */
	ret = open_side(dev, &dev->in, &in, !dev->inside_is_tap, "wgdp_ctl_tx_in");
	if (ret)
		return fail(err, errlen, ret, "inside device `%s': %s", in.devargs);
	dev->inside_src_mac = dev->in.port.mac;
	return 0;
}

static int setup_tap(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_prefixes *l = &dev->conf.inside.addresses;
	static struct wg_tapif_addr addrs[WG_CONF_MAX_ADDRESSES];
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < l->n && n < WG_CONF_MAX_ADDRESSES; i++) {
		addrs[n].family = l->v[i].family;
		memcpy(addrs[n].addr, l->v[i].addr, 16);
		addrs[n].prefixlen = l->v[i].cidr;
		n++;
	}
	ret = wg_tapif_configure(dev->conf.appliance.inside_interface, addrs, n, dev->conf.inside.mtu, err,
				 errlen);
	if (ret)
		return ret;
	ret = wg_tapif_get_mac(dev->conf.appliance.inside_interface, dev->inside_dst_mac.addr_bytes);
	if (ret)
		return fail(err, errlen, ret, "%s: MAC address: %s", dev->conf.appliance.inside_interface);
	/* we answer ARP/ND inside as the router behind the TAP: a MAC that
	 * differs from the kernel interface's own */
	if (rte_is_same_ether_addr(&dev->inside_src_mac, &dev->inside_dst_mac))
		dev->inside_src_mac.addr_bytes[5] ^= 0x01;
	return 0;
}

bool wg_device_nexthop(const struct wg_side *side, int family, const uint8_t *dst, uint8_t nh[16])
{
	const struct wg_conf_prefix *own = family == AF_INET ? &side->own4 : &side->own6;
	const struct wg_conf_prefix *gw = family == AF_INET ? &side->gw4 : &side->gw6;
	unsigned alen = family == AF_INET ? 4 : 16, bits = own->cidr, i;
	bool onlink = own->family != 0;

	if (!own->family)
		return false;
	for (i = 0; onlink && i < bits / 8; i++)
		onlink = dst[i] == own->addr[i];
	if (onlink && bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
		onlink = (dst[i] & mask) == (own->addr[i] & mask);
	}
	memset(nh, 0, 16);
	if (onlink) {
		memcpy(nh, dst, alen);
		return true;
	}
	if (!gw->family)
		return false;
	memcpy(nh, gw->addr, alen);
	return true;
}

/* our MAC and addresses on a side; port: our UDP port there (network order), 0 inside */
static void setup_local(struct wgdp *dev, struct wg_side *side, uint16_t port)
{
	struct wg_l3_local *l = &side->local;

	side->dev = dev;
	memset(l, 0, sizeof(*l));
	memcpy(l->mac, side->port.mac.addr_bytes, 6);
	if (side->own4.family) {
		l->has_ipv4 = true;
		memcpy(l->ipv4, side->own4.addr, 4);
	}
	if (side->own6.family) {
		memcpy(l->ipv6[l->n_ipv6++], side->own6.addr, 16);
		/* link-local fe80::/64 from the MAC (EUI-64), for ND with routers */
		uint8_t *ll = l->ipv6[l->n_ipv6++];
		ll[0] = 0xfe;
		ll[1] = 0x80;
		ll[8] = l->mac[0] ^ 0x02;
		ll[9] = l->mac[1];
		ll[10] = l->mac[2];
		ll[11] = 0xff;
		ll[12] = 0xfe;
		ll[13] = l->mac[3];
		ll[14] = l->mac[4];
		ll[15] = l->mac[5];
	}
	l->port = port;
}

static void setup_sides(struct wgdp *dev)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	const struct wg_conf_prefixes *in = &dev->conf.inside.addresses;

	dev->out.own4 = a->outside_addr4;
	dev->out.own6 = a->outside_addr6;
	dev->out.gw4 = a->outside_gw4;
	dev->out.gw6 = a->outside_gw6;
	setup_local(dev, &dev->out, rte_cpu_to_be_16(dev->listen_port));
	if (dev->inside_is_tap)
		return;
	/* a DPDK inside port: wg-quick's Address is ours on the inside network */
	for (size_t i = 0; i < in->n; i++) {
		struct wg_conf_prefix *own = in->v[i].family == AF_INET ? &dev->in.own4 : &dev->in.own6;

		if (!own->family)
			*own = in->v[i];
	}
	dev->in.gw4 = a->inside_gw4;
	dev->in.gw6 = a->inside_gw6;
	setup_local(dev, &dev->in, 0);
}

static int setup_rcu(struct wgdp *dev)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	struct rte_rcu_qsbr_dq_parameters params = {
		.name = "wgdp_dq",
		.size = DEFER_QUEUE_SIZE,
		.esize = sizeof(struct wg_deferred),
		.trigger_reclaim_limit = DEFER_QUEUE_SIZE / 4,
		.max_reclaim_size = 1024,
		.free_fn = run_deferred,
		.p = dev,
	};

	dev->qsbr = rte_zmalloc("wgdp_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!dev->qsbr)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(dev->qsbr, RTE_MAX_LCORE))
		return -rte_errno;
	params.v = dev->qsbr;
	dev->dq = rte_rcu_qsbr_dq_create(&params);
	return dev->dq ? 0 : -rte_errno;
}

static int setup_rings(struct wgdp *dev)
{
	char name[RTE_RING_NAMESIZE];
	unsigned i;

	dev->to_control = rte_ring_create("wgdp_to_control", dev->conf.appliance.handshake_queue,
					  dev->out.port.socket_id, RING_F_SC_DEQ);
	dev->events = rte_ring_create("wgdp_events", EVENT_RING_SIZE, dev->out.port.socket_id, RING_F_SC_DEQ);
	if (!dev->to_control || !dev->events)
		return -rte_errno;
	for (i = 0; i < dev->n_workers; i++) {
		snprintf(name, sizeof(name), "wgdp_req%u", i);
		dev->workers[i].requests = rte_ring_create(name, REQUEST_RING_SIZE, dev->workers[i].socket_id,
							   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!dev->workers[i].requests)
			return -rte_errno;
	}
	return 0;
}

static int setup_workers(struct wgdp *dev)
{
	unsigned n_staging = wg_staging_pool_size(dev->conf.appliance.max_peers, dev->n_workers);
	char name[RTE_MEMPOOL_NAMESIZE];

	for (unsigned i = 0; i < dev->n_workers; i++) {
		struct wg_worker *w = &dev->workers[i];
		int ret = wg_batch_aead_create(&w->aead, NULL);

		if (ret)
			return ret;
		/* on the worker's own node: only it fills them */
		snprintf(name, sizeof(name), "wgdp_staging%u", i);
		ret = wg_staging_pool_create(&w->staging, name, n_staging,
					     (int)rte_lcore_to_socket_id(w->lcore_id));
		if (ret)
			return ret;
		w->dev = dev;
		w->id = i;
		w->socket_id = (int)rte_lcore_to_socket_id(w->lcore_id);
		w->wake_fd = eventfd(0, EFD_CLOEXEC);
		if (w->wake_fd < 0)
			return -errno;
	}
	return wg_handoff_setup(dev, dev->conf.appliance.ring_size);
}

/* the config file's peers, through the same change path as the UAPI and the REST API */
static int setup_peers(struct wgdp *dev, char *err, size_t errlen)
{
	struct wg_conf_device d = dev->conf.device;
	int ret;

	ret = wg_peers_init(dev, dev->conf.appliance.max_peers);
	if (ret)
		return fail(err, errlen, ret, "%s: %s", "peer table");
	ret = wg_change_pools_init(dev, err, errlen);
	if (ret)
		return ret;
	/* the peers move out of dev->conf: from now on they live in the peer table */
	dev->conf.device.peers = NULL;
	dev->conf.device.n_peers = dev->conf.device.cap_peers = 0;
	ret = wg_change_apply(dev, &d, NULL, NULL, err, errlen);
	wg_conf_device_free(&d);
	return ret;
}

int wg_device_setup(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	int ret;

	ret = setup_identity(dev);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "interface identity");
		goto err;
	}
	for (unsigned i = 0; i < WG_MAX_WORKERS; i++)
		dev->workers[i].wake_fd = -1;
	ret = choose_workers(dev, err, errlen);
	if (ret)
		goto err;
	ret = setup_ports(dev, err, errlen);
	if (ret)
		goto err;
	/* the control thread's frames come from the outside port's node; a worker's from its own */
	dev->pool = pool_for(dev, dev->out.port.socket_id);
	for (unsigned i = 0; i < dev->n_workers && dev->pool; i++) {
		dev->workers[i].pool = pool_for(dev, dev->workers[i].socket_id);
		if (!dev->workers[i].pool)
			dev->pool = NULL;
	}
	if (!dev->pool) {
		ret = fail(err, errlen, -ENOMEM, "%s: %s", "mbuf pool (MempoolSize, hugepages)");
		goto err;
	}
	if (dev->inside_is_tap) {
		ret = setup_tap(dev, err, errlen);
		if (ret)
			goto err;
	}
	setup_sides(dev);
	ret = wg_control_setup(dev);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "neighbour table");
		goto err;
	}
	ret = setup_rcu(dev);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "RCU");
		goto err;
	}
	ret = setup_rings(dev);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "rings (RingSize, HandshakeQueue)");
		goto err;
	}
	ret = setup_workers(dev);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "batch AEAD, staging pools");
		goto err;
	}
	ret = wg_index_create(&dev->index, "wgdp_index", wg_index_capacity_for(a->max_peers),
			      dev->out.port.socket_id, dev->qsbr);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", "index table");
		goto err;
	}
	dev->aip = wg_allowedips_create(aip_defer, dev);
	if (!dev->aip) {
		ret = fail(err, errlen, -ENOMEM, "%s: %s", "allowed IPs");
		goto err;
	}
	ret = wg_scale_setup(dev, err, errlen);
	if (ret)
		goto err;
	ret = setup_peers(dev, err, errlen);
	if (ret)
		goto err;
	return 0;
err:
	wg_device_teardown(dev);
	return ret;
}

void wg_device_teardown(struct wgdp *dev)
{
	struct rte_mbuf *m;
	void *obj;

	if (dev->peer_hash)
		wg_peers_destroy(dev);
	wg_change_pools_free(dev);
	/* lcores are stopped: nothing reads any more, run what was deferred */
	if (dev->dq) {
		rte_rcu_qsbr_dq_delete(dev->dq);
		dev->dq = NULL;
	}
	/* the deferred frees of peers and sessions ran: their slabs are empty */
	wg_peers_slabs_destroy(dev);
	if (dev->aip)
		wg_allowedips_destroy(dev->aip);
	dev->aip = NULL;
	wg_index_destroy(dev->index);
	dev->index = NULL;
	wg_scale_teardown(dev);
	wg_handoff_teardown(dev);
	for (unsigned i = 0; i < dev->n_workers; i++) {
		struct wg_worker *w = &dev->workers[i];

		wg_batch_aead_destroy(w->aead);
		w->aead = NULL;
		/* after the peers: the last of them gave their staging queues back */
		wg_staging_pool_destroy(w->staging);
		w->staging = NULL;
		rte_ring_free(w->requests);
		w->requests = NULL;
		if (w->wake_fd >= 0)
			close(w->wake_fd);
		w->wake_fd = -1;
	}
	if (dev->to_control) {
		while (rte_ring_dequeue(dev->to_control, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dev->to_control);
		dev->to_control = NULL;
	}
	for (struct wg_side *side = &dev->out; side; side = side == &dev->out ? &dev->in : NULL) {
		if (!side->ctl_tx)
			continue;
		while (rte_ring_dequeue(side->ctl_tx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(side->ctl_tx);
		side->ctl_tx = NULL;
	}
	if (dev->events) {
		while (rte_ring_dequeue(dev->events, &obj) == 0)
			;
		rte_ring_free(dev->events);
		dev->events = NULL;
	}
	rte_free(dev->qsbr);
	dev->qsbr = NULL;
	wg_control_teardown(dev);
	wg_port_close(&dev->in.port);
	wg_port_close(&dev->out.port);
	for (unsigned i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		rte_mempool_free(dev->socket_pool[i]);
		dev->socket_pool[i] = NULL;
	}
	dev->pool = NULL;
	wg_ratelimiter_destroy(dev->ratelimiter);
	dev->ratelimiter = NULL;
	wg_cookie_checker_wipe(&dev->cookie_checker);
	wg_noise_identity_wipe(&dev->identity);
	wg_conf_free(&dev->conf);
}
