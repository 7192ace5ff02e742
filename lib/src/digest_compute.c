/*
 * digest_compute.c - HTTP Digest computations: HA1, request-digest and
 * rspauth (RFC 2617 3.2.2), the AKAv2-MD5 password (RFC 4169) and the
 * constant-time check of a received response.
 *
 * The BSF runs this for every Ub request, so the MD5 inputs are fed piece
 * by piece straight into nettle: no allocation, no formatting into
 * intermediate strings.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/md5.h>

#include <gba/digest.h>
#include <gba/util.h>

#define MD5_LEN 16

/* A gba_str that is absent counts as empty; (NULL, n > 0) is an error. */
static int str_ok(const struct gba_str *s)
{
	return s->ptr || s->len == 0;
}

static void md5_str(struct md5_ctx *ctx, const struct gba_str *s)
{
	if (s->len)
		md5_update(ctx, s->len, (const uint8_t *)s->ptr);
}

static void md5_colon(struct md5_ctx *ctx)
{
	md5_update(ctx, 1, (const uint8_t *)":");
}

/* Finish ctx and write the digest as 32 lowercase hex characters. */
static void md5_hex(struct md5_ctx *ctx, char hex[GBA_DIGEST_HEX_LEN + 1])
{
	uint8_t d[MD5_LEN];

	md5_digest(ctx, sizeof(d), d);
	(void)gba_hex_encode(hex, GBA_DIGEST_HEX_LEN + 1, d, sizeof(d));
}

static gba_err check_input(const struct gba_digest_input *in)
{
	if (!in || !str_ok(&in->method) || !str_ok(&in->uri) || !str_ok(&in->nonce) ||
	    !str_ok(&in->nc) || !str_ok(&in->cnonce) || (!in->body && in->body_len))
		return GBA_ERR_INVALID_ARG;
	if (in->qop != GBA_QOP_NONE && !gba_digest_qop_name(in->qop))
		return GBA_ERR_INVALID_ARG;
	return GBA_OK;
}

gba_err gba_digest_ha1(uint8_t ha1[16], const struct gba_digest_input *in)
{
	struct md5_ctx ctx;

	if (!ha1 || !in || !str_ok(&in->username) || !str_ok(&in->realm) ||
	    (!in->password && in->password_len))
		return GBA_ERR_INVALID_ARG;
	md5_init(&ctx);
	md5_str(&ctx, &in->username);
	md5_colon(&ctx);
	md5_str(&ctx, &in->realm);
	md5_colon(&ctx);
	if (in->password_len)
		md5_update(&ctx, in->password_len, in->password);
	md5_digest(&ctx, MD5_LEN, ha1);
	/* The context has absorbed the password (RES for AKAv1). */
	gba_wipe(&ctx, sizeof(ctx));
	return GBA_OK;
}

/* HA2 = MD5(method ":" uri [":" hex(MD5(body))]), the last for auth-int. */
static void ha2_hex(const struct gba_digest_input *in, char hex[GBA_DIGEST_HEX_LEN + 1])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_str(&ctx, &in->method);
	md5_colon(&ctx);
	md5_str(&ctx, &in->uri);
	if (in->qop == GBA_QOP_AUTH_INT) {
		struct md5_ctx body;
		char body_hex[GBA_DIGEST_HEX_LEN + 1];

		md5_init(&body);
		if (in->body_len)
			md5_update(&body, in->body_len, in->body);
		md5_hex(&body, body_hex);
		md5_colon(&ctx);
		md5_update(&ctx, GBA_DIGEST_HEX_LEN, (const uint8_t *)body_hex);
	}
	md5_hex(&ctx, hex);
}

gba_err gba_digest_response_ha1(char out[33], const uint8_t ha1[16],
				 const struct gba_digest_input *in)
{
	char ha1_hex[GBA_DIGEST_HEX_LEN + 1], ha2[GBA_DIGEST_HEX_LEN + 1];
	struct md5_ctx ctx;
	gba_err err;

	if (!out || !ha1)
		return GBA_ERR_INVALID_ARG;
	err = check_input(in);
	if (err)
		return err;
	ha2_hex(in, ha2);
	(void)gba_hex_encode(ha1_hex, sizeof(ha1_hex), ha1, MD5_LEN);

	md5_init(&ctx);
	md5_update(&ctx, GBA_DIGEST_HEX_LEN, (const uint8_t *)ha1_hex);
	md5_colon(&ctx);
	md5_str(&ctx, &in->nonce);
	md5_colon(&ctx);
	if (in->qop != GBA_QOP_NONE) {
		const char *qop = gba_digest_qop_name(in->qop);
		md5_str(&ctx, &in->nc);
		md5_colon(&ctx);
		md5_str(&ctx, &in->cnonce);
		md5_colon(&ctx);
		md5_update(&ctx, strlen(qop), (const uint8_t *)qop);
		md5_colon(&ctx);
	}
	md5_update(&ctx, GBA_DIGEST_HEX_LEN, (const uint8_t *)ha2);
	md5_hex(&ctx, out);
	/* hex(HA1) is as good as the password for this realm. */
	gba_wipe(ha1_hex, sizeof(ha1_hex));
	gba_wipe(&ctx, sizeof(ctx));
	return GBA_OK;
}

