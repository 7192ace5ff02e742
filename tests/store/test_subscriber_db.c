/*
 * test_subscriber_db.c - the embedded subscriber database and its AuC.
 *
 * Vectors are checked the way a card checks them: libgba's USIM side
 * (gba_usim_authenticate) with the same K and OPc must accept them and
 * answer RES = XRES, CK, IK.  SQN uniqueness is checked across threads,
 * across two handles on one file, and across processes.
 */
#define _GNU_SOURCE /* memmem, mkdtemp, fmemopen */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "full_disk.h"

/* TS 35.208 test set 1: a published key, never a real subscriber's. */
static const uint8_t K[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
			       0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc };
static const uint8_t OP[16] = { 0xcd, 0xc2, 0x02, 0xd5, 0x12, 0x3e, 0x20, 0xf6,
				0x2b, 0x6d, 0x67, 0x6a, 0xc7, 0x2c, 0xb3, 0x18 };
static const uint8_t OPC[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
				 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf };
#define K_HEX "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OP_HEX "cdc202d5123e20f62b6d676ac72cb318"
#define OPC_HEX "cd63cb71954a9f4e48a5994e37a02baf"
#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define GUSS "<guss><ussList><uss id=\"1\"/></ussList></guss>"
#define DELTA (UINT64_C(1) << 28)

static char tmp_dir[256];
static unsigned db_counter;
static char db_path[512];

/* ---- helpers ----------------------------------------------------------- */

static struct gba_subdb *open_fresh(void)
{
	struct gba_subdb *db = NULL;

	snprintf(db_path, sizeof(db_path), "%s/sub%u.db", tmp_dir, db_counter++);
	assert_int_equal(gba_subdb_open(&db, db_path), GBA_OK);
	return db;
}

static struct gba_subdb *open_again(void)
{
	struct gba_subdb *db = NULL;

	assert_int_equal(gba_subdb_open(&db, db_path), GBA_OK);
	return db;
}

static void milenage_sub(struct gba_subscriber *sub, const char *impi)
{
	memset(sub, 0, sizeof(*sub));
	snprintf(sub->impi, sizeof(sub->impi), "%s", impi);
	snprintf(sub->imsi, sizeof(sub->imsi), "001010000000001");
	snprintf(sub->impus, sizeof(sub->impus), "sip:a@example.org,tel:+15550001");
	gba_aka_key_milenage(&sub->key, K, OPC, 0);
	sub->ind_bits = 5;
}

static void tuak_sub(struct gba_subscriber *sub, const char *impi)
{
	uint8_t k[32], topc[32];

	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(0x11 * i + 3);
		topc[i] = (uint8_t)(0xa5 ^ (7 * i));
	}
	memset(sub, 0, sizeof(*sub));
	snprintf(sub->impi, sizeof(sub->impi), "%s", impi);
	assert_int_equal(gba_aka_key_tuak(&sub->key, k, 32, topc, 0, 2, 16), GBA_OK);
	sub->ind_bits = 5;
}

/* A card: the subscriber's key and the USIM's SQN memory. */
struct card {
	struct gba_aka_key key;
	struct gba_usim_sqn sqn;
};

static void card_init(struct card *c, const struct gba_aka_key *key)
{
	c->key = *key;
	gba_usim_sqn_init(&c->sqn, 5, DELTA);
}

static void make_rand(uint8_t rand[16], unsigned n)
{
	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)((n >> (8 * (i % 4))) ^ (0x3c + i));
}

/* The card accepts av and answers what the AuC expects. */
static void card_accepts(struct card *c, const struct gba_av *av)
{
	struct gba_usim_answer ans;

	assert_int_equal(gba_usim_authenticate(&c->key, &c->sqn, av->rand, av->autn, &ans),
			 GBA_OK);
	assert_int_equal(ans.res_len, av->xres_len);
	assert_memory_equal(ans.res, av->xres, av->xres_len);
	assert_memory_equal(ans.ck, av->ck, 16);
	assert_memory_equal(ans.ik, av->ik, 16);
}

static uint64_t db_sqn(struct gba_subdb *db, const char *impi)
{
	struct gba_subscriber_info info;

	assert_int_equal(gba_subdb_get(db, impi, &info), GBA_OK);
	return info.sqn;
}

static int count_cb(const struct gba_subscriber_info *info, void *arg)
{
	(void)info;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count(struct gba_subdb *db)
{
	size_t n = 0;

	assert_int_equal(gba_subdb_list(db, count_cb, &n), GBA_OK);
	return n;
}

/* ---- records ----------------------------------------------------------- */

struct list_seen {
	char impi[4][GBA_IMPI_MAX + 1];
	size_t n;
};

static int list_cb(const struct gba_subscriber_info *info, void *arg)
{
	struct list_seen *s = arg;

	if (s->n < 4)
		snprintf(s->impi[s->n], sizeof(s->impi[0]), "%s", info->impi);
	s->n++;
	return 0;
}

static int stop_cb(const struct gba_subscriber_info *info, void *arg)
{
	(void)info;
	(*(size_t *)arg)++;
	return 1;
}

static void test_add_get_list_remove(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_subscriber_info info;
	struct list_seen seen = { 0 };
	size_t n = 0;

	(void)state;
	milenage_sub(&sub, "b@example.org");
	sub.amf[0] = 0x80;
	sub.sqn = 64;
	sub.guss = GUSS;
	sub.guss_len = strlen(GUSS);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	tuak_sub(&sub, "a@example.org");
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	milenage_sub(&sub, "c@example.org");
	sub.imsi[0] = sub.impus[0] = '\0';
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);

	assert_int_equal(gba_subdb_get(db, "b@example.org", &info), GBA_OK);
	assert_string_equal(info.impi, "b@example.org");
	assert_string_equal(info.imsi, "001010000000001");
	assert_string_equal(info.impus, "sip:a@example.org,tel:+15550001");
	assert_int_equal(info.algo, GBA_AKA_MILENAGE);
	assert_int_equal(info.amf[0], 0x80);
	assert_int_equal(info.sqn, 64);
	assert_int_equal(info.ind_bits, 5);
	assert_int_equal(info.guss_len, strlen(GUSS));
	assert_int_equal(gba_subdb_get(db, "a@example.org", &info), GBA_OK);
	assert_int_equal(info.algo, GBA_AKA_TUAK);
	assert_int_equal(info.guss_len, 0);

	assert_int_equal(gba_subdb_list(db, list_cb, &seen), GBA_OK);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.impi[0], "a@example.org");   /* IMPI order */
	assert_string_equal(seen.impi[1], "b@example.org");
	assert_string_equal(seen.impi[2], "c@example.org");
	assert_int_equal(gba_subdb_list(db, stop_cb, &n), GBA_OK);
	assert_int_equal(n, 1);

	assert_int_equal(gba_subdb_remove(db, "b@example.org"), GBA_OK);
	assert_int_equal(gba_subdb_get(db, "b@example.org", &info), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_subdb_remove(db, "b@example.org"), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_subdb_remove(db, "never@example.org"), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_subdb_remove(db, ""), GBA_ERR_NOT_FOUND);
	assert_int_equal(count(db), 2);
	gba_subdb_close(db);
}

