/*
 * challenge.c - the pending-challenge table, see challenge.h.
 *
 * Each shard owns a contiguous run of slots, a free list and an age list
 * (doubly linked, oldest first), both threaded through the entries by
 * shard-local index.  Nothing is allocated after creation.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gba/session_store.h>
#include <gba/util.h>

#include "challenge.h"

#define NIL UINT32_MAX

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RESERVED,
	SLOT_LIVE,
};

struct entry {
	struct challenge c;
	uint32_t next, prev;       /* free list: next only; age list: both */
	uint8_t state;
	uint16_t impi_len;
	char impi[GBA_IMPI_MAX + 1];
};

/* Aligned to a cache line: two shards' locks never share one. */
struct shard {
	pthread_mutex_t lock;
	struct entry *e;
	uint32_t free_head;        /* slots used before and given back */
	uint32_t fresh;            /* slots from here on were never used */
	uint32_t age_head, age_tail;
	uint32_t live;
} __attribute__((aligned(64)));

struct challenge_table {
	struct shard *shards;
	struct entry *entries;
	uint32_t n_shards;         /* a power of two */
	uint32_t per_shard;
	atomic_uint next_shard;    /* where the next reservation starts looking */
};

void challenge_clear(struct challenge *c)
{
	free(c->guss);
	gba_wipe(c, sizeof(*c));
}

/*
 * Slots are handed out from the never-used end before the free list is
 * built, so pages of slots never needed are never touched: the table's
 * memory follows its peak use, not max_pending.
 */
static void shard_init(struct shard *s, struct entry *e)
{
	pthread_mutex_init(&s->lock, NULL);
	s->e = e;
	s->free_head = NIL;
	s->fresh = 0;
	s->age_head = s->age_tail = NIL;
	s->live = 0;
}

gba_err challenge_table_create(struct challenge_table **out, uint32_t capacity,
			       unsigned n_shards)
{
	struct challenge_table *t;
	uint32_t shards = 1;

	if (!out || capacity == 0 || n_shards == 0)
		return GBA_ERR_INVALID_ARG;
	while (shards < n_shards && shards < (1u << 16))
		shards <<= 1;
	while (shards > 1 && shards > capacity)
		shards >>= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return GBA_ERR_NO_MEMORY;
	t->n_shards = shards;
	t->per_shard = (capacity + shards - 1) / shards;
	/* calloc: pages of slots never used are never touched. */
	t->entries = calloc((size_t)shards * t->per_shard, sizeof(struct entry));
	t->shards = aligned_alloc(64, shards * sizeof(struct shard));
	if (!t->entries || !t->shards) {
		free(t->entries);
		free(t->shards);
		free(t);
		return GBA_ERR_NO_MEMORY;
	}
	for (uint32_t i = 0; i < shards; i++)
		shard_init(&t->shards[i], t->entries + (size_t)i * t->per_shard);
	atomic_init(&t->next_shard, 0);
	*out = t;
	return GBA_OK;
}

void challenge_table_destroy(struct challenge_table *t)
{
	size_t n;

	if (!t)
		return;
	n = (size_t)t->n_shards * t->per_shard;
	for (size_t i = 0; i < n; i++)
		if (t->entries[i].state == SLOT_LIVE)
			challenge_clear(&t->entries[i].c);
	for (uint32_t i = 0; i < t->n_shards; i++)
		pthread_mutex_destroy(&t->shards[i].lock);
	gba_wipe(t->entries, n * sizeof(struct entry));
	free(t->entries);
	free(t->shards);
	free(t);
}

uint32_t challenge_table_capacity(const struct challenge_table *t)
{
	return t->n_shards * t->per_shard;
}

/* ---- Lists (shard lock held) -------------------------------------------------- */

/* A free slot of the shard, or NIL. */
static uint32_t free_pop(struct shard *s, uint32_t per_shard)
{
	uint32_t i = s->free_head;

	if (i != NIL)
		s->free_head = s->e[i].next;
	else if (s->fresh < per_shard)
		i = s->fresh++;
	return i;
}

static void free_push(struct shard *s, uint32_t i)
{
	s->e[i].state = SLOT_FREE;
	s->e[i].next = s->free_head;
	s->free_head = i;
}

static void age_append(struct shard *s, uint32_t i)
{
	struct entry *e = &s->e[i];

	e->prev = s->age_tail;
	e->next = NIL;
	if (s->age_tail != NIL)
		s->e[s->age_tail].next = i;
	else
		s->age_head = i;
	s->age_tail = i;
}

static void age_unlink(struct shard *s, uint32_t i)
{
	struct entry *e = &s->e[i];

	if (e->prev != NIL)
		s->e[e->prev].next = e->next;
	else
		s->age_head = e->next;
	if (e->next != NIL)
		s->e[e->next].prev = e->prev;
	else
		s->age_tail = e->prev;
}

