/*
 * challenge.c - the pending-challenge table, see challenge.h.
 *
 * Each shard owns a contiguous run of slots and as many IMPI records.
 * Slots are threaded on a free list and an age list (doubly linked,
 * oldest first); a record heads the list of its IMPI's live entries
 * (oldest first), sits on a hash chain of the shard, and, while it has no
 * entries but its rate is not back to full, on the shard's idle list.
 * Everything is linked by shard-local index; nothing is allocated after
 * creation.
 *
 * The rate is a token bucket kept as one time (GCRA, the "theoretical
 * arrival time"): a vector may be drawn when tat - now <= (burst - 1) * T,
 * and drawing moves tat to max(tat, now) + T, with T = 1 s / rate.  The
 * bucket is full again once tat <= now.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gba/session_store.h>
#include <gba/util.h>

#include "challenge.h"

#define NIL UINT32_MAX
#define MIN_SLOTS_PER_SHARD 256u
/*
 * A challenge is sent again only with this long left to answer it (an
 * expired one not swept yet would just come back stale).
 */
#define RESEND_MIN_LEFT_MS 2000

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RESERVED,
	SLOT_LIVE,
};

struct entry {
	struct challenge c;
	uint32_t next, prev;       /* free list: next only; age list: both */
	uint32_t impi_next, impi_prev;  /* its record's live entries */
	uint32_t rec;              /* its IMPI's record, while reserved or live */
	uint8_t state;
	uint8_t drew_token;        /* its reservation drew from the IMPI's rate */
	struct addr_key client;
};

struct record {
	uint64_t hash;
	int64_t tat_us;            /* the rate: full when tat_us <= now */
	uint32_t chain;            /* next on the hash chain, index + 1 (0: end) */
	uint32_t oldest, newest;   /* live entries */
	uint32_t idle_prev, idle_next;
	uint32_t entries, live;    /* reserved or live; live */
	uint8_t idle;              /* on the idle list */
	uint16_t impi_len;
	char impi[GBA_IMPI_MAX + 1];
};

/* Aligned to a cache line: two shards' locks never share one. */
struct shard {
	pthread_mutex_t lock;
	struct entry *e;
	struct record *r;
	uint32_t *chains;          /* hash chain heads, index + 1 (0: empty) */
	uint32_t free_head;        /* slots used before and given back */
	uint32_t fresh;            /* slots from here on were never used */
	uint32_t age_head, age_tail;
	uint32_t rec_free, rec_fresh;
	uint32_t idle_head, idle_tail;
	uint32_t live;
} __attribute__((aligned(64)));

struct challenge_table {
	struct shard *shards;
	struct entry *entries;
	struct record *records;
	uint32_t *chains;
	uint32_t n_shards;         /* a power of two */
	uint32_t per_shard;
	uint32_t chain_mask;       /* chains per shard - 1 */
	uint64_t hash_key[2];      /* random: which shard an IMPI lands in is not guessable */
	struct challenge_limits lim;
	int64_t interval_us, tolerance_us;  /* T and (burst - 1) * T */
	pthread_mutex_t ip_lock;
	struct addr_count *per_ip; /* NULL without lim.per_ip */
};

void challenge_clear(struct challenge *c)
{
	free(c->guss);
	gba_wipe(c, sizeof(*c));
}

/* ---- Creation ------------------------------------------------------------------ */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

/*
 * Slots and records are handed out from the never-used end before the
 * free lists are built, so pages never needed are never touched: the
 * table's memory follows its peak use, not max_pending.
 */
static void shard_init(struct challenge_table *t, uint32_t i)
{
	struct shard *s = &t->shards[i];

	pthread_mutex_init(&s->lock, NULL);
	s->e = t->entries + (size_t)i * t->per_shard;
	s->r = t->records + (size_t)i * t->per_shard;
	s->chains = t->chains + (size_t)i * (t->chain_mask + 1);
	s->free_head = s->rec_free = NIL;
	s->fresh = s->rec_fresh = 0;
	s->age_head = s->age_tail = NIL;
	s->idle_head = s->idle_tail = NIL;
	s->live = 0;
}

