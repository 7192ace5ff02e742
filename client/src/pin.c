/*
 * pin.c - PIN1 (ETSI TS 102 221 9.5.1, 11.1.9).  The card object keeps
 * the PIN the caller gave; after an application is selected, its FCP's
 * PIN status template (C6: PS_DO 90, key references 83) says whether
 * PIN1 (key reference 01) is enabled.  Disabled: nothing is sent.
 * Enabled: VERIFY without data asks for the tries left (9000: already
 * verified, e.g. by a modem's baseband), then VERIFY with the PIN, unless
 * only one try is left and the caller did not allow using it: a node in
 * the field must not block its own card.  Done once per card session;
 * a reset starts again.  The PIN is never put into a message.
 */
#include <ctype.h>
#include <string.h>

#include <gba/util.h>

#include "internal.h"

#define PIN1_REF 0x01

/* The PIN block of VERIFY: ASCII digits, padded with FF to 8 octets. */
static int pin_valid(const char *pin, size_t n)
{
	if (n < 4 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)pin[i]))
			return 0;
	return 1;
}

gba_client_err gba_client_card_set_pin(struct gba_client_card *card, const char *pin,
				       unsigned flags, char *msg, size_t msg_size)
{
	struct client_pin *p = client_card_pin(card);

	if (!p || !pin)
		return GBA_CLIENT_ERR_INVALID_ARG;
	if (!pin_valid(pin, strlen(pin)))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "PIN1 must be 4 to 8 digits");
	gba_wipe(p->value, sizeof(p->value));
	memcpy(p->value, pin, strlen(pin));
	p->refused = 0;
	p->allow_last_try = (flags & GBA_CLIENT_PIN_LAST_TRY) != 0;
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_card_set_pin_file(struct gba_client_card *card, const char *path,
					    unsigned flags, char *msg, size_t msg_size)
{
	char buf[64];
	size_t n;
	gba_client_err err;

	if (!card || !path)
		return GBA_CLIENT_ERR_INVALID_ARG;
	err = client_read_secret_file(path, "PIN", buf, sizeof(buf), msg, msg_size);
	if (err)
		return err;
	n = strcspn(buf, "\r\n");
	if (buf[n] && buf[n + strspn(buf + n, "\r\n")] != '\0')
		n = 0;   /* more than one line: not a PIN file */
	buf[n] = '\0';
	err = pin_valid(buf, n) ? gba_client_card_set_pin(card, buf, flags, msg, msg_size)
				: client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
					      "%s: a PIN file holds one line of 4 to 8 digits", path);
	gba_wipe(buf, sizeof(buf));
	return err;
}

void gba_client_card_pin_status(const struct gba_client_card *card, int *enabled, int *tries)
{
	const struct client_pin *p = client_card_pin((struct gba_client_card *)card);

	if (enabled)
		*enabled = p ? p->enabled : -1;
	if (tries)
		*tries = p ? p->tries : -1;
}

/* PIN1's bit in a PIN status template (TS 102 221 9.5.2): -1 when absent. */
int client_fcp_pin1_enabled(const uint8_t *c6, size_t len)
{
	size_t i = 0, ref = 0;
	int ps_do = -1, ps_len = 0;
	uint8_t ps[4] = { 0 };

	while (i + 2 <= len) {
		uint8_t t = c6[i], l = c6[i + 1];
		if (i + 2 + l > len)
			return -1;
		if (t == 0x90 && l >= 1) {
			ps_len = l > 4 ? 4 : l;
			memcpy(ps, c6 + i + 2, (size_t)ps_len);
			ps_do = 1;
		} else if (t == 0x83 && l == 1) {
			/* Key references in order; bit 8 of PS_DO's first octet is the first. */
			if (c6[i + 2] == PIN1_REF)
				return ps_do < 0 || ref >= (size_t)ps_len * 8
					       ? -1 : (ps[ref / 8] >> (7 - ref % 8)) & 1;
			ref++;
		}
		i += 2 + (size_t)l;
	}
	return -1;
}

/* VERIFY PIN1 (P2 01) with the PIN or, when pin is NULL, no data. */
static gba_client_err verify(struct gba_client_card *card, const struct client_pin *p, int with_pin,
			     unsigned *sw, char *msg, size_t msg_size)
{
	uint8_t apdu[13] = { 0x00, 0x20, 0x00, PIN1_REF, 0x08 }, r[GBA_CLIENT_RAPDU_MAX];
	size_t n, len = 4;
	gba_client_err err;

	if (with_pin) {
		memset(apdu + 5, 0xFF, 8);
		memcpy(apdu + 5, p->value, strlen(p->value));
		len = sizeof(apdu);
	}
	err = gba_client_card_apdu(card, apdu, len, r, sizeof(r), &n, sw, msg, msg_size);
	gba_wipe(apdu, sizeof(apdu));
	return err;
}

static gba_client_err pin_refused(struct client_pin *p, unsigned sw, char *msg, size_t msg_size)
{
	if (sw == 0x6983 || sw == 0x63C0) {
		p->tries = 0;
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PIN,
				   "PIN1 is blocked (SW %04X): it needs the PUK", sw);
	}
	if ((sw & 0xFFF0) == 0x63C0) {
		p->tries = (int)(sw & 0x0F);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PIN,
				   "wrong PIN1: %d tries left", p->tries);
	}
	return client_sw_error(sw, "VERIFY PIN1", msg, msg_size);
}

gba_client_err client_pin_check(struct gba_client_card *card, int enabled, char *msg,
				size_t msg_size)
{
	struct client_pin *p = client_card_pin(card);
	unsigned sw;
	gba_client_err err;

	if (!p || p->checked)
		return GBA_CLIENT_OK;
	if (enabled == 0) {
		p->enabled = 0;
		p->checked = 1;
		return GBA_CLIENT_OK;
	}
	err = verify(card, p, 0, &sw, msg, msg_size);
	if (err)
		return err;
	if (sw == 0x9000 || (enabled < 0 && (sw & 0xFFF0) != 0x63C0 && sw != 0x6983)) {
		/* Verified already, or (no PS_DO) a card that has no PIN1 to ask for. */
		p->enabled = sw == 0x9000 ? enabled : 0;
		p->checked = 1;
		return GBA_CLIENT_OK;
	}
	p->enabled = 1;
	if ((sw & 0xFFF0) != 0x63C0 || sw == 0x63C0)
		return pin_refused(p, sw, msg, msg_size);
	p->tries = (int)(sw & 0x0F);
	if (p->refused)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PIN,
				   "wrong PIN1: %d tries left (not sent again)", p->tries);
	if (!p->value[0])
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PIN,
				   "PIN1 is enabled on the card and not verified (%d tries left): "
				   "give the PIN (--pin-file)", p->tries);
	if (p->tries == 1 && !p->allow_last_try)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_PIN,
				   "PIN1 has only one try left: not using it (a wrong PIN would "
				   "block the card); allow it with --pin-last-try");
	err = verify(card, p, 1, &sw, msg, msg_size);
	if (err)
		return err;
	if (sw != 0x9000) {
		p->refused = 1;   /* a second selection must not spend another try */
		return pin_refused(p, sw, msg, msg_size);
	}
	p->checked = 1;
	p->tries = -1;   /* reset to the maximum, which the card does not tell */
	return GBA_CLIENT_OK;
}
