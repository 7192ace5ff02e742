/*
 * authenticate.c - AUTHENTICATE (TS 31.102 7.1): the 3G security context,
 * and the GBA context's bootstrapping (DD) and NAF derivation (DE) modes;
 * writing EF_GBABP after a GBA_U bootstrap.
 */
#include <string.h>

#include <gba/util.h>

#include "internal.h"

#define FID_GBABP 0x6FD6        /* in the USIM (TS 31.102 4.2.79) */
#define FID_ISIM_GBABP 0x6FD5   /* in the ISIM (TS 31.103 4.2.10) */

/* Send AUTHENTICATE with P2 and data; the answer's data in r/n. */
static gba_client_err authenticate(struct gba_client_card *card, uint8_t p2,
				   const uint8_t *data, size_t len, uint8_t *r, size_t size,
				   size_t *n, char *msg, size_t msg_size)
{
	uint8_t apdu[GBA_CLIENT_APDU_MAX] = { 0x00, 0x88, 0x00, p2, (uint8_t)len };
	unsigned sw;
	gba_client_err err;

	memcpy(apdu + 5, data, len);
	apdu[5 + len] = 0x00;
	/* AUTHENTICATE and its GET RESPONSE in one procedure, on our application. */
	err = client_proc_begin(card, 1, msg, msg_size);
	if (!err) {
		err = gba_client_card_apdu(card, apdu, 6 + len, r, size, n, &sw, msg, msg_size);
		client_proc_end(card);
	}
	gba_wipe(apdu, sizeof(apdu));
	if (err)
		return err;
	if (sw == 0x9862) {
		gba_wipe(r, *n);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_MAC_FAILURE,
				   "the card rejected AUTN (SW 9862, MAC failure): "
				   "the network is not authentic or the card holds another key");
	}
	if (sw != 0x9000) {
		gba_wipe(r, *n);
		return client_sw_error(sw, "AUTHENTICATE", msg, msg_size);
	}
	*n -= 2;
	return GBA_CLIENT_OK;
}

/* Take one L||V at *pos into dst (exactly want octets unless want is 0). */
static int take_lv(const uint8_t *r, size_t n, size_t *pos, uint8_t *dst, size_t max,
		   size_t want, size_t *got)
{
	size_t l;

	if (*pos >= n)
		return -1;
	l = r[*pos];
	if (*pos + 1 + l > n || l > max || (want && l != want) || l == 0)
		return -1;
	memcpy(dst, r + *pos + 1, l);
	*pos += 1 + l;
	if (got)
		*got = l;
	return 0;
}

static gba_client_err parse_auth_answer(const uint8_t *r, size_t n, int gba_u,
					struct gba_client_auth *out, char *msg, size_t msg_size)
{
	size_t pos = 1;

	if (n >= 1 && r[0] == 0xDC) {
		if (n < 2 + 14 || r[1] != 14)
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
					   "AUTHENTICATE: truncated AUTS (tag DC)");
		memcpy(out->auts, r + 2, 14);
		return GBA_CLIENT_ERR_SYNC_FAILURE;
	}
	if (n < 1 || r[0] != 0xDB)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "AUTHENTICATE: answer is neither DB (success) nor DC (AUTS)");
	if (take_lv(r, n, &pos, out->res, sizeof(out->res), 0, &out->res_len) ||
	    out->res_len < 4)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "AUTHENTICATE: truncated or bad RES");
	if (gba_u)
		return GBA_CLIENT_OK;   /* CK and IK stay in the card */
	if (take_lv(r, n, &pos, out->ck, 16, 16, NULL) || take_lv(r, n, &pos, out->ik, 16, 16, NULL))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "AUTHENTICATE: truncated or bad CK/IK");
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_usim_authenticate(struct gba_client_card *card, int gba_u,
					    const uint8_t rand[16], const uint8_t autn[16],
					    struct gba_client_auth *out,
					    char *msg, size_t msg_size)
{
	uint8_t data[35], r[GBA_CLIENT_RAPDU_MAX];
	size_t off = 0, n;
	gba_client_err err;

	if (!card || !rand || !autn || !out)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if (gba_u)
		data[off++] = 0xDD;   /* GBA bootstrapping mode */
	data[off++] = 16;
	memcpy(data + off, rand, 16);
	off += 16;
	data[off++] = 16;
	memcpy(data + off, autn, 16);
	off += 16;
	err = authenticate(card, gba_u ? 0x84 : 0x81, data, off, r, sizeof(r), &n, msg, msg_size);
	if (!err)
		err = parse_auth_answer(r, n, gba_u, out, msg, msg_size);
	gba_wipe(r, sizeof(r));
	if (err && err != GBA_CLIENT_ERR_SYNC_FAILURE)
		gba_wipe(out, sizeof(*out));
	return err;
}

