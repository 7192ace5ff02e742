/*
 * naf.c - libgba-naf: the NAF's Zn client (gba_zn_bir_call on the
 * process's Diameter node) with an answer cache in front of it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/diameter_zn.h>
#include <gba/kdf.h>
#include <gba/naf.h>
#include <gba/util.h>

#include "cache.h"
#include "http.h"

struct gba_naf {
	struct gba_dia *dia;
	int own_dia;                  /* opened here, so closed here */
	char bsf_identity[256];
	char gaa_service_id[256];
	int has_service_id;
	unsigned timeout_ms;
	int gba_u_aware;
	struct naf_cache *cache;      /* NULL: no cache */
	struct naf_http *http;        /* Zn over HTTPS instead of Diameter */
	gba_dia_log_fn *log;          /* the caller's, for HTTPS (no node to log through) */
	void *log_arg;
	enum gba_dia_log_level log_level;
	atomic_int http_version;      /* Nbsp: the version of the last answer (20, 11), logged on change */
	atomic_uint_fast64_t fetches, hits, birs, errors;
};

void gba_naf_key_wipe(struct gba_naf_key *k)
{
	if (k)
		gba_wipe(k, sizeof(*k));
}

static gba_err open_node(struct gba_naf *naf, const struct gba_naf_config *cfg)
{
	char local[64];
	struct gba_dia_config dc = {
		.identity = cfg->identity,
		.realm = cfg->realm,
		.address = cfg->local_address,
		.port = 0,   /* a client: the NAF connects to the BSF */
		.apps = GBA_DIA_ZN,
		.transport = cfg->transport,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.tls_ca = cfg->tls_ca,
		.log = cfg->log,
		.log_arg = cfg->log_arg,
		.log_level = cfg->log_level,
	};

	/* Advertise the address the BSF will see us from, unless told. */
	if (!dc.address && !gba_dia_local_address(cfg->bsf_address, cfg->bsf_port, local,
						   sizeof(local)))
		dc.address = local;
	naf->own_dia = 1;
	return gba_dia_open(&naf->dia, &dc);
}

static int valid_config(const struct gba_naf_config *cfg)
{
	if (cfg && cfg->bsf_url)   /* HTTPS: naf_http_open checks the rest */
		return !cfg->gaa_service_id || strlen(cfg->gaa_service_id) <= 255;
	if (!cfg || !cfg->bsf_identity || !*cfg->bsf_identity || !cfg->bsf_address ||
	    !*cfg->bsf_address || strlen(cfg->bsf_identity) > 255)
		return 0;
	if (cfg->gaa_service_id && strlen(cfg->gaa_service_id) > 255)
		return 0;
	/* Our identity is the node's: needed only when the node is ours. */
	return cfg->dia || (cfg->identity && *cfg->identity && cfg->realm && *cfg->realm);
}

static gba_err init(struct gba_naf *naf, const struct gba_naf_config *cfg)
{
	size_t entries = cfg->cache_entries ? cfg->cache_entries : GBA_NAF_DEFAULT_CACHE;

	naf->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : GBA_NAF_DEFAULT_TIMEOUT_MS;
	naf->log = cfg->log;
	naf->log_arg = cfg->log_arg;
	naf->log_level = cfg->log_level;
	naf->gba_u_aware = cfg->gba_u_aware ? 1 : 0;
	snprintf(naf->bsf_identity, sizeof(naf->bsf_identity), "%s",
		 cfg->bsf_identity ? cfg->bsf_identity : cfg->bsf_url);
	if (cfg->gaa_service_id) {
		snprintf(naf->gaa_service_id, sizeof(naf->gaa_service_id), "%s",
			 cfg->gaa_service_id);
		naf->has_service_id = 1;
	}
	if (entries != SIZE_MAX) {
		naf->cache = naf_cache_new(entries);
		if (!naf->cache)
			return GBA_ERR_NO_MEMORY;
		if (!cfg->key_wrap != !cfg->key_unwrap)
			return GBA_ERR_INVALID_ARG;
		if (cfg->key_wrap)
			naf_cache_set_guard(naf->cache, cfg->key_wrap, cfg->key_unwrap,
					    cfg->key_wrap_arg);
	}
	return GBA_OK;
}