static void test_duplicate(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	sub.sqn = 999;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_EXISTS);
	assert_int_equal(db_sqn(db, IMPI), 0);   /* the first record is untouched */
	assert_int_equal(count(db), 1);
	gba_subdb_close(db);
}

static void test_info_has_no_secrets(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_subscriber_info info;
	struct stat sb;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	memset(&info, 0, sizeof(info));
	assert_int_equal(gba_subdb_get(db, IMPI, &info), GBA_OK);
	assert_null(memmem(&info, sizeof(info), K, 16));
	assert_null(memmem(&info, sizeof(info), OPC, 16));
	assert_null(memmem(&info, sizeof(info), K, 4));
	/* The file holding K is the owner's alone. */
	assert_int_equal(stat(db_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	gba_subdb_close(db);
}

static void test_bad_add(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	char *big = malloc(GBA_GUSS_MAX + 2);
	static const char *const bad_impi[] = { "", "a b@example.org", "a,b@example.org",
						"tab\t@x", "del\x7f@x", "\xc3\xa9@x" };
	static const char *const bad_imsi[] = { "12345", "00101abc00001", "0010100000000011" };
	static const char *const bad_impus[] = { ",sip:a", "sip:a,", "sip:a,,sip:b", "sip:a b" };

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < sizeof(bad_impi) / sizeof(bad_impi[0]); i++) {
		milenage_sub(&sub, bad_impi[i]);
		assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	}
	milenage_sub(&sub, IMPI);
	memset(sub.impi, 'x', sizeof(sub.impi));   /* no NUL */
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	for (size_t i = 0; i < sizeof(bad_imsi) / sizeof(bad_imsi[0]); i++) {
		milenage_sub(&sub, IMPI);
		snprintf(sub.imsi, sizeof(sub.imsi), "%s", bad_imsi[i]);
		if (strlen(bad_imsi[i]) > GBA_IMSI_MAX)
			memcpy(sub.imsi, bad_imsi[i], sizeof(sub.imsi));   /* unterminated */
		assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	}
	for (size_t i = 0; i < sizeof(bad_impus) / sizeof(bad_impus[0]); i++) {
		milenage_sub(&sub, IMPI);
		snprintf(sub.impus, sizeof(sub.impus), "%s", bad_impus[i]);
		assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	}
	milenage_sub(&sub, IMPI);
	sub.key.k_len = 32;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_BAD_LENGTH);
	milenage_sub(&sub, IMPI);
	sub.key.algo = (enum gba_aka_algo)7;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_UNSUPPORTED);
	tuak_sub(&sub, IMPI);
	sub.key.tuak_iterations = 0;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_BAD_LENGTH);
	tuak_sub(&sub, IMPI);
	sub.key.res_len = 5;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_BAD_LENGTH);
	milenage_sub(&sub, IMPI);
	sub.sqn = GBA_SQN_MAX + 1;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	milenage_sub(&sub, IMPI);
	sub.ind_bits = 11;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	milenage_sub(&sub, IMPI);
	memset(big, 'g', GBA_GUSS_MAX + 1);
	sub.guss = big;
	sub.guss_len = GBA_GUSS_MAX + 1;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_TOO_LARGE);
	sub.guss = "<guss>\0</guss>";
	sub.guss_len = 14;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_BAD_ENCODING);
	sub.guss = NULL;
	sub.guss_len = 3;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_add(NULL, &sub), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_add(db, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(count(db), 0);
	free(big);
	gba_subdb_close(db);
}

/* gba_subdb_check names the field at fault. */
static void test_check_names_field(void **state)
{
	struct gba_subscriber sub;
	const char *field = "x";

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_OK);
	assert_null(field);
	sub.impi[0] = ' ';
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "impi");
	milenage_sub(&sub, IMPI);
	snprintf(sub.imsi, sizeof(sub.imsi), "12");
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "imsi");
	milenage_sub(&sub, IMPI);
	snprintf(sub.impus, sizeof(sub.impus), "a,");
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "impus");
	milenage_sub(&sub, IMPI);
	sub.key.res_len = 4;
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_BAD_LENGTH);
	assert_string_equal(field, "key");
	milenage_sub(&sub, IMPI);
	sub.sqn = UINT64_MAX;
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "sqn");
	milenage_sub(&sub, IMPI);
	sub.ind_bits = 99;
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "ind_bits");
	milenage_sub(&sub, IMPI);
	sub.guss_len = 1;
	assert_int_equal(gba_subdb_check(&sub, &field), GBA_ERR_INVALID_ARG);
	assert_string_equal(field, "guss");
	assert_int_equal(gba_subdb_check(NULL, &field), GBA_ERR_INVALID_ARG);
}

/* ---- the AuC ----------------------------------------------------------- */

static void issue_and_check(struct gba_subdb *db, struct card *c, const char *impi,
			    unsigned ind, unsigned n)
{
	uint64_t last = db_sqn(db, impi);

	for (unsigned i = 0; i < n; i++) {
		struct gba_av av;
		uint8_t rand[16];
		make_rand(rand, 1000 + i);
		assert_int_equal(gba_subdb_next_av(db, impi, ind, rand, &av, NULL, 0, NULL),
				 GBA_OK);
		assert_memory_equal(av.rand, rand, 16);
		assert_int_equal(av.sqn & 31, ind);
		assert_true(av.sqn > last);
		last = av.sqn;
		card_accepts(c, &av);
		gba_wipe(&av, sizeof(av));
	}
	assert_int_equal(db_sqn(db, impi), last);
}

/* n vectors from a handle with SQN blocks: each one SEQ on, the card takes each. */
static void issue_and_check_block(struct gba_subdb *db, struct card *c, unsigned ind, unsigned n)
{
	uint64_t last = 0;

	for (unsigned i = 0; i < n; i++) {
		struct gba_av av;
		uint8_t rand[16];
		make_rand(rand, 2000 + i);
		assert_int_equal(gba_subdb_next_av(db, IMPI, ind, rand, &av, NULL, 0, NULL), GBA_OK);
		if (last)
			assert_int_equal(av.sqn, last + 32);
		last = av.sqn;
		card_accepts(c, &av);
	}
	assert_true(db_sqn(db, IMPI) >= last);
}

