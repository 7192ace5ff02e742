/*
 * keys.c - key material for gba-subscriber: hex values and key files (read
 * by the shared reader, lib/conf).  Every buffer that held a key is wiped
 * before it is released.
 */
#define _POSIX_C_SOURCE 200809L /* strcasecmp */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gba/util.h>

#include <gba_conf.h>

#include "keys.h"

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

/* k, or op/opc/top/topc (the one OP value): not given before, 16 or 32 octets. */
static int set_key(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		   size_t why_size)
{
	struct key_input *in = obj;
	int is_k = !strcasecmp(k->key, "k");
	const char *bad;

	if (is_k ? in->k_len != 0 : in->op_len != 0)
		return snprintf(why, why_size, "%s already given", is_k ? "K" : "OP/OPc"), -1;
	if (key_hex(v, is_k ? in->k : in->op, is_k ? &in->k_len : &in->op_len, &bad))
		return snprintf(why, why_size, "%s", bad), -1;
	if (!is_k)
		in->op_is_op = !strcasecmp(k->key, "op") || !strcasecmp(k->key, "top");
	return 0;
}

#define KEY(name) \
	{ .section = "", .key = name, .type = GBA_CONF_FUNC, .set = set_key, \
	  .flags = GBA_CONF_SECRET }

static const struct gba_conf_key keys[] = {
	KEY("k"), KEY("op"), KEY("opc"), KEY("top"), KEY("topc"),
};

/* Names in any case (K, OPc), as pySim and the SIM vendors write them. */
static const struct gba_conf_spec spec = {
	.keys = keys, .n_keys = sizeof(keys) / sizeof(keys[0]),
	.flags = GBA_CONF_NOCASE | GBA_CONF_WIPE,
};

int key_file_read(const char *path, struct key_input *in, char *err, size_t err_size)
{
	char why[GBA_CONF_ERR_MAX];

	if (gba_conf_load(&spec, in, path, NULL, why, sizeof(why)))
		return snprintf(err, err_size, "--k-file %s", why), -1;
	return 0;
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
