/*
 * gba-hss-sim - a Zh HSS for labs and tests: answers Multimedia-Auth-
 * Requests (TS 29.109; with --cx also Cx's, TS 29.229, as an IMS HSS
 * does, several vectors when asked) from the SQLite subscriber database, over
 * freeDiameter on TLS (a certificate each way; a BSF's must name the
 * identity of its CER), or plain TCP when asked for.
 *
 * Vectors come from the database's AuC (gba_subdb_next_av / _resync),
 * which moves each subscriber's SQN on atomically, in this HSS's IND slot;
 * RAND comes from the kernel's CSPRNG.  Unknown IMPIs get 5401, an AUTS
 * that does not verify gets 5004, malformed MARs 5004/5005 (libgba-
 * diameter answers those).  Logs name IMPIs and results, never a key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gba/diameter_zh.h>
#include <gba/subscriber_db.h>
#include <gba/util.h>
#include "gba_cli.h"


struct hss_options {
	char address[64];
	unsigned port;
	const char *identity;
	const char *realm;
	const char *db_path;
	const char *kek, *pin_file, *kek_module;   /* wrapped K and OPc */
	unsigned ind;
	unsigned sqn_block;            /* --sqn-block: SQNs per database transaction */
	unsigned threads;
	enum gba_dia_log_level log_level;
	enum gba_dia_transport transport;
	const char *tls_cert, *tls_key, *tls_ca;
	int create_db;   /* --create-db: a missing --db becomes an empty database */
	int check;       /* --check: check the options and the database, exit */
	int cx;                        /* --cx: answer Cx MARs too */
	int fixed_rand;                /* --fixed-rand: every vector gets rand */
	uint8_t rand[16];
};

struct hss {
	struct gba_subdb *db;
	struct gba_kek *kek;   /* --kek: the database's K and OPc are wrapped */
	unsigned ind;
	const uint8_t *fixed_rand;   /* NULL: a fresh random RAND per vector */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gba-hss-sim --db PATH [options]\n"
		"A Zh HSS (3GPP TS 29.109) on Diameter over TCP: answers MAR with vectors\n"
		"from the SQLite subscriber database (gba-subscriber manages it).\n"
		"\n"
		"  --db PATH             subscriber database (required; it must exist)\n"
		"  --create-db           make an empty database when --db is missing\n"
		"  --kek URI             KEK in a PKCS#11 token that wraps the database's K\n"
		"                        and OPc (pkcs11:token=..;object=..)\n"
		"  --pin-file FILE       the token's user PIN (file ours, mode 0600)\n"
		"  --kek-module PATH     PKCS#11 module (default: those p11-kit knows)\n"
		"  --listen ADDR:PORT    address and port to listen on (127.0.0.1:3868)\n"
		"  --identity NAME       Diameter identity, Origin-Host (hss.gba.test)\n"
		"  --realm NAME          Origin-Realm (the identity without its first label)\n"
		"  --ind N               SQN IND slot of the vectors this HSS issues, 0..31 (0)\n"
		"  --sqn-block N         SQNs reserved per database transaction, 1..1024 (1);\n"
		"                        more saves a write per vector (other issuers of the\n"
		"                        database must then use other IND slots)\n"
		"  --threads N           threads answering requests (4)\n"
		"  --log-level LEVEL     debug, info, warn or error (info)\n"
		"  --zh.transport T      tls (TLS both ways) or tcp (plain TCP) (tls)\n"
		"  --zh.tls_cert FILE    PEM certificate naming --identity (required with tls)\n"
		"  --zh.tls_key FILE     its PEM private key\n"
		"  --zh.tls_ca FILE      PEM CA that signs the BSFs' certificates\n"
		"  --cx                  answer Cx MARs too (application 16777216), as an\n"
		"                        IMS HSS: up to 5 vectors per MAR, 5001 if unknown\n"
		"  --fixed-rand HEX      every vector gets this RAND (16 octets), as a\n"
		"                        stored-vector test HSS does: for B-TID collision tests\n"
		"  --check               check the options and open the database, then exit\n"
		"  -h, --help, -V, --version\n"
		"\n"
		"Any BSF may connect whose certificate (from --zh.tls_ca) names the Diameter\n"
		"identity it claims; with --zh.transport tcp any peer at all (loopback or a\n"
		"protected network only).  SIGTERM or SIGINT stops it cleanly.\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* ADDR:PORT, or [ADDR]:PORT for IPv6. */
static int parse_listen(const char *s, struct hss_options *o)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon || parse_uint(colon + 1, 65535, &o->port) || o->port == 0)
		return -1;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(o->address))
		return -1;
	memcpy(o->address, s, n);
	o->address[n] = '\0';
	return 0;
}

