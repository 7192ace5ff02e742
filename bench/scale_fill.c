/*
 * scale_fill.c - fills a session store with N live sessions for the scale
 * curve (bench/run-scale.sh), samples B-TIDs of what it filled for
 * zn-load, and times the store's own upkeep at that size.  It prints, it
 * judges nothing.
 *
 *   scale-fill --store URI --count N [--start I] [--threads T]
 *              [--domain D] [--lifetime S]
 *              [--sample K --sample-file FILE] [--probe]
 *
 * Session i (I <= i < I + N) is the same every time: its RAND, IMPI
 * ("00102" + i in 15 digits + "@ims.mnc001.mcc001.3gppnetwork.org", as
 * long as ub-load's), Ks and type follow from i alone, so a store can be
 * filled in steps (--start) and a sample of B-TIDs drawn from everything
 * filled so far without keeping a list of them.  Every session goes in
 * through gba_session_store_put() (the real schema and encoding, the same
 * checks), created now and expiring after --lifetime seconds (the BSF's
 * bsf.key_lifetime, 24 h by default), without a GUSS (one user per B-TID,
 * as a fleet bootstrapping once a day; the GUSS's own cost is in
 * docs/session-store.md).  The Ks are made up: these are no users' keys.
 *
 * --sample K writes K B-TIDs drawn at random from sessions 0 .. I+N-1 to
 * FILE, one a line (zn-load --btid-file).  The store's stats() (live
 * sessions, bytes) are printed with the time the call took.  --probe
 * times, after the fill, what the BSF's housekeeper calls at this size: a
 * purge with nothing expired (the usual minute), and a purge of
 * PROBE_EXPIRED sessions that have just expired (SQLite: Redis expires
 * keys itself, and would keep those in memory until it finds them).
 *
 * With an SQLite store, a URI such as sqlite:F?commit_ms=1000&batch=65536
 * fills faster (fewer, larger transactions); the file is the same.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/session_store.h>
#include <gba/util.h>

#include "bench_util.h"
#include "gba_cli.h"

#define DEFAULT_DOMAIN "bsf.bench.test"
#define DEFAULT_LIFETIME 86400
#define MAX_THREADS 16
#define PROBE_EXPIRED 10000       /* sessions the probe lets expire, then purges */
#define PROBE_BASE (UINT64_C(1) << 60)   /* their indices: apart from any fill */
#define PROGRESS_EVERY 1000000

struct options {
	const char *store;
	const char *domain;
	const char *sample_file;
	uint64_t count, start, sample;
	unsigned threads;
	int64_t lifetime;
	int probe;
};

struct filler {
	const struct options *o;
	struct gba_session_store *st;
	unsigned thread;
	int64_t lifetime;
	uint64_t done, failed;
	gba_err last_err;
};

/* splitmix64: the i-th session's octets, the same on every run. */
static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static void fill_octets(uint8_t *out, size_t n, uint64_t seed)
{
	for (size_t k = 0; k < n; k += 8) {
		uint64_t v = mix(seed + k);
		for (size_t b = 0; b < 8 && k + b < n; b++)
			out[k + b] = (uint8_t)(v >> (8 * b));
	}
}

/* Session i: RAND, B-TID, IMPI, Ks and type from i; times from the caller. */
static int make_session(struct gba_session *s, const char *domain, uint64_t i)
{
	fill_octets(s->rand, sizeof(s->rand), i * 4);
	fill_octets(s->ks, sizeof(s->ks), (i * 4) ^ UINT64_C(0x5ca1ab1e00000000));
	snprintf(s->impi, sizeof(s->impi), "00102%015llu@ims.mnc001.mcc001.3gppnetwork.org",
		 (unsigned long long)(i % UINT64_C(1000000000000000)));
	s->type = (i & 1) ? GBA_TYPE_U : GBA_TYPE_ME;
	return gba_btid(s->btid, sizeof(s->btid), s->rand, domain, strlen(domain)) ? -1 : 0;
}