gba_err challenge_table_set_limits(struct challenge_table *t,
				   const struct challenge_limits *lim)
{
	if (lim->per_ip && !t->per_ip) {
		t->per_ip = addr_count_create();
		if (!t->per_ip)
			return GBA_ERR_NO_MEMORY;
	}
	t->lim = *lim;
	if (t->lim.impi_burst == 0)
		t->lim.impi_burst = 1;
	t->interval_us = t->tolerance_us = 0;
	if (t->lim.impi_rate) {
		t->interval_us = 1000000 / t->lim.impi_rate;
		if (t->interval_us == 0)
			t->interval_us = 1;
		t->tolerance_us = (int64_t)(t->lim.impi_burst - 1) * t->interval_us;
	}
	return GBA_OK;
}

static void free_table(struct challenge_table *t)
{
	addr_count_destroy(t->per_ip);
	free(t->entries);
	free(t->records);
	free(t->chains);
	free(t->shards);
	free(t);
}

static gba_err alloc_table(struct challenge_table *t)
{
	size_t slots = (size_t)t->n_shards * t->per_shard;

	/* calloc: pages of slots never used are never touched. */
	t->entries = calloc(slots, sizeof(struct entry));
	t->records = calloc(slots, sizeof(struct record));
	t->chains = calloc((size_t)t->n_shards * (t->chain_mask + 1), sizeof(uint32_t));
	t->shards = aligned_alloc(64, t->n_shards * sizeof(struct shard));
	if (!t->entries || !t->records || !t->chains || !t->shards)
		return GBA_ERR_NO_MEMORY;
	return gba_random((uint8_t *)t->hash_key, sizeof(t->hash_key));
}

gba_err challenge_table_create(struct challenge_table **out, uint32_t capacity,
			       unsigned n_shards)
{
	struct challenge_table *t;
	uint32_t shards;
	gba_err err;

	if (!out || capacity == 0 || n_shards == 0)
		return GBA_ERR_INVALID_ARG;
	shards = pow2_at_least(n_shards < (1u << 16) ? n_shards : (1u << 16));
	while (shards > 1 && capacity / shards < MIN_SLOTS_PER_SHARD)
		shards >>= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return GBA_ERR_NO_MEMORY;
	t->n_shards = shards;
	t->per_shard = (capacity + shards - 1) / shards;
	t->chain_mask = pow2_at_least(t->per_shard) - 1;
	err = alloc_table(t);
	if (err) {
		free_table(t);
		return err;
	}
	for (uint32_t i = 0; i < shards; i++)
		shard_init(t, i);
	pthread_mutex_init(&t->ip_lock, NULL);
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
	pthread_mutex_destroy(&t->ip_lock);
	gba_wipe(t->entries, n * sizeof(struct entry));
	free_table(t);
}

uint32_t challenge_table_capacity(const struct challenge_table *t)
{
	return t->n_shards * t->per_shard;
}

/* ---- Hashing ------------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	return x ^ (x >> 32);
}

/* A keyed hash of the IMPI: 8 octets per multiply. */
static uint64_t impi_hash(const struct challenge_table *t, const char *s, size_t n)
{
	uint64_t h = t->hash_key[0] ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull), w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = mix(h ^ w);
	}
	w = 0;
	memcpy(&w, s, n);
	return mix(h ^ w ^ t->hash_key[1]);
}

static struct shard *home_shard(struct challenge_table *t, uint64_t hash, uint32_t *si)
{
	*si = (uint32_t)(hash >> 40) & (t->n_shards - 1);
	return &t->shards[*si];
}

/* ---- Slot lists (shard lock held) ---------------------------------------------- */

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

/* An IMPI's live entries, oldest first. */
static void impi_append(struct shard *s, struct record *r, uint32_t i)
{
	struct entry *e = &s->e[i];

	e->impi_prev = r->newest;
	e->impi_next = NIL;
	if (r->newest != NIL)
		s->e[r->newest].impi_next = i;
	else
		r->oldest = i;
	r->newest = i;
}

static void impi_unlink(struct shard *s, struct record *r, uint32_t i)
{
	struct entry *e = &s->e[i];

	if (e->impi_prev != NIL)
		s->e[e->impi_prev].impi_next = e->impi_next;
	else
		r->oldest = e->impi_next;
	if (e->impi_next != NIL)
		s->e[e->impi_next].impi_prev = e->impi_prev;
	else
		r->newest = e->impi_prev;
}

/* ---- Per client address --------------------------------------------------------- */

/*
 * 1 when the client may have one more pending (and it is counted);
 * extra: one of its own is about to go, so it may be one over for now.
 */
