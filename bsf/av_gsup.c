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
 * embedded AuC keeps its SQN blocks) and handed out in order, then wiped.
 * GUSS comes from the BSF's database too (osmo-hlr has none).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "av_source.h"
#include "gsup_link.h"

#define SPARE_SETS 4096     /* 4096 x 4 IMSIs with spares at once (about 7 MB) */
#define SPARE_WAYS 4        /* a full set evicts the entry closest to expiry */

struct spare {
	char imsi[GBA_IMSI_MAX + 1];
	struct gba_av av[GSUP_LINK_MAX_AV - 1];
	size_t next, n;         /* av[next..n) are unused */
	time_t expires;         /* CLOCK_MONOTONIC seconds */
	uint64_t order;         /* the answer they came in (gsup_link_sai) */
};

struct av_gsup {
	struct av_source base;  /* first: the ops see a struct av_source * */
	struct gsup_link *link;
	struct gba_subdb *db;
	unsigned timeout_ms;
	unsigned spare_ttl;
	pthread_mutex_t lock;   /* guards spare[] */
	struct spare spare[SPARE_SETS][SPARE_WAYS];
};

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

/* ---- spare vectors ---------------------------------------------------------------- */

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct spare *set_of(struct av_gsup *g, const char *imsi)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)imsi; *p; p++)
		h = (h ^ *p) * 16777619u;
	return g->spare[h % SPARE_SETS];
}

/* imsi's entry in its set, or NULL.  Lock held. */
static struct spare *spare_find(struct av_gsup *g, const char *imsi)
{
	struct spare *set = set_of(g, imsi);

	for (unsigned i = 0; i < SPARE_WAYS; i++)
		if (set[i].n && !strcmp(set[i].imsi, imsi))
			return &set[i];
	return NULL;
}

static void spare_clear(struct spare *s)
{
	gba_wipe(s, sizeof(*s));
}

/* The next spare vector of imsi into av; 0 when there was one. */
static int spare_take(struct av_gsup *g, const char *imsi, struct gba_av *av)
{
	struct spare *s;
	int found = 0;

	pthread_mutex_lock(&g->lock);
	s = spare_find(g, imsi);
	if (s) {
		if (s->expires > mono_now()) {
			*av = s->av[s->next++];
			found = 1;
		}
		if (!found || s->next == s->n)
			spare_clear(s);
	}
	pthread_mutex_unlock(&g->lock);
	return found ? 0 : -1;
}

static void spare_drop(struct av_gsup *g, const char *imsi)
{
	struct spare *s;

	pthread_mutex_lock(&g->lock);
	s = spare_find(g, imsi);
	if (s)
		spare_clear(s);
	pthread_mutex_unlock(&g->lock);
}

/* Where imsi's new spares go: its old entry, a free way, or the oldest.  Lock held. */
static struct spare *spare_slot(struct av_gsup *g, const char *imsi)
{
	struct spare *set = set_of(g, imsi), *s = spare_find(g, imsi);

	struct spare *oldest = &set[0];

	for (unsigned i = 0; !s && i < SPARE_WAYS; i++) {
		if (!set[i].n)
			s = &set[i];
		else if (set[i].expires < oldest->expires)
			oldest = &set[i];
	}
	return s ? s : oldest;
}

/*
 * Keep av[1..n) for imsi (av[0] is being used), unless spares of a later
 * answer are there already (two requests for one IMSI at once): older SQNs
 * handed out after newer ones would only make the card resync.
 */
static void spare_keep(struct av_gsup *g, const char *imsi, const struct gba_av *av, size_t n,
		       uint64_t order)
{
	struct spare *s;

	if (!g->spare_ttl || n < 2)
		return;
	pthread_mutex_lock(&g->lock);
	s = spare_slot(g, imsi);
	if (s->n && !strcmp(s->imsi, imsi) && s->order > order) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	spare_clear(s);
	s->order = order;
	snprintf(s->imsi, sizeof(s->imsi), "%s", imsi);
	memcpy(s->av, av + 1, (n - 1) * sizeof(*av));
	s->next = 0;
	s->n = n - 1;
	s->expires = mono_now() + (time_t)g->spare_ttl;
	pthread_mutex_unlock(&g->lock);
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
		spare_keep(g, imsi, av, n, order);
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
		spare_drop(g, imsi);
		err = ask_hlr(g, imsi, resync_rand, auts, &out->av);
	} else if (spare_take(g, imsi, &out->av)) {
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
	gba_wipe(g->spare, sizeof(g->spare));
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static const struct av_source_ops gsup_ops = {
	.name = "gsup",
	.fetch = gsup_fetch,
	.close = gsup_close,
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
	if (pthread_mutex_init(&g->lock, NULL)) {
		free(g);
		return GBA_ERR_NO_MEMORY;
	}
	g->base.ops = &gsup_ops;
	g->timeout_ms = cfg->timeout_ms;
	g->spare_ttl = cfg->spare_ttl;
	err = gba_subdb_open_kek(&g->db, cfg->db_path, cfg->kek);
	if (!err)
		err = gsup_link_open(&g->link, &lc);
	if (err) {
		gba_subdb_close(g->db);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return err;
	}
	*out = &g->base;
	return GBA_OK;
}
