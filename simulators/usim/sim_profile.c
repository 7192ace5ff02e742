/*
 * sim_profile.c - the card profile: "key = value" lines, '#' comments.
 * The format is in docs/usim-simulator.md.  Error messages name the line
 * and the key, never a value (k/op/opc are secrets).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "sim_internal.h"

/* What the parser collected before the key could be built. */
struct raw_keys {
	uint8_t k[32], op[32];
	size_t k_len, op_len;
	int have_k, have_op, op_is_opc;
	int tuak;
	unsigned tuak_iterations;
	size_t res_len;
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int set_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	/* TLV lengths on the card are one octet; keep room for tag and length. */
	if (n == 0 || n >= size || n > 250)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_hex(uint8_t *dst, size_t *len, size_t max, const char *v)
{
	return gba_hex_decode(dst, max, len, v, strlen(v)) == GBA_OK ? 0 : -1;
}

static int set_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 10);
	return (errno || end == v || *end || *out > max) ? -1 : 0;
}

static int set_yesno(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* Secret and algorithm keys; 1 when key was one of them. */
static int key_entry(struct raw_keys *rk, const char *key, const char *v, int *bad)
{
	unsigned long long u;

	if (!strcmp(key, "k")) {
		*bad = set_hex(rk->k, &rk->k_len, 32, v) ||
		       (rk->k_len != 16 && rk->k_len != 32);
		rk->have_k = 1;
	} else if (!strcmp(key, "op") || !strcmp(key, "opc") ||
		   !strcmp(key, "top") || !strcmp(key, "topc")) {
		*bad = rk->have_op || set_hex(rk->op, &rk->op_len, 32, v);
		rk->have_op = 1;
		rk->op_is_opc = !strcmp(key, "opc") || !strcmp(key, "topc");
	} else if (!strcmp(key, "algorithm")) {
		*bad = strcmp(v, "milenage") && strcmp(v, "tuak");
		rk->tuak = !strcmp(v, "tuak");
	} else if (!strcmp(key, "tuak_iterations")) {
		*bad = set_uint(v, 1000, &u) || u == 0;
		rk->tuak_iterations = (unsigned)u;
	} else if (!strcmp(key, "res_len")) {
		*bad = set_uint(v, 16, &u) || (u != 4 && u != 8 && u != 16);
		rk->res_len = (size_t)u;
	} else {
		return 0;
	}
	return 1;
}

/* Identity and card options; returns -1 for an unknown key. */
static int card_entry(struct sim_profile *p, const char *key, const char *v, int *bad)
{
	unsigned long long u;

	if (!strcmp(key, "iccid")) {
		*bad = !all_digits(v, 18, 20) || set_str(p->iccid, sizeof(p->iccid), v);
	} else if (!strcmp(key, "imsi")) {
		*bad = !all_digits(v, 6, 15) || set_str(p->imsi, sizeof(p->imsi), v);
	} else if (!strcmp(key, "impi")) {
		*bad = set_str(p->impi, sizeof(p->impi), v);
	} else if (!strcmp(key, "impu")) {
		*bad = p->n_impu >= SIM_MAX_IMPU ||
		       set_str(p->impu[p->n_impu], SIM_STR_MAX, v);
		p->n_impu += !*bad;
	} else if (!strcmp(key, "domain")) {
		*bad = set_str(p->domain, sizeof(p->domain), v);
	} else if (!strcmp(key, "mnc_length")) {
		*bad = set_uint(v, 3, &u) || u < 2;
		p->mnc_length = (unsigned)u;
	} else if (!strcmp(key, "protocol")) {
		*bad = strcmp(v, "T=0") && strcmp(v, "T=1");
		p->t1 = !strcmp(v, "T=1");
	} else if (!strcmp(key, "gba")) {
		*bad = set_yesno(v, &p->gba);
	} else if (!strcmp(key, "strict")) {
		*bad = set_yesno(v, &p->strict);
	} else if (!strcmp(key, "modem_channels")) {
		*bad = set_yesno(v, &p->modem_channels);
	} else if (!strcmp(key, "gbabp_size")) {
		*bad = set_uint(v, 256, &u) || u < 32;
		p->gbabp_size = (unsigned)u;
	} else if (!strcmp(key, "sw_quirks")) {
		*bad = set_yesno(v, &p->sw_quirks);
	} else if (!strcmp(key, "modem_chatty")) {
		*bad = set_yesno(v, &p->modem_chatty);
	} else if (!strcmp(key, "pin")) {
		*bad = !all_digits(v, 4, 8) || set_str(p->pin, sizeof(p->pin), v);
	} else if (!strcmp(key, "ind_bits")) {
		*bad = set_uint(v, 5, &u);
		p->ind_bits = (unsigned)u;
	} else if (!strcmp(key, "sqn_delta")) {
		*bad = set_uint(v, GBA_SQN_MAX, &u) || u == 0;
		p->sqn_delta = u;
	} else {
		return -1;
	}
	return 0;
}

static gba_err build_key(struct gba_aka_key *key, struct raw_keys *rk, const char *path)
{
	gba_err e = GBA_OK;

	if (!rk->have_k || !rk->have_op) {
		fprintf(stderr, "%s: k and one of op/opc (top/topc for TUAK) are required\n", path);
		return GBA_ERR_PARSE;
	}
	if (!rk->tuak) {
		if (rk->k_len != 16 || rk->op_len != 16) {
			fprintf(stderr, "%s: milenage needs a 16-octet k and op/opc\n", path);
			return GBA_ERR_PARSE;
		}
		gba_aka_key_milenage(key, rk->k, rk->op, !rk->op_is_opc);
	} else {
		if (rk->op_len != 32)
			e = GBA_ERR_BAD_LENGTH;
		else
			e = gba_aka_key_tuak(key, rk->k, rk->k_len, rk->op, !rk->op_is_opc,
					     rk->tuak_iterations ? rk->tuak_iterations : 1,
					     rk->res_len ? rk->res_len : 8);
		if (e != GBA_OK) {
			fprintf(stderr, "%s: bad TUAK key (k 16/32, top/topc 32 octets): %s\n",
				path, gba_strerror(e));
			return GBA_ERR_PARSE;
		}
	}
	return GBA_OK;
}

static void defaults(struct sim_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->mnc_length = 2;
	p->gba = 1;
	p->modem_channels = 1;
	p->gbabp_size = 256;
	p->ind_bits = 5;
	p->sqn_delta = UINT64_C(1) << 28;
	strcpy(p->iccid, "8988211000000000000");
}

static gba_err check_complete(const struct sim_profile *p, const char *path)
{
	if (!p->imsi[0]) {
		fprintf(stderr, "%s: imsi is required\n", path);
		return GBA_ERR_PARSE;
	}
	if (strlen(p->imsi) < 3 + p->mnc_length) {
		fprintf(stderr, "%s: imsi shorter than MCC + MNC\n", path);
		return GBA_ERR_PARSE;
	}
	return GBA_OK;
}

static gba_err parse_line(struct sim_profile *p, struct raw_keys *rk, struct raw_keys *irk,
			  char *line, const char *path, unsigned lineno)
{
	char *s = trim(line), *eq, *key, *v;
	int bad = 0;

	if (*s == '\0' || *s == '#')
		return GBA_OK;
	eq = strchr(s, '=');
	if (!eq) {
		fprintf(stderr, "%s:%u: expected key = value\n", path, lineno);
		return GBA_ERR_PARSE;
	}
	*eq = '\0';
	key = trim(s);
	v = trim(eq + 1);
	/* isim_k, isim_op, isim_opc: the ISIM's own subscription (TS 31.103). */
	if (!strncmp(key, "isim_", 5) && key_entry(irk, key + 5, v, &bad)) {
		p->isim_own_key = 1;
	} else if (!key_entry(rk, key, v, &bad) && card_entry(p, key, v, &bad) < 0) {
		fprintf(stderr, "%s:%u: unknown key '%s'\n", path, lineno, key);
		return GBA_ERR_PARSE;
	}
	if (bad) {
		fprintf(stderr, "%s:%u: bad value for '%s'\n", path, lineno, key);
		return GBA_ERR_PARSE;
	}
	return GBA_OK;
}

gba_err sim_profile_load(const char *path, struct sim_profile *p)
{
	struct raw_keys rk, irk;
	char line[1024];
	char iobuf[4096];      /* our stdio buffer: it holds K/OPc, so we wipe it */
	unsigned lineno = 0;
	gba_err e = GBA_OK;
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "%s: cannot open profile: %s\n", path, strerror(errno));
		return GBA_ERR_STORE;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	defaults(p);
	memset(&rk, 0, sizeof(rk));
	memset(&irk, 0, sizeof(irk));
	while (e == GBA_OK && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "%s:%u: line too long\n", path, lineno);
			e = GBA_ERR_PARSE;
			break;
		}
		e = parse_line(p, &rk, &irk, line, path, lineno);
	}
	gba_wipe(line, sizeof(line));
	fclose(f);
	gba_wipe(iobuf, sizeof(iobuf));
	if (e == GBA_OK)
		e = build_key(&p->key, &rk, path);
	if (e == GBA_OK && p->isim_own_key)
		e = build_key(&p->isim_key, &irk, path);
	if (e == GBA_OK)
		e = check_complete(p, path);
	gba_wipe(&rk, sizeof(rk));
	gba_wipe(&irk, sizeof(irk));
	if (e != GBA_OK)
		gba_wipe(p, sizeof(*p));
	return e;
}
