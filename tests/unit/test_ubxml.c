/*
 * test_ubxml.c - xs:dateTime and the BootstrappingInfo document.
 */
#define _POSIX_C_SOURCE 200809L /* dup, dup2, fileno, fstat */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <gba/ubxml.h>

/* Epoch seconds of the fixed instants below (checked with Python). */
#define T_SPEC        ((time_t)1795515300)    /* 2026-11-24T10:15:00Z */
#define T_LEAP_2028   ((time_t)1835438400)    /* 2028-02-29T12:00:00Z */
#define T_2038        ((time_t)2147483648LL)  /* 2038-01-19T03:14:08Z */
#define T_2100        ((time_t)4107542400LL)  /* 2100-03-01T00:00:00Z */
#define T_MAX         ((time_t)253402300799LL) /* 9999-12-31T23:59:59Z */
#define T_MIN         ((time_t)-62135596800LL) /* 0001-01-01T00:00:00Z */

#define SPEC_BTID "B-TID"

static const char spec_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
	"  <btid>B-TID</btid>\n"
	"  <lifetime>2026-11-24T10:15:00Z</lifetime>\n"
	"</BootstrappingInfo>\n";

/* Parses a NUL-terminated string as xs:dateTime. */
static gba_err dt_parse(const char *s, time_t *t)
{
	return gba_xs_datetime_parse(s, strlen(s), t);
}

static void assert_dt(const char *s, time_t want)
{
	time_t t = 0;

	assert_int_equal(dt_parse(s, &t), GBA_OK);
	assert_int_equal((long long)t, (long long)want);
}

static void assert_dt_bad(const char *s)
{
	time_t t = 12345;

	assert_int_equal(dt_parse(s, &t), GBA_ERR_BAD_TIME);
	assert_int_equal((long long)t, 12345); /* untouched */
}

static void assert_format(time_t t, const char *want)
{
	char buf[GBA_XS_DATETIME_MAX];

	assert_int_equal(gba_xs_datetime_format(buf, sizeof(buf), t), GBA_OK);
	assert_string_equal(buf, want);
}

static gba_err ub_parse(const char *doc, struct gba_bootstrapping_info *info)
{
	return gba_ubxml_parse(doc, strlen(doc), info);
}

/* ---- xs:dateTime -------------------------------------------------- */

static void test_dt_format(void **state)
{
	(void)state;
	assert_format(0, "1970-01-01T00:00:00Z");
	assert_format(-1, "1969-12-31T23:59:59Z");
	assert_format(T_SPEC, "2026-11-24T10:15:00Z");
	assert_format(T_LEAP_2028, "2028-02-29T12:00:00Z");
	assert_format(T_2038, "2038-01-19T03:14:08Z");
	assert_format(T_2100, "2100-03-01T00:00:00Z");
	assert_format(T_MAX, "9999-12-31T23:59:59Z");
	assert_format(T_MIN, "0001-01-01T00:00:00Z");
}

