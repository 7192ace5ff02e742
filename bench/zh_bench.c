/*
 * zh_bench.c - MAR/MAA round trips per second through freeDiameter on
 * loopback: figures, not a test.
 *
 * A child process plays the HSS (libgba-diameter's Zh server, vectors from
 * libgba's Milenage, no database: the figure is the Diameter path); the
 * parent is the BSF side (gba_zh_mar_call) with 1, 8 and 32 threads each
 * keeping one MAR in flight (ZH_BENCH_IN_FLIGHT="32,64,128,256": those
 * counts instead), over one TCP connection; then the same counts of MARs
 * kept in flight by gba_zh_mar_send's callback, with no thread waiting.
 * Printed per thread count: round trips/s, latency p50/p99, and CPU time
 * per round trip on each side (getrusage / /proc).
 *
 * Usage: zh_bench [seconds-per-figure]          (default 2.0)
 *        zh_bench SECONDS HOST:PORT HSS-ID REALM IMPI
 *            against a running HSS (gba-hss-sim: the subscriber database's
 *            SQN update is then part of every round trip)
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/gba.h>
#include <gba/diameter_zh.h>

#include "bench_dia.h"
#include "bench_util.h"
#include "gba_cli.h"

/* ---- The HSS child ---------------------------------------------------------------- */

static atomic_uint_fast64_t next_seq = 1;

static gba_err hss_handler(void *arg, const struct gba_zh_mar *mar, struct gba_av *av,
			   char *guss, size_t guss_size, size_t *guss_len)
{
	static const uint8_t k[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
				       0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc };
	static const uint8_t opc[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
					 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf };
	static const uint8_t amf[2] = { 0, 0 };
	struct gba_aka_key key;
	uint64_t seq = atomic_fetch_add(&next_seq, 1);
	uint8_t rand[16] = { 0 };
	gba_err err;

	(void)arg;
	(void)mar;
	(void)guss;
	(void)guss_size;
	memcpy(rand, &seq, sizeof(seq));
	gba_aka_key_milenage(&key, k, opc, 0);
	err = gba_aka_gen_av(&key, amf, seq << 5, rand, av);
	gba_wipe(&key, sizeof(key));
	*guss_len = 0;
	return err;
}

static gba_err register_hss(struct gba_dia *dia)
{
	return gba_zh_server_register(dia, hss_handler, NULL);
}

/* ---- The BSF side ------------------------------------------------------------------ */

struct target {
	struct gba_dia *dia;
	const char *hss_id, *realm, *impi;
};

/* One MAR/MAA round trip (bench_call_fn). */
static int mar(void *arg, void *scratch)
{
	const struct target *t = arg;
	struct gba_zh_request req = { .impi = t->impi, .dest_realm = t->realm,
				      .dest_host = t->hss_id };
	struct gba_zh_answer ans;
	gba_err err;

	(void)scratch;
	err = gba_zh_mar_call(t->dia, &req, 5000, &ans, NULL, 0);
	gba_wipe(&ans.av, sizeof(ans.av));
	return (int)err;
}

static void figure(struct target *t, unsigned nthreads, double seconds, pid_t hss)
{
	struct bench_loop_result r;
	double per_call;

	if (bench_closed_loop(mar, t, 0, nthreads, seconds, hss, &r))
		return;
	per_call = r.done ? 1e6 / (double)r.done : 0;
	printf("  %2u threads: %8.0f MAR/MAA per s   p50 %6u us   p99 %6u us"
	       "   CPU/round trip: BSF side %5.1f us",
	       nthreads, (double)r.done / r.elapsed, r.p50_us, r.p99_us, r.self_cpu * per_call);
	if (hss)
		printf(", HSS side %5.1f us", r.peer_cpu * per_call);
	printf("%s\n", r.failed ? "   (some failed)" : "");
	if (r.failed)
		printf("     %llu round trips failed\n", (unsigned long long)r.failed);
}

/* ---- Without waiting threads (gba_zh_mar_send, as gba-bsf sends) ------------------- */

struct async_run {
	struct target *t;
	atomic_int stop;
	atomic_uint_fast64_t done, failed;
	atomic_uint in_flight;
};

/* One MAR always in flight until the run stops: resent from the callback. */
struct async_slot {
	struct gba_zh_async call;   /* first: the callback finds the slot from it */
	struct async_run *run;
};

static void async_send(struct async_slot *s)
{
	struct async_run *r = s->run;
	struct gba_zh_request req = { .impi = r->t->impi, .dest_realm = r->t->realm,
				      .dest_host = r->t->hss_id };

	if (!atomic_load(&r->stop) && !gba_zh_mar_send(r->t->dia, &req, 5000, &s->call))
		return;
	if (!atomic_load(&r->stop))
		atomic_fetch_add(&r->failed, 1);
	atomic_fetch_sub(&r->in_flight, 1);
}

static void async_done(struct gba_zh_async *call, struct gba_zh_maa *maa)
{
	struct async_slot *s = (struct async_slot *)call;
	struct async_run *r = s->run;
	struct gba_zh_request req = { .impi = r->t->impi, .dest_realm = r->t->realm };
	struct gba_zh_answer ans;

	atomic_fetch_add(gba_zh_maa_read(maa, &req, &ans, NULL, 0) ? &r->failed : &r->done, 1);
	gba_wipe(&ans.av, sizeof(ans.av));
	gba_zh_maa_free(maa);
	async_send(s);
}

