/*
 * sim_profile.c - the card profile: its keys for the shared reader
 * (lib/conf; the syntax is in docs/deployment.md, the keys in
 * docs/usim-simulator.md), and the subscription built from them.  Error
 * messages name the line and the key, never a value (k/op/opc are secrets).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include <gba_conf.h>

#include "sim_internal.h"

/* What the parser collected before the key could be built. */
struct raw_keys {
	uint8_t k[32], op[32];
	size_t k_len, op_len;
	int have_op, op_is_opc;
	int tuak;
	unsigned tuak_iterations;
	int res_len;
};

/* What a profile file fills: the profile, and the USIM's and the ISIM's keys. */
struct profile_input {
	struct sim_profile p;
	struct raw_keys rk, irk;
};

/* TLV lengths on the card are one octet; keep room for tag and length. */
#define TLV_STR_MAX 250

/* op, opc, top or topc: one of them, 16 or 32 octets of hex. */
static int set_op(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		  size_t why_size)
{
	struct raw_keys *rk = (struct raw_keys *)((char *)obj + k->off);
	size_t n = strlen(v);

	if (rk->have_op)
		return snprintf(why, why_size, "only one of op, opc, top and topc"), -1;
	if ((n != 32 && n != 64) || gba_hex_decode(rk->op, sizeof(rk->op), &rk->op_len, v, n))
		return snprintf(why, why_size, "16 or 32 octets in hex expected"), -1;
	rk->have_op = 1;
	rk->op_is_opc = k->key[strlen(k->key) - 1] == 'c';
	return 0;
}

/* impu: up to SIM_MAX_IMPU of them, each on its own line. */
static int set_impu(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		    size_t why_size)
{
	struct sim_profile *p = obj;
	size_t n = strlen(v);

	(void)k;
	if (p->n_impu >= SIM_MAX_IMPU)
		return snprintf(why, why_size, "more than %d of them", SIM_MAX_IMPU), -1;
	if (n == 0 || n > TLV_STR_MAX)
		return snprintf(why, why_size, "1 to %d characters expected", TLV_STR_MAX), -1;
	memcpy(p->impu[p->n_impu++], v, n + 1);
	return 0;
}


static const struct gba_conf_name protocol_names[] = {
	{ "T=0", 0 },
	{ "T=1", 1 },
	{ NULL, 0 },
};

#define OFF(f) offsetof(struct profile_input, f)
#define SZ(f) sizeof(((struct profile_input *)0)->f)
#define DIGITS(k, f, lo, hi, fl, d) \
	{ .section = "", .key = k, .type = GBA_CONF_DIGITS, .off = OFF(f), .size = SZ(f), \
	  .min = lo, .max = hi, .flags = fl, .def = d }
#define STR(k, f) \
	{ .section = "", .key = k, .type = GBA_CONF_STR, .off = OFF(f), .size = SZ(f), .min = 1, \
	  .max = TLV_STR_MAX }
#define UINT(k, f, lo, hi, d) \
	{ .section = "", .key = k, .type = GBA_CONF_UINT, .off = OFF(f), .min = lo, .max = hi, \
	  .def = d }
#define BOOL(k, f, d) { .section = "", .key = k, .type = GBA_CONF_BOOL, .off = OFF(f), .def = d }
#define ENUM(k, f, n) { .section = "", .key = k, .type = GBA_CONF_ENUM, .off = OFF(f), .names = n }
#define FUNC(k, f, fn, fl) \
	{ .section = "", .key = k, .type = GBA_CONF_FUNC, .off = OFF(f), .set = fn, .flags = fl }
/* The subscription of one application: the USIM's (prefix "") or the ISIM's ("isim_"). */
#define KEYS(pre, r) \
	{ .section = "", .key = pre "k", .type = GBA_CONF_HEX, .off = OFF(r.k), .size = SZ(r.k), \
	  .min = 16, .max = 32, .len_off = OFF(r.k_len), .flags = GBA_CONF_SECRET }, \
	FUNC(pre "op", r, set_op, GBA_CONF_SECRET), \
	FUNC(pre "opc", r, set_op, GBA_CONF_SECRET), \
	FUNC(pre "top", r, set_op, GBA_CONF_SECRET), \
	FUNC(pre "topc", r, set_op, GBA_CONF_SECRET), \
	ENUM(pre "algorithm", r.tuak, gba_conf_algorithm_names), \
	UINT(pre "tuak_iterations", r.tuak_iterations, 1, 1000, NULL), \
	ENUM(pre "res_len", r.res_len, gba_conf_res_len_names)