static void test_next_av_milenage(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct card c;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	issue_and_check(db, &c, IMPI, 3, 5);
	issue_and_check(db, &c, IMPI, 7, 3);   /* another BSF's slot */
	assert_int_equal(db_sqn(db, IMPI), (8u << 5) | 7);
	gba_subdb_close(db);
}

static void test_next_av_tuak(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct card c;
	struct gba_av av;
	uint8_t rand[16];

	(void)state;
	tuak_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	issue_and_check(db, &c, IMPI, 0, 4);
	make_rand(rand, 1);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(av.xres_len, 16);
	gba_subdb_close(db);
}

static void test_next_av_errors(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_av av;
	uint8_t rand[16] = { 0 };
	char guss[8];
	size_t len = 0;

	(void)state;
	milenage_sub(&sub, IMPI);
	sub.sqn = 96;
	sub.guss = GUSS;
	sub.guss_len = strlen(GUSS);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, "nobody@example.org", 0, rand, &av, NULL, 0, NULL),
			 GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_subdb_next_av(db, "bad impi", 0, rand, &av, NULL, 0, NULL),
			 GBA_ERR_NOT_FOUND);
	/* IND outside the subscriber's 5-bit IND: refused, SQN unchanged. */
	assert_int_equal(gba_subdb_next_av(db, IMPI, 32, rand, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 5000, rand, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	/* The GUSS does not fit: refused before the SQN moves. */
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, guss, sizeof(guss), &len),
			 GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(len, strlen(GUSS));
	assert_int_equal(db_sqn(db, IMPI), 96);
	assert_int_equal(gba_subdb_next_av(NULL, IMPI, 0, rand, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, NULL, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, NULL, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	/* SQN at the top of its range: GBA_ERR_SQN_RANGE, nothing issued. */
	milenage_sub(&sub, "top@example.org");
	sub.sqn = GBA_SQN_MAX;
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, "top@example.org", 0, rand, &av, NULL, 0, NULL),
			 GBA_ERR_SQN_RANGE);
	assert_int_equal(db_sqn(db, "top@example.org"), GBA_SQN_MAX);
	gba_subdb_close(db);
}

static void test_next_av_guss(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_av av;
	uint8_t rand[16] = { 1 };
	char guss[GBA_GUSS_MAX + 1];
	size_t len = 0;

	(void)state;
	milenage_sub(&sub, IMPI);
	sub.guss = GUSS;
	sub.guss_len = strlen(GUSS);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, guss, sizeof(guss), &len),
			 GBA_OK);
	assert_int_equal(len, strlen(GUSS));
	assert_string_equal(guss, GUSS);
	milenage_sub(&sub, "noguss@example.org");
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, "noguss@example.org", 0, rand, &av, guss,
					   sizeof(guss), &len), GBA_OK);
	assert_int_equal(len, 0);
	assert_string_equal(guss, "");
	gba_subdb_close(db);
}

/* ---- SQN uniqueness ---------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 500

static unsigned sqn_block = 1;   /* for the workers' own handles */

struct sqn_worker {
	struct gba_subdb *db;     /* shared, or NULL: open a handle of its own */
	unsigned ind;
	uint64_t sqn[PER_THREAD];
	int failures;
};

static void *sqn_worker_run(void *arg)
{
	struct sqn_worker *w = arg;
	struct gba_subdb *db = w->db;
	uint8_t rand[16] = { 0 };
	struct gba_av av;

	if (!db && (gba_subdb_open(&db, db_path) != GBA_OK ||
		    gba_subdb_set_sqn_block(db, sqn_block) != GBA_OK)) {
		w->failures = PER_THREAD;
		return NULL;
	}
	for (unsigned i = 0; i < PER_THREAD; i++) {
		if (gba_subdb_next_av(db, IMPI, w->ind, rand, &av, NULL, 0, NULL) != GBA_OK)
			w->failures++;
		w->sqn[i] = av.sqn;
	}
	if (!w->db)
		gba_subdb_close(db);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* All n SEQs distinct, and the database's last SQN is the highest. */
static void assert_distinct_seq(uint64_t *sqn, size_t n, uint64_t db_last)
{
	uint64_t max = 0;

	for (size_t i = 0; i < n; i++) {
		if (sqn[i] > max)
			max = sqn[i];
		sqn[i] >>= 5;   /* SEQ: each vector took the next one */
	}
	qsort(sqn, n, sizeof(*sqn), cmp_u64);
	for (size_t i = 1; i < n; i++)
		if (sqn[i] == sqn[i - 1])
			fail_msg("SEQ %llu issued twice", (unsigned long long)sqn[i]);
	assert_int_equal(sqn[0], 1);
	assert_int_equal(sqn[n - 1], n);
	assert_int_equal(db_last, max);
}

/* With SQN blocks: no SEQ twice, none above what the database reserved. */
static void assert_distinct_only(uint64_t *sqn, size_t n, uint64_t db_last)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(sqn[i] <= db_last);
		sqn[i] >>= 5;
	}
	qsort(sqn, n, sizeof(*sqn), cmp_u64);
	for (size_t i = 1; i < n; i++)
		if (sqn[i] == sqn[i - 1])
			fail_msg("SEQ %llu issued twice", (unsigned long long)sqn[i]);
}

static void run_sqn_threads(int shared_handle, unsigned block)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	static struct sqn_worker w[THREADS];
	static uint64_t all[THREADS * PER_THREAD];
	pthread_t t[THREADS];

	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_set_sqn_block(db, block), GBA_OK);
	sqn_block = block;
	for (unsigned i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].db = shared_handle ? db : NULL;
		w[i].ind = i;
		assert_int_equal(pthread_create(&t[i], NULL, sqn_worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
		memcpy(all + i * PER_THREAD, w[i].sqn, sizeof(w[i].sqn));
	}
	if (block == 1)
		assert_distinct_seq(all, THREADS * PER_THREAD, db_sqn(db, IMPI));
	else
		assert_distinct_only(all, THREADS * PER_THREAD, db_sqn(db, IMPI));
	gba_subdb_close(db);
}

static void test_sqn_threads_one_handle(void **state)
{
	(void)state;
	run_sqn_threads(1, 1);
	run_sqn_threads(1, 16);
}

static void test_sqn_threads_own_handles(void **state)
{
	(void)state;
	run_sqn_threads(0, 1);
	run_sqn_threads(0, 16);
}

