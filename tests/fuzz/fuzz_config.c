/*
 * fuzz_config.c - libFuzzer target for the daemons' configuration file
 * readers.  The first octet chooses (bit 0), the rest is the file:
 *
 *   0  gba-bsf's (bsf/config.c): config_parse_file, then config_finish
 *   1  gba-naf's (naf/daemon/config.c): ncfg_load from a file in a mkdtemp
 *      directory on /dev/shm, then ncfg_finish
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - gba-bsf: a refusal names the file and line ("fuzz.conf:N: ..."); an
 *    accepted file printed by config_print (what `gba-bsf --check` shows)
 *    parses again to a configuration that prints the same;
 *  - gba-naf: a refusal names the file; a file with a NUL octet or a line
 *    longer than 4096 octets is refused, not cut (ncfg_load read lines
 *    into a 2048-octet buffer: a longer line was read as two, and a NUL
 *    ended it silently); the tables hold at most NCFG_MAP_MAX
 *    NUL-terminated entries.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bsf/config.h"
#include "../../naf/daemon/config.h"

#include "fuzz_check.h"

#define NAF_LINE_MAX 4096   /* longest line ncfg_load takes, as gba-bsf's reader */

static char dir[64], naf_path[128];

static void tear_down(void)
{
	unlink(naf_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_config.XXXXXX");
	check(mkdtemp(dir) != NULL);
	snprintf(naf_path, sizeof(naf_path), "%s/gba-naf.conf", dir);
	atexit(tear_down);
	return 0;
}

/* ---- gba-bsf ------------------------------------------------------------------- */

/* Parse text as a config file; 0 or -1 (err has why). */
static int bsf_parse(const char *text, size_t len, struct bsf_config *cfg, char *err,
		     size_t err_size)
{
	struct config_seen seen;
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	check(f != NULL);
	memset(&seen, 0, sizeof(seen));
	config_defaults(cfg);
	rc = config_parse_file(cfg, &seen, f, "fuzz.conf", err, err_size);
	fclose(f);
	if (!rc)
		rc = config_finish(cfg, err, err_size);
	return rc;
}

static char *bsf_print(const struct bsf_config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	check(f != NULL);
	config_print(cfg, f);
	check(fclose(f) == 0);
	return text;
}

static void fuzz_bsf(const uint8_t *data, size_t size)
{
	static struct bsf_config cfg, again;
	char err[CFG_ERR_MAX];
	char *first, *second;
	size_t first_len, second_len;

	if (size == 0)
		return;   /* fmemopen needs a buffer */
	err[0] = '\0';
	if (bsf_parse((const char *)data, size, &cfg, err, sizeof(err))) {
		check(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err));
		return;
	}
	first = bsf_print(&cfg, &first_len);
	check(bsf_parse(first, first_len, &again, err, sizeof(err)) == 0);
	second = bsf_print(&again, &second_len);
	check(first_len == second_len && !memcmp(first, second, first_len));
	free(first);
	free(second);
}

/* ---- gba-naf ------------------------------------------------------------------- */

/* A NUL octet, or a line (without its newline) longer than the reader's buffer. */
static int naf_must_refuse(const uint8_t *data, size_t size)
{
	size_t line = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0')
			return 1;
		if (data[i] == '\n')
			line = 0;
		else if (++line > NAF_LINE_MAX)
			return 1;
	}
	return 0;
}

static void check_map(const struct ncfg_map *m)
{
	check(m->n <= NCFG_MAP_MAX);
	for (unsigned i = 0; i < m->n; i++)
		check(strnlen(m->key[i], NCFG_STR + 1) <= NCFG_STR &&
		      strnlen(m->value[i], NCFG_STR + 1) <= NCFG_STR);
}

static void fuzz_naf(const uint8_t *data, size_t size)
{
	static struct naf_config c;
	char err[512];
	FILE *f = fopen(naf_path, "wb");

	check(f != NULL);
	check(fwrite(data, 1, size, f) == size && fclose(f) == 0);
	ncfg_defaults(&c);
	err[0] = '\0';
	if (ncfg_load(&c, naf_path, err, sizeof(err))) {
		check(!strncmp(err, naf_path, strlen(naf_path)));
		return;
	}
	check(!naf_must_refuse(data, size));
	check_map(&c.nodes);
	check_map(&c.targets);
	check_map(&c.groups);
	check_map(&c.lifetimes);
	err[0] = '\0';
	if (ncfg_finish(&c, err, sizeof(err)))
		check(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_naf(data + 1, size - 1);
	else
		fuzz_bsf(data + 1, size - 1);
	return 0;
}
