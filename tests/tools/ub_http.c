/*
 * ub_http.c - URL, request writer and incremental response parser for
 * the Ub client (RFC 9112 message syntax, the subset a BSF uses).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ub_http.h"

/* ---- URL ------------------------------------------------------------------ */

static int copy_part(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static int port_valid(const char *p, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static int path_valid(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

gba_err ub_url_parse(const char *url, struct ub_url *out)
{
	static const char scheme[] = "http://";
	const char *p, *auth_end, *host, *host_end, *port = NULL;

	if (!url || !out)
		return GBA_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if (!strncasecmp(url, "https://", 8))
		return GBA_ERR_UNSUPPORTED;
	if (strncasecmp(url, scheme, sizeof(scheme) - 1))
		return GBA_ERR_PARSE;
	p = url + sizeof(scheme) - 1;
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return GBA_ERR_PARSE;   /* no userinfo: credentials go in Authorization */

	host = p;
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(auth_end - p));
		if (!host_end)
			return GBA_ERR_PARSE;
		host = p + 1;
		p = host_end + 1;
	} else {
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (!host_end)
			host_end = auth_end;
		p = host_end;
	}
	if (p < auth_end) {
		if (*p != ':')
			return GBA_ERR_PARSE;
		port = p + 1;
		if (!port_valid(port, (size_t)(auth_end - port)))
			return GBA_ERR_PARSE;
	}
	if (host_end == host ||
	    copy_part(out->host, sizeof(out->host), host, (size_t)(host_end - host)) ||
	    copy_part(out->host_header, sizeof(out->host_header), url + sizeof(scheme) - 1,
		      (size_t)(auth_end - (url + sizeof(scheme) - 1))) ||
	    copy_part(out->port, sizeof(out->port), port ? port : "80",
		      port ? (size_t)(auth_end - port) : 2))
		return GBA_ERR_PARSE;
	if (*auth_end == '\0')
		strcpy(out->path, "/");
	else if (*auth_end != '/' || copy_part(out->path, sizeof(out->path), auth_end,
					       strcspn(auth_end, "#")))
		return GBA_ERR_PARSE;
	if (!path_valid(out->path) || !path_valid(out->host))
		return GBA_ERR_PARSE;
	return GBA_OK;
}

/* ---- Request -------------------------------------------------------------- */

/* A header value may hold HTAB and visible bytes, nothing below 0x20. */
static int value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

static int token_ok(const char *v)
{
	if (!*v)
		return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

gba_err ub_http_write_request(char *out, size_t out_size, size_t *out_len,
			      const struct ub_http_request *req)
{
	if (!out || !req || !req->method || !req->path || !req->host)
		return GBA_ERR_INVALID_ARG;
	if (!token_ok(req->method) || !token_ok(req->path) || !value_ok(req->host) ||
	    (req->user_agent && !value_ok(req->user_agent)) ||
	    (req->authorization && !value_ok(req->authorization)))
		return GBA_ERR_BAD_ENCODING;

	int n = snprintf(out, out_size, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%s\r\n",
			 req->method, req->path, req->host,
			 req->user_agent ? "User-Agent: " : "",
			 req->user_agent ? req->user_agent : "",
			 req->user_agent ? "\r\n" : "",
			 req->authorization ? "Authorization: " : "",
			 req->authorization ? req->authorization : "",
			 req->authorization ? "\r\n" : "");
	if (n < 0 || (size_t)n >= out_size)
		return GBA_ERR_BUFFER_TOO_SMALL;
	if (out_len)
		*out_len = (size_t)n;
	return GBA_OK;
}

/* ---- Response ------------------------------------------------------------- */

int ub_str_ieq(const struct gba_str *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->ptr && s->len == n && !strncasecmp(s->ptr, lit, n);
}

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *find_crlfcrlf(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static gba_err parse_status_line(const char *p, size_t len, struct ub_http_response *out)
{
	if (len < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return GBA_ERR_PARSE;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return GBA_ERR_PARSE;
	if (len > 12 && p[12] != ' ')
		return GBA_ERR_PARSE;
	out->http_minor = p[7] - '0';
	out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (out->status < 100 || out->status > 599)
		return GBA_ERR_PARSE;
	for (size_t i = 12; i < len; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return GBA_ERR_BAD_ENCODING;
	return GBA_OK;
}

/* Content-Length: 1*DIGIT, a value beyond any buffer is simply too large. */
static gba_err parse_length(const struct gba_str *v, size_t *len)
{
	size_t n = 0;

	if (v->len == 0)
		return GBA_ERR_PARSE;
	for (size_t i = 0; i < v->len; i++) {
		if (v->ptr[i] < '0' || v->ptr[i] > '9')
			return GBA_ERR_PARSE;
		if (n > (SIZE_MAX - 9) / 10 || n > ((size_t)1 << 40))
			return GBA_ERR_TOO_LARGE;
		n = n * 10 + (size_t)(v->ptr[i] - '0');
	}
	*len = n;
	return GBA_OK;
}

/* Connection: a comma-separated token list; only close and keep-alive matter. */
static void parse_connection(const struct gba_str *v, int *has_close, int *has_keep_alive)
{
	size_t i = 0;

	while (i < v->len) {
		while (i < v->len && (v->ptr[i] == ' ' || v->ptr[i] == '\t' || v->ptr[i] == ','))
			i++;
		size_t start = i;
		while (i < v->len && v->ptr[i] != ',' && v->ptr[i] != ' ' && v->ptr[i] != '\t')
			i++;
		struct gba_str tok = { v->ptr + start, i - start };
		if (ub_str_ieq(&tok, "close"))
			*has_close = 1;
		else if (ub_str_ieq(&tok, "keep-alive"))
			*has_keep_alive = 1;
	}
}

static int starts_with_digest(const struct gba_str *v)
{
	return v->len >= 6 && !strncasecmp(v->ptr, "Digest", 6) &&
	       (v->len == 6 || v->ptr[6] == ' ' || v->ptr[6] == '\t');
}

/* What the header section told us beyond the views in the response. */
struct head_info {
	int has_length;
	size_t length;
	int conn_close, conn_keep_alive;
};

static gba_err set_once(struct gba_str *slot, const struct gba_str *v)
{
	if (slot->ptr)
		return GBA_ERR_PARSE;   /* a second one: ambiguous, refuse */
	*slot = *v;
	return GBA_OK;
}

static gba_err take_header(const struct gba_str *name, const struct gba_str *v,
			   struct ub_http_response *out, struct head_info *hi)
{
	gba_err err = GBA_OK;

	if (ub_str_ieq(name, "Content-Length")) {
		size_t n;
		err = parse_length(v, &n);
		if (!err && hi->has_length && n != hi->length)
			err = GBA_ERR_PARSE;
		hi->has_length = 1;
		hi->length = n;
	} else if (ub_str_ieq(name, "Transfer-Encoding")) {
		err = GBA_ERR_UNSUPPORTED;
	} else if (ub_str_ieq(name, "Connection")) {
		parse_connection(v, &hi->conn_close, &hi->conn_keep_alive);
	} else if (ub_str_ieq(name, "WWW-Authenticate")) {
		/* Several challenges may be offered; the first Digest one is ours. */
		if (!out->www_authenticate.ptr && starts_with_digest(v))
			out->www_authenticate = *v;
	} else if (ub_str_ieq(name, "Authentication-Info")) {
		err = set_once(&out->authentication_info, v);
	} else if (ub_str_ieq(name, "Content-Type")) {
		err = set_once(&out->content_type, v);
	} else if (ub_str_ieq(name, "Retry-After")) {
		err = set_once(&out->retry_after, v);
	}
	return err;
}

/* One "name: value" line (without its CRLF). */
static gba_err parse_header_line(const char *p, size_t len, struct ub_http_response *out,
				 struct head_info *hi)
{
	size_t i = 0;

	if (len && (p[0] == ' ' || p[0] == '\t'))
		return GBA_ERR_PARSE;   /* obs-fold: RFC 9112 lets us refuse it */
	while (i < len && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == len || p[i] != ':')
		return GBA_ERR_PARSE;   /* no name, or whitespace before the colon */
	struct gba_str name = { p, i };
	size_t vs = i + 1, ve = len;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	for (size_t k = vs; k < ve; k++) {
		unsigned char c = (unsigned char)p[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return GBA_ERR_BAD_ENCODING;
	}
	struct gba_str value = { p + vs, ve - vs };
	return take_header(&name, &value, out, hi);
}

/* Status line and headers of one response, head_len bytes with the blank line. */
static gba_err parse_head(const char *buf, size_t head_len, struct ub_http_response *out,
			  struct head_info *hi)
{
	const char *p = buf, *end = buf + head_len - 2;  /* before the final CRLF */
	unsigned lines = 0;
	gba_err err;

	memset(out, 0, sizeof(*out));
	memset(hi, 0, sizeof(*hi));
	const char *eol = memchr(p, '\r', (size_t)(end - p));
	if (!eol || eol[1] != '\n')
		return GBA_ERR_PARSE;
	err = parse_status_line(p, (size_t)(eol - p), out);
	if (err)
		return err;
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if (!eol || eol[1] != '\n')
			return GBA_ERR_PARSE;   /* a bare CR or LF inside the head */
		if (memchr(p, '\n', (size_t)(eol - p)))
			return GBA_ERR_PARSE;
		if (++lines > UB_HTTP_HEADERS_MAX)
			return GBA_ERR_TOO_LARGE;
		err = parse_header_line(p, (size_t)(eol - p), out, hi);
		if (err)
			return err;
	}
	if (memchr(buf, '\0', head_len))
		return GBA_ERR_BAD_ENCODING;
	return GBA_OK;
}

static int has_no_body(int status)
{
	return status < 200 || status == 204 || status == 304;
}

/* One response (possibly interim) at buf; *consumed 0 when incomplete. */
static gba_err parse_one(const char *buf, size_t len, size_t cap, int eof,
			 struct ub_http_response *out, size_t *consumed)
{
	struct head_info hi;
	const char *head_end = find_crlfcrlf(buf, len < UB_HTTP_HEAD_MAX ? len : UB_HTTP_HEAD_MAX);
	gba_err err;

	*consumed = 0;
	if (!head_end) {
		if (len >= UB_HTTP_HEAD_MAX || len >= cap)
			return GBA_ERR_TOO_LARGE;
		return eof ? GBA_ERR_PARSE : GBA_OK;
	}
	size_t head_len = (size_t)(head_end - buf);
	err = parse_head(buf, head_len, out, &hi);
	if (err)
		return err;

	size_t body_len;
	if (has_no_body(out->status)) {
		body_len = 0;
	} else if (hi.has_length) {
		if (hi.length > cap - head_len)
			return GBA_ERR_TOO_LARGE;
		body_len = hi.length;
		if (len - head_len < body_len)
			return eof ? GBA_ERR_PARSE : GBA_OK;
	} else {
		/* No length: the body runs to the end of the connection. */
		if (!eof)
			return len >= cap ? GBA_ERR_TOO_LARGE : GBA_OK;
		body_len = len - head_len;
		hi.conn_close = 1;
	}
	out->body = buf + head_len;
	out->body_len = body_len;
	out->keep_alive = out->http_minor == 1 ? !hi.conn_close : hi.conn_keep_alive && !hi.conn_close;
	*consumed = head_len + body_len;
	return GBA_OK;
}

gba_err ub_http_parse_response(const char *buf, size_t len, size_t cap, int eof,
			       struct ub_http_response *out, size_t *consumed)
{
	size_t off = 0, n;
	gba_err err;

	if (!buf || !out || !consumed || len > cap)
		return GBA_ERR_INVALID_ARG;
	*consumed = 0;
	for (;;) {
		err = parse_one(buf + off, len - off, cap - off, eof, out, &n);
		if (err || n == 0)
			return err;
		off += n;
		/* 1xx (we never ask for them, but RFC 9112 says a client copes). */
		if (out->status >= 200 || out->status == 101)
			break;
	}
	if (out->status == 101)
		return GBA_ERR_UNSUPPORTED;   /* we asked for no protocol switch */
	*consumed = off;
	return GBA_OK;
}
