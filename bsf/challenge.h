/*
 * challenge.h - the BSF's pending challenges: what a 401 promised and the
 * second request must match (TS 24.109 5.3).
 *
 * A fixed, preallocated table, so that a flood of first requests can use
 * up the table (and get 503) but never the memory.  Entries are addressed
 * by a slot number that the nonce carries; the RAND and the IMPI stored
 * for the slot must match the second request, so a guessed slot number
 * finds nothing.  No lock is held across I/O: a caller reserves a slot,
 * fetches a vector without the lock, then publishes the entry.
 *
 * Limits, so that one client cannot fill the table or spend one
 * subscriber's SQNs (issue 15):
 *   - per IMPI, at most per_impi challenges pending: a new one replaces
 *     that IMPI's oldest (whose nonce then finds nothing);
 *   - per IMPI, fresh vectors at most at impi_rate per second with a
 *     burst of impi_burst (a token bucket).  Over it, the IMPI's newest
 *     pending challenge is sent again instead of drawing a vector: it
 *     costs no SQN and is still answered once only (see docs/bsf.md);
 *     with nothing pending (or only one about to expire), the caller
 *     answers 503 with Retry-After;
 *   - per client address, at most per_ip challenges pending.
 *
 * Every IMPI has a home shard (a keyed hash of the IMPI): its slots, its
 * record (count, rate, its pending entries oldest first) and their lock
 * live there, so every per-IMPI decision is O(1) under one lock, and a
 * flood for one IMPI contends for one shard only.  A record outlives its
 * last entry until its bucket is full again (answering with a wrong
 * response must not reset the rate); idle records are reused oldest first
 * when a shard needs one.
 *
 * Entries hold secrets (HA1, CK, IK): they are wiped when taken, replaced,
 * swept or destroyed.  All nonces live equally long, so each shard keeps
 * its entries in publication order and the sweep stops at the first one
 * still valid.
 */
#ifndef GBA_BSF_CHALLENGE_H
#define GBA_BSF_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#include "addr_count.h"

struct challenge_table;

/* What a challenge leaves for its answer. */
struct challenge {
	uint8_t rand[16];
	uint8_t autn[16];         /* kept to send the same challenge again */
	uint8_t ha1[16];          /* secret: MD5(IMPI ":" realm ":" password) */
	uint8_t password[24];     /* secret: kept for ub.realm_check=lenient only */
	uint8_t password_len;     /* 0: not kept */
	uint8_t ck[16], ik[16];   /* secret */
	int64_t expiry_ms;        /* Unix milliseconds */
	char *guss;               /* the user's GUSS (malloc'ed) or NULL; owned */
	size_t guss_len;
};

/* Wipe the secrets and free the GUSS. */
void challenge_clear(struct challenge *c);

struct challenge_limits {
	unsigned per_impi;        /* pending per IMPI (0: no limit) */
	unsigned impi_rate;       /* fresh vectors per second per IMPI (0: no limit) */
	unsigned impi_burst;      /* of those at once (at least 1) */
	unsigned per_ip;          /* pending per client address (0: no limit) */
};

/*
 * A table of capacity slots over about n_shards shards (a power of two,
 * fewer for a small table: a shard keeps at least 256 slots, since an
 * IMPI finds room in its own shard only), without limits.
 * GBA_ERR_NO_MEMORY or GBA_ERR_INVALID_ARG.
 */
gba_err challenge_table_create(struct challenge_table **out, uint32_t capacity,
			       unsigned n_shards);

/*
 * Set the limits, before the table is used by any thread.
 * GBA_ERR_NO_MEMORY (the table stays without limits).
 */
gba_err challenge_table_set_limits(struct challenge_table *t,
				   const struct challenge_limits *limits);

/* Wipes every live entry. */
void challenge_table_destroy(struct challenge_table *t);

/* Slots in the table; slot numbers are below it. */
uint32_t challenge_table_capacity(const struct challenge_table *t);

/* Who asks for a challenge. */
struct challenge_request {
	const char *impi;
	size_t impi_len;          /* 1..GBA_IMPI_MAX */
	struct addr_key client;   /* len 0: not counted per address */
	int64_t now_ms;           /* Unix milliseconds */
	int resync;               /* after a valid AUTS: not rate-limited, never resent */
};

enum challenge_grant_kind {
	CHALLENGE_FRESH,          /* slot reserved: fetch a vector, publish or cancel */
	CHALLENGE_RESEND,         /* over the rate: send resend again, no new vector */
	CHALLENGE_FULL,           /* no slot in the IMPI's shard: 503 */
	CHALLENGE_RATE_LIMITED,   /* over the rate, nothing pending: 503, retry_ms */
	CHALLENGE_IP_LIMITED,     /* the client address has per_ip pending: 503 */
};

struct challenge_grant {
	enum challenge_grant_kind kind;
	uint32_t slot;            /* FRESH: reserved; RESEND: the pending one's */
	int replaced;             /* FRESH: the IMPI's oldest pending was dropped for it */
	uint8_t rand[16], autn[16];   /* RESEND */
	int64_t expiry_ms;            /* RESEND */
	int64_t retry_ms;         /* RATE_LIMITED: when a vector may be drawn again */
};

/* Ask for a challenge for rq's IMPI (see the limits above). */
void challenge_reserve(struct challenge_table *t, const struct challenge_request *rq,
		       struct challenge_grant *g);

/* A reserved slot whose vector could not be had: freed, the IMPI's rate refunded. */
void challenge_cancel(struct challenge_table *t, uint32_t slot, int64_t now_ms);

/*
 * Fill a reserved slot and make it findable.  *c is moved into the table:
 * its secrets are wiped and its GUSS owned by the table afterwards.
 */
void challenge_publish(struct challenge_table *t, uint32_t slot, struct challenge *c);

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
