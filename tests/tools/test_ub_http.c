/*
 * test_ub_http.c - the Ub client's URL parser, request writer and
 * incremental response parser: good responses whole and byte by byte,
 * and every kind of bad input a server (or an attacker in its place) can
 * send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ub_http.h"

#define CAP 32768

static gba_err parse(const char *text, int eof, struct ub_http_response *r, size_t *consumed)
{
	return ub_http_parse_response(text, strlen(text), CAP, eof, r, consumed);
}

static const char challenge_401[] =
	"HTTP/1.1 401 Unauthorized\r\n"
	"WWW-Authenticate: Basic realm=\"x\"\r\n"
	"www-authenticate: Digest realm=\"bsf.example.org\", nonce=\"abc\", algorithm=AKAv1-MD5\r\n"
	"Content-Length: 5\r\n"
	"Retry-After: 1\r\n"
	"\r\n"
	"oops!";

static void test_whole_response(void **state)
{
	(void)state;
	struct ub_http_response r;
	size_t n;

	assert_int_equal(parse(challenge_401, 0, &r, &n), GBA_OK);
	assert_int_equal(n, strlen(challenge_401));
	assert_int_equal(r.status, 401);
	assert_int_equal(r.http_minor, 1);
	assert_true(r.keep_alive);
	/* The Digest challenge, not the Basic one before it. */
	assert_true(r.www_authenticate.ptr != NULL);
	assert_memory_equal(r.www_authenticate.ptr, "Digest realm=", 13);
	assert_int_equal(r.www_authenticate.ptr[r.www_authenticate.len - 1], '5');
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "oops!", 5);
	assert_true(ub_str_ieq(&r.retry_after, "1"));
}

/* Every prefix is "need more"; the whole is a response. */
static void test_byte_by_byte(void **state)
{
	(void)state;
	struct ub_http_response r;
	size_t n, len = strlen(challenge_401);

	for (size_t i = 0; i < len; i++) {
		assert_int_equal(ub_http_parse_response(challenge_401, i, CAP, 0, &r, &n), GBA_OK);
		assert_int_equal(n, 0);
	}
	assert_int_equal(ub_http_parse_response(challenge_401, len, CAP, 0, &r, &n), GBA_OK);
	assert_int_equal(n, len);
}

static void test_truncated_at_eof(void **state)
{
	(void)state;
	struct ub_http_response r;
	size_t n, len = strlen(challenge_401);

	assert_int_equal(ub_http_parse_response(challenge_401, 20, CAP, 1, &r, &n), GBA_ERR_PARSE);
	assert_int_equal(ub_http_parse_response(challenge_401, len - 1, CAP, 1, &r, &n),
			 GBA_ERR_PARSE);
}

static void test_bad_status_lines(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.2 200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"\r\n\r\n",
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
	};
	struct ub_http_response r;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gba_err err = parse(bad[i], 0, &r, &n);
		if (err == GBA_OK)
			fail_msg("accepted bad status line %zu: %s", i, bad[i]);
	}
	/* An empty reason phrase is fine (RFC 9112 4). */
	assert_int_equal(parse("HTTP/1.1 204\r\n\r\n", 0, &r, &n), GBA_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(parse("HTTP/1.1 204 \r\n\r\n", 0, &r, &n), GBA_OK);
}

