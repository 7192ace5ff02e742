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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/aka.h>
#include <gba/util.h>

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

struct keyfile {
	char imsi[16], algo[16];
	uint8_t k[32], opc[32];
	size_t k_len, opc_len;
	unsigned mnc_len, iterations, res_len;
};

static int take_line(struct keyfile *kf, struct soft *s, const char *k, const char *v)
{
	size_t vl = strlen(v);

	if (!strcmp(k, "imsi") && vl < sizeof(kf->imsi))
		memcpy(kf->imsi, v, vl + 1);
	else if (!strcmp(k, "algorithm") && vl < sizeof(kf->algo))
		memcpy(kf->algo, v, vl + 1);
	else if (!strcmp(k, "k"))
		return gba_hex_decode(kf->k, sizeof(kf->k), &kf->k_len, v, vl) ? -1 : 0;
	else if (!strcmp(k, "opc"))
		return gba_hex_decode(kf->opc, sizeof(kf->opc), &kf->opc_len, v, vl) ? -1 : 0;
	else if (!strcmp(k, "mnc_len"))
		kf->mnc_len = (unsigned)atoi(v);
	else if (!strcmp(k, "tuak_iterations"))
		kf->iterations = (unsigned)atoi(v);
	else if (!strcmp(k, "res_len"))
		kf->res_len = (unsigned)atoi(v);
	else if (!strcmp(k, "sqn_file") && vl < sizeof(s->sqn_path))
		memcpy(s->sqn_path, v, vl + 1);
	else
		return -1;
	return 0;
}

static int parse_keyfile(char *buf, struct keyfile *kf, struct soft *s, unsigned *bad_line)
{
	char *save = NULL;
	unsigned no = 0;

	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *k = line, *v, *e;
		no++;
		if (line[0] == '#' || strspn(line, " \t\r") == strlen(line))
			continue;
		if (!eq)
			goto bad;
		*eq = '\0';
		v = eq + 1;
		for (e = eq; e > k && strchr(" \t", e[-1]); e--)
			e[-1] = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && strchr(" \t\r", e[-1]); e--)
			e[-1] = '\0';
		if (take_line(kf, s, k, v))
			goto bad;
	}
	return 0;
bad:
	*bad_line = no;
	return -1;
}

static int make_key(struct soft *s, const struct keyfile *kf)
{
	if (!strcmp(kf->algo, "tuak")) {
		if (kf->opc_len != 32)
			return -1;
		return gba_aka_key_tuak(&s->key, kf->k, kf->k_len, kf->opc, 0,
					kf->iterations ? kf->iterations : 1,
					kf->res_len ? kf->res_len : 8) ? -1 : 0;
	}
	if ((kf->algo[0] && strcmp(kf->algo, "milenage")) || kf->k_len != 16 || kf->opc_len != 16)
		return -1;
	gba_aka_key_milenage(&s->key, kf->k, kf->opc, 0);
	return 0;
}

static gba_client_err soft_load(struct soft *s, const char *path, char *msg, size_t msg_size)
{
	char buf[4096];
	struct keyfile kf = { .mnc_len = 2 };
	unsigned line = 0;
	int bad;

	if (client_read_secret_file(path, "key", buf, sizeof(buf), msg, msg_size))
		return GBA_CLIENT_ERR_FILE;
	bad = parse_keyfile(buf, &kf, s, &line);
	gba_wipe(buf, sizeof(buf));
	if (!bad && (encode_imsi(s->ef_imsi, kf.imsi) || (kf.mnc_len != 2 && kf.mnc_len != 3)))
		bad = 1;
	if (!bad && make_key(s, &kf))
		bad = 1;
	s->ef_ad[3] = (uint8_t)kf.mnc_len;
	gba_wipe(&kf, sizeof(kf));
	if (bad)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "%s: bad soft card file%s (needs imsi, k, opc; see gba-client(1))",
				   path, line ? " line" : "");
	return GBA_CLIENT_OK;
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
