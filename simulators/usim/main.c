/*
 * gba-usim-sim - a USIM/ISIM card for the GBA stack's tests and demos.
 *
 *   gba-usim-sim --profile card.conf --state card.state --vpcd [HOST:]PORT
 *   gba-usim-sim --profile card.conf --state card.state --modem /tmp/ttyGBA
 *
 * --vpcd: the card connects to pcscd's vpcd driver (default host
 *         127.0.0.1); SIGUSR1 removes the card, SIGUSR2 inserts it again.
 * --modem: a pseudo-terminal answering AT commands (AT+CSIM, AT+CRSM,
 *         AT+CIMI, ...), symlinked at the given path.
 * --fault NAME: garbage | truncated | sw6f00 | mute (the card misbehaves)
 * --modem-fault: AT+CSIM/AT+CRSM/AT+CIMI answer ERROR
 * --quiet: do not log each command.
 * --log-level LEVEL: debug, info (the default), warn or error.
 *
 * SIGTERM/SIGINT stop it cleanly; the state is saved after every change
 * anyway.  Logs name commands and status words, never data or keys.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gba_cli.h"
#include "gba_notify.h"
#include "transport.h"

static struct sim_signals sigs;
static struct gba_log usim_log = { .prog = "gba-usim-sim", .level = GBA_LOG_INFO, .fd = 2 };

void sim_log(enum gba_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gba_log_vmsg(&usim_log, level, fmt, ap);
	va_end(ap);
}

static void on_signal(int s)
{
	if (s == SIGUSR1)
		sigs.removed = 1;
	else if (s == SIGUSR2)
		sigs.removed = 0;
	else
		sigs.stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;       /* no SA_RESTART: poll() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	sim_log(GBA_LOG_INFO, "%s", line);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gba-usim-sim --profile FILE --state FILE "
		   "(--vpcd [HOST:]PORT | --modem PATH)\n"
		   "       [--fault garbage|truncated|sw6f00|mute] [--modem-fault] [--quiet]\n"
		   "       [--log-level debug|info|warn|error]\n"
		   "       gba-usim-sim -h|--help | -V|--version\n"
		   "Exit status: 0 clean stop, 1 failure, 2 bad usage.\n");
}

struct options {
	const char *profile, *state, *vpcd, *modem, *fault;
	int modem_fault, quiet;
	enum gba_log_level log_level;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "vpcd", required_argument, NULL, 'v' },
		{ "modem", required_argument, NULL, 'm' },
		{ "fault", required_argument, NULL, 'f' },
		{ "modem-fault", no_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->log_level = GBA_LOG_INFO;
	while ((c = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 's': o->state = optarg; break;
		case 'v': o->vpcd = optarg; break;
		case 'm': o->modem = optarg; break;
		case 'f': o->fault = optarg; break;
		case 'F': o->modem_fault = 1; break;
		case 'q': o->quiet = 1; break;
		case 'L':
			if (gba_log_level_parse(optarg, &o->log_level)) {
				fprintf(stderr, "gba-usim-sim: bad value for --log-level: %s\n",
					optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': gba_cli_version("gba-usim-sim"); exit(0);
		default: gba_cli_unknown("gba-usim-sim", lo, "hV"); return -1;
		}
	}
	if (optind != argc || !o->profile || !o->state || !o->vpcd == !o->modem)
		return -1;
	return 0;
}

/* "[HOST:]PORT" -> host (default 127.0.0.1), port; "[v6]:PORT" too. */
static void split_hostport(char *s, const char **host, const char **port)
{
	char *colon = strrchr(s, ':');

	*host = "127.0.0.1";
	*port = s;
	if (colon) {
		*colon = '\0';
		*host = s;
		*port = colon + 1;
		if (s[0] == '[' && colon > s + 1 && colon[-1] == ']') {
			colon[-1] = '\0';
			*host = s + 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct usim_sim *sim;
	enum usim_sim_fault fault = USIM_FAULT_NONE;
	gba_err e;
	int rc;

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.fault && usim_sim_fault_parse(o.fault, &fault) != GBA_OK) {
		fprintf(stderr, "gba-usim-sim: unknown fault '%s'\n", o.fault);
		return 2;
	}
	gba_log_init(&usim_log, "gba-usim-sim", o.log_level, GBA_LOG_IMPI_PLAIN);
	e = usim_sim_open(o.profile, o.state, &sim);
	if (e != GBA_OK) {
		sim_log(GBA_LOG_ERROR, "cannot open the card: %s", gba_strerror(e));
		return 1;
	}
	usim_sim_set_fault(sim, fault);
	if (!o.quiet)
		usim_sim_set_log(sim, log_line, NULL);
	install_signals();
	if (o.vpcd) {
		char *hp = strdup(o.vpcd);
		const char *host, *port;

		split_hostport(hp, &host, &port);
		rc = vpcd_run(sim, host, port, &sigs);
		free(hp);
	} else {
		rc = modem_run(sim, o.modem, o.modem_fault, &sigs);
	}
	gba_notify_stopping("stopping");
	usim_sim_close(sim);
	sim_log(GBA_LOG_INFO, "stopped, state saved");
	return rc;
}
