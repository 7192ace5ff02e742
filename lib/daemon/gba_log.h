/*
 * gba_log.h - the log every gba daemon writes (internal, not installed):
 * one line per event on stderr, each in a single write(2) so that lines of
 * different threads never interleave, in the form the reader of stderr
 * wants (docs/deployment.md, "Logs"):
 *
 *   journal   <6>info: TEXT
 *             stderr is journald's stream (JOURNAL_STREAM names its
 *             device:inode, sd-daemon(3)): the syslog priority leads, and
 *             journald takes it off and stores it; it adds the time and the
 *             program's name itself.
 *   terminal  2026-12-05 02:49:40.123 gba-bsf: info: TEXT   (local time)
 *   plain     gba-bsf: info: TEXT   (a file or a pipe: tests, containers)
 *
 * Characters of TEXT below 0x20 and 0x7f become '?', so nothing a peer sent
 * can forge a line.  Secrets never reach this module.  IMPIs are personal
 * data, so the operator chooses how they appear (log.impi): as sent, as a
 * short hash that still lets lines of one subscriber be matched, or not at
 * all.
 */
#ifndef GBA_DAEMON_LOG_H
#define GBA_DAEMON_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

/* Ordered by severity; enum gba_dia_log_level and lib/conf's
 * gba_conf_log_level_names have the same values. */
enum gba_log_level {
	GBA_LOG_DEBUG = 0,
	GBA_LOG_INFO = 1,
	GBA_LOG_WARN = 2,
	GBA_LOG_ERROR = 3,
	GBA_LOG_OFF = 4,      /* as a log's level: nothing (fuzzers, benchmarks) */
};

enum gba_log_impi_mode {
	GBA_LOG_IMPI_PLAIN = 0,   /* the IMPI as received */
	GBA_LOG_IMPI_HASH = 1,    /* "sha256:" and the first 8 octets of SHA-256(IMPI) in hex */
	GBA_LOG_IMPI_HIDE = 2,    /* "-" */
};

enum gba_log_form {
	GBA_LOG_PLAIN = 0,
	GBA_LOG_TERMINAL = 1,
	GBA_LOG_JOURNAL = 2,
};

/* Longest TEXT; a longer one is cut (still one line). */
#define GBA_LOG_TEXT_MAX 1024
/* Longest line: TEXT with the longest prefix and the newline. */
#define GBA_LOG_LINE_MAX (GBA_LOG_TEXT_MAX + 96)
/* Longest IMPI rendering: a 255-octet IMPI, or the hash form. */
#define GBA_LOG_IMPI_TEXT_MAX 256

struct gba_log {
	const char *prog;     /* "gba-bsf": a static string */
	enum gba_log_level level;
	enum gba_log_impi_mode impi_mode;
	enum gba_log_form form;
	int fd;               /* normally 2 */
};

/* A log on stderr, in the form gba_log_form_of(2) finds. */
void gba_log_init(struct gba_log *log, const char *prog, enum gba_log_level level,
		  enum gba_log_impi_mode impi_mode);

/*
 * The form for fd: journal when $JOURNAL_STREAM is "DEV:INO" and fd is that
 * stream (compared with fstat(2): a child that inherited the variable but
 * writes elsewhere is not fooled), terminal when fd is a tty, else plain.
 */
enum gba_log_form gba_log_form_of(int fd);

static inline int gba_log_enabled(const struct gba_log *log, enum gba_log_level level)
{
	return level >= log->level && level < GBA_LOG_OFF;
}

/* printf-like; the line gets its prefix and a newline. */
void gba_log_msg(const struct gba_log *log, enum gba_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gba_log_vmsg(const struct gba_log *log, enum gba_log_level level, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * The line for text as gba_log_msg writes it, newline included, in out
 * (GBA_LOG_LINE_MAX octets; not NUL-terminated); returns its length.  now
 * is the time a terminal line shows (ignored by the other forms).
 */
size_t gba_log_format(char *out, const struct gba_log *log, enum gba_log_level level,
		      const struct timespec *now, const char *text);

/* "debug", "info", "warn", "error" (and "off"). */
const char *gba_log_level_name(enum gba_log_level level);

/* One of the four names (not "off") -> 0 and *out; else -1. */
int gba_log_level_parse(const char *s, enum gba_log_level *out);

/*
 * The IMPI as this log shows it, NUL-terminated in out (GBA_LOG_IMPI_TEXT_MAX
 * + 1 octets).  Characters outside printable ASCII are shown as '?', so a
 * crafted IMPI cannot forge log lines.
 */
const char *gba_log_impi(const struct gba_log *log, char *out, const char *impi,
			 size_t impi_len);

#endif /* GBA_DAEMON_LOG_H */
