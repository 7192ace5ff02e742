/*
 * zn_http.h - Zn over HTTP/JSON, in the style of the 5G Nbsp_GBA service
 * (TS 29.309): a second transport in front of the same BIR handler
 * (zn.h), over HTTPS with mutual TLS.  See docs/zn.md.
 *
 *   POST /nbsp-gba/v1/bootstrapping-info      Content-Type: application/json
 *   {"btid": "<B-TID>", "nafId": "<base64 of NAF_Id>",
 *    "gbaUAwareness": true, "gaaServiceId": "..."}          (last two optional)
 *
 *   200 {"impi", "meKeyMaterial" (base64), ["uiccKeyMaterial"],
 *        "keyExpiryTime", "bootstrapInfoCreationTime" (xs:dateTime, UTC),
 *        "gbaType": "3G", ["ussList" (the XML document)]}
 *   404 {"cause": "BTID_NOT_FOUND"}        (Diameter 5403)
 *   403 {"cause": "NAF_NOT_AUTHORIZED"}    (5402; also no or an untrusted client certificate)
 *   400 {"cause": "MANDATORY_IE_INCORRECT", "detail": ...}
 *   500 {"cause": "SYSTEM_FAILURE"}
 *
 * The requester is the identity of its client certificate (first dNSName
 * of the subject alternative names, else the CN), verified against the
 * configured CA: that is the "peer" the NAF lists of zn.nafs name.
 */
#ifndef GBA_BSF_ZN_HTTP_H
#define GBA_BSF_ZN_HTTP_H

#include <stddef.h>

#include "../log.h"
#include "zn.h"

#define ZN_HTTP_PATH "/nbsp-gba/v1/bootstrapping-info"

struct zn_http_config {
	const char *listen;      /* host:port */
	const char *tls_cert;    /* PEM files: the server's certificate and key */
	const char *tls_key;
	const char *tls_ca;      /* the CA that signs the NAFs' client certificates */
};

struct zn_http;

/* Start serving; -1 with a message in err. */
int zn_http_start(struct zn_http **out, const struct zn_http_config *cfg, struct zn_server *zn,
		  const struct bsf_log *log, char *err, size_t err_size);

/* Stop (waits for requests in progress).  NULL: no-op. */
void zn_http_stop(struct zn_http *h);

/*
 * One request apart from HTTP and TLS (what the server does once the
 * client certificate named peer; also the fuzz target's entry): the JSON
 * body of len octets in, the status out and the JSON answer in *reply
 * (*reply_len octets, not NUL-terminated), to be given to
 * zn_http_reply_free, which wipes it.  0 (and *reply NULL) when out of
 * memory.
 */
unsigned zn_http_answer(struct zn_server *zn, const char *peer, const char *body, size_t len,
			char **reply, size_t *reply_len);
void zn_http_reply_free(char *reply);

#endif /* GBA_BSF_ZN_HTTP_H */
