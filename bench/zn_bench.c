/*
 * zn_bench.c - BIR/BIA round trips per second through freeDiameter on
 * loopback: figures, not a test.
 *
 * A child process plays the BSF: libgba-diameter's Zn server with a handler
 * that does what bsf/zn does per BIR apart from the store look-up (Ks_NAF
 * by the Annex B KDF from an in-memory session, a 5403 for any other
 * B-TID); the parent is the NAF: libgba-naf (gba_naf_fetch_key) with 1, 8,
 * 32 and 64 threads, each keeping one BIR in flight, over one
 * connection: plain TCP, or TLS with BENCH_TLS_DIR set (certificates from
 * bench/make-dia-certs.sh).  Every call names a NAF_Id of its own (the last two octets
 * of the Ua id count up), so that each one misses libgba-naf's cache and
 * is a BIR, as for fresh UEs; a last figure repeats one NAF_Id: cache
 * hits.  Printed per figure: calls/s, latency p50/p99, CPU time per call
 * on each side.
 *
 * Usage: zn_bench [seconds-per-figure]            (default 2.0)
 *        zn_bench SECONDS HOST:PORT BSF-ID B-TID NAF-FQDN
 *            against a running gba-bsf with Zn on (its session store, the
 *            GUSS and the policy are then part of every round trip)
 *        zn_bench SECONDS --nbsp API-ROOT CERT KEY CA B-TID NAF-FQDN 1.1|2
 *            libgba-naf's Nbsp_GBA client against a running gba-bsf's
 *            zn.http_listen (1.1) or zn.http2_listen (2), 1 and 4 threads
 *            (bench/run-nbsp-bench.py)
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/gba.h>
#include <gba/diameter_zn.h>
#include <gba/naf.h>

#include "bench_dia.h"
#include "bench_util.h"
#include "gba_cli.h"

#define BENCH_BTID "AAECAwQFBgcICQoLDA0ODw==@bsf.bench.test"
#define BENCH_IMPI "bench@ims.mnc001.mcc001.3gppnetwork.org"

/* ---- The BSF child ---------------------------------------------------------------- */