static int parse_level(const char *s, enum gba_dia_log_level *level)
{
	for (int l = GBA_DIA_LOG_DEBUG; l <= GBA_DIA_LOG_ERROR; l++) {
		if (!strcmp(s, gba_dia_log_level_name((enum gba_dia_log_level)l))) {
			*level = (enum gba_dia_log_level)l;
			return 0;
		}
	}
	return -1;
}

/* 32 hex digits: the RAND every vector gets. */
static int parse_rand(const char *s, struct hss_options *o)
{
	size_t n = 0;

	if (gba_hex_decode(o->rand, sizeof(o->rand), &n, s, strlen(s)) || n != sizeof(o->rand))
		return -1;
	o->fixed_rand = 1;
	return 0;
}

/* 0: run; 1: exit 0 (help/version); -1: exit 2. */
static int parse_args(int argc, char **argv, struct hss_options *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "kek", required_argument, NULL, 'k' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "kek-module", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "identity", required_argument, NULL, 'i' },
		{ "realm", required_argument, NULL, 'r' },
		{ "ind", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "zh.transport", required_argument, NULL, 'T' },
		{ "zh.tls_cert", required_argument, NULL, 'C' },
		{ "zh.tls_key", required_argument, NULL, 'K' },
		{ "zh.tls_ca", required_argument, NULL, 'A' },
		{ "create-db", no_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'x' },
		{ "fixed-rand", required_argument, NULL, 'R' },
		{ "cx", no_argument, NULL, 'X' },
		{ "sqn-block", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (c) {
		case 'd': o->db_path = optarg; break;
		case 'k': o->kek = optarg; break;
		case 'p': o->pin_file = optarg; break;
		case 'm': o->kek_module = optarg; break;
		case 'l': if (parse_listen(optarg, o)) bad = "--listen"; break;
		case 'i': o->identity = optarg; break;
		case 'r': o->realm = optarg; break;
		case 'n': if (parse_uint(optarg, GBA_IND_SLOTS_MAX - 1, &o->ind)) bad = "--ind"; break;
		case 't': if (parse_uint(optarg, 64, &o->threads) || !o->threads) bad = "--threads"; break;
		case 'L': if (parse_level(optarg, &o->log_level)) bad = "--log-level"; break;
		case 'T':
			if (gba_dia_transport_parse(optarg, &o->transport))
				bad = "--zh.transport";
			break;
		case 'C': o->tls_cert = optarg; break;
		case 'K': o->tls_key = optarg; break;
		case 'A': o->tls_ca = optarg; break;
		case 'c': o->create_db = 1; break;
		case 'x': o->check = 1; break;
		case 'R': if (parse_rand(optarg, o)) bad = "--fixed-rand"; break;
		case 'X': o->cx = 1; break;
		case 'B':
			if (parse_uint(optarg, 1024, &o->sqn_block) || !o->sqn_block)
				bad = "--sqn-block";
			break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("gba-hss-sim"); return 1;
		default: gba_cli_unknown("gba-hss-sim", longopts, "hV"); return -1;
		}
		if (bad) {
			fprintf(stderr, "gba-hss-sim: bad value for %s: %s\n", bad, optarg);
			return -1;
		}
	}
	if (optind != argc || !o->db_path) {
		usage(stderr);
		return -1;
	}
	if (o->kek && !o->pin_file) {
		fprintf(stderr, "gba-hss-sim: --kek needs --pin-file\n");
		return -1;
	}
	if (o->transport == GBA_DIA_TLS && (!o->tls_cert || !o->tls_key || !o->tls_ca)) {
		fprintf(stderr, "gba-hss-sim: --zh.transport tls (the default) needs --zh.tls_cert, "
				"--zh.tls_key and --zh.tls_ca\n");
		return -1;
	}
	if (!o->realm) {
		const char *dot = strchr(o->identity, '.');
		if (!dot || !dot[1]) {
			fprintf(stderr, "gba-hss-sim: give --realm (the identity has no domain)\n");
			return -1;
		}
		o->realm = dot + 1;
	}
	return 0;
}

