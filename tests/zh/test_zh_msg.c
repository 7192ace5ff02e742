/*
 * test_zh_msg.c - Zh messages without a network: MAR and MAA built by
 * libgba-diameter, put on the wire format and parsed back by freeDiameter
 * against the dictionary and its rules, answered by the HSS side and read
 * by the BSF side; and malformed MARs and MAAs of every kind the code
 * checks.  One freeDiameter core per process: the node is opened once
 * (never started) for all the tests.  Cx's MAR/MAA (several vectors,
 * 5001, its required AVPs) likewise.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "dia_msg.h"
#include "zh_craft.h"

static struct gba_dia *dia;

/* ---- The HSS handler the tests answer with ------------------------------- */

static struct {
	gba_err result;             /* what the handler returns */
	int calls;
	unsigned last_index;        /* gba_zh_mar.index of the last call */
	uint32_t app;
	char impi[300];
	int resync;
	uint8_t rand[16], auts[14];
	char scheme[40];
	const char *guss;
} hss;

static void fixed_av(struct gba_av *av)
{
	memset(av, 0, sizeof(*av));
	unhex(av->rand, 16, "23553cbe9637a89d218ae64dae47bf35");
	unhex(av->autn, 16, "55f328b43577b9b94a9ffac354dfafb3");
	unhex(av->xres, 8, "a54211d5e3ba50bf");
	av->xres_len = 8;
	unhex(av->ck, 16, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	unhex(av->ik, 16, "f769bcd751044604127672711c6d3441");
}

static gba_err handler(void *arg, const struct gba_zh_mar *mar, struct gba_av *av, char *guss,
		       size_t guss_size, size_t *guss_len)
{
	(void)arg;
	hss.calls++;
	hss.last_index = mar->index;
	hss.app = mar->app;
	snprintf(hss.impi, sizeof(hss.impi), "%s", mar->impi);
	snprintf(hss.scheme, sizeof(hss.scheme), "%s", mar->scheme);
	hss.resync = mar->auts != NULL;
	if (mar->auts) {
		memcpy(hss.rand, mar->resync_rand, 16);
		memcpy(hss.auts, mar->auts, 14);
	}
	if (hss.result)
		return hss.result;
	fixed_av(av);
	if (mar->app == GBA_DIA_APP_CX)
		av->rand[0] = (uint8_t)mar->index;   /* which call made it */
	*guss_len = 0;
	if (hss.guss) {
		*guss_len = strlen(hss.guss);
		assert_true(*guss_len < guss_size);
		memcpy(guss, hss.guss, *guss_len);
	}
	return GBA_OK;
}

static void reset_hss(void)
{
	memset(&hss, 0, sizeof(hss));
}

/* ---- Wire helpers (and dia_test_*: tests/common/dia_msg.h) --------------- */

static struct msg *new_mar(const char *impi, const uint8_t *rand, const uint8_t *auts)
{
	struct gba_zh_request req = {
		.impi = impi,
		.dest_realm = "hss.test",
		.dest_host = "hss.node.test",
		.resync_rand = rand,
		.auts = auts,
	};
	struct msg *m = NULL;

	assert_int_equal(dia_zh_build_mar(dia, &req, &m), 0);
	return m;
}

/* The HSS side's answer to a (received) MAR, received back by the BSF. */
static struct msg *answer(struct msg *mar)
{
	struct msg *m = mar;

	assert_null(dia_test_rules_error(m));
	assert_int_equal(dia_zh_answer_mar(dia, &m), 0);
	assert_ptr_not_equal(m, mar);   /* now the answer */
	return dia_test_wire(m);
}

static void free_answer(struct msg *ans)
{
	fd_msg_free(ans);
}

/* ---- MAR ------------------------------------------------------------------ */

static void test_mar_layout(void **state)
{
	(void)state;
	struct msg *m = dia_test_wire(new_mar("alice@ims.mnc001.mcc001.3gppnetwork.org", NULL, NULL));
	struct msg_hdr *hdr = NULL;
	struct avp *item = NULL, *vsai = NULL;
	struct avp_hdr *h;
	unsigned n = 0;

	assert_null(dia_test_rules_error(m));
	assert_int_equal(fd_msg_hdr(m, &hdr), 0);
	assert_int_equal(hdr->msg_code, 303);
	assert_int_equal(hdr->msg_appl, GBA_DIA_APP_ZH);
	assert_int_equal(hdr->msg_flags & (CMD_FLAG_REQUEST | CMD_FLAG_PROXIABLE),
			 CMD_FLAG_REQUEST | CMD_FLAG_PROXIABLE);

	h = avp_find(m, 1, 0, NULL, &n);   /* User-Name */
	assert_non_null(h);
	assert_int_equal(n, 1);
	assert_memory_equal(h->avp_value->os.data, "alice@ims.mnc001.mcc001.3gppnetwork.org",
			    h->avp_value->os.len);
	h = avp_find(m, 277, 0, NULL, NULL);   /* Auth-Session-State */
	assert_int_equal(h->avp_value->i32, 1);
	h = avp_find(m, 293, 0, NULL, NULL);   /* Destination-Host */
	assert_memory_equal(h->avp_value->os.data, "hss.node.test", 13);
	assert_non_null(avp_find(m, 260, 0, &vsai, NULL));
	h = avp_find(vsai, 258, 0, NULL, NULL);   /* Auth-Application-Id */
	assert_int_equal(h->avp_value->u32, GBA_DIA_APP_ZH);
	h = avp_find(vsai, 266, 0, NULL, NULL);   /* Vendor-Id */
	assert_int_equal(h->avp_value->u32, 10415);

	h = avp_find(m, GBA_AVP_SIP_NUMBER_AUTH_ITEMS, 10415, NULL, NULL);
	assert_int_equal(h->avp_value->u32, 1);
	assert_int_equal(h->avp_flags & (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY),
			 AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY);
	h = avp_find(m, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, &item, NULL);
	assert_non_null(h);
	assert_int_equal(h->avp_flags & (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY),
			 AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY);
	h = avp_find(item, GBA_AVP_SIP_AUTHENTICATION_SCHEME, 10415, NULL, NULL);
	assert_int_equal(h->avp_value->os.len, 16);
	assert_memory_equal(h->avp_value->os.data, "Digest-AKAv1-MD5", 16);
	assert_null(avp_find(item, GBA_AVP_SIP_AUTHORIZATION, 10415, NULL, NULL));
	fd_msg_free(m);
}

static void test_mar_resync(void **state)
{
	(void)state;
	uint8_t rand[16], auts[14];
	struct msg *m;
	struct avp *item = NULL;
	struct avp_hdr *h;

	unhex(rand, 16, "00112233445566778899aabbccddeeff");
	unhex(auts, 14, "0102030405060708090a0b0c0d0e");
	m = dia_test_wire(new_mar("bob@test", rand, auts));
	avp_find(m, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, &item, NULL);
	h = avp_find(item, GBA_AVP_SIP_AUTHORIZATION, 10415, NULL, NULL);
	assert_non_null(h);
	assert_int_equal(h->avp_value->os.len, 30);
	assert_memory_equal(h->avp_value->os.data, rand, 16);
	assert_memory_equal(h->avp_value->os.data + 16, auts, 14);

	reset_hss();
	free_answer(answer(m));
	assert_int_equal(hss.calls, 1);
	assert_true(hss.resync);
	assert_memory_equal(hss.rand, rand, 16);
	assert_memory_equal(hss.auts, auts, 14);
	assert_string_equal(hss.impi, "bob@test");
}

/* ---- MAA: the happy paths ----------------------------------------------------- */

static void test_maa_vector(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test" };
	struct gba_zh_answer ans;
	struct gba_av want;
	char guss[64];
	struct msg *maa;
	struct avp *item = NULL;
	struct avp_hdr *h;

	reset_hss();
	hss.guss = "<guss xmlns=\"uri:3gpp-gba\"/>";
	maa = answer(dia_test_wire(new_mar("alice@test", NULL, NULL)));
	assert_null(dia_test_rules_error(maa));
	assert_int_equal(dia_test_result(maa), 2001);
	h = avp_find(maa, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, &item, NULL);
	assert_non_null(h);
	h = avp_find(item, GBA_AVP_SIP_ITEM_NUMBER, 10415, NULL, NULL);
	assert_int_equal(h->avp_value->u32, 1);
	h = avp_find(item, GBA_AVP_CONFIDENTIALITY_KEY, 10415, NULL, NULL);
	assert_int_equal(h->avp_flags & (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY),
			 AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY);
	h = avp_find(maa, GBA_AVP_GBA_USERSECSETTINGS, 10415, NULL, NULL);
	assert_non_null(h);
	assert_int_equal(h->avp_flags & (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY),
			 AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY);

	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, guss, sizeof(guss)), GBA_OK);
	fixed_av(&want);
	assert_memory_equal(ans.av.rand, want.rand, 16);
	assert_memory_equal(ans.av.autn, want.autn, 16);
	assert_int_equal(ans.av.xres_len, 8);
	assert_memory_equal(ans.av.xres, want.xres, 8);
	assert_memory_equal(ans.av.ck, want.ck, 16);
	assert_memory_equal(ans.av.ik, want.ik, 16);
	assert_string_equal(guss, hss.guss);
	assert_int_equal(ans.guss_len, strlen(hss.guss));

	/* The GUSS does not fit: an error, not a truncated document. */
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, guss, 10), GBA_ERR_TOO_LARGE);
	/* No room asked for: the vector alone. */
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_OK);

	/* The keys leave freeDiameter's buffers zeroed. */
	avp_wipe_secrets(maa);
	h = avp_find(item, GBA_AVP_CONFIDENTIALITY_KEY, 10415, NULL, NULL);
	for (size_t i = 0; i < h->avp_value->os.len; i++)
		assert_int_equal(h->avp_value->os.data[i], 0);
	h = avp_find(item, GBA_AVP_SIP_AUTHORIZATION, 10415, NULL, NULL);
	for (size_t i = 0; i < h->avp_value->os.len; i++)
		assert_int_equal(h->avp_value->os.data[i], 0);
	free_answer(maa);
}