static void test_dt_format_errors(void **state)
{
	char buf[GBA_XS_DATETIME_MAX];

	(void)state;
	assert_int_equal(gba_xs_datetime_format(NULL, 40, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_xs_datetime_format(buf, 20, 0), GBA_ERR_BUFFER_TOO_SMALL);
	assert_string_equal(buf, "");
	assert_int_equal(gba_xs_datetime_format(buf, 0, 0), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_xs_datetime_format(buf, 21, 0), GBA_OK);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	/* Outside four-digit years. */
	assert_int_equal(gba_xs_datetime_format(buf, sizeof(buf), T_MAX + 1),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_xs_datetime_format(buf, sizeof(buf), T_MIN - 1),
			 GBA_ERR_INVALID_ARG);
}

static void test_dt_parse_utc(void **state)
{
	(void)state;
	assert_dt("2026-11-24T10:15:00Z", T_SPEC);
	assert_dt("1970-01-01T00:00:00Z", 0);
	assert_dt("1969-12-31T23:59:59Z", -1);
	assert_dt("2028-02-29T12:00:00Z", T_LEAP_2028);
	assert_dt("2000-02-29T23:59:59Z", 951868799);
	assert_dt("2038-01-19T03:14:08Z", T_2038);
	assert_dt("2100-03-01T00:00:00Z", T_2100);
	assert_dt("9999-12-31T23:59:59Z", T_MAX);
	assert_dt("0001-01-01T00:00:00Z", T_MIN);
}

static void test_dt_parse_offsets(void **state)
{
	(void)state;
	assert_dt("2026-11-24T15:45:00+05:30", T_SPEC);
	assert_dt("2026-11-24T02:15:00-08:00", T_SPEC);
	assert_dt("2026-11-24T10:15:00+00:00", T_SPEC);
	assert_dt("2026-11-24T10:15:00-00:00", T_SPEC);
	assert_dt("2026-11-25T00:15:00+14:00", T_SPEC);
	assert_dt("2026-11-23T20:15:00-14:00", T_SPEC);
	/* The offset carries over the day, the month and the leap day. */
	assert_dt("2028-03-01T05:30:00+05:30", T_LEAP_2028 + 12 * 3600);
	assert_dt("2026-12-31T23:00:00-01:00", 1798761600); /* 2027-01-01Z */
	assert_dt_bad("2026-11-24T10:15:00+14:01");
	assert_dt_bad("2026-11-24T10:15:00+15:00");
	assert_dt_bad("2026-11-24T10:15:00+05:60");
	assert_dt_bad("2026-11-24T10:15:00+0530");
	assert_dt_bad("2026-11-24T10:15:00+5:30");
	assert_dt_bad("2026-11-24T10:15:00+05");
	assert_dt_bad("2026-11-24T10:15:00 +05:30");
}

static void test_dt_parse_fractions(void **state)
{
	(void)state;
	assert_dt("2026-11-24T10:15:00.5Z", T_SPEC);
	assert_dt("2026-11-24T10:15:00.999999999999Z", T_SPEC);
	assert_dt("2026-11-24T10:15:00.0Z", T_SPEC);
	assert_dt("2026-11-24T15:45:00.25+05:30", T_SPEC);
	/* Truncation rounds down before the epoch too. */
	assert_dt("1969-12-31T23:59:59.9Z", -1);
	assert_dt_bad("2026-11-24T10:15:00.Z");
	assert_dt_bad("2026-11-24T10:15:00,5Z");
	assert_dt_bad("2026-11-24T10:15:00.5");
}

static void test_dt_parse_24h_and_leap_second(void **state)
{
	(void)state;
	/* 24:00:00 is the next midnight; anything after it is not. */
	assert_dt("2026-11-23T24:00:00Z", T_SPEC - (10 * 3600 + 15 * 60));
	assert_dt("2028-02-28T24:00:00Z", T_LEAP_2028 - 12 * 3600);
	assert_dt("2026-11-23T24:00:00.000Z", T_SPEC - (10 * 3600 + 15 * 60));
	assert_dt_bad("2026-11-23T24:00:01Z");
	assert_dt_bad("2026-11-23T24:01:00Z");
	assert_dt_bad("2026-11-23T24:00:00.1Z");
	assert_dt_bad("9999-12-31T24:00:00Z"); /* would be year 10000 */
	/* Second 60 is refused (no leap seconds in XML Schema or time_t). */
	assert_dt_bad("2016-12-31T23:59:60Z");
}

static void test_dt_parse_bad(void **state)
{
	time_t t;

	(void)state;
	assert_dt_bad("2026-02-30T00:00:00Z");
	assert_dt_bad("2026-02-29T00:00:00Z");
	assert_dt_bad("2100-02-29T00:00:00Z");
	assert_dt_bad("2026-04-31T00:00:00Z");
	assert_dt_bad("2026-13-01T00:00:00Z");
	assert_dt_bad("2026-00-01T00:00:00Z");
	assert_dt_bad("2026-01-00T00:00:00Z");
	assert_dt_bad("2026-01-32T00:00:00Z");
	assert_dt_bad("2026-11-24T25:00:00Z");
	assert_dt_bad("2026-11-24T10:60:00Z");
	assert_dt_bad("2026-11-24T10:15:00");       /* no zone */
	assert_dt_bad("2026-11-24T10:15:00Zjunk");  /* trailing junk */
	assert_dt_bad("2026-11-24T10:15:00Z ");     /* the XML layer trims */
	assert_dt_bad(" 2026-11-24T10:15:00Z");
	assert_dt_bad("2026-11-24t10:15:00Z");
	assert_dt_bad("2026-11-24T10:15:00z");
	assert_dt_bad("2026-11-24 10:15:00Z");
	assert_dt_bad("2026-11-24T10:15Z");
	assert_dt_bad("26-11-24T10:15:00Z");
	assert_dt_bad("12026-11-24T10:15:00Z");     /* five-digit year */
	assert_dt_bad("-2026-11-24T10:15:00Z");
	assert_dt_bad("+2026-11-24T10:15:00Z");
	assert_dt_bad("0000-01-01T00:00:00Z");
	assert_dt_bad("2026-1-24T10:15:00Z");
	assert_dt_bad("2026-11-24T10:15:0xZ");
	assert_dt_bad("2026-11-24T10:15:00ZZ");
	assert_dt_bad("\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-11-24T10:15:00Z");
	/* Leaving the four-digit years through the offset. */
	assert_dt_bad("0001-01-01T00:00:00+00:01");
	assert_dt_bad("9999-12-31T23:59:59-00:01");
	assert_dt("0001-01-01T00:00:00-00:01", T_MIN + 60);
	/* Empty, and a NULL that comes with length 0. */
	assert_dt_bad("");
	assert_int_equal(gba_xs_datetime_parse(NULL, 0, &t), GBA_ERR_BAD_TIME);
	assert_int_equal(gba_xs_datetime_parse("2026-11-24T10:15:00Z", 20, NULL),
			 GBA_ERR_INVALID_ARG);
}

static void test_dt_parse_explicit_length(void **state)
{
	/* Not NUL-terminated: exactly the value, then bytes that must not be read. */
	const char exact[20] = { '2', '0', '2', '6', '-', '1', '1', '-', '2', '4',
				 'T', '1', '0', ':', '1', '5', ':', '0', '0', 'Z' };
	static const char nul_inside[] = "2026-11-24T10:15:00\0Z";
	static const char nul_after[] = "2026-11-24T10:15:00Z\0";
	char *heap;
	time_t t = 0;

	(void)state;
	assert_int_equal(gba_xs_datetime_parse(exact, sizeof(exact), &t), GBA_OK);
	assert_int_equal((long long)t, (long long)T_SPEC);
	/* A shorter length cuts the zone off. */
	assert_int_equal(gba_xs_datetime_parse(exact, 19, &t), GBA_ERR_BAD_TIME);
	/* Only the first 20 bytes of "...ZZZ" are the value. */
	assert_int_equal(gba_xs_datetime_parse("2026-11-24T10:15:00ZZZ", 20, &t), GBA_OK);
	assert_int_equal(gba_xs_datetime_parse(nul_inside, sizeof(nul_inside) - 1, &t),
			 GBA_ERR_BAD_TIME);
	assert_int_equal(gba_xs_datetime_parse(nul_after, sizeof(nul_after) - 1, &t),
			 GBA_ERR_BAD_TIME);
	/* On the heap, so that ASan sees any read past the end. */
	heap = malloc(sizeof(exact));
	assert_non_null(heap);
	for (size_t n = 0; n <= sizeof(exact); n++) {
		memcpy(heap, exact, n);
		assert_int_equal(gba_xs_datetime_parse(heap, n, &t),
				 n == sizeof(exact) ? GBA_OK : GBA_ERR_BAD_TIME);
	}
	free(heap);
}

/* Format then parse across the whole range, and parse then format. */
static void test_dt_round_trip(void **state)
{
	static const char *const samples[] = {
		"2028-02-29T00:00:00Z", "2028-02-29T23:59:59Z", "2038-01-19T03:14:07Z",
		"2038-01-19T03:14:08Z", "2106-02-07T06:28:16Z", "2400-02-29T12:34:56Z",
		"1900-03-01T00:00:00Z", "1600-02-29T00:00:00Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z",
	};
	char buf[GBA_XS_DATETIME_MAX];
	time_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		assert_int_equal(dt_parse(samples[i], &t), GBA_OK);
		assert_int_equal(gba_xs_datetime_format(buf, sizeof(buf), t), GBA_OK);
		assert_string_equal(buf, samples[i]);
	}
	/* A prime step hits every month, day and hour over the years. */
	for (int64_t v = (int64_t)T_MIN; v <= (int64_t)T_MAX; v += 9876543211LL / 97) {
		time_t back;

		assert_int_equal(gba_xs_datetime_format(buf, sizeof(buf), (time_t)v), GBA_OK);
		assert_int_equal(dt_parse(buf, &back), GBA_OK);
		assert_int_equal((long long)back, (long long)v);
	}
}

