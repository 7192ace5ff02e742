/*
 * main.c - gba-bsf: the command line, start-up in dependency order, and a
 * clean stop on SIGTERM/SIGINT (stop accepting, finish what is in
 * progress, close the stores, exit 0).
 */
#define _POSIX_C_SOURCE 200809L /* sigwaitinfo, pthread_sigmask */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gba/session_store.h>
#include <gba/subscriber_db.h>
#include <gba/version.h>

#include "admin.h"
#include "gba_cli.h"
#include "av_source.h"
#include "challenge.h"
#include "config.h"
#include "housekeeper.h"
#include "gba_log.h"
#include "gba_notify.h"
#include "metrics.h"
#include "ub.h"
#include "ub_logic.h"
#if defined(BSF_HAVE_ZH) || defined(BSF_HAVE_ZN)
#include "gba_log_dia.h"
#endif
#ifdef BSF_HAVE_ZH
#include "zh.h"
#endif
#ifdef BSF_HAVE_ZN
#include "zn.h"
#include "zn_h2.h"
#include "zn_http.h"
#endif

#ifndef BSF_VERSION
#define BSF_VERSION GBA_VERSION
#endif

#define EXIT_USAGE 2
#define CHALLENGE_SHARDS 64

/* Everything the daemon runs; torn down in reverse order. */
struct bsf {
	struct bsf_config cfg;
	struct gba_log log;
	struct gba_log_dia zh_log, dia_log;   /* the Diameter node's lines into log */
	struct bsf_metrics metrics;
	struct av_source *av;
	struct gba_kek *kek;        /* keys.kek, when the database's keys are wrapped */
	/* Cx: the BSF's database, when embedded.db exists, for the
	 * Public-Identities gba-subscriber map put there. */
	struct gba_subdb *cx_db;
	struct gba_session_store *store;
	struct challenge_table *pending;
	struct ub_server ub;
	int ub_ready;
	struct ub_http *http;
	struct admin_http *admin;
	struct housekeeper *hk;
	/* With Zn on: the process's Diameter node (Zn, and Zh when the
	 * vectors come from an HSS), opened and closed here. */
	struct gba_dia *dia;
	struct zn_server *zn;
	struct zn_http *zn_http;    /* Zn over HTTPS/JSON, when zn.http_listen is set */
	struct zn_h2 *zn_h2;        /* the same over HTTP/2, when zn.http2_listen is set */
};

/* ---- Command line ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gba-bsf [OPTION]...\n"
		"The GBA bootstrapping server function (3GPP TS 33.220): Ub over HTTP(S),\n"
		"vectors from the embedded subscriber database or an HSS over Zh.\n"
		"\n"
		"  -c, --config FILE        read the configuration from FILE\n"
		"      --listen ADDR        Ub address, host:port        (= ub.listen)\n"
		"      --admin-listen ADDR  admin address, or off        (= admin.listen)\n"
		"      --domain NAME        B-TID domain                 (= bsf.domain)\n"
		"      --realm NAME         Digest realm                 (= bsf.realm)\n"
		"      --db PATH            subscriber database          (= embedded.db)\n"
		"      --create-db          an empty one if it is missing (= embedded.create_db)\n"
		"      --store URI          session store                (= store.uri)\n"
		"      --source KIND        embedded, zh, gsup or cx     (= av.source)\n"
		"      --set SECTION.KEY=VALUE  set any key below\n"
		"      --check              check the configuration, print it, exit\n"
		"  -h, --help               this text\n"
		"  -V, --version            the version\n"
		"\n"
		"Options override the file whatever their order.  The file has\n"
		"'key = value' lines under [section] headers, '#' starts a comment line.\n"
		"Keys (default in brackets):\n");
	config_print_keys(out);
	fprintf(out,
		"\nSignals: SIGTERM or SIGINT stop the server cleanly (exit 0).\n"
		"Exit status: 0 clean stop, 1 start-up or runtime failure, 2 bad usage or\n"
		"configuration.  See docs/bsf.md.\n");
}

enum opt_id {
	OPT_LISTEN = 256, OPT_ADMIN, OPT_DOMAIN, OPT_REALM, OPT_DB, OPT_STORE, OPT_SOURCE,
	OPT_SET, OPT_CHECK, OPT_CREATE_DB,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "admin-listen", required_argument, NULL, OPT_ADMIN },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "realm", required_argument, NULL, OPT_REALM },
	{ "db", required_argument, NULL, OPT_DB },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "set", required_argument, NULL, OPT_SET },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "create-db", no_argument, NULL, OPT_CREATE_DB },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The key a shorthand flag sets. */
