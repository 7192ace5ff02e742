/*
 * ua_server.c - one Ua port: the listener thread (accept, admit, sweep)
 * and the libmicrohttpd daemon behind it (ua_server.h).
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "gba_http.h"
#include "http_util.h"
#include "log.h"
#include "ua.h"
#include "ua_server.h"

#define BACKLOG 1024
#define SWEEP_MS 250        /* deadlines are kept to within this */
#define ACCEPT_BATCH 256    /* accepts between two sweeps at most */
#define CONN_MEMORY 8192

struct ua_server {
	char name[32];
	int fd, tls;
	atomic_int stopping;
	struct gba_http http;       /* libmicrohttpd's threads (gba_http.h) */
	pthread_t thread;
	struct ua_conns *conns;
	struct naf_svc *svc;
	MHD_AccessHandlerCallback handler;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ua_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

/* ---- libmicrohttpd's callbacks --------------------------------------------- */

/*
 * The suite of an outgoing ServerHello: legacy_version (2), random (32),
 * session id (1 + n), cipher_suite (2).  -1 when the message is short.
 */
static int server_hello_suite(const gnutls_datum_t *msg, unsigned char suite[2])
{
	size_t at = 2 + 32;

	if (!msg || msg->size < at + 1 || msg->size < at + 1 + msg->data[at] + 2)
		return -1;
	at += 1 + msg->data[at];
	suite[0] = msg->data[at];
	suite[1] = msg->data[at + 1];
	return 0;
}

/*
 * GnuTLS hook (one per session, so one function): the ClientHello, before
 * GnuTLS reads it, carries the TLS 1.3 PSK binder ua_tls.c checks; the
 * ServerHello we send tells the suite for TLS-PSK's Ua id; the Finished message ends the
 * handshake and starts the header deadline.  libmicrohttpd links each
 * session to its connection (gnutls_session_set_ptr; its own PSK callback
 * relies on that too).
 */
static int on_handshake_msg(gnutls_session_t ss, unsigned type, unsigned when,
			    unsigned incoming, const gnutls_datum_t *msg)
{
	struct MHD_Connection *c = gnutls_session_get_ptr(ss);
	struct ua_conn *e = c ? conn_of(c) : NULL;
	unsigned char suite[2];
	if (e && when == GNUTLS_HOOK_PRE && incoming && type == GNUTLS_HANDSHAKE_CLIENT_HELLO && msg)
		ua_conn_set_hello(e, msg->data, msg->size);
	if (!e || when != GNUTLS_HOOK_POST)
		return 0;
	if (type == GNUTLS_HANDSHAKE_SERVER_HELLO && !incoming && !server_hello_suite(msg, suite))
		ua_conn_set_suite(e, suite);
	else if (type == GNUTLS_HANDSHAKE_FINISHED)
		ua_conns_secured(e, mono_ms());
	return 0;
}

static void watch_handshake(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (i && i->tls_session)
		gnutls_handshake_set_hook_function(i->tls_session, GNUTLS_HANDSHAKE_ANY,
						   GNUTLS_HOOK_BOTH, on_handshake_msg);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ua_server *u = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = i ? ua_conns_started(u->conns, i->connect_fd) : NULL;
		if (u->tls) {
			watch_handshake(c);
			ua_tls_notify(u->svc, c, socket_context, code);
		}
		return;
	}
	if (*socket_context)
		ua_conns_closed(*socket_context);
	*socket_context = NULL;
}

/* The handler's last call for a request (the body is all in): it is served now. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ua_server *u = cls;
	struct ua_conn *e;
	if (*con_cls && !*upload_size && (e = conn_of(c)))
		ua_conns_busy(e);
	return u->handler(u->svc, c, url, method, version, upload, upload_size, con_cls);
}

/* Answered: the connection waits for its next request, under the header deadline. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ua_conn *e = conn_of(c);
	req_completed(cls, c, con_cls, toe);
	if (e)
		ua_conns_idle(e, mono_ms());
}

/* ---- The listener ------------------------------------------------------------ */

static void admit(struct ua_server *u, int fd, const struct sockaddr_storage *peer,
		  socklen_t len, int64_t now)
{
	struct ua_conn *e = ua_conns_admit(u->conns, fd, (const struct sockaddr *)peer, len, now);
	if (!e) {
		close(fd);
		return;
	}
	/*
	 * Handshake flights and answers are small writes: Nagle must not hold
	 * one back for the client's delayed ACK (naf_bench: TLS-PSK enrolments
	 * 2,200-2,700/s without, 2,600-3,600/s with).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	/* On failure libmicrohttpd has closed fd, and never started it. */
	if (MHD_add_connection(u->http.daemon, fd, (const struct sockaddr *)peer, len) != MHD_YES)
		ua_conns_forget(u->conns, e);
}

/*
 * accept() failed.  Out of descriptors: the oldest waiting connection
 * makes room (libmicrohttpd closes it in a moment); pause either way so
 * as not to spin on a listening socket that stays readable.
 */
static void accept_failed(struct ua_server *u, int err)
{
	static const struct timespec pause = { 0, 2000000L };
	static atomic_llong last_log;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	int evicted = ua_conns_evict_one(u->conns);
	long long now = mono_ms() / 1000, then = atomic_load(&last_log);
	if (now != then && atomic_compare_exchange_strong(&last_log, &then, now))
		nlog_warn("%s: cannot accept: %s%s", u->name, strerror(err),
			  evicted ? "; evicted the oldest waiting connection" : "");
	nanosleep(&pause, NULL);
}

