/*
 * zh.c - the BSF's AV source over Zh (or Cx): one MAR/MAA exchange with
 * the HSS per vector, on the process's Diameter node; on Cx, the further
 * vectors of an MAA serve the IMPI's next fetches for a short time
 * (av_spare.h).
 *
 * The Ub workers get their vectors through fetch_start (or resync_start)
 * and fetch_finish: the MAR is sent (gba_zh_mar_send) and the worker goes
 * on serving other connections; freeDiameter's thread that gets the MAA
 * (or sees its timeout pass) calls done, and the worker reads the MAA in
 * fetch_finish.  fetch (gba_zh_mar_call, which blocks its thread) serves
 * the callers that cannot wait that way.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/diameter_zh.h>
#include <gba/util.h>

#include "av_spare.h"
#include "zh.h"

#define DEFAULT_TIMEOUT_MS 2000

struct av_zh {
	struct av_source base;      /* first: the ops see a struct av_source * */
	struct gba_dia *dia;
	int own_dia;                /* opened here, so closed here */
	char hss_identity[256];
	char hss_realm[256];
	unsigned timeout_ms;
	/* Cx */
	int cx;
	char server_name[GBA_ZH_CX_NAME_MAX + 1];
	unsigned vectors;
	struct av_spare *spare;     /* NULL: spares not kept */
	atomic_uint_fast64_t answers;   /* numbers the MAAs, for av_spare_keep */
	int (*public_identity)(void *arg, const char *impi, char *out, size_t size);
	void *public_identity_arg;
};

_Static_assert(GBA_ZH_VECTORS_MAX - 1 <= AV_SPARE_MAX, "an MAA's spares fit");

/* The MAR for impi: Zh's, or Cx's with its Public-Identity and Server-Name. */
static void fill_request(struct av_zh *z, struct gba_zh_request *req, const char *impi,
			 char *pub, size_t pub_size)
{
	if (!z->cx)
		return;
	req->app = GBA_DIA_APP_CX;
	req->server_name = z->server_name;
	req->vectors = z->vectors;
	if (z->public_identity && !z->public_identity(z->public_identity_arg, impi, pub, pub_size))
		req->public_identity = pub;
}

/* An MAA's further vectors, unless it carried a GUSS they would lack. */
static void keep_spares(struct av_zh *z, const char *impi, const struct gba_zh_answer *ans)
{
	if (z->spare && ans->n_spare && !ans->guss_len)
		av_spare_keep(z->spare, impi, ans->spare, ans->n_spare,
			      atomic_fetch_add(&z->answers, 1) + 1);
}

/* The HSS's trouble, not the user's: worth a line.  No IMPI here: the BSF
 * logs the outcome with its own IMPI privacy setting. */
static void warn_failure(struct av_zh *z, gba_err err, const struct gba_zh_answer *ans)
{
	uint32_t code = ans ? gba_dia_result_value(&ans->result) : 0;

	if (err == GBA_ERR_NOT_FOUND || err == GBA_ERR_AUTS_INVALID)
		return;
	gba_dia_log(z->dia, GBA_DIA_LOG_WARN, "%s MAR to %s: %s%s%s", z->cx ? "Cx" : "Zh",
		    z->hss_identity, gba_strerror(err), code ? ", result " : "",
		    code ? gba_dia_result_name(code) : "");
}

/* The outcome err of an MAA read into ans: its vector to out, or a warning; ans wiped. */
static gba_err use_answer(struct av_zh *z, const char *impi, gba_err err,
			  struct gba_zh_answer *ans, struct av_answer *out)
{
	if (!err) {
		out->av = ans->av;
		out->guss_len = ans->guss_len;
		keep_spares(z, impi, ans);
	} else {
		warn_failure(z, err, ans);
	}
	gba_wipe(&ans->av, sizeof(ans->av));
	gba_wipe(ans->spare, sizeof(ans->spare));
	return err;
}

/* A MAR for impi to the HSS; resync_rand and auts for a resync, else NULL. */
static struct gba_zh_request mar_request(const struct av_zh *z, const char *impi,
					 const uint8_t *resync_rand, const uint8_t *auts)
{
	struct gba_zh_request req = {
		.impi = impi,
		.dest_realm = z->hss_realm,
		.dest_host = z->hss_identity,
		.resync_rand = resync_rand,
		.auts = auts,
	};

	return req;
}

static gba_err zh_fetch(struct av_source *src, const char *impi, const uint8_t *resync_rand,
			const uint8_t *auts, struct av_answer *out)
{
	struct av_zh *z = (struct av_zh *)src;
	struct gba_zh_request req = mar_request(z, impi, resync_rand, auts);
	struct gba_zh_answer ans;
	char pub[GBA_ZH_CX_NAME_MAX + 1];
	gba_err err;

	if (!impi || !out || (!resync_rand != !auts))
		return GBA_ERR_INVALID_ARG;
	out->guss_len = 0;
	/* Spares carry SQNs the card has just refused as out of range. */
	if (z->spare && auts)
		av_spare_drop(z->spare, impi);
	else if (z->spare && !av_spare_take(z->spare, impi, &out->av))
		return GBA_OK;
	fill_request(z, &req, impi, pub, sizeof(pub));
	err = gba_zh_mar_call(z->dia, &req, z->timeout_ms, &ans, out->guss, sizeof(out->guss));
	return use_answer(z, impi, err, &ans, out);
}

