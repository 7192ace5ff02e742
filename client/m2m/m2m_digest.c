/*
 * m2m_digest.c - the Digest Ua exchange of TS 24.109 clause 5 from the node:
 * challenge, credentials with password = base64(Ks_NAF), and the NAF's
 * Authentication-Info checked so that the node knows the NAF holds Ks_NAF too.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include <gba/digest.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "m2m_internal.h"

#define REALM_PREFIX "3GPP-bootstrapping@"
#define REALM_PREFIX_UICC "3GPP-bootstrapping-uicc@"
#define SCRATCH_SIZE (GBA_M2M_FIELD_MAX + GBA_DIGEST_PARAMS_MAX)

/* Everything one exchange computes from. */
struct digest_run {
	const char *method, *path, *btid;
	char realm[300];
	char nonce[GBA_M2M_FIELD_MAX + 1];
	char opaque[GBA_M2M_FIELD_MAX + 1];
	char cnonce[33];
	char password[GBA_BASE64_LEN(32) + 1];   /* secret: base64(Ks_NAF) */
	const char *body;
	size_t body_len;
};

static gba_err send_once(const struct gba_m2m_peer *peer, const char *fqdn,
			 const char *extra, const struct digest_run *d,
			 struct gba_m2m_response *r)
{
	struct gba_m2m_conn *c;
	char error[GBA_M2M_ERROR_MAX] = "";
	gba_err err = gba_m2m_connect(peer, &c, error, sizeof(error));
	if (err) {
		memset(r, 0, sizeof(*r));
		snprintf(r->error, sizeof(r->error), "%s", error);
		return err;
	}
	err = gba_m2m_request(c, d->method, d->path, fqdn, extra, d->body, d->body_len, r);
	gba_m2m_close(c);
	return err;
}

/* Take nonce and opaque from the 401's challenge; check its realm is ours. */
static gba_err take_challenge(struct digest_run *d, struct gba_m2m_response *r)
{
	char scratch[SCRATCH_SIZE];
	struct gba_digest_challenge ch;
	if (r->status != 401 || !r->www_authenticate[0]) {
		m2m_seterr(r->error, sizeof(r->error), "expected a 401 Digest challenge, got %d",
			   r->status);
		return GBA_ERR_PARSE;
	}
	gba_err err = gba_digest_parse_challenge(r->www_authenticate,
						 strlen(r->www_authenticate), scratch,
						 sizeof(scratch), &ch);
	if (err || !ch.nonce.ptr || !ch.realm.ptr) {
		m2m_seterr(r->error, sizeof(r->error), "bad Digest challenge: %s",
			   err ? gba_strerror(err) : "no nonce or realm");
		return err ? err : GBA_ERR_MISSING_PARAM;
	}
	if (!(ch.qop_mask & GBA_QOP_BIT_AUTH_INT)) {
		m2m_seterr(r->error, sizeof(r->error), "the NAF does not offer qop=auth-int");
		return GBA_ERR_UNSUPPORTED;
	}
	snprintf(d->nonce, sizeof(d->nonce), "%s", ch.nonce.ptr);
	snprintf(d->opaque, sizeof(d->opaque), "%s", ch.opaque.ptr ? ch.opaque.ptr : "");
	return GBA_OK;
}

static struct gba_digest_input digest_input(const struct digest_run *d, const char *method,
					    const char *body, size_t body_len)
{
	struct gba_digest_input in = {
		.username = { d->btid, strlen(d->btid) },
		.realm = { d->realm, strlen(d->realm) },
		.method = { method, strlen(method) },
		.uri = { d->path, strlen(d->path) },
		.nonce = { d->nonce, strlen(d->nonce) },
		.nc = { "00000001", 8 },
		.cnonce = { d->cnonce, strlen(d->cnonce) },
		.password = (const uint8_t *)d->password,
		.password_len = strlen(d->password),
		.qop = GBA_QOP_AUTH_INT,
		.body = (const uint8_t *)body,
		.body_len = body_len,
	};
	return in;
}

