/*
 * test_zn_msg.c - Zn messages without a network: BIR and BIA built by
 * libgba-diameter, put on the wire format and parsed back by freeDiameter
 * against the dictionary and its rules, answered by the BSF side and read
 * by the NAF side; malformed BIRs and BIAs of every kind the code checks.
 * One freeDiameter core per process: the node is opened once (never
 * started) for all the tests.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dia_msg.h"
#include "zn_craft.h"

#define GAA(code) (dia->dict.gaa[(code) - GAA_AVP_FIRST])
#define BTID "AAECAwQFBgcICQoLDA0ODw==@bsf.test"

static struct gba_dia *dia;
static const uint8_t NAF_ID[] = "naf.test\x01\x00\x00\x00\x02";
#define NAF_ID_LEN (sizeof(NAF_ID) - 1)

/* ---- The BSF handler the tests answer with --------------------------------- */

static struct {
	gba_err result;
	int calls, aware, uicc, no_impi;
	char btid[300], service[64];
	size_t naf_id_len;
	const char *uss;
} bsf;

static gba_err handler(void *arg, const struct gba_zn_bir *bir, struct gba_zn_bia *bia)
{
	(void)arg;
	bsf.calls++;
	snprintf(bsf.btid, sizeof(bsf.btid), "%s", bir->btid);
	snprintf(bsf.service, sizeof(bsf.service), "%s",
		 bir->gaa_service_id ? bir->gaa_service_id : "");
	bsf.aware = bir->gba_u_aware;
	bsf.naf_id_len = bir->naf_id_len;
	if (bsf.result)
		return bsf.result;
	if (!bsf.no_impi)
		strcpy(bia->impi, "alice@test");
	memset(bia->me_key, 0x5a, 32);
	if (bsf.uicc) {
		memset(bia->uicc_key, 0xa5, 32);
		bia->has_uicc_key = 1;
	}
	bia->created = 1795392000;
	bia->expiry = 1795392000 + 3600;
	bia->gba_type = 0;
	if (bsf.uss) {
		bia->uss_len = strlen(bsf.uss);
		memcpy(bia->uss, bsf.uss, bia->uss_len);
	}
	return GBA_OK;
}

static void reset_bsf(void)
{
	memset(&bsf, 0, sizeof(bsf));
}

/* ---- Wire helpers (and dia_test_*: tests/common/dia_msg.h) ---------------------- */

static struct msg *new_bir(int aware, const char *service)
{
	struct gba_zn_request req = {
		.btid = BTID, .naf_id = NAF_ID, .naf_id_len = NAF_ID_LEN,
		.dest_realm = "bsf.test", .dest_host = "bsf.node.test",
		.gba_u_aware = aware, .gaa_service_id = service,
	};
	struct msg *m = NULL;

	assert_int_equal(dia_zn_build_bir(dia, &req, &m), 0);
	return m;
}

/* The BSF side's answer to a received BIR, received back by the NAF. */
static struct msg *answer(struct msg *bir)
{
	struct msg *m = bir;

	assert_int_equal(dia_zn_answer_bir(dia, &m), 0);
	assert_ptr_not_equal(m, bir);
	return dia_test_wire(m);
}

/* ---- BIR ------------------------------------------------------------------------- */

