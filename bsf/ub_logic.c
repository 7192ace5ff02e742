/*
 * ub_logic.c - the Ub protocol decisions, see ub_logic.h.
 *
 * One request is handled on the worker thread's stack: the Authorization
 * header is parsed into a scratch buffer there, the vector lives there
 * while the challenge is built, and nothing is allocated unless the user
 * has a GUSS to carry to the session store.
 *
 * Order of checks on a second request: everything that needs no state
 * (syntax, realm, uri, opaque, qop, nc, nonce format) comes first and
 * answers 400 without touching the pending table, so that a malformed
 * request can never use up someone's challenge.  Then the challenge is
 * taken out of the table, which makes the nonce single-use whatever the
 * outcome.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include <gba/digest.h>
#include <gba/kdf.h>
#include <gba/ubxml.h>
#include <gba/util.h>

#include "ub_logic.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define NC_ONE "00000001"

/* One request in flight. */
struct ub_ctx {
	struct ub_server *srv;
	const struct ub_request *req;
	struct ub_reply *out;
	struct gba_digest_credentials cred;
	const char *impi;       /* cred.username once checked, else NULL */
	size_t impi_len;
	const char *reason;     /* why, for the log */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct gba_str str_n(const char *s, size_t n)
{
	return (struct gba_str){ s, n };
}

static int str_eq(const struct gba_str *s, const char *lit, size_t lit_len)
{
	return s->ptr && s->len == lit_len && !memcmp(s->ptr, lit, lit_len);
}

/* ---- Setup ------------------------------------------------------------------- */

/*
 * The opaque only has to come back unchanged.  Derived from the realm, it
 * is the same in every BSF process of that realm and across restarts.
 */
static void make_opaque(char out[17], const char *realm)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, 14, (const uint8_t *)"gba-bsf opaque");
	sha256_update(&ctx, strlen(realm), (const uint8_t *)realm);
	sha256_digest(&ctx, sizeof(d), d);
	(void)gba_hex_encode(out, 17, d, 8);
}

gba_err ub_server_init(struct ub_server *srv, const struct bsf_config *cfg,
		       struct av_source *av, struct gba_session_store *store,
		       struct challenge_table *pending, struct bsf_metrics *metrics,
		       const struct gba_log *log)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	srv->av = av;
	srv->store = store;
	srv->pending = pending;
	srv->metrics = metrics;
	srv->log = log;
	atomic_init(&srv->store_down, 0);
	atomic_init(&srv->subdb_down, 0);
	srv->realm_len = strlen(cfg->realm);
	srv->domain_len = strlen(cfg->domain);
	make_opaque(srv->opaque, cfg->realm);
	return nonce_key_init(&srv->nonce_key);
}

void ub_server_wipe(struct ub_server *srv)
{
	nonce_key_wipe(&srv->nonce_key);
}

/* ---- Replies ----------------------------------------------------------------- */

void ub_reply_error(struct ub_reply *out, unsigned status, enum bsf_cause cause,
		    const char *text)
{
	out->status = status;
	out->cause = cause;
	out->header_kind = UB_HDR_NONE;
	out->header[0] = '\0';
	out->content_type = TEXT_PLAIN;
	out->body = text;
	out->body_len = strlen(text);
}

static void fail(struct ub_ctx *x, unsigned status, enum bsf_cause cause, const char *text)
{
	ub_reply_error(x->out, status, cause, text);
	x->reason = text;
}

static void fail_unavailable(struct ub_ctx *x, enum bsf_cause cause, const char *text)
{
	fail(x, 503, cause, text);
	x->out->retry_after = x->srv->cfg->retry_after;
}

static const char *parse_error_text(gba_err err)
{
	switch (err) {
	case GBA_ERR_UNSUPPORTED:
		return "Authorization scheme is not Digest";
	case GBA_ERR_DUPLICATE_PARAM:
		return "Authorization: a parameter appears twice";
	case GBA_ERR_MISSING_PARAM:
		return "Authorization: a required parameter is missing";
	case GBA_ERR_BAD_ENCODING:
		return "Authorization: control character or invalid UTF-8";
	case GBA_ERR_TOO_LARGE:
		return "Authorization: too many parameters";
	default:
		return "Authorization: malformed Digest header";
	}
}

/*
 * A store that cannot write (disk full) is logged when the outage begins
 * and when it ends, not once per request.  down: 1 at a refused write, 0
 * at a write that worked.
 */
