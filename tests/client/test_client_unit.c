/*
 * test_client_unit.c - libgba-client without card or network: identity
 * derivations (TS 23.003), EF_IMSI decoding, the context file, and the T=0
 * procedure bytes and malformed answers through a scripted transport.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>
#include <gba/client.h>
#include <gba/kcv.h>
#include <gba/kdf.h>

/* ---- identities ----------------------------------------------------------------- */

static void test_impi_bsf(void **state)
{
	char out[256];
	(void)state;
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "001010000000001", 2), 0);
	assert_string_equal(out, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "310150123456789", 3), 0);
	assert_string_equal(out, "310150123456789@ims.mnc150.mcc310.3gppnetwork.org");
	/* TS 23.003 13.3's example: IMSI 234150999999999, MNC 15. */
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "234150999999999", 2), 0);
	assert_string_equal(out, "234150999999999@ims.mnc015.mcc234.3gppnetwork.org");
	assert_int_equal(gba_client_bsf_host_from_imsi(out, sizeof(out), "234150999999999", 2), 0);
	assert_string_equal(out, "bsf.mnc015.mcc234.pub.3gppnetwork.org");
	assert_int_equal(gba_client_bsf_host_from_imsi(out, sizeof(out), "310150123456789", 3), 0);
	assert_string_equal(out, "bsf.mnc150.mcc310.pub.3gppnetwork.org");
	/* Bad input: a clear refusal. */
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "00101", 2),
			 GBA_CLIENT_ERR_INVALID_ARG);
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "00101000000000x", 2),
			 GBA_CLIENT_ERR_INVALID_ARG);
	assert_int_equal(gba_client_impi_from_imsi(out, sizeof(out), "001010000000001", 4),
			 GBA_CLIENT_ERR_INVALID_ARG);
	assert_int_equal(gba_client_impi_from_imsi(out, 20, "001010000000001", 2),
			 GBA_CLIENT_ERR_INVALID_ARG);
}

static void test_imsi_decode(void **state)
{
	char imsi[16];
	/* 15 digits (odd): parity nibble 9. */
	const uint8_t odd[] = { 0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10 };
	/* 14 digits (even): parity 1, filler F. */
	const uint8_t even[] = { 0x08, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0xF5 };
	const uint8_t bad_digit[] = { 0x08, 0x09, 0x1A, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10 };
	const uint8_t bad_len[] = { 0x09, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10 };
	(void)state;
	assert_int_equal(gba_client_imsi_decode(imsi, odd, sizeof(odd)), 0);
	assert_string_equal(imsi, "001010000000001");
	assert_int_equal(gba_client_imsi_decode(imsi, even, sizeof(even)), 0);
	assert_string_equal(imsi, "23456789012345");
	assert_int_equal(gba_client_imsi_decode(imsi, bad_digit, sizeof(bad_digit)),
			 GBA_CLIENT_ERR_CARD_DATA);
	assert_int_equal(gba_client_imsi_decode(imsi, bad_len, sizeof(bad_len)),
			 GBA_CLIENT_ERR_CARD_DATA);
	assert_int_equal(gba_client_imsi_decode(imsi, odd, 4), GBA_CLIENT_ERR_CARD_DATA);
}

/* ---- the context file --------------------------------------------------------------- */

static void fill(struct gba_client_context *c, enum gba_client_type type)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->btid, "AAECAwQFBgcICQoLDA0ODw==@bsf.example.org");
	c->lifetime = 1900000000;
	for (int i = 0; i < 16; i++)
		c->rand[i] = (uint8_t)i;
	strcpy(c->impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
	c->type = type;
	if (type == GBA_CLIENT_GBA_ME)
		for (int i = 0; i < 32; i++)
			c->ks[i] = (uint8_t)(0xA0 + i);
	strcpy(c->bsf_url, "http://127.0.0.1:1/");
}

