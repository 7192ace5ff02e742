/*
 * modem_at.c - the AT commands of a cellular module that reach the card
 * (3GPP TS 27.007): AT, ATE0/ATE1, ATI, AT+CMEE, AT+CPIN, AT+CIMI,
 * AT+CSIM (raw APDUs, the caller does 61xx/6Cxx itself as with a real
 * module) and AT+CRSM (restricted access: the module selects the file and
 * does GET RESPONSE itself), and logical channels (AT+CCHO opens one to
 * an application by AID, AT+CGLA sends an APDU on it with the channel
 * put into CLA, AT+CCHC closes it; TS 27.007 8.45, 8.43, 8.46).  Profile
 * options: modem_channels = no refuses the channel commands (an old
 * module); modem_chatty = yes keeps the echo on whatever ATE says and
 * puts an unsolicited result code and blank lines before each card
 * answer; strict = yes refuses lowercase hex in AT+CSIM/AT+CGLA.
 *
 * AT+CRSM and AT+CIMI select files on the basic channel, so they change
 * the current file an AT+CSIM user may rely on (as on many modules).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gba/util.h>

#include "sim_internal.h"
#include "transport.h"

#define CME_NOT_SUPPORTED 4
#define CME_SIM_PIN 11
#define CME_SIM_FAILURE 13
#define CME_INCORRECT_PASSWORD 16
#define CME_INVALID_PARAM 50
#define CME_NOT_FOUND 22

struct out {
	char *b;
	size_t size, len;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->b + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->size - o->len ? (size_t)n : o->size - o->len - 1;
}

static void ok(struct out *o)
{
	emit(o, "\r\nOK\r\n");
}

static void cme(const struct modem_at *m, struct out *o, int code)
{
	static const struct { int code; const char *text; } texts[] = {
		{ CME_NOT_SUPPORTED, "operation not supported" },
		{ CME_SIM_PIN, "SIM PIN required" },
		{ CME_SIM_FAILURE, "SIM failure" },
		{ CME_INCORRECT_PASSWORD, "incorrect password" },
		{ CME_INVALID_PARAM, "invalid parameter" },
		{ CME_NOT_FOUND, "not found" },
	};
	const char *t = "unknown";

	if (m->cmee == 0) {
		emit(o, "\r\nERROR\r\n");
		return;
	}
	if (m->cmee == 1) {
		emit(o, "\r\n+CME ERROR: %d\r\n", code);
		return;
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == code)
			t = texts[i].text;
	emit(o, "\r\n+CME ERROR: %s\r\n", t);
}

/* One APDU the module sends on its own, with the T=0 dance done here. */
static uint16_t transceive(struct usim_sim *sim, const uint8_t *c, size_t n,
			   uint8_t *data, size_t *data_len)
{
	uint8_t r[USIM_SIM_RAPDU_MAX], cmd[261];
	size_t rl = 0;
	uint16_t sw;

	memcpy(cmd, c, n);
	usim_sim_apdu(sim, cmd, n, r, sizeof(r), &rl);
	if (rl < 2)
		return 0x6F00;
	sw = (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
	if ((sw >> 8) == 0x6C && n == 5) {          /* wrong Le: resend with it */
		cmd[4] = (uint8_t)sw;
		usim_sim_apdu(sim, cmd, 5, r, sizeof(r), &rl);
	} else if ((sw >> 8) == 0x61) {             /* data waiting */
		uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, (uint8_t)sw };

		usim_sim_apdu(sim, gr, 5, r, sizeof(r), &rl);
	}
	if (rl < 2)
		return 0x6F00;
	sw = (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
	*data_len = rl - 2;
	memcpy(data, r, rl - 2);
	gba_wipe(r, sizeof(r));
	return sw;
}

static uint16_t select_path(struct usim_sim *sim, const uint8_t *path, size_t len,
			    uint8_t *fcp, size_t *fcp_len)
{
	uint8_t c[5 + 16] = { 0x00, 0xA4, 0x08, 0x04, (uint8_t)len };

	memcpy(c + 5, path, len);
	return transceive(sim, c, 5 + len, fcp, fcp_len);
}

static uint16_t select_usim(struct usim_sim *sim)
{
	uint8_t c[5 + 16] = { 0x00, 0xA4, 0x04, 0x04, 16 }, d[256];
	size_t dl;

	memcpy(c + 5, SIM_AID_USIM, 16);
	return transceive(sim, c, sizeof(c), d, &dl);
}

void modem_at_init(struct modem_at *m, struct usim_sim *sim, int fault_error)
{
	memset(m, 0, sizeof(*m));
	m->sim = sim;
	m->echo = 1;
	m->fault_error = fault_error;
	usim_sim_reset(sim);
	select_usim(sim);
}

/* AT+CIMI: read EF_IMSI as the module does, so the PIN applies. */
static void cmd_cimi(struct modem_at *m, struct out *o)
{
	static const uint8_t path[] = { 0x7F, 0xFF, 0x6F, 0x07 };
	static const uint8_t rd[] = { 0x00, 0xB0, 0x00, 0x00, 0x09 };
	uint8_t d[256];
	size_t dl;
	char imsi[17];
	size_t n = 0;

	if (select_path(m->sim, path, sizeof(path), d, &dl) != SW_OK) {
		cme(m, o, CME_SIM_FAILURE);
		return;
	}
	uint16_t sw = transceive(m->sim, rd, sizeof(rd), d, &dl);
	if (sw == SW_SEC_STATUS) {
		cme(m, o, CME_SIM_PIN);
		return;
	}
	if (sw != SW_OK || dl != 9 || d[0] < 1 || d[0] > 8) {
		cme(m, o, CME_SIM_FAILURE);
		return;
	}
	/* Digits after the parity/type nibble, low nibble first. */
	for (size_t i = 1; i < 2u * d[0]; i++) {
		uint8_t b = d[1 + i / 2], v = (i % 2) ? (b >> 4) : (b & 0x0F);

		if (v <= 9)
			imsi[n++] = (char)('0' + v);
	}
	imsi[n] = '\0';
	emit(o, "\r\n%s\r\n", imsi);
	ok(o);
}

static void cmd_cpin(struct modem_at *m, const char *arg, struct out *o)
{
	uint8_t c[13] = { 0x00, 0x20, 0x00, 0x01, 0x08 }, d[256];
	size_t dl, n;
	uint16_t sw;

	if (!strcmp(arg, "?")) {
		uint8_t q[4] = { 0x00, 0x20, 0x00, 0x01 };

		sw = transceive(m->sim, q, 4, d, &dl);
		emit(o, "\r\n+CPIN: %s\r\n", sw == SW_OK ? "READY" :
		     sw == 0x63C0 || sw == SW_PIN_BLOCKED ? "SIM PUK" : "SIM PIN");
		ok(o);
		return;
	}
	if (arg[0] != '=')
		goto bad;
	arg++;
	if (*arg == '"')
		arg++;
	n = strcspn(arg, "\"");
	if (n < 4 || n > 8)
		goto bad;
	memset(c + 5, 0xFF, 8);
	memcpy(c + 5, arg, n);
	sw = transceive(m->sim, c, sizeof(c), d, &dl);
	gba_wipe(c, sizeof(c));
	if (sw == SW_OK)
		ok(o);
	else
		cme(m, o, CME_INCORRECT_PASSWORD);
	return;
bad:
	cme(m, o, CME_INVALID_PARAM);
}

/* <length>,"<hex>" into c; -1 when malformed (or lowercase in strict mode). */
static int parse_hex_arg(const struct modem_at *m, const char *arg, uint8_t *c, size_t size,
			 size_t *cl)
{
	char *end;
	long len = strtol(arg, &end, 10);
	const char *q1 = strchr(end, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;

	if (*end != ',' || !q1 || !q2 || len != q2 - q1 - 1 ||
	    gba_hex_decode(c, size, cl, q1 + 1, (size_t)(q2 - q1 - 1)) != GBA_OK)
		return -1;
	/* TS 27.007 gives the hex in upper case; a strict module holds to it. */
	for (const char *h = q1 + 1; m->sim->prof.strict && h < q2; h++)
		if (islower((unsigned char)*h))
			return -1;
	return 0;
}

/* The card's answer as +CSIM/+CGLA: <length>,"<HEX>". */
static void apdu_answer(struct modem_at *m, const char *name, const uint8_t *c, size_t cl,
			struct out *o)
{
	uint8_t r[USIM_SIM_RAPDU_MAX];
	char hex[2 * USIM_SIM_RAPDU_MAX + 1];
	size_t rl = 0, hl;

	usim_sim_apdu(m->sim, c, cl, r, sizeof(r), &rl);
	if (rl < 2) {
		cme(m, o, CME_SIM_FAILURE);       /* the card did not answer */
		return;
	}
	gba_hex_encode(hex, sizeof(hex), r, rl);
	for (hl = 0; hex[hl]; hl++)
		hex[hl] = (char)toupper((unsigned char)hex[hl]);
	emit(o, "\r\n%s: %zu,\"%s\"\r\n", name, hl, hex);
	ok(o);
	gba_wipe(hex, sizeof(hex));
	gba_wipe(r, sizeof(r));
}

/* AT+CSIM=<length>,"<hex command>" -> +CSIM: <length>,"<hex response>" */
static void cmd_csim(struct modem_at *m, const char *arg, struct out *o)
{
	uint8_t c[261];
	size_t cl;

	if (parse_hex_arg(m, arg, c, sizeof(c), &cl))
		cme(m, o, CME_INVALID_PARAM);
	else
		apdu_answer(m, "+CSIM", c, cl, o);
	gba_wipe(c, sizeof(c));
}

/* AT+CCHO="<AID>" -> <sessionid>: MANAGE CHANNEL open, then SELECT the
 * application on the new channel.  The session id is the channel number. */
static void cmd_ccho(struct modem_at *m, const char *arg, struct out *o)
{
	uint8_t open_ch[5] = { 0x00, 0x70, 0x00, 0x00, 0x01 }, sel[5 + 16], d[256];
	size_t al, dl = 0, n = strlen(arg);
	uint16_t sw;

	if (n < 2 || arg[0] != '"' || arg[n - 1] != '"' ||
	    gba_hex_decode(sel + 5, 16, &al, arg + 1, n - 2) != GBA_OK || al < 5) {
		cme(m, o, CME_INVALID_PARAM);
		return;
	}
	sw = transceive(m->sim, open_ch, sizeof(open_ch), d, &dl);
	if (sw != SW_OK || dl != 1) {
		cme(m, o, CME_SIM_FAILURE);       /* no free channel */
		return;
	}
	uint8_t ch = d[0], close_ch[4] = { 0x00, 0x70, 0x80, ch };
	memcpy(sel, (uint8_t[]){ ch, 0xA4, 0x04, 0x04, (uint8_t)al }, 5);
	sw = transceive(m->sim, sel, 5 + al, d, &dl);
	if (sw != SW_OK) {
		transceive(m->sim, close_ch, sizeof(close_ch), d, &dl);
		cme(m, o, CME_NOT_FOUND);
		return;
	}
	emit(o, "\r\n%u\r\n", ch);
	ok(o);
}

/* AT+CGLA=<sessionid>,<length>,"<hex>": the APDU on that channel. */
static void cmd_cgla(struct modem_at *m, const char *arg, struct out *o)
{
	uint8_t c[261];
	size_t cl;
	char *end;
	unsigned long sid = strtoul(arg, &end, 10);

	if (end == arg || *end != ',' || sid == 0 || sid >= SIM_CHANNELS ||
	    !m->sim->chan[sid].open || parse_hex_arg(m, end + 1, c, sizeof(c), &cl) || cl < 4) {
		cme(m, o, CME_INVALID_PARAM);
	} else {
		c[0] = (uint8_t)((c[0] & ~0x03) | sid);   /* the channel is the module's to set */
		apdu_answer(m, "+CGLA", c, cl, o);
	}
	gba_wipe(c, sizeof(c));
}

/* AT+CCHC=<sessionid>: MANAGE CHANNEL close. */
static void cmd_cchc(struct modem_at *m, const char *arg, struct out *o)
{
	char *end;
	unsigned long sid = strtoul(arg, &end, 10);
	uint8_t close_ch[4] = { 0x00, 0x70, 0x80, (uint8_t)sid }, d[256];
	size_t dl;

	if (end == arg || *end || sid == 0 || sid >= SIM_CHANNELS ||
	    transceive(m->sim, close_ch, sizeof(close_ch), d, &dl) != SW_OK)
		cme(m, o, CME_INVALID_PARAM);
	else
		ok(o);
}

/* Split "a,b,"c",d" into at most max fields (quotes removed). */
static int split_fields(char *s, char **f, int max)
{
	int n = 0;

	while (n < max) {
		if (*s == '"') {
			char *q = strchr(s + 1, '"');

			if (!q)
				return -1;
			f[n++] = s + 1;
			*q = '\0';
			s = q + 1;
		} else {
			f[n++] = s;
			s += strcspn(s, ",");
		}
		if (*s == '\0')
			return n;
		if (*s != ',')
			return -1;
		*s++ = '\0';
	}
	return -1;
}

/* The path AT+CRSM selects: <pathid> (3F00 dropped) then <fileid>;
 * without a path, MF files for 2Fxx and the USIM ADF otherwise. */
static int crsm_path(const char *fileid, const char *pathid, uint8_t *path, size_t *len)
{
	size_t pl = 0;
	unsigned long fid = strtoul(fileid, NULL, 10);

	if (fid == 0 || fid > 0xFFFF)
		return -1;
	if (pathid && *pathid) {
		if (gba_hex_decode(path, 12, &pl, pathid, strlen(pathid)) != GBA_OK || pl % 2)
			return -1;
		if (pl >= 2 && path[0] == 0x3F && path[1] == 0x00) {
			memmove(path, path + 2, pl - 2);
			pl -= 2;
		}
	} else if ((fid >> 8) != 0x2F) {
		path[pl++] = 0x7F;
		path[pl++] = 0xFF;
	}
	path[pl++] = (uint8_t)(fid >> 8);
	path[pl++] = (uint8_t)fid;
	*len = pl;
	return 0;
}

/* The APDU for a +CRSM command code (TS 27.007 8.18). */
static int crsm_apdu(long command, char **f, int nf, uint8_t *c, size_t *cl)
{
	static const struct { long code; uint8_t ins, cla; int has_data; } map[] = {
		{ 176, 0xB0, 0x00, 0 }, { 178, 0xB2, 0x00, 0 }, { 214, 0xD6, 0x00, 1 },
		{ 220, 0xDC, 0x00, 1 }, { 242, 0xF2, 0x80, 0 },
	};
	size_t dl = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].code != command)
			continue;
		if (nf < 5)
			return -1;
		c[0] = map[i].cla;
		c[1] = map[i].ins;
		c[2] = (uint8_t)strtoul(f[2], NULL, 10);
		c[3] = (uint8_t)strtoul(f[3], NULL, 10);
		c[4] = (uint8_t)strtoul(f[4], NULL, 10);
		if (map[i].has_data) {
			if (nf < 6 || gba_hex_decode(c + 5, 255, &dl, f[5], strlen(f[5])) != GBA_OK ||
			    dl != c[4])
				return -1;
		}
		*cl = 5 + dl;
		return 0;
	}
	return -1;
}

