/*
 * gba_notify.h - systemd's readiness protocol for the daemons (internal):
 * READY=1 once every listener accepts connections, STOPPING=1 when a stop
 * begins, and a STATUS= line for `systemctl status`, sent through
 * libsystemd's sd_notify(3) to $NOTIFY_SOCKET (units with Type=notify).
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call does nothing;
 * in a build without libsystemd, nothing at all.
 */
#ifndef GBA_DAEMON_NOTIFY_H
#define GBA_DAEMON_NOTIFY_H

/* READY=1, with STATUS=status when status is not NULL. */
void gba_notify_ready(const char *status);

/* STOPPING=1, with STATUS=status when status is not NULL. */
void gba_notify_stopping(const char *status);

/* STATUS=status alone. */
void gba_notify_status(const char *status);

#endif /* GBA_DAEMON_NOTIFY_H */
