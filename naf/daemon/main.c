/*
 * main.c - gba-naf: the reference NAF / oneM2M MAF (docs/naf.md).
 *
 *   gba-naf --config FILE [--set section.key=value ...] [--check]
 *
 * Starts Zn (libgba-naf), the key store, the two Ua ports (ua_server.c:
 * Digest Ua, TLS-PSK Ua with the key API) and the loopback admin port.
 * SIGTERM/SIGINT stop it (exit 0); expired nodes and keys are purged every
 * minute.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include <gba_conf.h>

#include "config.h"
#include "gba_cli.h"
#include "gba_http.h"
#include "gba_log_dia.h"
#include "gba_notify.h"
#include "http_util.h"
#include "log.h"
#include "ua.h"
#include "ua_server.h"

/* The process's log (log.h); main() sets it up from [log] once the
 * configuration is read.  The Diameter node's lines join it after "zn: ". */
struct gba_log naf_log = { .prog = "gba-naf", .level = GBA_LOG_INFO, .fd = 2 };
static struct gba_log_dia zn_log = { &naf_log, "zn" };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gba-naf -c FILE [--set section.key=value ...] [--check]\n"
		"  The reference NAF (oneM2M MAF): Digest and TLS-PSK Ua, Master Credentials\n"
		"  (Km) and session keys (Kc), over Zn to a BSF.  See docs/naf.md.\n"
		"\n"
		"  -c, --config FILE   the configuration (naf/etc/gba-naf.conf lists every key)\n"
		"      --set S.K=V     set a key, after the file whatever the order\n"
		"      --check         check the configuration and exit\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n"
		"\n"
		"Exit status: 0 clean stop (SIGTERM) or after --help, --version, --check;\n"
		"1 start-up or runtime failure; 2 bad usage or configuration.\n");
}

enum { OPT_SET = 256, OPT_CHECK };

static const struct option naf_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, OPT_SET },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * A target CSE's PSK is a secret: [targets] comes from the file only, since
 * a command line shows in ps and shell history.  The value is blanked in
 * argv and never repeated.
 */
static int secret_set(char *arg)
{
	char *eq = strchr(arg, '=');

	if (strncmp(arg, "targets.", 8))
		return 0;
	if (eq)
		gba_wipe(eq + 1, strlen(eq + 1));
	fprintf(stderr, "gba-naf: --set targets.*: a target's PSK comes from the configuration "
			"file only, never the command line\n");
	return -1;
}

/* Returns 0 to run, 1 to exit 0 (help, version), -1 for a usage or
 * configuration error.  The file first, then every --set in its order. */
