/*
 * cmd_m2m.c - the oneM2M subcommands of gba-client, toward gba-naf (the
 * MAF; docs/naf.md) with client/m2m:
 *
 *   gba-client m2m-enrol   --naf FQDN [-o via=tls|digest] [-o naf-addr=HOST:PORT]
 *                          [-o psk-identity=dot|comma|bare] [-o tls-priorities=GNUTLS]
 *   gba-client m2m-session --naf FQDN -o target=CSE-ID [-o suid=S] [-o lifetime=SECONDS]
 *                          [-o naf-addr=HOST:PORT]
 *
 * m2m-enrol bootstraps if needed, runs Ua (TLS-PSK by default, or Digest),
 * derives Km = Ks_(ext)_NAF for NAF_Id = FQDN || Ua id and prints the KmID
 * and Km's check value.  Over TLS-PSK the Ua id is the one of the handshake
 * (TLS 1.3: 01 00 00 00 07; TLS 1.2: 01 00 01 + the suite negotiated),
 * asked for in the handshake; TLS 1.3 and 1.2 with 0x00AE, 0x00A8 and
 * 0xC0A8 are offered unless tls-priorities says otherwise.  Over Digest
 * it is 01 00 01 00 AE.  -o km-ua-id fixes it for both.  m2m-session
 * registers a session key for a target over TLS-PSK keyed with Km and
 * prints its key id and Kc's check value.  Keys only with --show-key.  An
 * unknown or expired B-TID at the BSF (the NAF says so) makes it bootstrap
 * again once.  naf-addr defaults to FQDN:8443 (TLS) or FQDN:8090 (Digest).
 * The TLS-PSK identity is "3GPP-bootstrapping." + B-TID (TS 36.508 Table
 * 4.7H-5) unless psk-identity says "comma" (',' instead of '.') or "bare"
 * (the B-TID alone, oneM2M's KmID).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "cmd.h"

struct m2m_run {
	const struct cmd_opts *o;
	struct cmd_session *s;
	const char *fqdn;
	char host[256];
	struct gba_m2m_peer peer;
	uint8_t km_ua_id[5];       /* Km's Ua id: the last one derived */
	int fixed_ua;              /* -o km-ua-id: every handshake gets that one */
	int digest;
	const char *psk_prefix;    /* before the B-TID in the PSK identity */
	const char *priorities;    /* -o tls-priorities, NULL: GBA_M2M_UA_PRIORITIES */
	char identity[GBA_BTID_MAX + 32];
	uint8_t km[32];            /* secret: the key of the last handshake */
	struct gba_m2m_tls_info tls;
};

/* The PSK identity for btid, in m->identity. */
static const char *psk_identity(struct m2m_run *m, const char *btid)
{
	snprintf(m->identity, sizeof(m->identity), "%s%s", m->psk_prefix, btid);
	return m->identity;
}

static int setup(struct m2m_run *m, const struct cmd_opts *o, const char *cmd)
{
	const char *via = cmd_opt(o, "via"), *addr = cmd_opt(o, "naf-addr");
	const char *ua = cmd_opt(o, "km-ua-id"), *form = cmd_opt(o, "psk-identity");
	m->o = o;
	m->psk_prefix = !form || !strcmp(form, "dot") ? "3GPP-bootstrapping."
			: !strcmp(form, "comma") ? "3GPP-bootstrapping," : !strcmp(form, "bare") ? ""
			: NULL;
	if (!m->psk_prefix) {
		fprintf(stderr, "gba-client: -o psk-identity=dot|comma|bare\n");
		return -1;
	}
	m->fqdn = o->naf_fqdn ? o->naf_fqdn : (o->argc > 0 ? o->argv[0] : NULL);
	m->digest = via && !strcmp(via, "digest");
	m->priorities = cmd_opt(o, "tls-priorities");
	m->fixed_ua = ua != NULL;
	memcpy(m->km_ua_id, GBA_UA_TLS12_PSK_AES128_CBC_SHA256, 5);
	if (!m->fqdn || (via && strcmp(via, "digest") && strcmp(via, "tls")) ||
	    (ua && cmd_parse_ua_id(ua, m->km_ua_id))) {
		fprintf(stderr, "gba-client: %s needs --naf FQDN; -o via=tls|digest; "
				"-o km-ua-id=10 hex digits\n", cmd);
		return -1;
	}
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	if (addr && (!colon || (size_t)(colon - addr) >= sizeof(m->host) || atoi(colon + 1) <= 0)) {
		fprintf(stderr, "gba-client: -o naf-addr=HOST:PORT\n");
		return -1;
	}
	snprintf(m->host, sizeof(m->host), "%.*s", addr ? (int)(colon - addr) : 255,
		 addr ? addr : m->fqdn);
	m->peer.host = m->host;
	m->peer.port = addr ? (unsigned)atoi(colon + 1) : (m->digest ? 8090u : 8443u);
	m->peer.timeout_ms = (int)o->timeout_ms;
	return 0;
}

