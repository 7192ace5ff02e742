/*
 * gba/util.h - small helpers every part of the stack needs: wiping
 * secrets, constant-time comparison, hex and base64 with explicit lengths.
 *
 * All functions work on caller-owned buffers and never allocate.
 */
#ifndef GBA_UTIL_H
#define GBA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Overwrite n bytes at p with zeros in a way the compiler cannot elide.
 * Use it on every buffer that held K, OPc, CK, IK, Ks, Ks_NAF or a RES.
 */
void gba_wipe(void *p, size_t n);

/*
 * Fill out with n octets from the kernel's random generator (getrandom),
 * e.g. a RAND or a key.  GBA_ERR_UNAVAILABLE if the kernel refuses.
 */
gba_err gba_random(uint8_t *out, size_t n);

/*
 * A fresh AKA RAND (16 octets) from the same generator, for servers that
 * make one per authentication: each thread draws from a buffer of its own
 * that one getrandom call fills with 64 RANDs, so a busy BSF or HSS makes
 * one system call per 64 vectors instead of one per vector.  Octets handed
 * out are wiped from the buffer; a child after fork() starts with an empty
 * buffer, so parent and child never hand out the same RAND.
 */
gba_err gba_random_rand(uint8_t rand[16]);

/*
 * Compare n bytes of a and b in time that depends only on n.
 * Returns 1 when equal, 0 otherwise.
 */
int gba_ct_equal(const void *a, const void *b, size_t n);

/*
 * Hex encoding.  gba_hex_encode writes 2*len lowercase hex digits and a
 * terminating NUL; out_size must be at least 2*len + 1.
 */
gba_err gba_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t len);

/*
 * Decode hex_len hex digits (either case, no separators).  hex_len must be
 * even and hex_len/2 <= out_size.  *out_len receives the number of bytes.
 */
gba_err gba_hex_decode(uint8_t *out, size_t out_size, size_t *out_len,
		       const char *hex, size_t hex_len);

/* Length of the padded base64 encoding of n bytes, without the NUL. */
#define GBA_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Standard base64 (RFC 4648, with padding).  Writes the encoding and a NUL;
 * out_size must be at least GBA_BASE64_LEN(len) + 1.  *out_len (may be NULL)
 * receives the length without the NUL.
 */
gba_err gba_base64_encode(char *out, size_t out_size, size_t *out_len,
			  const uint8_t *in, size_t len);

/*
 * Decode standard base64.  Padding is required to be correct when present;
 * whitespace and characters outside the alphabet are errors.
 */
gba_err gba_base64_decode(uint8_t *out, size_t out_size, size_t *out_len,
			  const char *in, size_t in_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_UTIL_H */