static void note_outage(struct ub_ctx *x, atomic_int *flag, const char *what, int down)
{
	if (atomic_load_explicit(flag, memory_order_relaxed) == down ||
	    atomic_exchange(flag, down) == down)
		return;
	if (down)
		gba_log_msg(x->srv->log, GBA_LOG_WARN, "%s cannot write (disk full or write "
			    "error): bootstraps get 503 until it can", what);
	else
		gba_log_msg(x->srv->log, GBA_LOG_WARN, "%s writes again", what);
}

/* The AV source's refusals, as av_source.h maps them. */
static void fail_av(struct ub_ctx *x, gba_err err)
{
	switch (err) {
	case GBA_ERR_STORE_UNWRITABLE:
		/* The SQN could not be reserved durably: no vector was issued. */
		note_outage(x, &x->srv->subdb_down, "subscriber database", 1);
		fail_unavailable(x, CAUSE_STORE_UNWRITABLE,
				 "subscriber database cannot write, retry later");
		return;
	case GBA_ERR_NOT_FOUND:
		fail(x, 403, CAUSE_UNKNOWN_USER, "unknown user");
		return;
	case GBA_ERR_NOT_AUTHORIZED:
		fail(x, 403, CAUSE_UNKNOWN_USER, "user may not bootstrap");
		return;
	case GBA_ERR_AUTS_INVALID:
		fail(x, 403, CAUSE_BAD_AUTS, "resynchronisation refused: AUTS does not verify");
		return;
	case GBA_ERR_UNAVAILABLE:
	case GBA_ERR_TIMEOUT:
		fail_unavailable(x, CAUSE_HSS_UNAVAILABLE,
				 "authentication vectors unavailable, retry later");
		return;
	default:
		fail(x, 500, CAUSE_INTERNAL, "cannot get an authentication vector");
		return;
	}
}

/* ---- Challenges -------------------------------------------------------------- */

/*
 * The password the UE will use: RES (AKAv1) or its RFC 4169 form (24
 * octets, written with a NUL after them) into pw.
 */
static gba_err challenge_password(struct ub_ctx *x, const struct gba_av *av, uint8_t pw[25],
				  size_t *pw_len)
{
	if (x->srv->cfg->algorithm == GBA_DIGEST_ALG_AKAV2_MD5) {
		*pw_len = 24;
		return gba_digest_akav2_password((char *)pw, av->xres, av->xres_len, av->ik,
						 av->ck);
	}
	if (av->xres_len > 24)
		return GBA_ERR_BAD_LENGTH;
	memcpy(pw, av->xres, av->xres_len);
	*pw_len = av->xres_len;
	return GBA_OK;
}

/* HA1 over realm with the password pw. */
static gba_err ha1_for(struct ub_ctx *x, struct gba_str realm, const uint8_t *pw, size_t pw_len,
		       uint8_t ha1[16])
{
	struct gba_digest_input in = { 0 };

	in.username = str_n(x->impi, x->impi_len);
	in.realm = realm;
	in.password = pw;
	in.password_len = pw_len;
	return gba_digest_ha1(ha1, &in);
}

/*
 * HA1 with the configured realm; with ub.realm_check=lenient the password
 * is kept too, for an answer that names another realm.
 */
static gba_err challenge_ha1(struct ub_ctx *x, const struct gba_av *av, struct challenge *c)
{
	uint8_t pw[25];
	size_t pw_len = 0;
	gba_err err = challenge_password(x, av, pw, &pw_len);

	if (!err)
		err = ha1_for(x, str_n(x->srv->cfg->realm, x->srv->realm_len), pw, pw_len, c->ha1);
	c->password_len = 0;
	if (!err && x->srv->cfg->realm_check == REALM_CHECK_LENIENT) {
		memcpy(c->password, pw, pw_len);
		c->password_len = (uint8_t)pw_len;
	}
	gba_wipe(pw, sizeof(pw));
	return err;
}

static gba_err copy_guss(struct challenge *c, const struct av_answer *ans)
{
	c->guss = NULL;
	c->guss_len = 0;
	if (ans->guss_len == 0)
		return GBA_OK;
	c->guss = malloc(ans->guss_len);
	if (!c->guss)
		return GBA_ERR_NO_MEMORY;
	memcpy(c->guss, ans->guss, ans->guss_len);
	c->guss_len = ans->guss_len;
	return GBA_OK;
}

