/*
 * fuzz_ub.c - libFuzzer target for the BSF's Ub request path from headers
 * to decision (bsf/ub_logic.h: ub_handle), without sockets: a real
 * embedded subscriber database and SQLite session store in a mkdtemp
 * directory on /dev/shm, the real pending-challenge table, nonces and
 * Digest code; the test plays the UE with libgba's USIM side.
 *
 * An input is up to STEPS_MAX steps, each an op octet, a length octet and
 * that many octets of data:
 *
 *   0  raw request: the data split at '\n' into method, target,
 *      Authorization, User-Agent, Host and body (a missing field is absent)
 *   1  a well-formed first request for subscriber data[0] % 3 (the third
 *      is unknown), naming the BSF by realm, domain or Host (data[1])
 *   2  the UE's answer to challenge data[0] (of those this input got):
 *      the right response, or AUTS after a sync failure; GET or POST
 *      (data[1] bit 0), GBA_U User-Agent (bit 1), the rest the body
 *   3  that answer with one Authorization parameter (data[1] % 11)
 *      replaced by the rest of the data
 *   4  that answer with its Authorization header changed at (position,
 *      octet) pairs from the data
 *   5  the previous request again
 *
 * The card (SQN memory) and the database live across inputs, as a UE's and
 * a BSF's do; the pending table is new for every input.
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - the status is one of 200, 400, 401, 403, 405, 431, or 503/429 with
 *    Retry-After (a cap); never 500 (nothing here is down);
 *  - a 401 carries a challenge that parses, with this BSF's realm and a
 *    64-character nonce;
 *  - 200 only for a nonce this input was challenged with for that IMPI,
 *    not answered 200 before, and a response the test computes itself
 *    from the card's RES; the 200's BootstrappingInfo parses and its
 *    B-TID is in the session store with that IMPI, Ks = CK || IK of the
 *    card, and the GBA type of the User-Agent;
 *  - the UE's own well-formed answer to the newest challenge of its IMPI,
 *    if no other request touched it, is 200, and its AUTS after a sync
 *    failure gets a fresh 401 (or a 503 with Retry-After).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gba/gba.h>
#include <gba/session_store.h>
#include <gba/subscriber_db.h>

#include "ub_logic.h"

#include "fuzz_check.h"

#define STEPS_MAX 6
#define CHALLENGES_MAX 4
#define SUBSCRIBERS 2
#define HOST "bsf.fuzz.test:8080"
#define CNONCE "0a4f113b"

/* TS 35.208 test set 1 (published): K and OPc. */
static const char *const K_HEX = "465b5ce8b199b49faa5f0a2ee238a6bc";
static const char *const OPC_HEX = "cd63cb71954a9f4e48a5994e37a02baf";
static const char *const impis[SUBSCRIBERS + 1] = {
	"001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
	"001010000000002@ims.mnc001.mcc001.3gppnetwork.org",
	"nobody@ims.mnc001.mcc001.3gppnetwork.org",
};

static char dir[64];
static struct bsf_config cfg;
/* Set directly, a level above error: the fuzzer's output stays quiet. */
static struct gba_log blog = {
	.level = GBA_LOG_OFF,
	.impi_mode = GBA_LOG_IMPI_HIDE,
	.fd = 2,
};
static struct bsf_metrics metrics;
static struct av_source *av;
static struct gba_session_store *store;
static struct gba_aka_key key;                     /* both subscribers' */
static struct gba_usim_sqn cards[SUBSCRIBERS];     /* their SQN memory */

/* A challenge this input received, and what the card made of it. */
struct seen_challenge {
	char nonce[NONCE_TEXT_LEN + 1];
	uint8_t raw[NONCE_RAW_LEN];  /* RAND, AUTN, slot, expiry, tag */
	int who;                   /* index into impis */
	gba_err usim;              /* GBA_OK, GBA_ERR_SYNC_FAILURE, ... */
	struct gba_usim_answer ans;
	int touched;               /* a request named this nonce */
	int latest;                /* the newest challenge of its IMPI */
	int answered_ok;           /* a 200 used it */
};

