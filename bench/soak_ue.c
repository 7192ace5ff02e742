/*
 * soak_ue.c - the UEs of bench/soak.py: bootstraps in a loop against one
 * BSF for a given time, with resyncs and bad requests mixed in, logging
 * every challenge's SQN and every B-TID acknowledged with 200.
 *
 *   soak-ue --url http://127.0.0.1:PORT/ --impis FILE --k-file FILE
 *           --duration S --out FILE [--threads T] [--rate R] [--resync-every N]
 *           [--bad-every N] [--timeout MS]
 *
 * FILE: one IMPI per line (the first field of a CSV line), all with the
 * Milenage K and OPc given (test keys).  Thread t bootstraps the IMPIs t,
 * t + T, t + 2T, ... in turn, each with a card (SQN memory) of its own kept
 * across its bootstraps, as a UE keeps its USIM: so an SQN issued twice is
 * also refused by the card.  Every resync-every-th bootstrap of a thread
 * first moves its card 64 SEQ ahead (the BSF gets AUTS); every bad-every-th
 * is a bad one, in turn: a wrong RES (403), a replay of the second request
 * (not 200 again), an AUTS with a broken MAC-S (403).
 *
 * --rate R (default 100) paces the whole process to at most R bootstraps a
 * second: a soak runs long, and what it checks does not need the BSF's
 * full speed.
 *
 * Output (--out, JSON lines, appended as they happen):
 *   {"ev":"sqn","impi":..,"sqn":N}     each challenge: SQN = AUTN[0..5] xor AK
 *   {"ev":"ok","impi":..,"btid":..,"expiry":UNIX,"at":UNIX}
 *   {"ev":"fail","impi":..,"kind":..,"status":N,"bad":0|1}
 * and a summary on stdout.  Exit 0 unless the options are wrong.
 * Keys are never written.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/gba.h>
#include <gba/milenage.h>

#include "bench_util.h"
#include "gba_cli.h"
#include "keys.h"
#include "ub_client.h"
#include "ub_http.h"
#include "ub_net.h"
#include "usim_state.h"

#define IMPI_MAX 255

struct options {
	const char *url, *impis_path, *out_path;
	uint8_t k[16], opc[16];
	unsigned threads, duration, resync_every, bad_every, rate;
	int timeout_ms;
};

struct shared {
	const struct options *o;
	struct ub_addr addr;
	struct ub_url url;
	struct gba_aka_key key;          /* secret */
	struct gba_milenage_ctx mil;     /* secret: AK of each challenge */
	char (*impis)[IMPI_MAX + 1];
	size_t n_impis;
	FILE *out;
	pthread_mutex_t out_lock;
	long long end_ns;
};

struct counts {
	uint64_t ok, failed, challenges, resyncs, bad, bad_refused;
};

struct worker {
	struct shared *sh;
	unsigned index;
	struct counts c;
	pthread_t thread;
};

/* What on_challenge needs: whose card, where to write. */
struct card_ctx {
	struct shared *sh;
	const char *impi;
	uint64_t *challenges;
};

/* ---- Output ----------------------------------------------------------------------- */

static void out_line(struct shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_line(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->out_lock);
	va_start(ap, fmt);
	vfprintf(sh->out, fmt, ap);
	va_end(ap);
	fputc('\n', sh->out);
	fflush(sh->out);
	pthread_mutex_unlock(&sh->out_lock);
}

/* SQN = (SQN xor AK) xor AK, from AUTN's first 6 octets. */
static void on_challenge(void *arg, const uint8_t rand[16], const uint8_t autn[16])
{
	struct card_ctx *cc = arg;
	uint8_t ak[6];
	uint64_t sqn = 0;

	gba_milenage_f2345(&cc->sh->mil, rand, NULL, NULL, NULL, ak, NULL);
	for (int i = 0; i < 6; i++)
		sqn = sqn << 8 | (uint8_t)(autn[i] ^ ak[i]);
	(*cc->challenges)++;
	out_line(cc->sh, "{\"ev\":\"sqn\",\"impi\":\"%s\",\"sqn\":%" PRIu64 "}", cc->impi, sqn);
}

/* ---- The loop --------------------------------------------------------------------- */

static enum ub_fault bad_kind(uint64_t n)
{
	static const enum ub_fault kinds[] = {
		UB_FAULT_WRONG_PASSWORD, UB_FAULT_REPLAY, UB_FAULT_BAD_AUTS,
	};
	return kinds[n % (sizeof(kinds) / sizeof(kinds[0]))];
}

