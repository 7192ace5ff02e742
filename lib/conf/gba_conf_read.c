/*
 * gba_conf_read.c - the shared reader's lines: sections, comments, limits,
 * keys given twice, required keys, the file itself and --set/-o overrides.
 * The syntax is written down once, in docs/deployment.md.
 */
#define _DEFAULT_SOURCE /* strcasecmp */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gba/util.h>

#include "conf_internal.h"

/* What one parse keeps between lines. */
struct reader {
	const struct gba_conf_spec *spec;
	void *obj;
	const char *name;
	unsigned line;
	char section[64];
	unsigned char *seen;
	char *err;
	size_t err_size;
};

static int has_sections(const struct gba_conf_spec *spec)
{
	if (spec->n_maps)
		return 1;
	for (size_t i = 0; i < spec->n_keys; i++)
		if (*spec->keys[i].section)
			return 1;
	return 0;
}

static int same_key(const struct gba_conf_spec *spec, const char *a, const char *b)
{
	return (spec->flags & GBA_CONF_NOCASE) ? !strcasecmp(a, b) : !strcmp(a, b);
}

static const struct gba_conf_key *find_key(const struct gba_conf_spec *spec,
					   const char *section, const char *key)
{
	for (size_t i = 0; i < spec->n_keys; i++)
		if (!strcmp(spec->keys[i].section, section) &&
		    same_key(spec, spec->keys[i].key, key))
			return &spec->keys[i];
	return NULL;
}

static const struct gba_conf_map *find_map(const struct gba_conf_spec *spec,
					   const char *section)
{
	for (size_t i = 0; i < spec->n_maps; i++)
		if (!strcmp(spec->maps[i].section, section))
			return &spec->maps[i];
	return NULL;
}

static int section_exists(const struct gba_conf_spec *spec, const char *section)
{
	if (find_map(spec, section))
		return 1;
	for (size_t i = 0; i < spec->n_keys; i++)
		if (!strcmp(spec->keys[i].section, section))
			return 1;
	return 0;
}

/* ", "-separated into out, cut to its size. */
static void list_add(char *out, size_t size, const char *name)
{
	size_t n = strlen(out);

	if (n + 1 < size)
		snprintf(out + n, size - n, "%s%s", n ? ", " : "", name);
}

/* "unknown key; known in [ub]: listen, tls_cert, ..." */
static int unknown_key(const struct gba_conf_spec *spec, const char *section, char *why,
		       size_t why_size)
{
	char known[GBA_CONF_ERR_MAX] = "";

	for (size_t i = 0; i < spec->n_keys; i++)
		if (!strcmp(spec->keys[i].section, section))
			list_add(known, sizeof(known), spec->keys[i].key);
	if (*section)
		return gba_conf_fail(why, why_size, "unknown key; known in [%s]: %s", section,
				     known);
	return gba_conf_fail(why, why_size, "unknown key; known: %s", known);
}

/* "unknown section [x]; known: bsf, ub, ..." */
static int unknown_section(const struct gba_conf_spec *spec, const char *section, char *why,
			   size_t why_size)
{
	char known[GBA_CONF_ERR_MAX] = "";

	for (size_t i = 0; i < spec->n_keys; i++)
		if (*spec->keys[i].section && (i == 0 || strcmp(spec->keys[i].section,
								spec->keys[i - 1].section)))
			list_add(known, sizeof(known), spec->keys[i].section);
	for (size_t i = 0; i < spec->n_maps; i++)
		list_add(known, sizeof(known), spec->maps[i].section);
	return gba_conf_fail(why, why_size, "unknown section [%.63s]; known: %s", section, known);
}

int gba_conf_set(const struct gba_conf_spec *spec, void *obj, const char *section,
		 const char *key, const char *value, char *err, size_t err_size)
{
	const struct gba_conf_key *k = find_key(spec, section, key);
	const struct gba_conf_map *m = find_map(spec, section);
	char name[160], why[GBA_CONF_ERR_MAX];
	int rc;

	conf_key_name(name, sizeof(name), section, key);
	if (!*key)
		return gba_conf_fail(err, err_size, "key missing before '='");
	if (m)
		rc = m->entry(obj, key, value, why, sizeof(why));
	else if (!k && !section_exists(spec, section))
		return unknown_section(spec, section, err, err_size);
	else if (!k)
		rc = unknown_key(spec, section, why, sizeof(why));
	else
		rc = conf_set_value(k, obj, value, why, sizeof(why));
	if (rc)
		return gba_conf_fail(err, err_size, "key '%s': %s", name, why);
	return 0;
}