static void test_bir_layout(void **state)
{
	struct msg *m = dia_test_wire(new_bir(1, "svc-1"));
	struct avp_hdr *h;

	(void)state;
	assert_null(dia_test_rules_error(m));
	h = avp_find(m, GBA_AVP_TRANSACTION_IDENTIFIER, 10415, NULL, NULL);
	assert_non_null(h);
	assert_int_equal(h->avp_flags & (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY),
			 AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY);
	assert_memory_equal(h->avp_value->os.data, BTID, strlen(BTID));
	h = avp_find(m, GBA_AVP_NAF_ID, 10415, NULL, NULL);
	assert_int_equal(h->avp_value->os.len, NAF_ID_LEN);
	assert_memory_equal(h->avp_value->os.data, NAF_ID, NAF_ID_LEN);
	h = avp_find(m, GBA_AVP_GBA_U_AWARENESS_INDICATOR, 10415, NULL, NULL);
	assert_int_equal(h->avp_value->i32, 1);
	assert_non_null(avp_find(m, GBA_AVP_GAA_SERVICE_IDENTIFIER, 10415, NULL, NULL));
	assert_non_null(avp_find(m, 260, 0, NULL, NULL));          /* VSAI */
	assert_non_null(avp_find(m, 293, 0, NULL, NULL));          /* Destination-Host */
	fd_msg_free(m);
	/* Not aware: no indicator at all (its absence means NO). */
	m = dia_test_wire(new_bir(0, NULL));
	assert_null(avp_find(m, GBA_AVP_GBA_U_AWARENESS_INDICATOR, 10415, NULL, NULL));
	fd_msg_free(m);
}

/* ---- BIA, through both sides ----------------------------------------------------- */

static void test_bia_keys(void **state)
{
	struct gba_zn_answer ans;
	char uss[256];
	struct msg *bia;
	struct avp_hdr *h;
	uint8_t want[32];

	(void)state;
	reset_bsf();
	bsf.uicc = 1;
	bsf.uss = "<ussList xmlns=\"uri:3gpp-gba\"><uss id=\"1\" type=\"1\"/></ussList>";
	bia = answer(dia_test_wire(new_bir(1, "svc-1")));
	assert_int_equal(bsf.calls, 1);
	assert_string_equal(bsf.btid, BTID);
	assert_string_equal(bsf.service, "svc-1");
	assert_int_equal(bsf.aware, 1);
	assert_int_equal(bsf.naf_id_len, NAF_ID_LEN);
	assert_null(dia_test_rules_error(bia));
	assert_int_equal(dia_test_result(bia), 2001);
	assert_int_equal(dia_zn_read_bia(bia, &ans, uss, sizeof(uss)), GBA_OK);
	memset(want, 0x5a, 32);
	assert_memory_equal(ans.me_key, want, 32);
	memset(want, 0xa5, 32);
	assert_int_equal(ans.has_uicc_key, 1);
	assert_memory_equal(ans.uicc_key, want, 32);
	assert_string_equal(ans.impi, "alice@test");
	assert_int_equal(ans.created, 1795392000);
	assert_int_equal(ans.expiry, 1795392000 + 3600);
	assert_int_equal(ans.gba_type, 0);
	assert_string_equal(uss, bsf.uss);
	assert_int_equal(ans.uss_len, strlen(bsf.uss));
	/* A USS list that does not fit is an error, not a truncated document. */
	assert_int_equal(dia_zn_read_bia(bia, &ans, uss, 10), GBA_ERR_TOO_LARGE);
	/* The keys leave freeDiameter's buffers zeroed. */
	avp_wipe_secrets(bia);
	h = avp_find(bia, GBA_AVP_ME_KEY_MATERIAL, 10415, NULL, NULL);
	for (size_t i = 0; i < h->avp_value->os.len; i++)
		assert_int_equal(h->avp_value->os.data[i], 0);
	h = avp_find(bia, GBA_AVP_UICC_KEY_MATERIAL, 10415, NULL, NULL);
	for (size_t i = 0; i < h->avp_value->os.len; i++)
		assert_int_equal(h->avp_value->os.data[i], 0);
	fd_msg_free(bia);
}

