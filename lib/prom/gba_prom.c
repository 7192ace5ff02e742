/*
 * gba_prom.c - the Prometheus text format writer (gba_prom.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gba/version.h>

#include "gba_prom.h"

void gba_prom_init(struct gba_prom *p, char *buf, size_t size)
{
	p->buf = buf;
	p->size = size;
	p->len = 0;
	p->overflow = size == 0;
	if (size)
		buf[0] = '\0';
}

static void put(struct gba_prom *p, const char *s, size_t n)
{
	if (p->overflow || n >= p->size - p->len) {
		p->overflow = 1;
		return;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct gba_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

void gba_prom_printf(struct gba_prom *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, p->size - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= p->size - p->len) {
		p->overflow = 1;
		p->buf[p->len] = '\0';   /* drop the part that did not fit */
	} else {
		p->len += (size_t)n;
	}
}

/*
 * Text with the format's escapes: backslash and line feed always, the
 * double quote inside label values (quote set).  Anything else that is
 * not printable ASCII becomes '?'.
 */
static void escaped(struct gba_prom *p, const char *s, int quote)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			puts_(p, "\\\\");
		else if (c == '\n')
			puts_(p, "\\n");
		else if (c == '"' && quote)
			puts_(p, "\\\"");
		else if (c < 0x20 || c > 0x7e)
			puts_(p, "?");
		else
			put(p, s, 1);
	}
}

void gba_prom_family(struct gba_prom *p, const char *name, const char *type, const char *help)
{
	gba_prom_printf(p, "# HELP %s ", name);
	escaped(p, help, 0);
	gba_prom_printf(p, "\n# TYPE %s %s\n", name, type);
}

static void series(struct gba_prom *p, const char *name, const struct gba_prom_label *labels,
		   size_t n)
{
	puts_(p, name);
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		put(p, i ? "," : "{", 1);
		puts_(p, labels[i].name);
		puts_(p, "=\"");
		escaped(p, labels[i].value, 1);
		put(p, "\"", 1);
	}
	put(p, "}", 1);
}

void gba_prom_sample(struct gba_prom *p, const char *name, const struct gba_prom_label *labels,
		     size_t n, uint64_t value)
{
	series(p, name, labels, n);
	gba_prom_printf(p, " %llu\n", (unsigned long long)value);
}

void gba_prom_sample_f(struct gba_prom *p, const char *name,
		       const struct gba_prom_label *labels, size_t n, double value)
{
	series(p, name, labels, n);
	if (isnan(value))
		puts_(p, " NaN\n");
	else if (isinf(value))
		puts_(p, value > 0 ? " +Inf\n" : " -Inf\n");
	else
		gba_prom_printf(p, " %.9g\n", value);
}

void gba_prom_counter(struct gba_prom *p, const char *name, const char *help, uint64_t value)
{
	gba_prom_family(p, name, "counter", help);
	gba_prom_sample(p, name, GBA_PROM_NO_LABELS, value);
}

void gba_prom_gauge(struct gba_prom *p, const char *name, const char *help, uint64_t value)
{
	gba_prom_family(p, name, "gauge", help);
	gba_prom_sample(p, name, GBA_PROM_NO_LABELS, value);
}

void gba_prom_build_info(struct gba_prom *p, const char *program)
{
	gba_prom_family(p, "gba_build_info", "gauge",
			"Always 1: the program, its version and the libgba it runs with.");
	gba_prom_sample(p, "gba_build_info",
			GBA_PROM_LABELS({ "program", program }, { "version", GBA_VERSION },
					{ "libgba", gba_version() }), 1);
}

size_t gba_prom_end(const struct gba_prom *p)
{
	return p->overflow ? 0 : p->len;
}
