/*
 * http_util.c - request bodies, JSON answers and loopback listen addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gba/util.h>

#include "http_util.h"

int req_collect(void **con_cls, const char *upload, size_t *upload_size, size_t max,
		struct req **out)
{
	struct req *r = *con_cls;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -1;
		*con_cls = r;
		return 0;      /* MHD calls again with the body (or none) */
	}
	if (*upload_size) {
		if (r->len + *upload_size > max) {
			r->too_big = 1;
		} else {
			if (r->len + *upload_size + 1 > r->cap) {
				size_t cap = r->len + *upload_size + 1;
				char *b = realloc(r->body, cap);
				if (!b)
					return -1;
				r->body = b;
				r->cap = cap;
			}
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = 0;
		}
		*upload_size = 0;
		return 0;
	}
	if (!r->body) {
		r->body = calloc(1, 1);
		if (!r->body)
			return -1;
	}
	*out = r;
	return 1;
}

void req_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct req *r = *con_cls;
	if (!r)
		return;
	if (r->body)
		gba_wipe(r->body, r->cap);   /* a body may carry a key's JSON */
	free(r->body);
	free(r);
	*con_cls = NULL;
}

enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, const char *json, ...)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	va_list ap;
	va_start(ap, json);
	for (const char *name; (name = va_arg(ap, const char *));) {
		const char *value = va_arg(ap, const char *);
		MHD_add_response_header(resp, name, value);
	}
	va_end(ap);
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result reply_error(struct MHD_Connection *c, const struct svc_error *e)
{
	char buf[512];
	json_t *o = json_pack("{s:s, s:s}", "error", e->code, "detail", e->detail);
	size_t n = o ? json_dumpb(o, buf, sizeof(buf) - 1, JSON_COMPACT) : 0;
	json_decref(o);
	buf[n < sizeof(buf) ? n : 0] = 0;
	/* 503: the BSF or the key store cannot serve now; say when to come back. */
	if (e->status == 503)
		return reply_json(c, 503, buf, MHD_HTTP_HEADER_RETRY_AFTER, NAF_RETRY_AFTER, NULL);
	return reply_json(c, (unsigned)e->status, buf, NULL);
}

int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}
