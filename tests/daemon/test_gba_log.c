/*
 * test_gba_log.c - the daemons' log line (lib/daemon/gba_log.c) against
 * expected text: the journal, terminal and plain forms, control characters,
 * a long text cut to one line, the levels' names and priorities, the form
 * chosen from $JOURNAL_STREAM and the descriptor, the IMPI modes, and one
 * write(2) per line.  Runs with TZ=UTC (meson.build): the terminal form
 * shows local time.
 */
#define _GNU_SOURCE /* pipe2, setenv */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gba_log.h"

/* 2026-12-05 02:49:40.123456789 UTC */
static const struct timespec when = { 1796438980, 123456789 };

static char *line_of(const struct gba_log *log, enum gba_log_level level, const char *text)
{
	static char out[GBA_LOG_LINE_MAX + 1];
	size_t n = gba_log_format(out, log, level, &when, text);

	assert_true(n <= GBA_LOG_LINE_MAX);
	out[n] = '\0';
	return out;
}

static void test_forms(void **state)
{
	struct gba_log log = { "gba-bsf", GBA_LOG_DEBUG, GBA_LOG_IMPI_PLAIN, GBA_LOG_PLAIN, 2 };

	(void)state;
	assert_string_equal(line_of(&log, GBA_LOG_INFO, "Ub on 127.0.0.1:8080"),
			    "gba-bsf: info: Ub on 127.0.0.1:8080\n");
	log.form = GBA_LOG_TERMINAL;
	assert_string_equal(line_of(&log, GBA_LOG_WARN, "slow"),
			    "2026-12-05 02:49:40.123 gba-bsf: warn: slow\n");
	log.form = GBA_LOG_JOURNAL;
	assert_string_equal(line_of(&log, GBA_LOG_DEBUG, "a"), "<7>debug: a\n");
	assert_string_equal(line_of(&log, GBA_LOG_INFO, "b"), "<6>info: b\n");
	assert_string_equal(line_of(&log, GBA_LOG_WARN, "c"), "<4>warn: c\n");
	assert_string_equal(line_of(&log, GBA_LOG_ERROR, "d"), "<3>error: d\n");
}

/* A peer's CR LF, ESC or DEL cannot start a line of its own; UTF-8 stays. */
static void test_control_characters(void **state)
{
	struct gba_log log = { "gba-naf", GBA_LOG_DEBUG, GBA_LOG_IMPI_PLAIN, GBA_LOG_PLAIN, 2 };

	(void)state;
	assert_string_equal(line_of(&log, GBA_LOG_INFO, "B-TID x\r\n<3>error: forged\x1b\x7f\xc3\xa9"),
			    "gba-naf: info: B-TID x?" "?<3>error: forged?" "?\xc3\xa9\n");
}

static void test_long_text_is_one_line(void **state)
{
	struct gba_log log = { "gba-hss-sim", GBA_LOG_DEBUG, GBA_LOG_IMPI_PLAIN,
			       GBA_LOG_TERMINAL, 2 };
	char text[3000];
	char *line;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	line = line_of(&log, GBA_LOG_ERROR, text);
	assert_int_equal(strlen(line), strlen("2026-12-05 02:49:40.123 gba-hss-sim: error: ") +
			 GBA_LOG_TEXT_MAX + 1);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
}

static void test_levels(void **state)
{
	enum gba_log_level l = GBA_LOG_OFF;
	struct gba_log log = { "p", GBA_LOG_WARN, GBA_LOG_IMPI_PLAIN, GBA_LOG_PLAIN, 2 };

	(void)state;
	assert_int_equal(gba_log_level_parse("debug", &l), 0);
	assert_int_equal(l, GBA_LOG_DEBUG);
	assert_int_equal(gba_log_level_parse("error", &l), 0);
	assert_int_equal(l, GBA_LOG_ERROR);
	assert_int_equal(gba_log_level_parse("off", &l), -1);
	assert_int_equal(gba_log_level_parse("INFO", &l), -1);
	assert_int_equal(gba_log_level_parse("", &l), -1);
	assert_string_equal(gba_log_level_name(GBA_LOG_WARN), "warn");
	assert_false(gba_log_enabled(&log, GBA_LOG_INFO));
	assert_true(gba_log_enabled(&log, GBA_LOG_WARN));
	log.level = GBA_LOG_OFF;
	assert_false(gba_log_enabled(&log, GBA_LOG_ERROR));
}

static void set_stream(const struct stat *st, long long ino_delta)
{
	char v[64];

	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino + (unsigned long long)ino_delta);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* journald's stream only when the descriptor is that very stream. */
static void test_form_of(void **state)
{
	int p[2];
	struct stat st;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fstat(p[1], &st), 0);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(gba_log_form_of(p[1]), GBA_LOG_PLAIN);
	set_stream(&st, 0);
	assert_int_equal(gba_log_form_of(p[1]), GBA_LOG_JOURNAL);
	set_stream(&st, 1);   /* inherited, but stderr went elsewhere */
	assert_int_equal(gba_log_form_of(p[1]), GBA_LOG_PLAIN);
	assert_int_equal(setenv("JOURNAL_STREAM", "12", 1), 0);
	assert_int_equal(gba_log_form_of(p[1]), GBA_LOG_PLAIN);
	assert_int_equal(setenv("JOURNAL_STREAM", "x:y", 1), 0);
	assert_int_equal(gba_log_form_of(p[1]), GBA_LOG_PLAIN);
	unsetenv("JOURNAL_STREAM");
	close(p[0]);
	close(p[1]);
}

/* gba_log_msg: the level filter, and the whole line in one read of a pipe. */
static void test_msg_one_write(void **state)
{
	struct gba_log log = { "gba-usim-sim", GBA_LOG_INFO, GBA_LOG_IMPI_PLAIN,
			       GBA_LOG_JOURNAL, -1 };
	char buf[256];
	ssize_t n;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	log.fd = p[1];
	gba_log_msg(&log, GBA_LOG_DEBUG, "dropped %d", 1);
	gba_log_msg(&log, GBA_LOG_WARN, "card %s", "removed");
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "<4>warn: card removed\n");
	close(p[0]);
	close(p[1]);
}

static void test_impi_modes(void **state)
{
	struct gba_log log = { "gba-bsf", GBA_LOG_INFO, GBA_LOG_IMPI_PLAIN, GBA_LOG_PLAIN, 2 };
	char out[GBA_LOG_IMPI_TEXT_MAX + 1];
	const char impi[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";

	(void)state;
	assert_string_equal(gba_log_impi(&log, out, "a b\n", 4), "a?b?");
	log.impi_mode = GBA_LOG_IMPI_HIDE;
	assert_string_equal(gba_log_impi(&log, out, impi, strlen(impi)), "-");
	/* The first 8 octets of SHA-256 over the IMPI (sha256sum of the string). */
	log.impi_mode = GBA_LOG_IMPI_HASH;
	assert_string_equal(gba_log_impi(&log, out, "abc", 3), "sha256:ba7816bf8f01cfea");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_long_text_is_one_line),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_form_of),
		cmocka_unit_test(test_msg_one_write),
		cmocka_unit_test(test_impi_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