static void test_bia_refusals(void **state)
{
	static const struct {
		gba_err handler;
		uint32_t code;
		gba_err naf;
	} cases[] = {
		{ GBA_ERR_NOT_FOUND, 5403, GBA_ERR_NOT_FOUND },
		{ GBA_ERR_NOT_AUTHORIZED, 5402, GBA_ERR_NOT_AUTHORIZED },
		{ GBA_ERR_STORE, 5012, GBA_ERR_UNSUPPORTED },
	};
	struct gba_zn_answer ans;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg *bia;
		reset_bsf();
		bsf.result = cases[i].handler;
		bia = answer(dia_test_wire(new_bir(0, NULL)));
		assert_int_equal(dia_test_result(bia), cases[i].code);
		assert_null(avp_find(bia, GBA_AVP_ME_KEY_MATERIAL, 10415, NULL, NULL));
		assert_int_equal(dia_zn_read_bia(bia, &ans, NULL, 0), cases[i].naf);
		fd_msg_free(bia);
	}
	/* A handler that says OK without an IMPI: the library refuses to send it. */
	reset_bsf();
	bsf.no_impi = 1;
	{
		struct msg *bia = answer(dia_test_wire(new_bir(0, NULL)));
		assert_int_equal(dia_test_result(bia), 5012);
		fd_msg_free(bia);
	}
}

/* ---- Malformed BIRs ------------------------------------------------------------- */

static uint32_t raw_code(const struct bir_parts *p, int *calls)
{
	struct msg *m = zn_craft_bir(dia, p), *bia;
	uint32_t code;

	assert_non_null(m);
	m = dia_test_wire(m);
	reset_bsf();
	if (dia_test_rules_error(m)) {
		/* freeDiameter answers these itself (5005, 5009) before any handler. */
		fd_msg_free(m);
		*calls = 0;
		return 5000;
	}
	bia = answer(m);
	code = dia_test_result(bia);
	*calls = bsf.calls;
	fd_msg_free(bia);
	return code;
}

static void test_bad_birs(void **state)
{
	static const uint8_t short_id[] = "abc";
	static const uint8_t long_id[261] = { 'a' };
	const struct bir_parts good = {
		.btid = BTID, .naf_id = NAF_ID, .naf_id_len = NAF_ID_LEN, .aware = -1,
		.dest_realm = "bsf.test",
	};
	struct bir_parts p;
	int calls = 0;

	(void)state;
	p = good;
	assert_int_equal(raw_code(&p, &calls), 2001);
	assert_int_equal(calls, 1);
	p = good;
	p.no_vsai = 1;
	assert_int_equal(raw_code(&p, &calls), 5005);
	assert_int_equal(calls, 0);
	p = good;
	p.naf_id = short_id;
	p.naf_id_len = 3;
	assert_int_equal(raw_code(&p, &calls), 5004);
	p.naf_id = long_id;
	p.naf_id_len = sizeof(long_id);
	assert_int_equal(raw_code(&p, &calls), 5004);
	p = good;
	p.btid = "bad\x01" "btid";
	assert_int_equal(raw_code(&p, &calls), 5004);
	{
		static char big[300];
		memset(big, 'a', sizeof(big) - 1);
		p.btid = big;                     /* 299 octets: over 280 */
		assert_int_equal(raw_code(&p, &calls), 5004);
	}
	p = good;
	p.aware = 2;
	assert_int_equal(raw_code(&p, &calls), 5004);
	assert_int_equal(calls, 0);
	/* What the dictionary's rules catch (freeDiameter's own 5005/5009). */
	p = good;
	p.btid = NULL;
	assert_int_equal(raw_code(&p, &calls), 5000);
	p = good;
	p.naf_id = NULL;
	assert_int_equal(raw_code(&p, &calls), 5000);
	p = good;
	p.two_btids = 1;
	assert_int_equal(raw_code(&p, &calls), 5000);
}

/* ---- Malformed BIAs ------------------------------------------------------------- */

struct bia_parts {
	uint32_t result_code, exp_code;
	int no_user;
	size_t me_len, uicc_len, expiry_len;   /* 0: leave out */
};

