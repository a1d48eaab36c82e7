/* SPDX-License-Identifier: MIT */
/*
 * Tests of conf/model_json.c: every field form the peer and interface
 * parsers accept, with the exact delta (flags and values) each produces;
 * every rejection with the message fragment it must carry, an output left
 * all zero and no secret in the message; the writers' exact JSON text; and
 * writer(WG_JSON_SECRETS) -> parser(WG_JSON_STATE) round trips.
 *
 * Keys: K_PUB is bytes 00..1f, K_PSK 32 x 0xff, K_PRIV the RFC 7748 section
 * 6.1 private key (encodings pinned in conf/key_test.c).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "tests/harness.h"
#include "conf/key.h"
#include "conf/model_json.h"
#include "conf/parse_util.h"

#define K_PUB "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K_PSK "//////////////////////////////////////////8="
#define K_PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define K_PUB2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE="
/* bad secrets: must never show up in a message */
#define BAD_SECRET "SECRETSECRETSECRETSECRET"
#define SHORT_SECRET "U0VDUkVUU0VDUkVUU0VDUkVUU0VDUkVUU0VDUkU=" /* 29 bytes, valid base64 */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const secrets[] = { K_PSK, K_PRIV, BAD_SECRET, SHORT_SECRET, "SECRET" };

#define BASE_STATE                                                                                 \
	(WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |                \
	 WG_CONF_PEER_REPLACE_ALLOWEDIPS | WG_CONF_PEER_HAS_NAME | WG_CONF_PEER_HAS_ENABLED |    \
	 WG_CONF_PEER_HAS_ADDRESSES)

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	if (!j) {
		fprintf(stderr, "bad JSON in test: %s: %s\n", text, e.text);
		abort();
	}
	return j;
}

/* "a,b,c" of a prefix list (flags shown as a leading '-') */
static const char *list_text(const struct wg_conf_prefixes *l, char *buf, size_t len)
{
	char one[WG_CONF_PREFIX_STR];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && o < len; i++) {
		wg_conf_format_prefix(one, &l->v[i]);
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s", i ? "," : "",
				      l->v[i].flags ? "-" : "", one);
	}
	return buf;
}

static bool key_is(const uint8_t k[WG_KEY_LEN], const char *b64)
{
	uint8_t want[WG_KEY_LEN] = { 0 };

	if (b64 && !wg_key_from_base64(want, b64, strlen(b64)))
		abort();
	return !memcmp(k, want, WG_KEY_LEN);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool no_secret(const char *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		if (strstr(err, secrets[i]))
			return false;
	return true;
}

/* ---- peers: accepted forms ---- */

struct peer_ok {
	enum wg_json_mode mode;
	const char *json;
	uint32_t flags;
	const char *pub, *psk, *client; /* base64; NULL = all zero */
	const char *endpoint;           /* formatted; NULL = none (family 0) */
	unsigned keepalive;
	const char *allowed, *addresses; /* list_text; NULL = "" */
	const char *name;                /* NULL = "" */
	bool disabled, generate;
};

static const struct peer_ok peer_ok[] = {
	/* CREATE */
	{ WG_JSON_CREATE, "{}", 0 },
	{ WG_JSON_CREATE, "{\"public_key\":\"" K_PUB "\"}", 0, .pub = K_PUB },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"" K_PSK "\"}", WG_CONF_PEER_HAS_PRESHARED_KEY, .psk = K_PSK },
	{ WG_JSON_CREATE, "{\"preshared_key\":null}", WG_CONF_PEER_HAS_PRESHARED_KEY },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"\"}", WG_CONF_PEER_HAS_PRESHARED_KEY },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"generate\"}", WG_CONF_PEER_HAS_PRESHARED_KEY, .generate = true },
	{ WG_JSON_CREATE, "{\"name\":\"laptop\"}", WG_CONF_PEER_HAS_NAME, .name = "laptop" },
	{ WG_JSON_CREATE, "{\"name\":\"\"}", WG_CONF_PEER_HAS_NAME },
	{ WG_JSON_CREATE, "{\"name\":\"caf\\u00e9 \\u263a\"}", WG_CONF_PEER_HAS_NAME, .name = "caf\xc3\xa9 \xe2\x98\xba" },
	{ WG_JSON_CREATE, "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  WG_CONF_PEER_HAS_NAME, .name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, /* 63 */
	{ WG_JSON_CREATE, "{\"enabled\":false}", WG_CONF_PEER_HAS_ENABLED, .disabled = true },
	{ WG_JSON_CREATE, "{\"enabled\":true}", WG_CONF_PEER_HAS_ENABLED },
	{ WG_JSON_CREATE, "{\"endpoint\":\"192.0.2.1:51820\"}", WG_CONF_PEER_HAS_ENDPOINT,
	  .endpoint = "192.0.2.1:51820" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"[2001:db8::1]:1\"}", WG_CONF_PEER_HAS_ENDPOINT,
	  .endpoint = "[2001:db8::1]:1" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"[2001:0db8:0:0::0001]:65535\"}", WG_CONF_PEER_HAS_ENDPOINT,
	  .endpoint = "[2001:db8::1]:65535" },
	{ WG_JSON_CREATE, "{\"endpoint\":null}", 0 },
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":0}", WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE },
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":25}", WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE, .keepalive = 25 },
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":65535}", WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE,
	  .keepalive = 65535 },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[]}", WG_CONF_PEER_REPLACE_ALLOWEDIPS },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/24\",\"2001:db8::/64\",\"192.0.2.7\",\"0.0.0.0/0\",\"::/0\"]}",
	  WG_CONF_PEER_REPLACE_ALLOWEDIPS, .allowed = "10.0.0.0/24,2001:db8::/64,192.0.2.7/32,0.0.0.0/0,::/0" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/24\",\"10.0.0.0/25\"]}", WG_CONF_PEER_REPLACE_ALLOWEDIPS,
	  .allowed = "10.0.0.0/24,10.0.0.0/25" },
	{ WG_JSON_CREATE, "{\"addresses\":[]}", WG_CONF_PEER_HAS_ADDRESSES },
	{ WG_JSON_CREATE, "{\"addresses\":[\"10.1.0.2\",\"fd00::2/128\",\"10.1.0.3/32\"]}",
	  WG_CONF_PEER_HAS_ADDRESSES, .addresses = "10.1.0.2/32,fd00::2/128,10.1.0.3/32" },
	{ WG_JSON_CREATE,
	  "{\"public_key\":\"" K_PUB "\",\"preshared_key\":\"" K_PSK "\",\"name\":\"x\",\"enabled\":true,"
	  "\"endpoint\":\"198.51.100.9:4500\",\"persistent_keepalive\":10,\"allowed_ips\":[\"10.2.0.0/16\"],"
	  "\"addresses\":[\"10.2.0.1\"]}",
	  WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_NAME | WG_CONF_PEER_HAS_ENABLED |
		  WG_CONF_PEER_HAS_ENDPOINT | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
		  WG_CONF_PEER_REPLACE_ALLOWEDIPS | WG_CONF_PEER_HAS_ADDRESSES,
	  .pub = K_PUB, .psk = K_PSK, .endpoint = "198.51.100.9:4500", .keepalive = 10,
	  .allowed = "10.2.0.0/16", .addresses = "10.2.0.1/32", .name = "x" },
	/* PATCH: any subset of the writable fields */
	{ WG_JSON_PATCH, "{}", 0 },
	{ WG_JSON_PATCH, "{\"enabled\":false}", WG_CONF_PEER_HAS_ENABLED, .disabled = true },
	{ WG_JSON_PATCH, "{\"name\":\"phone\"}", WG_CONF_PEER_HAS_NAME, .name = "phone" },
	{ WG_JSON_PATCH, "{\"preshared_key\":\"" K_PSK "\"}", WG_CONF_PEER_HAS_PRESHARED_KEY, .psk = K_PSK },
	{ WG_JSON_PATCH, "{\"preshared_key\":null}", WG_CONF_PEER_HAS_PRESHARED_KEY },
	{ WG_JSON_PATCH, "{\"preshared_key\":\"\"}", WG_CONF_PEER_HAS_PRESHARED_KEY },
	{ WG_JSON_PATCH, "{\"preshared_key\":\"generate\"}", WG_CONF_PEER_HAS_PRESHARED_KEY, .generate = true },
	{ WG_JSON_PATCH, "{\"endpoint\":\"203.0.113.5:51820\"}", WG_CONF_PEER_HAS_ENDPOINT,
	  .endpoint = "203.0.113.5:51820" },
	{ WG_JSON_PATCH, "{\"persistent_keepalive\":0}", WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE },
	{ WG_JSON_PATCH, "{\"allowed_ips\":[\"fd00:1::/48\"]}", WG_CONF_PEER_REPLACE_ALLOWEDIPS,
	  .allowed = "fd00:1::/48" },
	{ WG_JSON_PATCH, "{\"allowed_ips\":[]}", WG_CONF_PEER_REPLACE_ALLOWEDIPS },
	{ WG_JSON_PATCH, "{\"addresses\":[\"fd00::9\"]}", WG_CONF_PEER_HAS_ADDRESSES, .addresses = "fd00::9/128" },
	/* STATE: what the writer writes, secrets included; the file states the whole peer */
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\"}", BASE_STATE, .pub = K_PUB },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"endpoint\":null}", BASE_STATE, .pub = K_PUB },
	{ WG_JSON_STATE,
	  "{\"public_key\":\"" K_PUB "\",\"name\":\"n\",\"enabled\":false,\"endpoint\":\"[fd00::1]:51820\","
	  "\"persistent_keepalive\":5,\"allowed_ips\":[\"10.3.0.0/16\"],\"addresses\":[\"10.3.0.1\"],"
	  "\"preshared_key\":\"" K_PSK "\",\"client_private_key\":\"" K_PRIV "\"}",
	  BASE_STATE | WG_CONF_PEER_HAS_ENDPOINT | WG_CONF_PEER_HAS_CLIENT_KEY, .pub = K_PUB, .psk = K_PSK,
	  .client = K_PRIV, .endpoint = "[fd00::1]:51820", .keepalive = 5, .allowed = "10.3.0.0/16",
	  .addresses = "10.3.0.1/32", .name = "n", .disabled = true },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"preshared_key\":null}", BASE_STATE, .pub = K_PUB },
};

