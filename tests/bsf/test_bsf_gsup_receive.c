/*
 * test_bsf_gsup_receive.c - the BSF's handling of a GSUP message from the
 * HLR (bsf/gsup_link.c's gsup_link_receive, compiled in for its request
 * list), without sockets: a SendAuthInfo result's vectors go to the
 * request waiting for that IMSI only when each is a whole UMTS vector
 * (RAND, AUTN, CK, IK, RES); answers nobody waits for are counted as
 * dropped.  libosmocore's decoder marks a vector UMTS on any one of IK,
 * CK, AUTN or RES, leaving the others zero.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bsf/gsup_link.c"

#define IMSI "001010000000001"

struct fixture {
	struct bsf_metrics metrics;
	struct gsup_link l;
	struct gsup_req *r;     /* waiting for IMSI */
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	metrics_init(&f->metrics);
	pthread_mutex_init(&f->l.lock, NULL);
	f->l.queue_tail = &f->l.queue;
	f->l.metrics = &f->metrics;
	f->r = req_new(IMSI, NULL, NULL);
	assert_non_null(f->r);
	f->r->state = REQ_SENT;
	append_inflight(&f->l, f->r);
	return f;
}

static void fixture_free(struct fixture *f)
{
	while (f->l.inflight) {
		struct gsup_req *r = f->l.inflight;

		f->l.inflight = r->next;
		if (r == f->r)
			f->r = NULL;
		req_free(r);
	}
	if (f->r)
		req_free(f->r);
	pthread_mutex_destroy(&f->l.lock);
	free(f);
}

static void put_ie(uint8_t *buf, size_t *len, uint8_t tag, const uint8_t *v, uint8_t n)
{
	buf[(*len)++] = tag;
	buf[(*len)++] = n;
	memcpy(buf + *len, v, n);
	*len += n;
}

/*
 * A SendAuthInfo result for imsi as osmo_gsup_encode writes it, with one
 * auth tuple built here: every UMTS part but the IE tagged omit (0: none).
 */
static size_t sai_result(uint8_t *buf, const char *imsi, uint8_t omit)
{
	static const struct { uint8_t tag, len, fill; } parts[] = {
		{ OSMO_GSUP_RAND_IE, 16, 0x11 }, { OSMO_GSUP_AUTN_IE, 16, 0x22 },
		{ OSMO_GSUP_CK_IE, 16, 0x33 }, { OSMO_GSUP_IK_IE, 16, 0x44 },
		{ OSMO_GSUP_RES_IE, 8, 0x55 },
	};
	struct osmo_gsup_message m;
	struct msgb *b = msgb_alloc(1024, "test");
	uint8_t tuple[128], v[16];
	size_t len, tlen = 0;

	assert_non_null(b);
	memset(&m, 0, sizeof(m));
	m.message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT;
	snprintf(m.imsi, sizeof(m.imsi), "%s", imsi);
	assert_int_equal(osmo_gsup_encode(b, &m), 0);
	len = msgb_length(b);
	memcpy(buf, msgb_data(b), len);
	msgb_free(b);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i].tag == omit)
			continue;
		memset(v, parts[i].fill, sizeof(v));
		put_ie(tuple, &tlen, parts[i].tag, v, parts[i].len);
	}
	put_ie(buf, &len, OSMO_GSUP_AUTH_TUPLE_IE, tuple, (uint8_t)tlen);
	return len;
}

static void test_whole_vector(void **state)
{
	struct fixture *f = fixture_new();
	uint8_t msg[256];
	size_t len = sai_result(msg, IMSI, 0);

	(void)state;
	gsup_link_receive(&f->l, msg, len);
	assert_null(f->l.inflight);
	assert_int_equal(f->r->state, REQ_DONE);
	assert_int_equal(f->r->err, GBA_OK);
	assert_int_equal(f->r->n, 1);
	assert_int_equal(f->r->av[0].ck[0], 0x33);
	assert_int_equal(f->r->av[0].xres_len, 8);
	assert_int_equal(atomic_load(&f->metrics.gsup_dropped), 0);
	fixture_free(f);
}

/* Each UMTS part missing in turn: no vector is handed over (GBA_ERR_PARSE). */
static void test_vector_missing_a_part(void **state)
{
	static const uint8_t omit[] = { OSMO_GSUP_RAND_IE, OSMO_GSUP_AUTN_IE, OSMO_GSUP_CK_IE,
					OSMO_GSUP_IK_IE, OSMO_GSUP_RES_IE };

	(void)state;
	for (size_t i = 0; i < sizeof(omit); i++) {
		struct fixture *f = fixture_new();
		uint8_t msg[256];
		size_t len = sai_result(msg, IMSI, omit[i]);

		gsup_link_receive(&f->l, msg, len);
		assert_int_equal(f->r->state, REQ_DONE);
		if (f->r->err != GBA_ERR_PARSE)
			fail_msg("a vector without IE 0x%02x was handed over", omit[i]);
		assert_int_equal(f->r->n, 0);
		fixture_free(f);
	}
}

static void test_answer_nobody_waits_for(void **state)
{
	struct fixture *f = fixture_new();
	uint8_t msg[256];
	size_t len = sai_result(msg, "001010000000002", 0);

	(void)state;
	gsup_link_receive(&f->l, msg, len);
	assert_ptr_equal(f->l.inflight, f->r);
	assert_int_equal(f->r->state, REQ_SENT);
	assert_int_equal(atomic_load(&f->metrics.gsup_dropped), 1);
	gsup_link_receive(&f->l, msg, 3);   /* cut short: malformed */
	assert_int_equal(atomic_load(&f->metrics.gsup_dropped), 2);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_vector),
		cmocka_unit_test(test_vector_missing_a_part),
		cmocka_unit_test(test_answer_nobody_waits_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
