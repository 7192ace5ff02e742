/*
 * gba_http.c - starts and stops a libmicrohttpd server the way every gba
 * daemon runs one (gba_http.h).
 *
 * The event loop is poll(2), on libmicrohttpd's own thread(s), for every
 * server, whatever its load:
 *
 *  - not select(2): select cannot watch a descriptor numbered FD_SETSIZE
 *    (1024) or above, and libmicrohttpd closes such a connection at once.
 *    A daemon holding many sockets (Ub's or Ua's keep-alive connections,
 *    Diameter peers, store connections) numbers its newer ones above that,
 *    and a server on select, however quiet, then answers no one (gba-bsf's
 *    Nbsp_GBA port did; tests/zn/test_zn_http_fds.py).
 *  - not epoll: libmicrohttpd 0.9.75's epoll loop takes at most 128 events
 *    per epoll_wait and, when it got exactly 128, calls epoll_wait again
 *    with the same timeout before serving any of them, so a thread with 128
 *    (or 256 ...) connections ready at once sleeps until another event
 *    comes or the timeout ends, seconds later (seen on gba-bsf's Ub, then
 *    on gba-naf's Digest Ua port: tests/naf/test_naf_ua_ready.py; docs/bsf.md,
 *    "Overload").  In epoll mode it also spins on a TLS connection whose
 *    handshake waits for the client (GnuTLS reads the socket itself, so
 *    libmicrohttpd never sees EAGAIN and keeps it marked readable: docs/naf.md).
 *    poll(2) has neither problem, and at these daemons' connection counts it
 *    cost the same CPU per request as epoll (docs/bsf.md, Performance).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gba_http.h"

#define OPTS_MAX 12

static const struct MHD_OptionItem no_options[] = { { MHD_OPTION_END, 0, NULL } };

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct gba_http *h = cls;
	enum gba_log_level level = atomic_load(&h->running) ? h->run_level : GBA_LOG_WARN;
	char msg[512];
	size_t n;

	if (!gba_log_enabled(h->log, level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	gba_log_msg(h->log, level, "%s: %s", h->name, msg);
}

static unsigned build_flags(const struct gba_http_opts *o)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			 o->flags;

	/* The caller's thread adds connections: the loop must wake for them. */
	if (o->no_listen)
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	if (o->addr && o->addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert || o->tls)
		flags |= MHD_USE_TLS;
	return flags;
}

/* The options o asks for, in opts (OPTS_MAX), ending in MHD_OPTION_END. */
static void build_options(const struct gba_http_opts *o, struct MHD_OptionItem *opts)
{
	size_t n = 0;

	if (!o->no_listen)
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)o->addr);
	if (o->tls_cert) {
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert);
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key);
	}
	if (o->tls_cert && o->tls_trust)
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)o->tls_trust);
	if ((o->tls_cert || o->tls) && o->tls_priorities && *o->tls_priorities)
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)o->tls_priorities);
	opts[n++] = GBA_HTTP_OPT(MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL);
	opts[n++] = GBA_HTTP_OPT(MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout, NULL);
	if (o->memory_limit)
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->memory_limit, NULL);
	if (o->threads > 1)
		opts[n++] = GBA_HTTP_OPT(MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL);
	opts[n++] = GBA_HTTP_OPT(MHD_OPTION_END, 0, NULL);
}

int gba_http_start(struct gba_http *h, const struct gba_http_opts *o)
{
	struct MHD_OptionItem opts[OPTS_MAX];

	h->log = o->log;
	h->name = o->name;
	h->run_level = o->run_level;
	atomic_init(&h->running, 0);
	build_options(o, opts);
	/* The logger first, so that libmicrohttpd reports problems with the others through it. */
	h->daemon = MHD_start_daemon(build_flags(o), 0, NULL, NULL, o->handler, o->handler_cls,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
				     MHD_OPTION_ARRAY, opts,
				     MHD_OPTION_ARRAY, o->options ? o->options : no_options,
				     MHD_OPTION_END);
	if (!h->daemon)
		return -1;
	atomic_store(&h->running, 1);
	return 0;
}

void gba_http_stop(struct gba_http *h)
{
	if (!h->daemon)
		return;
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}
