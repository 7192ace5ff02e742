/*
 * ub_client.c - the UE's Ub bootstrap as a step machine (see ub_client.h).
 *
 * Every response is handled where it completes (ub_session_read), by the
 * phase the session is in; each handler either writes the next request
 * into the output buffer or finishes the session with a result.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "ub_client.h"

static const char nc_first[] = "00000001";

const char *ub_fail_name(enum ub_fail f)
{
	static const char *const names[UB_FAIL__COUNT] = {
		[UB_OK] = "ok",
		[UB_FAIL_CONNECT] = "connect",
		[UB_FAIL_IO] = "io",
		[UB_FAIL_TIMEOUT] = "timeout",
		[UB_FAIL_HTTP] = "http",
		[UB_FAIL_STATUS] = "status",
		[UB_FAIL_CHALLENGE] = "challenge",
		[UB_FAIL_USIM_MAC] = "usim-mac",
		[UB_FAIL_RESYNC] = "resync",
		[UB_FAIL_RSPAUTH] = "rspauth",
		[UB_FAIL_BODY] = "body",
		[UB_FAIL_INTERNAL] = "internal",
	};
	return (unsigned)f < UB_FAIL__COUNT ? names[f] : "unknown";
}

static struct gba_str str(const char *s)
{
	return (struct gba_str){ s, s ? strlen(s) : 0 };
}

static const char *phase_stage(enum ub_phase ph)
{
	switch (ph) {
	case UB_PH_FIRST:
		return "challenge";
	case UB_PH_RESPONSE:
		return "response";
	case UB_PH_AUTS:
		return "resync";
	case UB_PH_MAC_FAILED:
		return "usim";
	case UB_PH_REPLAY:
		return "replay";
	case UB_PH_DONE:
		break;
	}
	return "done";
}

/* The per-challenge secrets go as soon as the session ends. */
static void finish(struct ub_session *s)
{
	gba_wipe(&s->usim, sizeof(s->usim));
	gba_wipe(s->akav2_password, sizeof(s->akav2_password));
	s->phase = UB_PH_DONE;
	s->want = UB_WANT_DONE;
}