static gba_err bsf_handler(void *arg, const struct gba_zn_bir *bir, struct gba_zn_bia *bia)
{
	static const uint8_t ks[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const uint8_t rand[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	int64_t t = (int64_t)time(NULL);

	(void)arg;
	if (bir->btid_len != strlen(BENCH_BTID) || memcmp(bir->btid, BENCH_BTID, bir->btid_len))
		return GBA_ERR_NOT_FOUND;
	snprintf(bia->impi, sizeof(bia->impi), "%s", BENCH_IMPI);
	bia->created = t;
	bia->expiry = t + 3600;
	bia->gba_type = 0;
	return gba_ks_naf(ks, rand, BENCH_IMPI, strlen(BENCH_IMPI), bir->naf_id, bir->naf_id_len,
			  bia->me_key);
}

static gba_err register_bsf(struct gba_dia *dia)
{
	return gba_zn_server_register(dia, bsf_handler, NULL);
}

/* ---- The NAF side ------------------------------------------------------------------ */

struct target {
	struct gba_naf *naf;
	const char *btid;
	uint8_t naf_id[GBA_NAF_ID_MAX];
	size_t naf_id_len;
	int same_naf_id;             /* 1: every call the same NAF_Id (cache hits) */
	atomic_uint_fast32_t next;   /* varies the NAF_Id's last two octets */
};

/*
 * One fetch (bench_call_fn): a BIR unless same_naf_id, with this call's
 * NAF_Id (the last two octets count up).  scratch holds the key.
 */
static int fetch(void *arg, void *scratch)
{
	struct target *t = arg;
	struct gba_naf_key *k = scratch;
	uint8_t naf_id[GBA_NAF_ID_MAX];
	gba_err err;

	memcpy(naf_id, t->naf_id, t->naf_id_len);
	if (!t->same_naf_id) {
		uint32_t n = (uint32_t)atomic_fetch_add(&t->next, 1);
		naf_id[t->naf_id_len - 2] = (uint8_t)(n >> 8);
		naf_id[t->naf_id_len - 1] = (uint8_t)n;
	}
	err = gba_naf_fetch_key(t->naf, t->btid, naf_id, t->naf_id_len, k);
	gba_wipe(k->ks_naf, sizeof(k->ks_naf));
	return (int)err;
}

static void figure(struct target *t, unsigned nthreads, double seconds, pid_t bsf)
{
	struct bench_loop_result r;
	double per_call;

	if (bench_closed_loop(fetch, t, sizeof(struct gba_naf_key), nthreads, seconds, bsf, &r))
		return;
	per_call = r.done ? 1e6 / (double)r.done : 0;
	printf("  %2u in flight%s: %8.0f %s per s   p50 %6u us   p99 %6u us"
	       "   CPU/call: NAF side %5.1f us",
	       nthreads, t->same_naf_id ? " (same NAF_Id)" : "", (double)r.done / r.elapsed,
	       t->same_naf_id ? "cache hits" : "BIR/BIA", r.p50_us, r.p99_us,
	       r.self_cpu * per_call);
	if (bsf)
		printf(", BSF side %5.1f us", r.peer_cpu * per_call);
	printf("\n");
	if (r.failed)
		printf("     %llu round trips failed (last: %s)\n", (unsigned long long)r.failed,
		       gba_err_name((gba_err)r.last_err));
}

static int bench(struct target *t, const char *host, uint16_t port, const char *bsf_id,
		 const char *fqdn, double seconds, pid_t bsf)
{
	static const unsigned counts[] = { 1, 8, 32, 64 };
	struct gba_naf_config cfg = {
		.identity = fqdn,
		.realm = "bench.test",
		.bsf_identity = bsf_id,
		.bsf_address = host,
		.bsf_port = port,
		.timeout_ms = 5000,
		.cache_entries = 0,   /* the default cache: misses here, but for the last figure */
		.log_level = GBA_DIA_LOG_WARN,
	};
	static struct bench_tls_files files;
	const char *how = bench_dia_transport(fqdn, &files, &cfg.transport, &cfg.tls_cert,
					      &cfg.tls_key, &cfg.tls_ca);
	uint8_t ua_id[GBA_UA_ID_LEN];

	gba_ua_id_tls12(ua_id, 0);   /* 01 00 01 yy zz: yy zz vary per call */
	if (gba_naf_id(t->naf_id, sizeof(t->naf_id), &t->naf_id_len, fqdn, strlen(fqdn), ua_id) ||
	    gba_naf_open(&cfg, &t->naf) ||
	    gba_dia_wait_peer(gba_naf_dia(t->naf), bsf_id, 5000)) {
		fprintf(stderr, "zn_bench: cannot reach the BSF at %s:%u\n", host, port);
		gba_naf_close(t->naf);
		return 1;
	}
	printf("Zn BIR/BIA round trips through freeDiameter on %s (%s), %.1f s each%s:\n", host,
	       how, seconds,
	       bsf ? " (BSF: Zn server + Annex B KDF in a child process, no store)" : "");
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		figure(t, counts[i], seconds, bsf);
	t->same_naf_id = 1;
	figure(t, 1, seconds, bsf);
	figure(t, 8, seconds, bsf);
	gba_naf_close(t->naf);
	return 0;
}

/* libgba-naf over Nbsp_GBA (argv as the usage above, from --nbsp on). */
static int bench_nbsp(double seconds, char **argv)
{
	struct target t = { .btid = argv[5] };
	struct gba_naf_config cfg = {
		.bsf_url = argv[1], .tls_cert = argv[2], .tls_key = argv[3], .tls_ca = argv[4],
		.bsf_identity = "bsf", .timeout_ms = 5000, .log_level = GBA_DIA_LOG_INFO,
		.http_version = strcmp(argv[7], "1.1") ? GBA_NAF_HTTP_2 : GBA_NAF_HTTP_1_1,
	};
	uint8_t ua_id[GBA_UA_ID_LEN];

	gba_ua_id_tls12(ua_id, 0);
	if (gba_naf_id(t.naf_id, sizeof(t.naf_id), &t.naf_id_len, argv[6], strlen(argv[6]),
		       ua_id) || gba_naf_open(&cfg, &t.naf)) {
		fprintf(stderr, "zn_bench: cannot open libgba-naf for %s\n", argv[1]);
		return 1;
	}
	printf("Nbsp_GBA retrievals by libgba-naf from %s, zn.http_version %s, %.1f s each:\n",
	       argv[1], argv[7], seconds);
	figure(&t, 1, seconds, 0);
	figure(&t, 4, seconds, 0);
	gba_naf_close(t.naf);
	return 0;
}

static int bench_child_bsf(double seconds)
{
	struct gba_dia_config cfg = {
		.identity = "bsf.bench.test",
		.realm = "bench.test",
		.apps = GBA_DIA_ZN,
		.accept_unknown_peers = 1,
		.log_level = GBA_DIA_LOG_WARN,
	};
	static struct bench_tls_files files;
	struct target t = { .btid = BENCH_BTID };
	uint16_t port = 0;
	pid_t pid;
	int rc;

	bench_dia_transport(cfg.identity, &files, &cfg.transport, &cfg.tls_cert, &cfg.tls_key,
			    &cfg.tls_ca);
	pid = bench_dia_server_start(&cfg, register_bsf, "BSF", &port);

	if (pid < 0)
		return 1;
	rc = bench(&t, "127.0.0.1", port, "bsf.bench.test", "naf.bench.test", seconds, pid);
	bench_dia_server_stop(pid);
	return rc;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	static const struct option opts[] = {
		{ "nbsp", no_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	int rc = gba_cli_simple("zn_bench", argc, argv, opts,
				"usage: zn_bench [seconds] [HOST:PORT BSF-ID B-TID NAF-FQDN]\n"
				"       zn_bench SECONDS --nbsp API-ROOT CERT KEY CA B-TID NAF-FQDN 1.1|2\n"
				"Prints figures; exit 0, 2 on bad usage.  -h|--help, -V|--version.\n");

	if (rc >= 0)
		return rc;

	if (seconds <= 0)
		seconds = 2.0;
	if (argc == 10 && !strcmp(argv[2], "--nbsp"))
		return bench_nbsp(seconds, argv + 2);
	if (argc == 6) {
		struct target t = { .btid = argv[4] };
		char host[64];
		const char *colon = strrchr(argv[2], ':');

		if (!colon || (size_t)(colon - argv[2]) >= sizeof(host))
			return 2;
		memcpy(host, argv[2], (size_t)(colon - argv[2]));
		host[colon - argv[2]] = '\0';
		return bench(&t, host, (uint16_t)atoi(colon + 1), argv[3], argv[5], seconds, 0);
	}
	if (argc > 2) {
		fprintf(stderr, "usage: zn_bench [seconds] [HOST:PORT BSF-ID B-TID NAF-FQDN]\n");
		return 2;
	}
	return bench_child_bsf(seconds);
}
