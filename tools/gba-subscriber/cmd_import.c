/*
 * cmd_import.c - gba-subscriber import: many subscribers from a CSV file
 * (RFC 4180, a header row naming the columns or the positional layout),
 * all or nothing; --upsert and --skip-existing for IMPIs already there.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gba/subscriber_db.h>

#include "cli.h"

static const struct option import_options[] = {
	{ "upsert", no_argument, NULL, 'u' },
	{ "skip-existing", no_argument, NULL, 's' },
	{ "mnc-len", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static int import_args(int argc, char **argv, struct gba_subdb_import_opts *o,
		       const char **path)
{
	unsigned long long mnc_len;
	int opt, rc = EXIT_DONE;

	optind = 0;
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":", import_options, NULL)) != -1) {
		if (opt == 'u' || opt == 's') {
			if (o->mode != GBA_SUBDB_IMPORT_ADD)
				return usage_error("import: --upsert or --skip-existing, not both");
			o->mode = opt == 'u' ? GBA_SUBDB_IMPORT_UPSERT
					     : GBA_SUBDB_IMPORT_SKIP_EXISTING;
		} else if (opt == 'm') {
			rc = parse_number("--mnc-len", optarg, 3, &mnc_len);
			if (!rc && mnc_len < 2)
				rc = usage_error("--mnc-len: 2 or 3");
			o->mnc_len = (unsigned)mnc_len;
		} else {
			rc = bad_option(opt, argv);
		}
	}
	if (!rc && optind + 1 != argc)
		rc = usage_error("import takes one CSV file ('-' for stdin)");
	if (!rc)
		*path = argv[optind];
	return rc;
}

/*
 * Why a record failed, in words a user can act on.  A header row without an
 * impi column makes the IMPI from the IMSI (TS 23.003 13.3), which needs the
 * MNC's length: a card file (pySim, a SIM vendor's) read without --mnc-len
 * or an mnc column fails there, and "invalid argument" alone said nothing.
 */
static const char *record_error(gba_err err, const struct gba_subdb_import_opts *o)
{
	if (err == GBA_ERR_EXISTS)
		return "this IMPI exists already (--upsert or --skip-existing to go on)";
	if (err == GBA_ERR_INVALID_ARG && !o->mnc_len)
		return "invalid argument (a file without an impi column derives the IMPI from "
		       "the IMSI: give --mnc-len 2|3 or an mnc column)";
	return gba_strerror(err);
}

static int report(gba_err err, const char *path, const struct gba_subdb_import_opts *o,
		  const struct gba_subdb_import_result *res)
{
	if (err && res->bad_line)
		return fail(exit_code(err), "%s:%zu: %s; nothing imported", path, res->bad_line,
			    record_error(err, o));
	if (err)
		return fail(exit_code(err), "%s: %s; nothing imported", path, gba_strerror(err));
	printf("imported %zu subscribers from %s (%zu added, %zu updated, %zu skipped)\n",
	       res->added + res->updated, path, res->added, res->updated, res->skipped);
	return EXIT_DONE;
}

/* import [--upsert | --skip-existing] [--mnc-len 2|3] FILE.csv */
int cmd_import(int argc, char **argv, const char *db_path)
{
	struct gba_subdb_import_opts o = { GBA_SUBDB_IMPORT_ADD, 0 };
	struct gba_subdb_import_result res = { 0, 0, 0, 0 };
	struct gba_subdb *db = NULL;
	const char *path = NULL;
	FILE *f;
	int rc = import_args(argc, argv, &o, &path);

	if (rc)
		return rc;
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f)
		return fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	rc = open_db(db_path, 0, &db);
	if (!rc)
		rc = report(gba_subdb_import_csv_opts(db, f, &o, &res), path, &o, &res);
	gba_subdb_close(db);
	if (f != stdin)
		fclose(f);
	return rc;
}
