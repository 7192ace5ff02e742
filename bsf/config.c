/*
 * config.c - the BSF's configuration file, its defaults and overrides.
 *
 * One table (keys[] below) describes every key: where it lives in struct
 * bsf_config, its type and range, its default and its meaning.  The shared
 * reader (lib/conf) works from it for the file, --set, the defaults, --help
 * and --check, so a new key is one line here and one paragraph in
 * docs/bsf.md.
 */
#define _DEFAULT_SOURCE /* _SC_NPROCESSORS_ONLN */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gba_conf.h>

#include "av_spare.h"
#include "config.h"

#define STRINGIFY(x) #x
#define DEC(x) STRINGIFY(x)

_Static_assert(sizeof(enum gba_digest_algorithm) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rspauth_body) == sizeof(int), "enum size");
_Static_assert(sizeof(enum realm_check) == sizeof(int), "enum size");
_Static_assert(sizeof(enum av_source_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum gba_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum gba_log_impi_mode) == sizeof(int), "enum size");

static const struct gba_conf_name algorithm_names[] = {
	{ "AKAv1-MD5", GBA_DIGEST_ALG_AKAV1_MD5 },
	{ "AKAv2-MD5", GBA_DIGEST_ALG_AKAV2_MD5 },
	{ NULL, 0 },
};

static const struct gba_conf_name rspauth_names[] = {
	{ "response", RSPAUTH_BODY_RESPONSE },
	{ "request", RSPAUTH_BODY_REQUEST },
	{ NULL, 0 },
};

static const struct gba_conf_name realm_check_names[] = {
	{ "strict", REALM_CHECK_STRICT },
	{ "lenient", REALM_CHECK_LENIENT },
	{ NULL, 0 },
};

static const struct gba_conf_name source_names[] = {
	{ "embedded", AV_SOURCE_EMBEDDED },
	{ "zh", AV_SOURCE_ZH },
	{ "gsup", AV_SOURCE_GSUP },
	{ "cx", AV_SOURCE_CX },
	{ NULL, 0 },
};

static const struct gba_conf_name on_off_names[] = {
	{ "off", 0 },
	{ "on", 1 },
	{ NULL, 0 },
};

static const struct gba_conf_name yes_no_names[] = {
	{ "no", 0 },
	{ "yes", 1 },
	{ NULL, 0 },
};

/* enum gba_dia_transport (gba/diameter.h) */
static const struct gba_conf_name transport_names[] = {
	{ "tls", 0 },
	{ "tcp", 1 },
	{ NULL, 0 },
};

/* enum zn_policy_kind (zn/zn.h) */
static const struct gba_conf_name zn_policy_names[] = {
	{ "guss", 0 },
	{ "allow", 1 },
	{ NULL, 0 },
};

static const struct gba_conf_name impi_names[] = {
	{ "plain", GBA_LOG_IMPI_PLAIN },
	{ "hash", GBA_LOG_IMPI_HASH },
	{ "hide", GBA_LOG_IMPI_HIDE },
	{ NULL, 0 },
};

#define OFF(f) offsetof(struct bsf_config, f)
#define STR(sec, k, f, def_, help_) \
	{ .section = sec, .key = k, .type = GBA_CONF_STR, .off = OFF(f), \
	  .size = sizeof(((struct bsf_config *)0)->f), .def = def_, .help = help_ }
#define UINT(sec, k, f, lo, hi, def_, help_) \
	{ .section = sec, .key = k, .type = GBA_CONF_UINT, .off = OFF(f), .min = lo, .max = hi, \
	  .def = def_, .help = help_ }
#define DUR(sec, k, f, lo, hi, def_, help_) \
	{ .section = sec, .key = k, .type = GBA_CONF_DURATION, .off = OFF(f), .min = lo, \
	  .max = hi, .def = def_, .help = help_ }
#define ENUM(sec, k, f, names_, def_, help_) \
	{ .section = sec, .key = k, .type = GBA_CONF_ENUM, .off = OFF(f), .names = names_, \
	  .def = def_, .help = help_ }

