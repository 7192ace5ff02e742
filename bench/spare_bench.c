/*
 * spare_bench.c - the BSF's spare-vector cache (bsf/av_spare.c) alone: how
 * many users' spares it holds, how many vectors a fleet draws per
 * bootstrap through it, and what one call costs, with one thread and two.
 * It prints, it judges nothing.
 *
 *   spare_bench [--cache SIZE] [USERS ...]   (default: 2000 10000 100000)
 *
 * For each USERS, with a cache made for SIZE users (av.spare_users, its
 * default when not given) and a ttl far longer than the run (so only the
 * cache's size and placement count, not the freshness rule):
 *   held    - 4 spares kept for each of USERS users, then one taken from
 *             each: how many users still had theirs, and the RSS the
 *             filled cache added (MB);
 *   fleet   - ub-load's pattern (bench/ub_load.c): users bootstrap in
 *             turn, ROUNDS times each; a bootstrap takes a spare, or, when
 *             there is none, "asks the HSS" for 5 vectors and keeps 4:
 *             vectors drawn per bootstrap (1.00: none wasted; 5.00: every
 *             spare lost before its use);
 *   ns/call - that fleet loop timed, one thread, then two threads on
 *             halves of the users (the lock shared).
 * Keys are IMPIs as long as ub-load's.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "av_spare.h"
#include "bench_util.h"
#include "gba_cli.h"

#define ROUNDS 10
#define VECTORS 5           /* per HSS answer: 1 used, 4 kept */
#define TTL 3600            /* longer than any run */
#define KEY_SIZE 64

static size_t cache_size;    /* --cache; 0: the default */

static void key_of(size_t i, char *key)
{
	snprintf(key, KEY_SIZE, "00101%010zu@ims.mnc001.mcc001.3gppnetwork.org", i);
}

/* One HSS answer's worth of spares, recognisable by user. */
static void answer(size_t i, struct gba_av *av)
{
	memset(av, 0, (VECTORS - 1) * sizeof(*av));
	for (size_t k = 0; k < VECTORS - 1; k++) {
		memcpy(av[k].rand, &i, sizeof(i));
		av[k].xres_len = 8;
	}
}

struct fleet {
	struct av_spare *s;
	size_t first, users;    /* this thread's users */
	uint64_t order;         /* numbers its answers */
	uint64_t bootstraps, drawn;
	double seconds;
};

/* A bootstrap of user i: a spare, or a new answer. */
static void bootstrap(struct fleet *f, size_t i)
{
	char key[KEY_SIZE];
	struct gba_av av[VECTORS - 1], got;

	key_of(i, key);
	f->bootstraps++;
	if (!av_spare_take(f->s, key, &got))
		return;
	f->drawn += VECTORS;
	answer(i, av);
	av_spare_keep(f->s, key, av, VECTORS - 1, ++f->order);
}

static void *fleet_run(void *arg)
{
	struct fleet *f = arg;
	long long t0 = bench_now_ns();

	for (unsigned r = 0; r < ROUNDS; r++)
		for (size_t i = f->first; i < f->first + f->users; i++)
			bootstrap(f, i);
	f->seconds = (double)(bench_now_ns() - t0) / 1e9;
	return NULL;
}

/* Resident octets of this process. */
static double rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Users of users who still have a spare after all were given some; *mb the RSS added. */
static size_t held(size_t users, double *mb)
{
	double rss0 = rss_bytes();
	struct av_spare *s = av_spare_new(TTL, cache_size);
	struct gba_av av[VECTORS - 1], got;
	char key[KEY_SIZE];
	size_t found = 0;

	if (!s)
		return 0;
	for (size_t i = 0; i < users; i++) {
		key_of(i, key);
		answer(i, av);
		av_spare_keep(s, key, av, VECTORS - 1, i + 1);
	}
	*mb = (rss_bytes() - rss0) / 1e6;
	for (size_t i = 0; i < users; i++) {
		key_of(i, key);
		found += !av_spare_take(s, key, &got);
	}
	av_spare_free(s);
	return found;
}

/* The fleet loop on threads threads (1 or 2); ns per bootstrap, vectors per bootstrap. */
static int fleet(size_t users, unsigned threads, double *ns, double *per)
{
	struct av_spare *s = av_spare_new(TTL, cache_size);
	struct fleet f[2];
	pthread_t t[2];
	uint64_t boots = 0, drawn = 0;
	double secs = 0;

	if (!s)
		return -1;
	for (unsigned k = 0; k < threads; k++) {
		f[k] = (struct fleet){ .s = s, .first = k * (users / threads),
				       .users = users / threads, .order = (uint64_t)k << 40 };
		if (pthread_create(&t[k], NULL, fleet_run, &f[k]))
			return -1;
	}
	for (unsigned k = 0; k < threads; k++) {
		pthread_join(t[k], NULL);
		boots += f[k].bootstraps;
		drawn += f[k].drawn;
		secs = f[k].seconds > secs ? f[k].seconds : secs;
	}
	av_spare_free(s);
	*ns = secs * 1e9 / (double)boots * threads;
	*per = (double)drawn / (double)boots;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const dflt[] = { "2000", "10000", "100000" };
	static const struct option opts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int rc = gba_cli_simple("spare_bench", argc, argv, opts,
				"usage: spare_bench [--cache SIZE] [USERS ...]  "
				"(default: 2000 10000 100000)\n");
	int first = 1;

	if (rc >= 0)
		return rc;
	if (argc > 2 && !strcmp(argv[1], "--cache")) {
		cache_size = strtoul(argv[2], NULL, 10);
		first = 3;
	}
	const char *const *list = argc > first ? (const char *const *)argv + first : dflt;
	int n = argc > first ? argc - first : 3;

	printf("cache of %zu users (0: av.spare_users' default, %u), %zu octets each\n",
	       cache_size, AV_SPARE_USERS_DEFAULT, av_spare_bytes_per_user());
	printf("%10s %10s %8s %8s %10s %12s %12s %10s\n", "users", "held", "held %", "RSS MB",
	       "fleet v/b", "ns/call 1t", "ns/call 2t", "v/b 2t");
	for (int a = 0; a < n; a++) {
		size_t users = strtoul(list[a], NULL, 10);
		double ns1, per1, ns2, per2;

		if (users < 2) {
			fprintf(stderr, "spare_bench: USERS is a count of at least 2\n");
			return GBA_CLI_EXIT_USAGE;
		}
		double mb;
		size_t h = held(users, &mb);
		if (fleet(users, 1, &ns1, &per1) || fleet(users, 2, &ns2, &per2)) {
			fprintf(stderr, "spare_bench: out of memory\n");
			return 1;
		}
		printf("%10zu %10zu %7.1f%% %8.1f %10.2f %12.0f %12.0f %10.2f\n", users, h,
		       100.0 * (double)h / (double)users, mb, per1, ns1, ns2, per2);
	}
	return 0;
}
