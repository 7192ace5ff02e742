/*
 * usim_files.c - SELECT, READ BINARY/RECORD, UPDATE BINARY (ETSI TS 102 221
 * 11.1) and the FCP fields the client needs (file size, record length).
 */
#include <stdio.h>
#include <string.h>

#include <gba/util.h>

#include "internal.h"

gba_client_err client_sw_error(unsigned sw, const char *what, char *msg, size_t msg_size)
{
	const char *why;

	switch (sw) {
	case 0x6982: why = "security status not satisfied (PIN?)"; break;
	case 0x6985: why = "conditions of use not satisfied"; break;
	case 0x6A82: why = "file or application not found"; break;
	case 0x6A86: why = "incorrect P1/P2"; break;
	case 0x6B00: why = "wrong offset"; break;
	case 0x6D00: why = "instruction not supported"; break;
	case 0x6E00: why = "class not supported"; break;
	case 0x6700: why = "wrong length"; break;
	case 0x9862: why = "authentication error (MAC)"; break;
	case 0x9864: why = "security context not supported"; break;
	case 0x9865: why = "key freshness failure"; break;
	default: why = "error"; break;
	}
	return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD, "%s: the card answered SW %04X (%s)",
			   what, sw, why);
}

/* Find tag in a BER-TLV list (one-octet tags, short or 81 lengths). */
static const uint8_t *tlv_find(const uint8_t *p, size_t len, uint8_t tag, size_t *vlen)
{
	size_t i = 0;

	while (i + 2 <= len) {
		uint8_t t = p[i];
		size_t l = p[i + 1], h = 2;
		if (l == 0x81) {
			if (i + 3 > len)
				return NULL;
			l = p[i + 2];
			h = 3;
		} else if (l > 0x80) {
			return NULL;
		}
		if (i + h + l > len)
			return NULL;   /* truncated: the caller reports malformed data */
		if (t == tag) {
			*vlen = l;
			return p + i + h;
		}
		i += h + l;
	}
	return NULL;
}

/* What the client takes from an FCP template (62 L ...). */
struct fcp_info {
	size_t size;        /* 80: file size, 0 if unknown */
	size_t rec_len;     /* 82: record length of a linear fixed file, 0 otherwise */
	int pin1;           /* C6: PIN1 enabled (1), disabled (0), not said (-1) */
	uint8_t df_name[GBA_CLIENT_AID_MAX];   /* 84: an ADF's AID */
	size_t df_name_len;
};

static gba_client_err parse_fcp(const uint8_t *r, size_t n, struct fcp_info *fi,
				char *msg, size_t msg_size)
{
	const uint8_t *fcp, *v;
	size_t fl, vl;

	memset(fi, 0, sizeof(*fi));
	fi->pin1 = -1;
	if (n == 0)
		return GBA_CLIENT_OK;   /* no FCP asked for or given */
	fcp = tlv_find(r, n, 0x62, &fl);
	if (!fcp)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "SELECT answered no valid FCP template (truncated TLV?)");
	v = tlv_find(fcp, fl, 0x80, &vl);
	if (v && vl >= 1 && vl <= 4)
		for (size_t i = 0; i < vl; i++)
			fi->size = (fi->size << 8) | v[i];
	v = tlv_find(fcp, fl, 0x82, &vl);
	if (v && vl >= 4)
		fi->rec_len = ((size_t)v[2] << 8) | v[3];
	v = tlv_find(fcp, fl, 0x84, &vl);
	if (v && vl >= 5 && vl <= sizeof(fi->df_name)) {
		memcpy(fi->df_name, v, vl);
		fi->df_name_len = vl;
	}
	v = tlv_find(fcp, fl, 0xC6, &vl);
	if (v)
		fi->pin1 = client_fcp_pin1_enabled(v, vl);
	return GBA_CLIENT_OK;
}

static gba_client_err select_cmd(struct gba_client_card *card, const uint8_t *apdu, size_t len,
				 struct fcp_info *fi, const char *what, char *msg, size_t msg_size)
{
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	gba_client_err err;

	err = gba_client_card_apdu(card, apdu, len, r, sizeof(r), &n, &sw, msg, msg_size);
	if (err)
		return err;
	/* Warnings (62xx, 63xx but not a PIN counter) still selected the file
	 * (TS 102 221 10.2.1.2: e.g. 6283 selected file invalidated). */
	if (sw != 0x9000 && !((sw >> 8) == 0x62 || ((sw >> 8) == 0x63 && (sw & 0xF0) != 0xC0)))
		return client_sw_error(sw, what, msg, msg_size);
	return parse_fcp(r, n - 2, fi, msg, msg_size);
}

