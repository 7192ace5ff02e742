/*
 * cmd_view.c - gba-subscriber's read-only commands: list and show (text or
 * --json; show by IMPI or IMSI) and export (CSV or JSON, to stdout or a
 * file).  K and OPc appear only in export --with-keys, which writes them
 * to a new file of mode 0600 and never to stdout.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

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

/* Hex of n octets (keys of --with-keys only). */
static void hex_out(FILE *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
}

static size_t opc_len(const struct gba_aka_key *key)
{
	return key->algo == GBA_AKA_TUAK ? 32 : 16;
}

static void json_keys(FILE *out, const struct gba_aka_key *key)
{
	fputs(", \"k\": \"", out);
	hex_out(out, key->k, key->k_len);
	fputs("\", \"opc\": \"", out);
	hex_out(out, key->opc, opc_len(key));
	fputc('"', out);
	if (key->algo == GBA_AKA_TUAK)
		fprintf(out, ", \"tuak_iterations\": %u, \"res_len\": %zu", key->tuak_iterations,
			key->res_len);
}

static void json_one(FILE *out, const struct gba_subscriber_info *info,
		     const struct gba_aka_key *key)
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
		"\"seq\": %llu, \"ind\": %llu, \"ind_bits\": %u, \"guss_octets\": %zu",
		algo_name(info->algo), info->amf[0], info->amf[1],
		(unsigned long long)info->sqn, (unsigned long long)(info->sqn >> info->ind_bits),
		(unsigned long long)(info->sqn & ind_mask), info->ind_bits, info->guss_len);
	if (key)
		json_keys(out, key);
	fputc('}', out);
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

static void csv_one(FILE *out, const struct gba_subscriber_info *info,
		    const struct gba_aka_key *key)
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
	fprintf(out, ",%s,", algo_name(info->algo));
	if (key) {
		/* import's header names: the file reads back with import */
		hex_out(out, key->k, key->k_len);
		fputc(',', out);
		hex_out(out, key->opc, opc_len(key));
		fputc(',', out);
	}
	fprintf(out, "%02x%02x,%llu,%u,%zu", info->amf[0], info->amf[1],
		(unsigned long long)info->sqn, info->ind_bits, info->guss_len);
	if (key && key->algo == GBA_AKA_TUAK)
		fprintf(out, ",%u,%zu", key->tuak_iterations, key->res_len);
	else if (key)
		fputc(',', out);
	fputs("\r\n", out);
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
	const struct gba_aka_key *key;   /* export --with-keys: this row's keys */
};

