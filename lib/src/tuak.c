/*
 * tuak.c - the TUAK algorithm set (3GPP TS 35.231) on nettle's
 * Keccak-f[1600] permutation.
 *
 * Every TUAK function is one run of the same construction (TS 35.231
 * clause 6): a 1600-bit state IN is filled with TOPc, an INSTANCE octet,
 * the name "TUAK1.0", RAND, AMF, SQN, K and fixed padding bits;
 * Keccak-f[1600] is applied "iterations" times; the outputs are read from
 * fixed places in OUT.  Only INSTANCE tells the functions apart, so f2,
 * f3, f4 and f5 share one run.
 *
 * Bit order.  TS 35.231 numbers the bits of every 3GPP value MSB first
 * (X[0] is the most significant bit) and the bits of the Keccak state as
 * in the Keccak reference, where state bit 8j+b is bit b (LSB = 0) of
 * state octet j.  Every field is placed reversed (IN[n+i] = X[len-1-i]),
 * which, with the LSB-first octets of the state, comes out as: the octets
 * of each field in reverse order, the bits within each octet unchanged.
 * Outputs are read the same way back.  So this file only ever reverses
 * octet strings, never bits.
 *
 * State octet j lives in nettle's lane j/8, shifted left by 8*(j%8)
 * (FIPS 202 order), which we address explicitly so that the code does not
 * depend on the host's endianness.
 */

#include <stdint.h>
#include <string.h>

#include <nettle/sha3.h>

#include <gba/tuak.h>
#include <gba/util.h>

/*
 * Octet offsets of the fields in IN (TS 35.231 clause 6, with the bit
 * ranges divided by 8).
 */
enum {
	TUAK_IN_TOP = 0,        /* IN[0..255]:    TOPc (TOP for TOPc itself) */
	TUAK_IN_INSTANCE = 32,  /* IN[256..263]:  INSTANCE */
	TUAK_IN_ALGONAME = 33,  /* IN[264..319]:  ALGONAME */
	TUAK_IN_RAND = 40,      /* IN[320..447]:  RAND */
	TUAK_IN_AMF = 56,       /* IN[448..463]:  AMF */
	TUAK_IN_SQN = 58,       /* IN[464..511]:  SQN */
	TUAK_IN_KEY = 64,       /* IN[512..767]:  K, zero-extended to 256 bit */
	TUAK_IN_PAD = 96,       /* IN[768..772]:  ones, then zeros */
	TUAK_IN_PAD_END = 135,  /* IN[1087] = 1;  IN[1088..1599] stay zero */
};

/* Octet offsets of the outputs in OUT (TS 35.231 6.1 to 6.5). */
enum {
	TUAK_OUT_MAC = 0,       /* MAC-A, MAC-S, RES and TOPc start at OUT[0] */
	TUAK_OUT_CK = 32,       /* OUT[256..] */
	TUAK_OUT_IK = 64,       /* OUT[512..] */
	TUAK_OUT_AK = 96,       /* OUT[768..815] */
};

/*
 * INSTANCE (TS 35.231 6.1 to 6.5), written as an octet value, so that
 * INSTANCE[0] is its most significant bit: the two high bits choose the
 * function, the middle bits the output lengths, the low bit the length
 * of K.
 */
enum {
	TUAK_INST_F1 = 0x00,
	TUAK_INST_F2345 = 0x40,
	TUAK_INST_F1S = 0x80,
	TUAK_INST_F5S = 0xc0,
	TUAK_INST_OUT_64 = 0x08,     /* MAC or RES of 64 bits */
	TUAK_INST_OUT_128 = 0x10,    /* MAC or RES of 128 bits */
	TUAK_INST_OUT_256 = 0x20,    /* MAC or RES of 256 bits */
	TUAK_INST_CK_256 = 0x04,
	TUAK_INST_IK_256 = 0x02,
	TUAK_INST_K_256 = 0x01,
};

/* ALGONAME, as the spec writes it; placed reversed like every field. */
static const char tuak_algoname[7] = { 'T', 'U', 'A', 'K', '1', '.', '0' };

static void state_set(struct sha3_state *st, size_t j, uint8_t v)
{
	st->a[j >> 3] |= (uint64_t)v << (8 * (j & 7));
}

