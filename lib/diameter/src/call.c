/*
 * call.c - send a request and block the calling thread until its answer
 * or a timeout (dia_call), or send it and have the answer come to a
 * callback (dia_send), on top of freeDiameter's fd_msg_send_timeout.
 *
 * freeDiameter calls exactly one of the answer and expiry callbacks for a
 * request that was sent (both are removed from its list under one lock),
 * and neither for one it discards at shutdown.  The waiter and that
 * callback share a small reference-counted record, so whichever of them
 * comes last frees it: a waiter that gives up never leaves freeDiameter a
 * dangling pointer, and an answer that comes after the timeout is dropped
 * by freeDiameter (its keys wiped by the node's hook).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

/* How long the waiter waits past freeDiameter's own expiry before it gives
 * up on hearing from freeDiameter at all. */
#define GRACE_MS 1000

enum { WAITING, ANSWERED, EXPIRED };

struct pending {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	int refs;
	int state;
	struct msg *answer;
};

static void add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Drop one reference; called with p->mtx held, returns with it released. */
static void pending_put(struct pending *p)
{
	int last = --p->refs == 0;

	pthread_mutex_unlock(&p->mtx);
	if (!last)
		return;
	if (p->answer) {
		avp_wipe_secrets(p->answer);
		fd_msg_free(p->answer);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

static void on_answer(void *data, struct msg **msg)
{
	struct pending *p = data;

	pthread_mutex_lock(&p->mtx);
	p->answer = *msg;
	*msg = NULL;
	p->state = ANSWERED;
	pthread_cond_signal(&p->cond);
	pending_put(p);
}

static void on_expire(void *data, DiamId_t sentto, size_t sentto_len, struct msg **request)
{
	struct pending *p = data;

	(void)sentto;
	(void)sentto_len;
	fd_msg_free(*request);   /* ours: freeDiameter would log it as dropped */
	*request = NULL;
	pthread_mutex_lock(&p->mtx);
	p->state = EXPIRED;
	pthread_cond_signal(&p->cond);
	pending_put(p);
}

static struct pending *pending_new(void)
{
	struct pending *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;

	if (!p)
		return NULL;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&p->mtx, NULL) || pthread_cond_init(&p->cond, &attr)) {
		pthread_condattr_destroy(&attr);
		free(p);
		return NULL;
	}
	pthread_condattr_destroy(&attr);
	p->refs = 2;   /* the waiter, and freeDiameter's callback */
	p->state = WAITING;
	return p;
}

gba_err dia_call(struct gba_dia *dia, struct msg **request, unsigned timeout_ms,
		 struct msg **answer)
{
	struct timespec deadline;
	struct pending *p;
	gba_err err = GBA_OK;

	*answer = NULL;
	if (!dia->started) {
		fd_msg_free(*request);
		*request = NULL;
		return GBA_ERR_UNAVAILABLE;
	}
	p = pending_new();
	if (!p) {
		fd_msg_free(*request);
		*request = NULL;
		return GBA_ERR_NO_MEMORY;
	}
	/* freeDiameter compares its expiry with CLOCK_REALTIME (dia_send); the
	 * waiter uses the monotonic clock so that a clock step cannot stretch
	 * its wait. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	add_ms(&deadline, timeout_ms + GRACE_MS);

	if (dia_send(dia, request, timeout_ms, on_answer, on_expire, p)) {
		p->refs = 1;   /* not queued: no callback will come */
		pthread_mutex_lock(&p->mtx);
		pending_put(p);
		return GBA_ERR_UNAVAILABLE;
	}

	pthread_mutex_lock(&p->mtx);
	while (p->state == WAITING)
		if (pthread_cond_timedwait(&p->cond, &p->mtx, &deadline) == ETIMEDOUT)
			break;
	if (p->state == ANSWERED) {
		*answer = p->answer;
		p->answer = NULL;
	} else {
		if (p->state == WAITING)
			gba_dia_log(dia, GBA_DIA_LOG_WARN,
				    "freeDiameter neither answered nor expired a request in time");
		err = GBA_ERR_TIMEOUT;
	}
	pending_put(p);
	return err;
}

/* ---- Without a waiting thread ------------------------------------------------- */

/*
 * freeDiameter's own guarantee is the whole of it here: exactly one of the
 * two callbacks for a request it queued, none for one it refused (or
 * discards at its shutdown, after every caller's answer has come or
 * expired: the BSF stops its Ub server, which waits for its held requests,
 * before it closes the node).
 */
gba_err dia_send(struct gba_dia *dia, struct msg **request, unsigned timeout_ms,
		 void (*anscb)(void *, struct msg **),
		 void (*expirecb)(void *, DiamId_t, size_t, struct msg **), void *data)
{
	struct timespec expiry;

	clock_gettime(CLOCK_REALTIME, &expiry);
	add_ms(&expiry, timeout_ms);
	if (dia->started && !fd_msg_send_timeout(request, anscb, data, expirecb, &expiry))
		return GBA_OK;
	fd_msg_free(*request);   /* not queued: still ours, and no callback comes */
	*request = NULL;
	return GBA_ERR_UNAVAILABLE;
}
