/*
 * ub_net.h - sockets for the Ub client: resolve once, connect without
 * blocking, and drive one session to its end with poll() and a deadline.
 */
#ifndef UB_NET_H
#define UB_NET_H

#include <sys/socket.h>

#include "ub_client.h"
#include "ub_http.h"

struct ub_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Resolve the URL's host and port (numeric or by name). */
gba_err ub_net_resolve(const struct ub_url *url, struct ub_addr *out);

/*
 * A non-blocking TCP socket (TCP_NODELAY) with connect() started: the
 * connection is up once the socket is writable and SO_ERROR is 0.
 * Returns the fd, or -1 with errno set.
 */
int ub_net_connect_start(const struct ub_addr *addr);

/* SO_ERROR of a socket whose connect() completed (0: connected). */
int ub_net_connect_error(int fd);

/*
 * Drive s until it is done, on *fd (-1: connect first; the connection is
 * left open in *fd for reuse, or closed and -1 when it cannot be reused).
 * timeout_ms bounds the whole bootstrap, not counting a deliberate wait
 * (UB_FAULT_STALE).
 */
void ub_net_run(struct ub_session *s, const struct ub_addr *addr, int *fd, int timeout_ms);

/*
 * A plain GET of url on a new connection (for /metrics and the like): the
 * response lands in buf[0..cap) and *r points into it.  Bounded by
 * timeout_ms.  GBA_ERR_UNAVAILABLE when the connection fails,
 * GBA_ERR_TIMEOUT, or the parser's error.
 */
gba_err ub_net_get(const struct ub_url *url, char *buf, size_t cap,
		   struct ub_http_response *r, int timeout_ms);

/*
 * One whole bootstrap of impi against bsf_url (http://host:port/path), as a
 * fresh card that has seen no SQN yet (5 IND bits, delta 2^28), with
 * Milenage's K and OPc (from a key file: key_file_milenage), over a connection of its
 * own, bounded by timeout_ms.  The outcome is in *s: s->result, and on
 * success s->info.btid, s->rand and s->ks; the caller wipes it
 * (ub_session_wipe).  GBA_ERR_INVALID_ARG for a URL that does not
 * parse, or ub_net_resolve's error; otherwise GBA_OK, whatever the result.
 */
gba_err ub_net_bootstrap_fresh(struct ub_session *s, const char *bsf_url, const char *impi,
			       const uint8_t k[16], const uint8_t opc[16], int timeout_ms);

#endif /* UB_NET_H */