static const char *flag_key(int opt)
{
	switch (opt) {
	case OPT_LISTEN: return "ub.listen";
	case OPT_ADMIN: return "admin.listen";
	case OPT_DOMAIN: return "bsf.domain";
	case OPT_REALM: return "bsf.realm";
	case OPT_DB: return "embedded.db";
	case OPT_STORE: return "store.uri";
	case OPT_SOURCE: return "av.source";
	default: return NULL;
	}
}

static int apply_override(struct bsf_config *cfg, int opt, const char *arg)
{
	char err[CFG_ERR_MAX], buf[CFG_PATH_MAX + 64], name[32] = "--set";
	const char *key = flag_key(opt);

	if (key) {
		snprintf(buf, sizeof(buf), "%s=%s", key, arg);
		arg = buf;
		for (const struct option *o = long_opts; o->name; o++)
			if (o->val == opt)
				snprintf(name, sizeof(name), "--%s", o->name);
	}
	if (config_set_opt(cfg, name, arg, err, sizeof(err))) {
		fprintf(stderr, "gba-bsf: %s\n", err);
		return -1;
	}
	return 0;
}

/* systemd's StateDirectory= arrives as $STATE_DIRECTORY (first of a list). */
static void state_dir_from_env(struct bsf_config *cfg)
{
	const char *env = getenv("STATE_DIRECTORY");
	size_t n;

	if (!env || !*env)
		return;
	n = strcspn(env, ":");
	if (n < sizeof(cfg->state_dir)) {
		memcpy(cfg->state_dir, env, n);
		cfg->state_dir[n] = '\0';
	}
}

