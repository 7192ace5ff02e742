/*
 * fuzz_digest.c - libFuzzer target for the HTTP Digest parsers and builders.
 *
 * Every input goes to the three parsers.  Properties checked (abort() on
 * violation, so that libFuzzer records the input):
 *  - a scratch buffer of header length + GBA_DIGEST_PARAMS_MAX suffices,
 *    as digest.h promises (buffers are malloc'ed to their exact size so
 *    that ASan sees any overrun);
 *  - whatever parses builds back, and the built header parses to the same
 *    fields (modulo the canonical spelling of a known algorithm);
 *  - building is a fixed point: build(parse(build(x))) == build(x).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gba/digest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Escaping at most doubles a value; names and separators add a little. */
#define BUILD_MAX (2 * GBA_DIGEST_HEADER_MAX + 1024)

static void check(int cond)
{
	if (!cond)
		abort();
}

static char *scratch_for(size_t len)
{
	char *s = malloc(len + GBA_DIGEST_PARAMS_MAX);

	check(s != NULL);
	return s;
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int str_eq(const struct gba_str *a, const struct gba_str *b)
{
	if (!a->ptr || !b->ptr)
		return !a->ptr && !b->ptr && a->len == 0 && b->len == 0;
	return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0 &&
	       a->ptr[a->len] == '\0' && b->ptr[b->len] == '\0';
}

static int str_eq_nocase(const struct gba_str *a, const char *lit)
{
	size_t n = strlen(lit);

	if (!a->ptr || a->len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a->ptr[i]) != ascii_lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

/* The builder spells a known algorithm canonically; others by name. */
static int alg_eq(enum gba_digest_algorithm a1, const struct gba_str *n1,
		  enum gba_digest_algorithm a2, const struct gba_str *n2)
{
	const char *canon = gba_digest_algorithm_name(a1);

	if (a1 != a2)
		return 0;
	if (canon)
		return str_eq_nocase(n1, canon) && n2->ptr && strcmp(n2->ptr, canon) == 0;
	return str_eq(n1, n2);
}

/*
 * Re-parse a built header.  Escaping may push it over the size limit; then
 * the only acceptable answer is GBA_ERR_TOO_LARGE.  Returns 1 when parsed.
 */
static int reparse_ok(gba_err err, size_t built_len)
{
	if (built_len > GBA_DIGEST_HEADER_MAX) {
		check(err == GBA_ERR_TOO_LARGE);
		return 0;
	}
	check(err == GBA_OK);
	return 1;
}

static void challenge_eq(const struct gba_digest_challenge *a,
			 const struct gba_digest_challenge *b)
{
	check(str_eq(&a->realm, &b->realm));
	check(str_eq(&a->nonce, &b->nonce));
	check(str_eq(&a->opaque, &b->opaque));
	check(str_eq(&a->domain, &b->domain));
	check(alg_eq(a->algorithm, &a->algorithm_name, b->algorithm, &b->algorithm_name));
	check(a->qop_mask == b->qop_mask);
	check(a->stale == b->stale);
}

static void fuzz_challenge(const char *hdr, size_t len)
{
	struct gba_digest_challenge c1, c2;
	char *s1 = scratch_for(len), *out1 = malloc(BUILD_MAX), *out2 = malloc(BUILD_MAX);
	size_t n1, n2;
	gba_err err;

	check(out1 && out2);
	err = gba_digest_parse_challenge(hdr, len, s1, len + GBA_DIGEST_PARAMS_MAX, &c1);
	check(err != GBA_ERR_BUFFER_TOO_SMALL);
	if (err == GBA_OK) {
		check(gba_digest_build_challenge(out1, BUILD_MAX, &n1, &c1) == GBA_OK);
		char *s2 = scratch_for(n1);
		err = gba_digest_parse_challenge(out1, n1, s2, n1 + GBA_DIGEST_PARAMS_MAX, &c2);
		if (reparse_ok(err, n1)) {
			challenge_eq(&c1, &c2);
			check(gba_digest_build_challenge(out2, BUILD_MAX, &n2, &c2) == GBA_OK);
			check(n1 == n2 && memcmp(out1, out2, n1) == 0);
		}
		free(s2);
	}
	free(s1);
	free(out1);
	free(out2);
}

static void credentials_eq(const struct gba_digest_credentials *a,
			   const struct gba_digest_credentials *b)
{
	check(str_eq(&a->username, &b->username));
	check(str_eq(&a->realm, &b->realm));
	check(str_eq(&a->nonce, &b->nonce));
	check(str_eq(&a->uri, &b->uri));
	check(str_eq(&a->response, &b->response));
	check(str_eq(&a->cnonce, &b->cnonce));
	check(str_eq(&a->opaque, &b->opaque));
	check(str_eq(&a->nc, &b->nc));
	check(str_eq(&a->auts, &b->auts));
	check(alg_eq(a->algorithm, &a->algorithm_name, b->algorithm, &b->algorithm_name));
	check(a->qop == b->qop);
}

static void fuzz_credentials(const char *hdr, size_t len)
{
	struct gba_digest_credentials c1, c2;
	char *s1 = scratch_for(len), *out1 = malloc(BUILD_MAX), *out2 = malloc(BUILD_MAX);
	size_t n1, n2;
	gba_err err;

	check(out1 && out2);
	err = gba_digest_parse_credentials(hdr, len, s1, len + GBA_DIGEST_PARAMS_MAX, &c1);
	check(err != GBA_ERR_BUFFER_TOO_SMALL);
	if (err == GBA_OK) {
		check(gba_digest_build_credentials(out1, BUILD_MAX, &n1, &c1) == GBA_OK);
		char *s2 = scratch_for(n1);
		err = gba_digest_parse_credentials(out1, n1, s2, n1 + GBA_DIGEST_PARAMS_MAX, &c2);
		if (reparse_ok(err, n1)) {
			credentials_eq(&c1, &c2);
			check(gba_digest_build_credentials(out2, BUILD_MAX, &n2, &c2) == GBA_OK);
			check(n1 == n2 && memcmp(out1, out2, n1) == 0);
		}
		free(s2);
	}
	free(s1);
	free(out1);
	free(out2);
}

static void auth_info_eq(const struct gba_digest_auth_info *a,
			 const struct gba_digest_auth_info *b)
{
	check(str_eq(&a->rspauth, &b->rspauth));
	check(str_eq(&a->cnonce, &b->cnonce));
	check(str_eq(&a->nc, &b->nc));
	check(str_eq(&a->nextnonce, &b->nextnonce));
	check(a->qop == b->qop);
}

static void fuzz_auth_info(const char *hdr, size_t len)
{
	struct gba_digest_auth_info a1, a2;
	char *s1 = scratch_for(len), *out1 = malloc(BUILD_MAX), *out2 = malloc(BUILD_MAX);
	size_t n1, n2;
	gba_err err;

	check(out1 && out2);
	err = gba_digest_parse_auth_info(hdr, len, s1, len + GBA_DIGEST_PARAMS_MAX, &a1);
	check(err != GBA_ERR_BUFFER_TOO_SMALL);
	if (err == GBA_OK) {
		check(gba_digest_build_auth_info(out1, BUILD_MAX, &n1, &a1) == GBA_OK);
		char *s2 = scratch_for(n1);
		err = gba_digest_parse_auth_info(out1, n1, s2, n1 + GBA_DIGEST_PARAMS_MAX, &a2);
		if (reparse_ok(err, n1)) {
			auth_info_eq(&a1, &a2);
			check(gba_digest_build_auth_info(out2, BUILD_MAX, &n2, &a2) == GBA_OK);
			check(n1 == n2 && memcmp(out1, out2, n1) == 0);
		}
		free(s2);
	}
	free(s1);
	free(out1);
	free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *hdr = (const char *)data;

	fuzz_challenge(hdr, size);
	fuzz_credentials(hdr, size);
	fuzz_auth_info(hdr, size);
	return 0;
}
