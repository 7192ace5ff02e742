/*
 * m2m_api.c - gba-naf's JSON key API from the node and from the target:
 * enrolment over TLS-PSK, MAF key registration (Kc from the exporter of the
 * very session that carries the request) and MAF key retrieval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gba/m2m.h>
#include <gba/util.h>

#include "m2m_internal.h"

static gba_err status_error(struct gba_m2m_response *r)
{
	char what[96] = "";
	gba_m2m_json_get(r, "error", what, sizeof(what));
	m2m_seterr(r->error, sizeof(r->error), "the NAF answered %d%s%s", r->status,
		   what[0] ? ": " : "", what);
	switch (r->status) {
	case 403: return GBA_ERR_NOT_AUTHORIZED;
	case 404: case 410: return GBA_ERR_NOT_FOUND;
	case 503: return GBA_ERR_UNAVAILABLE;
	case 400: return GBA_ERR_PARSE;
	default: return GBA_ERR_AUTH_FAILED;
	}
}

/* A TLS-PSK client: a fixed key, or one following the handshake (ua). */
struct psk_src {
	const char *identity;
	const uint8_t *psk;
	size_t psk_len;
	const struct gba_m2m_psk *ua;
};

/*
 * One request on a fresh TLS-PSK session; kc (may be NULL) gets the
 * exporter, info (may be NULL) what the handshake negotiated.
 */
static gba_err psk_request(const struct gba_m2m_peer *peer, const char *fqdn,
			   const struct psk_src *k, const char *method, const char *path,
			   const char *body, uint8_t *kc, struct gba_m2m_tls_info *info,
			   struct gba_m2m_response *r)
{
	struct gba_m2m_conn *c;
	gba_err err;
	memset(r, 0, sizeof(*r));
	if (k->ua)
		err = gba_m2m_connect_ua(peer, fqdn, k->ua, &c, r->error, sizeof(r->error));
	else
		err = gba_m2m_connect_psk(peer, fqdn, k->identity, k->psk, k->psk_len, NULL, &c,
					  r->error, sizeof(r->error));
	if (err)
		return err;
	if (gba_m2m_psk_hint(c)[0] && strcmp(gba_m2m_psk_hint(c), GBA_M2M_PSK_HINT))
		fprintf(stderr, "gba-m2m: note: the server's PSK identity hint is \"%s\"\n",
			gba_m2m_psk_hint(c));
	if (info)
		gba_m2m_tls_info(c, info);
	if (kc)
		err = gba_m2m_export_kc(c, kc);
	if (!err)
		err = gba_m2m_request(c, method, path, fqdn, NULL, body, body ? strlen(body) : 0, r);
	gba_m2m_close(c);
	if (!err && r->status != 200 && r->status != 201)
		err = status_error(r);
	return err;
}

gba_err gba_m2m_enrol_psk(const struct gba_m2m_peer *peer, const char *fqdn,
			  const char *identity, const uint8_t km[32],
			  struct gba_m2m_response *r)
{
	struct psk_src k = { identity, km, 32, NULL };
	if (!peer || !fqdn || !identity || !km || !r)
		return GBA_ERR_INVALID_ARG;
	return psk_request(peer, fqdn, &k, "POST", "/m2m/enrol", "{}", NULL, NULL, r);
}

gba_err gba_m2m_enrol_ua(const struct gba_m2m_peer *peer, const char *fqdn,
			 const struct gba_m2m_psk *psk, struct gba_m2m_tls_info *info,
			 struct gba_m2m_response *r)
{
	struct psk_src k = { NULL, NULL, 0, psk };
	if (!peer || !fqdn || !psk || !r)
		return GBA_ERR_INVALID_ARG;
	return psk_request(peer, fqdn, &k, "POST", "/m2m/enrol", "{}", NULL, info, r);
}

static void take_answer(const struct gba_m2m_response *r, struct gba_m2m_key_answer *a)
{
	gba_m2m_json_get(r, "key_id", a->key_id, sizeof(a->key_id));
	gba_m2m_json_get(r, "node_id", a->node_id, sizeof(a->node_id));
	gba_m2m_json_get(r, "expires", a->expires, sizeof(a->expires));
}

