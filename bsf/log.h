/*
 * log.h - the BSF's log: one line per event on stderr (journald adds the
 * time and the unit), written with a single write(2) so that lines from
 * different threads never interleave.
 *
 * Secrets never reach this module.  IMPIs are personal data, so the
 * operator chooses how they appear: as sent, as a short hash that still
 * lets lines of one subscriber be matched, or not at all.
 */
#ifndef GBA_BSF_LOG_H
#define GBA_BSF_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_WARN = 2,
	LOG_LVL_ERROR = 3,
};

enum log_impi_mode {
	LOG_IMPI_PLAIN = 0,   /* the IMPI as received */
	LOG_IMPI_HASH = 1,    /* "sha256:" and the first 8 octets of SHA-256(IMPI) in hex */
	LOG_IMPI_HIDE = 2,    /* "-" */
};

/* Longest IMPI rendering: a 255-octet IMPI, or the hash form. */
#define LOG_IMPI_TEXT_MAX 256

struct bsf_log {
	enum log_level level;
	enum log_impi_mode impi_mode;
	int fd;               /* normally 2 */
};

void bsf_log_init(struct bsf_log *log, enum log_level level, enum log_impi_mode impi_mode);

static inline int log_enabled(const struct bsf_log *log, enum log_level level)
{
	return level >= log->level;
}

/* printf-like; the line gets a level prefix and a newline. */
void log_msg(const struct bsf_log *log, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The IMPI as this log shows it, NUL-terminated in out (LOG_IMPI_TEXT_MAX
 * + 1 octets).  Characters outside printable ASCII are shown as '?', so a
 * crafted IMPI cannot forge log lines.
 */
const char *log_impi(const struct bsf_log *log, char *out, const char *impi, size_t impi_len);

#endif /* GBA_BSF_LOG_H */
