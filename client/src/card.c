/*
 * card.c - the card object over a transport, and the T=0 procedure bytes
 * PC/SC leaves to the application (ETSI TS 102 221 7.3.1.1.4 / 7.4.2):
 * 61xx means "xx octets wait for GET RESPONSE", 6Cxx "wrong Le, resend
 * with Le = xx".  Done here so that every back end gets it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "internal.h"

struct gba_client_card {
	const struct gba_client_card_ops *ops;
	void *ctx;
	unsigned long exchanges;
	struct client_pin pin;
	uint8_t app[GBA_CLIENT_AID_MAX];   /* the application selected last */
	size_t app_len;
	unsigned depth;                    /* nested client_proc_begin */
	int basic_shared;                  /* a modem's basic channel: no MF */
	int proactive_pending;             /* the card said 91xx */
	gba_client_trace_fn trace;
	void *trace_ctx;
	unsigned trace_flags;
	int mask_answers;                  /* AUTHENTICATE's answer and its GET RESPONSEs */
};

void gba_client_card_set_trace(struct gba_client_card *card, gba_client_trace_fn fn,
			       void *ctx, unsigned flags)
{
	if (!card)
		return;
	card->trace = fn;
	card->trace_ctx = ctx;
	card->trace_flags = flags;
}

void client_card_describe(const struct gba_client_card *card, char *where, size_t where_size,
			  char *protocol, size_t protocol_size)
{
	where[0] = protocol[0] = '\0';
	if (card->ops->describe)
		card->ops->describe(card->ctx, where, where_size, protocol, protocol_size);
	else
		snprintf(where, where_size, "%s", card->ops->name ? card->ops->name : "");
}

void client_trace(const struct gba_client_card *card, const char *fmt, ...)
{
	char line[1100];
	va_list ap;

	if (!card || !card->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	card->trace(card->trace_ctx, line);
}

/* "> 00A4..." or "< ...9000" with what must not show masked. */
static void trace_apdu(struct gba_client_card *card, const char *dir, const uint8_t *p,
		       size_t len, size_t head, int mask)
{
	char hex[2 * GBA_CLIENT_APDU_MAX + 1];

	if (!mask || len <= head) {
		gba_hex_encode(hex, sizeof(hex), p, len);
		client_trace(card, "%s %s", dir, hex);
	} else {
		char tail[2 * 2 + 1] = "";
		size_t keep = dir[0] == '<' ? 2 : 0;   /* an answer's SW stays visible */
		gba_hex_encode(hex, sizeof(hex), p, head);
		if (keep)
			gba_hex_encode(tail, sizeof(tail), p + len - 2, 2);
		client_trace(card, "%s %s[%zu octets masked]%s%s", dir, hex, len - head - keep,
			     keep ? " " : "", tail);
	}
	gba_wipe(hex, sizeof(hex));
}

/* Trace one exchange: VERIFY's data always masked, AUTHENTICATE's answers
 * (and the GET RESPONSEs after it) unless the keys may be shown. */
static void trace_exchange(struct gba_client_card *card, const uint8_t *c, size_t len,
			   const uint8_t *r, size_t rlen)
{
	int show = card->trace_flags & GBA_CLIENT_TRACE_SHOW_KEYS;

	if (c[1] == 0x88)
		card->mask_answers = !show;
	else if (c[1] != 0xC0)
		card->mask_answers = 0;
	trace_apdu(card, ">", c, len, 5, c[1] == 0x20);
	trace_apdu(card, "<", r, rlen, 0, card->mask_answers && rlen > 2);
}

void client_card_set_basic_shared(struct gba_client_card *card)
{
	card->basic_shared = 1;
}

int client_card_app_is_isim(const struct gba_client_card *card)
{
	static const uint8_t isim[] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04 };

	return card->app_len >= sizeof(isim) && !memcmp(card->app, isim, sizeof(isim));
}

int client_card_basic_shared(const struct gba_client_card *card)
{
	return card->basic_shared;
}

struct client_pin *client_card_pin(struct gba_client_card *card)
{
	return card ? &card->pin : NULL;
}

void client_card_set_app(struct gba_client_card *card, const uint8_t *aid, size_t len)
{
	if (len <= sizeof(card->app)) {
		memcpy(card->app, aid, len);
		card->app_len = len;
	}
}

