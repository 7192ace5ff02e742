/*
 * gba/naf.h - libgba-naf: what a NAF (or a oneM2M CSE acting as one) embeds
 * to get the key material of a bootstrapped UE from the BSF over Zn
 * (TS 29.109 clause 5, TS 33.220 4.5.3/5.3.3).
 *
 *   gba_naf_open(&cfg, &naf);                     a Zn client, + answer cache
 *   gba_naf_fetch_key(naf, btid, naf_id, len, &key);   BIR -> BIA (or cache)
 *   ... use key.ks_naf (Ks_NAF / Ks_ext_NAF), key.ks_int_naf ...
 *   gba_naf_key_wipe(&key);
 *   gba_naf_close(naf);
 *
 * On the wire (Diameter application 16777220, command 310):
 *   BIR: Session-Id, Vendor-Specific-Application-Id {10415, 16777220},
 *        Auth-Session-State NO_STATE_MAINTAINED, Origin-Host/Realm,
 *        Destination-Realm (the B-TID's domain), [Destination-Host] (the BSF),
 *        Transaction-Identifier = B-TID, NAF-Id = NAF_Id (FQDN || Ua id),
 *        [GBA_U-Awareness-Indicator YES], [GAA-Service-Identifier].
 *   BIA: Result-Code 2001, User-Name = IMPI, ME-Key-Material,
 *        [UICC-Key-Material], Key-ExpiryTime, BootstrapInfoCreationTime,
 *        [GBA-UserSecSettings = the USS list], [GBA-Type];
 *        or Experimental-Result {10415, 5403 | 5402}.
 *
 * Every function is safe to call from several threads at once on one
 * struct gba_naf.  Key material is never logged; struct gba_naf_key is
 * caller-owned and must be wiped with gba_naf_key_wipe().
 *
 * Exported symbols: gba_naf_* only.  pkg-config: libgba-naf.
 */
#ifndef GBA_NAF_H
#define GBA_NAF_H

#include <stddef.h>
#include <stdint.h>

#include <gba/dia_types.h>
#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_NAF_IMPI_MAX 255      /* longest IMPI (User-Name) accepted */
#define GBA_NAF_USS_MAX 16384     /* longest USS list (GBA-UserSecSettings) kept */
#define GBA_NAF_ID_MAX (255 + 5)  /* NAF_Id = FQDN (<= 255) || Ua security protocol id (5) */
#define GBA_NAF_DEFAULT_TIMEOUT_MS 2000
#define GBA_NAF_DEFAULT_CACHE 4096

struct gba_naf;

/*
 * Wraps (or unwraps) in into out, as gba/kek.h's gba_kek_wrap and
 * gba_kek_unwrap do with arg the struct gba_kek *: a key-encryption key
 * that keeps cached keys out of plain memory.  GBA_OK or an error.
 */
typedef gba_err gba_naf_wrap_fn(void *arg, uint8_t *out, size_t out_size, size_t *out_len,
				const uint8_t *in, size_t in_len);

