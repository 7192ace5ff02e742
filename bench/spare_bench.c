/*
 * spare_bench.c - the BSF's spare-vector cache (bsf/av_spare.c) alone: how
 * many users' spares it holds, how many vectors a fleet draws per
 * bootstrap through it, and what one call costs, with one thread and two.
 * It prints, it judges nothing.
 *
 *   spare_bench [USERS ...]          (default: 2000 10000 100000)
 *
 * For each USERS, with a ttl far longer than the run (so only the cache's
 * size and placement count, not the freshness rule):
 *   held    - 4 spares kept for each of USERS users, then one taken from
 *             each: how many users still had theirs;
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

/* Users of users who still have a spare after all were given some. */
static size_t held(size_t users)
{
	struct av_spare *s = av_spare_new(TTL);
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
	struct av_spare *s = av_spare_new(TTL);
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
	int rc = gba_cli_simple("spare_bench", argc, argv, NULL,
				"usage: spare_bench [USERS ...]  (default: 2000 10000 100000)\n");
	const char *const *list = argc > 1 ? (const char *const *)argv + 1 : dflt;
	int n = argc > 1 ? argc - 1 : 3;

	if (rc >= 0)
		return rc;
	printf("%10s %10s %8s %10s %12s %12s %10s\n", "users", "held", "held %", "fleet v/b",
	       "ns/call 1t", "ns/call 2t", "v/b 2t");
	for (int a = 0; a < n; a++) {
		size_t users = strtoul(list[a], NULL, 10);
		double ns1, per1, ns2, per2;

		if (users < 2) {
			fprintf(stderr, "spare_bench: USERS is a count of at least 2\n");
			return GBA_CLI_EXIT_USAGE;
		}
		size_t h = held(users);
		if (fleet(users, 1, &ns1, &per1) || fleet(users, 2, &ns2, &per2)) {
			fprintf(stderr, "spare_bench: out of memory\n");
			return 1;
		}
		printf("%10zu %10zu %7.1f%% %10.2f %12.0f %12.0f %10.2f\n", users, h,
		       100.0 * (double)h / (double)users, per1, ns1, ns2, per2);
	}
	return 0;
}
