/*
 * gba_conf_value.c - the typed values of the shared reader: one setter per
 * kind of value, with gba-bsf's strict checks (digits only, no sign, no
 * overflow, ranges), the defaults, and the printing for --help and --check.
 */
#define _DEFAULT_SOURCE /* strcasecmp */

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gba/util.h>

#include "conf_internal.h"

/* Values shown in messages are cut to this many characters. */
#define SHOWN_MAX 64

int gba_conf_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void conf_key_name(char *out, size_t size, const char *section, const char *key)
{
	snprintf(out, size, "%s%s%.*s%s", section, *section ? "." : "", CONF_NAME_SHOWN, key,
		 strlen(key) > CONF_NAME_SHOWN ? "..." : "");
}

char *gba_conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int gba_conf_decimal(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int gba_conf_duration(const char *s, unsigned long long *out)
{
	size_t n = strlen(s);
	unsigned long long mult = 1, v;

	if (n && (s[n - 1] < '0' || s[n - 1] > '9')) {
		switch (s[n - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		n--;
	}
	if (gba_conf_decimal(s, n, &v) || v > ULLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* The value as a message shows it: quoted and cut, or not at all for a secret. */
static const char *shown(const struct gba_conf_key *k, const char *value, char *buf,
			 size_t size)
{
	if (k->flags & GBA_CONF_SECRET)
		return "the value";
	snprintf(buf, size, "'%.*s%s'", SHOWN_MAX, value, strlen(value) > SHOWN_MAX ? "..." : "");
	return buf;
}

static int set_str(const struct gba_conf_key *k, char *field, const char *value, char *why,
		   size_t why_size)
{
	size_t n = strlen(value);

	if (n >= k->size || (k->max && n > k->max))
		return gba_conf_fail(why, why_size, "value longer than %zu characters",
				     k->max && k->max < k->size ? (size_t)k->max : k->size - 1);
	if (n < k->min)
		return gba_conf_fail(why, why_size, n ? "value shorter than %llu characters" :
				     "must not be empty", k->min);
	memcpy(field, value, n + 1);
	return 0;
}

static int set_digits(const struct gba_conf_key *k, char *field, const char *value, char *why,
		      size_t why_size)
{
	size_t n = strlen(value);

	if (n < k->min || n > k->max || n >= k->size || strspn(value, "0123456789") != n)
		return gba_conf_fail(why, why_size, "%llu to %llu decimal digits expected", k->min,
				     k->max);
	memcpy(field, value, n + 1);
	return 0;
}

static int set_number(const struct gba_conf_key *k, void *field, const char *value, char *why,
		      size_t why_size)
{
	unsigned long long v = 0;
	char buf[SHOWN_MAX + 8];

	if (k->type == GBA_CONF_DURATION ? gba_conf_duration(value, &v)
					 : gba_conf_decimal(value, strlen(value), &v))
		return gba_conf_fail(why, why_size, k->type == GBA_CONF_DURATION ?
				     "%s is not a duration (number with s, m, h or d)" :
				     "%s is not a decimal number",
				     shown(k, value, buf, sizeof(buf)));
	if (v < k->min || v > k->max) {
		if (k->flags & GBA_CONF_SECRET)
			return gba_conf_fail(why, why_size, "outside %llu..%llu", k->min, k->max);
		return gba_conf_fail(why, why_size, "%llu is outside %llu..%llu", v, k->min,
				     k->max);
	}
	if (k->type == GBA_CONF_U64) {
		uint64_t u = v;
		memcpy(field, &u, sizeof(u));
	} else {
		unsigned u = (unsigned)v;
		memcpy(field, &u, sizeof(u));
	}
	return 0;
}

/* The spellings every file has used: gba-bsf's on/off and yes/no, the others' true/1. */
static int set_bool(const struct gba_conf_key *k, void *field, const char *value, char *why,
		    size_t why_size)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	char buf[SHOWN_MAX + 8];

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		int v = !strcasecmp(value, yes[i]) ? 1 : !strcasecmp(value, no[i]) ? 0 : -1;
		if (v >= 0) {
			memcpy(field, &v, sizeof(v));
			return 0;
		}
	}
	return gba_conf_fail(why, why_size, "%s is not yes or no (on/off, true/false, 1/0)",
			     shown(k, value, buf, sizeof(buf)));
}

static int set_enum(const struct gba_conf_key *k, void *field, const char *value, char *why,
		    size_t why_size)
{
	char choices[256] = "", buf[SHOWN_MAX + 8];

	for (const struct gba_conf_name *e = k->names; e->name; e++) {
		if (!strcmp(e->name, value)) {
			memcpy(field, &e->value, sizeof(int));
			return 0;
		}
		if (e != k->names)
			strncat(choices, ", ", sizeof(choices) - strlen(choices) - 1);
		strncat(choices, e->name, sizeof(choices) - strlen(choices) - 1);
	}
	return gba_conf_fail(why, why_size, "%s is not one of %s",
			     shown(k, value, buf, sizeof(buf)), choices);
}

/* Hex of a multiple of min octets, up to max: K is 16 or 32, RAND exactly 16. */
static int set_hex(const struct gba_conf_key *k, void *obj, const char *value, char *why,
		   size_t why_size)
{
	uint8_t tmp[256];
	size_t n = strlen(value), got = 0;
	int rc = 0;

	if (n % 2 || n / 2 < k->min || n / 2 > k->max || (n / 2) % k->min || n / 2 > sizeof(tmp))
		rc = k->min == k->max ?
			gba_conf_fail(why, why_size, "%llu octets in hex expected", k->min) :
		     k->max == 2 * k->min ?
			gba_conf_fail(why, why_size, "%llu or %llu octets in hex expected",
				      k->min, k->max) :
			gba_conf_fail(why, why_size, "a multiple of %llu octets up to %llu in "
				      "hex expected", k->min, k->max);
	else if (gba_hex_decode(tmp, sizeof(tmp), &got, value, n) != GBA_OK || got > k->size)
		rc = gba_conf_fail(why, why_size, "not hex");
	if (!rc) {
		memcpy((char *)obj + k->off, tmp, got);
		if (k->len_off != GBA_CONF_NO_LEN)
			memcpy((char *)obj + k->len_off, &got, sizeof(got));
	}
	gba_wipe(tmp, sizeof(tmp));
	return rc;
}

int conf_set_value(const struct gba_conf_key *k, void *obj, const char *value, char *why,
		   size_t why_size)
{
	void *field = (char *)obj + k->off;

	switch (k->type) {
	case GBA_CONF_STR:
		return set_str(k, field, value, why, why_size);
	case GBA_CONF_DIGITS:
		return set_digits(k, field, value, why, why_size);
	case GBA_CONF_UINT:
	case GBA_CONF_U64:
	case GBA_CONF_DURATION:
		return set_number(k, field, value, why, why_size);
	case GBA_CONF_BOOL:
		return set_bool(k, field, value, why, why_size);
	case GBA_CONF_ENUM:
		return set_enum(k, field, value, why, why_size);
	case GBA_CONF_HEX:
		return set_hex(k, obj, value, why, why_size);
	case GBA_CONF_FUNC:
		return k->set(obj, k, value, why, why_size);
	}
	return gba_conf_fail(why, why_size, "bad key type");
}

void gba_conf_defaults(const struct gba_conf_spec *spec, void *obj)
{
	for (size_t i = 0; i < spec->n_keys; i++)
		if (spec->keys[i].def && conf_set_value(&spec->keys[i], obj, spec->keys[i].def,
							NULL, 0))
			abort(); /* a broken default is a bug in the table */
}

/* ---- Printing ---------------------------------------------------------------- */

void gba_conf_print_keys(const struct gba_conf_spec *spec, FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < spec->n_keys; i++) {
		const struct gba_conf_key *k = &spec->keys[i];
		if (strcmp(section, k->section)) {
			section = k->section;
			fprintf(out, "  [%s]\n", section);
		}
		fprintf(out, "    %-24s %s", k->key, k->help ? k->help : "");
		if (k->def && *k->def)
			fprintf(out, " [%s]", k->def);
		fputc('\n', out);
	}
}

static const char *enum_name(const struct gba_conf_key *k, int value)
{
	for (const struct gba_conf_name *e = k->names; e->name; e++)
		if (e->value == value)
			return e->name;
	return "?";
}

static void print_value(const struct gba_conf_key *k, const void *field, FILE *out)
{
	unsigned u;
	uint64_t u64;
	int e;

	switch (k->type) {
	case GBA_CONF_STR:
	case GBA_CONF_DIGITS:
		fprintf(out, "%s\n", (const char *)field);
		return;
	case GBA_CONF_UINT:
	case GBA_CONF_DURATION:
		memcpy(&u, field, sizeof(u));
		fprintf(out, "%u\n", u);
		return;
	case GBA_CONF_U64:
		memcpy(&u64, field, sizeof(u64));
		fprintf(out, "%llu\n", (unsigned long long)u64);
		return;
	case GBA_CONF_BOOL:
		memcpy(&e, field, sizeof(e));
		fprintf(out, "%s\n", e ? "yes" : "no");
		return;
	case GBA_CONF_ENUM:
		memcpy(&e, field, sizeof(e));
		fprintf(out, "%s\n", enum_name(k, e));
		return;
	case GBA_CONF_HEX:
	case GBA_CONF_FUNC:
		return; /* not printed: see gba_conf_print */
	}
}

void gba_conf_print(const struct gba_conf_spec *spec, const void *obj, FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < spec->n_keys; i++) {
		const struct gba_conf_key *k = &spec->keys[i];

		if (strcmp(section, k->section)) {
			section = k->section;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
		}
		/* A secret, or a value the table cannot print back: a comment. */
		if ((k->flags & GBA_CONF_SECRET) || k->type == GBA_CONF_HEX ||
		    k->type == GBA_CONF_FUNC) {
			fprintf(out, "# %s: not shown\n", k->key);
			continue;
		}
		fprintf(out, "%s = ", k->key);
		print_value(k, (const char *)obj + k->off, out);
	}
}