static void test_peer_accept(void)
{
	char err[256], a[512], b[512];

	for (size_t i = 0; i < ARRAY_SIZE(peer_ok); i++) {
		const struct peer_ok *t = &peer_ok[i];
		struct wg_conf_peer out = { 0 };
		char ep[WG_CONF_ENDPOINT_STR] = "";
		bool gen = !t->generate; /* must be overwritten */
		json_t *j = load(t->json);
		int ret = wg_json_to_peer(j, t->mode, &out, &gen, err, sizeof(err));

		CHECK_MSG(ret == 0, "row %zu %s: %d %s", i, t->json, ret, err);
		CHECK_MSG(out.flags == t->flags, "row %zu %s: flags %#x want %#x", i, t->json, out.flags, t->flags);
		CHECK_MSG(gen == t->generate, "row %zu: generate", i);
		CHECK_MSG(key_is(out.public_key, t->pub), "row %zu: public_key", i);
		CHECK_MSG(key_is(out.preshared_key, t->psk), "row %zu: preshared_key", i);
		CHECK_MSG(key_is(out.client_private_key, t->client), "row %zu: client_private_key", i);
		if (out.endpoint.family)
			wg_conf_format_endpoint(ep, &out.endpoint);
		CHECK_MSG(!strcmp(ep, t->endpoint ? t->endpoint : ""), "row %zu: endpoint %s", i, ep);
		CHECK_MSG(out.persistent_keepalive == t->keepalive, "row %zu: keepalive", i);
		CHECK_MSG(!strcmp(list_text(&out.allowedips, a, sizeof(a)), t->allowed ? t->allowed : ""),
			  "row %zu: allowed_ips %s", i, a);
		CHECK_MSG(!strcmp(list_text(&out.addresses, b, sizeof(b)), t->addresses ? t->addresses : ""),
			  "row %zu: addresses %s", i, b);
		CHECK_MSG(!strcmp(out.name, t->name ? t->name : ""), "row %zu: name `%s'", i, out.name);
		CHECK_MSG(out.disabled == t->disabled, "row %zu: disabled", i);
		CHECK_MSG(err[0] == '\0', "row %zu: err `%s'", i, err);
		wg_conf_peer_free(&out);
		CHECK(all_zero(&out, sizeof(out)));
		json_decref(j);
	}
}

/* ---- peers: rejections ---- */

struct reject {
	enum wg_json_mode mode;
	const char *json;
	const char *msg; /* a fragment of the message, field name included */
	bool no_gen_ptr; /* pass generate = NULL */
};

