/*
 * gba_cli.h - the command-line convention every gba program shares (not
 * installed): --version's line, and the answer to an unknown option.
 */
#ifndef GBA_CLI_H
#define GBA_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Exit status of a bad command line, in every program. */
#define GBA_CLI_EXIT_USAGE 2

/* "PROG VERSION (libgba VERSION)" on stdout. */
void gba_cli_version(const char *prog);

/*
 * After getopt_long returned '?' or ':' (it has said which option): the
 * known options on stderr, one line, and GBA_CLI_EXIT_USAGE to return.
 */
int gba_cli_unknown(const char *prog, const struct option *opts, const char *shorts);

#endif /* GBA_CLI_H */
