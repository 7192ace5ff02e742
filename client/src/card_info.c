/*
 * card_info.c - the lab view of a card (gba-client card-info): where it
 * is and how it talks, its ICCID, PIN1, every application EF_DIR lists
 * with its label, and EF_GBABP's size in the USIM and the ISIM.  Only
 * reads; the identity's application is selected again at the end.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define FID_MF 0x3F00
#define FID_DIR 0x2F00
#define FID_ICCID 0x2FE2
#define FID_GBABP 0x6FD6
#define FID_ISIM_GBABP 0x6FD5

/* EF_ICCID: 10 octets of BCD, nibbles swapped, F filler. */
static void read_iccid(struct gba_client_card *card, struct gba_client_card_info *info)
{
	uint8_t b[10];
	size_t size, rl, n = 0;

	if (client_select_fid(card, FID_ICCID, &size, &rl, NULL, 0) || size < sizeof(b) ||
	    client_read_binary(card, b, sizeof(b), NULL, 0))
		return;
	for (size_t i = 0; i < sizeof(b) && n + 2 < sizeof(info->iccid); i++) {
		unsigned lo = b[i] & 0x0F, hi = b[i] >> 4;
		if (lo <= 9)
			info->iccid[n++] = (char)('0' + lo);
		if (hi <= 9)
			info->iccid[n++] = (char)('0' + hi);
	}
	info->iccid[n] = '\0';
}

/* One EF_DIR record: 61 L { 4F L AID, 50 L label, ... }. */
static void take_app(struct gba_client_card_info *info, const uint8_t *r, size_t n)
{
	struct gba_client_app_entry *e = &info->apps[info->n_apps];
	size_t i = 2, end;

	if (n < 4 || r[0] != 0x61 || (end = 2 + (size_t)r[1]) > n || info->n_apps >= GBA_CLIENT_APPS_MAX)
		return;
	memset(e, 0, sizeof(*e));
	while (i + 2 <= end) {
		uint8_t t = r[i], l = r[i + 1];
		if (i + 2 + l > end)
			break;
		if (t == 0x4F && l >= 1 && l <= sizeof(e->aid)) {
			memcpy(e->aid, r + i + 2, l);
			e->aid_len = l;
		} else if (t == 0x50) {
			size_t k = 0;
			for (size_t j = 0; j < l && k + 1 < sizeof(e->label); j++)
				if (r[i + 2 + j] >= 0x20 && r[i + 2 + j] < 0x7F)
					e->label[k++] = (char)r[i + 2 + j];
			e->label[k] = '\0';
		}
		i += 2 + (size_t)l;
	}
	if (e->aid_len)
		info->n_apps++;
}

static void read_apps(struct gba_client_card *card, struct gba_client_card_info *info)
{
	uint8_t rec[255];
	size_t size, rec_len, got;

	if (client_select_fid(card, FID_DIR, &size, &rec_len, NULL, 0) || !rec_len ||
	    rec_len > sizeof(rec))
		return;
	for (unsigned i = 1; i <= size / rec_len && i <= GBA_CLIENT_APPS_MAX; i++)
		if (!client_read_record(card, i, rec, rec_len, &got, NULL, 0))
			take_app(info, rec, got);
}

/* What the identity found, when EF_DIR is not read (a modem's basic channel). */
static void apps_from_id(const struct gba_client_identity *id, struct gba_client_card_info *info)
{
	struct gba_client_app_entry *e = info->apps;

	memcpy(e[0].aid, id->usim_aid, id->usim_aid_len);
	e[0].aid_len = id->usim_aid_len;
	info->n_apps = 1;
	if (id->isim_aid_len) {
		memcpy(e[1].aid, id->isim_aid, id->isim_aid_len);
		e[1].aid_len = id->isim_aid_len;
		info->n_apps = 2;
	}
}

static size_t gbabp_size(struct gba_client_card *card, const uint8_t *aid, size_t aid_len,
			 uint16_t fid)
{
	size_t size = 0, rl;

	gba_client_err err = aid_len ? client_select_aid(card, aid, aid_len, NULL, 0)
				     : GBA_CLIENT_ERR_NOT_FOUND;

	/* Without PIN1 the application is selected all the same, and SELECT
	 * of an EF needs no PIN: its size can be shown. */
	if ((err && err != GBA_CLIENT_ERR_PIN) ||
	    client_select_fid(card, fid, &size, &rl, NULL, 0))
		return 0;
	return size;
}

gba_client_err gba_client_card_info(struct gba_client_card *card,
				    const struct gba_client_identity *id,
				    struct gba_client_card_info *info,
				    char *msg, size_t msg_size)
{
	gba_client_err err;

	if (!card || !id || !info)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memset(info, 0, sizeof(*info));
	client_card_describe(card, info->where, sizeof(info->where), info->protocol,
			     sizeof(info->protocol));
	err = client_proc_begin(card, 0, msg, msg_size);
	if (err)
		return err;
	if (client_card_basic_shared(card)) {
		apps_from_id(id, info);   /* no MF on the baseband's channel */
	} else if (!client_select_fid(card, FID_MF, NULL, NULL, NULL, 0)) {
		read_iccid(card, info);
		read_apps(card, info);
	}
	info->usim_gbabp_size = gbabp_size(card, id->usim_aid, id->usim_aid_len, FID_GBABP);
	info->isim_gbabp_size = gbabp_size(card, id->isim_aid, id->isim_aid_len, FID_ISIM_GBABP);
	gba_client_card_pin_status(card, &info->pin1_enabled, &info->pin1_tries);
	/* Back to the application GBA runs on. */
	err = id->app == GBA_CLIENT_APP_ISIM
		      ? client_select_aid(card, id->isim_aid, id->isim_aid_len, msg, msg_size)
		      : client_select_aid(card, id->usim_aid, id->usim_aid_len, msg, msg_size);
	client_proc_end(card);
	return err;
}