static const struct reject peer_bad[] = {
	/* not an object */
	{ WG_JSON_CREATE, "[]", "peer: must be a JSON object" },
	{ WG_JSON_PATCH, "\"" K_PUB "\"", "peer: must be a JSON object" },
	{ WG_JSON_STATE, "null", "peer: must be a JSON object" },
	{ WG_JSON_CREATE, "42", "peer: must be a JSON object" },
	/* unknown fields, read-only fields */
	{ WG_JSON_CREATE, "{\"foo\":1}", "foo: unknown field" },
	{ WG_JSON_PATCH, "{\"PublicKey\":\"" K_PUB "\"}", "PublicKey: unknown field" },
	{ WG_JSON_CREATE, "{\"a\\nb\":1}", "a\\x0ab: unknown field" },
	{ WG_JSON_CREATE, "{\"client_private_key\":\"" K_PRIV "\"}", "client_private_key: unknown field" },
	{ WG_JSON_PATCH, "{\"client_private_key\":\"" K_PRIV "\"}", "client_private_key: unknown field" },
	{ WG_JSON_CREATE, "{\"latest_handshake\":0}", "latest_handshake: is read-only" },
	{ WG_JSON_PATCH, "{\"rx_bytes\":0}", "rx_bytes: is read-only" },
	{ WG_JSON_PATCH, "{\"tx_bytes\":0}", "tx_bytes: is read-only" },
	{ WG_JSON_CREATE, "{\"rx_packets\":0}", "rx_packets: is read-only" },
	{ WG_JSON_CREATE, "{\"tx_packets\":0}", "tx_packets: is read-only" },
	{ WG_JSON_PATCH, "{\"has_preshared_key\":true}", "has_preshared_key: is read-only" },
	{ WG_JSON_CREATE, "{\"server_generated_key\":true}", "server_generated_key: is read-only" },
	{ WG_JSON_PATCH, "{\"current_endpoint\":\"192.0.2.1:1\"}", "current_endpoint: is read-only" },
	{ WG_JSON_CREATE, "{\"config_url\":\"x\"}", "config_url: is read-only" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"rx_bytes\":0}", "rx_bytes: unknown field" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"has_preshared_key\":false}",
	  "has_preshared_key: unknown field" },
	/* wrong types */
	{ WG_JSON_CREATE, "{\"public_key\":1}", "public_key: must be a string" },
	{ WG_JSON_CREATE, "{\"public_key\":null}", "public_key: must be a string" },
	{ WG_JSON_CREATE, "{\"preshared_key\":5}", "preshared_key: must be a string" },
	{ WG_JSON_PATCH, "{\"preshared_key\":true}", "preshared_key: must be a string" },
	{ WG_JSON_CREATE, "{\"name\":5}", "name: must be a string" },
	{ WG_JSON_CREATE, "{\"name\":null}", "name: must be a string" },
	{ WG_JSON_CREATE, "{\"enabled\":\"yes\"}", "enabled: must be true or false" },
	{ WG_JSON_PATCH, "{\"enabled\":1}", "enabled: must be true or false" },
	{ WG_JSON_PATCH, "{\"enabled\":null}", "enabled: must be true or false" },
	{ WG_JSON_CREATE, "{\"endpoint\":5}", "endpoint: must be a string" },
	{ WG_JSON_CREATE, "{\"endpoint\":[\"192.0.2.1:1\"]}", "endpoint: must be a string" },
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":\"25\"}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":25.0}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"persistent_keepalive\":true}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"persistent_keepalive\":null}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":\"10.0.0.0/8\"}", "allowed_ips: must be an array of strings" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":null}", "allowed_ips: must be an array of strings" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":{}}", "allowed_ips: must be an array of strings" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/8\",5]}", "allowed_ips: entry 1 must be a string" },
	{ WG_JSON_PATCH, "{\"addresses\":\"10.1.0.2\"}", "addresses: must be an array of strings" },
	{ WG_JSON_PATCH, "{\"addresses\":[null]}", "addresses: entry 0 must be a string" },
	/* keys */
	{ WG_JSON_CREATE, "{\"public_key\":\"not-a-key\"}",
	  "public_key: `not-a-key' is not a key (32 bytes in base64, 44 characters)" },
	{ WG_JSON_CREATE, "{\"public_key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}",
	  "public_key: `AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8' is not a key" },
	{ WG_JSON_CREATE, "{\"public_key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\\n\"}",
	  "is not a key" },
	{ WG_JSON_CREATE, "{\"public_key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"}", /* 31 bytes */
	  "public_key: `AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==' is not a key" },
	{ WG_JSON_STATE, "{\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	  "public_key: `AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...' is not a key" },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"" BAD_SECRET "\"}",
	  "preshared_key: not a key (32 bytes in base64, 44 characters)" },
	{ WG_JSON_PATCH, "{\"preshared_key\":\"" SHORT_SECRET "\"}", "preshared_key: not a key" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"preshared_key\":\"generate\"}", "preshared_key: not a key" },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"generate\"}", "preshared_key: not a key", .no_gen_ptr = true },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"client_private_key\":\"" BAD_SECRET "\"}",
	  "client_private_key: not a key" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"client_private_key\":null}",
	  "client_private_key: must be a string" },
	{ WG_JSON_PATCH, "{\"public_key\":\"" K_PUB "\"}", "public_key: cannot be changed" },
	{ WG_JSON_STATE, "{}", "public_key: missing" },
	{ WG_JSON_STATE, "{\"name\":\"x\",\"allowed_ips\":[\"10.0.0.0/8\"]}", "public_key: missing" },
	/* endpoints */
	{ WG_JSON_PATCH, "{\"endpoint\":null}", "endpoint: cannot be cleared" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"192.0.2.1\"}", "endpoint: `192.0.2.1' is bad: no port" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"192.0.2.1:0\"}", "endpoint: `192.0.2.1:0' is bad: port must be 1-65535" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"192.0.2.1:65536\"}", "port must be 1-65535" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"2001:db8::1:51820\"}", "an IPv6 address needs brackets" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"[2001:db8::1]\"}", "no port after the bracketed address" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"example.com:51820\"}",
	  "endpoint: `example.com:51820' is bad: not a numeric address (name resolution is off)" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\",\"endpoint\":\"localhost:51820\"}",
	  "not a numeric address (name resolution is off)" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"224.0.0.1:51820\"}", "is bad: not a unicast address" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"\"}", "endpoint: `' is bad: empty" },
	{ WG_JSON_CREATE, "{\"endpoint\":\"a\\tb:1\"}", "endpoint: `a\\x09b:1' is bad" },
	/* prefixes */
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/8\",\"10.0.0.1/24\"]}",
	  "allowed_ips: entry 1 `10.0.0.1/24' has host bits set" },
	{ WG_JSON_PATCH, "{\"allowed_ips\":[\"2001:db8::1/64\"]}", "allowed_ips: entry 0 `2001:db8::1/64' has host bits set" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/33\"]}",
	  "allowed_ips: entry 0 `10.0.0.0/33' is bad: prefix length must be 0-32" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"::/129\"]}", "entry 0 `::/129' is bad: prefix length must be 0-128" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/\"]}", "entry 0 `10.0.0.0/' is bad" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0/8\"]}", "entry 0 `10.0.0/8' is bad: not an IPv4 or IPv6 address" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"\"]}", "allowed_ips: entry 0 `' is bad" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.0/24\",\"10.0.0.0/24\"]}",
	  "allowed_ips: `10.0.0.0/24' is listed twice" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"10.0.0.1\",\"10.0.0.1/32\"]}", "allowed_ips: `10.0.0.1/32' is listed twice" },
	{ WG_JSON_CREATE, "{\"allowed_ips\":[\"fd00::/8\",\"fd00:0::/8\"]}", "allowed_ips: `fd00::/8' is listed twice" },
	{ WG_JSON_CREATE, "{\"addresses\":[\"10.1.0.0/24\"]}",
	  "addresses: entry 0 `10.1.0.0/24' is not a single address (/32 or /128)" },
	{ WG_JSON_CREATE, "{\"addresses\":[\"224.0.0.1\"]}", "addresses: entry 0 `224.0.0.1' is not a unicast address" },
	{ WG_JSON_CREATE, "{\"addresses\":[\"::\"]}", "entry 0 `::' is not a unicast address" },
	{ WG_JSON_CREATE, "{\"addresses\":[\"10.1.0.2\",\"10.1.0.2\"]}", "addresses: `10.1.0.2/32' is listed twice" },
	/* names */
	{ WG_JSON_CREATE, "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", /* 64 */
	  "name: longer than 63 bytes" },
	{ WG_JSON_CREATE, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
			  "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
			  "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", /* 64 bytes */
	  "name: longer than 63 bytes" },
	{ WG_JSON_PATCH, "{\"name\":\"a\\nb\"}", "name: holds a control character" },
	{ WG_JSON_PATCH, "{\"name\":\"\\u001b[31m\"}", "name: holds a control character" },
	{ WG_JSON_PATCH, "{\"name\":\"del\\u007f\"}", "name: holds a control character" },
	{ WG_JSON_CREATE, "{\"name\":\"a\\u0000b\"}", "name: holds a NUL character" },
	/* keepalive range */
	{ WG_JSON_CREATE, "{\"persistent_keepalive\":-1}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"persistent_keepalive\":65536}", "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"persistent_keepalive\":9223372036854775807}", "must be an integer 0-65535" },
	/* a late error frees what came before and says nothing of the secrets */
	{ WG_JSON_CREATE,
	  "{\"public_key\":\"" K_PUB "\",\"preshared_key\":\"" K_PSK "\",\"allowed_ips\":[\"10.0.0.0/8\","
	  "\"fd00::/8\"],\"addresses\":[\"10.0.0.1\"],\"name\":\"n\",\"bogus\":0}",
	  "bogus: unknown field" },
	{ WG_JSON_STATE,
	  "{\"public_key\":\"" K_PUB "\",\"client_private_key\":\"" K_PRIV "\",\"preshared_key\":\"" K_PSK "\","
	  "\"allowed_ips\":[\"10.0.0.0/8\"],\"endpoint\":\"192.0.2.1:1\",\"persistent_keepalive\":70000}",
	  "persistent_keepalive: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"preshared_key\":\"generate\",\"enabled\":0}", "enabled: must be true or false" },
	{ WG_JSON_CREATE, "{\"preshared_key\":\"generate\",\"allowed_ips\":[\"10.0.0.0/8\",\"10.0.0.0/8\"]}",
	  "is listed twice" },
};

