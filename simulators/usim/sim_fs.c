/*
 * sim_fs.c - the card's file tree and the contents it is issued with.
 *
 *   MF 3F00
 *     EF_DIR 2F00 (linear, one record per application)  EF_ICCID 2FE2
 *     ADF_USIM: EF_IMSI 6F07  EF_AD 6FAD  EF_UST 6F38
 *               EF_GBABP 6FD6  EF_GBANL 6FDA  EF_NAFKCA 6FDD   (TS 31.102)
 *     ADF_ISIM: EF_IMPI 6F02  EF_DOMAIN 6F03  EF_IMPU 6F04  EF_IST 6F07
 *               EF_AD 6FAD  EF_GBABP 6FD5  EF_GBANL 6FD7  EF_NAFKCA 6FDD
 *                                                              (TS 31.103)
 *
 * The card keeps one GBA_U key, so the ISIM's GBA files are the USIM's
 * under the ISIM's FIDs (same contents, whichever application ran the
 * bootstrap).
 *
 * The ISIM exists only when the profile gives an IMPI; the GBA files only
 * when the profile says gba = yes.  Access conditions follow TS 31.102:
 * identities and GBA data need the PIN (when the card has one enabled);
 * what the ME may not change is ADM.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Full AIDs: RID A000000087, application code 1002 (USIM) / 1004 (ISIM),
 * then country/provider bytes as on a test card. */
const uint8_t SIM_AID_USIM[16] = {
	0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x06, 0x19, 0x00, 0x00 };
const uint8_t SIM_AID_ISIM[16] = {
	0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x06, 0x19, 0x00, 0x00 };

#define GBANL_REC_LEN 240
#define NAFKCA_REC_LEN 64

struct file_spec {
	int idx, parent;
	uint16_t fid;
	enum sim_ftype type;
	uint8_t sfi;
	enum sim_access read, update;
	int persist;
};

static const struct file_spec SPECS[] = {
	{ F_MF, F_NONE, 0x3F00, SIM_MF, 0, SIM_ALW, SIM_ADM, 0 },
	{ F_DIR, F_MF, 0x2F00, SIM_EF_LINEAR, 0x1E, SIM_ALW, SIM_ADM, 0 },
	{ F_ICCID, F_MF, 0x2FE2, SIM_EF_TRANSPARENT, 0x02, SIM_ALW, SIM_ADM, 0 },
	{ F_ADF_USIM, F_MF, 0x7FF0, SIM_ADF, 0, SIM_ALW, SIM_ADM, 0 },
	{ F_IMSI, F_ADF_USIM, 0x6F07, SIM_EF_TRANSPARENT, 0x07, SIM_PIN, SIM_ADM, 0 },
	{ F_AD, F_ADF_USIM, 0x6FAD, SIM_EF_TRANSPARENT, 0x03, SIM_ALW, SIM_ADM, 0 },
	{ F_UST, F_ADF_USIM, 0x6F38, SIM_EF_TRANSPARENT, 0x04, SIM_PIN, SIM_ADM, 0 },
	{ F_GBABP, F_ADF_USIM, 0x6FD6, SIM_EF_TRANSPARENT, 0, SIM_PIN, SIM_PIN, 1 },
	{ F_GBANL, F_ADF_USIM, 0x6FDA, SIM_EF_LINEAR, 0, SIM_PIN, SIM_ADM, 1 },
	{ F_NAFKCA, F_ADF_USIM, 0x6FDD, SIM_EF_LINEAR, 0, SIM_PIN, SIM_ADM, 0 },
	{ F_ADF_ISIM, F_MF, 0x7FF1, SIM_ADF, 0, SIM_ALW, SIM_ADM, 0 },
	{ F_IMPI, F_ADF_ISIM, 0x6F02, SIM_EF_TRANSPARENT, 0x02, SIM_PIN, SIM_ADM, 0 },
	{ F_DOMAIN, F_ADF_ISIM, 0x6F03, SIM_EF_TRANSPARENT, 0x05, SIM_PIN, SIM_ADM, 0 },
	{ F_IMPU, F_ADF_ISIM, 0x6F04, SIM_EF_LINEAR, 0x04, SIM_PIN, SIM_ADM, 0 },
	{ F_IST, F_ADF_ISIM, 0x6F07, SIM_EF_TRANSPARENT, 0x07, SIM_PIN, SIM_ADM, 0 },
	{ F_ISIM_AD, F_ADF_ISIM, 0x6FAD, SIM_EF_TRANSPARENT, 0x03, SIM_ALW, SIM_ADM, 0 },
	{ F_ISIM_GBABP, F_ADF_ISIM, 0x6FD5, SIM_EF_TRANSPARENT, 0, SIM_PIN, SIM_PIN, 1 },
	{ F_ISIM_GBANL, F_ADF_ISIM, 0x6FD7, SIM_EF_LINEAR, 0, SIM_PIN, SIM_ADM, 1 },
	{ F_ISIM_NAFKCA, F_ADF_ISIM, 0x6FDD, SIM_EF_LINEAR, 0, SIM_PIN, SIM_ADM, 0 },
	/* EF_ARR: the access rules the FCPs' tag 8B point to (TS 102 221 13.4,
	 * TS 31.102 4.2.x: 6F06, TS 31.103: 6F06). */
	{ F_ARR, F_MF, 0x2F06, SIM_EF_LINEAR, 0x06, SIM_ALW, SIM_ADM, 0 },
	{ F_USIM_ARR, F_ADF_USIM, 0x6F06, SIM_EF_LINEAR, 0x17, SIM_ALW, SIM_ADM, 0 },
	{ F_ISIM_ARR, F_ADF_ISIM, 0x6F06, SIM_EF_LINEAR, 0x06, SIM_ALW, SIM_ADM, 0 },
};