static gba_err build_www_authenticate(struct ub_ctx *x, const char *nonce, int stale)
{
	struct gba_digest_challenge ch = { 0 };

	ch.realm = str_n(x->srv->cfg->realm, x->srv->realm_len);
	ch.nonce = str_n(nonce, NONCE_TEXT_LEN);
	ch.algorithm = x->srv->cfg->algorithm;
	ch.qop_mask = GBA_QOP_BIT_AUTH_INT;
	ch.opaque = str_n(x->srv->opaque, 16);
	ch.stale = stale;
	return gba_digest_build_challenge(x->out->header, sizeof(x->out->header), NULL, &ch);
}

/* A 401 carrying the challenge nf (for x->impi). */
static void send_challenge(struct ub_ctx *x, struct nonce_fields *nf, int stale,
			   enum bsf_cause cause)
{
	char nonce[NONCE_TEXT_LEN + 1];

	nonce_encode(&x->srv->nonce_key, nf, x->impi, x->impi_len, nonce);
	if (build_www_authenticate(x, nonce, stale)) {
		fail(x, 500, CAUSE_INTERNAL, "cannot build the challenge");
		return;
	}
	x->out->status = 401;
	x->out->cause = cause;
	x->out->header_kind = UB_HDR_WWW_AUTHENTICATE;
	x->out->content_type = NULL;
	x->out->body = "";
	x->out->body_len = 0;
}

/*
 * Turn a fetched vector into a pending challenge and a 401.  Consumes
 * the reserved slot either way.
 */
static void publish_challenge(struct ub_ctx *x, uint32_t slot, struct av_answer *ans,
			      int stale, enum bsf_cause cause)
{
	struct challenge c;
	struct nonce_fields nf;

	memcpy(c.rand, ans->av.rand, 16);
	memcpy(c.autn, ans->av.autn, 16);
	memcpy(c.ck, ans->av.ck, 16);
	memcpy(c.ik, ans->av.ik, 16);
	c.expiry_ms = now_ms() + (int64_t)x->srv->cfg->nonce_lifetime * 1000;
	if (challenge_ha1(x, &ans->av, &c) || copy_guss(&c, ans)) {
		gba_wipe(&c, sizeof(c));
		challenge_cancel(x->srv->pending, slot, now_ms());
		fail(x, 500, CAUSE_INTERNAL, "cannot build the challenge");
		return;
	}
	memcpy(nf.rand, ans->av.rand, 16);
	memcpy(nf.autn, ans->av.autn, 16);
	nf.slot = slot;
	nf.expiry_ms = c.expiry_ms;
	challenge_publish(x->srv->pending, slot, &c);
	send_challenge(x, &nf, stale, cause);
}

/*
 * No fresh vector: the IMPI is over its rate (then its newest pending
 * challenge goes out again), or a limit of the table says 503.  Returns 1
 * when the answer is made, 0 for CHALLENGE_FRESH.
 */
static int answer_without_vector(struct ub_ctx *x, const struct challenge_grant *g, int stale,
				 enum bsf_cause cause)
{
	struct bsf_metrics *m = x->srv->metrics;
	struct nonce_fields nf;

	switch (g->kind) {
	case CHALLENGE_FRESH:
		return 0;
	case CHALLENGE_RESEND:
		metrics_inc(&m->challenges_reused);
		memcpy(nf.rand, g->rand, 16);
		memcpy(nf.autn, g->autn, 16);
		nf.slot = g->slot;
		nf.expiry_ms = g->expiry_ms;
		send_challenge(x, &nf, stale, cause);
		return 1;
	case CHALLENGE_RATE_LIMITED:
		metrics_inc(&m->challenges_refused_rate);
		fail_unavailable(x, CAUSE_OVERLOAD, "too many challenges for this IMPI, retry later");
		x->out->retry_after = (unsigned)((g->retry_ms + 999) / 1000);
		return 1;
	case CHALLENGE_IP_LIMITED:
		metrics_inc(&m->challenges_refused_per_ip);
		fail_unavailable(x, CAUSE_OVERLOAD,
				 "too many pending challenges from this address, retry later");
		return 1;
	case CHALLENGE_FULL:
		break;
	}
	fail_unavailable(x, CAUSE_OVERLOAD, "too many pending challenges, retry later");
	return 1;
}

static void deferred_done(void *arg)
{
	struct ub_deferred *d = arg;

	d->release(d->hook_arg);
}

/*
 * Hold the request while the AV source gets its vector (a reserved slot
 * g; after a resynchronisation when auts is set): the answer comes from
 * ub_finish_deferred.  0 when it cannot be held (the caller fetches now).
 */
