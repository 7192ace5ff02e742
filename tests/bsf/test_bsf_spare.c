/*
 * test_bsf_spare.c - the spare-vector cache of the GSUP and Cx sources
 * (bsf/av_spare.c): spares handed out once each, in order; none kept with
 * ttl 0; dropped on request (a resync); an older answer's spares never
 * replace a newer one's; keys that do not fit are not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
	struct av_spare *s = av_spare_new(60);
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
	struct av_spare *s = av_spare_new(0);
	struct gba_av av[2], got;
	(void)state;

	vectors(av, 2, 1);
	av_spare_keep(s, "alice@test", av, 2, 1);
	assert_int_equal(av_spare_take(s, "alice@test", &got), -1);
	av_spare_free(s);
}

static void test_drop_and_order(void **state)
{
	struct av_spare *s = av_spare_new(60);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_once),
		cmocka_unit_test(test_ttl_zero_keeps_none),
		cmocka_unit_test(test_drop_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