/* One request as sent, kept for op 5. */
struct sent {
	char method[16];
	char target[256];
	char auth[2048];
	int has_auth;
	char ua[64];
	int has_ua;
	char host[256];
	int has_host;
	uint8_t body[256];
	size_t body_len;
	int has_query;
};

struct run {
	struct ub_server srv;
	struct challenge_table *pending;
	struct seen_challenge ch[CHALLENGES_MAX];
	int n_ch;
	struct sent last;
	int have_last;
};

/* ---- Set-up -------------------------------------------------------------------- */

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t got = 0;

	check(gba_hex_decode(out, n, &got, hex, strlen(hex)) == GBA_OK && got == n);
}

static void add_subscribers(void)
{
	struct gba_subdb *db = NULL;
	struct gba_subscriber sub;
	char path[128];

	snprintf(path, sizeof(path), "%s/subscribers.db", dir);
	check(gba_subdb_open(&db, path) == GBA_OK);
	for (int i = 0; i < SUBSCRIBERS; i++) {
		memset(&sub, 0, sizeof(sub));
		snprintf(sub.impi, sizeof(sub.impi), "%s", impis[i]);
		sub.key = key;
		sub.amf[0] = 0x80;
		sub.ind_bits = 5;
		check(gba_subdb_add(db, &sub) == GBA_OK);
		gba_usim_sqn_init(&cards[i], 5, (uint64_t)1 << 28);
	}
	gba_subdb_close(db);
}

static void set_up(void)
{
	uint8_t k[16], opc[16];
	char path[128], uri[160];

	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_ub.XXXXXX");
	check(mkdtemp(dir) != NULL);
	unhex(k, 16, K_HEX);
	unhex(opc, 16, OPC_HEX);
	gba_aka_key_milenage(&key, k, opc, 0);
	add_subscribers();
	config_defaults(&cfg);
	snprintf(cfg.domain, sizeof(cfg.domain), "bsf.fuzz.test");
	snprintf(cfg.realm, sizeof(cfg.realm), "realm.fuzz.test");
	cfg.algorithm = GBA_DIGEST_ALG_AKAV1_MD5;
	metrics_init(&metrics);
	snprintf(path, sizeof(path), "%s/subscribers.db", dir);
	check(av_source_embedded_open(&av, path, 0, 32, NULL) == GBA_OK);
	snprintf(uri, sizeof(uri), "sqlite:%s/sessions.db?commit_ms=0", dir);
	check(gba_session_store_open(&store, uri) == GBA_OK);
}

/* The files go when the fuzzer exits (atexit: libFuzzer calls exit()). */
static void tear_down(void)
{
	char cmd[128];

	gba_session_store_close(store);
	av_source_close(av);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_ub: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	set_up();
	atexit(tear_down);
	return 0;
}

/* ---- Sending a request ---------------------------------------------------------- */

