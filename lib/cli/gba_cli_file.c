/*
 * gba_cli_file.c - -c/--config FILE for a program whose settings are its
 * long options (gba-hss-sim): "name = value" lines, each given to the same
 * handler as --name value (gba_cli.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "gba_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX (64 * 1024)
#define SECTION_MAX 32
#define NAME_MAX_ 64

/* The file's text: the options point into it for the life of the process. */
static char *conf_text;

static int slurp(const char *prog, const char *path)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	free(conf_text);
	conf_text = malloc(CONF_MAX + 1);
	n = conf_text ? fread(conf_text, 1, CONF_MAX, f) : 0;
	if (!conf_text || ferror(f) || (n == CONF_MAX && fgetc(f) != EOF) ||
	    memchr(conf_text, '\0', n)) {
		fprintf(stderr, "%s: %s: unreadable, larger than %d octets or holding a NUL\n",
			prog, path, CONF_MAX);
		fclose(f);
		return -1;
	}
	fclose(f);
	conf_text[n] = '\0';
	return 0;
}

/* The long option a key names: one that takes a value (flags stay options). */
static const struct option *find(const struct option *opts, const char *name)
{
	for (const struct option *o = opts; o->name; o++)
		if (!strcmp(o->name, name) && o->has_arg == required_argument &&
		    strcmp(name, "config"))
			return o;
	return NULL;
}

static void known_keys(const char *prog, const struct option *opts)
{
	fprintf(stderr, "%s: known keys:", prog);
	for (const struct option *o = opts; o->name; o++)
		if (find(opts, o->name))
			fprintf(stderr, " %s", o->name);
	fputc('\n', stderr);
}

/* One line: "[section]", or "key = value" (section.key when in a section). */
static int line(const char *prog, const char *path, unsigned n, char *s, char *section,
		const struct option *opts, gba_cli_apply_fn *apply, void *arg)
{
	char name[SECTION_MAX + NAME_MAX_ + 2], *eq = strchr(s, '=');
	const struct option *o;
	size_t len = strlen(s);

	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']' || len - 2 > SECTION_MAX) {
			fprintf(stderr, "%s: %s:%u: expected [section]\n", prog, path, n);
			return -1;
		}
		memcpy(section, s + 1, len - 2);
		section[len - 2] = '\0';
		return 0;
	}
	if (!eq) {
		fprintf(stderr, "%s: %s:%u: expected key = value\n", prog, path, n);
		return -1;
	}
	*eq = '\0';
	s = gba_cli_trim(s);
	snprintf(name, sizeof(name), "%s%s%.*s", section, *section ? "." : "", NAME_MAX_, s);
	o = find(opts, name);
	if (!o) {
		fprintf(stderr, "%s: %s:%u: unknown key '%s'\n", prog, path, n, name);
		known_keys(prog, opts);
		return -1;
	}
	if (apply(arg, o->val, gba_cli_trim(eq + 1))) {
		fprintf(stderr, "%s: %s:%u: key '%s': bad value (see --help)\n", prog, path, n,
			name);
		return -1;
	}
	return 0;
}

int gba_cli_config_file(const char *prog, const char *path, const struct option *opts,
			gba_cli_apply_fn *apply, void *arg)
{
	char section[SECTION_MAX + 1] = "";
	unsigned n = 0;

	if (slurp(prog, path))
		return GBA_CLI_EXIT_USAGE;
	for (char *s = conf_text, *next; s; s = next) {
		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		n++;
		s = gba_cli_trim(s);
		if (*s && *s != '#' && line(prog, path, n, s, section, opts, apply, arg))
			return GBA_CLI_EXIT_USAGE;
	}
	return 0;
}
