/*
 * ub_load.c - load generator for a BSF's Ub interface: full two-round-trip
 * GBA bootstraps (real RES from libgba's USIM side, rspauth verified,
 * BootstrappingInfo parsed) over keep-alive connections, across many
 * IMPIs, for a fixed time.  A figure printer, not a test.
 *
 *   ub-load --url http://127.0.0.1:PORT/ (--subscribers FILE.csv |
 *           [--impi-prefix P] --count N --k-file FILE)
 *           --connections C --duration S [--threads T] [--timeout MS]
 *           [--once] [--rate R [--max-open M]] [--challenge-log FILE]
 *           [--server-pid PID] [--admin URL]
 *   ub-load --make-csv N [--impi-prefix P] --k-file FILE > subs.csv
 *
 * Each thread runs an epoll loop over its connections; each connection
 * drives one ub_session (tests/tools/ub_client.h, the code gba-test-ue
 * uses).  Closed loop (the default): connection g of C bootstraps the
 * cards g, g+C, g+2C, ... in turn, so no card is ever in two bootstraps at
 * once and its SQN memory needs no lock; --once takes each card once
 * (cold subscribers) from a shared counter and ends when all are done.
 * Open loop (--rate, ub_load_open.c): arrivals at a fixed rate, each the
 * next card on a new connection, latency from the scheduled time.
 *
 * Prints bootstraps/s, p50/p99/max latency of a whole bootstrap, errors by
 * kind; with --server-pid the BSF's (or the HSS's: repeat it) CPU time per
 * bootstrap (utime+stime from /proc/PID/stat over the run); with --admin the store's bytes per
 * live B-TID (gba_bsf_store_bytes / gba_bsf_sessions_live from /metrics).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <gba/gba.h>

#include "gba_cli.h"
#include "keys.h"

#include "bench_util.h"
#include "ub_client.h"
#include "ub_load.h"
#include "ub_http.h"
#include "ub_net.h"

#define IMPI_DOMAIN "@ims.mnc001.mcc001.3gppnetwork.org"
#define IMSI_LEN 15
#define CSV_LINE_MAX 4096
#define MAX_SERVERS 4

/* ---- Subscribers and their soft cards ---------------------------------------- */

/* IMSI i under a digit prefix (MCC MNC ...), zero-padded to 15 digits. */
static int make_identity(const char *prefix, size_t i, char *imsi, size_t imsi_size,
			 char *impi, size_t impi_size)
{
	size_t plen = strlen(prefix);
	if (plen >= IMSI_LEN || strspn(prefix, "0123456789") != plen)
		return -1;
	int w = (int)(IMSI_LEN - plen);
	if (snprintf(imsi, imsi_size, "%s%0*zu", prefix, w, i) != IMSI_LEN)
		return -1;   /* the index does not fit the digits left */
	snprintf(impi, impi_size, "%s" IMPI_DOMAIN, imsi);
	return 0;
}

static int cards_generate(struct cards *c, const char *prefix, size_t count,
			  const uint8_t k[16], const uint8_t opc[16])
{
	char imsi[IMSI_LEN + 1];

	c->v = calloc(count, sizeof(*c->v));
	if (!c->v)
		return -1;
	c->n = count;
	for (size_t i = 0; i < count; i++) {
		if (make_identity(prefix, i, imsi, sizeof(imsi), c->v[i].impi, sizeof(c->v[i].impi)))
			return -1;
		gba_aka_key_milenage(&c->v[i].key, k, opc, 0);
		gba_usim_sqn_init(&c->v[i].sqn, 5, UINT64_C(1) << 28);
	}
	return 0;
}

/* Split a CSV line in place (no quoting: the import format has none). */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line; n < max; p++) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p = '\0';
	}
	return n;
}

static int hex_field(const char *s, uint8_t *out, size_t size, size_t *len)
{
	return gba_hex_decode(out, size, len, s, strlen(s)) ? -1 : 0;
}

/*
 * One line of gba-subscriber's import CSV:
 * impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]
 */
static int card_from_csv(char *line, struct card *c)
{
	char *f[12] = { 0 };
	uint8_t k[32], opc[32];
	size_t n = split(line, f, 12), k_len, opc_len;
	int rc = -1;

	if (n < 9 || strlen(f[0]) > IMPI_MAX || !*f[0] ||
	    hex_field(f[4], k, sizeof(k), &k_len) || hex_field(f[5], opc, sizeof(opc), &opc_len))
		goto out;
	strcpy(c->impi, f[0]);
	int is_op = !strcmp(f[6], "1");
	if (!strcmp(f[3], "milenage") && k_len == 16 && opc_len == 16) {
		gba_aka_key_milenage(&c->key, k, opc, is_op);
		rc = 0;
	} else if (!strcmp(f[3], "tuak") && opc_len == 32) {
		unsigned it = n > 9 && *f[9] ? (unsigned)atoi(f[9]) : 1;
		size_t res_len = n > 10 && *f[10] ? (size_t)atoi(f[10]) : 8;
		rc = gba_aka_key_tuak(&c->key, k, k_len, opc, is_op, it, res_len) ? -1 : 0;
	}
	gba_usim_sqn_init(&c->sqn, 5, UINT64_C(1) << 28);
out:
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	return rc;
}

