/*
 * admin.h - the BSF's admin port: a second, small HTTP server (by default
 * on 127.0.0.1 only) for operators and tests.
 *
 *   GET /metrics          Prometheus text format: gba_build_info, metrics.h's
 *                         families, the Diameter node's (gba/diameter_metrics.h)
 *   GET /sessions/<B-TID> JSON metadata of a live session: B-TID, IMPI,
 *                         created, expiry, GBA type.  Never Ks.  404 when
 *                         unknown or expired.  The B-TID may be
 *                         percent-encoded ('/' and '+' occur in base64).
 *   GET /healthz          "ok"
 */
#ifndef GBA_BSF_ADMIN_H
#define GBA_BSF_ADMIN_H

#include <stddef.h>
#include <time.h>

#include <gba/session_store.h>

#include "challenge.h"
#include "gba_log.h"
#include "metrics.h"

struct gba_dia;

struct admin_ctx {
	struct gba_session_store *store;
	struct challenge_table *pending;
	const struct bsf_metrics *metrics;
	const struct gba_log *log;
	time_t start_time;
	struct gba_dia *dia;   /* the Diameter node (Zh, Zn), for its metrics; or NULL */
	struct av_spare *spares;   /* the AV source's spare vectors (gsup, cx), or NULL */
};

struct admin_http;

/* Serve on listen ("host:port").  0, or -1 with a message in err. */
int admin_http_start(struct admin_http **out, const struct admin_ctx *ctx, const char *listen,
		     char *err, size_t err_size);
void admin_http_stop(struct admin_http *a);

/*
 * The JSON document of a session, NUL-terminated in out.  Returns its
 * length, or 0 when out is too small.
 */
size_t admin_session_json(char *out, size_t out_size, const struct gba_session *s);

#endif /* GBA_BSF_ADMIN_H */
