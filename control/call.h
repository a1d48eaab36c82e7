/* SPDX-License-Identifier: MIT */
/*
 * Calls into the control thread. The control thread owns the peer table,
 * the configuration and the state file; the REST API, the wg UAPI socket and
 * rte_telemetry run on threads of their own and reach that state only by
 * asking the control thread to run a function for them and waiting for it
 * (no lock on any table, no lock on the fast path). The control loop looks
 * for a pending call once per round (an atomic load), so a call waits at
 * most one round (tens of microseconds when idle).
 *
 * One call runs at a time; callers queue on a mutex. A call made after the
 * control thread has stopped returns -ESHUTDOWN without running.
 */
#ifndef WG_CALL_H
#define WG_CALL_H

#include <pthread.h>
#include <stdbool.h>

struct wgdp;

typedef void (*wg_call_fn)(struct wgdp *dev, void *arg);

struct wg_call {
	pthread_mutex_t callers;  /* one call in flight */
	pthread_mutex_t lock;     /* guards the fields below */
	pthread_cond_t done_cond;
	wg_call_fn fn;            /* set: a call is pending */
	void *arg;
	bool done, stopped;
	int pending;              /* read by the control loop without the lock */
};

void wg_call_init(struct wg_call *c);
/* Run fn(dev, arg) on the control thread and wait. 0, or -ESHUTDOWN (not run). Never from the control thread. */
int wg_call(struct wgdp *dev, wg_call_fn fn, void *arg);
/* The control thread: run the pending call, if any. 1 when one ran, else 0. */
unsigned wg_call_serve(struct wgdp *dev);
/* The control thread stops: fail what waits and every later call. */
void wg_call_shutdown(struct wg_call *c);
void wg_call_destroy(struct wg_call *c);

#endif