static int load_file(struct bsf_config *cfg, const char *path)
{
	struct config_seen seen = { { 0 } };
	char err[CFG_ERR_MAX];
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		fprintf(stderr, "gba-bsf: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = config_parse_file(cfg, &seen, f, path, err, sizeof(err));
	fclose(f);
	if (rc)
		fprintf(stderr, "gba-bsf: %s\n", err);
	return rc;
}

/*
 * Defaults, then the file, then the options in their order.  Returns 0 to
 * run, 1 to exit 0 (help, version, check), -1 for a usage error.
 */
static int configure(struct bsf_config *cfg, int argc, char **argv)
{
	const char *config_path = NULL;
	char err[CFG_ERR_MAX];
	int opt, check = 0;

	config_defaults(cfg);
	state_dir_from_env(cfg);
	/* Pass 1: the file, help and version. */
	while ((opt = getopt_long(argc, argv, "c:hV", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("gba-bsf"); return 1;
		case OPT_CHECK: check = 1; break;
		case '?': gba_cli_unknown("gba-bsf", long_opts, "c:hV"); return -1;
		default: break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gba-bsf: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (config_path && load_file(cfg, config_path))
		return -1;
	/* Pass 2: the overrides, after the file whatever their place. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:hV", long_opts, NULL)) != -1)
		if ((opt >= OPT_LISTEN && opt <= OPT_SET &&
		     apply_override(cfg, opt, optarg)) ||
		    (opt == OPT_CREATE_DB && apply_override(cfg, OPT_SET, "embedded.create_db=yes")))
			return -1;
	if (config_finish(cfg, err, sizeof(err))) {
		fprintf(stderr, "gba-bsf: %s\n", err);
		return -1;
	}
	if (check) {
		config_print(cfg, stdout);
		return 1;
	}
	return 0;
}

/* ---- Start and stop ------------------------------------------------------------ */

#ifdef BSF_HAVE_ZH
/* Cx's Public-Identity of impi: the one gba-subscriber mapped, if any. */
static int cx_public_identity(void *arg, const char *impi, char *out, size_t size)
{
	return gba_subdb_public_identity_of(arg, impi, out, size) ? -1 : 0;
}

/* Cx: Server-Name, vectors per MAR, spares, and the BSF's database for
 * Public-Identities when there is one (none: sip:IMPI for everyone). */
static void cx_config(struct bsf *b, struct zh_config *zc)
{
	zc->cx = 1;
	zc->server_name = b->cfg.cx_server_name;
	zc->vectors = b->cfg.cx_vectors;
	zc->spare_ttl = b->cfg.cx_spare_ttl;
	zc->spare_users = b->cfg.av_spare_users;
	if (access(b->cfg.embedded_db, F_OK) == 0 &&
	    gba_subdb_open_kek(&b->cx_db, b->cfg.embedded_db, b->kek) != GBA_OK) {
		gba_log_msg(&b->log, GBA_LOG_WARN, "Cx: database %s does not open: Public-Identity "
			"is sip:IMPI for every user", b->cfg.embedded_db);
		b->cx_db = NULL;
	}
	if (b->cx_db) {
		zc->public_identity = cx_public_identity;
		zc->public_identity_arg = b->cx_db;
	}
}

static int open_zh(struct bsf *b)
{
	struct zh_config zc = { 0 };
	gba_err err;

	zc.origin_host = b->cfg.zh_origin_host;
	zc.origin_realm = b->cfg.zh_origin_realm;
	zc.hss_host = b->cfg.zh_hss_host;
	zc.hss_port = b->cfg.zh_hss_port;
	zc.hss_realm = b->cfg.zh_hss_realm;
	zc.hss_identity = *b->cfg.zh_hss_identity ? b->cfg.zh_hss_identity : NULL;
	zc.timeout_ms = b->cfg.zh_timeout_ms;
	zc.transport = (enum gba_dia_transport)b->cfg.zh_transport;
	zc.tls_cert = b->cfg.zh_tls_cert;
	zc.tls_key = b->cfg.zh_tls_key;
	zc.tls_ca = b->cfg.zh_tls_ca;
	zc.log = gba_log_dia_line;
	zc.log_arg = &b->zh_log;
	zc.log_level = gba_log_dia_level(b->cfg.log_level);
	zc.dia = b->dia;   /* NULL unless Zn is on: then one node carries both */
	if (b->cfg.av_source == AV_SOURCE_CX)
		cx_config(b, &zc);
	err = av_source_zh_open(&b->av, &zc);
	if (err)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "%s toward %s:%u: %s",
			zc.cx ? "Cx" : "Zh", b->cfg.zh_hss_host, b->cfg.zh_hss_port,
			gba_strerror(err));
	return err ? -1 : 0;
}
#else
static int open_zh(struct bsf *b)
{
	gba_log_msg(&b->log, GBA_LOG_ERROR, "this gba-bsf was built without Zh (freeDiameter)");
	return -1;
}
#endif

/* keys.kek: the token that wraps the embedded database's K and OPc. */
static int open_kek(struct bsf *b)
{
	char why[GBA_KEK_URI_MAX + 256];
	gba_err err;

	if (!*b->cfg.keys_kek)
		return 0;
	err = gba_kek_open(&b->kek, b->cfg.keys_kek, b->cfg.keys_pin_file,
			   *b->cfg.keys_module ? b->cfg.keys_module : NULL, why, sizeof(why));
	if (err)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "keys.kek: %s", *why ? why : gba_strerror(err));
	return err ? -1 : 0;
}

#ifdef BSF_HAVE_GSUP
/* The GSUP link's lines go to the BSF's log. */
static void gsup_log(void *arg, int level, const char *line)
{
	gba_log_msg(arg, (enum gba_log_level)level, "%s", line);
}

static int open_gsup(struct bsf *b)
{
	char host[CFG_ADDR_MAX + 1];
	struct av_gsup_config gc = {
		.host = host,
		.name = b->cfg.gsup_name,
		.timeout_ms = b->cfg.gsup_timeout_ms,
		.spare_ttl = b->cfg.gsup_spare_ttl,
		.spare_users = b->cfg.av_spare_users,
		.db_path = b->cfg.embedded_db,
		.kek = b->kek,
		.log = gsup_log,
		.log_arg = &b->log,
		.metrics = &b->metrics,
	};
	gba_err err;

	if (config_gsup_remote(b->cfg.gsup_remote, host, sizeof(host), &gc.port))
		return -1;   /* config_finish() checked it */
	err = av_source_gsup_open(&b->av, &gc);
	if (err)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "GSUP toward %s (database %s): %s",
			b->cfg.gsup_remote, b->cfg.embedded_db, gba_strerror(err));
	else
		gba_log_msg(&b->log, GBA_LOG_INFO, "vectors from the HLR at %s over GSUP, as %s",
			b->cfg.gsup_remote, b->cfg.gsup_name);
	return err ? -1 : 0;
}
#else
static int open_gsup(struct bsf *b)
{
	gba_log_msg(&b->log, GBA_LOG_ERROR, "this gba-bsf was built without GSUP "
					"(libosmo-gsup-client)");
	return -1;
}
#endif

/* The IND lease's holder: embedded.lease_id, or <hostname>/<ub.listen>. */
static void lease_holder(const struct bsf *b, char *out, size_t size)
{
	char host[64] = "";

	if (b->cfg.embedded_lease_id[0]) {
		snprintf(out, size, "%s", b->cfg.embedded_lease_id);
		return;
	}
	if (gethostname(host, sizeof(host) - 1))
		strcpy(host, "localhost");
	/* A long name is cut: it only has to tell this BSF from its peers. */
	if (snprintf(out, size, "%s/%.60s", host, b->cfg.ub_listen) < 0)
		out[0] = '\0';
}

/* Lease embedded.ind for this BSF's lifetime (embedded.lease_ttl 0: not). */
static int lease_slot(struct bsf *b)
{
	char holder[GBA_SUBDB_HOLDER_MAX + 1];
	struct av_lease lease = { holder, b->cfg.embedded_lease_ttl };
	struct gba_subdb_lease other = { 0 };
	gba_err err;

	lease_holder(b, holder, sizeof(holder));
	err = av_source_embedded_lease(b->av, &lease, &other);
	if (err == GBA_ERR_EXISTS)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "IND slot %u of %s is leased by %s for %lld s "
			"more: another BSF issues from it; give this one its own embedded.ind "
			"(or wait for a crashed one's lease to expire)", b->cfg.embedded_ind,
			b->cfg.embedded_db, other.holder,
			(long long)(other.expires - (int64_t)time(NULL)));
	else if (err)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "IND slot %u of %s: cannot lease it: %s",
			b->cfg.embedded_ind, b->cfg.embedded_db, gba_strerror(err));
	else if (lease.ttl)
		gba_log_msg(&b->log, GBA_LOG_INFO, "IND slot %u leased as %s, %u s, renewed",
			b->cfg.embedded_ind, holder, lease.ttl);
	return err ? -1 : 0;
}