/* ---- Without a waiting thread ------------------------------------------- */

static int async_calls;

static void count_done(struct gba_zh_async *call, struct gba_zh_maa *maa)
{
	(void)call;
	async_calls++;
	gba_zh_maa_free(maa);
}

/* gba_zh_mar_send refuses what it cannot send, without calling done; the
 * MAA it hands over reads as gba_zh_mar_call's would; none read as a
 * timeout. */
static void test_async_api(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test",
				      .dest_host = "hss.node.test" };
	struct gba_zh_request bad = { .dest_realm = "hss.test" };
	struct gba_zh_async call = { .done = count_done }, no_cb = { 0 };
	struct gba_zh_answer ans;
	struct gba_av want;
	char guss[64];
	struct msg *maa;

	async_calls = 0;
	assert_int_equal(gba_zh_mar_send(NULL, &req, 1000, &call), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_zh_mar_send(dia, &req, 1000, NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_zh_mar_send(dia, &req, 1000, &no_cb), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_zh_mar_send(dia, &bad, 1000, &call), GBA_ERR_INVALID_ARG);
	/* The HSS is no open peer (the node is not even started): nothing sent. */
	assert_int_equal(gba_zh_mar_send(dia, &req, 1000, &call), GBA_ERR_UNAVAILABLE);
	req.dest_host = NULL;
	assert_int_equal(gba_zh_mar_send(dia, &req, 1000, &call), GBA_ERR_UNAVAILABLE);
	assert_int_equal(async_calls, 0);

	memset(&ans, 0xa5, sizeof(ans));
	strcpy(guss, "x");
	assert_int_equal(gba_zh_maa_read(NULL, &req, &ans, guss, sizeof(guss)), GBA_ERR_TIMEOUT);
	assert_int_equal(ans.av.xres_len, 0);
	assert_string_equal(guss, "");
	assert_int_equal(gba_zh_maa_read(NULL, NULL, &ans, NULL, 0), GBA_ERR_INVALID_ARG);

	reset_hss();
	maa = answer(dia_test_wire(new_mar("alice@test", NULL, NULL)));
	assert_int_equal(gba_zh_maa_read((struct gba_zh_maa *)maa, &req, &ans, guss,
					 sizeof(guss)), GBA_OK);
	fixed_av(&want);
	assert_memory_equal(ans.av.rand, want.rand, 16);
	assert_memory_equal(ans.av.ck, want.ck, 16);
	gba_zh_maa_free((struct gba_zh_maa *)maa);
	gba_zh_maa_free(NULL);
}

