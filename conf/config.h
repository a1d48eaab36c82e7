/* SPDX-License-Identifier: MIT */
/*
 * The configuration model and the configuration file.
 *
 * A change is a delta, as wireguard-tools models it (struct wgdevice and
 * struct wgpeer with their HAS_ and REPLACE_ flags): a field means something
 * only when its HAS_ flag is set, REPLACE_PEERS drops every peer not named,
 * REPLACE_ALLOWEDIPS drops a peer's allowed IPs before adding the listed ones,
 * REMOVE_ME removes a peer, UPDATE_ONLY changes a peer only if it exists. The
 * config file, the `wg` UAPI socket (set=1) and the REST API all produce a
 * struct wg_conf_device; one function applies it.
 *
 * A config file states the whole truth, as `wg setconf` does: its device
 * delta has HAS_PRIVATE_KEY, HAS_LISTEN_PORT, HAS_FWMARK and REPLACE_PEERS
 * set, and every peer HAS_PRESHARED_KEY (all zero: none),
 * HAS_PERSISTENT_KEEPALIVE (0: off) and REPLACE_ALLOWEDIPS, plus HAS_ENDPOINT
 * when it names one.
 *
 * Besides the WireGuard part the file carries what only the file (and the
 * REST API) sets: the inside side (wg-quick's Address and MTU) and the
 * [Appliance] section (ports, addresses, lcores, sizes). docs/config.md
 * describes the file; the keys are listed above each field here.
 */
#ifndef WG_CONF_CONFIG_H
#define WG_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control/endpoint.h"
#include "dataplane/messages.h"

#define WG_CONF_MAX_FILE (16u << 20)     /* bytes in a config file */
#define WG_CONF_MAX_LINE 4096u           /* bytes in one line, newline excluded */
#define WG_CONF_MAX_PEERS (1u << 20)     /* [Peer] sections */
#define WG_CONF_MAX_ALLOWEDIPS (1u << 22) /* allowed IPs of all peers together */
#define WG_CONF_MAX_ADDRESSES 256u       /* inside Address entries */
#define WG_CONF_MAX_LCORES 128u          /* lcore ids are 0..127 */
#define WG_CONF_DEVARGS_MAX 256u         /* DPDK devargs, NUL included */
#define WG_CONF_IFNAME_MAX 16u           /* IFNAMSIZ: 15 characters and a NUL */

#define WG_CONF_DEFAULT_MTU 1420u          /* 1500 minus the 80 bytes of IPv6+UDP+WireGuard */
#define WG_CONF_DEFAULT_INSIDE_IFACE "wgdp0"
#define WG_CONF_DEFAULT_RING_SIZE 1024u
#define WG_CONF_DEFAULT_MEMPOOL_SIZE 8191u
#define WG_CONF_DEFAULT_BURST_SIZE 32u
#define WG_CONF_DEFAULT_HANDSHAKE_QUEUE 4096u
#define WG_CONF_DEFAULT_MAX_PEERS 65536u
/* SpreadCrypto: a busy worker's AEAD half on a helper worker */
enum { WG_CONF_SPREAD_AUTO = 0, WG_CONF_SPREAD_ON = 1, WG_CONF_SPREAD_OFF = 2 };
#define WG_CONF_DEFAULT_SCALE_UP_LOAD 80u
#define WG_CONF_DEFAULT_SCALE_DOWN_LOAD 30u
#define WG_CONF_DEFAULT_SCALE_UP_DELAY_MS 100u
#define WG_CONF_DEFAULT_SCALE_DOWN_DELAY_MS 2000u
#define WG_CONF_MAX_MAX_PEERS (1u << 20)
#define WG_CONF_DEFAULT_NEIGH_REACHABLE 30u  /* seconds, as Linux's base_reachable_time */
#define WG_CONF_MAX_NEIGH_REACHABLE 3600u
#define WG_CONF_DEFAULT_API_PORT 8080u
#define WG_CONF_PATH_MAX 256u              /* bytes of a file name, NUL included */