static int alloc_file(struct sim_file *f, size_t size, uint8_t rec_len, uint8_t n_rec)
{
	f->data = malloc(size ? size : 1);
	if (!f->data)
		return -1;
	memset(f->data, 0xFF, size);    /* unused octets of an EF are FF */
	f->size = size;
	f->rec_len = rec_len;
	f->n_rec = n_rec;
	f->present = 1;
	return 0;
}

/* BCD with swapped nibbles, F-padded (ICCID, and IMSI after its header). */
static void put_bcd(uint8_t *out, size_t out_len, const char *digits)
{
	size_t n = strlen(digits);

	memset(out, 0xFF, out_len);
	for (size_t i = 0; i < n && i / 2 < out_len; i++) {
		uint8_t d = (uint8_t)(digits[i] - '0');

		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(0xF0 | d);
		else
			out[i / 2] = (uint8_t)((out[i / 2] & 0x0F) | (d << 4));
	}
}

/* EF_IMSI (TS 31.102 4.2.2): length, then parity/type nibble and digits. */
static void put_imsi(uint8_t out[9], const char *imsi)
{
	size_t n = strlen(imsi);
	char nibbles[17];

	/* First nibble: type 001 (IMSI) with the odd-count parity bit. */
	nibbles[0] = (char)('0' + ((n % 2) ? 9 : 1));
	memcpy(nibbles + 1, imsi, n + 1);
	memset(out, 0xFF, 9);
	out[0] = (uint8_t)((n + 2) / 2);
	put_bcd(out + 1, 8, nibbles);
}

/* A "80 L value" TLV into a buffer of size octets (FF-padded). */
static void put_tlv80(uint8_t *out, size_t size, const char *v)
{
	size_t n = strlen(v);

	out[0] = 0x80;
	out[1] = (uint8_t)n;
	memcpy(out + 2, v, n < size - 2 ? n : size - 2);
}

static void set_service(uint8_t *table, unsigned n)
{
	table[(n - 1) / 8] |= (uint8_t)(1u << ((n - 1) % 8));
}

/* EF_DIR record: 61 L 4F 10 AID 50 L label. */
static void put_dir_record(uint8_t *rec, const uint8_t aid[16], const char *label)
{
	size_t l = strlen(label);

	rec[0] = 0x61;
	rec[1] = (uint8_t)(2 + 16 + 2 + l);
	rec[2] = 0x4F;
	rec[3] = 16;
	memcpy(rec + 4, aid, 16);
	rec[20] = 0x50;
	rec[21] = (uint8_t)l;
	memcpy(rec + 22, label, l);
}

