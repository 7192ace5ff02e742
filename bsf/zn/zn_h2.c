/*
 * zn_h2.c - Nbsp_GBA over HTTP/2 (zn_h2.h): an accept thread, a thread per
 * connection running GnuTLS (ALPN "h2", client certificate of zn.http_tls_ca)
 * and an nghttp2 server session; each request goes through zn_http_answer()
 * as over HTTP/1.1.  Answers are handed to GnuTLS straight from their own
 * buffer (NGHTTP2_DATA_FLAG_NO_COPY), which is wiped when the stream closes:
 * no key lands in nghttp2's buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <nghttp2/nghttp2.h>

#include <gba/util.h>

#include "../config.h"
#include "zn_h2.h"

#define BODY_MAX 4096
#define POLL_MS 250
#define IO_TIMEOUT_S 10

struct zn_h2 {
	struct zn_server *zn;
	const struct gba_log *log;
	gnutls_certificate_credentials_t cred;
	int fd;
	pthread_t acceptor;
	atomic_int stop;
	atomic_int conns;          /* connection threads still running */
};

/* One request stream and its answer. */
struct stream {
	int32_t id;
	char path[128];
	int post, json, too_large, bad_path;
	size_t len;
	char body[BODY_MAX];
	char *reply;               /* zn_http_answer's or zn_http_problem's */
	size_t reply_len, queued, written;
	char status[12], length[24];
};

struct conn {
	struct zn_h2 *h;
	int fd;
	gnutls_session_t tls;
	char peer[256];            /* "" without a verified client certificate */
};

/* ---- Writing --------------------------------------------------------------------- */

static int send_all(struct conn *c, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = gnutls_record_send(c->tls, p, n);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	(void)s, (void)flags;
	return send_all(arg, data, len) ? NGHTTP2_ERR_CALLBACK_FAILURE : (ssize_t)len;
}

/* DATA frames: the frame header, then the answer from its own buffer. */
static int on_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
			size_t len, nghttp2_data_source *src, void *arg)
{
	struct stream *st = src->ptr;
	(void)s;
	if (frame->data.padlen || send_all(arg, framehd, 9) ||
	    send_all(arg, (const uint8_t *)st->reply + st->written, len))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->written += len;
	return 0;
}