static void test_maa_akav2_scheme_echoed(void **state)
{
	(void)state;
	struct gba_zh_request req = {
		.impi = "alice@test", .dest_realm = "hss.test", .scheme = GBA_ZH_SCHEME_AKAV2,
	};
	struct msg *m = NULL, *maa;
	struct avp *item = NULL;
	struct avp_hdr *h;

	reset_hss();
	assert_int_equal(dia_zh_build_mar(dia, &req, &m), 0);
	maa = answer(dia_test_wire(m));
	assert_string_equal(hss.scheme, GBA_ZH_SCHEME_AKAV2);
	avp_find(maa, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, &item, NULL);
	h = avp_find(item, GBA_AVP_SIP_AUTHENTICATION_SCHEME, 10415, NULL, NULL);
	assert_memory_equal(h->avp_value->os.data, GBA_ZH_SCHEME_AKAV2, 16);
	free_answer(maa);
}

static void test_maa_unknown_user(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "nobody@test", .dest_realm = "hss.test" };
	struct gba_zh_answer ans;
	struct msg *maa;

	reset_hss();
	hss.result = GBA_ERR_NOT_FOUND;
	maa = answer(dia_test_wire(new_mar("nobody@test", NULL, NULL)));
	assert_null(dia_test_rules_error(maa));
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_NOT_FOUND);
	assert_int_equal(ans.result.result_code, 0);
	assert_int_equal(ans.result.exp_vendor, 10415);
	assert_int_equal(ans.result.exp_code, 5401);
	assert_null(avp_find(maa, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, NULL, NULL));
	free_answer(maa);
}

static void test_maa_auts_refused(void **state)
{
	(void)state;
	uint8_t rand[16] = { 1 }, auts[14] = { 2 };
	struct gba_zh_request req = {
		.impi = "bob@test", .dest_realm = "hss.test", .resync_rand = rand, .auts = auts,
	};
	struct gba_zh_answer ans;
	struct msg *maa;
	struct avp *failed = NULL, *item = NULL;
	struct avp_hdr *h;

	reset_hss();
	hss.result = GBA_ERR_AUTS_INVALID;
	maa = answer(dia_test_wire(new_mar("bob@test", rand, auts)));
	assert_int_equal(dia_test_result(maa), 5004);
	/* Failed-AVP { SIP-Auth-Data-Item { SIP-Authorization = RAND || AUTS } } */
	assert_non_null(avp_find(maa, 279, 0, &failed, NULL));
	assert_non_null(avp_find(failed, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, &item, NULL));
	h = avp_find(item, GBA_AVP_SIP_AUTHORIZATION, 10415, NULL, NULL);
	assert_non_null(h);
	assert_int_equal(h->avp_value->os.len, 30);
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_AUTS_INVALID);
	/* The same 5004 to a request that was no resynchronisation. */
	req.resync_rand = req.auts = NULL;
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_UNSUPPORTED);
	free_answer(maa);
}

