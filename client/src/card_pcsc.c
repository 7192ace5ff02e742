/*
 * card_pcsc.c - the PC/SC back end (pcsc-lite).  The reader is chosen by
 * name or by index; T=0 or T=1, whichever the card offers.  pcsc-lite
 * passes T=0 procedure bytes (61xx, 6Cxx) to the application, which
 * card.c handles; here, a case 4 command sent over T=0 loses its Le, as
 * ISO 7816-3 12.2 maps it (the card then answers 61xx).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>
#include <gba/util.h>

#include "internal.h"

struct pcsc {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD protocol;
	char reader[256];
};

/* A PC/SC status as a client error with a message naming the reader. */
static gba_client_err pcsc_error(LONG rv, const char *what, const char *reader, char *msg,
				 size_t msg_size)
{
	gba_client_err err = GBA_CLIENT_ERR_TRANSPORT;

	switch (rv) {
	case (LONG)SCARD_W_REMOVED_CARD:
	case (LONG)SCARD_E_NO_SMARTCARD:
	case (LONG)SCARD_W_UNPOWERED_CARD:
	case (LONG)SCARD_W_UNRESPONSIVE_CARD:
		err = GBA_CLIENT_ERR_NO_CARD;
		break;
	case (LONG)SCARD_E_TIMEOUT:
		err = GBA_CLIENT_ERR_TIMEOUT;
		break;
	}
	if (rv == (LONG)SCARD_W_REMOVED_CARD)
		return client_fail(msg, msg_size, err, "%s: the card was removed from '%s'", what,
				   reader);
	return client_fail(msg, msg_size, err, "%s ('%s'): %s", what, reader,
			   pcsc_stringify_error(rv));
}

/* "no reader 'X'; readers: '#0 name', ..." so that the user can pick one. */
static void no_such_reader(const char *list, const char *want, char *msg, size_t msg_size)
{
	size_t off;
	long i = 0;

	if (!msg || !msg_size)
		return;
	snprintf(msg, msg_size, "PC/SC: no reader '%.100s'; readers:", want);
	for (const char *r = list; *r; r += strlen(r) + 1, i++) {
		off = strlen(msg);
		snprintf(msg + off, msg_size - off, "%s #%ld '%s'", i ? "," : "", i, r);
	}
}

/* Pick the reader: by name, by "#index", or the first one. */
static gba_client_err pick_reader(struct pcsc *p, const char *want, char *msg, size_t msg_size)
{
	char *list = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	LONG rv;
	gba_client_err err = GBA_CLIENT_OK;
	long index = -1;

	rv = SCardListReaders(p->ctx, NULL, (LPSTR)&list, &len);
	if (rv == (LONG)SCARD_E_NO_READERS_AVAILABLE)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT, "PC/SC: no reader");
	if (rv != SCARD_S_SUCCESS)
		return pcsc_error(rv, "SCardListReaders", "-", msg, msg_size);
	if (want && want[0] == '#')
		index = strtol(want + 1, NULL, 10);
	else if (!want)
		index = 0;
	err = GBA_CLIENT_ERR_TRANSPORT;
	long i = 0;
	for (const char *r = list; *r; r += strlen(r) + 1, i++) {
		if ((index >= 0 && i == index) || (index < 0 && !strcmp(r, want))) {
			snprintf(p->reader, sizeof(p->reader), "%s", r);
			err = GBA_CLIENT_OK;
			break;
		}
	}
	if (err)
		no_such_reader(list, want ? want : "#0", msg, msg_size);
	SCardFreeMemory(p->ctx, list);
	return err;
}

static gba_client_err pcsc_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *rapdu,
				    size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct pcsc *p = ctx;
	const SCARD_IO_REQUEST *pci = p->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD n = (DWORD)size;
	LONG rv;

	/* T=0 carries no Le in a case 4 command: 5 + Lc + Le becomes 5 + Lc. */
	if (p->protocol == SCARD_PROTOCOL_T0 && len > 5 && len == 6u + c[4])
		len--;
	rv = SCardTransmit(p->card, pci, c, (DWORD)len, NULL, rapdu, &n);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_error(rv, "SCardTransmit", p->reader, msg, msg_size);
	*rlen = n;
	return GBA_CLIENT_OK;
}

