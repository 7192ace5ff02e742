/* gba_cli.c - the shared command-line convention (gba_cli.h). */
#define _GNU_SOURCE
#include "gba_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/util.h>
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

static int whole_name(const struct option *opts, const char *name, size_t n)
{
	for (const struct option *o = opts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			return 1;
	return 0;
}

int gba_cli_whole_names(const char *prog, int argc, char **argv, const struct option *opts)
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		size_t n = strcspn(a, "=");

		if (!strcmp(a, "--"))
			return 0;
		if (a[0] != '-' || a[1] != '-' || whole_name(opts, a + 2, n - 2))
			continue;
		if (a[n])
			gba_wipe(a + n, strlen(a + n));
		else if (i + 1 < argc)
			gba_wipe(argv[i + 1], strlen(argv[i + 1]));
		fprintf(stderr, "%s: unknown option '%.*s' (keys come from files only)\n", prog,
			(int)(n > 64 ? 64 : n), a);
		gba_cli_unknown(prog, opts, NULL);
		return GBA_CLI_EXIT_USAGE;
	}
	return 0;
}

int gba_cli_simple(const char *prog, int argc, char **argv, const struct option *opts,
		   const char *usage)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	const struct option *o;

	opts = opts ? opts : none;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t n = strcspn(a, "=");

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			gba_cli_version(prog);
			return 0;
		}
		if (a[0] != '-' || a[1] != '-')
			continue;
		for (o = opts; o->name; o++)
			if (strlen(o->name) == n - 2 && !strncmp(o->name, a + 2, n - 2))
				break;
		if (!o->name) {
			fprintf(stderr, "%s: unknown option '%.*s'\n", prog, (int)(n > 64 ? 64 : n),
				a);
			fprintf(stderr, "%s: known options:", prog);
			for (o = opts; o->name; o++)
				fprintf(stderr, " --%s", o->name);
			fprintf(stderr, " -h|--help -V|--version (%s --help explains them)\n", prog);
			return GBA_CLI_EXIT_USAGE;
		}
		if (o->has_arg == required_argument && !a[n])
			i++;
	}
	return -1;
}
