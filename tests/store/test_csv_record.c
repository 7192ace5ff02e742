/*
 * test_csv_record.c - the RFC 4180 record reader of the subscriber import
 * (lib/store/src/csv_record.c) on the cases a SIM vendor's file brings:
 * quotes, "" escapes, commas and line ends inside quotes, CRLF, lone CR,
 * comments, blank lines, and each malformed case with its error.
 */
#define _POSIX_C_SOURCE 200809L   /* fmemopen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "csv_record.h"

struct reader {
	FILE *f;
	char buf[128];
	char *field[8];
	struct csv_record r;
};

static void open_text(struct reader *rd, const char *text)
{
	rd->f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(rd->f);
	rd->r = (struct csv_record){ rd->buf, sizeof(rd->buf), rd->field, 8, 0, 1, 1 };
}

static void expect(struct reader *rd, size_t line, int n, const char *const *want)
{
	assert_int_equal(csv_record_read(rd->f, &rd->r), GBA_OK);
	assert_int_equal(rd->r.line, line);
	assert_int_equal(rd->r.n, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(rd->r.field[i], want[i]);
}

static void test_records(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"a, b ,c\r\n"
		"\"x,y\",\"say \"\"hi\"\"\" , \"two\nlines\"\n"
		"   # indented comment\n"
		"last,\r"
		"\"\",end";
	static const char *const r1[] = { "a", "b", "c" };
	static const char *const r2[] = { "x,y", "say \"hi\"", "two\nlines" };
	static const char *const r3[] = { "last", "" };
	static const char *const r4[] = { "", "end" };
	struct reader rd;

	(void)state;
	open_text(&rd, text);
	expect(&rd, 3, 3, r1);
	expect(&rd, 4, 3, r2);
	expect(&rd, 7, 2, r3);
	expect(&rd, 8, 2, r4);
	assert_int_equal(csv_record_read(rd.f, &rd.r), GBA_ERR_NOT_FOUND);
	fclose(rd.f);
}

static void test_bad(void **state)
{
	static const struct {
		const char *text;
		size_t len;   /* 0: strlen(text) */
		gba_err err;
	} cases[] = {
		{ "ab\"c,d\n", 0, GBA_ERR_PARSE },            /* a quote inside an unquoted field */
		{ "\"ab\"c,d\n", 0, GBA_ERR_PARSE },          /* text after the closing quote */
		{ "\"never closed,d\n", 0, GBA_ERR_PARSE },
		{ "a,b,c,d,e,f,g,h,i\n", 0, GBA_ERR_TOO_LARGE },   /* 9 fields, 8 allowed */
		{ "a\0b\n", 4, GBA_ERR_BAD_ENCODING },
		/* A NUL in a comment line: refused too (found by fuzz_csv). */
		{ "# a\0b\nx,y\n", 10, GBA_ERR_BAD_ENCODING },
	};
	struct reader rd;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		rd.f = fmemopen((void *)cases[i].text, len, "r");
		assert_non_null(rd.f);
		rd.r = (struct csv_record){ rd.buf, sizeof(rd.buf), rd.field, 8, 0, 1, 1 };
		assert_int_equal(csv_record_read(rd.f, &rd.r), cases[i].err);
		fclose(rd.f);
	}
	/* a record longer than the buffer */
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		open_text(&rd, big);
		assert_int_equal(csv_record_read(rd.f, &rd.r), GBA_ERR_TOO_LARGE);
		fclose(rd.f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
