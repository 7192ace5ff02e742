/*
 * service.h - what gba-naf does, apart from HTTP: get keys over Zn, enrol
 * nodes (Km), register and hand out session keys (Kc), revoke.  The Ua
 * front ends (ua_digest.c, ua_tls.c) and the admin port call these after
 * they have authenticated the caller.
 */
#ifndef GBA_NAF_SERVICE_H
#define GBA_NAF_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>
#include <gba/naf.h>

#include "config.h"
#include "keystore.h"
#include "naf_metrics.h"
#include "nonces.h"
#include "request.h"

struct ua_server;

struct naf_svc {
	const struct naf_config *cfg;
	struct ua_server *ua_digest, *ua_tls;    /* the Ua ports (NULL when off), for stats */
	struct keystore *ks;
	struct nonces *nonces;
	struct gba_naf *zn;
	uint8_t naf_id_digest[GBA_NAF_ID_MAX];   /* FQDN || 01 00 00 00 02 */
	size_t naf_id_digest_len;
	uint8_t naf_id_km[GBA_NAF_ID_MAX];       /* FQDN || the configured Ua id */
	size_t naf_id_km_len;
	atomic_int store_down;   /* the key store refuses writes (logged once) */
	struct naf_metrics metrics;   /* /metrics on the admin port */
};

/* Map a Zn (or store) error to what the caller is told. */
struct svc_error svc_zn_error(gba_err err);

/*
 * What the caller is told when the key store failed a write: 503 with
 * Retry-After when it cannot write now (disk full: nothing was stored, so
 * nothing is acknowledged), else 500.  The start and the end of such an
 * outage are logged once (svc_store_result).
 */
struct svc_error svc_store_error(gba_err err);

/* After every key store write: notes the start or end of an outage. */
void svc_store_result(struct naf_svc *s, gba_err err);

/*
 * Ks_NAF for Digest Ua (NAF_Id = FQDN || 01 00 00 00 02): Ks_(ext)_NAF, or
 * Ks_int_NAF when uicc.  GBA_ERR_NOT_FOUND when the BSF has no such B-TID
 * (5403) or the BIA has no Ks_int_NAF for a uicc realm.
 */
gba_err svc_digest_key(struct naf_svc *s, const char *btid, int uicc, uint8_t out[32]);

/*
 * Km and what Zn says about the node (NAF_Id = FQDN || ua_id, the Ua
 * security protocol id of the handshake that delivers it; NULL: ua.ua_id):
 * key->ks_naf is Km (or key->ks_int_naf with uicc).  Refuses a revoked
 * node with GBA_ERR_NOT_AUTHORIZED.  node_id receives the node's
 * CSE-ID/AE-ID.
 */
gba_err svc_node_key(struct naf_svc *s, const char *btid, const uint8_t *ua_id,
		     struct gba_naf_key *key, char node_id[KS_ID_MAX + 1]);

/* The PSK a target CSE was configured with.  GBA_ERR_NOT_FOUND when none. */
gba_err svc_target_psk(struct naf_svc *s, const char *cse_id, uint8_t *out, size_t out_size,
		       size_t *out_len);

/*
 * Enrol the node holding btid (already authenticated by Ua): record it in
 * the key store and write the JSON answer (KmID, expiry, identities,
 * Km's check value and the Ua id of its NAF_Id; never Km) into json.
 * ua_id as for svc_node_key.
 */
gba_err svc_enrol(struct naf_svc *s, const char *btid, const uint8_t *ua_id, int uicc,
		  char *json, size_t json_size, struct svc_error *e);

/*
 * MAF Key Registration: the node holding btid registers kc (from the
 * exporter of its TLS session) with the request body.  JSON answer in json.
 */
gba_err svc_register_key(struct naf_svc *s, const char *btid, int uicc, const uint8_t kc[32],
			 const char *body, size_t body_len, char *json, size_t json_size,
			 struct svc_error *e);

/* MAF Key Retrieval by target cse_id.  JSON answer (with Kc) in json. */
gba_err svc_retrieve_key(struct naf_svc *s, const char *cse_id, const char *key_id,
			 char *json, size_t json_size, struct svc_error *e);

/* Revoke a node by KmID, IMPI or node id; JSON summary in json. */
gba_err svc_revoke(struct naf_svc *s, const char *who, char *json, size_t json_size);

#endif /* GBA_NAF_SERVICE_H */