/* ---- building ---------------------------------------------------- */

static void test_build_exact(void **state)
{
	static const char btid[] = "ZGVmYXVsdHJhbmRvbTEyMw==@bsf.mnc001.mcc001.pub.3gppnetwork.org";
	static const char want[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
		"  <btid>ZGVmYXVsdHJhbmRvbTEyMw==@bsf.mnc001.mcc001.pub.3gppnetwork.org</btid>\n"
		"  <lifetime>2026-11-24T10:15:00Z</lifetime>\n"
		"</BootstrappingInfo>\n";
	char buf[1024];
	size_t len = 0;

	(void)state;
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, btid, strlen(btid),
					 T_SPEC), GBA_OK);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	/* out_len is optional. */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), NULL, SPEC_BTID,
					 strlen(SPEC_BTID), T_SPEC), GBA_OK);
	assert_string_equal(buf, spec_doc);
}

static void test_build_too_small(void **state)
{
	char buf[512];
	size_t need = strlen(spec_doc);

	(void)state;
	for (size_t size = 0; size <= need; size++) {
		size_t len = 777;

		memset(buf, 'x', sizeof(buf));
		assert_int_equal(gba_ubxml_build(buf, size, &len, SPEC_BTID,
						 strlen(SPEC_BTID), T_SPEC),
				 GBA_ERR_BUFFER_TOO_SMALL);
		assert_int_equal(len, 777);
		if (size > 0)
			assert_int_equal(buf[0], '\0');
		assert_int_equal(buf[size], 'x'); /* nothing written past out_size */
	}
	assert_int_equal(gba_ubxml_build(buf, need + 1, NULL, SPEC_BTID,
					 strlen(SPEC_BTID), T_SPEC), GBA_OK);
	assert_string_equal(buf, spec_doc);
}

