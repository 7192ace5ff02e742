/*
 * test_usim_state.c - the soft USIM's SQN state file: round trip, mode
 * 0600, a missing file, corrupt files, and the resync helper.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "usim_state.h"

static char dir[] = "/tmp/test-usim-state-XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/card.sqn", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct gba_usim_sqn a, b;
	struct stat st;
	int created;

	unlink(path);
	assert_int_equal(usim_state_load(path, &a, &created), GBA_OK);
	assert_true(created);
	assert_int_equal(a.ind_bits, 5);
	assert_int_equal(a.delta, UINT64_C(1) << 28);
	for (unsigned i = 0; i < GBA_IND_SLOTS_MAX; i++)
		a.seq_ms[i] = i * 1000 + 7;
	a.seq_ms[31] = GBA_SQN_MAX >> 5;
	assert_int_equal(usim_state_save(path, &a), GBA_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(usim_state_load(path, &b, &created), GBA_OK);
	assert_false(created);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Saving again replaces the file whole. */
	a.seq_ms[3] = 99;
	assert_int_equal(usim_state_save(path, &a), GBA_OK);
	assert_int_equal(usim_state_load(path, &b, &created), GBA_OK);
	assert_int_equal(b.seq_ms[3], 99);
}

static void test_corrupt(void **state)
{
	(void)state;
	struct gba_usim_sqn s;
	int created;
	char good[2048];
	size_t n = (size_t)snprintf(good, sizeof(good), "gba-usim-sqn 1\nind_bits 5\ndelta 268435456\n");
	for (unsigned i = 0; i < 32; i++)
		n += (size_t)snprintf(good + n, sizeof(good) - n, "seq %u 5\n", i);
	write_file(good);
	assert_int_equal(usim_state_load(path, &s, &created), GBA_OK);

	static const char *const bad[] = {
		"",
		"something else\n",
		"gba-usim-sqn 2\nind_bits 5\ndelta 1\n",
		"gba-usim-sqn 1\nind_bits 6\ndelta 1\n",
		"gba-usim-sqn 1\nind_bits 5\ndelta 1\nseq 0 1\n",          /* too few slots */
		"gba-usim-sqn 1\nind_bits 5\ndelta x\n",
		"gba-usim-sqn 1\nind_bits -1\ndelta 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		assert_int_equal(usim_state_load(path, &s, &created), GBA_ERR_PARSE);
	}
	/* Slots out of order, a SEQ beyond 43 bits, trailing junk. */
	char worse[2200];
	memcpy(worse, good, n + 1);
	char *p = strstr(worse, "seq 1 5");
	p[4] = '2';
	write_file(worse);
	assert_int_equal(usim_state_load(path, &s, &created), GBA_ERR_PARSE);
	memcpy(worse, good, n + 1);
	p = strstr(worse, "seq 7 5");
	memcpy(p, "seq 7 9999999999999999\n", 24);
	write_file(worse);
	assert_int_equal(usim_state_load(path, &s, &created), GBA_ERR_PARSE);
	snprintf(worse, sizeof(worse), "%sextra\n", good);
	write_file(worse);
	assert_int_equal(usim_state_load(path, &s, &created), GBA_ERR_PARSE);
}

static void test_advance(void **state)
{
	(void)state;
	struct gba_usim_sqn s;

	gba_usim_sqn_init(&s, 5, UINT64_C(1) << 28);
	s.seq_ms[4] = 10;
	s.seq_ms[9] = 3;
	assert_int_equal(usim_state_advance(&s, 5), GBA_OK);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(s.seq_ms[i], 15);
	/* The network's next SQN in slot 0 (SEQ 11) is no longer fresh. */
	assert_int_equal(gba_usim_sqn_check(&s, (UINT64_C(11) << 5) | 0), GBA_ERR_SYNC_FAILURE);
	assert_int_equal(usim_state_advance(&s, GBA_SQN_MAX), GBA_ERR_SQN_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_advance),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
