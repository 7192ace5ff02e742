/*
 * gba_log_dia.c - a Diameter node's lines into a gba_log, see gba_log_dia.h.
 */
#include "gba_log_dia.h"

static enum gba_log_level from_dia(enum gba_dia_log_level level)
{
	switch (level) {
	case GBA_DIA_LOG_DEBUG: return GBA_LOG_DEBUG;
	case GBA_DIA_LOG_INFO: return GBA_LOG_INFO;
	case GBA_DIA_LOG_WARN: return GBA_LOG_WARN;
	default: return GBA_LOG_ERROR;
	}
}

enum gba_dia_log_level gba_log_dia_level(enum gba_log_level level)
{
	switch (level) {
	case GBA_LOG_DEBUG: return GBA_DIA_LOG_DEBUG;
	case GBA_LOG_INFO: return GBA_DIA_LOG_INFO;
	case GBA_LOG_WARN: return GBA_DIA_LOG_WARN;
	default: return GBA_DIA_LOG_ERROR;
	}
}

void gba_log_dia_line(void *arg, enum gba_dia_log_level level, const char *line)
{
	const struct gba_log_dia *d = arg;

	if (d->tag)
		gba_log_msg(d->log, from_dia(level), "%s: %s", d->tag, line);
	else
		gba_log_msg(d->log, from_dia(level), "%s", line);
}