static gba_err read_raw(const struct bia_parts *p)
{
	struct msg *m = dia_test_wire(new_bir(1, NULL));
	uint8_t key[64], t[8];
	struct gba_zn_answer ans;
	gba_err err;

	memset(key, 7, sizeof(key));
	gba_zn_time_encode(1795392000, t);
	memset(t + 4, 0, 4);
	assert_int_equal(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &m, 0), 0);
	if (p->result_code)
		assert_int_equal(avp_add_u32(m, dia->dict.result_code, p->result_code), 0);
	if (p->exp_code) {
		struct avp *er = NULL;
		assert_int_equal(avp_add_group(m, dia->dict.exp_result, &er), 0);
		assert_int_equal(avp_add_u32(er, dia->dict.vendor_id, 10415), 0);
		assert_int_equal(avp_add_u32(er, dia->dict.exp_result_code, p->exp_code), 0);
	}
	assert_int_equal(fd_msg_add_origin(m, 0), 0);
	if (!p->no_user)
		assert_int_equal(avp_add_str(m, dia->dict.user_name, "alice@test"), 0);
	if (p->me_len)
		assert_int_equal(avp_add_os(m, GAA(GBA_AVP_ME_KEY_MATERIAL), key, p->me_len), 0);
	if (p->uicc_len)
		assert_int_equal(avp_add_os(m, GAA(GBA_AVP_UICC_KEY_MATERIAL), key, p->uicc_len), 0);
	if (p->expiry_len)
		assert_int_equal(avp_add_os(m, GAA(GBA_AVP_KEY_EXPIRYTIME), t, p->expiry_len), 0);
	m = dia_test_wire(m);
	err = dia_zn_read_bia(m, &ans, NULL, 0);
	if (err) {
		/* Keys are wiped on every error. */
		for (size_t i = 0; i < 32; i++)
			assert_int_equal(ans.me_key[i] | ans.uicc_key[i], 0);
	}
	fd_msg_free(m);
	return err;
}

static void test_bad_bias(void **state)
{
	const struct bia_parts good = { .result_code = 2001, .me_len = 32, .expiry_len = 4 };
	struct bia_parts p = good;

	(void)state;
	assert_int_equal(read_raw(&p), GBA_OK);
	p.uicc_len = 32;
	assert_int_equal(read_raw(&p), GBA_OK);
	p.uicc_len = 16;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.me_len = 0;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.me_len = 31;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.me_len = 33;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.no_user = 1;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.expiry_len = 0;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.expiry_len = 5;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.result_code = 0;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);      /* no result at all */
	p.result_code = 3004;
	assert_int_equal(read_raw(&p), GBA_ERR_UNAVAILABLE);
	p.result_code = 0;
	p.exp_code = 5403;
	assert_int_equal(read_raw(&p), GBA_ERR_NOT_FOUND);
	p.exp_code = 5402;
	assert_int_equal(read_raw(&p), GBA_ERR_NOT_AUTHORIZED);
}

static void test_call_checks(void **state)
{
	struct gba_zn_request req = {
		.btid = BTID, .naf_id = NAF_ID, .naf_id_len = NAF_ID_LEN, .dest_realm = "bsf.test",
		.dest_host = "bsf.node.test",
	};
	struct gba_zn_answer ans;

	(void)state;
	/* Not started, no peer: unavailable at once, never a crash. */
	assert_int_equal(gba_zn_bir_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_UNAVAILABLE);
	req.naf_id_len = 5;
	assert_int_equal(gba_zn_bir_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
	req.naf_id_len = NAF_ID_LEN;
	req.btid = "";
	assert_int_equal(gba_zn_bir_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_zn_bir_call(dia, NULL, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
	/* A second handler is refused. */
	assert_int_equal(gba_zn_server_register(dia, handler, NULL), GBA_ERR_INVALID_ARG);
}

static int setup(void **state)
{
	struct gba_dia_config cfg = {
		.identity = "bsf.node.test",
		.realm = "test",
		.apps = GBA_DIA_ZN,
		.transport = GBA_DIA_TCP,   /* no connection: messages only */
		.log_level = GBA_DIA_LOG_ERROR,
	};

	(void)state;
	if (gba_dia_open(&dia, &cfg) || gba_zn_server_register(dia, handler, NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gba_dia_close(dia);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bir_layout),
		cmocka_unit_test(test_bia_keys),
		cmocka_unit_test(test_bia_refusals),
		cmocka_unit_test(test_bad_birs),
		cmocka_unit_test(test_bad_bias),
		cmocka_unit_test(test_call_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
