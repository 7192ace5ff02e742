/*
 * log.h - gba-naf's log: one line per event on stderr, written with one
 * write(2) so lines of different threads never interleave.  Key material
 * never reaches it; B-TIDs and node ids do (they are identifiers, not keys).
 */
#ifndef GBA_NAF_LOG_H
#define GBA_NAF_LOG_H

void nlog_init(int debug);
void nlog(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define nlog_info(...) nlog("info", __VA_ARGS__)
#define nlog_warn(...) nlog("warn", __VA_ARGS__)
void nlog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* GBA_NAF_LOG_H */
