/*
 * nonces.h - single-use Digest nonces for Ua (oneM2M TR-0008 CM10).
 *
 * A nonce is hex(slot (4 octets) || 12 random octets).  The slot finds the
 * entry without hashing; the random part must match it (compared in
 * constant time).  Taking a nonce empties its slot, so a second use of the
 * same nonce (a replay) finds nothing.  Slots are handed out round-robin:
 * under a flood of challenges the oldest unanswered nonce is dropped,
 * which bounds memory.
 */
#ifndef GBA_NAF_NONCES_H
#define GBA_NAF_NONCES_H

#include <stdint.h>

#include <gba/error.h>

#define NONCE_HEX_LEN 32

struct nonces;

/* A table of `slots` entries; nonces live `lifetime_s` seconds. */
gba_err nonces_new(struct nonces **out, unsigned slots, unsigned lifetime_s);
void nonces_free(struct nonces *t);

/* A fresh nonce, NUL-terminated. */
gba_err nonces_issue(struct nonces *t, char out[NONCE_HEX_LEN + 1]);

/*
 * Use a nonce once: GBA_OK when it was issued, unused and not expired;
 * GBA_ERR_NOT_FOUND when unknown, already used (replay) or expired.
 * A nonce that matched its slot empties it: it can never be used again.
 */
gba_err nonces_take(struct nonces *t, const char *nonce, size_t len);

#endif /* GBA_NAF_NONCES_H */