/* Exit code for a client/m2m failure, after a clear message. */
static int m2m_fail(const struct cmd_opts *o, gba_err err, const struct gba_m2m_response *r)
{
	fprintf(stderr, "gba-client: NAF: %s\n", r->error[0] ? r->error : gba_strerror(err));
	if (o->json)
		printf("{\"result\":\"error\",\"error\":\"%s\",\"status\":%d}\n", gba_err_name(err),
		       r->status);
	switch (err) {
	case GBA_ERR_TIMEOUT: return EXIT_TIMEOUT;
	case GBA_ERR_UNAVAILABLE: return EXIT_NETWORK;
	case GBA_ERR_AUTH_FAILED: case GBA_ERR_NOT_AUTHORIZED: case GBA_ERR_NOT_FOUND:
		return EXIT_AUTH;
	default: return EXIT_INTERNAL;
	}
}

/*
 * Km for the Ua id GnuTLS's handshake needs (client/m2m asks once for a
 * TLS 1.3 ClientHello and again if the server answers with TLS 1.2): the
 * last one asked for is the key used, kept in m->km; an earlier one is
 * wiped as it is replaced.
 */
static int km_for_handshake(void *arg, const uint8_t ua_id[5], uint8_t km[32])
{
	struct m2m_run *m = arg;
	char hex[11];
	if (!m->fixed_ua)
		memcpy(m->km_ua_id, ua_id, 5);
	gba_wipe(m->km, sizeof(m->km));
	if (cmd_naf_key(m->s, m->fqdn, m->km_ua_id, m->km))
		return -1;
	memcpy(km, m->km, 32);
	if (m->o->trace) {
		gba_hex_encode(hex, sizeof(hex), m->km_ua_id, 5);
		fprintf(stderr, "gba-client: trace: Ua TLS-PSK: the handshake asks for Km of "
				"Ua id %s\n", hex);
	}
	return 0;
}

/* The TLS client of a run, its key following the handshake. */
static struct gba_m2m_psk run_psk(struct m2m_run *m, const char *btid)
{
	struct gba_m2m_psk p = { psk_identity(m, btid), km_for_handshake, m, m->priorities };
	return p;
}

/* --trace: what the handshake negotiated, and which Km it used. */
static void trace_tls(const struct m2m_run *m)
{
	char hex[11];
	if (!m->o->trace)
		return;
	gba_hex_encode(hex, sizeof(hex), m->tls.ua_id, 5);
	fprintf(stderr, "gba-client: trace: Ua TLS-PSK: %s, %s, psk_identity %s, Km's Ua id %s\n",
		m->tls.version, m->tls.suite, m->identity, hex);
}

/* One Ua enrolment with the current context; Km in m->km. */
static gba_err enrol_once(struct m2m_run *m, struct cmd_session *s, struct gba_m2m_response *r)
{
	uint8_t ks_naf[32];
	m->s = s;
	if (!m->digest) {
		struct gba_m2m_psk p = run_psk(m, s->ctx.btid);
		gba_err err = gba_m2m_enrol_ua(&m->peer, m->fqdn, &p, &m->tls, r);
		if (!err)
			trace_tls(m);
		if (!err && !m->fixed_ua && memcmp(m->tls.ua_id, m->km_ua_id, 5)) {
			snprintf(r->error, sizeof(r->error), "the handshake used a Km of another Ua id");
			err = GBA_ERR_UNSUPPORTED;
		}
		return err;
	}
	gba_client_err cerr = cmd_naf_key(s, m->fqdn, m->km_ua_id, m->km);
	if (cerr) {
		snprintf(r->error, sizeof(r->error), "cannot derive Km: %.150s", s->msg);
		return GBA_ERR_INVALID_ARG;
	}
	cerr = cmd_naf_key(s, m->fqdn, GBA_UA_HTTP_DIGEST, ks_naf);
	gba_err err = cerr ? GBA_ERR_INVALID_ARG
			   : gba_m2m_digest_request(&m->peer, m->fqdn, s->ctx.btid, ks_naf, 0,
						    "POST", "/m2m/enrol", "{}", 2, r);
	gba_wipe(ks_naf, sizeof(ks_naf));
	return err;
}

/*
 * Enrol; when the NAF reports the B-TID unknown (5403) or refuses the PSK
 * handshake of a context that may be stale, bootstrap again and retry once.
 */
static gba_err enrol(struct m2m_run *m, struct cmd_session *s, struct gba_m2m_response *r)
{
	gba_err err = enrol_once(m, s, r);
	int stale = err == GBA_ERR_NOT_FOUND || (!m->digest && err == GBA_ERR_AUTH_FAILED);
	if (stale && !s->bootstrapped) {
		if (cmd_get_context(s, 1))
			return err;
		err = enrol_once(m, s, r);
	}
	return err;
}

