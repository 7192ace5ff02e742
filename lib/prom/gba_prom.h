/*
 * gba_prom.h - the Prometheus text exposition format, version 0.0.4, as
 * every gba daemon writes its /metrics (not installed).
 *
 * The writer appends to a buffer the caller owns and remembers an
 * overflow instead of failing each call, so that a metrics page is a plain
 * run of calls and one check at the end:
 *
 *     struct gba_prom p;
 *     gba_prom_init(&p, buf, sizeof(buf));
 *     gba_prom_build_info(&p, "gba-naf");
 *     gba_prom_family(&p, "gba_naf_enrolments_total", "counter", "Enrolments.");
 *     gba_prom_sample(&p, "gba_naf_enrolments_total",
 *                     GBA_PROM_LABELS({ "ua", "tls13" }, { "result", "ok" }), n);
 *     len = gba_prom_end(&p);      (0: the buffer was too small)
 *
 * Escaping follows the format: in label values backslash, double quote
 * and line feed become \\, \" and \n; in HELP texts backslash and line
 * feed.  Other control characters and bytes outside ASCII become '?' (the
 * values here are identities and names, and the page must stay UTF-8).
 * Metric and label names are the caller's constants and are not checked.
 */
#ifndef GBA_PROM_H
#define GBA_PROM_H

#include <stddef.h>
#include <stdint.h>

struct gba_prom {
	char *buf;
	size_t size, len;
	int overflow;
};

struct gba_prom_label {
	const char *name;
	const char *value;
};

/* A label list and its length, for the (labels, n) parameters. */
#define GBA_PROM_LABELS(...)                                               \
	(const struct gba_prom_label[]){ __VA_ARGS__ },                        \
	sizeof((const struct gba_prom_label[]){ __VA_ARGS__ }) /               \
		sizeof(struct gba_prom_label)
#define GBA_PROM_NO_LABELS NULL, 0

/* Start writing into buf (kept NUL-terminated while it fits). */
void gba_prom_init(struct gba_prom *p, char *buf, size_t size);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void gba_prom_family(struct gba_prom *p, const char *name, const char *type,
		     const char *help);

/* One sample: name{labels} value, an integer or a float ("%.17g"; +Inf,
 * -Inf and NaN as the format spells them). */
void gba_prom_sample(struct gba_prom *p, const char *name, const struct gba_prom_label *labels,
		     size_t n, uint64_t value);
void gba_prom_sample_f(struct gba_prom *p, const char *name,
		       const struct gba_prom_label *labels, size_t n, double value);

/* A family of one unlabelled sample. */
void gba_prom_counter(struct gba_prom *p, const char *name, const char *help, uint64_t value);
void gba_prom_gauge(struct gba_prom *p, const char *name, const char *help, uint64_t value);

/*
 * gba_build_info{program="...",version="GBA_VERSION",libgba="gba_version()"} 1:
 * what every daemon's page starts with, so that a scrape tells which build
 * answered (and whether the program and the shared library disagree).
 */
void gba_prom_build_info(struct gba_prom *p, const char *program);

/* Raw text, for what the helpers above do not cover (printf-style). */
void gba_prom_printf(struct gba_prom *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The length written, or 0 when the buffer was too small. */
size_t gba_prom_end(const struct gba_prom *p);

#endif /* GBA_PROM_H */