static int ip_add(struct challenge_table *t, const struct addr_key *client, unsigned extra)
{
	int rc;

	if (!t->per_ip || !client->len)
		return 1;
	pthread_mutex_lock(&t->ip_lock);
	rc = addr_count_add(t->per_ip, client, t->lim.per_ip + extra);
	pthread_mutex_unlock(&t->ip_lock);
	return rc == 0;
}

static void ip_remove(struct challenge_table *t, const struct addr_key *client)
{
	if (!t->per_ip || !client->len)
		return;
	pthread_mutex_lock(&t->ip_lock);
	addr_count_remove(t->per_ip, client);
	pthread_mutex_unlock(&t->ip_lock);
}

/* ---- IMPI records (shard lock held) ------------------------------------------- */

static void idle_unlink(struct shard *s, uint32_t ri)
{
	struct record *r = &s->r[ri];

	if (r->idle_prev != NIL)
		s->r[r->idle_prev].idle_next = r->idle_next;
	else
		s->idle_head = r->idle_next;
	if (r->idle_next != NIL)
		s->r[r->idle_next].idle_prev = r->idle_prev;
	else
		s->idle_tail = r->idle_prev;
	r->idle = 0;
}

static void idle_append(struct shard *s, uint32_t ri)
{
	struct record *r = &s->r[ri];

	r->idle_prev = s->idle_tail;
	r->idle_next = NIL;
	if (s->idle_tail != NIL)
		s->r[s->idle_tail].idle_next = ri;
	else
		s->idle_head = ri;
	s->idle_tail = ri;
	r->idle = 1;
}

static uint32_t rec_find(const struct challenge_table *t, const struct shard *s, uint64_t hash,
			 const char *impi, size_t impi_len)
{
	for (uint32_t c = s->chains[hash & t->chain_mask]; c; c = s->r[c - 1].chain) {
		const struct record *r = &s->r[c - 1];

		if (r->hash == hash && r->impi_len == impi_len && !memcmp(r->impi, impi, impi_len))
			return c - 1;
	}
	return NIL;
}

static void rec_unhash(const struct challenge_table *t, struct shard *s, uint32_t ri)
{
	uint32_t *link = &s->chains[s->r[ri].hash & t->chain_mask];

	while (*link && *link != ri + 1)
		link = &s->r[*link - 1].chain;
	if (*link)
		*link = s->r[ri].chain;
}

/* A record to use: a free one, a never-used one, or the idle one unused longest. */
static uint32_t rec_alloc(const struct challenge_table *t, struct shard *s)
{
	uint32_t ri = s->rec_free;

	if (ri != NIL) {
		s->rec_free = s->r[ri].chain;
		return ri;
	}
	if (s->rec_fresh < t->per_shard)
		return s->rec_fresh++;
	ri = s->idle_head;
	if (ri != NIL) {
		idle_unlink(s, ri);
		rec_unhash(t, s, ri);
	}
	return ri;
}

/* The IMPI's record, made if need be; NIL when the shard has none to give. */
static uint32_t rec_get(const struct challenge_table *t, struct shard *s, uint64_t hash,
			const char *impi, size_t impi_len)
{
	uint32_t ri = rec_find(t, s, hash, impi, impi_len);
	struct record *r;

	if (ri != NIL)
		return ri;
	ri = rec_alloc(t, s);
	if (ri == NIL)
		return NIL;
	r = &s->r[ri];
	r->hash = hash;
	r->tat_us = 0;
	r->oldest = r->newest = NIL;
	r->entries = r->live = 0;
	r->idle = 0;
	r->impi_len = (uint16_t)impi_len;
	memcpy(r->impi, impi, impi_len);
	r->impi[impi_len] = '\0';
	r->chain = s->chains[hash & t->chain_mask];
	s->chains[hash & t->chain_mask] = ri + 1;
	return ri;
}

/*
 * A record whose entries may be gone: with none left it is kept (idle)
 * while its rate is still short of full, and freed otherwise, since a
 * fresh record would say the same.
 */
static void rec_settle(const struct challenge_table *t, struct shard *s, uint32_t ri,
		       int64_t now_us)
{
	struct record *r = &s->r[ri];

	if (r->entries)
		return;
	if (t->lim.impi_rate && r->tat_us > now_us) {
		if (!r->idle)
			idle_append(s, ri);
		return;
	}
	if (r->idle)
		idle_unlink(s, ri);
	rec_unhash(t, s, ri);
	r->chain = s->rec_free;
	s->rec_free = ri;
}

