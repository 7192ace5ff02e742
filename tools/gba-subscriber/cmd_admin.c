/*
 * cmd_admin.c - gba-subscriber's commands that change a subscriber in
 * place: update (keys from a key file only, algorithm, AMF, GUSS) and
 * set-sqn / reset-sqn.  Keys go into the file wrapped when it has a KEK
 * (--kek), as add stores them.
 */
#define _GNU_SOURCE /* getopt_long */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/aka.h>
#include <gba/tuak.h>
#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "cli.h"
#include "gba_cli.h"

enum { U_K_FILE = 256, U_ALGO, U_ITERATIONS, U_RES_LEN, U_AMF, U_GUSS_FILE, U_NO_GUSS };

static const struct option update_options[] = {
	{ "k-file", required_argument, NULL, U_K_FILE },
	{ "algo", required_argument, NULL, U_ALGO },
	{ "tuak-iterations", required_argument, NULL, U_ITERATIONS },
	{ "res-len", required_argument, NULL, U_RES_LEN },
	{ "amf", required_argument, NULL, U_AMF },
	{ "guss-file", required_argument, NULL, U_GUSS_FILE },
	{ "no-guss", no_argument, NULL, U_NO_GUSS },
	{ NULL, 0, NULL, 0 },
};

struct update_args {
	struct add_args a;    /* k_file, algo, TUAK parameters, amf, guss_file */
	int no_guss;
};

static int update_option(struct update_args *u, int opt, const char *arg)
{
	switch (opt) {
	case U_K_FILE: u->a.k_file = arg; return EXIT_DONE;
	case U_ALGO: u->a.algo = arg; return EXIT_DONE;
	case U_ITERATIONS:
		u->a.have_iterations = 1;
		return parse_number("--tuak-iterations", arg, GBA_TUAK_ITERATIONS_MAX,
				    &u->a.iterations);
	case U_RES_LEN:
		u->a.have_res_len = 1;
		return parse_number("--res-len", arg, 16, &u->a.res_len);
	case U_AMF: u->a.amf = arg; return EXIT_DONE;
	case U_GUSS_FILE: u->a.guss_file = arg; return EXIT_DONE;
	case U_NO_GUSS: u->no_guss = 1; return EXIT_DONE;
	default: return usage_error("update: unknown option");
	}
}

/* The change set: keys (with the algorithm), AMF, GUSS, as asked. */
static int build_update(struct update_args *u, enum gba_aka_algo current,
			struct gba_subscriber_update *out, char *guss)
{
	char err_text[256];
	size_t amf_len = 0;
	int rc = EXIT_DONE;

	if (!u->a.k_file && (u->a.algo || u->a.have_iterations || u->a.have_res_len))
		return usage_error("update: the algorithm changes with its keys: give --k-file");
	if (u->a.guss_file && u->no_guss)
		return usage_error("update: --guss-file or --no-guss, not both");
	if (u->a.k_file) {
		if (!u->a.algo)
			u->a.algo = current == GBA_AKA_TUAK ? "tuak" : "milenage";
		if (key_file_read(u->a.k_file, &u->a.keys, err_text, sizeof(err_text)))
			rc = usage_error("%s", err_text);
		if (!rc)
			rc = build_key(&u->a, &out->key);
		gba_wipe(&u->a.keys, sizeof(u->a.keys));
		out->what |= GBA_SUBDB_UPDATE_KEY;
	}
	if (!rc && u->a.amf) {
		if (strlen(u->a.amf) != 4 || gba_hex_decode(out->amf, 2, &amf_len, u->a.amf, 4) ||
		    amf_len != 2)
			return usage_error("--amf: 4 hex digits");
		out->what |= GBA_SUBDB_UPDATE_AMF;
	}
	if (!rc && u->a.guss_file) {
		rc = read_guss(u->a.guss_file, guss, GBA_GUSS_MAX, &out->guss_len);
		out->guss = guss;
	}
	if (!rc && (u->a.guss_file || u->no_guss))
		out->what |= GBA_SUBDB_UPDATE_GUSS;
	if (!rc && !out->what)
		rc = usage_error("update: nothing to change (--k-file, --amf, --guss-file, "
				 "--no-guss)");
	return rc;
}

