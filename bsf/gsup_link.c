/*
 * gsup_link.c - the GSUP thread: libosmocore's select loop carrying one
 * libosmo-gsup-client connection, fed by worker threads through a queue
 * and an eventfd.  See gsup_link.h.
 *
 * A request lives in the caller's hands until it is queued; then the
 * mutex guards it.  The loop sends it, or answers it at once when the
 * link is down, and keeps it in the in-flight list until the HLR answers
 * (matched by IMSI, oldest first: osmo-hlr answers each connection in
 * order), the link drops, or it is GSUP_STALE_S old.  A caller that
 * stops waiting marks it abandoned; whoever finishes it last frees it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <osmocom/core/logging.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/gsm/protocol/gsm_04_08_gprs.h>
#include <osmocom/gsupclient/gsup_client.h>

#include <gba/util.h>

#include "gsup_link.h"

#define GSUP_STALE_S 30      /* an unanswered request is dropped after this */

enum req_state { REQ_QUEUED, REQ_SENT, REQ_DONE };

struct gsup_req {
	struct gsup_req *next;
	char imsi[OSMO_IMSI_BUF_SIZE];
	uint8_t rand[16];
	uint8_t auts[14];
	int resync;
	enum req_state state;
	int abandoned;          /* the caller gave up: the loop frees it */
	time_t sent;            /* CLOCK_MONOTONIC seconds */
	gba_err err;
	struct gba_av av[GSUP_LINK_MAX_AV];
	size_t n;
	uint64_t order;         /* the answer's number (gsup_link_sai) */
	pthread_cond_t done;
};

struct gsup_link {
	pthread_mutex_t lock;
	struct gsup_req *queue, **queue_tail;   /* waiting for the loop */
	struct gsup_req *inflight;             /* sent, oldest first */
	int up;                                /* the IPA link is connected */
	int slow;                              /* a request timed out, none answered since */
	uint64_t answers;                      /* numbers the answers, in arrival order */
	int stop;
	int efd;
	pthread_t thread;

	/* The loop thread's own (no lock): */
	void *ctx;
	struct osmo_fd ofd;
	struct osmo_gsup_client *client;
	struct ipaccess_unit *unit;
	struct osmo_timer_list reconnect, sweep;
	unsigned backoff_s;
	int outage;             /* logged as down, not yet as back */

	char host[64];
	unsigned port;
	char name[64];
	void (*log)(void *arg, int level, const char *line);
	void *log_arg;
	struct bsf_metrics *metrics;
};

__attribute__((format(printf, 3, 4)))
static void say(struct gsup_link *l, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (l->log)
		l->log(l->log_arg, level, line);
}

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- finishing requests (lock held) ------------------------------------------- */

static void req_free(struct gsup_req *r)
{
	pthread_cond_destroy(&r->done);
	gba_wipe(r, sizeof(*r));
	free(r);
}

static void req_finish(struct gsup_req *r, gba_err err)
{
	r->err = err;
	r->state = REQ_DONE;
	if (r->abandoned)
		req_free(r);
	else
		pthread_cond_signal(&r->done);
}

/* Unlink and return the oldest in-flight request for imsi, or NULL. */
static struct gsup_req *take_inflight(struct gsup_link *l, const char *imsi)
{
	for (struct gsup_req **p = &l->inflight; *p; p = &(*p)->next) {
		struct gsup_req *r = *p;

		if (!strcmp(r->imsi, imsi)) {
			*p = r->next;
			r->next = NULL;
			return r;
		}
	}
	return NULL;
}

static void append_inflight(struct gsup_link *l, struct gsup_req *r)
{
	struct gsup_req **p = &l->inflight;

	while (*p)
		p = &(*p)->next;
	r->next = NULL;
	*p = r;
}

static void fail_all_inflight(struct gsup_link *l, gba_err err)
{
	while (l->inflight) {
		struct gsup_req *r = l->inflight;

		l->inflight = r->next;
		req_finish(r, err);
	}
}

/* ---- answers from the HLR (loop thread) ----------------------------------------- */

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return !acc;
}

/*
 * libosmocore's decoder marks a vector UMTS on any one of IK, CK, AUTN or
 * RES and leaves the parts that were absent zero: a vector missing one
 * would give the UE a zero RAND or AUTN and Ks a zero half.  A real one
 * has none of them all zero (2^-128 each).
 */
static int umts_whole(const struct osmo_auth_vector *v)
{
	return (v->auth_types & OSMO_AUTH_TYPE_UMTS) && v->res_len >= 4 &&
	       v->res_len <= GBA_RES_MAX && !all_zero(v->rand, sizeof(v->rand)) &&
	       !all_zero(v->autn, sizeof(v->autn)) && !all_zero(v->ck, sizeof(v->ck)) &&
	       !all_zero(v->ik, sizeof(v->ik));
}

