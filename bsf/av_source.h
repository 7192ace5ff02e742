/*
 * av_source.h - where the BSF gets authentication vectors: the embedded
 * subscriber database, or an HSS over Zh (Diameter).  The Ub code sees
 * only this interface.
 *
 * fetch() blocks until it has a vector or an error, at most the source's
 * configured timeout.  Errors the Ub side maps to HTTP:
 *   GBA_ERR_NOT_FOUND                      unknown user       -> 403
 *   GBA_ERR_AUTS_INVALID                   bad AUTS (MAC-S)   -> 403
 *   GBA_ERR_UNAVAILABLE, GBA_ERR_TIMEOUT   HSS down or slow   -> 503 + Retry-After
 *   GBA_ERR_STORE_UNWRITABLE   the SQN could not be reserved durably (disk
 *                              full): no vector  -> 503 + Retry-After
 *   anything else                                             -> 500
 * A source is safe to call from several threads at once.
 */
#ifndef GBA_BSF_AV_SOURCE_H
#define GBA_BSF_AV_SOURCE_H

#include <stdint.h>

#include <gba/aka.h>
#include <gba/error.h>
#include <gba/kek.h>
#include <gba/session_store.h>
#include <gba/subscriber_db.h>

struct av_answer {
	struct gba_av av;                 /* secret: wipe after use */
	char guss[GBA_GUSS_MAX + 1];      /* the user's GUSS XML, NUL-terminated */
	size_t guss_len;                  /* 0 when the source has none */
};

struct av_source;
struct av_spare;

struct av_source_ops {
	const char *name;   /* "embedded", "zh", "gsup" */
	/*
	 * A vector for impi.  For a resynchronisation, resync_rand is the RAND
	 * of the failed challenge and auts the UE's AUTS (both else NULL).
	 */
	gba_err (*fetch)(struct av_source *src, const char *impi,
			 const uint8_t *resync_rand, const uint8_t *auts,
			 struct av_answer *out);
	void (*close)(struct av_source *src);
	/*
	 * Optional (NULL: fetch only), for a source whose vector comes later
	 * without a thread waiting for it (the embedded database's group
	 * commit; Zh and Cx, whose MAA comes to freeDiameter's callback):
	 * start getting a vector for impi (not a resync) and return.  On
	 * GBA_OK, done(arg) is called exactly once, on any thread, possibly
	 * before fetch_start returns, within the source's timeout (an HSS
	 * that does not answer: fetch_finish then says GBA_ERR_TIMEOUT);
	 * then fetch_finish(src, *job, out) gives the outcome as fetch
	 * would, and frees the job.  On an error nothing was started and
	 * done is not called.
	 */
	gba_err (*fetch_start)(struct av_source *src, const char *impi,
			       void (*done)(void *arg), void *arg, void **job);
	gba_err (*fetch_finish)(struct av_source *src, void *job, struct av_answer *out);
	/* Optional: the source's spare vectors (bsf/av_spare.h), or NULL, for /metrics. */
	struct av_spare *(*spares)(struct av_source *src);
	/*
	 * Optional (NULL: a resync goes through fetch): fetch_start for a
	 * resynchronisation, with fetch's resync_rand and auts (copied
	 * before it returns), under the same rules; fetch_finish gives the
	 * outcome.
	 */
	gba_err (*resync_start)(struct av_source *src, const char *impi,
				const uint8_t *resync_rand, const uint8_t *auts,
				void (*done)(void *arg), void *arg, void **job);
};

struct av_source {
	const struct av_source_ops *ops;
};

static inline gba_err av_source_fetch(struct av_source *src, const char *impi,
				      const uint8_t *resync_rand, const uint8_t *auts,
				      struct av_answer *out)
{
	return src->ops->fetch(src, impi, resync_rand, auts, out);
}

static inline int av_source_can_defer(const struct av_source *src)
{
	return src->ops->fetch_start != NULL;
}

static inline struct av_spare *av_source_spares(struct av_source *src)
{
	return src && src->ops->spares ? src->ops->spares(src) : NULL;
}

static inline void av_source_close(struct av_source *src)
{
	if (src)
		src->ops->close(src);
}

/* The IND slot's lease: holder name and ttl in seconds (0: no lease). */
struct av_lease {
	const char *holder;
	unsigned ttl;
};

struct gba_subdb_lease;

/*
 * Embedded: the SQLite subscriber database at db_path; SQNs in IND slot
 * ind, reserved sqn_block at a time (1: one transaction per vector; more
 * saves transactions, see docs/subscribers.md "SQN blocks").  kek (NULL:
 * plain keys) wraps K and OPc and must outlive the source.
 */
gba_err av_source_embedded_open(struct av_source **out, const char *db_path, unsigned ind,
				unsigned sqn_block, struct gba_kek *kek);

/*
 * Reserve the embedded source's SQNs in group commits of at most
 * max_batch subscribers (gba_subdb_group_commit): fetch_start and
 * fetch_finish then work.  Call once, after open.
 */
gba_err av_source_embedded_group_commit(struct av_source *src, unsigned max_batch);

/*
 * Lease the embedded source's IND slot for its lifetime (docs/deployment.md):
 * taken now, renewed by a thread, released at close.  GBA_ERR_EXISTS, with
 * *other (may be NULL) the holder, while another BSF's lease of the slot
 * runs.  Once the lease has lapsed, fetch is GBA_ERR_UNAVAILABLE.
 */
gba_err av_source_embedded_lease(struct av_source *src, const struct av_lease *lease,
				 struct gba_subdb_lease *other);

/* Zh: see bsf/zh/zh.h for its configuration. */

/*
 * GSUP: osmo-hlr's vectors (bsf/av_gsup.c, bsf/gsup_link.h).  db_path is
 * the BSF's own database (IMPI -> IMSI table, GUSS), opened with kek.
 */
struct bsf_metrics;
struct av_gsup_config {
	const char *host;           /* the HLR */
	unsigned port;
	const char *name;           /* IPA unit name (osmo-hlr's IND slot) */
	unsigned timeout_ms;        /* wait for an answer at most this long */
	unsigned spare_ttl;         /* seconds spare vectors are kept; 0: never */
	unsigned spare_users;       /* users whose spares are kept at once; 0: the default */
	const char *db_path;
	struct gba_kek *kek;
	void (*log)(void *arg, int level, const char *line);
	void *log_arg;
	struct bsf_metrics *metrics;
};

gba_err av_source_gsup_open(struct av_source **out, const struct av_gsup_config *cfg);

/* The IMSI of an IMSI-derived IMPI (TS 23.003 13.3); -1 for any other. */
int gsup_imsi_by_rule(const char *impi, char imsi[GBA_IMSI_MAX + 1]);

#endif /* GBA_BSF_AV_SOURCE_H */
