/*
 * gba_conf.h - the one reader of every gba program's `key = value` files
 * and of their --set/-o overrides (internal, not installed).
 *
 * A program describes its keys once, in a table of struct gba_conf_key:
 * where the value goes (an offset into the program's own structure), its
 * kind, its range, its default and its help line.  The reader does the
 * rest the same way for every file (docs/deployment.md, "Configuration
 * files"): lines, optional [section]s, '#' comments, length and byte
 * limits, a key given twice, typed values, and messages that name the
 * file, the line and the key - never the value of a secret.
 */
#ifndef GBA_CONF_H
#define GBA_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/* The longest line of any file, without its newline. */
#define GBA_CONF_LINE_MAX 4096
/* The largest file the reader takes. */
#define GBA_CONF_FILE_MAX (1024 * 1024)
/* Room for any message of the reader (longer ones are cut). */
#define GBA_CONF_ERR_MAX 512

enum gba_conf_type {
	GBA_CONF_STR,      /* char[size]; length within min..max when max is set */
	GBA_CONF_DIGITS,   /* char[size]: decimal digits only, min..max of them */
	GBA_CONF_UINT,     /* unsigned: strict decimal within min..max */
	GBA_CONF_U64,      /* uint64_t: strict decimal within min..max */
	GBA_CONF_DURATION, /* unsigned seconds: decimal with s, m, h or d, min..max */
	GBA_CONF_BOOL,     /* int 0 or 1: yes/no, on/off, true/false, 1/0, any case */
	GBA_CONF_ENUM,     /* int: one of .names */
	GBA_CONF_HEX,      /* uint8_t[size]: hex of a multiple of min octets, up to max */
	GBA_CONF_FUNC,     /* .set does it */
};

/* Flags of a key. */
#define GBA_CONF_SECRET 1u   /* its value never appears in a message */
#define GBA_CONF_REPEAT 2u   /* may be given more than once (each call sees one) */
#define GBA_CONF_REQUIRED 4u /* a file without it is refused */

/* A GBA_CONF_HEX key whose length is fixed (min == max) stores no length. */
#define GBA_CONF_NO_LEN ((size_t)-1)

struct gba_conf_name {
	const char *name;
	int value;
};

struct gba_conf_key;

/* A GBA_CONF_FUNC setter: 0, or -1 with why (no value in it for a secret). */
typedef int (*gba_conf_set_fn)(void *obj, const struct gba_conf_key *k, const char *value,
			       char *why, size_t why_size);

struct gba_conf_key {
	const char *section;                /* "": before any [section] header */
	const char *key;
	enum gba_conf_type type;
	size_t off;                         /* of the field in the caller's structure */
	size_t size;                        /* STR, DIGITS, HEX: the array's size */
	unsigned long long min, max;        /* range, length or octets (see the type) */
	const struct gba_conf_name *names;  /* ENUM: NULL-terminated */
	gba_conf_set_fn set;                /* FUNC */
	size_t len_off;                     /* HEX: a size_t for the length, or GBA_CONF_NO_LEN */
	unsigned flags;
	const char *def;                    /* the default as text; NULL: none */
	const char *help;
};

/*
 * A section whose keys are names the user chooses (gba-naf's [nodes] or
 * [targets]): each line goes to .entry, which refuses a name given twice.
 */
typedef int (*gba_conf_entry_fn)(void *obj, const char *name, const char *value, char *why,
				 size_t why_size);

struct gba_conf_map {
	const char *section;
	gba_conf_entry_fn entry;
	unsigned flags;                     /* GBA_CONF_SECRET */
};

/* Flags of a file. */
#define GBA_CONF_NOCASE 1u  /* key names compared without case (gba-subscriber's K, OPc) */
#define GBA_CONF_WIPE 2u    /* the file holds secrets: every buffer is wiped */

struct gba_conf_spec {
	const struct gba_conf_key *keys;
	size_t n_keys;
	const struct gba_conf_map *maps;
	size_t n_maps;
	unsigned flags;
};

