/*
 * listener.h - a listening TCP socket and a thread of its own that accepts
 * connections and hands each to a callback.
 *
 * Why gba-bsf accepts Ub connections itself rather than letting
 * libmicrohttpd do it: with a thread pool, every MHD worker polls the one
 * listening socket and whichever wakes first accepts, so a burst of
 * connections (a load generator's start, clients reconnecting after a
 * restart) can land mostly on one worker and stay there for as long as
 * they are kept alive, leaving the other cores idle.  MHD_add_connection()
 * instead picks the worker by the socket's number, which spreads them
 * evenly (docs/bsf.md, Performance).
 */
#ifndef BSF_LISTENER_H
#define BSF_LISTENER_H

#include <sys/socket.h>

#include "gba_log.h"

struct listener;

/* Called in the listener's thread with a new non-blocking socket it now owns. */
typedef void listener_accept_fn(void *arg, int fd, const struct sockaddr *peer,
				socklen_t peer_len);

/*
 * Bind to addr (an IPv6 address listens for IPv6 only), listen, and start
 * accepting.  -1 with a message in err (e.g. the port is taken).
 */
int listener_start(struct listener **out, const struct sockaddr *addr, socklen_t addr_len,
		   listener_accept_fn *fn, void *arg, const struct gba_log *log, char *err,
		   size_t err_size);

/* The port it listens on (the one the kernel chose for port 0). */
unsigned listener_port(const struct listener *l);

/* Stop accepting and close the socket; connections handed out live on. */
void listener_stop(struct listener *l);

#endif /* BSF_LISTENER_H */