static int defer_fetch(struct ub_ctx *x, const struct challenge_grant *g, int stale,
		       enum bsf_cause cause, const uint8_t *resync_rand, const uint8_t *auts)
{
	struct ub_deferred *d = x->req->defer;
	const struct av_source_ops *ops = x->srv->av->ops;

	if (!d || !(auts ? ops->resync_start != NULL : av_source_can_defer(x->srv->av)))
		return 0;
	d->srv = x->srv;
	memcpy(d->impi, x->impi, x->impi_len);
	d->impi[x->impi_len] = '\0';
	d->impi_len = x->impi_len;
	d->slot = g->slot;
	d->stale = stale;
	d->resync = auts != NULL;
	d->cause = cause;
	d->job = NULL;
	x->out->status = 0;
	d->hold(d->hook_arg);
	d->start_err = auts ? ops->resync_start(x->srv->av, d->impi, resync_rand, auts,
						deferred_done, d, &d->job)
			    : ops->fetch_start(x->srv->av, d->impi, deferred_done, d, &d->job);
	if (d->start_err)
		d->release(d->hook_arg);   /* answered at once by ub_finish_deferred */
	return 1;
}

/* The vector (or the AV source's refusal) for the reserved slot. */
static void finish_challenge(struct ub_ctx *x, uint32_t slot, gba_err err,
			     struct av_answer *ans, int resync, int stale, enum bsf_cause cause)
{
	if (err) {
		challenge_cancel(x->srv->pending, slot, now_ms());
		fail_av(x, err);
		return;
	}
	if (resync)
		metrics_inc(&x->srv->metrics->resyncs);
	note_outage(x, &x->srv->subdb_down, "subscriber database", 0);
	publish_challenge(x, slot, ans, stale, cause);
}

/*
 * A fresh 401 for x->impi: a new vector (after a resynchronisation when
 * auts is set), or within the limits of the pending table (challenge.h)
 * the IMPI's newest pending one again, or 503.  cause says why a fresh
 * one was needed (CAUSE_NONE for a first request or a resync).
 */
static void issue_challenge(struct ub_ctx *x, const uint8_t *resync_rand, const uint8_t *auts,
			    int stale, enum bsf_cause cause)
{
	struct challenge_request rq = { x->impi, x->impi_len, x->req->client, now_ms(),
					auts != NULL };
	struct challenge_grant g;
	struct av_answer ans;
	gba_err err;

	/* A slot first: a full table must not cost the subscriber an SQN. */
	challenge_reserve(x->srv->pending, &rq, &g);
	if (answer_without_vector(x, &g, stale, cause))
		return;
	if (g.replaced)
		metrics_inc(&x->srv->metrics->challenges_replaced);
	if (defer_fetch(x, &g, stale, cause, resync_rand, auts))
		return;
	err = av_source_fetch(x->srv->av, x->impi, resync_rand, auts, &ans);
	finish_challenge(x, g.slot, err, &ans, auts != NULL, stale, cause);
	gba_wipe(&ans.av, sizeof(ans.av));
}

/* ---- Checks ------------------------------------------------------------------ */

/* The Host header's name, without a port. */
static size_t host_name_len(const char *host)
{
	const char *colon = strrchr(host, ':');

	if (!colon || strchr(colon, ']'))
		return strlen(host);
	return (size_t)(colon - host);
}

/*
 * A first request may name the BSF by its realm, its domain or the host
 * name it was reached at (TS 24.109 uses the BSF's host name).
 */
static int first_realm_ok(const struct ub_ctx *x)
{
	const struct gba_str *r = &x->cred.realm;
	const char *host = x->req->host;

	if (str_eq(r, x->srv->cfg->realm, x->srv->realm_len) ||
	    str_eq(r, x->srv->cfg->domain, x->srv->domain_len))
		return 1;
	return host && str_eq(r, host, host_name_len(host));
}

static int uri_ok(const struct ub_ctx *x)
{
	return !x->req->has_query &&
	       str_eq(&x->cred.uri, x->req->target, x->req->target_len);
}

/* ub.realm_check=lenient let another realm through: say which (printable only). */
static void log_lenient_realm(const struct ub_ctx *x, const struct gba_str *realm)
{
	char text[128];
	size_t i, n = realm->len < sizeof(text) - 1 ? realm->len : sizeof(text) - 1;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)realm->ptr[i];
		text[i] = ch >= 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '?';
	}
	text[n] = '\0';
	gba_log_msg(x->srv->log, GBA_LOG_INFO, "ub.realm_check=lenient: realm \"%s\" accepted in "
		"place of the challenge's", text);
}

