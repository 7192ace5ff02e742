/*
 * log.c - gba-naf's log lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int log_debug_on;

void nlog_init(int debug)
{
	log_debug_on = debug;
}

__attribute__((format(printf, 2, 0)))
static void vline(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "gba-naf %s: ", level);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* Control characters from the network cannot forge lines. */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	if (write(2, line, len) < 0)
		return;
}

void nlog(const char *level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(level, fmt, ap);
	va_end(ap);
}

void nlog_debug(const char *fmt, ...)
{
	va_list ap;
	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	vline("debug", fmt, ap);
	va_end(ap);
}
