/*
 * subscriber_csv.c - bulk import of subscribers from CSV (RFC 4180: quoted
 * fields, "" for a quote), all or nothing.  Without a header row the
 * columns are positional:
 *
 *   impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]
 *
 * With one (a first record naming its columns) they are found by name,
 * with the names SIM vendors' and pySim's card files use (Ki, OPc, ...);
 * other columns (PINs, ADM keys, ...) are ignored, and without an IMPI
 * column the IMPI is derived from the IMSI (TS 23.003 13.3).  Blanks
 * around an unquoted field are ignored; IMPUs are separated by ';' inside
 * their field; '#' starts a comment line; empty lines are skipped.  OP/TOP
 * is turned into OPc/TOPc here and never stored.  The import is one write
 * transaction: on the first bad record it is rolled back and the record's
 * line reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gba/util.h>

#include "auc_cache.h"
#include "csv_record.h"
#include "subscriber_internal.h"

#define CSV_RECORD_MAX 4096
#define CSV_FIELDS_MAX 64   /* a card file's columns, most of them ignored */
#define CSV_FIELDS_MIN 9

enum csv_field {
	F_IMPI, F_IMSI, F_IMPUS, F_ALGO, F_K, F_OPC, F_OPC_IS_OP, F_AMF, F_SQN,
	F_TUAK_ITERATIONS, F_RES_LEN, F__COUNT,
	F_OP = F__COUNT, F_MNC, F__NAMED   /* header-only columns */
};

/* Exactly want octets of hex; BAD_HEX or BAD_LENGTH otherwise. */
static gba_err hex_exact(const char *hex, uint8_t *out, size_t want)
{
	size_t len = strlen(hex), got = 0;
	gba_err err;

	if (len != 2 * want) {
		for (size_t i = 0; i < len; i++)
			if (!strchr("0123456789abcdefABCDEF", hex[i]))
				return GBA_ERR_BAD_HEX;
		return GBA_ERR_BAD_LENGTH;
	}
	err = gba_hex_decode(out, want, &got, hex, len);
	return err ? err : (got == want ? GBA_OK : GBA_ERR_BAD_LENGTH);
}

/* A decimal number in [min, max], or an empty field meaning dflt. */
static gba_err number(const char *s, uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s) {
		*out = dflt;
		return GBA_OK;
	}
	if (*s < '0' || *s > '9' || strlen(s) > 20)
		return GBA_ERR_PARSE;
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		return GBA_ERR_INVALID_ARG;
	*out = v;
	return GBA_OK;
}

static gba_err copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return GBA_ERR_INVALID_ARG;
	memcpy(dst, src, n + 1);
	return GBA_OK;
}

/* The key fields: algo, K, OP/OPc, flag, and TUAK's iterations and RES length. */
static gba_err parse_key(char **f, int n, struct gba_aka_key *key)
{
	uint8_t k[32], opc[32];
	uint64_t is_op, iterations, res_len;
	int tuak = !strcmp(f[F_ALGO], "tuak");
	gba_err err;

	if (!tuak && strcmp(f[F_ALGO], "milenage"))
		return GBA_ERR_UNSUPPORTED;
	if (!tuak && n > F_TUAK_ITERATIONS &&
	    (*f[F_TUAK_ITERATIONS] || (n > F_RES_LEN && *f[F_RES_LEN])))
		return GBA_ERR_INVALID_ARG;   /* TUAK parameters on a Milenage line */
	if (strcmp(f[F_OPC_IS_OP], "0") && strcmp(f[F_OPC_IS_OP], "1"))
		return GBA_ERR_PARSE;
	is_op = f[F_OPC_IS_OP][0] == '1';
	err = hex_exact(f[F_K], k, tuak && strlen(f[F_K]) == 64 ? 32 : 16);
	if (!err)
		err = hex_exact(f[F_OPC], opc, tuak ? 32 : 16);
	if (!err && tuak) {
		err = number(n > F_TUAK_ITERATIONS ? f[F_TUAK_ITERATIONS] : "", 1, 255, 1,
			     &iterations);
		if (!err)
			err = number(n > F_RES_LEN ? f[F_RES_LEN] : "", 4, 16, 8, &res_len);
		if (!err)
			err = gba_aka_key_tuak(key, k, strlen(f[F_K]) / 2, opc, (int)is_op,
					       (unsigned)iterations, (size_t)res_len);
	} else if (!err) {
		gba_aka_key_milenage(key, k, opc, (int)is_op);
	}
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	return err;
}

