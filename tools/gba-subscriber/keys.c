/*
 * keys.c - key material for gba-subscriber: hex values and key files.
 * Every buffer that held a key is wiped before it is released.
 */
#define _POSIX_C_SOURCE 200809L /* strcasecmp */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gba/util.h>

#include "gba_cli.h"
#include "keys.h"

#define KEY_FILE_MAX 4096

int key_hex(const char *hex, uint8_t out[32], size_t *len, const char **why)
{
	size_t n = strlen(hex);

	if (n != 32 && n != 64) {
		*why = "must be 32 or 64 hex digits (16 or 32 octets)";
		return -1;
	}
	if (gba_hex_decode(out, 32, len, hex, n) != GBA_OK) {
		*why = "is not hex";
		return -1;
	}
	return 0;
}

/* The whole file, at most KEY_FILE_MAX octets, NUL-terminated. */
static int slurp(const char *path, char *buf, size_t size, char *err, size_t err_size)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t n;

	if (!f) {
		snprintf(err, err_size, "--k-file %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	if (ferror(f) || (n == size - 1 && fgetc(f) != EOF)) {
		snprintf(err, err_size, "--k-file %s: unreadable or larger than %d octets", path,
			 KEY_FILE_MAX);
		n = 0;
	} else if (memchr(buf, '\0', n)) {
		snprintf(err, err_size, "--k-file %s: contains a NUL byte", path);
		n = 0;
	} else {
		n = 1;
	}
	if (f != stdin)
		fclose(f);
	return n ? 0 : -1;
}

/* One "name = HEX" line into in. */
static int key_line(char *line, struct key_input *in, const char *path, unsigned lineno,
		    char *err, size_t err_size)
{
	char *eq = strchr(line, '='), *name, *value;
	const char *why;
	int is_k, is_op;

	if (!eq) {
		snprintf(err, err_size, "%s:%u: expected name=HEX", path, lineno);
		return -1;
	}
	*eq = '\0';
	name = gba_cli_trim(line);
	value = gba_cli_trim(eq + 1);
	is_k = !strcasecmp(name, "k");
	is_op = !strcasecmp(name, "op") || !strcasecmp(name, "top");
	if (!is_k && !is_op && strcasecmp(name, "opc") && strcasecmp(name, "topc")) {
		snprintf(err, err_size, "%s:%u: unknown name '%.20s' (k, op or opc)", path, lineno,
			 name);
		return -1;
	}
	if (is_k ? in->k_len != 0 : in->op_len != 0) {
		snprintf(err, err_size, "%s:%u: %s given twice", path, lineno,
			 is_k ? "K" : "OP/OPc");
		return -1;
	}
	if (key_hex(value, is_k ? in->k : in->op, is_k ? &in->k_len : &in->op_len, &why)) {
		snprintf(err, err_size, "%s:%u: %s %s", path, lineno, name, why);
		return -1;
	}
	if (!is_k)
		in->op_is_op = is_op;
	return 0;
}

int key_file_read(const char *path, struct key_input *in, char *err, size_t err_size)
{
	char buf[KEY_FILE_MAX + 1];
	unsigned lineno = 0;
	int rc = 0;

	if (slurp(path, buf, sizeof(buf), err, err_size)) {
		gba_wipe(buf, sizeof(buf));
		return -1;
	}
	for (char *line = buf, *next; line && !rc; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line = gba_cli_trim(line);
		if (*line && *line != '#')
			rc = key_line(line, in, path, lineno, err, err_size);
	}
	gba_wipe(buf, sizeof(buf));
	return rc;
}

int key_file_milenage(const char *path, uint8_t k[16], uint8_t opc[16], char *err,
		      size_t err_size)
{
	struct key_input in;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	if (key_file_read(path, &in, err, err_size))
		rc = -1;
	else if (in.k_len != 16 || in.op_len != 16 || in.op_is_op)
		snprintf(err, err_size, "--k-file %s: give k and opc, 16 octets each", path);
	else {
		memcpy(k, in.k, 16);
		memcpy(opc, in.op, 16);
		rc = 0;
	}
	gba_wipe(&in, sizeof(in));
	return rc;
}