enum {
	WG_CONF_DEVICE_HAS_PRIVATE_KEY = 1u << 0,
	WG_CONF_DEVICE_HAS_LISTEN_PORT = 1u << 1,
	WG_CONF_DEVICE_HAS_FWMARK = 1u << 2,
	WG_CONF_DEVICE_REPLACE_PEERS = 1u << 3,
	/*
	 * An allowed IP that another peer holds is an error (-EADDRINUSE)
	 * instead of moving to the named peer as wg(8) moves it (REST API).
	 */
	WG_CONF_DEVICE_NO_STEAL = 1u << 4,
};

enum {
	WG_CONF_PEER_HAS_PRESHARED_KEY = 1u << 0,
	WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE = 1u << 1,
	WG_CONF_PEER_HAS_ENDPOINT = 1u << 2,
	WG_CONF_PEER_REPLACE_ALLOWEDIPS = 1u << 3,
	WG_CONF_PEER_REMOVE_ME = 1u << 4,
	WG_CONF_PEER_UPDATE_ONLY = 1u << 5,
	/* wgdp's own (REST API and state file; never from wg(8) or the UAPI) */
	WG_CONF_PEER_HAS_NAME = 1u << 6,        /* name */
	WG_CONF_PEER_HAS_ENABLED = 1u << 7,     /* disabled */
	WG_CONF_PEER_HAS_ADDRESSES = 1u << 8,   /* addresses: replace the peer's tunnel addresses */
	WG_CONF_PEER_ALLOCATE_IPV4 = 1u << 9,   /* take one address from the IPv4 pool */
	WG_CONF_PEER_ALLOCATE_IPV6 = 1u << 10,  /* take one address from the IPv6 pool */
	WG_CONF_PEER_HAS_CLIENT_KEY = 1u << 11, /* client_private_key (server-generated keypair) */
};

#define WG_CONF_PEER_NAME_MAX 64u /* bytes of a peer's name, NUL included */

/* wg_conf_prefix.flags */
enum {
	WG_CONF_PREFIX_REMOVE_ME = 1u << 0, /* UAPI allowed_ip=-...: remove this one */
};

/* An address and prefix length; IPv4 in the first 4 bytes, the rest zero. */
struct wg_conf_prefix {
	uint8_t family; /* AF_INET or AF_INET6; 0 = none */
	uint8_t cidr;
	uint8_t flags;
	uint8_t addr[16];
};

/* A growable list of prefixes (allowed IPs, addresses). */
struct wg_conf_prefixes {
	struct wg_conf_prefix *v;
	size_t n, cap;
};

/* [Peer] */
struct wg_conf_peer {
	uint32_t flags;                          /* WG_CONF_PEER_* */
	uint8_t public_key[WG_KEY_LEN];          /* PublicKey (always present) */
	uint8_t preshared_key[WG_KEY_LEN];       /* PresharedKey; all zero = none */
	struct wg_endpoint endpoint;             /* Endpoint = host:port | [v6]:port */
	uint16_t persistent_keepalive;           /* PersistentKeepalive, seconds; 0 = off */
	struct wg_conf_prefixes allowedips;      /* AllowedIPs, host bits masked off */
	/* wgdp's own, see WG_CONF_PEER_HAS_NAME and after */
	char name[WG_CONF_PEER_NAME_MAX];        /* printable UTF-8 label; "" = none */
	bool disabled;                           /* kept, but no handshakes, no traffic */
	/* the client's tunnel addresses (host prefixes, from a pool or given);
	 * they are among its allowed IPs as well */
	struct wg_conf_prefixes addresses;
	uint8_t client_private_key[WG_KEY_LEN];  /* only when the server generated the keypair */
};

/* [Interface], WireGuard part: the device delta */
struct wg_conf_device {
	uint32_t flags;                     /* WG_CONF_DEVICE_* */
	uint8_t private_key[WG_KEY_LEN];    /* PrivateKey */
	uint16_t listen_port;               /* ListenPort; 0 = chosen at start */
	uint32_t fwmark;                    /* FwMark: accepted, stored, ignored */
	struct wg_conf_peer *peers;         /* in file order */
	size_t n_peers, cap_peers;
};

