/*
 * bootstrap.c - the Ub run (TS 24.109 4.2-4.5, RFC 3310): first request, the
 * card's answer to the challenge, at most one AUTS resync, the digest
 * response with qop=auth-int, rspauth and the BootstrappingInfo.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include "ub_http.h"

#define NC "00000001"

/* State of one run; the secrets in it are wiped at the end. */
struct run {
	struct gba_client_card *card;
	const struct gba_client_identity *id;
	int gba_u;
	struct ub_http http;
	struct ub_response resp;
	char scratch[2 * GBA_DIGEST_HEADER_MAX];
	char realm[256], nonce[256], opaque[256], cnonce[17];
	int has_opaque;
	enum gba_digest_algorithm alg;
	enum gba_digest_qop qop;
	uint8_t rand[16];
	struct gba_client_auth auth;
	char akav2_pw[25];
	struct gba_client_stats *stats;
};

static struct gba_str str(const char *s)
{
	return (struct gba_str){ s, s ? strlen(s) : 0 };
}

static gba_client_err send_auth(struct run *r, const struct gba_digest_credentials *c,
				char *msg, size_t msg_size)
{
	char hdr[GBA_DIGEST_HEADER_MAX];
	gba_client_err err;

	if (gba_digest_build_credentials(hdr, sizeof(hdr), NULL, c))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "cannot build the Authorization header");
	r->stats->http_requests++;
	err = ub_http_get(&r->http, hdr, &r->resp, msg, msg_size);
	r->stats->http_status = (int)r->resp.status;
	return err;
}

static gba_client_err first_request(struct run *r, char *msg, size_t msg_size)
{
	struct gba_digest_credentials c = {
		.username = str(r->id->impi), .realm = str(r->http.host),
		.nonce = str(""), .uri = str(r->http.path), .response = str(""),
	};
	return send_auth(r, &c, msg, msg_size);
}

static int copy(char *dst, size_t size, struct gba_str v)
{
	if (!v.ptr || v.len >= size)
		return -1;
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
	return 0;
}

/* A 401 with an AKA challenge: keep it, RAND/AUTN out of the nonce. */
static gba_client_err take_challenge(struct run *r, uint8_t autn[16], char *msg,
				     size_t msg_size)
{
	struct gba_digest_challenge c;
	uint8_t raw[192];
	size_t n;

	if (r->resp.status == 403)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_REJECTED,
				   "the BSF refused %.100s (403: unknown user?)", r->id->impi);
	if (r->resp.status != 401 || !r->resp.www[0])
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "expected 401 with a Digest challenge, the BSF answered %ld",
				   r->resp.status);
	if (gba_digest_parse_challenge(r->resp.www, strlen(r->resp.www), r->scratch,
				       sizeof(r->scratch), &c))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "unparsable WWW-Authenticate");
	if (c.algorithm != GBA_DIGEST_ALG_AKAV1_MD5 && c.algorithm != GBA_DIGEST_ALG_AKAV2_MD5)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "the challenge is not AKAv1-MD5 or AKAv2-MD5");
	/* auth-int protects the body; take auth only when nothing else is offered. */
	r->qop = (c.qop_mask & GBA_QOP_BIT_AUTH_INT) ? GBA_QOP_AUTH_INT
		 : (c.qop_mask & GBA_QOP_BIT_AUTH) ? GBA_QOP_AUTH : GBA_QOP_NONE;
	r->alg = c.algorithm;
	r->has_opaque = c.opaque.ptr != NULL;
	if (copy(r->realm, sizeof(r->realm), c.realm) || copy(r->nonce, sizeof(r->nonce), c.nonce) ||
	    (r->has_opaque && copy(r->opaque, sizeof(r->opaque), c.opaque)))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "challenge realm, nonce or opaque missing or too long");
	if (gba_base64_decode(raw, sizeof(raw), &n, r->nonce, strlen(r->nonce)) || n < 32)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "the nonce is not base64(RAND || AUTN ...)");
	memcpy(r->rand, raw, 16);
	memcpy(autn, raw + 16, 16);
	return GBA_CLIENT_OK;
}

static const uint8_t *password(struct run *r, size_t *len)
{
	if (r->alg == GBA_DIGEST_ALG_AKAV2_MD5) {
		*len = strlen(r->akav2_pw);
		return (const uint8_t *)r->akav2_pw;
	}
	*len = r->auth.res_len;
	return r->auth.res;
}

