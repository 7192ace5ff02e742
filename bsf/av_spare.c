/*
 * av_spare.c - spare vectors per user (av_spare.h): a hash table of a
 * fixed number of user entries, sized by av.spare_users, under one lock.
 *
 * Why this shape: the former table (4096 sets of 4 ways) dropped a user's
 * spares whenever five users fell in one set, so 10,000 users held only
 * 94 % of theirs and a fleet drew 1.4 vectors per bootstrap from the HSS
 * (bench/spare_bench.c).  Here any `users` users fit whatever their keys
 * hash to: the entries come from one pool, the buckets only point at them.
 * Past that many, the entry whose spares are closest to expiry goes: the
 * ttl is the same for all, so that is the oldest answer's, the head of the
 * age list.  Expired entries are wiped from the head a few at a time, so
 * vectors do not linger in memory after their ttl.
 *
 * Memory: one anonymous mapping, buckets then entries, both zero when
 * fresh (0 is "none" in every link, which holds an index + 1); pages the
 * fleet never reaches cost no RSS.  Entries are taken from a free list
 * before new ones, so the touched part stays that of the most users that
 * had spares at once.
 *
 * One lock: a call holds it for a hash, a few compares and a 400-octet
 * copy, well under a microsecond against the 75 us of CPU of a Cx bootstrap;
 * at 10,000 bootstraps/s that is under 2.5 % of a core (spare_bench), so
 * striping it would buy nothing measurable.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <gba/util.h>

#include "av_spare.h"

#define PURGE_PER_CALL 8    /* expired entries wiped per call at most */
#define SPARE_ALIGN 64      /* where the entries start in the mapping: a cache line */

struct spare {
	char key[AV_SPARE_KEY_MAX + 1];
	struct gba_av av[AV_SPARE_MAX];
	uint64_t order;         /* the answer they came in */
	time_t expires;         /* CLOCK_MONOTONIC seconds */
	uint32_t chain;         /* next in the bucket, or in the free list */
	uint32_t older, newer;  /* the age list */
	uint8_t next, n;        /* av[next..n) are unused; n 0: free */
};

_Static_assert(_Alignof(struct spare) <= SPARE_ALIGN, "entries aligned in the mapping");

struct av_spare {
	unsigned ttl;
	uint32_t users;         /* entries */
	uint32_t mask;          /* buckets - 1 */
	pthread_mutex_t lock;   /* guards all below and the mapping */
	uint32_t *bucket;       /* first entry of each chain */
	struct spare *e;        /* the pool: [0, used) touched */
	size_t map_size;
	uint32_t used, free_list, oldest, newest, live;
	uint64_t held;          /* spares in the live entries */
	struct av_spare_stats stats;
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

size_t av_spare_bytes_per_user(void)
{
	return sizeof(struct spare);
}

/* Links hold an index + 1, so that zeroed memory is all "none". */
static struct spare *at(struct av_spare *s, uint32_t link)
{
	return link ? &s->e[link - 1] : NULL;
}

static uint32_t link_of(struct av_spare *s, const struct spare *e)
{
	return (uint32_t)(e - s->e) + 1;
}

/* The power of two at least users (a chain is then one entry on average). */
static uint32_t buckets_for(uint32_t users)
{
	uint32_t b = 1;

	while (b < users)
		b <<= 1;
	return b;
}

struct av_spare *av_spare_new(unsigned ttl, size_t users)
{
	struct av_spare *s;
	size_t buckets, index_size;

	if (!users)
		users = AV_SPARE_USERS_DEFAULT;
	if (users > AV_SPARE_USERS_MAX || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->ttl = ttl;
	s->users = (uint32_t)users;
	buckets = buckets_for(s->users);
	s->mask = (uint32_t)buckets - 1;
	/* Buckets first, rounded up so that the entries after them are aligned. */
	index_size = (buckets * sizeof(uint32_t) + SPARE_ALIGN - 1) & ~(size_t)(SPARE_ALIGN - 1);
	s->map_size = index_size + users * sizeof(struct spare);
	s->bucket = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->bucket == MAP_FAILED) {
		free(s);
		return NULL;
	}
	s->e = (struct spare *)((char *)s->bucket + index_size);
	if (pthread_mutex_init(&s->lock, NULL)) {
		munmap(s->bucket, s->map_size);
		free(s);
		return NULL;
	}
	return s;
}

void av_spare_free(struct av_spare *s)
{
	if (!s)
		return;
	/* Free entries were wiped when dropped; the rest may hold vectors. */
	gba_wipe(s->e, (size_t)s->used * sizeof(struct spare));
	pthread_mutex_destroy(&s->lock);
	munmap(s->bucket, s->map_size);
	free(s);
}

void av_spare_stats(struct av_spare *s, struct av_spare_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	out->users = s->live;
	out->vectors = s->held;
	pthread_mutex_unlock(&s->lock);
}

static uint32_t *bucket_of(struct av_spare *s, const char *key)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &s->bucket[h & s->mask];
}

