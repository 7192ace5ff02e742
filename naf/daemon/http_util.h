/*
 * http_util.h - what gba-naf's three libmicrohttpd front ends share: the
 * request body collected per connection (bounded), JSON answers, and
 * whether a listen address is loopback.
 */
#ifndef GBA_NAF_HTTP_UTIL_H
#define GBA_NAF_HTTP_UTIL_H

#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "service.h"

/* One request's body, collected across handler calls. */
struct req {
	size_t len, cap;
	int too_big;
	char *body;   /* NUL-terminated */
};

/*
 * Collect the body.  Returns 1 when the request is complete and may be
 * answered (r set), 0 when MHD must call again (answer MHD_YES), -1 on
 * out of memory.
 */
int req_collect(void **con_cls, const char *upload, size_t *upload_size, size_t max,
		struct req **r);

/* The MHD_OPTION_NOTIFY_COMPLETED callback that frees struct req. */
void req_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		   enum MHD_RequestTerminationCode toe);

/*
 * Queue an answer with body json (copied) and Content-Type
 * application/json.  Extra headers: NULL-terminated name, value pairs.
 */
enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, const char *json, ...)
	__attribute__((sentinel));

/* Seconds in the Retry-After of every 503 (BSF unreachable, key store full). */
#define NAF_RETRY_AFTER "5"

/* {"error": code, "detail": detail} with e's status; a 503 adds Retry-After. */
enum MHD_Result reply_error(struct MHD_Connection *c, const struct svc_error *e);

/* 1 when ss is a loopback address. */
int is_loopback(const struct sockaddr_storage *ss);

#endif /* GBA_NAF_HTTP_UTIL_H */
