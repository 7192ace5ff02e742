/*
 * metrics.c - counters and their Prometheus text rendering (lib/prom's
 * writer: the names are documented in docs/bsf.md and the tests read them).
 */
#include <stdio.h>

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
	atomic_init(&m->ub_shed_queued, 0);
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

/* One labelled sample of a family whose single label is key. */
static void put_by(struct gba_prom *p, const char *name, const char *key, const char *value,
		   const atomic_uint_fast64_t *c)
{
	gba_prom_sample(p, name, GBA_PROM_LABELS({ key, value }), load(c));
}

static void put_failures(struct gba_prom *p, const struct bsf_metrics *m)
{
	gba_prom_family(p, "gba_bsf_failures_total", "counter",
			"Ub requests that did not end in a session, by cause.");
	for (size_t i = 1; i < CAUSE__COUNT; i++)
		put_by(p, "gba_bsf_failures_total", "cause", cause_names[i], &m->failures[i]);
}

static void put_latency(struct gba_prom *p, const struct bsf_metrics *m)
{
	const char *name = "gba_bsf_request_duration_seconds_bucket";
	uint64_t cum = 0;
	char le[32];

	gba_prom_family(p, "gba_bsf_request_duration_seconds", "histogram",
			"Time from a Ub request's arrival to its response.");
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += load(&m->latency_bucket[i]);
		snprintf(le, sizeof(le), "%g", (double)bucket_us[i] / 1e6);
		gba_prom_sample(p, name, GBA_PROM_LABELS({ "le", le }), cum);
	}
	cum += load(&m->latency_bucket[METRICS_BUCKETS]);
	gba_prom_sample(p, name, GBA_PROM_LABELS({ "le", "+Inf" }), cum);
	gba_prom_sample_f(p, "gba_bsf_request_duration_seconds_sum", GBA_PROM_NO_LABELS,
			  (double)load(&m->latency_sum_us) / 1e6);
	gba_prom_sample(p, "gba_bsf_request_duration_seconds_count", GBA_PROM_NO_LABELS, cum);
}

/* Whether the session store can write (a full disk: 0, bootstraps get 503). */
static void put_store_health(struct gba_prom *p, const struct gba_session_store_health *h)
{
	gba_prom_gauge(p, "gba_bsf_store_writable",
		       "0 while the session store cannot write (disk full): bootstraps get 503.",
		       (uint64_t)h->writable);
	gba_prom_counter(p, "gba_bsf_store_write_failures_total",
			 "Session store write transactions that failed (kept and retried).",
			 h->write_failures);
	gba_prom_gauge(p, "gba_bsf_store_unwritten",
		       "Sessions acknowledged and held in memory, not yet in the store's file.",
		       h->unwritten);
}

/* Zn's BIRs: one counter with the outcome as a label. */
static void put_zn(struct gba_prom *p, const struct bsf_metrics *m)
{
	const char *name = "gba_bsf_zn_answers_total";

	gba_prom_counter(p, "gba_bsf_zn_requests_total", "Zn BIRs answered by the BSF.",
			 load(&m->zn_requests));
	gba_prom_family(p, name, "counter", "Zn BIAs by outcome.");
	put_by(p, name, "result", "keys", &m->zn_keys);
	put_by(p, name, "result", "unknown_btid", &m->zn_unknown_btid);
	put_by(p, name, "result", "not_authorized", &m->zn_not_authorized);
	put_by(p, name, "result", "error", &m->zn_errors);
}

/* What the limits of issue 15 turned away: connections and challenges. */
static void put_limits(struct gba_prom *p, const struct bsf_metrics *m)
{
	const char *refused = "gba_bsf_ub_connections_refused_total";
	const char *shed = "gba_bsf_challenges_shed_total";

	gba_prom_gauge(p, "gba_bsf_ub_connections_open", "Ub connections open.",
		       load(&m->ub_connections_open));
	gba_prom_counter(p, "gba_bsf_ub_connections_evicted_total",
			 "Ub connections closed at max_connections to make room (idle longest).",
			 load(&m->ub_connections_evicted));
	gba_prom_family(p, refused, "counter", "Ub connections closed at accept, by limit.");
	put_by(p, refused, "reason", "max_connections", &m->ub_connections_refused_full);
	put_by(p, refused, "reason", "per_ip", &m->ub_connections_refused_per_ip);
	gba_prom_counter(p, "gba_bsf_ub_shed_total",
			 "New Ub connections (at accept) and first requests answered 503 with "
			 "Retry-After: ub.admission_limit requests were queued or in progress, or "
			 "the request waited unread over ub.max_queue_wait_ms.",
			 load(&m->ub_shed));
	gba_prom_counter(p, "gba_bsf_ub_shed_queued_total",
			 "First Ub requests answered 503 with Retry-After because they waited "
			 "unread in their socket over ub.max_queue_wait_ms (also in "
			 "gba_bsf_ub_shed_total).",
			 load(&m->ub_shed_queued));
	gba_prom_family(p, shed, "counter",
			"Challenges not drawn or not kept because of the per-IMPI and "
			"per-address limits.");
	put_by(p, shed, "reason", "replaced", &m->challenges_replaced);
	put_by(p, shed, "reason", "reused", &m->challenges_reused);
	put_by(p, shed, "reason", "impi_rate", &m->challenges_refused_rate);
	put_by(p, shed, "reason", "per_ip", &m->challenges_refused_per_ip);
}