/* The checks of a second request that need no state. */
static int second_request_ok(struct ub_ctx *x)
{
	const struct gba_digest_credentials *c = &x->cred;

	if (!str_eq(&c->realm, x->srv->cfg->realm, x->srv->realm_len)) {
		if (x->srv->cfg->realm_check != REALM_CHECK_LENIENT) {
			fail(x, 400, CAUSE_MALFORMED, "realm is not the one of the challenge");
			return 0;
		}
		log_lenient_realm(x, &c->realm);
	}
	if (!str_eq(&c->opaque, x->srv->opaque, 16)) {
		fail(x, 400, CAUSE_MALFORMED, "opaque missing or not the one of the challenge");
		return 0;
	}
	if (c->algorithm_name.ptr && c->algorithm != x->srv->cfg->algorithm) {
		fail(x, 400, CAUSE_MALFORMED, "algorithm is not the one of the challenge");
		return 0;
	}
	if (c->auts.ptr)
		return 1; /* a sync failure: the response is computed with no password */
	if (c->qop != GBA_QOP_AUTH_INT) {
		fail(x, 400, CAUSE_MALFORMED, "qop must be auth-int");
		return 0;
	}
	if (!str_eq(&c->nc, NC_ONE, 8) || c->cnonce.len == 0) {
		fail(x, 400, CAUSE_MALFORMED,
		     "nc must be 00000001 (nonces are single-use) and cnonce non-empty");
		return 0;
	}
	return 1;
}

/* The GBA type from the User-Agent's product tokens (TS 24.109 4.5.2). */
static enum gba_type gba_type_of(const char *ua)
{
	static const char uicc[] = "3gpp-gba-uicc";
	const size_t n = sizeof(uicc) - 1;

	while (ua && *ua) {
		size_t len = strcspn(ua, " \t");
		if (len >= n && !memcmp(ua, uicc, n) && (len == n || ua[n] == '/'))
			return GBA_TYPE_U;
		ua += len;
		ua += strspn(ua, " \t");
	}
	return GBA_TYPE_ME;
}

/* ---- Success ----------------------------------------------------------------- */

static gba_err build_auth_info(struct ub_ctx *x, const uint8_t ha1[16],
			       const struct gba_digest_input *in, const char *xml,
			       size_t xml_len)
{
	struct gba_digest_input rsp_in = *in;
	struct gba_digest_auth_info ai = { 0 };
	char rspauth[33];
	gba_err err;

	/* RFC 2617 3.2.3: rspauth is the request-digest with an empty method. */
	rsp_in.method = str_n("", 0);
	if (x->srv->cfg->rspauth_body == RSPAUTH_BODY_RESPONSE) {
		rsp_in.body = (const uint8_t *)xml;
		rsp_in.body_len = xml_len;
	}
	err = gba_digest_response_ha1(rspauth, ha1, &rsp_in);
	if (err)
		return err;
	ai.qop = GBA_QOP_AUTH_INT;
	ai.rspauth = str_n(rspauth, 32);
	ai.cnonce = in->cnonce;
	ai.nc = in->nc;
	return gba_digest_build_auth_info(x->out->header, sizeof(x->out->header), NULL, &ai);
}

static void log_success(struct ub_ctx *x, const struct gba_session *s)
{
	char impi[GBA_LOG_IMPI_TEXT_MAX + 1];

	if (!gba_log_enabled(x->srv->log, GBA_LOG_INFO))
		return;
	gba_log_msg(x->srv->log, GBA_LOG_INFO, "bootstrap ok impi=%s btid=%s type=%s",
		gba_log_impi(x->srv->log, impi, x->impi, x->impi_len), s->btid,
		s->type == GBA_TYPE_U ? "GBA_U" : "GBA_ME");
}

/*
 * The AV source gave a RAND that is already the B-TID of a live session (a
 * stored-vector HSS repeats them).  TS 33.220 4.5.2: a B-TID names one
 * session, so the other one stays and this bootstrap fails.
 */
static void btid_collision(struct ub_ctx *x, const char *btid)
{
	char impi[GBA_LOG_IMPI_TEXT_MAX + 1];

	gba_log_msg(x->srv->log, GBA_LOG_WARN, "B-TID collision: btid=%s is a live session's; "
		"bootstrap of impi=%s refused, the AV source repeats RANDs", btid,
		gba_log_impi(x->srv->log, impi, x->impi, x->impi_len));
	fail(x, 500, CAUSE_BTID_COLLISION, "B-TID collision: the vector's RAND is in use");
}

