/*
 * naf_metrics.c - gba-naf's counters and their page (naf_metrics.h), on
 * lib/prom's writer.
 */
#include <string.h>

#include <gba/diameter_metrics.h>
#include <gba/naf.h>

#include "gba_prom.h"
#include "naf_metrics.h"
#include "service.h"
#include "ua_server.h"

static const char *const ua_names[NAF_UA__COUNT] = { "digest", "tls1.2", "tls1.3" };
static const char *const req_names[NAF_REQ__COUNT] = {
	"enrol", "key_registration", "key_retrieval", "other",
};
static const char *const psk_names[NAF_PSK__COUNT] = {
	"sni", "no_key", "not_target", "bad_identity", "wrong_binder",
};
static const char *const zn_names[5] = {
	"ok", "unknown_btid", "not_authorized", "unavailable", "error",
};

void naf_metrics_init(struct naf_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mtx, NULL);
	for (int i = 0; i < NAF_PSK__COUNT; i++)
		atomic_init(&m->psk_refused[i], 0);
	for (int i = 0; i < 5; i++)
		atomic_init(&m->zn[i], 0);
	atomic_init(&m->store_failures[0], 0);
	atomic_init(&m->store_failures[1], 0);
	m->start_time = time(NULL);
}

void naf_metrics_free(struct naf_metrics *m)
{
	pthread_mutex_destroy(&m->mtx);
}

static void inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The result's column, added when new; the last one when the table is full. */
static unsigned result_slot(struct naf_metrics *m, const char *result)
{
	for (unsigned i = 0; i < m->n_results; i++)
		if (!strcmp(m->results[i], result))
			return i;
	if (m->n_results == NAF_RESULTS_MAX)
		return NAF_RESULTS_MAX - 1;
	m->results[m->n_results] = result;
	return m->n_results++;
}

void naf_metrics_ua(struct naf_metrics *m, enum naf_ua ua, enum naf_request req,
		    const char *result)
{
	pthread_mutex_lock(&m->mtx);
	m->ua[ua][req][result_slot(m, result)]++;
	pthread_mutex_unlock(&m->mtx);
}

void naf_metrics_psk_refused(struct naf_metrics *m, enum naf_psk_refusal why)
{
	inc(&m->psk_refused[why]);
}

void naf_metrics_zn(struct naf_metrics *m, gba_err err)
{
	switch (err) {
	case GBA_OK: inc(&m->zn[0]); break;
	case GBA_ERR_NOT_FOUND: inc(&m->zn[1]); break;
	case GBA_ERR_NOT_AUTHORIZED: inc(&m->zn[2]); break;
	case GBA_ERR_UNAVAILABLE:
	case GBA_ERR_TIMEOUT: inc(&m->zn[3]); break;
	default: inc(&m->zn[4]); break;
	}
}

void naf_metrics_store_failure(struct naf_metrics *m, int unwritable)
{
	inc(&m->store_failures[unwritable ? 0 : 1]);
}

/* ---- The page ------------------------------------------------------------------ */

static void write_ua(struct gba_prom *p, struct naf_metrics *m)
{
	const char *name = "gba_naf_ua_requests_total";

	gba_prom_family(p, name, "counter",
			"Ua requests answered, by Ua protocol, request and result (ok, challenge "
			"or the error code of the answer).");
	pthread_mutex_lock(&m->mtx);
	for (int u = 0; u < NAF_UA__COUNT; u++)
		for (int r = 0; r < NAF_REQ__COUNT; r++)
			for (unsigned x = 0; x < m->n_results; x++)
				if (m->ua[u][r][x])
					gba_prom_sample(p, name,
							GBA_PROM_LABELS({ "ua", ua_names[u] },
									{ "request", req_names[r] },
									{ "result", m->results[x] }),
							m->ua[u][r][x]);
	pthread_mutex_unlock(&m->mtx);
}

static void write_psk(struct gba_prom *p, const struct naf_metrics *m)
{
	const char *name = "gba_naf_psk_refused_total";

	gba_prom_family(p, name, "counter", "TLS-PSK handshakes refused, by reason.");
	for (int i = 0; i < NAF_PSK__COUNT; i++)
		gba_prom_sample(p, name, GBA_PROM_LABELS({ "reason", psk_names[i] }),
				load(&m->psk_refused[i]));
}

