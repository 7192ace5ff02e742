/*
 * test_aka.c - AKA on both sides: vectors (TS 35.208 set 1), SQN
 * management (TS 33.102 Annex C), resynchronisation, MAC failures, and the
 * same flows over TUAK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gba/aka.h>

#include "testutil.h"

#define DELTA (UINT64_C(1) << 28)

static void milenage_set1_key(struct gba_aka_key *key)
{
	uint8_t k[16], op[16];
	unhex(k, 16, "465b5ce8b199b49faa5f0a2ee238a6bc");
	unhex(op, 16, "cdc202d5123e20f62b6d676ac72cb318");
	gba_aka_key_milenage(key, k, op, 1);
	assert_hex_equal(key->opc, 16, "cd63cb71954a9f4e48a5994e37a02baf");
}

/* TS 35.208 set 1 as a whole vector: AUTN as listed in vectors.md. */
static void test_av_set1(void **state)
{
	(void)state;
	struct gba_aka_key key;
	struct gba_av av;
	uint8_t rand[16], amf[2] = { 0xb9, 0xb9 };
	milenage_set1_key(&key);
	unhex(rand, 16, "23553cbe9637a89d218ae64dae47bf35");
	assert_int_equal(gba_aka_gen_av(&key, amf, UINT64_C(0xff9bb4d0b607), rand, &av), GBA_OK);
	assert_hex_equal(av.autn, 16, "55f328b43577b9b94a9ffac354dfafb3");
	assert_int_equal(av.xres_len, 8);
	assert_hex_equal(av.xres, 8, "a54211d5e3ba50bf");
	assert_hex_equal(av.ck, 16, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	assert_hex_equal(av.ik, 16, "f769bcd751044604127672711c6d3441");
	assert_int_equal(gba_aka_gen_av(&key, amf, GBA_SQN_MAX + 1, rand, &av), GBA_ERR_SQN_RANGE);
	assert_int_equal(gba_aka_gen_av(NULL, amf, 1, rand, &av), GBA_ERR_INVALID_ARG);
}

static void test_sqn_next(void **state)
{
	(void)state;
	uint64_t n;
	assert_int_equal(gba_sqn_next(0, 5, 3, &n), GBA_OK);
	assert_int_equal(n, 32 + 3);
	assert_int_equal(gba_sqn_next(35, 5, 3, &n), GBA_OK);
	assert_int_equal(n, 64 + 3);
	/* another slot's last SQN: SEQ still steps by one */
	assert_int_equal(gba_sqn_next(67, 5, 9, &n), GBA_OK);
	assert_int_equal(n, 96 + 9);
	assert_int_equal(gba_sqn_next(0, 0, 0, &n), GBA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(gba_sqn_next(GBA_SQN_MAX - 31, 5, 0, &n), GBA_ERR_SQN_RANGE);
	assert_int_equal(gba_sqn_next(0, 5, 32, &n), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_sqn_next(0, 11, 0, &n), GBA_ERR_INVALID_ARG);
}

/*
 * TS 33.102 6.3.5 / Annex C.3: after a verified AUTS the HE counts on from
 * max(SEQ_HE, SEQ_MS); IND takes no part in the comparison.
 */
static void test_sqn_after_resync(void **state)
{
	uint64_t last = 0, next = 0;

	(void)state;
	/* The card is ahead: SQN_HE moves forward to SQN_MS. */
	assert_int_equal(gba_sqn_after_resync(0x40, 0x3e3, 5, &last), GBA_OK);
	assert_int_equal(last, 0x3e3);
	/* Issue 15: SQNs up to 0xA0 issued, AUTS with SQN_MS 0x20: no rewind. */
	assert_int_equal(gba_sqn_after_resync(0xa0, 0x20, 5, &last), GBA_OK);
	assert_int_equal(last, 0xa0);
	assert_int_equal(gba_sqn_next(last, 5, 0, &next), GBA_OK);
	assert_int_equal(next, 0xc0);
	/* Same SEQ, another slot: not ahead, SQN_HE stays. */
	assert_int_equal(gba_sqn_after_resync(0xa0, 0xbf, 5, &last), GBA_OK);
	assert_int_equal(last, 0xa0);
	/* A higher SEQ in a lower slot is ahead. */
	assert_int_equal(gba_sqn_after_resync(0xbf, 0xc0, 5, &last), GBA_OK);
	assert_int_equal(last, 0xc0);
	assert_int_equal(gba_sqn_after_resync(0, GBA_SQN_MAX + 1, 5, &last), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_sqn_after_resync(GBA_SQN_MAX + 1, 0, 5, &last), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_sqn_after_resync(0, 0, 11, &last), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_sqn_after_resync(0, 0, 5, NULL), GBA_ERR_INVALID_ARG);
}

static void test_usim_sqn_array(void **state)
{
	(void)state;
	struct gba_usim_sqn st;
	gba_usim_sqn_init(&st, 5, DELTA);
	/* SEQ 0 is never fresh; SEQ 1 in any slot is */
	assert_int_equal(gba_usim_sqn_check(&st, 7), GBA_ERR_SYNC_FAILURE);
	assert_int_equal(gba_usim_sqn_check(&st, (1 << 5) | 7), GBA_OK);
	gba_usim_sqn_accept(&st, (5 << 5) | 7);
	/* same slot, lower or equal SEQ: replay */
	assert_int_equal(gba_usim_sqn_check(&st, (5 << 5) | 7), GBA_ERR_SYNC_FAILURE);
	assert_int_equal(gba_usim_sqn_check(&st, (4 << 5) | 7), GBA_ERR_SYNC_FAILURE);
	/* another slot, lower SEQ: accepted (vectors used out of order) */
	assert_int_equal(gba_usim_sqn_check(&st, (2 << 5) | 8), GBA_OK);
	/* delta: 2^28 ahead of the highest is the limit */
	assert_int_equal(gba_usim_sqn_check(&st, ((5 + DELTA) << 5) | 1), GBA_OK);
	assert_int_equal(gba_usim_sqn_check(&st, ((6 + DELTA) << 5) | 1), GBA_ERR_SYNC_FAILURE);
	assert_int_equal(gba_usim_sqn_ms(&st), (5 << 5) | 7);
	assert_int_equal(gba_usim_sqn_check(&st, GBA_SQN_MAX + 1), GBA_ERR_SYNC_FAILURE);
}

/*
 * Network and USIM side agree; a replay gives AUTS; the network resyncs
 * from it and the next vector is accepted.
 */
static void run_flow(const struct gba_aka_key *key)
{
	struct gba_usim_sqn usim;
	struct gba_usim_answer ans;
	struct gba_av av;
	uint8_t rand[16], amf[2] = { 0x80, 0x00 };
	uint64_t last = 0, sqn, sqn_ms;

	gba_usim_sqn_init(&usim, 5, DELTA);
	for (int i = 0; i < 3; i++) {
		memset(rand, 0x10 + i, sizeof(rand));
		assert_int_equal(gba_sqn_next(last, 5, 2, &sqn), GBA_OK);
		assert_int_equal(gba_aka_gen_av(key, amf, sqn, rand, &av), GBA_OK);
		assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans), GBA_OK);
		assert_int_equal(ans.res_len, av.xres_len);
		assert_memory_equal(ans.res, av.xres, av.xres_len);
		assert_memory_equal(ans.ck, av.ck, 16);
		assert_memory_equal(ans.ik, av.ik, 16);
		last = sqn;
	}

	/* Replay of the last vector: sync failure with AUTS */
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	assert_int_equal(ans.res_len, 0);
	assert_int_equal(gba_aka_resync(key, av.rand, ans.auts, &sqn_ms), GBA_OK);
	assert_int_equal(sqn_ms, gba_usim_sqn_ms(&usim));
	assert_int_equal(sqn_ms, last);

	/* A network far behind the card (HSS reset): resync, then accepted */
	assert_int_equal(gba_sqn_next(0, 5, 2, &sqn), GBA_OK);
	memset(rand, 0x77, sizeof(rand));
	assert_int_equal(gba_aka_gen_av(key, amf, sqn, rand, &av), GBA_OK);
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	assert_int_equal(gba_aka_resync(key, av.rand, ans.auts, &sqn_ms), GBA_OK);
	assert_int_equal(gba_sqn_next(sqn_ms, 5, 2, &sqn), GBA_OK);
	assert_int_equal(gba_aka_gen_av(key, amf, sqn, rand, &av), GBA_OK);
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans), GBA_OK);

	/* A corrupted AUTS: MAC-S fails */
	uint8_t auts[14];
	memcpy(auts, ans.auts, 14);
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	memcpy(auts, ans.auts, 14);
	auts[13] ^= 0x01;
	assert_int_equal(gba_aka_resync(key, av.rand, auts, &sqn_ms), GBA_ERR_AUTS_INVALID);
	auts[13] ^= 0x01;
	auts[0] ^= 0x01;  /* SQN_MS bits feed MAC-S too */
	assert_int_equal(gba_aka_resync(key, av.rand, auts, &sqn_ms), GBA_ERR_AUTS_INVALID);

	/* MAC failure: a flipped MAC bit, and a different subscriber key */
	struct gba_usim_sqn before = usim;
	assert_int_equal(gba_sqn_next(sqn, 5, 2, &sqn), GBA_OK);
	assert_int_equal(gba_aka_gen_av(key, amf, sqn, rand, &av), GBA_OK);
	av.autn[15] ^= 0x40;
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_MAC_FAILURE);
	av.autn[15] ^= 0x40;
	av.autn[6] ^= 0x01;  /* AMF is covered by MAC-A */
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_MAC_FAILURE);
	av.autn[6] ^= 0x01;
	struct gba_aka_key other = *key;
	other.k[0] ^= 0x01;
	assert_int_equal(gba_usim_authenticate(&other, &usim, av.rand, av.autn, &ans),
			 GBA_ERR_MAC_FAILURE);
	assert_memory_equal(&before, &usim, sizeof(usim));
	/* and the genuine one still works after the failures */
	assert_int_equal(gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans), GBA_OK);
	gba_wipe(&other, sizeof(other));
}

