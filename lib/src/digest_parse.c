/*
 * digest_parse.c - parsing of HTTP Digest headers (RFC 7616, RFC 7235
 * syntax) with the AKA extensions of RFC 3310: WWW-Authenticate,
 * Authorization and Authentication-Info.
 *
 * These headers arrive from the network before any authentication, so the
 * parser is strict about bytes and limits and lenient only where the RFCs
 * ask recipients to be (token or quoted-string for every value, optional
 * whitespace, empty list elements, unknown parameters).
 *
 * Nothing is allocated: a parameter we keep is unescaped into the caller's
 * scratch buffer, NUL-terminated, and the output struct points there.
 * Each kept value needs at most its raw length plus a NUL, which is why
 * "header length + GBA_DIGEST_PARAMS_MAX" bytes of scratch always suffice.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gba/digest.h>

#include "text.h"

/* ---- Character classes ---------------------------------------------------- */

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of (s, n) with the NUL-terminated lit. */
static int eq_nocase(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lit[i] == '\0' || ascii_lower(s[i]) != ascii_lower(lit[i]))
			return 0;
	return lit[i] == '\0';
}

/*
 * CR, LF and NUL would let a value smuggle a header boundary past later
 * processing, so every control character except HTAB is refused up front,
 * wherever it is.
 */
static gba_err check_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return GBA_ERR_BAD_ENCODING;
	}
	return GBA_OK;
}

/* ---- Quoted strings ----------------------------------------------------------- */

/*
 * The next unescaped byte of a quoted-string body.  scan_quoted() made
 * sure that a backslash inside the body is always followed by a byte.
 */
static unsigned char qs_next(const char *s, size_t *i)
{
	if (s[*i] == '\\')
		(*i)++;
	return (unsigned char)s[(*i)++];
}

/*
 * RFC 7616 puts Digest values in UTF-8.  Check the body strictly, as it
 * will read once unescaped: a lax check would let two spellings of one
 * user name reach the HA1 computation.
 */
static gba_err check_utf8(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char seq[4];
		size_t n = 0, j = i, used;
		uint32_t cp;

		while (n < sizeof(seq) && j < len)
			seq[n++] = qs_next(s, &j);
		used = text_utf8_decode(seq, n, &cp);
		if (used == 0)
			return GBA_ERR_BAD_ENCODING;
		while (used--)
			qs_next(s, &i);
	}
	return GBA_OK;
}

/* ---- The parameter list ------------------------------------------------------- */

struct cursor {
	const char *p, *end;
};

/* A raw value: the token, or the body of a quoted-string (still escaped). */
struct raw_value {
	const char *ptr;
	size_t len;
	int quoted;
};

static void skip_ows(struct cursor *c)
{
	while (c->p < c->end && is_ows(*c->p))
		c->p++;
}

static size_t scan_token(struct cursor *c)
{
	const char *start = c->p;

	while (c->p < c->end && text_is_tchar(*c->p))
		c->p++;
	return (size_t)(c->p - start);
}

/* c->p is on the opening quote; leaves it past the closing one. */
static gba_err scan_quoted(struct cursor *c, struct raw_value *v)
{
	const char *p = c->p + 1;

	v->ptr = p;
	v->quoted = 1;
	while (p < c->end && *p != '"') {
		if (*p == '\\' && ++p == c->end)
			break;
		p++;
	}
	if (p >= c->end)
		return GBA_ERR_PARSE; /* unterminated */
	v->len = (size_t)(p - v->ptr);
	c->p = p + 1;
	return check_utf8(v->ptr, v->len);
}

static gba_err scan_value(struct cursor *c, struct raw_value *v)
{
	if (c->p < c->end && *c->p == '"')
		return scan_quoted(c, v);
	v->ptr = c->p;
	v->quoted = 0;
	v->len = scan_token(c);
	return v->len ? GBA_OK : GBA_ERR_PARSE;
}

/* What a known parameter turns into. */
enum value_kind {
	V_STR,       /* a gba_str */
	V_NC,        /* a gba_str that must be 8 hex digits */
	V_ALG,       /* algorithm_name and the algorithm enum (aux) */
	V_QOP_ONE,   /* one qop-value: the enum */
	V_QOP_LIST,  /* a challenge's quoted list: the bit mask */
	V_STALE,     /* "true" / "false": an int */
};

