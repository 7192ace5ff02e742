/*
 * test_digest.c - HTTP Digest (RFC 2617/7616, RFC 3310, RFC 4169): the
 * published AKAv1-MD5 and RFC 2617 vectors, parsing, building, round trips
 * and hostile input.
 *
 * Expected values not taken from a document were computed independently
 * with Python's hashlib/hmac (noted where used).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gba/digest.h>
#include <gba/util.h>

#define STR(lit) ((struct gba_str){ (lit), sizeof(lit) - 1 })
#define HDR(lit) (lit), (sizeof(lit) - 1)

/* A view equals a literal, and the view is NUL-terminated as promised. */
#define assert_gstr(s, lit)                                  \
	do {                                                 \
		assert_non_null((s).ptr);                    \
		assert_int_equal((s).len, sizeof(lit) - 1);  \
		assert_memory_equal((s).ptr, (lit), (s).len); \
		assert_int_equal((s).ptr[(s).len], '\0');    \
	} while (0)

#define assert_absent(s)                     \
	do {                                 \
		assert_null((s).ptr);        \
		assert_int_equal((s).len, 0); \
	} while (0)

static char scratch[GBA_DIGEST_HEADER_MAX + GBA_DIGEST_PARAMS_MAX];

/* ---- Computation: published vectors --------------------------------------- */

static void hex16(char out[33], const uint8_t in[16])
{
	assert_int_equal(gba_hex_encode(out, 33, in, 16), GBA_OK);
}

/* TS 34.108 XOR algorithm: RES = K xor RAND, used raw as the password. */
static void xor_res(uint8_t res[16], const uint8_t rand[16])
{
	for (int i = 0; i < 16; i++)
		res[i] = (uint8_t)(i ^ rand[i]);
}

static void check_akav1(const uint8_t rand[16], struct gba_str user, struct gba_str realm,
			struct gba_str nonce, struct gba_str cnonce,
			const char *ha1_hex, const char *resp_hex)
{
	uint8_t res[16], ha1[16];
	char uri[64], hex[33], out[33];
	struct gba_digest_input in;

	xor_res(res, rand);
	assert_true(realm.len + 4 < sizeof(uri));
	memcpy(uri, "sip:", 4);
	memcpy(uri + 4, realm.ptr, realm.len);
	memset(&in, 0, sizeof(in));
	in.username = user;
	in.realm = realm;
	in.method = STR("REGISTER");
	in.uri = (struct gba_str){ uri, realm.len + 4 };
	in.nonce = nonce;
	in.nc = STR("00000001");
	in.cnonce = cnonce;
	in.password = res;
	in.password_len = sizeof(res);
	in.qop = GBA_QOP_AUTH;

	assert_int_equal(gba_digest_ha1(ha1, &in), GBA_OK);
	hex16(hex, ha1);
	assert_string_equal(hex, ha1_hex);
	assert_int_equal(gba_digest_response(out, &in), GBA_OK);
	assert_string_equal(out, resp_hex);
	memset(out, 0, sizeof(out));
	assert_int_equal(gba_digest_response_ha1(out, ha1, &in), GBA_OK);
	assert_string_equal(out, resp_hex);
	assert_int_equal(gba_digest_verify(out, resp_hex, 32), GBA_OK);
}

static void test_akav1_vector1(void **state)
{
	static const uint8_t rand[16] = { 0 };
	(void)state;
	check_akav1(rand, STR("466058041131504@ims.mnc005.mcc466.3gppnetwork.org"),
		    STR("ims.mnc005.mcc466.3gppnetwork.org"),
		    STR("AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc="), STR("YD05duxy"),
		    "248725867f85317d9e04f25aac36365c", "c76c2c281a21c0d6131e667d61a6bdf5");
}

static void test_akav1_vector2(void **state)
{
	static const uint8_t rand[16] = { 0, 1, 2, 3, 4, 5, 6, 7,
					  8, 9, 10, 11, 12, 13, 14, 15 };
	(void)state;
	check_akav1(rand, STR("450050020150513@ims.mnc005.mcc450.3gppnetwork.org"),
		    STR("ims.mnc005.mcc450.3gppnetwork.org"),
		    STR("AAECAwQFBgcICQoLDA0ODwAAAAAAAAAAAAAAAAAAAAA="), STR("v0KBLdbU"),
		    "00c43eb35b2d2fb9c6feb8002953b7d9", "c0c4c5a9cfc885bb697aa61a2a2c5466");
}

