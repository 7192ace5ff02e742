/*
 * gba/kek.h - a key-encryption key (KEK) in a PKCS#11 token, for keeping
 * long-term keys (subscriber K and OPc, the NAF's Km) wrapped at rest.
 *
 * The KEK is an AES key that the token never reveals (CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false: a KEK that could leave the token is refused).  It
 * is named by an RFC 7512 URI, "pkcs11:token=LABEL;object=LABEL" (id=,
 * manufacturer=, serial=, model= also match), and found through p11-kit:
 * among the modules p11-kit has registered, or in the one module given.
 * The token's user PIN is read from a file that must be ours and mode
 * 0600; it never appears in a log or a command line.
 *
 * Wrapping is AES key wrap with padding (RFC 5649, CKM_AES_KEY_WRAP_PAD):
 * the secret becomes a session object of the token only for the wrap or
 * unwrap call and is destroyed right after; an unwrapped secret is the
 * caller's to use once and gba_wipe().  The wrapped form is 8 octets
 * longer than the secret rounded up to 8.  A handle may be used from
 * several threads at once (a pool of token sessions).
 */
#ifndef GBA_KEK_H
#define GBA_KEK_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_KEK_URI_MAX 512
#define GBA_KEK_CHECK_LEN 8
#define GBA_KEK_SECRET_MAX 64                        /* longest secret wrapped */
#define GBA_KEK_WRAPPED_MAX (GBA_KEK_SECRET_MAX + 8)  /* its wrapped form */

struct gba_kek;

/*
 * Open the KEK named by uri, logging in with the PIN in pin_file.  module
 * is a PKCS#11 module's path, or NULL for every module p11-kit knows.
 * Errors, with a sentence in why (may be NULL) that names the URI:
 *   GBA_ERR_PARSE          uri is not a pkcs11: object URI
 *   GBA_ERR_UNAVAILABLE    no module loads, or no token matches the URI
 *   GBA_ERR_NOT_FOUND      the token has no (or more than one) such AES key,
 *                          or pin_file is missing
 *   GBA_ERR_NOT_AUTHORIZED the PIN is wrong or locked, or pin_file is not
 *                          ours and 0600
 *   GBA_ERR_UNSUPPORTED    the key is extractable or not sensitive, may not
 *                          wrap and unwrap, or the token lacks RFC 5649
 */
gba_err gba_kek_open(struct gba_kek **out, const char *uri, const char *pin_file,
		     const char *module, char *why, size_t why_size);
void gba_kek_close(struct gba_kek *kek);

/* The URI it was opened with. */
const char *gba_kek_uri(const struct gba_kek *kek);

/*
 * A check value that identifies the key without revealing it: the first
 * GBA_KEK_CHECK_LEN octets of a fixed constant wrapped by the token.  Two
 * tokens with the same labels but different keys give different values.
 */
gba_err gba_kek_check_value(struct gba_kek *kek, uint8_t out[GBA_KEK_CHECK_LEN]);

/* Wrap in (1..GBA_KEK_SECRET_MAX octets) into out. */
gba_err gba_kek_wrap(struct gba_kek *kek, uint8_t *out, size_t out_size, size_t *out_len,
		     const uint8_t *in, size_t in_len);

/*
 * Unwrap in into out.  When in was not wrapped by this key, RFC 5649's
 * integrity check fails: GBA_ERR_AUTH_FAILED, or GBA_ERR_STORE from a token
 * that reports it as a general error (SoftHSM2 does).  GBA_ERR_UNAVAILABLE
 * when the token is gone.  The caller wipes out after its one use.
 */
gba_err gba_kek_unwrap(struct gba_kek *kek, uint8_t *out, size_t out_size, size_t *out_len,
		       const uint8_t *in, size_t in_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_KEK_H */