static ssize_t read_reply(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
			  uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct stream *st = src->ptr;
	size_t n = st->reply_len - st->queued;
	(void)s, (void)id, (void)buf, (void)arg;
	if (n > len)
		n = len;
	st->queued += n;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (st->queued == st->reply_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* ---- Requests -------------------------------------------------------------------- */

static void problem(struct stream *st, unsigned status, const char *cause, const char *detail)
{
	st->reply = zn_http_problem(status, cause, detail, &st->reply_len);
	snprintf(st->status, sizeof(st->status), "%u", status);
}

/* The request is complete: answer it as zn_http.c does. */
static int respond(nghttp2_session *s, struct conn *c, struct stream *st)
{
	unsigned status = 0;

	if (!c->peer[0])
		problem(st, 403, "NAF_NOT_AUTHORIZED", "no verified client certificate");
	else if (st->bad_path || strcmp(st->path, ZN_HTTP_PATH))
		problem(st, 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND", NULL);
	else if (!st->post)
		problem(st, 405, "METHOD_NOT_ALLOWED", NULL);
	else if (st->too_large)
		problem(st, 413, "MANDATORY_IE_INCORRECT", "body too large");
	else if (!st->json)
		problem(st, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
	else if ((status = zn_http_answer(c->h->zn, c->peer, st->body, st->len, &st->reply,
					  &st->reply_len)))
		snprintf(st->status, sizeof(st->status), "%u", status);
	if (!st->reply)
		return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id,
						 NGHTTP2_INTERNAL_ERROR);
	snprintf(st->length, sizeof(st->length), "%zu", st->reply_len);
	const char *type = !strcmp(st->status, "200") ? "application/json" : ZN_HTTP_PROBLEM;
	nghttp2_nv hdr[] = {
		{ (uint8_t *)":status", (uint8_t *)st->status, 7, strlen(st->status),
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)type, 12, strlen(type),
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-length", (uint8_t *)st->length, 14, strlen(st->length),
		  NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_reply };
	return nghttp2_submit_response(s, st->id, hdr, 3, &prd);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct stream *st;
	(void)arg;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->id = frame->hd.stream_id;
	nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

/* application/json, parameters allowed. */
static int is_json(const uint8_t *v, size_t n)
{
	size_t m = strlen("application/json");
	return n >= m && !strncasecmp((const char *)v, "application/json", m) &&
	       (n == m || v[m] == ';' || v[m] == ' ');
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *arg)
{
	struct stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	(void)flags, (void)arg;
	if (!st)
		return 0;
	if (namelen == 7 && !memcmp(name, ":method", 7))
		st->post = valuelen == 4 && !memcmp(value, "POST", 4);
	else if (namelen == 5 && !memcmp(name, ":path", 5)) {
		st->bad_path = valuelen >= sizeof(st->path);
		if (!st->bad_path) {
			memcpy(st->path, value, valuelen);
			st->path[valuelen] = '\0';
		}
	} else if (namelen == 12 && !memcmp(name, "content-type", 12))
		st->json = is_json(value, valuelen);
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *arg)
{
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	(void)flags, (void)arg;
	if (!st)
		return 0;
	if (st->len + len > sizeof(st->body))
		st->too_large = 1;
	else {
		memcpy(st->body + st->len, data, len);
		st->len += len;
	}
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct stream *st;

	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	return st ? respond(s, arg, st) : 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	(void)code, (void)arg;
	if (!st)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	zn_http_reply_free(st->reply);
	gba_wipe(st, sizeof(*st));
	free(st);
	return 0;
}

/* ---- A connection ---------------------------------------------------------------- */

static nghttp2_session *new_session(struct conn *c)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *s = NULL;
	nghttp2_settings_entry set[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };

	if (nghttp2_session_callbacks_new(&cb))
		return NULL;
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_send_data_callback(cb, on_send_data);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	if (nghttp2_session_server_new(&s, cb, c))
		s = NULL;
	nghttp2_session_callbacks_del(cb);
	if (s && nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, set, 1)) {
		nghttp2_session_del(s);
		s = NULL;
	}
	return s;
}

/* Frames in and out until either side is done or the server stops. */
static void run_h2(struct conn *c, nghttp2_session *s)
{
	uint8_t buf[16384];

	while (!atomic_load(&c->h->stop)) {
		if (nghttp2_session_send(s) ||
		    (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s)))
			break;
		if (!gnutls_record_check_pending(c->tls)) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			int r = poll(&p, 1, POLL_MS);
			if (r < 0 && errno != EINTR)
				break;
			if (r <= 0)
				continue;
		}
		ssize_t n = gnutls_record_recv(c->tls, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)n) < 0)
			break;
	}
	gba_wipe(buf, sizeof(buf));
}

