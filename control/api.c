/* SPDX-License-Identifier: MIT */
/*
 * The REST server (see api.h): libmicrohttpd with its own polling thread.
 *
 * A request goes through: the body is collected up to API_MAX_BODY (a
 * longer one is drained and answered 413 without being parsed); the path is
 * routed (404, or 405 with an Allow header naming the methods the path
 * has); the bearer token is checked in constant time (401 with
 * WWW-Authenticate) unless the route is public (health); a POST or PATCH
 * body must be one JSON object (400 with Jansson's line and column); then
 * the request is answered on the control thread (wg_call ->
 * wg_api_handle), which is also where changes are applied and persisted.
 * Responses that may hold keys (peer configs) are wiped when freed.
 */
#include "control/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf/key.h"
#include "conf/parse_util.h"
#include "control/api_internal.h"
#include "control/call.h"
#include "crypto/secure.h"
#include "dataplane/wgdp.h"

#define API_MAX_BODY (1u << 20)      /* bytes of a request body */
#define API_MAX_TOKEN 4096u
#define API_MIN_TOKEN 16u
#define API_MAX_CONNECTIONS 256u
#define API_TIMEOUT_S 30u
#define PEERS_PREFIX "/api/v1/peers/"

const struct wg_api_route_info wg_api_routes[WG_API_N_ROUTES] = {
	[WG_API_INDEX] = { "/api/v1", WG_API_GET, false },
	[WG_API_HEALTH] = { "/api/v1/health", WG_API_GET, true },
	[WG_API_INTERFACE] = { "/api/v1/interface", WG_API_GET | WG_API_PATCH, false },
	[WG_API_PEERS] = { "/api/v1/peers", WG_API_GET | WG_API_POST, false },
	[WG_API_PEER] = { "/api/v1/peers/{public_key}", WG_API_GET | WG_API_PATCH | WG_API_DELETE, false },
	[WG_API_PEER_CONFIG] = { "/api/v1/peers/{public_key}/config", WG_API_GET, false },
	[WG_API_STATS] = { "/api/v1/stats", WG_API_GET, false },
	[WG_API_METRICS] = { "/metrics", WG_API_GET, false },
	[WG_API_LCORES] = { "/api/v1/lcores", WG_API_GET | WG_API_PATCH, false },
};

static struct {
	struct MHD_Daemon *daemon;
	struct wgdp *dev;
	char token[API_MAX_TOKEN];
	size_t token_len;
	char *tls_cert, *tls_key;
} api;

/* per connection: the body as it arrives */
struct conn {
	char *body;
	size_t len, cap;
	bool too_big;
};

/* ---- answers ---- */

