/*
 * main.c - gba-naf: the reference NAF / oneM2M MAF (docs/naf.md).
 *
 *   gba-naf --config FILE [--set section.key=value ...] [--check]
 *
 * Starts Zn (libgba-naf), the key store, and up to three libmicrohttpd
 * daemons: Digest Ua, TLS-PSK Ua with the key API, the loopback admin port.
 * SIGTERM/SIGINT stop it (exit 0); expired nodes and keys are purged every
 * minute.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <gba/kdf.h>

#include "config.h"
#include "http_util.h"
#include "log.h"
#include "ua.h"

static void usage(void)
{
	printf("Usage: gba-naf --config FILE [--set section.key=value ...] [--check]\n"
	       "  The reference NAF (oneM2M MAF): Digest and TLS-PSK Ua, Master Credentials\n"
	       "  (Km) and session keys (Kc), over Zn to a BSF.  See docs/naf.md.\n");
}

static int load(struct naf_config *cfg, int argc, char **argv, int *check)
{
	char err[512];
	const char *path = NULL;
	ncfg_defaults(cfg);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--check")) {
			*check = 1;
		} else if (!strcmp(argv[i], "--help")) {
			usage();
			exit(0);
		} else if (strcmp(argv[i], "--set")) {
			fprintf(stderr, "gba-naf: unknown argument %s (see --help)\n", argv[i]);
			return -1;
		} else {
			i++;   /* --set comes after the file, below */
		}
	}
	if (path && ncfg_load(cfg, path, err, sizeof(err)))
		goto fail;
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--set") && ncfg_set_arg(cfg, argv[++i], err, sizeof(err)))
			goto fail;
	if (ncfg_finish(cfg, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "gba-naf: %s\n", err);
	return -1;
}

static gba_err open_zn(struct naf_svc *s, const struct naf_config *cfg)
{
	struct gba_naf_config zc = {
		.identity = cfg->zn_identity, .realm = cfg->zn_realm,
		.bsf_identity = cfg->zn_bsf_identity, .bsf_address = cfg->zn_bsf_address,
		.bsf_port = (uint16_t)cfg->zn_bsf_port, .timeout_ms = cfg->zn_timeout_ms,
		.gba_u_aware = cfg->zn_gba_u_aware,
		.transport = (enum gba_dia_transport)cfg->zn_transport,
		.tls_cert = cfg->zn_tls_cert, .tls_key = cfg->zn_tls_key, .tls_ca = cfg->zn_tls_ca,
	};
	gba_err err = gba_naf_id(s->naf_id_digest, sizeof(s->naf_id_digest),
				 &s->naf_id_digest_len, cfg->fqdn, strlen(cfg->fqdn),
				 GBA_UA_HTTP_DIGEST);
	if (!err)
		err = gba_naf_id(s->naf_id_km, sizeof(s->naf_id_km), &s->naf_id_km_len, cfg->fqdn,
				 strlen(cfg->fqdn), cfg->ua_id);
	return err ? err : gba_naf_open(&zc, &s->zn);
}

/* One daemon on listen (or none when "off"). */
static struct MHD_Daemon *start(const char *name, const char *listen, const struct naf_config *cfg,
				struct naf_svc *s, int tls, MHD_AccessHandlerCallback h, int *bad)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (!strcmp(listen, "off") || !listen[0])
		return NULL;
	if (parse_listen(listen, &ss, &len) || (!strcmp(name, "admin") && !is_loopback(&ss))) {
		fprintf(stderr, "gba-naf: %s listen %s: not host:port%s\n", name, listen,
			strcmp(name, "admin") ? "" : " on loopback");
		*bad = 1;
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d;
	if (tls)
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, h, s,
				     MHD_OPTION_SOCK_ADDR, &ss,
				     MHD_OPTION_HTTPS_CRED_TYPE, GNUTLS_CRD_PSK,
				     MHD_OPTION_GNUTLS_PSK_CRED_HANDLER, ua_tls_psk, s,
				     MHD_OPTION_HTTPS_PRIORITIES, cfg->tls_priorities,
				     MHD_OPTION_NOTIFY_CONNECTION, ua_tls_notify, s,
				     MHD_OPTION_NOTIFY_COMPLETED, req_completed, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, cfg->threads_max,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, h, s, MHD_OPTION_SOCK_ADDR, &ss,
				     MHD_OPTION_NOTIFY_COMPLETED, req_completed, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, cfg->threads_max,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "gba-naf: cannot start the %s listener on %s\n", name, listen);
		*bad = 1;
	} else {
		nlog_info("%s listening on %s", name, listen);
	}
	return d;
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
	int check = 0, bad = 0, rc = 1;
	sigset_t set;
	if (!cfg || load(cfg, argc, argv, &check))
		return 2;
	if (check) {
		printf("gba-naf: configuration OK\n");
		free(cfg);
		return 0;
	}
	/* Block the stop signals in every thread; serve() takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	nlog_init(cfg->log_debug);
	s.cfg = cfg;
	gba_err err = ks_open(&s.ks, cfg->store_uri);
	if (err)
		fprintf(stderr, "gba-naf: key store %s: %s\n", cfg->store_uri, gba_strerror(err));
	if (!err && (err = nonces_new(&s.nonces, 65536, cfg->nonce_lifetime)))
		fprintf(stderr, "gba-naf: %s\n", gba_strerror(err));
	if (!err && (err = open_zn(&s, cfg)))
		fprintf(stderr, "gba-naf: Zn: %s\n", gba_strerror(err));
	struct MHD_Daemon *d[3] = { NULL };
	if (!err) {
		d[0] = start("digest Ua", cfg->digest_listen, cfg, &s, 0, ua_digest_handler, &bad);
		d[1] = start("TLS-PSK Ua", cfg->tls_listen, cfg, &s, 1, ua_tls_handler, &bad);
		d[2] = start("admin", cfg->admin_listen, cfg, &s, 0, admin_handler, &bad);
		if (!bad) {
			nlog_info("NAF %s ready", cfg->fqdn);
			serve(&s);
			rc = 0;
		}
	}
	for (int i = 0; i < 3; i++)
		if (d[i])
			MHD_stop_daemon(d[i]);
	gba_naf_close(s.zn);
	nonces_free(s.nonces);
	ks_close(s.ks);
	nlog_info("stopped");
	free(cfg);
	return rc;
}
