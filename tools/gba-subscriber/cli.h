/*
 * cli.h - what gba-subscriber's commands share (main.c defines it): exit
 * codes, messages, opening the database, and the key and GUSS inputs of
 * add and update.  A command is a cmd_*.c file and a line in main.c's run().
 */
#ifndef GBA_SUBSCRIBER_CLI_H
#define GBA_SUBSCRIBER_CLI_H

#include <getopt.h>

#include <gba/subscriber_db.h>

#include "keys.h"

/* Exit codes (documented in --help and docs/subscribers.md). */
enum {
	EXIT_DONE = 0,        /* success */
	EXIT_FAILED = 1,      /* the database could not be opened, read or written */
	EXIT_USAGE = 2,       /* bad command line or bad input (CSV, keys, GUSS) */
	EXIT_NOT_FOUND = 3,   /* show/remove/update/set-sqn: no such subscriber */
	EXIT_EXISTS = 4,      /* add/import: the IMPI is there already */
};

/* add's inputs; update fills the key part of it too. */
struct add_args {
	const char *impi, *imsi, *algo, *amf, *guss_file, *k_file;
	char impus[GBA_IMPU_LIST_MAX + 1];
	struct key_input keys;        /* secret */
	unsigned long long sqn, ind_bits, iterations, res_len;
	int have_iterations, have_res_len;
};

__attribute__((format(printf, 2, 3)))
int fail(int code, const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...);
int bad_option(int opt, char **argv);
int exact_options(int argc, char **argv, const struct option *opts);
int exit_code(gba_err err);
int open_db(const char *path, int must_exist, struct gba_subdb **db);
int parse_number(const char *opt, const char *s, unsigned long long max,
		 unsigned long long *out);
int read_guss(const char *path, char *buf, size_t size, size_t *len);
int build_key(const struct add_args *a, struct gba_aka_key *key);
const char *field_help(const char *field);
int one_impi(int argc, char **argv, const char *cmd, const char **impi);

/* cmd_view.c */
int cmd_list(int argc, char **argv, const char *db_path);
int cmd_show(int argc, char **argv, const char *db_path);
int cmd_export(int argc, char **argv, const char *db_path);
/* cmd_import.c */
int cmd_import(int argc, char **argv, const char *db_path);
/* cmd_admin.c */
int cmd_update(int argc, char **argv, const char *db_path);
int cmd_set_sqn(int argc, char **argv, const char *db_path);

#endif
