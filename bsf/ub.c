/*
 * ub.c - the Ub HTTP(S) server on libmicrohttpd, see ub.h.
 *
 * Each connection gets a small state when it opens (reused by every
 * keep-alive request on it) and a body buffer of max_body_size octets the
 * first time a request carries a body (the digest's auth-int covers it).
 * A request is answered in the access handler's last call: answering in
 * the first would make MHD close the connection.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#define _DEFAULT_SOURCE         /* struct tcp_info */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <gba/util.h>

#include "gba_http.h"
#include "listener.h"
#include "ub.h"
#include "ub_conns.h"

/*
 * MHD keeps a request's headers and its response's in one memory pool per
 * connection: room for the response beyond the largest allowed request.
 */
#define MHD_RESPONSE_ROOM 4096

/*
 * Shed connections (503 at accept) are closed this long after their
 * answer, by the listener's thread: a close with the client's request
 * still unread resets the connection, and the reset can reach the client
 * before it has read the 503.  By then the client has read it and closed.
 */
#define SHED_LINGER_NS 100000000ull
#define SHED_RING 1024u

struct ub_http {
	struct gba_http http;       /* libmicrohttpd's workers: see gba_http.h */
	struct listener *listener;  /* accepts for the daemon: see listener.h */
	struct ub_conns *conns;     /* the connection limits: see ub_conns.h */
	struct ub_server *srv;
	const struct bsf_config *cfg;
	const struct gba_log *log;
	atomic_int held;          /* deferred requests not yet answered */
	atomic_int stopping;      /* no new ones: the daemon is about to stop */
	/* Shed connections waiting to be closed (the listener's thread only). */
	int shed_fd[SHED_RING];
	uint64_t shed_us[SHED_RING];
	unsigned shed_head, shed_n;
	char *tls_cert, *tls_key; /* PEM, kept for the daemon's life; the key is wiped */
	size_t tls_cert_len, tls_key_len;
};

/* The headers the Ub logic looks at, from one pass over the request's. */
struct req_headers {
	const char *authorization, *user_agent, *host, *content_length, *transfer_encoding;
	size_t authorization_len;
	unsigned authorization_count;
};

/*
 * Per TCP connection, allocated when it opens and reused by every request
 * on it: keep-alive requests allocate nothing of ours.  The header
 * pointers point into MHD's memory for the current request.
 */
