/*
 * test_usim_engine.c - the in-process card (simulators/usim/usim_sim.h)
 * on the APDUs an ME sends: TS 35.208 set 1 through AUTHENTICATE, resync
 * accepted by libgba's network side, MAC failure, GBA_U bootstrap and NAF
 * derivation against libgba's KDF, T=0 61xx/6Cxx, files, PIN, state
 * persistence, malformed APDUs and the fault modes.
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

#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "milenage_sets.h"
#include "testutil.h"
#include "tuak_sets.h"
#include "usim_sim.h"

static char tmpdir[64];
static char state_path[128];

static const char *profile(const char *name)
{
	static char path[512];
	const char *dir = getenv("USIM_PROFILES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "simulators/usim/profiles", name);
	return path;
}

/* Write a profile into the temp dir; returns its path. */
static const char *write_profile(const char *name, const char *text)
{
	static char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/usim-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/card.state", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct usim_sim *open_card(const char *profile_path)
{
	struct usim_sim *sim = NULL;

	assert_int_equal(usim_sim_open(profile_path, state_path, &sim), GBA_OK);
	assert_non_null(sim);
	return sim;
}

/* Send a hex APDU; returns SW, the data in out (may be NULL). */
static uint16_t xfer(struct usim_sim *sim, const char *hex, uint8_t *out, size_t *out_len)
{
	uint8_t c[300], r[USIM_SIM_RAPDU_MAX];
	size_t cl, rl = 0;

	assert_int_equal(gba_hex_decode(c, sizeof(c), &cl, hex, strlen(hex)), GBA_OK);
	assert_int_equal(usim_sim_apdu(sim, c, cl, r, sizeof(r), &rl), GBA_OK);
	assert_true(rl >= 2);
	if (out)
		memcpy(out, r, rl - 2);
	if (out_len)
		*out_len = rl - 2;
	return (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
}

static uint16_t xfer_bytes(struct usim_sim *sim, const uint8_t *c, size_t cl, uint8_t *out,
			   size_t *out_len)
{
	uint8_t r[USIM_SIM_RAPDU_MAX];
	size_t rl = 0;

	assert_int_equal(usim_sim_apdu(sim, c, cl, r, sizeof(r), &rl), GBA_OK);
	assert_true(rl >= 2);
	if (out)
		memcpy(out, r, rl - 2);
	if (out_len)
		*out_len = rl - 2;
	return (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
}

/* T=0: a 61xx answer, then GET RESPONSE for exactly xx octets. */
static uint16_t get_response(struct usim_sim *sim, uint16_t sw, uint8_t *out, size_t *out_len)
{
	char gr[16];

	assert_int_equal(sw >> 8, 0x61);
	snprintf(gr, sizeof(gr), "00C00000%02X", sw & 0xFF);
	return xfer(sim, gr, out, out_len);
}

#define AID_USIM "A0000000871002FFFFFFFF8906190000"
#define AID_ISIM "A0000000871004FFFFFFFF8906190000"

static void select_usim(struct usim_sim *sim, int t1)
{
	uint8_t d[256];
	size_t dl;
	uint16_t sw = xfer(sim, t1 ? "00A4040410" AID_USIM "00" : "00A4040410" AID_USIM, d, &dl);

	if (!t1)
		sw = get_response(sim, sw, d, &dl);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(d[0], 0x62);
	assert_non_null(memmem(d, dl, (const uint8_t[]){ 0x84, 0x10, 0xA0, 0x00, 0x00, 0x00,
							   0x87, 0x10, 0x02 }, 9));
}

static const struct milenage_test_set *set1(void)
{
	return &milenage_test_sets[0];
}

/* AUTN = (SQN xor AK) || AMF || MAC-A from a published set. */
static void set1_autn(uint8_t autn[16], int corrupt_mac)
{
	uint8_t sqn[6], ak[6];

	unhex(sqn, 6, set1()->sqn);
	unhex(ak, 6, set1()->f5);
	for (int i = 0; i < 6; i++)
		autn[i] = sqn[i] ^ ak[i];
	unhex(autn + 6, 2, set1()->amf);
	unhex(autn + 8, 8, set1()->f1);
	if (corrupt_mac)
		autn[15] ^= 0x01;
}

/* 00 88 00 p2 Lc [tag] 10 RAND 10 AUTN [Le] */
static size_t build_auth(uint8_t *c, uint8_t p2, int tag, const uint8_t rand[16],
			 const uint8_t autn[16], int with_le)
{
	size_t n = 0;

	c[n++] = 0x00;
	c[n++] = 0x88;
	c[n++] = 0x00;
	c[n++] = p2;
	c[n++] = (uint8_t)(34 + (tag ? 1 : 0));
	if (tag)
		c[n++] = (uint8_t)tag;
	c[n++] = 16;
	memcpy(c + n, rand, 16);
	n += 16;
	c[n++] = 16;
	memcpy(c + n, autn, 16);
	n += 16;
	if (with_le)
		c[n++] = 0x00;
	return n;
}

static void test_3g_set1(void **state)
{
	struct usim_sim *sim = open_card(profile("ts35208-set1.conf"));
	uint8_t rand[16], autn[16], c[64], d[256], want[16];
	size_t dl;
	uint16_t sw;

	(void)state;
	select_usim(sim, 0);
	unhex(rand, 16, set1()->rand);
	set1_autn(autn, 0);
	sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
	printf("AUTHENTICATE 3G (T=0) -> %04X\n", sw);
	assert_int_equal(sw, 0x612C);           /* DB 08 RES 10 CK 10 IK: 44 octets */
	assert_int_equal(get_response(sim, sw, d, &dl), 0x9000);
	assert_int_equal(dl, 44);
	assert_int_equal(d[0], 0xDB);
	assert_int_equal(d[1], 8);
	assert_hex_equal(d + 2, 8, set1()->f2);
	assert_int_equal(d[10], 16);
	unhex(want, 16, set1()->f3);
	assert_memory_equal(d + 11, want, 16);
	assert_int_equal(d[27], 16);
	unhex(want, 16, set1()->f4);
	assert_memory_equal(d + 28, want, 16);
	printf("RES/CK/IK equal TS 35.208 set 1 f2/f3/f4\n");
	usim_sim_close(sim);
}

/* The same AUTN twice: the card answers AUTS, which libgba's HSS side
 * accepts and turns back into the SQN the card last took. */
static void test_sync_failure_auts(void **state)
{
	struct usim_sim *sim = open_card(profile("ts35208-set1.conf"));
	struct gba_aka_key key;
	uint8_t rand[16], autn[16], c[64], d[256], k[16], opc[16], sqn[6];
	size_t dl;
	uint64_t sqn_ms, want = 0;

	(void)state;
	select_usim(sim, 0);
	unhex(rand, 16, set1()->rand);
	set1_autn(autn, 0);
	for (int round = 0; round < 2; round++) {
		uint16_t sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);

		assert_int_equal(get_response(sim, sw, d, &dl), 0x9000);
	}
	assert_int_equal(dl, 16);
	assert_int_equal(d[0], 0xDC);
	assert_int_equal(d[1], 14);
	unhex(k, 16, set1()->k);
	unhex(opc, 16, set1()->opc);
	gba_aka_key_milenage(&key, k, opc, 0);
	assert_int_equal(gba_aka_resync(&key, rand, d + 2, &sqn_ms), GBA_OK);
	unhex(sqn, 6, set1()->sqn);
	for (int i = 0; i < 6; i++)
		want = want << 8 | sqn[i];
	assert_true(sqn_ms == want);
	printf("replayed AUTN -> DC 0E AUTS; gba_aka_resync gives SQN_MS %012llx\n",
	       (unsigned long long)sqn_ms);
	/* A corrupted AUTS is refused by the network side. */
	d[15] ^= 1;
	assert_int_equal(gba_aka_resync(&key, rand, d + 2, &sqn_ms), GBA_ERR_AUTS_INVALID);
	gba_wipe(&key, sizeof(key));
	usim_sim_close(sim);
}

static void test_mac_failure(void **state)
{
	struct usim_sim *sim = open_card(profile("ts35208-set1.conf"));
	uint8_t rand[16], autn[16], c[64], d[256];
	size_t dl;
	uint16_t sw;

	(void)state;
	select_usim(sim, 0);
	unhex(rand, 16, set1()->rand);
	set1_autn(autn, 1);
	sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
	assert_int_equal(sw, 0x9862);
	assert_int_equal(dl, 0);
	/* Nothing was accepted: the genuine AUTN still works. */
	set1_autn(autn, 0);
	sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
	assert_int_equal(sw, 0x612C);
	printf("bad MAC-A -> 9862, SQN state unchanged\n");
	usim_sim_close(sim);
}

/* The demo card's key and a fresh vector for SEQ seq in IND 0. */
static void demo_vector(struct gba_aka_key *key, uint64_t seq, struct gba_av *av)
{
	static const uint8_t amf[2] = { 0x80, 0x00 };
	uint8_t k[16], op[16], rand[16];

	unhex(k, 16, "465b5ce8b199b49faa5f0a2ee238a6bc");
	unhex(op, 16, "cdc202d5123e20f62b6d676ac72cb318");
	gba_aka_key_milenage(key, k, op, 1);
	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)(0x30 + i + seq);
	assert_int_equal(gba_aka_gen_av(key, amf, seq << 5, rand, av), GBA_OK);
}

#define DEMO_IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define NAF_FQDN "naf.example.org"

/* GBA bootstrapping mode (T=1, Le present): DB 08 RES only. */
static void gba_bootstrap(struct usim_sim *sim, const struct gba_av *av)
{
	uint8_t c[64], d[256];
	size_t dl;

	assert_int_equal(xfer_bytes(sim, c, build_auth(c, 0x84, 0xDD, av->rand, av->autn, 1),
				    d, &dl), 0x9000);
	assert_int_equal(dl, 10);               /* CK and IK stay in the card */
	assert_int_equal(d[0], 0xDB);
	assert_int_equal(d[1], 8);
	assert_memory_equal(d + 2, av->xres, 8);
}

/* The ME writes B-TID and lifetime into EF_GBABP (after the RAND). */
static void write_gbabp(struct usim_sim *sim, const uint8_t rand[16], const char *btid)
{
	const char *life = "2026-11-24T10:15:00Z";
	uint8_t c[300];
	size_t n = 0, bl = strlen(btid), ll = strlen(life);

	assert_int_equal(xfer(sim, "00A4000C026FD6", NULL, NULL), 0x9000);
	memcpy(c, (const uint8_t[]){ 0x00, 0xD6, 0x00, 0x00, 0 }, 5);
	n = 5;
	c[n++] = 16;
	memcpy(c + n, rand, 16);
	n += 16;
	c[n++] = (uint8_t)bl;
	memcpy(c + n, btid, bl);
	n += bl;
	c[n++] = (uint8_t)ll;
	memcpy(c + n, life, ll);
	n += ll;
	c[4] = (uint8_t)(n - 5);
	assert_int_equal(xfer_bytes(sim, c, n, NULL, NULL), 0x9000);
}

/* NAF derivation: DE L NAF_Id L IMPI -> DB 20 Ks_ext_NAF. */
static uint16_t naf_derive(struct usim_sim *sim, const uint8_t *naf_id, size_t nl,
			   uint8_t *out, size_t *out_len)
{
	uint8_t c[300];
	size_t n = 0, il = strlen(DEMO_IMPI);

	memcpy(c, (const uint8_t[]){ 0x00, 0x88, 0x00, 0x84, 0 }, 5);
	n = 5;
	c[n++] = 0xDE;
	c[n++] = (uint8_t)nl;
	memcpy(c + n, naf_id, nl);
	n += nl;
	c[n++] = (uint8_t)il;
	memcpy(c + n, DEMO_IMPI, il);
	n += il;
	c[4] = (uint8_t)(n - 5);
	c[n++] = 0x00;
	return xfer_bytes(sim, c, n, out, out_len);
}

static void check_naf_keys(struct usim_sim *sim, const struct gba_av *av,
			   const uint8_t *naf_id, size_t nl)
{
	uint8_t ks[32], want[32], got[32], d[256];
	size_t dl;

	memcpy(ks, av->ck, 16);
	memcpy(ks + 16, av->ik, 16);
	assert_int_equal(naf_derive(sim, naf_id, nl, d, &dl), 0x9000);
	assert_int_equal(dl, 34);
	assert_int_equal(d[0], 0xDB);
	assert_int_equal(d[1], 32);
	assert_int_equal(gba_ks_naf(ks, av->rand, DEMO_IMPI, strlen(DEMO_IMPI), naf_id, nl, want),
			 GBA_OK);
	assert_true(gba_ct_equal(d + 2, want, 32));
	assert_int_equal(usim_sim_ks_int_naf(sim, naf_id, nl, got), GBA_OK);
	assert_int_equal(gba_ks_int_naf(ks, av->rand, DEMO_IMPI, strlen(DEMO_IMPI), naf_id, nl,
					want), GBA_OK);
	assert_true(gba_ct_equal(got, want, 32));
	gba_wipe(ks, sizeof(ks));
	gba_wipe(got, sizeof(got));
}

static void naf_id_http(uint8_t *naf_id, size_t *nl)
{
	assert_int_equal(gba_naf_id(naf_id, 300, nl, NAF_FQDN, strlen(NAF_FQDN),
				    GBA_UA_HTTP_DIGEST), GBA_OK);
}

static void test_gba_u(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	struct gba_aka_key key;
	struct gba_av av;
	uint8_t naf_id[300], d[256], ks_int[32];
	char btid[GBA_BTID_MAX];
	size_t nl, dl;

	(void)state;
	assert_int_equal(usim_sim_is_t1(sim), 1);
	select_usim(sim, 1);
	demo_vector(&key, 1, &av);
	naf_id_http(naf_id, &nl);
	/* No Ks yet: NAF derivation is refused. */
	assert_int_equal(naf_derive(sim, naf_id, nl, d, &dl), 0x6985);
	gba_bootstrap(sim, &av);
	/* Ks but no B-TID from the ME yet: still refused. */
	assert_int_equal(naf_derive(sim, naf_id, nl, d, &dl), 0x6985);
	assert_int_equal(gba_btid(btid, sizeof(btid), av.rand, "bsf.example.org", 15), GBA_OK);
	write_gbabp(sim, av.rand, btid);
	check_naf_keys(sim, &av, naf_id, nl);
	printf("GBA_U: Ks_ext_NAF = gba_ks_naf(CK||IK), Ks_int_NAF = gba_ks_int_naf(CK||IK)\n");

	/* EF_GBANL record 1: 80 L NAF_Id 81 L B-TID, and never the key. */
	assert_int_equal(xfer(sim, "00A4000C026FDA", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B2010400", d, &dl), 0x9000);
	assert_int_equal(d[0], 0x80);
	assert_int_equal(d[1], nl);
	assert_memory_equal(d + 2, naf_id, nl);
	assert_int_equal(d[2 + nl], 0x81);
	assert_int_equal(d[3 + nl], strlen(btid));
	assert_memory_equal(d + 4 + nl, btid, strlen(btid));
	assert_int_equal(usim_sim_ks_int_naf(sim, naf_id, nl, ks_int), GBA_OK);
	assert_null(memmem(d, dl, ks_int, 8));
	printf("EF_GBANL holds NAF_Id and B-TID, not Ks_int_NAF\n");
	/* The ISIM shows the same GBA data under TS 31.103's FIDs. */
	{
		uint8_t isim[256];
		size_t il;

		assert_int_equal(xfer(sim, "00A4040C10" AID_ISIM, NULL, NULL), 0x9000);
		assert_int_equal(xfer(sim, "00A4000C026FD7", NULL, NULL), 0x9000);
		assert_int_equal(xfer(sim, "00B2010400", isim, &il), 0x9000);
		assert_int_equal(il, dl);
		assert_memory_equal(isim, d, dl);
		assert_int_equal(xfer(sim, "00A4000C026FD5", NULL, NULL), 0x9000);
		assert_int_equal(xfer(sim, "00B0000012", isim, &il), 0x9000);
		assert_int_equal(isim[0], 16);
		assert_memory_equal(isim + 1, av.rand, 16);
		assert_int_equal(isim[17], strlen(btid));
		printf("ISIM EF_GBANL 6FD7 / EF_GBABP 6FD5 show the same data\n");
	}
	gba_wipe(ks_int, sizeof(ks_int));
	gba_wipe(&key, sizeof(key));
	gba_wipe(&av, sizeof(av));
	usim_sim_close(sim);
}

static void test_persistence(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	struct gba_aka_key key;
	struct gba_av av;
	uint8_t naf_id[300], c[64], d[256];
	char btid[GBA_BTID_MAX];
	size_t nl, dl;
	struct stat st;

	(void)state;
	select_usim(sim, 1);
	demo_vector(&key, 7, &av);
	naf_id_http(naf_id, &nl);
	gba_bootstrap(sim, &av);
	assert_int_equal(gba_btid(btid, sizeof(btid), av.rand, "bsf.example.org", 15), GBA_OK);
	write_gbabp(sim, av.rand, btid);
	usim_sim_close(sim);

	assert_int_equal(stat(state_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	sim = open_card(profile("demo.conf"));
	select_usim(sim, 1);
	/* Ks survived: NAF derivation works after the restart. */
	check_naf_keys(sim, &av, naf_id, nl);
	/* The SQN survived: the same vector is now stale -> AUTS. */
	assert_int_equal(xfer_bytes(sim, c, build_auth(c, 0x81, 0, av.rand, av.autn, 1), d, &dl),
			 0x9000);
	assert_int_equal(d[0], 0xDC);
	/* EF_GBABP kept what the ME wrote. */
	assert_int_equal(xfer(sim, "00A4000C026FD6", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000000", d, &dl), 0x9000);
	assert_int_equal(d[17], strlen(btid));
	assert_memory_equal(d + 18, btid, strlen(btid));
	usim_sim_close(sim);
	printf("Ks, SQN array and EF_GBABP persist across close/open (state file 0600)\n");
	gba_wipe(&key, sizeof(key));
	gba_wipe(&av, sizeof(av));
}

static void test_t0_procedure_bytes(void **state)
{
	struct usim_sim *sim = open_card(profile("ts35208-set1.conf"));
	uint8_t d[256];
	size_t dl;
	uint16_t sw;

	(void)state;
	assert_int_equal(usim_sim_is_t1(sim), 0);
	sw = xfer(sim, "00A4040410" AID_USIM, d, &dl);
	assert_int_equal(sw >> 8, 0x61);
	assert_int_equal(dl, 0);
	/* GET RESPONSE with a too large Le: 6Cxx with the right one. */
	assert_int_equal(xfer(sim, "00C00000FF", d, &dl), 0x6C00 | (sw & 0xFF));
	/* Partial GET RESPONSE: 61 with what is left. */
	assert_int_equal(xfer(sim, "00C0000010", d, &dl), 0x6100 | ((sw & 0xFF) - 0x10));
	assert_int_equal(dl, 0x10);
	assert_int_equal(d[0], 0x62);
	/* Any other command drops the rest. */
	assert_int_equal(xfer(sim, "00A4000C026F07", d, &dl), 0x9000);
	assert_int_equal(xfer(sim, "00C0000001", d, &dl), 0x6985);
	/* READ BINARY of the 9-octet EF_IMSI with Le 00 (256): 6C09. */
	assert_int_equal(xfer(sim, "00B0000000", d, &dl), 0x6C09);
	assert_int_equal(xfer(sim, "00B0000009", d, &dl), 0x9000);
	assert_int_equal(dl, 9);
	assert_hex_equal(d, 9, "080910101032547698");
	/* STATUS with the wrong Le: 6Cxx, then the FCP. */
	sw = xfer(sim, "80F2000001", d, &dl);
	assert_int_equal(sw >> 8, 0x6C);
	{
		char st[16];

		snprintf(st, sizeof(st), "80F20000%02X", sw & 0xFF);
		assert_int_equal(xfer(sim, st, d, &dl), 0x9000);
		assert_int_equal(d[0], 0x62);
	}
	printf("T=0: 61xx + GET RESPONSE, 6Cxx on wrong Le\n");
	usim_sim_close(sim);
}

static void test_files(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	uint8_t d[256];
	size_t dl;
	const char *impi = DEMO_IMPI;

	(void)state;
	/* EF_DIR: USIM then ISIM with their full AIDs. */
	assert_int_equal(xfer(sim, "00A4000C022F00", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B2010400", d, &dl), 0x9000);
	assert_hex_equal(d, 20, "61184f10a0000000871002ffffffff8906190000");
	assert_int_equal(xfer(sim, "00B2020400", d, &dl), 0x9000);
	assert_hex_equal(d, 20, "61184f10a0000000871004ffffffff8906190000");
	assert_int_equal(xfer(sim, "00B2030400", d, &dl), 0x6A83);
	/* EF_ICCID by SFI 02 (READ BINARY P1 = 80 | SFI). */
	assert_int_equal(xfer(sim, "00B082000A", d, &dl), 0x9000);
	assert_hex_equal(d, 10, "988812010000000020f8");   /* 19 digits, F-padded */
	select_usim(sim, 1);
	/* EF_AD: MNC length 2; EF_UST: service 68 (GBA). */
	assert_int_equal(xfer(sim, "00A4080C047FFF6FAD", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000004", d, &dl), 0x9000);
	assert_int_equal(d[3] & 0x0F, 2);
	assert_int_equal(xfer(sim, "00A4000C026F38", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000000", d, &dl), 0x9000);
	assert_true(d[8] & 0x08);
	/* ISIM: IMPI, domain, IMPU records, IST service 2. */
	assert_int_equal(xfer(sim, "00A4040410" AID_ISIM "00", d, &dl), 0x9000);
	assert_int_equal(xfer(sim, "00A4000C026F02", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000000", d, &dl), 0x9000);
	assert_int_equal(d[0], 0x80);
	assert_int_equal(d[1], strlen(impi));
	assert_memory_equal(d + 2, impi, strlen(impi));
	assert_int_equal(xfer(sim, "00A4000C026F03", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000000", d, &dl), 0x9000);
	assert_memory_equal(d + 2, "ims.mnc001.mcc001.3gppnetwork.org", d[1]);
	assert_int_equal(xfer(sim, "00A4000C026F04", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B2020400", d, &dl), 0x9000);
	assert_memory_equal(d + 2, "tel:+10000000001", 16);
	assert_int_equal(xfer(sim, "00A4000C026F07", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000001", d, &dl), 0x9000);
	assert_true(d[0] & 0x02);
	/* STATUS P2=01: the DF name of the current application. */
	assert_int_equal(xfer(sim, "80F2000100", d, &dl), 0x9000);
	assert_hex_equal(d, 18, "8410a0000000871004ffffffff8906190000");
	printf("EF_DIR, EF_ICCID, EF_AD, EF_UST, EF_IMPI, EF_DOMAIN, EF_IMPU, EF_IST read\n");
	usim_sim_close(sim);
}

/* MANAGE CHANNEL, the channel in CLA, an application per channel. */
static void test_channels(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	uint8_t d[256];
	size_t dl;

	(void)state;
	assert_int_equal(xfer(sim, "0070000001", d, &dl), 0x9000);
	assert_int_equal(dl, 1);
	assert_int_equal(d[0], 1);
	assert_int_equal(xfer(sim, "0070000001", d, &dl), 0x9000);
	assert_int_equal(d[0], 2);
	assert_int_equal(xfer(sim, "0070000001", d, &dl), 0x9000);
	assert_int_equal(d[0], 3);
	assert_int_equal(xfer(sim, "0070000001", d, &dl), 0x6A81);   /* no fourth */
	/* The USIM on channel 1, the ISIM on channel 2: STATUS tells them apart. */
	assert_int_equal(xfer(sim, "01A4040C07A0000000871002", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "02A4040C07A0000000871004", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "81F2000100", d, &dl), 0x9000);
	assert_hex_equal(d, 18, "8410a0000000871002ffffffff8906190000");
	assert_int_equal(xfer(sim, "82F2000100", d, &dl), 0x9000);
	assert_hex_equal(d, 18, "8410a0000000871004ffffffff8906190000");
	/* The basic channel has no application selected: not the USIM's name. */
	dl = 0;
	xfer(sim, "80F2000100", d, &dl);
	assert_false(dl >= 9 && d[0] == 0x84 && !memcmp(d + 2, "\xA0\x00\x00\x00\x87\x10", 6));
	/* Close channel 2 (from channel 2 itself); it no longer answers. */
	assert_int_equal(xfer(sim, "02708002", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "82F2000100", d, &dl), 0x6881);
	assert_int_equal(xfer(sim, "00708002", NULL, NULL), 0x6881);
	/* A reset leaves only the basic channel. */
	usim_sim_reset(sim);
	assert_int_equal(xfer(sim, "81F2000100", d, &dl), 0x6881);
	usim_sim_close(sim);
}

/* The CAT commands a terminal sends during a session, answered as a UICC
 * without a toolkit application does; sw_quirks: 91xx until FETCH. */
static void test_cat_and_quirks(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	uint8_t d[256];
	size_t dl;

	(void)state;
	select_usim(sim, 1);
	assert_int_equal(xfer(sim, "8010000002FFFF", NULL, NULL), 0x9000);     /* TERMINAL PROFILE */
	assert_int_equal(xfer(sim, "80C2000003D10100", NULL, NULL), 0x9000);   /* ENVELOPE */
	assert_int_equal(xfer(sim, "8012000000", d, &dl), 0x9000);             /* FETCH: nothing */
	assert_int_equal(dl, 0);
	assert_int_equal(xfer(sim, "80F2000100", d, &dl), 0x9000);             /* STATUS in session */
	assert_int_equal(d[0], 0x84);
	assert_int_equal(xfer(sim, "0010000002FFFF", NULL, NULL), 0x6E00);     /* wrong class */
	usim_sim_close(sim);

	sim = open_card(profile("sw-quirks.conf"));
	assert_int_equal(xfer(sim, "00A4000C023F00", NULL, NULL), 0x910B);     /* pending from power-up */
	assert_int_equal(xfer(sim, "801200000B", d, &dl), 0x9000);             /* FETCH: MORE TIME */
	assert_int_equal(dl, 11);
	assert_int_equal(d[0], 0xD0);
	assert_int_equal(xfer(sim, "00A4000C023F00", NULL, NULL), 0x9000);     /* nothing pending */
	assert_int_equal(xfer(sim, "8010000002FFFF", NULL, NULL), 0x910B);     /* pending again */
	usim_sim_close(sim);
}

/* EF_ARR (2F06 and the USIM's 6F06) holds the records the FCPs' 8B name;
 * a file without an SFI says 88 00 and cannot be read by its FID's low bits. */
static void test_arr_and_sfi(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	uint8_t d[256];
	size_t dl;
	const uint8_t *v;

	(void)state;
	select_usim(sim, 1);
	/* EF_GBABP: 8B 03 6F06 <rec>, 88 00. */
	assert_int_equal(xfer(sim, "00A40004026FD600", d, &dl), 0x9000);
	v = memchr(d, 0x8B, dl);
	assert_non_null(v);
	assert_int_equal(v[1], 3);
	assert_int_equal(v[2], 0x6F);
	assert_int_equal(v[3], 0x06);
	uint8_t rec = v[4];
	assert_non_null(memmem(d, dl, "\x88\x00", 2));
	/* That record of the USIM's EF_ARR: read PIN1, update PIN1. */
	assert_int_equal(xfer(sim, "00A4000C026F06", NULL, NULL), 0x9000);
	char cmd[16];
	snprintf(cmd, sizeof(cmd), "00B2%02X0418", rec);
	assert_int_equal(xfer(sim, cmd, d, &dl), 0x9000);
	assert_hex_equal(d, 22, "800101a40683010195010880010" "2a406830101950108");
	/* EF_GBANL: read PIN1, update ADM1 (the card writes it itself). */
	assert_int_equal(xfer(sim, "00A40004026FDA00", d, &dl), 0x9000);
	v = memchr(d, 0x8B, dl);
	snprintf(cmd, sizeof(cmd), "00B2%02X0418", v[4]);
	assert_int_equal(xfer(sim, "00A4000C026F06", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, cmd, d, &dl), 0x9000);
	assert_hex_equal(d, 22, "800101a40683010195010880010" "2a40683010a950108");
	/* READ BINARY by the implicit SFI of 6FD6 (16): not a file. */
	assert_int_equal(xfer(sim, "00B0960001", d, &dl), 0x6A82);
	/* The MF's EF_ARR exists too. */
	assert_int_equal(xfer(sim, "00A4000C023F00", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00A4000C022F06", NULL, NULL), 0x9000);
	usim_sim_close(sim);
}

/* Strict T=0: a case 4 command with Le is refused, as strict cards do. */
static void test_strict_t0(void **state)
{
	struct usim_sim *sim = open_card(profile("modem-old.conf"));
	uint8_t d[256];
	size_t dl;

	(void)state;
	assert_int_equal(xfer(sim, "00A4000402" "3F00" "00", d, &dl), 0x6700);
	assert_int_equal(xfer(sim, "00A4000402" "3F00", d, &dl) >> 8, 0x61);
	usim_sim_close(sim);
}

static void test_malformed(void **state)
{
	struct usim_sim *sim = open_card(profile("demo.conf"));
	uint8_t d[256], r[USIM_SIM_RAPDU_MAX];
	size_t dl;
	static const struct { const char *apdu; uint16_t sw; const char *why; } cases[] = {
		{ "00A404", 0x6700, "3 octets" },
		{ "00A4040405A000", 0x6700, "Lc larger than the data" },
		{ "00A4040402A0000000", 0x6700, "data longer than Lc + Le" },
		{ "00B00000000010", 0x6700, "extended length" },
		{ "0088008122", 0x6985, "AUTHENTICATE without an application (case 2 form)" },
		{ "00EE000000", 0x6D00, "unknown INS" },
		{ "A0A4000002", 0x6E00, "GSM class" },
		{ "01A4000C023F00", 0x6881, "logical channel 1" },
		{ "00A4050C023F00", 0x6A86, "SELECT P1 05" },
		{ "00A4000C021234", 0x6A82, "unknown FID" },
		{ "00A4040C05A000000099", 0x6A82, "unknown AID" },
		{ "00B0000001", 0x6986, "READ BINARY with no EF selected" },
		{ "00C0000010", 0x6985, "GET RESPONSE with nothing pending" },
		{ "80F2000500", 0x6A86, "STATUS P2 05" },
		{ "0020000103313233", 0x6700, "VERIFY with 3 octets" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t sw = xfer(sim, cases[i].apdu, d, &dl);

		printf("%-55s -> %04X\n", cases[i].why, sw);
		assert_int_equal(sw, cases[i].sw);
	}
	/* Inside the USIM. */
	select_usim(sim, 1);
	static const struct { const char *apdu; uint16_t sw; const char *why; } in_app[] = {
		{ "008800810310AABB00", 0x6700, "AUTHENTICATE 3G with 3 octets" },
		{ "0088008122" "11000000000000000000000000000000000010000000000000000000000000000000" "00",
		  0x6A80, "AUTHENTICATE 3G with a bad RAND length" },
		{ "0088008023" "DD100000000000000000000000000000000010000000000000000000000000000000" "00",
		  0x9864, "AUTHENTICATE GSM context" },
		{ "0088018100", 0x6A86, "AUTHENTICATE P1 01" },
		{ "0088008405DE05414243" "00", 0x6A80, "NAF derivation with a NAF_Id longer than the data" },
		{ "0088008401AA00", 0x6A80, "GBA context with an unknown tag" },
		{ "00A4000C026F07", 0x9000, "SELECT EF_IMSI" },
		{ "00D6000001FF", 0x6982, "UPDATE BINARY EF_IMSI (ADM)" },
		{ "00B0100001", 0x6B00, "READ BINARY past the end" },
		{ "00B2010400", 0x6981, "READ RECORD on a transparent EF" },
		{ "00A4000C026FDA", 0x9000, "SELECT EF_GBANL" },
		{ "00B2090400", 0x6A83, "READ RECORD 9 of 4" },
		{ "00DC010402FFFF", 0x6982, "UPDATE RECORD EF_GBANL from outside (ADM: the card writes it)" },
		{ "00B2010700", 0x6A86, "READ RECORD mode 07" },
	};
	for (size_t i = 0; i < sizeof(in_app) / sizeof(in_app[0]); i++) {
		uint16_t sw = xfer(sim, in_app[i].apdu, d, &dl);

		printf("%-55s -> %04X\n", in_app[i].why, sw);
		assert_int_equal(sw, in_app[i].sw);
	}
	/* API misuse. */
	assert_int_equal(usim_sim_apdu(sim, NULL, 4, r, sizeof(r), &dl), GBA_ERR_INVALID_ARG);
	assert_int_equal(usim_sim_apdu(sim, d, 4, r, 10, &dl), GBA_ERR_BUFFER_TOO_SMALL);
	usim_sim_close(sim);
}

static const char PIN_PROFILE[] =
	"imsi = 001010000000002\n"
	"k = 465b5ce8b199b49faa5f0a2ee238a6bc\n"
	"opc = cd63cb71954a9f4e48a5994e37a02baf\n"
	"protocol = T=1\n"
	"pin = 1234\n";

static void test_pin(void **state)
{
	const char *p = write_profile("pin.conf", PIN_PROFILE);
	struct usim_sim *sim = open_card(p);
	uint8_t d[256];
	size_t dl;

	(void)state;
	select_usim(sim, 1);
	assert_int_equal(xfer(sim, "00A4000C026F07", NULL, NULL), 0x9000);
	assert_int_equal(xfer(sim, "00B0000009", d, &dl), 0x6982);
	assert_int_equal(xfer(sim, "0088008122" "1000000000000000000000000000000000"
				   "1000000000000000000000000000000000" "00", d, &dl), 0x6982);
	assert_int_equal(xfer(sim, "0020000108" "31313131FFFFFFFF", d, &dl), 0x63C2);
	assert_int_equal(xfer(sim, "0020000100", d, &dl), 0x63C2);   /* P3 00: a query */
	assert_int_equal(xfer(sim, "00200001", d, &dl), 0x63C2);
	assert_int_equal(xfer(sim, "0020000108" "31323334FFFFFFFF", d, &dl), 0x9000);
	assert_int_equal(xfer(sim, "00B0000009", d, &dl), 0x9000);
	printf("PIN: 6982 before VERIFY, 63C2 after a wrong one, 9000 after the right one\n");
	/* Block it: three wrong PINs, and it stays blocked after a restart. */
	for (int i = 2; i >= 0; i--)
		assert_int_equal(xfer(sim, "0020000108" "39393939FFFFFFFF", d, &dl), 0x63C0 | i);
	assert_int_equal(xfer(sim, "0020000108" "31323334FFFFFFFF", d, &dl), 0x6983);
	usim_sim_close(sim);
	sim = open_card(p);
	assert_int_equal(xfer(sim, "0020000108" "31323334FFFFFFFF", d, &dl), 0x6983);
	printf("PIN blocked after 3 tries, also after a restart\n");
	usim_sim_close(sim);
}

static void test_faults(void **state)
{
	struct usim_sim *sim = open_card(profile("ts35208-set1.conf"));
	uint8_t rand[16], autn[16], c[64], d[256], r[USIM_SIM_RAPDU_MAX];
	size_t dl, rl = 99;
	enum usim_sim_fault f;
	uint16_t sw;

	(void)state;
	select_usim(sim, 0);
	unhex(rand, 16, set1()->rand);
	set1_autn(autn, 0);
	usim_sim_set_fault(sim, USIM_FAULT_TRUNCATED);
	sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
	assert_int_equal(get_response(sim, sw, d, &dl), 0x9000);
	assert_int_equal(dl, 6);
	assert_int_equal(d[0], 0xDB);
	assert_int_equal(d[1], 8);               /* claims 8, carries 4 */
	/* Garbage: the replay's honest answer is a fixed AUTS; garbage is not it. */
	usim_sim_set_fault(sim, USIM_FAULT_NONE);
	{
		uint8_t honest[16], junk[16];
		size_t hl, jl;

		sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
		assert_int_equal(get_response(sim, sw, honest, &hl), 0x9000);
		assert_int_equal(honest[0], 0xDC);
		usim_sim_set_fault(sim, USIM_FAULT_GARBAGE);
		sw = xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 0), d, &dl);
		assert_int_equal(get_response(sim, sw, junk, &jl), 0x9000);
		assert_int_equal(jl, hl);
		assert_memory_not_equal(junk, honest, hl);
	}
	usim_sim_set_fault(sim, USIM_FAULT_SW_6F00);
	assert_int_equal(xfer(sim, "00A4000C023F00", d, &dl), 0x6F00);
	usim_sim_set_fault(sim, USIM_FAULT_MUTE);
	assert_int_equal(usim_sim_apdu(sim, c, 4, r, sizeof(r), &rl), GBA_OK);
	assert_int_equal(rl, 0);
	assert_int_equal(usim_sim_fault_parse("garbage", &f), GBA_OK);
	assert_int_equal(f, USIM_FAULT_GARBAGE);
	assert_int_equal(usim_sim_fault_parse("bogus", &f), GBA_ERR_INVALID_ARG);
	usim_sim_set_fault(sim, USIM_FAULT_NONE);
	assert_int_equal(xfer(sim, "00A4000C023F00", d, &dl), 0x9000);
	printf("faults: truncated TLV, garbage, 6F00, mute\n");
	usim_sim_close(sim);
}

static void test_tuak(void **state)
{
	const struct tuak_test_set *t = &tuak_test_sets[0];
	char text[512];
	struct usim_sim *sim;
	uint8_t rand[16], autn[16], sqn[6], ak[6], c[64], d[256];
	size_t dl;

	(void)state;
	snprintf(text, sizeof(text),
		 "imsi = 001010000000003\nalgorithm = tuak\nk = %s\ntopc = %s\n"
		 "tuak_iterations = %u\nres_len = 4\nprotocol = T=1\n"
		 "sqn_delta = 281474976710655\n", t->k, t->topc, t->iterations);
	sim = open_card(write_profile("tuak.conf", text));
	select_usim(sim, 1);
	unhex(rand, 16, t->rand);
	unhex(sqn, 6, t->sqn);
	unhex(ak, 6, t->f5);
	for (int i = 0; i < 6; i++)
		autn[i] = sqn[i] ^ ak[i];
	unhex(autn + 6, 2, t->amf);
	unhex(autn + 8, 8, t->f1);
	assert_int_equal(xfer_bytes(sim, c, build_auth(c, 0x81, 0, rand, autn, 1), d, &dl),
			 0x9000);
	assert_int_equal(d[0], 0xDB);
	assert_int_equal(d[1], 4);
	assert_hex_equal(d + 2, 4, t->f2);
	assert_int_equal(d[6], 16);
	assert_hex_equal(d + 7, 16, t->f3);
	assert_hex_equal(d + 24, 16, t->f4);
	printf("TUAK (TS 35.233 set 1): RES/CK/IK as published\n");
	usim_sim_close(sim);
}

static void test_bad_profiles_and_state(void **state)
{
	struct usim_sim *sim = NULL;
	static const char *bad[] = {
		"k = 465b5ce8b199b49faa5f0a2ee238a6bc\nopc = cd63cb71954a9f4e48a5994e37a02baf\n",
		"imsi = 001010000000002\nk = 46zz\nopc = cd63cb71954a9f4e48a5994e37a02baf\n",
		"imsi = 001010000000002\nk = 465b5ce8b199b49faa5f0a2ee238a6bc\n",
		"imsi = 001010000000002\ncolour = blue\n",
		"imsi = 0010100000000021111\n",
		"imsi = 001010000000002\nprotocol = T=2\n",
		("imsi = 001010000000002\nk = 465b5ce8b199b49faa5f0a2ee238a6bc\n"
		 "op = cdc202d5123e20f62b6d676ac72cb318\nopc = cdc202d5123e20f62b6d676ac72cb318\n"),
		"just words\n",
	};
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(usim_sim_open(write_profile("bad.conf", bad[i]), state_path, &sim),
				 GBA_ERR_PARSE);
		assert_null(sim);
	}
	assert_int_equal(usim_sim_open("/nonexistent/profile", state_path, &sim), GBA_ERR_STORE);
	/* A damaged state file is refused, not half-loaded. */
	f = fopen(state_path, "w");
	assert_non_null(f);
	fputs("gba-usim-sim-state 1\nseq 0 12\nseq 99 1\n", f);
	fclose(f);
	assert_int_equal(usim_sim_open(profile("demo.conf"), state_path, &sim), GBA_ERR_PARSE);
	f = fopen(state_path, "w");
	fputs("something else\n", f);
	fclose(f);
	assert_int_equal(usim_sim_open(profile("demo.conf"), state_path, &sim), GBA_ERR_PARSE);
	unlink(state_path);
	printf("bad profiles and state files -> GBA_ERR_PARSE (messages name lines, not values)\n");
}

/* Each test starts from a fresh card. */
static int fresh(void **state)
{
	(void)state;
	unlink(state_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_3g_set1, fresh),
		cmocka_unit_test_setup(test_sync_failure_auts, fresh),
		cmocka_unit_test_setup(test_mac_failure, fresh),
		cmocka_unit_test_setup(test_gba_u, fresh),
		cmocka_unit_test_setup(test_persistence, fresh),
		cmocka_unit_test_setup(test_t0_procedure_bytes, fresh),
		cmocka_unit_test_setup(test_files, fresh),
		cmocka_unit_test_setup(test_malformed, fresh),
		cmocka_unit_test_setup(test_channels, fresh),
		cmocka_unit_test_setup(test_cat_and_quirks, fresh),
		cmocka_unit_test_setup(test_arr_and_sfi, fresh),
		cmocka_unit_test_setup(test_strict_t0, fresh),
		cmocka_unit_test_setup(test_pin, fresh),
		cmocka_unit_test_setup(test_faults, fresh),
		cmocka_unit_test_setup(test_tuak, fresh),
		cmocka_unit_test_setup(test_bad_profiles_and_state, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