gba_err gba_naf_open(const struct gba_naf_config *cfg, struct gba_naf **out)
{
	struct gba_naf *naf;
	gba_err err;

	if (!out)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	if (!valid_config(cfg))
		return GBA_ERR_INVALID_ARG;
	naf = calloc(1, sizeof(*naf));
	if (!naf)
		return GBA_ERR_NO_MEMORY;
	err = init(naf, cfg);
	if (!err && cfg->bsf_url) {
		err = naf_http_open(&naf->http, cfg);
		if (err) {
			gba_naf_close(naf);
			return err;
		}
		*out = naf;
		return GBA_OK;
	}
	if (!err && cfg->dia)
		naf->dia = cfg->dia;
	else if (!err)
		err = open_node(naf, cfg);
	if (!err) {
		struct gba_dia_peer bsf = {
			.identity = naf->bsf_identity,
			.address = cfg->bsf_address,
			.port = cfg->bsf_port ? cfg->bsf_port : 3868,
		};
		err = gba_dia_add_peer(naf->dia, &bsf);
	}
	if (!err && naf->own_dia)
		err = gba_dia_start(naf->dia);
	if (err) {
		gba_naf_close(naf);
		return err;
	}
	if (naf->own_dia && gba_dia_wait_peer(naf->dia, naf->bsf_identity, naf->timeout_ms))
		gba_dia_log(naf->dia, GBA_DIA_LOG_WARN,
			    "BSF %s (%s:%u) not connected yet; retrying in the background",
			    naf->bsf_identity, cfg->bsf_address,
			    (unsigned)(cfg->bsf_port ? cfg->bsf_port : 3868));
	*out = naf;
	return GBA_OK;
}

void gba_naf_close(struct gba_naf *naf)
{
	if (!naf)
		return;
	if (naf->own_dia && naf->dia)
		gba_dia_close(naf->dia);
	naf_http_close(naf->http);
	naf_cache_free(naf->cache);
	free(naf);
}

/* The BIA, as the caller's struct. */
static void from_answer(const struct gba_zn_answer *ans, struct gba_naf_key *out)
{
	memcpy(out->ks_naf, ans->me_key, 32);
	if (ans->has_uicc_key)
		memcpy(out->ks_int_naf, ans->uicc_key, 32);
	out->has_int_naf = ans->has_uicc_key;
	out->gba_u = ans->has_uicc_key;
	out->gba_type = ans->gba_type;
	memcpy(out->impi, ans->impi, sizeof(out->impi));
	out->expiry = ans->expiry;
	out->created = ans->created;
	out->uss_len = ans->uss_len;
	out->from_cache = 0;
}

/* A line about the BSF: through the node, or the caller's log over HTTPS. */
__attribute__((format(printf, 3, 4)))
static void say(const struct gba_naf *naf, enum gba_dia_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (naf->dia)
		gba_dia_log(naf->dia, level, "%s", line);
	else if (naf->log_level <= level && naf->log)
		naf->log(naf->log_arg, level, line);
	else if (naf->log_level <= level)
		fprintf(stderr, "libgba-naf: %s: %s\n", level >= GBA_DIA_LOG_WARN ? "warn" : "info",
			line);
}

#define warn(naf, ...) say(naf, GBA_DIA_LOG_WARN, __VA_ARGS__)

static gba_err ask_bsf(struct gba_naf *naf, const char *btid, const char *realm,
		       const uint8_t *naf_id, size_t naf_id_len, struct gba_naf_key *out)
{
	struct gba_zn_request req = {
		.btid = btid,
		.naf_id = naf_id,
		.naf_id_len = naf_id_len,
		.dest_realm = realm,
		.dest_host = naf->bsf_identity,
		.gba_u_aware = naf->gba_u_aware,
		.gaa_service_id = naf->has_service_id ? naf->gaa_service_id : NULL,
	};
	struct gba_zn_answer ans;
	gba_err err;

	atomic_fetch_add(&naf->birs, 1);
	if (naf->http) {
		int version = 0;
		err = naf_http_fetch(naf->http, btid, naf_id, naf_id_len, out, &version);
		/* Which HTTP the BSF answers over: said once, and again if it changes. */
		if (version && atomic_exchange(&naf->http_version, version) != version)
			say(naf, GBA_DIA_LOG_INFO, "Zn: Nbsp_GBA answers from %s over HTTP/%s",
			    naf->bsf_identity, version == 20 ? "2" : version == 11 ? "1.1" : "1.0");
		if (err && err != GBA_ERR_NOT_FOUND && err != GBA_ERR_NOT_AUTHORIZED)
			warn(naf, "Zn request to %s: %s", naf->bsf_identity, gba_strerror(err));
		return err;
	}
	err = gba_zn_bir_call(naf->dia, &req, naf->timeout_ms, &ans, out->uss, sizeof(out->uss));
	if (!err)
		from_answer(&ans, out);
	else if (err != GBA_ERR_NOT_FOUND && err != GBA_ERR_NOT_AUTHORIZED) {
		uint32_t code = gba_dia_result_value(&ans.result);
		warn(naf, "BIR to %s: %s%s%s", naf->bsf_identity, gba_strerror(err),
		     code ? ", result " : "", code ? gba_dia_result_name(code) : "");
	}
	gba_wipe(&ans, sizeof(ans));
	return err;
}

