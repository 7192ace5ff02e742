/*
 * cache.c - libgba-naf's answer cache: a hash table of chains for the
 * look-up and a doubly linked list in order of use for the eviction.
 *
 * An entry keeps the key material and the IMPI inline and the USS list in
 * its own allocation (most USS lists are a few hundred octets, a fixed
 * 16 KiB slot per entry would waste megabytes).  Everything an entry held
 * is wiped before it is freed: a USS is not secret, but it names the user.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include "cache.h"

#define SEALED_MAX 72   /* RFC 5649 of 64 octets */

struct entry {
	struct entry *chain;            /* next in the bucket */
	struct entry *prev, *next;      /* use order: head is the most recent */
	uint32_t hash;
	char btid[GBA_BTID_MAX + 1];
	uint8_t naf_id[GBA_NAF_ID_MAX];
	size_t naf_id_len;
	uint8_t ks_naf[32], ks_int_naf[32];   /* zero when sealed */
	uint8_t sealed[SEALED_MAX];           /* with a guard: Ks_NAF || Ks_int_NAF wrapped */
	size_t sealed_len;
	int has_int_naf, gba_u, gba_type;
	char impi[GBA_NAF_IMPI_MAX + 1];
	int64_t expiry, created;
	char *uss;
	size_t uss_len;
};

struct naf_cache {
	pthread_mutex_t mtx;
	struct entry **buckets;
	size_t nbuckets;                /* a power of two */
	size_t capacity, count;
	struct entry *head, *tail;
	gba_naf_wrap_fn *wrap, *unwrap;   /* NULL: keys kept as they are */
	void *wrap_arg;
};

void naf_cache_set_guard(struct naf_cache *c, gba_naf_wrap_fn *wrap, gba_naf_wrap_fn *unwrap,
			 void *arg)
{
	c->wrap = wrap;
	c->unwrap = unwrap;
	c->wrap_arg = arg;
}

static uint32_t hash_of(const char *btid, const uint8_t *naf_id, size_t naf_id_len)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (const char *p = btid; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;   /* no '\xff' in a B-TID: separates the two parts */
	for (size_t i = 0; i < naf_id_len; i++)
		h = (h ^ naf_id[i]) * 16777619u;
	return h;
}

struct naf_cache *naf_cache_new(size_t capacity)
{
	struct naf_cache *c = calloc(1, sizeof(*c));
	size_t n = 16;

	if (!c)
		return NULL;
	while (n < capacity * 2 && n < ((size_t)1 << 30))
		n <<= 1;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (!c->buckets || pthread_mutex_init(&c->mtx, NULL)) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	c->nbuckets = n;
	c->capacity = capacity;
	return c;
}

static void entry_free(struct entry *e)
{
	if (e->uss) {
		gba_wipe(e->uss, e->uss_len);
		free(e->uss);
	}
	gba_wipe(e, sizeof(*e));
	free(e);
}

/* Out of its bucket and of the use list (c->mtx held). */
static void unlink_entry(struct naf_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->chain;
	if (*pp)
		*pp = e->chain;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->count--;
}

static void push_front(struct naf_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

void naf_cache_free(struct naf_cache *c)
{
	if (!c)
		return;
	while (c->head) {
		struct entry *e = c->head;
		unlink_entry(c, e);
		entry_free(e);
	}
	pthread_mutex_destroy(&c->mtx);
	free(c->buckets);
	free(c);
}

static struct entry *lookup(struct naf_cache *c, uint32_t h, const char *btid,
			    const uint8_t *naf_id, size_t naf_id_len)
{
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain)
		if (e->hash == h && e->naf_id_len == naf_id_len && !strcmp(e->btid, btid) &&
		    !memcmp(e->naf_id, naf_id, naf_id_len))
			return e;
	return NULL;
}

/* An entry's key material back from its wrapped form; -1: it does not unwrap. */
static int unseal(struct naf_cache *c, const uint8_t *sealed, size_t len,
		  struct gba_naf_key *out)
{
	uint8_t both[64];
	size_t got = 0;
	gba_err err = c->unwrap(c->wrap_arg, both, sizeof(both), &got, sealed, len);

	if (!err && got == sizeof(both)) {
		memcpy(out->ks_naf, both, 32);
		memcpy(out->ks_int_naf, both + 32, 32);
	}
	gba_wipe(both, sizeof(both));
	return !err && got == sizeof(both) ? 0 : -1;
}

static int seal(struct naf_cache *c, struct entry *e, const struct gba_naf_key *k)
{
	uint8_t both[64];
	gba_err err;

	memcpy(both, k->ks_naf, 32);
	memcpy(both + 32, k->ks_int_naf, 32);
	err = c->wrap(c->wrap_arg, e->sealed, sizeof(e->sealed), &e->sealed_len, both,
		      sizeof(both));
	gba_wipe(both, sizeof(both));
	return err ? -1 : 0;
}

