/*
 * av_gsup.c - the GSUP AV source: vectors from Osmocom's HLR (osmo-hlr)
 * by SendAuthInfo over gsup_link.c, for labs whose subscribers live
 * there.  See docs/core-network.md.
 *
 * The HLR knows IMSIs, not IMPIs: an IMPI maps to an IMSI through the
 * BSF's database (gba-subscriber map) or, failing that, by the TS 23.003
 * 13.3 rule (IMSI@ims.mncMNC.mccMCC.3gppnetwork.org).  osmo-hlr answers
 * with 5 vectors, moving the subscriber's SQN past all of them: the spare
 * ones are kept for that IMSI a short time (gsup.spare_ttl, as the
 * embedded AuC keeps its SQN blocks; av_spare.h) and handed out in order,
 * then wiped.
 * GUSS comes from the BSF's database too (osmo-hlr has none).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "av_source.h"
#include "av_spare.h"
#include "gsup_link.h"

struct av_gsup {
	struct av_source base;  /* first: the ops see a struct av_source * */
	struct gsup_link *link;
	struct gba_subdb *db;
	unsigned timeout_ms;
	struct av_spare *spare; /* spares per IMSI (av_spare.h) */
};

_Static_assert(GSUP_LINK_MAX_AV - 1 <= AV_SPARE_MAX, "an answer's spares fit");

/* ---- IMPI -> IMSI ----------------------------------------------------------------- */

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/*
 * TS 23.003 13.3: IMSI@ims.mncMNC.mccMCC.3gppnetwork.org, where MCC and
 * MNC (zero-padded to 3 digits) lead the IMSI.  0 when impi has that form.
 */
int gsup_imsi_by_rule(const char *impi, char imsi[GBA_IMSI_MAX + 1])
{
	const char *at = strchr(impi, '@');
	char mnc[4], mcc[4], tail[32];
	size_t n = at ? (size_t)(at - impi) : 0;

	if (n < 6 || n > GBA_IMSI_MAX || !all_digits(impi, n) ||
	    sscanf(at + 1, "ims.mnc%3[0-9].mcc%3[0-9].%31s", mnc, mcc, tail) != 3 ||
	    strlen(mnc) != 3 || strlen(mcc) != 3 || strcmp(tail, "3gppnetwork.org") ||
	    memcmp(impi, mcc, 3))
		return -1;
	/* A 2-digit MNC is written with a leading zero. */
	if (memcmp(impi + 3, mnc, 3) && (mnc[0] != '0' || memcmp(impi + 3, mnc + 1, 2)))
		return -1;
	memcpy(imsi, impi, n);
	imsi[n] = '\0';
	return 0;
}

/* The table first (an operator's word beats the rule), then the rule. */
static gba_err imsi_of(struct av_gsup *g, const char *impi, char imsi[GBA_IMSI_MAX + 1])
{
	gba_err err = gba_subdb_imsi_of(g->db, impi, imsi);

	if (err != GBA_ERR_NOT_FOUND)
		return err;
	return gsup_imsi_by_rule(impi, imsi) ? GBA_ERR_NOT_FOUND : GBA_OK;
}

/* ---- the source -------------------------------------------------------------------- */

static gba_err ask_hlr(struct av_gsup *g, const char *imsi, const uint8_t *rand,
		       const uint8_t *auts, struct gba_av *out)
{
	struct gba_av av[GSUP_LINK_MAX_AV];
	size_t n = 0;
	uint64_t order = 0;
	gba_err err = gsup_link_sai(g->link, imsi, rand, auts, g->timeout_ms, av, &n, &order);

	if (!err) {
		*out = av[0];
		if (n > 1)
			av_spare_keep(g->spare, imsi, av + 1, n - 1, order);
	}
	gba_wipe(av, sizeof(av));
	/* osmo-hlr answers an AUTS whose MAC-S fails as an unknown IMSI. */
	if (err == GBA_ERR_NOT_FOUND && auts)
		err = GBA_ERR_AUTS_INVALID;
	return err;
}

static gba_err gsup_fetch(struct av_source *src, const char *impi, const uint8_t *resync_rand,
			  const uint8_t *auts, struct av_answer *out)
{
	struct av_gsup *g = (struct av_gsup *)src;
	char imsi[GBA_IMSI_MAX + 1];
	gba_err err;

	if (!impi || !out || (!resync_rand != !auts))
		return GBA_ERR_INVALID_ARG;
	out->guss_len = 0;
	err = imsi_of(g, impi, imsi);
	if (err)
		return err;
	if (auts) {
		/* Spares carry SQNs the card has now rejected as out of range. */
		av_spare_drop(g->spare, imsi);
		err = ask_hlr(g, imsi, resync_rand, auts, &out->av);
	} else if (av_spare_take(g->spare, imsi, &out->av)) {
		err = ask_hlr(g, imsi, NULL, NULL, &out->av);
	}
	if (err)
		return err;
	err = gba_subdb_guss(g->db, impi, imsi, out->guss, sizeof(out->guss), &out->guss_len);
	if (err == GBA_ERR_NOT_FOUND)
		err = GBA_OK;   /* the BSF's default policy applies */
	if (err)
		gba_wipe(&out->av, sizeof(out->av));
	return err;
}

static void gsup_close(struct av_source *src)
{
	struct av_gsup *g = (struct av_gsup *)src;

	gsup_link_close(g->link);
	gba_subdb_close(g->db);
	av_spare_free(g->spare);
	free(g);
}

static struct av_spare *gsup_spares(struct av_source *src)
{
	return ((struct av_gsup *)src)->spare;
}

static const struct av_source_ops gsup_ops = {
	.name = "gsup",
	.fetch = gsup_fetch,
	.close = gsup_close,
	.spares = gsup_spares,
};

gba_err av_source_gsup_open(struct av_source **out, const struct av_gsup_config *cfg)
{
	struct gsup_link_config lc = {
		.host = cfg->host,
		.port = cfg->port,
		.name = cfg->name,
		.log = cfg->log,
		.log_arg = cfg->log_arg,
		.metrics = cfg->metrics,
	};
	struct av_gsup *g;
	gba_err err;

	if (!out || !cfg->db_path || !cfg->timeout_ms)
		return GBA_ERR_INVALID_ARG;
	g = calloc(1, sizeof(*g));
	if (!g)
		return GBA_ERR_NO_MEMORY;
	g->spare = av_spare_new(cfg->spare_ttl, cfg->spare_users);
	if (!g->spare) {
		free(g);
		return GBA_ERR_NO_MEMORY;
	}
	g->base.ops = &gsup_ops;
	g->timeout_ms = cfg->timeout_ms;
	err = gba_subdb_open_kek(&g->db, cfg->db_path, cfg->kek);
	if (!err)
		err = gsup_link_open(&g->link, &lc);
	if (err) {
		gba_subdb_close(g->db);
		av_spare_free(g->spare);
		free(g);
		return err;
	}
	*out = &g->base;
	return GBA_OK;
}
