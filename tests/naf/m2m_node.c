/*
 * m2m-node - a test node for gba-naf's end-to-end tests: it bootstraps
 * against the real BSF with the test UE's Ub client (tests/tools, a
 * software USIM from K/OPc), derives Ks_NAF / Km itself with libgba, and
 * runs Ua toward gba-naf with client/m2m.
 *
 *   m2m-node --bsf URL --impi IMPI --k-file FILE --naf-host H --fqdn F
 *            [--digest-port P] [--tls-port P] --do enrol-digest|enrol-tls|session
 *            [--target ID --suid S --lifetime N] [--identity plain|prefixed|uicc]
 *            [--fault wrong-password|wrong-psk|no-sni|bad-identity]
 *            [--wait-before-ua SECONDS] [--rebootstrap] [--show-key]
 *
 * Prints one JSON object: btid, the check values of Ks_NAF, Km and Kc, what
 * the NAF answered, and on failure the stage and a clear error.  Exit 0
 * on success, 1 on failure, 2 on usage errors.  --k-file holds k= and opc=
 * lines ('-': stdin): no key on the command line.  (gba-client m2m-* is the
 * product; this tool exists so the NAF is tested before and apart from it.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "keys.h"
#include "ub_client.h"
#include "ub_http.h"
#include "ub_net.h"
#include "gba_cli.h"

struct opts {
	const char *bsf, *impi, *k_file, *naf_host, *fqdn, *what, *target, *suid;
	uint8_t k[16], opc[16]; /* from k_file: secret */
	const char *identity, *fault, *body;
	unsigned digest_port, tls_port, lifetime, wait;
	int rebootstrap, show_key;
};

struct node {
	char btid[GBA_BTID_MAX + 1];
	uint8_t rand[16];
	uint8_t ks[32];     /* secret */
	unsigned bootstraps;
};

static void out_str(const char *name, const char *v)
{
	printf(",\"%s\":\"", name);
	for (; *v; v++)
		putchar(*v == '"' || *v == '\\' || (unsigned char)*v < 0x20 ? '?' : *v);
	putchar('"');
}

static int fail(const struct node *n, const char *stage, gba_err err,
		const struct gba_m2m_response *r)
{
	printf("{\"result\":\"error\"");
	out_str("stage", stage);
	out_str("error", gba_err_name(err));
	out_str("detail", r ? r->error : "");
	printf(",\"status\":%d,\"bootstraps\":%u", r ? r->status : 0, n->bootstraps);
	if (n->btid[0])
		out_str("btid", n->btid);
	printf("}\n");
	return 1;
}

static int bootstrap(const struct opts *o, struct node *n, char *why, size_t why_size)
{
	/* A fresh card memory per run: any SQN the HSS sends is fresh to it. */
	struct ub_session *s = calloc(1, sizeof(*s));
	int ok;

	if (!s || ub_net_bootstrap_fresh(s, o->bsf, o->impi, o->k, o->opc, 10000)) {
		snprintf(why, why_size, s ? "bad --bsf URL" : "out of memory");
		free(s);
		return -1;
	}
	ok = s->result.fail == UB_OK;
	if (ok) {
		snprintf(n->btid, sizeof(n->btid), "%s", s->info.btid);
		memcpy(n->rand, s->rand, 16);
		memcpy(n->ks, s->ks, 32);
		n->bootstraps++;
	} else {
		snprintf(why, why_size, "bootstrap failed: %s", s->result.error);
	}
	ub_session_wipe(s);
	free(s);
	return ok ? 0 : -1;
}

/* Ks_NAF for NAF_Id = FQDN || ua_id, as the node derives it from Ks. */
static void derive(const struct opts *o, const struct node *n, const uint8_t ua_id[5],
		   uint8_t out[32])
{
	uint8_t naf_id[300];
	size_t len;
	gba_naf_id(naf_id, sizeof(naf_id), &len, o->fqdn, strlen(o->fqdn), ua_id);
	gba_ks_naf(n->ks, n->rand, o->impi, strlen(o->impi), naf_id, len, out);
	if (o->fault && !strcmp(o->fault, "wrong-password") && ua_id == GBA_UA_HTTP_DIGEST)
		out[0] ^= 1;
	if (o->fault && !strcmp(o->fault, "wrong-psk") && ua_id != GBA_UA_HTTP_DIGEST)
		out[0] ^= 1;
}

