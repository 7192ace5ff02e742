/*
 * test_zn_unit.c - the parts of Zn with no network (cmocka): the BSF's NAF
 * authorisation lists and USS selection (bsf/zn), Diameter Time values,
 * and libgba-naf's answer cache (naf/lib/cache.c).
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

#include <gba/diameter_zn.h>

#include "cache.h"
#include "zn_policy.h"
#include "zn_uss.h"

#define S(x) x, strlen(x)

static const char *GUSS =
	"<?xml version=\"1.0\"?>"
	"<guss xmlns=\"uri:3gpp-gba\" id=\"a\"><bsfInfo><uiccType>GBA</uiccType></bsfInfo>"
	"<ussList>"
	"<uss id=\"1\" type=\"1\" nafGroup=\"naf.example.org\"><uids><uid>/CSE-1</uid></uids>"
	"<flags><flag>1</flag></flags></uss>"
	"<uss id=\"2\" type=\"7\" nafGroup=\"m2m\"><uids><uid>/AE-2</uid></uids></uss>"
	"<uss id=\"3\" type=\"42\"><uids><uid>sip:svc@example.org</uid></uids></uss>"
	"</ussList></guss>";

static struct zn_policy *policy(void)
{
	struct zn_policy *p = NULL;
	char err[256];

	assert_int_equal(zn_policy_parse(&p, "naf.example.org = cse1.example.org | CSE2.example.org;"
					 " gw.example.org=*",
					 "m2m=cse1.example.org|cse2.example.org", err, sizeof(err)),
			 0);
	return p;
}

static void test_policy_peers(void **state)
{
	struct zn_policy *p = policy();

	(void)state;
	/* A peer may ask for its own FQDN, whatever the lists say. */
	assert_true(zn_policy_peer_allows(p, "naf.example.org", S("naf.example.org")));
	assert_true(zn_policy_peer_allows(p, "other.example.org", S("OTHER.example.org")));
	/* The mapping adds FQDNs, case-insensitively. */
	assert_true(zn_policy_peer_allows(p, "naf.example.org", S("cse2.example.org")));
	assert_false(zn_policy_peer_allows(p, "naf.example.org", S("cse3.example.org")));
	assert_false(zn_policy_peer_allows(p, "other.example.org", S("cse1.example.org")));
	/* "*" allows any; an empty peer nothing. */
	assert_true(zn_policy_peer_allows(p, "gw.example.org", S("anything.example.org")));
	assert_false(zn_policy_peer_allows(p, "", S("naf.example.org")));
	/* A prefix is not the name. */
	assert_false(zn_policy_peer_allows(p, "naf.example.org", "naf.example.org.evil", 19));
	zn_policy_free(p);
}

static void test_policy_groups(void **state)
{
	struct zn_policy *p = policy();

	(void)state;
	assert_true(zn_policy_in_group(p, "m2m", S("cse2.example.org")));
	assert_false(zn_policy_in_group(p, "m2m", S("naf.example.org")));
	assert_true(zn_policy_in_group(p, "naf.example.org", S("naf.example.org")));
	assert_false(zn_policy_in_group(p, "nogroup", S("cse1.example.org")));
	zn_policy_free(p);
}