/* RFC 2617 3.5. */
static void mufasa(struct gba_digest_input *in, enum gba_digest_qop qop)
{
	static const char pw[] = "Circle Of Life";

	memset(in, 0, sizeof(*in));
	in->username = STR("Mufasa");
	in->realm = STR("testrealm@host.com");
	in->method = STR("GET");
	in->uri = STR("/dir/index.html");
	in->nonce = STR("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	in->nc = STR("00000001");
	in->cnonce = STR("0a4f113b");
	in->password = (const uint8_t *)pw;
	in->password_len = sizeof(pw) - 1;
	in->qop = qop;
}

static void test_rfc2617_example(void **state)
{
	struct gba_digest_input in;
	char out[33];
	(void)state;

	mufasa(&in, GBA_QOP_AUTH);
	assert_int_equal(gba_digest_response(out, &in), GBA_OK);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
}

/* RFC 2069 form (no qop); expected value from Python hashlib. */
static void test_response_no_qop(void **state)
{
	struct gba_digest_input in;
	char out[33];
	(void)state;

	mufasa(&in, GBA_QOP_NONE);
	in.nc = (struct gba_str){ NULL, 0 };
	in.cnonce = (struct gba_str){ NULL, 0 };
	assert_int_equal(gba_digest_response(out, &in), GBA_OK);
	assert_string_equal(out, "670fd8c2df070c60b045671b8b24ff02");
}

/* auth-int: HA2 = MD5(method ":" uri ":" hex(MD5(body))); Python hashlib. */
static void test_response_auth_int(void **state)
{
	static const char body[] = "<xml/>";
	struct gba_digest_input in;
	char out[33];
	(void)state;

	mufasa(&in, GBA_QOP_AUTH_INT);
	in.method = STR("POST");
	in.uri = STR("/");
	in.body = (const uint8_t *)body;
	in.body_len = sizeof(body) - 1;
	assert_int_equal(gba_digest_response(out, &in), GBA_OK);
	assert_string_equal(out, "02ea901e4fc09a23a9c54567d10c6206");

	/* An empty body still contributes hex(MD5("")). */
	in.method = STR("GET");
	in.body = NULL;
	in.body_len = 0;
	assert_int_equal(gba_digest_response(out, &in), GBA_OK);
	assert_string_equal(out, "75d7e2b7e21fcb002781cf6688ab4dd2");
}

/* rspauth: the response with an empty method; Python hashlib. */
static void test_rspauth(void **state)
{
	struct gba_digest_input in;
	char out[33], manual[33];
	(void)state;

	mufasa(&in, GBA_QOP_AUTH);
	assert_int_equal(gba_digest_rspauth(out, &in), GBA_OK);
	assert_string_equal(out, "376602cfd2f4e8e5e78b948a85263e85");
	in.method = STR("");
	assert_int_equal(gba_digest_response(manual, &in), GBA_OK);
	assert_string_equal(out, manual);
}

static void test_compute_bad_args(void **state)
{
	struct gba_digest_input in;
	uint8_t ha1[16];
	char out[33];
	(void)state;

	mufasa(&in, GBA_QOP_AUTH);
	assert_int_equal(gba_digest_response(NULL, &in), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_digest_response(out, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_digest_ha1(ha1, NULL), GBA_ERR_INVALID_ARG);
	in.qop = (enum gba_digest_qop)7;
	assert_int_equal(gba_digest_response(out, &in), GBA_ERR_INVALID_ARG);
	mufasa(&in, GBA_QOP_AUTH_INT);
	in.body_len = 3; /* NULL body with a length */
	assert_int_equal(gba_digest_response(out, &in), GBA_ERR_INVALID_ARG);
	mufasa(&in, GBA_QOP_AUTH);
	in.password = NULL;
	assert_int_equal(gba_digest_ha1(ha1, &in), GBA_ERR_INVALID_ARG);
	in.password_len = 0; /* an empty password (AUTS case) is fine */
	assert_int_equal(gba_digest_ha1(ha1, &in), GBA_OK);
}

/* ---- AKAv2 password ------------------------------------------------------- */

static const uint8_t ik20[16] = { 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
				  0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f };
static const uint8_t ck40[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
				  0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f };

/* Expected values from Python: base64(hmac.new(RES+IK+CK, label, md5)). */
static void test_akav2_password(void **state)
{
	static const uint8_t res16[16] = { 0, 1, 2, 3, 4, 5, 6, 7,
					   8, 9, 10, 11, 12, 13, 14, 15 };
	static const uint8_t res4[4] = { 1, 2, 3, 4 };
	char pw[25];
	(void)state;

	assert_int_equal(gba_digest_akav2_password(pw, res16, 16, ik20, ck40), GBA_OK);
	assert_string_equal(pw, "ZM3L1GpdwvaOXJYs0fISmw==");
	assert_int_equal(gba_digest_akav2_password(pw, res4, 4, ik20, ck40), GBA_OK);
	assert_string_equal(pw, "q8Lq3a6yWuu4oxCGJIxMkg==");
}

/*
 * Self-consistency: the password is base64 of a 16-octet MAC, it depends on
 * every input, and swapping IK and CK (a classic slip) changes it.
 */
static void test_akav2_consistency(void **state)
{
	static const uint8_t res[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	char a[25], b[25], c[25];
	uint8_t mac[16];
	size_t n;
	(void)state;

	assert_int_equal(gba_digest_akav2_password(a, res, 8, ik20, ck40), GBA_OK);
	assert_int_equal(strlen(a), 24);
	assert_int_equal(gba_base64_decode(mac, sizeof(mac), &n, a, 24), GBA_OK);
	assert_int_equal(n, 16);
	assert_int_equal(gba_digest_akav2_password(b, res, 8, ik20, ck40), GBA_OK);
	assert_string_equal(a, b);
	assert_int_equal(gba_digest_akav2_password(c, res, 8, ck40, ik20), GBA_OK);
	assert_string_not_equal(a, c);
	assert_int_equal(gba_digest_akav2_password(c, res, 7, ik20, ck40), GBA_OK);
	assert_string_not_equal(a, c);

	assert_int_equal(gba_digest_akav2_password(c, res, 3, ik20, ck40), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_digest_akav2_password(c, res, 17, ik20, ck40), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_digest_akav2_password(NULL, res, 8, ik20, ck40),
			 GBA_ERR_INVALID_ARG);
}

/* ---- Verify ---------------------------------------------------------------- */

static void test_verify(void **state)
{
	static const char exp[33] = "6629fae49393a05397450978507c4ef1";
	(void)state;

	assert_int_equal(gba_digest_verify(exp, HDR("6629fae49393a05397450978507c4ef1")), GBA_OK);
	assert_int_equal(gba_digest_verify(exp, HDR("6629FAE49393A05397450978507C4EF1")), GBA_OK);
	assert_int_equal(gba_digest_verify(exp, HDR("6629Fae49393a05397450978507c4eF1")), GBA_OK);
	assert_int_equal(gba_digest_verify(exp, HDR("6629fae49393a05397450978507c4ef0")),
			 GBA_ERR_AUTH_FAILED);
	assert_int_equal(gba_digest_verify(exp, HDR("6629fae49393a05397450978507c4ef")),
			 GBA_ERR_AUTH_FAILED);
	assert_int_equal(gba_digest_verify(exp, HDR("6629fae49393a05397450978507c4ef11")),
			 GBA_ERR_AUTH_FAILED);
	assert_int_equal(gba_digest_verify(exp, HDR("")), GBA_ERR_AUTH_FAILED);
	/* Folding touches letters only: a blind c|0x20 would turn 0x16 into '6'. */
	assert_int_equal(gba_digest_verify(exp, HDR("\x16" "629fae49393a05397450978507c4ef1")),
			 GBA_ERR_AUTH_FAILED);
	assert_int_equal(gba_digest_verify(exp, HDR("6629&ae49393a05397450978507c4ef1")),
			 GBA_ERR_AUTH_FAILED);
	/* The expected value is folded too. */
	assert_int_equal(gba_digest_verify("6629FAE49393A05397450978507C4EF1",
					   HDR("6629fae49393a05397450978507c4ef1")),
			 GBA_OK);
	assert_int_equal(gba_digest_verify(NULL, HDR("x")), GBA_ERR_INVALID_ARG);
}

/* ---- Parsing ------------------------------------------------------------- */

/* TS 24.109 Ub, step 2. */
static void test_parse_ub_challenge(void **state)
{
	static const char h[] =
		"Digest realm=\"bsf.mnc005.mcc466.pub.3gppnetwork.org\", "
		"nonce=\"AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=\", "
		"algorithm=AKAv1-MD5, qop=\"auth-int\", opaque=\"5ccc069c403ebaf9\"";
	struct gba_digest_challenge c;
	(void)state;

	assert_int_equal(gba_digest_parse_challenge(HDR(h), scratch, sizeof(scratch), &c), GBA_OK);
	assert_gstr(c.realm, "bsf.mnc005.mcc466.pub.3gppnetwork.org");
	assert_gstr(c.nonce, "AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=");
	assert_gstr(c.opaque, "5ccc069c403ebaf9");
	assert_gstr(c.algorithm_name, "AKAv1-MD5");
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_AKAV1_MD5);
	assert_int_equal(c.qop_mask, GBA_QOP_BIT_AUTH_INT);
	assert_absent(c.domain);
	assert_int_equal(c.stale, 0);
}

/* RFC 7616 3.9.1 (folding removed), with an algorithm we do not know. */
static void test_parse_rfc7616_challenge(void **state)
{
	static const char h[] =
		"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
		"algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
		"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	struct gba_digest_challenge c;
	(void)state;

	assert_int_equal(gba_digest_parse_challenge(HDR(h), scratch, sizeof(scratch), &c), GBA_OK);
	assert_gstr(c.realm, "http-auth@example.org");
	assert_int_equal(c.qop_mask, GBA_QOP_BIT_AUTH | GBA_QOP_BIT_AUTH_INT);
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_OTHER);
	assert_gstr(c.algorithm_name, "SHA-256");
	assert_gstr(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
}

static void test_parse_challenge_options(void **state)
{
	struct gba_digest_challenge c;
	(void)state;

	/* RFC 2617 3.5, with stale and domain; unknown qop options ignored. */
	assert_int_equal(gba_digest_parse_challenge(
				 HDR("digest realm=\"testrealm@host.com\", "
				     "qop=\"auth,auth-int,auth-conf\", "
				     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
				     "domain=\"/ /x\", STALE=TRUE, algorithm=akav2-md5"),
				 scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_int_equal(c.qop_mask, GBA_QOP_BIT_AUTH | GBA_QOP_BIT_AUTH_INT);
	assert_int_equal(c.stale, 1);
	assert_gstr(c.domain, "/ /x");
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_AKAV2_MD5);
	assert_gstr(c.algorithm_name, "akav2-md5");

	/* No known option: an empty mask.  stale=false and anything else: 0. */
	assert_int_equal(gba_digest_parse_challenge(
				 HDR("Digest realm=r, nonce=n, qop=\"auth-conf\", stale=false"),
				 scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_int_equal(c.qop_mask, 0);
	assert_int_equal(c.stale, 0);
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_UNSET);
	assert_absent(c.algorithm_name);
	assert_int_equal(gba_digest_parse_challenge(HDR("Digest realm=r, nonce=n, stale=yes"),
						    scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_int_equal(c.stale, 0);
	assert_int_equal(gba_digest_parse_challenge(HDR("Digest realm=r, nonce=n, algorithm=MD5"),
						    scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_MD5);
}

/* TS 24.109 Ub, step 1: nonce and response present but empty. */
static void test_parse_ub_first_request(void **state)
{
	static const char h[] =
		"Digest username=\"466058041131504@ims.mnc005.mcc466.3gppnetwork.org\", "
		"realm=\"bsf.example.org\", nonce=\"\", uri=\"/\", response=\"\"";
	struct gba_digest_credentials c;
	(void)state;

	assert_int_equal(gba_digest_parse_credentials(HDR(h), scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_gstr(c.username, "466058041131504@ims.mnc005.mcc466.3gppnetwork.org");
	assert_gstr(c.realm, "bsf.example.org");
	assert_gstr(c.nonce, "");
	assert_gstr(c.uri, "/");
	assert_gstr(c.response, "");
	assert_int_equal(c.qop, GBA_QOP_NONE);
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_UNSET);
	assert_absent(c.cnonce);
	assert_absent(c.nc);
	assert_absent(c.auts);
	assert_absent(c.opaque);
}

/* RFC 2617 3.5: parse the credentials and check the response end to end. */
static void test_parse_rfc2617_credentials(void **state)
{
	static const char h[] =
		"Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
		"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
		"qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
		"response=\"6629fae49393a05397450978507c4ef1\", "
		"opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	static const char pw[] = "Circle Of Life";
	struct gba_digest_credentials c;
	struct gba_digest_input in;
	char expected[33];
	(void)state;

	assert_int_equal(gba_digest_parse_credentials(HDR(h), scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_int_equal(c.qop, GBA_QOP_AUTH);
	assert_gstr(c.nc, "00000001");
	assert_gstr(c.cnonce, "0a4f113b");
	assert_gstr(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");

	memset(&in, 0, sizeof(in));
	in.username = c.username;
	in.realm = c.realm;
	in.method = STR("GET");
	in.uri = c.uri;
	in.nonce = c.nonce;
	in.nc = c.nc;
	in.cnonce = c.cnonce;
	in.qop = c.qop;
	in.password = (const uint8_t *)pw;
	in.password_len = sizeof(pw) - 1;
	assert_int_equal(gba_digest_response(expected, &in), GBA_OK);
	assert_int_equal(gba_digest_verify(expected, c.response.ptr, c.response.len), GBA_OK);
}

/* Ub resynchronisation: empty response, auts; quoted qop tolerated. */
static void test_parse_credentials_auts(void **state)
{
	static const char h[] =
		"Digest username=\"u@ims.example\", realm=\"bsf.example.org\", "
		"nonce=\"bm9uY2U=\", uri=\"/\", qop=\"auth-int\", nc=0000000A, "
		"cnonce=\"c\", response=\"\", algorithm=AKAv1-MD5, "
		"auts=\"CjkyMzRfOiwg5CfkJ2UK=\", opaque=\"o\"";
	struct gba_digest_credentials c;
	(void)state;

	assert_int_equal(gba_digest_parse_credentials(HDR(h), scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_gstr(c.auts, "CjkyMzRfOiwg5CfkJ2UK=");
	assert_int_equal(c.qop, GBA_QOP_AUTH_INT);
	assert_gstr(c.nc, "0000000A");
	assert_int_equal(c.algorithm, GBA_DIGEST_ALG_AKAV1_MD5);
	assert_gstr(c.response, "");
}

static void test_parse_odd_spacing(void **state)
{
	struct gba_digest_credentials c;
	(void)state;

	assert_int_equal(gba_digest_parse_credentials(
				 HDR("  DIGEST   username = \"x\" ,, realm=\"r\"\t,"
				     "NONCE\t=\t\"\" , , Uri=\"/\",response=\"\", ,"
				     "userhash=false, charset=UTF-8 ,"),
				 scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_gstr(c.username, "x");
	assert_gstr(c.realm, "r");
	assert_gstr(c.nonce, "");
	assert_gstr(c.uri, "/");
	assert_gstr(c.response, "");
}

static void test_parse_escapes(void **state)
{
	struct gba_digest_credentials c;
	(void)state;

	assert_int_equal(gba_digest_parse_credentials(
				 HDR("Digest username=\"a\\\"b\\\\c\\d\", realm=\"r,\\\"x=y\\\"\", "
				     "nonce=\"\", uri=\"/\", response=\"\", "
				     "unknown=\"\\\"quoted, tricky\\\"\""),
				 scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_gstr(c.username, "a\"b\\cd");
	assert_gstr(c.realm, "r,\"x=y\"");
}

static void test_parse_utf8(void **state)
{
	struct gba_digest_credentials c;
	(void)state;

	/* "Jäsøn Doe" and a 4-byte character are fine. */
	assert_int_equal(gba_digest_parse_credentials(
				 HDR("Digest username=\"J\xc3\xa4s\xc3\xb8n Doe \xf0\x9f\x94\x91\", "
				     "realm=r, nonce=\"\", uri=\"/\", response=\"\""),
				 scratch, sizeof(scratch), &c),
			 GBA_OK);
	assert_gstr(c.username, "J\xc3\xa4s\xc3\xb8n Doe \xf0\x9f\x94\x91");
}

static void test_parse_auth_info(void **state)
{
	static const char h[] = "qop=auth-int, rspauth=\"376602cfd2f4e8e5e78b948a85263e85\", "
				"cnonce=\"0a4f113b\", nc=00000001, nextnonce=\"abc\", x=y";
	struct gba_digest_auth_info a;
	(void)state;

	assert_int_equal(gba_digest_parse_auth_info(HDR(h), scratch, sizeof(scratch), &a), GBA_OK);
	assert_int_equal(a.qop, GBA_QOP_AUTH_INT);
	assert_gstr(a.rspauth, "376602cfd2f4e8e5e78b948a85263e85");
	assert_gstr(a.cnonce, "0a4f113b");
	assert_gstr(a.nc, "00000001");
	assert_gstr(a.nextnonce, "abc");

	/* All parameters optional; empty is fine. */
	assert_int_equal(gba_digest_parse_auth_info(HDR(""), scratch, sizeof(scratch), &a), GBA_OK);
	assert_absent(a.rspauth);
	assert_int_equal(a.qop, GBA_QOP_NONE);
	assert_int_equal(gba_digest_parse_auth_info(NULL, 0, NULL, 0, &a), GBA_OK);
	assert_int_equal(gba_digest_parse_auth_info(HDR("qop=auth-conf"), scratch,
						    sizeof(scratch), &a),
			 GBA_ERR_PARSE);
	assert_int_equal(gba_digest_parse_auth_info(HDR("nc=1"), scratch, sizeof(scratch), &a),
			 GBA_ERR_PARSE);
}

/* ---- Parsing: hostile and broken input ------------------------------------ */

static gba_err parse_cred(const char *h, size_t len)
{
	struct gba_digest_credentials c;
	gba_err err = gba_digest_parse_credentials(h, len, scratch, sizeof(scratch), &c);

	if (err) /* a failed parse leaves nothing pointing into scratch */
		assert_null(c.username.ptr);
	return err;
}

static gba_err parse_chal(const char *h, size_t len)
{
	struct gba_digest_challenge c;

	return gba_digest_parse_challenge(h, len, scratch, sizeof(scratch), &c);
}

#define CRED_TAIL ", realm=r, nonce=\"\", uri=\"/\", response=\"\""

static void test_bad_syntax(void **state)
{
	(void)state;
	/* Truncated at every interesting place. */
	assert_int_equal(parse_cred(HDR("Digest username")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username= ")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"abc")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"abc\\")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"abc\\\"")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"x\", realm=\"r")), GBA_ERR_PARSE);
	/* Missing '=', missing ',', garbage. */
	assert_int_equal(parse_cred(HDR("Digest username \"x\"" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"x\" realm=r, nonce=\"\", uri=\"/\", "
					"response=\"\"")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=\"x\"junk" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest =\"x\"" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=x y" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=@" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest,username=\"x\"" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest dXNlcjpwYXNz==")), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("\"Digest\" username=x" CRED_TAIL)), GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("")), GBA_ERR_PARSE);
	/* Bytes >= 0x80 outside a quoted string are not token characters. */
	assert_int_equal(parse_cred(HDR("Digest username=\xc3\xa4" CRED_TAIL)), GBA_ERR_PARSE);
	/* Just the scheme: nothing required is there. */
	assert_int_equal(parse_cred(HDR("Digest")), GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_cred(HDR("Digest ")), GBA_ERR_MISSING_PARAM);
}

static void test_wrong_scheme(void **state)
{
	(void)state;
	assert_int_equal(parse_cred(HDR("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")),
			 GBA_ERR_UNSUPPORTED);
	assert_int_equal(parse_chal(HDR("Bearer realm=\"example\"")), GBA_ERR_UNSUPPORTED);
	assert_int_equal(parse_cred(HDR("Digestive username=\"x\"" CRED_TAIL)),
			 GBA_ERR_UNSUPPORTED);
}

static void test_duplicates(void **state)
{
	struct gba_digest_auth_info a;
	(void)state;

	assert_int_equal(parse_cred(HDR("Digest username=\"x\", USERNAME=\"y\"" CRED_TAIL)),
			 GBA_ERR_DUPLICATE_PARAM);
	assert_int_equal(parse_chal(HDR("Digest realm=r, nonce=n, nonce=n")),
			 GBA_ERR_DUPLICATE_PARAM);
	assert_int_equal(parse_chal(HDR("Digest realm=r, nonce=n, qop=auth, qop=auth")),
			 GBA_ERR_DUPLICATE_PARAM);
	assert_int_equal(parse_chal(HDR("Digest realm=r, nonce=n, algorithm=MD5, "
					"algorithm=AKAv1-MD5")),
			 GBA_ERR_DUPLICATE_PARAM);
	assert_int_equal(gba_digest_parse_auth_info(HDR("rspauth=\"a\", rspauth=\"a\""), scratch,
						    sizeof(scratch), &a),
			 GBA_ERR_DUPLICATE_PARAM);
	/* Unknown parameters may repeat: they are skipped. */
	assert_int_equal(parse_chal(HDR("Digest realm=r, nonce=n, x=1, x=2")), GBA_OK);
}

static void test_bad_encoding(void **state)
{
	static const char nul_in_value[] = "Digest username=\"a\0b\"" CRED_TAIL;
	static const char nul_outside[] = "Digest username=\"ab\",\0" CRED_TAIL;
	static const char nul_at_end[] = "Digest username=\"ab\"" CRED_TAIL "\0";
	(void)state;

	assert_int_equal(parse_cred(nul_in_value, sizeof(nul_in_value) - 1),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(nul_outside, sizeof(nul_outside) - 1), GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(nul_at_end, sizeof(nul_at_end) - 1), GBA_ERR_BAD_ENCODING);
	/* CR LF (header injection / obsolete folding), other controls, DEL. */
	assert_int_equal(parse_cred(HDR("Digest username=\"a\r\nX-Evil: 1\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest\r\n username=\"a\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"a\x01\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"a\\\x1b\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"a\x7f\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	/* HTAB is allowed, inside values too. */
	assert_int_equal(parse_cred(HDR("Digest username=\"a\tb\"" CRED_TAIL)), GBA_OK);
	/* Invalid UTF-8 in quoted strings: bad continuation, overlong '/', lone
	 * continuation, truncated sequence, surrogate, past U+10FFFF, 0xff. */
	assert_int_equal(parse_cred(HDR("Digest username=\"\xc3\x28\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xc0\xaf\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xe0\x80\xaf\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\x80\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xe2\x82\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xed\xa0\x80\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xf4\x90\x80\x80\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(parse_cred(HDR("Digest username=\"\xff\"" CRED_TAIL)),
			 GBA_ERR_BAD_ENCODING);
	/* Unknown parameters are checked as well. */
	assert_int_equal(parse_cred(HDR("Digest x=\"\xc3\x28\"" CRED_TAIL ", username=u")),
			 GBA_ERR_BAD_ENCODING);
}

static void test_limits(void **state)
{
	static char big[GBA_DIGEST_HEADER_MAX + 2];
	static const char head[] = "Digest username=\"";
	static const char tail[] = "\"" CRED_TAIL;
	struct gba_digest_credentials c;
	char small[8];
	size_t n, value;
	(void)state;

	/* Exactly the limit is accepted, one more byte is not. */
	value = GBA_DIGEST_HEADER_MAX - (sizeof(head) - 1) - (sizeof(tail) - 1);
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'a', value);
	memcpy(big + sizeof(head) - 1 + value, tail, sizeof(tail) - 1);
	n = sizeof(head) - 1 + value + sizeof(tail) - 1;
	assert_int_equal(n, GBA_DIGEST_HEADER_MAX);
	assert_int_equal(gba_digest_parse_credentials(big, n, scratch, n + GBA_DIGEST_PARAMS_MAX,
						      &c),
			 GBA_OK);
	assert_int_equal(c.username.len, value);
	memmove(big + sizeof(head), big + sizeof(head) - 1, n - (sizeof(head) - 1));
	assert_int_equal(parse_cred(big, n + 1), GBA_ERR_TOO_LARGE);

	/* GBA_DIGEST_PARAMS_MAX parameters, then one more. */
	n = 0;
	n += (size_t)snprintf(big, sizeof(big), "Digest username=u" CRED_TAIL);
	for (int i = 5; i < GBA_DIGEST_PARAMS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ", x%d=1", i);
	assert_int_equal(parse_cred(big, n), GBA_OK);
	n += (size_t)snprintf(big + n, sizeof(big) - n, ", y=2");
	assert_int_equal(parse_cred(big, n), GBA_ERR_TOO_LARGE);

	/* Scratch too small; and one byte short of the exact need. */
	assert_int_equal(gba_digest_parse_credentials(HDR("Digest username=\"0123456789\"" CRED_TAIL),
						      small, sizeof(small), &c),
			 GBA_ERR_BUFFER_TOO_SMALL);
	assert_null(c.username.ptr);
	/* username(2) realm(2) nonce(1) uri(2) response(1) = 8 bytes. */
	assert_int_equal(gba_digest_parse_credentials(HDR("Digest username=u" CRED_TAIL), small,
						      sizeof(small), &c),
			 GBA_OK);
	assert_int_equal(gba_digest_parse_credentials(HDR("Digest username=u" CRED_TAIL), small,
						      sizeof(small) - 1, &c),
			 GBA_ERR_BUFFER_TOO_SMALL);
	/* Unknown parameters take no scratch. */
	assert_int_equal(gba_digest_parse_credentials(HDR("Digest username=u, x=\"long unknown\"" CRED_TAIL),
						      small, sizeof(small), &c),
			 GBA_OK);
}

static void test_missing_and_bad_values(void **state)
{
	(void)state;
	assert_int_equal(parse_chal(HDR("Digest realm=\"r\"")), GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_chal(HDR("Digest nonce=\"n\"")), GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_cred(HDR("Digest realm=r, nonce=\"\", uri=\"/\", response=\"\"")),
			 GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_cred(HDR("Digest username=u, realm=r, nonce=\"\", uri=\"/\"")),
			 GBA_ERR_MISSING_PARAM);
	/* qop needs nc and cnonce. */
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL ", qop=auth, nc=00000001")),
			 GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL ", qop=auth, cnonce=c")),
			 GBA_ERR_MISSING_PARAM);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth, cnonce=c, nc=00000001")),
			 GBA_OK);
	/* A qop a request cannot carry. */
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth-conf, cnonce=c, nc=00000001")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=\"auth,auth-int\", cnonce=c, nc=00000001")),
			 GBA_ERR_PARSE);
	/* nc: exactly 8 hex digits. */
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL ", qop=auth, cnonce=c, nc=1")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth, cnonce=c, nc=0000000g")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth, cnonce=c, nc=000000001")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth, cnonce=c, nc=\"0000 001\"")),
			 GBA_ERR_PARSE);
	assert_int_equal(parse_cred(HDR("Digest username=u" CRED_TAIL
					", qop=auth, cnonce=c, nc=\"00000001\"")),
			 GBA_OK);
	/* Arguments. */
	assert_int_equal(gba_digest_parse_credentials(HDR("Digest"), scratch, sizeof(scratch), NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(parse_cred(NULL, 5), GBA_ERR_INVALID_ARG);
}

/* ---- Building and round trips ----------------------------------------------- */

static void test_build_ub_challenge(void **state)
{
	struct gba_digest_challenge c, p;
	char out[256];
	size_t n;
	(void)state;

	memset(&c, 0, sizeof(c));
	c.realm = STR("bsf.example.org");
	c.nonce = STR("AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=");
	c.algorithm = GBA_DIGEST_ALG_AKAV1_MD5;
	c.qop_mask = GBA_QOP_BIT_AUTH_INT;
	c.opaque = STR("5ccc069c");
	assert_int_equal(gba_digest_build_challenge(out, sizeof(out), &n, &c), GBA_OK);
	assert_string_equal(out, "Digest realm=\"bsf.example.org\", "
				 "nonce=\"AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=\", "
				 "algorithm=AKAv1-MD5, qop=\"auth-int\", opaque=\"5ccc069c\"");
	assert_int_equal(n, strlen(out));

	c.qop_mask = GBA_QOP_BIT_AUTH | GBA_QOP_BIT_AUTH_INT;
	c.stale = 1;
	c.domain = STR("/");
	assert_int_equal(gba_digest_build_challenge(out, sizeof(out), &n, &c), GBA_OK);
	assert_int_equal(gba_digest_parse_challenge(out, n, scratch, sizeof(scratch), &p), GBA_OK);
	assert_gstr(p.realm, "bsf.example.org");
	assert_gstr(p.domain, "/");
	assert_int_equal(p.qop_mask, c.qop_mask);
	assert_int_equal(p.stale, 1);
	assert_int_equal(p.algorithm, GBA_DIGEST_ALG_AKAV1_MD5);

	/* Exactly big enough, then one short. */
	assert_int_equal(gba_digest_build_challenge(out, n + 1, NULL, &c), GBA_OK);
	assert_int_equal(gba_digest_build_challenge(out, n, NULL, &c), GBA_ERR_BUFFER_TOO_SMALL);
	c.nonce = (struct gba_str){ NULL, 0 };
	assert_int_equal(gba_digest_build_challenge(out, sizeof(out), NULL, &c),
			 GBA_ERR_MISSING_PARAM);
}

static void test_build_credentials_roundtrip(void **state)
{
	struct gba_digest_credentials c, p;
	char out[512];
	size_t n;
	(void)state;

	memset(&c, 0, sizeof(c));
	c.username = STR("we\"ird\\user");
	c.realm = STR("bsf.example.org");
	c.nonce = STR("bm9uY2U=");
	c.uri = STR("/");
	c.qop = GBA_QOP_AUTH_INT;
	c.nc = STR("00000001");
	c.cnonce = STR("c n,o=\"n\"ce");
	c.response = STR("6629fae49393a05397450978507c4ef1");
	c.opaque = STR("o");
	c.algorithm = GBA_DIGEST_ALG_AKAV2_MD5;
	c.auts = STR("CjkyMzRfOiwg5CfkJ2UK");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), &n, &c), GBA_OK);
	assert_string_equal(out, "Digest username=\"we\\\"ird\\\\user\", realm=\"bsf.example.org\", "
				 "nonce=\"bm9uY2U=\", uri=\"/\", qop=auth-int, nc=00000001, "
				 "cnonce=\"c n,o=\\\"n\\\"ce\", "
				 "response=\"6629fae49393a05397450978507c4ef1\", opaque=\"o\", "
				 "algorithm=AKAv2-MD5, auts=\"CjkyMzRfOiwg5CfkJ2UK\"");
	assert_int_equal(gba_digest_parse_credentials(out, n, scratch, sizeof(scratch), &p),
			 GBA_OK);
	assert_gstr(p.username, "we\"ird\\user");
	assert_gstr(p.cnonce, "c n,o=\"n\"ce");
	assert_gstr(p.auts, "CjkyMzRfOiwg5CfkJ2UK");
	assert_int_equal(p.qop, GBA_QOP_AUTH_INT);
	assert_int_equal(p.algorithm, GBA_DIGEST_ALG_AKAV2_MD5);

	/* The first Ub request. */
	memset(&c, 0, sizeof(c));
	c.username = STR("impi@ims.example");
	c.realm = STR("bsf.example.org");
	c.nonce = STR("");
	c.uri = STR("/");
	c.response = STR("");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), &n, &c), GBA_OK);
	assert_string_equal(out, "Digest username=\"impi@ims.example\", realm=\"bsf.example.org\", "
				 "nonce=\"\", uri=\"/\", response=\"\"");

	/* An algorithm we do not know goes out by name, quoted if need be. */
	c.algorithm = GBA_DIGEST_ALG_OTHER;
	c.algorithm_name = STR("SHA-256");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), &n, &c), GBA_OK);
	assert_non_null(strstr(out, ", algorithm=SHA-256"));
	c.algorithm_name = STR("odd name");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), &n, &c), GBA_OK);
	assert_int_equal(gba_digest_parse_credentials(out, n, scratch, sizeof(scratch), &p),
			 GBA_OK);
	assert_gstr(p.algorithm_name, "odd name");
	assert_int_equal(p.algorithm, GBA_DIGEST_ALG_OTHER);
	c.algorithm_name = (struct gba_str){ NULL, 0 };
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), &n, &c),
			 GBA_ERR_INVALID_ARG);
}

