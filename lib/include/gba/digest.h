/*
 * gba/digest.h - HTTP Digest for GBA: RFC 2617/7616 headers with the AKA
 * algorithms of RFC 3310 (AKAv1-MD5) and RFC 4169 (AKAv2-MD5), as Ub and
 * Ua use them (TS 24.109).
 *
 * Parsing never allocates: values are unescaped into a caller-provided
 * scratch buffer and the result struct points into it.  A scratch buffer
 * as large as the header plus GBA_DIGEST_PARAMS_MAX always suffices.
 * Unknown parameters are skipped; a known parameter given twice is
 * GBA_ERR_DUPLICATE_PARAM; NUL and control characters, and quoted strings
 * that are not valid UTF-8, are GBA_ERR_BAD_ENCODING.
 */
#ifndef GBA_DIGEST_H
#define GBA_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_DIGEST_HEADER_MAX 8192  /* longest header value accepted */
#define GBA_DIGEST_PARAMS_MAX 64    /* most parameters in one header */
#define GBA_DIGEST_HEX_LEN    32    /* an MD5 in hex */

/* A view of a string: NUL-terminated as well, ptr is NULL when absent. */
struct gba_str {
	const char *ptr;
	size_t len;
};

enum gba_digest_algorithm {
	GBA_DIGEST_ALG_UNSET = 0,
	GBA_DIGEST_ALG_MD5,
	GBA_DIGEST_ALG_AKAV1_MD5,
	GBA_DIGEST_ALG_AKAV2_MD5,
	GBA_DIGEST_ALG_OTHER,     /* named but not one of the above */
};

enum gba_digest_qop {
	GBA_QOP_NONE = 0,         /* RFC 2069 compatibility: no qop */
	GBA_QOP_AUTH = 1,
	GBA_QOP_AUTH_INT = 2,
};

/* Bits of a qop list in a challenge. */
#define GBA_QOP_BIT_AUTH     (1u << 0)
#define GBA_QOP_BIT_AUTH_INT (1u << 1)

/* WWW-Authenticate: Digest ... (a challenge). */
struct gba_digest_challenge {
	struct gba_str realm, nonce, opaque, domain, algorithm_name;
	enum gba_digest_algorithm algorithm;
	unsigned qop_mask;        /* GBA_QOP_BIT_*; 0 when absent */
	int stale;                /* stale=true */
};

/* Authorization: Digest ... (credentials, with the AKA auts). */
struct gba_digest_credentials {
	struct gba_str username, realm, nonce, uri, response, cnonce, opaque;
	struct gba_str nc, auts, algorithm_name;
	enum gba_digest_algorithm algorithm;
	enum gba_digest_qop qop;
};

/* Authentication-Info: ... */
struct gba_digest_auth_info {
	struct gba_str rspauth, cnonce, nc, nextnonce;
	enum gba_digest_qop qop;
};

/*
 * Parse a header value (without "WWW-Authenticate:" but with the
 * "Digest" scheme, which is matched case-insensitively).
 */
gba_err gba_digest_parse_challenge(const char *hdr, size_t len,
				   char *scratch, size_t scratch_size,
				   struct gba_digest_challenge *out);
gba_err gba_digest_parse_credentials(const char *hdr, size_t len,
				     char *scratch, size_t scratch_size,
				     struct gba_digest_credentials *out);
/* Authentication-Info has no scheme token: just the parameter list. */
gba_err gba_digest_parse_auth_info(const char *hdr, size_t len,
				   char *scratch, size_t scratch_size,
				   struct gba_digest_auth_info *out);

/*
 * Build header values, NUL-terminated, into out.  Strings whose ptr is NULL
 * are left out.  Quoted values are escaped (RFC 7616 3.3).  *out_len (may be
 * NULL) receives the length.  GBA_ERR_BUFFER_TOO_SMALL when out is short.
 */
gba_err gba_digest_build_challenge(char *out, size_t out_size, size_t *out_len,
				   const struct gba_digest_challenge *c);
gba_err gba_digest_build_credentials(char *out, size_t out_size, size_t *out_len,
				     const struct gba_digest_credentials *c);
gba_err gba_digest_build_auth_info(char *out, size_t out_size, size_t *out_len,
				   const struct gba_digest_auth_info *a);

/* Name as sent on the wire ("AKAv1-MD5"), or NULL for UNSET/OTHER. */
const char *gba_digest_algorithm_name(enum gba_digest_algorithm alg);

/* Name as sent on the wire ("auth", "auth-int"), or NULL for GBA_QOP_NONE. */
const char *gba_digest_qop_name(enum gba_digest_qop qop);

/* ---- Computation -------------------------------------------------------- */

/*
 * Everything a response computation needs.  All strings are (ptr, len);
 * the password is raw octets (AKAv1: RES itself).  For qop auth-int,
 * body/body_len is the entity body (may be empty).
 */
struct gba_digest_input {
	struct gba_str username, realm, method, uri, nonce, nc, cnonce;
	const uint8_t *password;
	size_t password_len;
	enum gba_digest_qop qop;
	const uint8_t *body;
	size_t body_len;
};

/*
 * AKAv2-MD5 password (RFC 4169): base64(HMAC-MD5(RES || IK || CK,
 * "http-digest-akav2-password")), 24 characters and a NUL.
 */
gba_err gba_digest_akav2_password(char out[25], const uint8_t *res, size_t res_len,
				  const uint8_t ik[16], const uint8_t ck[16]);

/* HA1 = MD5(username ":" realm ":" password), 16 octets. */
gba_err gba_digest_ha1(uint8_t ha1[16], const struct gba_digest_input *in);

/*
 * request-digest (RFC 2617 3.2.2.1) from a precomputed HA1, as 32 lowercase
 * hex characters and a NUL.  rspauth is the same with an empty method.
 */
gba_err gba_digest_response_ha1(char out[33], const uint8_t ha1[16],
				 const struct gba_digest_input *in);

/* HA1 and request-digest in one call. */
gba_err gba_digest_response(char out[33], const struct gba_digest_input *in);

/* rspauth for Authentication-Info: the response with method "". */
gba_err gba_digest_rspauth(char out[33], const struct gba_digest_input *in);

/*
 * Compare a received response (or rspauth) with the expected one in
 * constant time.  GBA_OK when equal (hex case-insensitive),
 * GBA_ERR_AUTH_FAILED otherwise.
 */
gba_err gba_digest_verify(const char expected[33], const char *got, size_t got_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_DIGEST_H */
