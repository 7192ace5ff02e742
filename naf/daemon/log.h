/*
 * log.h - gba-naf's log: the process's gba_log (lib/daemon/gba_log.h: one
 * write(2) per line, journal, terminal or plain form, control characters
 * replaced), set up by main.c from [log] level, and short names for its
 * calls.  Key material never reaches it; B-TIDs and node ids do (they are
 * identifiers, not keys).
 */
#ifndef GBA_NAF_LOG_H
#define GBA_NAF_LOG_H

#include "gba_log.h"

extern struct gba_log naf_log;

#define nlog_debug(...) gba_log_msg(&naf_log, GBA_LOG_DEBUG, __VA_ARGS__)
#define nlog_info(...) gba_log_msg(&naf_log, GBA_LOG_INFO, __VA_ARGS__)
#define nlog_warn(...) gba_log_msg(&naf_log, GBA_LOG_WARN, __VA_ARGS__)
#define nlog_error(...) gba_log_msg(&naf_log, GBA_LOG_ERROR, __VA_ARGS__)

#endif /* GBA_NAF_LOG_H */
