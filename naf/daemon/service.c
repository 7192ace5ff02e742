/*
 * service.c - Km enrolment, session key registration and retrieval, and
 * revocation, on top of libgba-naf (Zn) and the key store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <jansson.h>
#include <nettle/sha2.h>

#include <gba/m2m.h>
#include <gba/util.h>

#include "log.h"
#include "psk_id.h"
#include "service.h"

#define ERR(st, c, d) ((struct svc_error){ .status = (st), .code = (c), .detail = (d) })

struct svc_error svc_zn_error(gba_err err)
{
	switch (err) {
	case GBA_ERR_NOT_FOUND:
		return ERR(401, "btid_unknown",
			   "the BSF does not know this B-TID (unknown or expired): bootstrap again");
	case GBA_ERR_NOT_AUTHORIZED:
		return ERR(403, "not_authorized",
			   "this NAF may not have keys for this subscriber, or the node is revoked");
	case GBA_ERR_TIMEOUT:
	case GBA_ERR_UNAVAILABLE:
		return ERR(503, "bsf_unavailable", "the BSF did not answer over Zn; try again later");
	case GBA_ERR_INVALID_ARG:
		return ERR(400, "bad_btid", "the B-TID is not base64(RAND)@domain");
	default:
		return ERR(500, "internal", "the key could not be obtained");
	}
}

struct svc_error svc_store_error(gba_err err)
{
	struct svc_error e = ERR(500, "store", "the key store failed");

	if (err == GBA_ERR_STORE_UNWRITABLE) {
		e = ERR(503, "store_unwritable",
			"the key store cannot write (disk full, or too few Redis replicas "
			"acknowledged it); nothing was acknowledged, try again later");
	} else if (err == GBA_ERR_UNAVAILABLE || err == GBA_ERR_TIMEOUT) {
		/* Redis down, or no primary found within failover_ms. */
		e = ERR(503, "store_unavailable", "the key store is unreachable, try again later");
	}
	return e;
}

void svc_store_result(struct naf_svc *s, gba_err err)
{
	int down = err == GBA_ERR_STORE_UNWRITABLE;

	if (err)
		naf_metrics_store_failure(&s->metrics, down);
	if (err && !down)
		return;   /* another failure says nothing about the disk */
	if (atomic_load_explicit(&s->store_down, memory_order_relaxed) == down ||
	    atomic_exchange(&s->store_down, down) == down)
		return;
	if (down)
		nlog_warn("key store cannot write (disk full or write error): enrolments and "
			  "key registrations get 503 until it can");
	else
		nlog_warn("key store writes again");
}

static void format_time(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Write a JSON object into buf; -1 when it does not fit. */
static int dump(json_t *o, char *buf, size_t size)
{
	size_t n = o ? json_dumpb(o, buf, size - 1, JSON_COMPACT) : 0;
	json_decref(o);
	if (n == 0 || n >= size - 1)
		return -1;
	buf[n] = 0;
	return 0;
}

/* A key over Zn (or libgba-naf's cache), counted by result. */
static gba_err fetch_key(struct naf_svc *s, const char *btid, const uint8_t *naf_id,
			 size_t naf_id_len, struct gba_naf_key *key)
{
	gba_err err = gba_naf_fetch_key(s->zn, btid, naf_id, naf_id_len, key);

	naf_metrics_zn(&s->metrics, err);
	return err;
}

gba_err svc_digest_key(struct naf_svc *s, const char *btid, int uicc, uint8_t out[32])
{
	struct gba_naf_key key;
	gba_err err = fetch_key(s, btid, s->naf_id_digest, s->naf_id_digest_len, &key);
	if (!err && uicc && !key.has_int_naf)
		err = GBA_ERR_NOT_FOUND;
	if (!err)
		memcpy(out, uicc ? key.ks_int_naf : key.ks_naf, 32);
	gba_naf_key_wipe(&key);
	return err;
}

/* The node id: from the USS, else [nodes] by IMPI, else prefix + hash(IMPI). */
static void node_id_for(struct naf_svc *s, const struct gba_naf_key *key,
			char out[KS_ID_MAX + 1])
{
	svc_uss_node_id(key->uss, key->uss_len, out);
	if (out[0])
		return;
	const char *v = ncfg_map_get(&s->cfg->nodes, key->impi);
	if (v) {
		snprintf(out, KS_ID_MAX + 1, "%s", v);
		return;
	}
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[17];
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, strlen(key->impi), (const uint8_t *)key->impi);
	sha256_digest(&c, sizeof(d), d);
	gba_hex_encode(hex, sizeof(hex), d, 8);
	/* The prefix is short (config): a cut would still be unique enough. */
	if (snprintf(out, KS_ID_MAX + 1, "%s%s", s->cfg->node_id_prefix, hex) > KS_ID_MAX)
		out[KS_ID_MAX] = 0;
}