static int build_mf(struct usim_sim *sim)
{
	struct sim_file *fs = sim->files;
	int isim = sim->prof.impi[0] != 0;

	if (alloc_file(&fs[F_DIR], 2 * 32, 32, 2) || alloc_file(&fs[F_ICCID], 10, 0, 0))
		return -1;
	put_dir_record(fs[F_DIR].data, SIM_AID_USIM, "USIM");
	if (isim)
		put_dir_record(fs[F_DIR].data + 32, SIM_AID_ISIM, "ISIM");
	put_bcd(fs[F_ICCID].data, 10, sim->prof.iccid);
	return 0;
}

/* EF_GBABP, EF_GBANL and EF_NAFKCA of one application. */
static int alloc_gba_files(struct sim_file *fs, int bp, int nl, int kca, unsigned bp_size)
{
	return alloc_file(&fs[bp], bp_size, 0, 0) ||
	       alloc_file(&fs[nl], SIM_GBANL_RECORDS * GBANL_REC_LEN, GBANL_REC_LEN,
			  SIM_GBANL_RECORDS) ||
	       alloc_file(&fs[kca], 2 * NAFKCA_REC_LEN, NAFKCA_REC_LEN, 2);
}

static int build_usim(struct usim_sim *sim)
{
	struct sim_file *fs = sim->files;
	const struct sim_profile *p = &sim->prof;

	if (alloc_file(&fs[F_IMSI], 9, 0, 0) || alloc_file(&fs[F_AD], 4, 0, 0) ||
	    alloc_file(&fs[F_UST], 9, 0, 0))
		return -1;
	put_imsi(fs[F_IMSI].data, p->imsi);
	memset(fs[F_AD].data, 0, 4);
	fs[F_AD].data[3] = (uint8_t)p->mnc_length;
	memset(fs[F_UST].data, 0, 9);
	set_service(fs[F_UST].data, 2);   /* FDN, as test cards have: harmless */
	if (p->gba) {
		set_service(fs[F_UST].data, 68);
		if (alloc_gba_files(fs, F_GBABP, F_GBANL, F_NAFKCA, p->gbabp_size))
			return -1;
	}
	return 0;
}

/* f shows target's data under its own FID and parent. */
static void alias_file(struct sim_file *f, const struct sim_file *target)
{
	f->data = target->data;
	f->size = target->size;
	f->rec_len = target->rec_len;
	f->n_rec = target->n_rec;
	f->present = 1;
	f->is_alias = 1;
}

static int build_isim(struct usim_sim *sim)
{
	struct sim_file *fs = sim->files;
	const struct sim_profile *p = &sim->prof;
	unsigned n = p->n_impu ? p->n_impu : 1;

	if (!p->impi[0])
		return 0;
	if (alloc_file(&fs[F_IMPI], strlen(p->impi) + 2, 0, 0) ||
	    alloc_file(&fs[F_DOMAIN], (p->domain[0] ? strlen(p->domain) : 0) + 2, 0, 0) ||
	    alloc_file(&fs[F_IMPU], (size_t)n * 255, 255, (uint8_t)n) ||
	    alloc_file(&fs[F_IST], 1, 0, 0) || alloc_file(&fs[F_ISIM_AD], 4, 0, 0))
		return -1;
	put_tlv80(fs[F_IMPI].data, fs[F_IMPI].size, p->impi);
	put_tlv80(fs[F_DOMAIN].data, fs[F_DOMAIN].size, p->domain);
	for (unsigned i = 0; i < p->n_impu; i++)
		put_tlv80(fs[F_IMPU].data + i * 255, 255, p->impu[i]);
	fs[F_IST].data[0] = p->gba ? 0x02 : 0x00;    /* service 2: GBA */
	memcpy(fs[F_ISIM_AD].data, fs[F_AD].data, 4);
	if (p->gba && p->isim_own_key) {
		/* Its own subscription, its own Ks: its own GBA files. */
		if (alloc_gba_files(fs, F_ISIM_GBABP, F_ISIM_GBANL, F_ISIM_NAFKCA, p->gbabp_size))
			return -1;
	} else if (p->gba) {
		alias_file(&fs[F_ISIM_GBABP], &fs[F_GBABP]);
		alias_file(&fs[F_ISIM_GBANL], &fs[F_GBANL]);
		alias_file(&fs[F_ISIM_NAFKCA], &fs[F_NAFKCA]);
	}
	return 0;
}

