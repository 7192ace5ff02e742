/*
 * bench_lib.c - how fast libgba's hot paths are, in figures (not a test).
 *
 *   AV generation (Milenage) against libosmocore's osmo_auth_gen_vec on the
 *     same subscribers and RANDs, in the same run, as a ratio;
 *   AV generation with TUAK;
 *   Ks_NAF derivations/s on one core, and on every core;
 *   HTTP Digest AKAv1-MD5 responses/s (qop auth-int, 0-octet body), and
 *     with a precomputed HA1.
 *
 * Usage: bench_lib [seconds-per-figure]   (default 1.0)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <osmocom/crypt/auth.h>

#include <gba/gba.h>
#include "gba_cli.h"

#define N_SUBS 1024

static double run_seconds = 1.0;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fixed, varied population: K, OPc, RAND differ per subscriber. */
struct sub {
	struct gba_aka_key key;
	struct osmo_sub_auth_data aud;
	uint8_t rand[16];
};
static struct sub subs[N_SUBS];
static const uint8_t amf[2] = { 0x80, 0x00 };

static void make_subs(void)
{
	uint64_t x = 0x243f6a8885a308d3u;
	for (int i = 0; i < N_SUBS; i++) {
		uint8_t k[16], opc[16];
		for (int j = 0; j < 16; j++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			k[j] = (uint8_t)(x >> 56);
			opc[j] = (uint8_t)(x >> 48);
			subs[i].rand[j] = (uint8_t)(x >> 40);
		}
		gba_aka_key_milenage(&subs[i].key, k, opc, 0);
		subs[i].aud.type = OSMO_AUTH_TYPE_UMTS;
		subs[i].aud.algo = OSMO_AUTH_ALG_MILENAGE;
		memcpy(subs[i].aud.u.umts.k, k, 16);
		memcpy(subs[i].aud.u.umts.opc, opc, 16);
		memcpy(subs[i].aud.u.umts.amf, amf, 2);
		subs[i].aud.u.umts.ind_bitlen = 5;
	}
}

/*
 * Run fn in batches until run_seconds have passed; returns operations/s.
 * The sink defeats dead-code elimination.
 */
static volatile unsigned sink;

typedef unsigned (*batch_fn)(unsigned start, unsigned n);

static double rate(batch_fn fn)
{
	unsigned batch = 1024, done = 0;
	double t0 = now(), t;
	do {
		sink += fn(done, batch);
		done += batch;
		t = now();
	} while (t - t0 < run_seconds);
	return done / (t - t0);
}

static unsigned batch_gba_av(unsigned start, unsigned n)
{
	unsigned acc = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sub *s = &subs[(start + i) % N_SUBS];
		struct gba_av av;
		uint64_t sqn;
		gba_sqn_next(s->aud.u.umts.sqn, 5, 0, &sqn);
		s->aud.u.umts.sqn = sqn;
		gba_aka_gen_av(&s->key, amf, sqn, s->rand, &av);
		acc += av.autn[15];
	}
	return acc;
}

static unsigned batch_osmo_av(unsigned start, unsigned n)
{
	unsigned acc = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sub *s = &subs[(start + i) % N_SUBS];
		struct osmo_auth_vector v;
		osmo_auth_gen_vec(&v, &s->aud, s->rand);
		acc += v.autn[15];
	}
	return acc;
}

static struct gba_aka_key tuak_key;

static unsigned batch_tuak_av(unsigned start, unsigned n)
{
	unsigned acc = 0;
	for (unsigned i = 0; i < n; i++) {
		struct gba_av av;
		gba_aka_gen_av(&tuak_key, amf, 32 * (start + i + 1), subs[i % N_SUBS].rand, &av);
		acc += av.autn[15];
	}
	return acc;
}

