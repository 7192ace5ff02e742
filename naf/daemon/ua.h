/*
 * ua.h - gba-naf's three libmicrohttpd front ends: Digest Ua (ua_digest.c),
 * TLS-PSK Ua with the key API (ua_tls.c), and the loopback admin port
 * (admin.c).  Each handler's cls is the struct naf_svc.
 */
#ifndef GBA_NAF_UA_H
#define GBA_NAF_UA_H

#include <microhttpd.h>

#include "service.h"

enum MHD_Result ua_digest_handler(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls);

enum MHD_Result ua_tls_handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload, size_t *upload_size, void **con_cls);

/* MHD_OPTION_GNUTLS_PSK_CRED_HANDLER: the PSK for a psk_identity (0 ok, -1 refuse). */
int ua_tls_psk(void *cls, const struct MHD_Connection *c, const char *username,
	       void **psk, size_t *psk_size);

/* MHD_OPTION_NOTIFY_CONNECTION: sets the identity hint before the first handshake. */
void ua_tls_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		   enum MHD_ConnectionNotificationCode toe);

enum MHD_Result admin_handler(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **con_cls);

#endif /* GBA_NAF_UA_H */
