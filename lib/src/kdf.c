/*
 * kdf.c - the GBA key derivation function (3GPP TS 33.220 Annex B), the
 * NAF-specific keys, NAF_Id, B-TID and TMPI.
 */
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <gba/kdf.h>
#include <gba/util.h>

#define KDF_PARAMS_MAX 8

const uint8_t GBA_UA_PKI_PORTAL[5] = { 0x01, 0x00, 0x00, 0x00, 0x00 };
const uint8_t GBA_UA_MBMS[5] = { 0x01, 0x00, 0x00, 0x00, 0x01 };
const uint8_t GBA_UA_HTTP_DIGEST[5] = { 0x01, 0x00, 0x00, 0x00, 0x02 };
const uint8_t GBA_UA_GPL[5] = { 0x01, 0x00, 0x00, 0x00, 0x05 };
const uint8_t GBA_UA_IMS_UE_KMS[5] = { 0x01, 0x00, 0x00, 0x00, 0x06 };
const uint8_t GBA_UA_TLS13[5] = { 0x01, 0x00, 0x00, 0x00, 0x07 };
const uint8_t GBA_UA_TMPI[5] = { 0x01, 0x00, 0x00, 0x01, 0x00 };
const uint8_t GBA_UA_TLS12_PSK_AES128_CBC_SHA256[5] = { 0x01, 0x00, 0x01, 0x00, 0xae };

void gba_ua_id_tls12(uint8_t out[5], uint16_t cipher_suite)
{
	out[0] = 0x01;
	out[1] = 0x00;
	out[2] = 0x01;
	out[3] = (uint8_t)(cipher_suite >> 8);
	out[4] = (uint8_t)cipher_suite;
}

/*
 * S = FC || P0 || L0 || ... is fed to HMAC piece by piece: no buffer, no
 * copy of the parameters, which can be long (NAF_Id carries an FQDN).
 */
gba_err gba_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
		const struct gba_kdf_param *params, size_t n_params,
		uint8_t out[32])
{
	if (!key || !out || (!params && n_params) || n_params > KDF_PARAMS_MAX)
		return GBA_ERR_INVALID_ARG;
	for (size_t i = 0; i < n_params; i++) {
		if (!params[i].data && params[i].len)
			return GBA_ERR_INVALID_ARG;
		if (params[i].len > 0xffff)
			return GBA_ERR_BAD_LENGTH;
	}

	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, key_len, key);
	hmac_sha256_update(&ctx, 1, &fc);
	for (size_t i = 0; i < n_params; i++) {
		uint8_t l[2] = { (uint8_t)(params[i].len >> 8), (uint8_t)params[i].len };
		hmac_sha256_update(&ctx, params[i].len, params[i].data);
		hmac_sha256_update(&ctx, 2, l);
	}
	hmac_sha256_digest(&ctx, GBA_KDF_OUT_LEN, out);
	gba_wipe(&ctx, sizeof(ctx));
	return GBA_OK;
}

/* KDF(Ks, 0x01, label, RAND, IMPI, id): Ks_NAF, Ks_int_NAF and TMPI. */
static gba_err label_kdf(const char *label, const uint8_t ks[32],
			     const uint8_t rand[16], const char *impi, size_t impi_len,
			     const uint8_t *id, size_t id_len, uint8_t out[32])
{
	if (!ks || !rand || !impi || !id || !out)
		return GBA_ERR_INVALID_ARG;
	const struct gba_kdf_param p[4] = {
		{ (const uint8_t *)label, strlen(label) },
		{ rand, 16 },
		{ (const uint8_t *)impi, impi_len },
		{ id, id_len },
	};
	return gba_kdf(ks, 32, GBA_FC_GBA, p, 4, out);
}

gba_err gba_ks_naf(const uint8_t ks[32], const uint8_t rand[16],
		   const char *impi, size_t impi_len,
		   const uint8_t *naf_id, size_t naf_id_len, uint8_t out[32])
{
	return label_kdf("gba-me", ks, rand, impi, impi_len, naf_id, naf_id_len, out);
}

gba_err gba_ks_int_naf(const uint8_t ks[32], const uint8_t rand[16],
		       const char *impi, size_t impi_len,
		       const uint8_t *naf_id, size_t naf_id_len, uint8_t out[32])
{
	return label_kdf("gba-u", ks, rand, impi, impi_len, naf_id, naf_id_len, out);
}