static void store_error(struct ub_ctx *x, gba_err err)
{
	if (err == GBA_ERR_STORE_UNWRITABLE) {
		note_outage(x, &x->srv->store_down, "session store", 1);
		fail_unavailable(x, CAUSE_STORE_UNWRITABLE,
				 "session store cannot write, retry later");
	} else if (err == GBA_ERR_UNAVAILABLE || err == GBA_ERR_TIMEOUT)
		fail_unavailable(x, CAUSE_STORE, "session store unavailable, retry later");
	else
		fail(x, 500, CAUSE_STORE, "cannot store the session");
}

/* The response verified: store the session, answer 200. */
static void succeed(struct ub_ctx *x, const struct challenge *c,
		    const struct gba_digest_input *in)
{
	struct gba_session s;
	size_t xml_len;
	gba_err err;

	s.created = now_ms() / 1000;
	s.expiry = s.created + x->srv->cfg->key_lifetime;
	s.type = gba_type_of(x->req->user_agent);
	memcpy(s.rand, c->rand, 16);
	memcpy(s.impi, x->impi, x->impi_len + 1);
	memcpy(s.ks, c->ck, 16);
	memcpy(s.ks + 16, c->ik, 16);
	err = gba_btid(s.btid, sizeof(s.btid), c->rand, x->srv->cfg->domain, x->srv->domain_len);
	if (!err)
		err = gba_session_store_put(x->srv->store, &s, c->guss, c->guss_len);
	gba_wipe(s.ks, sizeof(s.ks));
	if (err == GBA_ERR_EXISTS) {
		btid_collision(x, s.btid);
		return;
	}
	if (err) {
		store_error(x, err);
		return;
	}
	note_outage(x, &x->srv->store_down, "session store", 0);
	err = gba_ubxml_build(x->out->xml, sizeof(x->out->xml), &xml_len, s.btid,
			      strlen(s.btid), (time_t)s.expiry);
	if (!err)
		err = build_auth_info(x, c->ha1, in, x->out->xml, xml_len);
	if (err) {
		/* The session is stored but unusable without the answer: drop it. */
		(void)gba_session_store_delete(x->srv->store, s.btid, strlen(s.btid));
		fail(x, 500, CAUSE_INTERNAL, "cannot build the answer");
		return;
	}
	x->out->status = 200;
	x->out->cause = CAUSE_NONE;
	x->out->header_kind = UB_HDR_AUTHENTICATION_INFO;
	x->out->content_type = GBA_UBXML_MEDIA;
	x->out->body = x->out->xml;
	x->out->body_len = xml_len;
	log_success(x, &s);
}

/* ---- Second requests ---------------------------------------------------------- */

/*
 * RFC 3310 3.2: after a MAC failure the UE answers with an empty password.
 * Telling that from a wrong RES is only for the operator's counters.
 */
static int is_mac_failure(struct ub_ctx *x, const struct gba_digest_input *in)
{
	struct gba_digest_input empty = *in;
	uint8_t ha1[16];
	char expect[33];

	if (x->cred.response.len == 0)
		return 1;
	empty.password = NULL;
	empty.password_len = 0;
	if (gba_digest_ha1(ha1, &empty) || gba_digest_response_ha1(expect, ha1, &empty))
		return 0;
	return gba_digest_verify(expect, x->cred.response.ptr, x->cred.response.len) == GBA_OK;
}

static void verify(struct ub_ctx *x, struct challenge *c)
{
	const struct gba_digest_credentials *cr = &x->cred;
	struct gba_digest_input in = { 0 };
	char expect[33];

	/* Lenient realm: the UE's HA1 (and so rspauth's) is over its realm. */
	if (c->password_len && !str_eq(&cr->realm, x->srv->cfg->realm, x->srv->realm_len) &&
	    ha1_for(x, cr->realm, c->password, c->password_len, c->ha1)) {
		fail(x, 500, CAUSE_INTERNAL, "cannot compute HA1");
		return;
	}

	in.username = cr->username;
	in.realm = cr->realm;
	in.method = str_n(x->req->method, strlen(x->req->method));
	in.uri = cr->uri;
	in.nonce = cr->nonce;
	in.nc = cr->nc;
	in.cnonce = cr->cnonce;
	in.qop = GBA_QOP_AUTH_INT;
	in.body = x->req->body_len ? x->req->body : (const uint8_t *)"";
	in.body_len = x->req->body_len;
	if (gba_digest_response_ha1(expect, c->ha1, &in) ||
	    gba_digest_verify(expect, cr->response.ptr, cr->response.len)) {
		if (is_mac_failure(x, &in))
			fail(x, 403, CAUSE_MAC_FAILURE,
			     "authentication failed: the card rejected the network (MAC failure)");
		else
			fail(x, 403, CAUSE_WRONG_RESPONSE, "authentication failed");
		return;
	}
	succeed(x, c, &in);
}