struct param_def {
	const char *name;
	enum value_kind kind;
	size_t off;  /* the field in the output struct */
	size_t aux;  /* V_ALG: the enum field */
};

/* Parse state shared by the helpers below. */
struct parse_ctx {
	char *scratch;
	size_t scratch_size, used;
	void *out;
	uint64_t seen; /* one bit per param_def, for duplicates */
};

#define FIELD(ctx, off, type) ((type *)(void *)((char *)(ctx)->out + (off)))

/* Unescape v into scratch, NUL-terminated. */
static gba_err unescape(struct parse_ctx *ctx, const struct raw_value *v,
			struct gba_str *dst)
{
	size_t i = 0, n = 0;
	char *d;

	/* The unescaped form is never longer than the raw one. */
	if (v->len >= ctx->scratch_size - ctx->used)
		return GBA_ERR_BUFFER_TOO_SMALL;
	d = ctx->scratch + ctx->used;
	if (!v->quoted) {
		memcpy(d, v->ptr, v->len);
		n = v->len;
	} else {
		while (i < v->len)
			d[n++] = (char)qs_next(v->ptr, &i);
	}
	d[n] = '\0';
	ctx->used += n + 1;
	dst->ptr = d;
	dst->len = n;
	return GBA_OK;
}

static enum gba_digest_algorithm algorithm_from_name(const struct gba_str *s)
{
	if (eq_nocase(s->ptr, s->len, "MD5"))
		return GBA_DIGEST_ALG_MD5;
	if (eq_nocase(s->ptr, s->len, "AKAv1-MD5"))
		return GBA_DIGEST_ALG_AKAV1_MD5;
	if (eq_nocase(s->ptr, s->len, "AKAv2-MD5"))
		return GBA_DIGEST_ALG_AKAV2_MD5;
	return GBA_DIGEST_ALG_OTHER;
}

static gba_err qop_from_name(const char *s, size_t n, enum gba_digest_qop *qop)
{
	if (eq_nocase(s, n, "auth"))
		*qop = GBA_QOP_AUTH;
	else if (eq_nocase(s, n, "auth-int"))
		*qop = GBA_QOP_AUTH_INT;
	else
		return GBA_ERR_PARSE;
	return GBA_OK;
}

/* A challenge offers a comma list; options we do not know are ignored. */
static unsigned qop_mask_from_list(const struct gba_str *s)
{
	struct cursor c = { s->ptr, s->ptr + s->len };
	unsigned mask = 0;

	while (c.p < c.end) {
		enum gba_digest_qop q;
		const char *word = c.p;

		if (*c.p == ',' || is_ows(*c.p)) {
			c.p++;
			continue;
		}
		while (c.p < c.end && *c.p != ',' && !is_ows(*c.p))
			c.p++;
		if (qop_from_name(word, (size_t)(c.p - word), &q) == GBA_OK)
			mask |= q == GBA_QOP_AUTH ? GBA_QOP_BIT_AUTH : GBA_QOP_BIT_AUTH_INT;
	}
	return mask;
}

/*
 * Store one known parameter.  Values that become an enum or a flag are
 * unescaped into scratch only for the time it takes to read them.
 */
static gba_err store_param(struct parse_ctx *ctx, const struct param_def *def,
			   const struct raw_value *v)
{
	struct gba_str s;
	size_t mark = ctx->used;
	gba_err err = unescape(ctx, v, &s);

	if (err)
		return err;
	switch (def->kind) {
	case V_STR:
		*FIELD(ctx, def->off, struct gba_str) = s;
		return GBA_OK;
	case V_NC:
		*FIELD(ctx, def->off, struct gba_str) = s;
		return text_is_nc(s.ptr, s.len) ? GBA_OK : GBA_ERR_PARSE;
	case V_ALG:
		*FIELD(ctx, def->off, struct gba_str) = s;
		*FIELD(ctx, def->aux, enum gba_digest_algorithm) = algorithm_from_name(&s);
		return GBA_OK;
	case V_QOP_ONE:
		ctx->used = mark;
		return qop_from_name(s.ptr, s.len, FIELD(ctx, def->off, enum gba_digest_qop));
	case V_QOP_LIST:
		ctx->used = mark;
		*FIELD(ctx, def->off, unsigned) = qop_mask_from_list(&s);
		return GBA_OK;
	case V_STALE:
		/* RFC 7616 3.3: anything but "true" counts as false. */
		ctx->used = mark;
		*FIELD(ctx, def->off, int) = eq_nocase(s.ptr, s.len, "true");
		return GBA_OK;
	}
	return GBA_ERR_INVALID_ARG;
}

