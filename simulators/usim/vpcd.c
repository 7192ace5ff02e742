/*
 * vpcd.c - the card on pcscd's vpcd driver (vsmartcard; shared/spec
 * gba-wire.md 9).  vpcd listens; the card connects.  Every message is a
 * 2-octet big-endian length and the bytes; a one-octet message is a
 * control code (00 power off, 01 power on, 02 reset, 04 get ATR), anything
 * longer a C-APDU answered with the R-APDU.
 *
 * The card reconnects whenever the connection drops (pcscd restarted), and
 * drops it on purpose while "removed" (SIGUSR1) to let tests pull the card.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gba/util.h>

#include "gba_notify.h"
#include "transport.h"

#define CTRL_OFF 0x00
#define CTRL_ON 0x01
#define CTRL_RESET 0x02
#define CTRL_ATR 0x04
#define POLL_MS 200

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -1, one = 1;

	if (getaddrinfo(host, port, &hints, &res))
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * Read exactly n octets; -1 on EOF or error.  vpcd writes a message's
 * length and its bytes in two send()s with Nagle on, so the second waits
 * for our ACK of the first: a delayed ACK (40 ms) would cost every APDU
 * that much.  TCP_QUICKACK (reset by the kernel after use) before each
 * read makes us ACK at once.
 */
static int read_full(int fd, uint8_t *b, size_t n)
{
	int one = 1;

	while (n) {
		ssize_t r;

		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Length and bytes in one send(), so the message leaves in one segment. */
static int send_msg(int fd, const uint8_t *b, size_t n)
{
	uint8_t msg[2 + USIM_SIM_RAPDU_MAX];
	int rc;

	if (n > USIM_SIM_RAPDU_MAX)
		return -1;
	msg[0] = (uint8_t)(n >> 8);
	msg[1] = (uint8_t)n;
	memcpy(msg + 2, b, n);
	rc = write_full(fd, msg, n + 2);
	gba_wipe(msg, sizeof(msg));       /* it may have carried CK/IK */
	return rc;
}

static int on_control(struct usim_sim *sim, int fd, uint8_t code)
{
	uint8_t atr[USIM_SIM_ATR_MAX];
	size_t n;

	switch (code) {
	case CTRL_OFF:
		return 0;
	case CTRL_ON:
	case CTRL_RESET:
		usim_sim_reset(sim);
		return 0;
	case CTRL_ATR:
		n = usim_sim_atr(sim, atr, sizeof(atr));
		return send_msg(fd, atr, n);
	default:
		sim_log(GBA_LOG_WARN, "vpcd: unknown control code %02X ignored", code);
		return 0;
	}
}

/* One message from vpcd; -1 when the connection is gone. */
static int on_message(struct usim_sim *sim, int fd)
{
	uint8_t hdr[2], msg[512], rapdu[USIM_SIM_RAPDU_MAX];
	size_t len, rlen = 0;
	int rc;

	if (read_full(fd, hdr, 2))
		return -1;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (len == 0 || len > sizeof(msg) || read_full(fd, msg, len))
		return -1;
	if (len == 1)
		return on_control(sim, fd, msg[0]);
	if (usim_sim_apdu(sim, msg, len, rapdu, sizeof(rapdu), &rlen) == GBA_ERR_STORE)
		sim_log(GBA_LOG_ERROR, "state could not be saved");
	rc = rlen ? send_msg(fd, rapdu, rlen) : 0;   /* mute card: no answer */
	gba_wipe(rapdu, sizeof(rapdu));
	gba_wipe(msg, sizeof(msg));
	return rc;
}

/* Serve one connection until it drops, the card is removed, or stop. */
static void serve(struct usim_sim *sim, int fd, struct sim_signals *sig)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!sig->stop && !sig->removed) {
		int n = poll(&p, 1, POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && on_message(sim, fd)) {
			sim_log(GBA_LOG_INFO, "vpcd: connection closed");
			break;
		}
	}
}

int vpcd_run(struct usim_sim *sim, const char *host, const char *port,
	     struct sim_signals *sig)
{
	int waiting_logged = 0, was_removed = 0;

	while (!sig->stop) {
		int fd;

		if (sig->removed) {
			if (!was_removed)
				sim_log(GBA_LOG_INFO, "card removed (SIGUSR2 inserts it again)");
			was_removed = 1;
			poll(NULL, 0, POLL_MS);
			continue;
		}
		if (was_removed)
			sim_log(GBA_LOG_INFO, "card inserted");
		was_removed = 0;
		fd = connect_to(host, port);
		if (fd < 0) {
			if (!waiting_logged)
				sim_log(GBA_LOG_INFO, "vpcd: waiting for %s:%s", host, port);
			waiting_logged = 1;
			poll(NULL, 0, POLL_MS);
			continue;
		}
		sim_log(GBA_LOG_INFO, "vpcd: connected to %s:%s", host, port);
		gba_notify_ready("card in the reader");
		waiting_logged = 0;
		usim_sim_reset(sim);
		serve(sim, fd, sig);
		close(fd);
	}
	return 0;
}
