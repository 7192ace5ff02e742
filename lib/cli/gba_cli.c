/* gba_cli.c - the shared command-line convention (gba_cli.h). */
#include "gba_cli.h"

#include <string.h>

#include <gba/version.h>

void gba_cli_version(const char *prog)
{
	printf("%s %s (libgba %s)\n", prog, GBA_VERSION, gba_version());
}

/* The short letter of a long option, when shorts has it. */
static int short_of(const struct option *o, const char *shorts)
{
	return shorts && o->flag == NULL && o->val > 0 && o->val < 128 &&
	       strchr(shorts, o->val) ? o->val : 0;
}

/* A short option no long one stands for (gba-client's -o). */
static int short_only(const struct option *opts, char c)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->flag == NULL && o->val == c)
			return 0;
	return c != ':' && c != '+';
}

int gba_cli_unknown(const char *prog, const struct option *opts, const char *shorts)
{
	fprintf(stderr, "%s: known options:", prog);
	for (const char *s = shorts ? shorts : ""; *s; s++)
		if (short_only(opts, *s))
			fprintf(stderr, " -%c", *s);
	for (const struct option *o = opts; o->name; o++) {
		int c = short_of(o, shorts);

		if (c)
			fprintf(stderr, " -%c|--%s", c, o->name);
		else
			fprintf(stderr, " --%s", o->name);
	}
	fprintf(stderr, " (%s --help explains them)\n", prog);
	return GBA_CLI_EXIT_USAGE;
}
