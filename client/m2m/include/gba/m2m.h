/*
 * gba/m2m.h - the node side (and the target CSE side) of Ua toward a
 * oneM2M MAF such as gba-naf (docs/naf.md):
 *
 *   - HTTP Digest Ua per TS 24.109 clause 5: username = B-TID, password =
 *     base64(Ks_NAF), realm "3GPP-bootstrapping@<NAF FQDN>", qop=auth-int,
 *     and the server's Authentication-Info rspauth checked;
 *   - TLS-PSK Ua per TS 33.222 / oneM2M TS-0003 8.3.2.3: TLS 1.3 with an
 *     external PSK (TS 33.222 5.4.0.2) and TLS 1.2 with the PSK suites
 *     0x00AE, 0x00A8, 0xC0A8, SNI = the NAF FQDN, PSK = Km for the Ua
 *     security protocol id of the handshake actually negotiated (asked of
 *     the caller in the handshake), psk_identity = KmID (the B-TID) or a
 *     TS 33.222 prefixed form, the server's identity hint reported;
 *   - the RFC 5705 exporter of TS-0003 8.8 (label EXPORTER-oneM2M-Connection,
 *     48 octets, Kc = the 32 least significant octets);
 *   - the JSON key API of gba-naf: enrol, key registration, key retrieval.
 *
 * Every buffer is caller-owned with an explicit size.  Keys passed in are
 * only read; keys passed out (Kc) are the caller's to gba_wipe.  Error text
 * (struct gba_m2m_response.error) never carries key material.
 */
#ifndef GBA_M2M_H
#define GBA_M2M_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>
#include <gba/kcv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_M2M_KC_LEN 32
#define GBA_M2M_EXPORTER_LABEL "EXPORTER-oneM2M-Connection"
#define GBA_M2M_EXPORTER_LEN 48
#define GBA_M2M_PSK_HINT "3GPP-bootstrapping"
/* TLS 1.2 with TLS_PSK_WITH_AES_128_CBC_SHA256 (0x00AE) only: a fixed key's. */
#define GBA_M2M_TLS_PRIORITIES \
	"NONE:+VERS-TLS1.2:+PSK:+AES-128-CBC:+SHA256:+COMP-NULL:+SIGN-ALL:+CTYPE-X509"
/*
 * What a key that follows the handshake offers: TLS 1.3 (external PSK,
 * psk_ke, TLS_AES_128_GCM_SHA256 / _CCM_8_SHA256) and TLS 1.2 with
 * TLS_PSK_WITH_AES_128_CBC_SHA256 (0x00AE), _AES_128_GCM_SHA256 (0x00A8)
 * and _AES_128_CCM_8 (0xC0A8): gba-naf's ua.tls_priorities default.
 */
#define GBA_M2M_UA_PRIORITIES \
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+PSK:+AES-128-CBC:+AES-128-GCM:+AES-128-CCM-8:" \
	"+SHA256:+AEAD:+COMP-NULL:+SIGN-ALL:+CTYPE-X509:+GROUP-ALL"

#define GBA_M2M_BODY_MAX 8192
#define GBA_M2M_FIELD_MAX 512
#define GBA_M2M_ERROR_MAX 200

/* Key check values: libgba's gba_kcv() (gba/kcv.h), shared with gba-client. */
#define GBA_M2M_KCV_LEN (GBA_KCV_HEX_LEN + 1)

/* One HTTP answer, as read by this module. */
struct gba_m2m_response {
	int status;                               /* 0: no answer */
	char body[GBA_M2M_BODY_MAX + 1];          /* NUL-terminated */
	size_t body_len;
	char www_authenticate[GBA_M2M_FIELD_MAX + 1];
	char authentication_info[GBA_M2M_FIELD_MAX + 1];
	char error[GBA_M2M_ERROR_MAX];            /* what went wrong, never a key */
};

/* A connection: TCP, or TLS-PSK over TCP. */
struct gba_m2m_conn;

/*
 * Where and how to connect.  host is a numeric address or a name; port
 * the TCP port; timeout_ms bounds connect, handshake and each read.
 */
struct gba_m2m_peer {
	const char *host;
	unsigned port;
	int timeout_ms;
};

