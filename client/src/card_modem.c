/*
 * card_modem.c - the modem back end: the UICC behind a cellular module,
 * reached with AT+CSIM (TS 27.007 8.17) on a serial device.  The line is
 * raw (termios), every command has a deadline, echo is turned off (and
 * tolerated), and ERROR / +CME ERROR answers end the command with the
 * modem's words.
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

struct modem {
	int fd;
	unsigned timeout_ms;
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
		if (want && !strncmp(line, want, strlen(want)) && strlen(line) < answer_size) {
			strcpy(answer, line);
			got = 1;
		}
		/* Anything else: echo, URCs (+CREG: ...), noise.  Skipped. */
	}
	return err;
}

static gba_client_err modem_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *rapdu,
				     size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	struct modem *m = ctx;
	char cmd[32 + 2 * GBA_CLIENT_APDU_MAX], ans[LINE_MAX_LEN];
	int off, hl;
	gba_client_err err;

	off = snprintf(cmd, sizeof(cmd), "AT+CSIM=%zu,\"", 2 * len);
	gba_hex_encode(cmd + off, sizeof(cmd) - (size_t)off, c, len);
	strcat(cmd, "\"");
	err = at_command(m, cmd, "+CSIM:", ans, sizeof(ans), msg, msg_size);
	gba_wipe(cmd, sizeof(cmd));
	if (err)
		return err;
	/* +CSIM: <length>,"<hex>" */
	char *q = strchr(ans, '"'), *e = q ? strchr(q + 1, '"') : NULL;
	if (sscanf(ans, "+CSIM: %d,", &hl) != 1 || !q || !e || (size_t)(e - q - 1) != (size_t)hl ||
	    gba_hex_decode(rapdu, size, rlen, q + 1, (size_t)hl)) {
		gba_wipe(ans, sizeof(ans));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_CARD_DATA,
				   "modem %s: malformed +CSIM answer", m->device);
	}
	gba_wipe(ans, sizeof(ans));
	return GBA_CLIENT_OK;
}

static void modem_close(void *ctx)
{
	struct modem *m = ctx;
	if (m->fd >= 0)
		close(m->fd);
	gba_wipe(m, sizeof(*m));
	free(m);
}

static const struct gba_client_card_ops modem_ops = {
	.name = "modem", .transmit = modem_transmit, .close = modem_close,
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
	m->timeout_ms = timeout_ms ? timeout_ms : 5000;
	snprintf(m->device, sizeof(m->device), "%s", device);
	m->fd = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m->fd < 0)
		err = client_fail(msg, msg_size, GBA_CLIENT_ERR_TRANSPORT, "%s: %s", device,
				  strerror(errno));
	else
		err = setup_line(m, msg, msg_size);
	if (!err)
		err = gba_client_card_open_custom(card, &modem_ops, m);
	if (err)
		modem_close(m);
	return err;
}