static void cmd_crsm(struct modem_at *m, char *arg, struct out *o)
{
	char *f[7];
	int nf = split_fields(arg, f, 7);
	uint8_t path[16], c[261], d[256];
	size_t pl, cl, dl = 0;
	char hex[2 * 256 + 1];
	long command;
	uint16_t sw;

	if (nf < 2 || (command = strtol(f[0], NULL, 10)) <= 0 ||
	    crsm_path(f[1], nf >= 7 ? f[6] : NULL, path, &pl)) {
		cme(m, o, CME_INVALID_PARAM);
		return;
	}
	sw = select_path(m->sim, path, pl, d, &dl);
	if (sw == SW_OK && command != 192) {
		if (crsm_apdu(command, f, nf, c, &cl)) {
			cme(m, o, CME_INVALID_PARAM);
			return;
		}
		sw = transceive(m->sim, c, cl, d, &dl);
	}
	if (sw != SW_OK)
		dl = 0;
	gba_hex_encode(hex, sizeof(hex), d, dl);
	for (size_t i = 0; hex[i]; i++)
		hex[i] = (char)toupper((unsigned char)hex[i]);
	if (dl)
		emit(o, "\r\n+CRSM: %u,%u,\"%s\"\r\n", sw >> 8, sw & 0xFF, hex);
	else
		emit(o, "\r\n+CRSM: %u,%u\r\n", sw >> 8, sw & 0xFF);
	ok(o);
}