static void test_maa_hss_failure(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test" };
	struct gba_zh_answer ans;
	struct msg *maa;

	reset_hss();
	hss.result = GBA_ERR_STORE;
	maa = answer(dia_test_wire(new_mar("alice@test", NULL, NULL)));
	assert_int_equal(dia_test_result(maa), 5012);
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_UNSUPPORTED);
	free_answer(maa);
}

/* ---- Malformed MARs: answered by the library, never seen by the handler ---- */

static struct msg *raw_mar(const struct mar_parts *p)
{
	struct msg *m = zh_craft_mar(dia, p);

	assert_non_null(m);
	return dia_test_wire(m);
}

/* The result a well-ruled but bad MAR gets, and the handler not called. */
static uint32_t bad_mar_result(const struct mar_parts *p, const char *failed_child)
{
	struct msg *maa;
	struct avp *failed = NULL;
	uint32_t code;

	reset_hss();
	maa = answer(raw_mar(p));
	code = dia_test_result(maa);
	assert_int_equal(hss.calls, 0);
	if (code == 5004) {
		assert_non_null(avp_find(maa, 279, 0, &failed, NULL));   /* Failed-AVP */
		assert_non_null(avp_find(maa, 281, 0, NULL, NULL));      /* Error-Message */
		if (failed_child)
			assert_non_null(avp_find(failed, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, NULL,
						 NULL));
		else
			assert_non_null(avp_find(failed, 1, 0, NULL, NULL));
	}
	free_answer(maa);
	return code;
}

static void test_bad_user_names(void **state)
{
	(void)state;
	char long_name[300];
	struct mar_parts p = { .scheme = GBA_ZH_SCHEME_AKAV1 };

	p.user_name = "a\nb@test";                 /* a line break: log forging */
	assert_int_equal(bad_mar_result(&p, NULL), 5004);
	p.user_name = "a\0b@test";                 /* a NUL inside */
	p.user_name_len = 8;
	assert_int_equal(bad_mar_result(&p, NULL), 5004);
	p.user_name_len = 0;
	p.user_name = "del\x7f@test";
	assert_int_equal(bad_mar_result(&p, NULL), 5004);
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	p.user_name = long_name;                   /* 256 octets: one too many */
	assert_int_equal(bad_mar_result(&p, NULL), 5004);
	long_name[255] = '\0';                     /* 255: fine */
	reset_hss();
	free_answer(answer(raw_mar(&p)));
	assert_int_equal(hss.calls, 1);
}

static void test_empty_user_name(void **state)
{
	(void)state;
	struct mar_parts p = { .user_name = "x", .scheme = GBA_ZH_SCHEME_AKAV1 };
	struct msg *m = raw_mar(&p), *maa;
	struct avp_hdr *h = avp_find(m, 1, 0, NULL, NULL);

	h->avp_value->os.len = 0;   /* as if received empty */
	reset_hss();
	maa = answer(m);
	assert_int_equal(dia_test_result(maa), 5004);
	assert_int_equal(hss.calls, 0);
	free_answer(maa);
}

static void test_bad_auth_data_item(void **state)
{
	(void)state;
	uint8_t junk[64] = { 0 };
	struct mar_parts p = { .user_name = "alice@test", .scheme = GBA_ZH_SCHEME_AKAV1 };

	p.authorization = junk;
	p.authorization_len = 29;                  /* RAND || AUTS is 30 */
	assert_int_equal(bad_mar_result(&p, "item"), 5004);
	p.authorization_len = 31;
	assert_int_equal(bad_mar_result(&p, "item"), 5004);
	p.authorization_len = 0;
	assert_int_equal(bad_mar_result(&p, "item"), 5004);
	p.authorization = NULL;
	p.scheme = "Digest-MD5";                   /* not AKA */
	assert_int_equal(bad_mar_result(&p, "item"), 5004);
	p.scheme = "digest-akav1-md5";             /* the scheme is case-sensitive */
	assert_int_equal(bad_mar_result(&p, "item"), 5004);

	/* No scheme, or no item at all: AKAv1 is meant. */
	p.scheme = NULL;
	reset_hss();
	free_answer(answer(raw_mar(&p)));
	assert_int_equal(hss.calls, 1);
	assert_string_equal(hss.scheme, GBA_ZH_SCHEME_AKAV1);
	p.no_item = 1;
	reset_hss();
	free_answer(answer(raw_mar(&p)));
	assert_int_equal(hss.calls, 1);
}

