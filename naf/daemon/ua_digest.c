/*
 * ua_digest.c - Ua over HTTP Digest (TS 24.109 clause 5): the NAF challenges
 * with realm "3GPP-bootstrapping@<FQDN>" (and "3GPP-bootstrapping-uicc@"
 * when GBA_U-aware), the node answers with username = B-TID and password =
 * base64(Ks_NAF), qop=auth-int; the NAF fetches Ks_NAF over Zn, checks, and
 * enrols the node.  Nonces are single-use.  An unknown B-TID (5403) gets a
 * fresh challenge and says "bootstrap again" in X-GBA-Bootstrap-Required and
 * in the body.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gba/digest.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "http_util.h"
#include "log.h"
#include "ua.h"

#define REALM "3GPP-bootstrapping@"
#define REALM_UICC "3GPP-bootstrapping-uicc@"
#define JSON_MAX 2048

/* A 401 with a fresh challenge per realm, and why in the body. */
static enum MHD_Result challenge(struct naf_svc *s, struct MHD_Connection *c,
				 const struct svc_error *why)
{
	char nonce[NONCE_HEX_LEN + 1], realm[2][300], hdr[2][1024], body[512];
	if (nonces_issue(s->nonces, nonce))
		return MHD_NO;
	snprintf(realm[0], sizeof(realm[0]), REALM "%s", s->cfg->fqdn);
	snprintf(realm[1], sizeof(realm[1]), REALM_UICC "%s", s->cfg->fqdn);
	for (int i = 0; i < 2; i++) {
		struct gba_digest_challenge ch = {
			.realm = { realm[i], strlen(realm[i]) },
			.nonce = { nonce, NONCE_HEX_LEN },
			.algorithm = GBA_DIGEST_ALG_MD5,
			.qop_mask = GBA_QOP_BIT_AUTH_INT,
		};
		if (gba_digest_build_challenge(hdr[i], sizeof(hdr[i]), NULL, &ch))
			return MHD_NO;
	}
	snprintf(body, sizeof(body), "{\"error\":\"%s\",\"detail\":\"%s\"}",
		 why ? why->code : "unauthorized",
		 why ? why->detail : "authenticate with the B-TID and base64(Ks_NAF)");
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr[0]);
	if (s->cfg->zn_gba_u_aware)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr[1]);
	if (why && !strcmp(why->code, "btid_unknown"))
		MHD_add_response_header(r, "X-GBA-Bootstrap-Required", "true");
	enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return rc;
}

/* Which of our realms: 0 ME, 1 UICC, -1 neither. */
static int realm_kind(const struct naf_svc *s, const struct gba_str *realm)
{
	const char *prefix[2] = { REALM, REALM_UICC };
	for (int i = 0; i < 2; i++) {
		size_t pl = strlen(prefix[i]);
		if (realm->len == pl + strlen(s->cfg->fqdn) && !strncmp(realm->ptr, prefix[i], pl) &&
		    !strcasecmp(realm->ptr + pl, s->cfg->fqdn))
			return i;
	}
	return -1;
}

struct checked {
	struct gba_digest_credentials cr;
	int uicc;
	char btid[GBA_BTID_MAX + 1];
};

/* The credentials' form, before any key is fetched. */
static const char *check_form(struct naf_svc *s, const char *url, struct checked *k)
{
	struct gba_digest_credentials *cr = &k->cr;
	if (!cr->username.ptr || !cr->nonce.ptr || !cr->response.ptr || !cr->uri.ptr ||
	    !cr->cnonce.ptr || !cr->nc.ptr)
		return "incomplete credentials";
	if (cr->qop != GBA_QOP_AUTH_INT)
		return "qop must be auth-int";
	if (cr->algorithm != GBA_DIGEST_ALG_UNSET && cr->algorithm != GBA_DIGEST_ALG_MD5)
		return "algorithm must be MD5";
	if (strcmp(cr->uri.ptr, url))
		return "digest uri does not match the request";
	if ((k->uicc = realm_kind(s, &cr->realm)) < 0)
		return "unknown realm";
	if (cr->username.len > GBA_BTID_MAX)
		return "username too long";
	memcpy(k->btid, cr->username.ptr, cr->username.len + 1);
	return NULL;
}

static gba_err verify(const struct checked *k, const char *method, const struct req *rq,
		      const uint8_t ks[32])
{
	char password[GBA_BASE64_LEN(32) + 1], expected[33];
	gba_base64_encode(password, sizeof(password), NULL, ks, 32);
	struct gba_digest_input in = {
		.username = k->cr.username, .realm = k->cr.realm,
		.method = { method, strlen(method) }, .uri = k->cr.uri, .nonce = k->cr.nonce,
		.nc = k->cr.nc, .cnonce = k->cr.cnonce,
		.password = (const uint8_t *)password, .password_len = strlen(password),
		.qop = GBA_QOP_AUTH_INT, .body = (const uint8_t *)rq->body, .body_len = rq->len,
	};
	gba_err err = gba_digest_response(expected, &in);
	if (!err)
		err = gba_digest_verify(expected, k->cr.response.ptr, k->cr.response.len);
	gba_wipe(password, sizeof(password));
	gba_wipe(expected, sizeof(expected));
	return err;
}

