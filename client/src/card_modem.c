/*
 * card_modem.c - the modem back end: the UICC behind a cellular module on
 * a serial device.  By default on logical channels: AT+CCHO opens one per
 * application by AID, AT+CGLA carries the APDUs, AT+CCHC closes them
 * (TS 27.007 8.45, 8.43, 8.46), so the baseband's basic channel is left
 * alone; a module that answers ERROR / +CME ERROR to AT+CCHO is driven
 * with AT+CSIM (8.17) on the basic channel, where the client never
 * selects the MF.  The line is raw (termios), every command has a
 * deadline, echo is turned off (and tolerated, as are blank lines and
 * unsolicited result codes), hex is upper case, and ERROR / +CME ERROR
 * answers end the command with the modem's words.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <gba/util.h>

#include "internal.h"

#define LINE_MAX_LEN 1100   /* +CSIM: 516,"<516 hex digits>" and then some */

#define MODEM_CHANNELS 3   /* a UICC has at least 3 logical channels besides the basic */

/* A logical channel: the session id AT+CCHO gave for an application. */
struct channel {
	unsigned sid;
	uint8_t aid[GBA_CLIENT_AID_MAX];
	size_t aid_len;
};

struct modem {
	int fd;
	unsigned timeout_ms;
	int logical;                       /* AT+CGLA on channels; 0: AT+CSIM */
	struct channel ch[MODEM_CHANNELS];
	int n_ch, cur;                     /* cur: index into ch, the current application */
	char device[256];
	char in[2 * LINE_MAX_LEN];
	size_t in_len;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static gba_client_err write_all(struct modem *m, const char *s, size_t len, char *msg,
				size_t msg_size)
{
	while (len) {
		ssize_t n = write(m->fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { m->fd, POLLOUT, 0 };
			if (poll(&p, 1, (int)m->timeout_ms) <= 0)
				return client_fail(msg, msg_size, GBA_CLIENT_ERR_TIMEOUT,
						   "modem %s: write timed out", m->device);
			continue;
		}
		if (n <= 0)
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT, "modem %s: %s",
					   m->device, strerror(errno));
		s += n;
		len -= (size_t)n;
	}
	return GBA_CLIENT_OK;
}

/* The next non-empty line (without CR LF) before the deadline. */
static gba_client_err read_line(struct modem *m, char *line, size_t size, long deadline,
				char *msg, size_t msg_size)
{
	for (;;) {
		char *nl = memchr(m->in, '\n', m->in_len);
		while (!nl) {
			long left = deadline - now_ms();
			struct pollfd p = { m->fd, POLLIN, 0 };
			ssize_t n;
			if (m->in_len >= sizeof(m->in))
				return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
						   "modem %s: line too long", m->device);
			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				return client_fail(msg, msg_size, GBA_CLIENT_ERR_TIMEOUT,
						   "modem %s: no answer within %u ms", m->device,
						   m->timeout_ms);
			n = read(m->fd, m->in + m->in_len, sizeof(m->in) - m->in_len);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT,
						   "modem %s: the line closed (%s)", m->device,
						   n == 0 ? "hang-up" : strerror(errno));
			m->in_len += (size_t)n;
			nl = memchr(m->in, '\n', m->in_len);
		}
		size_t len = (size_t)(nl - m->in), used = len + 1;
		while (len && (m->in[len - 1] == '\r' || m->in[len - 1] == ' '))
			len--;
		size_t skip = 0;
		while (skip < len && m->in[skip] == '\r')
			skip++;
		int ok = len - skip < size;
		if (ok) {
			memcpy(line, m->in + skip, len - skip);
			line[len - skip] = '\0';
		}
		memmove(m->in, m->in + used, m->in_len - used);
		m->in_len -= used;
		if (!ok)
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
					   "modem %s: line too long", m->device);
		if (line[0])
			return GBA_CLIENT_OK;
	}
}

static gba_client_err read_answer(struct modem *m, const char *want, char *answer,
				  size_t answer_size, long deadline, char *line, size_t line_size,
				  char *msg, size_t msg_size);

/*
 * Send one AT command; collect the line starting with want (if any) into
 * answer; end at OK, ERROR or +CME ERROR.
 */
static gba_client_err at_command(struct modem *m, const char *cmd, const char *want,
				 char *answer, size_t answer_size, char *msg, size_t msg_size)
{
	char line[LINE_MAX_LEN];
	long deadline = now_ms() + m->timeout_ms;
	gba_client_err err;

	tcflush(m->fd, TCIFLUSH);
	m->in_len = 0;
	err = write_all(m, cmd, strlen(cmd), msg, msg_size);
	if (!err)
		err = write_all(m, "\r", 1, msg, msg_size);
	err = err ? err : read_answer(m, want, answer, answer_size, deadline, line, sizeof(line),
				      msg, msg_size);
	/* The line buffers held the card's answer, CK and IK included. */
	gba_wipe(line, sizeof(line));
	gba_wipe(m->in, sizeof(m->in));
	m->in_len = 0;
	return err;
}

