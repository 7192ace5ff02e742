/*
 * test_prom.c - lib/prom's Prometheus text writer against expected output:
 * HELP and TYPE lines, label values with backslash, quote and line feed
 * escaped, other control and non-ASCII bytes replaced, floats, overflow.
 * With --print, prints the page with the tricky label values instead
 * (tests/unit/prom_roundtrip.py reads it back with prometheus_client).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <gba/version.h>

#include "gba_prom.h"

/* The label values the round trip checks: what a peer's identity or a
 * cause name could hold at worst. */
static const char *const tricky[] = {
	"plain", "back\\slash", "quo\"te", "line\nfeed", "\\\"\n", "", "tab\there", "caf\xc3\xa9",
};

static void write_tricky(struct gba_prom *p)
{
	char idx[8];

	gba_prom_family(p, "t_labels_total", "counter", "Help with a \\ and a\nline feed \"q\".");
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		gba_prom_sample(p, "t_labels_total", GBA_PROM_LABELS({ "i", idx }, { "v", tricky[i] }),
				i);
	}
}

static const char expected[] =
	"# HELP t_labels_total Help with a \\\\ and a\\nline feed \"q\".\n"
	"# TYPE t_labels_total counter\n"
	"t_labels_total{i=\"0\",v=\"plain\"} 0\n"
	"t_labels_total{i=\"1\",v=\"back\\\\slash\"} 1\n"
	"t_labels_total{i=\"2\",v=\"quo\\\"te\"} 2\n"
	"t_labels_total{i=\"3\",v=\"line\\nfeed\"} 3\n"
	"t_labels_total{i=\"4\",v=\"\\\\\\\"\\n\"} 4\n"
	"t_labels_total{i=\"5\",v=\"\"} 5\n"
	"t_labels_total{i=\"6\",v=\"tab?here\"} 6\n"
	"t_labels_total{i=\"7\",v=\"caf??\"} 7\n"
	"# HELP t_up Up.\n"
	"# TYPE t_up gauge\n"
	"t_up 1\n"
	"# HELP t_seconds_total Seconds.\n"
	"# TYPE t_seconds_total counter\n"
	"t_seconds_total 1.25\n"
	"t_seconds_total{x=\"inf\"} +Inf\n"
	"t_seconds_total{x=\"big\"} 18446744073709551615\n";

static void test_expected_output(void **state)
{
	char buf[2048];
	struct gba_prom p;

	(void)state;
	gba_prom_init(&p, buf, sizeof(buf));
	write_tricky(&p);
	gba_prom_gauge(&p, "t_up", "Up.", 1);
	gba_prom_family(&p, "t_seconds_total", "counter", "Seconds.");
	gba_prom_sample_f(&p, "t_seconds_total", GBA_PROM_NO_LABELS, 1.25);
	gba_prom_sample_f(&p, "t_seconds_total", GBA_PROM_LABELS({ "x", "inf" }), 1.0 / 0.0);
	gba_prom_sample(&p, "t_seconds_total", GBA_PROM_LABELS({ "x", "big" }), UINT64_MAX);
	assert_string_equal(buf, expected);
	assert_int_equal(gba_prom_end(&p), strlen(expected));
}

static void test_build_info(void **state)
{
	char buf[512], want[512];
	struct gba_prom p;

	(void)state;
	gba_prom_init(&p, buf, sizeof(buf));
	gba_prom_build_info(&p, "gba-test");
	snprintf(want, sizeof(want),
		 "# HELP gba_build_info Always 1: the program, its version and the libgba it "
		 "runs with.\n# TYPE gba_build_info gauge\n"
		 "gba_build_info{program=\"gba-test\",version=\"%s\",libgba=\"%s\"} 1\n",
		 GBA_VERSION, gba_version());
	assert_string_equal(buf, want);
}

/* Every size short of the whole page: 0 from gba_prom_end, never a
 * write past the buffer, and what is there stays a C string. */
static void test_overflow(void **state)
{
	char buf[sizeof(expected) + 8];
	struct gba_prom p;

	(void)state;
	for (size_t size = 0; size < 200; size++) {
		memset(buf, 'X', sizeof(buf));
		gba_prom_init(&p, buf, size);
		write_tricky(&p);
		assert_int_equal(gba_prom_end(&p), 0);
		assert_int_equal(buf[size], 'X');
		if (size)
			assert_true(strlen(buf) < size);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_output),
		cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_overflow),
	};

	if (argc > 1 && !strcmp(argv[1], "--print")) {
		char buf[2048];
		struct gba_prom p;

		gba_prom_init(&p, buf, sizeof(buf));
		write_tricky(&p);
		fputs(buf, stdout);
		return gba_prom_end(&p) ? 0 : 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