static const struct gba_conf_key keys[] = {
	DIGITS("iccid", p.iccid, 18, 20, 0, "8988211000000000000"),
	DIGITS("imsi", p.imsi, 6, 15, GBA_CONF_REQUIRED, NULL),
	STR("impi", p.impi),
	FUNC("impu", p, set_impu, GBA_CONF_REPEAT),
	STR("domain", p.domain),
	UINT("mnc_length", p.mnc_length, 2, 3, "2"),
	ENUM("protocol", p.t1, protocol_names),
	BOOL("gba", p.gba, "yes"),
	BOOL("strict", p.strict, "no"),
	BOOL("modem_channels", p.modem_channels, "yes"),
	UINT("gbabp_size", p.gbabp_size, 32, 256, "256"),
	BOOL("sw_quirks", p.sw_quirks, "no"),
	BOOL("modem_chatty", p.modem_chatty, "no"),
	DIGITS("pin", p.pin, 4, 8, GBA_CONF_SECRET, NULL),
	UINT("ind_bits", p.ind_bits, 0, 5, "5"),
	{ .section = "", .key = "sqn_delta", .type = GBA_CONF_U64, .off = OFF(p.sqn_delta),
	  .min = 1, .max = GBA_SQN_MAX, .def = "268435456" },   /* 2^28 */
	KEYS("", rk),
	/* isim_k, isim_op, isim_opc ...: the ISIM's own subscription (TS 31.103). */
	KEYS("isim_", irk),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct gba_conf_spec spec = {
	.keys = keys, .n_keys = N_KEYS, .flags = GBA_CONF_WIPE,
};

static gba_err build_key(struct gba_aka_key *key, struct raw_keys *rk, const char *path)
{
	gba_err e = GBA_OK;

	if (!rk->k_len || !rk->have_op) {
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
					     rk->res_len ? (size_t)rk->res_len : 8);
		if (e != GBA_OK) {
			fprintf(stderr, "%s: bad TUAK key (k 16/32, top/topc 32 octets): %s\n",
				path, gba_strerror(e));
			return GBA_ERR_PARSE;
		}
	}
	return GBA_OK;
}

static gba_err check_complete(const struct sim_profile *p, const char *path)
{
	if (strlen(p->imsi) < 3 + p->mnc_length) {
		fprintf(stderr, "%s: key 'imsi': shorter than MCC + MNC\n", path);
		return GBA_ERR_PARSE;
	}
	return GBA_OK;
}

/* The ISIM has its own subscription when any isim_ key is there. */
static int isim_keys_given(const unsigned char *seen)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strncmp(keys[i].key, "isim_", 5) && (seen[i / 8] >> (i % 8)) & 1)
			return 1;
	return 0;
}

gba_err sim_profile_load(const char *path, struct sim_profile *p)
{
	struct profile_input *in = calloc(1, sizeof(*in));
	unsigned char seen[GBA_CONF_SEEN_SIZE(N_KEYS)] = { 0 };
	char err[GBA_CONF_ERR_MAX];
	gba_err e = GBA_OK;

	if (!in)
		return GBA_ERR_NO_MEMORY;
	gba_conf_defaults(&spec, in);
	switch (gba_conf_load(&spec, in, path, seen, err, sizeof(err))) {
	case 0:
		break;
	case -2:
		fprintf(stderr, "%s\n", err);
		e = GBA_ERR_STORE;
		break;
	default:
		fprintf(stderr, "%s\n", err);
		e = GBA_ERR_PARSE;
	}
	in->p.isim_own_key = isim_keys_given(seen);
	if (e == GBA_OK)
		e = build_key(&in->p.key, &in->rk, path);
	if (e == GBA_OK && in->p.isim_own_key)
		e = build_key(&in->p.isim_key, &in->irk, path);
	if (e == GBA_OK)
		e = check_complete(&in->p, path);
	if (e == GBA_OK)
		memcpy(p, &in->p, sizeof(*p));
	else
		gba_wipe(p, sizeof(*p));
	gba_wipe(in, sizeof(*in));
	free(in);
	return e;
}