/* Lines until OK, ERROR or +CME ERROR; the one starting with want into answer. */
static gba_client_err read_answer(struct modem *m, const char *want, char *answer,
				  size_t answer_size, long deadline, char *line, size_t line_size,
				  char *msg, size_t msg_size)
{
	int got = 0;
	gba_client_err err = GBA_CLIENT_OK;

	while (!err) {
		err = read_line(m, line, line_size, deadline, msg, msg_size);
		if (err)
			break;
		if (!strcmp(line, "OK"))
			return want && !got ? client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
							  "modem %s: OK without %s", m->device, want)
					    : GBA_CLIENT_OK;
		if (!strcmp(line, "ERROR") || !strncmp(line, "+CME ERROR", 10) ||
		    !strncmp(line, "+CMS ERROR", 10))
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT,
					   "modem %s answered '%.80s'", m->device, line);
		/* AT+CCHO's answer is a bare session id (27.007 8.45); some add "+CCHO: ". */
		int bare_id = want && !strcmp(want, "+CCHO:") && line[0] &&
			      strspn(line, "0123456789") == strlen(line);
		if (want && (bare_id || !strncmp(line, want, strlen(want))) &&
		    strlen(line) < answer_size) {
			strcpy(answer, line);
			got = 1;
		}
		/* Anything else: echo, URCs (+CREG: ...), noise.  Skipped. */
	}
	return err;
}

/* Upper-case hex of data after prefix, into cmd (27.007 writes hex in capitals). */
static void hex_upper(char *out, size_t size, const uint8_t *data, size_t len)
{
	gba_hex_encode(out, size, data, len);
	for (; *out; out++)
		if (*out >= 'a' && *out <= 'f')
			*out = (char)(*out - 'a' + 'A');
}

/* One APDU: AT+CSIM=<2n>,"<HEX>" or AT+CGLA=<sid>,<2n>,"<HEX>"; the answer
 * +CSIM: / +CGLA: <length>,"<hex>" into rapdu. */
static gba_client_err apdu_command(struct modem *m, const uint8_t *c, size_t len,
				   uint8_t *rapdu, size_t size, size_t *rlen, char *msg,
				   size_t msg_size)
{
	char cmd[48 + 2 * GBA_CLIENT_APDU_MAX], ans[LINE_MAX_LEN];
	const char *name = m->logical ? "+CGLA" : "+CSIM";
	int off, hl;
	gba_client_err err;

	if (m->logical)
		off = snprintf(cmd, sizeof(cmd), "AT+CGLA=%u,%zu,\"", m->ch[m->cur].sid, 2 * len);
	else
		off = snprintf(cmd, sizeof(cmd), "AT+CSIM=%zu,\"", 2 * len);
	hex_upper(cmd + off, sizeof(cmd) - (size_t)off - 1, c, len);
	strcat(cmd, "\"");
	err = at_command(m, cmd, m->logical ? "+CGLA:" : "+CSIM:", ans, sizeof(ans), msg,
			 msg_size);
	gba_wipe(cmd, sizeof(cmd));
	if (err)
		return err;
	char *q = strchr(ans, '"'), *e = q ? strchr(q + 1, '"') : NULL;
	if (sscanf(ans + 6, " %d,", &hl) != 1 || !q || !e || (size_t)(e - q - 1) != (size_t)hl ||
	    gba_hex_decode(rapdu, size, rlen, q + 1, (size_t)hl)) {
		gba_wipe(ans, sizeof(ans));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "modem %s: malformed %s answer", m->device, name);
	}
	gba_wipe(ans, sizeof(ans));
	return GBA_CLIENT_OK;
}

/* 1 when one AID is a prefix of the other (SELECT by a partial AID). */
static int same_app(const struct channel *ch, const uint8_t *aid, size_t len)
{
	size_t n = len < ch->aid_len ? len : ch->aid_len;
	return n >= 5 && !memcmp(ch->aid, aid, n);
}

/* AT+CCHO="<AID>" -> a new channel, made current. */
static gba_client_err open_channel(struct modem *m, const uint8_t *aid, size_t len, char *msg,
				   size_t msg_size)
{
	char cmd[32 + 2 * GBA_CLIENT_AID_MAX], ans[LINE_MAX_LEN];
	unsigned sid;
	gba_client_err err;

	if (m->n_ch == MODEM_CHANNELS)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT,
				   "modem %s: no logical channel left", m->device);
	strcpy(cmd, "AT+CCHO=\"");
	hex_upper(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd) - 1, aid, len);
	strcat(cmd, "\"");
	err = at_command(m, cmd, "+CCHO:", ans, sizeof(ans), msg, msg_size);
	if (err)
		return err;
	if (sscanf(ans + (ans[0] == '+' ? 6 : 0), " %u", &sid) != 1)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "modem %s: malformed AT+CCHO answer", m->device);
	m->ch[m->n_ch].sid = sid;
	memcpy(m->ch[m->n_ch].aid, aid, len);
	m->ch[m->n_ch].aid_len = len;
	m->cur = m->n_ch++;
	return GBA_CLIENT_OK;
}