static void test_build_escaping(void **state)
{
	static const char btid[] = "a&b<c>d\"e'f@bsf.example.org";
	static const char want[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
		"  <btid>a&amp;b&lt;c&gt;d&quot;e&apos;f@bsf.example.org</btid>\n"
		"  <lifetime>2028-02-29T12:00:00Z</lifetime>\n"
		"</BootstrappingInfo>\n";
	struct gba_bootstrapping_info info;
	char buf[1024];
	size_t len;

	(void)state;
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, btid, strlen(btid),
					 T_LEAP_2028), GBA_OK);
	assert_string_equal(buf, want);
	/* Exactly enough room for the longer, escaped form. */
	assert_int_equal(gba_ubxml_build(buf, strlen(want), &len, btid, strlen(btid),
					 T_LEAP_2028), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_ubxml_build(buf, strlen(want) + 1, &len, btid,
					 strlen(btid), T_LEAP_2028), GBA_OK);
	assert_int_equal(gba_ubxml_parse(buf, len, &info), GBA_OK);
	assert_string_equal(info.btid, btid);
	assert_int_equal((long long)info.lifetime, (long long)T_LEAP_2028);
}

static void test_build_bad_input(void **state)
{
	char btid[GBA_BTID_MAX + 2];
	char buf[2048];
	size_t len;

	(void)state;
	assert_int_equal(gba_ubxml_build(NULL, 10, &len, "x", 1, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, NULL, 1, 0),
			 GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "", 0, 0),
			 GBA_ERR_BAD_LENGTH);
	memset(btid, 'A', sizeof(btid));
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, btid, GBA_BTID_MAX + 1, 0),
			 GBA_ERR_BAD_LENGTH);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, btid, GBA_BTID_MAX, 0),
			 GBA_OK);
	/* What the parser could not give back. */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\nb", 3, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\0b", 3, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\x7f", 2, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xc2\x85", 3, 0),
			 GBA_ERR_BAD_ENCODING); /* C1 NEL */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xff", 2, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xc0\xaf", 3, 0),
			 GBA_ERR_BAD_ENCODING); /* overlong */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xed\xa0\x80", 4, 0),
			 GBA_ERR_BAD_ENCODING); /* surrogate */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xef\xbf\xbe", 4, 0),
			 GBA_ERR_BAD_ENCODING); /* U+FFFE */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a\xe2\x82", 3, 0),
			 GBA_ERR_BAD_ENCODING); /* truncated */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, " a", 2, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a ", 2, 0),
			 GBA_ERR_BAD_ENCODING);
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a b", 3, 0), GBA_OK);
	/* Lifetime outside four-digit years. */
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, "a", 1, T_MAX + 1),
			 GBA_ERR_INVALID_ARG);
}

