/*
 * test_dia_shutdown.c - gba_dia_close() lets freeDiameter destroy its
 * queues only once no thread sleeps in them (lib/diameter/src/shutdown.c).
 *
 * libfdcore 1.2.1 destroys its routing and dispatch queues at shutdown
 * while their threads may still wait in them, and fd_fifo_del aborts the
 * process when those do not leave within about 20 ms (fifo.c:192): the
 * daemons died with SIGABRT on SIGTERM on busy machines.  Whether a thread
 * is late is luck; whether one is there at all is not.  So this test puts
 * its own fd_fifo_del in front of libfdproto's (the executable exports it,
 * and libfdcore's calls resolve to it first), counts the threads waiting
 * in each queue as it is destroyed (fd_fifo_dump, "threads:N"), and
 * passes the call on.  Before the fix the dispatch queue went with its
 * four threads (AppServThreads) and the routing queues with one each.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/diameter/src/internal.h"

static int deleted;       /* queues destroyed */
static int most_waiting;  /* the most threads found in one of them */

int fd_fifo_del(struct fifo **queue);

int fd_fifo_del(struct fifo **queue)
{
	static int (*real)(struct fifo **);
	char *buf = NULL, *t;
	size_t len = 0;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fd_fifo_del");
	if (queue && *queue && fd_fifo_dump(&buf, &len, NULL, "", *queue, NULL) &&
	    (t = strstr(buf, "threads:")) && atoi(t + 8) > most_waiting)
		most_waiting = atoi(t + 8);
	free(buf);
	deleted++;
	return real ? real(queue) : EINVAL;
}

/* A started node (no listener, no peer), closed at once: its routing and
 * dispatch threads are asleep in their queues, as in a daemon between two
 * requests. */
static void test_close_leaves_no_thread_in_a_queue(void **state)
{
	struct gba_dia *dia = NULL;
	struct gba_dia_config cfg = {
		.identity = "node.shutdown.test",
		.realm = "shutdown.test",
		.transport = GBA_DIA_TCP,
		.port = 0,   /* no server socket */
		.log_level = GBA_DIA_LOG_WARN,
	};

	(void)state;
	assert_int_equal(gba_dia_open(&dia, &cfg), GBA_OK);
	assert_int_equal(gba_dia_start(dia), GBA_OK);
	gba_dia_close(dia);
	assert_true(deleted >= 3);   /* at least the three routing queues */
	assert_int_equal(most_waiting, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_leaves_no_thread_in_a_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
