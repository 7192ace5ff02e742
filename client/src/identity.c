/*
 * identity.c - who the card is: USIM/ISIM AIDs from EF_DIR, the IMSI
 * (EF_IMSI), the MNC length (EF_AD), GBA_U support (EF_UST service 68), the
 * IMPI from the ISIM (EF_IMPI) or derived, and the BSF host (TS 23.003).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define FID_MF 0x3F00
#define FID_DIR 0x2F00
#define FID_IMSI 0x6F07
#define FID_AD 0x6FAD
#define FID_UST 0x6F38
#define FID_IMPI 0x6F02
#define FID_IST 0x6F07
#define UST_GBA 68
#define IST_GBA 2

/* RID + application code of the 3GPP USIM and ISIM (TS 101 220 Annex E). */
static const uint8_t usim_prefix[] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02 };
static const uint8_t isim_prefix[] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04 };

gba_client_err gba_client_imsi_decode(char out[GBA_CLIENT_IMSI_MAX + 1],
				      const uint8_t *ef, size_t ef_len)
{
	size_t n = 0, len;

	if (!out || !ef || ef_len < 2)
		return GBA_CLIENT_ERR_INVALID_ARG;
	len = ef[0];
	if (len < 2 || len > 8 || len + 1 > ef_len)
		return GBA_CLIENT_ERR_CARD_DATA;
	/* The first nibble is the parity/type (9 odd, 1 even); digits follow. */
	for (size_t i = 1; i <= len; i++) {
		for (int half = 0; half < 2; half++) {
			unsigned d = half ? ef[i] >> 4 : ef[i] & 0x0F;
			if (i == 1 && half == 0)
				continue;
			if (d == 0x0F && i == len && half == 1)
				break;
			if (d > 9 || n >= GBA_CLIENT_IMSI_MAX)
				return GBA_CLIENT_ERR_CARD_DATA;
			out[n++] = (char)('0' + d);
		}
	}
	out[n] = '\0';
	return n >= 6 ? GBA_CLIENT_OK : GBA_CLIENT_ERR_CARD_DATA;
}

static gba_client_err split_imsi(const char *imsi, unsigned mnc_len, char mcc[4], char mnc3[4])
{
	size_t n = imsi ? strlen(imsi) : 0;

	if (n < 6 || n > GBA_CLIENT_IMSI_MAX || (mnc_len != 2 && mnc_len != 3) ||
	    strspn(imsi, "0123456789") != n)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memcpy(mcc, imsi, 3);
	mcc[3] = '\0';
	/* TS 23.003 13.3: a 2-digit MNC gets a leading zero. */
	if (mnc_len == 2) {
		mnc3[0] = '0';
		memcpy(mnc3 + 1, imsi + 3, 2);
	} else {
		memcpy(mnc3, imsi + 3, 3);
	}
	mnc3[3] = '\0';
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_impi_from_imsi(char *out, size_t out_size, const char *imsi,
					 unsigned mnc_len)
{
	char mcc[4], mnc[4];
	int n;

	if (!out || split_imsi(imsi, mnc_len, mcc, mnc))
		return GBA_CLIENT_ERR_INVALID_ARG;
	n = snprintf(out, out_size, "%s@ims.mnc%s.mcc%s.3gppnetwork.org", imsi, mnc, mcc);
	return n > 0 && (size_t)n < out_size ? GBA_CLIENT_OK : GBA_CLIENT_ERR_INVALID_ARG;
}

gba_client_err gba_client_bsf_host_from_imsi(char *out, size_t out_size, const char *imsi,
					     unsigned mnc_len)
{
	char mcc[4], mnc[4];
	int n;

	if (!out || split_imsi(imsi, mnc_len, mcc, mnc))
		return GBA_CLIENT_ERR_INVALID_ARG;
	n = snprintf(out, out_size, "bsf.mnc%s.mcc%s.pub.3gppnetwork.org", mnc, mcc);
	return n > 0 && (size_t)n < out_size ? GBA_CLIENT_OK : GBA_CLIENT_ERR_INVALID_ARG;
}

/* One EF_DIR record: 61 L { 4F L AID ... }. */
static void take_dir_record(struct gba_client_identity *id, const uint8_t *r, size_t n)
{
	size_t l, al;
	uint8_t *dst;
	size_t *dst_len;

	if (n < 4 || r[0] != 0x61 || (l = r[1]) + 2 > n || l < 2 || r[2] != 0x4F)
		return;
	al = r[3];
	if (al + 4 > l + 2 || al < sizeof(usim_prefix) || al > GBA_CLIENT_AID_MAX)
		return;
	if (!memcmp(r + 4, usim_prefix, sizeof(usim_prefix))) {
		dst = id->usim_aid;
		dst_len = &id->usim_aid_len;
	} else if (!memcmp(r + 4, isim_prefix, sizeof(isim_prefix))) {
		dst = id->isim_aid;
		dst_len = &id->isim_aid_len;
	} else {
		return;
	}
	if (*dst_len == 0) {   /* the first of each kind */
		memcpy(dst, r + 4, al);
		*dst_len = al;
	}
}

/*
 * On a modem's basic channel (the baseband's), no MF and no EF_DIR: the
 * USIM and the ISIM by their partial AIDs, the full AIDs from the FCPs.
 */
static gba_client_err find_apps(struct gba_client_card *card, struct gba_client_identity *id,
				char *msg, size_t msg_size)
{
	gba_client_err err;

	if (!client_select_aid_full(card, isim_prefix, sizeof(isim_prefix), id->isim_aid,
				    &id->isim_aid_len, NULL, 0) && id->isim_aid_len == 0) {
		memcpy(id->isim_aid, isim_prefix, sizeof(isim_prefix));
		id->isim_aid_len = sizeof(isim_prefix);
	}
	err = client_select_aid_full(card, usim_prefix, sizeof(usim_prefix), id->usim_aid,
				     &id->usim_aid_len, msg, msg_size);
	if (!err && id->usim_aid_len == 0) {
		memcpy(id->usim_aid, usim_prefix, sizeof(usim_prefix));
		id->usim_aid_len = sizeof(usim_prefix);
	}
	return err;
}

static gba_client_err read_ef_dir(struct gba_client_card *card,
				  struct gba_client_identity *id, char *msg, size_t msg_size)
{
	uint8_t rec[255];
	size_t size, rec_len, got;
	gba_client_err err;

	err = client_select_fid(card, FID_MF, NULL, NULL, msg, msg_size);
	if (!err)
		err = client_select_fid(card, FID_DIR, &size, &rec_len, msg, msg_size);
	if (err)
		return err;
	if (rec_len == 0 || rec_len > sizeof(rec))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "EF_DIR has no usable record length");
	for (unsigned i = 1; i <= size / rec_len && i <= 16; i++) {
		err = client_read_record(card, i, rec, rec_len, &got, msg, msg_size);
		if (err)
			return err;
		take_dir_record(id, rec, got);
	}
	if (id->usim_aid_len == 0)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "EF_DIR lists no USIM application");
	return GBA_CLIENT_OK;
}