gba_err svc_node_key(struct naf_svc *s, const char *btid, const uint8_t *ua_id,
		     struct gba_naf_key *key, char node_id[KS_ID_MAX + 1])
{
	uint8_t naf_id[GBA_NAF_ID_MAX];
	size_t len = s->naf_id_km_len;
	gba_err err;

	/* NAF_Id = FQDN || the Ua id: the configured one's last 5 octets replaced. */
	memcpy(naf_id, s->naf_id_km, len);
	if (ua_id)
		memcpy(naf_id + len - 5, ua_id, 5);
	err = fetch_key(s, btid, naf_id, len, key);
	if (err)
		return err;
	node_id_for(s, key, node_id);
	if (ks_is_revoked(s->ks, key->impi, node_id)) {
		nlog_info("refused: node %s (KmID %s) is revoked", node_id, btid);
		gba_naf_key_wipe(key);
		return GBA_ERR_NOT_AUTHORIZED;
	}
	return GBA_OK;
}

gba_err svc_target_psk(struct naf_svc *s, const char *cse_id, uint8_t *out, size_t out_size,
		       size_t *out_len)
{
	const char *hex = ncfg_map_get(&s->cfg->targets, cse_id);
	if (!hex)
		return GBA_ERR_NOT_FOUND;
	return gba_hex_decode(out, out_size, out_len, hex, strlen(hex));
}

gba_err svc_enrol(struct naf_svc *s, const char *btid, const uint8_t *ua_id, int uicc,
		  char *json, size_t json_size, struct svc_error *e)
{
	struct gba_naf_key key;
	struct ks_node n = { 0 };
	char when[32], uid[KS_ID_MAX + 1];
	gba_err err = svc_node_key(s, btid, ua_id, &key, uid);
	if (err) {
		*e = svc_zn_error(err);
		return err;
	}
	snprintf(n.kmid, sizeof(n.kmid), "%s", btid);
	snprintf(n.impi, sizeof(n.impi), "%s", key.impi);
	snprintf(n.node_id, sizeof(n.node_id), "%s", uid);
	gba_kcv(n.km_kcv, uicc && key.has_int_naf ? key.ks_int_naf : key.ks_naf, 32);
	n.expires = key.expiry;
	n.enrolled = (int64_t)time(NULL);
	int gba_u = key.gba_u;
	gba_naf_key_wipe(&key);
	/* Km's enrolment is acknowledged only once it is stored. */
	err = ks_put_node(s->ks, &n);
	svc_store_result(s, err);
	if (err) {
		*e = svc_store_error(err);
		return err;
	}
	char ua[11];
	gba_hex_encode(ua, sizeof(ua), ua_id ? ua_id : s->cfg->ua_id, 5);
	format_time(n.expires, when);
	nlog_info("enrolled node %s, KmID %s, expires %s", n.node_id, n.kmid, when);
	if (dump(json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
			   "kmid", n.kmid, "expires", when, "expires_unix", (json_int_t)n.expires,
			   "node_id", n.node_id, "impi", n.impi, "maf_id", s->cfg->fqdn,
			   "ua_id", ua, "gba_type", gba_u ? "GBA_U" : "GBA_ME",
			   "km_kcv", n.km_kcv), json, json_size)) {
		*e = ERR(500, "internal", "answer too large");
		return GBA_ERR_BUFFER_TOO_SMALL;
	}
	return GBA_OK;
}

/* Policy: asked-for lifetime, at most the node's ceiling and Km's own expiry. */
static int64_t key_expiry(struct naf_svc *s, const struct ks_node *n, json_int_t asked)
{
	int64_t now = (int64_t)time(NULL);
	int64_t life = ncfg_lifetime_for(s->cfg, n->node_id);
	if (asked > 0 && asked < life)
		life = asked < s->cfg->min_key_lifetime ? s->cfg->min_key_lifetime : asked;
	int64_t t = now + life;
	return t > n->expires ? n->expires : t;
}

static gba_err store_key(struct naf_svc *s, struct ks_key *k)
{
	uint8_t rel[8];
	char hex[17];
	gba_err err = GBA_ERR_EXISTS;
	for (int tries = 0; tries < 4 && err == GBA_ERR_EXISTS; tries++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rel, sizeof(rel)))
			return GBA_ERR_UNAVAILABLE;
		gba_hex_encode(hex, sizeof(hex), rel, sizeof(rel));
		if (snprintf(k->key_id, sizeof(k->key_id), "%s@%s", hex, s->cfg->fqdn) >=
		    (int)sizeof(k->key_id))
			return GBA_ERR_TOO_LARGE;
		err = ks_put_key(s->ks, k);
	}
	return err;
}

