/*
 * test_bsf_spare.c - the spare-vector cache of the GSUP and Cx sources
 * (bsf/av_spare.c): spares handed out once each, in order; none kept with
 * ttl 0; dropped on request (a resync); an older answer's spares never
 * replace a newer one's; keys that do not fit are not kept.  Its size
 * (av.spare_users): that many users' spares all stay, whatever their keys
 * hash to; past it the oldest answer's go first; expired ones are wiped
 * without being asked for; two threads never get each other's vectors.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "av_spare.h"

static void vectors(struct gba_av *av, size_t n, uint8_t first)
{
	memset(av, 0, n * sizeof(*av));
	for (size_t i = 0; i < n; i++) {
		av[i].rand[0] = (uint8_t)(first + i);
		av[i].xres_len = 8;
	}
}

static void test_in_order_once(void **state)
{
	struct av_spare *s = av_spare_new(60, 16);
	struct gba_av av[AV_SPARE_MAX], got;
	(void)state;

	assert_non_null(s);
	vectors(av, 3, 10);
	av_spare_keep(s, "alice@test", av, 3, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(av_spare_take(s, "alice@test", &got), 0);
		assert_int_equal(got.rand[0], 10 + i);
	}
	assert_int_equal(av_spare_take(s, "alice@test", &got), -1);
	assert_int_equal(av_spare_take(s, "bob@test", &got), -1);
	av_spare_free(s);
}

static void test_ttl_zero_keeps_none(void **state)
{
	struct av_spare *s = av_spare_new(0, 16);
	struct gba_av av[2], got;
	(void)state;

	vectors(av, 2, 1);
	av_spare_keep(s, "alice@test", av, 2, 1);
	assert_int_equal(av_spare_take(s, "alice@test", &got), -1);
	av_spare_free(s);
}

static void test_drop_and_order(void **state)
{
	struct av_spare *s = av_spare_new(60, 16);
	struct gba_av av[4], got;
	char long_key[AV_SPARE_KEY_MAX + 2];
	(void)state;

	vectors(av, 2, 1);
	av_spare_keep(s, "alice@test", av, 2, 5);
	av_spare_drop(s, "alice@test");                 /* a resync */
	assert_int_equal(av_spare_take(s, "alice@test", &got), -1);

	av_spare_keep(s, "alice@test", av, 2, 7);
	vectors(av, 2, 50);
	av_spare_keep(s, "alice@test", av, 2, 6);       /* older answer: ignored */
	assert_int_equal(av_spare_take(s, "alice@test", &got), 0);
	assert_int_equal(got.rand[0], 1);
	av_spare_keep(s, "alice@test", av, 2, 8);       /* newer: replaces */
	assert_int_equal(av_spare_take(s, "alice@test", &got), 0);
	assert_int_equal(got.rand[0], 50);

	memset(long_key, 'a', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	av_spare_keep(s, long_key, av, 2, 9);
	assert_int_equal(av_spare_take(s, long_key, &got), -1);
	av_spare_keep(s, "bob@test", av, AV_SPARE_MAX + 1, 10);   /* too many */
	assert_int_equal(av_spare_take(s, "bob@test", &got), -1);
	av_spare_free(s);
}

/* User i's key, as long as ub-load's IMPIs. */
static void key_of(size_t i, char *key, size_t size)
{
	snprintf(key, size, "00101%010zu@ims.mnc001.mcc001.3gppnetwork.org", i);
}

/* 4 spares tagged with user i (rand[0..3]) and their place (rand[4]). */
static void keep_user(struct av_spare *s, size_t i, uint64_t order)
{
	struct gba_av av[AV_SPARE_MAX];
	char key[64];
	uint32_t tag = (uint32_t)i;

	vectors(av, AV_SPARE_MAX, 0);
	for (size_t k = 0; k < AV_SPARE_MAX; k++) {
		memcpy(av[k].rand, &tag, sizeof(tag));
		av[k].rand[4] = (uint8_t)k;
	}
	key_of(i, key, sizeof(key));
	av_spare_keep(s, key, av, AV_SPARE_MAX, order);
}