/*
 * EF_ARR's records, one per (read, update) pair of enum sim_access
 * (record 1 + 3 * read + update), in the expanded format: AM_DO 80 01 01
 * (read) and 80 01 02 (update), each followed by its SC_DO: 90 00
 * (always), A4 {83 01 01, 95 01 08} (PIN1), A4 {83 01 0A, 95 01 08} (ADM1).
 */
#define ARR_REC_LEN 24
static size_t put_sc(uint8_t *p, enum sim_access a)
{
	static const uint8_t alw[] = { 0x90, 0x00 };
	static const uint8_t pin[] = { 0xA4, 0x06, 0x83, 0x01, 0x01, 0x95, 0x01, 0x08 };
	static const uint8_t adm[] = { 0xA4, 0x06, 0x83, 0x01, 0x0A, 0x95, 0x01, 0x08 };
	const uint8_t *v = a == SIM_ALW ? alw : a == SIM_PIN ? pin : adm;
	size_t n = a == SIM_ALW ? sizeof(alw) : sizeof(pin);

	memcpy(p, v, n);
	return n;
}

static int build_arr(struct sim_file *f)
{
	if (alloc_file(f, 9 * ARR_REC_LEN, ARR_REC_LEN, 9))
		return -1;
	memset(f->data, 0xFF, f->size);
	for (int r = 0; r < 3; r++)
		for (int u = 0; u < 3; u++) {
			uint8_t *p = f->data + (size_t)(3 * r + u) * ARR_REC_LEN;
			size_t n = 3;
			memcpy(p, (const uint8_t[]){ 0x80, 0x01, 0x01 }, 3);
			n += put_sc(p + n, (enum sim_access)r);
			memcpy(p + n, (const uint8_t[]){ 0x80, 0x01, 0x02 }, 3);
			n += 3;
			put_sc(p + n, (enum sim_access)u);
		}
	return 0;
}

gba_err sim_fs_build(struct usim_sim *sim)
{
	for (size_t i = 0; i < sizeof(SPECS) / sizeof(SPECS[0]); i++) {
		struct sim_file *f = &sim->files[SPECS[i].idx];

		memset(f, 0, sizeof(*f));
		f->fid = SPECS[i].fid;
		f->parent = SPECS[i].parent;
		f->type = SPECS[i].type;
		f->sfi = SPECS[i].sfi;
		f->read = SPECS[i].read;
		f->update = SPECS[i].update;
		f->persist = SPECS[i].persist;
	}
	sim->files[F_MF].present = 1;
	sim->files[F_ADF_USIM].present = 1;
	sim->files[F_ADF_USIM].aid = SIM_AID_USIM;
	sim->files[F_ADF_USIM].aid_len = 16;
	sim->files[F_ADF_ISIM].present = sim->prof.impi[0] != 0;
	sim->files[F_ADF_ISIM].aid = SIM_AID_ISIM;
	sim->files[F_ADF_ISIM].aid_len = 16;
	if (build_mf(sim) || build_usim(sim) || build_isim(sim) ||
	    build_arr(&sim->files[F_ARR]) || build_arr(&sim->files[F_USIM_ARR]) ||
	    (sim->files[F_ADF_ISIM].present && build_arr(&sim->files[F_ISIM_ARR]))) {
		sim_fs_free(sim);
		return GBA_ERR_NO_MEMORY;
	}
	return GBA_OK;
}

void sim_fs_free(struct usim_sim *sim)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (!sim->files[i].is_alias)
			free(sim->files[i].data);
		sim->files[i].data = NULL;
	}
}

static int is_df(const struct sim_file *f)
{
	return f->type == SIM_MF || f->type == SIM_ADF;
}

/* TS 102 221 8.4.1: from the current DF, a FID names the MF, the current
 * DF, a child of it, its parent, or a sibling DF. */
