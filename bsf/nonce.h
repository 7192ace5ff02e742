/*
 * nonce.h - the Ub nonce: base64(RAND || AUTN || server data), TS 24.109.
 *
 * The UE reads RAND and AUTN and ignores the rest.  This BSF's server data
 * (16 octets, so the whole is 48 octets and 64 base64 characters without
 * padding):
 *
 *   slot (4, big-endian)   the pending-challenge slot: lookup without hashing
 *   expiry (6, big-endian) Unix milliseconds after which it is stale
 *   tag (6)                HMAC-SHA-256(process key, RAND || AUTN || slot ||
 *                          expiry || IMPI), truncated
 *
 * The pending table, not the tag, decides whether a nonce is answered.
 * The tag only tells, once the entry is gone, whether a nonce was really
 * ours and for whom: so a replayed nonce, an expired one (stale=true) and
 * a made-up one are told apart without remembering used nonces.
 */
#ifndef GBA_BSF_NONCE_H
#define GBA_BSF_NONCE_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/hmac.h>

#include <gba/error.h>

#define NONCE_RAW_LEN 48
#define NONCE_TEXT_LEN 64   /* base64 of 48 octets, no padding needed */
#define NONCE_TAG_LEN 6

struct nonce_key {
	struct hmac_sha256_ctx keyed;   /* copied per use: the key schedule is done once */
};

struct nonce_fields {
	uint8_t rand[16];
	uint8_t autn[16];
	uint32_t slot;
	int64_t expiry_ms;
	uint8_t tag[NONCE_TAG_LEN];
};

/* A fresh random key for this process.  GBA_ERR_UNAVAILABLE without entropy. */
gba_err nonce_key_init(struct nonce_key *k);
void nonce_key_wipe(struct nonce_key *k);

/* Compute f->tag for impi and write the nonce text, NUL-terminated. */
void nonce_encode(const struct nonce_key *k, struct nonce_fields *f, const char *impi,
		  size_t impi_len, char out[NONCE_TEXT_LEN + 1]);

/*
 * Decode a received nonce.  GBA_ERR_BAD_BASE64 or GBA_ERR_BAD_LENGTH when
 * it is not 48 octets of base64.
 */
gba_err nonce_decode(const char *text, size_t len, struct nonce_fields *f);

/* 1 when f->tag is what this process made for these fields and impi. */
int nonce_tag_valid(const struct nonce_key *k, const struct nonce_fields *f,
		    const char *impi, size_t impi_len);

#endif /* GBA_BSF_NONCE_H */