/* How many of user i's spares come out, each checked to be i's, in order. */
static int take_user(struct av_spare *s, size_t i)
{
	struct gba_av got;
	char key[64];
	uint32_t tag;
	int n = 0, place = -1;

	key_of(i, key, sizeof(key));
	while (n <= AV_SPARE_MAX && !av_spare_take(s, key, &got)) {
		memcpy(&tag, got.rand, sizeof(tag));
		assert_int_equal(tag, (uint32_t)i);
		if (place >= 0)
			assert_int_equal(got.rand[4], place + 1);
		place = got.rand[4];
		n++;
	}
	return n;
}

/*
 * A cache made for N users holds N users' spares: the former fixed table
 * (4096 sets of 4 ways) lost 6 % of 10,000 users' to set conflicts.
 */
static void test_holds_its_size(void **state)
{
	static const size_t sizes[] = { 10000, 50000 };
	struct av_spare_stats st;
	(void)state;

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct av_spare *s = av_spare_new(60, sizes[z]);
		size_t lost = 0;

		assert_non_null(s);
		for (size_t i = 0; i < sizes[z]; i++)
			keep_user(s, i, i + 1);
		av_spare_stats(s, &st);
		assert_int_equal(st.users, sizes[z]);
		assert_int_equal(st.evicted, 0);
		for (size_t i = 0; i < sizes[z]; i++)
			lost += take_user(s, i) != AV_SPARE_MAX;
		assert_int_equal(lost, 0);
		av_spare_stats(s, &st);
		assert_int_equal(st.users, 0);
		av_spare_free(s);
	}
}

/* Past its size the oldest answers' spares go, and only as many as needed. */
static void test_evicts_oldest_beyond(void **state)
{
	struct av_spare *s = av_spare_new(60, 1000);
	struct av_spare_stats st;
	(void)state;

	assert_non_null(s);
	for (size_t i = 0; i < 1500; i++)
		keep_user(s, i, i + 1);
	av_spare_stats(s, &st);
	assert_int_equal(st.users, 1000);
	assert_int_equal(st.evicted, 500 * AV_SPARE_MAX);
	for (size_t i = 0; i < 500; i++)
		assert_int_equal(take_user(s, i), 0);
	for (size_t i = 500; i < 1500; i++)
		assert_int_equal(take_user(s, i), AV_SPARE_MAX);
	av_spare_free(s);
}

/*
 * Age is the answer's: new spares for a user make it the youngest; taking
 * one does not.  A dropped or used-up user's room is free again.
 */
static void test_refill_and_room(void **state)
{
	struct av_spare *s = av_spare_new(60, 3);
	struct av_spare_stats st;
	struct gba_av got;
	char key[64];
	(void)state;

	assert_non_null(s);
	keep_user(s, 0, 1);
	keep_user(s, 1, 2);
	keep_user(s, 2, 3);
	keep_user(s, 0, 4);             /* 0 refilled: 1 is the oldest now */
	key_of(2, key, sizeof(key));
	assert_int_equal(av_spare_take(s, key, &got), 0);   /* 2 taken from: no younger */
	keep_user(s, 3, 5);             /* full: 1 goes */
	assert_int_equal(take_user(s, 1), 0);
	assert_int_equal(take_user(s, 2), AV_SPARE_MAX - 1);    /* 2 used up: room */
	keep_user(s, 4, 6);
	key_of(0, key, sizeof(key));
	av_spare_drop(s, key);          /* a resync: room */
	keep_user(s, 5, 7);
	av_spare_stats(s, &st);
	assert_int_equal(st.evicted, AV_SPARE_MAX);         /* 1's */
	assert_int_equal(st.replaced, AV_SPARE_MAX);        /* 0's first answer's */
	assert_int_equal(st.resync, AV_SPARE_MAX);          /* 0's second */
	assert_int_equal(st.expired, 0);
	assert_int_equal(st.users, 3);
	assert_int_equal(st.vectors, 3 * AV_SPARE_MAX);
	assert_int_equal(take_user(s, 3), AV_SPARE_MAX);
	assert_int_equal(take_user(s, 4), AV_SPARE_MAX);
	assert_int_equal(take_user(s, 5), AV_SPARE_MAX);
	av_spare_free(s);
}