static void test_sqn_two_handles(void **state)
{
	struct gba_subdb *a = open_fresh(), *b = open_again();
	struct gba_subscriber sub;
	struct gba_av av;
	uint8_t rand[16] = { 0 };
	uint64_t last = 0;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(a, &sub), GBA_OK);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(gba_subdb_next_av(i % 2 ? a : b, IMPI, 0, rand, &av, NULL, 0,
						   NULL), GBA_OK);
		assert_int_equal(av.sqn, last + 32);
		last = av.sqn;
	}
	/* Each handle sees what the other wrote. */
	assert_int_equal(db_sqn(a, IMPI), last);
	assert_int_equal(db_sqn(b, IMPI), last);
	gba_subdb_close(b);
	gba_subdb_close(a);
}

/* ---- group commit (gba_subdb_group_commit) ---------------------------------- */

/* One queued reservation and whether its done() came. */
struct gc_req {
	struct gba_subdb_reservation *r;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int done;
};

static void gc_done(void *arg)
{
	struct gc_req *q = arg;

	pthread_mutex_lock(q->lock);
	q->done = 1;
	pthread_cond_broadcast(q->cond);
	pthread_mutex_unlock(q->lock);
}

struct gc_worker {
	struct gba_subdb *db;
	const char *impi;
	uint64_t sqn[PER_THREAD];
	gba_err last_err;
	int failures;
};

/* PER_THREAD reservations, 50 queued at a time, then their vectors. */
static void *gc_worker_run(void *arg)
{
	static const uint8_t rand[16] = { 1 };
	struct gc_worker *w = arg;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct gc_req q[50];
	struct gba_av av;

	for (unsigned i = 0; i < PER_THREAD; i += 50) {
		for (unsigned j = 0; j < 50; j++) {
			q[j] = (struct gc_req){ NULL, &lock, &cond, 0 };
			if (gba_subdb_reserve_start(w->db, w->impi, 0, gc_done, &q[j], &q[j].r))
				w->failures++;
		}
		for (unsigned j = 0; j < 50; j++) {
			pthread_mutex_lock(&lock);
			while (!q[j].done)
				pthread_cond_wait(&cond, &lock);
			pthread_mutex_unlock(&lock);
			memset(&av, 0, sizeof(av));
			w->last_err = gba_subdb_reserve_finish(w->db, q[j].r, rand, &av, NULL, 0, NULL);
			w->failures += w->last_err != GBA_OK;
			w->sqn[i + j] = av.sqn;
		}
	}
	return NULL;
}

/*
 * Threads queue reservations for one subscriber on one handle: every SEQ
 * once, the database's SQN the highest handed out; an unknown IMPI is
 * NOT_FOUND through done(); on a full disk every request of the batch
 * fails and the file keeps its SQN.
 */
static void test_group_commit(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	static struct gc_worker w[THREADS];
	static uint64_t all[THREADS * PER_THREAD];
	pthread_t t[THREADS];
	uint64_t before;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_group_commit(db, 64), GBA_OK);
	assert_int_equal(gba_subdb_group_commit(db, 64), GBA_ERR_INVALID_ARG);
	for (unsigned i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].db = db;
		w[i].impi = IMPI;
		assert_int_equal(pthread_create(&t[i], NULL, gc_worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
		memcpy(all + i * PER_THREAD, w[i].sqn, sizeof(w[i].sqn));
	}
	assert_distinct_seq(all, THREADS * PER_THREAD, db_sqn(db, IMPI));

	memset(&w[0], 0, sizeof(w[0]));
	w[0].db = db;
	w[0].impi = "nobody@example.org";
	gc_worker_run(&w[0]);
	assert_int_equal(w[0].failures, PER_THREAD);
	assert_int_equal(w[0].last_err, GBA_ERR_NOT_FOUND);

	before = db_sqn(db, IMPI);
	disk_fill();
	memset(&w[0], 0, sizeof(w[0]));
	w[0].db = db;
	w[0].impi = IMPI;
	gc_worker_run(&w[0]);
	disk_free();
	assert_int_equal(w[0].failures, PER_THREAD);
	assert_int_equal(w[0].last_err, GBA_ERR_STORE_UNWRITABLE);
	assert_int_equal(db_sqn(db, IMPI), before);
	gba_subdb_close(db);
}

#define PROCS 3
#define PER_PROC 300

/* Several processes on one file: no SEQ twice. */
static void test_sqn_processes(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	static uint64_t all[PROCS * PER_PROC];
	int fds[PROCS][2];
	pid_t pid[PROCS];

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	gba_subdb_close(db);
	for (int p = 0; p < PROCS; p++) {
		assert_int_equal(pipe(fds[p]), 0);
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] == 0) {
			struct gba_subdb *mine = NULL;
			uint64_t sqn[PER_PROC];
			uint8_t rand[16] = { 0 };
			struct gba_av av;
			close(fds[p][0]);
			if (gba_subdb_open(&mine, db_path) != GBA_OK)
				_exit(1);
			for (int i = 0; i < PER_PROC; i++) {
				if (gba_subdb_next_av(mine, IMPI, (unsigned)p, rand, &av, NULL, 0,
						      NULL) != GBA_OK)
					_exit(2);
				sqn[i] = av.sqn;
			}
			gba_subdb_close(mine);
			_exit(write(fds[p][1], sqn, sizeof(sqn)) == (ssize_t)sizeof(sqn) ? 0 : 3);
		}
		close(fds[p][1]);
	}
	for (int p = 0; p < PROCS; p++) {
		size_t got = 0;
		ssize_t n;
		int status = 0;
		while (got < sizeof(uint64_t) * PER_PROC &&
		       (n = read(fds[p][0], (char *)(all + p * PER_PROC) + got,
				 sizeof(uint64_t) * PER_PROC - got)) > 0)
			got += (size_t)n;
		close(fds[p][0]);
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_int_equal(got, sizeof(uint64_t) * PER_PROC);
	}
	db = open_again();
	assert_distinct_seq(all, PROCS * PER_PROC, db_sqn(db, IMPI));
	gba_subdb_close(db);
}

/* ---- SQN blocks -------------------------------------------------------- */