/* A nonce that is no longer (or never was) pending: say why, challenge afresh. */
static void rechallenge(struct ub_ctx *x, const struct nonce_fields *nf, int64_t now)
{
	enum bsf_cause cause = CAUSE_UNKNOWN_NONCE;

	if (nonce_tag_valid(&x->srv->nonce_key, nf, x->impi, x->impi_len))
		cause = nf->expiry_ms <= now ? CAUSE_STALE_NONCE : CAUSE_REPLAYED_NONCE;
	issue_challenge(x, NULL, NULL, cause == CAUSE_STALE_NONCE, cause);
}

static void second_request(struct ub_ctx *x)
{
	struct nonce_fields nf;
	struct challenge c;
	uint8_t auts[GBA_AUTS_LEN + 2];
	size_t auts_len = 0;
	int64_t now;

	if (!second_request_ok(x))
		return;
	if (nonce_decode(x->cred.nonce.ptr, x->cred.nonce.len, &nf)) {
		fail(x, 400, CAUSE_MALFORMED, "nonce is not of this BSF's format");
		return;
	}
	if (x->cred.auts.ptr &&
	    (gba_base64_decode(auts, sizeof(auts), &auts_len, x->cred.auts.ptr,
			       x->cred.auts.len) || auts_len != GBA_AUTS_LEN)) {
		fail(x, 400, CAUSE_MALFORMED, "auts is not base64 of 14 octets");
		return;
	}
	now = now_ms();
	switch (challenge_take(x->srv->pending, nf.slot, nf.rand, x->impi, x->impi_len, now,
			       &c)) {
	case CHALLENGE_TAKEN:
		if (x->cred.auts.ptr)
			issue_challenge(x, c.rand, auts, 0, CAUSE_NONE);
		else
			verify(x, &c);
		challenge_clear(&c);
		return;
	case CHALLENGE_EXPIRED:
		issue_challenge(x, NULL, NULL, 1, CAUSE_STALE_NONCE);
		return;
	case CHALLENGE_ABSENT:
		rechallenge(x, &nf, now);
		return;
	}
}

/* ---- Requests ------------------------------------------------------------------ */

/*
 * A new bootstrap that lay unread in its socket over ub.max_queue_wait_ms:
 * the workers are behind.  Requests waiting in kept-alive sockets are not
 * counted by the admission limit (nothing sees them before a worker reads
 * them); a 503 now costs a fraction of a bootstrap and shortens the others'
 * wait.  The transport gives queued_ms only while the workers are busy (a
 * clock tick can fall inside a short wait), and it is asked only here, so
 * other requests pay no system call for it.
 */
static int queued_too_long(const struct ub_ctx *x)
{
	unsigned limit = x->srv->cfg->max_queue_wait_ms;

	if (!limit || !x->req->queued_ms || x->req->queued_ms(x->req->queued_arg) < limit)
		return 0;
	metrics_inc(&x->srv->metrics->ub_shed_queued);
	return 1;
}

static void first_request(struct ub_ctx *x)
{
	if (!first_realm_ok(x)) {
		fail(x, 400, CAUSE_MALFORMED, "realm is not served by this BSF");
		return;
	}
	if (x->cred.auts.ptr) {
		fail(x, 400, CAUSE_MALFORMED, "auts without a nonce");
		return;
	}
	if (x->req->overloaded || queued_too_long(x)) {
		/* A new bootstrap while the BSF is over its admission limit or behind. */
		metrics_inc(&x->srv->metrics->ub_shed);
		fail_unavailable(x, CAUSE_OVERLOAD, "overloaded, retry later");
		return;
	}
	issue_challenge(x, NULL, NULL, 0, CAUSE_NONE);
}

static int method_ok(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "POST");
}

