/*
 * metrics.h - the BSF's counters, shown on the admin port as Prometheus
 * text.  Every counter is a relaxed atomic: worker threads bump them
 * without a lock, and a scrape reads a consistent-enough snapshot.
 */
#ifndef GBA_BSF_METRICS_H
#define GBA_BSF_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <gba/session_store.h>

#include "av_spare.h"
#include "gba_prom.h"

/* Why a Ub request did not end in a session. */
enum bsf_cause {
	CAUSE_NONE = 0,
	CAUSE_UNKNOWN_USER,     /* the AV source does not know the IMPI */
	CAUSE_WRONG_RESPONSE,   /* the digest response does not verify */
	CAUSE_MAC_FAILURE,      /* the UE's card rejected AUTN (empty password) */
	CAUSE_STALE_NONCE,      /* the challenge expired */
	CAUSE_REPLAYED_NONCE,   /* the challenge was answered already */
	CAUSE_UNKNOWN_NONCE,    /* not a nonce of this BSF process */
	CAUSE_BAD_AUTS,         /* AUTS's MAC-S does not verify */
	CAUSE_MALFORMED,        /* not a well-formed Ub request (400, 405, 413) */
	CAUSE_HSS_UNAVAILABLE,  /* the AV source is down or slow (503) */
	CAUSE_OVERLOAD,         /* the pending-challenge table is full (503) */
	CAUSE_STORE,            /* the session store failed */
	CAUSE_STORE_UNWRITABLE, /* a store cannot write now: disk full (503) */
	CAUSE_BTID_COLLISION,   /* the vector's RAND is the B-TID of a live session (500) */
	CAUSE_INTERNAL,         /* anything else (500) */
	CAUSE__COUNT
};

/* Prometheus label value of a cause, e.g. "unknown_user". */
const char *bsf_cause_name(enum bsf_cause cause);

/* Request latency buckets, upper bounds in microseconds; +Inf follows. */
#define METRICS_BUCKETS 14

struct bsf_metrics {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t challenges;      /* 401 challenges sent, resyncs included */
	atomic_uint_fast64_t bootstraps;      /* sessions created */
	atomic_uint_fast64_t resyncs;
	atomic_uint_fast64_t failures[CAUSE__COUNT];
	atomic_uint_fast64_t latency_bucket[METRICS_BUCKETS + 1];
	atomic_uint_fast64_t latency_sum_us;
	/* Zn (bsf/zn/): BIRs answered by the BSF's handler, by outcome.
	 * Malformed BIRs are answered by libgba-diameter and not counted. */
	atomic_uint_fast64_t zn_requests;
	atomic_uint_fast64_t zn_keys;             /* keys sent */
	atomic_uint_fast64_t zn_unknown_btid;     /* 5403 */
	atomic_uint_fast64_t zn_not_authorized;   /* 5402 */
	atomic_uint_fast64_t zn_errors;           /* 5012: store or KDF failure */
	/* Ub connections (bsf/ub_conns.c). */
	atomic_uint_fast64_t ub_connections_open;           /* a gauge */
	atomic_uint_fast64_t ub_connections_evicted;        /* closed to make room */
	atomic_uint_fast64_t ub_connections_refused_full;   /* nothing could be closed */
	atomic_uint_fast64_t ub_connections_refused_per_ip;
	atomic_uint_fast64_t ub_shed;   /* connections and first requests answered 503 at
					   ub.admission_limit or ub.max_queue_wait_ms */
	atomic_uint_fast64_t ub_shed_queued;   /* of them: first requests over max_queue_wait_ms */
	/* Pending challenges shed (bsf/challenge.c). */
	atomic_uint_fast64_t challenges_replaced;   /* an IMPI's oldest, for its newest */
	atomic_uint_fast64_t challenges_reused;     /* sent again instead of a new vector */
	atomic_uint_fast64_t challenges_refused_rate;    /* 503: IMPI over its rate */
	atomic_uint_fast64_t challenges_refused_per_ip;  /* 503: address at its cap */
	/* GSUP (av.source = gsup, bsf/gsup_link.c): */
	atomic_uint_fast64_t gsup_outages;        /* times the HLR became unreachable */
	atomic_uint_fast64_t gsup_dropped;        /* malformed or unexpected messages */
};

void metrics_init(struct bsf_metrics *m);

static inline void metrics_inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* One request's time from its arrival to its response, in microseconds. */
void metrics_observe_latency(struct bsf_metrics *m, uint64_t us);

/* Values the scrape asks others for. */
struct metrics_gauges {
	uint64_t challenges_pending;
	uint64_t sessions_live;
	uint64_t store_bytes;
	int store_ok;               /* 0: the store could not be asked */
	struct gba_session_store_health store_health;
	double cpu_seconds;         /* user + system of this process */
	uint64_t start_time;        /* Unix seconds */
	int have_spares;            /* the AV source keeps spare vectors (gsup, cx) */
	struct av_spare_stats spares;
};

/* Append the BSF's own families to p (the admin port adds gba_build_info
 * and the Diameter node's around them). */
void metrics_write(struct gba_prom *p, const struct bsf_metrics *m,
		   const struct metrics_gauges *g);

/*
 * Render the BSF's own families as Prometheus text format 0.0.4 into out.
 * Returns the length, or 0 when out is too small.
 */
size_t metrics_render(const struct bsf_metrics *m, const struct metrics_gauges *g,
		      char *out, size_t out_size);

#endif /* GBA_BSF_METRICS_H */