static void test_sqn_block(void **state)
{
	struct gba_subdb *db = open_fresh(), *other;
	struct gba_subscriber sub;
	struct gba_av av;
	struct card c;
	uint8_t rand[16] = { 0 };
	char guss[256];
	size_t len = 0;
	uint64_t last = 0;

	(void)state;
	assert_int_equal(gba_subdb_set_sqn_block(db, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_set_sqn_block(db, 1025), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_set_sqn_block(NULL, 8), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_set_sqn_block(db, 8), GBA_OK);
	milenage_sub(&sub, IMPI);
	sub.guss = GUSS;
	sub.guss_len = strlen(GUSS);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	/* 20 vectors: one SEQ apart, from 3 reservations; the card takes each. */
	for (unsigned i = 0; i < 20; i++) {
		make_rand(rand, i);
		assert_int_equal(gba_subdb_next_av(db, IMPI, 2, rand, &av, guss, sizeof(guss), &len),
				 GBA_OK);
		assert_string_equal(guss, GUSS);
		assert_int_equal(av.sqn, last + 32 + (last ? 0 : 2));
		last = av.sqn;
		card_accepts(&c, &av);
	}
	assert_int_equal(db_sqn(db, IMPI), (UINT64_C(24) << 5) | 2);   /* reserved to 24 */
	/* A too-small GUSS buffer takes nothing from the block. */
	assert_int_equal(gba_subdb_next_av(db, IMPI, 2, rand, &av, guss, 4, &len),
			 GBA_ERR_BUFFER_TOO_SMALL);
	/* A restart skips the unused part of the block; the card accepts the jump. */
	gba_subdb_close(db);
	db = open_again();
	assert_int_equal(gba_subdb_set_sqn_block(db, 8), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 2, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(av.sqn, (UINT64_C(25) << 5) | 2);
	card_accepts(&c, &av);
	/* Another handle (process) in another slot: its own block, after ours. */
	other = open_again();
	assert_int_equal(gba_subdb_set_sqn_block(other, 8), GBA_OK);
	assert_int_equal(gba_subdb_next_av(other, IMPI, 3, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(av.sqn, (UINT64_C(33) << 5) | 3);
	card_accepts(&c, &av);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 2, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(av.sqn, (UINT64_C(26) << 5) | 2);   /* still our block */
	card_accepts(&c, &av);   /* slot 2 still moves forward */
	/* Removed here: gone at once for this handle, block and all. */
	assert_int_equal(gba_subdb_remove(db, IMPI), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 2, rand, &av, NULL, 0, NULL),
			 GBA_ERR_NOT_FOUND);
	gba_subdb_close(other);
	gba_subdb_close(db);
}

static void test_sqn_block_resync(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_usim_answer ans;
	struct gba_av av;
	struct card c;
	uint8_t rand[16], rand2[16];

	(void)state;
	assert_int_equal(gba_subdb_set_sqn_block(db, 16), GBA_OK);
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	issue_and_check_block(db, &c, 0, 3);
	c.sqn.seq_ms[0] = 5000;   /* the card runs ahead */
	make_rand(rand, 1);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(gba_usim_authenticate(&c.key, &c.sqn, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	make_rand(rand2, 2);
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, rand, ans.auts, rand2, &av, NULL, 0, NULL),
			 GBA_OK);
	assert_int_equal(av.sqn, UINT64_C(5001) << 5);
	card_accepts(&c, &av);
	/* The rest of the new block follows on. */
	issue_and_check_block(db, &c, 0, 5);
	gba_subdb_close(db);
}

/* ---- a full disk ------------------------------------------------------- */

/*
 * No vector may be issued whose SQN reservation is not in the file: on a
 * full disk next_av fails with GBA_ERR_STORE_UNWRITABLE (the BSF answers
 * 503) and the SQN stays; once there is room the next SQN follows on, and
 * the card takes it (nothing issued twice, nothing lost).
 */
static void test_full_disk(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_av av;
	struct card c;
	uint8_t rand[16];
	uint64_t before;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	issue_and_check(db, &c, IMPI, 3, 2);
	before = db_sqn(db, IMPI);
	disk_fill();
	make_rand(rand, 40);
	memset(&av, 0, sizeof(av));
	assert_int_equal(gba_subdb_next_av(db, IMPI, 3, rand, &av, NULL, 0, NULL),
			 GBA_ERR_STORE_UNWRITABLE);
	assert_int_equal(av.sqn, 0);   /* nothing handed out */
	assert_int_equal(gba_subdb_next_av(db, IMPI, 3, rand, &av, NULL, 0, NULL),
			 GBA_ERR_STORE_UNWRITABLE);
	disk_free();
	assert_int_equal(db_sqn(db, IMPI), before);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 3, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_true(av.sqn > before);
	card_accepts(&c, &av);
	gba_subdb_close(db);
	/* What the file holds after a restart is what was handed out. */
	db = open_again();
	assert_int_equal(db_sqn(db, IMPI), av.sqn);
	issue_and_check(db, &c, IMPI, 3, 2);
	gba_subdb_close(db);
}

/*
 * With SQN blocks, a block already reserved (in the file) is handed out
 * from memory while the disk is full; the next reservation fails.
 */
static void test_full_disk_sqn_block(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_av av;
	struct card c;
	uint8_t rand[16];
	uint64_t reserved;

	(void)state;
	assert_int_equal(gba_subdb_set_sqn_block(db, 4), GBA_OK);
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	issue_and_check_block(db, &c, 0, 1);
	reserved = db_sqn(db, IMPI);
	disk_fill();
	for (unsigned i = 0; i < 3; i++) {
		make_rand(rand, 50 + i);
		assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL), GBA_OK);
		assert_true(av.sqn <= reserved);
		card_accepts(&c, &av);
	}
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL),
			 GBA_ERR_STORE_UNWRITABLE);
	disk_free();
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_true(av.sqn > reserved);
	card_accepts(&c, &av);
	gba_subdb_close(db);
}

/* ---- resynchronisation ------------------------------------------------- */

