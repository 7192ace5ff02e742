/*
 * test_ub_client.c - the UE's Ub step machine against canned server bytes.
 *
 * The "network" here is libgba's own AuC and digest functions (the real
 * ones the BSF uses), so the bytes the session gets are what a BSF would
 * send, and what the session sends is checked the way a BSF checks it.
 * Responses are fed whole and in small pieces; bad responses of every
 * kind must end the session with the right failure and no crash.  The
 * last tests run the blocking driver over a loopback socket.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ub_client.h"
#include "ub_net.h"

static const char impi[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
static const char realm[] = "bsf.example.org";

/* TS 35.208 test set 1. */
static void test_key(struct gba_aka_key *key, int variant)
{
	uint8_t k[16], op[16];
	size_t n;
	gba_hex_decode(k, 16, &n, "465b5ce8b199b49faa5f0a2ee238a6bc", 32);
	gba_hex_decode(op, 16, &n, "cdc202d5123e20f62b6d676ac72cb318", 32);
	k[0] ^= (uint8_t)variant;   /* another subscriber's K: a MAC failure */
	gba_aka_key_milenage(key, k, op, 1);
}

/* ---- The network side ------------------------------------------------------- */

struct net {
	struct gba_aka_key key;
	uint64_t sqn;                  /* last SQN issued */
	uint8_t rand_ctr;
	struct gba_av av;
	char nonce[128];
	enum gba_digest_algorithm alg;
	const char *extra;             /* extra header lines in the 401 */
};

static struct gba_str s_(const char *s)
{
	return (struct gba_str){ s, strlen(s) };
}

static size_t net_401(struct net *n, char *buf, size_t size)
{
	static const uint8_t amf[2] = { 0, 0 };
	uint8_t rand[16], raw[35];
	char hdr[512];
	uint64_t sqn;

	memset(rand, 0xa0 + n->rand_ctr++, sizeof(rand));
	assert_int_equal(gba_sqn_next(n->sqn, 5, 0, &sqn), GBA_OK);
	assert_int_equal(gba_aka_gen_av(&n->key, amf, sqn, rand, &n->av), GBA_OK);
	n->sqn = sqn;
	memcpy(raw, n->av.rand, 16);
	memcpy(raw + 16, n->av.autn, 16);
	memcpy(raw + 32, "srv", 3);       /* server data the UE must ignore */
	assert_int_equal(gba_base64_encode(n->nonce, sizeof(n->nonce), NULL, raw, sizeof(raw)),
			 GBA_OK);
	struct gba_digest_challenge c = {
		.realm = s_(realm), .nonce = s_(n->nonce), .opaque = s_("op aque"),
		.algorithm = n->alg ? n->alg : GBA_DIGEST_ALG_AKAV1_MD5,
		.qop_mask = GBA_QOP_BIT_AUTH_INT,
	};
	assert_int_equal(gba_digest_build_challenge(hdr, sizeof(hdr), NULL, &c), GBA_OK);
	int len = snprintf(buf, size, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: %s\r\n%s"
			   "Content-Length: 0\r\n\r\n", hdr, n->extra ? n->extra : "");
	assert_true(len > 0 && (size_t)len < size);
	return (size_t)len;
}

/* The Authorization of a request, parsed as a BSF would. */
static void net_credentials(const char *req, char *scratch, size_t size,
			    struct gba_digest_credentials *c)
{
	const char *a = strstr(req, "\r\nAuthorization: ");
	assert_non_null(a);
	a += 17;
	const char *e = strstr(a, "\r\n");
	assert_non_null(e);
	assert_int_equal(gba_digest_parse_credentials(a, (size_t)(e - a), scratch, size, c), GBA_OK);
}

static struct gba_digest_input net_input(const struct net *n, const struct gba_digest_credentials *c,
					 char akav2[25])
{
	struct gba_digest_input in = {
		.username = c->username, .realm = c->realm, .method = s_("GET"), .uri = c->uri,
		.nonce = c->nonce, .nc = c->nc, .cnonce = c->cnonce, .qop = c->qop,
		.password = n->av.xres, .password_len = n->av.xres_len,
		.body = (const uint8_t *)"", .body_len = 0,
	};
	if (n->alg == GBA_DIGEST_ALG_AKAV2_MD5) {
		assert_int_equal(gba_digest_akav2_password(akav2, n->av.xres, n->av.xres_len,
							   n->av.ik, n->av.ck), GBA_OK);
		in.password = (const uint8_t *)akav2;
		in.password_len = 24;
	}
	return in;
}

