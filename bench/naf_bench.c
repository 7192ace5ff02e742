/*
 * naf_bench - gba-naf throughput and latency, as a node sees them: Digest
 * enrolments, TLS-PSK enrolments and session key registrations per second,
 * with p50/p99 latency.  It bootstraps once against the BSF (the test UE's
 * Ub client, software USIM), then runs each operation from T threads for S
 * seconds.  Prints figures; passes or fails nothing.
 *
 *   naf_bench --bsf URL --impi IMPI --k-file FILE --naf-host H --fqdn F
 *             --digest-port P --tls-port P --target CSE-ID [--seconds S] [--threads T]
 *
 * --k-file holds k= and opc= lines ('-': stdin): no key on the command line.
 * bench/run-naf-bench.py starts gba-bsf and gba-naf on loopback and runs it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/m2m.h>
#include <gba/util.h>

#include "bench_util.h"
#include "keys.h"
#include "ub_client.h"
#include "ub_http.h"
#include "ub_net.h"
#include "gba_cli.h"

struct cfg {
	const char *bsf, *impi, *k_file, *host, *fqdn, *target;
	uint8_t k[16], opc[16];         /* from k_file: secret */
	unsigned digest_port, tls_port, seconds, threads;
	char btid[GBA_BTID_MAX + 1];
	uint8_t ks_naf[32], km[32];     /* secret */
	uint8_t km13[32];               /* secret: Km for TLS 1.3's Ua id */
};

enum op { OP_DIGEST, OP_TLS, OP_TLS13, OP_REGISTER };

/* TLS 1.3 only, external PSK without (EC)DHE: what a node with a PSK offers. */
#define TLS13_ONLY "NONE:+VERS-TLS1.3:+PSK:+AES-128-GCM:+AEAD:+SHA256:+GROUP-ALL:+SIGN-ALL"


/* What the threads of one figure share. */
struct run {
	const struct cfg *c;
	enum op op;
};

static int bootstrap(struct cfg *c)
{
	struct ub_session *s = calloc(1, sizeof(*s));
	uint8_t naf_id[300];
	size_t nlen;
	int ok;

	if (!s || ub_net_bootstrap_fresh(s, c->bsf, c->impi, c->k, c->opc, 10000)) {
		fprintf(stderr, "naf_bench: bad --bsf\n");
		free(s);
		return -1;
	}
	ok = s->result.fail == UB_OK;
	if (ok) {
		snprintf(c->btid, sizeof(c->btid), "%s", s->info.btid);
		gba_naf_id(naf_id, sizeof(naf_id), &nlen, c->fqdn, strlen(c->fqdn), GBA_UA_HTTP_DIGEST);
		gba_ks_naf(s->ks, s->rand, c->impi, strlen(c->impi), naf_id, nlen, c->ks_naf);
		gba_naf_id(naf_id, sizeof(naf_id), &nlen, c->fqdn, strlen(c->fqdn),
			   GBA_UA_TLS12_PSK_AES128_CBC_SHA256);
		gba_ks_naf(s->ks, s->rand, c->impi, strlen(c->impi), naf_id, nlen, c->km);
		gba_naf_id(naf_id, sizeof(naf_id), &nlen, c->fqdn, strlen(c->fqdn), GBA_UA_TLS13);
		gba_ks_naf(s->ks, s->rand, c->impi, strlen(c->impi), naf_id, nlen, c->km13);
	} else {
		fprintf(stderr, "naf_bench: bootstrap failed: %s\n", s->result.error);
	}
	ub_session_wipe(s);
	free(s);
	return ok ? 0 : -1;
}

/* Km for the handshake's Ua id (gba_m2m_km_fn): TLS 1.3's, else none. */
static int km_tls13(void *arg, const uint8_t ua_id[5], uint8_t km[32])
{
	const struct cfg *c = arg;
	if (memcmp(ua_id, GBA_UA_TLS13, 5))
		return -1;
	memcpy(km, c->km13, 32);
	return 0;
}