static void test_policy_bad(void **state)
{
	struct zn_policy *p = NULL;
	char err[256];

	(void)state;
	assert_int_equal(zn_policy_parse(&p, "no-equals-sign", "", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NAME=FQDN"));
	assert_int_equal(zn_policy_parse(&p, "a=b c", "", err, sizeof(err)), -1);
	assert_int_equal(zn_policy_parse(&p, "", "g=*", err, sizeof(err)), -1);
	assert_null(p);
	assert_int_equal(zn_policy_parse(&p, NULL, "", err, sizeof(err)), 0);
	assert_false(zn_policy_peer_allows(p, "x.org", S("y.org")));
	zn_policy_free(p);
}

static void test_uss_by_group(void **state)
{
	struct zn_policy *p = policy();
	char out[4096];
	size_t len = 0;
	unsigned n = 0;

	(void)state;
	assert_int_equal(zn_uss_select(S(GUSS), p, S("naf.example.org"), NULL, out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(len, strlen(out));
	assert_non_null(strstr(out, "<ussList xmlns=\"uri:3gpp-gba\">"));
	assert_non_null(strstr(out, "<uid>/CSE-1</uid>"));
	assert_non_null(strstr(out, "<flag>1</flag>"));
	assert_null(strstr(out, "/AE-2"));
	assert_null(strstr(out, "bsfInfo"));
	/* A group member: the m2m USS only. */
	assert_int_equal(zn_uss_select(S(GUSS), p, S("cse1.example.org"), NULL, out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "/AE-2"));
	zn_policy_free(p);
}

static void test_uss_by_service(void **state)
{
	struct zn_policy *p = policy();
	char out[4096];
	size_t len = 0;
	unsigned n = 0;

	(void)state;
	/* No nafGroup: the type must equal the GAA-Service-Identifier. */
	assert_int_equal(zn_uss_select(S(GUSS), p, S("svc.example.org"), "42", out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "sip:svc@example.org"));
	assert_int_equal(zn_uss_select(S(GUSS), p, S("svc.example.org"), NULL, out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	zn_policy_free(p);
}

static void test_uss_bad(void **state)
{
	struct zn_policy *p = policy();
	char out[4096], small[32];
	size_t len = 0;
	unsigned n = 0;
	const char *doctype = "<!DOCTYPE guss [<!ENTITY x \"y\">]><guss><ussList>"
			      "<uss id=\"1\" type=\"1\" nafGroup=\"naf.example.org\"/>"
			      "</ussList></guss>";

	(void)state;
	assert_int_equal(zn_uss_select(NULL, 0, p, S("naf.example.org"), NULL, out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(zn_uss_select(S("<guss><ussList>"), p, S("naf.example.org"), NULL, out,
				       sizeof(out), &len, &n), GBA_ERR_PARSE);
	assert_int_equal(zn_uss_select(S("<other/>"), p, S("naf.example.org"), NULL, out,
				       sizeof(out), &len, &n), GBA_ERR_PARSE);
	assert_int_equal(zn_uss_select(S(doctype), p, S("naf.example.org"), NULL, out, sizeof(out),
				       &len, &n), GBA_ERR_PARSE);
	assert_int_equal(zn_uss_select(S(GUSS), p, S("naf.example.org"), NULL, small,
				       sizeof(small), &len, &n), GBA_ERR_TOO_LARGE);
	zn_policy_free(p);
}

/*
 * The per-thread selection cache: a repeat gives the same list, and the
 * key holds everything the selection depends on (the policy too).
 */
static void test_uss_cached(void **state)
{
	struct zn_policy *p = policy(), *none = NULL;
	char first[4096], out[4096], small[32], err[64];
	size_t first_len = 0, len = 0;
	unsigned first_n = 0, n = 0;

	(void)state;
	assert_int_equal(zn_policy_parse(&none, "", "", err, sizeof(err)), 0);
	assert_int_equal(zn_uss_select(S(GUSS), p, S("cse1.example.org"), NULL, first,
				       sizeof(first), &first_len, &first_n), GBA_OK);
	assert_int_equal(first_n, 1);
	/* Another policy without the m2m group: nothing for cse1, cached or not. */
	assert_int_equal(zn_uss_select(S(GUSS), none, S("cse1.example.org"), NULL, out,
				       sizeof(out), &len, &n), GBA_OK);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(zn_uss_select(S(GUSS), p, S("cse1.example.org"), NULL, out,
					       sizeof(out), &len, &n), GBA_OK);
		assert_int_equal(n, first_n);
		assert_int_equal(len, first_len);
		assert_string_equal(out, first);
	}
	/* A hit still respects the caller's buffer. */
	assert_int_equal(zn_uss_select(S(GUSS), p, S("cse1.example.org"), NULL, small,
				       sizeof(small), &len, &n), GBA_ERR_TOO_LARGE);
	/* The same FQDN with a service, and another FQDN: their own selections. */
	assert_int_equal(zn_uss_select(S(GUSS), p, S("svc.example.org"), "42", out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(zn_uss_select(S(GUSS), p, S("svc.example.org"), "4", out, sizeof(out),
				       &len, &n), GBA_OK);
	assert_int_equal(n, 0);
	zn_policy_free(none);
	zn_policy_free(p);
}

static void test_time(void **state)
{
	uint8_t b[4];
	/* 2026-11-23T00:00:00Z, and one past NTP era 0's end (2036-02-07). */
	const int64_t t1 = 1795392000, t2 = 2085978496 + 100;

	(void)state;
	gba_zn_time_encode(0, b);
	assert_memory_equal(b, "\x83\xaa\x7e\x80", 4);   /* 2208988800 */
	assert_int_equal(gba_zn_time_decode(b), 0);
	gba_zn_time_encode(t1, b);
	assert_int_equal(gba_zn_time_decode(b), t1);
	gba_zn_time_encode(t2, b);
	assert_int_equal(b[0] & 0x80, 0);                 /* era 1 */
	assert_int_equal(gba_zn_time_decode(b), t2);
}

static void key_for(struct gba_naf_key *k, const char *impi, int64_t expiry, uint8_t fill)
{
	memset(k, 0, sizeof(*k));
	memset(k->ks_naf, fill, 32);
	snprintf(k->impi, sizeof(k->impi), "%s", impi);
	k->expiry = expiry;
	k->created = expiry - 100;
	k->gba_type = 0;
	strcpy(k->uss, "<ussList/>");
	k->uss_len = strlen(k->uss);
}

static void test_cache(void **state)
{
	static struct gba_naf_key k, out;
	struct naf_cache *c = naf_cache_new(2);
	const uint8_t id1[] = "naf.example.org\x01\x00\x00\x00\x02";
	const uint8_t id2[] = "naf.example.org\x01\x00\x00\x00\x05";

	(void)state;
	assert_non_null(c);
	key_for(&k, "a@x", 1000, 0xaa);
	naf_cache_put(c, "b1@x", id1, sizeof(id1) - 1, &k);
	assert_true(naf_cache_get(c, "b1@x", id1, sizeof(id1) - 1, 999, &out));
	assert_memory_equal(out.ks_naf, k.ks_naf, 32);
	assert_string_equal(out.uss, "<ussList/>");
	assert_int_equal(out.from_cache, 1);
	/* Another Ua id is another NAF_Id: not the same key. */
	assert_false(naf_cache_get(c, "b1@x", id2, sizeof(id2) - 1, 999, &out));
	/* Expired at Key-ExpiryTime, and dropped. */
	assert_false(naf_cache_get(c, "b1@x", id1, sizeof(id1) - 1, 1000, &out));
	assert_int_equal(naf_cache_count(c), 0);
	/* Capacity 2: the least recently used goes. */
	naf_cache_put(c, "b1@x", id1, sizeof(id1) - 1, &k);
	naf_cache_put(c, "b2@x", id1, sizeof(id1) - 1, &k);
	assert_true(naf_cache_get(c, "b1@x", id1, sizeof(id1) - 1, 0, &out));
	key_for(&k, "c@x", 1000, 0xcc);
	naf_cache_put(c, "b3@x", id1, sizeof(id1) - 1, &k);
	assert_int_equal(naf_cache_count(c), 2);
	assert_false(naf_cache_get(c, "b2@x", id1, sizeof(id1) - 1, 0, &out));
	assert_true(naf_cache_get(c, "b1@x", id1, sizeof(id1) - 1, 0, &out));
	/* Forget by IMPI, then by B-TID. */
	naf_cache_forget(c, NULL, "c@x");
	assert_false(naf_cache_get(c, "b3@x", id1, sizeof(id1) - 1, 0, &out));
	naf_cache_forget(c, "b1@x", NULL);
	assert_int_equal(naf_cache_count(c), 0);
	naf_cache_free(c);
	/* Capacity 0 keeps nothing. */
	c = naf_cache_new(0);
	naf_cache_put(c, "b1@x", id1, sizeof(id1) - 1, &k);
	assert_false(naf_cache_get(c, "b1@x", id1, sizeof(id1) - 1, 0, &out));
	naf_cache_free(c);
}

/*
 * A stand-in key-encryption key for the cache's guard (the real one, a
 * PKCS#11 token, is tested end to end in tests/naf/test_naf_kek.py): an
 * 8-octet tag, then the input with every octet inverted.
 */
static unsigned guard_calls;
static int guard_fail;

static gba_err toy_wrap(void *arg, uint8_t *out, size_t out_size, size_t *out_len,
			const uint8_t *in, size_t in_len)
{
	(void)arg;
	if (out_size < in_len + 8)
		return GBA_ERR_BUFFER_TOO_SMALL;
	memcpy(out, "WRAPPED!", 8);
	for (size_t i = 0; i < in_len; i++)
		out[8 + i] = (uint8_t)~in[i];
	*out_len = in_len + 8;
	return GBA_OK;
}

static gba_err toy_unwrap(void *arg, uint8_t *out, size_t out_size, size_t *out_len,
			  const uint8_t *in, size_t in_len)
{
	(void)arg;
	guard_calls++;
	if (guard_fail || in_len < 8 || memcmp(in, "WRAPPED!", 8) || out_size < in_len - 8)
		return GBA_ERR_AUTH_FAILED;
	for (size_t i = 8; i < in_len; i++)
		out[i - 8] = (uint8_t)~in[i];
	*out_len = in_len - 8;
	return GBA_OK;
}

/* With a guard, every hit unwraps; an entry that does not unwrap is a miss. */
static void test_cache_guard(void **state)
{
	static struct gba_naf_key k, out;
	struct naf_cache *c = naf_cache_new(4);
	const uint8_t id[] = "naf.example.org\x01\x00\x00\x00\x02";

	(void)state;
	assert_non_null(c);
	naf_cache_set_guard(c, toy_wrap, toy_unwrap, NULL);
	key_for(&k, "a@x", 1000, 0x5a);
	memset(k.ks_int_naf, 0x33, 32);
	naf_cache_put(c, "b1@x", id, sizeof(id) - 1, &k);
	guard_calls = 0;
	assert_true(naf_cache_get(c, "b1@x", id, sizeof(id) - 1, 0, &out));
	assert_memory_equal(out.ks_naf, k.ks_naf, 32);
	assert_memory_equal(out.ks_int_naf, k.ks_int_naf, 32);
	assert_true(naf_cache_get(c, "b1@x", id, sizeof(id) - 1, 0, &out));
	assert_int_equal(guard_calls, 2);
	guard_fail = 1;
	memset(&out, 0x77, sizeof(out));
	assert_false(naf_cache_get(c, "b1@x", id, sizeof(id) - 1, 0, &out));
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(out.ks_naf[i], 0);   /* wiped, not left half filled */
	guard_fail = 0;
	naf_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_peers),
		cmocka_unit_test(test_policy_groups),
		cmocka_unit_test(test_policy_bad),
		cmocka_unit_test(test_uss_by_group),
		cmocka_unit_test(test_uss_by_service),
		cmocka_unit_test(test_uss_bad),
		cmocka_unit_test(test_uss_cached),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_guard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