static gba_err net_verify(const struct net *n, const struct gba_digest_credentials *c)
{
	char expect[33], akav2[25];
	struct gba_digest_input in = net_input(n, c, akav2);
	assert_int_equal(gba_digest_response(expect, &in), GBA_OK);
	return gba_digest_verify(expect, c->response.ptr, c->response.len);
}

enum { OK_PLAIN = 0, OK_BAD_RSPAUTH = 1, OK_NO_INFO = 2, OK_BAD_XML = 4, OK_BAD_TYPE = 8,
       OK_CLOSE = 16, OK_RSPAUTH_RESPONSE_BODY = 32 };

static size_t net_200(const struct net *n, const struct gba_digest_credentials *c, int how,
		      char *buf, size_t size)
{
	char rspauth[33], info[256], xml[512], btid[GBA_BTID_MAX + 1], akav2[25];
	struct gba_digest_input in = net_input(n, c, akav2);

	assert_int_equal(gba_btid(btid, sizeof(btid), n->av.rand, realm, strlen(realm)), GBA_OK);
	assert_int_equal(gba_ubxml_build(xml, sizeof(xml), NULL, btid, strlen(btid), 1900000000),
			 GBA_OK);
	if (how & OK_BAD_XML)
		strcpy(xml, "<?xml version=\"1.0\"?><nope/>");
	if (how & OK_RSPAUTH_RESPONSE_BODY) {
		in.body = (const uint8_t *)xml;
		in.body_len = strlen(xml);
	}
	assert_int_equal(gba_digest_rspauth(rspauth, &in), GBA_OK);
	if (how & OK_BAD_RSPAUTH)
		rspauth[0] = rspauth[0] == '0' ? '1' : '0';
	struct gba_digest_auth_info ai = {
		.qop = c->qop, .rspauth = s_(rspauth), .cnonce = c->cnonce, .nc = c->nc,
	};
	assert_int_equal(gba_digest_build_auth_info(info, sizeof(info), NULL, &ai), GBA_OK);
	int len = snprintf(buf, size, "HTTP/1.1 200 OK\r\n%s%s%s%sContent-Type: %s\r\n"
			   "Content-Length: %zu\r\n%s\r\n%s",
			   how & OK_NO_INFO ? "" : "Authentication-Info: ",
			   how & OK_NO_INFO ? "" : info, how & OK_NO_INFO ? "" : "\r\n", "",
			   how & OK_BAD_TYPE ? "text/html" : GBA_UBXML_MEDIA "; charset=utf-8",
			   strlen(xml), how & OK_CLOSE ? "Connection: close\r\n" : "", xml);
	assert_true(len > 0 && (size_t)len < size);
	return (size_t)len;
}

/* ---- Driving the session by hand ---------------------------------------------- */