static void handle(struct ub_ctx *x, char *scratch, size_t scratch_size)
{
	const struct ub_request *req = x->req;
	gba_err err;

	if (!method_ok(req->method)) {
		fail(x, 405, CAUSE_MALFORMED, "Ub takes GET (or POST)");
		return;
	}
	if (!req->authorization) {
		fail(x, 400, CAUSE_MALFORMED,
		     "Authorization: Digest with the IMPI as username is required");
		return;
	}
	if (req->authorization_len > GBA_DIGEST_HEADER_MAX) {
		fail(x, 431, CAUSE_MALFORMED, "Authorization header too long");
		return;
	}
	err = gba_digest_parse_credentials(req->authorization, req->authorization_len, scratch,
					   scratch_size, &x->cred);
	if (err) {
		fail(x, 400, CAUSE_MALFORMED, parse_error_text(err));
		return;
	}
	if (x->cred.username.len == 0 || x->cred.username.len > GBA_IMPI_MAX) {
		fail(x, 400, CAUSE_MALFORMED, "username (the IMPI) empty or too long");
		return;
	}
	x->impi = x->cred.username.ptr;
	x->impi_len = x->cred.username.len;
	if (!uri_ok(x)) {
		fail(x, 400, CAUSE_MALFORMED, "uri does not match the request target");
		return;
	}
	if (x->cred.nonce.len == 0)
		first_request(x);
	else
		second_request(x);
}

static void account(const struct ub_ctx *x)
{
	struct bsf_metrics *m = x->srv->metrics;
	const struct ub_reply *out = x->out;
	char impi[GBA_LOG_IMPI_TEXT_MAX + 1];
	const char *who;

	metrics_inc(&m->requests);
	if (out->status == 401)
		metrics_inc(&m->challenges);
	else if (out->status == 200)
		metrics_inc(&m->bootstraps);
	if (out->cause != CAUSE_NONE)
		metrics_inc(&m->failures[out->cause]);

	/* Successes are logged by succeed(), with their B-TID. */
	if (out->status == 200 ||
	    !gba_log_enabled(x->srv->log, out->cause == CAUSE_NONE ? GBA_LOG_DEBUG : GBA_LOG_INFO))
		return;
	who = x->impi ? gba_log_impi(x->srv->log, impi, x->impi, x->impi_len) : "-";
	if (out->cause == CAUSE_NONE)
		gba_log_msg(x->srv->log, GBA_LOG_DEBUG, "challenge impi=%s%s", who,
			x->cred.auts.ptr ? " (resync)" : "");
	else
		gba_log_msg(x->srv->log, GBA_LOG_INFO,
			    "bootstrap failed impi=%s status=%u cause=%s%s%s", who, out->status,
			    bsf_cause_name(out->cause), x->reason ? ": " : "",
			    x->reason ? x->reason : "");
}

static void reply_init(struct ub_reply *out)
{
	out->status = 500;
	out->cause = CAUSE_NONE;
	out->header_kind = UB_HDR_NONE;
	out->header[0] = '\0';
	out->retry_after = 0;
	out->content_type = NULL;
	out->body = "";
	out->body_len = 0;
}

void ub_handle(struct ub_server *srv, const struct ub_request *req, struct ub_reply *out)
{
	char scratch[GBA_DIGEST_HEADER_MAX + GBA_DIGEST_PARAMS_MAX];
	struct ub_ctx x = { .srv = srv, .req = req, .out = out };

	reply_init(out);
	handle(&x, scratch, sizeof(scratch));
	if (out->status)
		account(&x);
}

void ub_abandon_deferred(struct ub_deferred *d)
{
	struct av_answer ans;

	if (!d->start_err && d->job)
		(void)d->srv->av->ops->fetch_finish(d->srv->av, d->job, &ans);
	gba_wipe(&ans.av, sizeof(ans.av));
	d->job = NULL;
	challenge_cancel(d->srv->pending, d->slot, now_ms());
}

void ub_finish_deferred(struct ub_deferred *d, struct ub_reply *out)
{
	struct ub_ctx x = { .srv = d->srv, .out = out, .impi = d->impi,
			    .impi_len = d->impi_len };
	struct av_answer ans;
	gba_err err = d->start_err;

	reply_init(out);
	if (!err)
		err = d->srv->av->ops->fetch_finish(d->srv->av, d->job, &ans);
	d->job = NULL;
	finish_challenge(&x, d->slot, err, &ans, d->resync, d->stale, d->cause);
	gba_wipe(&ans.av, sizeof(ans.av));
	account(&x);
}