static gba_client_err read_dir(struct gba_client_card *card, struct gba_client_identity *id,
			       char *msg, size_t msg_size)
{
	if (client_card_basic_shared(card))
		return find_apps(card, id, msg, msg_size);
	return read_ef_dir(card, id, msg, msg_size);
}

/* SELECT an EF under the current ADF and read it whole (at most size octets). */
static gba_client_err read_ef(struct gba_client_card *card, uint16_t fid, uint8_t *out,
			      size_t size, size_t *len, char *msg, size_t msg_size)
{
	size_t fsize, rl;
	gba_client_err err;

	err = client_select_fid(card, fid, &fsize, &rl, msg, msg_size);
	if (err)
		return err;
	if (fsize == 0)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "EF %04X: no file size in the FCP", fid);
	if (fsize > size)
		fsize = size;   /* the leading octets are the ones we need */
	*len = fsize;
	return client_read_binary(card, out, fsize, msg, msg_size);
}

static gba_client_err read_usim(struct gba_client_card *card, struct gba_client_identity *id,
				char *msg, size_t msg_size)
{
	uint8_t buf[64];
	size_t n = 0;
	gba_client_err err;

	err = client_select_aid(card, id->usim_aid, id->usim_aid_len, msg, msg_size);
	if (!err)
		err = read_ef(card, FID_IMSI, buf, sizeof(buf), &n, msg, msg_size);
	if (err)
		return err;
	if (gba_client_imsi_decode(id->imsi, buf, n))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "EF_IMSI is not a valid IMSI");
	err = read_ef(card, FID_AD, buf, sizeof(buf), &n, msg, msg_size);
	if (err)
		return err;
	/* EF_AD octet 4 (low nibble) is the MNC length; cards without it use 2. */
	id->mnc_len = n >= 4 ? (buf[3] & 0x0F) : 2;
	if (id->mnc_len != 2 && id->mnc_len != 3)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "EF_AD gives MNC length %u", id->mnc_len);
	memcpy(id->mcc, id->imsi, 3);
	memcpy(id->mnc, id->imsi + 3, id->mnc_len);
	/* EF_UST is optional reading: no UST means no GBA_U. */
	id->gba_u = 0;
	if (!read_ef(card, FID_UST, buf, sizeof(buf), &n, NULL, 0) && n >= (UST_GBA + 7) / 8)
		id->gba_u = (buf[(UST_GBA - 1) / 8] >> ((UST_GBA - 1) % 8)) & 1;
	id->ust_gba = id->gba_u;
	return GBA_CLIENT_OK;
}

