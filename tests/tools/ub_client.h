/*
 * ub_client.h - the UE side of a GBA bootstrap over Ub (TS 24.109,
 * RFC 3310/4169; gba-wire.md section 2) as a step machine.
 *
 * The session does no I/O itself.  A driver asks what it wants next
 * (ub_session_want), moves bytes between the socket and the session's
 * buffers, and reports what happened (ub_session_wrote, ub_session_read,
 * ub_session_conn_lost, ...).  So gba-test-ue drives one session blocking
 * (ub_net.h) and ub-load drives thousands from a few epoll loops with the
 * very same protocol code.
 *
 * The exchange:
 *   GET / with Authorization: Digest username=IMPI, nonce="", response=""
 *   401 WWW-Authenticate: nonce = base64(RAND || AUTN || ...)
 *   USIM: RES, CK, IK  (or AUTS: send auts with an empty password, and
 *                       answer the fresh 401 once; or MAC failure: send an
 *                       empty password once and report the BSF's answer)
 *   GET / with the response (AKAv1: password RES; AKAv2: RFC 4169)
 *   200 Authentication-Info rspauth (verified) + BootstrappingInfo
 * On success Ks = CK || IK, RAND and the B-TID stay in the session until
 * ub_session_wipe().
 */
#ifndef UB_CLIENT_H
#define UB_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gba/gba.h>

#include "ub_http.h"

#define UB_IN_MAX     32768   /* one response: head + BootstrappingInfo */
#define UB_OUT_MAX    4096    /* one request */
#define UB_NONCE_MAX  512     /* base64 nonce we keep from a challenge */
#define UB_FIELD_MAX  256     /* realm, opaque */

/* Misbehaviours on purpose, to test how a BSF copes. */
enum ub_fault {
	UB_FAULT_NONE = 0,
	UB_FAULT_WRONG_PASSWORD,   /* answer with a wrong RES */
	UB_FAULT_REPLAY,           /* after a success, send the second request again */
	UB_FAULT_STALE,            /* wait stale_seconds before answering the challenge */
	UB_FAULT_BAD_AUTS,         /* corrupt MAC-S in the AUTS of a sync failure */
	UB_FAULT_NO_RSPAUTH_CHECK, /* accept the 200 without checking rspauth */
	UB_FAULT_HOST_REALM,       /* answer with realm = the Host, not the challenge's */
};

/* What the session wants from its driver. */
enum ub_want {
	UB_WANT_WRITE,      /* send ub_session_out() */
	UB_WANT_READ,       /* read into ub_session_in() */
	UB_WANT_WAIT,       /* sleep until wait_until, then ub_session_wait_over() */
	UB_WANT_RECONNECT,  /* open a new connection, then ub_session_reconnected() */
	UB_WANT_DONE,       /* finished: see result */
};

/* Why a bootstrap failed, by kind (ub-load counts them). */
enum ub_fail {
	UB_OK = 0,
	UB_FAIL_CONNECT,     /* could not connect */
	UB_FAIL_IO,          /* the connection broke */
	UB_FAIL_TIMEOUT,     /* no answer in time */
	UB_FAIL_HTTP,        /* a response we could not parse */
	UB_FAIL_STATUS,      /* an HTTP status we did not expect */
	UB_FAIL_CHALLENGE,   /* a 401 without a usable AKA challenge */
	UB_FAIL_USIM_MAC,    /* the USIM found AUTN's MAC wrong */
	UB_FAIL_RESYNC,      /* resynchronisation did not work */
	UB_FAIL_RSPAUTH,     /* the BSF's rspauth is missing or wrong */
	UB_FAIL_BODY,        /* BootstrappingInfo missing or malformed */
	UB_FAIL_INTERNAL,    /* a local error (buffer, argument) */
	UB_FAIL__COUNT
};

/* A short name for a failure kind, e.g. "usim-mac". */
const char *ub_fail_name(enum ub_fail f);

/* The node: identity, card and how it talks.  Borrowed by the session. */
struct ub_params {
	const char *impi;
	const struct gba_aka_key *key;   /* the card's K and OPc */
	struct gba_usim_sqn *sqn;        /* the card's SQN memory, updated */
	const char *host;                /* Host header */
	const char *uri;                 /* request-target and digest-uri, "/" */
	const char *realm;               /* realm of the first request */
	int gba_u;                       /* User-Agent 3gpp-gba-uicc */
	enum ub_fault fault;
	unsigned stale_seconds;
	/*
	 * Called with each challenge's RAND and AUTN before the card sees
	 * them (bench/soak_ue.c records the SQNs the network issued); NULL:
	 * none.
	 */
	void (*on_challenge)(void *arg, const uint8_t rand[16], const uint8_t autn[16]);
	void *on_challenge_arg;
};