/* A host name as TS 33.220 uses them: 1..255 octets, printable, no '@'. */
static gba_err check_host(const char *name, size_t len)
{
	if (!name)
		return GBA_ERR_INVALID_ARG;
	if (len == 0 || len > 255)
		return GBA_ERR_BAD_LENGTH;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f || c == '@')
			return GBA_ERR_BAD_ENCODING;
	}
	return GBA_OK;
}

gba_err gba_naf_id(uint8_t *out, size_t out_size, size_t *out_len,
		   const char *fqdn, size_t fqdn_len, const uint8_t ua_id[5])
{
	if (!out || !ua_id)
		return GBA_ERR_INVALID_ARG;
	gba_err err = check_host(fqdn, fqdn_len);
	if (err)
		return err;
	if (out_size < fqdn_len + GBA_UA_ID_LEN)
		return GBA_ERR_BUFFER_TOO_SMALL;
	memcpy(out, fqdn, fqdn_len);
	memcpy(out + fqdn_len, ua_id, GBA_UA_ID_LEN);
	if (out_len)
		*out_len = fqdn_len + GBA_UA_ID_LEN;
	return GBA_OK;
}

/* "<base64 of len octets>@<domain>" into out. */
static gba_err b64_at_domain(char *out, size_t out_size, const uint8_t *data, size_t len,
			     const char *domain, size_t domain_len)
{
	size_t b64_len;
	if (!out || !data)
		return GBA_ERR_INVALID_ARG;
	if (out_size < GBA_BASE64_LEN(len) + 1 + domain_len + 1)
		return GBA_ERR_BUFFER_TOO_SMALL;
	gba_err err = gba_base64_encode(out, out_size, &b64_len, data, len);
	if (err)
		return err;
	out[b64_len] = '@';
	memcpy(out + b64_len + 1, domain, domain_len);
	out[b64_len + 1 + domain_len] = '\0';
	return GBA_OK;
}

gba_err gba_btid(char *out, size_t out_size, const uint8_t rand[16],
		 const char *domain, size_t domain_len)
{
	gba_err err = check_host(domain, domain_len);
	if (err)
		return err;
	return b64_at_domain(out, out_size, rand, 16, domain, domain_len);
}

gba_err gba_btid_parse(const char *btid, size_t btid_len, uint8_t rand[16],
		       const char **domain, size_t *domain_len)
{
	if (!btid || !rand || !domain || !domain_len)
		return GBA_ERR_INVALID_ARG;
	if (btid_len > GBA_BTID_MAX)
		return GBA_ERR_TOO_LARGE;
	const char *at = memchr(btid, '@', btid_len);
	if (!at)
		return GBA_ERR_PARSE;
	size_t local_len = (size_t)(at - btid);
	size_t dom_len = btid_len - local_len - 1;
	gba_err err = check_host(at + 1, dom_len);
	if (err)
		return err == GBA_ERR_BAD_LENGTH ? GBA_ERR_PARSE : err;
	/* base64 of 16 octets is exactly 24 characters ending in "==" */
	if (local_len != GBA_BASE64_LEN(16))
		return GBA_ERR_BAD_LENGTH;
	uint8_t tmp[18];
	size_t n;
	err = gba_base64_decode(tmp, sizeof(tmp), &n, btid, local_len);
	if (err)
		return err;
	if (n != 16)
		return GBA_ERR_BAD_LENGTH;
	memcpy(rand, tmp, 16);
	*domain = at + 1;
	*domain_len = dom_len;
	return GBA_OK;
}

gba_err gba_tmpi(char *out, size_t out_size, const uint8_t ks[32],
		 const uint8_t rand[16], const char *impi, size_t impi_len,
		 const char *bsf_name, size_t bsf_name_len)
{
	uint8_t bsf_id[255 + GBA_UA_ID_LEN], key[32];
	size_t bsf_id_len;
	gba_err err = gba_naf_id(bsf_id, sizeof(bsf_id), &bsf_id_len,
				 bsf_name, bsf_name_len, GBA_UA_TMPI);
	if (err)
		return err;
	err = label_kdf("gba-me", ks, rand, impi, impi_len, bsf_id, bsf_id_len, key);
	if (!err)
		err = b64_at_domain(out, out_size, key, 24, GBA_TMPI_DOMAIN,
				    sizeof(GBA_TMPI_DOMAIN) - 1);
	gba_wipe(key, sizeof(key));
	return err;
}