static void test_context_roundtrip(void **state)
{
	char path[] = "/tmp/gba-client-ctx-XXXXXX", msg[256];
	struct gba_client_context a, b;
	struct stat st;
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (int t = 0; t < 2; t++) {
		fill(&a, t ? GBA_CLIENT_GBA_U : GBA_CLIENT_GBA_ME);
		assert_int_equal(gba_client_context_save(path, &a, msg, sizeof(msg)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)), 0);
		assert_string_equal(a.btid, b.btid);
		assert_string_equal(a.impi, b.impi);
		assert_int_equal(a.lifetime, b.lifetime);
		assert_memory_equal(a.rand, b.rand, 16);
		assert_int_equal(a.type, b.type);
		/* Ks travels only for GBA_ME; a GBA_U file has none. */
		assert_memory_equal(a.ks, b.ks, 32);
		assert_string_equal(a.bsf_url, b.bsf_url);
	}
	assert_false(gba_client_context_expired(&b, 1900000000 - 100, 60));
	assert_true(gba_client_context_expired(&b, 1900000000 - 30, 60));
	assert_true(gba_client_context_expired(&b, 1900000001, 0));
	unlink(path);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_context_refused(void **state)
{
	char path[] = "/tmp/gba-client-ctx-XXXXXX", msg[256];
	struct gba_client_context a, b;
	int fd = mkstemp(path);
	(void)state;
	close(fd);
	fill(&a, GBA_CLIENT_GBA_ME);
	assert_int_equal(gba_client_context_save(path, &a, msg, sizeof(msg)), 0);
	/* Readable by others: refused, and the message says why. */
	chmod(path, 0644);
	assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)), GBA_CLIENT_ERR_FILE);
	assert_non_null(strstr(msg, "0600"));
	/* Malformed contents. */
	write_file(path, "btid = x@y\nlifetime = soon\n", 0600);
	assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)), GBA_CLIENT_ERR_FILE);
	write_file(path, "garbage without equals\n", 0600);
	assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)), GBA_CLIENT_ERR_FILE);
	/* GBA_U with a Ks in the file: not ours. */
	write_file(path, "btid = a@b\nlifetime = 5\nrand = 000102030405060708090a0b0c0d0e0f\n"
		   "impi = x@y\ntype = GBA_U\nks = "
		   "0000000000000000000000000000000000000000000000000000000000000000\n", 0600);
	assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)), GBA_CLIENT_ERR_FILE);
	unlink(path);
	assert_int_equal(gba_client_context_load(path, &b, msg, sizeof(msg)),
			 GBA_CLIENT_ERR_NOT_FOUND);
}

static void test_kcv(void **state)
{
	uint8_t zero[32] = { 0 };
	char kcv[GBA_KCV_HEX_LEN + 1];
	(void)state;
	/* SHA-256 of 32 zero octets begins 66 68 7a. */
	assert_int_equal(gba_kcv(kcv, zero, sizeof(zero)), 0);
	assert_string_equal(kcv, "66687a");
	assert_int_equal(gba_kcv(kcv, zero, 0), GBA_ERR_INVALID_ARG);
}

static void test_naf_key_me(void **state)
{
	struct gba_client_context c;
	uint8_t naf_id[64], want[32], got[32];
	size_t n;
	char msg[256];
	(void)state;
	fill(&c, GBA_CLIENT_GBA_ME);
	assert_int_equal(gba_naf_id(naf_id, sizeof(naf_id), &n, "naf.example.org", 15,
				    GBA_UA_HTTP_DIGEST), 0);
	assert_int_equal(gba_ks_naf(c.ks, c.rand, c.impi, strlen(c.impi), naf_id, n, want), 0);
	assert_int_equal(gba_client_naf_key(NULL, &c, "naf.example.org", GBA_UA_HTTP_DIGEST, got,
					    msg, sizeof(msg)), 0);
	assert_memory_equal(want, got, 32);
	/* GBA_U needs the card. */
	c.type = GBA_CLIENT_GBA_U;
	assert_int_equal(gba_client_naf_key(NULL, &c, "naf.example.org", GBA_UA_HTTP_DIGEST, got,
					    msg, sizeof(msg)), GBA_CLIENT_ERR_INVALID_ARG);
}