static struct gba_digest_input input(struct run *r, const char *method, const uint8_t *pw,
				     size_t pw_len)
{
	return (struct gba_digest_input){
		.username = str(r->id->impi), .realm = str(r->realm), .method = str(method),
		.uri = str(r->http.path), .nonce = str(r->nonce), .nc = str(NC),
		.cnonce = str(r->cnonce), .password = pw, .password_len = pw_len,
		.qop = r->qop, .body = (const uint8_t *)"", .body_len = 0,
	};
}

/* The digest response with this password (and AUTS when resynchronising). */
static gba_client_err respond(struct run *r, const uint8_t *pw, size_t pw_len,
			      const char *auts, char *msg, size_t msg_size)
{
	uint8_t cn[8];
	char response[33];
	struct gba_digest_input in;

	if (getrandom(cn, sizeof(cn), 0) != (ssize_t)sizeof(cn) ||
	    gba_hex_encode(r->cnonce, sizeof(r->cnonce), cn, sizeof(cn)))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "no random cnonce");
	in = input(r, "GET", pw, pw_len);
	if (gba_digest_response(response, &in))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "digest failed");
	struct gba_digest_credentials c = {
		.username = in.username, .realm = in.realm, .nonce = in.nonce, .uri = in.uri,
		.qop = r->qop, .nc = r->qop ? in.nc : (struct gba_str){ NULL, 0 },
		.cnonce = r->qop ? in.cnonce : (struct gba_str){ NULL, 0 },
		.response = str(response),
		.opaque = r->has_opaque ? str(r->opaque) : (struct gba_str){ NULL, 0 },
		.algorithm = r->alg, .auts = str(auts),
	};
	return send_auth(r, &c, msg, msg_size);
}

/* The card's answer to one challenge: OK, or SYNC (AUTS sent), or an error. */
static gba_client_err run_card(struct run *r, const uint8_t autn[16], char *msg,
			       size_t msg_size)
{
	char auts[GBA_BASE64_LEN(14) + 1];
	gba_client_err err;

	err = gba_client_usim_authenticate(r->card, r->gba_u, r->rand, autn, &r->auth,
					   msg, msg_size);
	if (err == GBA_CLIENT_ERR_MAC_FAILURE) {
		char ignored[GBA_CLIENT_MSG_MAX];
		/* TS 24.109 4.4: tell the BSF with an empty password, then stop. */
		respond(r, (const uint8_t *)"", 0, NULL, ignored, sizeof(ignored));
		return err;
	}
	if (err != GBA_CLIENT_ERR_SYNC_FAILURE)
		return err;
	if (r->stats->resyncs++ > 0)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_SYNC_FAILURE,
				   "the card reports a sync failure again after the resync");
	gba_base64_encode(auts, sizeof(auts), NULL, r->auth.auts, 14);
	err = respond(r, (const uint8_t *)"", 0, auts, msg, msg_size);
	return err ? err : GBA_CLIENT_ERR_SYNC_FAILURE;
}

static gba_err verify_rspauth(char expect[33], const struct gba_digest_input *in,
			      const struct gba_digest_auth_info *ai)
{
	gba_err e = gba_digest_rspauth(expect, in);

	return e ? e : gba_digest_verify(expect, ai->rspauth.ptr, ai->rspauth.len);
}

static gba_client_err check_rspauth(struct run *r, char *msg, size_t msg_size)
{
	struct gba_digest_auth_info ai;
	struct gba_digest_input in;
	char expect[33];
	const uint8_t *pw;
	size_t pw_len;
	gba_err e;

	if (!r->resp.ainfo[0] || gba_digest_parse_auth_info(r->resp.ainfo, strlen(r->resp.ainfo),
							    r->scratch, sizeof(r->scratch), &ai) ||
	    !ai.rspauth.ptr)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_RSPAUTH,
				   "200 without a usable Authentication-Info rspauth");
	if ((ai.cnonce.ptr && strcmp(ai.cnonce.ptr, r->cnonce)) || (ai.nc.ptr && strcmp(ai.nc.ptr, NC)))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_RSPAUTH,
				   "Authentication-Info does not echo our cnonce and nc");
	pw = password(r, &pw_len);
	in = input(r, "", pw, pw_len);
	/* RFC 2617 3.2.3 is read both ways: the 200's own body (TS 24.109's
	 * examples) first, then the GET's (empty) one. */
	e = GBA_ERR_AUTH_FAILED;
	if (r->qop == GBA_QOP_AUTH_INT && r->resp.body_len) {
		in.body = (const uint8_t *)r->resp.body;
		in.body_len = r->resp.body_len;
		e = verify_rspauth(expect, &in, &ai);
		r->stats->rspauth_body = "response";
	}
	if (e == GBA_ERR_AUTH_FAILED) {
		in.body = NULL;
		in.body_len = 0;
		e = verify_rspauth(expect, &in, &ai);
		r->stats->rspauth_body = e ? NULL : "request";
	}
	gba_wipe(expect, sizeof(expect));
	if (r->stats->rspauth_body)
		client_trace(r->card, "rspauth: verified over the %s body (%s)",
			     r->stats->rspauth_body, strcmp(r->stats->rspauth_body, "response")
			     ? "the GET's, empty: the BSF's ub.rspauth_body=request"
			     : "the 200's BootstrappingInfo, TS 24.109");
	else
		client_trace(r->card, "rspauth: verified over neither body");
	return e ? client_fail(msg, msg_size, GBA_CLIENT_ERR_RSPAUTH,
			       "rspauth does not verify: the BSF is not authentic")
		 : GBA_CLIENT_OK;
}