gba_client_err client_proc_begin(struct gba_client_card *card, int app, char *msg,
				 size_t msg_size)
{
	int was_reset = 0;
	gba_client_err err;
	uint8_t aid[GBA_CLIENT_AID_MAX];

	if (!card)
		return GBA_CLIENT_ERR_INVALID_ARG;
	if (card->depth++ || !card->ops->begin)
		return GBA_CLIENT_OK;
	err = card->ops->begin(card->ctx, &was_reset, msg, msg_size);
	if (err) {
		card->depth--;
		return err;
	}
	if (was_reset)
		card->pin.checked = 0;   /* a reset card asks for PIN1 again */
	if (!app || !card->app_len)
		return GBA_CLIENT_OK;
	/* Another program may have selected something else since our last
	 * procedure (or reset the card): our application first. */
	memcpy(aid, card->app, card->app_len);
	err = client_select_aid(card, aid, card->app_len, msg, msg_size);
	if (err)
		client_proc_end(card);
	return err;
}

void client_proc_end(struct gba_client_card *card)
{
	if (!card || !card->depth)
		return;
	if (--card->depth == 0 && card->ops->end)
		card->ops->end(card->ctx);
}

/* A card answers at most this many GET RESPONSEs to one command. */
#define MAX_GET_RESPONSE 16

gba_client_err gba_client_card_open_custom(struct gba_client_card **card,
					   const struct gba_client_card_ops *ops, void *ctx)
{
	struct gba_client_card *c;

	if (!card || !ops || !ops->transmit)
		return GBA_CLIENT_ERR_INVALID_ARG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return GBA_CLIENT_ERR_NO_MEMORY;
	c->ops = ops;
	c->ctx = ctx;
	c->pin.enabled = -1;
	c->pin.tries = -1;
	*card = c;
	return GBA_CLIENT_OK;
}

void gba_client_card_close(struct gba_client_card *card)
{
	if (!card)
		return;
	if (card->ops->close)
		card->ops->close(card->ctx);
	gba_wipe(card, sizeof(*card));   /* the PIN */
	free(card);
}

const char *gba_client_card_backend(const struct gba_client_card *card)
{
	return card && card->ops->name ? card->ops->name : "?";
}

unsigned long gba_client_card_exchanges(const struct gba_client_card *card)
{
	return card ? card->exchanges : 0;
}

gba_client_err gba_client_card_transmit(struct gba_client_card *card,
					const uint8_t *capdu, size_t len,
					uint8_t *rapdu, size_t size, size_t *rlen,
					char *msg, size_t msg_size)
{
	gba_client_err err;

	if (!card || !capdu || len < 4 || len > GBA_CLIENT_APDU_MAX || !rapdu || size < 2 ||
	    !rlen)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "bad APDU arguments");
	card->exchanges++;
	*rlen = 0;
	err = card->ops->transmit(card->ctx, capdu, len, rapdu, size, rlen, msg, msg_size);
	if (err) {
		client_trace(card, "! %s", msg && msg[0] ? msg : gba_client_strerror(err));
		return err;
	}
	if (card->trace && *rlen >= 2 && *rlen <= size)
		trace_exchange(card, capdu, len, rapdu, *rlen);
	if (*rlen < 2 || *rlen > size)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "the card answered %zu octets, no status word", *rlen);
	return GBA_CLIENT_OK;
}

/* GET RESPONSE loop: append data while the card says 61xx. */
static gba_client_err get_responses(struct gba_client_card *card, uint8_t cla,
				    uint8_t *rapdu, size_t size, size_t *rlen,
				    char *msg, size_t msg_size)
{
	uint8_t buf[GBA_CLIENT_RAPDU_MAX];
	size_t have = *rlen - 2, n;
	gba_client_err err;

	for (int i = 0; i < MAX_GET_RESPONSE; i++) {
		unsigned sw = client_sw(rapdu, have + 2);
		if ((sw >> 8) != 0x61) {
			gba_wipe(buf, sizeof(buf));   /* it may have carried CK/IK */
			return GBA_CLIENT_OK;
		}
		uint8_t gr[5] = { cla, 0xC0, 0x00, 0x00, (uint8_t)(sw & 0xFF) };
		err = gba_client_card_transmit(card, gr, sizeof(gr), buf, sizeof(buf), &n,
					       msg, msg_size);
		if (err) {
			gba_wipe(buf, sizeof(buf));
			return err;
		}
		if (have + n > size) {
			gba_wipe(buf, sizeof(buf));
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
					   "the card's answer exceeds %zu octets", size);
		}
		memcpy(rapdu + have, buf, n);
		have += n - 2;
		*rlen = have + 2;
	}
	gba_wipe(buf, sizeof(buf));
	return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
			   "the card asks for more than %d GET RESPONSEs", MAX_GET_RESPONSE);
}