/* ISIM EF_IMPI: 80 L NAI.  0 when there is no usable IMPI. */
static int read_isim_impi(struct gba_client_card *card, struct gba_client_identity *id)
{
	uint8_t buf[GBA_CLIENT_IMPI_MAX + 3];
	size_t n = 0;

	if (client_select_aid(card, id->isim_aid, id->isim_aid_len, NULL, 0) ||
	    read_ef(card, FID_IMPI, buf, sizeof(buf), &n, NULL, 0))
		return 0;
	if (n < 3 || buf[0] != 0x80 || buf[1] == 0 || (size_t)buf[1] + 2 > n ||
	    !memchr(buf + 2, '@', buf[1]))
		return 0;
	/* An IMPI is printable ASCII without spaces (TS 23.003 13.3): it goes
	 * into Ub's Digest username and into AUTHENTICATE's NAF derivation. */
	for (size_t i = 0; i < buf[1]; i++)
		if (buf[2 + i] <= 0x20 || buf[2 + i] >= 0x7F)
			return 0;
	memcpy(id->impi, buf + 2, buf[1]);
	id->impi[buf[1]] = '\0';
	/* EF_IST service 2: GBA in the ISIM (TS 31.103 4.2.7). */
	if (!read_ef(card, FID_IST, buf, sizeof(buf), &n, NULL, 0) && n >= 1)
		id->isim_gba = (buf[(IST_GBA - 1) / 8] >> ((IST_GBA - 1) % 8)) & 1;
	return 1;
}

/*
 * USIM or ISIM, never mixed (TS 33.220 5.2.1): the ISIM's IMPI goes with
 * the ISIM's keys, the USIM's keys with the IMSI-derived IMPI.
 */
static gba_client_err choose_app(struct gba_client_card *card, struct gba_client_identity *id,
				 enum gba_client_app want, int usim_gba_u, char *msg,
				 size_t msg_size)
{
	int isim_ok = id->impi_from_isim && id->isim_gba;

	if (want == GBA_CLIENT_APP_ISIM && !isim_ok)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_UNSUPPORTED,
				   "app=isim: the card has %s", !id->isim_aid_len ? "no ISIM"
				   : !id->impi_from_isim ? "no usable IMPI in its ISIM"
				   : "an ISIM without GBA (EF_IST service 2)");
	if (want == GBA_CLIENT_APP_ISIM || (want == GBA_CLIENT_APP_AUTO && isim_ok)) {
		id->app = GBA_CLIENT_APP_ISIM;
		id->gba_u = 1;   /* IST service 2: GBA_U in the ISIM */
		return client_select_aid(card, id->isim_aid, id->isim_aid_len, msg, msg_size);
	}
	id->app = GBA_CLIENT_APP_USIM;
	id->gba_u = usim_gba_u;
	id->impi_from_isim = 0;
	if (gba_client_impi_from_imsi(id->impi, sizeof(id->impi), id->imsi, id->mnc_len))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA, "IMSI too short");
	return id->isim_aid_len ? client_select_aid(card, id->usim_aid, id->usim_aid_len, msg,
						    msg_size)
				: GBA_CLIENT_OK;
}

static gba_client_err identity(struct gba_client_card *card, struct gba_client_identity *id,
			       enum gba_client_app want, char *msg, size_t msg_size)
{
	gba_client_err err;

	err = read_dir(card, id, msg, msg_size);
	if (!err)
		err = read_usim(card, id, msg, msg_size);
	if (err)
		return err;
	if (gba_client_bsf_host_from_imsi(id->bsf_host, sizeof(id->bsf_host), id->imsi,
					  id->mnc_len))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA, "IMSI too short");
	int usim_gba_u = id->gba_u;
	id->impi_from_isim = id->isim_aid_len && read_isim_impi(card, id);
	/* AUTHENTICATE goes to the chosen application: leave it selected. */
	return choose_app(card, id, want, usim_gba_u, msg, msg_size);
}

gba_client_err gba_client_usim_identity(struct gba_client_card *card,
					struct gba_client_identity *id,
					char *msg, size_t msg_size)
{
	return gba_client_usim_identity_app(card, id, GBA_CLIENT_APP_AUTO, msg, msg_size);
}

gba_client_err gba_client_usim_identity_app(struct gba_client_card *card,
					    struct gba_client_identity *id,
					    enum gba_client_app want,
					    char *msg, size_t msg_size)
{
	gba_client_err err;

	if (!card || !id)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memset(id, 0, sizeof(*id));
	/* One procedure: no other program's command between our SELECTs and READs. */
	err = client_proc_begin(card, 0, msg, msg_size);
	if (err)
		return err;
	err = identity(card, id, want, msg, msg_size);
	client_proc_end(card);
	return err;
}
