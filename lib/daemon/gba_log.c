/*
 * gba_log.c - one line per event on stderr, see gba_log.h.
 */
#define _POSIX_C_SOURCE 200809L /* localtime_r */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include <gba/util.h>

#include "gba_conf.h"
#include "gba_log.h"

/* RFC 5424 severities: debug 7, informational 6, warning 4, error 3. */
static const char level_priority[] = { '7', '6', '4', '3', '7' };

/* The names are lib/conf's table, the one the config files' log.level reads. */
const char *gba_log_level_name(enum gba_log_level level)
{
	for (const struct gba_conf_name *n = gba_conf_log_level_names; n->name; n++)
		if (n->value == (int)level)
			return n->name;
	return "off";
}

int gba_log_level_parse(const char *s, enum gba_log_level *out)
{
	for (const struct gba_conf_name *n = gba_conf_log_level_names; n->name; n++) {
		if (!strcmp(s, n->name)) {
			*out = (enum gba_log_level)n->value;
			return 0;
		}
	}
	return -1;
}

/* $JOURNAL_STREAM is "DEV:INO" in decimal, systemd.exec(5). */
static int is_journal_stream(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!env || !*env)
		return 0;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (errno || end == env || *end != ':')
		return 0;
	env = end + 1;
	ino = strtoull(env, &end, 10);
	if (errno || end == env || *end)
		return 0;
	if (fstat(fd, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

enum gba_log_form gba_log_form_of(int fd)
{
	if (is_journal_stream(fd))
		return GBA_LOG_JOURNAL;
	return isatty(fd) ? GBA_LOG_TERMINAL : GBA_LOG_PLAIN;
}

void gba_log_init(struct gba_log *log, const char *prog, enum gba_log_level level,
		  enum gba_log_impi_mode impi_mode)
{
	log->prog = prog;
	log->level = level;
	log->impi_mode = impi_mode;
	log->fd = 2;
	log->form = gba_log_form_of(log->fd);
}

/* What snprintf wrote into size octets, without the NUL. */
static size_t written(int m, size_t size)
{
	if (m < 0 || !size)
		return 0;
	return (size_t)m < size ? (size_t)m : size - 1;
}

/* "YYYY-MM-DD HH:MM:SS.mmm " in local time; 24 octets. */
static size_t put_time(char *out, size_t size, const struct timespec *now)
{
	struct tm tm;
	size_t n;

	if (!localtime_r(&now->tv_sec, &tm))
		return 0;
	n = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	if (!n)
		return 0;
	return n + written(snprintf(out + n, size - n, ".%03ld ", now->tv_nsec / 1000000),
			   size - n);
}

/* The part before TEXT. */
static size_t put_prefix(char *out, size_t size, const struct gba_log *log,
			 enum gba_log_level level, const struct timespec *now)
{
	const char *name = gba_log_level_name(level);
	size_t n = 0;
	int m;

	if (log->form == GBA_LOG_JOURNAL) {
		m = snprintf(out, size, "<%c>%s: ", level_priority[level > GBA_LOG_OFF ?
								    GBA_LOG_OFF : level], name);
		return written(m, size);
	}
	if (log->form == GBA_LOG_TERMINAL && now)
		n = put_time(out, size, now);
	m = snprintf(out + n, size - n, "%s: %s: ", log->prog ? log->prog : "gba", name);
	return n + written(m, size - n);
}

size_t gba_log_format(char *out, const struct gba_log *log, enum gba_log_level level,
		      const struct timespec *now, const char *text)
{
	size_t n = put_prefix(out, GBA_LOG_LINE_MAX - GBA_LOG_TEXT_MAX, log, level, now);

	/* Control characters from the network cannot forge lines. */
	for (size_t i = 0; text[i] && i < GBA_LOG_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[n++] = '\n';
	return n;
}

/* The whole line in one write(2): lines of different threads stay whole. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

void gba_log_vmsg(const struct gba_log *log, enum gba_log_level level, const char *fmt,
		  va_list ap)
{
	char text[GBA_LOG_TEXT_MAX + 1], line[GBA_LOG_LINE_MAX];
	struct timespec now = { 0, 0 };

	if (!gba_log_enabled(log, level))
		return;
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		return;
	if (log->form == GBA_LOG_TERMINAL)
		clock_gettime(CLOCK_REALTIME, &now);
	write_all(log->fd, line, gba_log_format(line, log, level, &now, text));
}

void gba_log_msg(const struct gba_log *log, enum gba_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gba_log_vmsg(log, level, fmt, ap);
	va_end(ap);
}

const char *gba_log_impi(const struct gba_log *log, char *out, const char *impi,
			 size_t impi_len)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	size_t i;

	switch (log->impi_mode) {
	case GBA_LOG_IMPI_HIDE:
		return "-";
	case GBA_LOG_IMPI_HASH:
		sha256_init(&ctx);
		sha256_update(&ctx, impi_len, (const uint8_t *)impi);
		sha256_digest(&ctx, sizeof(digest), digest);
		memcpy(out, "sha256:", 7);
		(void)gba_hex_encode(out + 7, 17, digest, 8);
		return out;
	case GBA_LOG_IMPI_PLAIN:
		break;
	}
	if (impi_len > GBA_LOG_IMPI_TEXT_MAX)
		impi_len = GBA_LOG_IMPI_TEXT_MAX;
	for (i = 0; i < impi_len; i++) {
		unsigned char c = (unsigned char)impi[i];
		out[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = '\0';
	return out;
}