static gba_client_err pcsc_atr(void *ctx, uint8_t *atr, size_t size, size_t *len, char *msg,
			       size_t msg_size)
{
	struct pcsc *p = ctx;
	BYTE a[MAX_ATR_SIZE];
	DWORD alen = sizeof(a), state, proto, rlen = 0;
	LONG rv = SCardStatus(p->card, NULL, &rlen, &state, &proto, a, &alen);

	if (rv != SCARD_S_SUCCESS)
		return pcsc_error(rv, "SCardStatus", p->reader, msg, msg_size);
	if (alen > size)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memcpy(atr, a, alen);
	*len = alen;
	return GBA_CLIENT_OK;
}

static gba_client_err pcsc_reset(void *ctx, char *msg, size_t msg_size)
{
	struct pcsc *p = ctx;
	LONG rv = SCardReconnect(p->card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				 SCARD_RESET_CARD, &p->protocol);

	return rv == SCARD_S_SUCCESS ? GBA_CLIENT_OK
				     : pcsc_error(rv, "SCardReconnect", p->reader, msg, msg_size);
}

/*
 * A procedure's exclusive access.  SCARD_W_RESET_CARD: another program
 * reset the card since we last used it; reconnect (leaving it as it is)
 * and tell the library, which selects the application and checks PIN1
 * again.
 */
static gba_client_err pcsc_begin(void *ctx, int *was_reset, char *msg, size_t msg_size)
{
	struct pcsc *p = ctx;
	LONG rv = SCardBeginTransaction(p->card);

	for (int i = 0; i < 2 && rv == (LONG)SCARD_W_RESET_CARD; i++) {
		*was_reset = 1;
		rv = SCardReconnect(p->card, SCARD_SHARE_SHARED,
				    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD,
				    &p->protocol);
		if (rv == SCARD_S_SUCCESS)
			rv = SCardBeginTransaction(p->card);
	}
	return rv == SCARD_S_SUCCESS ? GBA_CLIENT_OK
				     : pcsc_error(rv, "SCardBeginTransaction", p->reader, msg,
						  msg_size);
}

static void pcsc_end(void *ctx)
{
	struct pcsc *p = ctx;

	SCardEndTransaction(p->card, SCARD_LEAVE_CARD);
}

static void pcsc_close(void *ctx)
{
	struct pcsc *p = ctx;

	if (p->card)
		SCardDisconnect(p->card, SCARD_LEAVE_CARD);
	if (p->ctx)
		SCardReleaseContext(p->ctx);
	free(p);
}

static void pcsc_describe(void *ctx, char *where, size_t where_size, char *protocol,
			  size_t protocol_size)
{
	struct pcsc *p = ctx;

	snprintf(where, where_size, "%s", p->reader);
	snprintf(protocol, protocol_size, "%s", p->protocol == SCARD_PROTOCOL_T0 ? "T=0"
						 : p->protocol == SCARD_PROTOCOL_T1 ? "T=1" : "");
}

static const struct gba_client_card_ops pcsc_ops = {
	.name = "pcsc", .transmit = pcsc_transmit, .atr = pcsc_atr, .reset = pcsc_reset,
	.close = pcsc_close, .begin = pcsc_begin, .end = pcsc_end, .describe = pcsc_describe,
};

gba_client_err gba_client_card_open_pcsc(struct gba_client_card **card, const char *reader,
					 char *msg, size_t msg_size)
{
	struct pcsc *p;
	LONG rv;
	gba_client_err err;

	if (!card)
		return GBA_CLIENT_ERR_INVALID_ARG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return GBA_CLIENT_ERR_NO_MEMORY;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rv != SCARD_S_SUCCESS) {
		p->ctx = 0;
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT,
				  "PC/SC: cannot reach pcscd: %s", pcsc_stringify_error(rv));
	} else {
		err = pick_reader(p, reader, msg, msg_size);
	}
	if (!err) {
		rv = SCardConnect(p->ctx, p->reader, SCARD_SHARE_SHARED,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->card, &p->protocol);
		if (rv != SCARD_S_SUCCESS) {
			p->card = 0;
			err = pcsc_error(rv, "SCardConnect", p->reader, msg, msg_size);
		}
	}
	if (!err)
		err = gba_client_card_open_custom(card, &pcsc_ops, p);
	if (err)
		pcsc_close(p);
	return err;
}