static void *fill_run(void *arg)
{
	struct filler *f = arg;
	const struct options *o = f->o;
	struct gba_session s;

	for (uint64_t i = o->start + f->thread; i < o->start + o->count; i += o->threads) {
		gba_err err = GBA_ERR_INVALID_ARG;
		if (!make_session(&s, o->domain, i)) {
			s.created = (int64_t)time(NULL);
			s.expiry = s.created + f->lifetime;
			err = gba_session_store_put(f->st, &s, NULL, 0);
		}
		if (err) {
			f->failed++;
			f->last_err = err;
		} else {
			f->done++;
		}
		if (f->thread == 0 && (i - o->start) % PROGRESS_EVERY < o->threads && i > o->start)
			fprintf(stderr, "scale-fill: %llu ...\n",
				(unsigned long long)(i - o->start));
	}
	gba_wipe(&s, sizeof(s));
	return NULL;
}

static int fill(const struct options *o, struct gba_session_store *st)
{
	struct filler f[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	uint64_t done = 0, failed = 0;
	gba_err last = GBA_OK;
	double cpu0 = bench_self_cpu();
	long long t0 = bench_now_ns();
	unsigned started = 0;

	for (unsigned k = 0; k < o->threads; k++) {
		f[k] = (struct filler){ .o = o, .st = st, .thread = k, .lifetime = o->lifetime };
		if (pthread_create(&t[k], NULL, fill_run, &f[k]))
			break;
		started++;
	}
	for (unsigned k = 0; k < started; k++) {
		pthread_join(t[k], NULL);
		done += f[k].done;
		failed += f[k].failed;
		if (f[k].failed)
			last = f[k].last_err;
	}
	if (started < o->threads) {
		fprintf(stderr, "scale-fill: cannot start threads\n");
		return -1;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	printf("fill              %llu sessions (%llu .. %llu) in %.1f s: %.0f puts/s,"
	       " %.1f us CPU per put here, %llu failed%s%s\n",
	       (unsigned long long)done, (unsigned long long)o->start,
	       (unsigned long long)(o->start + o->count - 1), secs, (double)done / secs,
	       done ? (bench_self_cpu() - cpu0) * 1e6 / (double)done : 0.0,
	       (unsigned long long)failed, failed ? ": " : "", failed ? gba_strerror(last) : "");
	return failed ? -1 : 0;
}

static double time_call_ms(long long t0)
{
	return (double)(bench_now_ns() - t0) / 1e6;
}

/*
 * The store's own figures: live sessions and its bytes (SQLite: pages in
 * use; Redis: used_memory over used_memory_startup).  stats() writes what
 * is staged first, so a fill is in the file when this returns.
 */
static int report_store(struct gba_session_store *st)
{
	uint64_t live = 0, bytes = 0;
	long long t0 = bench_now_ns();
	gba_err err = gba_session_store_stats(st, (int64_t)time(NULL), &live, &bytes);

	if (err) {
		fprintf(stderr, "scale-fill: stats: %s\n", gba_strerror(err));
		return -1;
	}
	printf("store             %llu live sessions, %llu bytes (%.1f per live session);"
	       " stats() took %.1f ms\n", (unsigned long long)live, (unsigned long long)bytes,
	       live ? (double)bytes / (double)live : 0.0, time_call_ms(t0));
	return 0;
}

/* K B-TIDs drawn at random (with replacement) from sessions 0 .. end-1. */
static int write_sample(const struct options *o, uint64_t end)
{
	FILE *out = fopen(o->sample_file, "w");
	struct gba_session s;
	uint64_t r = (uint64_t)time(NULL);

	if (!out) {
		perror(o->sample_file);
		return -1;
	}
	for (uint64_t k = 0; k < o->sample; k++) {
		r = mix(r);
		if (make_session(&s, o->domain, r % end) == 0)
			fprintf(out, "%s\n", s.btid);
	}
	gba_wipe(&s, sizeof(s));
	return fclose(out) ? -1 : 0;
}

/* The housekeeper's cost at this size: an empty purge, a purge of expired. */
static int probe(const struct options *o, struct gba_session_store *st)
{
	struct gba_session s;
	uint64_t purged = 0, put = 0;
	int64_t now = (int64_t)time(NULL);
	long long t0 = bench_now_ns();
	gba_err err = gba_session_store_purge(st, now, &purged);
	struct timespec pause = { 2, 0 };

	printf("probe purge       %.1f ms with nothing expired (%llu purged)%s\n",
	       time_call_ms(t0), (unsigned long long)purged, err ? " failed" : "");
	for (uint64_t i = 0; i < PROBE_EXPIRED; i++) {
		if (make_session(&s, o->domain, (PROBE_BASE) + i))
			continue;
		s.created = now;
		s.expiry = now + 1;
		put += gba_session_store_put(st, &s, NULL, 0) == GBA_OK;
	}
	gba_wipe(&s, sizeof(s));
	nanosleep(&pause, NULL);
	purged = 0;
	t0 = bench_now_ns();
	err = gba_session_store_purge(st, (int64_t)time(NULL), &purged);
	double ms = time_call_ms(t0);
	printf("probe purge       %.1f ms for %llu expired of %llu put (%.1f us each)%s\n", ms,
	       (unsigned long long)purged, (unsigned long long)put,
	       purged ? ms * 1000 / (double)purged : 0.0, err ? " failed" : "");
	return err ? -1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: scale-fill --store URI --count N [--start I] [--threads T]\n"
		"                  [--domain D] [--lifetime S] [--sample K --sample-file FILE]"
		" [--probe]\n"
		"       scale-fill -h|--help, -V|--version\n"
		"Exit codes: 0 done, 1 a store error, 2 bad usage.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (!*s || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "domain", required_argument, NULL, 'd' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "sample", required_argument, NULL, 'k' },
		{ "sample-file", required_argument, NULL, 'f' },
		{ "probe", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct options){ .domain = DEFAULT_DOMAIN, .threads = 1,
			       .lifetime = DEFAULT_LIFETIME };
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("scale-fill"); return 1;
		case '?': gba_cli_unknown("scale-fill", longopts, "hV"); return -1;
		case 's': o->store = optarg; break;
		case 'd': o->domain = optarg; break;
		case 'f': o->sample_file = optarg; break;
		case 'p': o->probe = 1; break;
		case 'n': if (parse_u64(optarg, &o->count)) return -1; break;
		case 'i': if (parse_u64(optarg, &o->start)) return -1; break;
		case 'k': if (parse_u64(optarg, &o->sample)) return -1; break;
		case 't':
			if (parse_u64(optarg, &v) || v < 1 || v > MAX_THREADS)
				return -1;
			o->threads = (unsigned)v;
			break;
		case 'l':
			if (parse_u64(optarg, &v) || v < 1 || v > 7u * 86400 * 52)
				return -1;
			o->lifetime = (int64_t)v;
			break;
		default: return -1;
		}
	}
	if (optind != argc || !o->store || (o->sample && !o->sample_file) ||
	    o->start + o->count >= (PROBE_BASE))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct gba_session_store *st;
	gba_err err;
	int rc = 0;

	rc = parse_args(argc, argv, &o);
	if (rc > 0)
		return 0;
	if (rc < 0) {
		usage(stderr);
		return 2;
	}
	err = gba_session_store_open(&st, o.store);
	if (err) {
		fprintf(stderr, "scale-fill: cannot open the store: %s\n", gba_strerror(err));
		return 1;
	}
	if (o.count && fill(&o, st))
		rc = 1;
	if (!rc && o.sample && (o.start + o.count == 0 || write_sample(&o, o.start + o.count)))
		rc = 1;
	if (!rc && report_store(st))
		rc = 1;
	if (!rc && o.probe && probe(&o, st))
		rc = 1;
	gba_session_store_close(st);
	return rc;
}