/* Plain TCP (for Digest Ua).  *out is freed with gba_m2m_close. */
gba_err gba_m2m_connect(const struct gba_m2m_peer *peer, struct gba_m2m_conn **out,
			char *error, size_t error_size);

/*
 * TLS-PSK: sni is sent as server name (the NAF FQDN), identity as
 * psk_identity, psk/psk_len as the key (copied into GnuTLS, which wipes it
 * on free).  priorities NULL: GBA_M2M_TLS_PRIORITIES.  GBA_ERR_AUTH_FAILED
 * when the handshake fails (wrong key or identity refused).
 */
gba_err gba_m2m_connect_psk(const struct gba_m2m_peer *peer, const char *sni,
			    const char *identity, const uint8_t *psk, size_t psk_len,
			    const char *priorities, struct gba_m2m_conn **out,
			    char *error, size_t error_size);

/*
 * Km for one handshake: ua_id is the Ua security protocol id the handshake
 * needs (01 00 00 00 07 for TLS 1.3; 01 00 01 yy zz for TLS 1.2 with suite
 * yy zz), km gets the 32-octet key (GnuTLS takes a copy; the caller's
 * buffer is wiped after the call).  GnuTLS asks while it writes a TLS 1.3
 * ClientHello (the binder needs the key before the server has chosen), and
 * again after a TLS 1.2 ServerHello when the server answers 1.3's
 * ClientHello with 1.2: so the function may run twice in one handshake,
 * and the last call's key is the one used.  Non-zero fails the handshake.
 */
typedef int (*gba_m2m_km_fn)(void *arg, const uint8_t ua_id[5], uint8_t km[32]);

/* A TLS-PSK client whose key follows the handshake. */
struct gba_m2m_psk {
	const char *identity;      /* psk_identity */
	gba_m2m_km_fn km;
	void *arg;                 /* km's first argument */
	const char *priorities;    /* GnuTLS priority string; NULL: GBA_M2M_UA_PRIORITIES */
};

/* What a handshake negotiated. */
struct gba_m2m_tls_info {
	uint8_t ua_id[5];          /* the Ua security protocol id of the handshake */
	char version[16];          /* "TLS1.3", "TLS1.2" */
	char suite[64];            /* "TLS_AES_128_GCM_SHA256", "TLS_PSK_WITH_AES_128_CCM_8" */
};

/*
 * TLS-PSK with the key of psk->km for the handshake's Ua id; otherwise as
 * gba_m2m_connect_psk.
 */
gba_err gba_m2m_connect_ua(const struct gba_m2m_peer *peer, const char *sni,
			   const struct gba_m2m_psk *psk, struct gba_m2m_conn **out,
			   char *error, size_t error_size);

/* The version, suite and Ua id of c's handshake.  GBA_ERR_INVALID_ARG without TLS. */
gba_err gba_m2m_tls_info(const struct gba_m2m_conn *c, struct gba_m2m_tls_info *info);

/* The PSK identity hint the server sent ("" when none). */
const char *gba_m2m_psk_hint(const struct gba_m2m_conn *c);

/*
 * Kc from this TLS session: the RFC 5705 exporter with label
 * EXPORTER-oneM2M-Connection, no context, 48 octets, of which the 32 least
 * significant (the last 32) are Kc.  GBA_ERR_INVALID_ARG on a TCP connection.
 */
gba_err gba_m2m_export_kc(struct gba_m2m_conn *c, uint8_t kc[GBA_M2M_KC_LEN]);

/*
 * One HTTP/1.1 request on c: "Host: host_header", optional extra header
 * lines (each ending in CRLF), an optional body (Content-Type
 * application/json when body_len > 0).  Reads the answer into r.
 */
gba_err gba_m2m_request(struct gba_m2m_conn *c, const char *method, const char *path,
			const char *host_header, const char *extra_headers,
			const char *body, size_t body_len, struct gba_m2m_response *r);

void gba_m2m_close(struct gba_m2m_conn *c);

/*
 * A whole Digest Ua exchange on a fresh connection per request: the
 * request without credentials, the 401 with realm "3GPP-bootstrapping@fqdn"
 * ("-uicc@" when uicc), the request again with username = btid, password
 * = base64(ks_naf) and qop=auth-int, and the 200's Authentication-Info
 * rspauth checked (RFC 2617 3.2.3, HA2 over the answer's body).
 * GBA_ERR_NOT_FOUND when the NAF challenges again and says the B-TID is
 * unknown (the node must bootstrap again); GBA_ERR_AUTH_FAILED when it
 * rejects the credentials or rspauth is wrong.
 */
