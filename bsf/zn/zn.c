/*
 * zn.c - the BSF's BIR handler: authorise the NAF, find the session,
 * derive the NAF keys with the NAF_Id exactly as received (TS 33.220
 * 4.5.3 and 5.3.3), pick the USSs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/diameter_zn.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "zn.h"
#include "zn_policy.h"
#include "zn_uss.h"

_Static_assert(sizeof(((struct gba_zn_bia *)0)->impi) == sizeof(((struct gba_session *)0)->impi),
	       "an IMPI of the store fits the BIA");

struct zn_server {
	struct gba_session_store *store;
	struct zn_policy *policy;
	enum zn_policy_kind kind;
	struct bsf_metrics *metrics;
	const struct gba_log *log;
};

/* The NAF FQDN is the requester's bytes: printable ASCII only in the log. */
static const char *loggable(char out[256], const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 255; i++)
		out[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static gba_err refuse(struct zn_server *z, const struct gba_zn_bir *bir, const char *fqdn,
		      size_t fqdn_len, const char *why)
{
	char name[256];

	metrics_inc(&z->metrics->zn_not_authorized);
	gba_log_msg(z->log, GBA_LOG_WARN, "zn: BIR from %s for NAF %s, B-TID %s: 5402, %s",
		    bir->peer, loggable(name, fqdn, fqdn_len), bir->btid, why);
	return GBA_ERR_NOT_AUTHORIZED;
}

/* Ks_NAF / Ks_ext_NAF always; Ks_int_NAF for a GBA_U session asked by a
 * GBA_U-aware NAF.  A GBA_U-unaware NAF gets Ks_ext_NAF only, as its
 * Ks_NAF (TS 33.220 5.3.3): the Ua protocol then runs on the ME's key. */
static gba_err derive(const struct gba_session *s, const struct gba_zn_bir *bir,
		      struct gba_zn_bia *bia)
{
	size_t impi_len = strlen(s->impi);
	gba_err err = gba_ks_naf(s->ks, s->rand, s->impi, impi_len, bir->naf_id, bir->naf_id_len,
				 bia->me_key);

	if (!err && s->type == GBA_TYPE_U && bir->gba_u_aware) {
		err = gba_ks_int_naf(s->ks, s->rand, s->impi, impi_len, bir->naf_id,
				     bir->naf_id_len, bia->uicc_key);
		bia->has_uicc_key = !err;
	}
	return err;
}

static gba_err lookup(struct zn_server *z, const struct gba_zn_bir *bir, struct gba_session *s,
		      char *guss, size_t guss_size, size_t *guss_len)
{
	gba_err err = gba_session_store_get(z->store, bir->btid, bir->btid_len, time(NULL), s,
					    guss, guss_size, guss_len);

	if (err == GBA_ERR_NOT_FOUND || err == GBA_ERR_INVALID_ARG) {
		metrics_inc(&z->metrics->zn_unknown_btid);
		gba_log_msg(z->log, GBA_LOG_INFO, "zn: BIR from %s for B-TID %s: 5403", bir->peer,
			bir->btid);
		return GBA_ERR_NOT_FOUND;
	}
	if (err)
		gba_log_msg(z->log, GBA_LOG_ERROR, "zn: session store: %s", gba_strerror(err));
	return err;
}

static gba_err answer(struct zn_server *z, const struct gba_zn_bir *bir, const char *fqdn,
		      size_t fqdn_len, struct gba_zn_bia *bia)
{
	static __thread char guss[GBA_GUSS_MAX + 1];
	struct gba_session s;
	size_t guss_len = 0;
	unsigned matched = 0;
	gba_err err = lookup(z, bir, &s, guss, sizeof(guss), &guss_len);

	if (err)
		return err;
	err = zn_uss_select(guss, guss_len, z->policy, fqdn, fqdn_len, bir->gaa_service_id,
			    bia->uss, bia->uss_size, &bia->uss_len, &matched);
	if (err)
		gba_log_msg(z->log, GBA_LOG_WARN, "zn: the GUSS of B-TID %s: %s", bir->btid,
			gba_strerror(err));
	if (!matched && z->kind == ZN_POLICY_GUSS) {
		gba_wipe(&s, sizeof(s));
		return refuse(z, bir, fqdn, fqdn_len, "no USS of the user's GUSS for it");
	}
	if (err)
		bia->uss_len = 0;   /* zn.policy = allow: keys without USSs */
	err = derive(&s, bir, bia);
	if (!err) {
		memcpy(bia->impi, s.impi, sizeof(bia->impi));
		bia->expiry = s.expiry;
		bia->created = s.created;
		bia->gba_type = 0;   /* 3G GBA: this BSF runs UMTS AKA only */
	}
	gba_wipe(&s, sizeof(s));
	return err;
}

gba_err zn_server_answer(struct zn_server *z, const struct gba_zn_bir *bir,
			 struct gba_zn_bia *bia)
{
	/* NAF_Id = FQDN || 5-octet Ua security protocol identifier. */
	const char *fqdn = (const char *)bir->naf_id;
	size_t fqdn_len = bir->naf_id_len - GBA_UA_ID_LEN;
	gba_err err;

	metrics_inc(&z->metrics->zn_requests);
	if (memchr(fqdn, 0, fqdn_len) || !zn_policy_peer_allows(z->policy, bir->peer, fqdn, fqdn_len))
		return refuse(z, bir, fqdn, fqdn_len, "not an FQDN this peer may ask for");
	err = answer(z, bir, fqdn, fqdn_len, bia);
	if (!err)
		metrics_inc(&z->metrics->zn_keys);
	else if (err != GBA_ERR_NOT_FOUND && err != GBA_ERR_NOT_AUTHORIZED)
		metrics_inc(&z->metrics->zn_errors);
	return err;
}

static gba_err on_bir(void *arg, const struct gba_zn_bir *bir, struct gba_zn_bia *bia)
{
	return zn_server_answer(arg, bir, bia);
}

int zn_server_open(struct zn_server **out, struct gba_dia *dia, const struct zn_server_config *cfg,
		   struct gba_session_store *store, struct bsf_metrics *metrics,
		   const struct gba_log *log, char *err, size_t err_size)
{
	struct zn_server *z = calloc(1, sizeof(*z));
	gba_err e;

	*out = NULL;
	if (!z) {
		snprintf(err, err_size, "zn: out of memory");
		return -1;
	}
	z->store = store;
	z->kind = cfg->policy;
	z->metrics = metrics;
	z->log = log;
	if (zn_policy_parse(&z->policy, cfg->nafs, cfg->naf_groups, err, err_size)) {
		free(z);
		return -1;
	}
	e = dia ? gba_zn_server_register(dia, on_bir, z) : GBA_OK;
	if (e) {
		snprintf(err, err_size, "zn: cannot register the BIR handler: %s", gba_strerror(e));
		zn_server_free(z);
		return -1;
	}
	*out = z;
	return 0;
}

void zn_server_free(struct zn_server *z)
{
	if (!z)
		return;
	zn_policy_free(z->policy);
	free(z);
}
