/*
 * test_tuak.c - TUAK (TS 35.231) against the TS 35.233 conformance test
 * sets (tests/vectors/tuak_sets.h says where each set came from), and the
 * argument checks of gba/tuak.h.
 *
 * Output lengths are not spelled out in the sets: each is implied by the
 * length of the expected hex string, and that length is also what selects
 * the TUAK instance, so a wrong length shows up as a wrong value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <gba/tuak.h>
#include <gba/util.h>

#include "tuak_sets.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define N_SETS ARRAY_LEN(tuak_test_sets)

/* Decode a hex string from the sets; returns its length in octets. */
static size_t unhex(uint8_t *out, size_t out_size, const char *hex)
{
	size_t len = 0;

	assert_non_null(hex);
	assert_int_equal(gba_hex_decode(out, out_size, &len, hex, strlen(hex)),
			 GBA_OK);
	return len;
}

/* Compare bytes, not strings, so that the sets may use either case. */
static void assert_hex_equal(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[32];

	assert_int_equal(unhex(want, sizeof(want), hex), len);
	assert_memory_equal(got, want, len);
}

/* The inputs of one set, decoded, with TOPc taken from the set. */
struct tuak_case {
	struct gba_tuak_key key;
	uint8_t rand[16], sqn[6], amf[2], top[32];
	size_t mac_len, res_len, ck_len, ik_len;
};

static void load_case(struct tuak_case *c, const struct tuak_test_set *t)
{
	uint8_t scratch[32];

	memset(c, 0, sizeof(*c));
	c->key.k_len = unhex(c->key.k, sizeof(c->key.k), t->k);
	assert_true(c->key.k_len == 16 || c->key.k_len == 32);
	assert_int_equal(unhex(c->rand, sizeof(c->rand), t->rand), 16);
	assert_int_equal(unhex(c->sqn, sizeof(c->sqn), t->sqn), 6);
	assert_int_equal(unhex(c->amf, sizeof(c->amf), t->amf), 2);
	assert_int_equal(unhex(c->top, sizeof(c->top), t->top), 32);
	assert_int_equal(unhex(c->key.topc, sizeof(c->key.topc), t->topc), 32);
	c->key.iterations = t->iterations;

	c->mac_len = unhex(scratch, sizeof(scratch), t->f1);
	assert_int_equal(unhex(scratch, sizeof(scratch), t->f1star),
			 c->mac_len);
	c->res_len = unhex(scratch, sizeof(scratch), t->f2);
	c->ck_len = unhex(scratch, sizeof(scratch), t->f3);
	c->ik_len = unhex(scratch, sizeof(scratch), t->f4);
	assert_int_equal(unhex(scratch, sizeof(scratch), t->f5), 6);
	assert_int_equal(unhex(scratch, sizeof(scratch), t->f5star), 6);
}

static void check_set(const struct tuak_test_set *t)
{
	struct tuak_case c;
	uint8_t topc[32], mac[32], res[32], ck[32], ik[32], ak[6], ak_s[6];

	print_message("TS 35.233 set %d\n", t->set);
	load_case(&c, t);

	assert_int_equal(gba_tuak_topc(topc, c.key.k, c.key.k_len, c.top,
				       c.key.iterations), GBA_OK);
	assert_hex_equal(topc, 32, t->topc);

	assert_int_equal(gba_tuak_f1(&c.key, c.rand, c.sqn, c.amf, mac,
				     c.mac_len), GBA_OK);
	assert_hex_equal(mac, c.mac_len, t->f1);
	assert_int_equal(gba_tuak_f1s(&c.key, c.rand, c.sqn, c.amf, mac,
				      c.mac_len), GBA_OK);
	assert_hex_equal(mac, c.mac_len, t->f1star);

	assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, c.res_len,
					ck, c.ck_len, ik, c.ik_len, ak),
			 GBA_OK);
	assert_hex_equal(res, c.res_len, t->f2);
	assert_hex_equal(ck, c.ck_len, t->f3);
	assert_hex_equal(ik, c.ik_len, t->f4);
	assert_hex_equal(ak, 6, t->f5);

	assert_int_equal(gba_tuak_f5s(&c.key, c.rand, ak_s), GBA_OK);
	assert_hex_equal(ak_s, 6, t->f5star);
}