static gba_err dispatch_param(struct parse_ctx *ctx, const struct param_def *defs,
			      size_t ndefs, const char *name, size_t name_len,
			      const struct raw_value *v)
{
	for (size_t i = 0; i < ndefs; i++) {
		if (!eq_nocase(name, name_len, defs[i].name))
			continue;
		if (ctx->seen & (UINT64_C(1) << i))
			return GBA_ERR_DUPLICATE_PARAM;
		ctx->seen |= UINT64_C(1) << i;
		return store_param(ctx, &defs[i], v);
	}
	return GBA_OK; /* unknown: skipped, as RFC 7616 asks */
}

/* One `name BWS "=" BWS value`, c->p on the name. */
static gba_err parse_one_param(struct cursor *c, struct parse_ctx *ctx,
			       const struct param_def *defs, size_t ndefs)
{
	const char *name = c->p;
	size_t name_len = scan_token(c);
	struct raw_value v;
	gba_err err;

	if (name_len == 0)
		return GBA_ERR_PARSE;
	skip_ows(c);
	if (c->p == c->end || *c->p != '=')
		return GBA_ERR_PARSE;
	c->p++;
	skip_ows(c);
	err = scan_value(c, &v);
	if (err)
		return err;
	return dispatch_param(ctx, defs, ndefs, name, name_len, &v);
}

/* #auth-param: elements separated by commas, empty elements allowed. */
static gba_err parse_params(struct cursor *c, struct parse_ctx *ctx,
			    const struct param_def *defs, size_t ndefs)
{
	size_t count = 0;

	for (;;) {
		skip_ows(c);
		while (c->p < c->end && (*c->p == ',' || is_ows(*c->p)))
			c->p++;
		if (c->p == c->end)
			return GBA_OK;
		if (++count > GBA_DIGEST_PARAMS_MAX)
			return GBA_ERR_TOO_LARGE;
		gba_err err = parse_one_param(c, ctx, defs, ndefs);
		if (err)
			return err;
		skip_ows(c);
		if (c->p < c->end && *c->p != ',')
			return GBA_ERR_PARSE;
	}
}

/*
 * The auth-scheme.  A well-formed scheme other than Digest (Basic, Bearer,
 * ...) is GBA_ERR_UNSUPPORTED rather than a parse error, so that a server
 * can answer it with a Digest challenge instead of a 400.
 */
static gba_err parse_scheme(struct cursor *c)
{
	const char *scheme;
	size_t n;

	skip_ows(c);
	scheme = c->p;
	n = scan_token(c);
	if (n == 0)
		return GBA_ERR_PARSE;
	if (c->p < c->end && !is_ows(*c->p))
		return GBA_ERR_PARSE;
	return eq_nocase(scheme, n, "Digest") ? GBA_OK : GBA_ERR_UNSUPPORTED;
}

static gba_err parse_header(const char *hdr, size_t len, int has_scheme,
			    char *scratch, size_t scratch_size, void *out,
			    size_t out_size, const struct param_def *defs, size_t ndefs)
{
	struct parse_ctx ctx = { scratch, scratch_size, 0, out, 0 };
	struct cursor c;
	gba_err err;

	if (!out)
		return GBA_ERR_INVALID_ARG;
	memset(out, 0, out_size);
	if ((!hdr && len) || (!scratch && scratch_size))
		return GBA_ERR_INVALID_ARG;
	if (!hdr)
		hdr = ""; /* an empty header: keep the cursor arithmetic defined */
	c.p = hdr;
	c.end = hdr + len;
	if (len > GBA_DIGEST_HEADER_MAX)
		return GBA_ERR_TOO_LARGE;
	err = check_controls(hdr, len);
	if (!err && has_scheme)
		err = parse_scheme(&c);
	if (!err)
		err = parse_params(&c, &ctx, defs, ndefs);
	if (err)
		memset(out, 0, out_size); /* no pointers into a half-filled scratch */
	return err;
}