static void test_build_utf8_round_trip(void **state)
{
	static const char btid[] = "caf\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91@bsf.example";
	struct gba_bootstrapping_info info;
	char buf[1024];
	size_t len;

	(void)state;
	assert_int_equal(gba_ubxml_build(buf, sizeof(buf), &len, btid, strlen(btid), T_MAX),
			 GBA_OK);
	assert_int_equal(gba_ubxml_parse(buf, len, &info), GBA_OK);
	assert_string_equal(info.btid, btid);
	assert_int_equal((long long)info.lifetime, (long long)T_MAX);
}

/* ---- parsing ----------------------------------------------------- */

static void assert_parses(const char *doc, const char *btid, time_t lifetime)
{
	struct gba_bootstrapping_info info;

	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(ub_parse(doc, &info), GBA_OK);
	assert_string_equal(info.btid, btid);
	assert_int_equal((long long)info.lifetime, (long long)lifetime);
}

static void assert_refused(const char *doc, gba_err want)
{
	struct gba_bootstrapping_info info, before;

	memset(&info, 0x5a, sizeof(info));
	before = info;
	assert_int_equal(ub_parse(doc, &info), want);
	/* Nothing half-filled on failure. */
	assert_memory_equal(&info, &before, sizeof(info));
}

static void test_parse_spec_example(void **state)
{
	(void)state;
	assert_parses(spec_doc, SPEC_BTID, T_SPEC);
}

static void test_parse_lenient(void **state)
{
	(void)state;
	/* Extension, unknown attributes, other namespaces: ignored. */
	assert_parses("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<BootstrappingInfo xmlns=\"uri:3gpp-gba\" version=\"2\""
		      " xmlns:x=\"urn:example\" x:flag=\"1\">\n"
		      "  <btid a=\"b\">B-TID</btid>\n"
		      "  <lifetime x:zone=\"utc\">2026-11-24T10:15:00Z</lifetime>\n"
		      "  <Extension><btid>other</btid><anything/></Extension>\n"
		      "  <x:btid>other</x:btid>\n"
		      "</BootstrappingInfo>\n", SPEC_BTID, T_SPEC);
	/* A prefix instead of the default namespace. */
	assert_parses("<g:BootstrappingInfo xmlns:g=\"uri:3gpp-gba\">"
		      "<g:btid>B-TID</g:btid>"
		      "<g:lifetime>2026-11-24T10:15:00Z</g:lifetime>"
		      "</g:BootstrappingInfo>", SPEC_BTID, T_SPEC);
	/* Other order, whitespace, an offset, CDATA, comments, references. */
	assert_parses("<BootstrappingInfo xmlns='uri:3gpp-gba'>"
		      "<lifetime>\n\t 2026-11-24T15:45:00.123+05:30 \r\n</lifetime>"
		      "<btid>\n  <!-- c --><![CDATA[a&b]]>&lt;&#x41;<?pi x?>&#66;  \n</btid>"
		      "</BootstrappingInfo>", "a&b<AB", T_SPEC);
	/* No XML declaration; a UTF-8 byte order mark. */
	assert_parses("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		      "<lifetime>2028-02-29T12:00:00Z</lifetime></BootstrappingInfo>",
		      "x", T_LEAP_2028);
	assert_parses("\xef\xbb\xbf<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		      "<lifetime>2038-01-19T03:14:08Z</lifetime></BootstrappingInfo>",
		      "x", T_2038);
	/* An ASCII-only document that claims Latin-1 reads the same as UTF-8. */
	assert_parses("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		      "<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		      "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		      "x", T_SPEC);
}

static void test_parse_structure_errors(void **state)
{
	(void)state;
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gbaX\"><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<Bootstrapping xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></Bootstrapping>",
		       GBA_ERR_PARSE);
	/* Children outside the namespace do not count. */
	assert_refused("<g:BootstrappingInfo xmlns:g=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<g:lifetime>2026-11-24T10:15:00Z</g:lifetime></g:BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\">"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "</BootstrappingInfo>", GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<btid>y</btid><lifetime>2026-11-24T10:15:00Z</lifetime>"
		       "</BootstrappingInfo>", GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid><x/></btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	/* The root wrapped in another element. */
	assert_refused("<w xmlns=\"uri:3gpp-gba\">" "<BootstrappingInfo><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo></w>",
		       GBA_ERR_PARSE);
}

static void test_parse_value_errors(void **state)
{
	char doc[1024];

	(void)state;
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid></btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid/>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid> \n\t</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>a&#9;b</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>a&#x85;b</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	/* GBA_BTID_MAX octets are fine, one more is not. */
	for (int extra = 0; extra <= 1; extra++) {
		char btid[GBA_BTID_MAX + 2];

		memset(btid, 'B', GBA_BTID_MAX + extra);
		btid[GBA_BTID_MAX + extra] = '\0';
		snprintf(doc, sizeof(doc),
			 "<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid> %s </btid>"
			 "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
			 btid);
		if (extra == 0)
			assert_parses(doc, btid, T_SPEC);
		else
			assert_refused(doc, GBA_ERR_PARSE);
	}
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime>2026-02-30T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_BAD_TIME);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00</lifetime></BootstrappingInfo>",
		       GBA_ERR_BAD_TIME);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime></lifetime></BootstrappingInfo>", GBA_ERR_BAD_TIME);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		       "<lifetime>2026-11-24T10:<!-- -->15:00Z<x/></lifetime>"
		       "</BootstrappingInfo>", GBA_ERR_PARSE);
}