struct fixture {
	struct ub_session s;
	struct net net;
	struct gba_aka_key card_key;
	struct gba_usim_sqn card;
	struct ub_params p;
	char req[UB_OUT_MAX + 1];
	char buf[UB_IN_MAX];
	char scratch[2048];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	test_key(&f->net.key, 0);
	test_key(&f->card_key, 0);
	gba_usim_sqn_init(&f->card, 5, UINT64_C(1) << 28);
	f->p = (struct ub_params){
		.impi = impi, .key = &f->card_key, .sqn = &f->card,
		.host = "127.0.0.1:1", .uri = "/", .realm = "127.0.0.1",
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Take the request the session wants to send (all of it). */
static const char *take_request(struct fixture *f)
{
	size_t len;
	assert_int_equal(ub_session_want(&f->s), UB_WANT_WRITE);
	const char *p = ub_session_out(&f->s, &len);
	assert_true(len > 0 && len <= UB_OUT_MAX);
	memcpy(f->req, p, len);
	f->req[len] = '\0';
	/* Written in two pieces, as a busy socket would take it. */
	ub_session_wrote(&f->s, len / 2);
	assert_int_equal(ub_session_want(&f->s), UB_WANT_WRITE);
	ub_session_wrote(&f->s, len - len / 2);
	assert_int_equal(ub_session_want(&f->s), UB_WANT_READ);
	return f->req;
}

/* Hand bytes to the session in pieces of at most chunk. */
static void feed(struct ub_session *s, const char *bytes, size_t len, size_t chunk)
{
	while (len && ub_session_want(s) == UB_WANT_READ) {
		size_t room;
		char *in = ub_session_in(s, &room);
		size_t k = len < chunk ? len : chunk;
		if (k > room)
			k = room;
		memcpy(in, bytes, k);
		ub_session_read(s, k);
		bytes += k;
		len -= k;
	}
}

static void feed_str(struct ub_session *s, const char *text)
{
	feed(s, text, strlen(text), 1 << 20);
}

/* Start, check the first request, answer it with a 401; returns the 2nd request. */
static const char *to_second_request(struct fixture *f, size_t chunk)
{
	ub_session_begin(&f->s, &f->p, 0);
	const char *req = take_request(f);
	assert_non_null(strstr(req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"));
	assert_non_null(strstr(req, "User-Agent: 3gpp-gba\r\n"));
	assert_non_null(strstr(req, "Authorization: Digest username=\"" "001010000000001@ims"));
	assert_non_null(strstr(req, "realm=\"127.0.0.1\", nonce=\"\", uri=\"/\", response=\"\""));
	size_t n = net_401(&f->net, f->buf, sizeof(f->buf));
	feed(&f->s, f->buf, n, chunk);
	if (ub_session_want(&f->s) != UB_WANT_WRITE)
		return NULL;
	return take_request(f);
}

static void expect_failure(struct fixture *f, enum ub_fail kind, const char *stage)
{
	assert_int_equal(ub_session_want(&f->s), UB_WANT_DONE);
	if (f->s.result.fail != kind)
		fail_msg("failure %s (%s), want %s", ub_fail_name(f->s.result.fail),
			 f->s.result.error, ub_fail_name(kind));
	assert_string_equal(f->s.result.stage, stage);
	assert_true(f->s.result.error[0] != '\0');
}

static void finish_ok(struct fixture *f, const char *req, int how, size_t chunk)
{
	struct gba_digest_credentials c;
	net_credentials(req, f->scratch, sizeof(f->scratch), &c);
	assert_int_equal(net_verify(&f->net, &c), GBA_OK);
	assert_int_equal(c.qop, GBA_QOP_AUTH_INT);
	assert_true(ub_str_ieq(&c.opaque, "op aque"));
	assert_true(ub_str_ieq(&c.nc, "00000001"));
	size_t n = net_200(&f->net, &c, how, f->buf, sizeof(f->buf));
	feed(&f->s, f->buf, n, chunk);
}

static void assert_success(struct fixture *f, unsigned rounds, unsigned resyncs)
{
	assert_int_equal(ub_session_want(&f->s), UB_WANT_DONE);
	if (f->s.result.fail != UB_OK)
		fail_msg("%s: %s", f->s.result.stage, f->s.result.error);
	assert_int_equal(f->s.result.status, 200);
	assert_int_equal(f->s.rounds, rounds);
	assert_int_equal(f->s.resyncs, resyncs);
	/* Ks = CK || IK of the network's vector, B-TID from its RAND. */
	assert_memory_equal(f->s.ks, f->net.av.ck, 16);
	assert_memory_equal(f->s.ks + 16, f->net.av.ik, 16);
	assert_memory_equal(f->s.rand, f->net.av.rand, 16);
	char btid[GBA_BTID_MAX + 1];
	gba_btid(btid, sizeof(btid), f->net.av.rand, realm, strlen(realm));
	assert_string_equal(f->s.info.btid, btid);
	assert_int_equal(f->s.info.lifetime, 1900000000);
}

static void test_success_whole(void **state)
{
	struct fixture *f = *state;
	const char *req = to_second_request(f, 1 << 20);
	assert_non_null(req);
	assert_null(strstr(req, "auts="));
	finish_ok(f, req, OK_PLAIN, 1 << 20);
	assert_success(f, 2, 0);
	assert_false(f->s.conn_closed);

	/* Ks_NAF as the BSF would derive it. */
	uint8_t mine[32], theirs[32], naf_id[64], ks[32];
	size_t naf_id_len;
	assert_int_equal(ub_session_ks_naf(&f->s, "naf.example.org", mine), GBA_OK);
	gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, "naf.example.org", 15, GBA_UA_HTTP_DIGEST);
	memcpy(ks, f->net.av.ck, 16);
	memcpy(ks + 16, f->net.av.ik, 16);
	gba_ks_naf(ks, f->net.av.rand, impi, strlen(impi), naf_id, naf_id_len, theirs);
	assert_memory_equal(mine, theirs, 32);
	ub_session_wipe(&f->s);
	static const uint8_t zero[32];
	assert_memory_equal(f->s.ks, zero, 32);

	/* The same session and connection, a second bootstrap. */
	ub_session_begin(&f->s, &f->p, 1);
	assert_true(f->s.conn_reused);
	req = take_request(f);
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	req = take_request(f);
	finish_ok(f, req, OK_PLAIN, 1 << 20);
	assert_success(f, 2, 0);
}

/* Every response arrives one byte at a time. */
static void test_success_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	f->p.gba_u = 1;
	ub_session_begin(&f->s, &f->p, 0);
	assert_non_null(strstr(take_request(f), "User-Agent: 3gpp-gba-uicc\r\n"));
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1);
	const char *req = take_request(f);
	finish_ok(f, req, OK_PLAIN, 1);
	assert_success(f, 2, 0);
}

/* A BSF that hashes the response body into rspauth is accepted too. */
static void test_rspauth_response_body(void **state)
{
	struct fixture *f = *state;
	const char *req = to_second_request(f, 1 << 20);
	finish_ok(f, req, OK_RSPAUTH_RESPONSE_BODY, 1 << 20);
	assert_success(f, 2, 0);
	assert_string_equal(f->s.result.rspauth_body, "response");
}

/* The other reading (the GET's empty body) is accepted and reported so. */
static void test_rspauth_request_body(void **state)
{
	struct fixture *f = *state;
	const char *req = to_second_request(f, 1 << 20);
	finish_ok(f, req, OK_PLAIN, 1 << 20);
	assert_success(f, 2, 0);
	assert_string_equal(f->s.result.rspauth_body, "request");
}

static void test_akav2(void **state)
{
	struct fixture *f = *state;
	f->net.alg = GBA_DIGEST_ALG_AKAV2_MD5;
	const char *req = to_second_request(f, 7);
	assert_non_null(req);
	assert_non_null(strstr(req, "algorithm=AKAv2-MD5"));
	finish_ok(f, req, OK_PLAIN, 7);
	assert_success(f, 2, 0);
	assert_int_equal(f->s.algorithm, GBA_DIGEST_ALG_AKAV2_MD5);
}

/* The card is ahead: AUTS, checked by the AuC, then a fresh challenge. */
static void test_resync(void **state)
{
	struct fixture *f = *state;
	struct gba_digest_credentials c;
	uint8_t auts[16];
	size_t n;
	uint64_t sqn_ms;

	for (unsigned i = 0; i < 32; i++)
		f->card.seq_ms[i] = 40;
	const char *req = to_second_request(f, 1 << 20);
	assert_non_null(req);
	net_credentials(req, f->scratch, sizeof(f->scratch), &c);
	assert_non_null(c.auts.ptr);
	assert_int_equal(gba_base64_decode(auts, sizeof(auts), &n, c.auts.ptr, c.auts.len), GBA_OK);
	assert_int_equal(n, 14);
	assert_int_equal(gba_aka_resync(&f->net.key, f->net.av.rand, auts, &sqn_ms), GBA_OK);
	assert_int_equal(sqn_ms >> 5, 40);
	/* The response of an auts request is computed with an empty password. */
	char expect[33];
	struct gba_digest_input in = net_input(&f->net, &c, NULL);
	in.password = (const uint8_t *)"";
	in.password_len = 0;
	gba_digest_response(expect, &in);
	assert_int_equal(gba_digest_verify(expect, c.response.ptr, c.response.len), GBA_OK);

	f->net.sqn = sqn_ms;
	feed_str(&f->s, "");   /* nothing: still reading */
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 3);
	req = take_request(f);
	assert_null(strstr(req, "auts="));
	finish_ok(f, req, OK_PLAIN, 1 << 20);
	assert_success(f, 3, 1);
	assert_int_equal(f->card.seq_ms[0], 41);
}