static gba_client_err take_final(struct run *r, struct gba_client_context *ctx, char *msg,
				 size_t msg_size)
{
	struct gba_bootstrapping_info info;
	size_t mt = strlen(GBA_UBXML_MEDIA);
	gba_client_err err;

	if (r->resp.status == 401 || r->resp.status == 403)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_REJECTED,
				   "the BSF refused the digest response (%ld)", r->resp.status);
	if (r->resp.status != 200)
		return client_fail(msg, msg_size, r->resp.status >= 500 ? GBA_CLIENT_ERR_NETWORK
					: GBA_CLIENT_ERR_PROTOCOL,
				   "the BSF answered %ld to the digest response", r->resp.status);
	err = check_rspauth(r, msg, msg_size);
	if (err)
		return err;
	if (strncasecmp(r->resp.ctype, GBA_UBXML_MEDIA, mt) ||
	    (r->resp.ctype[mt] && r->resp.ctype[mt] != ';' && r->resp.ctype[mt] != ' '))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "Content-Type is not %s", GBA_UBXML_MEDIA);
	if (gba_ubxml_parse(r->resp.body, r->resp.body_len, &info))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "bad BootstrappingInfo document");
	snprintf(ctx->btid, sizeof(ctx->btid), "%s", info.btid);
	ctx->lifetime = info.lifetime;
	return GBA_CLIENT_OK;
}

/* The whole exchange; ctx gets B-TID and lifetime. */
static gba_client_err exchange(struct run *r, struct gba_client_context *ctx, char *msg,
			       size_t msg_size)
{
	uint8_t autn[16];
	gba_client_err err;

	err = first_request(r, msg, msg_size);
	for (int round = 0; !err; round++) {
		err = take_challenge(r, autn, msg, msg_size);
		if (!err)
			err = run_card(r, autn, msg, msg_size);
		/* AUTS sent once: the BSF answers a fresh challenge.  A second
		 * sync failure comes back from run_card as the error it is. */
		if (err == GBA_CLIENT_ERR_SYNC_FAILURE && round == 0)
			err = GBA_CLIENT_OK;
		else
			break;
	}
	if (err)
		return err;
	if (r->alg == GBA_DIGEST_ALG_AKAV2_MD5) {
		if (r->gba_u)   /* AKAv2 needs CK and IK, which GBA_U keeps in the card */
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_UNSUPPORTED,
					   "AKAv2-MD5 cannot be used with GBA_U");
		gba_digest_akav2_password(r->akav2_pw, r->auth.res, r->auth.res_len, r->auth.ik,
					  r->auth.ck);
	}
	size_t pw_len;
	const uint8_t *pw = password(r, &pw_len);
	err = respond(r, pw, pw_len, NULL, msg, msg_size);
	return err ? err : take_final(r, ctx, msg, msg_size);
}

static gba_client_err finish_gba_u(struct run *r, const struct gba_client_context *ctx,
				   char *msg, size_t msg_size)
{
	char lifetime[GBA_XS_DATETIME_MAX];

	if (gba_xs_datetime_format(lifetime, sizeof(lifetime), ctx->lifetime))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL, "bad lifetime");
	return gba_client_usim_write_gbabp(r->card, ctx->rand, ctx->btid, lifetime, msg, msg_size);
}

/* The host part of an http(s) URL, at most size - 1 characters. */
static size_t url_host_len(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return strcspn(h, ":/?#");
}

