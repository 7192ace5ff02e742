/*
 * log.c - one line per event on stderr, see log.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include <gba/util.h>

#include "log.h"

#define LINE_MAX_LEN 1024

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void bsf_log_init(struct bsf_log *log, enum log_level level, enum log_impi_mode impi_mode)
{
	log->level = level;
	log->impi_mode = impi_mode;
	log->fd = 2;
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

void log_msg(const struct bsf_log *log, enum log_level level, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n, m;

	if (!log_enabled(log, level))
		return;
	n = snprintf(line, sizeof(line), "%s: ", level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated: still one line */
	line[n++] = '\n';
	write_all(log->fd, line, (size_t)n);
}

const char *log_impi(const struct bsf_log *log, char *out, const char *impi, size_t impi_len)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	size_t i;

	switch (log->impi_mode) {
	case LOG_IMPI_HIDE:
		return "-";
	case LOG_IMPI_HASH:
		sha256_init(&ctx);
		sha256_update(&ctx, impi_len, (const uint8_t *)impi);
		sha256_digest(&ctx, sizeof(digest), digest);
		memcpy(out, "sha256:", 7);
		(void)gba_hex_encode(out + 7, 17, digest, 8);
		return out;
	case LOG_IMPI_PLAIN:
		break;
	}
	if (impi_len > LOG_IMPI_TEXT_MAX)
		impi_len = LOG_IMPI_TEXT_MAX;
	for (i = 0; i < impi_len; i++) {
		unsigned char c = (unsigned char)impi[i];
		out[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = '\0';
	return out;
}
