/*
 * zn_http.h - Zn as Nbsp_GBA (TS 29.309, the 5G SBI form of Zn;
 * shared/spec/interop.md section 3): a second transport in front of the
 * same BIR handler (zn.h), over HTTPS with mutual TLS.  See docs/zn.md and
 * the JSON Schema tests/zn/nbsp_gba.schema.json.
 *
 *   POST {apiRoot}/nbsp-gba/v1/bootstrapping-info-retrieval
 *   Content-Type: application/json
 *   BootstrappingInfoRequest {"btId": B-TID,
 *     "nafId": {"nafFqdn": FQDN, "uaSecProtId": 10 hex digits},
 *     "gbaUAware": bool (false), "gsIds": [uint32, ...]}     (last two optional;
 *                               the first gsId is the GAA-Service-Identifier)
 *
 *   200 BootstrappingInfoResponse {"meKeyMaterial": 64 hex digits,
 *     ["uiccKeyMaterial": 64 hex digits], "keyExpiryTime",
 *     "bootstrappingInfoCreationTime" (DateTime, UTC), "gbaType": "3G_GBA",
 *     "impi", "ussList": [{"uss": {...}}, ...] (zn_nbsp_uss.h)}
 *   errors: application/problem+json ProblemDetails (TS 29.571)
 *     {"status", "cause", "detail"}:
 *   404 BTID_NOT_FOUND (Diameter 5403), 403 NAF_NOT_AUTHORIZED (5402; also
 *   no or an untrusted client certificate), 400 MANDATORY_IE_INCORRECT or
 *   MANDATORY_IE_MISSING, 413, 405, 404 RESOURCE_URI_STRUCTURE_NOT_FOUND,
 *   500 SYSTEM_FAILURE.
 *
 * The requester is the identity of its client certificate (first dNSName
 * of the subject alternative names, else the CN), verified against the
 * configured CA: that is the "peer" the NAF lists of zn.nafs name.
 */
#ifndef GBA_BSF_ZN_HTTP_H
#define GBA_BSF_ZN_HTTP_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "gba_log.h"
#include "zn.h"

#define ZN_HTTP_PATH "/nbsp-gba/v1/bootstrapping-info-retrieval"

#define ZN_HTTP_PROBLEM "application/problem+json"

struct zn_http_config {
	const char *listen;      /* host:port */
	const char *tls_cert;    /* PEM files: the server's certificate and key */
	const char *tls_key;
	const char *tls_ca;      /* the CA that signs the NAFs' client certificates */
};

struct zn_http;

/* Start serving; -1 with a message in err. */
int zn_http_start(struct zn_http **out, const struct zn_http_config *cfg, struct zn_server *zn,
		  const struct gba_log *log, char *err, size_t err_size);

/* Stop (waits for requests in progress).  NULL: no-op. */
void zn_http_stop(struct zn_http *h);

/*
 * One request apart from HTTP and TLS (what the server does once the
 * client certificate named peer; also the fuzz target's entry): the JSON
 * body of len octets in, the status out and the JSON answer in *reply
 * (*reply_len octets, not NUL-terminated), to be given to
 * zn_http_reply_free, which wipes it.  0 (and *reply NULL) when out of
 * memory.  A status other than 200 comes with a ProblemDetails body
 * (media type ZN_HTTP_PROBLEM).
 */
unsigned zn_http_answer(struct zn_server *zn, const char *peer, const char *body, size_t len,
			char **reply, size_t *reply_len);
void zn_http_reply_free(char *reply);

/* A ProblemDetails body (for zn_http_reply_free); NULL when out of memory. */
char *zn_http_problem(unsigned status, const char *cause, const char *detail, size_t *len);

/*
 * The requester: the verified client certificate's first dNSName, else its
 * CN, into out; -1 when there is none (or tls is NULL).
 */
int zn_http_peer(gnutls_session_t tls, char *out, size_t size);

#endif /* GBA_BSF_ZN_HTTP_H */