gba_client_err client_gbabp_size(struct gba_client_card *card, size_t *size, char *msg,
				  size_t msg_size)
{
	size_t rl;
	gba_client_err err = client_proc_begin(card, 1, msg, msg_size);

	if (err)
		return err;
	err = client_select_fid(card, client_card_app_is_isim(card) ? FID_ISIM_GBABP : FID_GBABP,
				size, &rl, msg, msg_size);
	client_proc_end(card);
	return err;
}

gba_client_err gba_client_usim_write_gbabp(struct gba_client_card *card,
					   const uint8_t rand[16], const char *btid,
					   const char *lifetime, char *msg, size_t msg_size)
{
	uint8_t buf[255];
	size_t bl, ll, n = 0, fsize, rl;
	gba_client_err err;

	if (!card || !rand || !btid || !lifetime)
		return GBA_CLIENT_ERR_INVALID_ARG;
	bl = strlen(btid);
	ll = strlen(lifetime);
	if (bl > 255 || ll > 255 || 3 + 16 + bl + ll > sizeof(buf))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "B-TID and lifetime too long for EF_GBABP");
	buf[n++] = 16;
	memcpy(buf + n, rand, 16);
	n += 16;
	buf[n++] = (uint8_t)bl;
	memcpy(buf + n, btid, bl);
	n += bl;
	buf[n++] = (uint8_t)ll;
	memcpy(buf + n, lifetime, ll);
	n += ll;
	err = client_proc_begin(card, 1, msg, msg_size);
	if (err)
		return err;
	err = client_select_fid(card, client_card_app_is_isim(card) ? FID_ISIM_GBABP : FID_GBABP,
				&fsize, &rl, msg, msg_size);
	if (!err && fsize && n > fsize)
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				  "EF_GBABP holds %zu octets, %zu needed", fsize, n);
	if (!err)
		err = client_update_binary(card, buf, n, msg, msg_size);
	client_proc_end(card);
	return err;
}

gba_client_err gba_client_usim_ks_ext_naf(struct gba_client_card *card,
					  const uint8_t *naf_id, size_t naf_id_len,
					  const char *impi, uint8_t out[32],
					  char *msg, size_t msg_size)
{
	uint8_t data[255], r[GBA_CLIENT_RAPDU_MAX];
	size_t il, n, off = 0, pos = 1, got;
	gba_client_err err;

	if (!card || !naf_id || !impi || !out)
		return GBA_CLIENT_ERR_INVALID_ARG;
	il = strlen(impi);
	if (naf_id_len > 255 || il > 255 || 3 + naf_id_len + il > sizeof(data))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "NAF_Id and IMPI too long for one AUTHENTICATE");
	data[off++] = 0xDE;   /* GBA NAF derivation mode */
	data[off++] = (uint8_t)naf_id_len;
	memcpy(data + off, naf_id, naf_id_len);
	off += naf_id_len;
	data[off++] = (uint8_t)il;
	memcpy(data + off, impi, il);
	off += il;
	err = authenticate(card, 0x84, data, off, r, sizeof(r), &n, msg, msg_size);
	if (!err && (n < 1 || r[0] != 0xDB || take_lv(r, n, &pos, out, 32, 32, &got)))
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				  "NAF derivation: the card's answer is not DB 20 Ks_ext_NAF");
	gba_wipe(r, sizeof(r));
	if (err)
		gba_wipe(out, 32);
	return err;
}
