/*
 * gba/milenage.h - the Milenage algorithm set (3GPP TS 35.205/35.206).
 *
 * f1, f1*, f2, f3, f4, f5 and f5* on AES-128 (nettle), and OPc from OP.
 * A context holds the expanded key and OPc so that one vector costs one
 * key schedule and at most six block encryptions.  Wipe contexts with
 * gba_milenage_clear() when done: they hold the subscriber's secrets.
 */
#ifndef GBA_MILENAGE_H
#define GBA_MILENAGE_H

#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_MILENAGE_K_LEN   16
#define GBA_MILENAGE_OP_LEN  16
#define GBA_RAND_LEN         16
#define GBA_SQN_LEN          6
#define GBA_AMF_LEN          2
#define GBA_MAC_LEN          8
#define GBA_AK_LEN           6

/*
 * The expanded E_K and OPc.  Its layout is private to libgba: treat it as
 * opaque storage of a fixed size that callers may place on the stack.
 */
struct gba_milenage_ctx {
	union {
		uint64_t align;
		uint8_t bytes[256];
	} priv;
};

/* OPc = E_K(OP) xor OP (TS 35.206 4.1). */
void gba_milenage_opc(uint8_t opc[16], const uint8_t k[16], const uint8_t op[16]);

/* Prepare a context from K and OPc. */
void gba_milenage_init(struct gba_milenage_ctx *ctx, const uint8_t k[16],
		       const uint8_t opc[16]);

/* Wipe a context. */
void gba_milenage_clear(struct gba_milenage_ctx *ctx);

/*
 * f1 and f1*: MAC-A and MAC-S over SQN and AMF.  Either output may be NULL
 * when it is not wanted.
 */
void gba_milenage_f1(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
		     const uint8_t sqn[6], const uint8_t amf[2],
		     uint8_t mac_a[8], uint8_t mac_s[8]);

/*
 * f2, f3, f4, f5 and f5*: RES (8 octets), CK, IK, AK and AK*.  Any output
 * may be NULL; only the block encryptions needed are done.
 */
void gba_milenage_f2345(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
			uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
			uint8_t ak[6], uint8_t ak_s[6]);

/*
 * A whole authentication vector's outputs in one pass (TEMP computed
 * once, five block encryptions): MAC-A, RES, CK, IK and AK.  This is what
 * a network-side AuC calls; no output may be NULL.
 */
void gba_milenage_vector(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
			 const uint8_t sqn[6], const uint8_t amf[2],
			 uint8_t mac_a[8], uint8_t res[8], uint8_t ck[16],
			 uint8_t ik[16], uint8_t ak[6]);

/*
 * GSM-Milenage (TS 55.205): SRES and Kc from the Milenage outputs, for
 * 2G GBA.  Either output may be NULL.
 */
void gba_milenage_gsm(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
		      uint8_t sres[4], uint8_t kc[8]);

#ifdef __cplusplus
}
#endif
#endif /* GBA_MILENAGE_H */
