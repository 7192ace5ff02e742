/*
 * test_client_sim.c - libgba-client against the in-process USIM simulator
 * (simulators/usim), as a custom card: identity from EF_DIR/EF_IMSI/EF_AD/
 * ISIM EF_IMPI, T=0 (GET RESPONSE) and T=1, AUTHENTICATE checked against
 * the network side computed by libgba, GBA_U (Ks stays in the card,
 * Ks_ext_NAF equals the network's Ks_NAF formula), and the card's faults.
 *
 *   test_client_sim PROFILE_DIR
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "sim_card.h"

static const char *profiles;
static const uint8_t K[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
			       0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc };
static const uint8_t OPC[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
				 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf };
#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"

struct fixture {
	char state[64];
	struct gba_client_card *card;
	struct usim_sim *sim;
	struct gba_client_identity id;
};

static void open_card(struct fixture *f, const char *profile)
{
	char path[1024], msg[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", profiles, profile);
	strcpy(f->state, "/tmp/client-sim-XXXXXX");
	fd = mkstemp(f->state);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->state);   /* the card creates it */
	assert_int_equal(sim_card_open(&f->card, path, f->state, &f->sim), 0);
	assert_int_equal(gba_client_usim_identity(f->card, &f->id, msg, sizeof(msg)), 0);
}

static void close_card(struct fixture *f)
{
	gba_client_card_close(f->card);
	unlink(f->state);
}

/* The network's vector for SEQ seq (IND 0). */
static void vector(struct gba_av *av, uint64_t seq, uint8_t r)
{
	struct gba_aka_key key;
	uint8_t rand[16];
	const uint8_t amf[2] = { 0x80, 0x00 };

	memset(rand, r, sizeof(rand));
	gba_aka_key_milenage(&key, K, OPC, 0);
	assert_int_equal(gba_aka_gen_av(&key, amf, seq << 5, rand, av), 0);
	gba_wipe(&key, sizeof(key));
}

static void check_identity(const struct fixture *f)
{
	assert_string_equal(f->id.imsi, "001010000000001");
	assert_int_equal(f->id.mnc_len, 2);
	assert_string_equal(f->id.impi, IMPI);
	assert_true(f->id.impi_from_isim);
	assert_true(f->id.isim_aid_len > 0);
	assert_string_equal(f->id.bsf_host, "bsf.mnc001.mcc001.pub.3gppnetwork.org");
	assert_true(f->id.gba_u);
}

static void run_3g(const char *profile, int t0)
{
	struct fixture f;
	struct gba_client_auth a;
	struct gba_av av;
	char msg[256];
	unsigned long before;

	open_card(&f, profile);
	check_identity(&f);
	vector(&av, 1, 0x11);
	before = gba_client_card_exchanges(f.card);
	assert_int_equal(gba_client_usim_authenticate(f.card, 0, av.rand, av.autn, &a, msg,
						      sizeof(msg)), 0);
	/* T=0: the answer came with GET RESPONSE, a second exchange. */
	assert_int_equal(gba_client_card_exchanges(f.card) - before, t0 ? 2 : 1);
	assert_int_equal(a.res_len, av.xres_len);
	assert_memory_equal(a.res, av.xres, av.xres_len);
	assert_memory_equal(a.ck, av.ck, 16);
	assert_memory_equal(a.ik, av.ik, 16);
	/* The same vector again is a replay: sync failure with AUTS. */
	assert_int_equal(gba_client_usim_authenticate(f.card, 0, av.rand, av.autn, &a, msg,
						      sizeof(msg)), GBA_CLIENT_ERR_SYNC_FAILURE);
	struct gba_aka_key key;
	uint64_t sqn_ms;
	gba_aka_key_milenage(&key, K, OPC, 0);
	assert_int_equal(gba_aka_resync(&key, av.rand, a.auts, &sqn_ms), 0);
	assert_int_equal(sqn_ms >> 5, 1);
	gba_wipe(&key, sizeof(key));
	gba_wipe(&a, sizeof(a));
	close_card(&f);
}

static void test_3g_t0(void **state)
{
	(void)state;
	run_3g("demo-t0.conf", 1);
}

static void test_3g_t1(void **state)
{
	(void)state;
	run_3g("demo.conf", 0);
}