static void test_build_refuses_bad_values(void **state)
{
	struct gba_digest_credentials c;
	struct gba_digest_auth_info a;
	char out[512];
	(void)state;

	memset(&c, 0, sizeof(c));
	c.username = STR("u");
	c.realm = STR("r");
	c.nonce = STR("");
	c.uri = STR("/");
	c.response = STR("");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c), GBA_OK);
	/* Header injection through a value. */
	c.username = STR("u\r\nX-Evil: 1");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_BAD_ENCODING);
	c.username = STR("\xc0\xaf");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_BAD_ENCODING);
	c.username = STR("\xed\xa0\x80"); /* a surrogate */
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_BAD_ENCODING);
	c.username = STR("\xe2\x82"); /* truncated */
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_BAD_ENCODING);
	c.username = STR("J\xc3\xa4s \xe2\x82\xac \xf0\x9f\x94\x91");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c), GBA_OK);
	c.username = (struct gba_str){ NULL, 3 };
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_MISSING_PARAM);
	c.opaque = (struct gba_str){ NULL, 3 };
	c.username = STR("u");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_INVALID_ARG);
	c.opaque = (struct gba_str){ NULL, 0 };
	c.qop = GBA_QOP_AUTH;
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_MISSING_PARAM);
	c.cnonce = STR("c");
	c.nc = STR("1");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_INVALID_ARG);
	c.nc = STR("0000000f");
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c), GBA_OK);
	c.uri = (struct gba_str){ NULL, 0 };
	assert_int_equal(gba_digest_build_credentials(out, sizeof(out), NULL, &c),
			 GBA_ERR_MISSING_PARAM);

	memset(&a, 0, sizeof(a));
	a.nc = STR("0000001");
	assert_int_equal(gba_digest_build_auth_info(out, sizeof(out), NULL, &a),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_digest_build_auth_info(NULL, 0, NULL, &a), GBA_ERR_INVALID_ARG);
}

