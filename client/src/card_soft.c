/*
 * card_soft.c - the soft card: a USIM made of a key file, FOR DEVELOPMENT
 * ONLY (the long-term key sits in a file instead of a tamper-resistant
 * card).  It speaks APDUs like a real card, so the identity and bootstrap
 * code is the same for every back end; the USIM side of AKA is libgba's
 * gba_usim_authenticate with its SQN array kept in a 0600 file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/aka.h>
#include <gba/util.h>

#include <gba_conf.h>

#include "internal.h"

static const uint8_t soft_aid[16] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
				      0x53, 0x4F, 0x46, 0x54, 0x00, 0x00, 0x00, 0x01 };

struct soft {
	struct gba_aka_key key;
	struct gba_usim_sqn sqn;
	uint8_t ef_imsi[9];
	uint8_t ef_ad[4];
	uint16_t current;         /* the selected EF */
	int adf;                  /* the USIM is selected */
	char sqn_path[4096];
};

/* ---- files ------------------------------------------------------------------ */

static void load_sqn(struct soft *s)
{
	FILE *f = fopen(s->sqn_path, "re");
	unsigned long long v;

	gba_usim_sqn_init(&s->sqn, 5, UINT64_C(1) << 28);
	if (!f)
		return;   /* a new card: all SEQ_MS zero */
	for (unsigned i = 0; i < GBA_IND_SLOTS_MAX && fscanf(f, "%llu", &v) == 1; i++)
		s->sqn.seq_ms[i] = v;
	fclose(f);
}