/*
 * Does EF_GBABP hold L RAND, L B-TID (base64(RAND) "@" the BSF's domain)
 * and L lifetime (xs:dateTime in UTC)?  TS 31.102 4.2.79.  No: GBA_ME (or
 * an error when GBA_U was required), before the BSF sees a request.
 */
static gba_client_err check_gbabp(struct run *r, const char *url,
				  const struct gba_client_options *opt, char *msg,
				  size_t msg_size)
{
	size_t size = 0, host = url_host_len(url), derived = strlen(r->id->bsf_host), need;
	gba_client_err err = client_gbabp_size(r->card, &size, msg, msg_size);

	if (err)
		return err;
	need = 1 + 16 + 1 + 24 + 1 + (host > derived ? host : derived) + 1 + 20;
	if (size == 0 || size >= need)
		return GBA_CLIENT_OK;
	if (opt->require_gba_u)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_UNSUPPORTED,
				   "GBA_U asked for, but EF_GBABP holds %zu octets and RAND, a "
				   "B-TID of this BSF and the lifetime need %zu (the BSF was not "
				   "contacted)", size, need);
	r->gba_u = 0;
	r->stats->gbabp_size = size;
	r->stats->gbabp_needed = need;
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_bootstrap(struct gba_client_card *card,
				    const struct gba_client_identity *id,
				    const struct gba_client_options *opt,
				    struct gba_client_context *ctx,
				    struct gba_client_stats *stats,
				    char *msg, size_t msg_size)
{
	static const struct gba_client_options defaults = { 0 };
	struct gba_client_stats local;
	struct run *r;
	char url[512], ua[256];
	gba_client_err err;

	if (!card || !id || !ctx)
		return GBA_CLIENT_ERR_INVALID_ARG;
	opt = opt ? opt : &defaults;
	memset(ctx, 0, sizeof(*ctx));
	r = calloc(1, sizeof(*r));
	if (!r)
		return GBA_CLIENT_ERR_NO_MEMORY;
	r->card = card;
	r->id = id;
	r->gba_u = id->gba_u && !opt->force_gba_me;
	r->stats = stats ? stats : &local;
	memset(r->stats, 0, sizeof(*r->stats));
	unsigned long apdus0 = gba_client_card_exchanges(card);
	if (opt->bsf_url)
		snprintf(url, sizeof(url), "%s", opt->bsf_url);
	else
		snprintf(url, sizeof(url), "http://%s/", id->bsf_host);
	if (opt->require_gba_u && !r->gba_u)
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_UNSUPPORTED,
				  "GBA_U asked for, but the card's %s does not offer it",
				  id->app == GBA_CLIENT_APP_ISIM ? "ISIM" : "USIM");
	else
		err = r->gba_u ? check_gbabp(r, url, opt, msg, msg_size) : GBA_CLIENT_OK;
	/* The product token tells the BSF whether Ks stays in the UICC (TS 24.109 4.2). */
	snprintf(ua, sizeof(ua), "%s gba-client/1%s%s", r->gba_u ? "3gpp-gba-uicc" : "3gpp-gba",
		 opt->user_agent ? " " : "", opt->user_agent ? opt->user_agent : "");
	if (!err)
		err = ub_http_open(&r->http, url, ua, opt->timeout_ms, opt->ca_file, msg, msg_size);
	r->http.trace = card;
	if (!err)
		err = exchange(r, ctx, msg, msg_size);
	if (!err) {
		memcpy(ctx->rand, r->rand, 16);
		snprintf(ctx->impi, sizeof(ctx->impi), "%s", id->impi);
		snprintf(ctx->bsf_url, sizeof(ctx->bsf_url), "%s", url);
		ctx->type = r->gba_u ? GBA_CLIENT_GBA_U : GBA_CLIENT_GBA_ME;
		ctx->app = id->app == GBA_CLIENT_APP_ISIM ? GBA_CLIENT_APP_ISIM : GBA_CLIENT_APP_USIM;
		if (r->gba_u) {
			err = finish_gba_u(r, ctx, msg, msg_size);
		} else {
			memcpy(ctx->ks, r->auth.ck, 16);
			memcpy(ctx->ks + 16, r->auth.ik, 16);
		}
	}
	r->stats->apdus = gba_client_card_exchanges(card) - apdus0;
	ub_http_close(&r->http);
	gba_wipe(r, sizeof(*r));
	free(r);
	if (err)
		gba_wipe(ctx, sizeof(*ctx));
	return err;
}