/* A second sync failure after the resync: give up. */
static void test_resync_twice(void **state)
{
	struct fixture *f = *state;
	for (unsigned i = 0; i < 32; i++)
		f->card.seq_ms[i] = 40;
	assert_non_null(to_second_request(f, 1 << 20));
	f->net.sqn = 0;   /* the network did not resync */
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	expect_failure(f, UB_FAIL_RESYNC, "resync");
	assert_int_equal(f->s.result.status, 401);
}

/* bad-auts: the AuC must refuse MAC-S; the BSF answers 403. */
static void test_bad_auts(void **state)
{
	struct fixture *f = *state;
	struct gba_digest_credentials c;
	uint8_t auts[16];
	size_t n;
	uint64_t sqn_ms;

	f->p.fault = UB_FAULT_BAD_AUTS;
	for (unsigned i = 0; i < 32; i++)
		f->card.seq_ms[i] = 40;
	const char *req = to_second_request(f, 1 << 20);
	net_credentials(req, f->scratch, sizeof(f->scratch), &c);
	gba_base64_decode(auts, sizeof(auts), &n, c.auts.ptr, c.auts.len);
	assert_int_equal(gba_aka_resync(&f->net.key, f->net.av.rand, auts, &sqn_ms),
			 GBA_ERR_AUTS_INVALID);
	feed_str(&f->s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
	expect_failure(f, UB_FAIL_RESYNC, "resync");
	assert_int_equal(f->s.result.status, 403);
}

/* The network is not who the card trusts: empty password once, then report. */
static void test_mac_failure(void **state)
{
	struct fixture *f = *state;
	struct gba_digest_credentials c;

	test_key(&f->net.key, 1);
	const char *req = to_second_request(f, 1 << 20);
	assert_non_null(req);
	net_credentials(req, f->scratch, sizeof(f->scratch), &c);
	assert_int_equal(net_verify(&f->net, &c), GBA_ERR_AUTH_FAILED);
	assert_null(c.auts.ptr);
	assert_int_equal(f->card.seq_ms[0], 0);   /* a forged AUTN moves nothing */
	feed_str(&f->s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
	expect_failure(f, UB_FAIL_USIM_MAC, "usim");
	assert_string_equal(f->s.result.error, "MAC failure");
	assert_int_equal(f->s.result.status, 403);
}

static void test_wrong_password(void **state)
{
	struct fixture *f = *state;
	struct gba_digest_credentials c;

	f->p.fault = UB_FAULT_WRONG_PASSWORD;
	const char *req = to_second_request(f, 1 << 20);
	net_credentials(req, f->scratch, sizeof(f->scratch), &c);
	assert_int_equal(net_verify(&f->net, &c), GBA_ERR_AUTH_FAILED);
	/* The BSF answers with a fresh challenge. */
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	expect_failure(f, UB_FAIL_STATUS, "response");
	assert_int_equal(f->s.result.status, 401);
	assert_true(f->s.result.fresh_challenge);
}

static void test_replay(void **state)
{
	struct fixture *f = *state;
	f->p.fault = UB_FAULT_REPLAY;
	const char *req = to_second_request(f, 1 << 20);
	char first[UB_OUT_MAX + 1];
	strcpy(first, req);
	finish_ok(f, req, OK_PLAIN, 1 << 20);
	/* The very same bytes go out again; the BSF challenges afresh. */
	assert_string_equal(take_request(f), first);
	struct net later = f->net;
	feed(&f->s, f->buf, net_401(&later, f->buf, sizeof(f->buf)), 1 << 20);
	assert_success(f, 3, 0);
	assert_int_equal(f->s.result.replay_status, 401);
	assert_true(f->s.result.replay_fresh_challenge);
}

static void test_stale_waits(void **state)
{
	struct fixture *f = *state;
	f->p.fault = UB_FAULT_STALE;
	f->p.stale_seconds = 30;
	ub_session_begin(&f->s, &f->p, 0);
	take_request(f);
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	assert_int_equal(ub_session_want(&f->s), UB_WANT_WAIT);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	assert_true(f->s.wait_until.tv_sec >= now.tv_sec + 29);
	ub_session_wait_over(&f->s);
	const char *req = take_request(f);
	/* The BSF found the nonce stale: a fresh challenge, not a session. */
	(void)req;
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	expect_failure(f, UB_FAIL_STATUS, "response");
	assert_true(f->s.result.fresh_challenge);
}

/* ---- Bad first answers ----------------------------------------------------- */

static void first_answer(struct fixture *f, const char *text)
{
	ub_session_begin(&f->s, &f->p, 0);
	take_request(f);
	feed_str(&f->s, text);
}

static void test_bad_challenges(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text;
		enum ub_fail kind;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", UB_FAIL_STATUS },
		{ "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", UB_FAIL_STATUS },
		{ "HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n", UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
		  UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"AAAA\", "
		  "algorithm=AKAv1-MD5, qop=\"auth-int\"\r\nContent-Length: 0\r\n\r\n",
		  UB_FAIL_CHALLENGE },   /* nonce too short for RAND || AUTN */
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"not base64!\", "
		  "algorithm=AKAv1-MD5, qop=\"auth-int\"\r\nContent-Length: 0\r\n\r\n",
		  UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", "
		  "nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", algorithm=MD5, "
		  "qop=\"auth-int\"\r\nContent-Length: 0\r\n\r\n", UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", "
		  "nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", algorithm=AKAv1-MD5"
		  "\r\nContent-Length: 0\r\n\r\n", UB_FAIL_CHALLENGE },   /* no qop */
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", realm=\"y\", "
		  "nonce=\"\", algorithm=AKAv1-MD5\r\nContent-Length: 0\r\n\r\n", UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\r\nContent-Length: 0\r\n\r\n",
		  UB_FAIL_CHALLENGE },
		{ "HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", UB_FAIL_HTTP },
		{ "HTTP/9.9 401 No\r\n\r\n", UB_FAIL_HTTP },
		{ "\x16\x03\x01\x02\x01\x01\x02\x01\xfc\x03\x03\r\n\r\n", UB_FAIL_HTTP },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		first_answer(f, cases[i].text);
		assert_int_equal(ub_session_want(&f->s), UB_WANT_DONE);
		if (f->s.result.fail != cases[i].kind)
			fail_msg("case %zu: %s (%s), want %s", i, ub_fail_name(f->s.result.fail),
				 f->s.result.error, ub_fail_name(cases[i].kind));
	}
	/* An AKA challenge whose AUTN does not verify is a MAC failure, not a crash. */
	first_answer(f, "HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"x\", "
			"nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", algorithm=AKAv1-MD5, "
			"qop=\"auth-int\"\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(ub_session_want(&f->s), UB_WANT_WRITE);
	assert_int_equal(f->s.result.fail, UB_FAIL_USIM_MAC);
}

