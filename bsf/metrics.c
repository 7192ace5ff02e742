/*
 * metrics.c - counters and their Prometheus text rendering.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static const char *const cause_names[CAUSE__COUNT] = {
	[CAUSE_NONE] = "none",
	[CAUSE_UNKNOWN_USER] = "unknown_user",
	[CAUSE_WRONG_RESPONSE] = "wrong_response",
	[CAUSE_MAC_FAILURE] = "mac_failure",
	[CAUSE_STALE_NONCE] = "stale_nonce",
	[CAUSE_REPLAYED_NONCE] = "replayed_nonce",
	[CAUSE_UNKNOWN_NONCE] = "unknown_nonce",
	[CAUSE_BAD_AUTS] = "bad_auts",
	[CAUSE_MALFORMED] = "malformed",
	[CAUSE_HSS_UNAVAILABLE] = "hss_unavailable",
	[CAUSE_OVERLOAD] = "overload",
	[CAUSE_STORE] = "store_error",
	[CAUSE_STORE_UNWRITABLE] = "store_unwritable",
	[CAUSE_BTID_COLLISION] = "btid_collision",
	[CAUSE_INTERNAL] = "internal",
};

/* Upper bounds of the latency buckets, microseconds. */
static const uint64_t bucket_us[METRICS_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 1000000, 5000000,
};

const char *bsf_cause_name(enum bsf_cause cause)
{
	return (unsigned)cause < CAUSE__COUNT ? cause_names[cause] : "internal";
}

void metrics_init(struct bsf_metrics *m)
{
	atomic_init(&m->requests, 0);
	atomic_init(&m->challenges, 0);
	atomic_init(&m->bootstraps, 0);
	atomic_init(&m->resyncs, 0);
	atomic_init(&m->zn_requests, 0);
	atomic_init(&m->zn_keys, 0);
	atomic_init(&m->zn_unknown_btid, 0);
	atomic_init(&m->zn_not_authorized, 0);
	atomic_init(&m->zn_errors, 0);
	atomic_init(&m->ub_connections_open, 0);
	atomic_init(&m->ub_connections_evicted, 0);
	atomic_init(&m->ub_connections_refused_full, 0);
	atomic_init(&m->ub_connections_refused_per_ip, 0);
	atomic_init(&m->ub_shed, 0);
	atomic_init(&m->challenges_replaced, 0);
	atomic_init(&m->challenges_reused, 0);
	atomic_init(&m->challenges_refused_rate, 0);
	atomic_init(&m->challenges_refused_per_ip, 0);
	atomic_init(&m->gsup_outages, 0);
	atomic_init(&m->gsup_dropped, 0);
	for (size_t i = 0; i < CAUSE__COUNT; i++)
		atomic_init(&m->failures[i], 0);
	for (size_t i = 0; i <= METRICS_BUCKETS; i++)
		atomic_init(&m->latency_bucket[i], 0);
	atomic_init(&m->latency_sum_us, 0);
}

/*
 * Buckets are kept non-cumulative (one increment per request); the
 * rendering adds them up as Prometheus wants.
 */