static size_t copy_vectors(struct gsup_req *r, const struct osmo_gsup_message *m)
{
	r->n = 0;
	for (size_t i = 0; i < m->num_auth_vectors && r->n < GSUP_LINK_MAX_AV; i++) {
		const struct osmo_auth_vector *v = &m->auth_vectors[i];
		struct gba_av *a = &r->av[r->n];

		/* A GSM triplet has no AUTN: GBA needs UMTS AKA, all of it. */
		if (!umts_whole(v))
			continue;
		memcpy(a->rand, v->rand, 16);
		memcpy(a->autn, v->autn, 16);
		memcpy(a->xres, v->res, v->res_len);
		a->xres_len = v->res_len;
		memcpy(a->ck, v->ck, 16);
		memcpy(a->ik, v->ik, 16);
		a->sqn = 0;   /* concealed in AUTN; the HLR keeps it */
		r->n++;
	}
	return r->n;
}

static void on_sai_answer(struct gsup_link *l, const struct osmo_gsup_message *m)
{
	struct gsup_req *r;
	int was_slow;

	pthread_mutex_lock(&l->lock);
	was_slow = l->slow;
	l->slow = 0;
	pthread_mutex_unlock(&l->lock);
	if (was_slow)
		say(l, 1, "gsup: HLR %s:%u answers again", l->host, l->port);

	pthread_mutex_lock(&l->lock);
	r = take_inflight(l, m->imsi);
	if (!r) {
		pthread_mutex_unlock(&l->lock);
		say(l, 2, "gsup: dropped a SendAuthInfo answer nobody asked for");
		if (l->metrics)
			metrics_inc(&l->metrics->gsup_dropped);
		return;
	}
	r->order = ++l->answers;
	if (m->message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT)
		req_finish(r, copy_vectors(r, m) ? GBA_OK : GBA_ERR_PARSE);
	else if (m->cause == GMM_CAUSE_IMSI_UNKNOWN)
		req_finish(r, GBA_ERR_NOT_FOUND);
	else
		req_finish(r, GBA_ERR_UNAVAILABLE);
	pthread_mutex_unlock(&l->lock);
	if (m->message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR &&
	    m->cause != GMM_CAUSE_IMSI_UNKNOWN)
		say(l, 2, "gsup: SendAuthInfo error, cause %d", (int)m->cause);
}

/*
 * One GSUP message from the HLR, after the IPA layer: answer the oldest
 * request waiting for its IMSI, or log and count it as dropped.  Apart
 * from on_read, tests/fuzz/fuzz_gsup.c calls this, without sockets.
 */
void gsup_link_receive(struct gsup_link *l, const uint8_t *data, size_t len)
{
	struct osmo_gsup_message m;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = osmo_gsup_decode(data, len, &m);
	if (rc < 0) {
		say(l, 2, "gsup: dropped a malformed message (%zu octets)", len);
		if (l->metrics)
			metrics_inc(&l->metrics->gsup_dropped);
	} else if (m.message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT ||
		   m.message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR) {
		on_sai_answer(l, &m);
	} else {
		say(l, 2, "gsup: dropped an unexpected %s",
		    osmo_gsup_message_type_name(m.message_type));
		if (l->metrics)
			metrics_inc(&l->metrics->gsup_dropped);
	}
	gba_wipe(m.auth_vectors, sizeof(m.auth_vectors));
}

/* libosmo-gsup-client hands over each GSUP message; ours to free. */
static int on_read(struct osmo_gsup_client *gc, struct msgb *msg)
{
	gsup_link_receive(gc->data, msgb_l2(msg), msgb_l2len(msg));
	msgb_free(msg);
	return 0;
}

/* ---- the connection (loop thread) ------------------------------------------------ */

static void connect_now(struct gsup_link *l);

/*
 * Up: back in service.  Down (and before each of the library's own
 * retries): answer what was in flight, log the outage once, and come back
 * by our timer with a growing pause: false tells the library not to retry.
 */
static bool on_up_down(struct osmo_gsup_client *gc, bool up)
{
	struct gsup_link *l = gc->data;

	pthread_mutex_lock(&l->lock);
	l->up = up;
	if (!up)
		fail_all_inflight(l, GBA_ERR_UNAVAILABLE);
	pthread_mutex_unlock(&l->lock);
	if (up) {
		l->backoff_s = 1;
		if (l->outage)
			say(l, 1, "gsup: HLR %s:%u is back", l->host, l->port);
		l->outage = 0;
		return true;
	}
	if (!l->outage) {
		say(l, 2, "gsup: HLR %s:%u unreachable; retrying, 503 meanwhile", l->host,
		    l->port);
		if (l->metrics)
			metrics_inc(&l->metrics->gsup_outages);
	}
	l->outage = 1;
	osmo_timer_schedule(&l->reconnect, l->backoff_s, 0);
	if (l->backoff_s < GSUP_LINK_BACKOFF_MAX_S)
		l->backoff_s *= 2;
	return false;
}