static void async_figure(struct target *t, unsigned n, double seconds, pid_t hss)
{
	struct async_slot *slots = calloc(n, sizeof(*slots));
	struct async_run r = { .t = t };
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	double cpu0 = bench_self_cpu(), peer0 = hss ? bench_proc_cpu(hss) : 0, per_call;
	long long t0 = bench_now_ns();
	uint64_t done;

	if (!slots)
		return;
	atomic_store(&r.in_flight, n);
	for (unsigned i = 0; i < n; i++) {
		slots[i] = (struct async_slot){ .call.done = async_done, .run = &r };
		async_send(&slots[i]);
	}
	while (bench_now_ns() - t0 < (long long)(seconds * 1e9))
		nanosleep(&tick, NULL);
	done = atomic_load(&r.done);
	atomic_store(&r.stop, 1);
	for (int i = 0; i < 1000 && atomic_load(&r.in_flight); i++)   /* at most 10 s */
		nanosleep(&tick, NULL);
	per_call = done ? 1e6 / (double)atomic_load(&r.done) : 0;
	printf("  %3u in flight: %8.0f MAR/MAA per s   CPU/round trip: BSF side %5.1f us",
	       n, (double)done / seconds, (bench_self_cpu() - cpu0) * per_call);
	if (hss)
		printf(", HSS side %5.1f us", (bench_proc_cpu(hss) - peer0) * per_call);
	printf("%s\n", atomic_load(&r.failed) ? "   (some failed)" : "");
	if (!atomic_load(&r.in_flight))
		free(slots);   /* else freeDiameter may still call into them: left */
}

/* The MARs in flight to measure: ZH_BENCH_IN_FLIGHT's list, or 1, 8, 32. */
static size_t in_flight_counts(unsigned *counts, size_t max)
{
	const char *env = getenv("ZH_BENCH_IN_FLIGHT");
	size_t n = 0;

	while (env && *env && n < max) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);

		if (end == env || v == 0 || v > 1024)
			break;
		counts[n++] = (unsigned)v;
		env = *end == ',' ? end + 1 : end;
	}
	if (n)
		return n;
	counts[0] = 1;
	counts[1] = 8;
	counts[2] = 32;
	return 3;
}

static int bench(struct target *t, const char *host, uint16_t port, double seconds, pid_t hss)
{
	unsigned counts[16];
	size_t n_counts = in_flight_counts(counts, 16);
	struct gba_dia_config cfg = {
		.identity = "bsf.bench.test",
		.realm = "bench.test",
		.log_level = GBA_DIA_LOG_WARN,
	};
	static struct bench_tls_files files;
	struct gba_dia_peer peer = { .identity = t->hss_id, .address = host, .port = port };

	bench_dia_transport(cfg.identity, &files, &cfg.transport, &cfg.tls_cert, &cfg.tls_key,
			    &cfg.tls_ca);

	if (gba_dia_open(&t->dia, &cfg) || gba_dia_add_peer(t->dia, &peer) ||
	    gba_dia_start(t->dia) || gba_dia_wait_peer(t->dia, t->hss_id, 5000)) {
		fprintf(stderr, "zh_bench: cannot reach the HSS at %s:%u\n", host, port);
		gba_dia_close(t->dia);
		return 1;
	}
	printf("Zh MAR/MAA round trips through freeDiameter on 127.0.0.1, %.1f s each%s:\n",
	       seconds, hss ? " (HSS: Milenage in a child process, no database)" : "");
	for (size_t i = 0; i < n_counts; i++)
		figure(t, counts[i], seconds, hss);
	printf("The same with gba_zh_mar_send (the MAA to a callback, no thread waiting; "
	       "as gba-bsf sends a first challenge's MAR):\n");
	for (size_t i = 0; i < n_counts; i++)
		async_figure(t, counts[i], seconds, hss);
	gba_dia_close(t->dia);
	return 0;
}

static int bench_child_hss(double seconds)
{
	struct gba_dia_config cfg = {
		.identity = "hss.bench.test",
		.realm = "bench.test",
		.accept_unknown_peers = 1,
		.log_level = GBA_DIA_LOG_WARN,
	};
	static struct bench_tls_files files;
	struct target t = { .hss_id = "hss.bench.test", .realm = "bench.test",
			    .impi = "bench@ims.mnc001.mcc001.3gppnetwork.org" };
	uint16_t port = 0;
	pid_t pid;
	int rc;

	printf("(%s)\n", bench_dia_transport(cfg.identity, &files, &cfg.transport, &cfg.tls_cert,
					     &cfg.tls_key, &cfg.tls_ca));
	pid = bench_dia_server_start(&cfg, register_hss, "HSS", &port);

	if (pid < 0)
		return 1;
	rc = bench(&t, "127.0.0.1", port, seconds, pid);
	bench_dia_server_stop(pid);
	return rc;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	int rc = gba_cli_simple("zh_bench", argc, argv, NULL,
				"usage: zh_bench [seconds] [HOST:PORT HSS-ID REALM IMPI]\n"
				"ZH_BENCH_IN_FLIGHT=32,64 sets the MARs in flight (1,8,32).\n"
				"Prints figures; exit 0, 2 on bad usage.  -h|--help, -V|--version.\n");

	if (rc >= 0)
		return rc;

	if (seconds <= 0)
		seconds = 2.0;
	if (argc == 6) {
		struct target t = { .hss_id = argv[3], .realm = argv[4], .impi = argv[5] };
		char host[64];
		const char *colon = strrchr(argv[2], ':');

		if (!colon || (size_t)(colon - argv[2]) >= sizeof(host))
			return 2;
		memcpy(host, argv[2], (size_t)(colon - argv[2]));
		host[colon - argv[2]] = '\0';
		return bench(&t, host, (uint16_t)atoi(colon + 1), seconds, 0);
	}
	if (argc > 2) {
		fprintf(stderr, "usage: zh_bench [seconds] [HOST:PORT HSS-ID REALM IMPI]\n");
		return 2;
	}
	return bench_child_hss(seconds);
}
