/*
 * modem.c - the card behind a pseudo-terminal that behaves like a
 * cellular module's AT port.  We keep the slave open ourselves (in raw
 * mode) so the master never sees EIO between clients, and so a client
 * that does not set raw mode still gets no kernel echo: the only echo is
 * the module's own (ATE1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gba/util.h>

#include "gba_notify.h"
#include "transport.h"

#define LINE_MAX_AT 1100
#define POLL_MS 200

static int open_pty(int *master, int *slave, char *name, size_t name_size)
{
	struct termios t;

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) || unlockpt(*master) ||
	    ptsname_r(*master, name, name_size))
		return -1;
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0 || tcgetattr(*slave, &t))
		return -1;
	cfmakeraw(&t);
	return tcsetattr(*slave, TCSANOW, &t);
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

struct line_buf {
	char b[LINE_MAX_AT];
	size_t len;
	int overflow;
};

/* Feed received octets; each CR (or LF) ends a command line. */
static void feed(struct modem_at *m, int fd, struct line_buf *lb, const char *in, size_t n)
{
	char out[4096];

	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (m->echo)
			write_all(fd, &ch, 1);
		if (ch != '\r' && ch != '\n') {
			if (lb->len < sizeof(lb->b) - 1)
				lb->b[lb->len++] = ch;
			else
				lb->overflow = 1;
			continue;
		}
		if (lb->len == 0)
			continue;                   /* the LF of a CR LF, or an empty line */
		lb->b[lb->len] = '\0';
		size_t ol = lb->overflow ? (strcpy(out, "\r\nERROR\r\n"), strlen(out))
					 : modem_at_line(m, lb->b, out, sizeof(out));
		write_all(fd, out, ol);
		gba_wipe(lb, sizeof(*lb));           /* a +CPIN line holds the PIN */
		gba_wipe(out, sizeof(out));
	}
}

int modem_run(struct usim_sim *sim, const char *link_path, int fault_error,
	      struct sim_signals *sig)
{
	struct modem_at m;
	struct line_buf lb = { .len = 0 };
	char name[128], in[256];
	int master = -1, slave = -1, rc = 0;

	if (open_pty(&master, &slave, name, sizeof(name))) {
		sim_log(GBA_LOG_ERROR, "modem: cannot create a pseudo-terminal: %s",
			strerror(errno));
		rc = 1;
		goto out;
	}
	if ((unlink(link_path) && errno != ENOENT) || symlink(name, link_path)) {
		sim_log(GBA_LOG_ERROR, "modem: cannot link %s to %s: %s", link_path, name,
			strerror(errno));
		rc = 1;
		goto out;
	}
	sim_log(GBA_LOG_INFO, "modem: %s -> %s", link_path, name);
	gba_notify_ready("modem on its pseudo-terminal");
	modem_at_init(&m, sim, fault_error);
	while (!sig->stop) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		int n = poll(&p, 1, POLL_MS);
		ssize_t r;

		if (n <= 0)
			continue;
		r = read(master, in, sizeof(in));
		if (r > 0)
			feed(&m, master, &lb, in, (size_t)r);
	}
	unlink(link_path);
out:
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
	gba_wipe(in, sizeof(in));
	return rc;
}
