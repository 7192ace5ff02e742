/*
 * ua_conn.h - the connections of one Ua port, as gba-naf's listener
 * (ua_server.c) sees them: limits per client address and in total,
 * eviction, and the deadlines of the TLS handshake and of each request's
 * header and body.
 *
 * Why: idle or slowloris connections cost an event loop almost nothing,
 * but each one still holds a socket and a slot.  So a new connection is
 * never refused while an old one sits waiting: over its address's limit
 * it evicts that address's oldest waiting connection, over the total it
 * evicts the oldest waiting connection of all; and a waiting connection
 * has a deadline, however slowly it sends (docs/naf.md, "Connections").
 *
 * A connection's life, each step under the table's lock:
 *   ua_conns_admit     accepted (the listener); NULL: refuse it
 *   ua_conns_started   the HTTP server took the socket (its own thread)
 *   ua_conns_secured   TLS handshake finished: the header deadline starts
 *   ua_conns_busy      a whole request is in: no deadline while it is served
 *   ua_conns_idle      answered: waits for the next request (header deadline)
 *   ua_conns_closed    the HTTP server is about to close the socket
 * Waiting connections (handshake, header, idle) may be evicted or timed
 * out: the table then shuts the socket down (shutdown(2), never close) and
 * the HTTP server sees the end of the stream and closes it.
 */
#ifndef GBA_NAF_UA_CONN_H
#define GBA_NAF_UA_CONN_H

#include <stdint.h>
#include <sys/socket.h>

struct ua_conns;
struct ua_conn;

struct ua_conn_limits {
	unsigned max_total;      /* connections open at once (> 0) */
	unsigned max_per_addr;   /* from one client address; 0: no such limit */
	unsigned handshake_ms;   /* accept to the end of the TLS handshake */
	unsigned header_ms;      /* handshake (or accept) to a whole request, and between requests */
	int tls;                 /* connections start with a TLS handshake */
};

struct ua_conn_stats {
	unsigned open;               /* admitted, not shut down or closed */
	unsigned long long accepted, evicted, timed_out, refused;
};

/* A table for lim (copied).  -1 when out of memory. */
int ua_conns_new(struct ua_conns **out, const struct ua_conn_limits *lim);
void ua_conns_free(struct ua_conns *t);

/*
 * A connection accepted on fd from peer, at now_ms (monotonic): make room
 * under the limits by evicting, and track it.  NULL: no room (every
 * connection in the way is serving a request); the caller closes fd.
 */
struct ua_conn *ua_conns_admit(struct ua_conns *t, int fd, const struct sockaddr *peer,
			       socklen_t peer_len, int64_t now_ms);

/*
 * Whether a connection accepted now would be admitted, whatever its
 * address: a free entry, and a slot or a waiting connection to evict.
 * When not, the listener leaves new connections in the kernel's backlog
 * for a moment (connections shut down are being closed, connections just
 * handed over are being started) rather than refuse them.
 */
int ua_conns_has_room(struct ua_conns *t);

/* The HTTP server refused the socket (and closed it): forget it. */
void ua_conns_forget(struct ua_conns *t, struct ua_conn *c);

/* The HTTP server took the socket fd: its connection, or NULL when unknown. */
struct ua_conn *ua_conns_started(struct ua_conns *t, int fd);

/*
 * The TLS cipher suite its ServerHello carried (ua_server.c's handshake
 * hook), for the Ua id of TLS-PSK (TS 33.220 H.3): gnutls tells the suite
 * by name only once the handshake is over.  ua_conn_suite: -1 when none.
 */
void ua_conn_set_suite(struct ua_conn *c, const unsigned char suite[2]);
int ua_conn_suite(const struct ua_conn *c, unsigned char suite[2]);

/*
 * Its ClientHello (ua_server.c's hook, before GnuTLS reads it): the TLS 1.3
 * PSK binder it carries, kept for ua_conn_binder_ok (psk_binder.h).
 * ua_conn_binder_ok: 1 when the binder verifies under psk, 0 when it does
 * not (a wrong key), -1 when it cannot tell (no binder, a second
 * ClientHello after a HelloRetryRequest).
 */
void ua_conn_set_hello(struct ua_conn *c, const unsigned char *msg, size_t len);
int ua_conn_binder_ok(const struct ua_conn *c, const unsigned char *psk, size_t len);

/* The steps of a started connection (any thread; it knows its table). */
void ua_conns_secured(struct ua_conn *c, int64_t now_ms);
void ua_conns_busy(struct ua_conn *c);
void ua_conns_idle(struct ua_conn *c, int64_t now_ms);
void ua_conns_closed(struct ua_conn *c);

/* Shut down the waiting connections past their deadline; how many. */
unsigned ua_conns_sweep(struct ua_conns *t, int64_t now_ms);

/* Out of descriptors: evict the oldest waiting connection.  0 when none. */
int ua_conns_evict_one(struct ua_conns *t);

void ua_conns_stats(struct ua_conns *t, struct ua_conn_stats *out);

#endif /* GBA_NAF_UA_CONN_H */
