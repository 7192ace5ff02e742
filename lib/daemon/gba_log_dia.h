/*
 * gba_log_dia.h - a Diameter node's lines (libgba-diameter's gba_dia_log_fn,
 * freeDiameter's own messages among them) into a gba_log, at the same
 * level: freeDiameter's traces and notices arrive as debug (lib/diameter/
 * src/node.c maps them), so a log at info never shows them.
 */
#ifndef GBA_DAEMON_LOG_DIA_H
#define GBA_DAEMON_LOG_DIA_H

#include <gba/diameter.h>

#include "gba_log.h"

/* What gba_log_dia_line takes as its arg: the log, and a tag that leads
 * each line ("zh" -> "zh: TEXT"; NULL: none). */
struct gba_log_dia {
	const struct gba_log *log;
	const char *tag;
};

/* A gba_dia_log_fn: arg is a struct gba_log_dia. */
void gba_log_dia_line(void *arg, enum gba_dia_log_level level, const char *line);

/* The Diameter node's least severe level for a log at level (its
 * log_level: the node then formats nothing the log would drop). */
enum gba_dia_log_level gba_log_dia_level(enum gba_log_level level);

#endif /* GBA_DAEMON_LOG_DIA_H */