static int open_av_source(struct bsf *b)
{
	char why[2 * GBA_KEK_URI_MAX + 256];
	gba_err err;

	if (b->cfg.av_source == AV_SOURCE_EMBEDDED) {
		if (!b->cfg.embedded_create_db && access(b->cfg.embedded_db, F_OK) != 0) {
			gba_log_msg(&b->log, GBA_LOG_ERROR, "subscriber database %s: %s "
				"(gba-subscriber add or import makes it; --create-db or "
				"embedded.create_db = yes starts with an empty one)",
				b->cfg.embedded_db, strerror(errno));
			return -1;
		}
		if (open_kek(b))
			return -1;
		err = av_source_embedded_open(&b->av, b->cfg.embedded_db, b->cfg.embedded_ind,
					      b->cfg.embedded_sqn_block, b->kek);
		if (!err && b->cfg.embedded_group_commit)
			err = av_source_embedded_group_commit(b->av, b->cfg.embedded_group_commit);
		if (err == GBA_ERR_UNSUPPORTED && !b->kek)
			gba_log_msg(&b->log, GBA_LOG_ERROR, "subscriber database %s is on a "
				"network file system (NFS/SMB): refused, SQLite's locks there "
				"cannot keep BSFs from issuing one SQN twice (docs/deployment.md)",
				b->cfg.embedded_db);
		else if (err) {
			gba_subdb_kek_explain(b->cfg.embedded_db, b->kek, err, why, sizeof(why));
			gba_log_msg(&b->log, GBA_LOG_ERROR, "subscriber database %s", why);
		}
		return err ? -1 : lease_slot(b);
	}
	if (b->cfg.av_source == AV_SOURCE_GSUP)
		return open_kek(b) ? -1 : open_gsup(b);
	if (b->cfg.av_source == AV_SOURCE_CX && open_kek(b))
		return -1;
	return open_zh(b);
}