/* A header's column names (any case) and the field each fills. */
static const struct {
	const char *name;
	int field;
} column_names[] = {
	{ "impi", F_IMPI }, { "private_identity", F_IMPI },
	{ "imsi", F_IMSI },
	{ "impus", F_IMPUS }, { "impu", F_IMPUS },
	{ "algo", F_ALGO }, { "algorithm", F_ALGO },
	{ "k", F_K }, { "ki", F_K },
	{ "opc", F_OPC }, { "op_or_opc", F_OPC },
	{ "op", F_OP },
	{ "opc_is_op", F_OPC_IS_OP },
	{ "amf", F_AMF },
	{ "sqn", F_SQN },
	{ "tuak_iterations", F_TUAK_ITERATIONS },
	{ "res_len", F_RES_LEN },
	{ "mnc", F_MNC },
};

/* Where each field is in a record: column index, or -1. */
struct layout {
	int header;              /* 0: positional */
	int col[F__NAMED];
};

static int column_of(const char *name)
{
	for (size_t i = 0; i < sizeof(column_names) / sizeof(column_names[0]); i++)
		if (!strcasecmp(name, column_names[i].name))
			return column_names[i].field;
	return -1;
}

/*
 * A first record that names an IMPI or IMSI column and a K column is a
 * header (no IMPI is "imsi").  GBA_ERR_PARSE for a header without them
 * or with one name twice.
 */
static gba_err read_header(const struct csv_record *r, struct layout *l)
{
	for (int i = 0; i < F__NAMED; i++)
		l->col[i] = -1;
	l->header = 0;
	for (int i = 0; i < r->n; i++) {
		int f = column_of(r->field[i]);

		if (f == F_IMPI || f == F_IMSI)
			l->header = 1;
		if (f < 0)
			continue;
		if (l->col[f] >= 0)
			return GBA_ERR_PARSE;
		l->col[f] = i;
	}
	if (!l->header)
		return GBA_OK;
	if (l->col[F_K] < 0 || (l->col[F_OPC] < 0) == (l->col[F_OP] < 0) ||
	    (l->col[F_IMPI] < 0 && l->col[F_IMSI] < 0) ||
	    (l->col[F_OPC_IS_OP] >= 0 && l->col[F_OP] >= 0))
		return GBA_ERR_PARSE;
	return GBA_OK;
}

/* TS 23.003 13.3: IMSI@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org (MNC in 3 digits). */
static gba_err derive_impi(const char *imsi, size_t mnc_len, char *out, size_t size)
{
	size_t n = strlen(imsi);
	int w;

	if (n < 6 || n > GBA_IMSI_MAX || strspn(imsi, "0123456789") != n ||
	    (mnc_len != 2 && mnc_len != 3))
		return GBA_ERR_INVALID_ARG;
	w = snprintf(out, size, "%s@ims.mnc%s%.*s.mcc%.3s.3gppnetwork.org", imsi,
		     mnc_len == 2 ? "0" : "", (int)mnc_len, imsi + 3, imsi);
	return w > 0 && (size_t)w < size ? GBA_OK : GBA_ERR_INVALID_ARG;
}

/* One record into sub (which then holds K and OPc); *has_sqn: a SQN given. */
static gba_err parse_record(const struct csv_record *r, const struct layout *l,
			    unsigned mnc_len, struct gba_subscriber *sub, int *has_sqn)
{
	char *f[F__COUNT];
	char impi[GBA_IMPI_MAX + 1];
	uint64_t sqn;
	int n = F__COUNT;
	gba_err err;

	if (!l->header) {
		if (r->n < CSV_FIELDS_MIN || r->n > F__COUNT)
			return GBA_ERR_PARSE;
		for (int i = 0; i < F__COUNT; i++)
			f[i] = i < r->n ? r->field[i] : "";
		n = r->n;
	} else {
		for (int i = 0; i < F__COUNT; i++)
			f[i] = l->col[i] >= 0 && l->col[i] < r->n ? r->field[l->col[i]] : "";
		if (l->col[F_OP] >= 0)
			f[F_OPC] = l->col[F_OP] < r->n ? r->field[l->col[F_OP]] : "";
		if (l->col[F_OPC_IS_OP] < 0)
			f[F_OPC_IS_OP] = l->col[F_OP] >= 0 ? "1" : "0";
		if (!*f[F_ALGO])
			f[F_ALGO] = "milenage";
	}
	memset(sub, 0, sizeof(*sub));
	sub->ind_bits = 5;
	if (l->header && l->col[F_IMPI] < 0) {
		const char *mnc = l->col[F_MNC] >= 0 && l->col[F_MNC] < r->n ?
				  r->field[l->col[F_MNC]] : "";
		err = derive_impi(f[F_IMSI], *mnc ? strlen(mnc) : mnc_len, impi, sizeof(impi));
		if (err)
			return err;
		f[F_IMPI] = impi;
	}
	err = copy_field(sub->impi, sizeof(sub->impi), f[F_IMPI]);
	if (!err)
		err = copy_field(sub->imsi, sizeof(sub->imsi), f[F_IMSI]);
	if (!err)
		err = copy_field(sub->impus, sizeof(sub->impus), f[F_IMPUS]);
	if (err)
		return err;
	for (char *p = sub->impus; *p; p++)
		if (*p == ';')
			*p = ',';
	err = parse_key(f, n, &sub->key);
	if (!err && *f[F_AMF])
		err = hex_exact(f[F_AMF], sub->amf, 2);
	*has_sqn = *f[F_SQN] != '\0';
	if (!err)
		err = number(f[F_SQN], 0, GBA_SQN_MAX, 0, &sqn);
	if (!err) {
		sub->sqn = sqn;
		err = gba_subdb_check(sub, NULL);
	}
	return err;
}