static int cards_load(struct cards *c, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[CSV_LINE_MAX];
	size_t cap = 1024, lineno = 0;

	if (!f) {
		fprintf(stderr, "ub-load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	c->n = 0;
	c->v = malloc(cap * sizeof(*c->v));
	while (c->v && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (c->n == cap) {
			struct card *v = realloc(c->v, 2 * cap * sizeof(*v));
			if (!v)
				break;
			c->v = v;
			cap *= 2;
		}
		if (card_from_csv(line, &c->v[c->n])) {
			fprintf(stderr, "ub-load: %s:%zu: not a subscriber line\n", path, lineno);
			fclose(f);
			return -1;
		}
		c->n++;
	}
	gba_wipe(line, sizeof(line));
	fclose(f);
	return c->v && c->n ? 0 : -1;
}

static void cards_free(struct cards *c)
{
	if (c->v)
		gba_wipe(c->v, c->n * sizeof(*c->v));
	free(c->v);
}

/* ---- Load -------------------------------------------------------------------- */

void watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	if (c->events == events)
		return;
	epoll_ctl(c->w->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->events = events;
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);   /* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->state = CONN_IDLE;
}

static void record_latency(struct worker *w, long long ns)
{
	if (w->n_lat == w->cap_lat) {
		size_t cap = w->cap_lat ? 2 * w->cap_lat : 65536;
		uint32_t *v = realloc(w->lat_us, cap * sizeof(*v));
		if (!v)
			return;
		w->lat_us = v;
		w->cap_lat = cap;
	}
	long long us = ns / 1000;
	w->lat_us[w->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static uint32_t to_us(long long ns)
{
	long long us = ns / 1000;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A 503's latency from its scheduled time and from when it was started. */
static void record_shed_latency(struct worker *w, long long ns, long long sent_ns)
{
	if (w->n_shed_lat == w->cap_shed_lat) {
		size_t cap = w->cap_shed_lat ? 2 * w->cap_shed_lat : 4096;
		uint32_t *v = realloc(w->shed_lat_us, cap * sizeof(*v));
		uint32_t *s = v ? realloc(w->shed_sent_us, cap * sizeof(*s)) : NULL;
		if (v)
			w->shed_lat_us = v;
		if (!s)
			return;
		w->shed_sent_us = s;
		w->cap_shed_lat = cap;
	}
	w->shed_sent_us[w->n_shed_lat] = to_us(sent_ns);
	w->shed_lat_us[w->n_shed_lat++] = to_us(ns);
}

void record(struct worker *w, struct conn *c, long long now)
{
	const struct ub_result *r = &c->s.result;

	w->resyncs += c->s.resyncs;
	if (r->fail == UB_OK) {
		w->ok++;
		record_latency(w, now - c->started_ns);
	} else if (r->fail == UB_FAIL_STATUS && r->status == 503) {
		w->shed++;
		w->shed_retry_after += r->retry_after[0] != '\0';
		record_shed_latency(w, now - c->started_ns, now - c->sent_ns);
	} else {
		w->failed++;
		w->fails[r->fail]++;
		if (r->fail == UB_FAIL_STATUS && r->status > 0 && r->status < STATUS_MAX)
			w->status_fails[r->status]++;
	}
	ub_session_wipe(&c->s);
}

/* --challenge-log: every challenge's IMPI, RAND and AUTN, one line each. */
static void log_challenge(void *arg, const uint8_t rand[16], const uint8_t autn[16])
{
	struct conn *c = arg;
	char r[33], a[33];

	gba_hex_encode(r, sizeof(r), rand, 16);
	gba_hex_encode(a, sizeof(a), autn, 16);
	fprintf(c->w->cfg->challenge_log, "%s %s %s\n", c->impi, r, a);
}

/*
 * The next card: with --once (or --rate) the next never used, from the
 * shared counter; otherwise this connection's next in its stride.  -1 when
 * every card has had its bootstrap.
 */
static long long next_card(struct conn *c)
{
	struct config *cfg = c->w->cfg;
	size_t i;

	if (cfg->once) {
		i = atomic_fetch_add(&cfg->next_card, 1);
		return i < cfg->cards.n ? (long long)i : -1;
	}
	i = c->card;
	c->card += c->card_step;
	if (c->card >= cfg->cards.n)
		c->card %= c->card_step;
	return (long long)i;
}

/* Start a bootstrap of this connection's next card: -1 when none is left. */
int begin_at(struct conn *c, int reused, long long started_ns)
{
	const struct config *cfg = c->w->cfg;
	long long i = next_card(c);

	if (i < 0)
		return -1;
	struct card *card = &cfg->cards.v[i];
	struct ub_params p = {
		.impi = card->impi,
		.key = &card->key,
		.sqn = &card->sqn,
		.host = cfg->url.host_header,
		.uri = cfg->url.path,
		.realm = cfg->realm,
		.on_challenge = cfg->challenge_log ? log_challenge : NULL,
		.on_challenge_arg = c,
	};
	c->impi = card->impi;
	c->started_ns = started_ns;
	c->sent_ns = bench_now_ns();
	ub_session_begin(&c->s, &p, reused);
	return 0;
}

static int begin(struct conn *c, int reused)
{
	return begin_at(c, reused, bench_now_ns());
}

void start_connect(struct conn *c)
{
	conn_close(c);
	c->fd = ub_net_connect_start(&c->w->cfg->addr);
	if (c->fd < 0) {
		ub_session_fail(&c->s, UB_FAIL_CONNECT, "connect", "cannot connect");
		return;
	}
	c->state = CONN_CONNECTING;
	watch(c, EPOLLOUT);
}


void connected(struct conn *c)
{
	if (ub_net_connect_error(c->fd)) {
		conn_close(c);
		ub_session_fail(&c->s, UB_FAIL_CONNECT, "connect", "cannot connect");
		drive(c, 0);
		return;
	}
	c->state = CONN_ACTIVE;
	ub_session_reconnected(&c->s);
	watch(c, EPOLLIN);
	drive(c, 0);
}

/* Run the session as far as it goes without blocking. */
void drive(struct conn *c, int readable)
{
	struct worker *w = c->w;

	for (;;) {
		switch (ub_session_want(&c->s)) {
		case UB_WANT_WRITE: {
			size_t len;
			const char *p = ub_session_out(&c->s, &len);
			ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n >= 0) {
				ub_session_wrote(&c->s, (size_t)n);
				watch(c, EPOLLIN);
				break;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				watch(c, EPOLLOUT);
				return;
			}
			ub_session_conn_lost(&c->s);
			break;
		}
		case UB_WANT_READ: {
			/* Answers take a while: do not recv() before epoll says so. */
			if (!readable)
				return;
			size_t room;
			char *p = ub_session_in(&c->s, &room);
			ssize_t n = recv(c->fd, p, room, 0);
			readable = n > 0 && (size_t)n == room;   /* there may be more */
			if (n >= 0)
				ub_session_read(&c->s, (size_t)n);
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			else
				ub_session_conn_lost(&c->s);
			break;
		}
		case UB_WANT_WAIT:
			ub_session_wait_over(&c->s);   /* no deliberate waits under load */
			break;
		case UB_WANT_RECONNECT:
			start_connect(c);
			if (c->state == CONN_CONNECTING)
				return;
			break;
		case UB_WANT_DONE: {
			long long now = bench_now_ns();
			record(w, c, now);
			if (w->open_loop) {
				open_loop_done(c);   /* one bootstrap per connection */
				return;
			}
			if (c->s.result.fail == UB_FAIL_CONNECT)
				return;   /* idle: check_timeouts() tries again shortly */
			int closed = c->s.conn_closed || c->fd < 0;
			if (closed)
				conn_close(c);
			if (now >= w->stop_ns)
				return;
			if (begin(c, !closed)) {
				conn_close(c);
				c->finished = 1;   /* --once: no card left */
				w->finished++;
				return;
			}
			if (closed) {
				start_connect(c);
				if (c->state == CONN_CONNECTING)
					return;
			}
			break;
		}
		}
	}
}

/* Start the next bootstrap of a connection on a new socket. */
static void restart(struct conn *c)
{
	if (begin(c, 0)) {
		c->finished = 1;
		c->w->finished++;
		return;
	}
	start_connect(c);
	if (c->state != CONN_CONNECTING)
		drive(c, 0);
}

/*
 * Bootstraps that take longer than the timeout fail and free their
 * connection; connections left idle by a failed connect start again.
 */
void check_timeouts(struct worker *w, long long now)
{
	long long limit = (long long)w->cfg->timeout_ms * 1000000LL;

	for (unsigned i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		if (c->finished || (w->open_loop && c->state == CONN_IDLE))
			continue;
		if (ub_session_want(&c->s) == UB_WANT_DONE) {
			if (c->state == CONN_IDLE && now < w->stop_ns)
				restart(c);
			continue;
		}
		if (now - c->started_ns < limit)
			continue;
		conn_close(c);
		ub_session_fail(&c->s, UB_FAIL_TIMEOUT, NULL, "no answer in time");
		drive(c, 0);
	}
}

void conn_event(struct conn *c, uint32_t events)
{
	if (c->state == CONN_CONNECTING)
		connected(c);
	else if (c->state == CONN_ACTIVE)
		drive(c, (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0);
}

void worker_tick(struct worker *w, long long *next_check)
{
	long long now = bench_now_ns();

	if (now >= *next_check) {
		check_timeouts(w, now);
		*next_check = now + 100000000LL;
	}
}

/* Bootstraps still in flight at the end are neither counted nor failed. */
void worker_close_all(struct worker *w)
{
	for (unsigned i = 0; i < w->n_conns; i++) {
		conn_close(&w->conns[i]);
		ub_session_wipe(&w->conns[i].s);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[64];
	long long next_check = bench_now_ns() + 100000000LL;

	if (w->open_loop)
		return open_loop_main(w);
	for (unsigned i = 0; i < w->n_conns; i++)
		restart(&w->conns[i]);
	for (;;) {
		long long now = bench_now_ns();
		if (now >= w->stop_ns || w->finished == w->n_conns)
			break;
		long long left_ms = (w->stop_ns - now) / 1000000 + 1;
		int n = epoll_wait(w->ep, ev, 64, left_ms > 100 ? 100 : (int)left_ms);
		for (int i = 0; i < n; i++)
			conn_event(ev[i].data.ptr, ev[i].events);
		worker_tick(w, &next_check);
	}
	worker_close_all(w);
	return NULL;
}

/* ---- Server-side figures --------------------------------------------------------- */

/* CPU time of a process, in seconds: user and system. */




/* The value of one sample line "name value" or "name{labels} value". */
static double sample_value(const char *p, const char *eol)
{
	char num[64];
	const char *v = p;

	if (*v == '{') {
		v = memchr(v, '}', (size_t)(eol - v));
		if (!v)
			return 0;
		v++;
	}
	size_t n = (size_t)(eol - v);
	if (n >= sizeof(num))
		return 0;
	memcpy(num, v, n);
	num[n] = '\0';
	return strtod(num, NULL);
}

/* The sum of the samples of a metric in Prometheus text; -1 when absent. */
static double metric_value(const char *text, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	double sum = -1;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nlen && !memcmp(p, name, nlen) &&
		    (p[nlen] == ' ' || p[nlen] == '{'))
			sum = (sum < 0 ? 0 : sum) + sample_value(p + nlen, eol);
		p = eol + 1;
	}
	return sum;
}

struct store_figures {
	double live, bytes;
};

static int fetch_store(const struct ub_url *admin, struct store_figures *out)
{
	static char buf[1 << 20];
	struct ub_http_response r;

	out->live = out->bytes = -1;
	if (ub_net_get(admin, buf, sizeof(buf), &r, 5000) || r.status != 200)
		return -1;
	out->live = metric_value(r.body, r.body_len, "gba_bsf_sessions_live");
	out->bytes = metric_value(r.body, r.body_len, "gba_bsf_store_bytes");
	return out->live < 0 || out->bytes < 0 ? -1 : 0;
}

/* ---- Report -------------------------------------------------------------------- */



struct totals {
	uint64_t ok, failed, resyncs, shed, shed_retry_after, arrivals, late;
	uint64_t fails[UB_FAIL__COUNT];
	uint64_t status_fails[STATUS_MAX];
	uint32_t *lat, *shed_lat, *shed_sent;
	size_t n_lat, n_shed_lat;
};

/* The workers' latencies of one kind (0: ok, 1: 503s, 2: 503s from their start), sorted. */
static uint32_t *merge_lat(struct worker *w, unsigned n, size_t *count, int kind)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += kind ? w[i].n_shed_lat : w[i].n_lat;
	uint32_t *v = malloc((total ? total : 1) * sizeof(uint32_t));
	*count = 0;
	for (unsigned i = 0; v && i < n; i++) {
		size_t k = kind ? w[i].n_shed_lat : w[i].n_lat;
		const uint32_t *src = kind == 0 ? w[i].lat_us : kind == 1 ? w[i].shed_lat_us
									 : w[i].shed_sent_us;
		if (k)
			memcpy(v + *count, src, k * sizeof(uint32_t));
		*count += k;
	}
	bench_sort_u32(v, *count);
	return v;
}