/* What freeDiameter's rule check (dict.c's MAR rules) refuses before any
 * handler runs; it answers with these codes. */
static void test_mar_rules(void **state)
{
	(void)state;
	struct mar_parts p = { .user_name = NULL, .scheme = GBA_ZH_SCHEME_AKAV1 };
	struct msg *m;

	m = raw_mar(&p);
	assert_string_equal(dia_test_rules_error(m), "DIAMETER_MISSING_AVP");
	fd_msg_free(m);

	/* No Vendor-Specific-Application-Id: 5005 from the library, with a
	 * well-formed example in Failed-AVP. */
	p.user_name = "alice@test";
	p.no_vsai = 1;
	m = raw_mar(&p);
	assert_null(dia_test_rules_error(m));
	{
		struct avp *failed = NULL, *vsai = NULL;
		struct msg *maa;
		reset_hss();
		maa = answer(m);
		assert_int_equal(dia_test_result(maa), 5005);
		assert_int_equal(hss.calls, 0);
		assert_null(dia_test_rules_error(maa));
		assert_non_null(avp_find(maa, 279, 0, &failed, NULL));
		assert_non_null(avp_find(failed, 260, 0, &vsai, NULL));
		assert_non_null(avp_find(vsai, 266, 0, NULL, NULL));
		free_answer(maa);
	}
	p.no_vsai = 0;
	p.two_user_names = 1;
	m = raw_mar(&p);
	assert_string_equal(dia_test_rules_error(m), "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES");
	fd_msg_free(m);
	p.two_user_names = 0;
	p.two_items = 1;
	m = raw_mar(&p);
	assert_string_equal(dia_test_rules_error(m), "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES");
	fd_msg_free(m);
}

/* ---- Malformed MAAs: the BSF side says GBA_ERR_PARSE, never crashes ------- */

struct maa_parts {
	uint32_t result_code;        /* 0: none */
	uint32_t exp_vendor, exp_code;
	int no_item;
	size_t authenticate_len, xres_len, ck_len, ik_len;   /* 0: leave out */
	/* Cx: Auth-Application-Id instead of Vendor-Specific-Application-Id */
	uint32_t auth_app_id;
	/* Further items, numbered (SIP-Item-Number) from item_numbers[1]; the
	 * first gets item_numbers[0] (0: no SIP-Item-Number at all) */
	unsigned extra_items;
	uint32_t item_numbers[4];
	size_t last_ck_len;          /* the last extra item's CK length; 0: 16 */
};

static void add_raw_item(struct msg *m, const struct maa_parts *p, uint32_t number,
			 uint8_t fill, size_t ck_len)
{
	const struct dia_dict *d = &dia->dict;
	uint8_t bytes[64];
	struct avp *item = NULL;

	memset(bytes, fill, sizeof(bytes));
	assert_int_equal(avp_add_group(m, d->sip_auth_data_item, &item), 0);
	if (number)
		assert_int_equal(avp_add_u32(item, d->sip_item_number, number), 0);
	if (p->authenticate_len)
		avp_add_os(item, d->sip_authenticate, bytes, p->authenticate_len);
	if (p->xres_len)
		avp_add_os(item, d->sip_authorization, bytes, p->xres_len);
	if (ck_len)
		avp_add_os(item, d->conf_key, bytes, ck_len);
	if (p->ik_len)
		avp_add_os(item, d->integ_key, bytes, p->ik_len);
}

static struct msg *raw_maa(const struct maa_parts *p)
{
	const struct dia_dict *d = &dia->dict;
	struct msg *m = dia_test_wire(new_mar("alice@test", NULL, NULL));
	struct avp *er = NULL;

	assert_int_equal(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &m, 0), 0);
	if (p->auth_app_id)
		assert_int_equal(avp_add_u32(m, d->auth_app_id, p->auth_app_id), 0);
	else
		assert_int_equal(avp_add_vsai(dia, m, GBA_DIA_APP_ZH), 0);
	if (p->result_code)
		assert_int_equal(avp_add_u32(m, d->result_code, p->result_code), 0);
	if (p->exp_code) {
		assert_int_equal(avp_add_group(m, d->exp_result, &er), 0);
		assert_int_equal(avp_add_u32(er, d->vendor_id, p->exp_vendor), 0);
		assert_int_equal(avp_add_u32(er, d->exp_result_code, p->exp_code), 0);
	}
	assert_int_equal(fd_msg_add_origin(m, 0), 0);
	if (!p->no_item)
		add_raw_item(m, p, p->item_numbers[0], 0x5a, p->ck_len);
	for (unsigned i = 0; i < p->extra_items; i++)
		add_raw_item(m, p, p->item_numbers[i + 1], (uint8_t)(0x60 + i),
			     i + 1 == p->extra_items && p->last_ck_len ? p->last_ck_len : 16);
	return dia_test_wire(m);
}

static gba_err read_raw(const struct maa_parts *p)
{
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test" };
	struct gba_zh_answer ans;
	struct msg *m = raw_maa(p);
	gba_err err = dia_zh_read_maa(m, &req, &ans, NULL, 0);

	free_answer(m);
	return err;
}