static uint8_t state_get(const struct sha3_state *st, size_t j)
{
	return (uint8_t)(st->a[j >> 3] >> (8 * (j & 7)));
}

/* Put the len octets of x into IN at octet offset off, last octet first. */
static void state_put(struct sha3_state *st, size_t off,
		      const uint8_t *x, size_t len)
{
	for (size_t i = 0; i < len; i++)
		state_set(st, off + i, x[len - 1 - i]);
}

/* Read len octets of OUT from octet offset off, last octet first. */
static void state_take(const struct sha3_state *st, size_t off,
		       uint8_t *x, size_t len)
{
	for (size_t i = 0; i < len; i++)
		x[len - 1 - i] = state_get(st, off + i);
}

/*
 * The common core of TS 35.231 clause 6: build IN and permute.  rand, amf
 * and sqn may be NULL where the function takes them as zero (f2345, f5*
 * and TOPc).  The caller wipes st, which holds K until then.
 */
static void tuak_run(struct sha3_state *st, const uint8_t top[32],
		     uint8_t instance, const uint8_t *rand,
		     const uint8_t *amf, const uint8_t *sqn,
		     const uint8_t *k, size_t k_len, unsigned iterations)
{
	memset(st, 0, sizeof(*st));

	state_put(st, TUAK_IN_TOP, top, 32);
	state_set(st, TUAK_IN_INSTANCE, instance);
	state_put(st, TUAK_IN_ALGONAME, (const uint8_t *)tuak_algoname,
		  sizeof(tuak_algoname));
	if (rand)
		state_put(st, TUAK_IN_RAND, rand, 16);
	if (amf)
		state_put(st, TUAK_IN_AMF, amf, 2);
	if (sqn)
		state_put(st, TUAK_IN_SQN, sqn, 6);
	/* A 128-bit K fills IN[512..639]; IN[640..767] stay zero. */
	state_put(st, TUAK_IN_KEY, k, k_len);
	state_set(st, TUAK_IN_PAD, 0x1f);
	state_set(st, TUAK_IN_PAD_END, 0x80);

	for (unsigned i = 0; i < iterations; i++)
		sha3_permute(st);
}

static gba_err k_instance(size_t k_len, uint8_t *inst)
{
	switch (k_len) {
	case 16:
		return GBA_OK;
	case 32:
		*inst |= TUAK_INST_K_256;
		return GBA_OK;
	default:
		return GBA_ERR_BAD_LENGTH;
	}
}

/* The INSTANCE bits for a MAC-A/MAC-S or RES length; RES may be 32 bits. */
static gba_err out_instance(size_t len, int allow_32, uint8_t *inst)
{
	switch (len) {
	case 4:
		if (!allow_32)
			return GBA_ERR_BAD_LENGTH;
		return GBA_OK;  /* 32-bit RES: no bit set */
	case 8:
		*inst |= TUAK_INST_OUT_64;
		return GBA_OK;
	case 16:
		*inst |= TUAK_INST_OUT_128;
		return GBA_OK;
	case 32:
		*inst |= TUAK_INST_OUT_256;
		return GBA_OK;
	default:
		return GBA_ERR_BAD_LENGTH;
	}
}

static gba_err check_key(const struct gba_tuak_key *key, uint8_t *inst)
{
	if (key->iterations == 0 || key->iterations > GBA_TUAK_ITERATIONS_MAX)
		return GBA_ERR_INVALID_ARG;
	return k_instance(key->k_len, inst);
}

/*
 * TS 35.231 6.1: TOPc from TOP, with RAND, AMF and SQN zero and INSTANCE
 * holding only the length of K.
 */
gba_err gba_tuak_topc(uint8_t topc[32], const uint8_t *k, size_t k_len,
		      const uint8_t top[32], unsigned iterations)
{
	struct sha3_state st;
	uint8_t inst = 0x00;
	gba_err err;

	if (!topc || !k || !top || iterations == 0 || iterations > GBA_TUAK_ITERATIONS_MAX)
		return GBA_ERR_INVALID_ARG;
	err = k_instance(k_len, &inst);
	if (err != GBA_OK)
		return err;

	/* top is consumed before topc is written, so they may alias. */
	tuak_run(&st, top, inst, NULL, NULL, NULL, k, k_len, iterations);
	state_take(&st, TUAK_OUT_MAC, topc, 32);

	gba_wipe(&st, sizeof(st));
	return GBA_OK;
}