static void test_build_auth_info_roundtrip(void **state)
{
	struct gba_digest_auth_info a, p;
	char out[256];
	size_t n;
	(void)state;

	memset(&a, 0, sizeof(a));
	a.qop = GBA_QOP_AUTH_INT;
	a.rspauth = STR("376602cfd2f4e8e5e78b948a85263e85");
	a.cnonce = STR("0a4f113b");
	a.nc = STR("00000001");
	assert_int_equal(gba_digest_build_auth_info(out, sizeof(out), &n, &a), GBA_OK);
	assert_string_equal(out, "qop=auth-int, rspauth=\"376602cfd2f4e8e5e78b948a85263e85\", "
				 "cnonce=\"0a4f113b\", nc=00000001");
	assert_int_equal(gba_digest_parse_auth_info(out, n, scratch, sizeof(scratch), &p), GBA_OK);
	assert_int_equal(p.qop, GBA_QOP_AUTH_INT);
	assert_gstr(p.rspauth, "376602cfd2f4e8e5e78b948a85263e85");
	assert_gstr(p.cnonce, "0a4f113b");
	assert_gstr(p.nc, "00000001");
	assert_absent(p.nextnonce);

	/* Nothing at all: an empty header value. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(gba_digest_build_auth_info(out, sizeof(out), &n, &a), GBA_OK);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	assert_int_equal(gba_digest_build_auth_info(out, 1, &n, &a), GBA_OK);
}

static void test_algorithm_names(void **state)
{
	(void)state;
	assert_string_equal(gba_digest_algorithm_name(GBA_DIGEST_ALG_MD5), "MD5");
	assert_string_equal(gba_digest_algorithm_name(GBA_DIGEST_ALG_AKAV1_MD5), "AKAv1-MD5");
	assert_string_equal(gba_digest_algorithm_name(GBA_DIGEST_ALG_AKAV2_MD5), "AKAv2-MD5");
	assert_null(gba_digest_algorithm_name(GBA_DIGEST_ALG_UNSET));
	assert_null(gba_digest_algorithm_name(GBA_DIGEST_ALG_OTHER));
	assert_null(gba_digest_algorithm_name((enum gba_digest_algorithm)99));
}

/* A whole Ub run on the BSF side: challenge, UE response, verify, rspauth. */
static void test_ub_flow(void **state)
{
	static const uint8_t res[16] = { 0, 1, 2, 3, 4, 5, 6, 7,
					 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char body[] = "";
	struct gba_digest_challenge ch, pch;
	struct gba_digest_credentials cr, pcr;
	struct gba_digest_auth_info ai, pai;
	struct gba_digest_input in;
	char hdr[512], resp[33], rsp[33];
	char scratch2[512], scratch3[512];
	size_t n;
	(void)state;

	memset(&ch, 0, sizeof(ch));
	ch.realm = STR("bsf.example.org");
	ch.nonce = STR("AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=");
	ch.algorithm = GBA_DIGEST_ALG_AKAV1_MD5;
	ch.qop_mask = GBA_QOP_BIT_AUTH_INT;
	assert_int_equal(gba_digest_build_challenge(hdr, sizeof(hdr), &n, &ch), GBA_OK);
	assert_int_equal(gba_digest_parse_challenge(hdr, n, scratch, sizeof(scratch), &pch), GBA_OK);

	/* UE. */
	memset(&in, 0, sizeof(in));
	in.username = STR("impi@ims.example");
	in.realm = pch.realm;
	in.method = STR("GET");
	in.uri = STR("/");
	in.nonce = pch.nonce;
	in.nc = STR("00000001");
	in.cnonce = STR("cn");
	in.qop = GBA_QOP_AUTH_INT;
	in.password = res;
	in.password_len = sizeof(res);
	in.body = (const uint8_t *)body;
	assert_int_equal(gba_digest_response(resp, &in), GBA_OK);
	memset(&cr, 0, sizeof(cr));
	cr.username = in.username;
	cr.realm = in.realm;
	cr.nonce = in.nonce;
	cr.uri = in.uri;
	cr.qop = in.qop;
	cr.nc = in.nc;
	cr.cnonce = in.cnonce;
	cr.response = (struct gba_str){ resp, 32 };
	cr.algorithm = pch.algorithm;
	assert_int_equal(gba_digest_build_credentials(hdr, sizeof(hdr), &n, &cr), GBA_OK);

	/* BSF. */
	assert_int_equal(gba_digest_parse_credentials(hdr, n, scratch2, sizeof(scratch2), &pcr),
			 GBA_OK);
	in.username = pcr.username;
	in.nonce = pcr.nonce;
	in.cnonce = pcr.cnonce;
	in.nc = pcr.nc;
	assert_int_equal(gba_digest_response(resp, &in), GBA_OK);
	assert_int_equal(gba_digest_verify(resp, pcr.response.ptr, pcr.response.len), GBA_OK);
	in.password_len = 15; /* a wrong RES */
	assert_int_equal(gba_digest_response(resp, &in), GBA_OK);
	assert_int_equal(gba_digest_verify(resp, pcr.response.ptr, pcr.response.len),
			 GBA_ERR_AUTH_FAILED);
	in.password_len = 16;
	assert_int_equal(gba_digest_rspauth(rsp, &in), GBA_OK);
	memset(&ai, 0, sizeof(ai));
	ai.qop = in.qop;
	ai.rspauth = (struct gba_str){ rsp, 32 };
	ai.cnonce = pcr.cnonce;
	ai.nc = pcr.nc;
	assert_int_equal(gba_digest_build_auth_info(hdr, sizeof(hdr), &n, &ai), GBA_OK);

	/* UE checks rspauth. */
	assert_int_equal(gba_digest_parse_auth_info(hdr, n, scratch3, sizeof(scratch3), &pai),
			 GBA_OK);
	assert_int_equal(gba_digest_verify(rsp, pai.rspauth.ptr, pai.rspauth.len), GBA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_akav1_vector1),
		cmocka_unit_test(test_akav1_vector2),
		cmocka_unit_test(test_rfc2617_example),
		cmocka_unit_test(test_response_no_qop),
		cmocka_unit_test(test_response_auth_int),
		cmocka_unit_test(test_rspauth),
		cmocka_unit_test(test_compute_bad_args),
		cmocka_unit_test(test_akav2_password),
		cmocka_unit_test(test_akav2_consistency),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_parse_ub_challenge),
		cmocka_unit_test(test_parse_rfc7616_challenge),
		cmocka_unit_test(test_parse_challenge_options),
		cmocka_unit_test(test_parse_ub_first_request),
		cmocka_unit_test(test_parse_rfc2617_credentials),
		cmocka_unit_test(test_parse_credentials_auts),
		cmocka_unit_test(test_parse_odd_spacing),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_parse_utf8),
		cmocka_unit_test(test_parse_auth_info),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_wrong_scheme),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_bad_encoding),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_missing_and_bad_values),
		cmocka_unit_test(test_build_ub_challenge),
		cmocka_unit_test(test_build_credentials_roundtrip),
		cmocka_unit_test(test_build_refuses_bad_values),
		cmocka_unit_test(test_build_auth_info_roundtrip),
		cmocka_unit_test(test_algorithm_names),
		cmocka_unit_test(test_ub_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