/* A fresh client: the old one (if any) is not inside a callback now. */
static void connect_now(struct gsup_link *l)
{
	struct osmo_gsup_client_config cc = {
		.ipa_dev = l->unit,
		.ip_addr = l->host,
		.tcp_port = l->port,
		.read_cb = on_read,
		.up_down_cb = on_up_down,
		.data = l,
	};

	if (l->client)
		osmo_gsup_client_destroy(l->client);
	l->client = osmo_gsup_client_create3(l->ctx, &cc);
	if (!l->client)
		osmo_timer_schedule(&l->reconnect, l->backoff_s, 0);
}

static void on_reconnect(void *arg)
{
	connect_now(arg);
}

/* Drop requests the HLR never answered (their callers gave up long ago). */
static void on_sweep(void *arg)
{
	struct gsup_link *l = arg;
	time_t old = mono_now() - GSUP_STALE_S;

	pthread_mutex_lock(&l->lock);
	for (struct gsup_req **p = &l->inflight; *p;) {
		struct gsup_req *r = *p;

		if (r->sent > old) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		req_finish(r, GBA_ERR_TIMEOUT);
	}
	pthread_mutex_unlock(&l->lock);
	osmo_timer_schedule(&l->sweep, 1, 0);
}

/* ---- requests from the workers (loop thread) --------------------------------------- */

static gba_err send_sai(struct gsup_link *l, struct gsup_req *r)
{
	struct osmo_gsup_message m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST;
	/* PS domain, and no RAT type: EUTRAN would set AMF's separation bit. */
	m.cn_domain = OSMO_GSUP_CN_DOMAIN_PS;
	memcpy(m.imsi, r->imsi, sizeof(m.imsi));
	if (r->resync) {
		m.rand = r->rand;
		m.auts = r->auts;
	}
	rc = osmo_gsup_client_enc_send(l->client, &m);
	return rc ? GBA_ERR_UNAVAILABLE : GBA_OK;
}

static void on_event(struct gsup_link *l)
{
	struct gsup_req *r;

	pthread_mutex_lock(&l->lock);
	while ((r = l->queue)) {
		l->queue = r->next;
		if (!l->queue)
			l->queue_tail = &l->queue;
		if (r->abandoned) {
			req_free(r);
			continue;
		}
		if (!l->up || !l->client || send_sai(l, r)) {
			req_finish(r, GBA_ERR_UNAVAILABLE);
			continue;
		}
		r->state = REQ_SENT;
		r->sent = mono_now();
		append_inflight(l, r);
	}
	pthread_mutex_unlock(&l->lock);
}