/* The 200 with Authentication-Info: rspauth over the answer's body (RFC 2617 3.2.3). */
static enum MHD_Result success(struct MHD_Connection *c, const struct checked *k,
			       uint8_t ks[32], const char *json)
{
	char password[GBA_BASE64_LEN(32) + 1], rspauth[33], info[512];
	gba_base64_encode(password, sizeof(password), NULL, ks, 32);
	struct gba_digest_input in = {
		.username = k->cr.username, .realm = k->cr.realm, .method = { "", 0 },
		.uri = k->cr.uri, .nonce = k->cr.nonce, .nc = k->cr.nc, .cnonce = k->cr.cnonce,
		.password = (const uint8_t *)password, .password_len = strlen(password),
		.qop = GBA_QOP_AUTH_INT, .body = (const uint8_t *)json, .body_len = strlen(json),
	};
	gba_err err = gba_digest_rspauth(rspauth, &in);
	gba_wipe(password, sizeof(password));
	struct gba_digest_auth_info ai = {
		.rspauth = { rspauth, 32 }, .cnonce = k->cr.cnonce, .nc = k->cr.nc,
		.qop = GBA_QOP_AUTH_INT,
	};
	if (err || gba_digest_build_auth_info(info, sizeof(info), NULL, &ai))
		return MHD_NO;
	return reply_json(c, MHD_HTTP_OK, json, "Authentication-Info", info, NULL);
}

/* Count the answer to a digest Ua request (result "ok", "challenge" or
 * its error code), and return it. */
static enum MHD_Result counted(struct naf_svc *s, enum naf_request req, const char *result,
			       enum MHD_Result rc)
{
	naf_metrics_ua(&s->metrics, NAF_UA_DIGEST, req, result);
	return rc;
}

static enum MHD_Result authenticate(struct naf_svc *s, struct MHD_Connection *c,
				    const char *url, const char *method, const char *auth,
				    const struct req *rq)
{
	char scratch[GBA_DIGEST_HEADER_MAX + GBA_DIGEST_PARAMS_MAX], json[JSON_MAX];
	struct checked k;
	uint8_t ks[32];
	struct svc_error e;
	size_t len = strlen(auth);
	if (len > GBA_DIGEST_HEADER_MAX ||
	    gba_digest_parse_credentials(auth, len, scratch, sizeof(scratch), &k.cr)) {
		e = (struct svc_error){ 400, "bad_authorization", "the Authorization header does not parse" };
		return counted(s, NAF_REQ_ENROL, e.code, reply_error(c, &e));
	}
	const char *bad = check_form(s, url, &k);
	if (bad) {
		nlog_info("digest Ua refused: %s", bad);
		e = (struct svc_error){ 400, "bad_authorization", bad };
		return counted(s, NAF_REQ_ENROL, e.code, reply_error(c, &e));
	}
	if (nonces_take(s->nonces, k.cr.nonce.ptr, k.cr.nonce.len)) {
		nlog_info("digest Ua: nonce unknown, expired or replayed (B-TID %s)", k.btid);
		e = (struct svc_error){ 401, "nonce_invalid", "the nonce is unknown, expired or already used" };
		return counted(s, NAF_REQ_ENROL, e.code, challenge(s, c, &e));
	}
	gba_err err = svc_digest_key(s, k.btid, k.uicc, ks);
	if (err) {
		e = svc_zn_error(err);
		nlog_info("digest Ua: B-TID %s: %s", k.btid, e.code);
		return counted(s, NAF_REQ_ENROL, e.code,
			       e.status == 401 ? challenge(s, c, &e) : reply_error(c, &e));
	}
	if (verify(&k, method, rq, ks)) {
		gba_wipe(ks, sizeof(ks));
		nlog_info("digest Ua: wrong response for B-TID %s", k.btid);
		e = (struct svc_error){ 401, "wrong_credentials", "the digest response does not verify" };
		return counted(s, NAF_REQ_ENROL, e.code, challenge(s, c, &e));
	}
	enum MHD_Result rc;
	const char *result = "ok";
	if (svc_enrol(s, k.btid, NULL, k.uicc, json, sizeof(json), &e)) {
		rc = e.status == 401 ? challenge(s, c, &e) : reply_error(c, &e);
		result = e.code;
	} else {
		rc = success(c, &k, ks, json);
	}
	gba_wipe(ks, sizeof(ks));
	return counted(s, NAF_REQ_ENROL, result, rc);
}

enum MHD_Result ua_digest_handler(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct naf_svc *s = cls;
	struct req *rq = NULL;
	(void)version;
	int st = req_collect(con_cls, upload, upload_size, s->cfg->max_body, &rq);
	if (st <= 0)
		return st == 0 ? MHD_YES : MHD_NO;
	struct svc_error e;
	if (rq->too_big) {
		e = (struct svc_error){ 413, "too_large", "the request body is too large" };
		return counted(s, NAF_REQ_OTHER, e.code, reply_error(c, &e));
	}
	if (strcmp(url, "/m2m/enrol")) {
		e = (struct svc_error){ 404, "not_found", "Digest Ua serves POST /m2m/enrol" };
		return counted(s, NAF_REQ_OTHER, e.code, reply_error(c, &e));
	}
	if (strcmp(method, "POST") && strcmp(method, "GET")) {
		e = (struct svc_error){ 405, "method", "use POST" };
		return counted(s, NAF_REQ_OTHER, e.code, reply_error(c, &e));
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth)
		return counted(s, NAF_REQ_ENROL, "challenge", challenge(s, c, NULL));
	return authenticate(s, c, url, method, auth, rq);
}