#ifdef BSF_HAVE_ZN
/* The node Zn listens on; Zh's source, when there is one, shares it. */
static int open_dia(struct bsf *b)
{
	struct gba_dia_config dc = { 0 };
	gba_err err;

	if (!b->cfg.zn_enabled)
		return 0;
	dc.identity = b->cfg.zn_identity;
	dc.realm = b->cfg.zn_realm;
	dc.address = b->cfg.zn_listen;
	dc.port = (uint16_t)b->cfg.zn_port;
	dc.apps = GBA_DIA_ZN | (b->cfg.av_source == AV_SOURCE_ZH ? GBA_DIA_ZH : 0) |
		  (b->cfg.av_source == AV_SOURCE_CX ? GBA_DIA_CX : 0);
	dc.accept_unknown_peers = b->cfg.zn_accept_unknown_peers;
	dc.accept_peers = b->cfg.zn_peers;
	dc.transport = (enum gba_dia_transport)b->cfg.zn_transport;
	dc.tls_cert = b->cfg.zn_tls_cert;
	dc.tls_key = b->cfg.zn_tls_key;
	dc.tls_ca = b->cfg.zn_tls_ca;
	dc.threads = config_threads(b->cfg.zn_threads);
	dc.log = gba_log_dia_line;
	dc.log_arg = &b->dia_log;
	dc.log_level = gba_log_dia_level(b->cfg.log_level);
	err = gba_dia_open(&b->dia, &dc);
	if (err)
		gba_log_msg(&b->log, GBA_LOG_ERROR, "Diameter node %s: %s%s", b->cfg.zn_identity,
			gba_strerror(err),
			err == GBA_ERR_INVALID_ARG ? " (zn.identity, zn.realm, zn.listen and "
						     "zn.peers take names like host.example.org; "
						     "zn.peers also *.example.org)" : "");
	return err ? -1 : 0;
}

/* The second transport, in front of the same handler. */
static int start_zn_http(struct bsf *b)
{
	struct zn_http_config hc = {
		.listen = b->cfg.zn_http_listen,
		.tls_cert = b->cfg.zn_http_tls_cert,
		.tls_key = b->cfg.zn_http_tls_key,
		.tls_ca = b->cfg.zn_http_tls_ca,
	};
	char err[CFG_ERR_MAX];

	if (*b->cfg.zn_http_listen) {
		if (zn_http_start(&b->zn_http, &hc, b->zn, &b->log, err, sizeof(err))) {
			gba_log_msg(&b->log, GBA_LOG_ERROR, "%s", err);
			return -1;
		}
		gba_log_msg(&b->log, GBA_LOG_INFO, "Zn as Nbsp_GBA (HTTP/1.1) on %s",
			b->cfg.zn_http_listen);
	}
	if (*b->cfg.zn_http2_listen) {
		hc.listen = b->cfg.zn_http2_listen;
		if (zn_h2_start(&b->zn_h2, &hc, b->zn, &b->log, err, sizeof(err))) {
			gba_log_msg(&b->log, GBA_LOG_ERROR, "%s", err);
			return -1;
		}
		gba_log_msg(&b->log, GBA_LOG_INFO, "Zn as Nbsp_GBA (HTTP/2) on %s",
			b->cfg.zn_http2_listen);
	}
	return 0;
}

