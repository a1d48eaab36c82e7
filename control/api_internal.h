/* SPDX-License-Identifier: MIT */
/*
 * Between the REST server (api.c: HTTP, authentication, routing, bodies) and
 * the handlers (api_routes.c, metrics.c), which run on the control thread.
 * Internal to control/api*.c and control/metrics.c.
 */
#ifndef WG_API_INTERNAL_H
#define WG_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dataplane/messages.h"

struct wgdp;

enum wg_api_route {
	WG_API_INDEX,     /* /api/v1 */
	WG_API_HEALTH,    /* /api/v1/health */
	WG_API_INTERFACE, /* /api/v1/interface */
	WG_API_PEERS,     /* /api/v1/peers */
	WG_API_PEER,      /* /api/v1/peers/{public_key} */
	WG_API_PEER_CONFIG, /* /api/v1/peers/{public_key}/config */
	WG_API_STATS,     /* /api/v1/stats */
	WG_API_METRICS,   /* /metrics */
	WG_API_LCORES,    /* /api/v1/lcores */
	WG_API_N_ROUTES,
};

enum wg_api_method {
	WG_API_GET = 1u << 0,
	WG_API_POST = 1u << 1,
	WG_API_PATCH = 1u << 2,
	WG_API_DELETE = 1u << 3,
};

struct wg_api_route_info {
	const char *path;     /* as in docs/openapi.json */
	unsigned methods;     /* WG_API_* */
	bool public;          /* answered without the bearer token */
};

extern const struct wg_api_route_info wg_api_routes[WG_API_N_ROUTES];

/* one request, filled by api.c, answered by wg_api_handle on the control thread */
struct wg_api_request {
	enum wg_api_route route;
	enum wg_api_method method;
	uint8_t key[WG_KEY_LEN];   /* WG_API_PEER, WG_API_PEER_CONFIG */
	json_t *body;              /* POST, PATCH: the parsed object */
	/* query parameters (NULL when absent) */
	const char *q_offset, *q_limit, *q_endpoint, *q_allowed_ips, *q_keepalive, *q_dns;

	/* the answer */
	unsigned status;
	char *text;                /* malloc'd, wiped when freed (may hold keys) */
	size_t text_len;
	const char *content_type;
	char location[128];        /* Location header, "" for none */
};

/* Answer r (control thread). */
void wg_api_handle(struct wgdp *dev, struct wg_api_request *r);

/* {"error": {"code": code, "message": message}} with status */
void wg_api_error(struct wg_api_request *r, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* r's answer is o (taken), as JSON text, with status */
void wg_api_json(struct wg_api_request *r, unsigned status, json_t *o);

/* api_lcores.c: GET and PATCH /api/v1/lcores */
void wg_api_lcores(struct wgdp *dev, struct wg_api_request *r);
/* metrics.c: the Prometheus text exposition of the device */
void wg_api_metrics(struct wgdp *dev, struct wg_api_request *r);

#endif