static int card_command(const char *c)
{
	return !strncasecmp(c, "+CSIM", 5) || !strncasecmp(c, "+CRSM", 5) ||
	       !strncasecmp(c, "+CIMI", 5) || !strncasecmp(c, "+CCHO", 5) ||
	       !strncasecmp(c, "+CGLA", 5) || !strncasecmp(c, "+CCHC", 5);
}

/* c: the command after "AT". */
static void dispatch_at(struct modem_at *m, char *c, struct out *o)
{
	if (m->fault_error && card_command(c)) {
		emit(o, "\r\nERROR\r\n");
	} else if (*c == '\0') {
		ok(o);
	} else if (!strcasecmp(c, "E0") || !strcasecmp(c, "E1")) {
		m->echo = c[1] == '1' || m->sim->prof.modem_chatty;   /* a chatty one keeps it */
		ok(o);
	} else if (!strcasecmp(c, "I")) {
		emit(o, "\r\ngba-usim-sim modem\r\n");
		ok(o);
	} else if (!strncasecmp(c, "+CMEE=", 6) && c[6] >= '0' && c[6] <= '2' && !c[7]) {
		m->cmee = c[6] - '0';
		ok(o);
	} else if (!strcasecmp(c, "+CIMI")) {
		cmd_cimi(m, o);
	} else if (!strncasecmp(c, "+CPIN", 5)) {
		cmd_cpin(m, c + 5, o);
	} else if (!strncasecmp(c, "+CSIM=", 6)) {
		cmd_csim(m, c + 6, o);
	} else if (!strncasecmp(c, "+CRSM=", 6)) {
		cmd_crsm(m, c + 6, o);
	} else if ((!strncasecmp(c, "+CCHO", 5) || !strncasecmp(c, "+CGLA", 5) ||
		    !strncasecmp(c, "+CCHC", 5)) && !m->sim->prof.modem_channels) {
		cme(m, o, CME_NOT_SUPPORTED);       /* an old module */
	} else if (!strncasecmp(c, "+CCHO=", 6)) {
		cmd_ccho(m, c + 6, o);
	} else if (!strncasecmp(c, "+CGLA=", 6)) {
		cmd_cgla(m, c + 6, o);
	} else if (!strncasecmp(c, "+CCHC=", 6)) {
		cmd_cchc(m, c + 6, o);
	} else {
		emit(o, "\r\nERROR\r\n");
	}
}

size_t modem_at_line(struct modem_at *m, const char *line, char *out, size_t out_size)
{
	struct out o = { out, out_size, 0 };
	char cmd[1100];
	size_t n = strlen(line);

	if (out_size)
		out[0] = '\0';
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	if (n >= sizeof(cmd)) {
		cme(m, &o, CME_INVALID_PARAM);
		return o.len;
	}
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	if (strncasecmp(cmd, "AT", 2)) {
		emit(&o, "\r\nERROR\r\n");
		return o.len;
	}
	/* A chatty module: a URC and an empty line before the answer. */
	if (m->sim->prof.modem_chatty && card_command(cmd + 2))
		emit(&o, "\r\n+CREG: 1,\"00C3\",\"0001A2B3\",7\r\n\r\n");
	dispatch_at(m, cmd + 2, &o);
	gba_wipe(cmd, sizeof(cmd));
	return o.len;
}