/* The GSUP link's trouble (av.source = gsup); the 503s are failures{cause="hss_unavailable"}. */
static void put_gsup(struct gba_prom *p, const struct bsf_metrics *m)
{
	gba_prom_counter(p, "gba_bsf_gsup_outages_total",
			 "Times the GSUP link to the HLR went down (av.source = gsup).",
			 load(&m->gsup_outages));
	gba_prom_counter(p, "gba_bsf_gsup_dropped_total",
			 "Malformed or unexpected GSUP messages dropped.", load(&m->gsup_dropped));
}

/* The spare-vector cache (gsup, cx): how full, and the SQNs it wasted. */
static void put_spares(struct gba_prom *p, const struct av_spare_stats *s)
{
	const char *dropped = "gba_bsf_spare_vectors_dropped_total";

	gba_prom_gauge(p, "gba_bsf_spare_users",
		       "Users whose spare vectors are kept now (at most av.spare_users).", s->users);
	gba_prom_gauge(p, "gba_bsf_spare_vectors", "Spare vectors kept now, unused.", s->vectors);
	gba_prom_family(p, dropped, "counter",
			"Spare vectors dropped unused (each a SQN spent for nothing), by reason: "
			"evicted (av.spare_users full), expired (the spare_ttl), resync, "
			"replaced (by a later answer's).");
	gba_prom_sample(p, dropped, GBA_PROM_LABELS({ "reason", "evicted" }), s->evicted);
	gba_prom_sample(p, dropped, GBA_PROM_LABELS({ "reason", "expired" }), s->expired);
	gba_prom_sample(p, dropped, GBA_PROM_LABELS({ "reason", "resync" }), s->resync);
	gba_prom_sample(p, dropped, GBA_PROM_LABELS({ "reason", "replaced" }), s->replaced);
}

static void put_process(struct gba_prom *p, const struct metrics_gauges *g)
{
	gba_prom_family(p, "process_cpu_seconds_total", "counter",
			"User and system CPU time of the BSF.");
	gba_prom_sample_f(p, "process_cpu_seconds_total", GBA_PROM_NO_LABELS, g->cpu_seconds);
	gba_prom_gauge(p, "process_start_time_seconds", "Start time since the Unix epoch.",
		       g->start_time);
}

void metrics_write(struct gba_prom *p, const struct bsf_metrics *m,
		   const struct metrics_gauges *g)
{
	gba_prom_counter(p, "gba_bsf_requests_total", "Ub requests answered.",
			 load(&m->requests));
	gba_prom_counter(p, "gba_bsf_challenges_total", "401 challenges sent (resyncs included).",
			 load(&m->challenges));
	gba_prom_counter(p, "gba_bsf_bootstraps_total", "Bootstraps that created a session.",
			 load(&m->bootstraps));
	gba_prom_counter(p, "gba_bsf_resyncs_total", "SQN resynchronisations done.",
			 load(&m->resyncs));
	put_failures(p, m);
	gba_prom_gauge(p, "gba_bsf_challenges_pending", "Challenges awaiting an answer.",
		       g->challenges_pending);
	if (g->store_ok) {
		gba_prom_gauge(p, "gba_bsf_sessions_live", "Unexpired sessions in the store.",
			       g->sessions_live);
		gba_prom_gauge(p, "gba_bsf_store_bytes", "Bytes the store spends on sessions.",
			       g->store_bytes);
	}
	gba_prom_gauge(p, "gba_bsf_store_up", "1 when the session store answered this scrape.",
		       (uint64_t)g->store_ok);
	put_store_health(p, &g->store_health);
	put_latency(p, m);
	put_zn(p, m);
	put_limits(p, m);
	put_gsup(p, m);
	if (g->have_spares)
		put_spares(p, &g->spares);
	put_process(p, g);
}

size_t metrics_render(const struct bsf_metrics *m, const struct metrics_gauges *g,
		      char *out, size_t out_size)
{
	struct gba_prom p;

	gba_prom_init(&p, out, out_size);
	metrics_write(&p, m, g);
	return gba_prom_end(&p);
}
