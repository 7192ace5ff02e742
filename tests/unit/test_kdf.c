/*
 * test_kdf.c - TS 33.220 Annex B KDF, NAF keys, NAF_Id, B-TID and TMPI.
 *
 * No published Ks_NAF vectors exist (shared/spec/vectors.md); the values
 * here are fixed by an independent computation with Python's hmac/hashlib
 * (tests/crosscheck/check_kdf.py does the same on random inputs), and the
 * structure of S is checked against a hand-built S.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <gba/kdf.h>

#include "testutil.h"

static const char impi[] = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
static const char naf[] = "naf.example.org";

/* Python: hmac.new(Ks, S, hashlib.sha256), Ks = 00..1f, RAND = a0..af */
#define KS_NAF_EXPECTED "c312d4604c25ed8b6f116df1b3e3f559095457eb5485bd7d0cc1218044a55328"
#define KS_INT_NAF_EXPECTED "dc1cca82089dc0768b6e8239e0676242a2c25d1f9c1b3d7a2cf2f530aec64680"
#define TMPI_EXPECTED "TUpOhHE1JE5wsSspgVITIt1YqrPC/GY9@tmpi.bsf.3gppnetwork.org"

static void setup_ks(uint8_t ks[32], uint8_t rand[16])
{
	for (int i = 0; i < 32; i++)
		ks[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)(0xa0 + i);
}

/* S = FC || P0 || L0 || ..., built by hand and fed to HMAC in one piece. */
static void test_kdf_structure(void **state)
{
	(void)state;
	uint8_t ks[32], rand[16], naf_id[64], s[256], want[32], got[32];
	size_t naf_id_len, n = 0;
	setup_ks(ks, rand);
	assert_int_equal(gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, naf, strlen(naf),
				    GBA_UA_HTTP_DIGEST), GBA_OK);
	assert_int_equal(naf_id_len, strlen(naf) + 5);
	assert_memory_equal(naf_id + strlen(naf), "\x01\x00\x00\x00\x02", 5);

	s[n++] = 0x01;
	memcpy(s + n, "gba-me", 6); n += 6; s[n++] = 0; s[n++] = 6;
	memcpy(s + n, rand, 16); n += 16; s[n++] = 0; s[n++] = 16;
	memcpy(s + n, impi, strlen(impi)); n += strlen(impi); s[n++] = 0; s[n++] = (uint8_t)strlen(impi);
	memcpy(s + n, naf_id, naf_id_len); n += naf_id_len; s[n++] = 0; s[n++] = (uint8_t)naf_id_len;
	struct hmac_sha256_ctx h;
	hmac_sha256_set_key(&h, 32, ks);
	hmac_sha256_update(&h, n, s);
	hmac_sha256_digest(&h, 32, want);

	assert_int_equal(gba_ks_naf(ks, rand, impi, strlen(impi), naf_id, naf_id_len, got), GBA_OK);
	assert_memory_equal(got, want, 32);

	/* Ks_int_NAF differs only by P0 = "gba-u" */
	uint8_t intk[32];
	assert_int_equal(gba_ks_int_naf(ks, rand, impi, strlen(impi), naf_id, naf_id_len, intk),
			 GBA_OK);
	assert_memory_not_equal(intk, got, 32);
}

/* The fixed values above, from an independent computation. */
static void test_kdf_known_values(void **state)
{
	(void)state;
	uint8_t ks[32], rand[16], naf_id[64], out[32];
	size_t naf_id_len;
	setup_ks(ks, rand);
	assert_int_equal(gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, naf, strlen(naf),
				    GBA_UA_HTTP_DIGEST), GBA_OK);
	assert_int_equal(gba_ks_naf(ks, rand, impi, strlen(impi), naf_id, naf_id_len, out), GBA_OK);
	assert_hex_equal(out, 32, KS_NAF_EXPECTED);
	assert_int_equal(gba_ks_int_naf(ks, rand, impi, strlen(impi), naf_id, naf_id_len, out),
			 GBA_OK);
	assert_hex_equal(out, 32, KS_INT_NAF_EXPECTED);
}

static void test_kdf_bad_args(void **state)
{
	(void)state;
	uint8_t key[32] = { 0 }, out[32];
	struct gba_kdf_param p[9] = { { (const uint8_t *)"x", 1 } };
	for (int i = 1; i < 9; i++)
		p[i] = p[0];
	assert_int_equal(gba_kdf(key, 32, 1, p, 9, out), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_kdf(key, 32, 1, p, 8, out), GBA_OK);
	p[0].len = 0x10000;
	assert_int_equal(gba_kdf(key, 32, 1, p, 1, out), GBA_ERR_BAD_LENGTH);
	p[0].data = NULL;
	p[0].len = 1;
	assert_int_equal(gba_kdf(key, 32, 1, p, 1, out), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_kdf(NULL, 32, 1, NULL, 0, out), GBA_ERR_INVALID_ARG);
	/* An empty parameter is allowed: L = 00 00 */
	p[0].data = (const uint8_t *)"";
	p[0].len = 0;
	assert_int_equal(gba_kdf(key, 32, 1, p, 1, out), GBA_OK);
}