static void test_flow_milenage(void **state)
{
	(void)state;
	struct gba_aka_key key;
	milenage_set1_key(&key);
	run_flow(&key);
}

static void test_flow_tuak(void **state)
{
	(void)state;
	static const size_t res_lens[] = { 4, 8, 16 };
	uint8_t k[32], top[32];
	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(0xff - i);
		top[i] = (uint8_t)(0x80 + i);
	}
	for (size_t kl = 16; kl <= 32; kl += 16)
		for (size_t r = 0; r < 3; r++)
			for (unsigned it = 1; it <= 2; it++) {
				struct gba_aka_key key;
				assert_int_equal(gba_aka_key_tuak(&key, k, kl, top, 1, it, res_lens[r]),
						 GBA_OK);
				run_flow(&key);
			}
}

static void test_key_checks(void **state)
{
	(void)state;
	struct gba_aka_key key;
	uint8_t k[32] = { 0 }, top[32] = { 0 };
	assert_int_equal(gba_aka_key_tuak(&key, k, 24, top, 1, 1, 8), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_aka_key_tuak(&key, k, 16, top, 1, 0, 8), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_aka_key_tuak(&key, k, 16, top, 1, 256, 8), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_aka_key_tuak(&key, k, 16, top, 1, 1, 32), GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_aka_key_tuak(NULL, k, 16, top, 1, 1, 8), GBA_ERR_INVALID_ARG);

	struct gba_av av;
	uint8_t amf[2] = { 0 }, rand[16] = { 0 };
	gba_aka_key_milenage(&key, k, top, 0);
	key.res_len = 4;  /* Milenage RES is 8 octets */
	assert_int_equal(gba_aka_gen_av(&key, amf, 1, rand, &av), GBA_ERR_BAD_LENGTH);
	key.res_len = 8;
	key.algo = (enum gba_aka_algo)7;
	assert_int_equal(gba_aka_gen_av(&key, amf, 1, rand, &av), GBA_ERR_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_av_set1),
		cmocka_unit_test(test_sqn_next),
		cmocka_unit_test(test_sqn_after_resync),
		cmocka_unit_test(test_usim_sqn_array),
		cmocka_unit_test(test_flow_milenage),
		cmocka_unit_test(test_flow_tuak),
		cmocka_unit_test(test_key_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