static int on_efd(struct osmo_fd *ofd, unsigned what)
{
	struct gsup_link *l = ofd->data;
	uint64_t v;

	(void)what;
	if (read(ofd->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	on_event(l);
	return 0;
}

/* ---- the thread --------------------------------------------------------------- */

static const struct log_info no_categories = { 0 };
static pthread_once_t osmo_logging_once = PTHREAD_ONCE_INIT;

/* No log targets: libosmocore's own lines go nowhere. */
static void quiet_osmo_logging(void)
{
	log_init(&no_categories, NULL);
}

static void *loop_main(void *arg)
{
	struct gsup_link *l = arg;
	int stop = 0;

	/* libosmocore keeps its select state and talloc contexts per thread. */
	osmo_ctx_init("gba-bsf-gsup");
	osmo_select_init();
	l->ctx = talloc_named_const(NULL, 0, "gsup");
	l->unit = talloc_zero(l->ctx, struct ipaccess_unit);
	l->unit->unit_name = talloc_strdup(l->unit, l->name);
	osmo_fd_setup(&l->ofd, l->efd, OSMO_FD_READ, on_efd, l, 0);
	osmo_fd_register(&l->ofd);
	osmo_timer_setup(&l->reconnect, on_reconnect, l);
	osmo_timer_setup(&l->sweep, on_sweep, l);
	osmo_timer_schedule(&l->sweep, 1, 0);
	connect_now(l);

	while (!stop) {
		osmo_select_main(0);
		pthread_mutex_lock(&l->lock);
		stop = l->stop;
		pthread_mutex_unlock(&l->lock);
	}

	osmo_timer_del(&l->reconnect);
	osmo_timer_del(&l->sweep);
	if (l->client)
		osmo_gsup_client_destroy(l->client);
	osmo_fd_unregister(&l->ofd);
	pthread_mutex_lock(&l->lock);
	l->up = 0;
	fail_all_inflight(l, GBA_ERR_UNAVAILABLE);
	pthread_mutex_unlock(&l->lock);
	on_event(l);   /* what was queued meanwhile */
	talloc_free(l->ctx);
	/* The thread's libosmocore contexts (osmo_ctx_init) end with it. */
	talloc_free(osmo_ctx);
	osmo_ctx = NULL;
	return NULL;
}

static void wake(struct gsup_link *l)
{
	uint64_t one = 1;

	if (write(l->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop is awake anyway. */
	}
}

gba_err gsup_link_open(struct gsup_link **out, const struct gsup_link_config *cfg)
{
	struct gsup_link *l;

	if (!out || !cfg || !cfg->host || !cfg->name || !*cfg->name || !cfg->port ||
	    cfg->port > 65535 || strlen(cfg->host) >= sizeof(l->host) ||
	    strlen(cfg->name) >= sizeof(l->name))
		return GBA_ERR_INVALID_ARG;
	l = calloc(1, sizeof(*l));
	if (!l)
		return GBA_ERR_NO_MEMORY;
	l->queue_tail = &l->queue;
	l->backoff_s = 1;
	snprintf(l->host, sizeof(l->host), "%s", cfg->host);
	snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	l->port = cfg->port;
	l->log = cfg->log;
	l->log_arg = cfg->log_arg;
	l->metrics = cfg->metrics;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->efd < 0 || pthread_mutex_init(&l->lock, NULL)) {
		if (l->efd >= 0)
			close(l->efd);
		free(l);
		return GBA_ERR_NO_MEMORY;
	}
	pthread_once(&osmo_logging_once, quiet_osmo_logging);
	if (pthread_create(&l->thread, NULL, loop_main, l)) {
		pthread_mutex_destroy(&l->lock);
		close(l->efd);
		free(l);
		return GBA_ERR_NO_MEMORY;
	}
	*out = l;
	return GBA_OK;
}

void gsup_link_close(struct gsup_link *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	pthread_mutex_unlock(&l->lock);
	wake(l);
	pthread_join(l->thread, NULL);
	close(l->efd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* ---- the workers' side --------------------------------------------------------- */

static struct gsup_req *req_new(const char *imsi, const uint8_t *rand, const uint8_t *auts)
{
	struct gsup_req *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	if (!r)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&r->done, &ca)) {
		pthread_condattr_destroy(&ca);
		free(r);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	snprintf(r->imsi, sizeof(r->imsi), "%s", imsi);
	if (rand && auts) {
		memcpy(r->rand, rand, sizeof(r->rand));
		memcpy(r->auts, auts, sizeof(r->auts));
		r->resync = 1;
	}
	return r;
}

static struct timespec deadline_in(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

gba_err gsup_link_sai(struct gsup_link *l, const char *imsi, const uint8_t rand[16],
		      const uint8_t auts[14], unsigned timeout_ms,
		      struct gba_av av[GSUP_LINK_MAX_AV], size_t *n, uint64_t *order)
{
	struct timespec until = deadline_in(timeout_ms);
	struct gsup_req *r;
	gba_err err;

	if (!l || !imsi || !av || !n || strlen(imsi) >= OSMO_IMSI_BUF_SIZE || (!rand != !auts))
		return GBA_ERR_INVALID_ARG;
	*n = 0;
	r = req_new(imsi, rand, auts);
	if (!r)
		return GBA_ERR_NO_MEMORY;
	pthread_mutex_lock(&l->lock);
	*l->queue_tail = r;
	l->queue_tail = &r->next;
	pthread_mutex_unlock(&l->lock);
	wake(l);

	pthread_mutex_lock(&l->lock);
	while (r->state != REQ_DONE)
		if (pthread_cond_timedwait(&r->done, &l->lock, &until) == ETIMEDOUT)
			break;
	if (r->state != REQ_DONE) {
		int first = !l->slow;

		r->abandoned = 1;   /* the loop frees it */
		l->slow = 1;
		pthread_mutex_unlock(&l->lock);
		/* Slow is an outage too: logged and counted once, until it answers. */
		if (first) {
			say(l, 2, "gsup: HLR %s:%u not answering within %u ms; 503 meanwhile",
			    l->host, l->port, timeout_ms);
			if (l->metrics)
				metrics_inc(&l->metrics->gsup_outages);
		}
		return GBA_ERR_TIMEOUT;
	}
	pthread_mutex_unlock(&l->lock);
	err = r->err;
	if (!err) {
		memcpy(av, r->av, r->n * sizeof(*av));
		*n = r->n;
		if (order)
			*order = r->order;
	}
	req_free(r);
	return err;
}
