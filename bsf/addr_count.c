/*
 * addr_count.c - counts per client address, see addr_count.h.
 *
 * Linear probing with backward-shift deletion (no tombstones, so a table
 * whose addresses come and go never fills with dead slots), kept at most
 * half full by doubling.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "addr_count.h"

#define INITIAL_SLOTS 64u

struct slot {
	uint64_t word;            /* the key's octets; count 0: empty */
	uint8_t len;
	unsigned count;
};

struct addr_count {
	struct slot *slots;
	size_t n_slots;           /* a power of two */
	size_t used;
	uint64_t k0, k1;          /* random: where an address lands is not guessable */
};

void addr_key_of(struct addr_key *k, const struct sockaddr *sa)
{
	memset(k, 0, sizeof(*k));
	if (sa && sa->sa_family == AF_INET) {
		memcpy(k->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		k->len = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(k->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
		k->len = 8;
	}
}

static uint64_t word_of(const struct addr_key *k)
{
	uint64_t w = 0;

	memcpy(&w, k->b, sizeof(k->b));
	return w;
}

/* A keyed 64-bit mix (multiply and xor-shift rounds). */
static size_t home(const struct addr_count *m, uint64_t word, uint8_t len)
{
	uint64_t h = (word ^ m->k0) + len;

	h = (h ^ (h >> 31)) * 0x9e3779b97f4a7c15ull;
	h = (h ^ m->k1 ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)h & (m->n_slots - 1);
}

struct addr_count *addr_count_create(void)
{
	struct addr_count *m = calloc(1, sizeof(*m));
	uint64_t keys[2];

	if (!m)
		return NULL;
	m->n_slots = INITIAL_SLOTS;
	m->slots = calloc(m->n_slots, sizeof(struct slot));
	if (!m->slots || gba_random((uint8_t *)keys, sizeof(keys))) {
		free(m->slots);
		free(m);
		return NULL;
	}
	m->k0 = keys[0];
	m->k1 = keys[1];
	return m;
}

void addr_count_destroy(struct addr_count *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* The slot holding (word, len), or the empty one where it would go. */
static size_t find(const struct addr_count *m, uint64_t word, uint8_t len)
{
	size_t i = home(m, word, len);

	while (m->slots[i].count && (m->slots[i].word != word || m->slots[i].len != len))
		i = (i + 1) & (m->n_slots - 1);
	return i;
}

static int grow(struct addr_count *m)
{
	struct slot *old = m->slots;
	size_t old_n = m->n_slots;

	m->slots = calloc(old_n * 2, sizeof(struct slot));
	if (!m->slots) {
		m->slots = old;
		return -1;
	}
	m->n_slots = old_n * 2;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].count)
			m->slots[find(m, old[i].word, old[i].len)] = old[i];
	free(old);
	return 0;
}

unsigned addr_count_get(const struct addr_count *m, const struct addr_key *k)
{
	return k->len ? m->slots[find(m, word_of(k), k->len)].count : 0;
}

int addr_count_add(struct addr_count *m, const struct addr_key *k, unsigned limit)
{
	uint64_t word = word_of(k);
	struct slot *s;

	if (!k->len)
		return 0;
	s = &m->slots[find(m, word, k->len)];
	if (s->count) {
		if (limit && s->count >= limit)
			return 1;
		s->count++;
		return 0;
	}
	if ((m->used + 1) * 2 > m->n_slots) {
		if (grow(m))
			return -1;
		s = &m->slots[find(m, word, k->len)];
	}
	s->word = word;
	s->len = k->len;
	s->count = 1;
	m->used++;
	return 0;
}

/*
 * Empty slot i and pull back any later entry of its probe run that would
 * no longer be found (its home is not cyclically in (i, j]).
 */
static void delete_at(struct addr_count *m, size_t i)
{
	size_t mask = m->n_slots - 1, j = i;

	for (;;) {
		size_t h;

		m->slots[i].count = 0;
		do {
			j = (j + 1) & mask;
			if (!m->slots[j].count)
				return;
			h = home(m, m->slots[j].word, m->slots[j].len);
		} while (i <= j ? (i < h && h <= j) : (i < h || h <= j));
		m->slots[i] = m->slots[j];
		i = j;
	}
}

void addr_count_remove(struct addr_count *m, const struct addr_key *k)
{
	size_t i;

	if (!k->len)
		return;
	i = find(m, word_of(k), k->len);
	if (!m->slots[i].count)
		return;
	if (--m->slots[i].count == 0) {
		delete_at(m, i);
		m->used--;
	}
}
