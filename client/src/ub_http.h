/* ub_http.h - one Ub HTTP exchange over libcurl (internal). */
#ifndef GBA_CLIENT_UB_HTTP_H
#define GBA_CLIENT_UB_HTTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <gba/digest.h>
#include <gba/ubxml.h>

#include "internal.h"

/* What the client keeps of one HTTP response. */
struct ub_response {
	long status;
	char www[GBA_DIGEST_HEADER_MAX + 1];    /* the Digest challenge, if any */
	char ainfo[GBA_DIGEST_HEADER_MAX + 1];  /* Authentication-Info */
	char ctype[128];
	char body[GBA_UBXML_MAX + 1];
	size_t body_len;
	int overflow;                           /* a header or the body was too long */
};

struct ub_http {
	CURL *curl;
	char url[512];
	char path[256];       /* the digest uri: the request target */
	char host[256];       /* the first request's realm */
	char user_agent[256];
	char errbuf[CURL_ERROR_SIZE];
	const struct gba_client_card *trace;   /* trace the exchanges through its hook */
};

gba_client_err ub_http_open(struct ub_http *h, const char *url, const char *user_agent,
			    unsigned timeout_ms, const char *ca_file, char *msg, size_t msg_size);
void ub_http_close(struct ub_http *h);

/* GET the URL with this Authorization header value; fills r. */
gba_client_err ub_http_get(struct ub_http *h, const char *authorization, struct ub_response *r,
			   char *msg, size_t msg_size);

#endif