/* Record why we failed (the first reason wins: a MAC failure stays one). */
static void set_failure(struct ub_session *s, enum ub_fail kind, const char *stage,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_failure(struct ub_session *s, enum ub_fail kind, const char *stage,
			const char *fmt, ...)
{
	va_list ap;

	if (s->result.fail != UB_OK)
		return;
	s->result.fail = kind;
	s->result.stage = stage;
	va_start(ap, fmt);
	vsnprintf(s->result.error, sizeof(s->result.error), fmt, ap);
	va_end(ap);
}

#define FAIL(s, kind, stage, ...)                                              \
	do {                                                                   \
		set_failure((s), (kind), (stage), __VA_ARGS__);                \
		finish(s);                                                     \
	} while (0)

void ub_session_fail(struct ub_session *s, enum ub_fail kind, const char *stage,
		     const char *error)
{
	FAIL(s, kind, stage ? stage : phase_stage(s->phase), "%s", error);
}

/* ---- Requests --------------------------------------------------------------- */

static void queue_request(struct ub_session *s, const struct gba_digest_credentials *c)
{
	size_t alen;
	gba_err err;

	/* The scratch buffer is free here: challenges were copied out of it. */
	err = gba_digest_build_credentials(s->scratch, sizeof(s->scratch), &alen, c);
	if (!err) {
		struct ub_http_request req = {
			.method = "GET",
			.path = s->p.uri,
			.host = s->p.host,
			.user_agent = s->p.gba_u ? "3gpp-gba-uicc" : "3gpp-gba",
			.authorization = s->scratch,
		};
		err = ub_http_write_request(s->out, sizeof(s->out), &s->out_len, &req);
	}
	if (err) {
		FAIL(s, UB_FAIL_INTERNAL, phase_stage(s->phase), "cannot write the request: %s",
		     gba_strerror(err));
		return;
	}
	s->out_off = 0;
	s->resent = 0;
	s->want = s->conn_closed ? UB_WANT_RECONNECT : UB_WANT_WRITE;
}

void ub_session_begin(struct ub_session *s, const struct ub_params *p, int conn_reused)
{
	/* Scalars only: the buffers are overwritten before they are read. */
	s->p = *p;
	s->phase = UB_PH_FIRST;
	s->conn_reused = conn_reused;
	s->conn_closed = 0;
	s->rounds = s->resyncs = 0;
	s->in_len = 0;
	s->has_opaque = 0;
	memset(&s->result, 0, sizeof(s->result));
	gba_wipe(s->ks, sizeof(s->ks));
	memset(&s->info, 0, sizeof(s->info));

	struct gba_digest_credentials c = {
		.username = str(p->impi),
		.realm = str(p->realm),
		.nonce = str(""),
		.uri = str(p->uri),
		.response = str(""),
	};
	queue_request(s, &c);
}

/* The digest password: AKAv1 raw RES, AKAv2 the RFC 4169 string. */
static void password(const struct ub_session *s, const uint8_t **pw, size_t *len)
{
	if (s->algorithm == GBA_DIGEST_ALG_AKAV2_MD5) {
		*pw = (const uint8_t *)s->akav2_password;
		*len = strlen(s->akav2_password);
	} else {
		*pw = s->usim.res;
		*len = s->usim.res_len;
	}
}

static struct gba_digest_input digest_input(const struct ub_session *s, const uint8_t *pw,
					    size_t pw_len)
{
	return (struct gba_digest_input){
		.username = str(s->p.impi),
		/* host-realm: as the peer UE of interop.md 2, the Host, not the challenge's. */
		.realm = str(s->p.fault == UB_FAULT_HOST_REALM ? s->p.host : s->realm),
		.method = str("GET"),
		.uri = str(s->p.uri),
		.nonce = str(s->nonce),
		.nc = str(nc_first),
		.cnonce = str(s->cnonce),
		.password = pw,
		.password_len = pw_len,
		.qop = s->qop,
		.body = (const uint8_t *)"",
		.body_len = 0,
	};
}

static int new_cnonce(struct ub_session *s)
{
	uint8_t r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	return gba_hex_encode(s->cnonce, sizeof(s->cnonce), r, sizeof(r)) ? -1 : 0;
}

/*
 * The second request: a digest response with the given password, and
 * auts when resynchronising.
 */
static void queue_response(struct ub_session *s, const uint8_t *pw, size_t pw_len,
			   const char *auts)
{
	char response[33];
	struct gba_digest_input in;
	gba_err err;

	if (new_cnonce(s)) {
		FAIL(s, UB_FAIL_INTERNAL, phase_stage(s->phase), "no random cnonce");
		return;
	}
	in = digest_input(s, pw, pw_len);
	err = gba_digest_response(response, &in);
	if (err) {
		FAIL(s, UB_FAIL_INTERNAL, phase_stage(s->phase), "digest: %s", gba_strerror(err));
		return;
	}
	struct gba_digest_credentials c = {
		.username = in.username,
		.realm = in.realm,
		.nonce = in.nonce,
		.uri = in.uri,
		.qop = s->qop,
		.nc = in.nc,
		.cnonce = in.cnonce,
		.response = str(response),
		.opaque = s->has_opaque ? str(s->opaque) : (struct gba_str){ NULL, 0 },
		.algorithm = s->algorithm,
		.auts = str(auts),
	};
	queue_request(s, &c);
}

/* ---- The challenge --------------------------------------------------------- */

static int copy_field(char *dst, size_t size, const struct gba_str *v)
{
	if (!v->ptr || v->len >= size)
		return -1;
	memcpy(dst, v->ptr, v->len);
	dst[v->len] = '\0';
	return 0;
}

/* Parse and keep the challenge; on error the session has failed. */
static int take_challenge(struct ub_session *s, const struct ub_http_response *r,
			  const char *stage, uint8_t *raw, size_t raw_size, size_t *raw_len)
{
	struct gba_digest_challenge c;
	gba_err err;

	if (!r->www_authenticate.ptr) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "401 without a Digest challenge");
		return -1;
	}
	err = gba_digest_parse_challenge(r->www_authenticate.ptr, r->www_authenticate.len,
					 s->scratch, sizeof(s->scratch), &c);
	if (err) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "bad WWW-Authenticate: %s", gba_strerror(err));
		return -1;
	}
	if (c.algorithm != GBA_DIGEST_ALG_AKAV1_MD5 && c.algorithm != GBA_DIGEST_ALG_AKAV2_MD5) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "not an AKA challenge (algorithm %.40s)",
		     c.algorithm_name.ptr ? c.algorithm_name.ptr : "absent");
		return -1;
	}
	if (c.qop_mask & GBA_QOP_BIT_AUTH_INT)
		s->qop = GBA_QOP_AUTH_INT;
	else if (c.qop_mask & GBA_QOP_BIT_AUTH)
		s->qop = GBA_QOP_AUTH;
	else {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "the challenge offers neither qop auth-int nor auth");
		return -1;
	}
	if (copy_field(s->nonce, sizeof(s->nonce), &c.nonce) ||
	    copy_field(s->realm, sizeof(s->realm), &c.realm)) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "nonce or realm missing or too long");
		return -1;
	}
	s->has_opaque = c.opaque.ptr != NULL;
	if (s->has_opaque && copy_field(s->opaque, sizeof(s->opaque), &c.opaque)) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "opaque too long");
		return -1;
	}
	s->algorithm = c.algorithm;
	err = gba_base64_decode(raw, raw_size, raw_len, s->nonce, strlen(s->nonce));
	if (err || *raw_len < 32) {
		FAIL(s, UB_FAIL_CHALLENGE, stage, "nonce is not base64 of RAND || AUTN: %s",
		     err ? gba_strerror(err) : "too short");
		return -1;
	}
	return 0;
}

