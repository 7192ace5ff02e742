/*
 * test_peer_auth.c - the name check of lib/diameter/src/peer_auth.c: a
 * peer's certificate names its Diameter identity by its subject CN or a
 * dNSName, exactly (case ignored), never by a wildcard, an IP address
 * entry, a longer or shorter name, or a name with a NUL inside.
 * Certificates are made here with GnuTLS, in memory.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../lib/diameter/src/internal.h"

static gnutls_x509_privkey_t key;

/* A self-signed certificate with CN cn (NULL: none) and the dNSNames of
 * dns (NULL-terminated; NULL: none), DER into *der (gnutls_free it). */
static void make(const char *cn, const char *const *dns, gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	unsigned char serial[1] = { 1 };

	assert_true(gnutls_x509_crt_init(&crt) >= 0);
	assert_true(gnutls_x509_crt_set_version(crt, 3) >= 0);
	assert_true(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) >= 0);
	assert_true(gnutls_x509_crt_set_activation_time(crt, 1000000000) >= 0);
	assert_true(gnutls_x509_crt_set_expiration_time(crt, 2000000000) >= 0);
	if (cn)
		assert_true(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
							  (unsigned)strlen(cn)) >= 0);
	else
		assert_true(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
							  "test", 4) >= 0);
	for (unsigned i = 0; dns && dns[i]; i++)
		assert_true(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns[i],
								 (unsigned)strlen(dns[i]),
								 GNUTLS_FSAN_APPEND) >= 0);
	assert_true(gnutls_x509_crt_set_key(crt, key) >= 0);
	assert_true(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) >= 0);
	assert_true(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der) >= 0);
	gnutls_x509_crt_deinit(crt);
}

static int names(const char *cn, const char *const *dns, const char *id)
{
	gnutls_datum_t der = { NULL, 0 };
	int ok;

	make(cn, dns, &der);
	ok = dia_cert_names(&der, 1, id, strlen(id));
	gnutls_free(der.data);
	return ok;
}

static void test_cn(void **state)
{
	(void)state;
	assert_true(names("naf.zn.test", NULL, "naf.zn.test"));
	assert_true(names("naf.zn.test", NULL, "NAF.zn.Test"));
	assert_false(names("naf.zn.test", NULL, "naf2.zn.test"));
	assert_false(names("naf.zn.test", NULL, "naf.zn.tes"));
	assert_false(names("naf.zn.test", NULL, "naf.zn.test."));
	assert_false(names("naf.zn.test", NULL, "x.naf.zn.test"));
	assert_false(names(NULL, NULL, "naf.zn.test"));
}

static void test_dns_names(void **state)
{
	static const char *const two[] = { "other.zn.test", "naf.zn.test", NULL };
	static const char *const wild[] = { "*.zn.test", NULL };

	(void)state;
	/* Any dNSName will do, and so will the CN beside them. */
	assert_true(names("something else", two, "naf.zn.test"));
	assert_true(names("something else", two, "other.zn.test"));
	assert_true(names("naf2.zn.test", two, "naf2.zn.test"));
	assert_false(names("something else", two, "naf3.zn.test"));
	/* No wildcards: "*.zn.test" names only "*.zn.test". */
	assert_false(names(NULL, wild, "naf.zn.test"));
	assert_false(names("*.zn.test", NULL, "naf.zn.test"));
}

static void test_bad_input(void **state)
{
	gnutls_datum_t der = { NULL, 0 }, junk = { (unsigned char *)"not a certificate", 17 };

	(void)state;
	assert_false(dia_cert_names(NULL, 0, "naf.zn.test", 11));
	assert_false(dia_cert_names(&junk, 1, "naf.zn.test", 11));
	make("naf.zn.test", NULL, &der);
	assert_false(dia_cert_names(&der, 0, "naf.zn.test", 11));
	assert_false(dia_cert_names(&der, 1, "naf.zn.test", 0));
	/* The identity's length is what counts: a prefix of it is not it. */
	assert_false(dia_cert_names(&der, 1, "naf.zn.test.evil", 16));
	assert_true(dia_cert_names(&der, 1, "naf.zn.test.evil", 11));
	gnutls_free(der.data);
}

static int setup(void **state)
{
	(void)state;
	if (gnutls_x509_privkey_init(&key) < 0)
		return -1;
	return gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0;
}

static int teardown(void **state)
{
	(void)state;
	gnutls_x509_privkey_deinit(key);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn),
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
