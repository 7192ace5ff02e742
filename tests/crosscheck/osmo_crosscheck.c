/*
 * osmo_crosscheck.c - libgba's AKA against an independent implementation:
 * libosmocore's AuC (osmo_auth_gen_vec / osmo_auth_gen_vec_auts, as used by
 * osmo-hlr).  For each random subscriber (K, OP or OPc, AMF, SQN, IND slot)
 * both generate vectors from the same RAND; AUTN, XRES, CK and IK must be
 * identical, and so must the SQN recovered from a USIM's AUTS and the
 * vector issued after a resynchronisation with the card ahead.
 *
 * With the card behind (it answers a replayed old challenge), the two
 * differ by design: libosmocore (osmo_auth_gen_vec_auts) sets SQN_HE to
 * SQN_MS and so issues an SQN again; libgba follows TS 33.102 6.3.5 and
 * Annex C.3 and only moves SQN_HE forward (gba_sqn_after_resync).  There
 * only SQN_MS is compared, and libgba's vector must be fresh and accepted.
 *
 * Usage: osmo_crosscheck [subscribers [seed]]   (defaults 2000, 1)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osmocom/crypt/auth.h>

#include <gba/aka.h>
#include <gba/util.h>

#include "prng.h"

#define IND_BITS 5

static unsigned long mismatches;
static unsigned long behind_rewound;   /* libosmocore issued an old SQN again */

/* Print the first few mismatches in full; count the rest. */
#define REPORT_MAX 10
#define FAIL(...)                                                      \
	do {                                                           \
		if (mismatches++ < REPORT_MAX)                         \
			fprintf(stderr, __VA_ARGS__);                  \
	} while (0)

static void report(const char *what, unsigned sub, const uint8_t *a, const uint8_t *b, size_t n)
{
	char ha[65], hb[65];
	gba_hex_encode(ha, sizeof(ha), a, n);
	gba_hex_encode(hb, sizeof(hb), b, n);
	FAIL("subscriber %u: %s differs: libgba %s, libosmocore %s\n", sub, what, ha, hb);
}

static void compare_av(unsigned sub, const struct gba_av *av, const struct osmo_auth_vector *ov)
{
	if (memcmp(av->autn, ov->autn, 16))
		report("AUTN", sub, av->autn, ov->autn, 16);
	if (av->xres_len != ov->res_len || memcmp(av->xres, ov->res, av->xres_len))
		report("XRES", sub, av->xres, ov->res, av->xres_len);
	if (memcmp(av->ck, ov->ck, 16))
		report("CK", sub, av->ck, ov->ck, 16);
	if (memcmp(av->ik, ov->ik, 16))
		report("IK", sub, av->ik, ov->ik, 16);
}

/*
 * The card saw only the first vector (SQN first->sqn) and is shown it
 * again: its AUTS carries an SQN_MS behind the network's last SQN.  Both
 * AuCs must recover it; libgba must then issue an SQN after last.  aud is
 * a copy: libosmocore's state is not carried on.
 */