static void test_peer_reject(void)
{
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(peer_bad); i++) {
		const struct reject *t = &peer_bad[i];
		struct wg_conf_peer out = { 0 };
		bool gen = true; /* must be cleared */
		json_t *j = load(t->json);
		int ret;

		memset(err, 'x', sizeof(err));
		ret = wg_json_to_peer(j, t->mode, &out, t->no_gen_ptr ? NULL : &gen, err, sizeof(err));
		/* unknown fields -ENOENT, read-only ones -EROFS, bad values -EINVAL */
		CHECK_MSG(ret == (strstr(t->msg, "unknown field") ? -ENOENT
				  : strstr(t->msg, "read-only") || strstr(t->msg, "cannot be changed") ? -EROFS
												     : -EINVAL),
			  "row %zu %s: ret %d", i, t->json, ret);
		CHECK_MSG(memchr(err, '\0', sizeof(err)) && strstr(err, t->msg), "row %zu %s: `%s' lacks `%s'", i,
			  t->json, err, t->msg);
		CHECK_MSG(no_secret(err), "row %zu: secret in `%s'", i, err);
		CHECK_MSG(strchr(err, '\n') == NULL && strchr(err, '\t') == NULL, "row %zu: control character", i);
		CHECK_MSG(all_zero(&out, sizeof(out)), "row %zu: output not empty", i);
		CHECK_MSG(t->no_gen_ptr || !gen, "row %zu: generate left set", i);
		json_decref(j);
	}
}