static void merge(struct worker *w, unsigned n, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < n; i++) {
		t->ok += w[i].ok;
		t->failed += w[i].failed;
		t->resyncs += w[i].resyncs;
		t->shed += w[i].shed;
		t->shed_retry_after += w[i].shed_retry_after;
		t->arrivals += w[i].arrivals;
		t->late += w[i].late;
		for (int k = 0; k < UB_FAIL__COUNT; k++)
			t->fails[k] += w[i].fails[k];
		for (int k = 0; k < STATUS_MAX; k++)
			t->status_fails[k] += w[i].status_fails[k];
	}
	t->lat = merge_lat(w, n, &t->n_lat, 0);
	t->shed_lat = merge_lat(w, n, &t->n_shed_lat, 1);
	t->shed_sent = merge_lat(w, n, &t->n_shed_lat, 2);
}

static void print_errors(const struct totals *t)
{
	int any = 0;
	printf("errors            ");
	for (int k = 1; k < UB_FAIL__COUNT; k++) {
		if (!t->fails[k] || k == UB_FAIL_STATUS)
			continue;
		printf("%s%s %" PRIu64, any ? ", " : "", ub_fail_name((enum ub_fail)k), t->fails[k]);
		any = 1;
	}
	for (int s = 0; s < STATUS_MAX; s++) {
		if (!t->status_fails[s] || s == 503)
			continue;
		printf("%sstatus-%d %" PRIu64, any ? ", " : "", s, t->status_fails[s]);
		any = 1;
	}
	printf("%s\n", any ? "" : "none");
}

