/*
 * av_spare.h - spare vectors: the further vectors of one answer from an
 * AuC that sends several (osmo-hlr's SendAuthInfo, a Cx HSS asked for
 * several SIP-Auth-Data-Items), kept for that user a short time and
 * handed out in order, then wiped.  Shared by the GSUP and Cx sources.
 *
 * Why only a short time (the SQN-freshness rule, as for the embedded
 * AuC's SQN blocks): the AuC moved the user's SQN past every vector of
 * the answer, so a spare is only good while no newer vector has reached
 * the card.  A spare older than ttl seconds is dropped unused; spares are
 * dropped on a resynchronisation (the card refused their SQNs); spares of
 * an older answer never replace those of a newer one.
 *
 * How many users' spares are kept at once is set when the cache is made
 * (av.spare_users); past it the spares closest to expiry make room.
 */
#ifndef GBA_BSF_AV_SPARE_H
#define GBA_BSF_AV_SPARE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/aka.h>

#define AV_SPARE_MAX 4          /* spares per user (5 vectors per answer) */
#define AV_SPARE_KEY_MAX 255    /* an IMSI or an IMPI */
#define AV_SPARE_USERS_DEFAULT 100000   /* av.spare_users: 10x ub-load's fleet */
#define AV_SPARE_USERS_MAX 16777216

struct av_spare;

/*
 * What the cache holds, and the spares it dropped unused (each a SQN the
 * AuC spent for nothing; evicted ones say av.spare_users is too small).
 */
struct av_spare_stats {
	uint64_t users;         /* users with spares now */
	uint64_t vectors;       /* spares held now */
	uint64_t evicted;       /* dropped to make room for another user's */
	uint64_t expired;       /* dropped past the ttl */
	uint64_t resync;        /* dropped on a resynchronisation */
	uint64_t replaced;      /* dropped for a later answer's spares */
};

/*
 * A cache that keeps spares ttl seconds (0: keeps none) for users users
 * at once (0: AV_SPARE_USERS_DEFAULT; at most AV_SPARE_USERS_MAX).  NULL:
 * no memory, or users out of range.
 */
struct av_spare *av_spare_new(unsigned ttl, size_t users);
/* Wipe and free. */
void av_spare_free(struct av_spare *s);
/* Octets of address space per user av_spare_new reserves (touched as used). */
size_t av_spare_bytes_per_user(void);
/* The counts so far. */
void av_spare_stats(struct av_spare *s, struct av_spare_stats *out);

/* The next spare of key into av: 0, or -1 when there is none (fresh). */
int av_spare_take(struct av_spare *s, const char *key, struct gba_av *av);
/* Drop key's spares (a resynchronisation). */
void av_spare_drop(struct av_spare *s, const char *key);
/*
 * Keep av[0..n) (n <= AV_SPARE_MAX) for key, from the answer numbered
 * order (later answers have larger numbers), unless spares of a later
 * answer are there already.
 */
void av_spare_keep(struct av_spare *s, const char *key, const struct gba_av *av, size_t n,
		   uint64_t order);

#endif /* GBA_BSF_AV_SPARE_H */