void metrics_observe_latency(struct bsf_metrics *m, uint64_t us)
{
	size_t i = 0;

	while (i < METRICS_BUCKETS && us > bucket_us[i])
		i++;
	metrics_inc(&m->latency_bucket[i]);
	atomic_fetch_add_explicit(&m->latency_sum_us, us, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Appends to a fixed buffer; remembers overflow instead of checking each call. */
struct out_buf {
	char *p;
	size_t size, len;
	int overflow;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len)
		b->overflow = 1;
	else
		b->len += (size_t)n;
}

static void put_counter(struct out_buf *b, const char *name, const char *help, uint64_t v)
{
	put(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void put_gauge(struct out_buf *b, const char *name, const char *help, uint64_t v)
{
	put(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void put_failures(struct out_buf *b, const struct bsf_metrics *m)
{
	put(b, "# HELP gba_bsf_failures_total Ub requests that did not end in a session, "
	       "by cause.\n# TYPE gba_bsf_failures_total counter\n");
	for (size_t i = 1; i < CAUSE__COUNT; i++)
		put(b, "gba_bsf_failures_total{cause=\"%s\"} %llu\n", cause_names[i],
		    (unsigned long long)load(&m->failures[i]));
}

static void put_latency(struct out_buf *b, const struct bsf_metrics *m)
{
	uint64_t cum = 0;

	put(b, "# HELP gba_bsf_request_duration_seconds Time from a Ub request's arrival "
	       "to its response.\n# TYPE gba_bsf_request_duration_seconds histogram\n");
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += load(&m->latency_bucket[i]);
		put(b, "gba_bsf_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)bucket_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += load(&m->latency_bucket[METRICS_BUCKETS]);
	put(b, "gba_bsf_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cum);
	put(b, "gba_bsf_request_duration_seconds_sum %.6f\n",
	    (double)load(&m->latency_sum_us) / 1e6);
	put(b, "gba_bsf_request_duration_seconds_count %llu\n", (unsigned long long)cum);
}

/* Whether the session store can write (a full disk: 0, bootstraps get 503). */
static void put_store_health(struct out_buf *b, const struct gba_session_store_health *h)
{
	put_gauge(b, "gba_bsf_store_writable",
		  "0 while the session store cannot write (disk full): bootstraps get 503.",
		  (uint64_t)h->writable);
	put_counter(b, "gba_bsf_store_write_failures_total",
		    "Session store write transactions that failed (kept and retried).",
		    h->write_failures);
	put_gauge(b, "gba_bsf_store_unwritten",
		  "Sessions acknowledged and held in memory, not yet in the store's file.",
		  h->unwritten);
}

/* Zn's BIRs: one counter with the outcome as a label. */
static void put_zn(struct out_buf *b, const struct bsf_metrics *m)
{
	put_counter(b, "gba_bsf_zn_requests_total", "Zn BIRs answered by the BSF.",
		    load(&m->zn_requests));
	put(b, "# HELP gba_bsf_zn_answers_total Zn BIAs by outcome.\n"
	       "# TYPE gba_bsf_zn_answers_total counter\n"
	       "gba_bsf_zn_answers_total{result=\"keys\"} %llu\n"
	       "gba_bsf_zn_answers_total{result=\"unknown_btid\"} %llu\n"
	       "gba_bsf_zn_answers_total{result=\"not_authorized\"} %llu\n"
	       "gba_bsf_zn_answers_total{result=\"error\"} %llu\n",
	    (unsigned long long)load(&m->zn_keys), (unsigned long long)load(&m->zn_unknown_btid),
	    (unsigned long long)load(&m->zn_not_authorized),
	    (unsigned long long)load(&m->zn_errors));
}

/* What the limits of issue 15 turned away: connections and challenges. */
static void put_limits(struct out_buf *b, const struct bsf_metrics *m)
{
	put_gauge(b, "gba_bsf_ub_connections_open", "Ub connections open.",
		  load(&m->ub_connections_open));
	put_counter(b, "gba_bsf_ub_connections_evicted_total",
		    "Ub connections closed at max_connections to make room (idle longest).",
		    load(&m->ub_connections_evicted));
	put(b, "# HELP gba_bsf_ub_connections_refused_total Ub connections closed at "
	       "accept, by limit.\n# TYPE gba_bsf_ub_connections_refused_total counter\n"
	       "gba_bsf_ub_connections_refused_total{reason=\"max_connections\"} %llu\n"
	       "gba_bsf_ub_connections_refused_total{reason=\"per_ip\"} %llu\n",
	    (unsigned long long)load(&m->ub_connections_refused_full),
	    (unsigned long long)load(&m->ub_connections_refused_per_ip));
	put_counter(b, "gba_bsf_ub_shed_total",
		    "New Ub connections (at accept) and first requests answered 503 with "
		    "Retry-After: ub.admission_limit requests were queued or in progress.",
		    load(&m->ub_shed));
	put(b, "# HELP gba_bsf_challenges_shed_total Challenges not drawn or not kept "
	       "because of the per-IMPI and per-address limits.\n"
	       "# TYPE gba_bsf_challenges_shed_total counter\n"
	       "gba_bsf_challenges_shed_total{reason=\"replaced\"} %llu\n"
	       "gba_bsf_challenges_shed_total{reason=\"reused\"} %llu\n"
	       "gba_bsf_challenges_shed_total{reason=\"impi_rate\"} %llu\n"
	       "gba_bsf_challenges_shed_total{reason=\"per_ip\"} %llu\n",
	    (unsigned long long)load(&m->challenges_replaced),
	    (unsigned long long)load(&m->challenges_reused),
	    (unsigned long long)load(&m->challenges_refused_rate),
	    (unsigned long long)load(&m->challenges_refused_per_ip));
}

/* The GSUP link's trouble (av.source = gsup); the 503s are failures{cause="hss_unavailable"}. */
static void put_gsup(struct out_buf *b, const struct bsf_metrics *m)
{
	put_counter(b, "gba_bsf_gsup_outages_total",
		    "Times the GSUP link to the HLR went down (av.source = gsup).",
		    load(&m->gsup_outages));
	put_counter(b, "gba_bsf_gsup_dropped_total",
		    "Malformed or unexpected GSUP messages dropped.", load(&m->gsup_dropped));
}

size_t metrics_render(const struct bsf_metrics *m, const struct metrics_gauges *g,
		      char *out, size_t out_size)
{
	struct out_buf b = { out, out_size, 0, 0 };

	put_counter(&b, "gba_bsf_requests_total", "Ub requests answered.", load(&m->requests));
	put_counter(&b, "gba_bsf_challenges_total", "401 challenges sent (resyncs included).",
		    load(&m->challenges));
	put_counter(&b, "gba_bsf_bootstraps_total", "Bootstraps that created a session.",
		    load(&m->bootstraps));
	put_counter(&b, "gba_bsf_resyncs_total", "SQN resynchronisations done.",
		    load(&m->resyncs));
	put_failures(&b, m);
	put_gauge(&b, "gba_bsf_challenges_pending", "Challenges awaiting an answer.",
		  g->challenges_pending);
	if (g->store_ok) {
		put_gauge(&b, "gba_bsf_sessions_live", "Unexpired sessions in the store.",
			  g->sessions_live);
		put_gauge(&b, "gba_bsf_store_bytes", "Bytes the store spends on sessions.",
			  g->store_bytes);
	}
	put_gauge(&b, "gba_bsf_store_up", "1 when the session store answered this scrape.",
		  (uint64_t)g->store_ok);
	put_store_health(&b, &g->store_health);
	put_latency(&b, m);
	put_zn(&b, m);
	put_limits(&b, m);
	put_gsup(&b, m);
	put(&b, "# HELP process_cpu_seconds_total User and system CPU time of the BSF.\n"
		"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
	    g->cpu_seconds);
	put(&b, "# HELP process_start_time_seconds Start time since the Unix epoch.\n"
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %llu\n",
	    (unsigned long long)g->start_time);
	return b.overflow ? 0 : b.len;
}
