/*
 * gba/kcv.h - a key check value: a short public fingerprint of a key, so
 * two ends (client and NAF) can show they hold the same Ks_NAF without
 * printing it.
 *
 *   KCV = hex(first 3 octets of SHA-256(key))   (6 lowercase hex digits)
 *
 * 24 bits reveal nothing useful about a 256-bit key and are enough to spot
 * a mismatch by eye.  The definition is shared by gba-client and the NAF.
 */
#ifndef GBA_KCV_H
#define GBA_KCV_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_KCV_LEN 3          /* octets of the digest kept */
#define GBA_KCV_HEX_LEN 6      /* hex digits, without the NUL */

/* Write the KCV of key (key_len >= 1) as 6 hex digits and a NUL. */
gba_err gba_kcv(char out[GBA_KCV_HEX_LEN + 1], const uint8_t *key, size_t key_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_KCV_H */
