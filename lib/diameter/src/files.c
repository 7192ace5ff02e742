/*
 * files.c - what freeDiameter 1.2 reads at start-up: its configuration
 * file, and TLS files it insists on even when every peer uses plain TCP -
 * a certificate whose name matches the node's identity and that verifies
 * against the configured CA, its key, and Diffie-Hellman parameters
 * (without a file it would generate fresh ones, which takes seconds).
 *
 * They go into a private directory (0700, files 0600) that is removed as
 * soon as freeDiameter has read them.  The certificate is an ephemeral
 * self-signed ECDSA P-256 one; the DH parameters are the RFC 7919
 * ffdhe2048 group that GnuTLS ships.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <gba/util.h>

#include "internal.h"

static int write_private_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	const uint8_t *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

static int write_datum(const char *path, gnutls_datum_t *d, int secret)
{
	int ret = write_private_file(path, d->data, d->size);

	if (secret)
		gba_wipe(d->data, d->size);
	gnutls_free(d->data);
	d->data = NULL;
	return ret;
}

static int make_dh(const char *path)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret = -1;

	if (gnutls_dh_params_init(&dh) < 0)
		return -1;
	if (gnutls_dh_params_import_raw2(dh, &gnutls_ffdhe_2048_group_prime,
					 &gnutls_ffdhe_2048_group_generator,
					 gnutls_ffdhe_2048_key_bits) >= 0 &&
	    gnutls_dh_params_export2_pkcs3(dh, GNUTLS_X509_FMT_PEM, &pem) >= 0)
		ret = write_datum(path, &pem, 0);
	gnutls_dh_params_deinit(dh);
	return ret;
}

/* A self-signed CA certificate for identity (CN and dNSName). */
static int sign_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *identity)
{
	uint8_t serial[8];
	time_t now = time(NULL);

	if (getrandom(serial, sizeof(serial), 0) != (ssize_t)sizeof(serial))
		return -1;
	serial[0] &= 0x7f;   /* a positive INTEGER */
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, identity,
					  (unsigned)strlen(identity)) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, identity,
						 (unsigned)strlen(identity), GNUTLS_FSAN_SET) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, 1, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
					       GNUTLS_KEY_KEY_CERT_SIGN) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		return -1;
	return 0;
}

static int make_cert(const char *cert_path, const char *key_path, const char *identity)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret = -1;

	if (gnutls_x509_privkey_init(&key) < 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    sign_cert(crt, key, identity))
		goto out;
	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
	    write_datum(key_path, &pem, 1))
		goto out;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
	    write_datum(cert_path, &pem, 0))
		goto out;
	ret = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

int dia_files_prepare(struct dia_files *f, const char *identity, int make)
{
	const char *tmp = getenv("TMPDIR");

	memset(f, 0, sizeof(*f));
	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(f->dir, sizeof(f->dir), "%s/gba-dia-XXXXXX", tmp);
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return -1;
	}
	snprintf(f->conf, sizeof(f->conf), "%s/freeDiameter.conf", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->dh, sizeof(f->dh), "%s/dh.pem", f->dir);
	f->made_cert = make;
	if (make_dh(f->dh) || (make && make_cert(f->cert, f->key, identity))) {
		dia_files_remove(f);
		return -1;
	}
	return 0;
}

void dia_files_remove(struct dia_files *f)
{
	if (!f->dir[0])
		return;
	unlink(f->conf);
	unlink(f->dh);
	if (f->made_cert) {
		unlink(f->key);
		unlink(f->cert);
	}
	rmdir(f->dir);
	f->dir[0] = '\0';
}