gba_client_err client_select_aid_full(struct gba_client_card *card, const uint8_t *aid,
				      size_t aid_len, uint8_t *full, size_t *full_len,
				      char *msg, size_t msg_size)
{
	uint8_t apdu[5 + GBA_CLIENT_AID_MAX + 1] = { 0x00, 0xA4, 0x04, 0x04, (uint8_t)aid_len };
	struct fcp_info fi;
	gba_client_err err;

	if (aid_len < 5 || aid_len > GBA_CLIENT_AID_MAX)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "bad AID length");
	memcpy(apdu + 5, aid, aid_len);
	apdu[5 + aid_len] = 0x00;
	err = select_cmd(card, apdu, 6 + aid_len, &fi, "SELECT application", msg, msg_size);
	if (err)
		return err;
	if (full) {
		memcpy(full, fi.df_name, fi.df_name_len);
		*full_len = fi.df_name_len;
	}
	client_card_set_app(card, fi.df_name_len ? fi.df_name : aid,
			    fi.df_name_len ? fi.df_name_len : aid_len);
	/* PIN1 before the application's first protected command. */
	return client_pin_check(card, fi.pin1, msg, msg_size);
}

gba_client_err client_select_aid(struct gba_client_card *card, const uint8_t *aid,
				 size_t aid_len, char *msg, size_t msg_size)
{
	return client_select_aid_full(card, aid, aid_len, NULL, NULL, msg, msg_size);
}

gba_client_err client_select_fid(struct gba_client_card *card, uint16_t fid, size_t *size,
				 size_t *rec_len, char *msg, size_t msg_size)
{
	/* P2=04: return the FCP, which gives the size to read. */
	uint8_t apdu[8] = { 0x00, 0xA4, 0x00, 0x04, 0x02, (uint8_t)(fid >> 8),
			    (uint8_t)fid, 0x00 };
	char what[32];
	struct fcp_info fi;
	gba_client_err err;

	snprintf(what, sizeof(what), "SELECT %04X", fid);
	err = select_cmd(card, apdu, sizeof(apdu), &fi, what, msg, msg_size);
	if (size)
		*size = fi.size;
	if (rec_len)
		*rec_len = fi.rec_len;
	return err;
}

gba_client_err client_read_binary(struct gba_client_card *card, uint8_t *out, size_t len,
				  char *msg, size_t msg_size)
{
	uint8_t apdu[5] = { 0x00, 0xB0, 0x00, 0x00, (uint8_t)len };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	gba_client_err err;

	if (len == 0 || len > 255)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "file size %zu not readable in one READ BINARY", len);
	err = gba_client_card_apdu(card, apdu, sizeof(apdu), r, sizeof(r), &n, &sw, msg, msg_size);
	if (err)
		return err;
	if (sw != 0x9000)
		return client_sw_error(sw, "READ BINARY", msg, msg_size);
	if (n - 2 != len)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "READ BINARY gave %zu octets, expected %zu", n - 2, len);
	memcpy(out, r, len);
	return GBA_CLIENT_OK;
}

gba_client_err client_read_record(struct gba_client_card *card, unsigned rec, uint8_t *out,
				  size_t len, size_t *got, char *msg, size_t msg_size)
{
	uint8_t apdu[5] = { 0x00, 0xB2, (uint8_t)rec, 0x04, (uint8_t)len };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	gba_client_err err;

	err = gba_client_card_apdu(card, apdu, sizeof(apdu), r, sizeof(r), &n, &sw, msg, msg_size);
	if (err)
		return err;
	if (sw != 0x9000)
		return client_sw_error(sw, "READ RECORD", msg, msg_size);
	if (n - 2 > len)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA, "record too long");
	memcpy(out, r, n - 2);
	*got = n - 2;
	return GBA_CLIENT_OK;
}

gba_client_err client_update_binary(struct gba_client_card *card, const uint8_t *data,
				    size_t len, char *msg, size_t msg_size)
{
	uint8_t apdu[5 + 255] = { 0x00, 0xD6, 0x00, 0x00, (uint8_t)len };
	uint8_t r[GBA_CLIENT_RAPDU_MAX];
	size_t n;
	unsigned sw;
	gba_client_err err;

	if (len == 0 || len > 255)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "UPDATE BINARY length");
	memcpy(apdu + 5, data, len);
	err = gba_client_card_apdu(card, apdu, 5 + len, r, sizeof(r), &n, &sw, msg, msg_size);
	if (err)
		return err;
	/* 63Cx: done after x internal retries (TS 102 221 10.2.1.2): a success. */
	return sw == 0x9000 || (sw & 0xFFF0) == 0x63C0
		       ? GBA_CLIENT_OK : client_sw_error(sw, "UPDATE BINARY", msg, msg_size);
}