static void copy_field(char *dst, size_t size, const uint8_t *p, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* 503 and 429 (a per-IMPI or per-client cap) must say when to come back. */
static int status_known(const struct ub_reply *out)
{
	unsigned s = out->status;

	if (s == 503 || s == 429)
		return out->retry_after > 0;
	return s == 200 || s == 400 || s == 401 || s == 403 || s == 405 || s == 431;
}

/* The card's answer to a challenge for subscriber who. */
static void record_challenge(struct run *r, const char *nonce, int who)
{
	struct seen_challenge *c;
	uint8_t raw[NONCE_RAW_LEN];
	size_t n = 0;

	if (r->n_ch == CHALLENGES_MAX)
		return;
	for (int i = 0; i < r->n_ch; i++)
		if (r->ch[i].who == who)
			r->ch[i].latest = 0;
	c = &r->ch[r->n_ch++];
	memset(c, 0, sizeof(*c));
	c->latest = 1;
	memcpy(c->nonce, nonce, NONCE_TEXT_LEN);
	c->who = who;
	check(gba_base64_decode(raw, sizeof(raw), &n, nonce, NONCE_TEXT_LEN) == GBA_OK &&
	      n == NONCE_RAW_LEN);
	memcpy(c->raw, raw, sizeof(raw));
	c->usim = who < SUBSCRIBERS ? gba_usim_authenticate(&key, &cards[who], raw, raw + 16, &c->ans)
				    : GBA_ERR_NOT_FOUND;
}

static int impi_index(const struct gba_str *u)
{
	for (int i = 0; i <= SUBSCRIBERS; i++)
		if (u->ptr && u->len == strlen(impis[i]) && !memcmp(u->ptr, impis[i], u->len))
			return i;
	return -1;
}

static void check_challenge(struct run *r, const struct ub_reply *out,
			    const struct gba_digest_credentials *cr, int parsed)
{
	char scratch[UB_HEADER_MAX + GBA_DIGEST_PARAMS_MAX];
	struct gba_digest_challenge ch;
	int who;

	check(out->header_kind == UB_HDR_WWW_AUTHENTICATE);
	check(gba_digest_parse_challenge(out->header, strlen(out->header), scratch,
					 sizeof(scratch), &ch) == GBA_OK);
	check(ch.realm.len == strlen(cfg.realm) && !memcmp(ch.realm.ptr, cfg.realm, ch.realm.len));
	check(ch.nonce.len == NONCE_TEXT_LEN);
	check(parsed);   /* a challenge needs a username */
	who = impi_index(&cr->username);
	check(who >= 0 && who < SUBSCRIBERS);   /* the unknown one gets 403 */
	record_challenge(r, ch.nonce.ptr, who);
}

/* The response the UE with the card's RES computes (or "" without one). */
static void expected_response(const struct seen_challenge *c, const struct gba_digest_credentials *cr,
			      const struct ub_request *req, char out[33])
{
	struct gba_digest_input in = { 0 };
	uint8_t ha1[16];

	in.username = cr->username;
	in.realm = cr->realm;
	in.method = (struct gba_str){ req->method, strlen(req->method) };
	in.uri = cr->uri;
	in.nonce = cr->nonce;
	in.nc = cr->nc;
	in.cnonce = cr->cnonce;
	in.qop = GBA_QOP_AUTH_INT;
	in.body = req->body_len ? req->body : (const uint8_t *)"";
	in.body_len = req->body_len;
	in.password = c->ans.res;
	in.password_len = c->ans.res_len;
	out[0] = '\0';
	if (c->usim == GBA_OK)
		check(gba_digest_ha1(ha1, &in) == GBA_OK &&
		      gba_digest_response_ha1(out, ha1, &in) == GBA_OK);
}

/*
 * The challenge a nonce names as the BSF finds it: by RAND and slot (the
 * pending table decides, not the rest of the nonce: see bsf/nonce.h), so
 * a nonce whose expiry or tag was changed still names its challenge.
 */
static struct seen_challenge *find_challenge(struct run *r, const struct gba_str *nonce)
{
	uint8_t raw[NONCE_RAW_LEN + 3];
	size_t n = 0;

	if (!nonce->ptr || gba_base64_decode(raw, sizeof(raw), &n, nonce->ptr, nonce->len) ||
	    n != NONCE_RAW_LEN)
		return NULL;
	for (int i = 0; i < r->n_ch; i++)
		if (!memcmp(raw, r->ch[i].raw, 16) && !memcmp(raw + 32, r->ch[i].raw + 32, 4))
			return &r->ch[i];
	return NULL;
}

/* A 200: earned, and its session stored as the card sees it. */
static void check_success(struct run *r, const struct ub_request *req, const struct ub_reply *out,
			  const struct gba_digest_credentials *cr, int parsed)
{
	struct seen_challenge *c;
	struct gba_bootstrapping_info info;
	struct gba_session s;
	char expect[33];

	check(parsed && cr->nonce.ptr);
	c = find_challenge(r, &cr->nonce);
	check(c != NULL && !c->answered_ok && c->usim == GBA_OK);
	check(impi_index(&cr->username) == c->who);
	expected_response(c, cr, req, expect);
	/* gba_digest_verify takes the hex in either case (a liberal reading of
	 * RFC 7616's LHEX); expect holds only 0-9a-f, so this matches exactly
	 * those spellings of it. */
	check(cr->response.len == 32 && !strncasecmp(cr->response.ptr, expect, 32));
	c->answered_ok = 1;
	check(out->header_kind == UB_HDR_AUTHENTICATION_INFO);
	check(gba_ubxml_parse(out->body, out->body_len, &info) == GBA_OK);
	check(gba_session_store_get(store, info.btid, strlen(info.btid), time(NULL), &s, NULL, 0,
				    NULL) == GBA_OK);
	check(!strcmp(s.impi, impis[c->who]));
	check(!memcmp(s.ks, c->ans.ck, 16) && !memcmp(s.ks + 16, c->ans.ik, 16));
	check(s.type == (req->user_agent && strstr(req->user_agent, "3gpp-gba-uicc") ? GBA_TYPE_U
										: GBA_TYPE_ME));
	gba_wipe(&s, sizeof(s));
	(void)gba_session_store_delete(store, info.btid, strlen(info.btid));
}

/*
 * Send r->last; returns the status.  expect: 0, or the status the UE's
 * own answer must get (200, or 401 after its AUTS).
 */
static unsigned send_request(struct run *r, unsigned expect)
{
	const struct sent *q = &r->last;
	struct ub_request req = {
		.method = q->method,
		.target = q->target,
		.target_len = strlen(q->target),
		.has_query = q->has_query,
		.authorization = q->has_auth ? q->auth : NULL,
		.authorization_len = q->has_auth ? strlen(q->auth) : 0,
		.user_agent = q->has_ua ? q->ua : NULL,
		.host = q->has_host ? q->host : NULL,
		.body = q->body,
		.body_len = q->body_len,
	};
	char scratch[sizeof(q->auth) + GBA_DIGEST_PARAMS_MAX];
	struct gba_digest_credentials cr;
	struct seen_challenge *c;
	static struct ub_reply out;
	int parsed;

	memset(&cr, 0, sizeof(cr));
	parsed = q->has_auth && gba_digest_parse_credentials(q->auth, strlen(q->auth), scratch,
							     sizeof(scratch), &cr) == GBA_OK;
	ub_handle(&r->srv, &req, &out);
	check(status_known(&out));
	/* A cap on challenges may answer a resync 503; never a right response. */
	check(!expect || out.status == expect || (expect == 401 && out.status != 200 &&
						   out.retry_after > 0));
	if (out.status == 401)
		check_challenge(r, &out, &cr, parsed);
	else if (out.status == 200)
		check_success(r, &req, &out, &cr, parsed);
	/* Whatever it got, a nonce named in a request may be used up. */
	if (parsed && cr.nonce.ptr && (c = find_challenge(r, &cr.nonce)))
		c->touched = 1;
	return out.status;
}

/* ---- The steps ------------------------------------------------------------------- */

static void clear_last(struct run *r, const char *method)
{
	memset(&r->last, 0, sizeof(r->last));
	snprintf(r->last.method, sizeof(r->last.method), "%s", method);
	snprintf(r->last.target, sizeof(r->last.target), "/");
	snprintf(r->last.host, sizeof(r->last.host), "%s", HOST);
	r->last.has_host = 1;
	snprintf(r->last.ua, sizeof(r->last.ua), "3gpp-gba");
	r->last.has_ua = 1;
	r->have_last = 1;
}

static void step_raw(struct run *r, const uint8_t *d, size_t n)
{
	const uint8_t *f[6];
	size_t len[6];
	int nf = 0;
	struct sent *q = &r->last;
	char *query;

	while (nf < 6) {
		const uint8_t *nl = memchr(d, '\n', n);
		f[nf] = d;
		len[nf] = nl ? (size_t)(nl - d) : n;
		nf++;
		if (!nl)
			break;
		n -= (size_t)(nl - d) + 1;
		d = nl + 1;
	}
	memset(q, 0, sizeof(*q));
	r->have_last = 1;
	copy_field(q->method, sizeof(q->method), f[0], len[0]);
	if (nf > 1)
		copy_field(q->target, sizeof(q->target), f[1], len[1]);
	query = strchr(q->target, '?');
	if (query) {
		*query = '\0';
		q->has_query = 1;
	}
	if ((q->has_auth = nf > 2))
		copy_field(q->auth, sizeof(q->auth), f[2], len[2]);
	if ((q->has_ua = nf > 3))
		copy_field(q->ua, sizeof(q->ua), f[3], len[3]);
	if ((q->has_host = nf > 4))
		copy_field(q->host, sizeof(q->host), f[4], len[4]);
	if (nf > 5) {
		q->body_len = len[5] < sizeof(q->body) ? len[5] : sizeof(q->body);
		memcpy(q->body, f[5], q->body_len);
	}
	(void)send_request(r, 0);
}

static void step_first(struct run *r, const uint8_t *d, size_t n)
{
	static const char *const realms[3] = { "realm.fuzz.test", "bsf.fuzz.test", "bsf.fuzz.test" };
	int who = n > 0 ? d[0] % 3 : 0;
	struct gba_digest_credentials cr = { 0 };
	const char *realm = realms[n > 1 ? d[1] % 3 : 0];

	if (who < SUBSCRIBERS && n > 2 && (d[2] & 1))
		gba_usim_sqn_accept(&cards[who], gba_usim_sqn_ms(&cards[who]) + (1000u << 5));
	clear_last(r, "GET");
	cr.username = (struct gba_str){ impis[who], strlen(impis[who]) };
	cr.realm = (struct gba_str){ realm, strlen(realm) };
	cr.nonce = (struct gba_str){ "", 0 };
	cr.uri = (struct gba_str){ "/", 1 };
	cr.response = (struct gba_str){ "", 0 };
	check(gba_digest_build_credentials(r->last.auth, sizeof(r->last.auth), NULL, &cr) == GBA_OK);
	r->last.has_auth = 1;
	(void)send_request(r, 0);
}

/*
 * The UE's answer to challenge c into r->last: the response with RES, or
 * AUTS with an empty password after a sync failure (RFC 3310 3.2), or an
 * empty password after a MAC failure.  field/value: a parameter to
 * replace (-1: none).
 */
static void build_answer(struct run *r, struct seen_challenge *c, const uint8_t *d, size_t n,
			 int field, const char *value)
{
	struct gba_digest_credentials cr = { 0 };
	struct ub_request req = { 0 };
	struct seen_challenge blank = *c;
	char response[33], auts[32], opaque[17];
	struct gba_str *fields[] = { &cr.username, &cr.realm, &cr.nonce, &cr.uri, &cr.response,
				     &cr.cnonce, &cr.opaque, &cr.nc, &cr.auts, &cr.algorithm_name };
	size_t auts_len = 0;

	clear_last(r, n > 0 && (d[0] & 1) ? "POST" : "GET");
	if (n > 0 && (d[0] & 2))
		snprintf(r->last.ua, sizeof(r->last.ua), "3gpp-gba-uicc");
	if (n > 1 && field < 0) {
		r->last.body_len = n - 1 < sizeof(r->last.body) ? n - 1 : sizeof(r->last.body);
		memcpy(r->last.body, d + 1, r->last.body_len);
	}
	memcpy(opaque, r->srv.opaque, sizeof(opaque));
	cr.username = (struct gba_str){ impis[c->who], strlen(impis[c->who]) };
	cr.realm = (struct gba_str){ cfg.realm, strlen(cfg.realm) };
	cr.nonce = (struct gba_str){ c->nonce, NONCE_TEXT_LEN };
	cr.uri = (struct gba_str){ "/", 1 };
	cr.cnonce = (struct gba_str){ CNONCE, strlen(CNONCE) };
	cr.nc = (struct gba_str){ "00000001", 8 };
	cr.opaque = (struct gba_str){ opaque, 16 };
	cr.qop = GBA_QOP_AUTH_INT;
	cr.algorithm = GBA_DIGEST_ALG_AKAV1_MD5;
	req.method = r->last.method;
	req.body = r->last.body;
	req.body_len = r->last.body_len;
	if (c->usim != GBA_OK)
		blank.ans.res_len = 0, blank.usim = GBA_OK;   /* the empty password */
	if (c->usim == GBA_ERR_SYNC_FAILURE) {
		check(gba_base64_encode(auts, sizeof(auts), &auts_len, c->ans.auts, GBA_AUTS_LEN) == GBA_OK);
		cr.auts = (struct gba_str){ auts, auts_len };
	}
	expected_response(c->usim == GBA_OK ? c : &blank, &cr, &req, response);
	cr.response = (struct gba_str){ response, 32 };
	if (field >= 0)
		*fields[field % 10] = (struct gba_str){ value, strlen(value) };
	if (gba_digest_build_credentials(r->last.auth, sizeof(r->last.auth), NULL, &cr))
		r->last.auth[0] = '\0';
	r->last.has_auth = 1;
	gba_wipe(&blank, sizeof(blank));
}

static struct seen_challenge *pick(struct run *r, const uint8_t *d, size_t n)
{
	if (!r->n_ch)
		return NULL;
	return &r->ch[(n > 0 ? d[0] : r->n_ch - 1) % r->n_ch];
}

static void step_answer(struct run *r, const uint8_t *d, size_t n)
{
	struct seen_challenge *c = pick(r, d, n);
	unsigned expect = 0;

	if (!c)
		return;
	build_answer(r, c, d + (n > 0), n - (n > 0), -1, NULL);
	/*
	 * Liveness: the UE's own answer to an untouched challenge, the newest
	 * of its IMPI (a cap on pending challenges per IMPI may drop older ones).
	 */
	if (!c->touched && c->latest && c->usim == GBA_OK)
		expect = 200;
	else if (!c->touched && c->latest && c->usim == GBA_ERR_SYNC_FAILURE)
		expect = 401;
	(void)send_request(r, expect);
}

static void step_answer_field(struct run *r, const uint8_t *d, size_t n)
{
	struct seen_challenge *c = pick(r, d, n);
	char value[256];

	if (!c || n < 2)
		return;
	copy_field(value, sizeof(value), d + 2, n - 2);
	build_answer(r, c, NULL, 0, d[1], value);
	(void)send_request(r, 0);
}

static void step_answer_bytes(struct run *r, const uint8_t *d, size_t n)
{
	struct seen_challenge *c = pick(r, d, n);
	size_t len;

	if (!c)
		return;
	build_answer(r, c, NULL, 0, -1, NULL);
	len = strlen(r->last.auth);
	for (size_t i = 1; len && i + 1 < n; i += 2)
		r->last.auth[d[i] % len] = (char)(d[i + 1] ? d[i + 1] : ' ');
	(void)send_request(r, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	check(challenge_table_create(&r.pending, 64, 4) == GBA_OK);
	check(ub_server_init(&r.srv, &cfg, av, store, r.pending, &metrics, &blog) == GBA_OK);
	for (int step = 0; step < STEPS_MAX && off + 2 <= size; step++) {
		uint8_t op = data[off];
		size_t n = data[off + 1];
		const uint8_t *d = data + off + 2;

		if (n > size - off - 2)
			n = size - off - 2;
		off += 2 + n;
		switch (op % 6) {
		case 0: step_raw(&r, d, n); break;
		case 1: step_first(&r, d, n); break;
		case 2: step_answer(&r, d, n); break;
		case 3: step_answer_field(&r, d, n); break;
		case 4: step_answer_bytes(&r, d, n); break;
		default:
			if (r.have_last)
				(void)send_request(&r, 0);
			break;
		}
	}
	for (int i = 0; i < r.n_ch; i++)
		gba_wipe(&r.ch[i].ans, sizeof(r.ch[i].ans));
	ub_server_wipe(&r.srv);
	challenge_table_destroy(r.pending);
	return 0;
}