static const struct gba_conf_key keys[] = {
	STR("bsf", "state_dir", state_dir, "/var/lib/gba-bsf",
	    "directory of the default databases ($STATE_DIRECTORY when set)"),
	STR("bsf", "domain", domain, "bsf.example.org",
	    "BSF server domain name: the part of the B-TID after '@'"),
	STR("bsf", "realm", realm, "",
	    "Digest realm of the challenges (default: the domain)"),
	ENUM("bsf", "algorithm", algorithm, algorithm_names, "AKAv1-MD5",
	     "Digest algorithm offered: AKAv1-MD5 or AKAv2-MD5"),
	DUR("bsf", "nonce_lifetime", nonce_lifetime, 1, 3600, "30s",
	    "how long a challenge may be answered (s, m, h, d)"),
	DUR("bsf", "key_lifetime", key_lifetime, 60, 7u * 86400 * 52, "24h",
	    "lifetime of a bootstrapped key Ks and its B-TID"),
	UINT("bsf", "max_pending", max_pending, 64, 16u << 20, "65536",
	     "challenges awaiting an answer; beyond it new ones get 503"),
	UINT("bsf", "threads", threads, 0, 1024, "0",
	     "HTTP worker threads (0: one per CPU, 16 per CPU with av.source = gsup)"),
	DUR("bsf", "shutdown_timeout", shutdown_timeout, 1, 3600, "10s",
	    "after SIGTERM, exit within this even if a part does not stop (exit 1)"),

	STR("ub", "listen", ub_listen, "0.0.0.0:8080",
	    "Ub address and port: host:port, [v6]:port or *:port"),
	STR("ub", "tls_cert", tls_cert, "",
	    "PEM certificate (chain) file: Ub over HTTPS when set"),
	STR("ub", "tls_key", tls_key, "", "PEM private key file of tls_cert"),
	STR("ub", "tls_priorities", tls_priorities, "",
	    "GnuTLS priority string (default: the library's)"),
	UINT("ub", "max_connections", max_connections, 1, 1000000, "4096",
	     "open Ub connections at most"),
	UINT("ub", "max_connections_per_ip", max_connections_per_ip, 0, 1000000, "0",
	     "open Ub connections per client address (0: no limit)"),
	DUR("ub", "connection_timeout", connection_timeout, 1, 86400, "30s",
	    "idle time after which a connection is closed"),
	UINT("ub", "max_header_size", max_header_size, 1024, 1u << 20, "8192",
	     "request line and headers, octets; larger gets 431"),
	UINT("ub", "max_body_size", max_body_size, 0, 1u << 20, "4096",
	     "request body, octets; larger gets 413"),
	ENUM("ub", "rspauth_body", rspauth_body, rspauth_names, "response",
	     "body hashed into rspauth for auth-int: response (the 200's) or request"),
	ENUM("ub", "realm_check", realm_check, realm_check_names, "strict",
	     "second request's realm: strict (the challenge's) or lenient (any, logged)"),
	UINT("ub", "admission_limit", admission_limit, 0, 1000000, "256",
	     "Ub requests queued or in progress at most (a new connection counts from accept); "
	     "beyond it new connections get 503 with Retry-After at once (0: no limit)"),
	UINT("ub", "max_queue_wait_ms", max_queue_wait_ms, 0, 60000, "0",
	     "a first request that waited unread in its socket at least this long (the kernel's "
	     "clock: 1/HZ steps) gets 503 with Retry-After at once (0: never)"),
	DUR("ub", "retry_after", retry_after, 1, 3600, "5s",
	    "Retry-After of 503 answers (HSS down, table full)"),
	UINT("ub", "max_challenges_per_impi", max_challenges_per_impi, 1, 1024, "4",
	     "pending challenges per IMPI; a new one replaces its oldest"),
	UINT("ub", "impi_challenge_rate", impi_challenge_rate, 0, 1000000, "10",
	     "fresh vectors per second per IMPI (0: no limit); over it the pending one is resent"),
	UINT("ub", "impi_challenge_burst", impi_challenge_burst, 1, 1000000, "20",
	     "fresh vectors one IMPI may draw at once before impi_challenge_rate applies"),
	UINT("ub", "max_challenges_per_ip", max_challenges_per_ip, 0, 16u << 20, "4096",
	     "pending challenges per client address (0: no limit); beyond it 503"),

	STR("admin", "listen", admin_listen, "127.0.0.1:8081",
	    "admin port (/metrics, /sessions/<B-TID>); off to disable"),

	STR("store", "uri", store_uri, "",
	    "session store: sqlite:PATH or redis://HOST:PORT[/DB] "
	    "(default sqlite:<state_dir>/sessions.db)"),
	DUR("store", "purge_interval", purge_interval, 1, 86400, "60s",
	    "how often expired sessions are removed"),

	ENUM("av", "source", av_source, source_names, "embedded",
	     "where vectors come from: embedded, zh, gsup or cx"),
	UINT("av", "spare_users", av_spare_users, 1, AV_SPARE_USERS_MAX,
	     DEC(AV_SPARE_USERS_DEFAULT),
	     "users whose spare vectors (gsup, cx) are kept at once, about 680 octets each "
	     "when used; past it the spares closest to expiry make room"),

	STR("embedded", "db", embedded_db, "",
	    "subscriber database (default <state_dir>/subscribers.db)"),
	ENUM("embedded", "create_db", embedded_create_db, yes_no_names, "no",
	     "yes: make an empty database when the file is missing (no: refuse, a typo "
	     "would give every UE 403)"),
	UINT("embedded", "ind", embedded_ind, 0, 31, "0",
	     "SQN IND slot of this BSF (distinct per BSF sharing the database)"),
	UINT("embedded", "sqn_block", embedded_sqn_block, 1, 1024, "1",
	     "SQNs reserved per database transaction (1: one transaction per vector)"),
	UINT("embedded", "group_commit", embedded_group_commit, 0, 65536, "256",
	     "SQN reservations of first challenges written in one transaction at most, "
	     "each 401 held until its batch is committed (0: a transaction per vector)"),
	DUR("embedded", "lease_ttl", embedded_lease_ttl, 0, 3600, "30s",
	    "lease of the IND slot in the database, renewed every third of it (0: none)"),
	STR("embedded", "lease_id", embedded_lease_id, "",
	    "who holds the lease, stable across restarts (default <hostname>/<ub.listen>)"),

	STR("keys", "kek", keys_kek, "",
	    "KEK in a PKCS#11 token that wraps the database's K and OPc: pkcs11:token=..;object=.."),
	STR("keys", "pin_file", keys_pin_file, "",
	    "file with the token's user PIN (ours, mode 0600)"),
	STR("keys", "module", keys_module, "",
	    "PKCS#11 module of the token (default: the modules p11-kit knows)"),

	STR("zh", "origin_host", zh_origin_host, "",
	    "Diameter identity of this BSF (Origin-Host)"),
	STR("zh", "origin_realm", zh_origin_realm, "", "Origin-Realm of this BSF"),
	STR("zh", "hss_host", zh_hss_host, "127.0.0.1",
	    "address of the HSS to connect to"),
	UINT("zh", "hss_port", zh_hss_port, 1, 65535, "3868", "Diameter port of the HSS"),
	STR("zh", "hss_realm", zh_hss_realm, "", "Destination-Realm of the MARs"),
	STR("zh", "hss_identity", zh_hss_identity, "",
	    "Diameter identity of the HSS (its Origin-Host)"),
	UINT("zh", "timeout_ms", zh_timeout_ms, 10, 600000, "2000",
	     "how long to wait for an MAA; then 503"),
	ENUM("zh", "transport", zh_transport, transport_names, "tls",
	     "tls: TLS with certificates both ways; tcp: plain TCP (IPsec or a lab only)"),
	STR("zh", "tls_cert", zh_tls_cert, "",
	    "PEM certificate naming zh.origin_host (with Zn on: zn.tls_cert)"),
	STR("zh", "tls_key", zh_tls_key, "", "PEM private key of zh.tls_cert"),
	STR("zh", "tls_ca", zh_tls_ca, "", "PEM CA that signs the HSS's certificate"),

	STR("cx", "server_name", cx_server_name, "",
	    "Server-Name of the Cx MARs, a SIP URI (default sip:<zh.origin_host>)"),
	UINT("cx", "vectors", cx_vectors, 1, 5, "5",
	     "vectors asked for per Cx MAR (SIP-Number-Auth-Items)"),
	DUR("cx", "spare_ttl", cx_spare_ttl, 0, 60, "5s",
	    "how long the further vectors of an MAA are kept (0: not kept)"),

	STR("gsup", "remote", gsup_remote, "127.0.0.1:4222",
	    "the HLR's GSUP address, host[:port] (port 4222 when not given)"),
	STR("gsup", "name", gsup_name, "gba-bsf",
	    "IPA unit name: osmo-hlr ties an IND slot to it (one per BSF)"),
	UINT("gsup", "timeout_ms", gsup_timeout_ms, 10, 600000, "2000",
	     "how long to wait for a SendAuthInfo answer; then 503"),
	DUR("gsup", "spare_ttl", gsup_spare_ttl, 0, 60, "5s",
	    "how long the spare vectors of an answer are kept (0: not kept)"),

	ENUM("zn", "enabled", zn_enabled, on_off_names, "off",
	     "answer NAFs' Bootstrapping-Info-Requests over Diameter: on or off"),
	STR("zn", "listen", zn_listen, "127.0.0.1",
	    "numeric IP address the Zn (Diameter) server listens on"),
	UINT("zn", "port", zn_port, 1, 65535, "3868", "Diameter port of the Zn server"),
	UINT("zn", "threads", zn_threads, 0, 64, "0",
	     "freeDiameter threads that run the Zn and Zh handlers (0: one per CPU)"),
	STR("zn", "identity", zn_identity, "",
	    "Diameter identity of this BSF (default: zh.origin_host)"),
	STR("zn", "realm", zn_realm, "", "Diameter realm of this BSF (default: zh.origin_realm)"),
	ENUM("zn", "accept_unknown_peers", zn_accept_unknown_peers, yes_no_names, "yes",
	     "let any NAF connect whose certificate names it; zn.nafs decides what it gets"),
	ENUM("zn", "transport", zn_transport, transport_names, "tls",
	     "tls: TLS with certificates both ways; tcp: plain TCP (IPsec or a lab only)"),
	STR("zn", "tls_cert", zn_tls_cert, "", "PEM certificate naming zn.identity"),
	STR("zn", "tls_key", zn_tls_key, "", "PEM private key of zn.tls_cert"),
	STR("zn", "tls_ca", zn_tls_ca, "",
	    "PEM CA that signs the NAFs' certificates (and the HSS's, Zh sharing the node)"),
	STR("zn", "peers", zn_peers, "",
	    "NAF Diameter identities (or *.domain) that may connect; set: only these"),
	STR("zn", "nafs", zn_nafs, "",
	    "PEER=FQDN|FQDN;...: NAF FQDNs a peer may ask for besides its own identity"),
	STR("zn", "naf_groups", zn_naf_groups, "",
	    "GROUP=FQDN|FQDN;...: the NAF groups a USS's nafGroup attribute names"),
	ENUM("zn", "policy", zn_policy, zn_policy_names, "guss",
	     "guss: keys only with a USS for the NAF in the user's GUSS; allow: always"),
	STR("zn", "http_listen", zn_http_listen, "",
	    "Zn as Nbsp_GBA over HTTPS/1.1 on host:port; empty: off"),
	STR("zn", "http2_listen", zn_http2_listen, "",
	    "Zn as Nbsp_GBA over HTTP/2 (TLS, ALPN h2) on host:port; empty: off"),
	STR("zn", "http_tls_cert", zn_http_tls_cert, "", "PEM certificate of the HTTPS Zn server"),
	STR("zn", "http_tls_key", zn_http_tls_key, "", "PEM private key of http_tls_cert"),
	STR("zn", "http_tls_ca", zn_http_tls_ca, "",
	    "PEM CA that signs the NAFs' client certificates (required with http_listen)"),

	ENUM("log", "level", log_level, gba_conf_log_level_names, "info",
	     "least severe level logged: debug, info, warn, error"),
	ENUM("log", "impi", log_impi, impi_names, "plain",
	     "how IMPIs appear in the log: plain, hash or hide"),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= 8 * sizeof(((struct config_seen *)0)->set), "config_seen too small");


