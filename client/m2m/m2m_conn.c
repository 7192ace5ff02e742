/*
 * m2m_conn.c - connections to the MAF: TCP, and TLS-PSK over it with
 * GnuTLS (SNI, the identity hint, the key for the Ua id of the handshake,
 * the RFC 5705 exporter for Kc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <fcntl.h>

#include <gnutls/gnutls.h>

#include <gba/kdf.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "m2m_internal.h"

void m2m_seterr(char *error, size_t size, const char *fmt, ...)
{
	va_list ap;
	if (!error || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(error, size, fmt, ap);
	va_end(ap);
}

/* Wait for a non-blocking connect, bounded by timeout_ms. */
static int connect_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);
	if (poll(&p, 1, timeout_ms) != 1)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

static int tcp_open(const struct gba_m2m_peer *peer, char *error, size_t error_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", peer->port);
	if (getaddrinfo(peer->host, port, &hints, &ai) || !ai) {
		m2m_seterr(error, error_size, "cannot resolve %s", peer->host);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = fd < 0 ? errno : 0;
	if (!rc && connect(fd, ai->ai_addr, ai->ai_addrlen))
		rc = errno == EINPROGRESS ? connect_wait(fd, peer->timeout_ms) : errno;
	freeaddrinfo(ai);
	if (rc) {
		m2m_seterr(error, error_size, "cannot connect to %s:%u: %s", peer->host,
			   peer->port, strerror(rc));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Back to blocking, with the timeout on every read and write. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = { .tv_sec = peer->timeout_ms / 1000,
			      .tv_usec = (peer->timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Handshake flights and requests are small writes: no Nagle delay. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

gba_err gba_m2m_connect(const struct gba_m2m_peer *peer, struct gba_m2m_conn **out,
			char *error, size_t error_size)
{
	if (!peer || !peer->host || !out)
		return GBA_ERR_INVALID_ARG;
	struct gba_m2m_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return GBA_ERR_NO_MEMORY;
	c->fd = tcp_open(peer, error, error_size);
	if (c->fd < 0) {
		free(c);
		return GBA_ERR_UNAVAILABLE;
	}
	*out = c;
	return GBA_OK;
}

/*
 * The Ua id of the handshake GnuTLS asks a key for (TS 33.220 H.3,
 * TS 33.222 5.4.0.2).  GnuTLS 3.7 asks the PSK callback while it writes a
 * TLS 1.3 ClientHello (the binder), before any ServerHello: that key is
 * 1.3's.  After a ServerHello it asks only when the server chose TLS 1.2,
 * for the ClientKeyExchange: the key of the suite the ServerHello named.
 */
static void handshake_ua_id(const struct gba_m2m_conn *c, uint8_t ua[5])
{
	if (!c->server_hello || gnutls_protocol_get_version(c->tls) == GNUTLS_TLS1_3) {
		memcpy(ua, GBA_UA_TLS13, 5);
		return;
	}
	ua[0] = 0x01, ua[1] = 0x00, ua[2] = 0x01, ua[3] = c->suite[0], ua[4] = c->suite[1];
}

/* The key GnuTLS asks for: the fixed one, or the caller's for the Ua id. */
static int handshake_key(struct gba_m2m_conn *c, uint8_t *key, size_t *len)
{
	uint8_t ua[5];
	if (!c->km) {
		memcpy(key, c->psk, c->psk_len);
		*len = c->psk_len;
		return 0;
	}
	handshake_ua_id(c, ua);
	*len = 32;
	return c->km(c->km_arg, ua, key);
}

/* GnuTLS asks for the key (see handshake_ua_id for when): record the hint. */
static int psk_client_cb(gnutls_session_t s, char **username, gnutls_datum_t *key)
{
	struct gba_m2m_conn *c = gnutls_session_get_ptr(s);
	const char *hint = gnutls_psk_client_get_hint(s);
	uint8_t psk[64];
	size_t len = 0;
	snprintf(c->hint, sizeof(c->hint), "%s", hint ? hint : "");
	if (handshake_key(c, psk, &len)) {
		gba_wipe(psk, sizeof(psk));
		return -1;
	}
	*username = gnutls_malloc(strlen(c->identity) + 1);
	key->data = gnutls_malloc(len);
	if (!*username || !key->data) {
		gnutls_free(*username);
		gnutls_free(key->data);
		gba_wipe(psk, sizeof(psk));
		return -1;
	}
	strcpy(*username, c->identity);
	memcpy(key->data, psk, len);
	key->size = (unsigned)len;
	gba_wipe(psk, sizeof(psk));
	return 0;
}

/*
 * The suite of an incoming ServerHello: legacy_version (2), random (32),
 * session id (1 + n), cipher_suite (2).  GnuTLS 3.7 tells the suite by
 * name only once the handshake is over, and the PSK callback of TLS 1.2
 * needs it before.
 */
static int on_handshake_msg(gnutls_session_t s, unsigned type, unsigned when,
			    unsigned incoming, const gnutls_datum_t *msg)
{
	struct gba_m2m_conn *c = gnutls_session_get_ptr(s);
	size_t at = 2 + 32;
	(void)when;
	if (!incoming || type != GNUTLS_HANDSHAKE_SERVER_HELLO || !msg || msg->size < at + 1 ||
	    msg->size < at + 1 + msg->data[at] + 2)
		return 0;
	at += 1 + msg->data[at];
	c->suite[0] = msg->data[at];
	c->suite[1] = msg->data[at + 1];
	c->server_hello = 1;
	return 0;
}

/* GnuTLS's writes, without SIGPIPE when the server has hung up. */
static ssize_t push_nosignal(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	return send((int)(intptr_t)p, buf, len, MSG_NOSIGNAL);
}

static gba_err tls_start(struct gba_m2m_conn *c, const char *sni, const char *priorities,
			 int timeout_ms, char *error, size_t error_size)
{
	const char *where = NULL;
	int rc = gnutls_psk_allocate_client_credentials(&c->cred);
	if (rc == 0) {
		gnutls_psk_set_client_credentials_function(c->cred, psk_client_cb);
		rc = gnutls_init(&c->tls, GNUTLS_CLIENT);
	}
	if (rc == 0) {
		c->has_tls = 1;
		gnutls_session_set_ptr(c->tls, c);
		rc = gnutls_priority_set_direct(c->tls, priorities, &where);
	}
	if (rc == 0)
		rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_PSK, c->cred);
	if (rc == 0)
		rc = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, sni, strlen(sni));
	if (rc) {
		m2m_seterr(error, error_size, "TLS set-up: %s%s%s", gnutls_strerror(rc),
			   where ? " at " : "", where ? where : "");
		return GBA_ERR_INVALID_ARG;
	}
	gnutls_handshake_set_hook_function(c->tls, GNUTLS_HANDSHAKE_SERVER_HELLO, GNUTLS_HOOK_POST,
					   on_handshake_msg);
	gnutls_transport_set_int(c->tls, c->fd);
	gnutls_transport_set_push_function(c->tls, push_nosignal);
	gnutls_handshake_set_timeout(c->tls, (unsigned)timeout_ms);
	do
		rc = gnutls_handshake(c->tls);
	while (rc < 0 && !gnutls_error_is_fatal(rc) && rc != GNUTLS_E_AGAIN);
	if (rc < 0) {
		m2m_seterr(error, error_size, "TLS-PSK handshake failed: %s", gnutls_strerror(rc));
		return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_TIMEDOUT ? GBA_ERR_TIMEOUT
									 : GBA_ERR_AUTH_FAILED;
	}
	c->secured = 1;
	return GBA_OK;
}

/* TCP and a TLS-PSK handshake over it: c has the identity and the key (or km). */
static gba_err connect_tls(const struct gba_m2m_peer *peer, const char *sni,
			   struct gba_m2m_conn *c, const char *priorities,
			   struct gba_m2m_conn **out, char *error, size_t error_size)
{
	c->fd = tcp_open(peer, error, error_size);
	if (c->fd < 0) {
		gba_wipe(c, sizeof(*c));
		free(c);
		return GBA_ERR_UNAVAILABLE;
	}
	gba_err err = tls_start(c, sni, priorities, peer->timeout_ms, error, error_size);
	/* GnuTLS has its own copy now (it wipes it); ours goes. */
	gba_wipe(c->psk, sizeof(c->psk));
	c->km = NULL;
	if (err) {
		gba_m2m_close(c);
		return err;
	}
	*out = c;
	return GBA_OK;
}

gba_err gba_m2m_connect_psk(const struct gba_m2m_peer *peer, const char *sni,
			    const char *identity, const uint8_t *psk, size_t psk_len,
			    const char *priorities, struct gba_m2m_conn **out,
			    char *error, size_t error_size)
{
	if (!peer || !peer->host || !sni || !identity || !psk || !out ||
	    psk_len == 0 || psk_len > sizeof((*out)->psk) ||
	    strlen(identity) >= sizeof((*out)->identity))
		return GBA_ERR_INVALID_ARG;
	struct gba_m2m_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return GBA_ERR_NO_MEMORY;
	memcpy(c->psk, psk, psk_len);
	c->psk_len = psk_len;
	strcpy(c->identity, identity);
	return connect_tls(peer, sni, c, priorities ? priorities : GBA_M2M_TLS_PRIORITIES, out,
			   error, error_size);
}

gba_err gba_m2m_connect_ua(const struct gba_m2m_peer *peer, const char *sni,
			   const struct gba_m2m_psk *psk, struct gba_m2m_conn **out,
			   char *error, size_t error_size)
{
	if (!peer || !peer->host || !sni || !psk || !psk->identity || !psk->km || !out ||
	    strlen(psk->identity) >= sizeof((*out)->identity))
		return GBA_ERR_INVALID_ARG;
	struct gba_m2m_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return GBA_ERR_NO_MEMORY;
	c->km = psk->km;
	c->km_arg = psk->arg;
	strcpy(c->identity, psk->identity);
	return connect_tls(peer, sni, c, psk->priorities ? psk->priorities : GBA_M2M_UA_PRIORITIES,
			   out, error, error_size);
}

gba_err gba_m2m_tls_info(const struct gba_m2m_conn *c, struct gba_m2m_tls_info *info)
{
	const char *suite;
	if (!c || !info || !c->has_tls)
		return GBA_ERR_INVALID_ARG;
	memset(info, 0, sizeof(*info));
	handshake_ua_id(c, info->ua_id);
	suite = gnutls_ciphersuite_get(c->tls);
	snprintf(info->version, sizeof(info->version), "%s",
		 gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)));
	snprintf(info->suite, sizeof(info->suite), "%s", suite ? suite : "?");
	return GBA_OK;
}

const char *gba_m2m_psk_hint(const struct gba_m2m_conn *c)
{
	return c ? c->hint : "";
}

gba_err gba_m2m_export_kc(struct gba_m2m_conn *c, uint8_t kc[GBA_M2M_KC_LEN])
{
	uint8_t out[GBA_M2M_EXPORTER_LEN];
	if (!c || !kc || !c->has_tls)
		return GBA_ERR_INVALID_ARG;
	int rc = gnutls_prf_rfc5705(c->tls, strlen(GBA_M2M_EXPORTER_LABEL),
				    GBA_M2M_EXPORTER_LABEL, 0, NULL, sizeof(out), (char *)out);
	if (rc < 0)
		return GBA_ERR_UNSUPPORTED;
	/* The least significant octets of a big-endian string are its last. */
	memcpy(kc, out + GBA_M2M_EXPORTER_LEN - GBA_M2M_KC_LEN, GBA_M2M_KC_LEN);
	gba_wipe(out, sizeof(out));
	return GBA_OK;
}

void gba_m2m_close(struct gba_m2m_conn *c)
{
	if (!c)
		return;
	/* gnutls_bye before a handshake (a priority string that set nothing
	 * up) crashes in GnuTLS 3.7.9: close_notify only on a secured session. */
	if (c->secured)
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	if (c->has_tls)
		gnutls_deinit(c->tls);
	if (c->cred)
		gnutls_psk_free_client_credentials(c->cred);
	if (c->fd >= 0)
		close(c->fd);
	gba_wipe(c, sizeof(*c));
	free(c);
}

/* Write all of buf, over TLS when there is a session. */
int m2m_write(struct gba_m2m_conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = c->has_tls ? gnutls_record_send(c->tls, buf, len)
				       : send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == GNUTLS_E_INTERRUPTED || (n < 0 && errno == EINTR && !c->has_tls))
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to room octets: >0 read, 0 closed, -1 error or timeout. */
ssize_t m2m_read(struct gba_m2m_conn *c, char *buf, size_t room)
{
	for (;;) {
		ssize_t n = c->has_tls ? gnutls_record_recv(c->tls, buf, room)
				       : recv(c->fd, buf, room, 0);
		if (c->has_tls && n == GNUTLS_E_INTERRUPTED)
			continue;
		if (c->has_tls && n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (!c->has_tls && n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n;
	}
}