static void test_bad_maa(void **state)
{
	(void)state;
	const struct maa_parts good = {
		.result_code = 2001, .authenticate_len = 32, .xres_len = 8, .ck_len = 16, .ik_len = 16,
	};
	struct maa_parts p = good;

	assert_int_equal(read_raw(&p), GBA_OK);
	p.xres_len = 4;                 /* RES may be 4..16 octets */
	assert_int_equal(read_raw(&p), GBA_OK);
	p.xres_len = 16;
	assert_int_equal(read_raw(&p), GBA_OK);

	p = good;
	p.no_item = 1;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.authenticate_len = 31;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.authenticate_len = 33;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.authenticate_len = 0;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.xres_len = 3;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.xres_len = 17;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.ck_len = 15;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.ik_len = 0;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p = good;
	p.ik_len = 32;
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);

	p = good;
	p.result_code = 0;              /* no result at all */
	assert_int_equal(read_raw(&p), GBA_ERR_PARSE);
	p.result_code = 3004;           /* too busy: try later */
	assert_int_equal(read_raw(&p), GBA_ERR_UNAVAILABLE);
	p.result_code = 4001;
	assert_int_equal(read_raw(&p), GBA_ERR_UNAVAILABLE);
	p.result_code = 5001;
	assert_int_equal(read_raw(&p), GBA_ERR_UNSUPPORTED);
	p.result_code = 0;
	p.exp_vendor = 10415;
	p.exp_code = 5401;
	assert_int_equal(read_raw(&p), GBA_ERR_NOT_FOUND);
	p.exp_vendor = 0;               /* 5401 of no vendor means nothing */
	assert_int_equal(read_raw(&p), GBA_ERR_UNSUPPORTED);
}

/* ---- Cx (TS 29.229) ---------------------------------------------------------- */

static struct msg *new_cx_mar(const char *impi, const char *pub, unsigned vectors)
{
	struct gba_zh_request req = {
		.impi = impi, .dest_realm = "hss.test", .dest_host = "hss.node.test",
		.app = GBA_DIA_APP_CX, .public_identity = pub, .server_name = "sip:bsf.test",
		.vectors = vectors,
	};
	struct msg *m = NULL;

	assert_int_equal(dia_zh_build_mar(dia, &req, &m), 0);
	return m;
}

static const char *os_text(struct avp_hdr *h, char *buf, size_t size)
{
	assert_non_null(h);
	snprintf(buf, size, "%.*s", (int)h->avp_value->os.len, (const char *)h->avp_value->os.data);
	return buf;
}

static void test_cx_mar_and_maa(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test",
				      .app = GBA_DIA_APP_CX, .server_name = "sip:bsf.test",
				      .vectors = 3 };
	struct msg *m = dia_test_wire(new_cx_mar("alice@test", NULL, 3)), *maa;
	struct gba_zh_answer ans;
	struct msg_hdr *hdr = NULL;
	struct avp *vsai = NULL;
	unsigned n = 0;
	char buf[300];

	assert_null(dia_test_rules_error(m));
	assert_int_equal(fd_msg_hdr(m, &hdr), 0);
	assert_int_equal(hdr->msg_appl, GBA_DIA_APP_CX);
	assert_non_null(avp_find(m, 260, 0, &vsai, NULL));
	assert_int_equal(avp_find(vsai, 258, 0, NULL, NULL)->avp_value->u32, GBA_DIA_APP_CX);
	assert_string_equal(os_text(avp_find(m, GBA_AVP_PUBLIC_IDENTITY, 10415, NULL, NULL), buf,
				    sizeof(buf)), "sip:alice@test");
	assert_string_equal(os_text(avp_find(m, GBA_AVP_SERVER_NAME, 10415, NULL, NULL), buf,
				    sizeof(buf)), "sip:bsf.test");
	assert_int_equal(avp_find(m, GBA_AVP_SIP_NUMBER_AUTH_ITEMS, 10415, NULL, NULL)
			 ->avp_value->u32, 3);

	reset_hss();
	maa = answer(m);
	assert_int_equal(hss.calls, 3);
	assert_int_equal(hss.app, GBA_DIA_APP_CX);
	assert_int_equal(hss.last_index, 2);
	assert_null(dia_test_rules_error(maa));
	assert_int_equal(dia_test_result(maa), 2001);
	assert_non_null(avp_find(maa, GBA_AVP_SIP_AUTH_DATA_ITEM, 10415, NULL, &n));
	assert_int_equal(n, 3);
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_OK);
	assert_int_equal(ans.n_spare, 2);
	assert_int_equal(ans.av.rand[0], 0);          /* SIP-Item-Number order */
	assert_int_equal(ans.spare[0].rand[0], 1);
	assert_int_equal(ans.spare[1].rand[0], 2);
	assert_int_equal(ans.spare[1].xres_len, 8);
	free_answer(maa);

	/* A configured Public-Identity goes as given. */
	m = dia_test_wire(new_cx_mar("alice@test", "tel:+15551234", 1));
	assert_string_equal(os_text(avp_find(m, GBA_AVP_PUBLIC_IDENTITY, 10415, NULL, NULL), buf,
				    sizeof(buf)), "tel:+15551234");
	fd_msg_free(m);
}