/* ---- Options -------------------------------------------------------------------- */

struct options {
	const char *url, *subscribers, *prefix, *admin, *realm, *challenge_log,
		   *sqn_of;
	int once, new_connections;
	double rate;
	unsigned max_open;
	size_t count, make_csv;
	const char *k_file;            /* k= and opc= lines, as gba-subscriber reads them */
	unsigned connections, threads;
	double duration;
	int timeout_ms;
	long server_pids[MAX_SERVERS];  /* --server-pid, repeatable */
	unsigned n_servers;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ub-load --url http://HOST:PORT/ (--subscribers FILE.csv |\n"
		"               [--impi-prefix DIGITS] --count N --k-file FILE)\n"
		"               --connections C --duration S [--threads T] [--timeout MS]\n"
		"               [--once] [--rate R [--max-open M] [--new-connections]]\n"
		"               [--challenge-log FILE]\n"
		"               [--server-pid PID]... [--admin http://HOST:PORT/metrics]\n"
		"               [--realm R]   (realm of the first request; default the URL's host)\n"
		"       ub-load --make-csv N [--impi-prefix DIGITS] --k-file FILE > subs.csv\n"
		"       ub-load --sqn-of CHALLENGE-LOG --k-file FILE   (IMPI SQN per challenge)\n"
		"       ub-load -h|--help, -V|--version\n"
		"--once: each subscriber at most\n"
		"once (cold); --rate R: open loop, R arrivals/s, each a new subscriber on an idle\n"
		"kept-alive connection or a new one (--new-connections: always a new one),\n"
		"latency from its scheduled time (implies --once).\n"
		"IMPIs are <prefix><index zero-padded to 15 digits>" IMPI_DOMAIN
		" (prefix 00101).  --k-file: the cards' K and OPc, k=HEX and opc=HEX\n"
		"lines ('-': stdin); keys are never taken on the command line.\n"
		"Exit codes: 0 every bootstrap verified, 1 failures, 2 bad usage.\n");
}