static gba_client_err modem_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *rapdu,
				     size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct modem *m = ctx;
	gba_client_err err;

	/* A module may sit on a T=0 card: no Le in a case 4 command (the card
	 * answers 61xx; strict modules refuse the Le with 6700). */
	if (len > 5 && len == 6u + c[4])
		len--;
	/* SELECT by AID on the logical path: the application's own channel. */
	if (m->logical && c[1] == 0xA4 && c[2] == 0x04 && len >= 5 + 5u && len >= 5u + c[4]) {
		int found = -1;
		for (int i = 0; i < m->n_ch && found < 0; i++)
			if (same_app(&m->ch[i], c + 5, c[4]))
				found = i;
		if (found >= 0)
			m->cur = found;
		else if ((err = open_channel(m, c + 5, c[4], msg, msg_size)))
			return err;
	}
	return apdu_command(m, c, len, rapdu, size, rlen, msg, msg_size);
}

static void modem_close(void *ctx)
{
	struct modem *m = ctx;
	char cmd[32];

	for (int i = 0; m->fd >= 0 && i < m->n_ch; i++) {
		snprintf(cmd, sizeof(cmd), "AT+CCHC=%u", m->ch[i].sid);
		(void)at_command(m, cmd, NULL, NULL, 0, NULL, 0);
	}
	if (m->fd >= 0)
		close(m->fd);
	gba_wipe(m, sizeof(*m));
	free(m);
}

static void modem_describe(void *ctx, char *where, size_t where_size, char *protocol,
			   size_t protocol_size)
{
	const struct modem *m = ctx;

	snprintf(where, where_size, "%s (%s)", m->device,
		 m->logical ? "logical channels, AT+CGLA" : "basic channel, AT+CSIM");
	protocol[0] = '\0';   /* the module does not say */
	(void)protocol_size;
}

static const struct gba_client_card_ops modem_ops = {
	.name = "modem", .transmit = modem_transmit, .close = modem_close,
	.describe = modem_describe,
};

static gba_client_err setup_line(struct modem *m, char *msg, size_t msg_size)
{
	struct termios t;

	if (tcgetattr(m->fd, &t))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT,
				   "%s is not a serial device: %s", m->device, strerror(errno));
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(m->fd, TCSANOW, &t))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT, "%s: tcsetattr: %s",
				   m->device, strerror(errno));
	/* Echo off, so answers are not mixed with our commands (echo is still skipped). */
	return at_command(m, "ATE0", NULL, NULL, 0, msg, msg_size);
}

/* The 3GPP USIM's RID and application code: a partial AID the card resolves. */
static const uint8_t usim_partial_aid[] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02 };

/*
 * channel=logical: open the USIM's channel now (the identity's first
 * commands, EF_DIR under the MF, then go there); ERROR or +CME ERROR to
 * AT+CCHO means an old module: AT+CSIM on the basic channel instead.
 */
static gba_client_err choose_channel(struct modem *m, int logical, char *msg, size_t msg_size)
{
	gba_client_err err;

	if (!logical)
		return GBA_CLIENT_OK;
	m->logical = 1;
	err = open_channel(m, usim_partial_aid, sizeof(usim_partial_aid), msg, msg_size);
	if (err == GBA_CLIENT_ERR_TRANSPORT && m->n_ch == 0) {
		m->logical = 0;
		return GBA_CLIENT_OK;
	}
	return err;
}

/* "DEVICE[,channel=logical|basic]" into m->device; -1 for a bad option. */
static int parse_spec(struct modem *m, const char *spec, int *logical)
{
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);

	*logical = 1;
	if (n >= sizeof(m->device))
		return -1;
	memcpy(m->device, spec, n);
	m->device[n] = '\0';
	if (!comma)
		return 0;
	if (!strcmp(comma, ",channel=basic"))
		*logical = 0;
	else if (strcmp(comma, ",channel=logical"))
		return -1;
	return 0;
}

gba_client_err gba_client_card_open_modem(struct gba_client_card **card, const char *device,
					  unsigned timeout_ms, char *msg, size_t msg_size)
{
	struct modem *m;
	gba_client_err err;

	if (!card || !device)
		return GBA_CLIENT_ERR_INVALID_ARG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return GBA_CLIENT_ERR_NO_MEMORY;
	int logical;
	m->timeout_ms = timeout_ms ? timeout_ms : 5000;
	m->fd = -1;
	m->cur = -1;
	if (parse_spec(m, device, &logical)) {
		modem_close(m);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "modem '%.100s': DEVICE[,channel=logical|basic]", device);
	}
	m->fd = open(m->device, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m->fd < 0)
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT, "%s: %s", m->device,
				  strerror(errno));
	else
		err = setup_line(m, msg, msg_size);
	if (!err)
		err = choose_channel(m, logical, msg, msg_size);
	if (!err)
		err = gba_client_card_open_custom(card, &modem_ops, m);
	if (err)
		modem_close(m);
	else if (!m->logical)
		client_card_set_basic_shared(*card);   /* the baseband's channel: no MF */
	return err;
}
