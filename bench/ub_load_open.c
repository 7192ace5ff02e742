/*
 * ub_load_open.c - ub-load's open loop (--rate R): a power-cut storm.
 *
 * Arrivals come at a fixed rate whatever the BSF answers, each the next
 * card never used.  An arrival takes a kept-alive connection that is idle,
 * else opens a new one (at most max_open open); with --new-connections
 * each arrival has a TCP connection of its own (a node after a power cut),
 * closed when its bootstrap ends: the kernel's connection set-up then
 * costs more than the bootstrap on this box.  A bootstrap's latency runs from
 * its scheduled arrival, not from when the generator got round to it, so
 * a generator that falls behind (all max_open connections busy) shows as
 * latency and as "late" arrivals instead of silently offering less
 * (coordinated omission).  503 answers are counted apart, with their own
 * latency and whether they carried Retry-After; nothing is retried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bench_util.h"
#include "ub_load.h"

#define LATE_NS 1000000LL   /* an arrival started over 1 ms after its time is late */

/* The connection is free again for the next arrival (kept open if it can be). */
void open_loop_done(struct conn *c)
{
	struct worker *w = c->w;

	ub_session_wipe(&c->s);
	w->active--;
	if (!w->cfg->new_connections && c->fd >= 0 && !c->s.conn_closed) {
		c->idle = 1;
		c->next_free = w->idle_conns;
		w->idle_conns = c;
		return;
	}
	conn_close(c);
	c->next_free = w->free_conns;
	w->free_conns = c;
}

/*
 * Start the arrival scheduled at sched_ns on an idle kept-alive
 * connection, else on a new one: -1 when no card is left.
 */
static int arrive(struct worker *w, long long sched_ns, long long now)
{
	int from_idle = w->idle_conns != NULL;
	struct conn *c = from_idle ? w->idle_conns : w->free_conns;
	int reuse = from_idle && !c->dead;   /* closed by the server while idle: a new one */

	if (begin_at(c, reuse, sched_ns))
		return -1;
	if (from_idle)
		w->idle_conns = c->next_free;
	else
		w->free_conns = c->next_free;
	c->idle = c->dead = 0;
	w->active++;
	w->arrivals++;
	w->late += now - sched_ns > LATE_NS;
	if (reuse) {
		drive(c, 0);
		return 0;
	}
	start_connect(c);
	if (c->state != CONN_CONNECTING)
		drive(c, 0);   /* the connect failed at once: recorded, slot freed */
	return 0;
}

/* Start every arrival due by now that a free connection can take. */
static int arrivals_due(struct worker *w, long long *next_ns, long long period_ns,
			long long now)
{
	while (*next_ns <= now && *next_ns < w->stop_ns && (w->idle_conns || w->free_conns)) {
		if (arrive(w, *next_ns, now))
			return -1;
		*next_ns += period_ns;
	}
	return 0;
}

/*
 * An event on an idle kept-alive connection: the server closed it (its
 * idle timeout, or a 503 with Connection: close).  It stays on the idle
 * list, marked, and the arrival that takes it opens a new one.
 */
static void idle_event(struct conn *c)
{
	char b[256];

	if (recv(c->fd, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN)
		return;
	conn_close(c);
	c->dead = 1;
}

void *open_loop_main(struct worker *w)
{
	struct epoll_event ev[64];
	long long period_ns = (long long)(1e9 / w->rate), next_ns = bench_now_ns();
	long long next_check = next_ns + 100000000LL, drain_end;
	int cards_left = 1;

	for (unsigned i = w->n_conns; i-- > 0;) {
		w->conns[i].next_free = w->free_conns;
		w->free_conns = &w->conns[i];
	}
	/* After the last arrival, the ones in flight get the timeout to end. */
	drain_end = w->stop_ns + (long long)w->cfg->timeout_ms * 1000000LL;
	for (;;) {
		long long now = bench_now_ns();
		if (cards_left && arrivals_due(w, &next_ns, period_ns, now))
			cards_left = 0;
		if ((!cards_left || next_ns >= w->stop_ns) && (w->active == 0 || now >= drain_end))
			break;
		int n = epoll_wait(w->ep, ev, 64, 1);
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (c->idle) {
				if (!c->dead)
					idle_event(c);
				continue;
			}
			conn_event(c, ev[i].events);
		}
		worker_tick(w, &next_check);
	}
	worker_close_all(w);
	return NULL;
}
