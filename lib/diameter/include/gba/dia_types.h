/*
 * gba/dia_types.h - the Diameter types libgba-naf's API names (installed
 * with gba/naf.h): the node as an opaque type, its log levels and log
 * callback, and its transports.
 *
 * gba/diameter.h, the node's functions, is not installed: libgba-diameter
 * is linked statically into gba's own programs and into libgba-naf, which
 * exports gba_naf_* only.  A library user sets gba_naf_config's log,
 * log_level and transport from this header and leaves its dia NULL.
 */
#ifndef GBA_DIA_TYPES_H
#define GBA_DIA_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

/* The process's Diameter node (internal to gba's programs). */
struct gba_dia;

/* Ordered by severity (the BSF's log levels have the same values). */
enum gba_dia_log_level {
	GBA_DIA_LOG_DEBUG = 0,    /* freeDiameter's own traces too */
	GBA_DIA_LOG_INFO = 1,
	GBA_DIA_LOG_WARN = 2,
	GBA_DIA_LOG_ERROR = 3,
};

/*
 * Where the node's lines go: one call per line, no newline.  Lines never
 * carry an AVP value other than identities (Origin-Host, User-Name).  The
 * function is called from freeDiameter's threads.
 */
typedef void gba_dia_log_fn(void *arg, enum gba_dia_log_level level, const char *line);

/* How the node's connections are carried. */
enum gba_dia_transport {
	GBA_DIA_TLS = 0,   /* TLS from the first octet, certificates both ways */
	GBA_DIA_TCP = 1,   /* plain TCP: only on a protected network */
};

#ifdef __cplusplus
}
#endif
#endif /* GBA_DIA_TYPES_H */
