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
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
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
#include "gba_conf.h"
#include "gba_log_dia.h"
#include "gba_notify.h"
#include "hss_metrics.h"


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
	enum gba_log_level log_level;
	enum gba_dia_transport transport;
	const char *tls_cert, *tls_key, *tls_ca;
	int create_db;   /* --create-db: a missing --db becomes an empty database */
	int check;       /* --check: check the options and the database, exit */
	int cx;                        /* --cx: answer Cx MARs too */
	int fixed_rand;                /* --fixed-rand: every vector gets rand */
	uint8_t rand[16];
	char metrics_address[64];      /* --metrics; port 0: no metrics listener */
	unsigned metrics_port;
};

struct hss {
	struct gba_subdb *db;
	struct gba_kek *kek;   /* --kek: the database's K and OPc are wrapped */
	unsigned ind;
	const uint8_t *fixed_rand;   /* NULL: a fresh random RAND per vector */
	struct hss_metrics metrics;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gba-hss-sim (--db PATH | -c FILE) [options]\n"
		"A Zh HSS (3GPP TS 29.109) on Diameter over TCP: answers MAR with vectors\n"
		"from the SQLite subscriber database (gba-subscriber manages it).\n"
		"\n"
		"  -c, --config FILE     settings from FILE: 'name = value' lines, name an\n"
		"                        option below that takes a value (under [zh]:\n"
		"                        transport, tls_cert, ...); the command line wins\n"
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
		"  --metrics ADDR:PORT   serve GET /metrics (Prometheus) there (off)\n"
		"  --check               check the options and open the database, then exit\n"
		"  -h, --help, -V, --version\n"
		"\n"
		"Any BSF may connect whose certificate (from --zh.tls_ca) names the Diameter\n"
		"identity it claims; with --zh.transport tcp any peer at all (loopback or a\n"
		"protected network only).  SIGTERM or SIGINT stops it cleanly.\n"
		"Exit codes: 0 clean stop, or after --help, --version, --check; 1 the\n"
		"database or the Diameter node failed; 2 bad usage or configuration.\n");
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

/*
 * ADDR:PORT, [v6]:PORT or *:PORT (lib/conf's parser, as gba-bsf's and
 * gba-naf's listen keys) into address (64 octets, numeric, as the Diameter
 * node and the metrics listener take it) and port.
 */
