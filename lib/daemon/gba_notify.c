/*
 * gba_notify.c - READY=1, STOPPING=1 and STATUS= to systemd, see
 * gba_notify.h.
 */
#include <stddef.h>

#include "gba_notify.h"

#ifdef GBA_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

/* One datagram: the state and the status line together, so systemd never
 * shows a status of the state before.  A failure has nowhere to go: the
 * daemon runs on (systemd then times the start out, which it logs). */
static void send_state(const char *state, const char *status)
{
	if (status)
		(void)sd_notifyf(0, "%s%sSTATUS=%s", state, *state ? "\n" : "", status);
	else
		(void)sd_notify(0, state);
}
#else
static void send_state(const char *state, const char *status)
{
	(void)state;
	(void)status;
}
#endif

void gba_notify_ready(const char *status)
{
	send_state("READY=1", status);
}

void gba_notify_stopping(const char *status)
{
	send_state("STOPPING=1", status);
}

void gba_notify_status(const char *status)
{
	if (status)
		send_state("", status);
}
