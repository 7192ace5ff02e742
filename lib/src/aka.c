/*
 * aka.c - UMTS AKA, 3GPP TS 33.102 6.3: vectors and resynchronisation on
 * the network side, AUTN checking on the USIM side, over Milenage or TUAK.
 */
#include <string.h>

#include <gba/aka.h>
#include <gba/milenage.h>
#include <gba/tuak.h>
#include <gba/util.h>

static const uint8_t amf_resync[2] = { 0x00, 0x00 };  /* 6.3.3: dummy AMF for MAC-S */

static void sqn_to_bytes(uint8_t out[6], uint64_t sqn)
{
	for (int i = 5; i >= 0; i--) {
		out[i] = (uint8_t)sqn;
		sqn >>= 8;
	}
}

static uint64_t sqn_from_bytes(const uint8_t in[6])
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | in[i];
	return v;
}

void gba_aka_key_milenage(struct gba_aka_key *key, const uint8_t k[16],
			  const uint8_t op_or_opc[16], int opc_is_op)
{
	memset(key, 0, sizeof(*key));
	key->algo = GBA_AKA_MILENAGE;
	memcpy(key->k, k, 16);
	key->k_len = 16;
	if (opc_is_op)
		gba_milenage_opc(key->opc, k, op_or_opc);
	else
		memcpy(key->opc, op_or_opc, 16);
	key->res_len = 8;
}

gba_err gba_aka_key_tuak(struct gba_aka_key *key, const uint8_t *k, size_t k_len,
			 const uint8_t top_or_topc[32], int top_is_top,
			 unsigned iterations, size_t res_len)
{
	if (!key || !k || !top_or_topc)
		return GBA_ERR_INVALID_ARG;
	if ((k_len != 16 && k_len != 32) || iterations == 0 ||
	    iterations > GBA_TUAK_ITERATIONS_MAX ||
	    (res_len != 4 && res_len != 8 && res_len != 16))
		return GBA_ERR_BAD_LENGTH;
	memset(key, 0, sizeof(*key));
	key->algo = GBA_AKA_TUAK;
	memcpy(key->k, k, k_len);
	key->k_len = k_len;
	key->tuak_iterations = iterations;
	key->res_len = res_len;
	if (top_is_top)
		return gba_tuak_topc(key->opc, k, k_len, top_or_topc, iterations);
	memcpy(key->opc, top_or_topc, 32);
	return GBA_OK;
}

static gba_err check_key(const struct gba_aka_key *key)
{
	switch (key->algo) {
	case GBA_AKA_MILENAGE:
		return key->k_len == 16 && key->res_len == 8 ? GBA_OK : GBA_ERR_BAD_LENGTH;
	case GBA_AKA_TUAK:
		if ((key->k_len != 16 && key->k_len != 32) || key->tuak_iterations == 0 ||
		    key->tuak_iterations > GBA_TUAK_ITERATIONS_MAX)
			return GBA_ERR_BAD_LENGTH;
		return key->res_len == 4 || key->res_len == 8 || key->res_len == 16 ?
			       GBA_OK : GBA_ERR_BAD_LENGTH;
	}
	return GBA_ERR_UNSUPPORTED;
}

static void tuak_key_of(const struct gba_aka_key *key, struct gba_tuak_key *tk)
{
	memcpy(tk->k, key->k, sizeof(tk->k));
	tk->k_len = key->k_len;
	memcpy(tk->topc, key->opc, sizeof(tk->topc));
	tk->iterations = key->tuak_iterations;
}

/*
 * The algorithm functions behind one interface.  f1 gives MAC-A (8
 * octets) and/or MAC-S; f2345 gives RES (key->res_len octets), CK, IK,
 * AK, AK*; any output may be NULL.
 */
static gba_err algo_f1(const struct gba_aka_key *key, const uint8_t rand[16],
		       const uint8_t sqn[6], const uint8_t amf[2],
		       uint8_t mac_a[8], uint8_t mac_s[8])
{
	if (key->algo == GBA_AKA_MILENAGE) {
		struct gba_milenage_ctx ctx;
		gba_milenage_init(&ctx, key->k, key->opc);
		gba_milenage_f1(&ctx, rand, sqn, amf, mac_a, mac_s);
		gba_milenage_clear(&ctx);
		return GBA_OK;
	}
	struct gba_tuak_key tk;
	gba_err err = GBA_OK;
	tuak_key_of(key, &tk);
	if (mac_a)
		err = gba_tuak_f1(&tk, rand, sqn, amf, mac_a, 8);
	if (!err && mac_s)
		err = gba_tuak_f1s(&tk, rand, sqn, amf, mac_s, 8);
	gba_wipe(&tk, sizeof(tk));
	return err;
}

static gba_err algo_f2345(const struct gba_aka_key *key, const uint8_t rand[16],
			  uint8_t *res, uint8_t ck[16], uint8_t ik[16],
			  uint8_t ak[6], uint8_t ak_s[6])
{
	if (key->algo == GBA_AKA_MILENAGE) {
		struct gba_milenage_ctx ctx;
		gba_milenage_init(&ctx, key->k, key->opc);
		gba_milenage_f2345(&ctx, rand, res, ck, ik, ak, ak_s);
		gba_milenage_clear(&ctx);
		return GBA_OK;
	}
	struct gba_tuak_key tk;
	gba_err err = GBA_OK;
	tuak_key_of(key, &tk);
	if (res || ck || ik || ak)
		err = gba_tuak_f2345(&tk, rand, res, key->res_len, ck, 16, ik, 16, ak);
	if (!err && ak_s)
		err = gba_tuak_f5s(&tk, rand, ak_s);
	gba_wipe(&tk, sizeof(tk));
	return err;
}