gba_err gba_digest_response(char out[33], const struct gba_digest_input *in)
{
	uint8_t ha1[MD5_LEN];
	gba_err err = gba_digest_ha1(ha1, in);

	if (!err)
		err = gba_digest_response_ha1(out, ha1, in);
	gba_wipe(ha1, sizeof(ha1));
	return err;
}

/* RFC 2617 3.2.3: rspauth is the request-digest with an empty method. */
gba_err gba_digest_rspauth(char out[33], const struct gba_digest_input *in)
{
	struct gba_digest_input copy;

	if (!in)
		return GBA_ERR_INVALID_ARG;
	copy = *in;
	copy.method.ptr = "";
	copy.method.len = 0;
	return gba_digest_response(out, &copy);
}

/*
 * RFC 4169 3: password = base64(PRF(RES || IK || CK,
 * "http-digest-akav2-password")), PRF being HMAC-MD5 keyed with the first
 * argument.  RES is 4 to 16 octets (TS 33.102 6.3.1).
 */
#define AKAV2_LABEL "http-digest-akav2-password"
#define RES_MIN 4
#define RES_MAX 16

gba_err gba_digest_akav2_password(char out[25], const uint8_t *res, size_t res_len,
				  const uint8_t ik[16], const uint8_t ck[16])
{
	uint8_t key[RES_MAX + 32], mac[MD5_LEN];
	struct hmac_md5_ctx ctx;
	gba_err err;

	if (!out || !res || !ik || !ck)
		return GBA_ERR_INVALID_ARG;
	if (res_len < RES_MIN || res_len > RES_MAX)
		return GBA_ERR_BAD_LENGTH;
	memcpy(key, res, res_len);
	memcpy(key + res_len, ik, 16);
	memcpy(key + res_len + 16, ck, 16);
	hmac_md5_set_key(&ctx, res_len + 32, key);
	hmac_md5_update(&ctx, sizeof(AKAV2_LABEL) - 1, (const uint8_t *)AKAV2_LABEL);
	hmac_md5_digest(&ctx, sizeof(mac), mac);
	err = gba_base64_encode(out, 25, NULL, mac, sizeof(mac));
	gba_wipe(key, sizeof(key));
	gba_wipe(mac, sizeof(mac));
	gba_wipe(&ctx, sizeof(ctx));
	return err;
}

/* ASCII lower case without a branch on the (peer-controlled) byte. */
static void fold_hex(char out[GBA_DIGEST_HEX_LEN], const char *in)
{
	for (size_t i = 0; i < GBA_DIGEST_HEX_LEN; i++) {
		unsigned char c = (unsigned char)in[i];
		/* 0x20 when c is in 'A'..'Z', 0 otherwise. */
		unsigned upper = ((unsigned)(c - 'A') <= 'Z' - 'A') << 5;
		out[i] = (char)(c | upper);
	}
}

/*
 * Peers may send the digest in upper case, so both sides are folded before
 * the constant-time comparison.  The length is not secret (a digest is
 * always 32 characters), so a wrong one fails early.
 */
gba_err gba_digest_verify(const char expected[33], const char *got, size_t got_len)
{
	char want[GBA_DIGEST_HEX_LEN], have[GBA_DIGEST_HEX_LEN];
	int ok;

	if (!expected || (!got && got_len))
		return GBA_ERR_INVALID_ARG;
	if (got_len != GBA_DIGEST_HEX_LEN)
		return GBA_ERR_AUTH_FAILED;
	fold_hex(want, expected);
	fold_hex(have, got);
	ok = gba_ct_equal(want, have, GBA_DIGEST_HEX_LEN);
	gba_wipe(want, sizeof(want));
	gba_wipe(have, sizeof(have));
	return ok ? GBA_OK : GBA_ERR_AUTH_FAILED;
}