static int save_sqn(const struct soft *s)
{
	char tmp[4200];
	FILE *f;
	int fd, bad = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->sqn_path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (unsigned i = 0; i < GBA_IND_SLOTS_MAX; i++)
		bad |= fprintf(f, "%llu\n", (unsigned long long)s->sqn.seq_ms[i]) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, s->sqn_path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* EF_IMSI from digits: length 8, parity nibble, swapped BCD, F filler. */
static int encode_imsi(uint8_t ef[9], const char *imsi)
{
	size_t n = strlen(imsi);
	uint8_t nib[16];

	if (n < 6 || n > 15 || strspn(imsi, "0123456789") != n)
		return -1;
	memset(ef, 0xFF, 9);
	ef[0] = 8;
	nib[0] = (n % 2) ? 9 : 1;
	for (size_t i = 0; i < n; i++)
		nib[i + 1] = (uint8_t)(imsi[i] - '0');
	for (size_t i = 0; i <= n; i++) {
		uint8_t *b = &ef[1 + i / 2];
		*b = (i % 2) ? (uint8_t)((*b & 0x0F) | (nib[i] << 4)) : (uint8_t)(0xF0 | nib[i]);
	}
	return 0;
}

/* What a soft card file gives, before the card is built from it. */
struct keyfile {
	char imsi[16], sqn_path[4096];
	int tuak;
	uint8_t k[32], opc[32];
	size_t k_len, opc_len;
	unsigned mnc_len, iterations;
	int res_len;
};


#define OFF(f) offsetof(struct keyfile, f)
#define HEX(name, f, req) \
	{ .section = "", .key = name, .type = GBA_CONF_HEX, .off = OFF(f), \
	  .size = sizeof(((struct keyfile *)0)->f), .min = 16, .max = 32, .len_off = OFF(f##_len), \
	  .flags = GBA_CONF_SECRET | (req) }

/* The soft card file's keys (gba-client(1)); the syntax is in docs/deployment.md. */
static const struct gba_conf_key soft_keys[] = {
	{ .section = "", .key = "imsi", .type = GBA_CONF_DIGITS, .off = OFF(imsi),
	  .size = sizeof(((struct keyfile *)0)->imsi), .min = 6, .max = 15,
	  .flags = GBA_CONF_REQUIRED },
	{ .section = "", .key = "algorithm", .type = GBA_CONF_ENUM, .off = OFF(tuak),
	  .names = gba_conf_algorithm_names },
	HEX("k", k, GBA_CONF_REQUIRED),
	HEX("opc", opc, GBA_CONF_REQUIRED),
	{ .section = "", .key = "mnc_len", .type = GBA_CONF_UINT, .off = OFF(mnc_len), .min = 2,
	  .max = 3 },
	{ .section = "", .key = "tuak_iterations", .type = GBA_CONF_UINT, .off = OFF(iterations),
	  .min = 1, .max = 1000 },
	{ .section = "", .key = "res_len", .type = GBA_CONF_ENUM, .off = OFF(res_len),
	  .names = gba_conf_res_len_names },
	{ .section = "", .key = "sqn_file", .type = GBA_CONF_STR, .off = OFF(sqn_path),
	  .size = sizeof(((struct keyfile *)0)->sqn_path) },
};

static const struct gba_conf_spec soft_spec = {
	.keys = soft_keys, .n_keys = sizeof(soft_keys) / sizeof(soft_keys[0]),
	.flags = GBA_CONF_WIPE,
};

/* A Milenage card takes 16-octet K and OPc; TUAK a 32-octet TOPc. */
static const char *make_key(struct soft *s, const struct keyfile *kf)
{
	if (kf->tuak) {
		if (kf->opc_len != 32)
			return "algorithm tuak needs a 32-octet opc (TOPc)";
		return gba_aka_key_tuak(&s->key, kf->k, kf->k_len, kf->opc, 0,
					kf->iterations ? kf->iterations : 1,
					kf->res_len ? (size_t)kf->res_len : 8) ?
			       "bad TUAK key" : NULL;
	}
	if (kf->k_len != 16 || kf->opc_len != 16)
		return "algorithm milenage needs a 16-octet k and opc";
	gba_aka_key_milenage(&s->key, kf->k, kf->opc, 0);
	return NULL;
}

static gba_client_err soft_load(struct soft *s, const char *path, char *msg, size_t msg_size)
{
	char buf[4096 + 1], err[GBA_CONF_ERR_MAX];
	struct keyfile *kf = calloc(1, sizeof(*kf));
	const char *bad = NULL;
	gba_client_err rc = GBA_CLIENT_OK;

	if (!kf)
		return GBA_CLIENT_ERR_NO_MEMORY;
	kf->mnc_len = 2;
	rc = client_read_secret_file(path, "key", buf, sizeof(buf) - 1, msg, msg_size);
	if (!rc && gba_conf_parse(&soft_spec, kf, path, buf, strlen(buf), NULL, err, sizeof(err)))
		rc = client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s (soft card; see gba-client(1))",
				 err);
	gba_wipe(buf, sizeof(buf));
	if (!rc && (encode_imsi(s->ef_imsi, kf->imsi) || (bad = make_key(s, kf))))
		rc = client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s: %s (soft card; see "
				 "gba-client(1))", path, bad ? bad : "bad imsi");
	if (!rc)
		memcpy(s->sqn_path, kf->sqn_path, sizeof(s->sqn_path));
	s->ef_ad[3] = (uint8_t)kf->mnc_len;
	gba_wipe(kf, sizeof(*kf));
	free(kf);
	return rc;
}

/* ---- APDUs -------------------------------------------------------------------- */

static size_t sw(uint8_t *r, size_t off, unsigned code)
{
	r[off] = (uint8_t)(code >> 8);
	r[off + 1] = (uint8_t)code;
	return off + 2;
}

/* FCP of a transparent EF (or a DF when size is 0). */
static size_t fcp(uint8_t *r, size_t size, int linear, size_t rec_len)
{
	size_t n = 0;

	r[n++] = 0x62;
	r[n++] = 0;   /* set below */
	r[n++] = 0x82;
	if (linear) {
		r[n++] = 5;
		r[n++] = 0x42;
		r[n++] = 0x21;
		r[n++] = 0x00;
		r[n++] = (uint8_t)rec_len;
		r[n++] = 1;
	} else {
		r[n++] = 2;
		r[n++] = size ? 0x41 : 0x78;
		r[n++] = 0x21;
	}
	r[n++] = 0x80;
	r[n++] = 2;
	r[n++] = 0;
	r[n++] = (uint8_t)size;
	r[1] = (uint8_t)(n - 2);
	return n;
}

static const uint8_t *ef_data(struct soft *s, size_t *len)
{
	static const uint8_t ust[9];   /* no service 68: the soft card is GBA_ME only */
	static uint8_t dir[2 + 2 + 16 + 2 + 4];

	switch (s->current) {
	case 0x2F00:
		memcpy(dir, (const uint8_t[]){ 0x61, 24, 0x4F, 16 }, 4);
		memcpy(dir + 4, soft_aid, 16);
		memcpy(dir + 20, (const uint8_t[]){ 0x50, 4, 'U', 'S', 'I', 'M' }, 6);
		*len = sizeof(dir);
		return dir;
	case 0x6F07: *len = sizeof(s->ef_imsi); return s->ef_imsi;
	case 0x6FAD: *len = sizeof(s->ef_ad); return s->ef_ad;
	case 0x6F38: *len = sizeof(ust); return ust;
	}
	*len = 0;
	return NULL;
}

static size_t do_select(struct soft *s, const uint8_t *c, size_t len, uint8_t *r)
{
	size_t n = 0, dl;

	if (len < 5 || len < 5u + c[4])
		return sw(r, 0, 0x6700);
	if (c[2] == 0x04) {
		if (c[4] < 7 || memcmp(c + 5, soft_aid, 7))
			return sw(r, 0, 0x6A82);
		s->adf = 1;
		s->current = 0;
		return sw(r, fcp(r, 0, 0, 0), 0x9000);
	}
	if (c[4] != 2)
		return sw(r, 0, 0x6A86);
	uint16_t fid = (uint16_t)(c[5] << 8 | c[6]);
	if (fid == 0x3F00 || fid == 0x7FFF) {
		s->adf = fid == 0x7FFF;
		s->current = 0;
		return sw(r, fcp(r, 0, 0, 0), 0x9000);
	}
	uint16_t old = s->current;
	s->current = fid;
	if (!ef_data(s, &dl) || (fid == 0x2F00) == s->adf) {
		s->current = old;
		return sw(r, 0, 0x6A82);
	}
	n = fcp(r, dl, fid == 0x2F00, dl);
	return sw(r, n, 0x9000);
}

static size_t do_read(struct soft *s, const uint8_t *c, size_t len, uint8_t *r)
{
	size_t dl, want = len >= 5 ? c[4] : 0;
	const uint8_t *d = ef_data(s, &dl);

	if (!d)
		return sw(r, 0, 0x6986);   /* no EF selected */
	if ((c[1] == 0xB2) != (s->current == 0x2F00) || (c[1] == 0xB2 && c[2] != 1))
		return sw(r, 0, c[1] == 0xB2 ? 0x6A83 : 0x6981);
	if (c[1] == 0xB0 && (c[2] || c[3]))
		return sw(r, 0, 0x6B00);
	if (want == 0)
		want = dl;
	if (want > dl)
		return sw(r, 0, 0x6C00 | dl);
	memcpy(r, d, want);
	return sw(r, want, 0x9000);
}

static size_t do_authenticate(struct soft *s, const uint8_t *c, size_t len, uint8_t *r)
{
	struct gba_usim_answer ans;
	size_t n = 0;
	gba_err e;

	if (!s->adf)
		return sw(r, 0, 0x6985);
	if (c[3] != 0x81)
		return sw(r, 0, 0x6A86);   /* no GBA context: soft cards are GBA_ME */
	if (len < 5 + 34 || c[4] < 34 || c[5] != 16 || c[22] != 16)
		return sw(r, 0, 0x6700);
	e = gba_usim_authenticate(&s->key, &s->sqn, c + 6, c + 23, &ans);
	if (e == GBA_ERR_MAC_FAILURE)
		n = sw(r, 0, 0x9862);
	else if (e == GBA_ERR_SYNC_FAILURE) {
		r[0] = 0xDC;
		r[1] = 14;
		memcpy(r + 2, ans.auts, 14);
		n = sw(r, 16, 0x9000);
	} else if (e == GBA_OK && save_sqn(s) == 0) {
		r[n++] = 0xDB;
		r[n++] = (uint8_t)ans.res_len;
		memcpy(r + n, ans.res, ans.res_len);
		n += ans.res_len;
		r[n++] = 16;
		memcpy(r + n, ans.ck, 16);
		n += 16;
		r[n++] = 16;
		memcpy(r + n, ans.ik, 16);
		n = sw(r, n + 16, 0x9000);
	} else {
		n = sw(r, 0, 0x6F00);   /* the SQN state cannot be kept: refuse */
	}
	gba_wipe(&ans, sizeof(ans));
	return n;
}

static gba_client_err soft_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *rapdu,
				    size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct soft *s = ctx;
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;

	if (c[0] != 0x00)
		n = sw(r, 0, 0x6E00);
	else if (c[1] == 0xA4)
		n = do_select(s, c, len, r);
	else if (c[1] == 0xB0 || c[1] == 0xB2)
		n = do_read(s, c, len, r);
	else if (c[1] == 0x88)
		n = do_authenticate(s, c, len, r);
	else
		n = sw(r, 0, 0x6D00);
	if (n > size) {
		gba_wipe(r, sizeof(r));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "R-APDU buffer too small");
	}
	memcpy(rapdu, r, n);
	*rlen = n;
	gba_wipe(r, sizeof(r));
	return GBA_CLIENT_OK;
}

