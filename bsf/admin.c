/*
 * admin.c - the admin port, see admin.h.
 *
 * One polling thread (lib/http/gba_http.h) is plenty: scrapes and operator
 * look-ups are rare, and this port must never compete with Ub for the
 * worker threads.
 */
#define _POSIX_C_SOURCE 200809L /* getrusage with struct timeval */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <microhttpd.h>

#include <gba/ubxml.h>
#include <gba/util.h>

#include "admin.h"
#include "config.h"
#include "gba_http.h"
#include "gba_prom.h"
#if defined(BSF_HAVE_ZH) || defined(BSF_HAVE_ZN)
#include <gba/diameter_metrics.h>
#endif

/* The BSF's own families take some 8 KiB; the Diameter node's grow with
 * its peers (at most 512 series of about 130 octets). */
#define METRICS_BUF (128 * 1024)
#define SESSION_JSON_MAX 2048
#define SESSIONS_PREFIX "/sessions/"
#define NO_SESSION "{\"error\":\"no such session\"}\n"

struct admin_http {
	struct gba_http http;
	struct admin_ctx ctx;
};

/* ---- JSON --------------------------------------------------------------------- */

struct json_buf {
	char *p;
	size_t size, len;
	int overflow;
};

static void jput(struct json_buf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->size - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void jstring(struct json_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jput(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			jput(b, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jput(b, esc, 6);
		} else {
			jput(b, s, 1);
		}
	}
	jput(b, "\"", 1);
}

static void jfield_str(struct json_buf *b, const char *name, const char *value, int first)
{
	if (!first)
		jput(b, ",", 1);
	jstring(b, name);
	jput(b, ":", 1);
	jstring(b, value);
}

static void jfield_int(struct json_buf *b, const char *name, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	jput(b, ",", 1);
	jstring(b, name);
	jput(b, ":", 1);
	jput(b, num, (size_t)n);
}

size_t admin_session_json(char *out, size_t out_size, const struct gba_session *s)
{
	struct json_buf b = { out, out_size, 0, out_size == 0 };
	char created[GBA_XS_DATETIME_MAX], expiry[GBA_XS_DATETIME_MAX];

	if (gba_xs_datetime_format(created, sizeof(created), (time_t)s->created) ||
	    gba_xs_datetime_format(expiry, sizeof(expiry), (time_t)s->expiry))
		return 0;
	jput(&b, "{", 1);
	jfield_str(&b, "btid", s->btid, 1);
	jfield_str(&b, "impi", s->impi, 0);
	jfield_int(&b, "created", s->created);
	jfield_int(&b, "expiry", s->expiry);
	jfield_str(&b, "created_utc", created, 0);
	jfield_str(&b, "expiry_utc", expiry, 0);
	jfield_str(&b, "type", s->type == GBA_TYPE_U ? "GBA_U" : "GBA_ME", 0);
	jput(&b, "}\n", 2);
	return b.overflow ? 0 : b.len;
}

/* ---- Handlers ----------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* gba_build_info, the BSF's families, then its Diameter node's (Zh, Zn). */
static size_t render(struct admin_http *a, const struct metrics_gauges *g, char *buf,
		     size_t size)
{
	struct gba_prom p;

	gba_prom_init(&p, buf, size);
	gba_prom_build_info(&p, "gba-bsf");
	metrics_write(&p, a->ctx.metrics, g);
#if defined(BSF_HAVE_ZH) || defined(BSF_HAVE_ZN)
	gba_dia_metrics_write(a->ctx.dia, &p);
#endif
	return gba_prom_end(&p);
}

static enum MHD_Result serve_metrics(struct admin_http *a, struct MHD_Connection *conn)
{
	struct metrics_gauges g = { 0 };
	char *buf;
	size_t len;
	enum MHD_Result ret;

	g.challenges_pending = challenge_pending(a->ctx.pending);
	g.store_ok = gba_session_store_stats(a->ctx.store, (int64_t)time(NULL), &g.sessions_live,
					     &g.store_bytes) == GBA_OK;
	(void)gba_session_store_health(a->ctx.store, &g.store_health);
	g.cpu_seconds = cpu_seconds();
	g.start_time = (uint64_t)a->ctx.start_time;
	if (a->ctx.spares) {
		g.have_spares = 1;
		av_spare_stats(a->ctx.spares, &g.spares);
	}
	buf = malloc(METRICS_BUF);
	if (!buf)
		return MHD_NO;
	len = render(a, &g, buf, METRICS_BUF);
	ret = len ? reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len)
		  : reply_text(conn, 500, "metrics do not fit\n");
	free(buf);
	return ret;
}

static enum MHD_Result serve_session(struct admin_http *a, struct MHD_Connection *conn,
				     const char *btid)
{
	struct gba_session s;
	char json[SESSION_JSON_MAX];
	size_t len = 0;
	gba_err err;

	err = gba_session_store_get(a->ctx.store, btid, strlen(btid), (int64_t)time(NULL), &s,
				    NULL, 0, NULL);
	if (!err)
		len = admin_session_json(json, sizeof(json), &s);
	gba_wipe(&s, sizeof(s));
	if (err == GBA_ERR_NOT_FOUND)
		return reply(conn, 404, "application/json", NO_SESSION, strlen(NO_SESSION));
	if (err == GBA_ERR_UNAVAILABLE || err == GBA_ERR_TIMEOUT)
		return reply_text(conn, 503, "session store unavailable\n");
	if (err || !len)
		return reply_text(conn, 500, "session store error\n");
	return reply(conn, 200, "application/json", json, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct admin_http *a = cls;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_data_size)
		return MHD_NO; /* nothing here takes a body */
	if (strcmp(method, "GET"))
		return reply_text(conn, 405, "GET only\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(a, conn);
	if (!strncmp(url, SESSIONS_PREFIX, strlen(SESSIONS_PREFIX)) &&
	    url[strlen(SESSIONS_PREFIX)])
		return serve_session(a, conn, url + strlen(SESSIONS_PREFIX));
	if (!strcmp(url, "/healthz"))
		return reply_text(conn, 200, "ok\n");
	return reply_text(conn, 404, "not found: try /metrics or /sessions/<B-TID>\n");
}

int admin_http_start(struct admin_http **out, const struct admin_ctx *ctx, const char *listen,
		     char *err, size_t err_size)
{
	struct sockaddr_storage addr;
	struct admin_http *a;
	struct gba_http_opts o = {
		.name = "admin", .log = ctx->log, .addr = (const struct sockaddr *)&addr,
		.max_connections = 64, .connection_timeout = 10, .handler = on_request,
	};

	if (gba_conf_listen_addr(listen, &addr, &o.addr_len, err, err_size))
		return -1;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	a->ctx = *ctx;
	o.handler_cls = a;
	if (gba_http_start(&a->http, &o)) {
		snprintf(err, err_size, "cannot start the admin server on %s (see the log above)",
			 listen);
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

void admin_http_stop(struct admin_http *a)
{
	if (!a)
		return;
	gba_http_stop(&a->http);
	free(a);
}
