/*
 * listen_wait.c - wait until freeDiameter's server socket listens.
 *
 * fd_core_start() returns once its server threads exist, but each thread
 * calls listen(2) itself, later: a daemon that says READY=1 (sd_notify) or
 * a test that connects right after gba_dia_start() could find the port
 * closed.  The kernel's socket tables (/proc/net/tcp, tcp6) say when a
 * socket in LISTEN state holds the port; freeDiameter offers no call for it.
 */
#define _GNU_SOURCE   /* freeDiameter's headers (pthread_rwlock_t) */
#include <stdio.h>
#include <time.h>

#include "internal.h"

#define TCP_LISTEN_STATE 0x0A   /* include/net/tcp_states.h: TCP_LISTEN */

/* 1 when the table at path has a socket in LISTEN state on local port. */
static int table_listens(const char *path, uint16_t port)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned local_port, state;

		/* "  0: 0100007F:0F1C 00000000:0000 0A ..." (the header fails the scan) */
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &local_port,
			   &state) == 2)
			found = local_port == port && state == TCP_LISTEN_STATE;
	}
	fclose(f);
	return found;
}

int dia_wait_listening(uint16_t port, unsigned timeout_ms)
{
	struct timespec step = { 0, 1000 * 1000 };

	for (unsigned waited = 0; waited <= timeout_ms; waited++) {
		if (table_listens("/proc/net/tcp", port) || table_listens("/proc/net/tcp6", port))
			return 0;
		nanosleep(&step, NULL);
	}
	return -1;
}
