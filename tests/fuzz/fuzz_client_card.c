/*
 * fuzz_client_card.c - libFuzzer target for libgba-client's parsing of
 * what a card answers (client/include/gba/client_card.h, client_usim.h):
 * the T=0 procedure bytes (61xx, 6Cxx), FCP templates, EF_DIR records,
 * EF_IMSI, EF_AD, EF_UST, EF_IMPI and AUTHENTICATE's answers.
 *
 * The card is a custom transport whose R-APDUs are the fuzz input, one
 * after the other, each as a length octet and that many octets (a length
 * octet FF adds the next octet: 255..510, longer than any real answer; a
 * length past the end takes what is left).  When the input is used up the
 * transport fails, as a removed card would.  Each input drives
 * gba_client_usim_identity, then gba_client_usim_authenticate in the 3G and
 * the GBA context, gba_client_usim_write_gbabp and
 * gba_client_usim_ks_ext_naf (the order of a GBA_U bootstrap), each on
 * whatever answers are left.
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - the client sends only well-formed short C-APDUs (ISO 7816-3 cases
 *    1-4, at most GBA_CLIENT_APDU_MAX octets), whatever the card answered;
 *  - every result is a known error code, and an error's message is a
 *    NUL-terminated string inside the buffer;
 *  - on success the identity is sane: the IMSI 6..15 digits, MCC/MNC its
 *    first digits, the IMPI and BSF host non-empty printable ASCII, the
 *    AIDs of a USIM (and an ISIM) of 7..16 octets;
 *  - AUTHENTICATE: on success a RES of 4..16 octets; on any error but
 *    GBA_CLIENT_ERR_SYNC_FAILURE the answer is wiped (all zero), and so is
 *    Ks_ext_NAF on a failed NAF derivation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/client_card.h>
#include <gba/client_usim.h>

#include "fuzz_check.h"

struct stream {
	const uint8_t *data;
	size_t size, pos;
};

/* ISO 7816-3 short APDU cases 1-4 (Lc 0 is not short). */
static int well_formed(const uint8_t *c, size_t n)
{
	if (n < 4 || n > GBA_CLIENT_APDU_MAX)
		return 0;
	if (n == 4 || n == 5)
		return 1;
	return c[4] != 0 && (n == 5 + (size_t)c[4] || n == 6 + (size_t)c[4]);
}

static gba_client_err transmit(void *ctx, const uint8_t *capdu, size_t len, uint8_t *rapdu,
			       size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct stream *s = ctx;
	size_t n;

	(void)msg, (void)msg_size;
	check(capdu != NULL && rapdu != NULL && rlen != NULL);
	check(well_formed(capdu, len));
	if (s->pos >= s->size)
		return GBA_CLIENT_ERR_TRANSPORT;    /* the card is gone */
	n = s->data[s->pos++];
	if (n == 0xFF && s->pos < s->size)
		n += s->data[s->pos++];
	if (n > s->size - s->pos)
		n = s->size - s->pos;
	/* A transport never writes past size; it reports what the card sent. */
	memcpy(rapdu, s->data + s->pos, n < size ? n : size);
	*rlen = n;
	s->pos += n;
	return GBA_CLIENT_OK;
}

static gba_client_err atr(void *ctx, uint8_t *out, size_t size, size_t *len, char *msg,
			  size_t msg_size)
{
	(void)ctx, (void)out, (void)size, (void)msg, (void)msg_size;
	*len = 0;
	return GBA_CLIENT_OK;
}

static const struct gba_client_card_ops ops = {
	.name = "fuzz",
	.transmit = transmit,
	.atr = atr,
};

static void check_result(gba_client_err err, const char *msg)
{
	check((int)err >= 0 && err < GBA_CLIENT_ERR__COUNT);
	if (err)
		check(memchr(msg, 0, GBA_CLIENT_MSG_MAX) != NULL);
}

static int digits(const char *s, size_t min, size_t max, size_t cap)
{
	const char *end = memchr(s, 0, cap);
	size_t n;

	if (!end)
		return 0;
	n = (size_t)(end - s);
	return n >= min && n <= max && strspn(s, "0123456789") == n;
}