/* messages are cut at errlen and there may be none at all */
static void test_peer_errlen(void)
{
	json_t *j = load("{\"allowed_ips\":[\"10.0.0.0/8\",\"10.0.0.1/24\"]}");
	struct wg_conf_peer out = { 0 };
	char err[16];

	memset(err, 'x', sizeof(err));
	CHECK(wg_json_to_peer(j, WG_JSON_CREATE, &out, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(!strcmp(err, "allowed_ips: en"));
	CHECK(all_zero(&out, sizeof(out)));
	CHECK(wg_json_to_peer(j, WG_JSON_CREATE, &out, NULL, err, 1) == -EINVAL);
	CHECK(err[0] == '\0');
	CHECK(wg_json_to_peer(j, WG_JSON_CREATE, &out, NULL, NULL, 0) == -EINVAL);
	CHECK(all_zero(&out, sizeof(out)));
	json_decref(j);
}

/* ---- interfaces ---- */

struct if_ok {
	enum wg_json_mode mode;
	const char *json;
	uint32_t dflags, inflags;
	const char *priv;
	unsigned listen_port;
	uint32_t fwmark;
	const char *pools, *addresses;
	bool generate;
};

static const struct if_ok if_ok[] = {
	{ WG_JSON_PATCH, "{}", 0, 0 },
	{ WG_JSON_PATCH, "{\"listen_port\":51820}", WG_CONF_DEVICE_HAS_LISTEN_PORT, 0, .listen_port = 51820 },
	{ WG_JSON_PATCH, "{\"listen_port\":0}", WG_CONF_DEVICE_HAS_LISTEN_PORT, 0 },
	{ WG_JSON_PATCH, "{\"listen_port\":65535}", WG_CONF_DEVICE_HAS_LISTEN_PORT, 0, .listen_port = 65535 },
	{ WG_JSON_PATCH, "{\"fwmark\":0}", WG_CONF_DEVICE_HAS_FWMARK, 0 },
	{ WG_JSON_PATCH, "{\"fwmark\":4294967295}", WG_CONF_DEVICE_HAS_FWMARK, 0, .fwmark = 4294967295u },
	{ WG_JSON_PATCH, "{\"private_key\":\"" K_PRIV "\"}", WG_CONF_DEVICE_HAS_PRIVATE_KEY, 0, .priv = K_PRIV },
	{ WG_JSON_PATCH, "{\"private_key\":\"generate\"}", WG_CONF_DEVICE_HAS_PRIVATE_KEY, 0, .generate = true },
	{ WG_JSON_CREATE, "{\"private_key\":\"generate\"}", WG_CONF_DEVICE_HAS_PRIVATE_KEY, 0, .generate = true },
	{ WG_JSON_PATCH, "{\"address_pools\":[]}", 0, WG_CONF_INSIDE_HAS_POOLS },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.0/16\",\"fd00:8::/64\"]}", 0, WG_CONF_INSIDE_HAS_POOLS,
	  .pools = "10.8.0.0/16,fd00:8::/64" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"fd00:8::/64\",\"10.8.0.0/30\"]}", 0, WG_CONF_INSIDE_HAS_POOLS,
	  .pools = "fd00:8::/64,10.8.0.0/30" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"fd00::/126\"]}", 0, WG_CONF_INSIDE_HAS_POOLS, .pools = "fd00::/126" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"0.0.0.0/1\"]}", 0, WG_CONF_INSIDE_HAS_POOLS, .pools = "0.0.0.0/1" },
	{ WG_JSON_STATE, "{}", 0, 0 },
	{ WG_JSON_STATE,
	  "{\"listen_port\":51820,\"fwmark\":7,\"addresses\":[\"10.8.0.1/16\",\"fd00:8::1/64\",\"192.0.2.1\"],"
	  "\"address_pools\":[\"10.8.0.0/16\"],\"private_key\":\"" K_PRIV "\"}",
	  WG_CONF_DEVICE_HAS_LISTEN_PORT | WG_CONF_DEVICE_HAS_FWMARK | WG_CONF_DEVICE_HAS_PRIVATE_KEY,
	  WG_CONF_INSIDE_REPLACE_ADDRESSES | WG_CONF_INSIDE_HAS_POOLS, .priv = K_PRIV, .listen_port = 51820,
	  .fwmark = 7, .pools = "10.8.0.0/16", .addresses = "10.8.0.1/16,fd00:8::1/64,192.0.2.1/32" },
	{ WG_JSON_STATE, "{\"addresses\":[]}", 0, WG_CONF_INSIDE_REPLACE_ADDRESSES },
	/* the config file takes an Address twice; its snapshot must load back */
	{ WG_JSON_STATE, "{\"addresses\":[\"10.8.0.1/16\",\"10.8.0.1/16\"]}", 0, WG_CONF_INSIDE_REPLACE_ADDRESSES,
	  .addresses = "10.8.0.1/16,10.8.0.1/16" },
};

static void test_interface_accept(void)
{
	char err[256], a[512], b[512];

	for (size_t i = 0; i < ARRAY_SIZE(if_ok); i++) {
		const struct if_ok *t = &if_ok[i];
		struct wg_conf_device d = { 0 };
		struct wg_conf_inside in = { 0 };
		bool gen = !t->generate;
		json_t *j = load(t->json);
		int ret = wg_json_to_interface(j, t->mode, &d, &in, &gen, err, sizeof(err));

		CHECK_MSG(ret == 0, "row %zu %s: %d %s", i, t->json, ret, err);
		CHECK_MSG(d.flags == t->dflags, "row %zu: device flags %#x", i, d.flags);
		CHECK_MSG(in.flags == t->inflags, "row %zu: inside flags %#x", i, in.flags);
		CHECK_MSG(key_is(d.private_key, t->priv), "row %zu: private_key", i);
		CHECK_MSG(d.listen_port == t->listen_port && d.fwmark == t->fwmark, "row %zu: port/fwmark", i);
		CHECK_MSG(gen == t->generate, "row %zu: generate", i);
		CHECK_MSG(!strcmp(list_text(&in.pools, a, sizeof(a)), t->pools ? t->pools : ""), "row %zu: pools %s",
			  i, a);
		CHECK_MSG(!strcmp(list_text(&in.addresses, b, sizeof(b)), t->addresses ? t->addresses : ""),
			  "row %zu: addresses %s", i, b);
		CHECK(d.n_peers == 0 && d.peers == NULL && in.mtu == 0);
		wg_conf_device_free(&d);
		free(in.pools.v);
		free(in.addresses.v);
		json_decref(j);
	}
}

static const struct reject if_bad[] = {
	{ WG_JSON_PATCH, "[]", "interface: must be a JSON object" },
	{ WG_JSON_STATE, "\"x\"", "interface: must be a JSON object" },
	{ WG_JSON_PATCH, "{\"foo\":1}", "foo: unknown field" },
	{ WG_JSON_PATCH, "{\"ListenPort\":1}", "ListenPort: unknown field" },
	{ WG_JSON_PATCH, "{\"public_key\":\"" K_PUB "\"}", "public_key: is read-only" },
	{ WG_JSON_PATCH, "{\"mtu\":1420}", "mtu: is read-only" },
	{ WG_JSON_PATCH, "{\"peers\":[]}", "peers: is read-only" },
	{ WG_JSON_PATCH, "{\"address_pool_usage\":{}}", "address_pool_usage: is read-only" },
	{ WG_JSON_STATE, "{\"public_key\":\"" K_PUB "\"}", "public_key: unknown field" },
	{ WG_JSON_PATCH, "{\"addresses\":[\"224.0.0.1/4\"]}", "addresses: entry 0 `224.0.0.1/4' is not a unicast address" },
	{ WG_JSON_PATCH, "{\"listen_port\":\"51820\"}", "listen_port: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"listen_port\":-1}", "listen_port: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"listen_port\":65536}", "listen_port: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"listen_port\":1.5}", "listen_port: must be an integer 0-65535" },
	{ WG_JSON_PATCH, "{\"fwmark\":-1}", "fwmark: must be an integer 0-4294967295" },
	{ WG_JSON_PATCH, "{\"fwmark\":4294967296}", "fwmark: must be an integer 0-4294967295" },
	{ WG_JSON_PATCH, "{\"private_key\":5}", "private_key: must be a string" },
	{ WG_JSON_PATCH, "{\"private_key\":null}", "private_key: must be a string" },
	{ WG_JSON_PATCH, "{\"private_key\":\"" BAD_SECRET "\"}", "private_key: not a key (32 bytes in base64" },
	{ WG_JSON_STATE, "{\"private_key\":\"" SHORT_SECRET "\"}", "private_key: not a key" },
	{ WG_JSON_STATE, "{\"private_key\":\"generate\"}", "private_key: not a key" },
	{ WG_JSON_PATCH, "{\"private_key\":\"generate\"}", "private_key: not a key", .no_gen_ptr = true },
	{ WG_JSON_PATCH, "{\"address_pools\":\"10.8.0.0/16\"}", "address_pools: must be an array of strings" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.0/16\",\"fd00::/64\",\"10.9.0.0/16\"]}",
	  "address_pools: more than 2 entries" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.0/16\",\"10.9.0.0/16\"]}",
	  "address_pools: at most one pool per family" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"fd00:1::/64\",\"fd00:2::/64\"]}", "at most one pool per family" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.0/31\"]}",
	  "address_pools: entry 0 is not a usable pool (IPv4 /1-/30, IPv6 /1-/126)" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.1\"]}", "entry 0 is not a usable pool" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"fd00::/8\",\"0.0.0.0/0\"]}", "entry 1 is not a usable pool" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"fd00::/127\"]}", "entry 0 is not a usable pool" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"239.0.0.0/8\"]}", "address_pools: entry 0 is multicast" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"ff00::/8\"]}", "address_pools: entry 0 is multicast" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.1/16\"]}", "address_pools: entry 0 `10.8.0.1/16' has host bits set" },
	{ WG_JSON_PATCH, "{\"address_pools\":[\"10.8.0.0/33\"]}", "is bad: prefix length must be 0-32" },
	{ WG_JSON_STATE, "{\"addresses\":[\"10.8.0.1/33\"]}", "addresses: entry 0 `10.8.0.1/33' is bad" },
	{ WG_JSON_STATE, "{\"addresses\":[\"224.0.0.1/4\"]}", "addresses: entry 0 `224.0.0.1/4' is not a unicast" },
	{ WG_JSON_STATE, "{\"addresses\":\"10.8.0.1/16\"}", "addresses: must be an array of strings" },
	/* late errors: everything before is freed and wiped */
	{ WG_JSON_PATCH, "{\"private_key\":\"" K_PRIV "\",\"address_pools\":[\"10.8.0.0/16\"],\"mtu\":1}",
	  "mtu: is read-only" },
	{ WG_JSON_STATE,
	  "{\"private_key\":\"" K_PRIV "\",\"addresses\":[\"10.8.0.1/16\"],\"address_pools\":[\"10.8.0.0/16\"],"
	  "\"listen_port\":70000}",
	  "listen_port: must be an integer" },
	{ WG_JSON_PATCH, "{\"private_key\":\"generate\",\"x\":1}", "x: unknown field" },
};

static void test_interface_reject(void)
{
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(if_bad); i++) {
		const struct reject *t = &if_bad[i];
		struct wg_conf_device d = { 0 };
		struct wg_conf_inside in = { 0 };
		bool gen = true;
		json_t *j = load(t->json);
		int ret = wg_json_to_interface(j, t->mode, &d, &in, t->no_gen_ptr ? NULL : &gen, err, sizeof(err));

		CHECK_MSG(ret == (strstr(t->msg, "unknown field") ? -ENOENT
				  : strstr(t->msg, "read-only") || strstr(t->msg, "fixed at start") ? -EROFS
												  : -EINVAL),
			  "row %zu %s: ret %d", i, t->json, ret);
		CHECK_MSG(strstr(err, t->msg), "row %zu %s: `%s' lacks `%s'", i, t->json, err, t->msg);
		CHECK_MSG(no_secret(err), "row %zu: secret in `%s'", i, err);
		CHECK_MSG(all_zero(&d, sizeof(d)) && all_zero(&in, sizeof(in)), "row %zu: output not empty", i);
		CHECK_MSG(t->no_gen_ptr || !gen, "row %zu: generate left set", i);
		json_decref(j);
	}
}