/* ---- Without a blocked worker --------------------------------------------------- */

/*
 * One challenge's vector in the making: from the IMPI's spares (done at
 * once), or a MAR in flight.  freeDiameter's callback owns it until it
 * calls done; fetch_finish frees it.
 */
struct zh_job {
	struct gba_zh_async call;   /* first: the callback finds the job from it */
	void (*done)(void *arg);
	void *arg;
	struct gba_zh_maa *maa;     /* the MAA; NULL: none came in time */
	int from_spare;
	struct gba_av av;           /* from_spare: the vector (secret) */
	int resync;                 /* the MAR carried rand || auts */
	uint8_t rand[16];
	uint8_t auts[GBA_AUTS_LEN];
	char impi[GBA_ZH_IMPI_MAX + 1];
};

/* On freeDiameter's thread: keep the MAA for the worker and wake it. */
static void job_answered(struct gba_zh_async *call, struct gba_zh_maa *maa)
{
	struct zh_job *j = (struct zh_job *)call;

	j->maa = maa;
	j->done(j->arg);   /* the job is fetch_finish's from here on */
}

/* Start the MAR of a job (or take a spare: not for a resync). */
static gba_err job_start(struct av_zh *z, const char *impi, const uint8_t *resync_rand,
			 const uint8_t *auts, void (*done)(void *arg), void *arg, void **job)
{
	struct gba_zh_request req = mar_request(z, impi, resync_rand, auts);
	char pub[GBA_ZH_CX_NAME_MAX + 1];
	struct zh_job *j;
	gba_err err;

	if (!impi || !done || !job || strlen(impi) > GBA_ZH_IMPI_MAX)
		return GBA_ERR_INVALID_ARG;
	j = calloc(1, sizeof(*j));
	if (!j)
		return GBA_ERR_NO_MEMORY;
	j->call.done = job_answered;
	j->done = done;
	j->arg = arg;
	strcpy(j->impi, impi);
	if (auts) {
		j->resync = 1;
		memcpy(j->rand, resync_rand, sizeof(j->rand));
		memcpy(j->auts, auts, sizeof(j->auts));
	}
	*job = j;
	/* Spares carry SQNs the card has just refused as out of range. */
	if (z->spare && auts) {
		av_spare_drop(z->spare, impi);
	} else if (z->spare && !av_spare_take(z->spare, impi, &j->av)) {
		j->from_spare = 1;
		done(arg);
		return GBA_OK;
	}
	fill_request(z, &req, j->impi, pub, sizeof(pub));
	err = gba_zh_mar_send(z->dia, &req, z->timeout_ms, &j->call);
	if (err) {
		warn_failure(z, err, NULL);
		*job = NULL;
		free(j);
	}
	return err;
}

static gba_err zh_fetch_start(struct av_source *src, const char *impi,
			      void (*done)(void *arg), void *arg, void **job)
{
	return job_start((struct av_zh *)src, impi, NULL, NULL, done, arg, job);
}

static gba_err zh_resync_start(struct av_source *src, const char *impi,
			       const uint8_t *resync_rand, const uint8_t *auts,
			       void (*done)(void *arg), void *arg, void **job)
{
	if (!resync_rand || !auts)
		return GBA_ERR_INVALID_ARG;
	return job_start((struct av_zh *)src, impi, resync_rand, auts, done, arg, job);
}

static gba_err zh_fetch_finish(struct av_source *src, void *job, struct av_answer *out)
{
	struct av_zh *z = (struct av_zh *)src;
	struct zh_job *j = job;
	struct gba_zh_request req = { .impi = j->impi, .app = z->cx ? GBA_DIA_APP_CX : 0,
				      .resync_rand = j->resync ? j->rand : NULL,
				      .auts = j->resync ? j->auts : NULL };
	struct gba_zh_answer ans;
	gba_err err = GBA_OK;

	out->guss_len = 0;
	if (j->from_spare) {
		out->av = j->av;
		gba_wipe(&j->av, sizeof(j->av));
	} else {
		err = gba_zh_maa_read(j->maa, &req, &ans, out->guss, sizeof(out->guss));
		err = use_answer(z, j->impi, err, &ans, out);
		gba_zh_maa_free(j->maa);
	}
	free(j);
	return err;
}

static void zh_close(struct av_source *src)
{
	struct av_zh *z = (struct av_zh *)src;

	if (z->own_dia)
		gba_dia_close(z->dia);
	av_spare_free(z->spare);
	free(z);
}

