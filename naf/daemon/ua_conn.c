/*
 * ua_conn.c - the connection table of one Ua port (ua_conn.h): a fixed
 * pool of entries, a list of all open connections oldest first, and one
 * list per client address in a hash table.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "psk_binder.h"
#include "ua_conn.h"

/* Handed to the HTTP server but not started after this long: it dropped it. */
#define PENDING_MS 60000

enum conn_state { ST_HANDSHAKE, ST_HEADER, ST_BUSY, ST_IDLE };

struct ua_addr {
	uint8_t key[16];                 /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	struct ua_addr *next;            /* hash chain, or the free list */
	struct ua_conn *head, *tail;     /* its open connections, oldest first */
	unsigned n;
};

struct ua_conn {
	struct ua_conn *prev, *next;     /* all open connections, or the free list */
	struct ua_conn *aprev, *anext;   /* its address's */
	struct ua_addr *addr;            /* NULL once shut down */
	struct ua_conns *owner;
	int64_t since, deadline;         /* monotonic ms */
	int fd;
	unsigned char state, started, done;
	unsigned char suite[2], has_suite;   /* the TLS suite of its ServerHello */
	/* Its ClientHello's PSK binder and the hash it covers; hellos: how many came. */
	unsigned char hello_hash[32], hello_binder[32], has_binder, hellos;
};

struct ua_conns {
	pthread_mutex_t lock;
	struct ua_conn_limits lim;
	unsigned cap, nbucket, open;
	uint64_t seed;
	struct ua_conn *pool, *free_conn, *head, *tail;
	struct ua_addr *addrs, *free_addr, **bucket;
	unsigned long long accepted, evicted, timed_out, refused;
};

int ua_conns_new(struct ua_conns **out, const struct ua_conn_limits *lim)
{
	struct ua_conns *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->lim = *lim;
	/* Room for connections shut down that the HTTP server has not closed yet. */
	t->cap = lim->max_total + lim->max_total / 4 + 16;
	for (t->nbucket = 64; t->nbucket < t->cap; t->nbucket *= 2)
		;
	t->pool = calloc(t->cap, sizeof(*t->pool));
	t->addrs = calloc(t->cap, sizeof(*t->addrs));
	t->bucket = calloc(t->nbucket, sizeof(*t->bucket));
	if (!t->pool || !t->addrs || !t->bucket || pthread_mutex_init(&t->lock, NULL)) {
		free(t->pool);
		free(t->addrs);
		free(t->bucket);
		free(t);
		return -1;
	}
	/* A secret seed: a client cannot pick addresses that share a chain. */
	gnutls_rnd(GNUTLS_RND_NONCE, &t->seed, sizeof(t->seed));
	for (unsigned i = t->cap; i-- > 0;) {
		t->pool[i].next = t->free_conn;
		t->free_conn = &t->pool[i];
		t->addrs[i].next = t->free_addr;
		t->free_addr = &t->addrs[i];
	}
	*out = t;
	return 0;
}

void ua_conns_free(struct ua_conns *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->pool);
	free(t->addrs);
	free(t->bucket);
	free(t);
}

/* ---- Addresses ------------------------------------------------------------ */