static const char billion_laughs[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE BootstrappingInfo [\n"
	" <!ENTITY lol \"lol\">\n"
	" <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	"]>\n"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
	"  <btid>&lol9;</btid>\n"
	"  <lifetime>2026-11-24T10:15:00Z</lifetime>\n"
	"</BootstrappingInfo>\n";

static const char xxe[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE BootstrappingInfo [\n"
	" <!ENTITY x SYSTEM \"file:///etc/hostname\">\n"
	"]>\n"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
	"  <btid>&x;</btid>\n"
	"  <lifetime>2026-11-24T10:15:00Z</lifetime>\n"
	"</BootstrappingInfo>\n";

static const char external_dtd[] =
	"<!DOCTYPE BootstrappingInfo SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
	"<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>";

static const char harmless_doctype[] =
	"<!DOCTYPE BootstrappingInfo>\n"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
	"<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>";

static const char undeclared_entity[] =
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>&x;</btid>"
	"<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>";

static void test_parse_doctype_refused(void **state)
{
	(void)state;
	assert_refused(billion_laughs, GBA_ERR_PARSE);
	assert_refused(xxe, GBA_ERR_PARSE);
	assert_refused(external_dtd, GBA_ERR_PARSE);
	assert_refused(harmless_doctype, GBA_ERR_PARSE);
	assert_refused(undeclared_entity, GBA_ERR_PARSE);
}

static void test_parse_truncated(void **state)
{
	struct gba_bootstrapping_info info;
	size_t len = strlen(spec_doc);

	(void)state;
	/* Every proper prefix, except the one that only drops the final newline. */
	for (size_t n = 0; n < len - 1; n++) {
		char *heap = malloc(n + 1);

		assert_non_null(heap);
		memcpy(heap, spec_doc, n);
		assert_int_not_equal(gba_ubxml_parse(heap, n, &info), GBA_OK);
		free(heap);
	}
	assert_int_equal(gba_ubxml_parse(spec_doc, len - 1, &info), GBA_OK);
}

static void test_parse_bad_bytes(void **state)
{
	static const char nul_inside[] =
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x\0y</btid>"
		"<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>";
	static const char nul_after[] =
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		"<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>\0";
	static const char utf16[] =
		"\xff\xfe<\0B\0/\0>\0";
	struct gba_bootstrapping_info info;

	(void)state;
	assert_int_equal(gba_ubxml_parse(nul_inside, sizeof(nul_inside) - 1, &info),
			 GBA_ERR_PARSE);
	assert_int_equal(gba_ubxml_parse(nul_after, sizeof(nul_after) - 1, &info),
			 GBA_ERR_PARSE);
	assert_int_equal(gba_ubxml_parse(utf16, sizeof(utf16) - 1, &info), GBA_ERR_PARSE);
	/* Invalid UTF-8 in a value, in a name, and Latin-1 that claims so. */
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x\xff</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x\xc3</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><b\xe9>x</b\xe9><btid>x</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		       "<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>caf\xe9</btid>"
		       "<lifetime>2026-11-24T10:15:00Z</lifetime></BootstrappingInfo>",
		       GBA_ERR_PARSE);
	assert_refused("", GBA_ERR_PARSE);
	assert_refused("not xml", GBA_ERR_PARSE);
	assert_int_equal(gba_ubxml_parse(NULL, 0, &info), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_ubxml_parse(spec_doc, strlen(spec_doc), NULL),
			 GBA_ERR_INVALID_ARG);
}

/* A valid document padded with a comment to exactly len bytes. */
static char *padded_doc(size_t len)
{
	static const char head[] =
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x</btid>"
		"<lifetime>2026-11-24T10:15:00Z</lifetime><!--";
	static const char tail[] = "--></BootstrappingInfo>";
	char *doc = malloc(len);

	assert_non_null(doc);
	memset(doc, 'p', len);
	memcpy(doc, head, strlen(head));
	memcpy(doc + len - strlen(tail), tail, strlen(tail));
	return doc;
}

static void test_parse_size_limit(void **state)
{
	struct gba_bootstrapping_info info;
	char *doc;

	(void)state;
	doc = padded_doc(GBA_UBXML_MAX);
	assert_int_equal(gba_ubxml_parse(doc, GBA_UBXML_MAX, &info), GBA_OK);
	assert_string_equal(info.btid, "x");
	free(doc);
	doc = padded_doc(GBA_UBXML_MAX + 1);
	assert_int_equal(gba_ubxml_parse(doc, GBA_UBXML_MAX + 1, &info),
			 GBA_ERR_TOO_LARGE);
	free(doc);
}

/*
 * libxml2 must not print anything, whatever the input: fd 2 goes to a
 * file while the nastiest inputs are parsed, and the file stays empty.
 */
static void test_parse_is_silent(void **state)
{
	static const char *const docs[] = {
		billion_laughs, xxe, external_dtd, harmless_doctype, undeclared_entity,
		"<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>x\xff</btid>",
		"<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><a>\x1b$B\xff\xff</a>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>x</a>",
		"<?xml version=\"1.0\" encoding=\"no-such-charset\"?><a>x</a>",
		"<a xmlns:p=\"\"><p:b/></a>",
		"<a xmlns=\"relative/uri\"/>",
		"<a><b></a>",
		"<a>&#0;</a>",
		"<a x='1' x='2'/>",
	};
	struct gba_bootstrapping_info info;
	FILE *sink = tmpfile();
	struct stat st;
	int saved;

	(void)state;
	assert_non_null(sink);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(sink), 2) >= 0);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		(void)ub_parse(docs[i], &info);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	assert_int_equal(fstat(fileno(sink), &st), 0);
	assert_int_equal(st.st_size, 0);
	fclose(sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dt_format),
		cmocka_unit_test(test_dt_format_errors),
		cmocka_unit_test(test_dt_parse_utc),
		cmocka_unit_test(test_dt_parse_offsets),
		cmocka_unit_test(test_dt_parse_fractions),
		cmocka_unit_test(test_dt_parse_24h_and_leap_second),
		cmocka_unit_test(test_dt_parse_bad),
		cmocka_unit_test(test_dt_parse_explicit_length),
		cmocka_unit_test(test_dt_round_trip),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_too_small),
		cmocka_unit_test(test_build_escaping),
		cmocka_unit_test(test_build_bad_input),
		cmocka_unit_test(test_build_utf8_round_trip),
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_parse_lenient),
		cmocka_unit_test(test_parse_structure_errors),
		cmocka_unit_test(test_parse_value_errors),
		cmocka_unit_test(test_parse_doctype_refused),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_bad_bytes),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_is_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