/* ---- writers ---- */

static void add_prefix(struct wg_conf_prefixes *l, const char *s, uint8_t flags)
{
	struct wg_conf_prefix p;
	const char *why;

	if (!wg_conf_parse_prefix(s, false, &p, &why) || wg_conf_prefixes_add(l, &p))
		abort();
	l->v[l->n - 1].flags = flags;
}

static void set_key(uint8_t k[WG_KEY_LEN], const char *b64)
{
	if (!wg_key_from_base64(k, b64, strlen(b64)))
		abort();
}

/* a peer with everything set */
static void full_peer(struct wg_conf_peer *p)
{
	const char *why;

	memset(p, 0, sizeof(*p));
	p->flags = BASE_STATE | WG_CONF_PEER_HAS_ENDPOINT | WG_CONF_PEER_HAS_CLIENT_KEY;
	set_key(p->public_key, K_PUB);
	set_key(p->preshared_key, K_PSK);
	set_key(p->client_private_key, K_PRIV);
	if (!wg_conf_parse_endpoint("192.0.2.1:51820", true, &p->endpoint, &why))
		abort();
	p->persistent_keepalive = 25;
	add_prefix(&p->allowedips, "10.0.0.2/32", 0);
	add_prefix(&p->allowedips, "fd00::2/128", 0);
	add_prefix(&p->allowedips, "10.10.0.0/16", 0);
	add_prefix(&p->addresses, "10.0.0.2", 0);
	add_prefix(&p->addresses, "fd00::2", 0);
	memcpy(p->name, "laptop \"1\"", sizeof("laptop \"1\""));
}

/* a bare peer: disabled, an endpoint without its HAS flag, a removed allowed IP */
static void bare_peer(struct wg_conf_peer *p)
{
	const char *why;

	memset(p, 0, sizeof(*p));
	p->flags = BASE_STATE;
	set_key(p->public_key, K_PUB2);
	if (!wg_conf_parse_endpoint("[2001:db8::1]:51820", true, &p->endpoint, &why))
		abort();
	p->disabled = true;
	add_prefix(&p->allowedips, "10.0.0.0/8", WG_CONF_PREFIX_REMOVE_ME);
}