/* A record of blanks only is an empty line. */
static int empty_record(const struct csv_record *r)
{
	return r->n == 1 && !*r->field[0];
}

/* Store one subscriber as the mode says; counts into res. */
static gba_err store_one(struct gba_subdb *db, const struct gba_subscriber *sub, int has_sqn,
			 enum gba_subdb_import_mode mode, struct gba_subdb_import_result *res)
{
	gba_err err = subdb_insert(db, sub);

	if (err != GBA_ERR_EXISTS || mode == GBA_SUBDB_IMPORT_ADD) {
		res->added += !err;
		return err;
	}
	if (mode == GBA_SUBDB_IMPORT_SKIP_EXISTING) {
		res->skipped++;
		return GBA_OK;
	}
	err = subdb_overwrite(db, sub, has_sqn);
	res->updated += !err;
	auc_cache_drop(db->cache, sub->impi);
	return err;
}

static gba_err import_records(struct gba_subdb *db, FILE *csv,
			      const struct gba_subdb_import_opts *o,
			      struct gba_subdb_import_result *res, struct csv_record *r)
{
	struct gba_subscriber sub;
	struct layout l = { 0, { 0 } };
	int first = 1, has_sqn = 0;
	gba_err err;

	while (!(err = csv_record_read(csv, r))) {
		if (empty_record(r))
			continue;
		if (first) {
			first = 0;
			err = read_header(r, &l);
			if (err)
				break;   /* a header without K, or a column named twice */
			if (l.header)
				continue;
		}
		err = parse_record(r, &l, o->mnc_len, &sub, &has_sqn);
		if (!err)
			err = store_one(db, &sub, has_sqn, o->mode, res);
		gba_wipe(&sub, sizeof(sub));
		if (err)
			break;
	}
	if (err == GBA_ERR_NOT_FOUND)
		err = ferror(csv) ? GBA_ERR_STORE : GBA_OK;
	return err;
}

gba_err gba_subdb_import_csv_opts(struct gba_subdb *db, FILE *csv,
				  const struct gba_subdb_import_opts *opts,
				  struct gba_subdb_import_result *res)
{
	static const struct gba_subdb_import_opts dflt = { GBA_SUBDB_IMPORT_ADD, 0 };
	char *fields[CSV_FIELDS_MAX];
	struct csv_record r = { NULL, CSV_RECORD_MAX + 1, fields, CSV_FIELDS_MAX, 0, 1, 1 };
	struct gba_subdb_import_result none;
	gba_err err;

	if (!res)
		res = &none;
	memset(res, 0, sizeof(*res));
	if (!db || !csv)
		return GBA_ERR_INVALID_ARG;
	r.buf = malloc(r.size);   /* keys pass through it: wiped below */
	if (!r.buf)
		return GBA_ERR_NO_MEMORY;
	pthread_mutex_lock(&db->lock);
	err = subdb_begin(db);
	if (!err)
		err = import_records(db, csv, opts ? opts : &dflt, res, &r);
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	pthread_mutex_unlock(&db->lock);
	gba_wipe(r.buf, r.size);
	free(r.buf);
	if (err) {
		res->bad_line = r.line;
		res->added = res->updated = res->skipped = 0;
	}
	return err;
}

gba_err gba_subdb_import_csv(struct gba_subdb *db, FILE *csv, size_t *imported,
			     size_t *bad_line)
{
	struct gba_subdb_import_result res;
	gba_err err = gba_subdb_import_csv_opts(db, csv, NULL, &res);

	if (imported)
		*imported = res.added;
	if (bad_line)
		*bad_line = res.bad_line;
	return err;
}
