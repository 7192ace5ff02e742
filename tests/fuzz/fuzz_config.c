/*
 * fuzz_config.c - libFuzzer target for the daemons' configuration file
 * readers.  The first octet chooses (bit 0), the rest is the file:
 *
 *   0  gba-bsf's (bsf/config.c): config_parse_file, then config_finish
 *   1  gba-naf's (naf/daemon/config.c): ncfg_load from a file in a mkdtemp
 *      directory on /dev/shm, then ncfg_finish
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - gba-bsf: a refusal names the file and line ("fuzz.conf:N: ..."); an
 *    accepted file printed by config_print (what `gba-bsf --check` shows)
 *    parses again to a configuration that prints the same;
 *  - gba-naf: a refusal names the file; a file with a NUL octet or a line
 *    longer than 4096 octets is refused, not cut (ncfg_load read lines
 *    into a 2048-octet buffer: a longer line was read as two, and a NUL
 *    ended it silently); the tables hold at most NCFG_MAP_MAX
 *    NUL-terminated entries.
 */
#define _GNU_SOURCE
#include <strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bsf/config.h"
#include "../../naf/daemon/config.h"

#include "fuzz_check.h"
#include "../common/conf_demo.h"

#define NAF_LINE_MAX 4096   /* longest line ncfg_load takes, as gba-bsf's reader */

static char dir[64], naf_path[128];

static void tear_down(void)
{
	unlink(naf_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_config.XXXXXX");
	check(mkdtemp(dir) != NULL);
	snprintf(naf_path, sizeof(naf_path), "%s/gba-naf.conf", dir);
	atexit(tear_down);
	return 0;
}

/* ---- gba-bsf ------------------------------------------------------------------- */

/* Parse text as a config file; 0 or -1 (err has why). */
static int bsf_parse(const char *text, size_t len, struct bsf_config *cfg, char *err,
		     size_t err_size)
{
	struct config_seen seen;
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	check(f != NULL);
	memset(&seen, 0, sizeof(seen));
	config_defaults(cfg);
	rc = config_parse_file(cfg, &seen, f, "fuzz.conf", err, err_size);
	fclose(f);
	if (!rc)
		rc = config_finish(cfg, err, err_size);
	return rc;
}

static char *bsf_print(const struct bsf_config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	check(f != NULL);
	config_print(cfg, f);
	check(fclose(f) == 0);
	return text;
}

static void fuzz_bsf(const uint8_t *data, size_t size)
{
	static struct bsf_config cfg, again;
	char err[CFG_ERR_MAX];
	char *first, *second;
	size_t first_len, second_len;

	if (size == 0)
		return;   /* fmemopen needs a buffer */
	err[0] = '\0';
	if (bsf_parse((const char *)data, size, &cfg, err, sizeof(err))) {
		check(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err));
		return;
	}
	first = bsf_print(&cfg, &first_len);
	check(bsf_parse(first, first_len, &again, err, sizeof(err)) == 0);
	second = bsf_print(&again, &second_len);
	check(first_len == second_len && !memcmp(first, second, first_len));
	free(first);
	free(second);
}

/* ---- gba-naf ------------------------------------------------------------------- */

/* A NUL octet, or a line (without its newline) longer than the reader's buffer. */
static int naf_must_refuse(const uint8_t *data, size_t size)
{
	size_t line = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0')
			return 1;
		if (data[i] == '\n')
			line = 0;
		else if (++line > NAF_LINE_MAX)
			return 1;
	}
	return 0;
}

static void check_map(const struct ncfg_map *m)
{
	check(m->n <= NCFG_MAP_MAX);
	for (unsigned i = 0; i < m->n; i++)
		check(strnlen(m->key[i], NCFG_STR + 1) <= NCFG_STR &&
		      strnlen(m->value[i], NCFG_STR + 1) <= NCFG_STR);
}

static void fuzz_naf(const uint8_t *data, size_t size)
{
	static struct naf_config c;
	char err[512];
	FILE *f = fopen(naf_path, "wb");

	check(f != NULL);
	check(fwrite(data, 1, size, f) == size && fclose(f) == 0);
	ncfg_defaults(&c);
	err[0] = '\0';
	if (ncfg_load(&c, naf_path, err, sizeof(err))) {
		check(!strncmp(err, naf_path, strlen(naf_path)));
		return;
	}
	check(!naf_must_refuse(data, size));
	check_map(&c.nodes);
	check_map(&c.targets);
	check_map(&c.groups);
	check_map(&c.lifetimes);
	err[0] = '\0';
	if (ncfg_finish(&c, err, sizeof(err)))
		check(err[0] != '\0');
}

/* ---- The reader --------------------------------------------------------------- */

