/*
 * ub.h - the Ub HTTP(S) server: libmicrohttpd around ub_logic.
 *
 * A thread pool (one poll loop per thread) serves keep-alive connections
 * within the configured limits: connections in all and per address, idle
 * timeout, header block size (431 beyond it) and body size (413).
 */
#ifndef GBA_BSF_UB_H
#define GBA_BSF_UB_H

#include <stddef.h>

#include "config.h"
#include "gba_log.h"
#include "ub_logic.h"

struct ub_http;

/*
 * Start serving on cfg->ub_listen (with TLS when cfg->tls_cert is set).
 * Returns 0, or -1 with a message in err.
 */
int ub_http_start(struct ub_http **out, struct ub_server *srv, const struct bsf_config *cfg,
		  const struct gba_log *log, char *err, size_t err_size);

/* Stop accepting connections; requests in progress go on. */
void ub_http_quiesce(struct ub_http *h);

/* Finish the requests in progress, close every connection, free. */
void ub_http_stop(struct ub_http *h);

/* The port actually bound (useful with port 0). */
unsigned ub_http_port(const struct ub_http *h);

#endif /* GBA_BSF_UB_H */
