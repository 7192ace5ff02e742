/*
 * naf_metrics.h - gba-naf's counters and its /metrics page (the admin
 * port, Prometheus text format): Ua requests by protocol, request and
 * result, TLS-PSK handshakes refused, Zn look-ups by transport and result,
 * the key store's writes, the Ua ports' connections, and the Diameter
 * node's families.  docs/naf.md lists them.
 */
#ifndef GBA_NAF_METRICS_H
#define GBA_NAF_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gba/error.h>

/* The Ua protocol a request came over (the ua label). */
enum naf_ua {
	NAF_UA_DIGEST,   /* HTTP Digest AKA (ua_digest.c) */
	NAF_UA_TLS12,    /* TLS-PSK, TLS 1.2 (ua_tls.c) */
	NAF_UA_TLS13,    /* TLS-PSK, TLS 1.3 */
	NAF_UA__COUNT
};

/* What was asked (the request label). */
enum naf_request {
	NAF_REQ_ENROL,       /* POST /m2m/enrol: Km */
	NAF_REQ_REGISTER,    /* POST /m2m/keys: a session key registered */
	NAF_REQ_RETRIEVE,    /* GET /m2m/keys/<id>: a target takes a key */
	NAF_REQ_OTHER,       /* anything else (404, 405, 413, 421) */
	NAF_REQ__COUNT
};

/* Why a TLS-PSK handshake was refused (the reason label). */
enum naf_psk_refusal {
	NAF_PSK_SNI,          /* no SNI, or not the NAF's FQDN */
	NAF_PSK_NO_KEY,       /* a node's B-TID: no Km (Zn refused, revoked) */
	NAF_PSK_NOT_TARGET,   /* a target CSE that is not configured */
	NAF_PSK_BAD_IDENTITY, /* the psk_identity does not parse */
	NAF_PSK_WRONG_BINDER, /* TLS 1.3: the binder does not verify under the key */
	NAF_PSK__COUNT
};

/* Ua results: "ok", "challenge" or an error code of struct svc_error; a
 * small table, since the codes are the program's own constants. */
#define NAF_RESULTS_MAX 32

struct naf_metrics {
	pthread_mutex_t mtx;   /* the results table */
	const char *results[NAF_RESULTS_MAX];
	unsigned n_results;
	uint64_t ua[NAF_UA__COUNT][NAF_REQ__COUNT][NAF_RESULTS_MAX];
	atomic_uint_fast64_t psk_refused[NAF_PSK__COUNT];
	/* Zn look-ups (gba_naf_fetch_key, the cache included) by result:
	 * ok, unknown_btid, not_authorized, unavailable, error */
	atomic_uint_fast64_t zn[5];
	atomic_uint_fast64_t store_failures[2];   /* [0] unwritable, [1] other */
	time_t start_time;
};

void naf_metrics_init(struct naf_metrics *m);
void naf_metrics_free(struct naf_metrics *m);

/* One Ua request answered: result "ok", "challenge" or an error code
 * (a string constant: the table keeps the pointer). */
void naf_metrics_ua(struct naf_metrics *m, enum naf_ua ua, enum naf_request req,
		    const char *result);
void naf_metrics_psk_refused(struct naf_metrics *m, enum naf_psk_refusal why);
/* One Zn look-up and what it returned. */
void naf_metrics_zn(struct naf_metrics *m, gba_err err);
/* One key store write that failed (unwritable: the disk is full). */
void naf_metrics_store_failure(struct naf_metrics *m, int unwritable);

struct naf_svc;

/* The page into buf: its length, or 0 when buf is too small. */
size_t naf_metrics_render(struct naf_svc *s, char *buf, size_t size);

#endif /* GBA_NAF_METRICS_H */
