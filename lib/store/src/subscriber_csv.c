/*
 * subscriber_csv.c - bulk import of subscribers from CSV, all or nothing:
 *
 *   impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]
 *
 * No quoting (no field may contain a comma); blanks around a field are
 * ignored; IMPUs are separated by ';' inside their field; '#' starts a
 * comment line; empty lines are skipped.  OP/TOP is turned into OPc/TOPc
 * here and never stored.  The import is one write transaction: on the
 * first bad line it is rolled back and the line number reported.
 */
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "subscriber_internal.h"

#define CSV_LINE_MAX 4096
#define CSV_FIELDS_MAX 11
#define CSV_FIELDS_MIN 9

enum csv_field {
	F_IMPI, F_IMSI, F_IMPUS, F_ALGO, F_K, F_OPC, F_OPC_IS_OP, F_AMF, F_SQN,
	F_TUAK_ITERATIONS, F_RES_LEN,
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Split on ',' and trim each field; -1 when there are more than max. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *comma = strchr(p, ',');
		if (n == max)
			return -1;
		if (comma)
			*comma = '\0';
		f[n++] = trim(p);
		if (!comma)
			return n;
		p = comma + 1;
	}
}

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

/* One data line into sub (which then holds K and OPc). */
static gba_err parse_line(char *line, struct gba_subscriber *sub)
{
	char *f[CSV_FIELDS_MAX];
	int n = split(line, f, CSV_FIELDS_MAX);
	uint64_t sqn;
	gba_err err;

	if (n < CSV_FIELDS_MIN)
		return GBA_ERR_PARSE;
	memset(sub, 0, sizeof(*sub));
	sub->ind_bits = 5;
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
	if (!err)
		err = number(f[F_SQN], 0, GBA_SQN_MAX, 0, &sqn);
	if (!err) {
		sub->sqn = sqn;
		err = gba_subdb_check(sub, NULL);
	}
	return err;
}

/*
 * Read one line (without its newline) into buf: 0, or 1 at the end of the
 * file, GBA_ERR_TOO_LARGE / GBA_ERR_BAD_ENCODING (a NUL byte) as -err.
 */
static int read_line(FILE *csv, char *buf, size_t size)
{
	size_t len = 0;
	int c;

	while ((c = getc(csv)) != EOF && c != '\n') {
		if (c == '\0')
			return -(int)GBA_ERR_BAD_ENCODING;
		if (len == size - 1)
			return -(int)GBA_ERR_TOO_LARGE;
		buf[len++] = (char)c;
	}
	buf[len] = '\0';
	return c == EOF && len == 0 ? 1 : 0;
}

static int skip_line(const char *line)
{
	const char *p = line + strspn(line, " \t\r\n");

	return *p == '\0' || *p == '#';
}

gba_err gba_subdb_import_csv(struct gba_subdb *db, FILE *csv, size_t *imported,
			     size_t *bad_line)
{
	char line[CSV_LINE_MAX + 1];
	struct gba_subscriber sub;
	size_t lineno = 0, count = 0;
	gba_err err;
	int rc;

	if (imported)
		*imported = 0;
	if (bad_line)
		*bad_line = 0;
	if (!db || !csv)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = subdb_begin(db);
	while (!err && (rc = read_line(csv, line, sizeof(line))) != 1) {
		lineno++;
		if (rc < 0) {
			err = (gba_err)-rc;
			break;
		}
		if (skip_line(line))
			continue;
		err = parse_line(line, &sub);
		if (!err)
			err = subdb_insert(db, &sub);
		gba_wipe(&sub, sizeof(sub));
		count += !err;
	}
	if (!err && ferror(csv))
		err = GBA_ERR_STORE;
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	pthread_mutex_unlock(&db->lock);
	gba_wipe(line, sizeof(line));
	if (err) {
		if (bad_line)
			*bad_line = lineno;
		return err;
	}
	if (imported)
		*imported = count;
	return GBA_OK;
}
