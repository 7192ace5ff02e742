/*
 * digest_build.c - building HTTP Digest header values: WWW-Authenticate,
 * Authorization and Authentication-Info, in the shapes TS 24.109 shows.
 *
 * The builders refuse what the parser would refuse (control characters,
 * invalid UTF-8, a malformed nc, missing mandatory parameters), so that
 * whatever they emit parses back to the same fields, and so that a value
 * taken from a peer can never inject a CR LF into our own headers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gba/digest.h>

#include "text.h"

/* An output buffer that remembers running out instead of checking at
 * every call site; the result is examined once at the end. */
struct writer {
	char *out;
	size_t size, len;
	int full;
	int first; /* no ", " before the first parameter */
};

static void put(struct writer *w, const char *s, size_t n)
{
	/* Keep one byte for the NUL. */
	if (w->full || n >= w->size - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

static void put_str(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_name(struct writer *w, const char *name)
{
	if (!w->first)
		put(w, ", ", 2);
	w->first = 0;
	put_str(w, name);
	put(w, "=", 1);
}

/* quoted-string: '"' and '\' are the only bytes that need a backslash. */
static void put_quoted(struct writer *w, const struct gba_str *s)
{
	size_t run = 0;

	put(w, "\"", 1);
	for (size_t i = 0; i < s->len; i++) {
		if (s->ptr[i] != '"' && s->ptr[i] != '\\')
			continue;
		put(w, s->ptr + run, i - run);
		put(w, "\\", 1);
		run = i;
	}
	put(w, s->ptr + run, s->len - run);
	put(w, "\"", 1);
}

static gba_err finish(struct writer *w, size_t *out_len)
{
	if (w->full)
		return GBA_ERR_BUFFER_TOO_SMALL;
	w->out[w->len] = '\0';
	if (out_len)
		*out_len = w->len;
	return GBA_OK;
}

/* ---- Validation of what goes out ---------------------------------------- */

static int is_token(const struct gba_str *s)
{
	if (s->len == 0)
		return 0;
	for (size_t i = 0; i < s->len; i++)
		if (!text_is_tchar(s->ptr[i]))
			return 0;
	return 1;
}

/* A value fit for a quoted-string: no control bytes, valid UTF-8. */
static gba_err check_text(const struct gba_str *s)
{
	const unsigned char *p = (const unsigned char *)s->ptr;
	size_t i = 0;

	if (!s->ptr)
		return s->len ? GBA_ERR_INVALID_ARG : GBA_OK;
	while (i < s->len) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return GBA_ERR_BAD_ENCODING;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = text_utf8_decode(p + i, s->len - i, &cp);
		if (n == 0)
			return GBA_ERR_BAD_ENCODING;
		i += n;
	}
	return GBA_OK;
}

static gba_err check_texts(const struct gba_str *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gba_err err = check_text(v[i]);
		if (err)
			return err;
	}
	return GBA_OK;
}

/* nc, when given, goes out as a token, so it must be exactly 8 hex digits. */
static gba_err check_nc(const struct gba_str *nc)
{
	if (!nc->ptr)
		return nc->len ? GBA_ERR_INVALID_ARG : GBA_OK;
	return text_is_nc(nc->ptr, nc->len) ? GBA_OK : GBA_ERR_INVALID_ARG;
}

/* ---- Shared parameters ------------------------------------------------- */

static void put_quoted_param(struct writer *w, const char *name, const struct gba_str *s)
{
	if (!s->ptr)
		return;
	put_name(w, name);
	put_quoted(w, s);
}

static void put_token_param(struct writer *w, const char *name, const char *value,
			    size_t len)
{
	put_name(w, name);
	put(w, value, len);
}

static void put_literal_param(struct writer *w, const char *name, const char *value)
{
	put_token_param(w, name, value, strlen(value));
}

const char *gba_digest_qop_name(enum gba_digest_qop qop)
{
	switch (qop) {
	case GBA_QOP_AUTH:
		return "auth";
	case GBA_QOP_AUTH_INT:
		return "auth-int";
	case GBA_QOP_NONE:
		break;
	}
	return NULL;
}

static int qop_valid(enum gba_digest_qop qop)
{
	return qop == GBA_QOP_NONE || qop == GBA_QOP_AUTH || qop == GBA_QOP_AUTH_INT;
}

const char *gba_digest_algorithm_name(enum gba_digest_algorithm alg)
{
	switch (alg) {
	case GBA_DIGEST_ALG_MD5:
		return "MD5";
	case GBA_DIGEST_ALG_AKAV1_MD5:
		return "AKAv1-MD5";
	case GBA_DIGEST_ALG_AKAV2_MD5:
		return "AKAv2-MD5";
	case GBA_DIGEST_ALG_UNSET:
	case GBA_DIGEST_ALG_OTHER:
		break;
	}
	return NULL;
}

/*
 * The enum is authoritative: a known algorithm goes out under its
 * canonical name whatever algorithm_name says.  algorithm_name is used for
 * OTHER (where it is required) and for UNSET when the caller set one.
 */
static gba_err check_algorithm(enum gba_digest_algorithm alg, const struct gba_str *name)
{
	if (gba_digest_algorithm_name(alg))
		return GBA_OK;
	if (alg != GBA_DIGEST_ALG_UNSET && alg != GBA_DIGEST_ALG_OTHER)
		return GBA_ERR_INVALID_ARG;
	if (alg == GBA_DIGEST_ALG_OTHER && !name->ptr)
		return GBA_ERR_INVALID_ARG;
	return check_text(name);
}

/* Canonical names and plain tokens go out bare; anything else quoted. */
static void put_algorithm(struct writer *w, enum gba_digest_algorithm alg,
			  const struct gba_str *name)
{
	const char *canon = gba_digest_algorithm_name(alg);

	if (canon)
		put_literal_param(w, "algorithm", canon);
	else if (name->ptr && is_token(name))
		put_token_param(w, "algorithm", name->ptr, name->len);
	else
		put_quoted_param(w, "algorithm", name);
}

static void writer_init(struct writer *w, char *out, size_t out_size)
{
	w->out = out;
	w->size = out_size;
	w->len = 0;
	w->full = 0;
	w->first = 1;
}

/* ---- WWW-Authenticate ----------------------------------------------------- */

static gba_err check_challenge(const struct gba_digest_challenge *c)
{
	const struct gba_str *texts[] = { &c->realm, &c->nonce, &c->opaque, &c->domain };

	if (!c->realm.ptr || !c->nonce.ptr)
		return GBA_ERR_MISSING_PARAM;
	gba_err err = check_texts(texts, sizeof(texts) / sizeof(texts[0]));
	return err ? err : check_algorithm(c->algorithm, &c->algorithm_name);
}

/* A challenge's qop is a quoted list (RFC 7616 3.3); unknown bits are ignored. */
static void put_qop_list(struct writer *w, unsigned mask)
{
	static const char *const lists[] = { NULL, "\"auth\"", "\"auth-int\"",
					     "\"auth,auth-int\"" };
	unsigned known = mask & (GBA_QOP_BIT_AUTH | GBA_QOP_BIT_AUTH_INT);

	if (known)
		put_literal_param(w, "qop", lists[known]);
}

gba_err gba_digest_build_challenge(char *out, size_t out_size, size_t *out_len,
				   const struct gba_digest_challenge *c)
{
	struct writer w;
	gba_err err;

	if (!out || !out_size || !c)
		return GBA_ERR_INVALID_ARG;
	err = check_challenge(c);
	if (err)
		return err;
	writer_init(&w, out, out_size);
	put_str(&w, "Digest ");
	put_quoted_param(&w, "realm", &c->realm);
	put_quoted_param(&w, "nonce", &c->nonce);
	put_algorithm(&w, c->algorithm, &c->algorithm_name);
	put_qop_list(&w, c->qop_mask);
	put_quoted_param(&w, "opaque", &c->opaque);
	put_quoted_param(&w, "domain", &c->domain);
	if (c->stale)
		put_literal_param(&w, "stale", "true");
	return finish(&w, out_len);
}

/* ---- Authorization -------------------------------------------------------- */

static gba_err check_credentials(const struct gba_digest_credentials *c)
{
	const struct gba_str *texts[] = { &c->username, &c->realm, &c->nonce, &c->uri,
					  &c->response, &c->cnonce, &c->opaque, &c->auts };
	gba_err err;

	if (!c->username.ptr || !c->realm.ptr || !c->nonce.ptr || !c->uri.ptr ||
	    !c->response.ptr)
		return GBA_ERR_MISSING_PARAM;
	if (!qop_valid(c->qop))
		return GBA_ERR_INVALID_ARG;
	if (c->qop != GBA_QOP_NONE && (!c->nc.ptr || !c->cnonce.ptr))
		return GBA_ERR_MISSING_PARAM;
	err = check_texts(texts, sizeof(texts) / sizeof(texts[0]));
	if (!err)
		err = check_nc(&c->nc);
	return err ? err : check_algorithm(c->algorithm, &c->algorithm_name);
}

gba_err gba_digest_build_credentials(char *out, size_t out_size, size_t *out_len,
				     const struct gba_digest_credentials *c)
{
	struct writer w;
	gba_err err;

	if (!out || !out_size || !c)
		return GBA_ERR_INVALID_ARG;
	err = check_credentials(c);
	if (err)
		return err;
	writer_init(&w, out, out_size);
	put_str(&w, "Digest ");
	put_quoted_param(&w, "username", &c->username);
	put_quoted_param(&w, "realm", &c->realm);
	put_quoted_param(&w, "nonce", &c->nonce);
	put_quoted_param(&w, "uri", &c->uri);
	if (c->qop != GBA_QOP_NONE)
		put_literal_param(&w, "qop", gba_digest_qop_name(c->qop));
	if (c->nc.ptr)
		put_token_param(&w, "nc", c->nc.ptr, c->nc.len);
	put_quoted_param(&w, "cnonce", &c->cnonce);
	put_quoted_param(&w, "response", &c->response);
	put_quoted_param(&w, "opaque", &c->opaque);
	if (c->algorithm != GBA_DIGEST_ALG_UNSET || c->algorithm_name.ptr)
		put_algorithm(&w, c->algorithm, &c->algorithm_name);
	put_quoted_param(&w, "auts", &c->auts);
	return finish(&w, out_len);
}

/* ---- Authentication-Info -------------------------------------------------- */

gba_err gba_digest_build_auth_info(char *out, size_t out_size, size_t *out_len,
				   const struct gba_digest_auth_info *a)
{
	const struct gba_str *texts[] = { &a->rspauth, &a->cnonce, &a->nextnonce };
	struct writer w;
	gba_err err;

	if (!out || !out_size || !a || !qop_valid(a->qop))
		return GBA_ERR_INVALID_ARG;
	err = check_texts(texts, sizeof(texts) / sizeof(texts[0]));
	if (!err)
		err = check_nc(&a->nc);
	if (err)
		return err;
	writer_init(&w, out, out_size);
	if (a->qop != GBA_QOP_NONE)
		put_literal_param(&w, "qop", gba_digest_qop_name(a->qop));
	put_quoted_param(&w, "rspauth", &a->rspauth);
	put_quoted_param(&w, "cnonce", &a->cnonce);
	if (a->nc.ptr)
		put_token_param(&w, "nc", a->nc.ptr, a->nc.len);
	put_quoted_param(&w, "nextnonce", &a->nextnonce);
	return finish(&w, out_len);
}