static void test_gba_u(void **state)
{
	struct fixture f;
	struct gba_client_auth a;
	struct gba_av av;
	uint8_t ks[32], naf_id[64], want[32], got[32], int_want[32], int_got[32];
	size_t n;
	char msg[256];
	(void)state;

	open_card(&f, "demo-t0.conf");
	vector(&av, 1, 0x22);
	assert_int_equal(gba_client_usim_authenticate(f.card, 1, av.rand, av.autn, &a, msg,
						      sizeof(msg)), 0);
	assert_memory_equal(a.res, av.xres, av.xres_len);
	/* GBA bootstrapping mode: CK and IK did not leave the card. */
	uint8_t zero[16] = { 0 };
	assert_memory_equal(a.ck, zero, 16);
	assert_memory_equal(a.ik, zero, 16);
	assert_int_equal(gba_client_usim_write_gbabp(f.card, av.rand,
						     "ISIiIiIiIiIiIiIiIiIiIg==@bsf.example.org",
						     "2030-01-01T00:00:00Z", msg, sizeof(msg)), 0);
	assert_int_equal(gba_naf_id(naf_id, sizeof(naf_id), &n, "naf.example.org", 15,
				    GBA_UA_HTTP_DIGEST), 0);
	assert_int_equal(gba_client_usim_ks_ext_naf(f.card, naf_id, n, IMPI, got, msg,
						    sizeof(msg)), 0);
	memcpy(ks, av.ck, 16);
	memcpy(ks + 16, av.ik, 16);
	assert_int_equal(gba_ks_naf(ks, av.rand, IMPI, strlen(IMPI), naf_id, n, want), 0);
	assert_memory_equal(got, want, 32);
	/* The card kept Ks_int_NAF, and it is the "gba-u" derivation. */
	assert_int_equal(gba_ks_int_naf(ks, av.rand, IMPI, strlen(IMPI), naf_id, n, int_want), 0);
	assert_int_equal(usim_sim_ks_int_naf(f.sim, naf_id, n, int_got), 0);
	assert_memory_equal(int_got, int_want, 32);
	gba_wipe(ks, sizeof(ks));
	close_card(&f);
}

static void test_mac_failure(void **state)
{
	struct fixture f;
	struct gba_client_auth a;
	struct gba_av av;
	char msg[256];
	(void)state;
	open_card(&f, "demo.conf");
	vector(&av, 1, 0x33);
	av.autn[15] ^= 1;   /* MAC-A no longer verifies */
	assert_int_equal(gba_client_usim_authenticate(f.card, 0, av.rand, av.autn, &a, msg,
						      sizeof(msg)), GBA_CLIENT_ERR_MAC_FAILURE);
	assert_non_null(strstr(msg, "9862"));
	close_card(&f);
}

static void fault(const char *name, gba_client_err want)
{
	struct fixture f;
	struct gba_client_auth a;
	struct gba_av av;
	enum usim_sim_fault fl;
	char msg[256] = "";

	open_card(&f, "demo-t0.conf");
	vector(&av, 1, 0x44);
	assert_int_equal(usim_sim_fault_parse(name, &fl), 0);
	usim_sim_set_fault(f.sim, fl);
	assert_int_equal(gba_client_usim_authenticate(f.card, 0, av.rand, av.autn, &a, msg,
						      sizeof(msg)), want);
	printf("# fault %s: %s\n", name, msg[0] ? msg : gba_client_strerror(want));
	usim_sim_set_fault(f.sim, USIM_FAULT_NONE);
	close_card(&f);
}

static void test_faults(void **state)
{
	(void)state;
	fault("garbage", GBA_CLIENT_ERR_CARD_DATA);
	fault("truncated", GBA_CLIENT_ERR_CARD_DATA);
	fault("sw6f00", GBA_CLIENT_ERR_CARD);
	fault("mute", GBA_CLIENT_ERR_TIMEOUT);
}

/*
 * An ISIM whose EF_IMPI is not a usable NAI (here a non-ASCII octet, found
 * by fuzz_client_card with control characters): the client must not put it
 * in a Digest username or a card command, and derives the IMPI from the
 * IMSI instead.
 */
static void test_isim_impi_not_printable(void **state)
{
	char src[1024], dir[] = "/tmp/client-impi-XXXXXX", path[1100], line[512], msg[256];
	struct fixture f;
	FILE *in, *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/demo.conf", profiles);
	snprintf(path, sizeof(path), "%s/bad-impi.conf", dir);
	in = fopen(src, "r");
	out = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in))
		fputs(strncmp(line, "impi", 4) ? line : "impi = node\xc3\xbc@ims.example.org\n", out);
	fclose(in);
	fclose(out);
	strcpy(f.state, "/tmp/client-sim-XXXXXX");
	int fd = mkstemp(f.state);
	assert_true(fd >= 0);
	close(fd);
	unlink(f.state);
	assert_int_equal(sim_card_open(&f.card, path, f.state, &f.sim), 0);
	assert_int_equal(gba_client_usim_identity(f.card, &f.id, msg, sizeof(msg)), 0);
	assert_string_equal(f.id.impi, IMPI);     /* derived from the IMSI */
	assert_false(f.id.impi_from_isim);
	close_card(&f);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_3g_t0),
		cmocka_unit_test(test_3g_t1),
		cmocka_unit_test(test_gba_u),
		cmocka_unit_test(test_mac_failure),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_isim_impi_not_printable),
	};
	if (argc < 2) {
		fprintf(stderr, "usage: test_client_sim PROFILE_DIR\n");
		return 2;
	}
	profiles = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