/* Accept what is waiting; 0 when the table had no room for more. */
static int accept_some(struct ua_server *u, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH && !atomic_load(&u->stopping); i++) {
		if (!ua_conns_has_room(u->conns))
			return 0;
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(u->fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			accept_failed(u, errno);
			return 1;
		}
		admit(u, fd, &peer, len, now);
	}
	return 1;
}

static void *listen_loop(void *arg)
{
	struct ua_server *u = arg;
	static const struct timespec full_pause = { 0, 1000000L };
	struct pollfd p = { .fd = u->fd, .events = POLLIN };
	int64_t next_sweep = 0;
	while (!atomic_load(&u->stopping)) {
		int n = poll(&p, 1, SWEEP_MS);
		int64_t now = mono_ms();
		if (now >= next_sweep) {
			ua_conns_sweep(u->conns, now);
			next_sweep = now + SWEEP_MS;
		}
		if (n > 0 && !accept_some(u, now))
			nanosleep(&full_pause, NULL);
	}
	return NULL;
}

/* socket, SO_REUSEADDR (a restart need not wait for TIME_WAIT), bind, listen. */
static int open_listener(struct ua_server *u, const struct ua_server_opts *o, char *err,
			 size_t err_size)
{
	const int on = 1;
	u->fd = socket(o->addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0 || setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    (o->addr->ss_family == AF_INET6 &&
	     setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on))) ||
	    bind(u->fd, (const struct sockaddr *)o->addr, o->addr_len) || listen(u->fd, BACKLOG)) {
		snprintf(err, err_size, "%s: %s", o->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- Start and stop ------------------------------------------------------------ */

/*
 * libmicrohttpd behind our listener, o->threads threads each polling: not
 * epoll, which spins on TLS handshakes waiting for the client and stalls
 * a thread with 128 connections ready at once (lib/http/gba_http.c).
 * Once serving, a client can cause a message per connection ("received
 * handshake message out of context" for each handshake it breaks off):
 * debug level then, so that a flood does not flood the log too.
 */
static int start_daemon(struct ua_server *u, const struct ua_server_opts *o)
{
	struct MHD_OptionItem more[8];
	size_t n = 0;
	const struct ua_conn_limits *lim = &o->limits;
	/*
	 * Our table keeps the count below max_total + a quarter (ua_conn.c).
	 * libmicrohttpd's own limit must never be the one reached: it splits
	 * it among its threads, and 0.9.75 hangs a thread that reaches it on
	 * an added connection (issue 15, defect 1).
	 */
	unsigned mhd_limit = (lim->max_total + lim->max_total / 4 + 16) * (o->threads + 1);
	struct gba_http_opts h = {
		.name = u->name, .log = &naf_log,
		.addr = (const struct sockaddr *)o->addr, .addr_len = o->addr_len, .no_listen = 1,
		.threads = o->threads, .max_connections = mhd_limit,
		/* A backstop for what our deadlines leave alone: a client not reading. */
		.connection_timeout = (lim->handshake_ms + lim->header_ms) / 1000 + 1,
		.memory_limit = CONN_MEMORY, .options = more,
		.handler = on_request, .handler_cls = u,
	};
	if (o->tls) {
		h.tls = 1;
		h.tls_priorities = u->svc->cfg->tls_priorities;
		more[n++] = GBA_HTTP_OPT(MHD_OPTION_HTTPS_CRED_TYPE, GNUTLS_CRD_PSK, NULL);
		more[n++] = GBA_HTTP_OPT(MHD_OPTION_GNUTLS_PSK_CRED_HANDLER, ua_tls_psk, u->svc);
	}
	more[n++] = GBA_HTTP_OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, u);
	more[n++] = GBA_HTTP_OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
	more[n++] = GBA_HTTP_OPT(MHD_OPTION_END, 0, NULL);
	return gba_http_start(&u->http, &h);
}

int ua_server_start(struct ua_server **out, const struct ua_server_opts *o, struct naf_svc *s,
		    char *err, size_t err_size)
{
	struct ua_server *u = calloc(1, sizeof(*u));
	if (!u || ua_conns_new(&u->conns, &o->limits)) {
		snprintf(err, err_size, "%s: out of memory", o->name);
		free(u);
		return -1;
	}
	snprintf(u->name, sizeof(u->name), "%s", o->name);
	u->tls = o->tls;
	u->svc = s;
	u->handler = o->handler;
	atomic_init(&u->stopping, 0);
	if (open_listener(u, o, err, err_size))
		goto fail;
	if (start_daemon(u, o)) {
		snprintf(err, err_size, "%s: libmicrohttpd does not start", o->name);
		goto fail;
	}
	int rc = pthread_create(&u->thread, NULL, listen_loop, u);
	if (rc) {
		snprintf(err, err_size, "%s: no listener thread: %s", o->name, strerror(rc));
		gba_http_stop(&u->http);
		goto fail;
	}
	*out = u;
	return 0;
fail:
	if (u->fd >= 0)
		close(u->fd);
	ua_conns_free(u->conns);
	free(u);
	return -1;
}

void ua_server_stop(struct ua_server *u)
{
	if (!u)
		return;
	atomic_store(&u->stopping, 1);
	/* Wakes the thread's poll() (the socket reads as hung up), which then sees stopping. */
	shutdown(u->fd, SHUT_RDWR);
	pthread_join(u->thread, NULL);
	close(u->fd);
	gba_http_stop(&u->http);        /* closes the connections, then the table goes */
	ua_conns_free(u->conns);
	free(u);
}

void ua_server_stats(struct ua_server *u, struct ua_conn_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (u)
		ua_conns_stats(u->conns, out);
}