static void test_cx_unknown_user(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "nobody@test", .dest_realm = "hss.test",
				      .app = GBA_DIA_APP_CX, .server_name = "sip:bsf.test" };
	struct gba_zh_answer ans;
	struct msg *maa;

	reset_hss();
	hss.result = GBA_ERR_NOT_FOUND;
	maa = answer(dia_test_wire(new_cx_mar("nobody@test", NULL, 2)));
	assert_int_equal(hss.calls, 1);
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_NOT_FOUND);
	assert_int_equal(ans.result.exp_code, GBA_DIA_CX_ERROR_USER_UNKNOWN);
	/* The same answer to a Zh request is no "unknown user" there. */
	req.app = 0;
	assert_int_equal(dia_zh_read_maa(maa, &req, &ans, NULL, 0), GBA_ERR_UNSUPPORTED);
	free_answer(maa);
}

/* A Cx MAR without Public-Identity (a Zh MAR on application 16777216): 5005,
 * the handler never called. */
static void test_cx_missing_avps(void **state)
{
	(void)state;
	struct msg *m = new_mar("alice@test", NULL, NULL), *maa;
	struct msg_hdr *hdr = NULL;
	struct avp *failed = NULL;

	assert_int_equal(fd_msg_hdr(m, &hdr), 0);
	hdr->msg_appl = GBA_DIA_APP_CX;
	reset_hss();
	maa = answer(dia_test_wire(m));
	assert_int_equal(hss.calls, 0);
	assert_int_equal(dia_test_result(maa), 5005);
	assert_non_null(avp_find(maa, 279, 0, &failed, NULL));   /* Failed-AVP */
	assert_non_null(avp_find(failed, GBA_AVP_PUBLIC_IDENTITY, 10415, NULL, NULL));
	free_answer(maa);
}

/*
 * An HSS's Cx MAA as some send it: Auth-Application-Id instead of
 * Vendor-Specific-Application-Id (accepted), items out of SIP-Item-Number
 * order (read in number order), a broken further item (the whole MAA
 * refused, every vector wiped).
 */
static void test_cx_liberal_maa(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test",
				      .app = GBA_DIA_APP_CX, .server_name = "sip:bsf.test",
				      .vectors = 3 };
	struct maa_parts p = {
		.result_code = 2001, .authenticate_len = 32, .xres_len = 8, .ck_len = 16,
		.ik_len = 16, .auth_app_id = GBA_DIA_APP_CX, .extra_items = 2,
		.item_numbers = { 3, 1, 2 },
	};
	struct gba_zh_answer ans;
	struct msg *m = raw_maa(&p);

	assert_null(dia_test_rules_error(m));
	assert_int_equal(dia_zh_read_maa(m, &req, &ans, NULL, 0), GBA_OK);
	assert_int_equal(ans.n_spare, 2);
	assert_int_equal(ans.av.rand[0], 0x60);        /* item 1 */
	assert_int_equal(ans.spare[0].rand[0], 0x61);  /* item 2 */
	assert_int_equal(ans.spare[1].rand[0], 0x5a);  /* item 3 */
	free_answer(m);

	/* Zh reads the first item only, as it always did: a broken second one
	 * (a Zh HSS sends one) does not matter there. */
	p.last_ck_len = 15;
	p.item_numbers[0] = 0;
	assert_int_equal(read_raw(&p), GBA_OK);

	m = raw_maa(&p);
	memset(&ans, 0x77, sizeof(ans));
	assert_int_equal(dia_zh_read_maa(m, &req, &ans, NULL, 0), GBA_ERR_PARSE);
	assert_int_equal(ans.n_spare, 0);
	for (size_t i = 0; i < sizeof(ans.spare); i++)
		assert_int_equal(((uint8_t *)ans.spare)[i], 0);
	free_answer(m);
}

