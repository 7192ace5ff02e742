/*
 * hss_metrics.c - gba-hss-sim's counters and metrics listener
 * (hss_metrics.h).
 *
 * The listener is libmicrohttpd's polling thread (lib/http/gba_http.h),
 * as gba-bsf's admin port: scrapes are rare and must not take the threads
 * that answer MARs.  It serves no secret and no IMPI, only counts and peer names.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include <gba/diameter_metrics.h>

#include "gba_http.h"
#include "gba_prom.h"
#include "hss_metrics.h"

#define PAGE_MAX (128 * 1024)

static const char *const mar_results[HSS_MAR__COUNT] = {
	[HSS_MAR_VECTOR] = "vector",
	[HSS_MAR_UNKNOWN_USER] = "unknown_user",
	[HSS_MAR_AUTS_INVALID] = "auts_invalid",
	[HSS_MAR_STORE_UNWRITABLE] = "store_unwritable",
	[HSS_MAR_ERROR] = "error",
};

static const char *const sqn_reasons[HSS_SQN__COUNT] = {
	[HSS_SQN_STORE_UNWRITABLE] = "store_unwritable",
	[HSS_SQN_STORE_ERROR] = "store_error",
	[HSS_SQN_RANGE] = "sqn_range",
};

struct hss_metrics_http {
	struct gba_http http;
	const struct hss_metrics *m;
	struct gba_dia *dia;
};

void hss_metrics_init(struct hss_metrics *m)
{
	for (int k = 0; k < 2; k++)
		for (int r = 0; r < HSS_MAR__COUNT; r++)
			atomic_init(&m->mars[k][r], 0);
	atomic_init(&m->sqn_reserved, 0);
	for (int r = 0; r < HSS_SQN__COUNT; r++)
		atomic_init(&m->sqn_failures[r], 0);
	m->start_time = time(NULL);
}

static void inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The answer serve() in lib/diameter's zh_server.c gives for err. */
static enum hss_mar_result mar_result(gba_err err)
{
	switch (err) {
	case GBA_OK: return HSS_MAR_VECTOR;
	case GBA_ERR_NOT_FOUND: return HSS_MAR_UNKNOWN_USER;
	case GBA_ERR_AUTS_INVALID: return HSS_MAR_AUTS_INVALID;
	case GBA_ERR_STORE_UNWRITABLE: return HSS_MAR_STORE_UNWRITABLE;
	default: return HSS_MAR_ERROR;
	}
}

void hss_metrics_mar(struct hss_metrics *m, int resync, gba_err err)
{
	inc(&m->mars[!!resync][mar_result(err)]);
	if (err == GBA_OK)
		inc(&m->sqn_reserved);
	else if (err == GBA_ERR_STORE_UNWRITABLE)
		inc(&m->sqn_failures[HSS_SQN_STORE_UNWRITABLE]);
	else if (err == GBA_ERR_STORE)
		inc(&m->sqn_failures[HSS_SQN_STORE_ERROR]);
	else if (err == GBA_ERR_SQN_RANGE)
		inc(&m->sqn_failures[HSS_SQN_RANGE]);
}

static void write_mars(struct gba_prom *p, const struct hss_metrics *m)
{
	static const char *const types[2] = { "authentication", "resync" };
	const char *name = "gba_hss_mars_total";

	gba_prom_family(p, name, "counter",
			"Multimedia-Auth-Requests the AuC answered, by type and result.");
	for (int k = 0; k < 2; k++)
		for (int r = 0; r < HSS_MAR__COUNT; r++)
			gba_prom_sample(p, name, GBA_PROM_LABELS({ "type", types[k] },
								 { "result", mar_results[r] }),
					load(&m->mars[k][r]));
}

static void write_sqn(struct gba_prom *p, const struct hss_metrics *m)
{
	const char *name = "gba_hss_sqn_failures_total";

	gba_prom_counter(p, "gba_hss_sqn_reservations_total",
			 "SQNs reserved in the subscriber database (one per vector sent).",
			 load(&m->sqn_reserved));
	gba_prom_family(p, name, "counter", "SQN reservations that failed: no vector went out.");
	for (int r = 0; r < HSS_SQN__COUNT; r++)
		gba_prom_sample(p, name, GBA_PROM_LABELS({ "reason", sqn_reasons[r] }),
				load(&m->sqn_failures[r]));
}

size_t hss_metrics_render(const struct hss_metrics *m, struct gba_dia *dia, char *buf,
			  size_t size)
{
	struct gba_prom p;

	gba_prom_init(&p, buf, size);
	gba_prom_build_info(&p, "gba-hss-sim");
	write_mars(&p, m);
	write_sqn(&p, m);
	gba_dia_metrics_write(dia, &p);
	gba_prom_gauge(&p, "process_start_time_seconds", "Start time since the Unix epoch.",
		       (uint64_t)m->start_time);
	return gba_prom_end(&p);
}

/* ---- The listener ------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	static const char *not_found = "not found: try /metrics\n";
	struct hss_metrics_http *h = cls;
	enum MHD_Result ret;
	char *buf;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_data_size)
		return MHD_NO;
	if (strcmp(method, "GET") || strcmp(url, "/metrics"))
		return reply(conn, strcmp(method, "GET") ? 405 : 404, "text/plain", not_found,
			     strlen(not_found));
	buf = malloc(PAGE_MAX);
	if (!buf)
		return MHD_NO;
	len = hss_metrics_render(h->m, h->dia, buf, PAGE_MAX);
	ret = len ? reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len)
		  : reply(conn, 500, "text/plain", "metrics do not fit\n", 19);
	free(buf);
	return ret;
}

/* One polling thread (lib/http/gba_http.h): scrapes are rare. */
static int start_http(struct hss_metrics_http *h, const struct addrinfo *ai,
		      const struct gba_log *log)
{
	struct gba_http_opts o = {
		.name = "metrics", .log = log, .addr = ai->ai_addr, .addr_len = ai->ai_addrlen,
		.max_connections = 16, .connection_timeout = 10,
		.handler = on_request, .handler_cls = h,
	};

	return gba_http_start(&h->http, &o);
}

int hss_metrics_start(struct hss_metrics_http **out, const char *address, unsigned port,
		      const struct hss_metrics *m, struct gba_dia *dia,
		      const struct gba_log *log, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct hss_metrics_http *h;
	char service[8];
	int rc = -1;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(address, service, &hints, &ai) || !ai) {
		snprintf(err, err_size, "--metrics %s: not a numeric address", address);
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (h) {
		h->m = m;
		h->dia = dia;
		rc = start_http(h, ai, log);
	}
	freeaddrinfo(ai);
	if (rc) {
		snprintf(err, err_size, "cannot listen for --metrics on %s:%u", address, port);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void hss_metrics_stop(struct hss_metrics_http *h)
{
	if (!h)
		return;
	gba_http_stop(&h->http);
	free(h);
}