static void test_all_sets(void **state)
{
	unsigned seen = 0;

	(void)state;
	for (size_t i = 0; i < N_SETS; i++) {
		check_set(&tuak_test_sets[i]);
		if (tuak_test_sets[i].set >= 1 && tuak_test_sets[i].set <= 6)
			seen |= 1u << tuak_test_sets[i].set;
	}
	/* TS 35.233 has six sets; all of them must be in the file. */
	assert_int_equal(seen, 0x7e);
}

/*
 * Each output, asked for alone with the others NULL, is the same as when
 * all are asked for together; the lengths still pick the instance.
 */
static void test_f2345_null_outputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SETS; i++) {
		const struct tuak_test_set *t = &tuak_test_sets[i];
		struct tuak_case c;
		uint8_t res[32], ck[32], ik[32], ak[6];

		load_case(&c, t);
		memset(res, 0xa5, sizeof(res));
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, c.res_len,
						NULL, c.ck_len, NULL, c.ik_len,
						NULL), GBA_OK);
		assert_hex_equal(res, c.res_len, t->f2);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, NULL, c.res_len,
						ck, c.ck_len, NULL, c.ik_len,
						NULL), GBA_OK);
		assert_hex_equal(ck, c.ck_len, t->f3);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, NULL, c.res_len,
						NULL, c.ck_len, ik, c.ik_len,
						NULL), GBA_OK);
		assert_hex_equal(ik, c.ik_len, t->f4);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, NULL, c.res_len,
						NULL, c.ck_len, NULL, c.ik_len,
						ak), GBA_OK);
		assert_hex_equal(ak, 6, t->f5);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, c.res_len,
						NULL, c.ck_len, ik, c.ik_len,
						NULL), GBA_OK);
		assert_hex_equal(res, c.res_len, t->f2);
		assert_hex_equal(ik, c.ik_len, t->f4);
		/* Nothing asked for: still a valid call. */
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, NULL, c.res_len,
						NULL, c.ck_len, NULL, c.ik_len,
						NULL), GBA_OK);
	}
}

/* Outputs are written to exactly their length, nothing past it. */
static void test_no_overrun(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	struct tuak_case c;
	uint8_t buf[4][40];
	static const uint8_t canary[40] = { 0 };

	(void)state;
	load_case(&c, t);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gba_tuak_f1(&c.key, c.rand, c.sqn, c.amf, buf[0],
				     c.mac_len), GBA_OK);
	assert_memory_equal(buf[0] + c.mac_len, canary, 40 - c.mac_len);
	assert_int_equal(gba_tuak_f2345(&c.key, c.rand, buf[1], c.res_len,
					buf[2], c.ck_len, buf[3], c.ik_len,
					NULL), GBA_OK);
	assert_memory_equal(buf[1] + c.res_len, canary, 40 - c.res_len);
	assert_memory_equal(buf[2] + c.ck_len, canary, 40 - c.ck_len);
	assert_memory_equal(buf[3] + c.ik_len, canary, 40 - c.ik_len);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gba_tuak_f5s(&c.key, c.rand, buf[0]), GBA_OK);
	assert_memory_equal(buf[0] + 6, canary, 40 - 6);
}

/* TOPc may be computed in place, over TOP. */
static void test_topc_in_place(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	struct tuak_case c;
	uint8_t buf[32];

	(void)state;
	load_case(&c, t);
	memcpy(buf, c.top, 32);
	assert_int_equal(gba_tuak_topc(buf, c.key.k, c.key.k_len, buf,
				       c.key.iterations), GBA_OK);
	assert_hex_equal(buf, 32, t->topc);
}