static int parse_listen(const char *s, char address[64], unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const void *ip;

	if (gba_conf_listen_addr(s, &ss, &len, NULL, 0))
		return -1;
	if (ss.ss_family == AF_INET6) {
		ip = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
		*port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		ip = &((const struct sockaddr_in *)&ss)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	}
	return inet_ntop(ss.ss_family, ip, address, 64) ? 0 : -1;
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

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
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
	{ "create-db", no_argument, NULL, 'N' },
	{ "check", no_argument, NULL, 'x' },
	{ "fixed-rand", required_argument, NULL, 'R' },
	{ "metrics", required_argument, NULL, 'M' },
	{ "cx", no_argument, NULL, 'X' },
	{ "sqn-block", required_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *name_of(int c)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* One setting, from the command line or the -c file: 0, or -1 for a bad value. */
static int set_option(void *arg, int c, const char *v)
{
	struct hss_options *o = arg;

	switch (c) {
	case 'd': o->db_path = v; return 0;
	case 'k': o->kek = v; return 0;
	case 'p': o->pin_file = v; return 0;
	case 'm': o->kek_module = v; return 0;
	case 'l': return parse_listen(v, o->address, &o->port);
	case 'M': return parse_listen(v, o->metrics_address, &o->metrics_port);
	case 'i': o->identity = v; return 0;
	case 'r': o->realm = v; return 0;
	case 'n': return parse_uint(v, GBA_IND_SLOTS_MAX - 1, &o->ind);
	case 't': return parse_uint(v, 64, &o->threads) || !o->threads ? -1 : 0;
	case 'L': return gba_log_level_parse(v, &o->log_level);
	case 'T': return gba_dia_transport_parse(v, &o->transport);
	case 'C': o->tls_cert = v; return 0;
	case 'K': o->tls_key = v; return 0;
	case 'A': o->tls_ca = v; return 0;
	case 'R': return parse_rand(v, o);
	case 'B': return parse_uint(v, 1024, &o->sqn_block) || !o->sqn_block ? -1 : 0;
	default: return -1;
	}
}

static int file_set(void *obj, const struct gba_conf_key *k, const char *value, char *why,
		    size_t why_size);

/*
 * The -c file's keys (lib/conf): one per long option that takes a value,
 * named as the option; the zh.* ones also as [zh] transport etc.
 */
#define FILE_KEY(s, k) { .section = s, .key = k, .type = GBA_CONF_FUNC, .set = file_set }
static const struct gba_conf_key file_keys[] = {
	FILE_KEY("", "db"), FILE_KEY("", "kek"), FILE_KEY("", "pin-file"),
	FILE_KEY("", "kek-module"), FILE_KEY("", "listen"), FILE_KEY("", "identity"),
	FILE_KEY("", "realm"), FILE_KEY("", "ind"), FILE_KEY("", "threads"),
	FILE_KEY("", "log-level"), FILE_KEY("", "fixed-rand"), FILE_KEY("", "metrics"),
	FILE_KEY("", "sqn-block"),
	FILE_KEY("", "zh.transport"), FILE_KEY("", "zh.tls_cert"), FILE_KEY("", "zh.tls_key"),
	FILE_KEY("", "zh.tls_ca"),
	FILE_KEY("zh", "transport"), FILE_KEY("zh", "tls_cert"), FILE_KEY("zh", "tls_key"),
	FILE_KEY("zh", "tls_ca"),
};
#define N_FILE_KEYS (sizeof(file_keys) / sizeof(file_keys[0]))

/*
 * A key of the -c file does what its option does, with a copy of the value
 * that lives as long as optarg does (the reader frees the file's text).
 */
static int file_set(void *obj, const struct gba_conf_key *k, const char *value, char *why,
		    size_t why_size)
{
	static char *kept[N_FILE_KEYS];   /* the reader takes each key once */
	static size_t n_kept;
	const struct option *o = longopts;
	char name[64];

	snprintf(name, sizeof(name), "%s%s%s", k->section, *k->section ? "." : "", k->key);
	while (o->name && strcmp(o->name, name))
		o++;
	if (!o->name || n_kept == N_FILE_KEYS || !(kept[n_kept] = strdup(value))) {
		snprintf(why, why_size, "cannot be set");
		return -1;
	}
	if (set_option(obj, o->val, kept[n_kept++])) {
		snprintf(why, why_size, "bad value (see --help)");
		return -1;
	}
	return 0;
}

/* -c FILE first, whatever its place: the command line overrides the file. */
static int read_config(int argc, char **argv, struct hss_options *o)
{
	static const struct gba_conf_spec spec = { .keys = file_keys, .n_keys = N_FILE_KEYS };
	char err[GBA_CONF_ERR_MAX];
	const char *path = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1)
		if (c == 'c')
			path = optarg;
	opterr = 1;
	optind = 0;
	if (path && gba_conf_load(&spec, o, path, NULL, err, sizeof(err))) {
		fprintf(stderr, "gba-hss-sim: %s\n", err);
		return -1;
	}
	return 0;
}

/* 0: run; 1: exit 0 (help/version); -1: exit 2. */
static int parse_args(int argc, char **argv, struct hss_options *o)
{
	int c;

	if (read_config(argc, argv, o))
		return -1;
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': break;
		case 'N': o->create_db = 1; break;
		case 'x': o->check = 1; break;
		case 'X': o->cx = 1; break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("gba-hss-sim"); return 1;
		case '?':
		case ':': gba_cli_unknown("gba-hss-sim", longopts, "c:hV"); return -1;
		default:
			if (set_option(o, c, optarg)) {
				fprintf(stderr, "gba-hss-sim: bad value for --%s: %s\n",
					name_of(c), optarg);
				return -1;
			}
		}
	}
	if (optind != argc || !o->db_path) {
		if (!o->db_path)
			fprintf(stderr, "gba-hss-sim: give --db (or db = PATH in the -c file)\n");
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

/* The log (lib/daemon/gba_log.h), set up in main(); the Diameter node's
 * lines, freeDiameter's among them, go into it. */
static struct gba_log hss_log;
static struct gba_log_dia dia_log = { &hss_log, NULL };

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
	if (!err && mar->auts)
		err = gba_subdb_resync(h->db, mar->impi, h->ind, mar->resync_rand, mar->auts, rand,
				       av, guss, guss_size, guss_len);
	else if (!err)
		err = gba_subdb_next_av(h->db, mar->impi, h->ind, rand, av, guss, guss_size,
					guss_len);
	hss_metrics_mar(&h->metrics, mar->auts != NULL, err);
	return err;
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
		.log = gba_log_dia_line,
		.log_arg = &dia_log,
		.log_level = gba_log_dia_level(o->log_level),
	};
	struct gba_dia *dia = NULL;
	struct hss_metrics_http *metrics = NULL;
	gba_err err = gba_dia_open(&dia, &cfg);
	char why[256];
	int sig = 0;

	if (!err)
		err = gba_zh_server_register(dia, serve_mar, h);
	if (!err)
		err = gba_dia_start(dia);
	if (err) {
		gba_log_msg(&hss_log, GBA_LOG_ERROR, "cannot start Diameter on %s:%u: %s",
			    o->address, o->port, gba_strerror(err));
		gba_dia_close(dia);
		return 1;
	}
	if (o->metrics_port && hss_metrics_start(&metrics, o->metrics_address, o->metrics_port,
						 &h->metrics, dia, &hss_log, why, sizeof(why))) {
		gba_log_msg(&hss_log, GBA_LOG_ERROR, "%s", why);
		gba_dia_close(dia);
		return 1;
	}
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "%s (realm %s) listening on %s:%u (%s), IND %u%s",
		    o->identity, o->realm, o->address, o->port,
		    gba_dia_transport_name(o->transport), o->ind, o->cx ? ", Zh and Cx" : "");
	gba_notify_ready("serving");
	sigwait(stop, &sig);
	gba_notify_stopping("stopping");
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "signal %d: stopping", sig);
	hss_metrics_stop(metrics);
	gba_dia_close(dia);
	return 0;
}

