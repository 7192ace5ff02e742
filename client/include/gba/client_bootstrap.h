/*
 * gba/client_bootstrap.h - the bootstrap over Ub (TS 24.109 4, RFC 3310)
 * with libcurl, and the bootstrapping context it leaves.
 *
 *   GET / Authorization: Digest username=IMPI, nonce=""      -> 401 nonce
 *   card AUTHENTICATE(RAND, AUTN)  (3G, or the GBA context for GBA_U)
 *   GET / Digest response (qop=auth-int, password RES)       -> 200, rspauth,
 *                                                               BootstrappingInfo
 * On a synchronisation failure the client sends AUTS and answers the fresh
 * challenge once; a second one is an error.  On a MAC failure it tells the
 * BSF with an empty password (TS 24.109 4.4) and stops: no loop.
 *
 * The context (B-TID, lifetime, RAND, IMPI, GBA type, and Ks for GBA_ME
 * only: for GBA_U Ks stays in the card) is kept in a file of mode 0600.
 */
#ifndef GBA_CLIENT_BOOTSTRAP_H
#define GBA_CLIENT_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gba/client_usim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_CLIENT_BTID_MAX 280

enum gba_client_type {
	GBA_CLIENT_GBA_ME = 0,      /* Ks = CK || IK in the ME */
	GBA_CLIENT_GBA_U = 1,       /* Ks in the UICC */
};

struct gba_client_context {
	char btid[GBA_CLIENT_BTID_MAX + 1];
	time_t lifetime;            /* UTC, from the BootstrappingInfo */
	uint8_t rand[16];
	char impi[GBA_CLIENT_IMPI_MAX + 1];
	enum gba_client_type type;
	uint8_t ks[32];             /* GBA_ME only; zero for GBA_U */
	char bsf_url[512];          /* where it was bootstrapped */
	enum gba_client_app app;    /* USIM or ISIM (file line "app", USIM when absent) */
};

struct gba_client_options {
	const char *bsf_url;        /* NULL: http://<derived BSF host>/ */
	const char *user_agent;     /* product tokens added after ours; may be NULL */
	unsigned timeout_ms;        /* per HTTP exchange; 0: 10000 */
	int force_gba_me;           /* do GBA_ME even when the card offers GBA_U */
	const char *ca_file;        /* HTTPS trust anchors; NULL: system's */
	int require_gba_u;          /* GBA_U or nothing: fail (before the BSF) when the
				     * card cannot, instead of falling back to GBA_ME */
};

/* What a bootstrap did (for status output and benchmarks). */
struct gba_client_stats {
	/* The entity body rspauth verified over: "response" (the 200's, TS
	 * 24.109's examples) or "request" (the GET's, empty); RFC 2617 3.2.3
	 * is read both ways. */
	const char *rspauth_body;
	unsigned http_requests;
	unsigned resyncs;
	unsigned long apdus;        /* transport exchanges during the bootstrap */
	int http_status;            /* the last HTTP status */
	/* Set when EF_GBABP was too small for GBA_U and GBA_ME was done instead:
	 * its size and what RAND, the longest B-TID and the lifetime need. */
	size_t gbabp_size, gbabp_needed;
};

/*
 * Bootstrap with the card (identity from gba_client_usim_identity) and
 * fill ctx.  Before a GBA_U bootstrap, EF_GBABP's size is checked against
 * L RAND, the longest B-TID of the BSF's domain (base64(RAND)@host, the
 * longer of the URL's host and the IMSI-derived BSF name) and L lifetime
 * (xs:dateTime, 20 characters): too small, GBA_ME is done instead
 * (stats->gbabp_size/_needed say so), or with opt->require_gba_u
 * GBA_CLIENT_ERR_UNSUPPORTED before the BSF is contacted.  stats may be NULL.  Errors: GBA_CLIENT_ERR_MAC_FAILURE,
 * _SYNC_FAILURE, _REJECTED, _RSPAUTH, _NETWORK, _TIMEOUT, _PROTOCOL and the
 * card's; msg says which step failed.  ctx is wiped on failure.
 */
gba_client_err gba_client_bootstrap(struct gba_client_card *card,
				    const struct gba_client_identity *id,
				    const struct gba_client_options *opt,
				    struct gba_client_context *ctx,
				    struct gba_client_stats *stats,
				    char *msg, size_t msg_size);

/*
 * Save the context to path with mode 0600 (written to a temporary file,
 * then renamed).  Ks is written only for GBA_ME.
 */
gba_client_err gba_client_context_save(const char *path, const struct gba_client_context *ctx,
				       char *msg, size_t msg_size);

/*
 * Load a context.  GBA_CLIENT_ERR_NOT_FOUND when the file does not exist;
 * GBA_CLIENT_ERR_FILE when it is group/world-accessible or malformed.
 */
gba_client_err gba_client_context_load(const char *path, struct gba_client_context *ctx,
				       char *msg, size_t msg_size);

/* 1 when the context's lifetime ends within margin seconds of now. */
int gba_client_context_expired(const struct gba_client_context *ctx, time_t now,
			       unsigned margin);

/*
 * The NAF key for (FQDN, Ua security protocol id): Ks_NAF computed in the
 * ME for GBA_ME (card may be NULL), Ks_ext_NAF from the card for GBA_U.
 */
gba_client_err gba_client_naf_key(struct gba_client_card *card,
				  const struct gba_client_context *ctx,
				  const char *naf_fqdn, const uint8_t ua_id[5],
				  uint8_t out[32], char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif /* GBA_CLIENT_BOOTSTRAP_H */