static char *dump_peer(const struct wg_conf_peer *p, unsigned flags)
{
	json_t *j = wg_json_from_peer(p, flags);
	char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

static void test_writer_peer(void)
{
	struct wg_conf_peer p;
	char *s;

	full_peer(&p);
	s = dump_peer(&p, 0);
	CHECK_MSG(s && !strcmp(s, "{\"addresses\":[\"10.0.0.2/32\",\"fd00::2/128\"],"
				  "\"allowed_ips\":[\"10.0.0.2/32\",\"fd00::2/128\",\"10.10.0.0/16\"],"
				  "\"enabled\":true,\"endpoint\":\"192.0.2.1:51820\",\"has_preshared_key\":true,"
				  "\"name\":\"laptop \\\"1\\\"\",\"persistent_keepalive\":25,"
				  "\"public_key\":\"" K_PUB "\",\"server_generated_key\":true}"),
		  "%s", s);
	CHECK(s && no_secret(s));
	free(s);
	s = dump_peer(&p, WG_JSON_SECRETS);
	CHECK_MSG(s && !strcmp(s, "{\"addresses\":[\"10.0.0.2/32\",\"fd00::2/128\"],"
				  "\"allowed_ips\":[\"10.0.0.2/32\",\"fd00::2/128\",\"10.10.0.0/16\"],"
				  "\"client_private_key\":\"" K_PRIV "\",\"enabled\":true,"
				  "\"endpoint\":\"192.0.2.1:51820\",\"name\":\"laptop \\\"1\\\"\","
				  "\"persistent_keepalive\":25,\"preshared_key\":\"" K_PSK "\","
				  "\"public_key\":\"" K_PUB "\"}"),
		  "%s", s);
	free(s);
	wg_conf_peer_free(&p);

	bare_peer(&p);
	s = dump_peer(&p, 0);
	CHECK_MSG(s && !strcmp(s, "{\"addresses\":[],\"allowed_ips\":[],\"enabled\":false,\"endpoint\":null,"
				  "\"has_preshared_key\":false,\"name\":\"\",\"persistent_keepalive\":0,"
				  "\"public_key\":\"" K_PUB2 "\",\"server_generated_key\":false}"),
		  "%s", s);
	free(s);
	s = dump_peer(&p, WG_JSON_SECRETS);
	CHECK_MSG(s && !strcmp(s, "{\"addresses\":[],\"allowed_ips\":[],\"enabled\":false,\"endpoint\":null,"
				  "\"name\":\"\",\"persistent_keepalive\":0,\"public_key\":\"" K_PUB2 "\"}"),
		  "%s", s);
	free(s);
	p.flags |= WG_CONF_PEER_HAS_ENDPOINT;
	s = dump_peer(&p, 0);
	CHECK_MSG(s && strstr(s, "\"endpoint\":\"[2001:db8::1]:51820\""), "%s", s);
	free(s);
	wg_conf_peer_free(&p);
}

static void test_writer_interface(void)
{
	struct wg_conf_device d = { 0 };
	struct wg_conf_inside in = { 0 };
	json_t *j;
	char *s;

	d.listen_port = 51820;
	d.fwmark = 0x10;
	set_key(d.private_key, K_PRIV);
	add_prefix(&in.addresses, "10.8.0.1/16", 0);
	add_prefix(&in.addresses, "fd00:8::1/64", 0);
	add_prefix(&in.pools, "10.8.0.0/16", 0);
	for (int pass = 0; pass < 3; pass++) {
		/* pass 0: no secrets; 1: secrets but no HAS_PRIVATE_KEY; 2: both */
		static const char *const want[] = {
			"{\"address_pools\":[\"10.8.0.0/16\"],\"addresses\":[\"10.8.0.1/16\",\"fd00:8::1/64\"],"
			"\"fwmark\":16,\"listen_port\":51820}",
			"{\"address_pools\":[\"10.8.0.0/16\"],\"addresses\":[\"10.8.0.1/16\",\"fd00:8::1/64\"],"
			"\"fwmark\":16,\"listen_port\":51820}",
			"{\"address_pools\":[\"10.8.0.0/16\"],\"addresses\":[\"10.8.0.1/16\",\"fd00:8::1/64\"],"
			"\"fwmark\":16,\"listen_port\":51820,\"private_key\":\"" K_PRIV "\"}",
		};

		d.flags = pass == 0 ? WG_CONF_DEVICE_HAS_PRIVATE_KEY : pass == 1 ? 0 : WG_CONF_DEVICE_HAS_PRIVATE_KEY;
		j = wg_json_from_interface(&d, &in, pass ? WG_JSON_SECRETS : 0);
		s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
		CHECK_MSG(s && !strcmp(s, want[pass]), "pass %d: %s", pass, s ? s : "(null)");
		free(s);
		json_decref(j);
	}
	wg_conf_device_free(&d);
	free(in.addresses.v);
	free(in.pools.v);
}

/* ---- round trips: writer(SECRETS) -> text -> parser(STATE) ---- */

static bool peer_same(const struct wg_conf_peer *a, const struct wg_conf_peer *b)
{
	struct wg_conf_prefixes la = a->allowedips;
	char x[4096], y[4096];
	bool ep = (a->flags & WG_CONF_PEER_HAS_ENDPOINT) && a->endpoint.family;

	/* REMOVE_ME entries are not written */
	while (la.n && (la.v[la.n - 1].flags & WG_CONF_PREFIX_REMOVE_ME))
		la.n--;
	return !memcmp(a->public_key, b->public_key, WG_KEY_LEN) &&
	       !memcmp(a->preshared_key, b->preshared_key, WG_KEY_LEN) &&
	       !memcmp(a->client_private_key, b->client_private_key, WG_KEY_LEN) &&
	       (ep ? wg_endpoint_equal(&a->endpoint, &b->endpoint) : b->endpoint.family == 0) &&
	       a->persistent_keepalive == b->persistent_keepalive && !strcmp(a->name, b->name) &&
	       a->disabled == b->disabled &&
	       !strcmp(list_text(&la, x, sizeof(x)), list_text(&b->allowedips, y, sizeof(y))) &&
	       !strcmp(list_text(&a->addresses, x, sizeof(x)), list_text(&b->addresses, y, sizeof(y)));
}

static int roundtrip_peer(const struct wg_conf_peer *p, struct wg_conf_peer *back)
{
	char *s = dump_peer(p, WG_JSON_SECRETS), err[256];
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	int ret = j ? wg_json_to_peer(j, WG_JSON_STATE, back, NULL, err, sizeof(err)) : -ENOMEM;

	if (ret)
		fprintf(stderr, "round trip: %s: %s\n", s ? s : "(null)", err);
	json_decref(j);
	free(s);
	return ret;
}

static void random_peer(struct wg_conf_peer *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		p->public_key[i] = (uint8_t)rand();
		p->preshared_key[i] = rand() % 3 ? (uint8_t)rand() : 0;
	}
	if (rand() % 2)
		for (size_t i = 0; i < WG_KEY_LEN; i++)
			p->client_private_key[i] = (uint8_t)rand();
	if (rand() % 3) {
		p->flags |= WG_CONF_PEER_HAS_ENDPOINT;
		p->endpoint.family = rand() % 2 ? AF_INET : AF_INET6;
		for (size_t i = 0; i < (p->endpoint.family == AF_INET ? 4u : 16u); i++)
			p->endpoint.addr[i] = (uint8_t)rand();
		p->endpoint.addr[0] = p->endpoint.family == AF_INET ? 192 : 0x20; /* unicast */
		p->endpoint.port = htons((uint16_t)(1 + rand() % 65535));
	}
	p->persistent_keepalive = (uint16_t)rand();
	p->disabled = rand() % 2;
	snprintf(p->name, sizeof(p->name), "peer %d \xc3\xa9", rand());
	for (int n = rand() % 5, i = 0; i < n; i++) {
		struct wg_conf_prefix x = { .family = rand() % 2 ? AF_INET : AF_INET6 };
		bool dup = false;

		x.cidr = (uint8_t)(rand() % (x.family == AF_INET ? 33 : 129));
		for (size_t k = 0; k < 16; k++)
			x.addr[k] = (uint8_t)rand();
		if (x.family == AF_INET)
			memset(x.addr + 4, 0, 12);
		wg_conf_prefix_mask(&x);
		for (size_t k = 0; k < p->allowedips.n; k++)
			dup = dup || !memcmp(&p->allowedips.v[k], &x, sizeof(x));
		if (!dup && wg_conf_prefixes_add(&p->allowedips, &x))
			abort();
	}
	if (rand() % 2)
		add_prefix(&p->addresses, rand() % 2 ? "10.7.0.9" : "fd00:7::9", 0);
}