/* Zn: look-ups by result (this daemon), requests and cache hits (libgba-naf). */
static void write_zn(struct gba_prom *p, struct naf_svc *s)
{
	const char *transport = s->cfg->zn_nbsp ? "nbsp" : "diameter";
	const char *name = "gba_naf_zn_fetches_total";
	struct gba_naf_stats zs;

	gba_naf_get_stats(s->zn, &zs);
	gba_prom_family(p, name, "counter",
			"Key look-ups through Zn (answers from the cache included), by transport "
			"and result.");
	for (int i = 0; i < 5; i++)
		gba_prom_sample(p, name, GBA_PROM_LABELS({ "transport", transport },
							 { "result", zn_names[i] }),
				load(&s->metrics.zn[i]));
	gba_prom_family(p, "gba_naf_zn_requests_total", "counter",
			"Requests sent to the BSF over Zn (BIRs, or Nbsp_GBA requests).");
	gba_prom_sample(p, "gba_naf_zn_requests_total",
			GBA_PROM_LABELS({ "transport", transport }), zs.birs);
	gba_prom_counter(p, "gba_naf_zn_cache_hits_total", "Look-ups answered from the cache.",
			 zs.cache_hits);
	gba_prom_gauge(p, "gba_naf_zn_cache_entries", "Answers in the cache.", zs.cached);
}

static void write_store(struct gba_prom *p, struct naf_svc *s)
{
	const char *name = "gba_naf_store_write_failures_total";
	unsigned nodes = 0, keys = 0, revoked = 0;
	int ok = ks_counts(s->ks, &nodes, &keys, &revoked) == GBA_OK;

	gba_prom_gauge(p, "gba_naf_store_writable",
		       "0 while the key store cannot write (disk full): enrolments get 503.",
		       !atomic_load_explicit(&s->store_down, memory_order_relaxed));
	gba_prom_family(p, name, "counter",
			"Enrolment and key registration writes that failed, by reason.");
	gba_prom_sample(p, name, GBA_PROM_LABELS({ "reason", "unwritable" }),
			load(&s->metrics.store_failures[0]));
	gba_prom_sample(p, name, GBA_PROM_LABELS({ "reason", "error" }),
			load(&s->metrics.store_failures[1]));
	gba_prom_gauge(p, "gba_naf_store_up", "1 when the key store answered this scrape.",
		       (uint64_t)ok);
	if (!ok)
		return;
	gba_prom_gauge(p, "gba_naf_nodes", "Enrolled nodes (unexpired Km).", nodes);
	gba_prom_gauge(p, "gba_naf_keys", "Registered session keys.", keys);
	gba_prom_gauge(p, "gba_naf_revoked", "Revocations in force.", revoked);
}

/* One family per connection count, a sample per Ua port. */
static void write_conns(struct gba_prom *p, struct naf_svc *s)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "gba_naf_ua_connections_open", "gauge", "Ua connections open." },
		{ "gba_naf_ua_connections_accepted_total", "counter", "Ua connections accepted." },
		{ "gba_naf_ua_connections_evicted_total", "counter",
		  "Waiting Ua connections closed to make room (ua.max_connections, per address)." },
		{ "gba_naf_ua_connections_timed_out_total", "counter",
		  "Ua connections closed at their handshake or header deadline." },
		{ "gba_naf_ua_connections_refused_total", "counter",
		  "Ua connections refused at accept: nothing could be evicted." },
	};
	struct ua_conn_stats st[2];
	const char *port[2] = { "digest", "tls" };

	ua_server_stats(s->ua_digest, &st[0]);
	ua_server_stats(s->ua_tls, &st[1]);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		gba_prom_family(p, fam[f].name, fam[f].type, fam[f].help);
		for (int i = 0; i < 2; i++) {
			uint64_t v[] = { st[i].open, st[i].accepted, st[i].evicted, st[i].timed_out,
					 st[i].refused };
			gba_prom_sample(p, fam[f].name, GBA_PROM_LABELS({ "port", port[i] }), v[f]);
		}
	}
}

size_t naf_metrics_render(struct naf_svc *s, char *buf, size_t size)
{
	struct gba_prom p;

	gba_prom_init(&p, buf, size);
	gba_prom_build_info(&p, "gba-naf");
	write_ua(&p, &s->metrics);
	write_psk(&p, &s->metrics);
	write_zn(&p, s);
	write_store(&p, s);
	write_conns(&p, s);
	gba_dia_metrics_write(gba_naf_dia(s->zn), &p);
	gba_prom_gauge(&p, "process_start_time_seconds", "Start time since the Unix epoch.",
		       (uint64_t)s->metrics.start_time);
	return gba_prom_end(&p);
}