static void identity_of(const struct opts *o, const struct node *n, char *out, size_t size)
{
	if (o->fault && !strcmp(o->fault, "bad-identity"))
		snprintf(out, size, "3GPP-bootstrapping,not-a-btid");
	else if (o->identity && !strcmp(o->identity, "prefixed"))
		snprintf(out, size, "3GPP-bootstrapping,%s", n->btid);
	else
		snprintf(out, size, "%s", n->btid);
}

static int run_ua(const struct opts *o, struct node *n, struct gba_m2m_response *r,
		  struct gba_m2m_key_answer *a, uint8_t km[32], gba_err *err, const char **stage)
{
	struct gba_m2m_peer dp = { o->naf_host, o->digest_port, 5000 };
	struct gba_m2m_peer tp = { o->naf_host, o->tls_port, 5000 };
	uint8_t ks_naf[32];
	char identity[400];
	if (o->fault && !strcmp(o->fault, "unknown-btid") && n->bootstraps == 1) {
		/* As if the context had expired at the BSF: a B-TID it never issued. */
		memcpy(n->btid, n->btid[0] == 'A' ? "B" : "A", 1);
	}
	derive(o, n, GBA_UA_TLS12_PSK_AES128_CBC_SHA256, km);
	identity_of(o, n, identity, sizeof(identity));
	if (!strcmp(o->what, "enrol-digest")) {
		*stage = "digest-ua";
		derive(o, n, GBA_UA_HTTP_DIGEST, ks_naf);
		*err = gba_m2m_digest_request(&dp, o->fqdn, n->btid, ks_naf, 0, "POST", "/m2m/enrol",
					      "{}", 2, r);
		gba_wipe(ks_naf, sizeof(ks_naf));
		return *err ? -1 : 0;
	}
	if (!strcmp(o->what, "raw-register")) {
		/* A hand-made registration body, for the malformed-request tests. */
		struct gba_m2m_conn *c;
		*stage = "raw-register";
		*err = gba_m2m_connect_psk(&tp, o->fqdn, identity, km, 32, NULL, &c, r->error,
					   sizeof(r->error));
		if (!*err) {
			*err = gba_m2m_request(c, "POST", "/m2m/keys", o->fqdn, NULL, o->body,
					       strlen(o->body), r);
			gba_m2m_close(c);
		}
		if (!*err && r->status != 201)
			*err = GBA_ERR_PARSE;
		return *err ? -1 : 0;
	}
	*stage = "tls-enrol";
	*err = gba_m2m_enrol_psk(&tp, o->fqdn, identity, km, r);
	if (*err || strcmp(o->what, "session"))
		return *err ? -1 : 0;
	*stage = "tls-register";
	struct gba_m2m_key_request req = { o->suid ? o->suid : "22", o->target, o->lifetime };
	*err = gba_m2m_register_key(&tp, o->fqdn, identity, km, &req, a, r);
	return *err ? -1 : 0;
}

static int report(const struct opts *o, const struct node *n, const struct gba_m2m_response *r,
		  const struct gba_m2m_key_answer *a, const uint8_t km[32])
{
	char kcv[GBA_M2M_KCV_LEN], field[GBA_M2M_FIELD_MAX + 1], hex[65];
	printf("{\"result\":\"ok\",\"status\":%d,\"bootstraps\":%u", r->status, n->bootstraps);
	out_str("btid", n->btid);
	gba_kcv(kcv, km, 32);
	out_str("km_kcv", kcv);
	const char *names[] = { "kmid", "node_id", "expires", "km_kcv_naf" };
	const char *json_names[] = { "kmid", "node_id", "expires", "km_kcv" };
	for (int i = 0; i < 4; i++)
		if (!gba_m2m_json_get(r, json_names[i], field, sizeof(field)))
			out_str(names[i], field);
	if (!strcmp(o->what, "session")) {
		out_str("key_id", a->key_id);
		out_str("key_expires", a->expires);
		gba_kcv(kcv, a->kc, sizeof(a->kc));
		out_str("kc_kcv", kcv);
		if (!gba_m2m_json_get(r, "kc_kcv", field, sizeof(field)))
			out_str("kc_kcv_naf", field);
		if (o->show_key) {
			gba_hex_encode(hex, sizeof(hex), a->kc, 32);
			out_str("kc", hex);
		}
	}
	printf("}\n");
	return 0;
}