static gba_err register_key(const struct gba_m2m_peer *peer, const char *fqdn,
			    const struct psk_src *k, const struct gba_m2m_key_request *req,
			    struct gba_m2m_key_answer *a, struct gba_m2m_tls_info *info,
			    struct gba_m2m_response *r)
{
	memset(a, 0, sizeof(*a));
	json_t *o = json_pack("{s:s, s:[s], s:I}", "suid", req->suid, "targets", req->target,
			      "lifetime", (json_int_t)req->lifetime);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return GBA_ERR_NO_MEMORY;
	gba_err err = psk_request(peer, fqdn, k, "POST", "/m2m/keys", body, a->kc, info, r);
	free(body);
	if (!err)
		take_answer(r, a);
	if (!err && !a->key_id[0]) {
		m2m_seterr(r->error, sizeof(r->error), "the NAF's answer has no key_id");
		err = GBA_ERR_PARSE;
	}
	if (err)
		gba_wipe(a->kc, sizeof(a->kc));
	return err;
}

gba_err gba_m2m_register_key(const struct gba_m2m_peer *peer, const char *fqdn,
			     const char *identity, const uint8_t km[32],
			     const struct gba_m2m_key_request *req,
			     struct gba_m2m_key_answer *a, struct gba_m2m_response *r)
{
	struct psk_src k = { identity, km, 32, NULL };
	if (!peer || !fqdn || !identity || !km || !req || !req->suid || !req->target || !a || !r)
		return GBA_ERR_INVALID_ARG;
	return register_key(peer, fqdn, &k, req, a, NULL, r);
}

gba_err gba_m2m_register_key_ua(const struct gba_m2m_peer *peer, const char *fqdn,
				const struct gba_m2m_psk *psk,
				const struct gba_m2m_key_request *req,
				struct gba_m2m_key_answer *a, struct gba_m2m_tls_info *info,
				struct gba_m2m_response *r)
{
	struct psk_src k = { NULL, NULL, 0, psk };
	if (!peer || !fqdn || !psk || !req || !req->suid || !req->target || !a || !r)
		return GBA_ERR_INVALID_ARG;
	return register_key(peer, fqdn, &k, req, a, info, r);
}

gba_err gba_m2m_retrieve_key(const struct gba_m2m_peer *peer, const char *fqdn,
			     const char *target_id, const uint8_t *psk, size_t psk_len,
			     const char *key_id, struct gba_m2m_key_answer *a,
			     struct gba_m2m_response *r)
{
	char identity[320], path[GBA_M2M_FIELD_MAX + 16], kc64[GBA_BASE64_LEN(32) + 8];
	size_t kc_len = 0;
	if (!peer || !fqdn || !target_id || !psk || !key_id || !a || !r)
		return GBA_ERR_INVALID_ARG;
	memset(a, 0, sizeof(*a));
	for (const char *p = key_id; *p; p++)   /* key ids are [A-Za-z0-9.-_@] */
		if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr(".-_@", *p)))
			return GBA_ERR_BAD_ENCODING;
	if (snprintf(identity, sizeof(identity), "%s%s", GBA_M2M_TARGET_IDENTITY_PREFIX,
		     target_id) >= (int)sizeof(identity) ||
	    snprintf(path, sizeof(path), "/m2m/keys/%s", key_id) >= (int)sizeof(path))
		return GBA_ERR_TOO_LARGE;
	struct psk_src k = { identity, psk, psk_len, NULL };
	gba_err err = psk_request(peer, fqdn, &k, "GET", path, NULL, NULL, NULL, r);
	if (err)
		return err;
	take_answer(r, a);
	err = gba_m2m_json_get(r, "kc", kc64, sizeof(kc64));
	if (!err)
		err = gba_base64_decode(a->kc, sizeof(a->kc), &kc_len, kc64, strlen(kc64));
	if (!err && kc_len != GBA_M2M_KC_LEN)
		err = GBA_ERR_BAD_LENGTH;
	gba_wipe(kc64, sizeof(kc64));
	/* The body carried Kc in base64: it goes too. */
	gba_wipe(r->body, sizeof(r->body));
	r->body_len = 0;
	if (err) {
		m2m_seterr(r->error, sizeof(r->error), "the NAF's answer has no valid kc");
		gba_wipe(a->kc, sizeof(a->kc));
		return GBA_ERR_PARSE;
	}
	return GBA_OK;
}