/* 0 run, 1 --help or --version answered, -1 usage error (reported). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "subscribers", required_argument, NULL, 's' },
		{ "impi-prefix", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "k-file", required_argument, NULL, 'k' },
		{ "connections", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "admin", required_argument, NULL, 'a' },
		{ "realm", required_argument, NULL, 'r' },
		{ "make-csv", required_argument, NULL, 'm' },
		{ "once", no_argument, NULL, '1' },
		{ "rate", required_argument, NULL, 'R' },
		{ "max-open", required_argument, NULL, 'M' },
		{ "challenge-log", required_argument, NULL, 'L' },
		{ "new-connections", no_argument, NULL, 'N' },
		{ "sqn-of", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->prefix = "00101";
	o->connections = 16;
	o->threads = 1;
	o->duration = 10;
	o->timeout_ms = 5000;
	o->max_open = 4000;
	if (gba_cli_whole_names("ub-load", argc, argv, opts))
		return -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 's': o->subscribers = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'n': o->count = strtoul(optarg, NULL, 10); break;
		case 'k': o->k_file = optarg; break;
		case 'c': o->connections = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o->duration = strtod(optarg, NULL); break;
		case 't': o->threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o->timeout_ms = atoi(optarg); break;
		case 'P':
			if (o->n_servers == MAX_SERVERS)
				return -1;
			o->server_pids[o->n_servers++] = strtol(optarg, NULL, 10);
			break;
		case 'a': o->admin = optarg; break;
		case 'r': o->realm = optarg; break;
		case 'm': o->make_csv = strtoul(optarg, NULL, 10); break;
		case '1': o->once = 1; break;
		case 'R': o->rate = strtod(optarg, NULL); break;
		case 'M': o->max_open = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'L': o->challenge_log = optarg; break;
		case 'N': o->new_connections = 1; break;
		case 'S': o->sqn_of = optarg; break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("ub-load"); return 1;
		case ':':
			fprintf(stderr, "ub-load: %s needs a value\n", argv[optind - 1]);
			return -1;
		default: gba_cli_unknown("ub-load", opts, "hV"); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ub-load: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* The cards' K and OPc from --k-file (Milenage, 16 octets each). */