int sim_fs_find(const struct usim_sim *sim, int df, uint16_t fid)
{
	const struct sim_file *fs = sim->files;

	if (fid == 0x3F00)
		return F_MF;
	if (fid == 0x7FFF)
		return sim->cur_app;
	if (fs[df].fid == fid)
		return df;
	for (int i = 0; i < F_COUNT; i++)
		if (fs[i].present && fs[i].parent == df && fs[i].fid == fid)
			return i;
	for (int i = 0; i < F_COUNT; i++)
		if (fs[i].present && is_df(&fs[i]) && fs[i].parent == fs[df].parent &&
		    fs[df].parent != F_NONE && fs[i].fid == fid)
			return i;
	/* EFs under the MF stay reachable from an ADF (EF_DIR, EF_ICCID). */
	for (int i = 0; i < F_COUNT; i++)
		if (fs[i].present && fs[i].parent == F_MF && !is_df(&fs[i]) && fs[i].fid == fid)
			return i;
	return F_NONE;
}

int sim_fs_by_sfi(const struct usim_sim *sim, uint8_t sfi)
{
	int df = sim->cur_df;

	for (int i = 0; i < F_COUNT; i++)
		if (sim->files[i].present && sim->files[i].parent == df &&
		    sim->files[i].sfi == sfi && !is_df(&sim->files[i]))
			return i;
	return F_NONE;
}

static size_t put(uint8_t *out, size_t pos, const uint8_t *b, size_t n)
{
	memcpy(out + pos, b, n);
	return pos + n;
}

/* Security attributes as a reference to EF_ARR (8B 03 2F06 rr), the
 * compact form TS 102 221 allows; rr encodes our ALW/PIN/ADM pair. */
static uint16_t arr_fid(const struct sim_file *f)
{
	return f->parent == F_ADF_USIM || f->parent == F_ADF_ISIM ? 0x6F06 : 0x2F06;
}

static uint8_t arr_record(const struct sim_file *f)
{
	return (uint8_t)(1 + f->read * 3 + f->update);
}

size_t sim_fs_fcp(const struct usim_sim *sim, int i, uint8_t *out, size_t out_size)
{
	const struct sim_file *f = &sim->files[i];
	uint8_t b[96];
	size_t n = 2;

	if (is_df(f)) {
		n = put(b, n, (const uint8_t[]){ 0x82, 0x02, 0x78, 0x21 }, 4);
	} else if (f->type == SIM_EF_TRANSPARENT) {
		n = put(b, n, (const uint8_t[]){ 0x82, 0x02, 0x41, 0x21 }, 4);
	} else {
		n = put(b, n, (const uint8_t[]){ 0x82, 0x05, 0x42, 0x21, 0x00,
						 f->rec_len, f->n_rec }, 7);
	}
	n = put(b, n, (const uint8_t[]){ 0x83, 0x02, (uint8_t)(f->fid >> 8),
					 (uint8_t)f->fid }, 4);
	if (f->type == SIM_ADF) {
		b[n++] = 0x84;
		b[n++] = (uint8_t)f->aid_len;
		n = put(b, n, f->aid, f->aid_len);
	}
	n = put(b, n, (const uint8_t[]){ 0x8A, 0x01, 0x05 }, 3);   /* activated */
	/* 8B: EF_ARR's FID and the record; an application's files use its own
	 * EF_ARR 6F06, the MF's files and the ADFs the MF's 2F06. */
	n = put(b, n, (const uint8_t[]){ 0x8B, 0x03, arr_fid(f) >> 8, arr_fid(f) & 0xFF,
					 arr_record(f) }, 5);
	if (is_df(f)) {
		/* C6: PIN status template (PS_DO 90 01 xx, key reference 01). */
		n = put(b, n, (const uint8_t[]){ 0xC6, 0x06, 0x90, 0x01,
			sim->prof.pin[0] ? 0x80 : 0x00, 0x83, 0x01, 0x01 }, 8);
	} else {
		n = put(b, n, (const uint8_t[]){ 0x80, 0x02, (uint8_t)(f->size >> 8),
						 (uint8_t)f->size }, 4);
		/* No SFI is said (88 00): otherwise the FID's low 5 bits would be one. */
		if (f->sfi)
			n = put(b, n, (const uint8_t[]){ 0x88, 0x01, (uint8_t)(f->sfi << 3) }, 3);
		else
			n = put(b, n, (const uint8_t[]){ 0x88, 0x00 }, 2);
	}
	b[0] = 0x62;
	b[1] = (uint8_t)(n - 2);
	if (n > out_size)
		return 0;
	memcpy(out, b, n);
	return n;
}
