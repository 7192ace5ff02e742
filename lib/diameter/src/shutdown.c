/*
 * shutdown.c - stopping freeDiameter's core without tripping its
 * fd_fifo_del assertion.
 *
 * At shutdown libfdcore 1.2.1 (core.c) asks its routing and dispatch
 * threads to stop "after their next loop" (fd_rtdisp_cleanstop), closes
 * the peers (fd_peer_fini), then destroys the three message queues those
 * threads wait on (fd_rtdisp_fini -> fd_queues_fini -> fd_fifo_del).  A
 * thread waits on its queue for up to one second before it looks at the
 * order again, so when the peers close quickly the queues are destroyed
 * with their threads still asleep in them: up to AppServThreads (4) on
 * fd_g_local, one on each of the others.  fd_fifo_del wakes them one at a
 * time and gives them 20 x 1 ms in all to leave, then asserts
 * (fifo.c:192 "++loops < 20"): on a busy machine, or under ASan, a woken
 * thread is sometimes not scheduled in time and the daemon dies with
 * SIGABRT on SIGTERM (seen about once in six runs of the demo in CI).
 * Seen with gdb on fd_fifo_del: the only queues destroyed with threads
 * still waiting are those three, from fd_rtdisp_fini.
 *
 * So the node gives the order itself, before fd_core_shutdown(), and waits
 * (bounded) until no thread is left waiting on those queues; by the time
 * freeDiameter destroys them nobody is inside.  During that wait (at most
 * about a second) requests from peers are no longer dispatched: the node is
 * closing anyway, and its peers see the DPR right after.
 *
 * fd_rtdisp_cleanstop and the three queues are libfdcore's own symbols,
 * exported by its shared library but not declared in its public headers;
 * they are declared here, for 1.2.x (Debian 12's 1.2.1).  The waiters of
 * a queue are read from fd_fifo_dump()'s public "threads:N,M" text.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* libfdcore internals (fdcore-internal.h, routing_dispatch.c, queues.c). */
extern struct fifo *fd_g_incoming;
extern struct fifo *fd_g_outgoing;
extern struct fifo *fd_g_local;
int fd_rtdisp_cleanstop(void);

/* How many threads wait for an item of q (0 when q is gone or unreadable). */
static int queue_waiters(struct fifo *q)
{
	char *buf = NULL, *t;
	size_t len = 0;
	int n = 0;

	if (!q)
		return 0;
	if (fd_fifo_dump(&buf, &len, NULL, "", q, NULL) && (t = strstr(buf, "threads:")))
		n = atoi(t + 8);
	free(buf);
	return n;
}

static int routing_waiters(void)
{
	return queue_waiters(fd_g_incoming) + queue_waiters(fd_g_outgoing) +
	       queue_waiters(fd_g_local);
}

/*
 * Two readings 20 ms apart both at zero: a thread that had checked the
 * order just before it was given, and not yet gone to sleep, has done so
 * by the second reading (and then sleeps its second out, then leaves).
 * Bounded at 3 s: the threads wait 1 s at a time.
 */
static void wait_routing_idle(void)
{
	struct timespec step = { 0, 20 * 1000 * 1000 };
	int zero = 0;

	for (int i = 0; i < 150 && zero < 2; i++) {
		zero = routing_waiters() ? 0 : zero + 1;
		if (zero < 2)
			nanosleep(&step, NULL);
	}
}

void dia_core_stop(void)
{
	fd_rtdisp_cleanstop();
	wait_routing_idle();
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
}