/* ---- Lines ------------------------------------------------------------------- */

static int is_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* "NAME:LINE: " then the message. */
__attribute__((format(printf, 2, 3)))
static int line_fail(struct reader *r, const char *fmt, ...)
{
	char msg[GBA_CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gba_conf_fail(r->err, r->err_size, "%s:%u: %s", r->name, r->line, msg);
}

static int section_line(struct reader *r, char *line)
{
	size_t n = strlen(line);
	char *inner, why[GBA_CONF_ERR_MAX];

	if (!has_sections(r->spec))
		return line_fail(r, "this file has no [sections]");
	if (line[n - 1] != ']')
		return line_fail(r, "section header without ']'");
	line[n - 1] = '\0';
	inner = gba_conf_trim(line + 1);
	if (!is_name(inner) || strlen(inner) >= sizeof(r->section))
		return line_fail(r, "bad section name '%.63s'", inner);
	if (!section_exists(r->spec, inner)) {
		unknown_section(r->spec, inner, why, sizeof(why));
		return line_fail(r, "%s", why);
	}
	memcpy(r->section, inner, strlen(inner) + 1);
	return 0;
}

/* Mark a table key as set by the file; a second time is an error. */
static int mark_seen(struct reader *r, const struct gba_conf_key *k)
{
	size_t i = (size_t)(k - r->spec->keys);
	unsigned char bit = (unsigned char)(1u << (i % 8));

	if ((r->seen[i / 8] & bit) && !(k->flags & GBA_CONF_REPEAT))
		return -1;
	r->seen[i / 8] |= bit;
	return 0;
}

static int assignment_line(struct reader *r, char *line)
{
	char *eq = strchr(line, '='), *key, *value, name[160];
	const struct gba_conf_key *k;

	if (!eq)
		return line_fail(r, "expected 'key = value'");
	if (!*r->section && has_sections(r->spec) && !section_exists(r->spec, ""))
		return line_fail(r, "key outside any [section]");
	*eq = '\0';
	key = gba_conf_trim(line);
	value = gba_conf_trim(eq + 1);
	if (!*key)
		return line_fail(r, "key missing before '='");
	k = find_key(r->spec, r->section, key);
	conf_key_name(name, sizeof(name), r->section, k ? k->key : key);
	if (k && mark_seen(r, k))
		return line_fail(r, "key '%s': given twice", name);
	if (gba_conf_set(r->spec, r->obj, r->section, key, value, r->err, r->err_size)) {
		char msg[GBA_CONF_ERR_MAX];
		snprintf(msg, sizeof(msg), "%s", r->err);
		return line_fail(r, "%s", msg);
	}
	return 0;
}

static int check_bytes(struct reader *r, const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0')
			return line_fail(r, "NUL octet");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return line_fail(r, "control character 0x%02x", c);
	}
	return 0;
}

/* One line without its newline; a carriage return before it is dropped. */
static int one_line(struct reader *r, char *raw, size_t len)
{
	char *line;

	if (len && raw[len - 1] == '\r')
		raw[--len] = '\0';
	if (len > GBA_CONF_LINE_MAX)
		return line_fail(r, "line longer than %d octets", GBA_CONF_LINE_MAX);
	if (check_bytes(r, raw, len))
		return -1;
	line = gba_conf_trim(raw);
	if (*line == '\0' || *line == '#')
		return 0;
	if (*line == '[')
		return section_line(r, line);
	return assignment_line(r, line);
}

static int check_required(struct reader *r)
{
	char name[160];

	for (size_t i = 0; i < r->spec->n_keys; i++) {
		const struct gba_conf_key *k = &r->spec->keys[i];
		if ((k->flags & GBA_CONF_REQUIRED) && !(r->seen[i / 8] & (1u << (i % 8)))) {
			conf_key_name(name, sizeof(name), k->section, k->key);
			return gba_conf_fail(r->err, r->err_size, "%s: key '%s': required", r->name,
					     name);
		}
	}
	return 0;
}

