/*
 * main.c - the gba-client command: common options, then a subcommand from
 * the table below.  See gba-client(1) and docs/client.md.
 */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gba/kdf.h>

#include "cmd.h"
#include "gba_cli.h"

struct subcommand {
	const char *name;
	int (*run)(const struct cmd_opts *o);
	const char *summary;
};

/* The subcommands.  One line each; the NAF engineer adds m2m-enrol and m2m-session. */
static const struct subcommand subcommands[] = {
	{ "bootstrap", cmd_bootstrap, "bootstrap now (always a fresh run) and save the context" },
	{ "naf-key", cmd_naf_key_main, "Ks_NAF / Ks_ext_NAF for --naf FQDN (bootstraps if needed)" },
	{ "status", cmd_status, "show the saved context and whether it is valid" },
	{ "card-info", cmd_card_info, "show the card's identity (IMSI, IMPI, BSF, GBA_U)" },
	{ "m2m-enrol", cmd_m2m_enrol, "Ua to a oneM2M MAF (gba-naf): enrol, print KmID and Km's KCV" },
	{ "m2m-session", cmd_m2m_session, "register a session key for -o target=ID, print key id, Kc KCV" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gba-client [options] COMMAND [args]\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-12s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f,
		"options:\n"
		"  -c, --card SPEC      pcsc | pcsc:READER | pcsc:#N | modem:DEVICE | soft:FILE\n"
		"                       (default $GBA_CLIENT_CARD or pcsc)\n"
		"  -b, --bsf URL        the BSF (default http://bsf.mncXXX.mccYYY.pub.3gppnetwork.org/)\n"
		"  -C, --context FILE   the context file (default $GBA_CLIENT_CONTEXT or\n"
		"                       ~/.gba-client/context)\n"
		"  -n, --naf FQDN       the NAF for naf-key (and bootstrap)\n"
		"  -u, --ua-id ID       Ua security protocol id: 10 hex digits or http-digest,\n"
		"                       tls13, pki-portal, mbms, gpl, tmpi (default http-digest)\n"
		"  -j, --json           JSON output\n"
		"  -k, --show-key       print keys (otherwise only their check values)\n"
		"  -f, --force          bootstrap even when the context is valid\n"
		"      --gba-me         GBA_ME even when the card offers GBA_U\n"
		"      --gba-u          GBA_U or fail before contacting the BSF (no GBA_ME\n"
		"                       fallback when EF_GBABP is too small)\n"
		"  -t, --timeout MS     per card/modem command and HTTP exchange (default 10000)\n"
		"      --margin S       re-bootstrap when the context ends within S s (default 60)\n"
		"      --ca-file FILE   trust anchors for an https BSF\n"
		"      --pin-file FILE  PIN1 (one line, the file ours and mode 0600); verified\n"
		"                       only when the card has PIN1 enabled\n"
		"      --pin-last-try   use PIN1 even when the card has one try left\n"
		"      --trace          each APDU and HTTP exchange on stderr (RES, CK, IK and\n"
		"                       keys masked unless --show-key; the PIN always)\n"
		"  -o KEY=VALUE         a setting of one subcommand (-o app=usim|isim; m2m-*:\n"
		"                       via=tls|digest, naf-addr=HOST:PORT, psk-identity=dot|comma|bare,\n"
		"                       tls-priorities=GNUTLS, km-ua-id=HEX, target=, suid=, lifetime=)\n"
		"  -h, --help           this text\n"
		"  -V, --version        the version\n"
		"exit codes: 0 ok, 1 internal, 2 usage, 3 card, 4 network/BSF, 5 authentication,\n"
		"            6 no valid context, 7 file, 8 timeout (see gba-client(1))\n");
}

/* ~/.gba-client/context, the directory made 0700 when missing. */
static const char *default_context(char *buf, size_t size)
{
	const char *env = getenv("GBA_CLIENT_CONTEXT"), *home = getenv("HOME");

	if (env && env[0])
		return env;
	if (!home || !home[0])
		return "gba-client.context";
	snprintf(buf, size, "%s/.gba-client", home);
	mkdir(buf, 0700);
	snprintf(buf, size, "%s/.gba-client/context", home);
	return buf;
}