static gba_client_err soft_atr(void *ctx, uint8_t *atr, size_t size, size_t *len, char *msg,
			       size_t msg_size)
{
	/* T=1 ATR whose historical bytes say "SOFT": not a card. */
	static const uint8_t a[] = { 0x3B, 0x84, 0x80, 0x01, 'S', 'O', 'F', 'T', 0x00 };
	(void)ctx;
	(void)msg;
	(void)msg_size;
	if (size < sizeof(a))
		return GBA_CLIENT_ERR_INVALID_ARG;
	memcpy(atr, a, sizeof(a));
	*len = sizeof(a) - 1;
	return GBA_CLIENT_OK;
}

static gba_client_err soft_reset(void *ctx, char *msg, size_t msg_size)
{
	struct soft *s = ctx;
	(void)msg;
	(void)msg_size;
	s->adf = 0;
	s->current = 0;
	return GBA_CLIENT_OK;
}

static void soft_close(void *ctx)
{
	struct soft *s = ctx;
	gba_wipe(s, sizeof(*s));
	free(s);
}

static const struct gba_client_card_ops soft_ops = {
	.name = "soft", .transmit = soft_transmit, .atr = soft_atr, .reset = soft_reset,
	.close = soft_close,
};

gba_client_err gba_client_card_open_soft(struct gba_client_card **card, const char *keyfile,
					 char *msg, size_t msg_size)
{
	struct soft *s;
	gba_client_err err;

	if (!card || !keyfile)
		return GBA_CLIENT_ERR_INVALID_ARG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return GBA_CLIENT_ERR_NO_MEMORY;
	err = soft_load(s, keyfile, msg, msg_size);
	if (!err && !s->sqn_path[0] &&
	    snprintf(s->sqn_path, sizeof(s->sqn_path), "%s.sqn", keyfile) >= (int)sizeof(s->sqn_path))
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "key file path too long");
	if (!err) {
		load_sqn(s);
		err = gba_client_card_open_custom(card, &soft_ops, s);
	}
	if (err)
		soft_close(s);
	return err;
}