static void test_oversize_response(void **state)
{
	struct fixture *f = *state;
	ub_session_begin(&f->s, &f->p, 0);
	take_request(f);
	const char *head = "HTTP/1.1 401 No\r\nX: ";
	feed_str(&f->s, head);
	memset(f->buf, 'a', sizeof(f->buf));
	feed(&f->s, f->buf, sizeof(f->buf), 4096);
	expect_failure(f, UB_FAIL_HTTP, "challenge");
	assert_true(f->s.conn_closed);
}

static void test_eof_mid_response(void **state)
{
	struct fixture *f = *state;
	first_answer(f, "HTTP/1.1 401 No\r\nContent-Len");
	assert_int_equal(ub_session_want(&f->s), UB_WANT_READ);
	ub_session_read(&f->s, 0);
	expect_failure(f, UB_FAIL_HTTP, "challenge");
}

/* Mutated 401s: whatever happens, the session ends or asks for I/O, never crashes. */
static void test_garbage_challenges(void **state)
{
	struct fixture *f = *state;
	uint64_t x = 0x2545f4914f6cdd1du;

	for (int round = 0; round < 3000; round++) {
		size_t n = net_401(&f->net, f->buf, sizeof(f->buf));
		for (int i = 0; i < 1 + round % 5; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			f->buf[(x >> 8) % n] = (char)(x >> 40);
		}
		gba_usim_sqn_init(&f->card, 5, UINT64_C(1) << 28);
		ub_session_begin(&f->s, &f->p, 0);
		take_request(f);
		feed(&f->s, f->buf, n, 1 + round % 64);
		if (ub_session_want(&f->s) == UB_WANT_READ)
			ub_session_read(&f->s, 0);
		enum ub_want w = ub_session_want(&f->s);
		assert_true(w == UB_WANT_DONE || w == UB_WANT_WRITE || w == UB_WANT_RECONNECT);
	}
}