static gba_err build_authorization(const struct digest_run *d, char *out, size_t size)
{
	char response[33], hdr[2048];
	struct gba_digest_input in = digest_input(d, d->method, d->body, d->body_len);
	gba_err err = gba_digest_response(response, &in);
	if (err)
		return err;
	struct gba_digest_credentials cr = {
		.username = in.username, .realm = in.realm, .nonce = in.nonce,
		.uri = in.uri, .response = { response, 32 }, .cnonce = in.cnonce,
		.nc = in.nc, .qop = GBA_QOP_AUTH_INT,
		.opaque = { d->opaque[0] ? d->opaque : NULL, strlen(d->opaque) },
	};
	err = gba_digest_build_credentials(hdr, sizeof(hdr), NULL, &cr);
	if (!err && snprintf(out, size, "Authorization: %s\r\n", hdr) >= (int)size)
		err = GBA_ERR_BUFFER_TOO_SMALL;
	return err;
}

/* rspauth of the 200: the NAF proves it holds Ks_NAF as well. */
static gba_err check_rspauth(const struct digest_run *d, struct gba_m2m_response *r)
{
	char scratch[SCRATCH_SIZE], expected[33];
	struct gba_digest_auth_info ai;
	gba_err err = gba_digest_parse_auth_info(r->authentication_info,
						 strlen(r->authentication_info), scratch,
						 sizeof(scratch), &ai);
	if (err || !ai.rspauth.ptr) {
		m2m_seterr(r->error, sizeof(r->error), "no valid Authentication-Info in the 200");
		return GBA_ERR_AUTH_FAILED;
	}
	struct gba_digest_input in = digest_input(d, "", r->body, r->body_len);
	err = gba_digest_rspauth(expected, &in);
	if (!err)
		err = gba_digest_verify(expected, ai.rspauth.ptr, ai.rspauth.len);
	if (err)
		m2m_seterr(r->error, sizeof(r->error), "the NAF's rspauth does not verify");
	return err ? GBA_ERR_AUTH_FAILED : GBA_OK;
}

static gba_err classify_refusal(struct gba_m2m_response *r)
{
	char what[64] = "";
	gba_m2m_json_get(r, "error", what, sizeof(what));
	if (!strcmp(what, "btid_unknown")) {
		m2m_seterr(r->error, sizeof(r->error),
			   "the NAF does not know the B-TID (unknown or expired): bootstrap again");
		return GBA_ERR_NOT_FOUND;
	}
	if (r->status == 403) {
		m2m_seterr(r->error, sizeof(r->error), "the NAF refused: %s",
			   what[0] ? what : "forbidden");
		return GBA_ERR_NOT_AUTHORIZED;
	}
	if (r->status == 503) {
		m2m_seterr(r->error, sizeof(r->error), "the NAF cannot reach the BSF (503)");
		return GBA_ERR_UNAVAILABLE;
	}
	m2m_seterr(r->error, sizeof(r->error), "the NAF rejected the credentials (%d %s)",
		   r->status, what);
	return GBA_ERR_AUTH_FAILED;
}

gba_err gba_m2m_digest_request(const struct gba_m2m_peer *peer, const char *fqdn,
			       const char *btid, const uint8_t ks_naf[32], int uicc,
			       const char *method, const char *path,
			       const char *body, size_t body_len,
			       struct gba_m2m_response *r)
{
	struct digest_run d = { .method = method, .path = path, .btid = btid,
				.body = body, .body_len = body_len };
	char auth[2200];
	uint8_t cn[16];
	if (!peer || !fqdn || !btid || !ks_naf || !method || !path || !r)
		return GBA_ERR_INVALID_ARG;
	snprintf(d.realm, sizeof(d.realm), "%s%s", uicc ? REALM_PREFIX_UICC : REALM_PREFIX, fqdn);
	gba_err err = send_once(peer, fqdn, NULL, &d, r);
	if (!err)
		err = take_challenge(&d, r);
	if (err)
		return err;
	if (gnutls_rnd(GNUTLS_RND_NONCE, cn, sizeof(cn)))
		return GBA_ERR_UNAVAILABLE;
	gba_hex_encode(d.cnonce, sizeof(d.cnonce), cn, sizeof(cn));
	gba_base64_encode(d.password, sizeof(d.password), NULL, ks_naf, 32);
	err = build_authorization(&d, auth, sizeof(auth));
	if (!err)
		err = send_once(peer, fqdn, auth, &d, r);
	if (!err)
		err = r->status == 200 ? check_rspauth(&d, r) : classify_refusal(r);
	gba_wipe(d.password, sizeof(d.password));
	return err;
}