/* The card accepted AUTN: answer with RES (or a wrong one, on purpose). */
static void answer_challenge(struct ub_session *s)
{
	const uint8_t *pw;
	size_t pw_len;

	if (s->p.fault == UB_FAULT_WRONG_PASSWORD)
		s->usim.res[0] ^= 0x01;
	if (s->algorithm == GBA_DIGEST_ALG_AKAV2_MD5) {
		gba_err err = gba_digest_akav2_password(s->akav2_password, s->usim.res,
							s->usim.res_len, s->usim.ik, s->usim.ck);
		if (err) {
			FAIL(s, UB_FAIL_INTERNAL, "usim", "AKAv2 password: %s", gba_strerror(err));
			return;
		}
	}
	s->phase = UB_PH_RESPONSE;
	password(s, &pw, &pw_len);
	queue_response(s, pw, pw_len, NULL);
	if (s->want != UB_WANT_DONE && s->p.fault == UB_FAULT_STALE) {
		clock_gettime(CLOCK_MONOTONIC, &s->wait_until);
		s->wait_until.tv_sec += s->p.stale_seconds;
		s->want = UB_WANT_WAIT;
	}
}

/* Sync failure: auts with an empty password, once. */
static void answer_sync_failure(struct ub_session *s, const char *stage)
{
	char auts[GBA_BASE64_LEN(GBA_AUTS_LEN) + 1];

	if (s->resyncs > 0) {
		FAIL(s, UB_FAIL_RESYNC, stage, "synchronisation failure again after a resync");
		return;
	}
	s->resyncs++;
	if (s->p.fault == UB_FAULT_BAD_AUTS)
		s->usim.auts[GBA_AUTS_LEN - 1] ^= 0x01;   /* MAC-S no longer verifies */
	if (gba_base64_encode(auts, sizeof(auts), NULL, s->usim.auts, GBA_AUTS_LEN)) {
		FAIL(s, UB_FAIL_INTERNAL, stage, "cannot encode AUTS");
		return;
	}
	s->phase = UB_PH_AUTS;
	queue_response(s, (const uint8_t *)"", 0, auts);
}

