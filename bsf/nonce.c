/*
 * nonce.c - the Ub nonce's layout and tag, see nonce.h.
 */
#include <string.h>

#include <gba/util.h>

#include "nonce.h"

#define OFF_SLOT 32
#define OFF_EXPIRY 36
#define OFF_TAG 42

_Static_assert(OFF_TAG + NONCE_TAG_LEN == NONCE_RAW_LEN, "nonce layout");
_Static_assert(GBA_BASE64_LEN(NONCE_RAW_LEN) == NONCE_TEXT_LEN, "nonce text length");

gba_err nonce_key_init(struct nonce_key *k)
{
	uint8_t key[32];
	gba_err err = gba_random(key, sizeof(key));

	if (err)
		return err;
	hmac_sha256_set_key(&k->keyed, sizeof(key), key);
	gba_wipe(key, sizeof(key));
	return GBA_OK;
}

void nonce_key_wipe(struct nonce_key *k)
{
	gba_wipe(k, sizeof(*k));
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void layout(const struct nonce_fields *f, uint8_t raw[NONCE_RAW_LEN])
{
	memcpy(raw, f->rand, 16);
	memcpy(raw + 16, f->autn, 16);
	put_be(raw + OFF_SLOT, f->slot, 4);
	put_be(raw + OFF_EXPIRY, (uint64_t)f->expiry_ms, 6);
}

/* The tag over the nonce's first OFF_TAG octets and the IMPI. */
static void compute_tag(const struct nonce_key *k, const uint8_t raw[NONCE_RAW_LEN],
			const char *impi, size_t impi_len, uint8_t tag[NONCE_TAG_LEN])
{
	struct hmac_sha256_ctx ctx = k->keyed;

	hmac_sha256_update(&ctx, OFF_TAG, raw);
	hmac_sha256_update(&ctx, impi_len, (const uint8_t *)impi);
	hmac_sha256_digest(&ctx, NONCE_TAG_LEN, tag);
	gba_wipe(&ctx, sizeof(ctx));
}

void nonce_encode(const struct nonce_key *k, struct nonce_fields *f, const char *impi,
		  size_t impi_len, char out[NONCE_TEXT_LEN + 1])
{
	uint8_t raw[NONCE_RAW_LEN];

	layout(f, raw);
	compute_tag(k, raw, impi, impi_len, f->tag);
	memcpy(raw + OFF_TAG, f->tag, NONCE_TAG_LEN);
	(void)gba_base64_encode(out, NONCE_TEXT_LEN + 1, NULL, raw, sizeof(raw));
}

gba_err nonce_decode(const char *text, size_t len, struct nonce_fields *f)
{
	uint8_t raw[NONCE_RAW_LEN + 3];
	size_t n;
	gba_err err;

	/* Check the length first: base64 of anything longer would not fit raw. */
	if (len != NONCE_TEXT_LEN)
		return GBA_ERR_BAD_LENGTH;
	err = gba_base64_decode(raw, sizeof(raw), &n, text, len);
	if (err)
		return err;
	if (n != NONCE_RAW_LEN)
		return GBA_ERR_BAD_LENGTH;
	memcpy(f->rand, raw, 16);
	memcpy(f->autn, raw + 16, 16);
	f->slot = (uint32_t)get_be(raw + OFF_SLOT, 4);
	f->expiry_ms = (int64_t)get_be(raw + OFF_EXPIRY, 6);
	memcpy(f->tag, raw + OFF_TAG, NONCE_TAG_LEN);
	return GBA_OK;
}

int nonce_tag_valid(const struct nonce_key *k, const struct nonce_fields *f,
		    const char *impi, size_t impi_len)
{
	uint8_t raw[NONCE_RAW_LEN], tag[NONCE_TAG_LEN];

	layout(f, raw);
	compute_tag(k, raw, impi, impi_len, tag);
	return gba_ct_equal(tag, f->tag, NONCE_TAG_LEN);
}
