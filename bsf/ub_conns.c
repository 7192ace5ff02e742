/*
 * ub_conns.c - open Ub connections and their limits, see ub_conns.h.
 *
 * An array indexed by socket number (grown as numbers grow) holds each
 * connection's state, its address key and its place in a list ordered by
 * last activity, oldest first: admitting and touching append, closing
 * unlinks, making room takes the head.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr_count.h"
#include "ub_conns.h"

#define NIL UINT32_MAX
#define INITIAL_FDS 1024u
#define FRESH_RING 8192u   /* fresh connections tracked; older ones age out early */
/*
 * A connection handed to MHD but never started this long after: MHD
 * dropped it without telling (it does when a worker cannot allocate its
 * memory pool).  Its number may name another file by now: forget it.
 */
#define LOST_AFTER_NS 2000000000ull

enum conn_state {
	CONN_FREE = 0,
	CONN_HANDED,      /* given to MHD_add_connection, not started yet */
	CONN_STARTED,     /* in a worker */
	CONN_CLOSING,     /* shut down by us to make room; the worker closes it */
};

struct conn {
	uint64_t active_ns;       /* admitted, or last request begun */
	uint32_t prev, next;      /* activity list (HANDED and STARTED only) */
	uint8_t state;
	uint8_t busy;             /* a request is in progress */
	uint8_t fresh;            /* new, no request begun yet, under UB_CONNS_FRESH_NS */
	struct addr_key key;
};