/* One bootstrap of impi with its card; the outcome logged and counted. */
static void bootstrap(struct worker *w, const char *impi, struct gba_usim_sqn *card,
		      enum ub_fault fault, int *fd)
{
	struct shared *sh = w->sh;
	struct card_ctx cc = { sh, impi, &w->c.challenges };
	static __thread struct ub_session s;
	struct ub_params p = {
		.impi = impi, .key = &sh->key, .sqn = card, .host = sh->url.host_header,
		.uri = sh->url.path, .realm = sh->url.host, .fault = fault,
		.on_challenge = on_challenge, .on_challenge_arg = &cc,
	};
	int ok;

	ub_session_begin(&s, &p, *fd >= 0);
	ub_net_run(&s, &sh->addr, fd, sh->o->timeout_ms);
	ok = s.result.fail == UB_OK;
	w->c.resyncs += s.resyncs;
	if (fault == UB_FAULT_NONE && ok) {
		w->c.ok++;
		out_line(sh, "{\"ev\":\"ok\",\"impi\":\"%s\",\"btid\":\"%s\",\"expiry\":%lld,\"at\":%lld}",
			 impi, s.info.btid, (long long)s.info.lifetime, (long long)time(NULL));
	} else if (fault == UB_FAULT_REPLAY && ok) {
		/* The bootstrap itself was fine: its B-TID counts; the replay must not be 200. */
		w->c.ok++;
		w->c.bad++;
		w->c.bad_refused += s.result.replay_status != 200;
		out_line(sh, "{\"ev\":\"ok\",\"impi\":\"%s\",\"btid\":\"%s\",\"expiry\":%lld,\"at\":%lld}",
			 impi, s.info.btid, (long long)s.info.lifetime, (long long)time(NULL));
	} else {
		if (fault != UB_FAULT_NONE) {
			w->c.bad++;
			w->c.bad_refused += s.result.status == 403;
		} else {
			w->c.failed++;
		}
		out_line(sh, "{\"ev\":\"fail\",\"impi\":\"%s\",\"kind\":\"%s\",\"status\":%d,\"bad\":%d}",
			 impi, ub_fail_name(s.result.fail), s.result.status, fault != UB_FAULT_NONE);
	}
	ub_session_wipe(&s);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	const struct options *o = sh->o;
	size_t mine = (sh->n_impis + o->threads - 1 - w->index) / o->threads;
	struct gba_usim_sqn *cards = calloc(mine ? mine : 1, sizeof(*cards));
	uint64_t n = 0, bad = 0;
	long long gap_ns = 1000000000LL * o->threads / o->rate, next_ns = bench_now_ns();
	int fd = -1;

	if (!cards || !mine) {
		free(cards);
		return NULL;
	}
	for (size_t i = 0; i < mine; i++)
		gba_usim_sqn_init(&cards[i], 5, (uint64_t)1 << 28);
	while (bench_now_ns() < sh->end_ns) {
		size_t i = n % mine;
		const char *impi = sh->impis[w->index + i * o->threads];
		enum ub_fault fault = UB_FAULT_NONE;

		n++;
		if (o->resync_every && n % o->resync_every == 0)
			(void)usim_state_advance(&cards[i], 64);
		if (o->bad_every && n % o->bad_every == 0) {
			fault = bad_kind(bad++);
			if (fault == UB_FAULT_BAD_AUTS)
				(void)usim_state_advance(&cards[i], 64);   /* AUTS is needed */
		}
		bootstrap(w, impi, &cards[i], fault, &fd);
		if (fd < 0 && bench_now_ns() < sh->end_ns)
			usleep(20000);   /* a BSF that is down: do not spin */
		next_ns += gap_ns;
		if (next_ns > bench_now_ns())
			usleep((useconds_t)((next_ns - bench_now_ns()) / 1000));
		else
			next_ns = bench_now_ns();   /* behind: no burst to catch up */
	}
	if (fd >= 0)
		close(fd);
	gba_wipe(cards, mine * sizeof(*cards));
	free(cards);
	return NULL;
}

/* ---- Set-up ----------------------------------------------------------------------- */