/* ---- The rate (GCRA) ------------------------------------------------------------ */

/* 0 when a vector may be drawn now; else the milliseconds until one may. */
static int64_t rate_wait_ms(const struct challenge_table *t, const struct record *r,
			    int64_t now_us)
{
	int64_t tat = r->tat_us > now_us ? r->tat_us : now_us;
	int64_t over = tat - now_us - t->tolerance_us;

	if (!t->lim.impi_rate || over <= 0)
		return 0;
	return (over + 999) / 1000;
}

static void rate_draw(const struct challenge_table *t, struct record *r, int64_t now_us)
{
	r->tat_us = (r->tat_us > now_us ? r->tat_us : now_us) + t->interval_us;
}

/* ---- Entries (shard lock held) ------------------------------------------------- */

/* Unlink a live entry from its lists and counts and free its slot; its contents stay. */
static void unlink_live(struct challenge_table *t, struct shard *s, uint32_t i)
{
	struct entry *e = &s->e[i];
	struct record *r = &s->r[e->rec];

	age_unlink(s, i);
	impi_unlink(s, r, i);
	r->entries--;
	r->live--;
	s->live--;
	ip_remove(t, &e->client);
	free_push(s, i);
}

/* The entry a new challenge for record ri replaces (NIL: none, or none can be). */
static uint32_t victim_of(const struct challenge_table *t, const struct shard *s, uint32_t ri)
{
	const struct record *r = &s->r[ri];

	return t->lim.per_impi && r->entries >= t->lim.per_impi ? r->oldest : NIL;
}

