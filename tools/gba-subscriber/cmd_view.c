/*
 * cmd_view.c - gba-subscriber's read-only commands: list and show (text or
 * --json; show by IMPI or IMSI) and export (CSV or JSON, to stdout or a
 * file).  None prints K, OP or OPc: the database gives none out.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/subscriber_db.h>

#include "cli.h"

enum view_format { FMT_TEXT, FMT_JSON, FMT_CSV };

static const char *algo_name(enum gba_aka_algo algo)
{
	return algo == GBA_AKA_TUAK ? "tuak" : "milenage";
}

/* A JSON string of printable ASCII (what the database admits), escaped. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void json_one(FILE *out, const struct gba_subscriber_info *info)
{
	uint64_t ind_mask = (UINT64_C(1) << info->ind_bits) - 1;
	const char *p = info->impus;

	fputs("{\"impi\": ", out);
	json_str(out, info->impi);
	fputs(", \"imsi\": ", out);
	if (*info->imsi)
		json_str(out, info->imsi);
	else
		fputs("null", out);
	fputs(", \"impus\": [", out);
	while (*p) {
		size_t n = strcspn(p, ",");
		char one[GBA_IMPU_LIST_MAX + 1];

		memcpy(one, p, n);
		one[n] = '\0';
		json_str(out, one);
		p += n;
		if (*p == ',' && *++p)
			fputs(", ", out);
	}
	fprintf(out, "], \"algorithm\": \"%s\", \"amf\": \"%02x%02x\", \"sqn\": %llu, "
		"\"seq\": %llu, \"ind\": %llu, \"ind_bits\": %u, \"guss_octets\": %zu}",
		algo_name(info->algo), info->amf[0], info->amf[1],
		(unsigned long long)info->sqn, (unsigned long long)(info->sqn >> info->ind_bits),
		(unsigned long long)(info->sqn & ind_mask), info->ind_bits, info->guss_len);
}

/* An RFC 4180 field: quoted when it holds a quote, a comma or a line end. */
static void csv_field(FILE *out, const char *s)
{
	if (!s[strcspn(s, "\",\r\n")]) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_one(FILE *out, const struct gba_subscriber_info *info)
{
	char impus[GBA_IMPU_LIST_MAX + 1];

	/* import's convention: IMPUs separated by ';' inside their field */
	memcpy(impus, info->impus, sizeof(impus));
	for (char *c = impus; *c; c++)
		if (*c == ',')
			*c = ';';
	csv_field(out, info->impi);
	fputc(',', out);
	csv_field(out, info->imsi);
	fputc(',', out);
	csv_field(out, impus);
	fprintf(out, ",%s,%02x%02x,%llu,%u,%zu\r\n", algo_name(info->algo), info->amf[0],
		info->amf[1], (unsigned long long)info->sqn, info->ind_bits, info->guss_len);
}

static void text_one(FILE *out, const struct gba_subscriber_info *info)
{
	uint64_t ind_mask = (UINT64_C(1) << info->ind_bits) - 1;

	fprintf(out, "impi: %s\n", info->impi);
	fprintf(out, "imsi: %s\n", *info->imsi ? info->imsi : "-");
	fprintf(out, "impus: %s\n", *info->impus ? info->impus : "-");
	fprintf(out, "algorithm: %s\n", algo_name(info->algo));
	fprintf(out, "amf: %02x%02x\n", info->amf[0], info->amf[1]);
	fprintf(out, "sqn: %llu (seq %llu, ind %llu)\n", (unsigned long long)info->sqn,
		(unsigned long long)(info->sqn >> info->ind_bits),
		(unsigned long long)(info->sqn & ind_mask));
	fprintf(out, "ind_bits: %u\n", info->ind_bits);
	if (info->guss_len)
		fprintf(out, "guss: %zu octets\n", info->guss_len);
	else
		fprintf(out, "guss: none\n");
}

/* One row per subscriber in the chosen format; JSON rows form an array. */
struct rows {
	FILE *out;
	enum view_format fmt;
	const char *imsi;   /* show by IMSI: only these rows */
	size_t n;
};

static int row(const struct gba_subscriber_info *info, void *arg)
{
	struct rows *r = arg;

	if (r->imsi && strcmp(r->imsi, info->imsi))
		return 0;
	if (r->fmt == FMT_JSON) {
		fputs(r->n ? ",\n  " : "[\n  ", r->out);
		json_one(r->out, info);
	} else if (r->fmt == FMT_CSV) {
		csv_one(r->out, info);
	} else if (r->imsi) {
		if (r->n)
			fputc('\n', r->out);
		text_one(r->out, info);
	} else {
		fprintf(r->out, "%s\t%s\t%s\t%llu\t%s\n", info->impi,
			*info->imsi ? info->imsi : "-", algo_name(info->algo),
			(unsigned long long)info->sqn, *info->impus ? info->impus : "-");
	}
	r->n++;
	return 0;
}

static void rows_begin(struct rows *r)
{
	if (r->fmt == FMT_CSV)
		fputs("impi,imsi,impus,algorithm,amf,sqn,ind_bits,guss_octets\r\n", r->out);
	else if (r->fmt == FMT_TEXT && !r->imsi)
		fputs("# impi\timsi\talgorithm\tsqn\timpus\n", r->out);
}

static void rows_end(struct rows *r)
{
	if (r->fmt == FMT_JSON)
		fputs(r->n ? "\n]\n" : "[]\n", r->out);
}

/* Every subscriber (or those of r->imsi) through row(). */
static int emit(const char *db_path, struct rows *r, const char *cmd)
{
	struct gba_subdb *db = NULL;
	gba_err err;
	int rc = open_db(db_path, 1, &db);

	if (rc)
		return rc;
	rows_begin(r);
	err = gba_subdb_list(db, row, r);
	gba_subdb_close(db);
	if (err)
		return fail(exit_code(err), "%s: %s", cmd, gba_strerror(err));
	rows_end(r);
	return fflush(r->out) ? fail(EXIT_FAILED, "%s: %s", cmd, strerror(errno)) : EXIT_DONE;
}

/* [--json] and nothing else but the positional arguments. */
static int json_flag(int *argc, char **argv, enum view_format *fmt)
{
	int n = 0;

	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*fmt = FMT_JSON;
		else if (i && argv[i][0] == '-' && argv[i][1])
			return usage_error("%s: unknown option '%s' (known: --json)", argv[0],
					   argv[i]);
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	return EXIT_DONE;
}

int cmd_list(int argc, char **argv, const char *db_path)
{
	struct rows r = { stdout, FMT_TEXT, NULL, 0 };
	int rc = json_flag(&argc, argv, &r.fmt);

	if (!rc && argc != 1)
		rc = usage_error("list takes no argument but --json");
	return rc ? rc : emit(db_path, &r, "list");
}

static int all_digits(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n >= 6 && n <= GBA_IMSI_MAX && !s[n];
}

/* show IMPI, or show IMSI: every subscriber with that IMSI. */
int cmd_show(int argc, char **argv, const char *db_path)
{
	struct rows r = { stdout, FMT_TEXT, NULL, 0 };
	struct gba_subscriber_info info;
	struct gba_subdb *db = NULL;
	const char *id = NULL;
	gba_err err;
	int rc = json_flag(&argc, argv, &r.fmt);

	if (!rc)
		rc = one_impi(argc, argv, "show", &id);
	if (!rc)
		rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	err = gba_subdb_get(db, id, &info);
	gba_subdb_close(db);
	if (err == GBA_ERR_NOT_FOUND && all_digits(id)) {
		r.imsi = id;
		rc = emit(db_path, &r, "show");
		if (!rc && !r.n)
			rc = fail(EXIT_NOT_FOUND, "%s: no subscriber has this IMPI or IMSI", id);
		return rc;
	}
	if (err == GBA_ERR_NOT_FOUND)
		return fail(EXIT_NOT_FOUND, "%s: no such subscriber", id);
	if (err)
		return fail(exit_code(err), "show: %s", gba_strerror(err));
	if (r.fmt == FMT_JSON) {
		json_one(stdout, &info);
		fputc('\n', stdout);
	} else {
		text_one(stdout, &info);
	}
	return EXIT_DONE;
}

static const struct option export_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "out", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* export [--format csv|json] [--out FILE]: every subscriber's public data. */
int cmd_export(int argc, char **argv, const char *db_path)
{
	struct rows r = { stdout, FMT_CSV, NULL, 0 };
	const char *path = NULL;
	int opt, rc = EXIT_DONE;

	optind = 0;
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":", export_options, NULL)) != -1) {
		if (opt == 'f' && !strcmp(optarg, "csv"))
			r.fmt = FMT_CSV;
		else if (opt == 'f' && !strcmp(optarg, "json"))
			r.fmt = FMT_JSON;
		else if (opt == 'f')
			rc = usage_error("export --format: csv or json");
		else if (opt == 'o')
			path = optarg;
		else
			rc = bad_option(opt, argv);
	}
	if (!rc && optind < argc)
		rc = usage_error("export: unexpected argument '%s'", argv[optind]);
	if (rc)
		return rc;
	if (path && !(r.out = fopen(path, "we")))
		return fail(EXIT_FAILED, "export: %s: %s", path, strerror(errno));
	rc = emit(db_path, &r, "export");
	if (path && fclose(r.out) && !rc)
		rc = fail(EXIT_FAILED, "export: %s: %s", path, strerror(errno));
	if (!rc && path)
		fprintf(stderr, "exported %zu subscribers to %s\n", r.n, path);
	return rc;
}