/* The outcome.  stage names the step that failed (NULL on success). */
struct ub_result {
	enum ub_fail fail;
	const char *stage;        /* "challenge", "usim", "resync", "response", ... */
	char error[160];          /* human readable, never a secret */
	int status;               /* last HTTP status seen (0: none) */
	char retry_after[16];     /* its Retry-After ("" when none or too long) */
	int fresh_challenge;      /* the failing 401 carried a new challenge */
	/* Which entity body rspauth verified over (RFC 2617 3.2.3 is read two
	 * ways): "response" (the 200's, TS 24.109's examples) or "request"
	 * (the GET's, empty); NULL when not checked. */
	const char *rspauth_body;
	int replay_status;        /* UB_FAULT_REPLAY: status of the replay */
	int replay_fresh_challenge;
};

enum ub_phase {
	UB_PH_FIRST,       /* first request sent: a 401 challenge is due */
	UB_PH_RESPONSE,    /* digest response sent: 200 is due */
	UB_PH_AUTS,        /* auts sent: a fresh 401 is due */
	UB_PH_MAC_FAILED,  /* empty password sent after a MAC failure */
	UB_PH_REPLAY,      /* the successful request replayed */
	UB_PH_DONE,
};

struct ub_session {
	struct ub_params p;
	enum ub_want want;
	enum ub_phase phase;
	struct timespec wait_until;      /* CLOCK_MONOTONIC, for UB_WANT_WAIT */
	int conn_reused;                 /* this connection answered before */
	int conn_closed;                 /* the connection cannot carry another request */
	int resent;                      /* the current request was re-sent once */

	/* The challenge being answered (copied: the input buffer moves on). */
	char nonce[UB_NONCE_MAX + 1];
	char realm[UB_FIELD_MAX + 1];
	char opaque[UB_FIELD_MAX + 1];
	int has_opaque;
	enum gba_digest_algorithm algorithm;
	enum gba_digest_qop qop;
	char cnonce[17];
	char akav2_password[25];         /* secret */
	struct gba_usim_answer usim;     /* secret: RES, CK, IK */

	unsigned rounds, resyncs;
	struct ub_result result;

	/* On success. */
	uint8_t rand[16];
	uint8_t ks[GBA_KS_LEN];          /* secret */
	struct gba_bootstrapping_info info;

	size_t out_len, out_off;
	size_t in_len;
	char out[UB_OUT_MAX];
	char in[UB_IN_MAX];
	char scratch[GBA_DIGEST_HEADER_MAX + GBA_DIGEST_PARAMS_MAX];
};

/*
 * Start a bootstrap: writes the first request.  The session may be reused
 * for the next bootstrap by calling this again.  conn_reused says whether
 * the driver's connection has carried a response before (a keep-alive
 * connection may have been closed by the server in the meantime: such a
 * request is re-sent once on a new connection).
 */
void ub_session_begin(struct ub_session *s, const struct ub_params *p, int conn_reused);

static inline enum ub_want ub_session_want(const struct ub_session *s)
{
	return s->want;
}

/* The bytes still to send. */
const char *ub_session_out(const struct ub_session *s, size_t *len);
void ub_session_wrote(struct ub_session *s, size_t n);

/* Where to read into, and how much fits. */
char *ub_session_in(struct ub_session *s, size_t *room);
/* n bytes arrived (n == 0: the peer closed).  Processes complete responses. */
void ub_session_read(struct ub_session *s, size_t n);

/* The connection broke (write error, reset): resend once or fail. */
void ub_session_conn_lost(struct ub_session *s);
void ub_session_reconnected(struct ub_session *s);
void ub_session_wait_over(struct ub_session *s);

/* The driver gives up: connect failure or timeout. */
void ub_session_fail(struct ub_session *s, enum ub_fail kind, const char *stage,
		     const char *error);

/* Ks_NAF for fqdn (Ua protocol id 01 00 00 00 02) after a success. */
gba_err ub_session_ks_naf(const struct ub_session *s, const char *fqdn, uint8_t out[32]);

/* Wipe every secret the session holds (call when done with it). */
void ub_session_wipe(struct ub_session *s);

#endif /* UB_CLIENT_H */
