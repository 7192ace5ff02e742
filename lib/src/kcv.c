/* kcv.c - key check value (gba/kcv.h): hex of SHA-256(key)[0..2]. */
#include <nettle/sha2.h>

#include <gba/kcv.h>
#include <gba/util.h>

gba_err gba_kcv(char out[GBA_KCV_HEX_LEN + 1], const uint8_t *key, size_t key_len)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	gba_err err;

	if (!out || !key || key_len == 0)
		return GBA_ERR_INVALID_ARG;
	sha256_init(&ctx);
	sha256_update(&ctx, key_len, key);
	sha256_digest(&ctx, sizeof(d), d);
	err = gba_hex_encode(out, GBA_KCV_HEX_LEN + 1, d, GBA_KCV_LEN);
	/* The digest of a key is not the key, but there is no reason to keep it. */
	gba_wipe(d, sizeof(d));
	gba_wipe(&ctx, sizeof(ctx));
	return err;
}
