/*
 * hss_metrics.h - gba-hss-sim's counters and its metrics listener
 * (--metrics ADDR:PORT, off by default): GET /metrics in the Prometheus
 * text format, everything else 404.  docs/hss-simulator.md lists the
 * families.
 */
#ifndef GBA_HSS_METRICS_H
#define GBA_HSS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <gba/error.h>

/* What the AuC answered a MAR (the result label). */
enum hss_mar_result {
	HSS_MAR_VECTOR,            /* a vector went out: an SQN was reserved */
	HSS_MAR_UNKNOWN_USER,      /* 5401 */
	HSS_MAR_AUTS_INVALID,      /* 5004: AUTS's MAC-S does not verify */
	HSS_MAR_STORE_UNWRITABLE,  /* 4002: the SQN could not be stored (disk full) */
	HSS_MAR_ERROR,             /* 5012: anything else */
	HSS_MAR__COUNT
};

/* Why an SQN could not be reserved (sqn_failures' reason label). */
enum hss_sqn_failure {
	HSS_SQN_STORE_UNWRITABLE,  /* the database cannot write now */
	HSS_SQN_STORE_ERROR,       /* the database failed */
	HSS_SQN_RANGE,             /* the SQN would leave its 48 bits */
	HSS_SQN__COUNT
};

struct hss_metrics {
	/* [0] authentication MARs, [1] resynchronisations (AUTS) */
	atomic_uint_fast64_t mars[2][HSS_MAR__COUNT];
	atomic_uint_fast64_t sqn_reserved;
	atomic_uint_fast64_t sqn_failures[HSS_SQN__COUNT];
	time_t start_time;
};

void hss_metrics_init(struct hss_metrics *m);

/* One MAR the AuC answered: resync when it carried an AUTS; err what the
 * database said (GBA_OK: a vector, its SQN reserved). */
void hss_metrics_mar(struct hss_metrics *m, int resync, gba_err err);

struct hss_metrics_http;
struct gba_dia;
struct gba_log;

/*
 * Serve GET /metrics on address:port (numeric address): the counters of m
 * and the Diameter node dia's families; libmicrohttpd's messages to log.
 * 0, or -1 with a message in err.
 */
int hss_metrics_start(struct hss_metrics_http **out, const char *address, unsigned port,
		      const struct hss_metrics *m, struct gba_dia *dia,
		      const struct gba_log *log, char *err, size_t err_size);
void hss_metrics_stop(struct hss_metrics_http *h);

/* The page, into buf: its length, or 0 when buf is too small. */
size_t hss_metrics_render(const struct hss_metrics *m, struct gba_dia *dia, char *buf,
			  size_t size);

#endif /* GBA_HSS_METRICS_H */
