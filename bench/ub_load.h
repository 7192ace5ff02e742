/*
 * ub_load.h - what ub-load's closed loop (ub_load.c) and its open loop
 * (ub_load_open.c) share: the cards, the run's settings, a connection
 * driving one ub_session, and a worker thread with its results.
 */
#ifndef UB_LOAD_H
#define UB_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <gba/gba.h>

#include "ub_client.h"
#include "ub_net.h"

#define IMPI_MAX 255   /* as the subscriber database (GBA_IMPI_MAX) */
#define STATUS_MAX 600

struct card {
	char impi[IMPI_MAX + 1];
	struct gba_aka_key key;     /* secret */
	struct gba_usim_sqn sqn;
};

struct cards {
	struct card *v;
	size_t n;
};

struct config {
	struct ub_url url;
	struct ub_addr addr;
	unsigned connections, threads;
	double duration;
	int timeout_ms;
	const char *realm;              /* of the first request */
	struct cards cards;
	int once;                       /* each card at most once (--once, --rate) */
	atomic_size_t next_card;        /* with once: the next card never used */
	double rate;                    /* --rate: arrivals per second; 0: closed loop */
	unsigned max_open;              /* --rate: connections open at most */
	int new_connections;            /* --rate: a new connection per arrival */
	FILE *challenge_log;            /* --challenge-log, or NULL */
};

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_ACTIVE };

struct conn {
	struct ub_session s;            /* its buffers: about 45 KB */
	struct worker *w;
	int fd;
	enum conn_state state;
	uint32_t events;                /* what epoll watches now */
	size_t card, card_step;         /* the card in use; the stride between ours */
	const char *impi;               /* of the bootstrap in flight */
	long long started_ns;           /* of the bootstrap in flight (open loop: scheduled) */
	long long sent_ns;              /* when its first request was started */
	int finished;                   /* --once: no card left for it */
	struct conn *next_free;         /* open loop: the idle connections */
	int idle;                       /* open loop: on the idle list, no bootstrap */
	int dead;                       /* idle, and the server closed it meanwhile */
};

struct worker {
	pthread_t th;
	struct config *cfg;
	int ep;
	struct conn *conns;
	unsigned n_conns;
	unsigned finished;              /* connections with no card left */
	long long stop_ns;
	/* Open loop. */
	int open_loop;
	double rate;                    /* this thread's share of arrivals per second */
	struct conn *free_conns;        /* no socket */
	struct conn *idle_conns;        /* kept alive, ready for the next arrival */
	unsigned active;
	uint64_t arrivals, late;        /* started; started over 1 ms after their time */
	/* Results. */
	uint64_t ok, failed, resyncs;
	uint64_t shed, shed_retry_after;   /* 503s, those with Retry-After */
	uint64_t fails[UB_FAIL__COUNT];
	uint64_t status_fails[STATUS_MAX];
	uint32_t *lat_us, *shed_lat_us, *shed_sent_us;   /* the last: 503s from their start */
	size_t n_lat, cap_lat, n_shed_lat, cap_shed_lat;
};

/* ub_load.c: the connection machinery both loops use. */
void watch(struct conn *c, uint32_t events);
void conn_close(struct conn *c);
void record(struct worker *w, struct conn *c, long long now);
int begin_at(struct conn *c, int reused, long long started_ns);
void start_connect(struct conn *c);
void connected(struct conn *c);
void drive(struct conn *c, int readable);
void check_timeouts(struct worker *w, long long now);
/* One epoll event of c; the timeouts every 100 ms; every connection closed at the end. */
void conn_event(struct conn *c, uint32_t events);
void worker_tick(struct worker *w, long long *next_check);
void worker_close_all(struct worker *w);

/* ub_load_open.c: a worker's open loop; a connection's bootstrap ended. */
void *open_loop_main(struct worker *w);
void open_loop_done(struct conn *c);

#endif