static const struct gba_conf_spec spec = { .keys = keys, .n_keys = N_KEYS };

/* ---- Values ------------------------------------------------------------------ */

int config_set(struct bsf_config *cfg, const char *section, const char *key,
	       const char *value, char *err, size_t err_size)
{
	return gba_conf_set(&spec, cfg, section, key, value, err, err_size);
}

void config_defaults(struct bsf_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	gba_conf_defaults(&spec, cfg);
}

int config_set_arg(struct bsf_config *cfg, const char *arg, char *err, size_t err_size)
{
	return config_set_opt(cfg, "--set", arg, err, err_size);
}

int config_set_opt(struct bsf_config *cfg, const char *opt, const char *arg, char *err,
		   size_t err_size)
{
	return gba_conf_set_arg(&spec, cfg, opt, arg, err, err_size);
}

/* ---- The file ---------------------------------------------------------------- */

int config_parse_file(struct bsf_config *cfg, struct config_seen *seen, FILE *f,
		      const char *name, char *err, size_t err_size)
{
	return gba_conf_parse_stream(&spec, cfg, f, name, seen->set, err, err_size);
}

/* ---- The whole --------------------------------------------------------------- */

static int join_path(char *out, size_t size, const char *prefix, const char *dir,
		     const char *file)
{
	int n = snprintf(out, size, "%s%s/%s", prefix, dir, file);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int is_off(const char *s)
{
	return !*s || !strcmp(s, "off");
}

/* A DNS name for the B-TID and realm: LDH labels separated by dots. */
static int is_dns_name(const char *s)
{
	size_t label = 0;

	if (!*s || strlen(s) > 253)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-') || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* TLS files of a Diameter section: all three, unless transport = tcp. */
static int check_tls(const char *sec, int transport, const char *cert, const char *key,
		     const char *ca, char *err, size_t err_size)
{
	if (transport == 0 && (!*cert || !*key || !*ca))
		return gba_conf_fail(err, err_size,
				     "%s.transport = tls (the default) needs %s.tls_cert, "
				     "%s.tls_key and %s.tls_ca; %s.transport = tcp for plain TCP",
				     sec, sec, sec, sec, sec);
	return 0;
}

static int same_or_empty(const char *zh, const char *zn)
{
	return !*zh || !strcmp(zh, zn);
}

/*
 * With Zn on, Zh rides on Zn's node: one process, one freeDiameter, one
 * certificate (for zn.identity) and one trust list.  zh.tls_* may repeat
 * zn.tls_* or stay empty; zh.transport must agree.
 */
static int check_zh_shared(struct bsf_config *cfg, char *err, size_t err_size)
{
	if (cfg->zh_transport != cfg->zn_transport || !same_or_empty(cfg->zh_tls_cert, cfg->zn_tls_cert) ||
	    !same_or_empty(cfg->zh_tls_key, cfg->zn_tls_key) ||
	    !same_or_empty(cfg->zh_tls_ca, cfg->zn_tls_ca))
		return gba_conf_fail(err, err_size,
				     "with zn.enabled = on, Zh shares Zn's Diameter node: "
				     "zh.transport and zh.tls_* must equal zn.transport and "
				     "zn.tls_* (or be left out)");
	memcpy(cfg->zh_tls_cert, cfg->zn_tls_cert, sizeof(cfg->zh_tls_cert));
	memcpy(cfg->zh_tls_key, cfg->zn_tls_key, sizeof(cfg->zh_tls_key));
	memcpy(cfg->zh_tls_ca, cfg->zn_tls_ca, sizeof(cfg->zh_tls_ca));
	return 0;
}

static int check_zh(struct bsf_config *cfg, char *err, size_t err_size)
{
	const char *src = cfg->av_source == AV_SOURCE_CX ? "cx" : "zh";

	if (!*cfg->zh_origin_host || !*cfg->zh_origin_realm || !*cfg->zh_hss_realm)
		return gba_conf_fail(err, err_size,
				     "av.source = %s needs zh.origin_host, zh.origin_realm and "
				     "zh.hss_realm", src);
	if (cfg->zn_enabled)
		return check_zh_shared(cfg, err, err_size);
	return check_tls("zh", cfg->zh_transport, cfg->zh_tls_cert, cfg->zh_tls_key,
			 cfg->zh_tls_ca, err, err_size);
}
/* Cx: the [zh] connection, and a Server-Name (sip:<zh.origin_host> unless
 * given) that is a SIP URI of printable ASCII. */
static int check_cx(struct bsf_config *cfg, char *err, size_t err_size)
{
	if (check_zh(cfg, err, err_size))
		return -1;
	if (!*cfg->cx_server_name)
		snprintf(cfg->cx_server_name, sizeof(cfg->cx_server_name), "sip:%.*s",
			 (int)sizeof(cfg->cx_server_name) - 5, cfg->zh_origin_host);
	if (strncmp(cfg->cx_server_name, "sip:", 4) && strncmp(cfg->cx_server_name, "sips:", 5))
		return gba_conf_fail(err, err_size, "cx.server_name: '%s' is no sip: or sips: URI",
			    cfg->cx_server_name);
	for (const char *p = cfg->cx_server_name; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return gba_conf_fail(err, err_size, "cx.server_name: spaces or control characters");
	return 0;
}

/* An Nbsp_GBA listener: a valid address, and the TLS files that name the NAF. */
static int check_http_listen(const char *where, const char *key, const struct bsf_config *cfg,
			     char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char msg[CFG_ERR_MAX];

	if (!*where)
		return 0;
	if (gba_conf_listen_addr(where, &ss, &len, msg, sizeof(msg)))
		return gba_conf_fail(err, err_size, "%s: %s", key, msg);
	/* Mutual TLS is what identifies the NAF: no plain-HTTP Zn. */
	if (!*cfg->zn_http_tls_cert || !*cfg->zn_http_tls_key || !*cfg->zn_http_tls_ca)
		return gba_conf_fail(err, err_size,
				     "%s needs zn.http_tls_cert, zn.http_tls_key and "
				     "zn.http_tls_ca", key);
	return 0;
}


static int check_zn(struct bsf_config *cfg, char *err, size_t err_size)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!*cfg->zn_identity)
		memcpy(cfg->zn_identity, cfg->zh_origin_host, sizeof(cfg->zn_identity));
	if (!*cfg->zn_realm)
		memcpy(cfg->zn_realm, cfg->zh_origin_realm, sizeof(cfg->zn_realm));
	if (!*cfg->zn_identity || !*cfg->zn_realm)
		return gba_conf_fail(err, err_size,
				     "zn.enabled = on needs zn.identity and zn.realm "
				     "(or zh.origin_host and zh.origin_realm)");
	if (inet_pton(AF_INET, cfg->zn_listen, &a4) != 1 &&
	    inet_pton(AF_INET6, cfg->zn_listen, &a6) != 1)
		return gba_conf_fail(err, err_size, "zn.listen: '%s' is not a numeric IP address",
				     cfg->zn_listen);
	if (check_tls("zn", cfg->zn_transport, cfg->zn_tls_cert, cfg->zn_tls_key, cfg->zn_tls_ca,
		      err, err_size))
		return -1;
	if (check_http_listen(cfg->zn_http_listen, "zn.http_listen", cfg, err, err_size) ||
	    check_http_listen(cfg->zn_http2_listen, "zn.http2_listen", cfg, err, err_size))
		return -1;
	return 0;
}

int config_gsup_remote(const char *text, char *host, size_t size, unsigned *port)
{
	const char *colon = strrchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	char *end;
	unsigned long p = 4222;

	if (colon) {
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
			return -1;
	}
	if (n == 0 || n >= size || memchr(text, ':', n))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	*port = (unsigned)p;
	return 0;
}

static int check_gsup(const struct bsf_config *cfg, char *err, size_t err_size)
{
	char host[CFG_ADDR_MAX + 1];
	unsigned port;

	if (config_gsup_remote(cfg->gsup_remote, host, sizeof(host), &port))
		return gba_conf_fail(err, err_size, "gsup.remote: '%s' is not host[:port]",
				     cfg->gsup_remote);
	if (!*cfg->gsup_name || strlen(cfg->gsup_name) > 63)
		return gba_conf_fail(err, err_size, "gsup.name: 1 to 63 characters");
	return 0;
}

int config_finish(struct bsf_config *cfg, char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char msg[CFG_ERR_MAX];

	if (!is_dns_name(cfg->domain))
		return gba_conf_fail(err, err_size,
				     "bsf.domain: '%s' is not a DNS name", cfg->domain);
	if (!*cfg->realm)
		memcpy(cfg->realm, cfg->domain, strlen(cfg->domain) + 1);
	if (!*cfg->store_uri &&
	    join_path(cfg->store_uri, sizeof(cfg->store_uri), "sqlite:", cfg->state_dir,
		      "sessions.db"))
		return gba_conf_fail(err, err_size, "bsf.state_dir: path too long");
	if (!*cfg->embedded_db &&
	    join_path(cfg->embedded_db, sizeof(cfg->embedded_db), "", cfg->state_dir,
		      "subscribers.db"))
		return gba_conf_fail(err, err_size, "bsf.state_dir: path too long");
	if (gba_conf_listen_addr(cfg->ub_listen, &ss, &len, msg, sizeof(msg)))
		return gba_conf_fail(err, err_size, "ub.listen: %s", msg);
	if (!is_off(cfg->admin_listen) &&
	    gba_conf_listen_addr(cfg->admin_listen, &ss, &len, msg, sizeof(msg)))
		return gba_conf_fail(err, err_size, "admin.listen: %s", msg);
	if (!*cfg->tls_cert != !*cfg->tls_key)
		return gba_conf_fail(err, err_size, "ub.tls_cert and ub.tls_key go together");
	if (*cfg->keys_kek && !*cfg->keys_pin_file)
		return gba_conf_fail(err, err_size, "keys.kek needs keys.pin_file");
	if (cfg->zn_enabled && check_zn(cfg, err, err_size))
		return -1;
	if (cfg->av_source == AV_SOURCE_ZH && check_zh(cfg, err, err_size))
		return -1;
	if (cfg->av_source == AV_SOURCE_GSUP && check_gsup(cfg, err, err_size))
		return -1;
	if (cfg->av_source == AV_SOURCE_CX && check_cx(cfg, err, err_size))
		return -1;
	return 0;
}

/* ---- Printing ---------------------------------------------------------------- */

void config_print_keys(FILE *out)
{
	gba_conf_print_keys(&spec, out);
}

void config_print(const struct bsf_config *cfg, FILE *out)
{
	gba_conf_print(&spec, cfg, out);
}


unsigned config_threads(unsigned configured)
{
	long n;

	if (configured)
		return configured;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

unsigned config_ub_threads(const struct bsf_config *cfg)
{
	unsigned n = config_threads(cfg->threads);

	if (cfg->threads || cfg->av_source != AV_SOURCE_GSUP)
		return n;
	return n * UB_REMOTE_THREADS_PER_CPU;
}
