/*
 * gba/tuak.h - the TUAK algorithm set (3GPP TS 35.231), on the
 * Keccak-f[1600] permutation.
 *
 * K is 16 or 32 octets.  TOP and TOPc are 32 octets.  The number of
 * Keccak iterations is an operator parameter (1 in most deployments).
 * Output lengths are those TS 35.231 allows:
 *   MAC-A / MAC-S: 8, 16 or 32 octets
 *   RES:           4, 8, 16 or 32 octets
 *   CK, IK:        16 or 32 octets
 *   AK, AK*:       6 octets
 * Functions return GBA_ERR_BAD_LENGTH for any other length, and
 * GBA_ERR_INVALID_ARG for a NULL pointer or an iteration count outside
 * 1..GBA_TUAK_ITERATIONS_MAX.  f2345's lengths select the TUAK instance, so
 * they must be the subscriber's real ones even for outputs passed as NULL.
 */
#ifndef GBA_TUAK_H
#define GBA_TUAK_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_TUAK_TOP_LEN 32
/*
 * TS 35.231 leaves the iteration count to the operator; a bound keeps a
 * corrupt subscriber record from stalling a server thread.
 */
#define GBA_TUAK_ITERATIONS_MAX 255

/* The subscriber parameters TUAK needs besides RAND/SQN/AMF.  It holds K
 * and TOPc: wipe it with gba_wipe() when done. */
struct gba_tuak_key {
	uint8_t k[32];
	size_t k_len;           /* 16 or 32 */
	uint8_t topc[32];
	unsigned iterations;    /* Keccak iterations, >= 1 */
};

/* TOPc from TOP and K (TS 35.231 6.2). */
gba_err gba_tuak_topc(uint8_t topc[32], const uint8_t *k, size_t k_len,
		      const uint8_t top[32], unsigned iterations);

/* f1 (MAC-A) and f1* (MAC-S), mac_len octets. */
gba_err gba_tuak_f1(const struct gba_tuak_key *key, const uint8_t rand[16],
		    const uint8_t sqn[6], const uint8_t amf[2],
		    uint8_t *mac_a, size_t mac_len);
gba_err gba_tuak_f1s(const struct gba_tuak_key *key, const uint8_t rand[16],
		     const uint8_t sqn[6], const uint8_t amf[2],
		     uint8_t *mac_s, size_t mac_len);

/*
 * f2, f3, f4 and f5 in one permutation run: RES (res_len octets), CK
 * (ck_len), IK (ik_len) and AK (6).  res, ck, ik and ak may each be NULL;
 * the lengths still select the TUAK instance and must be valid.
 */
gba_err gba_tuak_f2345(const struct gba_tuak_key *key, const uint8_t rand[16],
		       uint8_t *res, size_t res_len,
		       uint8_t *ck, size_t ck_len,
		       uint8_t *ik, size_t ik_len,
		       uint8_t ak[6]);

/* f5*: AK* for resynchronisation. */
gba_err gba_tuak_f5s(const struct gba_tuak_key *key, const uint8_t rand[16],
		     uint8_t ak_s[6]);

#ifdef __cplusplus
}
#endif
#endif /* GBA_TUAK_H */