static int load(struct naf_config *cfg, int argc, char **argv, int *check)
{
	char err[512];
	const char *path = NULL;
	int opt;

	ncfg_defaults(cfg);
	while ((opt = getopt_long(argc, argv, "c:hV", naf_opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case OPT_CHECK: *check = 1; break;
		case OPT_SET:
			if (secret_set(optarg))
				return -1;
			break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("gba-naf"); return 1;
		default: gba_cli_unknown("gba-naf", naf_opts, "c:hV"); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gba-naf: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (path && ncfg_load(cfg, path, err, sizeof(err)))
		goto fail;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:hV", naf_opts, NULL)) != -1)
		if (opt == OPT_SET && ncfg_set_arg(cfg, optarg, err, sizeof(err)))
			goto fail;
	if (ncfg_finish(cfg, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "gba-naf: %s\n", err);
	return -1;
}

/* keys.kek: the token whose key wraps every Kc in the store. */
static gba_err open_kek(const struct naf_config *cfg, struct gba_kek **kek)
{
	char why[GBA_KEK_URI_MAX + 256];
	gba_err err;

	if (!cfg->keys_kek[0])
		return GBA_OK;
	err = gba_kek_open(kek, cfg->keys_kek, cfg->keys_pin_file,
			   cfg->keys_module[0] ? cfg->keys_module : NULL, why, sizeof(why));
	if (err)
		nlog_error("keys.kek: %s", why[0] ? why : gba_strerror(err));
	return err;
}

/* libgba-naf's cache keeps Km (Ks_NAF) wrapped under the same KEK. */
static gba_err kek_wrap(void *kek, uint8_t *out, size_t out_size, size_t *out_len,
			const uint8_t *in, size_t in_len)
{
	return gba_kek_wrap(kek, out, out_size, out_len, in, in_len);
}

static gba_err kek_unwrap(void *kek, uint8_t *out, size_t out_size, size_t *out_len,
			  const uint8_t *in, size_t in_len)
{
	return gba_kek_unwrap(kek, out, out_size, out_len, in, in_len);
}

static gba_err open_zn(struct naf_svc *s, const struct naf_config *cfg, struct gba_kek *kek)
{
	struct gba_naf_config zc = {
		.identity = cfg->zn_identity, .realm = cfg->zn_realm,
		.bsf_identity = cfg->zn_bsf_identity, .bsf_address = cfg->zn_bsf_address,
		.bsf_port = (uint16_t)cfg->zn_bsf_port, .timeout_ms = cfg->zn_timeout_ms,
		.gba_u_aware = cfg->zn_gba_u_aware,
		/* zn.transport = nbsp: libgba-naf speaks Nbsp_GBA to the apiRoot. */
		.bsf_url = cfg->zn_nbsp ? cfg->zn_api_root : NULL,
		.key_wrap = kek ? kek_wrap : NULL, .key_unwrap = kek ? kek_unwrap : NULL,
		.key_wrap_arg = kek,
		.transport = (enum gba_dia_transport)cfg->zn_transport,
		.tls_cert = cfg->zn_tls_cert, .tls_key = cfg->zn_tls_key, .tls_ca = cfg->zn_tls_ca,
		.http_version = (enum gba_naf_http_version)cfg->zn_http_version,
		.log = gba_log_dia_line, .log_arg = &zn_log,
		.log_level = gba_log_dia_level(cfg->log_level),
	};
	gba_err err = gba_naf_id(s->naf_id_digest, sizeof(s->naf_id_digest),
				 &s->naf_id_digest_len, cfg->fqdn, strlen(cfg->fqdn),
				 GBA_UA_HTTP_DIGEST);
	if (!err)
		err = gba_naf_id(s->naf_id_km, sizeof(s->naf_id_km), &s->naf_id_km_len, cfg->fqdn,
				 strlen(cfg->fqdn), cfg->ua_id);
	return err ? err : gba_naf_open(&zc, &s->zn);
}

/* A listen address (checked by ncfg_finish); 0 with none when "off", -1 when bad. */
static int listen_addr(const char *name, const char *listen, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	char why[GBA_CONF_ERR_MAX];

	if (ncfg_listen_off(listen))
		return 0;
	if (gba_conf_listen_addr(listen, ss, len, why, sizeof(why))) {
		nlog_error("%s listen: %s", name, why);
		return -1;
	}
	if (!strcmp(name, "admin") && !is_loopback(ss)) {
		nlog_error("admin listen %s: not on loopback", listen);
		return -1;
	}
	return 1;
}

/*
 * The loopback admin port (or none when "off"): one polling thread, as
 * gba-bsf's admin port (lib/http/gba_http.h).  Its requests are short
 * (counters, a key-store look-up or delete), so they need no thread each.
 */
static void start_admin(struct gba_http *admin, const struct naf_config *cfg,
			struct naf_svc *s, int *bad)
{
	const struct MHD_OptionItem more[] = {
		GBA_HTTP_OPT(MHD_OPTION_NOTIFY_COMPLETED, req_completed, NULL),
		GBA_HTTP_OPT(MHD_OPTION_END, 0, NULL),
	};
	struct sockaddr_storage ss;
	struct gba_http_opts o = {
		.name = "admin", .log = &naf_log, .addr = (const struct sockaddr *)&ss,
		.max_connections = 64, .connection_timeout = 30, .options = more,
		.handler = admin_handler, .handler_cls = s,
	};
	int rc = listen_addr("admin", cfg->admin_listen, &ss, &o.addr_len);
	if (rc <= 0) {
		*bad |= rc < 0;
		return;
	}
	if (gba_http_start(admin, &o)) {
		nlog_error("cannot start the admin listener on %s", cfg->admin_listen);
		*bad = 1;
	} else {
		nlog_info("admin listening on %s", cfg->admin_listen);
	}
}

/* One Ua port on listen (or none when "off"). */
static struct ua_server *start_ua(const char *name, const char *listen,
				  const struct naf_config *cfg, struct naf_svc *s, int tls,
				  MHD_AccessHandlerCallback h, int *bad)
{
	char err[256];
	struct ua_server *u = NULL;
	struct ua_server_opts o = {
		.name = name, .tls = tls, .threads = cfg->threads, .handler = h,
		.limits = {
			.max_total = cfg->max_connections,
			.max_per_addr = cfg->max_connections_per_ip,
			.handshake_ms = cfg->handshake_timeout * 1000,
			.header_ms = cfg->header_timeout * 1000,
			.tls = tls,
		},
	};
	struct sockaddr_storage ss;
	int rc = listen_addr(name, listen, &ss, &o.addr_len);
	if (rc <= 0) {
		*bad |= rc < 0;
		return NULL;
	}
	o.addr = &ss;
	if (ua_server_start(&u, &o, s, err, sizeof(err))) {
		nlog_error("cannot start the %s listener on %s: %s", name, listen, err);
		*bad = 1;
		return NULL;
	}
	nlog_info("%s listening on %s (%u connections, %u per address)", name, listen,
		  cfg->max_connections, cfg->max_connections_per_ip);
	return u;
}

/*
 * Each Ua port may hold ua.max_connections sockets (and a quarter more
 * being closed): raise the soft limit on descriptors to the hard one, and
 * lower max_connections to what fits, keeping 256 for the rest.
 */
static void fit_descriptors(struct naf_config *cfg)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r))
			getrlimit(RLIMIT_NOFILE, &r);
	}
	rlim_t spare = r.rlim_cur > 512 ? r.rlim_cur - 256 : 256;
	rlim_t fit = spare * 2 / 5;   /* two ports, each max * 5/4 */
	if (r.rlim_cur != RLIM_INFINITY && fit < cfg->max_connections) {
		nlog_warn("ua.max_connections %u lowered to %u: %llu descriptors allowed",
			  cfg->max_connections, (unsigned)fit, (unsigned long long)r.rlim_cur);
		cfg->max_connections = (unsigned)fit;
	}
}