gba_err svc_register_key(struct naf_svc *s, const char *btid, int uicc, const uint8_t kc[32],
			 const char *body, size_t body_len, char *json, size_t json_size,
			 struct svc_error *e)
{
	const char *suid, *target;
	json_int_t asked;
	json_t *req;
	struct ks_node n;
	struct ks_key k = { 0 };
	char when[32];
	(void)uicc;
	if (svc_parse_registration(body, body_len, &suid, &target, &asked, &req, e)) {
		json_decref(req);
		return GBA_ERR_PARSE;
	}
	/* Only an enrolled, unrevoked node with a live Km registers keys. */
	gba_err err = ks_get_node(s->ks, btid, &n);
	if (err || ks_is_revoked(s->ks, n.impi, n.node_id)) {
		json_decref(req);
		*e = err == GBA_ERR_NOT_FOUND ? ERR(403, "not_enrolled", "enrol first (POST /m2m/enrol)")
					      : ERR(403, "not_authorized", "the node is revoked");
		return GBA_ERR_NOT_AUTHORIZED;
	}
	snprintf(k.kmid, sizeof(k.kmid), "%s", btid);
	snprintf(k.node_id, sizeof(k.node_id), "%s", n.node_id);
	snprintf(k.suid, sizeof(k.suid), "%s", suid);
	snprintf(k.target, sizeof(k.target), "%s", target);
	memcpy(k.kc, kc, 32);
	k.expires = key_expiry(s, &n, asked);
	char kc_kcv[GBA_M2M_KCV_LEN];
	gba_kcv(kc_kcv, kc, 32);
	json_decref(req);
	err = store_key(s, &k);
	svc_store_result(s, err);
	gba_wipe(k.kc, sizeof(k.kc));
	if (err == GBA_ERR_NOT_AUTHORIZED) {
		/* Revoked by another NAF sharing the store since the check above. */
		*e = ERR(403, "not_authorized", "the node is revoked");
		return err;
	}
	if (err) {
		*e = svc_store_error(err);
		return err;
	}
	format_time(k.expires, when);
	nlog_info("node %s registered key %s for target %s (SUID %s), expires %s", k.node_id,
		  k.key_id, k.target, k.suid, when);
	if (dump(json_pack("{s:s, s:s, s:I, s:s, s:s, s:[s], s:s}", "key_id", k.key_id,
			   "expires", when, "expires_unix", (json_int_t)k.expires,
			   "node_id", k.node_id, "suid", k.suid, "targets", k.target,
			   "kc_kcv", kc_kcv),
		 json, json_size)) {
		*e = ERR(500, "internal", "answer too large");
		return GBA_ERR_BUFFER_TOO_SMALL;
	}
	return GBA_OK;
}

gba_err svc_retrieve_key(struct naf_svc *s, const char *cse_id, const char *key_id,
			 char *json, size_t json_size, struct svc_error *e)
{
	struct ks_key k;
	char when[32], kc64[GBA_BASE64_LEN(32) + 1];
	gba_err err = ks_get_key(s->ks, key_id, (int64_t)time(NULL), &k);
	if (err) {
		*e = err == GBA_ERR_NOT_FOUND ? ERR(404, "key_unknown", "no such key, or it expired")
					      : ERR(500, "store", "the key store failed");
		return err;
	}
	/* Same answer for "not yours" whatever the key: only the target learns more. */
	if (strcmp(k.target, cse_id)) {
		gba_wipe(k.kc, sizeof(k.kc));
		nlog_info("refused: %s asked for key %s, which is for another target", cse_id,
			  key_id);
		*e = ERR(403, "not_target", "this CSE is not the key's target");
		return GBA_ERR_NOT_AUTHORIZED;
	}
	gba_base64_encode(kc64, sizeof(kc64), NULL, k.kc, sizeof(k.kc));
	gba_wipe(k.kc, sizeof(k.kc));
	format_time(k.expires, when);
	int rc = dump(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "key_id", k.key_id,
				"kc", kc64, "node_id", k.node_id, "suid", k.suid,
				"expires_unix", (json_int_t)k.expires, "expires", when),
		      json, json_size);
	gba_wipe(kc64, sizeof(kc64));
	if (rc) {
		*e = ERR(500, "internal", "answer too large");
		return GBA_ERR_BUFFER_TOO_SMALL;
	}
	nlog_info("target %s retrieved key %s of node %s", cse_id, k.key_id, k.node_id);
	return GBA_OK;
}

gba_err svc_revoke(struct naf_svc *s, const char *who, char *json, size_t json_size)
{
	char kmids[16][KS_ID_MAX + 1];
	unsigned n = 0;
	gba_err err = ks_revoke(s->ks, who, kmids, 16, &n);
	if (err)
		return err;
	json_t *list = json_array();
	for (unsigned i = 0; i < n; i++) {
		gba_naf_forget(s->zn, kmids[i]);
		json_array_append_new(list, json_string(kmids[i]));
	}
	gba_naf_forget_impi(s->zn, who);
	nlog_info("revoked %s (%u enrolment%s)", who, n, n == 1 ? "" : "s");
	return dump(json_pack("{s:s, s:o}", "revoked", who, "kmids", list), json, json_size)
		       ? GBA_ERR_BUFFER_TOO_SMALL : GBA_OK;
}