/* Unlink a live entry and give its slot back; the caller has its contents. */
static void remove_live(struct shard *s, uint32_t i)
{
	age_unlink(s, i);
	s->live--;
	free_push(s, i);
}

/* ---- Operations ---------------------------------------------------------------- */

static struct shard *shard_of(struct challenge_table *t, uint32_t slot, uint32_t *local)
{
	*local = slot % t->per_shard;
	return &t->shards[slot / t->per_shard];
}

gba_err challenge_reserve(struct challenge_table *t, uint32_t *slot)
{
	unsigned start = atomic_fetch_add_explicit(&t->next_shard, 1, memory_order_relaxed);

	for (uint32_t k = 0; k < t->n_shards; k++) {
		uint32_t si = (start + k) & (t->n_shards - 1);
		struct shard *s = &t->shards[si];
		uint32_t i;

		pthread_mutex_lock(&s->lock);
		i = free_pop(s, t->per_shard);
		if (i != NIL)
			s->e[i].state = SLOT_RESERVED;
		pthread_mutex_unlock(&s->lock);
		if (i != NIL) {
			*slot = si * t->per_shard + i;
			return GBA_OK;
		}
	}
	return GBA_ERR_UNAVAILABLE;
}

void challenge_cancel(struct challenge_table *t, uint32_t slot)
{
	uint32_t i;
	struct shard *s = shard_of(t, slot, &i);

	pthread_mutex_lock(&s->lock);
	if (s->e[i].state == SLOT_RESERVED)
		free_push(s, i);
	pthread_mutex_unlock(&s->lock);
}

void challenge_publish(struct challenge_table *t, uint32_t slot, struct challenge *c,
		       const char *impi, size_t impi_len)
{
	uint32_t i;
	struct shard *s = shard_of(t, slot, &i);
	struct entry *e = &s->e[i];

	if (impi_len > GBA_IMPI_MAX)
		impi_len = GBA_IMPI_MAX; /* callers check; never overflow the slot */
	pthread_mutex_lock(&s->lock);
	e->c = *c;
	memcpy(e->impi, impi, impi_len);
	e->impi[impi_len] = '\0';
	e->impi_len = (uint16_t)impi_len;
	e->state = SLOT_LIVE;
	age_append(s, i);
	s->live++;
	pthread_mutex_unlock(&s->lock);
	/* The table owns the GUSS now; the caller's copy of the secrets goes. */
	gba_wipe(c, sizeof(*c));
}

static int entry_matches(const struct entry *e, const uint8_t rand[16], const char *impi,
			 size_t impi_len)
{
	/* RAND and IMPI are not secret: a plain comparison is fine. */
	return e->state == SLOT_LIVE && !memcmp(e->c.rand, rand, 16) &&
	       e->impi_len == impi_len && !memcmp(e->impi, impi, impi_len);
}

enum challenge_take_result challenge_take(struct challenge_table *t, uint32_t slot,
					  const uint8_t rand[16], const char *impi,
					  size_t impi_len, int64_t now_ms,
					  struct challenge *out)
{
	enum challenge_take_result r = CHALLENGE_ABSENT;
	struct challenge expired = { 0 };
	uint32_t i;
	struct shard *s;

	if (slot >= challenge_table_capacity(t))
		return CHALLENGE_ABSENT;
	s = shard_of(t, slot, &i);
	pthread_mutex_lock(&s->lock);
	if (entry_matches(&s->e[i], rand, impi, impi_len)) {
		if (s->e[i].c.expiry_ms <= now_ms) {
			expired = s->e[i].c;
			r = CHALLENGE_EXPIRED;
		} else {
			*out = s->e[i].c;
			r = CHALLENGE_TAKEN;
		}
		gba_wipe(&s->e[i].c, sizeof(s->e[i].c));
		remove_live(s, i);
	}
	pthread_mutex_unlock(&s->lock);
	if (r == CHALLENGE_EXPIRED)
		challenge_clear(&expired); /* free() outside the lock */
	return r;
}

/* Sweep one shard: its age list is oldest first, so stop at a live one. */
static size_t sweep_shard(struct shard *s, int64_t now_ms)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (s->age_head != NIL && s->e[s->age_head].c.expiry_ms <= now_ms) {
		uint32_t i = s->age_head;
		challenge_clear(&s->e[i].c);
		remove_live(s, i);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t challenge_sweep(struct challenge_table *t, int64_t now_ms)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->n_shards; i++)
		n += sweep_shard(&t->shards[i], now_ms);
	return n;
}

size_t challenge_pending(struct challenge_table *t)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->n_shards; i++) {
		pthread_mutex_lock(&t->shards[i].lock);
		n += t->shards[i].live;
		pthread_mutex_unlock(&t->shards[i].lock);
	}
	return n;
}
