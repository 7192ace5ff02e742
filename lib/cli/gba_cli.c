/* gba_cli.c - the shared command-line convention (gba_cli.h). */
#define _GNU_SOURCE
#include "gba_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int gba_cli_keylog(const char *prog)
{
	const char *path = secure_getenv("SSLKEYLOGFILE");
	struct stat st;
	int fd, ok;

	if (!path || !*path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	     ((st.st_mode & 077) == 0 || !fchmod(fd, 0600));
	if (!ok)
		fprintf(stderr, "%s: SSLKEYLOGFILE %s: %s\n", prog, path,
			fd < 0 ? strerror(errno) : "not a regular file of ours that can be 0600");
	else
		fprintf(stderr, "%s: warning: SSLKEYLOGFILE is set: TLS secrets are written "
				"to %s (for a lab capture only)\n", prog, path);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}