struct gba_naf_config {
	const char *identity;       /* our Diameter identity (Origin-Host), an FQDN */
	const char *realm;          /* our realm (Origin-Realm) */
	const char *bsf_identity;   /* the BSF's Diameter identity (its Origin-Host) */
	const char *bsf_address;    /* where to connect: IP address or host name */
	uint16_t bsf_port;          /* 0: 3868 */
	/*
	 * Longest wait for a BIA (and, in gba_naf_open, for the connection to
	 * the BSF to open).  A dead or slow BSF gives GBA_ERR_UNAVAILABLE (no
	 * connection) or GBA_ERR_TIMEOUT (no answer) within this time.
	 * 0: GBA_NAF_DEFAULT_TIMEOUT_MS.
	 */
	unsigned timeout_ms;
	/*
	 * Answers kept (per B-TID and NAF_Id) until their Key-ExpiryTime; a
	 * cached answer is returned without a BIR.  0: GBA_NAF_DEFAULT_CACHE;
	 * SIZE_MAX: no cache.
	 */
	size_t cache_entries;
	int gba_u_aware;            /* 1: send GBA_U-Awareness-Indicator YES */
	/* Optional GAA-Service-Identifier sent in every BIR; NULL: none. */
	const char *gaa_service_id;
	/*
	 * A node shared with other roles of this process (freeDiameter allows
	 * one per process; gba's own programs make it with the internal
	 * gba/diameter.h, a library user leaves this NULL).  NULL: gba_naf_open opens its own node (Zn only,
	 * not listening), adds the BSF as its peer and starts it; the node is
	 * closed by gba_naf_close.  Non-NULL: it must have GBA_DIA_ZN in its
	 * apps; gba_naf_open adds the BSF peer to it (call before
	 * gba_dia_start(), which stays the caller's), and gba_naf_close leaves
	 * the node open.
	 */
	struct gba_dia *dia;
	/* The own node's settings, when dia is NULL (as struct gba_dia_config). */
	const char *local_address;  /* advertised address; NULL: the one this host uses to reach the BSF */
	gba_dia_log_fn *log;        /* NULL: stderr */
	void *log_arg;
	enum gba_dia_log_level log_level;
	/*
	 * Zn over HTTPS/JSON (Nbsp_GBA style, docs/zn.md) instead of Diameter:
	 * the BSF's base URL ("https://host:port"), and PEM files: our client
	 * certificate (its dNSName or CN is our NAF identity), its key, and
	 * the CA of the BSF's certificate.  NULL bsf_url: Diameter; with a
	 * URL, bsf_identity, bsf_address, bsf_port, dia, local_address and
	 * identity/realm are not used (log still is).
	 */
	const char *bsf_url;
	/*
	 * The same three files serve Zn over Diameter: TLS from the first
	 * octet to the BSF's port, our certificate naming our identity, the
	 * BSF's certificate checked against tls_ca and its name against
	 * bsf_identity.  Required unless transport is GBA_DIA_TCP.
	 */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	/*
	 * Optional, both or neither: the cache keeps Ks_NAF and Ks_int_NAF only
	 * wrapped by key_wrap (K || K_int, 64 octets, as one form of up to 72)
	 * and unwraps them with key_unwrap for the one gba_naf_get_key that
	 * returns them.  An entry that does not unwrap counts as a miss.
	 */
	gba_naf_wrap_fn *key_wrap;
	gba_naf_wrap_fn *key_unwrap;
	void *key_wrap_arg;
	/* Zn over Diameter: GBA_DIA_TLS (0, the default) or GBA_DIA_TCP. */
	enum gba_dia_transport transport;
	/*
	 * Zn over Nbsp_GBA: the HTTP version.  GBA_NAF_HTTP_2 (0, the
	 * default, as 5G SBI peers speak it, TS 29.500): HTTP/2 negotiated
	 * with ALPN over TLS, HTTP/1.1 when the BSF's port offers no h2.
	 * GBA_NAF_HTTP_1_1: HTTP/1.1 only.  GBA_NAF_HTTP_2_PRIOR_KNOWLEDGE:
	 * HTTP/2 from the first octet without negotiation; with an "http://"
	 * bsf_url this is cleartext h2c and the three TLS files are not used
	 * (a protected network or a lab only: nothing authenticates the NAF).
	 */
	enum gba_naf_http_version {
		GBA_NAF_HTTP_2 = 0,
		GBA_NAF_HTTP_1_1 = 1,
		GBA_NAF_HTTP_2_PRIOR_KNOWLEDGE = 2,
	} http_version;
};

/*
 * Open the Zn client.  With its own node it waits up to timeout_ms for the
 * connection to the BSF; a BSF that is down is not an error here (the node
 * keeps reconnecting; fetches fail with GBA_ERR_UNAVAILABLE meanwhile).
 * GBA_ERR_INVALID_ARG for a missing identity, realm or BSF; GBA_ERR_EXISTS
 * when the process already has a Diameter node and cfg->dia is NULL;
 * GBA_ERR_NO_MEMORY; GBA_ERR_UNAVAILABLE when freeDiameter refuses.
 */
gba_err gba_naf_open(const struct gba_naf_config *cfg, struct gba_naf **out);

/* Wipe the cache, free everything (and close the node if it is ours). NULL: no-op. */
void gba_naf_close(struct gba_naf *naf);

