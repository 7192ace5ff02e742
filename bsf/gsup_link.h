/*
 * gsup_link.h - the BSF's GSUP connection to an HLR (osmo-hlr): one
 * thread runs libosmocore's select loop with libosmo-gsup-client on it
 * (neither is thread-safe); worker threads hand it SendAuthInfo requests
 * through a queue and an eventfd, and wait for the answer a bounded time.
 *
 * The link reconnects by itself with a growing pause (1 s doubling up to
 * GSUP_LINK_BACKOFF_MAX_S) while the HLR is away; meanwhile requests fail
 * at once with GBA_ERR_UNAVAILABLE.  An outage is logged once, when it
 * starts, and once more when it ends.
 */
#ifndef GBA_BSF_GSUP_LINK_H
#define GBA_BSF_GSUP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <gba/aka.h>
#include <gba/error.h>

#include "metrics.h"

#define GSUP_LINK_MAX_AV 5          /* osmo-hlr sends at most (and by default) 5 */
#define GSUP_LINK_BACKOFF_MAX_S 8

struct gsup_link_config {
	const char *host;            /* the HLR's numeric address */
	unsigned port;               /* its GSUP port (4222) */
	const char *name;            /* IPA unit name: osmo-hlr's IND slot goes with it */
	/*
	 * Where the link's lines go (level: 1 info, 2 warn, 3 error, as
	 * bsf/log.h's; not that header here: its names clash with libosmocore's).
	 */
	void (*log)(void *arg, int level, const char *line);
	void *log_arg;
	struct bsf_metrics *metrics; /* may be NULL */
};

struct gsup_link;

/* Start the thread; it connects in the background. */
gba_err gsup_link_open(struct gsup_link **out, const struct gsup_link_config *cfg);

/* Stop the thread; requests still waiting get GBA_ERR_UNAVAILABLE. */
void gsup_link_close(struct gsup_link *l);

/*
 * SendAuthInfo for imsi (a resync when rand and auts are set), waiting at
 * most timeout_ms.  On success av[0..*n) hold the UMTS vectors (secret:
 * the caller wipes them), *n >= 1, and *order (may be NULL) numbers the
 * answer: the HLR answers in order, so a higher number carries fresher
 * SQNs than a lower one for the same IMSI.  Errors:
 *   GBA_ERR_NOT_FOUND      SendAuthInfo Error "IMSI unknown" (osmo-hlr's
 *                          answer to an AUTS that fails too)
 *   GBA_ERR_UNAVAILABLE    no connection, or another error cause
 *   GBA_ERR_TIMEOUT        no answer in time
 *   GBA_ERR_PARSE          an answer without a usable UMTS vector
 */
gba_err gsup_link_sai(struct gsup_link *l, const char *imsi, const uint8_t rand[16],
		      const uint8_t auts[14], unsigned timeout_ms,
		      struct gba_av av[GSUP_LINK_MAX_AV], size_t *n, uint64_t *order);

/*
 * The loop thread's handling of one received GSUP message (the octets
 * after the IPA header); not for other threads.  Exported for
 * tests/fuzz/fuzz_gsup.c, which feeds it without sockets.
 */
void gsup_link_receive(struct gsup_link *l, const uint8_t *data, size_t len);

#endif /* GBA_BSF_GSUP_LINK_H */
