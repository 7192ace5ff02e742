/*
 * test_milenage.c - Milenage against the 3GPP TS 35.208 conformance test
 * sets (tests/vectors/milenage_sets.h says where each set came from).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gba/milenage.h>

#include "testutil.h"
#include "milenage_sets.h"

#define N_SETS (sizeof(milenage_test_sets) / sizeof(milenage_test_sets[0]))

static void check_set(const struct milenage_test_set *t)
{
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
	uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_s[6];
	struct gba_milenage_ctx ctx;

	print_message("TS 35.208 set %d\n", t->set);
	unhex(k, 16, t->k);
	unhex(rand, 16, t->rand);
	unhex(sqn, 6, t->sqn);
	unhex(amf, 2, t->amf);
	unhex(op, 16, t->op);

	gba_milenage_opc(opc, k, op);
	assert_hex_equal(opc, 16, t->opc);

	gba_milenage_init(&ctx, k, opc);
	gba_milenage_f1(&ctx, rand, sqn, amf, mac_a, mac_s);
	assert_hex_equal(mac_a, 8, t->f1);
	assert_hex_equal(mac_s, 8, t->f1star);

	gba_milenage_f2345(&ctx, rand, res, ck, ik, ak, ak_s);
	assert_hex_equal(res, 8, t->f2);
	assert_hex_equal(ck, 16, t->f3);
	assert_hex_equal(ik, 16, t->f4);
	assert_hex_equal(ak, 6, t->f5);
	assert_hex_equal(ak_s, 6, t->f5star);

	if (t->sres && t->kc) {
		uint8_t sres[4], kc[8];
		gba_milenage_gsm(&ctx, rand, sres, kc);
		assert_hex_equal(sres, 4, t->sres);
		assert_hex_equal(kc, 8, t->kc);
	}
	gba_milenage_clear(&ctx);
}

static void test_all_sets(void **state)
{
	(void)state;
	assert_true(N_SETS >= 5);
	for (size_t i = 0; i < N_SETS; i++)
		check_set(&milenage_test_sets[i]);
}

/* Any subset of outputs may be asked for; each must equal the full run. */
static void test_partial_outputs(void **state)
{
	(void)state;
	const struct milenage_test_set *t = &milenage_test_sets[0];
	uint8_t k[16], rand[16], opc[16], sqn[6], amf[2], out[16];
	struct gba_milenage_ctx ctx;
	unhex(k, 16, t->k);
	unhex(rand, 16, t->rand);
	unhex(opc, 16, t->opc);
	unhex(sqn, 6, t->sqn);
	unhex(amf, 2, t->amf);
	gba_milenage_init(&ctx, k, opc);

	gba_milenage_f1(&ctx, rand, sqn, amf, NULL, out);
	assert_hex_equal(out, 8, t->f1star);
	gba_milenage_f2345(&ctx, rand, NULL, NULL, out, NULL, NULL);
	assert_hex_equal(out, 16, t->f4);
	gba_milenage_f2345(&ctx, rand, NULL, NULL, NULL, NULL, out);
	assert_hex_equal(out, 6, t->f5star);
	gba_milenage_f2345(&ctx, rand, NULL, NULL, NULL, out, NULL);
	assert_hex_equal(out, 6, t->f5);

	/* the context is wiped on clear */
	gba_milenage_clear(&ctx);
	for (size_t i = 0; i < sizeof(ctx.priv.bytes); i++)
		assert_int_equal(ctx.priv.bytes[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_sets),
		cmocka_unit_test(test_partial_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