static int row(const struct gba_subscriber_info *info, void *arg)
{
	struct rows *r = arg;

	if (r->imsi && strcmp(r->imsi, info->imsi))
		return 0;
	if (r->fmt == FMT_JSON) {
		fputs(r->n ? ",\n  " : "[\n  ", r->out);
		json_one(r->out, info, r->key);
	} else if (r->fmt == FMT_CSV) {
		csv_one(r->out, info, r->key);
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
	if (r->fmt == FMT_CSV && r->key)
		fputs("impi,imsi,impus,algorithm,k,opc,amf,sqn,ind_bits,guss_octets,"
		      "tuak_iterations,res_len\r\n", r->out);
	else if (r->fmt == FMT_CSV)
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
	struct rows r = { stdout, FMT_TEXT, NULL, 0, NULL };
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

/* show: the IMPI's IMSI mapping for av.source = gsup, if any; 1 when shown. */
static int show_mapping(struct gba_subdb *db, const char *impi, enum view_format fmt)
{
	char imsi[GBA_IMSI_MAX + 1];

	if (gba_subdb_imsi_of(db, impi, imsi))
		return 0;
	if (fmt == FMT_TEXT)
		printf("mapped_imsi: %s\n", imsi);
	return 1;
}

/* show IMPI (its subscriber, its IMSI mapping, or both), or show IMSI: every
 * subscriber with that IMSI. */
int cmd_show(int argc, char **argv, const char *db_path)
{
	struct rows r = { stdout, FMT_TEXT, NULL, 0, NULL };
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
	if (!err && r.fmt == FMT_JSON) {
		json_one(stdout, &info, NULL);
		fputc('\n', stdout);
	} else if (!err) {
		text_one(stdout, &info);
	}
	if (!err)
		show_mapping(db, id, r.fmt);
	else if (err == GBA_ERR_NOT_FOUND && gba_subdb_imsi_of(db, id, info.imsi) == GBA_OK) {
		err = GBA_OK;   /* a GSUP BSF's mapping alone */
		if (r.fmt == FMT_TEXT) {
			printf("impi: %s\n", id);
			show_mapping(db, id, r.fmt);
		} else {
			fputs("{\"impi\": ", stdout);
			json_str(stdout, id);
			printf(", \"mapped_imsi\": \"%s\"}\n", info.imsi);
		}
	}
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
	return EXIT_DONE;
}

static const struct option export_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "out", required_argument, NULL, 'o' },
	{ "with-keys", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

/* The IMPIs, gathered first: keys cannot be read inside gba_subdb_list. */
struct impis {
	char (*impi)[GBA_IMPI_MAX + 1];
	size_t n, cap;
};

static int gather(const struct gba_subscriber_info *info, void *arg)
{
	struct impis *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		void *p = realloc(l->impi, cap * sizeof(*l->impi));

		if (!p)
			return -1;
		l->impi = p;
		l->cap = cap;
	}
	memcpy(l->impi[l->n++], info->impi, sizeof(*l->impi));
	return 0;
}

/* Each subscriber with its K and OPc, wiped after its row. */
static gba_err keyed_rows(struct gba_subdb *db, struct rows *r)
{
	struct impis l = { NULL, 0, 0 };
	struct gba_subscriber_info info;
	struct gba_aka_key key;
	gba_err err = gba_subdb_list(db, gather, &l);

	for (size_t i = 0; !err && i < l.n; i++) {
		err = gba_subdb_get(db, l.impi[i], &info);
		if (!err)
			err = gba_subdb_get_keys(db, l.impi[i], &key);
		if (!err) {
			r->key = &key;
			row(&info, r);
		}
		gba_wipe(&key, sizeof(key));
	}
	free(l.impi);
	return err;
}

/* A new file of mode 0600, whatever the umask; an existing one is refused. */
static FILE *private_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int export_keys(const char *db_path, struct rows *r, const char *path)
{
	static const struct gba_aka_key marker;
	struct gba_subdb *db = NULL;
	gba_err err;
	int rc = open_db(db_path, 1, &db);

	if (rc)
		return rc;
	r->out = private_file(path);
	if (!r->out) {
		gba_subdb_close(db);
		return fail(EXIT_FAILED, "export: %s: %s (a new file is made, mode 0600)", path,
			    strerror(errno));
	}
	r->key = &marker;   /* the header with key columns */
	rows_begin(r);
	err = keyed_rows(db, r);
	gba_subdb_close(db);
	if (!err)
		rows_end(r);
	if (fclose(r->out) && !err)
		return fail(EXIT_FAILED, "export: %s: %s", path, strerror(errno));
	if (err) {
		unlink(path);
		return err == GBA_ERR_NOT_AUTHORIZED
			? fail(EXIT_FAILED, "export: the keys are wrapped: give the file's --kek")
			: fail(exit_code(err), "export: %s", gba_strerror(err));
	}
	fprintf(stderr, "exported %zu subscribers with their keys to %s (mode 0600)\n", r->n,
		path);
	return EXIT_DONE;
}

/* export [--format csv|json] [--out FILE] [--with-keys]: every subscriber's
 * public data, and with --with-keys (to --out only) K and OPc too. */
int cmd_export(int argc, char **argv, const char *db_path)
{
	struct rows r = { stdout, FMT_CSV, NULL, 0, NULL };
	const char *path = NULL;
	int opt, rc = EXIT_DONE, with_keys = 0;

	optind = 0;
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":", export_options, NULL)) != -1) {
		if (opt == 'k') {
			with_keys = 1;
			continue;
		}
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
	if (with_keys && !path)
		return usage_error("export --with-keys writes to a file only: give --out FILE");
	if (with_keys)
		return export_keys(db_path, &r, path);
	if (path && !(r.out = fopen(path, "we")))
		return fail(EXIT_FAILED, "export: %s: %s", path, strerror(errno));
	rc = emit(db_path, &r, "export");
	if (path && fclose(r.out) && !rc)
		rc = fail(EXIT_FAILED, "export: %s: %s", path, strerror(errno));
	if (!rc && path)
		fprintf(stderr, "exported %zu subscribers to %s\n", r.n, path);
	return rc;
}
