/*
 * gba_cli.h - the command-line convention every gba program shares (not
 * installed): --version's line, the answer to an unknown option, and the
 * SSLKEYLOGFILE file of the programs that speak TLS.
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

/*
 * SSLKEYLOGFILE (for Wireshark): GnuTLS 3.7 itself appends every session's
 * secrets to the file that variable names, and writes nothing when it is
 * unset or empty, but it creates the file with fopen(3), 0666 less the
 * umask.  When it is set, create it (or take the existing one, which must
 * be a regular file of ours) with mode 0600 before any TLS session, and say
 * on stderr that secrets go there.  0: unset, or ready; -1: it cannot be
 * made 0600 (said on stderr; the program should not start).
 */
int gba_cli_keylog(const char *prog);

#endif /* GBA_CLI_H */
