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

/*
 * Before getopt_long, in a program that reads keys from files: getopt_long
 * takes an abbreviation of a long option for the option, so "--k KEY" would
 * be --k-file with the key for its path (and the key in an error message).
 * Returns 0 when every "--name" in argv is a whole name of opts; else says
 * on stderr which one is unknown (never its value), blanks its value in argv
 * (the next word, or after '='), since it may be a key, and returns
 * GBA_CLI_EXIT_USAGE.
 */
int gba_cli_whole_names(const char *prog, int argc, char **argv, const struct option *opts);

/*
 * For a program that reads its arguments by hand (positional ones, or its
 * own loop; the bench and test tools): -h/--help prints usage on stdout,
 * -V/--version the version, and an argument "--name" that names no entry of
 * opts (NULL: none) is refused naming it, with the known ones; the value
 * after an option of opts that takes one is skipped.  Returns the exit
 * status to return at once (0, or GBA_CLI_EXIT_USAGE), or -1 to go on.
 */
int gba_cli_simple(const char *prog, int argc, char **argv, const struct option *opts,
		   const char *usage);

#endif /* GBA_CLI_H */
