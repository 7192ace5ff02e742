/*
 * auc_cache.c - a bounded, set-associative table of reserved SQN blocks;
 * see auc_cache.h.  Entries are allocated on first use of a way.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/util.h>

#include "auc_cache.h"

struct auc_cache {
	struct auc_entry *way[AUC_CACHE_SETS][AUC_CACHE_WAYS];
};

int64_t auc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* FNV-1a: the IMPI picks its set. */
static struct auc_entry **set_of(struct auc_cache *c, const char *impi)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)impi; *p; p++)
		h = (h ^ *p) * 16777619u;
	return c->way[h % AUC_CACHE_SETS];
}

/* impi's entry in its set, live or not, or NULL. */
static struct auc_entry *lookup(struct auc_cache *c, const char *impi)
{
	struct auc_entry **set = set_of(c, impi);

	for (unsigned i = 0; i < AUC_CACHE_WAYS; i++)
		if (set[i] && set[i]->impi[0] && !strcmp(set[i]->impi, impi))
			return set[i];
	return NULL;
}

struct auc_cache *auc_cache_new(void)
{
	return calloc(1, sizeof(struct auc_cache));
}

void auc_entry_clear(struct auc_entry *e)
{
	if (e->guss) {
		gba_wipe(e->guss, e->guss_len);
		free(e->guss);
	}
	gba_wipe(e, sizeof(*e));
}

void auc_cache_free(struct auc_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < AUC_CACHE_SETS; i++) {
		for (unsigned j = 0; j < AUC_CACHE_WAYS; j++) {
			if (c->way[i][j]) {
				auc_entry_clear(c->way[i][j]);
				free(c->way[i][j]);
			}
		}
	}
	free(c);
}

struct auc_entry *auc_cache_find(struct auc_cache *c, const char *impi, unsigned ind)
{
	struct auc_entry *e = lookup(c, impi);

	if (!e)
		return NULL;
	if (e->ind != ind || e->next_sqn > e->last_sqn || auc_now() >= e->expires)
		return NULL;
	return e;
}

/*
 * The way for impi: its own entry, else an unused or expired one, else the
 * one that expires first.
 */
struct auc_entry *auc_cache_slot(struct auc_cache *c, const char *impi)
{
	struct auc_entry **set = set_of(c, impi), **pick = NULL;
	int64_t now = auc_now();
	unsigned i;

	for (i = 0; i < AUC_CACHE_WAYS && !pick; i++)
		if (set[i] && set[i]->impi[0] && !strcmp(set[i]->impi, impi))
			pick = &set[i];
	for (i = 0; i < AUC_CACHE_WAYS && !pick; i++)
		if (!set[i] || !set[i]->impi[0] || set[i]->expires <= now)
			pick = &set[i];
	if (!pick) {
		pick = &set[0];
		for (i = 1; i < AUC_CACHE_WAYS; i++)
			if (set[i]->expires < (*pick)->expires)
				pick = &set[i];
	}
	if (!*pick)
		*pick = calloc(1, sizeof(**pick));
	else
		auc_entry_clear(*pick);
	return *pick;
}

void auc_cache_drop(struct auc_cache *c, const char *impi)
{
	struct auc_entry *e = lookup(c, impi);

	if (e)
		auc_entry_clear(e);
}
