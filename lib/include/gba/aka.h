/*
 * gba/aka.h - UMTS AKA (3GPP TS 33.102 6.3) on Milenage or TUAK.
 *
 * Network side: build an authentication vector (RAND, AUTN, XRES, CK, IK)
 * for a subscriber and a SQN, pick the next SQN (SEQ/IND, TS 33.102
 * Annex C.3), and resynchronise from AUTS.
 * USIM side: check AUTN (MAC-A first, then Annex C freshness) and answer
 * RES/CK/IK, or AUTS on a synchronisation failure.
 *
 * SQNs are handled as 48-bit integers (uint64_t, high 16 bits zero).
 * RAND always comes from the caller: libgba has no random source of its own.
 */
#ifndef GBA_AKA_H
#define GBA_AKA_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_AUTN_LEN   16
#define GBA_AUTS_LEN   14
#define GBA_KS_LEN     32   /* CK || IK with 128-bit CK and IK */
#define GBA_RES_MAX    16
#define GBA_SQN_MAX    ((UINT64_C(1) << 48) - 1)

enum gba_aka_algo {
	GBA_AKA_MILENAGE = 0,
	GBA_AKA_TUAK = 1,
};

/*
 * A subscriber's long-term secret and algorithm choice.
 * Milenage: k_len 16, opc 16 octets; res_len 8; ck_len/ik_len 16.
 * TUAK: k_len 16 or 32, opc holds TOPc (32), iterations >= 1;
 *       res_len 4, 8 or 16; ck_len/ik_len 16 (32 is allowed by TUAK but
 *       not by 3G AKA, whose Ks is 32 octets); MAC is 8 octets in AUTN.
 * Wipe it with gba_wipe() when done.
 */
struct gba_aka_key {
	enum gba_aka_algo algo;
	uint8_t k[32];
	size_t k_len;
	uint8_t opc[32];
	unsigned tuak_iterations;
	size_t res_len;
};

/* An authentication vector.  Wipe it when done: it holds CK, IK, XRES. */
struct gba_av {
	uint8_t rand[16];
	uint8_t autn[16];
	uint8_t xres[GBA_RES_MAX];
	size_t xres_len;
	uint8_t ck[16];
	uint8_t ik[16];
	uint64_t sqn;               /* the SQN carried in AUTN */
};

/*
 * Fill a Milenage key from K and OP (opc_is_op != 0) or OPc.
 */
void gba_aka_key_milenage(struct gba_aka_key *key, const uint8_t k[16],
			  const uint8_t op_or_opc[16], int opc_is_op);

/*
 * Fill a TUAK key from K (16 or 32 octets) and TOP (top_is_top != 0) or
 * TOPc, with res_len 4, 8 or 16.
 */
gba_err gba_aka_key_tuak(struct gba_aka_key *key, const uint8_t *k, size_t k_len,
			 const uint8_t top_or_topc[32], int top_is_top,
			 unsigned iterations, size_t res_len);

/* ---- SQN handling (TS 33.102 Annex C) ---------------------------------- */

/*
 * The next SQN the network issues in slot ind: SEQ of the last used SQN
 * plus one, with IND = ind.  ind_bits is the IND length (0..10, 5 usual)
 * and ind < 2^ind_bits.  Returns GBA_ERR_SQN_RANGE when SEQ would wrap.
 */
gba_err gba_sqn_next(uint64_t last_sqn, unsigned ind_bits, unsigned ind,
		     uint64_t *next_sqn);

/*
 * The last SQN the network counts from after a verified resynchronisation
 * (TS 33.102 6.3.5, Annex C.3): SEQ_HE = max(SEQ_HE, SEQ_MS).  SQN_MS
 * (from gba_aka_resync) replaces sqn_he only when its SEQ is ahead; an
 * AUTS that is behind leaves sqn_he as it is, so the next vector
 * (gba_sqn_next from *last_sqn) is always fresh and no SQN is issued twice.
 * GBA_ERR_INVALID_ARG when an SQN is over 48 bits or ind_bits over 10.
 */
gba_err gba_sqn_after_resync(uint64_t sqn_he, uint64_t sqn_ms, unsigned ind_bits,
			     uint64_t *last_sqn);

/*
 * The USIM's SQN memory: one SEQ_MS per IND slot.  Annex C.2.2 with the
 * optional age limit not used.  Initialise with gba_usim_sqn_init().
 */
#define GBA_IND_SLOTS_MAX 32
struct gba_usim_sqn {
	uint64_t seq_ms[GBA_IND_SLOTS_MAX];
	unsigned ind_bits;   /* 5: 32 slots */
	uint64_t delta;      /* largest SEQ step accepted, 2^28 usual */
};

void gba_usim_sqn_init(struct gba_usim_sqn *st, unsigned ind_bits, uint64_t delta);

/*
 * SQN_MS, as sent in AUTS: the highest accepted SEQ with the IND of its
 * slot (TS 33.102 C.3.4).
 */
uint64_t gba_usim_sqn_ms(const struct gba_usim_sqn *st);

/*
 * Freshness check of sqn against the array (C.2.2): GBA_OK when SEQ >
 * SEQ_MS[IND] and SEQ - max(SEQ_MS) <= delta, GBA_ERR_SYNC_FAILURE
 * otherwise.  Does not change the state; gba_usim_sqn_accept() does.
 */
gba_err gba_usim_sqn_check(const struct gba_usim_sqn *st, uint64_t sqn);
void gba_usim_sqn_accept(struct gba_usim_sqn *st, uint64_t sqn);

/* ---- Network side ------------------------------------------------------- */

/*
 * Build the vector for a given SQN and RAND: AUTN = (SQN xor AK) || AMF ||
 * MAC-A, XRES, CK, IK.
 */
gba_err gba_aka_gen_av(const struct gba_aka_key *key, const uint8_t amf[2],
		       uint64_t sqn, const uint8_t rand[16], struct gba_av *av);

/*
 * Resynchronisation (TS 33.102 6.3.5): from the RAND of the failed
 * challenge and the USIM's AUTS, check MAC-S (computed with AMF 00 00) and
 * recover SQN_MS.  GBA_ERR_AUTS_INVALID when MAC-S does not verify.  The
 * caller then moves its last SQN with gba_sqn_after_resync() (forward
 * only) and issues gba_sqn_next().
 */
gba_err gba_aka_resync(const struct gba_aka_key *key, const uint8_t rand[16],
		       const uint8_t auts[14], uint64_t *sqn_ms);

/* ---- USIM side ---------------------------------------------------------- */

/* What a USIM answers to AUTHENTICATE.  Wipe it when done. */
struct gba_usim_answer {
	uint8_t res[GBA_RES_MAX];
	size_t res_len;
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t auts[GBA_AUTS_LEN];  /* set on GBA_ERR_SYNC_FAILURE */
};

/*
 * Run the USIM side of AKA on (RAND, AUTN):
 *   GBA_OK               - res/ck/ik set, the SQN accepted into *st;
 *   GBA_ERR_MAC_FAILURE  - MAC-A wrong, nothing set, state unchanged;
 *   GBA_ERR_SYNC_FAILURE - auts set, state unchanged.
 */
gba_err gba_usim_authenticate(const struct gba_aka_key *key, struct gba_usim_sqn *st,
			      const uint8_t rand[16], const uint8_t autn[16],
			      struct gba_usim_answer *ans);

#ifdef __cplusplus
}
#endif
#endif /* GBA_AKA_H */