/* MAC-A, XRES, CK, IK and AK for one vector, each algorithm its fastest way. */
static gba_err algo_vector(const struct gba_aka_key *key, const uint8_t rand[16],
			   const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8],
			   uint8_t *xres, uint8_t ck[16], uint8_t ik[16], uint8_t ak[6])
{
	if (key->algo == GBA_AKA_MILENAGE) {
		struct gba_milenage_ctx ctx;
		gba_milenage_init(&ctx, key->k, key->opc);
		gba_milenage_vector(&ctx, rand, sqn, amf, mac_a, xres, ck, ik, ak);
		gba_milenage_clear(&ctx);
		return GBA_OK;
	}
	gba_err err = algo_f2345(key, rand, xres, ck, ik, ak, NULL);
	return err ? err : algo_f1(key, rand, sqn, amf, mac_a, NULL);
}

gba_err gba_aka_gen_av(const struct gba_aka_key *key, const uint8_t amf[2],
		       uint64_t sqn, const uint8_t rand[16], struct gba_av *av)
{
	if (!key || !amf || !rand || !av)
		return GBA_ERR_INVALID_ARG;
	if (sqn > GBA_SQN_MAX)
		return GBA_ERR_SQN_RANGE;
	gba_err err = check_key(key);
	if (err)
		return err;

	uint8_t sqn_b[6], ak[6];
	sqn_to_bytes(sqn_b, sqn);
	memcpy(av->rand, rand, 16);
	err = algo_vector(key, rand, sqn_b, amf, av->autn + 8, av->xres, av->ck, av->ik, ak);
	if (err) {
		gba_wipe(av, sizeof(*av));
		return err;
	}
	/* AUTN = (SQN xor AK) || AMF || MAC-A */
	for (int i = 0; i < 6; i++)
		av->autn[i] = sqn_b[i] ^ ak[i];
	memcpy(av->autn + 6, amf, 2);
	av->xres_len = key->res_len;
	av->sqn = sqn;
	gba_wipe(ak, sizeof(ak));
	return GBA_OK;
}

gba_err gba_aka_resync(const struct gba_aka_key *key, const uint8_t rand[16],
		       const uint8_t auts[14], uint64_t *sqn_ms)
{
	if (!key || !rand || !auts || !sqn_ms)
		return GBA_ERR_INVALID_ARG;
	gba_err err = check_key(key);
	if (err)
		return err;

	uint8_t ak_s[6], sqn_b[6], mac_s[8];
	err = algo_f2345(key, rand, NULL, NULL, NULL, NULL, ak_s);
	if (err)
		return err;
	/* AUTS = (SQN_MS xor AK*) || MAC-S */
	for (int i = 0; i < 6; i++)
		sqn_b[i] = auts[i] ^ ak_s[i];
	err = algo_f1(key, rand, sqn_b, amf_resync, NULL, mac_s);
	if (!err && !gba_ct_equal(mac_s, auts + 6, 8))
		err = GBA_ERR_AUTS_INVALID;
	if (!err)
		*sqn_ms = sqn_from_bytes(sqn_b);
	gba_wipe(ak_s, sizeof(ak_s));
	gba_wipe(mac_s, sizeof(mac_s));
	return err;
}

/* The USIM's answer on a synchronisation failure (6.3.3). */
static gba_err usim_make_auts(const struct gba_aka_key *key, const struct gba_usim_sqn *st,
			      const uint8_t rand[16], uint8_t auts[14])
{
	uint8_t ak_s[6], sqn_ms[6];
	gba_err err = algo_f2345(key, rand, NULL, NULL, NULL, NULL, ak_s);
	if (err)
		return err;
	sqn_to_bytes(sqn_ms, gba_usim_sqn_ms(st));
	err = algo_f1(key, rand, sqn_ms, amf_resync, NULL, auts + 6);
	for (int i = 0; i < 6; i++)
		auts[i] = sqn_ms[i] ^ ak_s[i];
	gba_wipe(ak_s, sizeof(ak_s));
	return err;
}

gba_err gba_usim_authenticate(const struct gba_aka_key *key, struct gba_usim_sqn *st,
			      const uint8_t rand[16], const uint8_t autn[16],
			      struct gba_usim_answer *ans)
{
	if (!key || !st || !rand || !autn || !ans)
		return GBA_ERR_INVALID_ARG;
	gba_err err = check_key(key);
	if (err)
		return err;

	uint8_t ak[6], sqn_b[6], xmac[8];
	memset(ans, 0, sizeof(*ans));
	err = algo_f2345(key, rand, ans->res, ans->ck, ans->ik, ak, NULL);
	if (err)
		goto fail;
	for (int i = 0; i < 6; i++)
		sqn_b[i] = autn[i] ^ ak[i];

	/* MAC first: a forged AUTN must not move or reveal SQN state. */
	err = algo_f1(key, rand, sqn_b, autn + 6, xmac, NULL);
	if (err)
		goto fail;
	if (!gba_ct_equal(xmac, autn + 8, 8)) {
		err = GBA_ERR_MAC_FAILURE;
		goto fail;
	}

	uint64_t sqn = sqn_from_bytes(sqn_b);
	if (gba_usim_sqn_check(st, sqn) != GBA_OK) {
		gba_wipe(ans, sizeof(*ans));
		err = usim_make_auts(key, st, rand, ans->auts);
		if (!err)
			err = GBA_ERR_SYNC_FAILURE;
		goto out;
	}
	gba_usim_sqn_accept(st, sqn);
	ans->res_len = key->res_len;
	goto out;
fail:
	gba_wipe(ans, sizeof(*ans));
out:
	gba_wipe(ak, sizeof(ak));
	gba_wipe(xmac, sizeof(xmac));
	return err;
}