/* Ks_NAF: a BSF answering Zn derives one per (B-TID, NAF). */
static const char impi[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
static uint8_t naf_id[64];
static size_t naf_id_len;

static unsigned batch_ks_naf(unsigned start, unsigned n)
{
	uint8_t ks[32] = { 1 }, out[32];
	unsigned acc = 0;
	for (unsigned i = 0; i < n; i++) {
		ks[0] = (uint8_t)(start + i);
		gba_ks_naf(ks, subs[i % N_SUBS].rand, impi, sizeof(impi) - 1, naf_id, naf_id_len, out);
		acc += out[0];
	}
	return acc;
}

/* Digest: what a BSF computes to check one Ub response. */
static struct gba_digest_input dig;
static uint8_t res[8];

static unsigned batch_digest(unsigned start, unsigned n)
{
	char out[33];
	unsigned acc = 0;
	for (unsigned i = 0; i < n; i++) {
		res[0] = (uint8_t)(start + i);
		gba_digest_response(out, &dig);
		acc += (unsigned)out[0];
	}
	return acc;
}

static unsigned batch_digest_ha1(unsigned start, unsigned n)
{
	uint8_t ha1[16];
	char out[33];
	unsigned acc = 0;
	gba_digest_ha1(ha1, &dig);
	for (unsigned i = 0; i < n; i++) {
		ha1[0] = (uint8_t)(start + i);
		gba_digest_response_ha1(out, ha1, &dig);
		acc += (unsigned)out[0];
	}
	return acc;
}

static void *thread_ks_naf(void *arg)
{
	*(double *)arg = rate(batch_ks_naf);
	return NULL;
}

#define STR(s) { s, sizeof(s) - 1 }

static const char usage[] =
	"usage: bench_lib [SECONDS]   libgba's hot paths, SECONDS per figure [1]\n"
	"Prints figures; exit 0.  -h|--help, -V|--version.\n";

int main(int argc, char **argv)
{
	int rc = gba_cli_simple("bench_lib", argc, argv, NULL, usage);

	if (rc >= 0)
		return rc;
	if (argc > 1)
		run_seconds = atof(argv[1]);
	if (run_seconds <= 0)
		run_seconds = 1.0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	make_subs();
	gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, "naf.example.org", 15, GBA_UA_HTTP_DIGEST);
	uint8_t tk[32] = { 0x42 }, top[32] = { 0x55 };
	gba_aka_key_tuak(&tuak_key, tk, 16, top, 1, 1, 8);

	dig = (struct gba_digest_input){
		.username = STR("001010000000001@ims.mnc001.mcc001.3gppnetwork.org"),
		.realm = STR("bsf.mnc001.mcc001.pub.3gppnetwork.org"),
		.method = STR("GET"), .uri = STR("/"),
		.nonce = STR("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M="),
		.nc = STR("00000001"), .cnonce = STR("0a4f113b"),
		.password = res, .password_len = sizeof(res),
		.qop = GBA_QOP_AUTH_INT, .body = (const uint8_t *)"", .body_len = 0,
	};

	printf("libgba %s benchmarks, %.1f s per figure, %ld cores\n", "0.1.0", run_seconds, cores);
	double gba = rate(batch_gba_av);
	double osmo = rate(batch_osmo_av);
	printf("AV generation (Milenage)  libgba %12.0f AV/s   libosmocore %12.0f AV/s   ratio %.2fx\n",
	       gba, osmo, gba / osmo);
	printf("AV generation (TUAK)      libgba %12.0f AV/s\n", rate(batch_tuak_av));

	double one = rate(batch_ks_naf);
	printf("Ks_NAF derivation         1 core %12.0f /s\n", one);
	if (cores > 1) {
		pthread_t t[64];
		double r[64], sum = 0;
		long n = cores < 64 ? cores : 64;
		for (long i = 0; i < n; i++)
			pthread_create(&t[i], NULL, thread_ks_naf, &r[i]);
		for (long i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			sum += r[i];
		}
		printf("Ks_NAF derivation       %2ld cores %12.0f /s\n", n, sum);
	}
	printf("Digest AKAv1 response     full   %12.0f /s\n", rate(batch_digest));
	printf("Digest AKAv1 response     HA1 given %9.0f /s\n", rate(batch_digest_ha1));
	return 0;
}