/* ---- a scripted card ------------------------------------------------------------------ */

struct script {
	const char *const *answers;   /* hex R-APDUs, one per exchange */
	size_t n, next;
	uint8_t sent[8][GBA_CLIENT_APDU_MAX];
	size_t sent_len[8];
};

static gba_client_err script_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *r,
				      size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct script *s = ctx;
	const char *a;
	size_t al;
	(void)msg;
	(void)msg_size;
	if (s->next >= s->n)
		return GBA_CLIENT_ERR_NO_CARD;
	if (s->next < 8) {
		memcpy(s->sent[s->next], c, len);
		s->sent_len[s->next] = len;
	}
	a = s->answers[s->next++];
	al = strlen(a) / 2;
	assert_true(al <= size);
	for (size_t i = 0; i < al; i++) {
		unsigned v;
		sscanf(a + 2 * i, "%2x", &v);
		r[i] = (uint8_t)v;
	}
	*rlen = al;
	return GBA_CLIENT_OK;
}

static const struct gba_client_card_ops script_ops = { .name = "script",
						       .transmit = script_transmit };

static void test_t0_get_response(void **state)
{
	static const char *const answers[] = { "6104", "01026102", "03049000" };
	struct script s = { answers, 3, 0, { { 0 } }, { 0 } };
	struct gba_client_card *card;
	const uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	char msg[256];
	(void)state;
	assert_int_equal(gba_client_card_open_custom(&card, &script_ops, &s), 0);
	assert_int_equal(gba_client_card_apdu(card, cmd, sizeof(cmd), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(n, 6);
	assert_memory_equal(r, "\x01\x02\x03\x04", 4);
	/* The GET RESPONSEs asked for exactly what 61xx announced. */
	assert_memory_equal(s.sent[1], "\x00\xC0\x00\x00\x04", 5);
	assert_memory_equal(s.sent[2], "\x00\xC0\x00\x00\x02", 5);
	assert_int_equal(gba_client_card_exchanges(card), 3);
	gba_client_card_close(card);
}

static void test_t0_wrong_le(void **state)
{
	static const char *const answers[] = { "6C03", "0A0B0C9000" };
	struct script s = { answers, 2, 0, { { 0 } }, { 0 } };
	struct gba_client_card *card;
	const uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x10 };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	char msg[256];
	(void)state;
	assert_int_equal(gba_client_card_open_custom(&card, &script_ops, &s), 0);
	assert_int_equal(gba_client_card_apdu(card, cmd, sizeof(cmd), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(n, 5);
	assert_memory_equal(s.sent[1], "\x00\xB0\x00\x00\x03", 5);   /* resent with Le = 3 */
	gba_client_card_close(card);
}

/* Status words real cards send: 91xx is success; a warning to a case 4
 * command on T=0 has its data fetched with GET RESPONSE Le 00. */
static void test_real_status_words(void **state)
{
	static const char *const answers[] = { "0102910B", "6283", "0A0B9000", "6300", "6985" };
	struct script s = { answers, 5, 0, { { 0 } }, { 0 } };
	struct gba_client_card *card;
	const uint8_t rd[] = { 0x00, 0xB0, 0x00, 0x00, 0x02 };
	const uint8_t sel[] = { 0x00, 0xA4, 0x00, 0x04, 0x02, 0x6F, 0x07, 0x00 };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	char msg[256];
	(void)state;
	assert_int_equal(gba_client_card_open_custom(&card, &script_ops, &s), 0);
	assert_int_equal(gba_client_card_apdu(card, rd, sizeof(rd), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), 0);
	assert_int_equal(sw, 0x9000);                        /* 910B: a normal ending */
	assert_int_equal(n, 4);
	assert_int_equal(gba_client_card_apdu(card, sel, sizeof(sel), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), 0);
	assert_memory_equal(s.sent[2], "\x00\xC0\x00\x00\x00", 5);   /* GET RESPONSE Le 00 */
	assert_int_equal(sw, 0x6283);                        /* the warning stays */
	assert_int_equal(n, 4);
	assert_memory_equal(r, "\x0A\x0B", 2);
	/* A warning with nothing to fetch: the warning alone. */
	assert_int_equal(gba_client_card_apdu(card, sel, sizeof(sel), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), 0);
	assert_int_equal(sw, 0x6300);
	assert_int_equal(n, 2);
	gba_client_card_close(card);
}

static void test_endless_61(void **state)
{
	static const char *const answers[] = { "6101", "006101", "006101", "006101", "006101",
		"006101", "006101", "006101", "006101", "006101", "006101", "006101", "006101",
		"006101", "006101", "006101", "006101", "006101", "006101", "006101" };
	struct script s = { answers, 20, 0, { { 0 } }, { 0 } };
	struct gba_client_card *card;
	const uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	char msg[256];
	(void)state;
	assert_int_equal(gba_client_card_open_custom(&card, &script_ops, &s), 0);
	/* A card that never stops asking: an error, not a loop. */
	assert_int_equal(gba_client_card_apdu(card, cmd, sizeof(cmd), r, sizeof(r), &n, &sw, msg,
					      sizeof(msg)), GBA_CLIENT_ERR_CARD_DATA);
	gba_client_card_close(card);
}

static void auth_with(const char *answer, gba_client_err want, const char *msg_part)
{
	const char *answers[] = { answer };
	struct script s = { answers, 1, 0, { { 0 } }, { 0 } };
	struct gba_client_card *card;
	struct gba_client_auth a;
	uint8_t rand[16] = { 1 }, autn[16] = { 2 };
	char msg[256] = "";

	assert_int_equal(gba_client_card_open_custom(&card, &script_ops, &s), 0);
	assert_int_equal(gba_client_usim_authenticate(card, 0, rand, autn, &a, msg, sizeof(msg)),
			 want);
	if (msg_part)
		assert_non_null(strstr(msg, msg_part));
	gba_client_card_close(card);
}

static void test_authenticate_answers(void **state)
{
	(void)state;
	/* RES 8, CK 16, IK 16. */
	auth_with("DB08" "0102030405060708" "10" "000102030405060708090A0B0C0D0E0F"
		  "10" "101112131415161718191A1B1C1D1E1F" "9000", GBA_CLIENT_OK, NULL);
	auth_with("DC0E" "0102030405060708090A0B0C0D0E" "9000", GBA_CLIENT_ERR_SYNC_FAILURE, NULL);
	auth_with("9862", GBA_CLIENT_ERR_MAC_FAILURE, "MAC");
	auth_with("6982", GBA_CLIENT_ERR_CARD, "6982");
	/* Truncated TLVs and garbage. */
	auth_with("DB08010203049000", GBA_CLIENT_ERR_CARD_DATA, "truncated");
	auth_with("DB08" "0102030405060708" "10" "0001029000", GBA_CLIENT_ERR_CARD_DATA, "CK/IK");
	auth_with("DC0E01029000", GBA_CLIENT_ERR_CARD_DATA, "AUTS");
	auth_with("5A5A5A5A9000", GBA_CLIENT_ERR_CARD_DATA, "neither");
	auth_with("9000", GBA_CLIENT_ERR_CARD_DATA, NULL);
	auth_with("90", GBA_CLIENT_ERR_CARD_DATA, "no status word");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impi_bsf),
		cmocka_unit_test(test_imsi_decode),
		cmocka_unit_test(test_context_roundtrip),
		cmocka_unit_test(test_context_refused),
		cmocka_unit_test(test_kcv),
		cmocka_unit_test(test_naf_key_me),
		cmocka_unit_test(test_t0_get_response),
		cmocka_unit_test(test_t0_wrong_le),
		cmocka_unit_test(test_real_status_words),
		cmocka_unit_test(test_endless_61),
		cmocka_unit_test(test_authenticate_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