/* -o KEY=VALUE: a key some subcommand reads, at most 16 of them. */
static int add_opt(struct cmd_opts *o, const char *arg)
{
	char err[256];

	if (o->n_extra == (int)(sizeof(o->extra) / sizeof(o->extra[0]))) {
		fprintf(stderr, "gba-client: -o KEY=VALUE (at most 16)\n");
		return -1;
	}
	if (cmd_check_opt(arg, err, sizeof(err))) {
		fprintf(stderr, "gba-client: %s\n", err);
		return -1;
	}
	o->extra[o->n_extra++] = arg;
	return 0;
}

static int parse(int argc, char **argv, struct cmd_opts *o)
{
	static const struct option longs[] = {
		{ "card", required_argument, NULL, 'c' }, { "bsf", required_argument, NULL, 'b' },
		{ "context", required_argument, NULL, 'C' }, { "naf", required_argument, NULL, 'n' },
		{ "ua-id", required_argument, NULL, 'u' }, { "json", no_argument, NULL, 'j' },
		{ "show-key", no_argument, NULL, 'k' }, { "force", no_argument, NULL, 'f' },
		{ "gba-me", no_argument, NULL, 'M' }, { "timeout", required_argument, NULL, 't' },
		{ "margin", required_argument, NULL, 'm' }, { "ca-file", required_argument, NULL, 'A' },
		{ "gba-u", no_argument, NULL, 'U' },
		{ "trace", no_argument, NULL, 'T' },
		{ "pin-file", required_argument, NULL, 'P' },
		{ "pin-last-try", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "c:b:C:n:u:jkft:o:hV", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->card = optarg; break;
		case 'b': o->bsf_url = optarg; break;
		case 'C': o->context = optarg; break;
		case 'n': o->naf_fqdn = optarg; break;
		case 'j': o->json = 1; break;
		case 'k': o->show_key = 1; break;
		case 'f': o->force = 1; break;
		case 'M': o->gba_me = 1; break;
		case 'U': o->gba_u = 1; break;
		case 'T': o->trace = 1; break;
		case 'A': o->ca_file = optarg; break;
		case 'P': o->pin_file = optarg; break;
		case 'L': o->pin_last_try = 1; break;
		case 'u':
			if (cmd_parse_ua_id(optarg, o->ua_id)) {
				fprintf(stderr, "gba-client: --ua-id '%s': 10 hex digits or a name\n",
					optarg);
				return -1;
			}
			break;
		case 't':
		case 'm': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v > 3600000) {
				fprintf(stderr, "gba-client: bad number '%s'\n", optarg);
				return -1;
			}
			*(c == 't' ? &o->timeout_ms : &o->margin) = (unsigned)v;
			break;
		}
		case 'o':
			if (add_opt(o, optarg))
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': gba_cli_version("gba-client"); exit(0);
		default: gba_cli_unknown("gba-client", longs, "c:b:C:n:u:jkft:o:hV"); return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cmd_opts o = { .margin = 60, .timeout_ms = 10000 };
	char ctx_buf[4096];

	memcpy(o.ua_id, GBA_UA_HTTP_DIGEST, 5);
	if (parse(argc, argv, &o) || optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (gba_cli_keylog("gba-client"))
		return EXIT_FILE;
	if (!o.card)
		o.card = getenv("GBA_CLIENT_CARD") && getenv("GBA_CLIENT_CARD")[0]
			 ? getenv("GBA_CLIENT_CARD") : "pcsc";
	if (!o.context)
		o.context = default_context(ctx_buf, sizeof(ctx_buf));
	o.argc = argc - optind - 1;
	o.argv = argv + optind + 1;
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[optind], subcommands[i].name))
			return subcommands[i].run(&o);
	fprintf(stderr, "gba-client: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	if (o.json) {
		struct cmd_out w;
		char m[128];
		snprintf(m, sizeof(m), "unknown command '%.60s'", argv[optind]);
		out_begin(&w, &o);
		out_error(&w, EXIT_USAGE, "usage", m);
		out_end(&w);
	}
	return EXIT_USAGE;
}
