/*
 * pcsc_probe - a small PC/SC client for the simulator's end-to-end tests
 * (libpcsclite, so through a real pcscd):
 *
 *   pcsc_probe [--wait-card MS] [--no-get-response] ITEM...
 *
 * Lists the readers, connects (T=0 or T=1, whatever the card offers) to
 * the first reader that has a card, prints
 *     reader: <name>
 *     protocol: T=0|T=1
 *     atr: <hex>
 * then for each ITEM: a hex C-APDU is sent and printed as "> <hex>" and
 * its answer as "< <hex>"; on 61xx the probe sends GET RESPONSE itself
 * (pcsc-lite leaves that to the application), shown the same way;
 * "sleep:<ms>" pauses (tests pull the card meanwhile); "reset" resets
 * the card (SCardReconnect with SCARD_RESET_CARD, as another program on a
 * shared reader may do; prints "reset: ok"); "repeat:<n>:<hex>"
 * sends the APDU n times quietly (with GET RESPONSE as needed) and prints
 * "repeat: <n> exchanges in <ms> ms" (bench/usim_pcsc_bench.py).  Honours
 * PCSCLITE_CSOCK_NAME (a private pcscd).  --wait-card retries the connect
 * for up to MS milliseconds (pcscd notices a new card on its next poll).  Exit 0 on success, 2 for bad
 * arguments, 3 for a PC/SC error (printed with its text).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>

#include <gba/util.h>
#include "gba_cli.h"

static void print_hex(const char *prefix, const uint8_t *b, size_t n)
{
	printf("%s", prefix);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

static int fail(const char *what, LONG rv)
{
	printf("error: %s: %s\n", what, pcsc_stringify_error(rv));
	return 3;
}

static int connect_first(SCARDCONTEXT ctx, SCARDHANDLE *card, DWORD *proto, int quiet)
{
	char readers[2048];
	DWORD len = sizeof(readers);
	LONG rv = SCardListReaders(ctx, NULL, readers, &len);

	if (rv != SCARD_S_SUCCESS)
		return fail("SCardListReaders", rv);
	for (char *r = readers; *r; r += strlen(r) + 1) {
		if (!quiet)
			printf("reader listed: %s\n", r);
		rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				  card, proto);
		if (rv == SCARD_S_SUCCESS) {
			printf("reader: %s\n", r);
			return 0;
		}
	}
	return quiet ? 3 : fail("SCardConnect (no reader with a card)", rv);
}

/* Connect, retrying every 100 ms for up to wait_ms. */
static int connect_wait(SCARDCONTEXT ctx, SCARDHANDLE *card, DWORD *proto, long wait_ms)
{
	struct timespec ts = { 0, 100000000L };

	for (long waited = 0; waited < wait_ms; waited += 100) {
		if (connect_first(ctx, card, proto, 1) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return connect_first(ctx, card, proto, 0);
}

static int transmit(SCARDHANDLE card, DWORD proto, const uint8_t *c, size_t cl,
		    uint8_t *r, DWORD *rl)
{
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	LONG rv;

	print_hex("> ", c, cl);
	*rl = 258;
	rv = SCardTransmit(card, pci, c, (DWORD)cl, NULL, r, rl);
	if (rv != SCARD_S_SUCCESS)
		return fail("SCardTransmit", rv);
	print_hex("< ", r, *rl);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* repeat:<n>:<hex>: n quiet round trips, timed. */
static int run_repeat(SCARDHANDLE card, DWORD proto, const char *spec)
{
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	char *end;
	long n = strtol(spec, &end, 10), exchanges = 0;
	uint8_t c[300], r[258];
	size_t cl;
	double t0;

	if (n <= 0 || *end != ':' ||
	    gba_hex_decode(c, sizeof(c), &cl, end + 1, strlen(end + 1)) != GBA_OK || cl < 4) {
		printf("error: bad repeat item\n");
		return 2;
	}
	t0 = now_ms();
	for (long i = 0; i < n; i++) {
		DWORD rl = sizeof(r);
		LONG rv = SCardTransmit(card, pci, c, (DWORD)cl, NULL, r, &rl);

		exchanges++;
		while (rv == SCARD_S_SUCCESS && rl == 2 && r[0] == 0x61) {
			uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, r[1] };

			rl = sizeof(r);
			rv = SCardTransmit(card, pci, gr, sizeof(gr), NULL, r, &rl);
			exchanges++;
		}
		if (rv != SCARD_S_SUCCESS)
			return fail("SCardTransmit", rv);
	}
	printf("repeat: %ld exchanges in %.1f ms\n", exchanges, now_ms() - t0);
	return 0;
}

static int run_item(SCARDHANDLE card, DWORD proto, const char *item, int get_response)
{
	uint8_t c[300], r[258];
	size_t cl;
	DWORD rl;
	int rc;

	if (!strncmp(item, "repeat:", 7))
		return run_repeat(card, proto, item + 7);
	if (!strcmp(item, "reset")) {
		DWORD p;
		LONG rv = SCardReconnect(card, SCARD_SHARE_SHARED,
					 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD, &p);

		if (rv != SCARD_S_SUCCESS)
			return fail("SCardReconnect", rv);
		printf("reset: ok\n");
		return 0;
	}
	if (!strncmp(item, "sleep:", 6)) {
		long ms = atol(item + 6);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return 0;
	}
	if (gba_hex_decode(c, sizeof(c), &cl, item, strlen(item)) != GBA_OK || cl < 4) {
		printf("error: bad APDU '%s'\n", item);
		return 2;
	}
	rc = transmit(card, proto, c, cl, r, &rl);
	while (rc == 0 && get_response && rl == 2 && r[0] == 0x61) {
		uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, r[1] };

		rc = transmit(card, proto, gr, sizeof(gr), r, &rl);
	}
	return rc;
}

int main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto = 0, atr_len = 33, state, rlen = 0;
	uint8_t atr[33];
	int get_response = 1, i = 1, rc;
	long wait_ms = 0;
	LONG rv;
	static const struct option opts[] = {
		{ "wait-card", required_argument, NULL, 0 },
		{ "no-get-response", no_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};

	rc = gba_cli_simple("pcsc_probe", argc, argv, opts,
			    "usage: pcsc_probe [--wait-card MS] [--no-get-response] ITEM...\n"
			    "ITEM: a hex C-APDU, sleep:MS, reset or repeat:N:HEX (see the source).\n"
			    "Exit 0 on success, 2 for bad arguments, 3 for a PC/SC error.\n");
	if (rc >= 0)
		return rc;

	if (i + 1 < argc && !strcmp(argv[i], "--wait-card")) {
		wait_ms = atol(argv[i + 1]);
		i += 2;
	}
	if (i < argc && !strcmp(argv[i], "--no-get-response")) {
		get_response = 0;
		i++;
	}
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS)
		return fail("SCardEstablishContext", rv);
	rc = connect_wait(ctx, &card, &proto, wait_ms);
	if (rc)
		goto out;
	printf("protocol: %s\n", proto == SCARD_PROTOCOL_T1 ? "T=1" : "T=0");
	rv = SCardStatus(card, NULL, &rlen, &state, &proto, atr, &atr_len);
	if (rv != SCARD_S_SUCCESS) {
		rc = fail("SCardStatus", rv);
		goto out;
	}
	print_hex("atr: ", atr, atr_len);
	for (; i < argc && rc == 0; i++)
		rc = run_item(card, proto, argv[i], get_response);
	SCardDisconnect(card, SCARD_LEAVE_CARD);
out:
	SCardReleaseContext(ctx);
	return rc;
}
