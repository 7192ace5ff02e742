/*
 * transport.h - how gba-usim-sim puts the card on the outside: pcscd's
 * vpcd driver (vpcd.c), or a pseudo-terminal speaking AT commands like a
 * cellular module (modem.c, modem_at.c).  The run loops return when *stop
 * becomes non-zero (SIGTERM/SIGINT); they never block longer than 200 ms
 * without looking at it.
 */
#ifndef USIM_TRANSPORT_H
#define USIM_TRANSPORT_H

#include <signal.h>
#include <stddef.h>

#include "gba_log.h"
#include "usim_sim.h"

/* Flags the signal handlers set (main.c). */
struct sim_signals {
	volatile sig_atomic_t stop;     /* SIGTERM, SIGINT */
	volatile sig_atomic_t removed;  /* SIGUSR1: card out; SIGUSR2: back in */
};

/* One line to the log (main.c: lib/daemon/gba_log.h); never key material. */
void sim_log(enum gba_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Connect to vpcd at host:port (vpcd listens, the card connects), answer
 * its control codes and APDUs, reconnect when pcscd goes away.  While
 * sig->removed is set the card stays disconnected (the reader sees it
 * removed).  Returns 0 on a clean stop.
 */
int vpcd_run(struct usim_sim *sim, const char *host, const char *port,
	     struct sim_signals *sig);

/*
 * Create a pseudo-terminal, point link_path (a symlink) at its slave and
 * answer AT commands on it.  fault_error: AT+CSIM/AT+CRSM/AT+CIMI answer
 * ERROR.  Removes the link on return.  Returns 0 on a clean stop.
 */
int modem_run(struct usim_sim *sim, const char *link_path, int fault_error,
	      struct sim_signals *sig);

/* ---- The AT interpreter (modem_at.c), apart from the pty for tests ---- */

struct modem_at {
	struct usim_sim *sim;
	int echo;                       /* ATE1 (the V.250 default) */
	int cmee;                       /* AT+CMEE: 0 ERROR, 1 numeric, 2 verbose */
	int fault_error;
};

void modem_at_init(struct modem_at *m, struct usim_sim *sim, int fault_error);

/*
 * Answer one command line (without its CR), writing the full response
 * ("\r\n...\r\n\r\nOK\r\n") into out.  Returns its length.
 */
size_t modem_at_line(struct modem_at *m, const char *line, char *out, size_t out_size);

#endif /* USIM_TRANSPORT_H */