struct conn_state {
	int fd;                   /* the socket: its name in ub_conns */
	struct addr_key client;   /* its address, for per-address limits */
	uint64_t start_us;
	struct req_headers hd;
	int too_large;
	size_t body_len, body_cap;
	uint8_t *body;            /* max_body_size octets, allocated at the first body */
	struct ub_http *h;
	struct MHD_Connection *conn;
	int deferred;             /* the request is held (ub_logic.h, struct ub_deferred) */
	int held;                 /* counted in ub_http.held until its answer is sent */
	enum ub_load load;        /* how busy the workers were when it began */
	struct ub_deferred *defer;   /* allocated at the first deferred request */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- Headers ------------------------------------------------------------------ */

static int name_is(const char *key, size_t key_size, const char *name)
{
	return key_size == strlen(name) && !strncasecmp(key, name, key_size);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      size_t key_size, const char *value, size_t value_size)
{
	struct req_headers *h = cls;

	(void)kind;
	if (name_is(key, key_size, MHD_HTTP_HEADER_AUTHORIZATION)) {
		if (h->authorization_count++ == 0) {
			h->authorization = value;
			h->authorization_len = value_size;
		}
	} else if (name_is(key, key_size, MHD_HTTP_HEADER_USER_AGENT)) {
		h->user_agent = value;
	} else if (name_is(key, key_size, MHD_HTTP_HEADER_HOST)) {
		h->host = value;
	} else if (name_is(key, key_size, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		h->content_length = value;
	} else if (name_is(key, key_size, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		h->transfer_encoding = value;
	}
	return MHD_YES;
}

static void read_headers(struct MHD_Connection *conn, struct req_headers *h)
{
	memset(h, 0, sizeof(*h));
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect_header, h);
}

/* ---- Answers ------------------------------------------------------------------ */

static enum MHD_Result queue_reply(struct MHD_Connection *conn, const struct ub_reply *r)
{
	static const char *const header_names[] = {
		[UB_HDR_NONE] = NULL,
		[UB_HDR_WWW_AUTHENTICATE] = MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		[UB_HDR_AUTHENTICATION_INFO] = MHD_HTTP_HEADER_AUTHENTICATION_INFO,
	};
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char retry[16];
	int ok = 1;

	resp = MHD_create_response_from_buffer(r->body_len, (void *)r->body,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (header_names[r->header_kind])
		ok &= MHD_add_response_header(resp, header_names[r->header_kind], r->header) ==
		      MHD_YES;
	if (r->content_type)
		ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					      r->content_type) == MHD_YES;
	if (r->retry_after) {
		snprintf(retry, sizeof(retry), "%u", r->retry_after);
		ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry) ==
		      MHD_YES;
	}
	if (r->status == 405)
		ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST") == MHD_YES;
	ret = ok ? MHD_queue_response(conn, r->status, resp) : MHD_NO;
	MHD_destroy_response(resp);
	return ret;
}

static int conn_fd(struct MHD_Connection *conn);

/* Refusals decided here, before the Ub logic sees the request. */
static enum MHD_Result refuse(struct ub_http *h, struct MHD_Connection *conn, unsigned status,
			      const char *text, uint64_t start_us)
{
	struct ub_reply r;
	enum MHD_Result ret;

	ub_reply_error(&r, status, CAUSE_MALFORMED, text);
	r.retry_after = 0;
	ret = queue_reply(conn, &r);
	ub_conns_answered(h->conns, conn_fd(conn));
	metrics_inc(&h->srv->metrics->requests);
	metrics_inc(&h->srv->metrics->failures[CAUSE_MALFORMED]);
	metrics_observe_latency(h->srv->metrics, now_us() - start_us);
	gba_log_msg(h->log, GBA_LOG_INFO, "bootstrap failed impi=- status=%u cause=malformed: %s",
		status, text);
	return ret;
}

/* ---- The socket ---------------------------------------------------------------- */

/*
 * How long ago the kernel last received data on the connection, in ms:
 * for a request just read, how long it waited unread (TCP_INFO's
 * tcpi_last_data_recv, counted in the kernel's ticks: 4 ms at HZ=250).
 */
static unsigned conn_queued_ms(void *arg)
{
	const struct conn_state *cs = arg;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(cs->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof(ti.tcpi_last_data_recv))
		return 0;
	return ti.tcpi_last_data_recv;
}

/* ---- Deferred answers ---------------------------------------------------------- */

/*
 * A first request whose vector comes later (the embedded database's group
 * commit, a MAR to the HSS) is suspended (its worker serves other
 * connections meanwhile) and resumed from the thread that has it (the
 * committer, once the batch is in the file; freeDiameter's, with the MAA);
 * MHD then calls the handler again and the answer is made (answer()).
 */
static void hold_request(void *arg)
{
	struct conn_state *cs = arg;

	cs->held = 1;
	atomic_fetch_add(&cs->h->held, 1);
	MHD_suspend_connection(cs->conn);
}

static void release_request(void *arg)
{
	struct conn_state *cs = arg;

	MHD_resume_connection(cs->conn);
}

/* The held request's answer is sent (or its connection is gone). */
static void unhold(struct conn_state *cs)
{
	if (cs && cs->held) {
		cs->held = 0;
		atomic_fetch_sub(&cs->h->held, 1);
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	unhold(*req_cls);
}

/* The connection's deferral state, or NULL when the answer must come now. */
static struct ub_deferred *offer_defer(struct ub_http *h, struct conn_state *cs)
{
	if (atomic_load(&h->stopping))
		return NULL;
	if (!cs->defer) {
		cs->defer = calloc(1, sizeof(*cs->defer));
		if (!cs->defer)
			return NULL;
		cs->defer->hold = hold_request;
		cs->defer->release = release_request;
		cs->defer->hook_arg = cs;
	}
	return cs->defer;
}

/*
 * MHD_stop_daemon() aborts the process while a connection is suspended,
 * and closes the others without sending what they have queued: let the
 * held ones be resumed and answered first.  Each waits for one
 * transaction, or for one MAA, which comes or times out within
 * zh.timeout_ms; past bsf.shutdown_timeout the process's watchdog ends
 * the wait.
 */
static void wait_for_held(struct ub_http *h)
{
	const struct timespec ms = { 0, 1000000 };
	unsigned limit = 10000;

	if (h->cfg->av_source == AV_SOURCE_ZH || h->cfg->av_source == AV_SOURCE_CX)
		limit += h->cfg->zh_timeout_ms;
	atomic_store(&h->stopping, 1);
	for (unsigned i = 0; i < limit && atomic_load(&h->held) > 0; i++)
		nanosleep(&ms, NULL);
}

static enum MHD_Result answer(struct ub_http *h, struct MHD_Connection *conn, const char *url,
			      const char *method, struct conn_state *cs)
{
	const struct req_headers *hd = &cs->hd;
	struct ub_request req;
	struct ub_reply reply;
	enum MHD_Result ret;

	if (cs->deferred) {
		cs->deferred = 0;
		ub_finish_deferred(cs->defer, &reply);
		ret = queue_reply(conn, &reply);
		ub_conns_answered(h->conns, cs->fd);
		metrics_observe_latency(h->srv->metrics, now_us() - cs->start_us);
		return ret;
	}

	if (hd->authorization_count > 1)
		return refuse(h, conn, 400, "more than one Authorization header", cs->start_us);
	req.method = method;
	req.target = url;
	req.target_len = strlen(url);
	req.has_query = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0;
	req.authorization = hd->authorization;
	req.authorization_len = hd->authorization_len;
	req.user_agent = hd->user_agent;
	req.host = hd->host;
	req.body = cs->body;
	req.body_len = cs->body_len;
	req.client = cs->client;
	req.overloaded = cs->load == UB_LOAD_OVER;
	/* A wait is worth a system call only while the workers are busy. */
	req.queued_ms = cs->load == UB_LOAD_LOW ? NULL : conn_queued_ms;
	req.queued_arg = cs;
	cs->conn = conn;
	req.defer = offer_defer(h, cs);
	ub_handle(h->srv, &req, &reply);
	if (reply.status == 0) {
		cs->deferred = 1;   /* held: MHD calls again once it is released */
		return MHD_YES;
	}
	ret = queue_reply(conn, &reply);
	ub_conns_answered(h->conns, cs->fd);
	metrics_observe_latency(h->srv->metrics, now_us() - cs->start_us);
	return ret;
}

/* ---- Bodies ------------------------------------------------------------------- */

/*
 * Whether a body follows, and how large it says it is.  -1 when
 * Content-Length is not a number.
 */
static int body_expected(const struct req_headers *hd, unsigned long long *declared)
{
	char *end;

	*declared = 0;
	if (hd->transfer_encoding)
		return 1;
	if (!hd->content_length)
		return 0;
	errno = 0;
	*declared = strtoull(hd->content_length, &end, 10);
	if (errno || end == hd->content_length || *end)
		return -1;
	return *declared > 0;
}

static void take_body(struct conn_state *cs, const char *data, size_t n)
{
	if (cs->too_large || n > cs->body_cap - cs->body_len) {
		cs->too_large = 1; /* read on and drop it; answered 413 at the end */
		return;
	}
	memcpy(cs->body + cs->body_len, data, n);
	cs->body_len += n;
}

/* ---- Requests ------------------------------------------------------------------ */

/*
 * The first call of a request: look at its headers.  Refusals of a body
 * not worth reading are answered at once (MHD then closes the
 * connection); everything else is answered in the last call, which keeps
 * the connection alive.
 */
static enum MHD_Result begin_request(struct ub_http *h, struct MHD_Connection *conn,
				     struct conn_state *cs)
{
	unsigned long long declared;
	int expect;

	const union MHD_ConnectionInfo *size =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

	cs->start_us = now_us();
	cs->load = ub_conns_touch(h->conns, cs->fd);
	cs->body_len = 0;
	cs->too_large = 0;
	/* MHD's own limit (its memory pool) is looser: hold to the configured one. */
	if (size && size->header_size > h->cfg->max_header_size)
		return refuse(h, conn, 431, "request headers too large", cs->start_us);
	read_headers(conn, &cs->hd);
	expect = body_expected(&cs->hd, &declared);
	if (expect < 0)
		return refuse(h, conn, 400, "bad Content-Length", cs->start_us);
	if (expect && (declared > h->cfg->max_body_size || h->cfg->max_body_size == 0))
		return refuse(h, conn, 413, "request body too large", cs->start_us);
	if (expect && !cs->body) {
		cs->body = malloc(h->cfg->max_body_size);
		if (!cs->body)
			return MHD_NO;
		cs->body_cap = h->cfg->max_body_size;
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct ub_http *h = cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_state *cs = ci ? ci->socket_context : NULL;

	(void)version;
	if (!cs)
		return MHD_NO; /* its allocation failed: drop the connection */
	if (!*req_cls) {
		*req_cls = cs;
		return begin_request(h, conn, cs);
	}
	if (*upload_data_size) {
		take_body(cs, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (cs->too_large)
		return refuse(h, conn, 413, "request body too large", cs->start_us);
	return answer(h, conn, url, method, cs);
}

static int conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/*
 * MHD tells when it starts and when it closes a connection; the closing
 * call comes before close(), so ub_conns never names a socket number
 * that is already another file's.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ub_http *h = cls;
	struct conn_state *cs = *socket_context;
	int fd = conn_fd(conn);

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		cs = calloc(1, sizeof(struct conn_state));
		if (cs) {
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

			cs->fd = fd;
			cs->h = h;
			addr_key_of(&cs->client, ci ? ci->client_addr : NULL);
		}
		*socket_context = cs;
		ub_conns_started(h->conns, fd);
		return;
	}
	ub_conns_closed(h->conns, fd);
	unhold(cs);
	if (cs && cs->deferred)
		ub_abandon_deferred(cs->defer);   /* released, closed before its answer */
	if (cs) {
		free(cs->body);
		free(cs->defer);
		free(cs);
	}
	*socket_context = NULL;
}

/* Keep the target as sent: the digest's uri is compared with it octet by octet. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/* ---- Start and stop ----------------------------------------------------------- */

/* A whole file, NUL-terminated (GnuTLS wants PEM as a string). */
static char *read_file(const char *path, size_t *len, char *err, size_t err_size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size < (1L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size) {
		buf[size] = '\0';
		*len = (size_t)size;
	} else {
		snprintf(err, err_size, "%s: cannot read (or over 1 MiB)", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int load_tls(struct ub_http *h, char *err, size_t err_size)
{
	h->tls_cert = read_file(h->cfg->tls_cert, &h->tls_cert_len, err, err_size);
	if (!h->tls_cert)
		return -1;
	h->tls_key = read_file(h->cfg->tls_key, &h->tls_key_len, err, err_size);
	return h->tls_key ? 0 : -1;
}

static void free_tls(struct ub_http *h)
{
	if (h->tls_key) {
		gba_wipe(h->tls_key, h->tls_key_len);
		free(h->tls_key);
	}
	free(h->tls_cert);
}

/*
 * A connection accepted by the listener: counted against the limits here
 * (ub_conns.h), then MHD takes it (and closes it when it cannot: out of
 * memory).
 */
/*
 * Over ub.admission_limit: 503 with Retry-After on the new connection, at
 * once, from the listener's thread; it never reaches a worker.  What the
 * client sent already is read first, so that the close does not reset the
 * connection (a reset can discard the answer before the client reads it).
 */
static void drain_close(int fd)
{
	char sink[2048];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/* Close the shed connections answered over SHED_LINGER_NS ago (all: now 0). */
static void close_shed(struct ub_http *h, uint64_t now)
{
	while (h->shed_n && (!now || now - h->shed_us[h->shed_head] >= SHED_LINGER_NS / 1000)) {
		drain_close(h->shed_fd[h->shed_head]);
		h->shed_head = (h->shed_head + 1) % SHED_RING;
		h->shed_n--;
	}
}

static void shed(struct ub_http *h, int fd)
{
	char resp[160];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %u\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n",
			 h->cfg->retry_after);

	(void)!send(fd, resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	if (h->shed_n == SHED_RING) {   /* full: the oldest goes now */
		drain_close(h->shed_fd[h->shed_head]);
		h->shed_head = (h->shed_head + 1) % SHED_RING;
		h->shed_n--;
	}
	unsigned i = (h->shed_head + h->shed_n++) % SHED_RING;
	h->shed_fd[i] = fd;
	h->shed_us[i] = now_us();
}

static void on_accept(void *arg, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
	struct ub_http *h = arg;
	enum ub_admit a = ub_conns_admit(h->conns, fd, peer);

	close_shed(h, now_us());
	if (a == UB_ADMIT_SHED) {
		shed(h, fd);
		return;
	}
	if (a != UB_ADMIT_OK) {
		close(fd);
		gba_log_msg(h->log, GBA_LOG_DEBUG, "ub: a connection refused: %s",
			a == UB_ADMIT_PER_IP ? "max_connections_per_ip" : "max_connections");
		return;
	}
	if (MHD_add_connection(h->http.daemon, fd, peer, peer_len) != MHD_YES) {
		ub_conns_closed(h->conns, fd);
		gba_log_msg(h->log, GBA_LOG_DEBUG, "ub: a connection refused: %s", strerror(errno));
	}
}

/*
 * MHD's own limit is per worker (its share of the total) and must never
 * be reached (ub_conns.h): room for every connection ub_conns lets in, on
 * any one worker, plus those closing.
 */
static unsigned mhd_connection_limit(unsigned max_connections, unsigned threads)
{
	unsigned long long n = (unsigned long long)max_connections + UB_CONNS_CLOSING_MAX + 16;

	n *= threads > 1 ? threads : 1;
	return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned)n;
}

static int start_listener(struct ub_http *h, const struct sockaddr_storage *addr,
			  socklen_t addr_len, char *err, size_t err_size)
{
	char why[256];

	if (!listener_start(&h->listener, (const struct sockaddr *)addr, addr_len, on_accept, h,
			    h->log, why, sizeof(why)))
		return 0;
	snprintf(err, err_size, "cannot start the Ub server on %s: %s", h->cfg->ub_listen, why);
	return -1;
}

/* Frees what ub_http_start made (each part may be missing). */
static void free_http(struct ub_http *h)
{
	listener_stop(h->listener);   /* first: no connection for a stopped daemon */
	close_shed(h, 0);
	if (h->http.daemon) {
		wait_for_held(h);
		gba_http_stop(&h->http);
	}
	ub_conns_destroy(h->conns);   /* after: MHD's callbacks use it */
	free_tls(h);
	free(h);
}

/*
 * libmicrohttpd behind our listener (no listen socket of its own) on
 * ub.threads workers, each polling: lib/http/gba_http.c says why (epoll
 * stalled a worker here with 128 connections ready at once).
 */
static int start_daemon(struct ub_http *h, const struct sockaddr_storage *addr,
			char *err, size_t err_size)
{
	const struct bsf_config *cfg = h->cfg;
	unsigned threads = config_ub_threads(cfg);
	const struct MHD_OptionItem more[] = {
		GBA_HTTP_OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, h),
		GBA_HTTP_OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, h),
		GBA_HTTP_OPT(MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, h),
		GBA_HTTP_OPT(MHD_OPTION_END, 0, NULL),
	};
	struct gba_http_opts o = {
		.name = "ub", .log = h->log,
		.addr = (const struct sockaddr *)addr, .addr_len = sizeof(*addr), .no_listen = 1,
		.threads = threads,
		.max_connections = mhd_connection_limit(cfg->max_connections, threads),
		.connection_timeout = cfg->connection_timeout,
		.memory_limit = (size_t)cfg->max_header_size + MHD_RESPONSE_ROOM,
		.tls_cert = h->tls_cert, .tls_key = h->tls_key,
		.tls_priorities = cfg->tls_priorities,
		.flags = MHD_ALLOW_SUSPEND_RESUME, .options = more,
		.handler = on_request, .handler_cls = h,
	};

	if (gba_http_start(&h->http, &o)) {
		snprintf(err, err_size, "cannot start the Ub server on %s (see the log above)",
			 cfg->ub_listen);
		return -1;
	}
	return 0;
}

int ub_http_start(struct ub_http **out, struct ub_server *srv, const struct bsf_config *cfg,
		  const struct gba_log *log, char *err, size_t err_size)
{
	struct sockaddr_storage addr;
	struct ub_http *h;
	socklen_t addr_len;

	if (gba_conf_listen_addr(cfg->ub_listen, &addr, &addr_len, err, err_size))
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	h->srv = srv;
	h->cfg = cfg;
	h->log = log;
	atomic_init(&h->held, 0);
	atomic_init(&h->stopping, 0);
	h->conns = ub_conns_create(cfg->max_connections, cfg->max_connections_per_ip,
				   srv->metrics);
	if (!h->conns)
		snprintf(err, err_size, "out of memory");
	else
		ub_conns_set_admission_limit(h->conns, cfg->admission_limit);
	if (!h->conns || (*cfg->tls_cert && load_tls(h, err, err_size)) ||
	    start_daemon(h, &addr, err, err_size) ||
	    start_listener(h, &addr, addr_len, err, err_size)) {
		free_http(h);
		return -1;
	}
	*out = h;
	return 0;
}

void ub_http_quiesce(struct ub_http *h)
{
	listener_stop(h->listener);
	h->listener = NULL;
}

void ub_http_stop(struct ub_http *h)
{
	if (h)
		free_http(h);
}

unsigned ub_http_port(const struct ub_http *h)
{
	return h->listener ? listener_port(h->listener) : 0;
}