static void test_naf_id(void **state)
{
	(void)state;
	uint8_t id[300], ua[5];
	size_t n;
	assert_int_equal(gba_naf_id(id, sizeof(id), &n, "a", 1, GBA_UA_TLS12_PSK_AES128_CBC_SHA256),
			 GBA_OK);
	assert_hex_equal(id, n, "610100010" "0ae");
	gba_ua_id_tls12(ua, 0xc0a8);
	assert_hex_equal(ua, 5, "010001c0a8");
	gba_ua_id_tls12(ua, 0x00ae);
	assert_memory_equal(ua, GBA_UA_TLS12_PSK_AES128_CBC_SHA256, 5);
	assert_hex_equal(GBA_UA_TMPI, 5, "0100000100");
	assert_int_equal(gba_naf_id(id, 5, &n, "a", 1, ua), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_naf_id(id, sizeof(id), &n, "", 0, ua), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_naf_id(id, sizeof(id), &n, "a b", 3, ua), GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_naf_id(id, sizeof(id), &n, "a\0b", 3, ua), GBA_ERR_BAD_ENCODING);
	char big[257];
	memset(big, 'x', sizeof(big));
	assert_int_equal(gba_naf_id(id, sizeof(id), &n, big, 256, ua), GBA_ERR_BAD_LENGTH);
}

static void test_btid(void **state)
{
	(void)state;
	uint8_t rand[16], back[16];
	char btid[GBA_BTID_MAX + 1];
	const char *dom;
	size_t dom_len;
	unhex(rand, 16, "23553cbe9637a89d218ae64dae47bf35");
	assert_int_equal(gba_btid(btid, sizeof(btid), rand, "bsf.example.org", 15), GBA_OK);
	assert_string_equal(btid, "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org");
	assert_int_equal(gba_btid_parse(btid, strlen(btid), back, &dom, &dom_len), GBA_OK);
	assert_memory_equal(back, rand, 16);
	assert_int_equal(dom_len, 15);
	assert_memory_equal(dom, "bsf.example.org", 15);

	assert_int_equal(gba_btid(btid, 40, rand, "bsf.example.org", 15), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_btid(btid, 41, rand, "bsf.example.org", 15), GBA_OK);

	static const char *const bad[] = {
		"I1U8vpY3qJ0hiuZNrke/NQ==",                 /* no domain */
		"I1U8vpY3qJ0hiuZNrke/NQ==@",                /* empty domain */
		"I1U8vpY3qJ0hiuZNrke/NQ@bsf.example.org",   /* no padding */
		"I1U8vpY3qJ0hiuZNrke/NQ!!@bsf.example.org", /* not base64 */
		"I1U8vpY3qJ0hiuZNrke/@bsf.example.org",     /* 15 octets */
		"@bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf@example.org", /* two '@' */
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.exam\x80le.org",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(gba_btid_parse(bad[i], strlen(bad[i]), back, &dom, &dom_len),
				     GBA_OK);
	/* embedded NUL */
	assert_int_not_equal(gba_btid_parse("I1U8vpY3qJ0hiuZNrke/NQ==@bs\0f", 29, back, &dom, &dom_len),
			     GBA_OK);
	char huge[GBA_BTID_MAX + 2];
	memset(huge, 'a', sizeof(huge));
	assert_int_equal(gba_btid_parse(huge, sizeof(huge), back, &dom, &dom_len), GBA_ERR_TOO_LARGE);
}

static void test_tmpi(void **state)
{
	(void)state;
	uint8_t ks[32], rand[16];
	char tmpi[GBA_TMPI_MAX];
	setup_ks(ks, rand);
	assert_int_equal(gba_tmpi(tmpi, sizeof(tmpi), ks, rand, impi, strlen(impi),
				  "bsf.example.org", 15), GBA_OK);
	assert_string_equal(tmpi, TMPI_EXPECTED);
	assert_int_equal(strlen(tmpi), 32 + 1 + strlen(GBA_TMPI_DOMAIN));
	assert_int_equal(gba_tmpi(tmpi, 40, ks, rand, impi, strlen(impi), "bsf.example.org", 15),
			 GBA_ERR_BUFFER_TOO_SMALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf_structure),
		cmocka_unit_test(test_kdf_known_values),
		cmocka_unit_test(test_kdf_bad_args),
		cmocka_unit_test(test_naf_id),
		cmocka_unit_test(test_btid),
		cmocka_unit_test(test_tmpi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
