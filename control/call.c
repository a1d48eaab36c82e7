/* SPDX-License-Identifier: MIT */
/* Calls into the control thread (see call.h). */
#include "control/call.h"

#include <errno.h>

#include "dataplane/wgdp.h"

void wg_call_init(struct wg_call *c)
{
	pthread_mutex_init(&c->callers, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done_cond, NULL);
	c->fn = NULL;
	c->done = c->stopped = false;
	c->pending = 0;
}

int wg_call(struct wgdp *dev, wg_call_fn fn, void *arg)
{
	struct wg_call *c = &dev->call;
	int ret = 0;

	pthread_mutex_lock(&c->callers);
	pthread_mutex_lock(&c->lock);
	if (c->stopped) {
		ret = -ESHUTDOWN;
	} else {
		c->fn = fn;
		c->arg = arg;
		c->done = false;
		__atomic_store_n(&c->pending, 1, __ATOMIC_RELEASE);
		while (!c->done && !c->stopped)
			pthread_cond_wait(&c->done_cond, &c->lock);
		if (!c->done)
			ret = -ESHUTDOWN;
		c->fn = NULL;
		__atomic_store_n(&c->pending, 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->callers);
	return ret;
}

unsigned wg_call_serve(struct wgdp *dev)
{
	struct wg_call *c = &dev->call;
	wg_call_fn fn;

	if (!__atomic_load_n(&c->pending, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&c->lock);
	fn = c->done ? NULL : c->fn;
	pthread_mutex_unlock(&c->lock);
	if (!fn)
		return 0;
	/* the caller waits on the lock-free side: fn runs without the lock held */
	fn(dev, c->arg);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	__atomic_store_n(&c->pending, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->done_cond);
	pthread_mutex_unlock(&c->lock);
	return 1;
}

void wg_call_shutdown(struct wg_call *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopped = true;
	pthread_cond_broadcast(&c->done_cond);
	pthread_mutex_unlock(&c->lock);
}

void wg_call_destroy(struct wg_call *c)
{
	pthread_cond_destroy(&c->done_cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->callers);
}