enum {
	WG_CONF_INSIDE_HAS_MTU = 1u << 0,
	WG_CONF_INSIDE_REPLACE_ADDRESSES = 1u << 1,
	WG_CONF_INSIDE_HAS_POOLS = 1u << 2,
};

#define WG_CONF_MAX_POOLS 16u

/* [Interface], wg-quick part: the inside side */
struct wg_conf_inside {
	uint32_t flags;                    /* WG_CONF_INSIDE_* */
	struct wg_conf_prefixes addresses; /* Address: the inside interface's addresses, as given */
	uint16_t mtu;                      /* MTU, default WG_CONF_DEFAULT_MTU */
	/* AddressPool: prefixes that peers' addresses are allocated from (at
	 * most one per family is used for allocation: the first) */
	struct wg_conf_prefixes pools;
};

/* [Appliance]: fixed at start */
struct wg_conf_appliance {
	char outside_device[WG_CONF_DEVARGS_MAX];   /* OutsideDevice: devargs (required) */
	char inside_device[WG_CONF_DEVARGS_MAX];    /* InsideDevice: devargs; "" = net_tap inside */
	char inside_interface[WG_CONF_IFNAME_MAX];  /* InsideInterface: TAP name; "" with InsideDevice */
	struct wg_conf_prefix outside_addr4, outside_addr6; /* OutsideAddress; family 0 = none */
	struct wg_conf_prefix outside_gw4, outside_gw6;     /* OutsideGateway (cidr 32/128) */
	struct wg_conf_prefix inside_gw4, inside_gw6;       /* InsideGateway (cidr 32/128) */
	uint16_t workers[WG_CONF_MAX_LCORES];       /* Workers, in the order given */
	unsigned n_workers;                         /* 0: every EAL lcore but main and control */
	bool has_control_lcore;                     /* ControlLcore given; else the main lcore */
	uint16_t control_lcore;
	uint32_t ring_size;                         /* RingSize, power of two 64..65536 */
	uint32_t mempool_size;                      /* MempoolSize, mbufs per pool 1023..1048575 */
	uint32_t burst_size;                        /* BurstSize, 1..256 */
	uint32_t handshake_queue;                   /* HandshakeQueue, power of two 64..65536 */
	uint32_t max_peers;                         /* MaxPeers, 1..2^20: sizes the tables */
	uint32_t neigh_reachable;                   /* NeighbourReachableTime, seconds 1..3600 */
	char state_file[WG_CONF_PATH_MAX];          /* StateFile; "" = changes are not persisted */
	char api_token_file[WG_CONF_PATH_MAX];      /* ApiTokenFile; "" = no REST API */
	struct wg_endpoint api_listen;              /* ApiListen, literal addr:port (127.0.0.1:8080) */
	char api_tls_cert[WG_CONF_PATH_MAX];        /* ApiTlsCertificate (PEM); "" = plain HTTP */
	char api_tls_key[WG_CONF_PATH_MAX];         /* ApiTlsKey (PEM) */
	bool metrics_per_peer;                      /* MetricsPerPeer (on): per-peer series in /metrics */
	bool autoscale;                             /* Autoscale (on): park and wake workers with the load */
	unsigned min_workers, max_workers;          /* MinWorkers (1), MaxWorkers (all); 0 = default */
	unsigned scale_up_load, scale_down_load;    /* ScaleUpLoad (80), ScaleDownLoad (30): percent */
	unsigned scale_up_delay_ms, scale_down_delay_ms; /* ScaleUpDelay (100), ScaleDownDelay (2000) */
	unsigned spread_crypto;                     /* SpreadCrypto: WG_CONF_SPREAD_* (auto) */
	char uapi_name[WG_CONF_IFNAME_MAX];         /* UapiInterface: /var/run/wireguard/NAME.sock;
						     * default InsideInterface, else wgdp0; "" = off */
};