/* Choices several files share: a card's algorithm, TUAK's RES length in octets. */
enum { GBA_CONF_MILENAGE = 0, GBA_CONF_TUAK = 1 };
extern const struct gba_conf_name gba_conf_algorithm_names[];
extern const struct gba_conf_name gba_conf_res_len_names[];
/* debug, info, warn, error: enum gba_log_level's values (gba-bsf, gba-naf). */
extern const struct gba_conf_name gba_conf_log_level_names[];

/* Octets of the bitmap that records which keys a file has set. */
#define GBA_CONF_SEEN_SIZE(n_keys) (((n_keys) + 7) / 8)

/* Every key's default into obj (a broken default aborts: a bug in the table). */
void gba_conf_defaults(const struct gba_conf_spec *spec, void *obj);

/*
 * Parse text (len octets and one more that may be written: it is modified
 * in place) named name in messages.
 * seen: a zeroed bitmap of GBA_CONF_SEEN_SIZE(n_keys) octets, or NULL.
 * 0, or -1 with "NAME:LINE: key 'SECTION.KEY': reason" in err.
 */
int gba_conf_parse(const struct gba_conf_spec *spec, void *obj, const char *name, char *text,
		   size_t len, unsigned char *seen, char *err, size_t err_size);

/*
 * The whole stream, then gba_conf_parse; at most GBA_CONF_FILE_MAX octets.
 * -1 for a bad file, -2 when it cannot be read.
 */
int gba_conf_parse_stream(const struct gba_conf_spec *spec, void *obj, FILE *f,
			  const char *name, unsigned char *seen, char *err, size_t err_size);

/*
 * The file at path ("-": stdin), then gba_conf_parse.  -1 for a bad file,
 * -2 when it cannot be opened or read ("PATH: reason").
 */
int gba_conf_load(const struct gba_conf_spec *spec, void *obj, const char *path,
		  unsigned char *seen, char *err, size_t err_size);

/*
 * One key from the command line: "SECTION.KEY=VALUE" ("KEY=VALUE" in a
 * file without sections).  opt names the option in the message
 * ("--set ub.listen: ...").
 */
int gba_conf_set_arg(const struct gba_conf_spec *spec, void *obj, const char *opt,
		     const char *arg, char *err, size_t err_size);

/* One key by name; "key 'SECTION.KEY': reason" in err. */
int gba_conf_set(const struct gba_conf_spec *spec, void *obj, const char *section,
		 const char *key, const char *value, char *err, size_t err_size);

/* Whether seen (from gba_conf_parse) records key. */
int gba_conf_was_set(const struct gba_conf_spec *spec, const unsigned char *seen,
		     const char *section, const char *key);

/* The keys with their help and defaults, for --help. */
void gba_conf_print_keys(const struct gba_conf_spec *spec, FILE *out);

/* The effective values in the file's own syntax (secrets as "(set)"). */
void gba_conf_print(const struct gba_conf_spec *spec, const void *obj, FILE *out);

/* Strict decimal: digits only, no sign, no overflow; 0 or -1. */
int gba_conf_decimal(const char *s, size_t n, unsigned long long *out);

/* A duration: decimal with an optional unit s, m, h or d, in seconds; 0 or -1. */
int gba_conf_duration(const char *s, unsigned long long *out);

/*
 * A listen address, numeric only: "a.b.c.d:port", "*:port" (any IPv4),
 * "[v6]:port" ("[::]:port": any IPv6; brackets required), the port 1..65535
 * in decimal digits.  0, or -1 with "'TEXT': reason" in err.
 */
int gba_conf_listen_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			 char *err, size_t err_size);

/* A message into err (when err_size), for the reader and for a program's
 * own checks of its configuration; always -1. */
__attribute__((format(printf, 3, 4)))
int gba_conf_fail(char *err, size_t err_size, const char *fmt, ...);

/* Blanks (space, tab) off both ends, in place. */
char *gba_conf_trim(char *s);

#endif /* GBA_CONF_H */