static void on_challenge(struct ub_session *s, const struct ub_http_response *r,
			 const char *stage)
{
	uint8_t raw[UB_NONCE_MAX];
	size_t raw_len;
	gba_err err;

	if (r->status != 401) {
		FAIL(s, UB_FAIL_STATUS, stage, "expected 401 with a challenge, got %d", r->status);
		return;
	}
	if (take_challenge(s, r, stage, raw, sizeof(raw), &raw_len))
		return;
	memcpy(s->rand, raw, 16);
	if (s->p.on_challenge)
		s->p.on_challenge(s->p.on_challenge_arg, raw, raw + 16);
	err = gba_usim_authenticate(s->p.key, s->p.sqn, raw, raw + 16, &s->usim);
	switch (err) {
	case GBA_OK:
		answer_challenge(s);
		break;
	case GBA_ERR_SYNC_FAILURE:
		answer_sync_failure(s, stage);
		break;
	case GBA_ERR_MAC_FAILURE:
		/* TS 24.109: tell the BSF with an empty password, once. */
		set_failure(s, UB_FAIL_USIM_MAC, "usim", "MAC failure");
		s->phase = UB_PH_MAC_FAILED;
		queue_response(s, (const uint8_t *)"", 0, NULL);
		break;
	default:
		FAIL(s, UB_FAIL_INTERNAL, "usim", "%s", gba_strerror(err));
		break;
	}
}

/* ---- The final answer -------------------------------------------------------- */

/* A 401 carrying a challenge with a nonce other than the one we used. */
static int is_fresh_challenge(struct ub_session *s, const struct ub_http_response *r)
{
	struct gba_digest_challenge c;

	if (r->status != 401 || !r->www_authenticate.ptr ||
	    gba_digest_parse_challenge(r->www_authenticate.ptr, r->www_authenticate.len,
				       s->scratch, sizeof(s->scratch), &c))
		return 0;
	return c.nonce.ptr && c.nonce.len > 0 && strcmp(c.nonce.ptr, s->nonce) != 0;
}

static int check_rspauth(struct ub_session *s, const struct ub_http_response *r)
{
	struct gba_digest_auth_info ai;
	char expect[33];
	const uint8_t *pw;
	size_t pw_len;
	gba_err err;

	if (!r->authentication_info.ptr) {
		FAIL(s, UB_FAIL_RSPAUTH, "rspauth", "200 without Authentication-Info");
		return -1;
	}
	err = gba_digest_parse_auth_info(r->authentication_info.ptr, r->authentication_info.len,
					 s->scratch, sizeof(s->scratch), &ai);
	if (err || !ai.rspauth.ptr) {
		FAIL(s, UB_FAIL_RSPAUTH, "rspauth", "bad Authentication-Info: %s",
		     err ? gba_strerror(err) : "no rspauth");
		return -1;
	}
	if ((ai.cnonce.ptr && strcmp(ai.cnonce.ptr, s->cnonce)) ||
	    (ai.nc.ptr && strcmp(ai.nc.ptr, nc_first)) ||
	    (ai.qop != GBA_QOP_NONE && ai.qop != s->qop)) {
		FAIL(s, UB_FAIL_RSPAUTH, "rspauth", "Authentication-Info does not echo cnonce, nc, qop");
		return -1;
	}
	password(s, &pw, &pw_len);
	struct gba_digest_input in = digest_input(s, pw, pw_len);
	/*
	 * RFC 2617 leaves open which entity body enters rspauth's HA2 for
	 * auth-int: the 200's own body (TS 24.109's examples, the BSF's
	 * default) or the (empty) request body.  Either value proves
	 * knowledge of RES; the one that matched is reported.
	 */
	err = GBA_ERR_AUTH_FAILED;
	if (s->qop == GBA_QOP_AUTH_INT && r->body_len) {
		in.body = (const uint8_t *)r->body;
		in.body_len = r->body_len;
		err = gba_digest_rspauth(expect, &in);
		if (!err)
			err = gba_digest_verify(expect, ai.rspauth.ptr, ai.rspauth.len);
		s->result.rspauth_body = "response";
	}
	if (err == GBA_ERR_AUTH_FAILED) {
		in.body = NULL;
		in.body_len = 0;
		err = gba_digest_rspauth(expect, &in);
		if (!err)
			err = gba_digest_verify(expect, ai.rspauth.ptr, ai.rspauth.len);
		s->result.rspauth_body = "request";
	}
	gba_wipe(expect, sizeof(expect));
	if (err) {
		s->result.rspauth_body = NULL;
		FAIL(s, UB_FAIL_RSPAUTH, "rspauth", "rspauth does not verify: the BSF is not authentic");
		return -1;
	}
	return 0;
}