static void check_resync_behind(unsigned sub, uint64_t *seed, const struct gba_aka_key *key,
				struct osmo_sub_auth_data aud, const uint8_t amf[2],
				const struct gba_av *first, uint64_t last)
{
	struct gba_usim_sqn usim;
	struct gba_usim_answer ans;
	struct osmo_auth_vector ov;
	struct gba_av av;
	uint64_t sqn_ms, base, sqn;
	uint8_t rand[16];

	gba_usim_sqn_init(&usim, IND_BITS, UINT64_C(1) << 28);
	gba_usim_sqn_accept(&usim, first->sqn);
	if (gba_usim_authenticate(key, &usim, first->rand, first->autn, &ans) !=
	    GBA_ERR_SYNC_FAILURE) {
		FAIL("subscriber %u: a replayed vector was not refused\n", sub);
		return;
	}
	prng_fill(seed, rand, 16);
	if (gba_aka_resync(key, first->rand, ans.auts, &sqn_ms) != GBA_OK ||
	    gba_sqn_after_resync(last, sqn_ms, IND_BITS, &base) != GBA_OK ||
	    gba_sqn_next(base, IND_BITS, aud.u.umts.ind, &sqn) != GBA_OK ||
	    gba_aka_gen_av(key, amf, sqn, rand, &av) != GBA_OK) {
		FAIL("subscriber %u: libgba resync (card behind) failed\n", sub);
		return;
	}
	memset(&ov, 0, sizeof(ov));
	if (osmo_auth_gen_vec_auts(&ov, &aud, ans.auts, first->rand, rand) < 0) {
		FAIL("subscriber %u: osmo_auth_gen_vec_auts (card behind) failed\n", sub);
		return;
	}
	if (aud.u.umts.sqn_ms != sqn_ms || sqn_ms != first->sqn)
		FAIL("subscriber %u: SQN_MS (card behind) libgba %" PRIu64 " libosmocore %" PRIu64
		     " card %" PRIu64 "\n", sub, sqn_ms, aud.u.umts.sqn_ms, first->sqn);
	if (sqn <= last)
		FAIL("subscriber %u: libgba reissued SQN %" PRIu64 " (last %" PRIu64 ")\n", sub,
		     sqn, last);
	if (aud.u.umts.sqn <= last)
		behind_rewound++;
	if (gba_usim_authenticate(key, &usim, av.rand, av.autn, &ans) != GBA_OK)
		FAIL("subscriber %u: vector after resync (card behind) refused\n", sub);
	gba_wipe(&ans, sizeof(ans));
	gba_wipe(&av, sizeof(av));
}