struct ub_conns {
	pthread_mutex_t lock;
	struct conn *conns;       /* by socket number */
	uint32_t n_conns;
	uint32_t head, tail;      /* oldest, newest */
	unsigned open;            /* not FREE */
	unsigned closing;
	unsigned max, max_per_ip;
	unsigned busy, fresh, admission_limit;
	/* The fresh connections in admission order: a ring of (fd, admitted). */
	uint32_t fresh_fd[FRESH_RING];
	uint64_t fresh_at[FRESH_RING];
	unsigned fresh_head, fresh_n;
	struct addr_count *per_ip;
	struct bsf_metrics *metrics;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ub_conns *ub_conns_create(unsigned max, unsigned max_per_ip,
				 struct bsf_metrics *metrics)
{
	struct ub_conns *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->conns = calloc(INITIAL_FDS, sizeof(struct conn));
	c->per_ip = addr_count_create();
	if (!c->conns || !c->per_ip) {
		free(c->conns);
		addr_count_destroy(c->per_ip);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->n_conns = INITIAL_FDS;
	c->head = c->tail = NIL;
	c->max = max;
	c->max_per_ip = max_per_ip;
	c->metrics = metrics;
	return c;
}

void ub_conns_destroy(struct ub_conns *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	addr_count_destroy(c->per_ip);
	free(c->conns);
	free(c);
}

/* ---- The activity list (lock held) ------------------------------------------- */

static void list_append(struct ub_conns *c, uint32_t fd)
{
	struct conn *e = &c->conns[fd];

	e->prev = c->tail;
	e->next = NIL;
	if (c->tail != NIL)
		c->conns[c->tail].next = fd;
	else
		c->head = fd;
	c->tail = fd;
}

static void list_unlink(struct ub_conns *c, uint32_t fd)
{
	struct conn *e = &c->conns[fd];

	if (e->prev != NIL)
		c->conns[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->conns[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

/* Forget fd, whatever its state. */
static void drop(struct ub_conns *c, uint32_t fd)
{
	struct conn *e = &c->conns[fd];

	if (e->state == CONN_FREE)
		return;
	if (e->state == CONN_CLOSING)
		c->closing--;
	else
		list_unlink(c, fd);
	c->busy -= e->busy;
	c->fresh -= e->fresh;
	e->busy = e->fresh = 0;
	addr_count_remove(c->per_ip, &e->key);
	e->state = CONN_FREE;
	c->open--;
	atomic_store_explicit(&c->metrics->ub_connections_open, c->open, memory_order_relaxed);
}

/*
 * At the limit: close the connection idle longest.  0 when room was made
 * (counting the one closing as gone), -1 when nothing can be closed.
 */
static int make_room(struct ub_conns *c, uint64_t now)
{
	while (c->head != NIL && c->closing < UB_CONNS_CLOSING_MAX) {
		uint32_t fd = c->head;
		struct conn *e = &c->conns[fd];

		if (e->state == CONN_HANDED) {
			/* Not in a worker yet: it cannot be closed under MHD. */
			if (now - e->active_ns < LOST_AFTER_NS)
				return -1;
			drop(c, fd);
			if (c->open - c->closing < c->max)
				return 0;
			continue;
		}
		list_unlink(c, fd);
		e->state = CONN_CLOSING;
		c->closing++;
		shutdown((int)fd, SHUT_RDWR);
		metrics_inc(&c->metrics->ub_connections_evicted);
		return 0;
	}
	return -1;
}

static int ensure_room_for_fd(struct ub_conns *c, int fd)
{
	uint32_t n = c->n_conns;
	struct conn *grown;

	if ((uint32_t)fd < n)
		return 0;
	while (n <= (uint32_t)fd)
		n *= 2;
	grown = realloc(c->conns, (size_t)n * sizeof(struct conn));
	if (!grown)
		return -1;
	memset(grown + c->n_conns, 0, (size_t)(n - c->n_conns) * sizeof(struct conn));
	c->conns = grown;
	c->n_conns = n;
	return 0;
}

/* ---- Admission (lock held) ------------------------------------------------------- */

/* A new connection is busy until its first request begins, or ages out. */
static void fresh_push(struct ub_conns *c, uint32_t fd, uint64_t now)
{
	if (c->fresh_n == FRESH_RING) {   /* the oldest ages out early */
		uint32_t old = c->fresh_fd[c->fresh_head];
		if (c->conns[old].fresh && c->conns[old].active_ns == c->fresh_at[c->fresh_head]) {
			c->conns[old].fresh = 0;
			c->fresh--;
		}
		c->fresh_head = (c->fresh_head + 1) % FRESH_RING;
		c->fresh_n--;
	}
	unsigned i = (c->fresh_head + c->fresh_n++) % FRESH_RING;
	c->fresh_fd[i] = fd;
	c->fresh_at[i] = now;
	c->conns[fd].fresh = 1;
	c->fresh++;
}

/*
 * Requests in progress plus new connections still expected to send one.
 * An entry of the ring whose socket number has since begun a request,
 * closed or been reused (active_ns differs) is just dropped.
 */
static unsigned busy_now(struct ub_conns *c, uint64_t now)
{
	while (c->fresh_n && now - c->fresh_at[c->fresh_head] >= UB_CONNS_FRESH_NS) {
		struct conn *e = &c->conns[c->fresh_fd[c->fresh_head]];
		if (e->fresh && e->active_ns == c->fresh_at[c->fresh_head]) {
			e->fresh = 0;
			c->fresh--;
		}
		c->fresh_head = (c->fresh_head + 1) % FRESH_RING;
		c->fresh_n--;
	}
	return c->busy + c->fresh;
}

/* ---- Operations ---------------------------------------------------------------- */

static enum ub_admit admit_locked(struct ub_conns *c, int fd, const struct addr_key *key,
				  uint64_t now)
{
	struct conn *e;

	if (fd < 0 || ensure_room_for_fd(c, fd))
		return UB_ADMIT_FULL;
	/* The kernel gave this number again: whatever we knew under it is gone. */
	drop(c, (uint32_t)fd);
	if (c->max_per_ip && addr_count_get(c->per_ip, key) >= c->max_per_ip)
		return UB_ADMIT_PER_IP;
	if (c->admission_limit && busy_now(c, now) >= c->admission_limit)
		return UB_ADMIT_SHED;
	if (c->open - c->closing >= c->max && make_room(c, now))
		return UB_ADMIT_FULL;
	if (addr_count_add(c->per_ip, key, 0))
		return UB_ADMIT_FULL;
	e = &c->conns[fd];
	e->state = CONN_HANDED;
	e->active_ns = now;
	fresh_push(c, (uint32_t)fd, now);
	e->key = *key;
	list_append(c, (uint32_t)fd);
	c->open++;
	atomic_store_explicit(&c->metrics->ub_connections_open, c->open, memory_order_relaxed);
	return UB_ADMIT_OK;
}

enum ub_admit ub_conns_admit(struct ub_conns *c, int fd, const struct sockaddr *peer)
{
	struct addr_key key;
	enum ub_admit r;

	addr_key_of(&key, peer);
	pthread_mutex_lock(&c->lock);
	r = admit_locked(c, fd, &key, now_ns());
	pthread_mutex_unlock(&c->lock);
	if (r == UB_ADMIT_FULL)
		metrics_inc(&c->metrics->ub_connections_refused_full);
	else if (r == UB_ADMIT_PER_IP)
		metrics_inc(&c->metrics->ub_connections_refused_per_ip);
	else if (r == UB_ADMIT_SHED)
		metrics_inc(&c->metrics->ub_shed);
	return r;
}

void ub_conns_set_admission_limit(struct ub_conns *c, unsigned limit)
{
	pthread_mutex_lock(&c->lock);
	c->admission_limit = limit;
	pthread_mutex_unlock(&c->lock);
}

void ub_conns_answered(struct ub_conns *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	if (fd >= 0 && (uint32_t)fd < c->n_conns && c->conns[fd].busy) {
		c->conns[fd].busy = 0;
		c->busy--;
	}
	pthread_mutex_unlock(&c->lock);
}

void ub_conns_started(struct ub_conns *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	if (fd >= 0 && (uint32_t)fd < c->n_conns && c->conns[fd].state == CONN_HANDED)
		c->conns[fd].state = CONN_STARTED;
	pthread_mutex_unlock(&c->lock);
}

enum ub_load ub_conns_touch(struct ub_conns *c, int fd)
{
	uint64_t now = now_ns();
	enum ub_load load;
	unsigned busy;

	pthread_mutex_lock(&c->lock);
	if (fd >= 0 && (uint32_t)fd < c->n_conns && c->conns[fd].state == CONN_STARTED) {
		c->fresh -= c->conns[fd].fresh;
		c->conns[fd].fresh = 0;
		c->busy += !c->conns[fd].busy;
		c->conns[fd].busy = 1;
		c->conns[fd].active_ns = now;
		if (c->tail != (uint32_t)fd) {
			list_unlink(c, (uint32_t)fd);
			list_append(c, (uint32_t)fd);
		}
	}
	busy = busy_now(c, now);
	if (!c->admission_limit)
		load = UB_LOAD_HIGH;
	else if (busy > c->admission_limit)
		load = UB_LOAD_OVER;
	else
		load = 2 * busy >= c->admission_limit ? UB_LOAD_HIGH : UB_LOAD_LOW;
	pthread_mutex_unlock(&c->lock);
	return load;
}

void ub_conns_closed(struct ub_conns *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	if (fd >= 0 && (uint32_t)fd < c->n_conns)
		drop(c, (uint32_t)fd);
	pthread_mutex_unlock(&c->lock);
}
