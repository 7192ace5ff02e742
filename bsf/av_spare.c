/*
 * av_spare.c - spare vectors per user (av_spare.h): a set-associative
 * table, 4096 sets of 4 ways (about 11 MB of address space, touched as
 * users get spares), under one lock; a full set evicts the entry closest
 * to expiry.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/util.h>

#include "av_spare.h"

#define SPARE_SETS 4096     /* 4096 x 4 users with spares at once */
#define SPARE_WAYS 4

struct spare {
	char key[AV_SPARE_KEY_MAX + 1];
	struct gba_av av[AV_SPARE_MAX];
	size_t next, n;         /* av[next..n) are unused */
	time_t expires;         /* CLOCK_MONOTONIC seconds */
	uint64_t order;         /* the answer they came in */
};

struct av_spare {
	unsigned ttl;
	pthread_mutex_t lock;   /* guards spare[] */
	struct spare spare[SPARE_SETS][SPARE_WAYS];
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct av_spare *av_spare_new(unsigned ttl)
{
	struct av_spare *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	s->ttl = ttl;
	return s;
}

static void spare_clear(struct spare *e)
{
	gba_wipe(e, sizeof(*e));
}

void av_spare_free(struct av_spare *s)
{
	if (!s)
		return;
	/* Only entries in use hold vectors; the rest were wiped when dropped. */
	for (size_t i = 0; i < SPARE_SETS; i++)
		for (size_t w = 0; w < SPARE_WAYS; w++)
			if (s->spare[i][w].n)
				spare_clear(&s->spare[i][w]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct spare *set_of(struct av_spare *s, const char *key)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return s->spare[h % SPARE_SETS];
}

/* key's entry in its set, or NULL.  Lock held. */
static struct spare *spare_find(struct av_spare *s, const char *key)
{
	struct spare *set = set_of(s, key);

	for (unsigned i = 0; i < SPARE_WAYS; i++)
		if (set[i].n && !strcmp(set[i].key, key))
			return &set[i];
	return NULL;
}

int av_spare_take(struct av_spare *s, const char *key, struct gba_av *av)
{
	struct spare *e;
	int found = 0;

	if (!s->ttl)
		return -1;
	pthread_mutex_lock(&s->lock);
	e = spare_find(s, key);
	if (e) {
		if (e->expires > mono_now()) {
			/* Handed out once: no copy stays behind. */
			*av = e->av[e->next];
			gba_wipe(&e->av[e->next++], sizeof(*av));
			found = 1;
		}
		if (!found || e->next == e->n)
			spare_clear(e);
	}
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
		spare_clear(e);
	pthread_mutex_unlock(&s->lock);
}

/* Where key's new spares go: its old entry, a free way, or the oldest.  Lock held. */
static struct spare *spare_slot(struct av_spare *s, const char *key)
{
	struct spare *set = set_of(s, key), *e = spare_find(s, key);
	struct spare *oldest = &set[0];

	for (unsigned i = 0; !e && i < SPARE_WAYS; i++) {
		if (!set[i].n)
			e = &set[i];
		else if (set[i].expires < oldest->expires)
			oldest = &set[i];
	}
	return e ? e : oldest;
}

/*
 * Two requests for one user at once: older SQNs handed out after newer
 * ones would only make the card resync, so a later answer's spares stay.
 */
void av_spare_keep(struct av_spare *s, const char *key, const struct gba_av *av, size_t n,
		   uint64_t order)
{
	struct spare *e;

	if (!s->ttl || !n || n > AV_SPARE_MAX || strlen(key) > AV_SPARE_KEY_MAX)
		return;
	pthread_mutex_lock(&s->lock);
	e = spare_slot(s, key);
	if (e->n && !strcmp(e->key, key) && e->order > order) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	spare_clear(e);
	e->order = order;
	snprintf(e->key, sizeof(e->key), "%s", key);
	memcpy(e->av, av, n * sizeof(*av));
	e->next = 0;
	e->n = n;
	e->expires = mono_now() + (time_t)s->ttl;
	pthread_mutex_unlock(&s->lock);
}