/*
 * 91xx (a proactive command is pending) and 92xx (data transfer) are
 * normal endings (TS 102 221 10.2.1.1): the command succeeded.  The client
 * runs no toolkit, so the pending command is left to the baseband or the
 * next TERMINAL PROFILE; it is only noted.
 */
static unsigned normal_ending(struct gba_client_card *card, unsigned sw)
{
	if ((sw >> 8) == 0x91 || (sw >> 8) == 0x92) {
		card->proactive_pending = (sw >> 8) == 0x91;
		return 0x9000;
	}
	return sw;
}

/*
 * A case 4 command answered with a bare warning (62xx/63xx) on T=0: the
 * data waits for GET RESPONSE with Le 00 (TS 102 221 7.3.1.1.4); the
 * warning stays the command's status.
 */
static gba_client_err warning_response(struct gba_client_card *card, uint8_t cla,
				       uint8_t *rapdu, size_t size, size_t *rlen, char *msg,
				       size_t msg_size)
{
	uint8_t gr[5] = { cla, 0xC0, 0x00, 0x00, 0x00 }, warn[2] = { rapdu[0], rapdu[1] };
	gba_client_err err;

	err = gba_client_card_apdu(card, gr, sizeof(gr), rapdu, size, rlen, NULL, msg, msg_size);
	if (err)
		return err;
	if (client_sw(rapdu, *rlen) != 0x9000 || *rlen == 2) {
		/* Nothing to fetch after all: the warning alone is the answer. */
		rapdu[0] = warn[0];
		rapdu[1] = warn[1];
		*rlen = 2;
		return GBA_CLIENT_OK;
	}
	memcpy(rapdu + *rlen - 2, warn, 2);
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_card_apdu(struct gba_client_card *card,
				    const uint8_t *capdu, size_t len,
				    uint8_t *rapdu, size_t size, size_t *rlen, unsigned *sw,
				    char *msg, size_t msg_size)
{
	uint8_t again[GBA_CLIENT_APDU_MAX];
	gba_client_err err;

	err = gba_client_card_transmit(card, capdu, len, rapdu, size, rlen, msg, msg_size);
	if (!err && *rlen == 2 && rapdu[0] == 0x6C) {
		/* Wrong Le: the same command once more with the Le the card gave. */
		size_t body = len == 4 ? 4 : (len == 5 ? 4 : 5 + (size_t)capdu[4]);
		if (body + 1 > sizeof(again) || body > len)
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
					   "6Cxx to a command that cannot carry Le");
		memcpy(again, capdu, body);
		again[body] = rapdu[1];
		err = gba_client_card_transmit(card, again, body + 1, rapdu, size, rlen,
					       msg, msg_size);
		gba_wipe(again, sizeof(again));
	}
	if (!err && *rlen == 2 && rapdu[0] == 0x61)
		err = get_responses(card, capdu[0], rapdu, size, rlen, msg, msg_size);
	if (!err && *rlen == 2 && (rapdu[0] == 0x62 || rapdu[0] == 0x63) && len > 5 &&
	    len == 6u + capdu[4])
		err = warning_response(card, capdu[0], rapdu, size, rlen, msg, msg_size);
	if (err)
		return err;
	if (sw)
		*sw = normal_ending(card, client_sw(rapdu, *rlen));
	return GBA_CLIENT_OK;
}

gba_client_err gba_client_card_atr(struct gba_client_card *card, uint8_t *atr, size_t size,
				   size_t *len, char *msg, size_t msg_size)
{
	if (!card || !atr || !len)
		return GBA_CLIENT_ERR_INVALID_ARG;
	*len = 0;
	if (!card->ops->atr)
		return GBA_CLIENT_OK;
	return card->ops->atr(card->ctx, atr, size, len, msg, msg_size);
}

gba_client_err gba_client_card_reset(struct gba_client_card *card, char *msg, size_t msg_size)
{
	if (!card)
		return GBA_CLIENT_ERR_INVALID_ARG;
	if (!card->ops->reset)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_UNSUPPORTED,
				   "the %s back end cannot reset the card", card->ops->name);
	card->pin.checked = 0;   /* a reset card asks for PIN1 again */
	return card->ops->reset(card->ctx, msg, msg_size);
}