static int media_type_ok(const struct gba_str *ct)
{
	size_t n = strlen(GBA_UBXML_MEDIA);

	if (!ct->ptr || ct->len < n || strncasecmp(ct->ptr, GBA_UBXML_MEDIA, n))
		return 0;
	return ct->len == n || ct->ptr[n] == ';' || ct->ptr[n] == ' ' || ct->ptr[n] == '\t';
}

static void on_final(struct ub_session *s, const struct ub_http_response *r)
{
	gba_err err;

	if (r->status != 200) {
		s->result.fresh_challenge = is_fresh_challenge(s, r);
		FAIL(s, UB_FAIL_STATUS, "response", "the BSF answered %d to the digest response",
		     r->status);
		return;
	}
	if (s->p.fault != UB_FAULT_NO_RSPAUTH_CHECK && check_rspauth(s, r))
		return;
	if (!media_type_ok(&r->content_type)) {
		FAIL(s, UB_FAIL_BODY, "bootstrapping-info", "Content-Type is not %s", GBA_UBXML_MEDIA);
		return;
	}
	err = gba_ubxml_parse(r->body, r->body_len, &s->info);
	if (err) {
		FAIL(s, UB_FAIL_BODY, "bootstrapping-info", "bad BootstrappingInfo: %s",
		     gba_strerror(err));
		return;
	}
	memcpy(s->ks, s->usim.ck, 16);
	memcpy(s->ks + 16, s->usim.ik, 16);
	if (s->p.fault == UB_FAULT_REPLAY) {
		/* The very bytes of the accepted request, once more. */
		s->phase = UB_PH_REPLAY;
		s->out_off = 0;
		s->resent = 0;
		s->want = s->conn_closed ? UB_WANT_RECONNECT : UB_WANT_WRITE;
		return;
	}
	finish(s);
}

static void on_response(struct ub_session *s, const struct ub_http_response *r)
{
	s->rounds++;
	s->result.status = r->status;
	s->result.retry_after[0] = '\0';
	if (r->retry_after.ptr && r->retry_after.len < sizeof(s->result.retry_after)) {
		memcpy(s->result.retry_after, r->retry_after.ptr, r->retry_after.len);
		s->result.retry_after[r->retry_after.len] = '\0';
	}
	switch (s->phase) {
	case UB_PH_FIRST:
		on_challenge(s, r, "challenge");
		break;
	case UB_PH_AUTS:
		if (r->status == 401)
			on_challenge(s, r, "resync");
		else
			FAIL(s, UB_FAIL_RESYNC, "resync", "the BSF answered %d to the AUTS",
			     r->status);
		break;
	case UB_PH_RESPONSE:
		on_final(s, r);
		break;
	case UB_PH_MAC_FAILED:
		finish(s);   /* the result says MAC failure; status is the BSF's */
		break;
	case UB_PH_REPLAY:
		s->result.replay_status = r->status;
		s->result.replay_fresh_challenge = is_fresh_challenge(s, r);
		s->result.status = 200;   /* the bootstrap itself succeeded */
		finish(s);
		break;
	case UB_PH_DONE:
		break;
	}
}

