/*
 * zh.c - the BSF's AV source over Zh: av_source's fetch() as one MAR/MAA
 * exchange with the HSS (gba_zh_mar_call), on the process's Diameter node.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/diameter_zh.h>
#include <gba/util.h>

#include "zh.h"

#define DEFAULT_TIMEOUT_MS 2000

struct av_zh {
	struct av_source base;      /* first: the ops see a struct av_source * */
	struct gba_dia *dia;
	int own_dia;                /* opened here, so closed here */
	char hss_identity[256];
	char hss_realm[256];
	unsigned timeout_ms;
};

static gba_err zh_fetch(struct av_source *src, const char *impi, const uint8_t *resync_rand,
			const uint8_t *auts, struct av_answer *out)
{
	struct av_zh *z = (struct av_zh *)src;
	struct gba_zh_request req = {
		.impi = impi,
		.dest_realm = z->hss_realm,
		.dest_host = z->hss_identity,
		.resync_rand = resync_rand,
		.auts = auts,
	};
	struct gba_zh_answer ans;
	gba_err err;

	if (!impi || !out || (!resync_rand != !auts))
		return GBA_ERR_INVALID_ARG;
	out->guss_len = 0;
	err = gba_zh_mar_call(z->dia, &req, z->timeout_ms, &ans, out->guss, sizeof(out->guss));
	if (!err) {
		out->av = ans.av;
		out->guss_len = ans.guss_len;
	} else if (err != GBA_ERR_NOT_FOUND && err != GBA_ERR_AUTS_INVALID) {
		/* The HSS's trouble, not the user's: worth a line.  No IMPI here:
		 * the BSF logs the outcome with its own IMPI privacy setting. */
		uint32_t code = gba_dia_result_value(&ans.result);
		gba_dia_log(z->dia, GBA_DIA_LOG_WARN, "MAR to %s: %s%s%s", z->hss_identity,
			    gba_strerror(err), code ? ", result " : "",
			    code ? gba_dia_result_name(code) : "");
	}
	gba_wipe(&ans.av, sizeof(ans.av));
	return err;
}

static void zh_close(struct av_source *src)
{
	struct av_zh *z = (struct av_zh *)src;

	if (z->own_dia)
		gba_dia_close(z->dia);
	free(z);
}

static const struct av_source_ops zh_ops = {
	.name = "zh",
	.fetch = zh_fetch,
	.close = zh_close,
};

static gba_err open_node(struct av_zh *z, const struct zh_config *cfg, unsigned port)
{
	char local[64];
	struct gba_dia_config dc = {
		.identity = cfg->origin_host,
		.realm = cfg->origin_realm,
		.port = 0,   /* a client: the BSF connects to the HSS */
		.apps = GBA_DIA_ZH,
		.transport = cfg->transport,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.tls_ca = cfg->tls_ca,
		.reconnect_s = cfg->reconnect_s,
		.log = cfg->log,
		.log_arg = cfg->log_arg,
		.log_level = cfg->log_level,
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
	    cfg->hss_port > 65535 || (!cfg->dia && (!cfg->origin_host || !cfg->origin_realm)))
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return GBA_ERR_NO_MEMORY;
	z->base.ops = &zh_ops;
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