/* The subscriber database, with its KEK when --kek names one. */
static int open_db(const struct hss_options *o, struct hss *h)
{
	char why[2 * GBA_KEK_URI_MAX + 256];
	gba_err err = GBA_OK;

	if (!o->create_db && access(o->db_path, F_OK) != 0) {
		gba_log_msg(&hss_log, GBA_LOG_ERROR, "subscriber database %s: %s (gba-subscriber "
			    "add or import makes it; --create-db starts with an empty one)",
			    o->db_path, strerror(errno));
		return -1;
	}
	if (o->kek)
		err = gba_kek_open(&h->kek, o->kek, o->pin_file, o->kek_module, why, sizeof(why));
	if (err) {
		gba_log_msg(&hss_log, GBA_LOG_ERROR, "--kek: %s", *why ? why : gba_strerror(err));
		return -1;
	}
	err = gba_subdb_open_kek(&h->db, o->db_path, h->kek);
	if (!err && o->sqn_block > 1)
		err = gba_subdb_set_sqn_block(h->db, o->sqn_block);
	if (err) {
		gba_subdb_kek_explain(o->db_path, h->kek, err, why, sizeof(why));
		gba_log_msg(&hss_log, GBA_LOG_ERROR, "subscriber database %s", why);
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
		.log_level = GBA_LOG_INFO,
	};
	struct hss h = { 0 };
	sigset_t stop;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	gba_log_init(&hss_log, "gba-hss-sim", o.log_level, GBA_LOG_IMPI_PLAIN);
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
	hss_metrics_init(&h.metrics);
	h.fixed_rand = o.fixed_rand ? o.rand : NULL;
	rc = run(&o, &h, &stop);
	gba_subdb_close(h.db);
	gba_kek_close(h.kek);
	return rc;
}