static const struct av_source_ops zh_ops = {
	.name = "zh",
	.fetch = zh_fetch,
	.close = zh_close,
	.fetch_start = zh_fetch_start,
	.fetch_finish = zh_fetch_finish,
	.resync_start = zh_resync_start,
};

static struct av_spare *cx_spares(struct av_source *src)
{
	return ((struct av_zh *)src)->spare;
}

static const struct av_source_ops cx_ops = {
	.name = "cx",
	.fetch = zh_fetch,
	.close = zh_close,
	.spares = cx_spares,
	.fetch_start = zh_fetch_start,
	.fetch_finish = zh_fetch_finish,
	.resync_start = zh_resync_start,
};

static gba_err open_node(struct av_zh *z, const struct zh_config *cfg, unsigned port)
{
	char local[64];
	struct gba_dia_config dc = {
		.identity = cfg->origin_host,
		.realm = cfg->origin_realm,
		.port = 0,   /* a client: the BSF connects to the HSS */
		.apps = cfg->cx ? GBA_DIA_CX : GBA_DIA_ZH,
		.transport = cfg->transport,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.tls_ca = cfg->tls_ca,
		.reconnect_s = cfg->reconnect_s,
		.log = cfg->log,
		.log_arg = cfg->log_arg,
		.log_level = cfg->log_level,
		/* Only MAAs arrive here, and their callbacks just resume a held
		 * request: one of freeDiameter's dispatch threads takes them all
		 * with fewer wake-ups than four (78 - 79 µs of CPU per Zh bootstrap
		 * against 86 - 97 µs, docs/zh.md "Figures"). */
		.threads = 1,
	};

	if (cfg->local_address) {
		dc.address = cfg->local_address;
	} else if (!gba_dia_local_address(cfg->hss_host, (uint16_t)port, local, sizeof(local))) {
		dc.address = local;
	}
	z->own_dia = 1;
	return gba_dia_open(&z->dia, &dc);
}

gba_err av_source_zh_open(struct av_source **out, const struct zh_config *cfg)
{
	struct av_zh *z;
	unsigned port;
	gba_err err;

	if (!out || !cfg || !cfg->hss_host || !*cfg->hss_host || !cfg->hss_realm ||
	    cfg->hss_port > 65535 || (!cfg->dia && (!cfg->origin_host || !cfg->origin_realm)) ||
	    (cfg->cx && (!cfg->server_name || !*cfg->server_name ||
			 strlen(cfg->server_name) > GBA_ZH_CX_NAME_MAX ||
			 cfg->vectors > GBA_ZH_VECTORS_MAX)))
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return GBA_ERR_NO_MEMORY;
	z->base.ops = cfg->cx ? &cx_ops : &zh_ops;
	if (cfg->cx) {
		z->cx = 1;
		snprintf(z->server_name, sizeof(z->server_name), "%s", cfg->server_name);
		z->vectors = cfg->vectors ? cfg->vectors : 1;
		z->public_identity = cfg->public_identity;
		z->public_identity_arg = cfg->public_identity_arg;
		atomic_init(&z->answers, 0);
		if (cfg->spare_ttl && z->vectors > 1 && !(z->spare = av_spare_new(cfg->spare_ttl, cfg->spare_users))) {
			free(z);
			return GBA_ERR_NO_MEMORY;
		}
	}
	z->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	snprintf(z->hss_identity, sizeof(z->hss_identity), "%s",
		 cfg->hss_identity ? cfg->hss_identity : cfg->hss_host);
	snprintf(z->hss_realm, sizeof(z->hss_realm), "%s", cfg->hss_realm);
	port = cfg->hss_port ? cfg->hss_port : 3868;

	if (cfg->dia) {
		z->dia = cfg->dia;
		err = GBA_OK;
	} else {
		err = open_node(z, cfg, port);
	}
	if (!err) {
		struct gba_dia_peer hss = {
			.identity = z->hss_identity,
			.address = cfg->hss_host,
			.port = (uint16_t)port,
			/* Not checked against the HSS's CEA: hss_realm is where
			 * MARs are addressed, which need not be the HSS's own. */
			.realm = NULL,
		};
		err = gba_dia_add_peer(z->dia, &hss);
	}
	if (!err && z->own_dia)
		err = gba_dia_start(z->dia);
	if (err) {
		zh_close(&z->base);
		return err;
	}
	/* A shared node is started (and waited for) by its owner. */
	if (z->own_dia && gba_dia_wait_peer(z->dia, z->hss_identity, z->timeout_ms))
		gba_dia_log(z->dia, GBA_DIA_LOG_WARN,
			    "HSS %s (%s:%u) not connected yet; retrying in the background",
			    z->hss_identity, cfg->hss_host, port);
	*out = &z->base;
	return GBA_OK;
}

struct gba_dia *av_source_zh_dia(struct av_source *src)
{
	return src ? ((struct av_zh *)src)->dia : NULL;
}