/* Past the ttl spares are refused, and wiped even if nobody asks for them. */
static void test_expired_wiped(void **state)
{
	struct av_spare *s = av_spare_new(1, 10);
	struct timespec pause = { 2, 100000000 };
	struct av_spare_stats st;
	(void)state;

	assert_non_null(s);
	keep_user(s, 0, 1);
	keep_user(s, 1, 2);
	nanosleep(&pause, NULL);        /* the ttl is whole seconds: 2 have passed */
	assert_int_equal(take_user(s, 2), 0);   /* any call wipes the expired */
	av_spare_stats(s, &st);
	assert_int_equal(st.users, 0);
	assert_int_equal(st.expired, 2 * AV_SPARE_MAX);
	assert_int_equal(take_user(s, 0), 0);
	keep_user(s, 0, 3);
	assert_int_equal(take_user(s, 0), AV_SPARE_MAX);
	av_spare_free(s);
}

/* Resident memory (kB) of this process. */
static long rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The range, and a cache for the most users costs memory only as used. */
static void test_sizes(void **state)
{
	struct av_spare *s;
	long before;
	(void)state;

	assert_null(av_spare_new(60, AV_SPARE_USERS_MAX + 1));
	before = rss_kb();
	s = av_spare_new(60, AV_SPARE_USERS_MAX);
	assert_non_null(s);
	for (size_t i = 0; i < 1000; i++)
		keep_user(s, i, i + 1);
	/* 16 M users' worth of address space; 1,000 users' of memory. */
	assert_true(rss_kb() - before < 16 * 1024);
	assert_int_equal(take_user(s, 999), AV_SPARE_MAX);
	av_spare_free(s);
	s = av_spare_new(60, 1);
	assert_non_null(s);
	keep_user(s, 0, 1);
	keep_user(s, 1, 2);
	assert_int_equal(take_user(s, 0), 0);
	assert_int_equal(take_user(s, 1), AV_SPARE_MAX);
	av_spare_free(s);
	s = av_spare_new(60, 0);        /* 0: the default size */
	assert_non_null(s);
	av_spare_free(s);
}

struct racer {
	struct av_spare *s;
	unsigned first;
};

/* Keeps and takes on 200 users, half shared with the other thread. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct gba_av got;
	char key[64];
	uint32_t tag;

	for (unsigned n = 0; n < 20000; n++) {
		size_t i = r->first + n % 200;

		key_of(i, key, sizeof(key));
		if (av_spare_take(r->s, key, &got)) {
			keep_user(r->s, i, ((uint64_t)n << 1) | (r->first != 0));
			continue;
		}
		memcpy(&tag, got.rand, sizeof(tag));
		if (tag != i)
			return (void *)1;
	}
	return NULL;
}

/* Two threads on a cache smaller than their users: every vector its user's. */
static void test_threads(void **state)
{
	struct av_spare *s = av_spare_new(60, 50);
	struct racer r[2] = { { s, 0 }, { s, 100 } };
	pthread_t t[2];
	void *bad[2];
	(void)state;

	assert_non_null(s);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, race, &r[k]), 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_join(t[k], &bad[k]), 0);
	assert_null(bad[0]);
	assert_null(bad[1]);
	av_spare_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_once),
		cmocka_unit_test(test_ttl_zero_keeps_none),
		cmocka_unit_test(test_drop_and_order),
		cmocka_unit_test(test_holds_its_size),
		cmocka_unit_test(test_evicts_oldest_beyond),
		cmocka_unit_test(test_refill_and_room),
		cmocka_unit_test(test_expired_wiped),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