/* ---- Bad final answers -------------------------------------------------------- */

static void test_bad_finals(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int how;
		enum ub_fail kind;
		const char *stage;
	} cases[] = {
		{ OK_BAD_RSPAUTH, UB_FAIL_RSPAUTH, "rspauth" },
		{ OK_NO_INFO, UB_FAIL_RSPAUTH, "rspauth" },
		{ OK_BAD_XML, UB_FAIL_BODY, "bootstrapping-info" },
		{ OK_BAD_TYPE, UB_FAIL_BODY, "bootstrapping-info" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gba_usim_sqn_init(&f->card, 5, UINT64_C(1) << 28);
		f->net.sqn = 0;
		const char *req = to_second_request(f, 1 << 20);
		finish_ok(f, req, cases[i].how, 1 << 20);
		expect_failure(f, cases[i].kind, cases[i].stage);
		static const uint8_t zero[32];
		assert_memory_equal(f->s.ks, zero, 32);   /* no key from a failed run */
	}
	/* no-rspauth-check: a wrong rspauth goes unnoticed, on purpose. */
	gba_usim_sqn_init(&f->card, 5, UINT64_C(1) << 28);
	f->net.sqn = 0;
	f->p.fault = UB_FAULT_NO_RSPAUTH_CHECK;
	finish_ok(f, to_second_request(f, 1 << 20), OK_BAD_RSPAUTH, 1 << 20);
	assert_success(f, 2, 0);

	/* A 503 to the response. */
	gba_usim_sqn_init(&f->card, 5, UINT64_C(1) << 28);
	f->p.fault = UB_FAULT_NONE;
	to_second_request(f, 1 << 20);
	feed_str(&f->s, "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
	expect_failure(f, UB_FAIL_STATUS, "response");
	assert_int_equal(f->s.result.status, 503);
}

/* ---- Connections ------------------------------------------------------------ */

/* A reused keep-alive connection the server closed: resend once on a new one. */
static void test_resend_on_reused_connection(void **state)
{
	struct fixture *f = *state;
	ub_session_begin(&f->s, &f->p, 1);
	const char *req = take_request(f);
	char first[UB_OUT_MAX + 1];
	strcpy(first, req);
	ub_session_read(&f->s, 0);   /* EOF before any byte */
	assert_int_equal(ub_session_want(&f->s), UB_WANT_RECONNECT);
	ub_session_reconnected(&f->s);
	assert_string_equal(take_request(f), first);
	ub_session_read(&f->s, 0);   /* and again: now it is an error */
	expect_failure(f, UB_FAIL_IO, "challenge");

	/* A fresh connection is not retried. */
	ub_session_begin(&f->s, &f->p, 0);
	take_request(f);
	ub_session_conn_lost(&f->s);
	expect_failure(f, UB_FAIL_IO, "challenge");
}

/* Connection: close on the 401: the response goes out on a new connection. */
static void test_connection_close(void **state)
{
	struct fixture *f = *state;
	f->net.extra = "Connection: close\r\n";
	ub_session_begin(&f->s, &f->p, 0);
	take_request(f);
	feed(&f->s, f->buf, net_401(&f->net, f->buf, sizeof(f->buf)), 1 << 20);
	assert_int_equal(ub_session_want(&f->s), UB_WANT_RECONNECT);
	ub_session_reconnected(&f->s);
	const char *req = take_request(f);
	finish_ok(f, req, OK_CLOSE, 1 << 20);
	assert_success(f, 2, 0);
	assert_true(f->s.conn_closed);
}

/* ---- Over a loopback socket ----------------------------------------------------- */

enum server_mode { SERVE_BOOTSTRAP, SERVE_CLOSE_AFTER_401, SERVE_SILENT };

struct server {
	int lfd;
	enum server_mode mode;
	struct net net;
	int verified;           /* the second request's response verified */
};

static int read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return 0;
	}
	return -1;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	char req[8192], resp[8192], scratch[2048];
	struct gba_digest_credentials c;
	int fd = accept(sv->lfd, NULL, NULL);

	if (fd < 0 || read_request(fd, req, sizeof(req)))
		goto out;
	if (sv->mode == SERVE_SILENT) {
		recv(fd, req, sizeof(req), 0);   /* until the client gives up */
		goto out;
	}
	send_all(fd, resp, net_401(&sv->net, resp, sizeof(resp)));
	if (sv->mode == SERVE_CLOSE_AFTER_401) {
		close(fd);   /* keep-alive promised, then dropped: the client resends */
		fd = accept(sv->lfd, NULL, NULL);
		if (fd < 0)
			goto out;
	}
	if (read_request(fd, req, sizeof(req)))
		goto out;
	net_credentials(req, scratch, sizeof(scratch), &c);
	sv->verified = net_verify(&sv->net, &c) == GBA_OK;
	send_all(fd, resp, net_200(&sv->net, &c, OK_PLAIN, resp, sizeof(resp)));
	recv(fd, req, sizeof(req), 0);   /* until the client closes */
out:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int listen_loopback(struct ub_addr *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memcpy(&addr->ss, &sin, sizeof(sin));
	addr->len = sizeof(sin);
	return fd;
}

static void run_loopback(struct fixture *f, enum server_mode mode, int timeout_ms)
{
	struct server sv = { .mode = mode };
	struct ub_addr addr;
	pthread_t th;
	int fd = -1;

	test_key(&sv.net.key, 0);
	sv.lfd = listen_loopback(&addr);
	assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);
	ub_session_begin(&f->s, &f->p, 0);
	ub_net_run(&f->s, &addr, &fd, timeout_ms);
	if (fd >= 0)
		close(fd);
	pthread_join(th, NULL);
	close(sv.lfd);
	f->net = sv.net;
	if (mode != SERVE_SILENT)
		assert_true(sv.verified);
}

static void test_loopback_bootstrap(void **state)
{
	struct fixture *f = *state;
	run_loopback(f, SERVE_BOOTSTRAP, 5000);
	assert_success(f, 2, 0);
}

static void test_loopback_resend(void **state)
{
	struct fixture *f = *state;
	run_loopback(f, SERVE_CLOSE_AFTER_401, 5000);
	assert_success(f, 2, 0);
}

static void test_loopback_timeout(void **state)
{
	struct fixture *f = *state;
	run_loopback(f, SERVE_SILENT, 200);
	expect_failure(f, UB_FAIL_TIMEOUT, "challenge");
}

static void test_loopback_refused(void **state)
{
	struct fixture *f = *state;
	struct ub_addr addr;
	int fd = -1;

	close(listen_loopback(&addr));   /* a port nobody listens on */
	ub_session_begin(&f->s, &f->p, 0);
	ub_net_run(&f->s, &addr, &fd, 2000);
	expect_failure(f, UB_FAIL_CONNECT, "connect");
	assert_int_equal(fd, -1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_success_whole),
		T(test_success_byte_by_byte),
		T(test_rspauth_response_body),
		T(test_rspauth_request_body),
		T(test_akav2),
		T(test_resync),
		T(test_resync_twice),
		T(test_bad_auts),
		T(test_mac_failure),
		T(test_wrong_password),
		T(test_replay),
		T(test_stale_waits),
		T(test_bad_challenges),
		T(test_oversize_response),
		T(test_eof_mid_response),
		T(test_garbage_challenges),
		T(test_bad_finals),
		T(test_resend_on_reused_connection),
		T(test_connection_close),
		T(test_loopback_bootstrap),
		T(test_loopback_resend),
		T(test_loopback_timeout),
		T(test_loopback_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
