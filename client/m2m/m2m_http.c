/*
 * m2m_http.c - one HTTP/1.1 request and its answer on a gba_m2m_conn
 * (Connection: close, Content-Length framing), and reading members of the
 * JSON answers with jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <gba/m2m.h>

#include "m2m_internal.h"

#define HEAD_MAX 8192
#define REQ_HEAD_MAX 4096

/* Copy the value of header `name` (case-insensitive) into out, if present. */
static void header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		const char *p = line + 2;
		if (strncasecmp(p, name, nlen) || p[nlen] != ':')
			continue;
		p += nlen + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *end = strstr(p, "\r\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= size)
			len = size - 1;
		memcpy(out, p, len);
		out[len] = 0;
		return;
	}
}

static gba_err parse_answer(char *buf, size_t len, struct gba_m2m_response *r)
{
	char *end = strstr(buf, "\r\n\r\n");
	if (!end || strncmp(buf, "HTTP/1.", 7) || len < 12) {
		m2m_seterr(r->error, sizeof(r->error), "not an HTTP answer");
		return GBA_ERR_PARSE;
	}
	end[2] = 0;   /* the head ends with its last CRLF */
	r->status = atoi(buf + 9);
	header_value(buf, "WWW-Authenticate", r->www_authenticate, sizeof(r->www_authenticate));
	header_value(buf, "Authentication-Info", r->authentication_info,
		     sizeof(r->authentication_info));
	char clen[24] = "";
	header_value(buf, "Content-Length", clen, sizeof(clen));
	const char *body = end + 4;
	size_t have = len - (size_t)(body - buf);
	size_t want = clen[0] ? strtoul(clen, NULL, 10) : have;
	if (want > have || want > GBA_M2M_BODY_MAX) {
		m2m_seterr(r->error, sizeof(r->error), "truncated or oversize HTTP body");
		return GBA_ERR_PARSE;
	}
	memcpy(r->body, body, want);
	r->body[want] = 0;
	r->body_len = want;
	return GBA_OK;
}

gba_err gba_m2m_request(struct gba_m2m_conn *c, const char *method, const char *path,
			const char *host_header, const char *extra_headers,
			const char *body, size_t body_len, struct gba_m2m_response *r)
{
	char head[REQ_HEAD_MAX];
	if (!c || !method || !path || !host_header || !r || (body_len && !body))
		return GBA_ERR_INVALID_ARG;
	memset(r, 0, sizeof(*r));
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
			 "User-Agent: gba-m2m\r\n%s%sContent-Length: %zu\r\n\r\n",
			 method, path, host_header, extra_headers ? extra_headers : "",
			 body_len ? "Content-Type: application/json\r\n" : "", body_len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return GBA_ERR_TOO_LARGE;
	if (m2m_write(c, head, (size_t)n) || (body_len && m2m_write(c, body, body_len))) {
		m2m_seterr(r->error, sizeof(r->error), "cannot send the request");
		return GBA_ERR_UNAVAILABLE;
	}
	size_t cap = HEAD_MAX + GBA_M2M_BODY_MAX, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return GBA_ERR_NO_MEMORY;
	ssize_t got;
	while (len < cap && (got = m2m_read(c, buf + len, cap - len)) > 0)
		len += (size_t)got;
	buf[len] = 0;
	gba_err err = GBA_OK;
	if (len == 0) {
		m2m_seterr(r->error, sizeof(r->error), "no answer (connection closed or timed out)");
		err = GBA_ERR_UNAVAILABLE;
	} else {
		err = parse_answer(buf, len, r);
	}
	free(buf);
	return err;
}

gba_err gba_m2m_json_get(const struct gba_m2m_response *r, const char *name,
			 char *out, size_t out_size)
{
	if (!r || !name || !out || !out_size)
		return GBA_ERR_INVALID_ARG;
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return GBA_ERR_PARSE;
	}
	json_t *v = json_object_get(root, name);
	gba_err err = GBA_OK;
	int n = -1;
	if (json_is_string(v))
		n = snprintf(out, out_size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(out, out_size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		n = snprintf(out, out_size, "%s", json_is_true(v) ? "true" : "false");
	else
		err = GBA_ERR_NOT_FOUND;
	if (!err && (n < 0 || (size_t)n >= out_size))
		err = GBA_ERR_BUFFER_TOO_SMALL;
	json_decref(root);
	return err;
}