static int printable(const char *s, size_t cap)
{
	const char *end = memchr(s, 0, cap);

	if (!end || end == s)
		return 0;
	for (; s < end; s++)
		if (*s <= 0x20 || *s >= 0x7F)
			return 0;
	return 1;
}

static void check_identity(const struct gba_client_identity *id)
{
	check(digits(id->imsi, 6, GBA_CLIENT_IMSI_MAX, sizeof(id->imsi)));
	check(id->mnc_len == 2 || id->mnc_len == 3);
	check(digits(id->mcc, 3, 3, sizeof(id->mcc)) && !memcmp(id->mcc, id->imsi, 3));
	check(digits(id->mnc, id->mnc_len, id->mnc_len, sizeof(id->mnc)) &&
	      !memcmp(id->mnc, id->imsi + 3, id->mnc_len));
	check(printable(id->impi, sizeof(id->impi)));
	check(printable(id->bsf_host, sizeof(id->bsf_host)));
	check(id->usim_aid_len >= 7 && id->usim_aid_len <= GBA_CLIENT_AID_MAX);
	check(id->isim_aid_len == 0 ||
	      (id->isim_aid_len >= 7 && id->isim_aid_len <= GBA_CLIENT_AID_MAX));
	check(id->gba_u == 0 || id->gba_u == 1);
	check(id->impi_from_isim == 0 || id->impi_from_isim == 1);
	check(!id->impi_from_isim || id->isim_aid_len);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void authenticate(struct gba_client_card *card, int gba_u)
{
	static const uint8_t rand[16] = { 0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d,
					  0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35 };
	static const uint8_t autn[16] = { 0x55, 0xf3, 0x28, 0xb4, 0x35, 0x77, 0xb9, 0xb9,
					  0x4a, 0x9f, 0xfa, 0xc3, 0x54, 0xdf, 0xaf, 0xb3 };
	struct gba_client_auth out;
	char msg[GBA_CLIENT_MSG_MAX] = "";
	gba_client_err err;

	err = gba_client_usim_authenticate(card, gba_u, rand, autn, &out, msg, sizeof(msg));
	check_result(err, msg);
	if (err == GBA_CLIENT_OK)
		check(out.res_len >= 4 && out.res_len <= sizeof(out.res));
	else if (err != GBA_CLIENT_ERR_SYNC_FAILURE)
		check(all_zero(&out, sizeof(out)));
}

static void ks_ext_naf(struct gba_client_card *card)
{
	static const uint8_t naf_id[] = "naf.example.org\x01\x00\x00\x01\x00";
	uint8_t out[32];
	char msg[GBA_CLIENT_MSG_MAX] = "";
	gba_client_err err;

	memset(out, 0xA5, sizeof(out));
	err = gba_client_usim_ks_ext_naf(card, naf_id, sizeof(naf_id) - 1,
					 "001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
					 out, msg, sizeof(msg));
	check_result(err, msg);
	if (err)
		check(all_zero(out, sizeof(out)));
}

static void write_gbabp(struct gba_client_card *card)
{
	static const uint8_t rand[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	char msg[GBA_CLIENT_MSG_MAX] = "";

	check_result(gba_client_usim_write_gbabp(card, rand, "AQIDBAUGBwgJCgsMDQ4PEA==@bsf.example",
						 "2030-01-01T00:00:00Z", msg, sizeof(msg)),
		     msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = { data, size, 0 };
	struct gba_client_card *card = NULL;
	struct gba_client_identity id;
	char msg[GBA_CLIENT_MSG_MAX] = "";
	gba_client_err err;

	check(gba_client_card_open_custom(&card, &ops, &s) == GBA_CLIENT_OK);
	err = gba_client_usim_identity(card, &id, msg, sizeof(msg));
	check_result(err, msg);
	if (err == GBA_CLIENT_OK)
		check_identity(&id);
	authenticate(card, 0);
	authenticate(card, 1);
	write_gbabp(card);
	ks_ext_naf(card);
	gba_client_card_close(card);
	return 0;
}