static void test_bad_headers(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		gba_err err;
	} bad[] = {
		{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nName : v\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\n: v\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", GBA_ERR_BAD_ENCODING },
		{ "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n12", GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", GBA_ERR_TOO_LARGE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n", GBA_ERR_TOO_LARGE },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		  GBA_ERR_UNSUPPORTED },
		{ "HTTP/1.1 200 OK\r\nAuthentication-Info: a=1\r\nAuthentication-Info: a=2\r\n\r\n",
		  GBA_ERR_PARSE },
		{ "HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", GBA_ERR_PARSE },
		{ "HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n", GBA_ERR_UNSUPPORTED },
	};
	struct ub_http_response r;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gba_err err = parse(bad[i].text, 0, &r, &n);
		if (err != bad[i].err)
			fail_msg("case %zu: got %s, want %s", i, gba_err_name(err),
				 gba_err_name(bad[i].err));
	}
	/* Same Content-Length twice is harmless. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab",
			       0, &r, &n), GBA_OK);
	assert_int_equal(r.body_len, 2);
}

static void test_nul_in_head(void **state)
{
	(void)state;
	static const char text[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\nContent-Length: 0\r\n\r\n";
	struct ub_http_response r;
	size_t n;

	assert_int_equal(ub_http_parse_response(text, sizeof(text) - 1, CAP, 0, &r, &n),
			 GBA_ERR_BAD_ENCODING);
}

/* A head without its blank line is refused at UB_HTTP_HEAD_MAX, not read forever. */
static void test_oversize_head(void **state)
{
	(void)state;
	char *buf = malloc(CAP);
	struct ub_http_response r;
	size_t n, len = 0;

	assert_non_null(buf);
	len += (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
	while (len < UB_HTTP_HEAD_MAX + 100)
		len += (size_t)sprintf(buf + len, "X-Filler: %040d\r\n", 7);
	assert_int_equal(ub_http_parse_response(buf, len, CAP, 0, &r, &n), GBA_ERR_TOO_LARGE);
	/* Small buffer: full without a head is too large too. */
	assert_int_equal(ub_http_parse_response(buf, 200, 200, 0, &r, &n), GBA_ERR_TOO_LARGE);
	free(buf);
}

static void test_too_many_headers(void **state)
{
	(void)state;
	char buf[4096];
	struct ub_http_response r;
	size_t n, len = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");

	for (int i = 0; i <= UB_HTTP_HEADERS_MAX; i++)
		len += (size_t)sprintf(buf + len, "X%d: y\r\n", i);
	len += (size_t)sprintf(buf + len, "\r\n");
	assert_int_equal(ub_http_parse_response(buf, len, CAP, 0, &r, &n), GBA_ERR_TOO_LARGE);
}

static void test_body_to_eof(void **state)
{
	(void)state;
	static const char text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close";
	struct ub_http_response r;
	size_t n;

	assert_int_equal(parse(text, 0, &r, &n), GBA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(parse(text, 1, &r, &n), GBA_OK);
	assert_int_equal(n, strlen(text));
	assert_int_equal(r.body_len, strlen("until close"));
	assert_false(r.keep_alive);
	assert_true(ub_str_ieq(&r.content_type, "TEXT/PLAIN"));
}

static void test_connection_handling(void **state)
{
	(void)state;
	struct ub_http_response r;
	size_t n;

	assert_int_equal(parse("HTTP/1.1 204 No\r\nConnection: Keep-Alive, Close\r\n\r\n", 0, &r, &n),
			 GBA_OK);
	assert_false(r.keep_alive);
	assert_int_equal(parse("HTTP/1.0 204 No\r\n\r\n", 0, &r, &n), GBA_OK);
	assert_false(r.keep_alive);
	assert_int_equal(parse("HTTP/1.0 204 No\r\nConnection: keep-alive\r\n\r\n", 0, &r, &n),
			 GBA_OK);
	assert_true(r.keep_alive);
	/* A 304 has no body, whatever Content-Length says. */
	assert_int_equal(parse("HTTP/1.1 304 NM\r\nContent-Length: 10\r\n\r\n", 0, &r, &n), GBA_OK);
	assert_int_equal(r.body_len, 0);
}

static void test_interim_skipped(void **state)
{
	(void)state;
	static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n"
				   "HTTP/1.1 102 Processing\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct ub_http_response r;
	size_t n;

	assert_int_equal(ub_http_parse_response(text, 30, CAP, 0, &r, &n), GBA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(parse(text, 0, &r, &n), GBA_OK);
	assert_int_equal(n, strlen(text));
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "ok", 2);
}

/* Pipelined bytes after the response are not consumed. */
static void test_two_responses(void **state)
{
	(void)state;
	static const char text[] = "HTTP/1.1 204 A\r\n\r\nHTTP/1.1 204 B\r\n\r\n";
	struct ub_http_response r;
	size_t n;

	assert_int_equal(parse(text, 0, &r, &n), GBA_OK);
	assert_int_equal(n, strlen("HTTP/1.1 204 A\r\n\r\n"));
}

/* Random bytes, and random mutations of a good response: no crash, no overread. */
static void test_garbage(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t len = strlen(challenge_401);
	struct ub_http_response r;
	size_t n;

	for (int round = 0; round < 20000; round++) {
		char *buf = malloc(len);
		assert_non_null(buf);
		memcpy(buf, challenge_401, len);
		int flips = 1 + round % 8;
		for (int i = 0; i < flips; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[(x >> 8) % len] = (char)(x >> 40);
		}
		size_t cut = round & 1 ? len : (size_t)((x >> 20) % (len + 1));
		gba_err err = ub_http_parse_response(buf, cut, cut + (round % 3) * 100, round & 2,
						     &r, &n);
		if (err == GBA_OK && n) {
			assert_true(n <= cut);
			assert_true(r.body + r.body_len <= buf + cut);
		}
		free(buf);
	}
}

static void test_url(void **state)
{
	(void)state;
	struct ub_url u;

	assert_int_equal(ub_url_parse("http://127.0.0.1:8080/", &u), GBA_OK);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8080");
	assert_string_equal(u.host_header, "127.0.0.1:8080");
	assert_string_equal(u.path, "/");
	assert_int_equal(ub_url_parse("http://bsf.example.org", &u), GBA_OK);
	assert_string_equal(u.port, "80");
	assert_string_equal(u.path, "/");
	assert_int_equal(ub_url_parse("HTTP://[::1]:99/ub?x=1#frag", &u), GBA_OK);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.host_header, "[::1]:99");
	assert_string_equal(u.path, "/ub?x=1");

	static const char *const bad[] = {
		"ftp://x/", "http://", "http://:80/", "http://x:0/", "http://x:65536/",
		"http://x:8a/", "http://u:p@x/", "http://[::1/", "http://x/a b", "x",
		"http://x?q", "http://[::1]x/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ub_url_parse(bad[i], &u) == GBA_OK)
			fail_msg("accepted URL %s", bad[i]);
	assert_int_equal(ub_url_parse("https://x/", &u), GBA_ERR_UNSUPPORTED);
}

static void test_request(void **state)
{
	(void)state;
	char out[512];
	size_t n;
	struct ub_http_request req = {
		.method = "GET", .path = "/", .host = "127.0.0.1:1234",
		.user_agent = "3gpp-gba", .authorization = "Digest username=\"a\"",
	};

	assert_int_equal(ub_http_write_request(out, sizeof(out), &n, &req), GBA_OK);
	assert_string_equal(out, "GET / HTTP/1.1\r\nHost: 127.0.0.1:1234\r\n"
				 "User-Agent: 3gpp-gba\r\nAuthorization: Digest username=\"a\"\r\n\r\n");
	assert_int_equal(n, strlen(out));
	assert_int_equal(ub_http_write_request(out, 20, &n, &req), GBA_ERR_BUFFER_TOO_SMALL);

	/* No header injection through any field. */
	req.authorization = "Digest username=\"a\r\nX-Evil: 1\"";
	assert_int_equal(ub_http_write_request(out, sizeof(out), &n, &req), GBA_ERR_BAD_ENCODING);
	req.authorization = NULL;
	req.user_agent = "x\ny";
	assert_int_equal(ub_http_write_request(out, sizeof(out), &n, &req), GBA_ERR_BAD_ENCODING);
	req.user_agent = NULL;
	req.path = "/ HTTP/1.0\r\n";
	assert_int_equal(ub_http_write_request(out, sizeof(out), &n, &req), GBA_ERR_BAD_ENCODING);
	req.path = "/";
	assert_int_equal(ub_http_write_request(out, sizeof(out), &n, &req), GBA_OK);
	assert_string_equal(out, "GET / HTTP/1.1\r\nHost: 127.0.0.1:1234\r\n\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_response),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_truncated_at_eof),
		cmocka_unit_test(test_bad_status_lines),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_nul_in_head),
		cmocka_unit_test(test_oversize_head),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_body_to_eof),
		cmocka_unit_test(test_connection_handling),
		cmocka_unit_test(test_interim_skipped),
		cmocka_unit_test(test_two_responses),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