gba_err gba_m2m_digest_request(const struct gba_m2m_peer *peer, const char *fqdn,
			       const char *btid, const uint8_t ks_naf[32], int uicc,
			       const char *method, const char *path,
			       const char *body, size_t body_len,
			       struct gba_m2m_response *r);

/*
 * Read a string (or integer, as decimal text) member of the top-level JSON
 * object in r->body.  GBA_ERR_NOT_FOUND when absent, GBA_ERR_PARSE when the
 * body is not a JSON object.
 */
gba_err gba_m2m_json_get(const struct gba_m2m_response *r, const char *name,
			 char *out, size_t out_size);


/* ---- gba-naf's key API (docs/naf.md) ------------------------------------ */

/* The psk_identity prefix a target CSE uses with its configured PSK. */
#define GBA_M2M_TARGET_IDENTITY_PREFIX "oneM2M-target,"

/* A key registration (MAF Key Registration, TS-0003 8.8.2). */
struct gba_m2m_key_request {
	const char *suid;          /* Security Usage Identifier, e.g. "22" */
	const char *target;        /* the one CSE-ID/AE-ID allowed to fetch Kc */
	unsigned lifetime;         /* seconds asked for; the NAF may shorten it */
};

/* What the NAF answered to a registration or a retrieval. */
struct gba_m2m_key_answer {
	char key_id[GBA_M2M_FIELD_MAX + 1];    /* relative-id "@" NAF FQDN */
	char node_id[GBA_M2M_FIELD_MAX + 1];   /* the registering node's CSE-ID/AE-ID */
	char expires[64];                      /* xs:dateTime, UTC */
	uint8_t kc[GBA_M2M_KC_LEN];            /* secret: the caller wipes it */
};

/*
 * POST /m2m/enrol over TLS-PSK with PSK = km and psk_identity = identity
 * (the KmID, i.e. the B-TID, or a TS 33.222 prefixed form).  The answer's
 * JSON (kmid, expires, node_id, ...) is in r->body.
 */
gba_err gba_m2m_enrol_psk(const struct gba_m2m_peer *peer, const char *fqdn,
			  const char *identity, const uint8_t km[32],
			  struct gba_m2m_response *r);

/*
 * Register a session key: TLS-PSK keyed with km, Kc from the exporter of
 * that session, POST /m2m/keys.  On success a holds the key id, expiry,
 * node id and Kc.
 */
gba_err gba_m2m_register_key(const struct gba_m2m_peer *peer, const char *fqdn,
			     const char *identity, const uint8_t km[32],
			     const struct gba_m2m_key_request *req,
			     struct gba_m2m_key_answer *a, struct gba_m2m_response *r);

/*
 * The same two requests with the key following the handshake
 * (gba_m2m_connect_ua); info (may be NULL) gets what it negotiated.
 */
gba_err gba_m2m_enrol_ua(const struct gba_m2m_peer *peer, const char *fqdn,
			 const struct gba_m2m_psk *psk, struct gba_m2m_tls_info *info,
			 struct gba_m2m_response *r);
gba_err gba_m2m_register_key_ua(const struct gba_m2m_peer *peer, const char *fqdn,
				const struct gba_m2m_psk *psk,
				const struct gba_m2m_key_request *req,
				struct gba_m2m_key_answer *a, struct gba_m2m_tls_info *info,
				struct gba_m2m_response *r);

/*
 * Retrieve Kc as the target CSE target_id, authenticated by TLS-PSK with
 * its configured psk (identity "oneM2M-target,<target_id>"):
 * GET /m2m/keys/<key_id>.  GBA_ERR_NOT_AUTHORIZED when the NAF refuses
 * (not the target), GBA_ERR_NOT_FOUND when the key is unknown or expired.
 */
gba_err gba_m2m_retrieve_key(const struct gba_m2m_peer *peer, const char *fqdn,
			     const char *target_id, const uint8_t *psk, size_t psk_len,
			     const char *key_id, struct gba_m2m_key_answer *a,
			     struct gba_m2m_response *r);

#ifdef __cplusplus
}
#endif
#endif /* GBA_M2M_H */
