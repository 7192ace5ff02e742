/*
 * zn_h2.h - Nbsp_GBA over HTTP/2 (what 5G SBI peers speak, TS 29.500):
 * the same requests and answers as zn_http.h, on a port of their own
 * (zn.http2_listen), TLS with ALPN "h2" and a client certificate from the
 * same CA, served with libnghttp2.  libmicrohttpd has no HTTP/2.
 *
 * One thread per connection, at most ZN_H2_CONNECTIONS at once (more are
 * closed at accept); streams of a connection are answered in order.
 */
#ifndef GBA_BSF_ZN_H2_H
#define GBA_BSF_ZN_H2_H

#include <stddef.h>

#include "gba_log.h"
#include "zn.h"
#include "zn_http.h"

#define ZN_H2_CONNECTIONS 64

struct zn_h2;

/* Start serving on cfg->listen; -1 with a message in err. */
int zn_h2_start(struct zn_h2 **out, const struct zn_http_config *cfg, struct zn_server *zn,
		const struct gba_log *log, char *err, size_t err_size);

/* Stop: no new connections, the open ones end within a second.  NULL: no-op. */
void zn_h2_stop(struct zn_h2 *h);

#endif /* GBA_BSF_ZN_H2_H */
