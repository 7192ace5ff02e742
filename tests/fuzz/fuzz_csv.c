/*
 * fuzz_csv.c - libFuzzer target for the subscriber CSV import
 * (lib/store/src/subscriber_csv.c: gba_subdb_import_csv, what
 * `gba-subscriber import` runs) into a real SQLite subscriber database in
 * a mkdtemp directory on /dev/shm.  The input is the CSV file.
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - a file with a NUL octet is refused;
 *  - all or nothing: a refused file names a line within the file and
 *    leaves the database as it was (empty); an accepted one adds as many
 *    subscribers as the import reports;
 *  - for a plain positional file (no header row, no quotes, no CR: the
 *    simple reading a line-by-line oracle can follow), one subscriber per
 *    data line (not blank, not '#'), each reading back with the IMPI, IMSI
 *    and IMPUs of its line (';' between IMPUs turned into ',') and passing
 *    gba_subdb_check's rules as gba_subdb_get shows it.
 * The subscribers are removed again, so that every input starts empty.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gba/subscriber_db.h>

#include "fuzz_check.h"

#define LINES_MAX 4096
#define CSV_COLUMNS_MAX 64   /* as many as the importer takes (CSV_FIELDS_MAX) */

static char dir[64];
static struct gba_subdb *db;

static void tear_down(void)
{
	char cmd[128];

	gba_subdb_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_csv: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_csv.XXXXXX");
	check(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/subscribers.db", dir);
	check(gba_subdb_open(&db, path) == GBA_OK);
	atexit(tear_down);
	return 0;
}

static int count_one(const struct gba_subscriber_info *info, void *arg)
{
	(void)info;
	++*(size_t *)arg;
	return 0;
}

static size_t count(void)
{
	size_t n = 0;

	check(gba_subdb_list(db, count_one, &n) == GBA_OK);
	return n;
}

/* The lines of the input (without '\n'), NUL-terminated copies in buf. */
static size_t split_lines(const uint8_t *data, size_t size, char *buf, char **lines)
{
	size_t n = 0, start = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && n < LINES_MAX; i++) {
		if (i == size || buf[i] == '\n') {
			if (i == size && i == start)
				break;   /* no line after a final newline */
			buf[i] = '\0';
			lines[n++] = buf + start;
			start = i + 1;
		}
	}
	return n;
}

static int data_line(const char *line)
{
	line += strspn(line, " \t\r");
	return *line && *line != '#';
}

/* A field with the importer's trimming: blanks before, blanks and CR after. */
static void field(const char *line, int index, char *out, size_t size)
{
	size_t len;

	for (int i = 0; i < index && line; i++) {
		line = strchr(line, ',');
		if (line)
			line++;
	}
	if (!line) {
		out[0] = '\0';
		return;
	}
	line += strspn(line, " \t");
	len = strcspn(line, ",");
	while (len && strchr(" \t\r", line[len - 1]))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(out, line, len);
	out[len] = '\0';
}

/* A header row, as the importer reads one: a column named IMPI or IMSI. */
static int header_line(const char *line)
{
	static const char *const ids[] = { "impi", "private_identity", "imsi" };
	char name[64];

	for (int i = 0; i < CSV_COLUMNS_MAX; i++) {
		field(line, i, name, sizeof(name));
		for (size_t j = 0; j < sizeof(ids) / sizeof(ids[0]); j++)
			if (!strcasecmp(name, ids[j]))
				return 1;
	}
	return 0;
}

/* The simple positional reading the line oracle below follows. */
static int plain_file(const uint8_t *data, size_t size, char **lines, size_t n_lines)
{
	if (memchr(data, '"', size) || memchr(data, '\r', size))
		return 0;
	for (size_t i = 0; i < n_lines; i++)
		if (data_line(lines[i]))
			return !header_line(lines[i]);
	return 1;
}

struct impi_list {
	size_t n;
	char impi[LINES_MAX][GBA_IMPI_MAX + 1];
};

static int remove_one(const struct gba_subscriber_info *info, void *arg)
{
	struct impi_list *l = arg;

	if (l->n < LINES_MAX)
		snprintf(l->impi[l->n++], GBA_IMPI_MAX + 1, "%s", info->impi);
	return 0;
}

/* Remove whatever the import added (a file read as the importer reads it). */
static void remove_all(void)
{
	static struct impi_list l;

	l.n = 0;
	check(gba_subdb_list(db, remove_one, &l) == GBA_OK);
	for (size_t i = 0; i < l.n; i++)
		check(gba_subdb_remove(db, l.impi[i]) == GBA_OK);
}

static void check_imported(char **lines, size_t n_lines)
{
	struct gba_subscriber_info info;
	char impi[GBA_IMPI_MAX + 1], imsi[GBA_IMSI_MAX + 1], impus[GBA_IMPU_LIST_MAX + 1];

	for (size_t i = 0; i < n_lines; i++) {
		if (!data_line(lines[i]))
			continue;
		field(lines[i], 0, impi, sizeof(impi));
		field(lines[i], 1, imsi, sizeof(imsi));
		field(lines[i], 2, impus, sizeof(impus));
		for (char *p = impus; *p; p++)
			if (*p == ';')
				*p = ',';
		check(gba_subdb_get(db, impi, &info) == GBA_OK);
		check(!strcmp(info.imsi, imsi) && !strcmp(info.impus, impus));
		check(info.ind_bits <= 10);
		check(gba_subdb_remove(db, impi) == GBA_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *lines[LINES_MAX];
	char *buf;
	size_t imported = 0, bad_line = 0, n_lines, n_data = 0;
	FILE *f;
	gba_err err;

	if (size == 0 || size > 65536)
		return 0;   /* fmemopen needs a buffer */
	buf = malloc(size + 1);
	check(buf != NULL);
	n_lines = split_lines(data, size, buf, lines);
	for (size_t i = 0; i < n_lines; i++)
		n_data += data_line(lines[i]);
	f = fmemopen((void *)data, size, "r");
	check(f != NULL);
	err = gba_subdb_import_csv(db, f, &imported, &bad_line);
	fclose(f);
	check(err || !memchr(data, '\0', size));   /* a NUL is refused */
	if (err) {
		/* Lines as '\n' ends them; a lone CR ends one too for the importer. */
		check(bad_line >= 1 && (memchr(data, '\r', size) || bad_line <= n_lines + 1));
		check(imported == 0 && count() == 0);
	} else if (plain_file(data, size, lines, n_lines)) {
		check(imported == n_data && count() == n_data);
		check_imported(lines, n_lines);
		check(count() == 0);
	} else {
		check(imported == count());
		remove_all();
		check(count() == 0);
	}
	free(buf);
	return 0;
}