static void addr_key(const struct sockaddr *peer, socklen_t len, uint8_t key[16])
{
	memset(key, 0, 16);
	if (peer->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		memcpy(key, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	} else if (peer->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	}
}

static struct ua_addr **addr_slot(struct ua_conns *t, const uint8_t key[16])
{
	uint64_t h = t->seed, w;
	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	struct ua_addr **p = &t->bucket[h & (t->nbucket - 1)];
	while (*p && memcmp((*p)->key, key, 16))
		p = &(*p)->next;
	return p;
}

/* The record of key, made when new (the pool has one per connection). */
static struct ua_addr *addr_get(struct ua_conns *t, const uint8_t key[16])
{
	struct ua_addr **p = addr_slot(t, key);
	if (*p)
		return *p;
	struct ua_addr *a = t->free_addr;
	t->free_addr = a->next;
	memset(a, 0, sizeof(*a));
	memcpy(a->key, key, 16);
	*p = a;
	return a;
}

/* ---- Lists ---------------------------------------------------------------- */

static void link_conn(struct ua_conns *t, struct ua_conn *c, struct ua_addr *a)
{
	c->prev = t->tail;
	c->next = NULL;
	*(t->tail ? &t->tail->next : &t->head) = c;
	t->tail = c;
	c->addr = a;
	c->aprev = a->tail;
	c->anext = NULL;
	*(a->tail ? &a->tail->anext : &a->head) = c;
	a->tail = c;
	a->n++;
	t->open++;
}

/* Out of both lists (shut down, closed or forgotten); frees an empty address. */
static void unlink_conn(struct ua_conns *t, struct ua_conn *c)
{
	struct ua_addr *a = c->addr;
	if (!a)
		return;
	*(c->prev ? &c->prev->next : &t->head) = c->next;
	*(c->next ? &c->next->prev : &t->tail) = c->prev;
	*(c->aprev ? &c->aprev->anext : &a->head) = c->anext;
	*(c->anext ? &c->anext->aprev : &a->tail) = c->aprev;
	c->addr = NULL;
	t->open--;
	if (--a->n == 0) {
		struct ua_addr **p = addr_slot(t, a->key);
		*p = a->next;
		a->next = t->free_addr;
		t->free_addr = a;
	}
}

static void release(struct ua_conns *t, struct ua_conn *c)
{
	unlink_conn(t, c);
	c->next = t->free_conn;
	t->free_conn = c;
}

/* ---- Eviction and deadlines ---------------------------------------------- */

static int waiting(const struct ua_conn *c, int never_done)
{
	return c->started && c->state != ST_BUSY && (!never_done || !c->done);
}

/*
 * The oldest waiting connection in a list (the address's when by_addr):
 * first one that never finished a request, else one idle between requests.
 */
static struct ua_conn *victim(struct ua_conn *head, int by_addr)
{
	for (int never_done = 1; never_done >= 0; never_done--)
		for (struct ua_conn *c = head; c; c = by_addr ? c->anext : c->next)
			if (waiting(c, never_done))
				return c;
	return NULL;
}

/* The HTTP server sees the end of the stream and closes the socket itself. */
static void shut(struct ua_conns *t, struct ua_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	unlink_conn(t, c);
}

static int evict_from(struct ua_conns *t, struct ua_conn *head, int by_addr)
{
	struct ua_conn *v = victim(head, by_addr);
	if (!v)
		return 0;
	shut(t, v);
	t->evicted++;
	return 1;
}

struct ua_conn *ua_conns_admit(struct ua_conns *t, int fd, const struct sockaddr *peer,
			       socklen_t peer_len, int64_t now_ms)
{
	uint8_t key[16];
	struct ua_conn *c = NULL;
	addr_key(peer, peer_len, key);
	pthread_mutex_lock(&t->lock);
	struct ua_addr *a = *addr_slot(t, key);
	/* An address over its limit makes room among its own connections only. */
	if (a && t->lim.max_per_addr && a->n >= t->lim.max_per_addr &&
	    !evict_from(t, a->head, 1))
		goto out;
	if (t->open >= t->lim.max_total && !evict_from(t, t->head, 0))
		goto out;
	if (!t->free_conn)
		goto out;
	c = t->free_conn;
	t->free_conn = c->next;
	memset(c, 0, sizeof(*c));
	c->owner = t;
	c->fd = fd;
	c->since = now_ms;
	c->state = t->lim.tls ? ST_HANDSHAKE : ST_HEADER;
	c->deadline = now_ms + (t->lim.tls ? t->lim.handshake_ms : t->lim.header_ms);
	link_conn(t, c, addr_get(t, key));
	t->accepted++;
out:
	if (!c)
		t->refused++;
	pthread_mutex_unlock(&t->lock);
	return c;
}

int ua_conns_has_room(struct ua_conns *t)
{
	pthread_mutex_lock(&t->lock);
	int room = t->free_conn && (t->open < t->lim.max_total || victim(t->head, 0));
	pthread_mutex_unlock(&t->lock);
	return room;
}

void ua_conns_forget(struct ua_conns *t, struct ua_conn *c)
{
	pthread_mutex_lock(&t->lock);
	release(t, c);
	pthread_mutex_unlock(&t->lock);
}

struct ua_conn *ua_conns_started(struct ua_conns *t, int fd)
{
	struct ua_conn *c;
	pthread_mutex_lock(&t->lock);
	/* Started soon after admission: look from the newest. */
	for (c = t->tail; c && (c->started || c->fd != fd); c = c->prev)
		;
	if (c) {
		c->started = 1;
		c->has_suite = 0;
		c->has_binder = 0;
		c->hellos = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return c;
}

/* Written and read by the connection's own thread (its handshake). */
void ua_conn_set_suite(struct ua_conn *c, const unsigned char suite[2])
{
	c->suite[0] = suite[0];
	c->suite[1] = suite[1];
	c->has_suite = 1;
}

void ua_conn_set_hello(struct ua_conn *c, const unsigned char *msg, size_t len)
{
	if (c->hellos < 2)
		c->hellos++;
	c->has_binder = !psk_binder_from_hello(msg, len, c->hello_hash, c->hello_binder);
}

int ua_conn_binder_ok(const struct ua_conn *c, const unsigned char *psk, size_t len)
{
	/* After a HelloRetryRequest the binder covers more than this ClientHello. */
	if (!c || !c->has_binder || c->hellos != 1)
		return -1;
	return psk_binder_verify(psk, len, c->hello_hash, c->hello_binder);
}

int ua_conn_suite(const struct ua_conn *c, unsigned char suite[2])
{
	if (!c || !c->has_suite)
		return -1;
	suite[0] = c->suite[0];
	suite[1] = c->suite[1];
	return 0;
}

/* A state change of a connection still open (not shut down by us meanwhile). */
static void set_state(struct ua_conn *c, int state, int64_t deadline)
{
	struct ua_conns *t = c->owner;
	pthread_mutex_lock(&t->lock);
	if (c->addr) {
		if (state == ST_IDLE)
			c->done = 1;
		if (state != ST_HEADER || c->state == ST_HANDSHAKE) {
			c->state = (unsigned char)state;
			c->deadline = deadline;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void ua_conns_secured(struct ua_conn *c, int64_t now_ms)
{
	set_state(c, ST_HEADER, now_ms + c->owner->lim.header_ms);
}

void ua_conns_busy(struct ua_conn *c)
{
	set_state(c, ST_BUSY, 0);
}

void ua_conns_idle(struct ua_conn *c, int64_t now_ms)
{
	set_state(c, ST_IDLE, now_ms + c->owner->lim.header_ms);
}

void ua_conns_closed(struct ua_conn *c)
{
	ua_conns_forget(c->owner, c);
}

unsigned ua_conns_sweep(struct ua_conns *t, int64_t now_ms)
{
	unsigned n = 0;
	pthread_mutex_lock(&t->lock);
	for (struct ua_conn *c = t->head, *next; c; c = next) {
		next = c->next;
		if (waiting(c, 0) && c->deadline <= now_ms) {
			shut(t, c);
			t->timed_out++;
			n++;
		} else if (!c->started && now_ms - c->since > PENDING_MS) {
			release(t, c);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

int ua_conns_evict_one(struct ua_conns *t)
{
	pthread_mutex_lock(&t->lock);
	int n = evict_from(t, t->head, 0);
	pthread_mutex_unlock(&t->lock);
	return n;
}

void ua_conns_stats(struct ua_conns *t, struct ua_conn_stats *out)
{
	pthread_mutex_lock(&t->lock);
	out->open = t->open;
	out->accepted = t->accepted;
	out->evicted = t->evicted;
	out->timed_out = t->timed_out;
	out->refused = t->refused;
	pthread_mutex_unlock(&t->lock);
}
