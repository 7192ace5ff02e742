/*
 * ua_server.h - one Ua port of gba-naf (Digest or TLS-PSK): a listener
 * thread of its own that accepts, admits each connection under the limits
 * of ua_conn.h and times out the waiting ones, and a libmicrohttpd daemon
 * with a small pool of threads, each an event loop on poll(2)
 * (lib/http/gba_http.h), that serves them: the model of gba-bsf's Ub.  An idle or slowloris
 * connection costs a slot and a socket, never a thread (docs/naf.md,
 * "Connections").
 */
#ifndef GBA_NAF_UA_SERVER_H
#define GBA_NAF_UA_SERVER_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "service.h"
#include "ua_conn.h"

struct ua_server;

struct ua_server_opts {
	const char *name;            /* "digest Ua", "TLS-PSK Ua": for the log */
	const struct sockaddr_storage *addr;
	socklen_t addr_len;
	int tls;                     /* TLS-PSK (cfg's priorities, ua_tls_psk) */
	unsigned threads;            /* libmicrohttpd's pool */
	struct ua_conn_limits limits;
	MHD_AccessHandlerCallback handler;   /* called with the struct naf_svc */
};

/* Listen and serve.  -1 with a message in err. */
int ua_server_start(struct ua_server **out, const struct ua_server_opts *o, struct naf_svc *s,
		    char *err, size_t err_size);

/* Stop accepting, close every connection, free. */
void ua_server_stop(struct ua_server *u);

/* Its connection counts (for /admin/stats); zeros for NULL. */
void ua_server_stats(struct ua_server *u, struct ua_conn_stats *out);

#endif /* GBA_NAF_UA_SERVER_H */