static int run_update(const char *db_path, const char *impi, struct update_args *u)
{
	static char guss[GBA_GUSS_MAX];
	struct gba_subscriber_update up;
	struct gba_subscriber_info info;
	struct gba_subdb *db = NULL;
	const char *field = NULL;
	gba_err err;
	int rc = open_db(db_path, 1, &db);

	if (rc)
		return rc;
	memset(&up, 0, sizeof(up));
	err = gba_subdb_get(db, impi, &info);
	if (err)
		rc = err == GBA_ERR_NOT_FOUND ? fail(EXIT_NOT_FOUND, "%s: no such subscriber", impi)
					      : fail(exit_code(err), "update: %s", gba_strerror(err));
	if (!rc)
		rc = build_update(u, info.algo, &up, guss);
	if (!rc) {
		err = gba_subdb_update(db, impi, &up, &field);
		if (err == GBA_ERR_NOT_FOUND)
			rc = fail(EXIT_NOT_FOUND, "%s: no such subscriber", impi);
		else if (err && field)
			rc = usage_error("%s", field_help(field));
		else if (err)
			rc = fail(exit_code(err), "update %s: %s", impi, gba_strerror(err));
		else
			printf("updated %s\n", impi);
	}
	gba_wipe(&up, sizeof(up));
	gba_subdb_close(db);
	return rc;
}

/*
 * getopt_long takes a prefix of a long option for the option: "--k HEX"
 * would be --k-file with a key for its path.  Only whole names pass (add
 * and update); lib/cli blanks what follows a refused one.
 */
int exact_options(int argc, char **argv, const struct option *opts)
{
	return gba_cli_whole_names("gba-subscriber", argc, argv, opts);
}

/* update IMPI [--k-file FILE [--algo A] [--tuak-iterations N] [--res-len N]]
 *             [--amf HEX] [--guss-file FILE | --no-guss] */
int cmd_update(int argc, char **argv, const char *db_path)
{
	struct update_args u;
	int opt, rc = EXIT_DONE;

	memset(&u, 0, sizeof(u));
	rc = exact_options(argc, argv, update_options);
	optind = 0;
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":", update_options, NULL)) != -1)
		rc = opt == '?' || opt == ':' ? bad_option(opt, argv)
					      : update_option(&u, opt, optarg);
	if (rc)
		return rc;
	if (optind + 1 != argc)
		return usage_error("update takes one IMPI");
	if (strlen(argv[optind]) > GBA_IMPI_MAX)
		return usage_error("update: an IMPI has at most %d characters", GBA_IMPI_MAX);
	return run_update(db_path, argv[optind], &u);
}

/* set-sqn IMPI N (the last SQN issued, SEQ || IND), reset-sqn IMPI (0). */
int cmd_set_sqn(int argc, char **argv, const char *db_path)
{
	int reset = !strcmp(argv[0], "reset-sqn");
	unsigned long long sqn = 0;
	struct gba_subdb *db = NULL;
	gba_err err;
	int rc;

	if (argc != (reset ? 2 : 3))
		return usage_error(reset ? "reset-sqn takes one IMPI"
					 : "set-sqn takes an IMPI and the last SQN issued");
	if (strlen(argv[1]) > GBA_IMPI_MAX)
		return usage_error("%s: an IMPI has at most %d characters", argv[0], GBA_IMPI_MAX);
	rc = reset ? EXIT_DONE : parse_number("set-sqn", argv[2], GBA_SQN_MAX, &sqn);
	if (!rc)
		rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	err = gba_subdb_set_sqn(db, argv[1], (uint64_t)sqn);
	gba_subdb_close(db);
	if (err == GBA_ERR_NOT_FOUND)
		return fail(EXIT_NOT_FOUND, "%s: no such subscriber", argv[1]);
	if (err)
		return fail(exit_code(err), "%s: %s", argv[0], gba_strerror(err));
	printf("%s: sqn %llu\n", argv[1], sqn);
	return EXIT_DONE;
}