/* One write per line, so that lines of different threads never mix. */
static void log_line(void *arg, enum gba_dia_log_level level, const char *line)
{
	char out[1200];
	int n;

	(void)arg;
	n = snprintf(out, sizeof(out), "gba-hss-sim: %s: %s\n", gba_dia_log_level_name(level),
		     line);
	if (n > 0)
		(void)!write(2, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

/* The AuC behind the MAR: a fresh vector, or a resynchronisation first. */
static gba_err serve_mar(void *arg, const struct gba_zh_mar *mar, struct gba_av *av,
			 char *guss, size_t guss_size, size_t *guss_len)
{
	struct hss *h = arg;
	uint8_t rand[16];
	gba_err err = GBA_OK;

	if (h->fixed_rand)
		memcpy(rand, h->fixed_rand, sizeof(rand));
	else
		err = gba_random_rand(rand);
	if (err)
		return err;
	if (mar->auts)
		return gba_subdb_resync(h->db, mar->impi, h->ind, mar->resync_rand, mar->auts,
					rand, av, guss, guss_size, guss_len);
	return gba_subdb_next_av(h->db, mar->impi, h->ind, rand, av, guss, guss_size, guss_len);
}

/* Block the stop signals in every thread (freeDiameter's inherit the
 * mask), and wait for one here. */
static void block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int run(const struct hss_options *o, struct hss *h, const sigset_t *stop)
{
	struct gba_dia_config cfg = {
		.identity = o->identity,
		.realm = o->realm,
		.address = o->address,
		.port = (uint16_t)o->port,
		.apps = GBA_DIA_ZH | (o->cx ? GBA_DIA_CX : 0),
		.accept_unknown_peers = 1,
		.transport = o->transport,
		.tls_cert = o->tls_cert,
		.tls_key = o->tls_key,
		.tls_ca = o->tls_ca,
		.threads = o->threads,
		.log = log_line,
		.log_level = o->log_level,
	};
	struct gba_dia *dia = NULL;
	gba_err err = gba_dia_open(&dia, &cfg);
	int sig = 0;

	if (!err)
		err = gba_zh_server_register(dia, serve_mar, h);
	if (!err)
		err = gba_dia_start(dia);
	if (err) {
		fprintf(stderr, "gba-hss-sim: cannot start Diameter on %s:%u: %s\n", o->address,
			o->port, gba_strerror(err));
		gba_dia_close(dia);
		return 1;
	}
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "%s (realm %s) listening on %s:%u (%s), IND %u%s",
		    o->identity, o->realm, o->address, o->port,
		    gba_dia_transport_name(o->transport), o->ind, o->cx ? ", Zh and Cx" : "");
	sigwait(stop, &sig);
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "signal %d: stopping", sig);
	gba_dia_close(dia);
	return 0;
}

/* The subscriber database, with its KEK when --kek names one. */
static int open_db(const struct hss_options *o, struct hss *h)
{
	char why[2 * GBA_KEK_URI_MAX + 256];
	gba_err err = GBA_OK;

	if (!o->create_db && access(o->db_path, F_OK) != 0) {
		fprintf(stderr, "gba-hss-sim: subscriber database %s: %s (gba-subscriber add or "
				"import makes it; --create-db starts with an empty one)\n",
			o->db_path, strerror(errno));
		return -1;
	}
	if (o->kek)
		err = gba_kek_open(&h->kek, o->kek, o->pin_file, o->kek_module, why, sizeof(why));
	if (err) {
		fprintf(stderr, "gba-hss-sim: --kek: %s\n", *why ? why : gba_strerror(err));
		return -1;
	}
	err = gba_subdb_open_kek(&h->db, o->db_path, h->kek);
	if (!err && o->sqn_block > 1)
		err = gba_subdb_set_sqn_block(h->db, o->sqn_block);
	if (err) {
		gba_subdb_kek_explain(o->db_path, h->kek, err, why, sizeof(why));
		fprintf(stderr, "gba-hss-sim: subscriber database %s\n", why);
		gba_kek_close(h->kek);
		h->kek = NULL;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hss_options o = {
		.address = "127.0.0.1",
		.port = 3868,
		.identity = "hss.gba.test",
		.sqn_block = 1,
		.threads = 4,
		.log_level = GBA_DIA_LOG_INFO,
	};
	struct hss h = { 0 };
	sigset_t stop;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	block_stop_signals(&stop);
	if (open_db(&o, &h))
		return 1;
	if (o.check) {
		printf("gba-hss-sim: options and database %s are good\n", o.db_path);
		gba_subdb_close(h.db);
		gba_kek_close(h.kek);
		return 0;
	}
	h.ind = o.ind;
	h.fixed_rand = o.fixed_rand ? o.rand : NULL;
	rc = run(&o, &h, &stop);
	gba_subdb_close(h.db);
	gba_kek_close(h.kek);
	return rc;
}