int gba_conf_parse(const struct gba_conf_spec *spec, void *obj, const char *name, char *text,
		   size_t len, unsigned char *seen, char *err, size_t err_size)
{
	struct reader r = { .spec = spec, .obj = obj, .name = name, .seen = seen,
			    .err = err, .err_size = err_size };
	size_t pos = 0;
	int rc = 0;

	if (!seen && !(r.seen = calloc(1, GBA_CONF_SEEN_SIZE(spec->n_keys) + 1)))
		return gba_conf_fail(err, err_size, "%s: out of memory", name);
	while (!rc && pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		r.line++;
		text[pos + n] = '\0';   /* the newline, or the octet after the text */
		rc = one_line(&r, text + pos, n);
		pos += n + 1;
	}
	if (!rc)
		rc = check_required(&r);
	if (!seen)
		free(r.seen);
	return rc;
}

/* ---- Files ------------------------------------------------------------------- */

/* Append what f holds to a buffer of GBA_CONF_FILE_MAX + 1 octets. */
static int slurp(FILE *f, int fd, char *buf, size_t *len)
{
	*len = 0;
	for (;;) {
		size_t room = GBA_CONF_FILE_MAX + 1 - *len;
		ssize_t n = f ? (ssize_t)fread(buf + *len, 1, room, f) : read(fd, buf + *len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (f && n == 0 && ferror(f)))
			return -1;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > GBA_CONF_FILE_MAX)
			return -2;
	}
}

static int parse_read(const struct gba_conf_spec *spec, void *obj, FILE *f, int fd,
		      const char *name, unsigned char *seen, char *err, size_t err_size)
{
	char *buf = malloc(GBA_CONF_FILE_MAX + 2);
	size_t len;
	int rc;

	if (!buf)
		return gba_conf_fail(err, err_size, "%s: out of memory", name);
	rc = slurp(f, fd, buf, &len);
	if (rc == -1)
		rc = gba_conf_fail(err, err_size, "%s: read error: %s", name, strerror(errno)) - 1;
	else if (rc)
		gba_conf_fail(err, err_size, "%s: larger than %d octets", name, GBA_CONF_FILE_MAX);
	else
		rc = gba_conf_parse(spec, obj, name, buf, len, seen, err, err_size);
	if (spec->flags & GBA_CONF_WIPE)
		gba_wipe(buf, GBA_CONF_FILE_MAX + 2);
	free(buf);
	return rc == -2 ? -2 : rc ? -1 : 0;
}

int gba_conf_parse_stream(const struct gba_conf_spec *spec, void *obj, FILE *f,
			  const char *name, unsigned char *seen, char *err, size_t err_size)
{
	return parse_read(spec, obj, f, -1, name, seen, err, err_size);
}

/* Files that hold secrets are read with read(2): no stdio buffer keeps them. */
int gba_conf_load(const struct gba_conf_spec *spec, void *obj, const char *path,
		  unsigned char *seen, char *err, size_t err_size)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	int rc;

	if (fd < 0)
		return gba_conf_fail(err, err_size, "%s: %s", path, strerror(errno)) - 1;
	rc = parse_read(spec, obj, NULL, fd, path, seen, err, err_size);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int gba_conf_set_arg(const struct gba_conf_spec *spec, void *obj, const char *opt,
		     const char *arg, char *err, size_t err_size)
{
	const char *eq = strchr(arg, '='), *dot = NULL;
	char section[64] = "", key[96], why[GBA_CONF_ERR_MAX];
	size_t klen;

	if (eq && has_sections(spec)) {
		dot = memchr(arg, '.', (size_t)(eq - arg));
		if (!dot || (size_t)(dot - arg) >= sizeof(section))
			return gba_conf_fail(err, err_size, "%s: expected SECTION.KEY=VALUE", opt);
		memcpy(section, arg, (size_t)(dot - arg));
		section[dot - arg] = '\0';
	}
	if (!eq)
		return gba_conf_fail(err, err_size, "%s: expected %s", opt,
				     has_sections(spec) ? "SECTION.KEY=VALUE" : "KEY=VALUE");
	klen = (size_t)(eq - (dot ? dot + 1 : arg));
	if (klen >= sizeof(key))
		return gba_conf_fail(err, err_size, "%s: key too long", opt);
	memcpy(key, dot ? dot + 1 : arg, klen);
	key[klen] = '\0';
	if (gba_conf_set(spec, obj, section, key, eq + 1, why, sizeof(why)))
		return gba_conf_fail(err, err_size, "%s: %s", opt, why);
	return 0;
}

int gba_conf_was_set(const struct gba_conf_spec *spec, const unsigned char *seen,
		     const char *section, const char *key)
{
	const struct gba_conf_key *k = find_key(spec, section, key);
	size_t i;

	if (!k)
		return 0;
	i = (size_t)(k - spec->keys);
	return (seen[i / 8] >> (i % 8)) & 1;
}