/* What the TLS-PSK handshake negotiated (nothing over Digest). */
static void out_tls(struct cmd_out *w, const struct m2m_run *m)
{
	if (m->digest)
		return;
	out_str(w, "tls_version", m->tls.version);
	out_str(w, "tls_suite", m->tls.suite);
}

static void out_answer(struct cmd_out *w, const struct gba_m2m_response *r, const char *name,
		       const char *as)
{
	char v[GBA_M2M_FIELD_MAX + 1];
	if (!gba_m2m_json_get(r, name, v, sizeof(v)))
		out_str(w, as, v);
}

int cmd_m2m_enrol(const struct cmd_opts *o)
{
	struct m2m_run m = { 0 };
	struct cmd_session s;
	struct cmd_out w;
	int rc = EXIT_OK_;
	if (setup(&m, o, "m2m-enrol"))
		return EXIT_USAGE;
	struct gba_m2m_response *r = calloc(1, sizeof(*r));
	if (!r)
		return EXIT_INTERNAL;
	cmd_session_init(&s, o);
	gba_client_err cerr = cmd_get_context(&s, o->force);
	gba_err err = cerr ? GBA_OK : enrol(&m, &s, r);
	if (cerr) {
		rc = cmd_fail(o, cerr, s.msg);
	} else if (err) {
		rc = m2m_fail(o, err, r);
	} else {
		out_begin(&w, o);
		out_str(&w, "naf", m.fqdn);
		out_str(&w, "ua", m.digest ? "http-digest" : "tls-psk");
		out_bool(&w, "bootstrapped", s.bootstrapped);
		out_str(&w, "btid", s.ctx.btid);
		out_answer(&w, r, "kmid", "kmid");
		out_answer(&w, r, "node_id", "node_id");
		out_answer(&w, r, "expires", "km_expires");
		out_tls(&w, &m);
		out_hex(&w, "km_ua_id", m.km_ua_id, 5);
		out_answer(&w, r, "ua_id", "km_ua_id_naf");
		out_key(&w, o, "km", m.km, sizeof(m.km));
		out_answer(&w, r, "km_kcv", "km_kcv_naf");
		out_end(&w);
	}
	gba_wipe(m.km, sizeof(m.km));
	cmd_session_close(&s);
	free(r);
	return rc;
}

int cmd_m2m_session(const struct cmd_opts *o)
{
	struct m2m_run m = { 0 };
	struct cmd_session s;
	struct cmd_out w;
	struct gba_m2m_key_answer a = { 0 };
	struct gba_m2m_psk p;
	int rc = EXIT_OK_;
	const char *target = cmd_opt(o, "target"), *life = cmd_opt(o, "lifetime");
	if (setup(&m, o, "m2m-session") || m.digest || !target) {
		fprintf(stderr, "gba-client: m2m-session needs --naf FQDN and -o target=CSE-ID "
				"(over TLS-PSK)\n");
		return EXIT_USAGE;
	}
	struct gba_m2m_key_request req = { cmd_opt(o, "suid") ? cmd_opt(o, "suid") : "22", target,
					   life ? (unsigned)strtoul(life, NULL, 10) : 0 };
	struct gba_m2m_response *r = calloc(1, sizeof(*r));
	if (!r)
		return EXIT_INTERNAL;
	cmd_session_init(&s, o);
	gba_client_err cerr = cmd_get_context(&s, o->force);
	/* Registration needs an enrolment: enrol (cheap when done) first. */
	gba_err err = cerr ? GBA_OK : enrol(&m, &s, r);
	if (!cerr && !err) {
		p = run_psk(&m, s.ctx.btid);
		err = gba_m2m_register_key_ua(&m.peer, m.fqdn, &p, &req, &a, &m.tls, r);
		if (!err)
			trace_tls(&m);
	}
	if (cerr) {
		rc = cmd_fail(o, cerr, s.msg);
	} else if (err) {
		rc = m2m_fail(o, err, r);
	} else {
		out_begin(&w, o);
		out_str(&w, "naf", m.fqdn);
		out_str(&w, "btid", s.ctx.btid);
		out_str(&w, "key_id", a.key_id);
		out_str(&w, "node_id", a.node_id);
		out_str(&w, "target", target);
		out_tls(&w, &m);
		out_str(&w, "key_expires", a.expires);
		out_key(&w, o, "kc", a.kc, sizeof(a.kc));
		out_answer(&w, r, "kc_kcv", "kc_kcv_naf");
		out_end(&w);
	}
	gba_wipe(&a, sizeof(a));
	gba_wipe(m.km, sizeof(m.km));
	cmd_session_close(&s);
	free(r);
	return rc;
}
