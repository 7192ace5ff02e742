/*
 * gba/kdf.h - GBA key derivation (3GPP TS 33.220 Annex B) and identifiers.
 *
 *   Ks         = CK || IK
 *   Ks_NAF     = KDF(Ks, FC=0x01, "gba-me", RAND, IMPI, NAF_Id)   (GBA_ME)
 *   Ks_ext_NAF = the same formula                                 (GBA_U)
 *   Ks_int_NAF = KDF(Ks, FC=0x01, "gba-u",  RAND, IMPI, NAF_Id)   (GBA_U)
 *   NAF_Id     = NAF FQDN || Ua security protocol id (5 octets, Annex H)
 *   B-TID      = base64(RAND) "@" BSF server domain name
 *   TMPI       = base64(first 24 octets of KDF(Ks, 0x01, "gba-me", RAND,
 *                IMPI, BSF_Id)) "@tmpi.bsf.3gppnetwork.org"
 */
#ifndef GBA_KDF_H
#define GBA_KDF_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_KDF_OUT_LEN   32
#define GBA_KS_NAF_LEN    32
#define GBA_UA_ID_LEN     5
#define GBA_FC_GBA        0x01   /* FC of the GBA NAF key derivations */

/* One parameter Pi of the KDF input S. */
struct gba_kdf_param {
	const uint8_t *data;
	size_t len;             /* < 65536: Li is two octets */
};

/*
 * The generic KDF: HMAC-SHA-256(key, FC || P0 || L0 || ... || Pn || Ln).
 * At most 8 parameters; out receives 32 octets.
 */
gba_err gba_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
		const struct gba_kdf_param *params, size_t n_params,
		uint8_t out[32]);

/* Ks_NAF (GBA_ME) and Ks_ext_NAF (GBA_U): the "gba-me" derivation. */
gba_err gba_ks_naf(const uint8_t ks[32], const uint8_t rand[16],
		   const char *impi, size_t impi_len,
		   const uint8_t *naf_id, size_t naf_id_len, uint8_t out[32]);

/* Ks_int_NAF (GBA_U): the "gba-u" derivation. */
gba_err gba_ks_int_naf(const uint8_t ks[32], const uint8_t rand[16],
		       const char *impi, size_t impi_len,
		       const uint8_t *naf_id, size_t naf_id_len, uint8_t out[32]);

/* Ua security protocol identifiers (TS 33.220 Annex H). */
extern const uint8_t GBA_UA_PKI_PORTAL[5];        /* 01 00 00 00 00 */
extern const uint8_t GBA_UA_MBMS[5];              /* 01 00 00 00 01 */
extern const uint8_t GBA_UA_HTTP_DIGEST[5];       /* 01 00 00 00 02 (TS 24.109) */
extern const uint8_t GBA_UA_GPL[5];               /* 01 00 00 00 05 */
extern const uint8_t GBA_UA_IMS_UE_KMS[5];        /* 01 00 00 00 06 */
extern const uint8_t GBA_UA_TLS13[5];             /* 01 00 00 00 07 (TS 33.222) */
extern const uint8_t GBA_UA_TMPI[5];              /* 01 00 00 01 00 */
extern const uint8_t GBA_UA_TLS12_PSK_AES128_CBC_SHA256[5]; /* 01 00 01 00 AE */

/*
 * Shared-key TLS 1.2 (TS 33.222): 01 00 01 yy zz where yy zz is the
 * cipher suite.
 */
void gba_ua_id_tls12(uint8_t out[5], uint16_t cipher_suite);

/*
 * NAF_Id = fqdn || ua_id.  *out_len receives fqdn_len + 5.  The FQDN must
 * be non-empty, at most 255 octets, with no NUL.
 */
gba_err gba_naf_id(uint8_t *out, size_t out_size, size_t *out_len,
		   const char *fqdn, size_t fqdn_len, const uint8_t ua_id[5]);

/* Longest B-TID we build or accept: base64 of RAND (24) + '@' + domain. */
#define GBA_BTID_MAX 280

/*
 * B-TID = base64(RAND) "@" domain, NUL-terminated.  The domain must be a
 * non-empty host name of at most 255 octets.
 */
gba_err gba_btid(char *out, size_t out_size, const uint8_t rand[16],
		 const char *domain, size_t domain_len);

/*
 * Split a B-TID into its RAND and its domain (a pointer into btid).
 * GBA_ERR_PARSE when there is no '@', GBA_ERR_BAD_BASE64 or
 * GBA_ERR_BAD_LENGTH when the local part is not base64 of 16 octets.
 */
gba_err gba_btid_parse(const char *btid, size_t btid_len, uint8_t rand[16],
		       const char **domain, size_t *domain_len);

#define GBA_TMPI_DOMAIN "tmpi.bsf.3gppnetwork.org"
#define GBA_TMPI_MAX (32 + 1 + sizeof(GBA_TMPI_DOMAIN))

/* TMPI (TS 33.220 4.5.2 / Annex B), NUL-terminated. */
gba_err gba_tmpi(char *out, size_t out_size, const uint8_t ks[32],
		 const uint8_t rand[16], const char *impi, size_t impi_len,
		 const char *bsf_name, size_t bsf_name_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_KDF_H */