static void wipe_free(void *p)
{
	if (p) {
		wg_secure_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

void wg_api_json(struct wg_api_request *r, unsigned status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;

	json_decref(o);
	if (!text) {
		wg_api_error(r, 500, "internal", "out of memory");
		return;
	}
	wipe_free(r->text);
	r->status = status;
	r->text_len = strlen(text);
	r->text = text;
	r->content_type = "application/json";
}

void wg_api_error(struct wg_api_request *r, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	wipe_free(r->text);
	r->text = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	r->status = status;
	r->text_len = r->text ? strlen(r->text) : 0;
	r->content_type = "application/json";
}

static enum MHD_Result send_answer(struct MHD_Connection *c, struct wg_api_request *r, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!r->text) {
		r->text = strdup("");
		r->text_len = 0;
	}
	resp = MHD_create_response_from_buffer_with_free_callback(r->text_len, r->text, wipe_free);
	if (!resp) {
		wipe_free(r->text);
		r->text = NULL;
		return MHD_NO;
	}
	r->text = NULL; /* the response owns it */
	if (r->text_len || r->status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"wgdp\"");
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- routing ---- */

static enum wg_api_method method_of(const char *m)
{
	if (!strcmp(m, MHD_HTTP_METHOD_GET) || !strcmp(m, MHD_HTTP_METHOD_HEAD))
		return WG_API_GET;
	if (!strcmp(m, MHD_HTTP_METHOD_POST))
		return WG_API_POST;
	if (!strcmp(m, MHD_HTTP_METHOD_PATCH))
		return WG_API_PATCH;
	if (!strcmp(m, MHD_HTTP_METHOD_DELETE))
		return WG_API_DELETE;
	return 0;
}

static void allow_header(char *out, size_t len, unsigned methods)
{
	static const char *const names[] = { "GET", "POST", "PATCH", "DELETE" };

	out[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (methods & (1u << i))
			snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? ", " : "", names[i]);
}

/*
 * A peer's key in a path: standard base64 (its '/' arrive as they are or
 * as %2F, which libmicrohttpd has decoded) or the URL-safe form ('-', '_').
 */
static bool path_key(const char *s, size_t len, uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];

	if (len != WG_KEY_B64_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	b64[len] = '\0';
	return wg_key_from_base64(key, b64, len);
}

/* the route of url; -1: no such path; -2: a peer path whose key is not a key */
static int route_of(const char *url, uint8_t key[WG_KEY_LEN])
{
	size_t n = strlen(url), plen = strlen(PEERS_PREFIX);

	while (n > 1 && url[n - 1] == '/')
		n--; /* a trailing slash names the same resource */
	for (int i = 0; i < WG_API_N_ROUTES; i++)
		if (!strchr(wg_api_routes[i].path, '{') && strlen(wg_api_routes[i].path) == n &&
		    !strncmp(url, wg_api_routes[i].path, n))
			return i;
	if (n <= plen || strncmp(url, PEERS_PREFIX, plen))
		return -1;
	url += plen;
	n -= plen;
	if (n > 7 && !strncmp(url + n - 7, "/config", 7) && path_key(url, n - 7, key))
		return WG_API_PEER_CONFIG;
	if (path_key(url, n, key))
		return WG_API_PEER;
	return n == WG_KEY_B64_LEN || (n == WG_KEY_B64_LEN + 7 && !strcmp(url + n - 7, "/config")) ? -2 : -1;
}

static bool authorized(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	/* constant time in the token's content; its length is not a secret worth hiding */
	return n == api.token_len && wg_secure_equal(h, api.token, n);
}

static void handle_on_control(struct wgdp *dev, void *arg)
{
	wg_api_handle(dev, arg);
}

static enum MHD_Result answer(struct MHD_Connection *c, const char *url, const char *method_name,
			      struct conn *cn)
{
	struct wg_api_request r = { .content_type = "application/json" };
	enum wg_api_method m = method_of(method_name);
	char allow[64] = "";
	enum MHD_Result ret;
	int route = route_of(url, r.key);

	if (route == -1) {
		wg_api_error(&r, 404, "not_found", "no such resource: %s (see GET /api/v1)", url);
		return send_answer(c, &r, NULL);
	}
	if (route == -2) {
		wg_api_error(&r, 400, "invalid_key",
			     "the path does not hold a public key (44 characters of base64, or its URL-safe form)");
		return send_answer(c, &r, NULL);
	}
	r.route = (enum wg_api_route)route;
	if (!m || !(wg_api_routes[route].methods & m)) {
		allow_header(allow, sizeof(allow), wg_api_routes[route].methods);
		wg_api_error(&r, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", method_name,
			     wg_api_routes[route].path, allow);
		return send_answer(c, &r, allow);
	}
	r.method = m;
	if (!wg_api_routes[route].public && !authorized(c)) {
		wg_api_error(&r, 401, "unauthorized", "a valid `Authorization: Bearer <token>' header is required");
		return send_answer(c, &r, NULL);
	}
	if (cn->too_big) {
		wg_api_error(&r, 413, "body_too_large", "the request body is larger than %u bytes", API_MAX_BODY);
		return send_answer(c, &r, NULL);
	}
	if (m == WG_API_POST || m == WG_API_PATCH) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		json_error_t jerr;

		if (ct && (strncasecmp(ct, "application/json", 16) || (ct[16] && ct[16] != ';' && ct[16] != ' '))) {
			wg_api_error(&r, 415, "unsupported_media_type", "the body must be application/json, not %.60s",
				     ct);
			return send_answer(c, &r, NULL);
		}
		r.body = json_loadb(cn->body ? cn->body : "", cn->len, JSON_REJECT_DUPLICATES, &jerr);
		if (!r.body) {
			wg_api_error(&r, 400, "invalid_json", "the body is not JSON: %s (line %d, column %d)", jerr.text,
				     jerr.line, jerr.column);
			return send_answer(c, &r, NULL);
		}
		if (!json_is_object(r.body)) {
			json_decref(r.body);
			wg_api_error(&r, 400, "invalid_json", "the body must be a JSON object");
			return send_answer(c, &r, NULL);
		}
	}
	r.q_offset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
	r.q_limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	r.q_endpoint = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "endpoint");
	r.q_allowed_ips = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "allowed_ips");
	r.q_keepalive = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "persistent_keepalive");
	r.q_dns = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dns");
	if (wg_call(api.dev, handle_on_control, &r))
		wg_api_error(&r, 503, "shutting_down", "wgdp is stopping");
	json_decref(r.body);
	ret = send_answer(c, &r, NULL);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)version;
	if (!cn) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY)
			cn->too_big = true;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		if (!cn->too_big && cn->len + n > API_MAX_BODY)
			cn->too_big = true;
		if (!cn->too_big) {
			if (cn->len + n + 1 > cn->cap) {
				size_t cap = cn->cap ? cn->cap : 4096;
				char *b;

				while (cap < cn->len + n + 1)
					cap *= 2;
				b = malloc(cap);
				if (!b)
					return MHD_NO;
				if (cn->body) {
					memcpy(b, cn->body, cn->len);
					wipe_free(cn->body);
				}
				cn->body = b;
				cn->cap = cap;
			}
			memcpy(cn->body + cn->len, upload_data, n);
			cn->len += n;
		}
		*upload_size = 0; /* consumed (or drained when too big) */
		return MHD_YES;
	}
	return answer(c, url, method, cn);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		wipe_free(cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

/* ---- set-up ---- */

/* a whole small file, NUL-terminated; 0 or -errno */
static int read_file(const char *path, char **out, size_t max)
{
	char *buf = malloc(max + 1);
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		int e = fd < 0 ? -errno : -ENOMEM;

		if (fd >= 0)
			close(fd);
		free(buf);
		return e;
	}
	while (n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int load_token(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL, *s, *e;
	int ret = read_file(path, &text, API_MAX_TOKEN);

	if (ret) {
		snprintf(err, errlen, "ApiTokenFile %s: %s", path, strerror(-ret));
		return ret;
	}
	if (strlen(text) >= API_MAX_TOKEN) {
		wg_secure_wipe(text, API_MAX_TOKEN);
		free(text);
		snprintf(err, errlen, "ApiTokenFile %s: longer than %u bytes", path, API_MAX_TOKEN - 1);
		return -EFBIG;
	}
	for (s = text; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	api.token_len = (size_t)(e - s);
	for (char *p = s; p < e; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			ret = -EINVAL;
	if (!ret && api.token_len < API_MIN_TOKEN)
		ret = -EINVAL;
	if (!ret)
		memcpy(api.token, s, api.token_len);
	wg_secure_wipe(text, API_MAX_TOKEN + 1);
	free(text);
	if (ret) {
		api.token_len = 0;
		snprintf(err, errlen,
			 "ApiTokenFile %s: the token must be one line of at least %u printable characters, no spaces",
			 path, API_MIN_TOKEN);
		return ret;
	}
	if (!stat(path, &st) && (st.st_mode & 0077))
		fprintf(stderr, "wgdp: warning: ApiTokenFile %s is readable by others (chmod 600 it)\n", path);
	return 0;
}

int wg_api_start(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	char ep[WG_CONF_ENDPOINT_STR];
	struct sockaddr *sa;
	int ret;

	if (!a->api_token_file[0])
		return 0;
	ret = load_token(a->api_token_file, err, errlen);
	if (ret)
		return ret;
	if (a->api_listen.family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		memcpy(&sin6.sin6_addr, a->api_listen.addr, 16);
		sin6.sin6_port = a->api_listen.port;
		sa = (struct sockaddr *)&sin6;
	} else {
		memcpy(&sin.sin_addr, a->api_listen.addr, 4);
		sin.sin_port = a->api_listen.port;
		sa = (struct sockaddr *)&sin;
	}
	if (a->api_tls_cert[0]) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "ApiTlsCertificate: this libmicrohttpd has no TLS");
			return -ENOTSUP;
		}
		if ((ret = read_file(a->api_tls_cert, &api.tls_cert, 1u << 20)) ||
		    (ret = read_file(a->api_tls_key, &api.tls_key, 1u << 20))) {
			snprintf(err, errlen, "%s: %s", api.tls_cert ? a->api_tls_key : a->api_tls_cert, strerror(-ret));
			wg_api_stop(dev);
			return ret;
		}
		flags |= MHD_USE_TLS;
	}
	api.dev = dev;
	if (api.tls_cert)
		api.daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, sa,
					      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
					      MHD_OPTION_CONNECTION_LIMIT, API_MAX_CONNECTIONS,
					      MHD_OPTION_CONNECTION_TIMEOUT, API_TIMEOUT_S, MHD_OPTION_HTTPS_MEM_KEY,
					      api.tls_key, MHD_OPTION_HTTPS_MEM_CERT, api.tls_cert, MHD_OPTION_END);
	else
		api.daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, sa,
					      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
					      MHD_OPTION_CONNECTION_LIMIT, API_MAX_CONNECTIONS,
					      MHD_OPTION_CONNECTION_TIMEOUT, API_TIMEOUT_S, MHD_OPTION_END);
	wg_conf_format_endpoint(ep, &a->api_listen);
	if (!api.daemon) {
		snprintf(err, errlen, "ApiListen %s: cannot listen there (in use, or not an address of this host)%s",
			 ep, api.tls_cert ? " or the TLS certificate/key is not valid PEM" : "");
		wg_api_stop(dev);
		return -EADDRINUSE;
	}
	printf("wgdp: REST API on %s://%s/api/v1 (bearer token from %s)\n", api.tls_cert ? "https" : "http", ep,
	       a->api_token_file);
	return 0;
}

void wg_api_stop(struct wgdp *dev)
{
	(void)dev;
	if (api.daemon)
		MHD_stop_daemon(api.daemon);
	api.daemon = NULL;
	wipe_free(api.tls_key);
	free(api.tls_cert);
	api.tls_key = api.tls_cert = NULL;
	wg_secure_wipe(api.token, sizeof(api.token));
	api.token_len = 0;
}