/* Wait for SIGTERM/SIGINT, purging expired records every minute. */
static void serve(struct naf_svc *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	struct timespec minute = { .tv_sec = 60 };
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &minute);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		unsigned n = 0;
		ks_purge(s->ks, (int64_t)time(NULL), &n);
		if (n)
			nlog_info("purged %u expired record%s", n, n == 1 ? "" : "s");
	}
}

int main(int argc, char **argv)
{
	struct naf_svc s = { 0 };
	struct naf_config *cfg = calloc(1, sizeof(*cfg));
	int check = 0, bad = 0, rc = 1, parsed;
	sigset_t set;

	parsed = cfg ? load(cfg, argc, argv, &check) : -1;
	if (parsed) {
		free(cfg);
		return parsed > 0 ? 0 : 2;
	}
	if (check) {
		printf("gba-naf: configuration OK\n");
		free(cfg);
		return 0;
	}
	if (gba_cli_keylog("gba-naf")) {
		free(cfg);
		return 1;
	}
	/* Block the stop signals in every thread; serve() takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	gba_log_init(&naf_log, "gba-naf", cfg->log_level, GBA_LOG_IMPI_PLAIN);
	s.cfg = cfg;
	naf_metrics_init(&s.metrics);
	struct gba_kek *kek = NULL;
	gba_err err = open_kek(cfg, &kek);
	if (!err && (err = ks_open(&s.ks, cfg->store_uri)))
		nlog_error("key store %s: %s", cfg->store_uri, gba_strerror(err));
	if (!err && kek)
		ks_set_kek(s.ks, kek);
	if (!err && (err = nonces_new(&s.nonces, 65536, cfg->nonce_lifetime)))
		nlog_error("%s", gba_strerror(err));
	if (!err && (err = open_zn(&s, cfg, kek)))
		nlog_error("Zn: %s", gba_strerror(err));
	struct gba_http admin = { .daemon = NULL };
	if (!err) {
		fit_descriptors(cfg);
		s.ua_digest = start_ua("digest Ua", cfg->digest_listen, cfg, &s, 0,
				       ua_digest_handler, &bad);
		s.ua_tls = start_ua("TLS-PSK Ua", cfg->tls_listen, cfg, &s, 1, ua_tls_handler, &bad);
		start_admin(&admin, cfg, &s, &bad);
		if (!bad) {
			nlog_info("NAF %s ready", cfg->fqdn);
			gba_notify_ready("serving");
			serve(&s);
			gba_notify_stopping("stopping");
			rc = 0;
		}
	}
	gba_http_stop(&admin);
	ua_server_stop(s.ua_digest);
	ua_server_stop(s.ua_tls);
	gba_naf_close(s.zn);
	nonces_free(s.nonces);
	ks_close(s.ks);
	gba_kek_close(kek);
	naf_metrics_free(&s.metrics);
	nlog_info("stopped");
	free(cfg);
	return rc;
}