/* One request of the figure's kind (bench_call_fn); scratch holds the response. */
static int one(void *arg, void *scratch)
{
	const struct run *ru = arg;
	const struct cfg *c = ru->c;
	struct gba_m2m_response *r = scratch;
	struct gba_m2m_peer dp = { c->host, c->digest_port, 5000 };
	struct gba_m2m_peer tp = { c->host, c->tls_port, 5000 };
	struct gba_m2m_key_answer a;
	struct gba_m2m_key_request req = { "22", c->target, 600 };
	gba_err err;
	if (ru->op == OP_DIGEST)
		err = gba_m2m_digest_request(&dp, c->fqdn, c->btid, c->ks_naf, 0, "POST",
					     "/m2m/enrol", "{}", 2, r);
	else if (ru->op == OP_TLS)
		err = gba_m2m_enrol_psk(&tp, c->fqdn, c->btid, c->km, r);
	else if (ru->op == OP_TLS13) {
		struct gba_m2m_psk psk = { c->btid, km_tls13, (void *)c, TLS13_ONLY };
		err = gba_m2m_enrol_ua(&tp, c->fqdn, &psk, NULL, r);
	} else {
		err = gba_m2m_register_key(&tp, c->fqdn, c->btid, c->km, &req, &a, r);
		gba_wipe(&a, sizeof(a));
	}
	return err ? -1 : 0;
}

static void measure(const struct cfg *c, enum op op, const char *name)
{
	struct run ru = { .c = c, .op = op };
	unsigned nt = c->threads > 64 ? 64 : c->threads;
	struct bench_loop_result r;

	if (bench_closed_loop(one, &ru, sizeof(struct gba_m2m_response), nt, c->seconds, 0, &r))
		return;
	printf("%-28s %8.0f /s  p50 %7.2f ms  p99 %7.2f ms  (%llu ok, %llu errors, %u threads, %.1f s)\n",
	       name, (double)r.done / r.elapsed, r.p50_us / 1e3, r.p99_us / 1e3,
	       (unsigned long long)r.done, (unsigned long long)r.failed, nt, r.elapsed);
}

#define REQ(name) { name, required_argument, NULL, 0 }
static const struct option naf_bench_opts[] = {
	REQ("bsf"), REQ("impi"), REQ("k-file"), REQ("naf-host"), REQ("fqdn"), REQ("target"),
	REQ("digest-port"), REQ("tls-port"), REQ("seconds"), REQ("threads"),
	{ NULL, 0, NULL, 0 },
};
#undef REQ

int main(int argc, char **argv)
{
	struct cfg c = { .seconds = 3, .threads = 4 };
	int cli = gba_cli_simple("naf_bench", argc, argv, naf_bench_opts,
				 "usage: naf_bench --bsf URL --impi IMPI --k-file FILE --naf-host H "
				 "--fqdn F\n"
				 "                 --digest-port P --tls-port P --target CSE-ID "
				 "[--seconds S] [--threads T]\n"
				 "Prints figures; exit 0, 1 on failure, 2 on bad usage.\n");

	if (cli >= 0)
		return cli;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--bsf")) c.bsf = v;
		else if (!strcmp(a, "--impi")) c.impi = v;
		else if (!strcmp(a, "--k-file")) c.k_file = v;
		else if (!strcmp(a, "--naf-host")) c.host = v;
		else if (!strcmp(a, "--fqdn")) c.fqdn = v;
		else if (!strcmp(a, "--target")) c.target = v;
		else if (!strcmp(a, "--digest-port")) c.digest_port = (unsigned)atoi(v);
		else if (!strcmp(a, "--tls-port")) c.tls_port = (unsigned)atoi(v);
		else if (!strcmp(a, "--seconds")) c.seconds = (unsigned)atoi(v);
		else if (!strcmp(a, "--threads")) c.threads = (unsigned)atoi(v);
	}
	char err[256];

	if (!c.bsf || !c.impi || !c.k_file || !c.host || !c.fqdn || !c.target ||
	    !c.digest_port || !c.tls_port) {
		fprintf(stderr, "usage: see the comment at the top of bench/naf_bench.c\n");
		return 2;
	}
	if (key_file_milenage(c.k_file, c.k, c.opc, err, sizeof(err))) {
		fprintf(stderr, "naf_bench: %s\n", err);
		return 2;
	}
	if (bootstrap(&c))
		return 1;
	printf("naf_bench: one B-TID, Km from the NAF's Zn cache after the first fetch\n");
	measure(&c, OP_DIGEST, "enrolments (Digest Ua)");
	measure(&c, OP_TLS, "enrolments (TLS-PSK, 1.2)");
	measure(&c, OP_TLS13, "enrolments (TLS-PSK, 1.3)");
	measure(&c, OP_REGISTER, "session keys registered");
	gba_wipe(&c, sizeof(c));
	return 0;
}