/* Requests the client refuses to send. */
static void test_cx_bad_requests(void **state)
{
	(void)state;
	struct gba_zh_request req = { .impi = "alice@test", .dest_realm = "hss.test",
				      .app = GBA_DIA_APP_CX };
	struct gba_zh_answer ans;

	assert_int_equal(gba_zh_mar_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
	req.server_name = "sip:bsf.test";
	req.vectors = GBA_ZH_VECTORS_MAX + 1;
	assert_int_equal(gba_zh_mar_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
	req.app = 0;
	req.vectors = 2;   /* Zh asks for one */
	assert_int_equal(gba_zh_mar_call(dia, &req, 100, &ans, NULL, 0), GBA_ERR_INVALID_ARG);
}

static void test_result_mapping(void **state)
{
	(void)state;
	struct gba_dia_result r = { 0 };

	assert_int_equal(gba_dia_result_err(&r), GBA_ERR_PARSE);
	r.result_code = 2001;
	assert_int_equal(gba_dia_result_err(&r), GBA_OK);
	r.result_code = 3002;
	assert_int_equal(gba_dia_result_err(&r), GBA_ERR_UNAVAILABLE);
	r.result_code = 3001;
	assert_int_equal(gba_dia_result_err(&r), GBA_ERR_UNSUPPORTED);
	r.result_code = 0;
	r.exp_vendor = 10415;
	r.exp_code = 5402;
	assert_int_equal(gba_dia_result_err(&r), GBA_ERR_NOT_AUTHORIZED);
	r.exp_code = 5403;
	assert_int_equal(gba_dia_result_err(&r), GBA_ERR_NOT_FOUND);
	assert_string_equal(gba_dia_result_name(5401), "DIAMETER_ERROR_IDENTITY_UNKNOWN");
	assert_string_equal(gba_dia_result_name(1), "?");
	assert_int_equal(gba_dia_result_err(NULL), GBA_ERR_INVALID_ARG);
}

/* The GAA AVPs 400..420 and the Zn commands are in the dictionary with the
 * flags of TS 29.109 6.3. */
static void test_dictionary(void **state)
{
	(void)state;
	for (unsigned code = 400; code <= 420; code++) {
		struct dict_avp_request req = { .avp_vendor = 10415, .avp_code = code };
		struct dict_object *obj = NULL;
		struct dict_avp_data data;

		assert_int_equal(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP,
						AVP_BY_CODE_AND_VENDOR, &req, &obj, ENOENT), 0);
		assert_int_equal(fd_dict_getval(obj, &data), 0);
		assert_int_equal(data.avp_flag_val & AVP_FLAG_VENDOR, AVP_FLAG_VENDOR);
		assert_int_equal(data.avp_flag_val & AVP_FLAG_MANDATORY,
				 code == 409 ? 0 : AVP_FLAG_MANDATORY);
		assert_ptr_equal(obj, dia->dict.gaa[code - 400]);
	}
	assert_non_null(dia->dict.cmd_bir);
	assert_non_null(dia->dict.cmd_bia);
	assert_non_null(dia->dict.app_zn);
}

/* Bad configurations are refused before freeDiameter is touched; a second
 * node in one process is refused. */
static void test_config_checks(void **state)
{
	(void)state;
	struct gba_dia *other = NULL;
	struct gba_dia_config cfg = { .identity = "bsf\".test", .realm = "test",
				      .transport = GBA_DIA_TCP };
	struct gba_dia_peer peer = { .identity = "hss.test", .address = "127.0.0.1" };

	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_INVALID_ARG);
	cfg.identity = "bsf.test";
	cfg.address = "not-an-ip";
	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_INVALID_ARG);
	cfg.address = NULL;
	cfg.transport = GBA_DIA_TLS;   /* TLS (the default) without its files */
	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_INVALID_ARG);
	cfg.tls_cert = "/x.pem";       /* half of them */
	cfg.tls_ca = "/ca.pem";
	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_INVALID_ARG);
	cfg.transport = (enum gba_dia_transport)7;
	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_INVALID_ARG);
	cfg.transport = GBA_DIA_TCP;
	assert_int_equal(gba_dia_open(&other, &cfg), GBA_ERR_EXISTS);
	peer.identity = "hss test";
	assert_int_equal(gba_dia_add_peer(dia, &peer), GBA_ERR_INVALID_ARG);
}

static int setup(void **state)
{
	struct gba_dia_config cfg = {
		.identity = "bsf.node.test",
		.realm = "test",
		.apps = GBA_DIA_ZH | GBA_DIA_ZN,
		.transport = GBA_DIA_TCP,   /* no connection: messages only */
		.log_level = GBA_DIA_LOG_WARN,
	};

	(void)state;
	if (gba_dia_open(&dia, &cfg) || gba_zh_server_register(dia, handler, NULL))
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
		cmocka_unit_test(test_mar_layout),
		cmocka_unit_test(test_mar_resync),
		cmocka_unit_test(test_maa_vector),
		cmocka_unit_test(test_async_api),
		cmocka_unit_test(test_maa_akav2_scheme_echoed),
		cmocka_unit_test(test_maa_unknown_user),
		cmocka_unit_test(test_maa_auts_refused),
		cmocka_unit_test(test_maa_hss_failure),
		cmocka_unit_test(test_bad_user_names),
		cmocka_unit_test(test_empty_user_name),
		cmocka_unit_test(test_bad_auth_data_item),
		cmocka_unit_test(test_mar_rules),
		cmocka_unit_test(test_bad_maa),
		cmocka_unit_test(test_cx_mar_and_maa),
		cmocka_unit_test(test_cx_unknown_user),
		cmocka_unit_test(test_cx_missing_avps),
		cmocka_unit_test(test_cx_bad_requests),
		cmocka_unit_test(test_cx_liberal_maa),
		cmocka_unit_test(test_result_mapping),
		cmocka_unit_test(test_dictionary),
		cmocka_unit_test(test_config_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
