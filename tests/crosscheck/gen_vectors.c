/*
 * gen_vectors.c - prints libgba's KDF and Digest results on random inputs,
 * one JSON object per line, for check_vectors.py to recompute with
 * Python's hmac/hashlib/base64 (an independent implementation).
 *
 * Usage: gen_vectors [count [seed]]   (defaults 2000, 1)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/digest.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "prng.h"

#define MAX_PARAM 300

static void print_hex(const char *name, const uint8_t *p, size_t n, int last)
{
	static char hex[2 * 2048 + 1];
	gba_hex_encode(hex, sizeof(hex), p, n);
	printf("\"%s\":\"%s\"%s", name, hex, last ? "}\n" : ",");
}

/* A random printable token (no quotes or backslashes: JSON stays simple). */
static size_t random_token(uint64_t *seed, char *out, size_t max)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.-_:/=+";
	size_t n = 1 + prng_below(seed, (unsigned)max - 1);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[prng_below(seed, sizeof(alphabet) - 1)];
	out[n] = '\0';
	return n;
}

static int gen_kdf(uint64_t *seed)
{
	uint8_t key[100], data[8][MAX_PARAM], out[32];
	struct gba_kdf_param p[8] = { { NULL, 0 } };
	size_t key_len = 1 + prng_below(seed, sizeof(key));
	size_t n = prng_below(seed, 9);
	uint8_t fc = (uint8_t)prng_next(seed);

	prng_fill(seed, key, key_len);
	for (size_t i = 0; i < n; i++) {
		p[i].len = prng_below(seed, MAX_PARAM);
		prng_fill(seed, data[i], p[i].len);
		p[i].data = data[i];
	}
	if (gba_kdf(key, key_len, fc, p, n, out) != GBA_OK)
		return -1;
	printf("{\"kind\":\"kdf\",\"fc\":%u,", fc);
	print_hex("key", key, key_len, 0);
	printf("\"params\":[");
	for (size_t i = 0; i < n; i++) {
		char hex[2 * MAX_PARAM + 1];
		gba_hex_encode(hex, sizeof(hex), data[i], p[i].len);
		printf("\"%s\"%s", hex, i + 1 < n ? "," : "");
	}
	printf("],");
	print_hex("out", out, 32, 1);
	return 0;
}

static int gen_naf_keys(uint64_t *seed)
{
	uint8_t ks[32], rand[16], ua[5], naf_id[300], me[32], u[32];
	char impi[128], fqdn[128], btid[GBA_BTID_MAX + 1], tmpi[GBA_TMPI_MAX];
	size_t naf_id_len;
	prng_fill(seed, ks, 32);
	prng_fill(seed, rand, 16);
	prng_fill(seed, ua, 5);
	size_t impi_len = random_token(seed, impi, sizeof(impi));
	size_t fqdn_len = random_token(seed, fqdn, sizeof(fqdn));
	for (size_t i = 0; i < fqdn_len; i++)  /* a host name has no '@' */
		if (fqdn[i] == '@')
			fqdn[i] = 'x';
	if (gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, fqdn, fqdn_len, ua) ||
	    gba_ks_naf(ks, rand, impi, impi_len, naf_id, naf_id_len, me) ||
	    gba_ks_int_naf(ks, rand, impi, impi_len, naf_id, naf_id_len, u) ||
	    gba_btid(btid, sizeof(btid), rand, fqdn, fqdn_len) ||
	    gba_tmpi(tmpi, sizeof(tmpi), ks, rand, impi, impi_len, fqdn, fqdn_len))
		return -1;
	printf("{\"kind\":\"naf\",\"impi\":\"%s\",\"fqdn\":\"%s\",\"btid\":\"%s\",\"tmpi\":\"%s\",",
	       impi, fqdn, btid, tmpi);
	print_hex("ks", ks, 32, 0);
	print_hex("rand", rand, 16, 0);
	print_hex("ua", ua, 5, 0);
	print_hex("naf_id", naf_id, naf_id_len, 0);
	print_hex("ks_naf", me, 32, 0);
	print_hex("ks_int_naf", u, 32, 1);
	return 0;
}

static int gen_digest(uint64_t *seed)
{
	char user[64], realm[64], method[16], uri[64], nonce[64], cnonce[32], nc[9];
	char resp[33], rspauth[33], akav2[25];
	uint8_t pw[16], body[200], ik[16], ck[16];
	struct gba_digest_input in = { 0 };
	enum gba_digest_qop qops[] = { GBA_QOP_NONE, GBA_QOP_AUTH, GBA_QOP_AUTH_INT };
	static const char *const methods[] = { "GET", "POST", "REGISTER", "PUT" };

	in.username.len = random_token(seed, user, sizeof(user));
	in.username.ptr = user;
	in.realm.len = random_token(seed, realm, sizeof(realm));
	in.realm.ptr = realm;
	strcpy(method, methods[prng_below(seed, 4)]);
	in.method.ptr = method;
	in.method.len = strlen(method);
	in.uri.len = random_token(seed, uri, sizeof(uri));
	in.uri.ptr = uri;
	in.nonce.len = random_token(seed, nonce, sizeof(nonce));
	in.nonce.ptr = nonce;
	in.cnonce.len = random_token(seed, cnonce, sizeof(cnonce));
	in.cnonce.ptr = cnonce;
	snprintf(nc, sizeof(nc), "%08x", (unsigned)prng_below(seed, 1000) + 1);
	in.nc.ptr = nc;
	in.nc.len = 8;
	in.password_len = 4 + prng_below(seed, 13);  /* RES is 4..16 octets */
	prng_fill(seed, pw, in.password_len);
	in.password = pw;
	in.qop = qops[prng_below(seed, 3)];
	in.body_len = prng_below(seed, sizeof(body));
	prng_fill(seed, body, in.body_len);
	in.body = body;
	prng_fill(seed, ik, 16);
	prng_fill(seed, ck, 16);

	if (gba_digest_response(resp, &in) || gba_digest_rspauth(rspauth, &in) ||
	    gba_digest_akav2_password(akav2, pw, in.password_len, ik, ck))
		return -1;
	printf("{\"kind\":\"digest\",\"username\":\"%s\",\"realm\":\"%s\",\"method\":\"%s\","
	       "\"uri\":\"%s\",\"nonce\":\"%s\",\"cnonce\":\"%s\",\"nc\":\"%s\",\"qop\":%d,"
	       "\"response\":\"%s\",\"rspauth\":\"%s\",\"akav2\":\"%s\",",
	       user, realm, method, uri, nonce, cnonce, nc, (int)in.qop, resp, rspauth, akav2);
	print_hex("password", pw, in.password_len, 0);
	print_hex("ik", ik, 16, 0);
	print_hex("ck", ck, 16, 0);
	print_hex("body", body, in.body_len, 1);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	for (unsigned i = 0; i < n; i++)
		if (gen_kdf(&seed) || gen_naf_keys(&seed) || gen_digest(&seed)) {
			fprintf(stderr, "libgba refused a valid input at case %u\n", i);
			return 1;
		}
	return 0;
}