/* TLS with ALPN h2; the peer's identity when its certificate verifies. */
static int handshake(struct conn *c)
{
	const gnutls_datum_t h2 = { (unsigned char *)"h2", 2 };
	gnutls_datum_t alpn = { NULL, 0 };
	int r;

	if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) ||
	    gnutls_set_default_priority(c->tls) ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->h->cred) ||
	    gnutls_alpn_set_protocols(c->tls, &h2, 1, GNUTLS_ALPN_MANDATORY))
		return -1;
	gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int(c->tls, c->fd);
	gnutls_handshake_set_timeout(c->tls, IO_TIMEOUT_S * 1000);
	do
		r = gnutls_handshake(c->tls);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		gba_log_msg(c->h->log, GBA_LOG_INFO, "zn http2: handshake failed: %s",
			gnutls_strerror(r));
		return -1;
	}
	if (gnutls_alpn_get_selected_protocol(c->tls, &alpn) || alpn.size != 2 ||
	    memcmp(alpn.data, "h2", 2))
		return -1;
	if (zn_http_peer(c->tls, c->peer, sizeof(c->peer)))
		c->peer[0] = '\0';
	return 0;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	struct zn_h2 *h = c->h;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	nghttp2_session *s;
	int one = 1;

	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* HEADERS and DATA leave as separate records: without this, Nagle and
	 * the client's delayed ACK hold every answer's DATA 40 ms. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!handshake(c) && (s = new_session(c)) != NULL) {
		run_h2(c, s);
		nghttp2_session_del(s);   /* closes the streams left: wipes their answers */
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	}
	if (c->tls)
		gnutls_deinit(c->tls);
	close(c->fd);
	free(c);
	atomic_fetch_sub(&h->conns, 1);   /* the last touch of h */
	return NULL;
}

/* ---- The listener ---------------------------------------------------------------- */

static void start_conn(struct zn_h2 *h, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t a;
	pthread_t t;

	if (!c || atomic_fetch_add(&h->conns, 1) >= ZN_H2_CONNECTIONS) {
		if (c)
			atomic_fetch_sub(&h->conns, 1);
		free(c);
		close(fd);
		return;
	}
	c->h = h;
	c->fd = fd;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, serve_conn, c)) {
		atomic_fetch_sub(&h->conns, 1);
		free(c);
		close(fd);
	}
	pthread_attr_destroy(&a);
}

static void *accept_loop(void *arg)
{
	struct zn_h2 *h = arg;

	while (!atomic_load(&h->stop)) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			start_conn(h, fd);
	}
	return NULL;
}

static int listen_on(const char *where, char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (gba_conf_listen_addr(where, &ss, &len, err, err_size))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
		snprintf(err, err_size, "zn http2: cannot listen on %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int zn_h2_start(struct zn_h2 **out, const struct zn_http_config *cfg, struct zn_server *zn,
		const struct gba_log *log, char *err, size_t err_size)
{
	struct zn_h2 *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h) {
		snprintf(err, err_size, "zn http2: out of memory");
		return -1;
	}
	h->zn = zn;
	h->log = log;
	h->fd = -1;
	if (gnutls_certificate_allocate_credentials(&h->cred) ||
	    gnutls_certificate_set_x509_key_file(h->cred, cfg->tls_cert, cfg->tls_key,
						 GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_set_x509_trust_file(h->cred, cfg->tls_ca, GNUTLS_X509_FMT_PEM) <= 0) {
		snprintf(err, err_size, "zn http2: cannot load %s, %s or %s", cfg->tls_cert,
			 cfg->tls_key, cfg->tls_ca);
		zn_h2_stop(h);
		return -1;
	}
	h->fd = listen_on(cfg->listen, err, err_size);
	if (h->fd < 0 || pthread_create(&h->acceptor, NULL, accept_loop, h)) {
		if (h->fd >= 0)
			snprintf(err, err_size, "zn http2: cannot start a thread");
		close(h->fd);
		h->fd = -1;
		zn_h2_stop(h);
		return -1;
	}
	*out = h;
	return 0;
}

void zn_h2_stop(struct zn_h2 *h)
{
	if (!h)
		return;
	atomic_store(&h->stop, 1);
	if (h->fd >= 0) {
		pthread_join(h->acceptor, NULL);
		close(h->fd);
	}
	/* Connection threads see stop within POLL_MS, or an I/O timeout. */
	for (int i = 0; i < 4 * IO_TIMEOUT_S * 1000 / 10 && atomic_load(&h->conns) > 0; i++) {
		struct timespec ms10 = { 0, 10 * 1000 * 1000 };
		nanosleep(&ms10, NULL);
	}
	if (h->cred && !atomic_load(&h->conns))
		gnutls_certificate_free_credentials(h->cred);
	if (!atomic_load(&h->conns))
		free(h);
}
