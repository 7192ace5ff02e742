/*
 * auc_cache.h - the AuC's memory of SQN blocks (subscriber_db.c).
 *
 * With SQN blocks of n > 1, one write transaction reserves the next n SEQ
 * values of a subscriber in an IND slot (the database keeps the highest
 * one), and the vectors after the first are handed out from here, with the
 * K, OPc, AMF and GUSS read in that transaction.  An entry lives until its
 * block is used up or AUC_ENTRY_TTL seconds have passed, whichever comes
 * first, so a change made by another process is seen within that time.
 * Bounded and set-associative (AUC_CACHE_SETS sets of AUC_CACHE_WAYS):
 * when a set is full, the entry closest to its end is evicted (its unused
 * SEQs are skipped, which the USIM accepts).  Not thread-safe: the
 * database's mutex guards it.  Internal.
 */
#ifndef GBA_STORE_AUC_CACHE_H
#define GBA_STORE_AUC_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/aka.h>
#include <gba/session_store.h>

#include "subscriber_keys.h"

#define AUC_ENTRY_TTL 5        /* seconds */
#define AUC_CACHE_SETS 4096
#define AUC_CACHE_WAYS 8       /* 32768 entries at most */

/*
 * One subscriber's reserved block.  Holds K and OPc: wiped when dropped.
 * With a KEK they are only here wrapped (sealed), and key holds just the
 * algorithm's parameters: each vector unwraps them anew.
 */
struct auc_entry {
	char impi[GBA_IMPI_MAX + 1];
	struct gba_aka_key key;
	struct subkey_sealed sealed;
	uint8_t amf[2];
	unsigned ind_bits;
	unsigned ind;              /* the slot the block was reserved in */
	uint64_t next_sqn;         /* the next SQN to hand out */
	uint64_t last_sqn;         /* the last SQN of the block (the database's) */
	int64_t expires;           /* CLOCK_MONOTONIC seconds */
	char *guss;                /* NULL when none */
	size_t guss_len;
};

struct auc_cache;

struct auc_cache *auc_cache_new(void);
void auc_cache_free(struct auc_cache *c);

/* The live entry for impi in slot ind with SQNs left, or NULL. */
struct auc_entry *auc_cache_find(struct auc_cache *c, const char *impi, unsigned ind);

/*
 * The slot where impi's entry goes, emptied (a previous occupant wiped);
 * NULL when out of memory.  The caller fills it in.
 */
struct auc_entry *auc_cache_slot(struct auc_cache *c, const char *impi);

/* Forget impi (removed or re-added subscriber). */
void auc_cache_drop(struct auc_cache *c, const char *impi);

/* Wipe and empty an entry. */
void auc_entry_clear(struct auc_entry *e);

/* The current CLOCK_MONOTONIC second. */
int64_t auc_now(void);

#endif