/* The B-TID's domain as a NUL-terminated realm; GBA_ERR_INVALID_ARG if it is no B-TID. */
static gba_err realm_of(const char *btid, size_t btid_len, char *realm, size_t size)
{
	uint8_t rand[16];
	const char *domain = NULL;
	size_t domain_len = 0;
	gba_err err = gba_btid_parse(btid, btid_len, rand, &domain, &domain_len);

	gba_wipe(rand, sizeof(rand));
	if (err || !domain_len || domain_len >= size)
		return GBA_ERR_INVALID_ARG;
	memcpy(realm, domain, domain_len);
	realm[domain_len] = '\0';
	return GBA_OK;
}

static gba_err fetch(struct gba_naf *naf, const char *btid, const uint8_t *naf_id,
		     size_t naf_id_len, struct gba_naf_key *out)
{
	char realm[256];
	size_t btid_len = strnlen(btid, GBA_BTID_MAX + 1);
	gba_err err;

	if (btid_len == 0 || btid_len > GBA_BTID_MAX || naf_id_len < 6 ||
	    naf_id_len > GBA_NAF_ID_MAX)
		return GBA_ERR_INVALID_ARG;
	err = realm_of(btid, btid_len, realm, sizeof(realm));
	if (err)
		return err;
	if (naf->cache && naf_cache_get(naf->cache, btid, naf_id, naf_id_len, time(NULL), out)) {
		atomic_fetch_add(&naf->hits, 1);
		return GBA_OK;
	}
	err = ask_bsf(naf, btid, realm, naf_id, naf_id_len, out);
	if (!err && naf->cache)
		naf_cache_put(naf->cache, btid, naf_id, naf_id_len, out);
	return err;
}

gba_err gba_naf_fetch_key(struct gba_naf *naf, const char *btid,
			  const uint8_t *naf_id, size_t naf_id_len, struct gba_naf_key *out)
{
	gba_err err;

	if (!out)
		return GBA_ERR_INVALID_ARG;
	/* Only the small part: uss is filled up to uss_len and NUL-terminated. */
	memset(out, 0, offsetof(struct gba_naf_key, uss) + 1);
	out->gba_type = -1;
	if (!naf || !btid || !naf_id)
		return GBA_ERR_INVALID_ARG;
	atomic_fetch_add(&naf->fetches, 1);
	err = fetch(naf, btid, naf_id, naf_id_len, out);
	if (err) {
		atomic_fetch_add(&naf->errors, 1);
		gba_naf_key_wipe(out);
		out->gba_type = -1;
	}
	return err;
}

void gba_naf_forget(struct gba_naf *naf, const char *btid)
{
	if (naf && naf->cache && btid)
		naf_cache_forget(naf->cache, btid, NULL);
}

void gba_naf_forget_impi(struct gba_naf *naf, const char *impi)
{
	if (naf && naf->cache && impi)
		naf_cache_forget(naf->cache, NULL, impi);
}

void gba_naf_get_stats(struct gba_naf *naf, struct gba_naf_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!naf)
		return;
	out->fetches = atomic_load(&naf->fetches);
	out->cache_hits = atomic_load(&naf->hits);
	out->birs = atomic_load(&naf->birs);
	out->errors = atomic_load(&naf->errors);
	out->cached = naf->cache ? naf_cache_count(naf->cache) : 0;
}

struct gba_dia *gba_naf_dia(struct gba_naf *naf)
{
	return naf ? naf->dia : NULL;
}