/* Line n (from 1) of text without its newline, carriage return and blanks; its length. */
static const char *nth_line(const char *text, size_t len, unsigned long n, size_t *line_len)
{
	const char *p = text, *end = text + len;

	for (unsigned long i = 1; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		check(nl != NULL);   /* the line a message names exists */
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*line_len = (size_t)((nl ? nl : end) - p);
	return p;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The key part of a line (before '=', trimmed) into out. */
static void line_key(const char *line, size_t n, char *out, size_t size, const char **value)
{
	const char *eq = memchr(line, '=', n), *a = line, *b;

	check(eq != NULL);
	b = eq;
	while (a < b && blank(*a))
		a++;
	while (b > a && blank(b[-1]))
		b--;
	snprintf(out, size, "%.*s", (int)(b - a), a);
	*value = eq + 1;
}

/* Whether the value after '=' on the line is a run of 12+ hex digits. */
static size_t hex_value(const char *v, const char *end, const char **start)
{
	size_t n = 0;

	while (v < end && blank(*v))
		v++;
	*start = v;
	while (v + n < end && strchr("0123456789abcdefABCDEF", v[n]) && v[n])
		n++;
	return n >= 12 ? n : 0;
}

static const struct gba_conf_key *spec_key(const struct gba_conf_spec *sp, const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *k = dot && sp == &spec ? dot + 1 : name;

	for (size_t i = 0; i < sp->n_keys; i++)
		if (!strcasecmp(sp->keys[i].key, k))
			return &sp->keys[i];
	return NULL;
}

/* "fuzz.conf:N: key 'NAME': ..." against line N of the input. */
static void check_named_key(const struct gba_conf_spec *sp, const char *text, size_t len,
			    unsigned long n, const char *msg)
{
	static char key[GBA_CONF_LINE_MAX + 8], name[GBA_CONF_ERR_MAX], hex[GBA_CONF_LINE_MAX];
	const char *line, *value, *hstart, *at;
	size_t line_len, hn;
	const struct gba_conf_key *k;

	if (strncmp(msg, "key '", 5))
		return;   /* a line error that names no key */
	line = nth_line(text, len, n, &line_len);
	line_key(line, line_len, key, sizeof(key), &value);
	/* "key 'KEY': " or "key 'SECTION.KEY': " (a long one is cut: its start is there). */
	if (strlen(key) > 64)
		strcpy(key + 64, "...");   /* the reader cuts long names so */
	for (at = strcasestr(msg + 5, key); at && strncmp(at + strlen(key), "': ", 3);)
		at = strcasestr(at + 1, key);
	if (strlen(msg) + 1 >= GBA_CONF_ERR_MAX && !at)
		return;
	check(at != NULL);
	check(at == msg + 5 || (at[-1] == '.' && !memchr(msg + 5, '\'', (size_t)(at - msg - 5))));
	snprintf(name, sizeof(name), "%.*s", (int)(at + strlen(key) - msg - 5), msg + 5);
	k = spec_key(sp, name);
	hn = hex_value(value, line + line_len, &hstart);
	if (hn && ((k && (k->flags & GBA_CONF_SECRET)) || !strncmp(name, "peers.", 6))) {
		/* After the key's name: a name may hold the same digits, and names
		 * are not secret. */
		snprintf(hex, sizeof(hex), "%.*s", (int)hn, hstart);
		check(strstr(at + strlen(key), hex) == NULL);
	}
}

static void fuzz_reader(const uint8_t *data, size_t size, int flat_file)
{
	const struct gba_conf_spec *sp = flat_file ? &flat : &spec;
	char *text = malloc(size + 1), err[GBA_CONF_ERR_MAX], *end;
	struct demo d;
	unsigned long n;

	check(text != NULL);
	memcpy(text, data, size);
	memset(&d, 0, sizeof(d));
	gba_conf_defaults(sp, &d);
	err[0] = '\0';
	if (gba_conf_parse(sp, &d, "fuzz.conf", text, size, NULL, err, sizeof(err))) {
		check(strnlen(err, sizeof(err)) < sizeof(err));
		check(!strncmp(err, "fuzz.conf:", 10));
		if (!strncmp(err + 10, " key '", 6)) {
			check(strstr(err, "': required") != NULL);
		} else {
			n = strtoul(err + 10, &end, 10);
			check(n >= 1 && end[0] == ':' && end[1] == ' ');
			check_named_key(sp, (const char *)data, size, n, end + 2);
		}
	} else {
		check(d.key_len == 0 || d.key_len == 16 || d.key_len == 32);
		check(strnlen(d.name, sizeof(d.name)) < sizeof(d.name));
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 2)
		fuzz_reader(data + 1, size - 1, data[0] & 4);
	else if (data[0] & 1)
		fuzz_naf(data + 1, size - 1);
	else
		fuzz_bsf(data + 1, size - 1);
	return 0;
}