struct wg_conf {
	struct wg_conf_device device;
	struct wg_conf_inside inside;
	struct wg_conf_appliance appliance;
};

struct wg_conf_parse_opts {
	/* never resolve names: an Endpoint must be a literal address (fuzzer, UAPI) */
	bool numeric_endpoints;
	/*
	 * Called with "name:line: message" for what is accepted but not used
	 * (wg-quick-only keys, FwMark), AllowedIPs with host bits set and an
	 * allowed IP moved from one peer to a later one (as wg does). May be NULL.
	 */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/* An empty configuration with the defaults filled in (MTU, sizes, TAP name). */
void wg_conf_init(struct wg_conf *c);
/* Wipe every key and free everything; c is left all zero. NULL is fine. */
void wg_conf_free(struct wg_conf *c);
/* The same for a device delta alone (peers, their lists, keys); NULL is fine. */
void wg_conf_device_free(struct wg_conf_device *d);

/*
 * Parse a config file. 0 on success, with *out overwritten (its previous
 * content is not freed). On failure *out is untouched and err holds one line
 * "file:line: message" naming the value (never a private or preshared key):
 * -EINVAL for bad content, -EFBIG above WG_CONF_MAX_FILE, -ENOMEM, or -errno
 * of open/read. opts may be NULL (names are resolved, no warnings).
 */
int wg_conf_parse_file(const char *path, struct wg_conf *out, char *err, size_t errlen);
int wg_conf_parse_file_opts(const char *path, const struct wg_conf_parse_opts *opts,
			    struct wg_conf *out, char *err, size_t errlen);
/* The same on text[0..len); name is used in messages. */
int wg_conf_parse_buffer(const char *name, const char *text, size_t len, struct wg_conf *out,
			 char *err, size_t errlen);
int wg_conf_parse_buffer_opts(const char *name, const char *text, size_t len,
			      const struct wg_conf_parse_opts *opts, struct wg_conf *out, char *err,
			      size_t errlen);

/*
 * Write c as a config file that parses back to an equal wg_conf (keys in
 * canonical case, lists split over lines of a few entries). Without
 * include_secrets the PrivateKey and PresharedKey lines are left out (the
 * result then does not parse: PrivateKey is required). Allowed IPs flagged
 * REMOVE_ME are skipped. 0 or -EIO.
 */
int wg_conf_write(FILE *f, const struct wg_conf *c, bool include_secrets);

/* true when a and b hold the same values (keys compared in constant time). */
bool wg_conf_equal(const struct wg_conf *a, const struct wg_conf *b);
/* the same for two device deltas (flags, keys, port, fwmark, peers) */
bool wg_conf_device_equal(const struct wg_conf_device *a, const struct wg_conf_device *b);

/* Builders shared by the parser, the UAPI and the REST API. */
/* Append a zeroed peer; NULL on ENOMEM or above WG_CONF_MAX_PEERS. Moves dev->peers. */
struct wg_conf_peer *wg_conf_device_add_peer(struct wg_conf_device *dev);
/* Append p; 0 or -ENOMEM. */
int wg_conf_prefixes_add(struct wg_conf_prefixes *l, const struct wg_conf_prefix *p);
/* Give back the unused capacity (a list kept for long: a peer's, 1,000,000 of them). */
void wg_conf_prefixes_shrink(struct wg_conf_prefixes *l);
/* dst = a copy of src (dst's old content is not freed). 0 or -ENOMEM. */
int wg_conf_prefixes_copy(struct wg_conf_prefixes *dst, const struct wg_conf_prefixes *src);
/* dst = a deep copy of src (lists duplicated). 0 or -ENOMEM (dst left empty). */
int wg_conf_peer_copy(struct wg_conf_peer *dst, const struct wg_conf_peer *src);
/* Free a peer's lists and wipe it (keys included). */
void wg_conf_peer_free(struct wg_conf_peer *p);

#endif
