/*
 * ua_tls.c - Ua over TLS-PSK (TS 33.222, RFC 4279; oneM2M TS-0003 8.3.2.3)
 * and the key API it carries:
 *
 *   POST /m2m/enrol        a node (psk_identity = KmID)    -> KmID, expiry, ids
 *   POST /m2m/keys         a node: MAF Key Registration   -> key id, expiry
 *   GET  /m2m/keys/<id>    a target CSE: MAF Key Retrieval -> Kc, node id
 *
 * A node's PSK is Km = Ks_(ext)_NAF for NAF_Id = FQDN || the Ua security
 * protocol id of this very handshake (TS 33.220 H.3: 01 00 01 + the TLS 1.2
 * cipher suite actually negotiated; TS 33.222 5.4.0.2: 01 00 00 00 07 for
 * TLS 1.3 with an external PSK), Ks_int_NAF for the "3GPP-bootstrapping-uicc"
 * forms, fetched over Zn in the handshake once the suite is known; a
 * target's PSK is configured ([targets]).  The client must
 * send SNI = the NAF FQDN.  Kc comes from the RFC 5705 exporter of the very
 * session that carries the registration.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>

#include <gba/kdf.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "http_util.h"
#include "log.h"
#include "psk_id.h"
#include "ua.h"
#include "ua_conn.h"

#define JSON_MAX 4096
#define KEYS_PREFIX "/m2m/keys/"

static gnutls_session_t tls_of(const struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(
		(struct MHD_Connection *)c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return i ? (gnutls_session_t)i->tls_session : NULL;
}

/* TS-0003 8.3.2.3: the client sends SNI; it must name this NAF. */
static int sni_ok(const struct naf_svc *s, gnutls_session_t ss)
{
	char name[256];
	size_t len = sizeof(name);
	unsigned type;
	if (!ss || gnutls_server_name_get(ss, name, &len, &type, 0) || type != GNUTLS_NAME_DNS)
		return 0;
	return len < sizeof(name) && !strcasecmp(name, s->cfg->fqdn);
}

/*
 * libmicrohttpd's PSK credentials, one per daemon (an event loop each):
 * what tells a Ua session from the process's other TLS sessions (Zn's,
 * in freeDiameter) in GnuTLS's global audit callback.
 */
#define PSK_CREDS_MAX 64
static _Atomic(void *) psk_creds[PSK_CREDS_MAX];

static int is_ua_cred(const void *cred)
{
	for (int i = 0; cred && i < PSK_CREDS_MAX; i++)
		if (atomic_load(&psk_creds[i]) == cred)
			return 1;
	return 0;
}

/* 1 when cred is new (then remembered). */
static int remember_cred(void *cred)
{
	for (int i = 0; i < PSK_CREDS_MAX; i++) {
		void *none = NULL;
		if (atomic_load(&psk_creds[i]) == cred)
			return 0;
		if (atomic_compare_exchange_strong(&psk_creds[i], &none, cred))
			return 1;
		if (none == cred)
			return 0;
	}
	return 0;
}

/*
 * GnuTLS reports a record it could not decrypt here (the client's
 * Finished under another key: a wrong PSK), and libmicrohttpd then closes
 * the failed handshake without an alert.  Send the one GnuTLS's
 * gnutls_alert_send_appropriate() would, bad_record_mac, and log it.
 */
static void on_audit(gnutls_session_t ss, const char *msg)
{
	void *cred = NULL;

	if (!ss || !strstr(msg, "invalid decryption") ||
	    gnutls_credentials_get(ss, GNUTLS_CRD_PSK, &cred) || !is_ua_cred(cred))
		return;
	nlog_info("TLS-PSK handshake failed: the client's key is not Km for this NAF_Id "
		  "(bad_record_mac sent)");
	(void)gnutls_alert_send(ss, GNUTLS_AL_FATAL, GNUTLS_A_BAD_RECORD_MAC);
}