/* Register the BIR handler and start the node (listen, connect to the HSS). */
static int start_zn(struct bsf *b)
{
	struct zn_server_config zc = {
		.nafs = b->cfg.zn_nafs,
		.naf_groups = b->cfg.zn_naf_groups,
		.policy = (enum zn_policy_kind)b->cfg.zn_policy,
	};
	char err[CFG_ERR_MAX];
	gba_err e;

	if (!b->dia)
		return 0;
	if (zn_server_open(&b->zn, b->dia, &zc, b->store, &b->metrics, &b->log, err,
			   sizeof(err))) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "%s", err);
		return -1;
	}
	e = gba_dia_start(b->dia);
	if (e) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "Zn on %s:%u: %s", b->cfg.zn_listen,
			    b->cfg.zn_port, gba_strerror(e));
		return -1;
	}
	return start_zn_http(b);
}

static void close_dia(struct bsf *b)
{
	/* The front ends first: their threads call the handler, which uses the store. */
	zn_http_stop(b->zn_http);
	zn_h2_stop(b->zn_h2);
	b->zn_http = NULL;
	if (b->dia)
		gba_dia_close(b->dia);
	b->dia = NULL;
	zn_server_free(b->zn);
	b->zn = NULL;
}
#else
static int open_dia(struct bsf *b)
{
	if (!b->cfg.zn_enabled)
		return 0;
	gba_log_msg(&b->log, GBA_LOG_ERROR, "this gba-bsf was built without Zn (freeDiameter)");
	return -1;
}

static int start_zn(struct bsf *b)
{
	(void)b;
	return 0;
}

static void close_dia(struct bsf *b)
{
	(void)b;
}
#endif

static int open_parts(struct bsf *b)
{
	const struct challenge_limits limits = {
		.per_impi = b->cfg.max_challenges_per_impi,
		.impi_rate = b->cfg.impi_challenge_rate,
		.impi_burst = b->cfg.impi_challenge_burst,
		.per_ip = b->cfg.max_challenges_per_ip,
	};
	gba_err err;

	if (open_dia(b) || open_av_source(b))
		return -1;
	err = gba_session_store_open(&b->store, b->cfg.store_uri);
	if (err) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "session store %s: %s", b->cfg.store_uri,
			gba_strerror(err));
		return -1;
	}
	if (start_zn(b))
		return -1;
	err = challenge_table_create(&b->pending, b->cfg.max_pending, CHALLENGE_SHARDS);
	if (!err)
		err = challenge_table_set_limits(b->pending, &limits);
	if (err) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "pending table: %s", gba_strerror(err));
		return -1;
	}
	err = ub_server_init(&b->ub, &b->cfg, b->av, b->store, b->pending, &b->metrics, &b->log);
	if (err) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "no random key for nonces: %s",
			    gba_strerror(err));
		return -1;
	}
	b->ub_ready = 1;
	return 0;
}

/* The process's Diameter node, for the admin port's metrics: Zn's (which
 * Zh shares), or else the one the Zh source opened. */
static struct gba_dia *diameter_node(struct bsf *b)
{
#ifdef BSF_HAVE_ZH
	if (!b->dia && b->cfg.av_source == AV_SOURCE_ZH)
		return av_source_zh_dia(b->av);
#endif
	return b->dia;
}

static int start_servers(struct bsf *b)
{
	struct admin_ctx actx = { b->store, b->pending, &b->metrics, &b->log, time(NULL),
				  diameter_node(b), av_source_spares(b->av) };
	char err[CFG_ERR_MAX];

	if (ub_http_start(&b->http, &b->ub, &b->cfg, &b->log, err, sizeof(err)) ||
	    (strcmp(b->cfg.admin_listen, "off") && *b->cfg.admin_listen &&
	     admin_http_start(&b->admin, &actx, b->cfg.admin_listen, err, sizeof(err)))) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "%s", err);
		return -1;
	}
	if (housekeeper_start(&b->hk, b->pending, b->store, b->cfg.purge_interval, &b->log)) {
		gba_log_msg(&b->log, GBA_LOG_ERROR, "cannot start the housekeeping thread");
		return -1;
	}
	return 0;
}

