/*
 * m2m_internal.h - what the files of client/m2m share (not installed).
 */
#ifndef GBA_M2M_INTERNAL_H
#define GBA_M2M_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

#include <gba/m2m.h>

struct gba_m2m_conn {
	int fd;
	int has_tls;
	int secured;                 /* the handshake is done: close with close_notify */
	gnutls_session_t tls;
	gnutls_psk_client_credentials_t cred;
	char identity[320];          /* psk_identity */
	uint8_t psk[64];             /* secret: a fixed key, only until the handshake is done */
	size_t psk_len;
	gba_m2m_km_fn km;            /* or: the key for the handshake's Ua id */
	void *km_arg;
	int server_hello;            /* the ServerHello is in: the version and suite are known */
	uint8_t suite[2];            /* the suite it chose */
	char hint[128];              /* the server's identity hint */
};

void m2m_seterr(char *error, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int m2m_write(struct gba_m2m_conn *c, const char *buf, size_t len);
ssize_t m2m_read(struct gba_m2m_conn *c, char *buf, size_t room);

#endif /* GBA_M2M_INTERNAL_H */