/* What the BSF gave for one B-TID and NAF_Id.  Secret: wipe with gba_naf_key_wipe. */
struct gba_naf_key {
	uint8_t ks_naf[32];         /* Ks_NAF (GBA_ME) or Ks_ext_NAF (GBA_U): ME-Key-Material */
	uint8_t ks_int_naf[32];     /* Ks_int_NAF: UICC-Key-Material, when has_int_naf */
	int has_int_naf;
	/*
	 * 1: the bootstrap was GBA_U (the BIA had UICC-Key-Material, which the
	 * BSF sends only to a GBA_U-aware NAF).  A GBA_U-unaware NAF is given
	 * Ks_ext_NAF as ME-Key-Material and cannot tell (TS 33.220 5.3.3).
	 */
	int gba_u;
	int gba_type;               /* GBA-Type: 0 3G GBA, 1 2G GBA; -1 when absent */
	char impi[GBA_NAF_IMPI_MAX + 1];   /* User-Name, NUL-terminated */
	int64_t expiry;             /* Key-ExpiryTime, Unix seconds UTC */
	int64_t created;            /* BootstrapInfoCreationTime, Unix seconds UTC (0: absent) */
	/*
	 * The USS list (GBA-UserSecSettings of the BIA: XML, root <ussList>,
	 * TS 29.109 Annex A), NUL-terminated; uss_len 0 when the BSF sent
	 * none.  A USS's <uids> carries the node's oneM2M identity (CSE-ID or
	 * AE-ID) when the subscriber's GUSS has one (docs/zn.md).
	 */
	char uss[GBA_NAF_USS_MAX + 1];
	size_t uss_len;
	int from_cache;             /* 1: served from the cache, no BIR sent */
};

/*
 * Get the key material for a B-TID and a NAF_Id (FQDN || Ua security
 * protocol identifier, as gba_naf_id() builds it; sent exactly as given).
 * Destination-Realm is the B-TID's domain.  Returns:
 *   GBA_OK                 *out filled
 *   GBA_ERR_NOT_FOUND      5403: unknown or expired B-TID; the UE must bootstrap again
 *   GBA_ERR_NOT_AUTHORIZED 5402: this NAF may not have keys for this user
 *   GBA_ERR_TIMEOUT        no answer within timeout_ms
 *   GBA_ERR_UNAVAILABLE    no connection to the BSF, or it answered busy
 *   GBA_ERR_PARSE          a malformed BIA (missing or wrong-length key material, ...)
 *   GBA_ERR_UNSUPPORTED    another failure result from the BSF
 *   GBA_ERR_INVALID_ARG    NULL, a B-TID that is not base64(RAND)@domain, an empty
 *                          or over-long NAF_Id
 * *out is wiped on any error.  Thread-safe.
 */
gba_err gba_naf_fetch_key(struct gba_naf *naf, const char *btid,
			  const uint8_t *naf_id, size_t naf_id_len, struct gba_naf_key *out);

/* Wipe the key material (the whole struct). NULL: no-op. */
void gba_naf_key_wipe(struct gba_naf_key *k);

/* Drop every cached answer for this B-TID (all NAF_Ids): revocation. */
void gba_naf_forget(struct gba_naf *naf, const char *btid);

/* Drop every cached answer for this IMPI. */
void gba_naf_forget_impi(struct gba_naf *naf, const char *impi);

/* Counters since gba_naf_open. */
struct gba_naf_stats {
	uint64_t fetches;       /* gba_naf_fetch_key calls */
	uint64_t cache_hits;    /* answered from the cache */
	uint64_t birs;          /* BIRs sent */
	uint64_t errors;        /* fetches that did not return GBA_OK */
	uint64_t cached;        /* answers in the cache now */
};
void gba_naf_get_stats(struct gba_naf *naf, struct gba_naf_stats *out);

/* The Diameter node in use (ours or the shared one), e.g. for gba_dia_peer_is_open;
 * NULL over HTTPS. */
struct gba_dia *gba_naf_dia(struct gba_naf *naf);

#ifdef __cplusplus
}
#endif
#endif /* GBA_NAF_H */