static void test_resync_card_ahead(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_usim_answer ans;
	struct gba_av av, av2;
	struct card c;
	uint8_t rand[16], rand2[16];

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	c.sqn.seq_ms[4] = 1000;   /* the card is ahead in this slot */
	make_rand(rand, 1);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 4, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(gba_usim_authenticate(&c.key, &c.sqn, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	make_rand(rand2, 2);
	assert_int_equal(gba_subdb_resync(db, IMPI, 4, rand, ans.auts, rand2, &av2, NULL, 0,
					  NULL), GBA_OK);
	assert_int_equal(av2.sqn, (UINT64_C(1001) << 5) | 4);
	assert_memory_equal(av2.rand, rand2, 16);
	card_accepts(&c, &av2);
	assert_int_equal(db_sqn(db, IMPI), av2.sqn);
	/* And on from there. */
	issue_and_check(db, &c, IMPI, 4, 2);
	gba_subdb_close(db);
}

/*
 * Issue 15, defect 5: after SQNs up to 0xA0 were issued in slot 0, an AUTS
 * carrying SQN_MS = 0x20 (a card that saw only the first vector, answering
 * a replay of it) made the next challenge reuse SQN 0x40.  TS 33.102 6.3.5:
 * SQN_HE only moves forward; the answer is a fresh vector after 0xA0.
 */
static void test_resync_card_behind(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_usim_answer ans;
	struct gba_av first, av;
	struct card c;
	uint8_t rand[16], rand2[16];

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	make_rand(rand, 7);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &first, NULL, 0, NULL), GBA_OK);
	assert_int_equal(first.sqn, 0x20);
	card_accepts(&c, &first);   /* the card's SQN_MS is now 0x20 */
	for (unsigned i = 0; i < 4; i++) {
		make_rand(rand2, 20 + i);
		assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand2, &av, NULL, 0, NULL), GBA_OK);
	}
	assert_int_equal(db_sqn(db, IMPI), 0xa0);
	/* The first challenge again: the card answers AUTS with SQN_MS = 0x20. */
	assert_int_equal(gba_usim_authenticate(&c.key, &c.sqn, first.rand, first.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	make_rand(rand2, 99);
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, first.rand, ans.auts, rand2, &av, NULL, 0,
					  NULL), GBA_OK);
	assert_int_equal(av.sqn, 0xc0);   /* not 0x40 */
	assert_int_equal(db_sqn(db, IMPI), 0xc0);
	card_accepts(&c, &av);
	issue_and_check(db, &c, IMPI, 0, 2);
	gba_subdb_close(db);
}

/* The same with SQN blocks: the resync drops the spare block, and its SQNs stay used. */
static void test_sqn_block_resync_behind(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_usim_answer ans;
	struct gba_av first, av;
	struct card c;
	uint8_t rand[16], rand2[16];

	(void)state;
	assert_int_equal(gba_subdb_set_sqn_block(db, 16), GBA_OK);
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	make_rand(rand, 7);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &first, NULL, 0, NULL), GBA_OK);
	card_accepts(&c, &first);
	assert_int_equal(db_sqn(db, IMPI), UINT64_C(16) << 5);   /* the block's end */
	assert_int_equal(gba_usim_authenticate(&c.key, &c.sqn, first.rand, first.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	make_rand(rand2, 99);
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, first.rand, ans.auts, rand2, &av, NULL, 0,
					  NULL), GBA_OK);
	assert_int_equal(av.sqn, UINT64_C(17) << 5);   /* after every SQN reserved */
	card_accepts(&c, &av);
	/* The new block follows on; nothing from the dropped block comes back. */
	make_rand(rand2, 100);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand2, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(av.sqn, UINT64_C(18) << 5);
	card_accepts(&c, &av);
	gba_subdb_close(db);
}