void ua_tls_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		   enum MHD_ConnectionNotificationCode toe)
{
	static atomic_int audit_set;
	void *cred = NULL;
	(void)cls, (void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	if (!atomic_exchange(&audit_set, 1))
		gnutls_global_set_audit_log_function(on_audit);
	/*
	 * libmicrohttpd has no option for the PSK identity hint, but its PSK
	 * credentials are set on each session before the handshake: set the
	 * hint on each daemon's once, before its first ServerKeyExchange.
	 */
	gnutls_session_t ss = tls_of(c);
	if (ss && !gnutls_credentials_get(ss, GNUTLS_CRD_PSK, &cred) && cred &&
	    remember_cred(cred))
		gnutls_psk_set_server_credentials_hint(cred, GBA_M2M_PSK_HINT);
}

/*
 * The Ua security protocol id of the handshake (gnutls knows the version
 * and the suite by the time it asks for the PSK): TLS 1.3 01 00 00 00 07;
 * TLS 1.2 01 00 01 yy zz, yy zz the suite.  -1: neither.
 */
/* The connection-table entry of a session (ua_server.c's socket context). */
static struct ua_conn *conn_of(gnutls_session_t ss)
{
	struct MHD_Connection *c = ss ? gnutls_session_get_ptr(ss) : NULL;
	const union MHD_ConnectionInfo *i =
		c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	return i ? i->socket_context : NULL;
}

static int handshake_ua_id(gnutls_session_t ss, uint8_t out[5])
{
	struct ua_conn *e = conn_of(ss);
	unsigned char suite[2];

	if (!ss)
		return -1;
	if (gnutls_protocol_get_version(ss) == GNUTLS_TLS1_3) {
		memcpy(out, GBA_UA_TLS13, 5);
		return 0;
	}
	/* The suite as our ServerHello sent it (ua_server.c's hook). */
	if (!e || ua_conn_suite(e, suite))
		return -1;
	out[0] = 0x01, out[1] = 0x00, out[2] = 0x01, out[3] = suite[0], out[4] = suite[1];
	return 0;
}

static int node_psk(struct naf_svc *s, gnutls_session_t ss, const struct psk_id *id,
		    uint8_t out[32])
{
	struct gba_naf_key key;
	char node[KS_ID_MAX + 1];
	uint8_t ua[5];
	gba_err err;

	if (!ss || handshake_ua_id(ss, ua)) {
		nlog_info("TLS-PSK refused: no Ua id for the negotiated suite");
		return -1;
	}
	err = svc_node_key(s, id->name, ua, &key, node);
	if (!err && id->who == PSK_NODE_UICC && !key.has_int_naf)
		err = GBA_ERR_NOT_FOUND;
	if (!err)
		memcpy(out, id->who == PSK_NODE_UICC ? key.ks_int_naf : key.ks_naf, 32);
	gba_naf_key_wipe(&key);
	if (err)
		nlog_info("TLS-PSK: no Km for B-TID %s: %s", id->name, svc_zn_error(err).code);
	return err ? -1 : 32;
}

/*
 * No key for this identity: end the handshake with a fatal alert
 * (unknown_psk_identity, RFC 4279 2; unrecognized_name for a wrong SNI),
 * not a silent close.  It is sent
 * from here, inside the handshake, as libmicrohttpd closes a failed
 * handshake without one.  Returns -1 for the callback.
 */
static int refuse(gnutls_session_t ss, gnutls_alert_description_t alert)
{
	if (ss)
		(void)gnutls_alert_send(ss, GNUTLS_AL_FATAL, alert);
	return -1;
}

/*
 * TLS 1.3: 1 when the ClientHello's binder does not verify under key (a
 * wrong key).  GnuTLS 3.7 checks it right after this callback and fails
 * the handshake with GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER but sends no
 * alert (GnuTLS never does; the application would call
 * gnutls_alert_send_appropriate, which libmicrohttpd does not, and it
 * would say illegal_parameter), so the check is made here, first, to end
 * with decrypt_error as RFC 8446 6.2 asks for a binder.
 */
static int wrong_binder(gnutls_session_t ss, const uint8_t *key, size_t len)
{
	return ss && gnutls_protocol_get_version(ss) == GNUTLS_TLS1_3 &&
	       ua_conn_binder_ok(conn_of(ss), key, len) == 0;
}

int ua_tls_psk(void *cls, const struct MHD_Connection *c, const char *username,
	       void **psk, size_t *psk_size)
{
	struct naf_svc *s = cls;
	uint8_t key[64];
	size_t len = 0;
	int n = -1;
	enum naf_psk_refusal why = NAF_PSK_BAD_IDENTITY;
	if (!sni_ok(s, tls_of(c))) {
		nlog_info("TLS-PSK refused: no SNI, or SNI is not %s", s->cfg->fqdn);
		naf_metrics_psk_refused(&s->metrics, NAF_PSK_SNI);
		return refuse(tls_of(c), GNUTLS_A_UNRECOGNIZED_NAME);
	}
	struct psk_id id = psk_id_parse(username);
	if (id.who == PSK_NODE || id.who == PSK_NODE_UICC) {
		n = node_psk(s, tls_of(c), &id, key);
		why = NAF_PSK_NO_KEY;
	} else if (id.who == PSK_TARGET) {
		n = svc_target_psk(s, id.name, key, sizeof(key), &len) ? -1 : (int)len;
		if (n < 0)
			nlog_info("TLS-PSK refused: %s is not a configured target", id.name);
		why = NAF_PSK_NOT_TARGET;
	} else {
		nlog_info("TLS-PSK refused: bad psk_identity (%s)", id.why);
	}
	if (n < 0) {
		naf_metrics_psk_refused(&s->metrics, why);
		return refuse(tls_of(c), GNUTLS_A_UNKNOWN_PSK_IDENTITY);
	}
	if (wrong_binder(tls_of(c), key, (size_t)n)) {
		gba_wipe(key, sizeof(key));
		naf_metrics_psk_refused(&s->metrics, NAF_PSK_WRONG_BINDER);
		nlog_info("TLS-PSK handshake failed: the client's TLS 1.3 binder does not verify "
			  "under %s (decrypt_error sent)",
			  id.who == PSK_TARGET ? "the target's PSK" : "Km for this NAF_Id");
		return refuse(tls_of(c), GNUTLS_A_DECRYPT_ERROR);
	}
	/* libmicrohttpd copies it into GnuTLS's own buffer and frees ours. */
	*psk = malloc((size_t)n);
	if (*psk)
		memcpy(*psk, key, (size_t)n);
	*psk_size = (size_t)n;
	gba_wipe(key, sizeof(key));
	return *psk ? 0 : -1;
}

/* The Ua protocol of the connection's handshake (the metrics' ua label). */
static enum naf_ua ua_of(gnutls_session_t ss)
{
	return ss && gnutls_protocol_get_version(ss) == GNUTLS_TLS1_3 ? NAF_UA_TLS13 : NAF_UA_TLS12;
}

/* Count the answer to a TLS-PSK Ua request (result "ok" or its error
 * code), and return it. */
static enum MHD_Result counted(struct naf_svc *s, gnutls_session_t ss, enum naf_request req,
			       const char *result, enum MHD_Result rc)
{
	naf_metrics_ua(&s->metrics, ua_of(ss), req, result);
	return rc;
}

static enum MHD_Result register_key(struct naf_svc *s, struct MHD_Connection *c,
				    gnutls_session_t ss, const struct psk_id *id,
				    const struct req *rq)
{
	uint8_t out[GBA_M2M_EXPORTER_LEN];
	char json[JSON_MAX];
	struct svc_error e;
	if (gnutls_prf_rfc5705(ss, strlen(GBA_M2M_EXPORTER_LABEL), GBA_M2M_EXPORTER_LABEL, 0, NULL,
			       sizeof(out), (char *)out) < 0) {
		e = (struct svc_error){ 500, "exporter", "the TLS exporter failed" };
		return counted(s, ss, NAF_REQ_REGISTER, e.code, reply_error(c, &e));
	}
	/* Kc: the 32 least significant (last) octets of the 48. */
	gba_err err = svc_register_key(s, id->name, id->who == PSK_NODE_UICC,
				       out + GBA_M2M_EXPORTER_LEN - GBA_M2M_KC_LEN, rq->body,
				       rq->len, json, sizeof(json), &e);
	gba_wipe(out, sizeof(out));
	return counted(s, ss, NAF_REQ_REGISTER, err ? e.code : "ok",
		       err ? reply_error(c, &e) : reply_json(c, MHD_HTTP_CREATED, json, NULL));
}

/* Which TLS the enrolment came over: the version, the suite, Km's Ua id. */
static void log_handshake(gnutls_session_t ss, const uint8_t ua[5], const char *btid)
{
	char hex[11];
	const char *suite = gnutls_ciphersuite_get(ss);

	gba_hex_encode(hex, sizeof(hex), ua, 5);
	nlog_info("TLS-PSK Ua: KmID %s over %s, %s, Km's Ua id %s", btid,
		  gnutls_protocol_get_name(gnutls_protocol_get_version(ss)),
		  suite ? suite : "?", hex);
}

static enum MHD_Result route(struct naf_svc *s, struct MHD_Connection *c, const char *url,
			     const char *method, gnutls_session_t ss, const struct req *rq)
{
	char json[JSON_MAX];
	struct svc_error e = { 404, "not_found", "no such resource" };
	const char *user = gnutls_psk_server_get_username(ss);
	struct psk_id id = psk_id_parse(user);
	int node = id.who == PSK_NODE || id.who == PSK_NODE_UICC;
	enum MHD_Result rc;
	enum naf_request req = NAF_REQ_OTHER;
	uint8_t ua[5];
	if (!strcmp(url, "/m2m/enrol") && !strcmp(method, "POST")) {
		req = NAF_REQ_ENROL;
		if (!node)
			e = (struct svc_error){ 403, "not_a_node", "only a node enrols" };
		else if (handshake_ua_id(ss, ua))
			e = (struct svc_error){ 500, "internal", "the suite has no Ua id" };
		else if (!svc_enrol(s, id.name, ua, id.who == PSK_NODE_UICC, json, sizeof(json), &e)) {
			log_handshake(ss, ua, id.name);
			return counted(s, ss, req, "ok", reply_json(c, MHD_HTTP_OK, json, NULL));
		}
	} else if (!strcmp(url, "/m2m/keys") && !strcmp(method, "POST")) {
		req = NAF_REQ_REGISTER;
		if (node)
			return register_key(s, c, ss, &id, rq);
		e = (struct svc_error){ 403, "not_a_node", "only a node registers keys" };
	} else if (!strncmp(url, KEYS_PREFIX, strlen(KEYS_PREFIX)) && !strcmp(method, "GET")) {
		const char *key_id = url + strlen(KEYS_PREFIX);
		req = NAF_REQ_RETRIEVE;
		if (id.who != PSK_TARGET)
			e = (struct svc_error){ 403, "not_a_target", "only a target CSE retrieves keys" };
		else if (!psk_id_valid_name(key_id, strlen(key_id), KS_ID_MAX))
			e = (struct svc_error){ 400, "bad_key_id", "malformed key id" };
		else if (!svc_retrieve_key(s, id.name, key_id, json, sizeof(json), &e)) {
			rc = reply_json(c, MHD_HTTP_OK, json, NULL);
			gba_wipe(json, sizeof(json));
			return counted(s, ss, req, "ok", rc);
		}
	}
	return counted(s, ss, req, e.code, reply_error(c, &e));
}

enum MHD_Result ua_tls_handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload, size_t *upload_size, void **con_cls)
{
	struct naf_svc *s = cls;
	struct req *rq = NULL;
	(void)version;
	int st = req_collect(con_cls, upload, upload_size, s->cfg->max_body, &rq);
	if (st <= 0)
		return st == 0 ? MHD_YES : MHD_NO;
	gnutls_session_t ss = tls_of(c);
	struct svc_error e;
	if (!ss || !gnutls_psk_server_get_username(ss) || !sni_ok(s, ss)) {
		e = (struct svc_error){ 421, "misdirected", "TLS-PSK with SNI = the NAF FQDN required" };
		return counted(s, ss, NAF_REQ_OTHER, e.code, reply_error(c, &e));
	}
	if (rq->too_big) {
		e = (struct svc_error){ 413, "too_large", "the request body is too large" };
		return counted(s, ss, NAF_REQ_OTHER, e.code, reply_error(c, &e));
	}
	return route(s, c, url, method, ss, rq);
}