/* key's entry, or NULL.  Lock held. */
static struct spare *spare_find(struct av_spare *s, const char *key)
{
	for (struct spare *e = at(s, *bucket_of(s, key)); e; e = at(s, e->chain))
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

/*
 * Out of key's chain and the age list, wiped, onto the free list; its
 * unused spares are counted in *lost.  Lock held.
 */
static void spare_drop(struct av_spare *s, struct spare *e, uint64_t *lost)
{
	uint32_t me = link_of(s, e), *p = bucket_of(s, e->key);
	struct spare *older = at(s, e->older), *newer = at(s, e->newer);

	while (*p != me)
		p = &at(s, *p)->chain;
	*p = e->chain;
	if (older)
		older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (newer)
		newer->older = e->older;
	else
		s->newest = e->older;
	s->live--;
	s->held -= (uint64_t)(e->n - e->next);
	*lost += (uint64_t)(e->n - e->next);
	gba_wipe(e, sizeof(*e));
	e->chain = s->free_list;
	s->free_list = me;
}

/* Spares past their ttl, oldest first, a few per call.  Lock held. */
static void purge_expired(struct av_spare *s, time_t now)
{
	struct spare *e;

	for (unsigned i = 0; i < PURGE_PER_CALL && (e = at(s, s->oldest)) && e->expires <= now;
	     i++)
		spare_drop(s, e, &s->stats.expired);
}

int av_spare_take(struct av_spare *s, const char *key, struct gba_av *av)
{
	struct spare *e;
	time_t now;
	int found = 0;

	if (!s->ttl)
		return -1;
	now = mono_now();
	pthread_mutex_lock(&s->lock);
	purge_expired(s, now);
	e = spare_find(s, key);
	if (e && e->expires > now) {
		/* Handed out once: no copy stays behind. */
		*av = e->av[e->next];
		gba_wipe(&e->av[e->next++], sizeof(*av));
		s->held--;
		found = 1;
	}
	/* Expired, or used up (then there is nothing left to count). */
	if (e && (!found || e->next == e->n))
		spare_drop(s, e, &s->stats.expired);
	pthread_mutex_unlock(&s->lock);
	return found ? 0 : -1;
}

void av_spare_drop(struct av_spare *s, const char *key)
{
	struct spare *e;

	if (!s->ttl)
		return;
	pthread_mutex_lock(&s->lock);
	e = spare_find(s, key);
	if (e)
		spare_drop(s, e, &s->stats.resync);
	pthread_mutex_unlock(&s->lock);
}

/* A free entry: from the free list, never touched yet, or the oldest's.  Lock held. */
static struct spare *spare_alloc(struct av_spare *s)
{
	struct spare *e;

	if (!s->free_list) {
		if (s->used < s->users)
			return &s->e[s->used++];
		/* Full: the oldest answer's spares make room (spare_drop frees its entry). */
		spare_drop(s, at(s, s->oldest), &s->stats.evicted);
	}
	e = at(s, s->free_list);
	s->free_list = e->chain;
	e->chain = 0;
	return e;
}

/* e, new or refilled, at the young end of the age list.  Lock held. */
static void age_append(struct av_spare *s, struct spare *e)
{
	uint32_t me = link_of(s, e);

	e->older = s->newest;
	e->newer = 0;
	if (s->newest)
		at(s, s->newest)->newer = me;
	else
		s->oldest = me;
	s->newest = me;
}

/*
 * Two requests for one user at once: older SQNs handed out after newer
 * ones would only make the card resync, so a later answer's spares stay.
 */
void av_spare_keep(struct av_spare *s, const char *key, const struct gba_av *av, size_t n,
		   uint64_t order)
{
	struct spare *e;
	time_t now;

	if (!s->ttl || !n || n > AV_SPARE_MAX || strlen(key) > AV_SPARE_KEY_MAX)
		return;
	now = mono_now();
	pthread_mutex_lock(&s->lock);
	purge_expired(s, now);
	e = spare_find(s, key);
	if (e && e->order > order) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (e)   /* its unused spares are older SQNs: the card skips them */
		spare_drop(s, e, &s->stats.replaced);
	e = spare_alloc(s);
	snprintf(e->key, sizeof(e->key), "%s", key);
	memcpy(e->av, av, n * sizeof(*av));
	e->order = order;
	e->next = 0;
	e->n = (uint8_t)n;
	e->expires = now + (time_t)s->ttl;
	e->chain = *bucket_of(s, key);
	*bucket_of(s, key) = link_of(s, e);
	age_append(s, e);
	s->live++;
	s->held += n;
	pthread_mutex_unlock(&s->lock);
}
