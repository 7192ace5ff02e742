/*
 * xsdatetime.c - xs:dateTime (XML Schema Part 2, 3.2.7) for the Ub
 * lifetime, restricted to what a key lifetime needs.
 *
 * Choices, applied the same way when printing and when parsing, so that
 * every value we accept can be printed again and read back unchanged:
 *
 * - Years have exactly four digits, 0001 to 9999, and the resulting
 *   instant must lie between 0001-01-01T00:00:00Z and
 *   9999-12-31T23:59:59Z.  XML Schema also allows longer and negative
 *   years; no key lives that long, and refusing them keeps the printer
 *   to a fixed width.
 * - Second 60 is refused: XML Schema has no leap seconds and neither has
 *   time_t, so "23:59:60Z" could only be guessed at.
 * - 24:00:00 (with zero minutes, seconds and fraction) is accepted, as
 *   XML Schema allows, and means 00:00:00 of the next day.
 * - The zone is mandatory: Z, or +hh:mm / -hh:mm up to 14:00.  A value
 *   without one names no single instant.
 * - Fractions have at least one digit and are dropped (time_t has whole
 *   seconds), which rounds the instant down.
 *
 * The arithmetic is our own (days from the proleptic Gregorian civil
 * date), so parsing depends on neither the locale nor TZ; printing uses
 * gmtime_r(), which depends on neither either.  The two directions are
 * then independent implementations, which the tests and the fuzzer
 * compare.
 */
/* gmtime_r() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <gba/ubxml.h>

#define SECS_PER_DAY 86400

/* Length of "YYYY-MM-DDThh:mm:ssZ". */
#define XS_UTC_LEN 20

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
 * Years are counted from March so that the leap day is the last day of
 * its "year", which turns the month lengths into one formula.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                       /* [0, 399] */
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* First and last second that a four-digit year can express in UTC. */
static int64_t xs_min_time(void)
{
	return days_from_civil(1, 1, 1) * SECS_PER_DAY;
}

static int64_t xs_max_time(void)
{
	return days_from_civil(9999, 12, 31) * SECS_PER_DAY + SECS_PER_DAY - 1;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Writes the n low decimal digits of v, most significant first. */
static void put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

gba_err gba_xs_datetime_format(char *out, size_t out_size, time_t t)
{
	struct tm tm;

	if (out == NULL)
		return GBA_ERR_INVALID_ARG;
	if (out_size > 0)
		out[0] = '\0';
	/* Compare as int64_t: on a 32-bit time_t the bounds do not fit. */
	if ((int64_t)t < xs_min_time() || (int64_t)t > xs_max_time())
		return GBA_ERR_INVALID_ARG;
	if (out_size < XS_UTC_LEN + 1)
		return GBA_ERR_BUFFER_TOO_SMALL;
	if (gmtime_r(&t, &tm) == NULL)
		return GBA_ERR_INVALID_ARG;

	/* Fixed layout; plain digits so that no locale can get in the way. */
	memcpy(out, "0000-00-00T00:00:00Z", XS_UTC_LEN + 1);
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 5, tm.tm_mon + 1, 2);
	put_digits(out + 8, tm.tm_mday, 2);
	put_digits(out + 11, tm.tm_hour, 2);
	put_digits(out + 14, tm.tm_min, 2);
	put_digits(out + 17, tm.tm_sec, 2);
	return GBA_OK;
}

/* A cursor over the input: it never reads at or past end. */
struct scan {
	const char *p;
	const char *end;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n ASCII digits.  Returns 0 when they are not there. */
static int scan_digits(struct scan *s, int n, int *v)
{
	int r = 0;

	if (s->end - s->p < n)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s->p[i]))
			return 0;
		r = r * 10 + (s->p[i] - '0');
	}
	s->p += n;
	*v = r;
	return 1;
}

static int scan_char(struct scan *s, char c)
{
	if (s->p == s->end || *s->p != c)
		return 0;
	s->p++;
	return 1;
}

/*
 * Optional ".fff": at least one digit when the dot is there.  *nonzero
 * says whether any digit was not 0 (for the 24:00:00 rule).
 */
static int scan_fraction(struct scan *s, int *nonzero)
{
	*nonzero = 0;
	if (!scan_char(s, '.'))
		return 1;
	if (s->p == s->end || !is_digit(*s->p))
		return 0;
	while (s->p < s->end && is_digit(*s->p)) {
		if (*s->p != '0')
			*nonzero = 1;
		s->p++;
	}
	return 1;
}

/* "Z" or (+|-)hh:mm up to 14:00, the last thing in the input. */
static int scan_zone(struct scan *s, int *offset_secs)
{
	int sign, hh, mm;

	if (scan_char(s, 'Z')) {
		*offset_secs = 0;
		return s->p == s->end;
	}
	if (scan_char(s, '+'))
		sign = 1;
	else if (scan_char(s, '-'))
		sign = -1;
	else
		return 0;
	if (!scan_digits(s, 2, &hh) || !scan_char(s, ':') ||
	    !scan_digits(s, 2, &mm) || s->p != s->end)
		return 0;
	if (mm > 59 || hh > 14 || (hh == 14 && mm != 0))
		return 0;
	*offset_secs = sign * (hh * 3600 + mm * 60);
	return 1;
}

gba_err gba_xs_datetime_parse(const char *str, size_t len, time_t *t)
{
	struct scan s;
	int year, mon, day, hour, min, sec, frac_nonzero, offset;
	int64_t v;

	if ((str == NULL && len > 0) || t == NULL)
		return GBA_ERR_INVALID_ARG;
	if (len == 0)
		return GBA_ERR_BAD_TIME;

	s.p = str;
	s.end = str + len;
	if (!scan_digits(&s, 4, &year) || !scan_char(&s, '-') ||
	    !scan_digits(&s, 2, &mon) || !scan_char(&s, '-') ||
	    !scan_digits(&s, 2, &day) || !scan_char(&s, 'T') ||
	    !scan_digits(&s, 2, &hour) || !scan_char(&s, ':') ||
	    !scan_digits(&s, 2, &min) || !scan_char(&s, ':') ||
	    !scan_digits(&s, 2, &sec) || !scan_fraction(&s, &frac_nonzero) ||
	    !scan_zone(&s, &offset))
		return GBA_ERR_BAD_TIME;

	if (year < 1 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || min > 59 || sec > 59)
		return GBA_ERR_BAD_TIME;
	if (hour > 24 || (hour == 24 && (min || sec || frac_nonzero)))
		return GBA_ERR_BAD_TIME;

	/* hour 24 needs no special case: 24 * 3600 is the next midnight. */
	v = days_from_civil(year, mon, day) * SECS_PER_DAY +
	    hour * 3600 + min * 60 + sec - offset;
	if (v < xs_min_time() || v > xs_max_time())
		return GBA_ERR_BAD_TIME;
	/* A 32-bit time_t cannot hold every year we accept. */
	if ((int64_t)(time_t)v != v)
		return GBA_ERR_BAD_TIME;
	*t = (time_t)v;
	return GBA_OK;
}