#define REQ(name) { name, required_argument, NULL, 0 }
static const struct option m2m_opts[] = {
	REQ("bsf"), REQ("impi"), REQ("k-file"), REQ("naf-host"), REQ("fqdn"),
	REQ("digest-port"), REQ("tls-port"), REQ("do"), REQ("target"), REQ("suid"),
	REQ("lifetime"), REQ("identity"), REQ("fault"), REQ("body"), REQ("wait-before-ua"),
	{ "rebootstrap", no_argument, NULL, 0 }, { "show-key", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 },
};
#undef REQ

static const char m2m_usage[] =
	"usage: m2m-node --bsf URL --impi IMPI --k-file FILE --naf-host H --fqdn F\n"
	"                [--digest-port P] [--tls-port P] --do enrol-digest|enrol-tls|session|...\n"
	"                [--target ID --suid S --lifetime N] [--identity plain|prefixed|uicc]\n"
	"                [--fault F] [--wait-before-ua S] [--rebootstrap] [--show-key]\n"
	"Prints one JSON object; exit 0 on success, 1 on failure, 2 on bad usage.\n";

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--rebootstrap")) { o->rebootstrap = 1; continue; }
		if (!strcmp(a, "--show-key")) { o->show_key = 1; continue; }
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--bsf")) o->bsf = v;
		else if (!strcmp(a, "--impi")) o->impi = v;
		else if (!strcmp(a, "--k-file")) o->k_file = v;
		else if (!strcmp(a, "--naf-host")) o->naf_host = v;
		else if (!strcmp(a, "--fqdn")) o->fqdn = v;
		else if (!strcmp(a, "--digest-port")) o->digest_port = (unsigned)atoi(v);
		else if (!strcmp(a, "--tls-port")) o->tls_port = (unsigned)atoi(v);
		else if (!strcmp(a, "--do")) o->what = v;
		else if (!strcmp(a, "--target")) o->target = v;
		else if (!strcmp(a, "--suid")) o->suid = v;
		else if (!strcmp(a, "--lifetime")) o->lifetime = (unsigned)atoi(v);
		else if (!strcmp(a, "--identity")) o->identity = v;
		else if (!strcmp(a, "--fault")) o->fault = v;
		else if (!strcmp(a, "--body")) o->body = v;
		else if (!strcmp(a, "--wait-before-ua")) o->wait = (unsigned)atoi(v);
		else return -1;
	}
	if (!o->bsf || !o->impi || !o->k_file || !o->naf_host || !o->fqdn || !o->what)
		return -1;
	if ((!strcmp(o->what, "session") && !o->target) ||
	    (!strcmp(o->what, "raw-register") && !o->body))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct node n = { 0 };
	struct gba_m2m_key_answer a = { 0 };
	uint8_t km[32];
	char why[200];
	gba_err err = GBA_OK;
	const char *stage = "";
	int cli = gba_cli_simple("m2m-node", argc, argv, m2m_opts, m2m_usage);

	if (cli >= 0)
		return cli;
	if (parse(argc, argv, &o)) {
		fputs(m2m_usage, stderr);
		return 2;
	}
	if (key_file_milenage(o.k_file, o.k, o.opc, why, sizeof(why))) {
		fprintf(stderr, "m2m-node: %s\n", why);
		return 2;
	}
	struct gba_m2m_response *r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	int rc;
	if (bootstrap(&o, &n, why, sizeof(why))) {
		snprintf(r->error, sizeof(r->error), "%s", why);
		rc = fail(&n, "bootstrap", GBA_ERR_UNAVAILABLE, r);
		goto done;
	}
	if (o.wait)
		sleep(o.wait);
	rc = run_ua(&o, &n, r, &a, km, &err, &stage);
	/* 5403 through the NAF: bootstrap again and retry once (TS 24.109 5.2.3). */
	if (rc && err == GBA_ERR_NOT_FOUND && o.rebootstrap) {
		if (bootstrap(&o, &n, why, sizeof(why))) {
			snprintf(r->error, sizeof(r->error), "%s", why);
			rc = fail(&n, "re-bootstrap", GBA_ERR_UNAVAILABLE, r);
			goto done;
		}
		rc = run_ua(&o, &n, r, &a, km, &err, &stage);
	}
	rc = rc ? fail(&n, stage, err, r) : report(&o, &n, r, &a, km);
done:
	gba_wipe(&n, sizeof(n));
	gba_wipe(&a, sizeof(a));
	gba_wipe(km, sizeof(km));
	free(r);
	return rc;
}