/* Reverse order of start; every step copes with a part never started. */
static void shut_down(struct bsf *b)
{
	if (b->http)
		ub_http_quiesce(b->http);
	ub_http_stop(b->http);
	admin_http_stop(b->admin);
	housekeeper_stop(b->hk);
	if (b->ub_ready)
		ub_server_wipe(&b->ub);
	challenge_table_destroy(b->pending);
	close_dia(b);
	if (b->store)
		gba_session_store_close(b->store);
	av_source_close(b->av);
	gba_subdb_close(b->cx_db);
	gba_kek_close(b->kek);
}

/* Block the stop signals in every thread; main waits for them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(struct bsf *b, const sigset_t *set)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);
		if (sig == SIGTERM || sig == SIGINT) {
			gba_log_msg(&b->log, GBA_LOG_INFO, "%s: stopping",
				sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP)
			gba_log_msg(&b->log, GBA_LOG_INFO, "SIGHUP ignored: restart to reload");
	}
}

/*
 * The stop is bounded: whatever part hangs (a worker stuck in a library,
 * a store that does not answer), the process is gone bsf.shutdown_timeout
 * after the signal, with exit status 1 and a line saying so.
 */
static void *watchdog(void *arg)
{
	struct bsf *b = arg;
	struct timespec left = { (time_t)b->cfg.shutdown_timeout, 0 };

	while (nanosleep(&left, &left) && errno == EINTR)
		;
	gba_log_msg(&b->log, GBA_LOG_ERROR,
		    "not stopped after bsf.shutdown_timeout (%u s): exiting",
		    b->cfg.shutdown_timeout);
	_exit(EXIT_FAILURE);
	return NULL;
}

static void start_watchdog(struct bsf *b)
{
	pthread_t t;

	if (pthread_create(&t, NULL, watchdog, b) == 0)
		pthread_detach(t);
	else
		gba_log_msg(&b->log, GBA_LOG_WARN, "no shutdown watchdog: the stop is not bounded");
}

static void log_started(struct bsf *b)
{
	gba_log_msg(&b->log, GBA_LOG_INFO,
		"gba-bsf %s: Ub on %s://%s (port %u), admin %s, vectors %s, store %s, "
		"domain %s, realm %s, Zn %s",
		BSF_VERSION, *b->cfg.tls_cert ? "https" : "http", b->cfg.ub_listen,
		ub_http_port(b->http), b->admin ? b->cfg.admin_listen : "off",
		b->av->ops->name, b->cfg.store_uri, b->cfg.domain, b->cfg.realm,
		b->cfg.zn_enabled ? "on" : "off");
	if (b->cfg.zn_enabled)
		gba_log_msg(&b->log, GBA_LOG_INFO, "Zn: Diameter %s (realm %s) on %s port %u",
			b->cfg.zn_identity, b->cfg.zn_realm, b->cfg.zn_listen, b->cfg.zn_port);
}

int main(int argc, char **argv)
{
	static struct bsf b; /* large (the config): not on the stack */
	sigset_t set;
	int rc;

	rc = configure(&b.cfg, argc, argv);
	if (rc)
		return rc > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	/* Databases and their journals hold keys: nobody else may read them. */
	umask(0077);
	gba_log_init(&b.log, "gba-bsf", b.cfg.log_level, b.cfg.log_impi);
	b.zh_log = (struct gba_log_dia){ &b.log, "zh" };
	b.dia_log = (struct gba_log_dia){ &b.log, "diameter" };
	metrics_init(&b.metrics);
	block_signals(&set);
	if (open_parts(&b) || start_servers(&b)) {
		shut_down(&b);
		return EXIT_FAILURE;
	}
	log_started(&b);
	gba_notify_ready("serving");
	wait_for_stop(&b, &set);
	gba_notify_stopping("stopping");
	start_watchdog(&b);
	shut_down(&b);
	gba_log_msg(&b.log, GBA_LOG_INFO, "stopped");
	return EXIT_SUCCESS;
}