static int same_client(const struct addr_key *a, const struct addr_key *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

/* A slot: the victim's (wiped and unlinked first), else a free one; NIL: none. */
static uint32_t slot_for(struct challenge_table *t, struct shard *s, uint32_t victim)
{
	if (victim != NIL) {
		challenge_clear(&s->e[victim].c);
		unlink_live(t, s, victim);
	}
	return free_pop(s, t->per_shard);
}

static void grant_resend(struct challenge_grant *g, const struct entry *e, uint32_t slot)
{
	g->kind = CHALLENGE_RESEND;
	g->slot = slot;
	memcpy(g->rand, e->c.rand, 16);
	memcpy(g->autn, e->c.autn, 16);
	g->expiry_ms = e->c.expiry_ms;
}

/* Under the shard lock: the decision of challenge_reserve. */
static void reserve_locked(struct challenge_table *t, struct shard *s, uint32_t si,
			   uint32_t ri, const struct challenge_request *rq,
			   struct challenge_grant *g)
{
	struct record *r = &s->r[ri];
	int64_t now_us = rq->now_ms * 1000;
	struct entry *e;
	uint32_t i, victim;

	if (!rq->resync && (g->retry_ms = rate_wait_ms(t, r, now_us)) > 0) {
		if (r->newest == NIL ||
		    s->e[r->newest].c.expiry_ms - rq->now_ms < RESEND_MIN_LEFT_MS) {
			g->kind = CHALLENGE_RATE_LIMITED;
			return;
		}
		grant_resend(g, &s->e[r->newest], si * t->per_shard + r->newest);
		return;
	}
	victim = victim_of(t, s, ri);
	if (victim == NIL && t->lim.per_impi && r->entries >= t->lim.per_impi) {
		g->kind = CHALLENGE_FULL; /* all its challenges are being fetched */
		return;
	}
	if (!ip_add(t, &rq->client,
		    victim != NIL && same_client(&s->e[victim].client, &rq->client))) {
		g->kind = CHALLENGE_IP_LIMITED;
		return;
	}
	g->replaced = victim != NIL;
	i = slot_for(t, s, victim);
	if (i == NIL) {
		ip_remove(t, &rq->client);
		g->kind = CHALLENGE_FULL;
		return;
	}
	e = &s->e[i];
	e->state = SLOT_RESERVED;
	e->rec = ri;
	e->client = rq->client;
	e->drew_token = !rq->resync && t->lim.impi_rate;
	if (e->drew_token)
		rate_draw(t, r, now_us);
	r->entries++;
	if (r->idle)
		idle_unlink(s, ri);
	g->kind = CHALLENGE_FRESH;
	g->slot = si * t->per_shard + i;
}

/* ---- Operations ---------------------------------------------------------------- */

static struct shard *shard_of(struct challenge_table *t, uint32_t slot, uint32_t *local)
{
	*local = slot % t->per_shard;
	return &t->shards[slot / t->per_shard];
}

void challenge_reserve(struct challenge_table *t, const struct challenge_request *rq,
		       struct challenge_grant *g)
{
	size_t len = rq->impi_len > GBA_IMPI_MAX ? GBA_IMPI_MAX : rq->impi_len;
	uint64_t hash = impi_hash(t, rq->impi, len);
	uint32_t si, ri;
	struct shard *s = home_shard(t, hash, &si);

	memset(g, 0, sizeof(*g));
	pthread_mutex_lock(&s->lock);
	ri = rec_get(t, s, hash, rq->impi, len);
	if (ri == NIL) {
		g->kind = CHALLENGE_FULL;
	} else {
		reserve_locked(t, s, si, ri, rq, g);
		rec_settle(t, s, ri, rq->now_ms * 1000);
	}
	pthread_mutex_unlock(&s->lock);
}

void challenge_cancel(struct challenge_table *t, uint32_t slot, int64_t now_ms)
{
	uint32_t i;
	struct shard *s = shard_of(t, slot, &i);
	struct entry *e = &s->e[i];

	pthread_mutex_lock(&s->lock);
	if (e->state == SLOT_RESERVED) {
		struct record *r = &s->r[e->rec];

		if (e->drew_token)
			r->tat_us -= t->interval_us; /* no vector came: not counted */
		r->entries--;
		ip_remove(t, &e->client);
		free_push(s, i);
		rec_settle(t, s, e->rec, now_ms * 1000);
	}
	pthread_mutex_unlock(&s->lock);
}

void challenge_publish(struct challenge_table *t, uint32_t slot, struct challenge *c)
{
	uint32_t i;
	struct shard *s = shard_of(t, slot, &i);
	struct entry *e = &s->e[i];

	pthread_mutex_lock(&s->lock);
	e->c = *c;
	e->state = SLOT_LIVE;
	age_append(s, i);
	impi_append(s, &s->r[e->rec], i);
	s->r[e->rec].live++;
	s->live++;
	pthread_mutex_unlock(&s->lock);
	/* The table owns the GUSS now; the caller's copy of the secrets goes. */
	gba_wipe(c, sizeof(*c));
}

static int entry_matches(const struct shard *s, const struct entry *e, const uint8_t rand[16],
			 const char *impi, size_t impi_len)
{
	const struct record *r;

	/* RAND and IMPI are not secret: a plain comparison is fine. */
	if (e->state != SLOT_LIVE || memcmp(e->c.rand, rand, 16))
		return 0;
	r = &s->r[e->rec];
	return r->impi_len == impi_len && !memcmp(r->impi, impi, impi_len);
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
	if (entry_matches(s, &s->e[i], rand, impi, impi_len)) {
		uint32_t ri = s->e[i].rec;

		if (s->e[i].c.expiry_ms <= now_ms) {
			expired = s->e[i].c;
			r = CHALLENGE_EXPIRED;
		} else {
			*out = s->e[i].c;
			r = CHALLENGE_TAKEN;
		}
		gba_wipe(&s->e[i].c, sizeof(s->e[i].c));
		unlink_live(t, s, i);
		rec_settle(t, s, ri, now_ms * 1000);
	}
	pthread_mutex_unlock(&s->lock);
	if (r == CHALLENGE_EXPIRED)
		challenge_clear(&expired); /* free() outside the lock */
	return r;
}

/* Sweep one shard: its age list is oldest first, so stop at a live one. */
static size_t sweep_shard(struct challenge_table *t, struct shard *s, int64_t now_ms)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (s->age_head != NIL && s->e[s->age_head].c.expiry_ms <= now_ms) {
		uint32_t i = s->age_head, ri = s->e[i].rec;

		challenge_clear(&s->e[i].c);
		unlink_live(t, s, i);
		rec_settle(t, s, ri, now_ms * 1000);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t challenge_sweep(struct challenge_table *t, int64_t now_ms)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->n_shards; i++)
		n += sweep_shard(t, &t->shards[i], now_ms);
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
