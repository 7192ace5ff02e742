/*
 * gba/diameter_zn.h - Zn (TS 29.109 clause 5): a NAF asks the BSF for the
 * key material of a bootstrapped UE with a Bootstrapping-Info-Request and
 * gets it in the Bootstrapping-Info-Answer, on application 16777220.
 *
 *   BIR: Session-Id, Vendor-Specific-Application-Id {10415, 16777220},
 *        Auth-Session-State NO_STATE_MAINTAINED, Origin-Host/Realm,
 *        Destination-Realm, [Destination-Host], Transaction-Identifier = B-TID,
 *        NAF-Id = NAF_Id (FQDN || Ua security protocol id, as received from
 *        the UE's request), [GBA_U-Awareness-Indicator YES],
 *        *[GAA-Service-Identifier]
 *   BIA: Result-Code 2001, User-Name = IMPI, ME-Key-Material (32 octets),
 *        [UICC-Key-Material (32 octets)], Key-ExpiryTime,
 *        BootstrapInfoCreationTime, [GBA-UserSecSettings = the USS list],
 *        GBA-Type;
 *   or:  Experimental-Result {10415, 5403} for an unknown or expired B-TID,
 *        Experimental-Result {10415, 5402} for a NAF that may not have the
 *        keys, Result-Code 5004/5005 (Failed-AVP) for a malformed BIR, 5012
 *        when the BSF cannot serve it.
 *
 * Both sides need a node opened with GBA_DIA_ZN in its applications.
 */
#ifndef GBA_DIAMETER_ZN_H
#define GBA_DIAMETER_ZN_H

#include <stddef.h>
#include <stdint.h>

#include <gba/diameter.h>
#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_ZN_IMPI_MAX 255          /* longest User-Name handled */
#define GBA_ZN_BTID_MAX 280          /* longest Transaction-Identifier (as GBA_BTID_MAX) */
#define GBA_ZN_NAF_ID_MIN 6          /* a 1-octet FQDN || 5-octet Ua id */
#define GBA_ZN_NAF_ID_MAX (255 + 5)
#define GBA_ZN_USS_MAX 16384         /* longest GBA-UserSecSettings handled */
#define GBA_ZN_KEY_LEN 32            /* Ks_NAF, Ks_ext_NAF, Ks_int_NAF */

/* ---- NAF side: send a BIR, wait for the BIA ------------------------------ */

struct gba_zn_request {
	const char *btid;              /* Transaction-Identifier, NUL-terminated */
	const uint8_t *naf_id;         /* NAF-Id, sent as given */
	size_t naf_id_len;
	const char *dest_realm;        /* Destination-Realm (the B-TID's domain) */
	const char *dest_host;         /* Destination-Host, the BSF; NULL: none */
	int gba_u_aware;               /* 1: GBA_U-Awareness-Indicator YES */
	const char *gaa_service_id;    /* GAA-Service-Identifier; NULL: none */
};

struct gba_zn_answer {
	struct gba_dia_result result;  /* what the BSF (or freeDiameter) answered */
	/* Secret: wipe after use. */
	uint8_t me_key[GBA_ZN_KEY_LEN];     /* ME-Key-Material: Ks_NAF or Ks_ext_NAF */
	uint8_t uicc_key[GBA_ZN_KEY_LEN];   /* UICC-Key-Material: Ks_int_NAF */
	int has_uicc_key;
	char impi[GBA_ZN_IMPI_MAX + 1];     /* User-Name */
	int64_t expiry;                /* Key-ExpiryTime, Unix seconds */
	int64_t created;               /* BootstrapInfoCreationTime, Unix seconds; 0: absent */
	int gba_type;                  /* GBA-Type; -1: absent */
	size_t uss_len;                /* GBA-UserSecSettings copied to the caller's buffer */
};

/*
 * Send a BIR and wait (blocking this thread only) for the BIA, at most
 * timeout_ms.  Safe from many threads at once.  Returns:
 *   GBA_OK                 ans filled; the USS list in uss (NUL-terminated;
 *                          uss may be NULL)
 *   GBA_ERR_NOT_FOUND      5403: unknown or expired B-TID
 *   GBA_ERR_NOT_AUTHORIZED 5402
 *   GBA_ERR_UNAVAILABLE    no open connection to dest_host, or 3002/3004/4xxx
 *   GBA_ERR_TIMEOUT        no answer in time
 *   GBA_ERR_PARSE          a success without User-Name, Key-ExpiryTime or a
 *                          32-octet ME-Key-Material, or with a bad one
 *   GBA_ERR_TOO_LARGE      the USS list does not fit in uss_size
 *   GBA_ERR_UNSUPPORTED    another failure result (see ans->result)
 *   GBA_ERR_INVALID_ARG    a bad request
 * ans->result is filled whenever an answer came; the keys are wiped on error.
 */
gba_err gba_zn_bir_call(struct gba_dia *dia, const struct gba_zn_request *req,
			unsigned timeout_ms, struct gba_zn_answer *ans,
			char *uss, size_t uss_size);

/* ---- BSF side: answer BIRs --------------------------------------------------- */

/* A received, well-formed BIR (pointers valid during the handler call). */
struct gba_zn_bir {
	const char *btid;              /* Transaction-Identifier, NUL-terminated, printable */
	size_t btid_len;
	const uint8_t *naf_id;         /* NAF-Id as received: GBA_ZN_NAF_ID_MIN..MAX octets */
	size_t naf_id_len;
	int gba_u_aware;               /* GBA_U-Awareness-Indicator YES */
	const char *gaa_service_id;    /* the first GAA-Service-Identifier, NUL-terminated; or NULL */
	const char *origin_host;       /* Origin-Host of the BIR */
	/*
	 * The Diameter identity of the peer the BIR came over (the one that
	 * passed the CER exchange); authorise on this one, as Origin-Host is
	 * whatever the sender wrote.
	 */
	const char *peer;
};

/* The handler's answer; the library wipes it after sending. */
struct gba_zn_bia {
	char impi[GBA_ZN_IMPI_MAX + 1];
	uint8_t me_key[GBA_ZN_KEY_LEN];
	uint8_t uicc_key[GBA_ZN_KEY_LEN];
	int has_uicc_key;
	int64_t expiry;                /* Unix seconds */
	int64_t created;               /* Unix seconds */
	int gba_type;                  /* 0: 3G GBA */
	char *uss;                     /* library's buffer of uss_size octets */
	size_t uss_size;
	size_t uss_len;                /* 0: no GBA-UserSecSettings */
};

/*
 * The BSF's answer to one BIR: fill bia and return GBA_OK; or return
 * GBA_ERR_NOT_FOUND (5403), GBA_ERR_NOT_AUTHORIZED (5402), or any other
 * error (5012).  Called from freeDiameter's threads, several at once.
 */
typedef gba_err gba_zn_bir_handler(void *arg, const struct gba_zn_bir *bir,
				   struct gba_zn_bia *bia);

/*
 * Answer the node's BIRs with fn.  Malformed BIRs are answered by the
 * library (5004/5005, Failed-AVP) without calling fn.  Call before
 * gba_dia_start(), once per node.
 */
gba_err gba_zn_server_register(struct gba_dia *dia, gba_zn_bir_handler *fn, void *arg);

/* Time AVPs (RFC 6733 4.3.1): NTP seconds (4 octets) <-> Unix seconds. */
void gba_zn_time_encode(int64_t unix_s, uint8_t out[4]);
int64_t gba_zn_time_decode(const uint8_t in[4]);

#ifdef __cplusplus
}
#endif
#endif /* GBA_DIAMETER_ZN_H */
