/*
 * gba_http.h - the one way every gba daemon runs a libmicrohttpd server
 * (internal, not installed): gba-bsf's Ub, Nbsp_GBA (Zn) and admin ports,
 * gba-naf's two Ua ports and admin port, gba-hss-sim's metrics port.
 *
 * The server model: libmicrohttpd's own thread (or a pool of them) runs
 * the event loop with poll(2), never select(2) nor epoll (why: gba_http.c);
 * the caller sets the connection limit and the idle timeout; libmicrohttpd's
 * messages go to the daemon's log (lib/daemon/gba_log.h) under the server's
 * name, as warnings while it starts and at the caller's level once it runs
 * (a client that resets its connection is no operator's business).  TLS
 * is optional: an X.509 certificate and key (and a CA for client
 * certificates), or TLS without a certificate for a caller that adds its
 * own credentials (TLS-PSK) through more options.
 *
 * The caller owns struct gba_http (in its own server's state) and keeps it,
 * and every string the options point to, for the server's life:
 *
 *     struct gba_http_opts o = {
 *             .name = "admin", .log = log, .addr = &ss, .addr_len = len,
 *             .max_connections = 64, .connection_timeout = 10,
 *             .handler = on_request, .handler_cls = a,
 *     };
 *     if (gba_http_start(&a->http, &o))
 *             ... "cannot start the admin server (see the log above)"
 *     ...
 *     gba_http_stop(&a->http);
 */
#ifndef GBA_HTTP_H
#define GBA_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "gba_log.h"

struct gba_http_opts {
	const char *name;              /* the log's prefix: "ub", "admin", "zn http" */
	const struct gba_log *log;
	enum gba_log_level run_level;  /* libmicrohttpd's messages once running (0: debug) */
	/*
	 * The address served.  With no_listen the caller accepts and hands each
	 * socket over with MHD_add_connection (its own admission and limits);
	 * the address then only tells IPv6 from IPv4.
	 */
	const struct sockaddr *addr;
	socklen_t addr_len;
	int no_listen;
	unsigned threads;              /* 0 or 1: one thread; more: a pool of that many */
	unsigned max_connections;      /* libmicrohttpd's limit, split among the pool */
	unsigned connection_timeout;   /* seconds a connection may idle; 0: no limit */
	size_t memory_limit;           /* per connection; 0: libmicrohttpd's default */
	/* X.509 TLS: PEM strings (cert and key, and trust to ask for a client
	 * certificate); NULL cert: no certificate. */
	const char *tls_cert, *tls_key, *tls_trust;
	const char *tls_priorities;    /* GnuTLS priorities; NULL or "": its default */
	int tls;                       /* TLS without a certificate (the caller's options) */
	unsigned flags;                /* more MHD_USE_* / MHD_ALLOW_* flags */
	const struct MHD_OptionItem *options;   /* more, ending in MHD_OPTION_END; or NULL */
	MHD_AccessHandlerCallback handler;
	void *handler_cls;
};

/* One of gba_http_opts.options: GBA_HTTP_OPT(MHD_OPTION_NOTIFY_COMPLETED, fn, cls). */
#define GBA_HTTP_OPT(o, v, p) ((struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })

struct gba_http {
	struct MHD_Daemon *daemon;     /* NULL until started: for MHD_add_connection etc. */
	const struct gba_log *log;
	const char *name;
	enum gba_log_level run_level;
	atomic_int running;
};

/*
 * Starts the server; 0, or -1 with the reason in the log (libmicrohttpd
 * says why through it).  h need not be initialised.
 */
int gba_http_start(struct gba_http *h, const struct gba_http_opts *o);

/* Stops it: closes its connections and joins its threads.  A server that
 * never started (daemon NULL) is left alone. */
void gba_http_stop(struct gba_http *h);

#endif /* GBA_HTTP_H */