static void test_roundtrip_peer(void)
{
	struct wg_conf_peer p, back;

	for (int n = 0; n < 3 + 500; n++) {
		if (n == 0)
			full_peer(&p);
		else if (n == 1)
			bare_peer(&p);
		else if (n == 2) {
			full_peer(&p);
			memset(p.preshared_key, 0, WG_KEY_LEN);
			memset(p.client_private_key, 0, WG_KEY_LEN);
			p.flags &= ~(uint32_t)WG_CONF_PEER_HAS_CLIENT_KEY;
		} else {
			srand((unsigned)n);
			random_peer(&p);
		}
		memset(&back, 0, sizeof(back));
		CHECK_MSG(roundtrip_peer(&p, &back) == 0, "peer %d", n);
		CHECK_MSG(peer_same(&p, &back), "peer %d differs", n);
		CHECK_MSG((back.flags & BASE_STATE) == BASE_STATE, "peer %d flags %#x", n, back.flags);
		CHECK_MSG(!!(back.flags & WG_CONF_PEER_HAS_ENDPOINT) ==
				  ((p.flags & WG_CONF_PEER_HAS_ENDPOINT) && p.endpoint.family),
			  "peer %d: endpoint flag", n);
		CHECK_MSG(!!(back.flags & WG_CONF_PEER_HAS_CLIENT_KEY) == !all_zero(p.client_private_key, 32),
			  "peer %d: client key flag", n);
		wg_conf_peer_free(&p);
		wg_conf_peer_free(&back);
	}
}

/* the interface as the state snapshot writes it: Address keeps its host bits */
static void test_roundtrip_interface(void)
{
	struct wg_conf_device d = { .flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY, .listen_port = 51820, .fwmark = 3 };
	struct wg_conf_device d2 = { 0 };
	struct wg_conf_inside in = { 0 }, in2 = { 0 };
	char err[256], x[512], y[512];
	json_t *j;
	char *s;

	set_key(d.private_key, K_PRIV);
	add_prefix(&in.addresses, "10.8.0.1/16", 0);
	add_prefix(&in.addresses, "fd00:8::1/64", 0);
	add_prefix(&in.pools, "10.8.0.0/16", 0);
	add_prefix(&in.pools, "fd00:8::/64", 0);
	j = wg_json_from_interface(&d, &in, WG_JSON_SECRETS);
	s = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	j = s ? json_loads(s, 0, NULL) : NULL;
	CHECK(j != NULL);
	CHECK_MSG(wg_json_to_interface(j, WG_JSON_STATE, &d2, &in2, NULL, err, sizeof(err)) == 0, "%s", err);
	CHECK(d2.flags == (WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT | WG_CONF_DEVICE_HAS_FWMARK));
	CHECK(in2.flags == (WG_CONF_INSIDE_REPLACE_ADDRESSES | WG_CONF_INSIDE_HAS_POOLS));
	CHECK(!memcmp(d.private_key, d2.private_key, WG_KEY_LEN));
	CHECK(d2.listen_port == 51820 && d2.fwmark == 3);
	CHECK(!strcmp(list_text(&in.addresses, x, sizeof(x)), list_text(&in2.addresses, y, sizeof(y))));
	CHECK(!strcmp(list_text(&in.pools, x, sizeof(x)), list_text(&in2.pools, y, sizeof(y))));
	json_decref(j);
	free(s);
	wg_conf_device_free(&d);
	wg_conf_device_free(&d2);
	free(in.addresses.v);
	free(in.pools.v);
	free(in2.addresses.v);
	free(in2.pools.v);
}

static void test_parse_cidr(void)
{
	static const struct {
		const char *s;
		const char *text; /* NULL: rejected */
	} rows[] = {
		{ "10.0.0.0/8", "10.0.0.0/8" }, { "10.0.0.1", "10.0.0.1/32" }, { "::/0", "::/0" },
		{ "2001:db8::/32", "2001:db8::/32" }, { "10.0.0.1/8", NULL }, { "10.0.0.0/33", NULL },
		{ "2001:db8::1/32", NULL }, { "", NULL }, { "10.0.0.0/-1", NULL }, { "10.0.0.0/ 8", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct wg_conf_prefix p;
		char text[WG_CONF_PREFIX_STR];
		const char *why = NULL;
		bool ok = wg_json_parse_cidr(rows[i].s, &p, &why);

		CHECK_MSG(ok == !!rows[i].text, "row %zu `%s'", i, rows[i].s);
		if (ok) {
			wg_conf_format_prefix(text, &p);
			CHECK_MSG(!strcmp(text, rows[i].text), "row %zu: %s", i, text);
		} else {
			CHECK(why != NULL);
		}
	}
}

/* a value quoted in a message is cut between UTF-8 characters: the message goes into JSON answers */
static bool valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 : (*u & 0xf8) == 0xf0 ? 4 : 0;

		if (!n)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((u[k] & 0xc0) != 0x80)
				return false;
		u += n;
	}
	return true;
}

static void test_utf8_excerpt(void)
{
	static const char *const bodies[] = {
		"{\"endpoint\":\"a\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
		"{\"\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac"
		"\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\n\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\": 1}",
		"{\"name\": 5, \"allowed_ips\": [\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00/8\"]}",
	};
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		struct wg_conf_peer out = { 0 };
		json_t *j = load(bodies[i]);
		int ret = wg_json_to_peer(j, WG_JSON_CREATE, &out, NULL, err, sizeof(err));

		CHECK_MSG(ret < 0, "row %zu: accepted", i);
		CHECK_MSG(valid_utf8(err), "row %zu: `%s' is not UTF-8", i, err);
		json_decref(j);
	}
}

int main(void)
{
	TEST_BEGIN("conf/model_json_test");
	RUN_TEST(test_peer_accept);
	RUN_TEST(test_peer_reject);
	RUN_TEST(test_peer_errlen);
	RUN_TEST(test_interface_accept);
	RUN_TEST(test_interface_reject);
	RUN_TEST(test_writer_peer);
	RUN_TEST(test_writer_interface);
	RUN_TEST(test_roundtrip_peer);
	RUN_TEST(test_roundtrip_interface);
	RUN_TEST(test_parse_cidr);
	RUN_TEST(test_utf8_excerpt);
	return TEST_END();
}
