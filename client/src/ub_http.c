/*
 * ub_http.c - the HTTP side of Ub with libcurl: one easy handle (so the
 * connection is kept alive across the two or three requests of a
 * bootstrap), our own Authorization header, and the response headers the
 * digest needs, captured with size limits.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ub_http.h"

/* Copy one header's value (trimmed) when its name matches. */
static int take_header(const char *line, size_t len, const char *name, char *dst, size_t size,
		       int *overflow)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return 0;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len >= size) {
		*overflow = 1;
		return 1;
	}
	memcpy(dst, line, len);
	dst[len] = '\0';
	return 1;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct ub_response *r = arg;
	size_t len = size * n;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* A new response (curl may see more than one): start afresh. */
		r->www[0] = r->ainfo[0] = r->ctype[0] = '\0';
		r->body_len = 0;
		r->overflow = 0;
		return len;
	}
	/* Only a Digest challenge counts; a server may offer other schemes too. */
	if (len > 17 && !strncasecmp(data, "WWW-Authenticate:", 17)) {
		const char *v = data + 17;
		while (v < data + len && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(data + len - v) >= 6 && !strncasecmp(v, "Digest", 6))
			take_header(data, len, "WWW-Authenticate", r->www, sizeof(r->www),
				    &r->overflow);
		return len;
	}
	if (!take_header(data, len, "Authentication-Info", r->ainfo, sizeof(r->ainfo),
			 &r->overflow))
		take_header(data, len, "Content-Type", r->ctype, sizeof(r->ctype), &r->overflow);
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct ub_response *r = arg;
	size_t len = size * n;

	if (r->body_len + len > sizeof(r->body) - 1) {
		r->overflow = 1;
		return 0;   /* abort: no BootstrappingInfo is this large */
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/* The host (realm of the first request) and the path (digest uri) of the URL. */
static gba_client_err split_url(struct ub_http *h, char *msg, size_t msg_size)
{
	CURLU *u = curl_url();
	char *host = NULL, *path = NULL;
	gba_client_err err = GBA_CLIENT_OK;

	if (!u)
		return GBA_CLIENT_ERR_NO_MEMORY;
	if (curl_url_set(u, CURLUPART_URL, h->url, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) ||
	    strlen(host) >= sizeof(h->host) || strlen(path) >= sizeof(h->path))
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				  "bad BSF URL '%.200s'", h->url);
	else {
		strcpy(h->host, host);
		strcpy(h->path, path);
	}
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	return err;
}

gba_client_err ub_http_open(struct ub_http *h, const char *url, const char *user_agent,
			    unsigned timeout_ms, const char *ca_file, char *msg, size_t msg_size)
{
	gba_client_err err;

	memset(h, 0, sizeof(*h));
	if (strlen(url) >= sizeof(h->url) || strlen(user_agent) >= sizeof(h->user_agent))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "URL too long");
	strcpy(h->url, url);
	strcpy(h->user_agent, user_agent);
	err = split_url(h, msg, msg_size);
	if (err)
		return err;
	h->curl = curl_easy_init();
	if (!h->curl)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_NO_MEMORY, "curl_easy_init failed");
	curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 10000));
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms ? timeout_ms : 10000));
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	if (ca_file)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, ca_file);
	return GBA_CLIENT_OK;
}

void ub_http_close(struct ub_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

/* The exchange as the trace shows it: headers and lengths (no key is in them). */
static void trace_request(const struct ub_http *h, const char *authorization)
{
	client_trace(h->trace, "HTTP > GET %s", h->url);
	client_trace(h->trace, "HTTP >   User-Agent: %s", h->user_agent);
	client_trace(h->trace, "HTTP >   Authorization: %s", authorization);
}

static void trace_response(const struct ub_http *h, const struct ub_response *r)
{
	client_trace(h->trace, "HTTP < %ld", r->status);
	if (r->www[0])
		client_trace(h->trace, "HTTP <   WWW-Authenticate: %s", r->www);
	if (r->ainfo[0])
		client_trace(h->trace, "HTTP <   Authentication-Info: %s", r->ainfo);
	if (r->ctype[0])
		client_trace(h->trace, "HTTP <   Content-Type: %s", r->ctype);
	client_trace(h->trace, "HTTP <   body: %zu octets", r->body_len);
}

gba_client_err ub_http_get(struct ub_http *h, const char *authorization, struct ub_response *r,
			   char *msg, size_t msg_size)
{
	char hdr[GBA_DIGEST_HEADER_MAX + 32];
	struct curl_slist *list = NULL, *l2;
	CURLcode rc;

	memset(r, 0, offsetof(struct ub_response, body));
	r->body[0] = '\0';
	r->body_len = 0;
	snprintf(hdr, sizeof(hdr), "Authorization: %s", authorization);
	l2 = curl_slist_append(list, hdr);
	if (!l2)
		return GBA_CLIENT_ERR_NO_MEMORY;
	list = l2;
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, r);
	h->errbuf[0] = '\0';
	trace_request(h, authorization);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	if (r->overflow)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PROTOCOL,
				   "the BSF's answer has an oversized header or body");
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_TIMEOUT,
				   "the BSF %.200s did not answer in time", h->url);
	if (rc != CURLE_OK)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_NETWORK, "BSF %.200s: %s", h->url,
				   h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	trace_response(h, r);
	return GBA_CLIENT_OK;
}
