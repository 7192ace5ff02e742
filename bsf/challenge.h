/*
 * challenge.h - the BSF's pending challenges: what a 401 promised and the
 * second request must match (TS 24.109 5.3).
 *
 * A fixed, preallocated table, so that a flood of first requests can use
 * up the table (and get 503) but never the memory.  Entries are addressed
 * by a slot number that the nonce carries; the RAND and the IMPI stored in
 * the slot must match the second request, so a guessed slot number finds
 * nothing.  Slots are spread over shards, each with its own lock, and no
 * lock is held across I/O: a caller reserves a slot, fetches a vector
 * without the lock, then publishes the entry.
 *
 * Entries hold secrets (HA1, CK, IK): they are wiped when taken, swept or
 * destroyed.  All nonces live equally long, so each shard keeps its
 * entries in publication order and the sweep stops at the first one still
 * valid.
 */
#ifndef GBA_BSF_CHALLENGE_H
#define GBA_BSF_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

struct challenge_table;

/* What a challenge leaves for its answer. */
struct challenge {
	uint8_t rand[16];
	uint8_t ha1[16];          /* secret: MD5(IMPI ":" realm ":" password) */
	uint8_t ck[16], ik[16];   /* secret */
	int64_t expiry_ms;        /* Unix milliseconds */
	char *guss;               /* the user's GUSS (malloc'ed) or NULL; owned */
	size_t guss_len;
};

/* Wipe the secrets and free the GUSS. */
void challenge_clear(struct challenge *c);

/*
 * A table of capacity slots over n_shards shards (rounded up to a power of
 * two; each shard gets capacity / n_shards slots, at least one).
 * GBA_ERR_NO_MEMORY or GBA_ERR_INVALID_ARG.
 */
gba_err challenge_table_create(struct challenge_table **out, uint32_t capacity,
			       unsigned n_shards);

/* Wipes every live entry. */
void challenge_table_destroy(struct challenge_table *t);

/* Slots in the table; slot numbers are below it. */
uint32_t challenge_table_capacity(const struct challenge_table *t);

/*
 * Reserve a free slot.  GBA_ERR_UNAVAILABLE when every slot is in use
 * (the caller answers 503).  A reserved slot must be published or
 * cancelled.
 */
gba_err challenge_reserve(struct challenge_table *t, uint32_t *slot);
void challenge_cancel(struct challenge_table *t, uint32_t slot);

/*
 * Fill a reserved slot and make it findable.  *c is moved into the table:
 * its secrets are wiped and its GUSS owned by the table afterwards.
 * impi_len must be at most GBA_IMPI_MAX.
 */
void challenge_publish(struct challenge_table *t, uint32_t slot, struct challenge *c,
		       const char *impi, size_t impi_len);

enum challenge_take_result {
	CHALLENGE_TAKEN,    /* *out filled; the slot is free again */
	CHALLENGE_EXPIRED,  /* it was there but expired: removed, *out untouched */
	CHALLENGE_ABSENT,   /* no live entry with this slot, RAND and IMPI */
};

/*
 * Remove and return the entry at slot if its RAND and IMPI match: a nonce
 * is used once, whether its answer turns out right or wrong.  An entry
 * whose IMPI differs is left alone (someone else's challenge).
 */
enum challenge_take_result challenge_take(struct challenge_table *t, uint32_t slot,
					  const uint8_t rand[16], const char *impi,
					  size_t impi_len, int64_t now_ms,
					  struct challenge *out);

/* Remove every entry expired at now_ms; returns how many. */
size_t challenge_sweep(struct challenge_table *t, int64_t now_ms);

/* Live (published) entries. */
size_t challenge_pending(struct challenge_table *t);

#endif /* GBA_BSF_CHALLENGE_H */