static int has(const struct gba_str *s)
{
	return s->ptr != NULL;
}

/* ---- WWW-Authenticate ----------------------------------------------------- */

#define CH(f) offsetof(struct gba_digest_challenge, f)
static const struct param_def challenge_params[] = {
	{ "realm", V_STR, CH(realm), 0 },
	{ "nonce", V_STR, CH(nonce), 0 },
	{ "opaque", V_STR, CH(opaque), 0 },
	{ "domain", V_STR, CH(domain), 0 },
	{ "algorithm", V_ALG, CH(algorithm_name), CH(algorithm) },
	{ "qop", V_QOP_LIST, CH(qop_mask), 0 },
	{ "stale", V_STALE, CH(stale), 0 },
};
#undef CH

gba_err gba_digest_parse_challenge(const char *hdr, size_t len,
				   char *scratch, size_t scratch_size,
				   struct gba_digest_challenge *out)
{
	gba_err err = parse_header(hdr, len, 1, scratch, scratch_size, out, sizeof(*out),
				   challenge_params,
				   sizeof(challenge_params) / sizeof(challenge_params[0]));
	if (err)
		return err;
	if (!has(&out->realm) || !has(&out->nonce)) {
		memset(out, 0, sizeof(*out));
		return GBA_ERR_MISSING_PARAM;
	}
	return GBA_OK;
}

/* ---- Authorization -------------------------------------------------------- */

#define CR(f) offsetof(struct gba_digest_credentials, f)
static const struct param_def credentials_params[] = {
	{ "username", V_STR, CR(username), 0 },
	{ "realm", V_STR, CR(realm), 0 },
	{ "nonce", V_STR, CR(nonce), 0 },
	{ "uri", V_STR, CR(uri), 0 },
	{ "response", V_STR, CR(response), 0 },
	{ "cnonce", V_STR, CR(cnonce), 0 },
	{ "opaque", V_STR, CR(opaque), 0 },
	{ "nc", V_NC, CR(nc), 0 },
	{ "auts", V_STR, CR(auts), 0 },
	{ "algorithm", V_ALG, CR(algorithm_name), CR(algorithm) },
	{ "qop", V_QOP_ONE, CR(qop), 0 },
};
#undef CR

/*
 * nonce and response may be empty (the first Ub request carries nonce=""
 * and response=""), but they must be there.  With a qop, RFC 7616 3.4
 * makes nc and cnonce mandatory: the response depends on them.
 */
static gba_err check_credentials(const struct gba_digest_credentials *c)
{
	if (!has(&c->username) || !has(&c->realm) || !has(&c->nonce) ||
	    !has(&c->uri) || !has(&c->response))
		return GBA_ERR_MISSING_PARAM;
	if (c->qop != GBA_QOP_NONE && (!has(&c->nc) || !has(&c->cnonce)))
		return GBA_ERR_MISSING_PARAM;
	return GBA_OK;
}

gba_err gba_digest_parse_credentials(const char *hdr, size_t len,
				     char *scratch, size_t scratch_size,
				     struct gba_digest_credentials *out)
{
	gba_err err = parse_header(hdr, len, 1, scratch, scratch_size, out, sizeof(*out),
				   credentials_params,
				   sizeof(credentials_params) / sizeof(credentials_params[0]));
	if (err)
		return err;
	err = check_credentials(out);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---- Authentication-Info -------------------------------------------------- */

#define AI(f) offsetof(struct gba_digest_auth_info, f)
static const struct param_def auth_info_params[] = {
	{ "rspauth", V_STR, AI(rspauth), 0 },
	{ "cnonce", V_STR, AI(cnonce), 0 },
	{ "nc", V_NC, AI(nc), 0 },
	{ "nextnonce", V_STR, AI(nextnonce), 0 },
	{ "qop", V_QOP_ONE, AI(qop), 0 },
};
#undef AI

/* Every Authentication-Info parameter is optional (RFC 7615 3). */
gba_err gba_digest_parse_auth_info(const char *hdr, size_t len,
				   char *scratch, size_t scratch_size,
				   struct gba_digest_auth_info *out)
{
	return parse_header(hdr, len, 0, scratch, scratch_size, out, sizeof(*out),
			    auth_info_params,
			    sizeof(auth_info_params) / sizeof(auth_info_params[0]));
}