/* One subscriber: a few vectors in sequence, then resyncs from AUTS. */
static void check_subscriber(unsigned sub, uint64_t *seed, unsigned long *n_av)
{
	struct osmo_sub_auth_data aud = {
		.type = OSMO_AUTH_TYPE_UMTS,
		.algo = OSMO_AUTH_ALG_MILENAGE,
	};
	struct gba_aka_key key;
	uint8_t k[16], op[16], amf[2], rand[16];
	int opc_is_op = (int)prng_below(seed, 2);
	unsigned ind = prng_below(seed, 1u << IND_BITS);
	/* SQNs all over the 48-bit range, including near the top. */
	uint64_t last = prng_next(seed) & (GBA_SQN_MAX >> prng_below(seed, 40));

	prng_fill(seed, k, 16);
	prng_fill(seed, op, 16);
	prng_fill(seed, amf, 2);
	gba_aka_key_milenage(&key, k, op, opc_is_op);
	memcpy(aud.u.umts.k, k, 16);
	memcpy(aud.u.umts.opc, op, 16);
	memcpy(aud.u.umts.amf, amf, 2);
	aud.u.umts.opc_is_op = opc_is_op;
	aud.u.umts.sqn = last;
	aud.u.umts.ind_bitlen = IND_BITS;
	aud.u.umts.ind = ind;

	struct gba_av av, first;
	struct osmo_auth_vector ov;
	for (int v = 0; v < 3; v++) {
		uint64_t sqn;
		prng_fill(seed, rand, 16);
		if (gba_sqn_next(last, IND_BITS, ind, &sqn) != GBA_OK)
			return;  /* SQN space exhausted: nothing to compare */
		memset(&ov, 0, sizeof(ov));
		if (osmo_auth_gen_vec(&ov, &aud, rand) < 0) {
			FAIL("subscriber %u: osmo_auth_gen_vec failed\n", sub);
			return;
		}
		if (gba_aka_gen_av(&key, amf, sqn, rand, &av) != GBA_OK) {
			FAIL("subscriber %u: gba_aka_gen_av failed\n", sub);
			return;
		}
		if (aud.u.umts.sqn != sqn) {
			FAIL("subscriber %u: SQN libgba %" PRIu64 " libosmocore %" PRIu64 "\n",
				sub, sqn, aud.u.umts.sqn);
		}
		compare_av(sub, &av, &ov);
		if (v == 0)
			first = av;
		last = sqn;
		(*n_av)++;
	}
	check_resync_behind(sub, seed, &key, aud, amf, &first, last);
	gba_wipe(&first, sizeof(first));

	/*
	 * Resync: a USIM that has seen a SQN ahead of the network answers the
	 * next challenge with AUTS.  Both AuCs must recover the same SQN_MS and
	 * issue the same vector from it.
	 */
	struct gba_usim_sqn usim;
	struct gba_usim_answer ans;
	uint64_t card_sqn = last + ((uint64_t)(1 + prng_below(seed, 1000)) << IND_BITS);
	if (card_sqn > GBA_SQN_MAX - (UINT64_C(2) << IND_BITS))
		return;
	gba_usim_sqn_init(&usim, IND_BITS, UINT64_C(1) << 28);
	gba_usim_sqn_accept(&usim, card_sqn);
	if (gba_usim_authenticate(&key, &usim, av.rand, av.autn, &ans) != GBA_ERR_SYNC_FAILURE) {
		FAIL("subscriber %u: USIM did not report a sync failure\n", sub);
		return;
	}
	uint64_t sqn_ms, base, sqn;
	uint8_t rand_auts[16];
	memcpy(rand_auts, av.rand, 16);
	prng_fill(seed, rand, 16);
	if (gba_aka_resync(&key, rand_auts, ans.auts, &sqn_ms) != GBA_OK ||
	    gba_sqn_after_resync(last, sqn_ms, IND_BITS, &base) != GBA_OK ||
	    gba_sqn_next(base, IND_BITS, ind, &sqn) != GBA_OK ||
	    gba_aka_gen_av(&key, amf, sqn, rand, &av) != GBA_OK) {
		FAIL("subscriber %u: libgba resync failed\n", sub);
		return;
	}
	memset(&ov, 0, sizeof(ov));
	if (osmo_auth_gen_vec_auts(&ov, &aud, ans.auts, rand_auts, rand) < 0) {
		FAIL("subscriber %u: osmo_auth_gen_vec_auts failed\n", sub);
		return;
	}
	if (aud.u.umts.sqn_ms != sqn_ms || sqn_ms != card_sqn) {
		FAIL("subscriber %u: SQN_MS libgba %" PRIu64 " libosmocore %" PRIu64
			" card %" PRIu64 "\n", sub, sqn_ms, aud.u.umts.sqn_ms, card_sqn);
	}
	compare_av(sub, &av, &ov);
	(*n_av)++;
	/* ... and the card accepts the vector issued after the resync. */
	if (gba_usim_authenticate(&key, &usim, av.rand, av.autn, &ans) != GBA_OK) {
		FAIL("subscriber %u: vector after resync refused\n", sub);
	}
	gba_wipe(&key, sizeof(key));
	gba_wipe(&ans, sizeof(ans));
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	unsigned long n_av = 0;

	printf("libosmocore cross-check: %u random Milenage subscribers, seed %" PRIu64 "\n", n, seed);
	for (unsigned i = 0; i < n; i++)
		check_subscriber(i, &seed, &n_av);
	printf("%lu vectors compared (AUTN, XRES, CK, IK, SQN), %u resyncs; %lu mismatches\n",
	       n_av, n, mismatches);
	printf("card behind: SQN_MS compared, libgba's next SQN fresh; libosmocore issued an "
	       "old SQN again in %lu (TS 33.102 6.3.5: SQN_HE only moves forward)\n",
	       behind_rewound);
	printf("%lu passed, %lu failed\n", mismatches ? 0UL : 1UL, mismatches ? 1UL : 0UL);
	return mismatches ? 1 : 0;
}