/* f1 (TS 35.231 6.2) and f1* (6.3) differ only in INSTANCE. */
static gba_err tuak_f1_common(uint8_t inst, const struct gba_tuak_key *key,
			      const uint8_t rand[16], const uint8_t sqn[6],
			      const uint8_t amf[2], uint8_t *mac,
			      size_t mac_len)
{
	struct sha3_state st;
	gba_err err;

	if (!key || !rand || !sqn || !amf || !mac)
		return GBA_ERR_INVALID_ARG;
	err = check_key(key, &inst);
	if (err == GBA_OK)
		err = out_instance(mac_len, 0, &inst);
	if (err != GBA_OK)
		return err;

	tuak_run(&st, key->topc, inst, rand, amf, sqn, key->k, key->k_len,
		 key->iterations);
	state_take(&st, TUAK_OUT_MAC, mac, mac_len);

	gba_wipe(&st, sizeof(st));
	return GBA_OK;
}

gba_err gba_tuak_f1(const struct gba_tuak_key *key, const uint8_t rand[16],
		    const uint8_t sqn[6], const uint8_t amf[2],
		    uint8_t *mac_a, size_t mac_len)
{
	return tuak_f1_common(TUAK_INST_F1, key, rand, sqn, amf, mac_a,
			      mac_len);
}

gba_err gba_tuak_f1s(const struct gba_tuak_key *key, const uint8_t rand[16],
		     const uint8_t sqn[6], const uint8_t amf[2],
		     uint8_t *mac_s, size_t mac_len)
{
	return tuak_f1_common(TUAK_INST_F1S, key, rand, sqn, amf, mac_s,
			      mac_len);
}

/*
 * TS 35.231 6.4: one permutation run gives RES, CK, IK and AK side by
 * side in OUT.  The RES, CK and IK lengths are all coded in INSTANCE, so
 * each of them changes every output: they must be the subscriber's even
 * for the outputs the caller passes as NULL.
 */
gba_err gba_tuak_f2345(const struct gba_tuak_key *key, const uint8_t rand[16],
		       uint8_t *res, size_t res_len,
		       uint8_t *ck, size_t ck_len,
		       uint8_t *ik, size_t ik_len,
		       uint8_t ak[6])
{
	struct sha3_state st;
	uint8_t inst = TUAK_INST_F2345;
	gba_err err;

	if (!key || !rand)
		return GBA_ERR_INVALID_ARG;
	err = check_key(key, &inst);
	if (err == GBA_OK)
		err = out_instance(res_len, 1, &inst);
	if (err != GBA_OK)
		return err;
	if ((ck_len != 16 && ck_len != 32) || (ik_len != 16 && ik_len != 32))
		return GBA_ERR_BAD_LENGTH;
	if (ck_len == 32)
		inst |= TUAK_INST_CK_256;
	if (ik_len == 32)
		inst |= TUAK_INST_IK_256;

	if (!res && !ck && !ik && !ak)
		return GBA_OK;

	tuak_run(&st, key->topc, inst, rand, NULL, NULL, key->k, key->k_len,
		 key->iterations);
	if (res)
		state_take(&st, TUAK_OUT_MAC, res, res_len);
	if (ck)
		state_take(&st, TUAK_OUT_CK, ck, ck_len);
	if (ik)
		state_take(&st, TUAK_OUT_IK, ik, ik_len);
	if (ak)
		state_take(&st, TUAK_OUT_AK, ak, 6);

	gba_wipe(&st, sizeof(st));
	return GBA_OK;
}

/* TS 35.231 6.5: AK* comes from the same place in OUT as AK. */
gba_err gba_tuak_f5s(const struct gba_tuak_key *key, const uint8_t rand[16],
		     uint8_t ak_s[6])
{
	struct sha3_state st;
	uint8_t inst = TUAK_INST_F5S;
	gba_err err;

	if (!key || !rand || !ak_s)
		return GBA_ERR_INVALID_ARG;
	err = check_key(key, &inst);
	if (err != GBA_OK)
		return err;

	tuak_run(&st, key->topc, inst, rand, NULL, NULL, key->k, key->k_len,
		 key->iterations);
	state_take(&st, TUAK_OUT_AK, ak_s, 6);

	gba_wipe(&st, sizeof(st));
	return GBA_OK;
}