static void test_bad_lengths(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	struct tuak_case c;
	struct gba_tuak_key bad;
	uint8_t out[32], res[32], ck[32], ik[32], ak[6];
	static const size_t bad_mac[] = { 0, 4, 6, 12, 24, 33, 64 };
	static const size_t bad_res[] = { 0, 2, 3, 6, 12, 24, 33 };
	static const size_t bad_ckik[] = { 0, 8, 15, 17, 24, 33 };
	static const size_t bad_k[] = { 0, 15, 17, 20, 24, 31, 33 };

	(void)state;
	load_case(&c, t);

	for (size_t i = 0; i < ARRAY_LEN(bad_k); i++) {
		bad = c.key;
		bad.k_len = bad_k[i];
		assert_int_equal(gba_tuak_topc(out, c.key.k, bad_k[i], c.top,
					       1), GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f1(&bad, c.rand, c.sqn, c.amf, out,
					     8), GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f1s(&bad, c.rand, c.sqn, c.amf, out,
					      8), GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f2345(&bad, c.rand, res, 8, ck, 16,
						ik, 16, ak),
				 GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f5s(&bad, c.rand, ak),
				 GBA_ERR_BAD_LENGTH);
	}

	for (size_t i = 0; i < ARRAY_LEN(bad_mac); i++) {
		assert_int_equal(gba_tuak_f1(&c.key, c.rand, c.sqn, c.amf, out,
					     bad_mac[i]), GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f1s(&c.key, c.rand, c.sqn, c.amf, out,
					      bad_mac[i]), GBA_ERR_BAD_LENGTH);
	}

	for (size_t i = 0; i < ARRAY_LEN(bad_res); i++) {
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand,
						res, bad_res[i],
						ck, 16, ik, 16, ak),
				 GBA_ERR_BAD_LENGTH);
		/* The length counts even when RES itself is not wanted. */
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand,
						NULL, bad_res[i],
						ck, 16, ik, 16, ak),
				 GBA_ERR_BAD_LENGTH);
	}

	for (size_t i = 0; i < ARRAY_LEN(bad_ckik); i++) {
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, 8,
						ck, bad_ckik[i], ik, 16, ak),
				 GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, 8,
						ck, 16, ik, bad_ckik[i], ak),
				 GBA_ERR_BAD_LENGTH);
		assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, 8,
						NULL, bad_ckik[i], NULL, 16,
						ak),
				 GBA_ERR_BAD_LENGTH);
	}

	/* A 32-bit RES is fine for f2 but is not a MAC length. */
	assert_int_equal(gba_tuak_f2345(&c.key, c.rand, res, 4, ck, 16, ik, 16,
					ak), GBA_OK);
	assert_int_equal(gba_tuak_f1(&c.key, c.rand, c.sqn, c.amf, out, 4),
			 GBA_ERR_BAD_LENGTH);
}

static void test_bad_iterations(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	struct tuak_case c;
	uint8_t out[32], ak[6];

	(void)state;
	load_case(&c, t);
	c.key.iterations = 0;
	assert_int_equal(gba_tuak_topc(out, c.key.k, c.key.k_len, c.top, 0),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1(&c.key, c.rand, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1s(&c.key, c.rand, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f2345(&c.key, c.rand, out, 8, NULL, 16,
					NULL, 16, ak), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f5s(&c.key, c.rand, ak), GBA_ERR_INVALID_ARG);
}

static void test_null_args(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	struct tuak_case c;
	uint8_t out[32], ak[6];
	const struct gba_tuak_key *k;

	(void)state;
	load_case(&c, t);
	k = &c.key;

	assert_int_equal(gba_tuak_topc(NULL, k->k, k->k_len, c.top, 1),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_topc(out, NULL, k->k_len, c.top, 1),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_topc(out, k->k, k->k_len, NULL, 1),
			 GBA_ERR_INVALID_ARG);

	assert_int_equal(gba_tuak_f1(NULL, c.rand, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1(k, NULL, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1(k, c.rand, NULL, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1(k, c.rand, c.sqn, NULL, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1(k, c.rand, c.sqn, c.amf, NULL, 8),
			 GBA_ERR_INVALID_ARG);

	assert_int_equal(gba_tuak_f1s(NULL, c.rand, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1s(k, NULL, c.sqn, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1s(k, c.rand, NULL, c.amf, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1s(k, c.rand, c.sqn, NULL, out, 8),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f1s(k, c.rand, c.sqn, c.amf, NULL, 8),
			 GBA_ERR_INVALID_ARG);

	assert_int_equal(gba_tuak_f2345(NULL, c.rand, out, 8, NULL, 16, NULL,
					16, ak), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f2345(k, NULL, out, 8, NULL, 16, NULL, 16,
					ak), GBA_ERR_INVALID_ARG);

	assert_int_equal(gba_tuak_f5s(NULL, c.rand, ak), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f5s(k, NULL, ak), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_tuak_f5s(k, c.rand, NULL), GBA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_sets),
		cmocka_unit_test(test_f2345_null_outputs),
		cmocka_unit_test(test_no_overrun),
		cmocka_unit_test(test_topc_in_place),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_iterations),
		cmocka_unit_test(test_null_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
