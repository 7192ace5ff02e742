/*
 * ub_logic.h - the Ub protocol decisions of the BSF (TS 24.109 clause 4,
 * RFC 3310), apart from HTTP: a request's method, target, headers and
 * body go in, a status, one header and a body come out.  ub.c does the
 * HTTP around it; tests can drive it directly.
 *
 * Answers:
 *   401 + WWW-Authenticate   first request (empty nonce), fresh challenge
 *                            after a stale (stale=true), replayed or unknown
 *                            nonce, and after a resynchronisation (auts); an
 *                            IMPI over its challenge rate gets its newest
 *                            pending challenge again instead (challenge.h)
 *   200 + Authentication-Info + BootstrappingInfo   verified: session stored
 *   400  not a well-formed Ub request: Authorization missing, not Digest,
 *        unparsable, duplicated or missing parameters, realm not this BSF's,
 *        uri not the request target, qop not auth-int, nc not 00000001,
 *        opaque or algorithm not ours, nonce or auts not of their format
 *   403  authentication failed (wrong response, the card's MAC failure,
 *        invalid AUTS) or unknown user; no state is kept
 *   405  a method other than GET or POST
 *   503 + Retry-After   the AV source is down or slow, the pending table is
 *        full, the IMPI is over its challenge rate with nothing pending,
 *        the client address has its most pending challenges, the session
 *        store is unreachable, or a store cannot write (disk full): no 200
 *        unless the session is stored
 *   500  anything else
 */
#ifndef GBA_BSF_UB_LOGIC_H
#define GBA_BSF_UB_LOGIC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <gba/session_store.h>

#include "av_source.h"
#include "challenge.h"
#include "config.h"
#include "gba_log.h"
#include "metrics.h"
#include "nonce.h"

/* Everything the Ub logic shares between worker threads. */
struct ub_server {
	const struct bsf_config *cfg;
	struct av_source *av;
	struct gba_session_store *store;
	struct challenge_table *pending;
	struct bsf_metrics *metrics;
	const struct gba_log *log;
	struct nonce_key nonce_key;
	char opaque[17];          /* hex; the same for every challenge of this realm */
	atomic_int store_down;    /* the session store refuses writes (logged once) */
	atomic_int subdb_down;    /* the AV source's database does */
	size_t realm_len, domain_len;
};

/*
 * Set up a server on its parts (all borrowed, none closed by it).
 * GBA_ERR_UNAVAILABLE when no random key can be had.
 */
gba_err ub_server_init(struct ub_server *srv, const struct bsf_config *cfg,
		       struct av_source *av, struct gba_session_store *store,
		       struct challenge_table *pending, struct bsf_metrics *metrics,
		       const struct gba_log *log);
void ub_server_wipe(struct ub_server *srv);

/*
 * A challenge held while the AV source gets its vector without a thread
 * waiting (av_source_can_defer: the embedded database's group commit, a
 * MAR to the HSS; resync_start: a resynchronisation's MAR).  The HTTP
 * layer owns it (one per connection), offers it in ub_request.defer with
 * hold (stop serving the request: MHD_suspend_connection) and release
 * (serve it again: MHD_resume_connection, from any thread); ub_handle
 * then answers status 0 (no answer yet), and once released the layer
 * calls ub_finish_deferred for the real answer.  Fields below hooks are
 * the logic's.
 */
struct ub_deferred {
	void (*hold)(void *arg);
	void (*release)(void *arg);
	void *hook_arg;
	struct ub_server *srv;
	char impi[GBA_IMPI_MAX + 1];
	size_t impi_len;
	uint32_t slot;                /* the pending-table slot reserved */
	int stale;
	int resync;                   /* the vector follows a resynchronisation */
	enum bsf_cause cause;
	gba_err start_err;            /* fetch_start's refusal (then no job) */
	void *job;                    /* the AV source's */
};

struct ub_request {
	const char *method;
	const char *target;          /* the request's path, not unescaped */
	size_t target_len;
	int has_query;               /* the target had a '?' part */
	const char *authorization;   /* header value or NULL */
	size_t authorization_len;
	const char *user_agent;      /* or NULL */
	const char *host;            /* Host header or NULL */
	const uint8_t *body;
	size_t body_len;
	struct addr_key client;      /* the client's address (len 0: unknown) */
	struct ub_deferred *defer;   /* NULL: the answer must come now */
	int overloaded;              /* over ub.admission_limit: a first request gets 503 */
	/* How long the request lay unread in the kernel, in ms (NULL: unknown). */
	unsigned (*queued_ms)(void *arg);
	void *queued_arg;
};

enum ub_header_kind {
	UB_HDR_NONE = 0,
	UB_HDR_WWW_AUTHENTICATE,
	UB_HDR_AUTHENTICATION_INFO,
};

#define UB_HEADER_MAX 1024
#define UB_XML_MAX 1024

struct ub_reply {
	unsigned status;
	enum bsf_cause cause;
	enum ub_header_kind header_kind;
	char header[UB_HEADER_MAX];  /* NUL-terminated */
	unsigned retry_after;        /* seconds; 0: no Retry-After */
	const char *content_type;
	const char *body;            /* static text or xml below */
	size_t body_len;
	char xml[UB_XML_MAX];
};

/*
 * Answer one Ub request; counts it in the metrics and logs its outcome.
 * Status 0: deferred (see struct ub_deferred), no answer yet.
 */
void ub_handle(struct ub_server *srv, const struct ub_request *req, struct ub_reply *out);

/* The answer of a deferred request, once released; counted and logged. */
void ub_finish_deferred(struct ub_deferred *d, struct ub_reply *out);

/*
 * A released request whose connection closed before it could be answered
 * (libmicrohttpd closes without calling the handler again, e.g. at stop):
 * its vector is dropped unused, its slot freed.
 */
void ub_abandon_deferred(struct ub_deferred *d);

/* Fill out as a plain-text error (for the HTTP layer's own refusals). */
void ub_reply_error(struct ub_reply *out, unsigned status, enum bsf_cause cause,
		    const char *text);

#endif /* GBA_BSF_UB_LOGIC_H */