static void to_key(const struct entry *e, struct gba_naf_key *out)
{
	memcpy(out->ks_naf, e->ks_naf, 32);
	memcpy(out->ks_int_naf, e->ks_int_naf, 32);
	out->has_int_naf = e->has_int_naf;
	out->gba_u = e->gba_u;
	out->gba_type = e->gba_type;
	memcpy(out->impi, e->impi, sizeof(out->impi));
	out->expiry = e->expiry;
	out->created = e->created;
	if (e->uss_len)
		memcpy(out->uss, e->uss, e->uss_len);
	out->uss[e->uss_len] = '\0';
	out->uss_len = e->uss_len;
	out->from_cache = 1;
}

int naf_cache_get(struct naf_cache *c, const char *btid, const uint8_t *naf_id,
		  size_t naf_id_len, int64_t now, struct gba_naf_key *out)
{
	uint32_t h = hash_of(btid, naf_id, naf_id_len);
	uint8_t sealed[SEALED_MAX];
	size_t sealed_len = 0;
	struct entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->mtx);
	e = lookup(c, h, btid, naf_id, naf_id_len);
	if (e && e->expiry <= now) {
		/* Key-ExpiryTime passed: the BSF would say 5403 now. */
		unlink_entry(c, e);
		entry_free(e);
	} else if (e) {
		to_key(e, out);
		sealed_len = e->sealed_len;
		memcpy(sealed, e->sealed, sealed_len);
		/* Most recently used to the front. */
		if (c->head != e) {
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				c->tail = e->prev;
			push_front(c, e);
		}
		hit = 1;
	}
	pthread_mutex_unlock(&c->mtx);
	/* The token call happens outside the lock: other look-ups go on. */
	if (hit && sealed_len && unseal(c, sealed, sealed_len, out)) {
		gba_naf_key_wipe(out);
		hit = 0;
	}
	return hit;
}

static struct entry *entry_new(struct naf_cache *c, uint32_t h, const char *btid,
			       const uint8_t *naf_id, size_t naf_id_len, const struct gba_naf_key *k)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (c->wrap && seal(c, e, k)) {
		free(e);
		return NULL;   /* not cached: the next fetch asks the BSF again */
	}
	if (k->uss_len) {
		e->uss = malloc(k->uss_len);
		if (!e->uss) {
			free(e);
			return NULL;
		}
		memcpy(e->uss, k->uss, k->uss_len);
		e->uss_len = k->uss_len;
	}
	e->hash = h;
	strncpy(e->btid, btid, sizeof(e->btid) - 1);
	memcpy(e->naf_id, naf_id, naf_id_len);
	e->naf_id_len = naf_id_len;
	if (!c->wrap) {
		memcpy(e->ks_naf, k->ks_naf, 32);
		memcpy(e->ks_int_naf, k->ks_int_naf, 32);
	}
	e->has_int_naf = k->has_int_naf;
	e->gba_u = k->gba_u;
	e->gba_type = k->gba_type;
	memcpy(e->impi, k->impi, sizeof(e->impi));
	e->expiry = k->expiry;
	e->created = k->created;
	return e;
}

void naf_cache_put(struct naf_cache *c, const char *btid, const uint8_t *naf_id,
		   size_t naf_id_len, const struct gba_naf_key *k)
{
	uint32_t h = hash_of(btid, naf_id, naf_id_len);
	struct entry *e, *old;

	if (!c->capacity || strlen(btid) > GBA_BTID_MAX || naf_id_len > GBA_NAF_ID_MAX)
		return;
	e = entry_new(c, h, btid, naf_id, naf_id_len, k);
	if (!e)
		return;   /* not cached: only the next fetch pays */
	pthread_mutex_lock(&c->mtx);
	old = lookup(c, h, btid, naf_id, naf_id_len);
	if (old) {
		unlink_entry(c, old);
		entry_free(old);
	}
	while (c->count >= c->capacity && c->tail) {
		struct entry *lru = c->tail;
		unlink_entry(c, lru);
		entry_free(lru);
	}
	e->chain = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	push_front(c, e);
	c->count++;
	pthread_mutex_unlock(&c->mtx);
}

void naf_cache_forget(struct naf_cache *c, const char *btid, const char *impi)
{
	struct entry *e, *next;

	pthread_mutex_lock(&c->mtx);
	for (e = c->head; e; e = next) {
		next = e->next;
		if ((btid && !strcmp(e->btid, btid)) || (impi && !strcmp(e->impi, impi))) {
			unlink_entry(c, e);
			entry_free(e);
		}
	}
	pthread_mutex_unlock(&c->mtx);
}

size_t naf_cache_count(struct naf_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->mtx);
	n = c->count;
	pthread_mutex_unlock(&c->mtx);
	return n;
}