/* ---- I/O events ---------------------------------------------------------------- */

const char *ub_session_out(const struct ub_session *s, size_t *len)
{
	*len = s->out_len - s->out_off;
	return s->out + s->out_off;
}

void ub_session_wrote(struct ub_session *s, size_t n)
{
	s->out_off += n;
	if (s->out_off >= s->out_len) {
		s->out_off = s->out_len;
		s->in_len = 0;
		s->want = UB_WANT_READ;
	}
}

char *ub_session_in(struct ub_session *s, size_t *room)
{
	*room = sizeof(s->in) - s->in_len;
	return s->in + s->in_len;
}

void ub_session_conn_lost(struct ub_session *s)
{
	s->conn_closed = 1;
	if (s->want == UB_WANT_DONE)
		return;
	/*
	 * A keep-alive connection may be closed by the server just as we
	 * send on it (RFC 9112 9.3.1): a GET that got no byte of answer is
	 * sent once more on a new connection.
	 */
	if (s->conn_reused && !s->resent && s->in_len == 0 &&
	    (s->want == UB_WANT_WRITE || s->want == UB_WANT_READ)) {
		s->resent = 1;
		s->out_off = 0;
		s->want = UB_WANT_RECONNECT;
		return;
	}
	FAIL(s, UB_FAIL_IO, phase_stage(s->phase), "connection closed by the BSF");
}

void ub_session_read(struct ub_session *s, size_t n)
{
	struct ub_http_response r;
	size_t consumed;
	int eof = n == 0;
	gba_err err;

	if (s->want != UB_WANT_READ)
		return;
	s->in_len += n;
	if (eof && s->in_len == 0) {
		ub_session_conn_lost(s);
		return;
	}
	err = ub_http_parse_response(s->in, s->in_len, sizeof(s->in), eof, &r, &consumed);
	if (err) {
		s->conn_closed = 1;   /* the stream is out of step: never reuse it */
		FAIL(s, UB_FAIL_HTTP, phase_stage(s->phase), "bad HTTP response: %s",
		     gba_strerror(err));
		return;
	}
	if (consumed == 0)
		return;   /* more to come */
	if (!r.keep_alive || eof || consumed != s->in_len)
		s->conn_closed = 1;   /* extra bytes we did not ask for: drop the connection */
	s->conn_reused = 1;
	on_response(s, &r);
	s->in_len = 0;
}

void ub_session_reconnected(struct ub_session *s)
{
	s->conn_reused = 0;
	s->conn_closed = 0;
	s->in_len = 0;
	if (s->want == UB_WANT_RECONNECT)
		s->want = UB_WANT_WRITE;
}

void ub_session_wait_over(struct ub_session *s)
{
	if (s->want == UB_WANT_WAIT)
		s->want = s->conn_closed ? UB_WANT_RECONNECT : UB_WANT_WRITE;
}

gba_err ub_session_ks_naf(const struct ub_session *s, const char *fqdn, uint8_t out[32])
{
	uint8_t naf_id[UB_URL_HOST_MAX + GBA_UA_ID_LEN + 1];
	size_t naf_id_len;
	gba_err err;

	if (s->result.fail != UB_OK || s->phase != UB_PH_DONE)
		return GBA_ERR_INVALID_ARG;
	err = gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, fqdn, strlen(fqdn),
			 GBA_UA_HTTP_DIGEST);
	if (err)
		return err;
	return gba_ks_naf(s->ks, s->rand, s->p.impi, strlen(s->p.impi), naf_id, naf_id_len, out);
}

void ub_session_wipe(struct ub_session *s)
{
	gba_wipe(&s->usim, sizeof(s->usim));
	gba_wipe(s->akav2_password, sizeof(s->akav2_password));
	gba_wipe(s->ks, sizeof(s->ks));
}