static int load_impis(struct shared *sh, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t cap = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, ",\r\n");
		if (!len || line[0] == '#' || len > IMPI_MAX)
			continue;
		if (sh->n_impis == cap) {
			void *v = realloc(sh->impis, (cap = cap ? 2 * cap : 256) * sizeof(*sh->impis));
			if (!v) {
				fclose(f);
				return -1;
			}
			sh->impis = v;
		}
		memcpy(sh->impis[sh->n_impis], line, len);
		sh->impis[sh->n_impis++][len] = '\0';
	}
	fclose(f);
	return sh->n_impis ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: soak-ue --url URL --impis FILE --k-file FILE --duration S --out FILE\n"
		"               [--threads T] [--rate R] [--resync-every N] [--bad-every N]\n"
		"               [--timeout MS]\n"
		"       soak-ue -h|--help, -V|--version\n"
		"--k-file: the cards' K and OPc (k=HEX, opc=HEX lines; '-': stdin).\n"
		"Exit codes: 0 done, 1 failure, 2 bad usage.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "impis", required_argument, NULL, 'i' },
		{ "k-file", required_argument, NULL, 'k' },
		{ "duration", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'O' },
		{ "threads", required_argument, NULL, 't' },
		{ "resync-every", required_argument, NULL, 'r' },
		{ "bad-every", required_argument, NULL, 'b' },
		{ "rate", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *k_file = NULL;
	char err[256];
	int c;

	memset(o, 0, sizeof(*o));
	o->threads = 2;
	o->rate = 100;
	o->timeout_ms = 5000;
	if (gba_cli_whole_names("soak-ue", argc, argv, opts))
		return -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("soak-ue"); return 1;
		case '?':
			fprintf(stderr, "soak-ue: unknown option '%s'\n", argv[optind - 1]);
			gba_cli_unknown("soak-ue", opts, "hV");
			return -1;
		case 'u': o->url = optarg; break;
		case 'i': o->impis_path = optarg; break;
		case 'k': k_file = optarg; break;
		case 'd': o->duration = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'O': o->out_path = optarg; break;
		case 't': o->threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o->resync_every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o->bad_every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': o->rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o->timeout_ms = (int)strtol(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	if (!o->url || !o->impis_path || !o->out_path || !k_file || !o->duration ||
	    o->threads < 1 || o->threads > 64 || o->timeout_ms < 1 || o->rate < 1)
		return -1;
	if (key_file_milenage(k_file, o->k, o->opc, err, sizeof(err))) {
		fprintf(stderr, "soak-ue: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct shared sh;
	struct worker *w;
	struct counts t = { 0 };

	int rc = parse_options(argc, argv, &o);

	if (rc > 0)
		return 0;
	if (rc) {
		usage(stderr);
		return 2;
	}
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	if (ub_url_parse(o.url, &sh.url) || ub_net_resolve(&sh.url, &sh.addr) ||
	    load_impis(&sh, o.impis_path) || !(sh.out = fopen(o.out_path, "a"))) {
		fprintf(stderr, "soak-ue: bad --url, --impis or --out\n");
		return 2;
	}
	gba_aka_key_milenage(&sh.key, o.k, o.opc, 0);
	gba_milenage_init(&sh.mil, o.k, o.opc);
	pthread_mutex_init(&sh.out_lock, NULL);
	sh.end_ns = bench_now_ns() + (long long)o.duration * 1000000000LL;
	w = calloc(o.threads, sizeof(*w));
	if (!w)
		return 1;
	for (unsigned i = 0; i < o.threads; i++) {
		w[i].sh = &sh;
		w[i].index = i;
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	}
	for (unsigned i = 0; i < o.threads; i++) {
		pthread_join(w[i].thread, NULL);
		t.ok += w[i].c.ok;
		t.failed += w[i].c.failed;
		t.challenges += w[i].c.challenges;
		t.resyncs += w[i].c.resyncs;
		t.bad += w[i].c.bad;
		t.bad_refused += w[i].c.bad_refused;
	}
	printf("soak-ue: %" PRIu64 " bootstraps ok, %" PRIu64 " failed, %" PRIu64
	       " challenges, %" PRIu64 " resyncs, %" PRIu64 " bad requests (%" PRIu64
	       " refused as they should be)\n",
	       t.ok, t.failed, t.challenges, t.resyncs, t.bad, t.bad_refused);
	fclose(sh.out);
	gba_milenage_clear(&sh.mil);
	gba_wipe(&sh.key, sizeof(sh.key));
	free(sh.impis);
	free(w);
	return 0;
}