static int decode_key(const struct options *o, uint8_t k[16], uint8_t opc[16])
{
	char err[256];

	if (!o->k_file) {
		fprintf(stderr, "ub-load: --k-file is required (or --subscribers)\n");
		return -1;
	}
	if (key_file_milenage(o->k_file, k, opc, err, sizeof(err))) {
		fprintf(stderr, "ub-load: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * --sqn-of FILE: the SQN of each challenge --challenge-log recorded
 * ("IMPI RAND AUTN" in hex), SQN = (SQN xor AK) xor f5(RAND) with the key
 * file's K and OPc: "IMPI SQN" per line (tests/bsf/test_bsf_kill9_sqn.py).
 */
static int sqn_of(const struct options *o)
{
	char impi[IMPI_MAX + 1], rand_hex[40], autn_hex[40];
	uint8_t k[16], opc[16], rand[16], autn[16], res[8], ck[16], ik[16], ak[6], ak_s[6];
	struct gba_milenage_ctx ctx;
	size_t n1, n2;
	FILE *f;
	int rc = 0;

	if (decode_key(o, k, opc))
		return 2;
	gba_milenage_init(&ctx, k, opc);
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	f = fopen(o->sqn_of, "re");
	if (!f) {
		fprintf(stderr, "ub-load: %s: %s\n", o->sqn_of, strerror(errno));
		gba_milenage_clear(&ctx);
		return 1;
	}
	while (fscanf(f, "%255s %39s %39s", impi, rand_hex, autn_hex) == 3) {
		if (gba_hex_decode(rand, 16, &n1, rand_hex, strlen(rand_hex)) ||
		    gba_hex_decode(autn, 16, &n2, autn_hex, strlen(autn_hex)) || n1 != 16 ||
		    n2 != 16) {
			rc = 1;
			break;
		}
		gba_milenage_f2345(&ctx, rand, res, ck, ik, ak, ak_s);
		uint64_t sqn = 0;
		for (int i = 0; i < 6; i++)
			sqn = sqn << 8 | (uint8_t)(autn[i] ^ ak[i]);
		printf("%s %" PRIu64 "\n", impi, sqn);
	}
	fclose(f);
	gba_milenage_clear(&ctx);
	gba_wipe(res, sizeof(res));
	gba_wipe(ck, sizeof(ck));
	gba_wipe(ik, sizeof(ik));
	return rc || fflush(stdout) ? 1 : 0;
}

/* The CSV gba-subscriber imports: the same IMPIs the load will use. */
static int make_csv(const struct options *o)
{
	char imsi[IMSI_LEN + 1], impi[IMPI_MAX + 1], k[33], opc[33];
	uint8_t kb[16], opcb[16];

	if (decode_key(o, kb, opcb))
		return 2;
	gba_hex_encode(k, sizeof(k), kb, 16);
	gba_hex_encode(opc, sizeof(opc), opcb, 16);
	printf("# impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn\n");
	for (size_t i = 0; i < o->make_csv; i++) {
		if (make_identity(o->prefix, i, imsi, sizeof(imsi), impi, sizeof(impi))) {
			fprintf(stderr, "ub-load: --impi-prefix must be digits leaving room for %zu\n",
				o->make_csv);
			return 2;
		}
		printf("%s,%s,sip:%s,milenage,%s,%s,0,0000,0\n", impi, imsi, impi, k, opc);
	}
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	gba_wipe(kb, sizeof(kb));
	gba_wipe(opcb, sizeof(opcb));
	return fflush(stdout) ? 1 : 0;
}

static int setup(const struct options *o, struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!o->url || ub_url_parse(o->url, &cfg->url) || ub_net_resolve(&cfg->url, &cfg->addr)) {
		fprintf(stderr, "ub-load: --url: an http://host:port/ that resolves\n");
		return -1;
	}
	if (o->connections < 1 || o->threads < 1 || o->threads > o->connections ||
	    o->duration <= 0 || o->duration > 3600 || o->timeout_ms < 1 || o->rate < 0 ||
	    (o->rate > 0 && o->max_open < o->threads)) {
		fprintf(stderr, "ub-load: need 1 <= threads <= connections, 0 < duration <= 3600, "
			"threads <= max-open\n");
		return -1;
	}
	if (o->subscribers) {
		if (cards_load(&cfg->cards, o->subscribers))
			return -1;
	} else {
		uint8_t k[16], opc[16];
		if (!o->count || decode_key(o, k, opc))
			return -1;
		int rc = cards_generate(&cfg->cards, o->prefix, o->count, k, opc);
		gba_wipe(k, sizeof(k));
		gba_wipe(opc, sizeof(opc));
		if (rc) {
			fprintf(stderr, "ub-load: cannot make %zu subscribers under prefix %s\n",
				o->count, o->prefix);
			return -1;
		}
	}
	if (cfg->cards.n < o->connections) {
		fprintf(stderr, "ub-load: %zu subscribers for %u connections: each connection "
			"needs its own (a card is never in two bootstraps at once)\n",
			cfg->cards.n, o->connections);
		return -1;
	}
	if (o->challenge_log && !(cfg->challenge_log = fopen(o->challenge_log, "we"))) {
		fprintf(stderr, "ub-load: %s: %s\n", o->challenge_log, strerror(errno));
		return -1;
	}
	cfg->once = o->once || o->rate > 0;
	atomic_init(&cfg->next_card, 0);
	cfg->rate = o->rate;
	cfg->max_open = o->max_open;
	cfg->new_connections = o->new_connections;
	cfg->connections = o->connections;
	cfg->threads = o->threads;
	cfg->duration = o->duration;
	cfg->timeout_ms = o->timeout_ms;
	cfg->realm = o->realm ? o->realm : cfg->url.host;
	return 0;
}

static int start_workers(struct config *cfg, struct worker *w, long long stop_ns)
{
	unsigned g = 0;
	for (unsigned t = 0; t < cfg->threads; t++) {
		w[t].cfg = cfg;
		w[t].stop_ns = stop_ns;
		unsigned total = cfg->rate > 0 ? cfg->max_open : cfg->connections;
		w[t].n_conns = total / cfg->threads + (t < total % cfg->threads ? 1 : 0);
		w[t].open_loop = cfg->rate > 0;
		w[t].rate = cfg->rate / cfg->threads;
		w[t].conns = calloc(w[t].n_conns, sizeof(struct conn));
		w[t].ep = epoll_create1(EPOLL_CLOEXEC);
		if (!w[t].conns || w[t].ep < 0)
			return -1;
		for (unsigned i = 0; i < w[t].n_conns; i++, g++) {
			struct conn *c = &w[t].conns[i];
			c->w = &w[t];
			c->fd = -1;
			c->card = g;
			c->card_step = cfg->connections;
		}
	}
	for (unsigned t = 0; t < cfg->threads; t++)
		if (pthread_create(&w[t].th, NULL, worker_main, &w[t]))
			return -1;
	return 0;
}

/* A server's CPU over the run. */
struct server_cpu {
	char name[32];
	int ok;
	struct bench_cpu t0, d;
};

/* "12.3 us/bootstrap (user 8.1, system 4.2)" */
static void print_cpu(const char *label, const struct bench_cpu *d, uint64_t ok, double elapsed)
{
	double total = d->user + d->sys;
	printf("%-17s %.1f us/bootstrap (user %.1f, system %.1f; %.0f%% of a core)\n", label,
	       total * 1e6 / (double)ok, d->user * 1e6 / (double)ok, d->sys * 1e6 / (double)ok,
	       100.0 * total / elapsed);
}

static void report(const struct options *o, const struct config *cfg, const struct totals *t,
		   double elapsed, const struct bench_cpu *self, const struct server_cpu *servers,
		   const struct store_figures *s0, const struct store_figures *s1, int have_store)
{
	double rate = (double)t->ok / elapsed;

	if (cfg->rate > 0)
		printf("ub-load: %s, %.1f s, open loop: %.0f arrivals/s offered, at most %u "
		       "connections open (%s), on %u thread(s), %zu subscribers\n", o->url, elapsed,
		       cfg->rate, cfg->max_open, cfg->new_connections ? "a new one per arrival" :
		       "kept alive", cfg->threads, cfg->cards.n);
	else
		printf("ub-load: %s, %.1f s, %u connections on %u thread(s), %zu subscribers%s\n",
		       o->url, elapsed, cfg->connections, cfg->threads, cfg->cards.n,
		       cfg->once ? ", each at most once" : "");
	if (cfg->rate > 0)
		printf("arrivals          %" PRIu64 " started (%.0f/s), %" PRIu64 " late (the "
		       "generator had no free connection for over 1 ms)\n", t->arrivals,
		       (double)t->arrivals / elapsed, t->late);
	printf("bootstraps        %" PRIu64 " ok, %" PRIu64 " shed (503), %" PRIu64 " failed\n",
	       t->ok, t->shed, t->failed);
	printf("bootstraps/s      %.0f\n", rate);
	printf("latency us        p50 %" PRIu32 "  p99 %" PRIu32 "  max %" PRIu32 "\n",
	       bench_percentile(t->lat, t->n_lat, 0.50), bench_percentile(t->lat, t->n_lat, 0.99),
	       t->n_lat ? t->lat[t->n_lat - 1] : 0);
	if (t->shed)
		printf("shed (503)        %" PRIu64 " with Retry-After of %" PRIu64 "; latency us p50 %"
		       PRIu32 "  p99 %" PRIu32 "  max %" PRIu32 "\n", t->shed_retry_after, t->shed,
		       bench_percentile(t->shed_lat, t->n_shed_lat, 0.50),
		       bench_percentile(t->shed_lat, t->n_shed_lat, 0.99),
		       t->n_shed_lat ? t->shed_lat[t->n_shed_lat - 1] : 0);
	if (t->shed && cfg->rate > 0)
		printf("shed from start   latency us p50 %" PRIu32 "  p99 %" PRIu32 "  max %" PRIu32
		       " (from when the generator sent it, not its scheduled time)\n",
		       bench_percentile(t->shed_sent, t->n_shed_lat, 0.50),
		       bench_percentile(t->shed_sent, t->n_shed_lat, 0.99),
		       t->n_shed_lat ? t->shed_sent[t->n_shed_lat - 1] : 0);
	printf("resyncs           %" PRIu64 "\n", t->resyncs);
	print_errors(t);
	if (t->ok)
		print_cpu("ub-load cpu", self, t->ok, elapsed);
	for (unsigned i = 0; i < o->n_servers; i++) {
		char label[64];
		snprintf(label, sizeof(label), "%.40s cpu", servers[i].name);
		if (!servers[i].ok)
			printf("%-17s unknown (cannot read /proc/%ld/stat)\n", label, o->server_pids[i]);
		else if (t->ok)
			print_cpu(label, &servers[i].d, t->ok, elapsed);
	}
	if (o->admin) {
		if (!have_store)
			printf("store             unknown (no gba_bsf_sessions_live/gba_bsf_store_bytes at %s)\n",
			       o->admin);
		else {
			double dl = s1->live - s0->live, db = s1->bytes - s0->bytes;
			printf("store             %.0f bytes/live B-TID over the run (+%.0f B-TIDs, +%.0f bytes); "
			       "%.0f bytes/B-TID overall (%.0f live, %.0f bytes)\n",
			       dl > 0 ? db / dl : 0.0, dl, db, s1->live > 0 ? s1->bytes / s1->live : 0.0,
			       s1->live, s1->bytes);
		}
	}
}

static int run_load(const struct options *o)
{
	struct config cfg;
	struct store_figures s0 = { -1, -1 }, s1 = { -1, -1 };
	struct ub_url admin;
	int have_store = 0;

	if (setup(o, &cfg))
		return 2;
	if (o->admin && ub_url_parse(o->admin, &admin)) {
		fprintf(stderr, "ub-load: --admin: an http:// URL of the BSF's /metrics\n");
		return 2;
	}
	if (o->admin)
		have_store = fetch_store(&admin, &s0) == 0;

	struct worker *w = calloc(cfg.threads, sizeof(*w));
	struct bench_cpu self0, self1;
	struct server_cpu servers[MAX_SERVERS];
	for (unsigned i = 0; i < o->n_servers; i++) {
		bench_proc_name((pid_t)o->server_pids[i], servers[i].name, sizeof(servers[i].name));
		servers[i].ok = bench_proc_cpu_times((pid_t)o->server_pids[i], &servers[i].t0) == 0;
	}
	bench_self_cpu_times(&self0);
	long long t0 = bench_now_ns(), stop = t0 + (long long)(cfg.duration * 1e9);
	if (!w || start_workers(&cfg, w, stop)) {
		fprintf(stderr, "ub-load: cannot start the workers\n");
		exit(1);
	}
	for (unsigned t = 0; t < cfg.threads; t++)
		pthread_join(w[t].th, NULL);
	double elapsed = (double)(bench_now_ns() - t0) / 1e9;
	bench_self_cpu_times(&self1);
	for (unsigned i = 0; i < o->n_servers; i++) {
		struct bench_cpu t1;
		servers[i].ok = servers[i].ok && bench_proc_cpu_times((pid_t)o->server_pids[i], &t1) == 0;
		servers[i].d.user = servers[i].ok ? t1.user - servers[i].t0.user : 0;
		servers[i].d.sys = servers[i].ok ? t1.sys - servers[i].t0.sys : 0;
	}
	if (o->admin)
		have_store = have_store && fetch_store(&admin, &s1) == 0;

	struct totals t;
	struct bench_cpu dself = { self1.user - self0.user, self1.sys - self0.sys };
	merge(w, cfg.threads, &t);
	report(o, &cfg, &t, elapsed, &dself, servers, &s0, &s1, have_store);
	for (unsigned i = 0; i < cfg.threads; i++) {
		close(w[i].ep);
		free(w[i].conns);
		free(w[i].lat_us);
		free(w[i].shed_lat_us);
		free(w[i].shed_sent_us);
	}
	if (cfg.challenge_log)
		fclose(cfg.challenge_log);
	free(w);
	free(t.lat);
	free(t.shed_lat);
	free(t.shed_sent);
	cards_free(&cfg.cards);
	return t.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (o.make_csv)
		rc = make_csv(&o);
	else if (o.sqn_of)
		rc = sqn_of(&o);
	else
		rc = run_load(&o);
	return rc;
}
