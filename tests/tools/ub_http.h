/*
 * ub_http.h - the little HTTP/1.1 a Ub client needs: an http:// URL, a GET
 * request written into a caller buffer, and an incremental response
 * parser that works on whatever bytes have arrived so far.
 *
 * Nothing here does I/O or allocates.  The parser returns views into the
 * caller's buffer; it never writes to it.  Bounded: a response head over
 * UB_HTTP_HEAD_MAX, more than UB_HTTP_HEADERS_MAX header lines, or a
 * response that does not fit the caller's buffer is GBA_ERR_TOO_LARGE.
 * Transfer-Encoding (chunked) is refused with GBA_ERR_UNSUPPORTED: a BSF
 * answers with Content-Length, and a client that half-supports chunking
 * is worse than one that says no.
 */
#ifndef UB_HTTP_H
#define UB_HTTP_H

#include <stddef.h>

#include <gba/digest.h>
#include <gba/error.h>

#define UB_HTTP_HEAD_MAX    12288  /* status line and headers, with the blank line */
#define UB_HTTP_HEADERS_MAX 64     /* header lines in one response */
#define UB_URL_HOST_MAX     255
#define UB_URL_PATH_MAX     1024

/* http://host[:port][/path]; IPv6 literals in brackets. */
struct ub_url {
	char host[UB_URL_HOST_MAX + 1];      /* without brackets, for connect() */
	char port[6];                        /* decimal, "80" by default */
	char host_header[UB_URL_HOST_MAX + 10]; /* as the URL gave it, for Host: */
	char path[UB_URL_PATH_MAX + 1];      /* "/" when absent */
};

/* GBA_ERR_PARSE for anything but a plain http:// URL (https: UNSUPPORTED). */
gba_err ub_url_parse(const char *url, struct ub_url *out);

/*
 * "GET path HTTP/1.1" with Host, User-Agent and (when not NULL)
 * Authorization, NUL-terminated, into out.  Values carrying CR, LF or other
 * control characters are refused (GBA_ERR_BAD_ENCODING): no header
 * injection from an IMPI given on a command line.
 */
struct ub_http_request {
	const char *method;          /* "GET" */
	const char *path;
	const char *host;            /* Host header value */
	const char *user_agent;      /* may be NULL */
	const char *authorization;   /* may be NULL */
};

gba_err ub_http_write_request(char *out, size_t out_size, size_t *out_len,
			      const struct ub_http_request *req);

/* A parsed response: views into the buffer handed to the parser. */
struct ub_http_response {
	int status;                      /* 100..599 */
	int http_minor;                  /* HTTP/1.0 or HTTP/1.1 */
	int keep_alive;                  /* the connection may carry another request */
	struct gba_str www_authenticate; /* the first Digest challenge, if any */
	struct gba_str authentication_info;
	struct gba_str content_type;
	struct gba_str retry_after;
	const char *body;
	size_t body_len;
};

/*
 * Parse the response at the start of buf[0..len).  cap is the size of the
 * caller's buffer (a response that cannot fit is TOO_LARGE rather than
 * "need more"); eof says the peer has closed, which ends a body that has no
 * Content-Length and turns a truncated response into GBA_ERR_PARSE.
 *
 * GBA_OK with *consumed > 0: a whole response, *consumed bytes long, is in
 * *out (interim 1xx responses are skipped and counted in *consumed).
 * GBA_OK with *consumed == 0: not all there yet; call again with more.
 * Errors: GBA_ERR_PARSE (malformed), GBA_ERR_TOO_LARGE, GBA_ERR_UNSUPPORTED
 * (Transfer-Encoding), GBA_ERR_BAD_ENCODING (NUL or control bytes).
 */
gba_err ub_http_parse_response(const char *buf, size_t len, size_t cap, int eof,
			       struct ub_http_response *out, size_t *consumed);

/* Case-insensitive comparison of a view with a NUL-terminated string. */
int ub_str_ieq(const struct gba_str *s, const char *lit);

#endif /* UB_HTTP_H */