static void test_resync_bad_auts(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_usim_answer ans;
	struct gba_av av;
	struct card c;
	uint8_t rand[16], rand2[16] = { 9 };
	uint64_t before;

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	card_init(&c, &sub.key);
	c.sqn.seq_ms[0] = 500;
	make_rand(rand, 3);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 0, rand, &av, NULL, 0, NULL), GBA_OK);
	assert_int_equal(gba_usim_authenticate(&c.key, &c.sqn, av.rand, av.autn, &ans),
			 GBA_ERR_SYNC_FAILURE);
	before = db_sqn(db, IMPI);
	ans.auts[13] ^= 0x01;   /* MAC-S broken */
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, rand, ans.auts, rand2, &av, NULL, 0, NULL),
			 GBA_ERR_AUTS_INVALID);
	assert_int_equal(db_sqn(db, IMPI), before);
	ans.auts[13] ^= 0x01;
	/* The right AUTS with the wrong RAND does not verify either. */
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, rand2, ans.auts, rand2, &av, NULL, 0, NULL),
			 GBA_ERR_AUTS_INVALID);
	assert_int_equal(db_sqn(db, IMPI), before);
	assert_int_equal(gba_subdb_resync(db, "nobody@example.org", 0, rand, ans.auts, rand2, &av,
					  NULL, 0, NULL), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, NULL, ans.auts, rand2, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_resync(db, IMPI, 0, rand, NULL, rand2, &av, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	gba_subdb_close(db);
}

/* ---- CSV import -------------------------------------------------------- */

static gba_err import_text(struct gba_subdb *db, const char *text, size_t len,
			   size_t *imported, size_t *bad_line)
{
	FILE *f = fmemopen((void *)text, len, "r");
	gba_err err;

	assert_non_null(f);
	err = gba_subdb_import_csv(db, f, imported, bad_line);
	fclose(f);
	return err;
}

#define TUAK_K "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TUAK_TOP "a5a4a7a6a1a0a3a2adacafaea9a8abaab5b4b7b6b1b0b3b2bdbcbfbeb9b8bbba"

static const char good_csv[] =
	"# impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]\n"
	"\n"
	"one@example.org,001010000000001,sip:one@example.org;tel:+1555,milenage,"
	K_HEX "," OPC_HEX ",0,8000,64\n"
	"  two@example.org , , , milenage , " K_HEX " , " OP_HEX " , 1 , , \r\n"
	"three@example.org,,,tuak," TUAK_K "," TUAK_TOP ",1,0000,0,3,16\n"
	"four@example.org,,,tuak," K_HEX "," TUAK_TOP ",0,0000,0\n"
	"   # indented comment\n";

static void test_csv_good(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber_info info;
	struct card c;
	struct gba_aka_key key;
	uint8_t k[32], top[32];
	size_t imported = 0, bad = 99, len;

	(void)state;
	assert_int_equal(import_text(db, good_csv, strlen(good_csv), &imported, &bad), GBA_OK);
	assert_int_equal(imported, 4);
	assert_int_equal(bad, 0);
	assert_int_equal(gba_subdb_get(db, "one@example.org", &info), GBA_OK);
	assert_string_equal(info.impus, "sip:one@example.org,tel:+1555");
	assert_string_equal(info.imsi, "001010000000001");
	assert_int_equal(info.amf[0], 0x80);
	assert_int_equal(info.sqn, 64);
	assert_int_equal(info.ind_bits, 5);
	assert_int_equal(gba_subdb_get(db, "two@example.org", &info), GBA_OK);
	assert_string_equal(info.imsi, "");
	assert_int_equal(info.sqn, 0);
	assert_int_equal(gba_subdb_get(db, "three@example.org", &info), GBA_OK);
	assert_int_equal(info.algo, GBA_AKA_TUAK);

	/* Each answers a card holding the original K and OP/OPc. */
	gba_aka_key_milenage(&key, K, OPC, 0);
	card_init(&c, &key);
	issue_and_check(db, &c, "one@example.org", 0, 2);
	gba_aka_key_milenage(&key, K, OP, 1);   /* OP: OPc derived at import */
	card_init(&c, &key);
	issue_and_check(db, &c, "two@example.org", 0, 2);
	assert_int_equal(gba_hex_decode(k, 32, &len, TUAK_K, 64), GBA_OK);
	assert_int_equal(gba_hex_decode(top, 32, &len, TUAK_TOP, 64), GBA_OK);
	assert_int_equal(gba_aka_key_tuak(&key, k, 32, top, 1, 3, 16), GBA_OK);
	card_init(&c, &key);
	issue_and_check(db, &c, "three@example.org", 1, 2);
	assert_int_equal(gba_aka_key_tuak(&key, K, 16, top, 0, 1, 8), GBA_OK);
	card_init(&c, &key);
	issue_and_check(db, &c, "four@example.org", 1, 1);
	gba_subdb_close(db);
}

struct bad_csv {
	const char *name;
	const char *line;        /* the bad line, put third after two good ones */
	gba_err err;
};

#define GOOD_LINE(n) "good" #n "@example.org,,,milenage," K_HEX "," OPC_HEX ",0,0000,0\n"

static const struct bad_csv bad_csvs[] = {
	{ "bad hex in K", "x@e,,,milenage,465b5ce8b199b49faa5f0a2ee238a6bg," OPC_HEX ",0,0000,0",
	  GBA_ERR_BAD_HEX },
	{ "short K", "x@e,,,milenage,465b5ce8b199b49faa5f0a2ee238a6," OPC_HEX ",0,0000,0",
	  GBA_ERR_BAD_LENGTH },
	{ "long OPc", "x@e,,,milenage," K_HEX "," OPC_HEX "00,0,0000,0", GBA_ERR_BAD_LENGTH },
	{ "odd hex", "x@e,,,milenage," K_HEX "," OPC_HEX "0,0,0000,0", GBA_ERR_BAD_LENGTH },
	{ "TUAK K of 24 octets", "x@e,,,tuak," K_HEX "0011223344556677," TUAK_TOP ",0,0000,0",
	  GBA_ERR_BAD_LENGTH },
	{ "short AMF", "x@e,,,milenage," K_HEX "," OPC_HEX ",0,00,0", GBA_ERR_BAD_LENGTH },
	{ "unknown algo", "x@e,,,comp128," K_HEX "," OPC_HEX ",0,0000,0", GBA_ERR_UNSUPPORTED },
	{ "duplicate in file", "good1@example.org,,,milenage," K_HEX "," OPC_HEX ",0,0000,0",
	  GBA_ERR_EXISTS },
	{ "duplicate in db", "already@example.org,,,milenage," K_HEX "," OPC_HEX ",0,0000,0",
	  GBA_ERR_EXISTS },
	{ "too few fields", "x@e,,,milenage," K_HEX "," OPC_HEX ",0,0000", GBA_ERR_PARSE },
	{ "too many fields", "x@e,,,tuak," K_HEX "," TUAK_TOP ",0,0000,0,1,8,9", GBA_ERR_PARSE },
	{ "bad OP flag", "x@e,,,milenage," K_HEX "," OPC_HEX ",yes,0000,0", GBA_ERR_PARSE },
	{ "bad IMSI", "x@e,00101abc,,milenage," K_HEX "," OPC_HEX ",0,0000,0",
	  GBA_ERR_INVALID_ARG },
	{ "IMPI with a space", "x y@e,,,milenage," K_HEX "," OPC_HEX ",0,0000,0",
	  GBA_ERR_INVALID_ARG },
	{ "empty IMPI", ",,,milenage," K_HEX "," OPC_HEX ",0,0000,0", GBA_ERR_INVALID_ARG },
	{ "SQN too large", "x@e,,,milenage," K_HEX "," OPC_HEX ",0,0000,281474976710656",
	  GBA_ERR_INVALID_ARG },
	{ "SQN not a number", "x@e,,,milenage," K_HEX "," OPC_HEX ",0,0000,-1", GBA_ERR_PARSE },
	{ "TUAK fields on Milenage", "x@e,,,milenage," K_HEX "," OPC_HEX ",0,0000,0,1,8",
	  GBA_ERR_INVALID_ARG },
	{ "TUAK RES of 5", "x@e,,,tuak," K_HEX "," TUAK_TOP ",0,0000,0,1,5", GBA_ERR_BAD_LENGTH },
	{ "TUAK 0 iterations", "x@e,,,tuak," K_HEX "," TUAK_TOP ",0,0000,0,0,8",
	  GBA_ERR_INVALID_ARG },
};

static void test_csv_bad(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	char text[8192];

	(void)state;
	milenage_sub(&sub, "already@example.org");
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	for (size_t i = 0; i < sizeof(bad_csvs) / sizeof(bad_csvs[0]); i++) {
		size_t imported = 99, bad = 0;
		gba_err err;
		int n = snprintf(text, sizeof(text), "# header\n" GOOD_LINE(1) GOOD_LINE(2) "%s\n"
				 GOOD_LINE(3), bad_csvs[i].line);
		err = import_text(db, text, (size_t)n, &imported, &bad);
		if (err != bad_csvs[i].err || bad != 4 || imported != 0)
			fail_msg("%s: %s at line %zu, %zu imported", bad_csvs[i].name,
				 gba_err_name(err), bad, imported);
		assert_int_equal(count(db), 1);   /* nothing imported */
	}
	gba_subdb_close(db);
}

static void test_csv_framing(void **state)
{
	struct gba_subdb *db = open_fresh();
	static char text[16384];
	size_t imported = 99, bad = 0;
	int n;

	(void)state;
	/* A line longer than the limit. */
	n = snprintf(text, sizeof(text), GOOD_LINE(1) "x@e,");
	memset(text + n, 'a', 5000);
	n += 5000;
	memcpy(text + n, ",,milenage\n", 11);
	n += 11;
	assert_int_equal(import_text(db, text, (size_t)n, &imported, &bad), GBA_ERR_TOO_LARGE);
	assert_int_equal(bad, 2);
	/* A NUL byte inside a line. */
	static const char nul[] = GOOD_LINE(1) "x@e,\0,,milenage," K_HEX "," OPC_HEX ",0,0000,0\n";
	assert_int_equal(import_text(db, nul, sizeof(nul) - 1, &imported, &bad),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(bad, 2);
	/* No newline at the end is fine; an empty file imports nothing. */
	static const char last[] = GOOD_LINE(1) "last@e,,,milenage," K_HEX "," OPC_HEX ",0,0000,0";
	assert_int_equal(import_text(db, last, sizeof(last) - 1, &imported, &bad), GBA_OK);
	assert_int_equal(imported, 2);
	assert_int_equal(import_text(db, "# only a comment\n", 17, &imported, &bad), GBA_OK);
	assert_int_equal(imported, 0);
	assert_int_equal(gba_subdb_import_csv(db, NULL, &imported, &bad), GBA_ERR_INVALID_ARG);
	assert_int_equal(count(db), 2);
	gba_subdb_close(db);
}

/* ---- files ------------------------------------------------------------- */

static void test_restart(void **state)
{
	struct gba_subdb *db = open_fresh();
	struct gba_subscriber sub;
	struct gba_av av;
	uint8_t rand[16] = { 0 };

	(void)state;
	milenage_sub(&sub, IMPI);
	assert_int_equal(gba_subdb_add(db, &sub), GBA_OK);
	assert_int_equal(gba_subdb_next_av(db, IMPI, 1, rand, &av, NULL, 0, NULL), GBA_OK);
	gba_subdb_close(db);
	db = open_again();
	assert_int_equal(db_sqn(db, IMPI), av.sqn);
	gba_subdb_close(db);
}

static void test_open_errors(void **state)
{
	struct gba_subdb *db = NULL;
	char path[600];
	FILE *f;

	(void)state;
	assert_int_equal(gba_subdb_open(&db, ""), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_open(&db, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_open(NULL, "/tmp/x"), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_open(&db, "/nonexistent-dir/x/sub.db"), GBA_ERR_STORE);
	snprintf(path, sizeof(path), "%s/garbage.db", tmp_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("not a database at all. ", f);
	fclose(f);
	assert_int_equal(gba_subdb_open(&db, path), GBA_ERR_STORE);
	assert_null(db);
	gba_subdb_close(NULL);
}

static int count_lease(const struct gba_subdb_lease *l, void *arg)
{
	struct gba_subdb_lease *last = arg;
	*last = *l;
	last->ind += 100;   /* mark: called */
	return 0;
}

/*
 * IND slot leases: a holder takes a free slot and renews it; another
 * holder is refused (and told who holds it) until the lease expires, then
 * takes it; the same holder, "restarted", takes its own back at once; two
 * handles (two BSFs) see one table; release frees the slot.
 */
static void test_ind_leases(void **state)
{
	struct gba_subdb *a = open_fresh(), *b = open_again();
	struct gba_subdb_lease other, last;
	const int64_t t = 1000000;
	(void)state;

	assert_int_equal(gba_subdb_lease_ind(a, "bsf-a", 0, t, 30, NULL), GBA_OK);
	assert_int_equal(gba_subdb_lease_ind(b, "bsf-b", 1, t, 30, NULL), GBA_OK);
	memset(&other, 0, sizeof(other));
	assert_int_equal(gba_subdb_lease_ind(b, "bsf-b", 0, t + 10, 30, &other), GBA_ERR_EXISTS);
	assert_string_equal(other.holder, "bsf-a");
	assert_int_equal(other.ind, 0);
	assert_int_equal(other.expires, t + 30);
	/* Renewed by its holder: still refused to b past the first expiry. */
	assert_int_equal(gba_subdb_lease_ind(a, "bsf-a", 0, t + 20, 30, NULL), GBA_OK);
	assert_int_equal(gba_subdb_lease_ind(b, "bsf-b", 0, t + 31, 30, NULL), GBA_ERR_EXISTS);
	/* a crashed (no renewal): b takes the slot only once the lease expired. */
	assert_int_equal(gba_subdb_lease_ind(b, "bsf-c", 0, t + 49, 30, NULL), GBA_ERR_EXISTS);
	assert_int_equal(gba_subdb_lease_ind(b, "bsf-c", 0, t + 50, 30, NULL), GBA_OK);
	/* The same holder, restarted, takes its own lease back at once. */
	assert_int_equal(gba_subdb_lease_ind(a, "bsf-c", 0, t + 51, 30, NULL), GBA_OK);
	memset(&last, 0, sizeof(last));
	assert_int_equal(gba_subdb_leases(a, count_lease, &last), GBA_OK);
	assert_int_equal(last.ind, 101);   /* slot order: slot 1 last */
	assert_string_equal(last.holder, "bsf-b");
	assert_int_equal(gba_subdb_release_ind(a, "bsf-a", 1), GBA_ERR_NOT_FOUND);   /* not a's */
	assert_int_equal(gba_subdb_release_ind(b, "bsf-b", 1), GBA_OK);
	assert_int_equal(gba_subdb_lease_ind(a, "bsf-a", 1, t + 52, 30, NULL), GBA_OK);
	/* Arguments. */
	assert_int_equal(gba_subdb_lease_ind(a, "", 2, t, 30, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_lease_ind(a, NULL, 2, t, 30, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_lease_ind(a, "x", GBA_IND_SLOTS_MAX, t, 30, NULL),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_lease_ind(a, "x", 2, t, 0, NULL), GBA_ERR_INVALID_ARG);
	char longname[GBA_SUBDB_HOLDER_MAX + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(gba_subdb_lease_ind(a, longname, 2, t, 30, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_subdb_leases(a, NULL, NULL), GBA_ERR_INVALID_ARG);
	gba_subdb_close(b);
	gba_subdb_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_list_remove),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_info_has_no_secrets),
		cmocka_unit_test(test_bad_add),
		cmocka_unit_test(test_check_names_field),
		cmocka_unit_test(test_next_av_milenage),
		cmocka_unit_test(test_next_av_tuak),
		cmocka_unit_test(test_next_av_errors),
		cmocka_unit_test(test_next_av_guss),
		cmocka_unit_test(test_sqn_threads_one_handle),
		cmocka_unit_test(test_sqn_threads_own_handles),
		cmocka_unit_test(test_sqn_two_handles),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_sqn_processes),
		cmocka_unit_test(test_sqn_block),
		cmocka_unit_test(test_sqn_block_resync),
		cmocka_unit_test(test_ind_leases),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_full_disk_sqn_block),
		cmocka_unit_test(test_resync_card_ahead),
		cmocka_unit_test(test_resync_card_behind),
		cmocka_unit_test(test_sqn_block_resync_behind),
		cmocka_unit_test(test_resync_bad_auts),
		cmocka_unit_test(test_csv_good),
		cmocka_unit_test(test_csv_bad),
		cmocka_unit_test(test_csv_framing),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_open_errors),
	};
	char cmd[300];
	int rc;

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/gba-subdb-test-XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests_name("subscriber db", tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_dir);
	return rc;
}
