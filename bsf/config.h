/*
 * config.h - the BSF's configuration: one file of `key = value` lines in
 * [section]s, '#' comment lines, and command-line overrides of any key.
 *
 * Every key is described once, in a table in config.c, which drives the
 * parser, the defaults, the overrides and `gba-bsf --help`.  The parser is
 * strict: an unknown section or key, a key given twice, a value out of
 * range or a line that is not `key = value` is an error naming the line.
 */
#ifndef GBA_BSF_CONFIG_H
#define GBA_BSF_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <gba/digest.h>
#include <gba_conf.h>

#include "gba_log.h"

#define CFG_PATH_MAX 1024
#define CFG_NAME_MAX 255     /* a DNS name or a Diameter identity */
#define CFG_ADDR_MAX 300     /* "[v6 address]:port" or "host:port" */
#define CFG_ERR_MAX 512
#define CFG_ZN_LIST_MAX 4000 /* a line of the file is at most 4096 octets */

enum av_source_kind {
	AV_SOURCE_EMBEDDED = 0,
	AV_SOURCE_ZH = 1,
	AV_SOURCE_GSUP = 2,    /* osmo-hlr over GSUP (bsf/av_gsup.c) */
	AV_SOURCE_CX = 3,      /* an IMS HSS over Cx (bsf/zh/, the [zh] connection) */
};

/* Which entity body enters rspauth's HA2 with qop=auth-int. */
enum rspauth_body {
	RSPAUTH_BODY_RESPONSE = 0,   /* RFC 2617 3.2.3: the 200's body */
	RSPAUTH_BODY_REQUEST = 1,    /* the request's body, as some UEs compute it */
};

/* Whether the second request's realm must be the challenge's. */
enum realm_check {
	REALM_CHECK_STRICT = 0,      /* RFC 2617: echo the challenge's realm */
	REALM_CHECK_LENIENT = 1,     /* labs: any realm (some UEs send their Host), logged */
};

struct bsf_config {
	/* [bsf] */
	char state_dir[CFG_PATH_MAX];
	char domain[CFG_NAME_MAX + 1];       /* B-TID domain */
	char realm[CFG_NAME_MAX + 1];        /* Digest realm; default: domain */
	enum gba_digest_algorithm algorithm; /* AKAv1-MD5 or AKAv2-MD5 */
	unsigned nonce_lifetime;             /* seconds */
	unsigned key_lifetime;               /* seconds */
	unsigned max_pending;                /* challenges awaiting an answer */
	unsigned threads;                    /* 0: one per CPU */
	unsigned shutdown_timeout;           /* seconds from SIGTERM to exit, at most */

	/* [ub] */
	char ub_listen[CFG_ADDR_MAX + 1];
	char tls_cert[CFG_PATH_MAX];
	char tls_key[CFG_PATH_MAX];
	char tls_priorities[CFG_PATH_MAX];
	unsigned max_connections;
	unsigned max_connections_per_ip;     /* 0: no per-address limit */
	unsigned admission_limit;     /* busy Ub connections before new ones get 503 */
	unsigned max_queue_wait_ms;   /* a first request that waited unread longer gets 503 */
	unsigned connection_timeout;         /* seconds idle */
	unsigned max_header_size;
	unsigned max_body_size;
	enum rspauth_body rspauth_body;
	enum realm_check realm_check;
	unsigned retry_after;                /* seconds, in 503 answers */
	unsigned max_challenges_per_impi;    /* pending per IMPI; a new one replaces the oldest */
	unsigned impi_challenge_rate;        /* fresh vectors per second per IMPI; 0: no limit */
	unsigned impi_challenge_burst;       /* of those at once */
	unsigned max_challenges_per_ip;      /* pending per client address; 0: no limit */

	/* [admin] */
	char admin_listen[CFG_ADDR_MAX + 1]; /* "" or "off": no admin port */

	/* [store] */
	char store_uri[CFG_PATH_MAX];
	unsigned purge_interval;             /* seconds */

	/* [av] */
	enum av_source_kind av_source;
	unsigned av_spare_users;             /* users whose spare vectors are kept at once */

	/* [embedded] */
	char embedded_db[CFG_PATH_MAX];
	unsigned embedded_ind;
	int embedded_create_db;        /* 1: a missing file becomes an empty database */
	unsigned embedded_sqn_block;   /* SQNs reserved per transaction */
	unsigned embedded_group_commit;   /* reservations per transaction; 0: no group commit */
	unsigned embedded_lease_ttl;   /* seconds; 0: the IND slot is not leased */
	char embedded_lease_id[128];   /* the lease's holder; "": host/ub.listen */

	/* [keys]: K and OPc of the embedded database wrapped under a KEK */
	char keys_kek[CFG_PATH_MAX];        /* pkcs11: URI, "" for plain keys */
	char keys_pin_file[CFG_PATH_MAX];
	char keys_module[CFG_PATH_MAX];     /* "" for p11-kit's modules */

	/* [zh] */
	char zh_origin_host[CFG_NAME_MAX + 1];
	char zh_origin_realm[CFG_NAME_MAX + 1];
	char zh_hss_host[CFG_NAME_MAX + 1];
	unsigned zh_hss_port;
	char zh_hss_realm[CFG_NAME_MAX + 1];
	char zh_hss_identity[CFG_NAME_MAX + 1];
	unsigned zh_timeout_ms;
	int zh_transport;                    /* enum gba_dia_transport: 0 tls, 1 tcp */
	char zh_tls_cert[CFG_PATH_MAX];      /* names zh.origin_host */
	char zh_tls_key[CFG_PATH_MAX];
	char zh_tls_ca[CFG_PATH_MAX];        /* CA of the HSS's certificate */

	/* [cx] (av.source = cx: bsf/zh/zh.h, docs/core-network.md) */
	char cx_server_name[CFG_NAME_MAX + 1];   /* "": sip:<zh.origin_host> */
	unsigned cx_vectors;                 /* SIP-Number-Auth-Items */
	unsigned cx_spare_ttl;               /* seconds a spare vector is kept */

	/* [gsup] (bsf/av_gsup.c, docs/core-network.md) */
	char gsup_remote[CFG_ADDR_MAX + 1];  /* host[:port] of the HLR */
	char gsup_name[CFG_NAME_MAX + 1];    /* IPA unit name */
	unsigned gsup_timeout_ms;
	unsigned gsup_spare_ttl;             /* seconds a spare vector is kept */

	/* [zn] (bsf/zn/zn.h, docs/zn.md) */
	int zn_enabled;                      /* 0: no Zn, no Diameter listener */
	char zn_listen[CFG_NAME_MAX + 1];    /* numeric IP address to listen on */
	unsigned zn_port;
	unsigned zn_threads;                 /* freeDiameter AppServThreads */
	char zn_identity[CFG_NAME_MAX + 1];  /* default: zh.origin_host */
	char zn_realm[CFG_NAME_MAX + 1];     /* default: zh.origin_realm */
	int zn_accept_unknown_peers;         /* 1: any NAF may connect (TLS: if its cert names it) */
	int zn_transport;                    /* enum gba_dia_transport: 0 tls, 1 tcp */
	char zn_tls_cert[CFG_PATH_MAX];      /* names zn.identity */
	char zn_tls_key[CFG_PATH_MAX];
	char zn_tls_ca[CFG_PATH_MAX];        /* CA of the NAFs' certificates */
	char zn_peers[CFG_ZN_LIST_MAX];      /* identities and *.domains, space-separated */
	char zn_nafs[CFG_ZN_LIST_MAX];       /* PEER=FQDN|...; ... */
	char zn_naf_groups[CFG_ZN_LIST_MAX]; /* GROUP=FQDN|...; ... */
	int zn_policy;                       /* enum zn_policy_kind: 0 guss, 1 allow */
	char zn_http_listen[CFG_ADDR_MAX + 1]; /* Zn as Nbsp_GBA, HTTPS/1.1; "": off */
	char zn_http2_listen[CFG_ADDR_MAX + 1]; /* the same over HTTP/2; "": off */
	char zn_http_tls_cert[CFG_PATH_MAX];
	char zn_http_tls_key[CFG_PATH_MAX];
	char zn_http_tls_ca[CFG_PATH_MAX];   /* CA of the NAFs' client certificates */

	/* [log] */
	enum gba_log_level log_level;
	enum gba_log_impi_mode log_impi;
};

/*
 * Tracks which keys were set, so that a key given twice in the file is an
 * error and an override from the command line is not.
 */
struct config_seen {
	unsigned char set[64];
};

/* Fill every key with its default (derived defaults stay empty). */
void config_defaults(struct bsf_config *cfg);

/*
 * Parse a config file (name is used in messages).  Returns 0, or -1 with
 * "name:line: what" in err.
 */
int config_parse_file(struct bsf_config *cfg, struct config_seen *seen, FILE *f,
		      const char *name, char *err, size_t err_size);

/* Set "section.key=value" (a --set argument).  -1 with a message in err. */
int config_set_arg(struct bsf_config *cfg, const char *arg, char *err, size_t err_size);

/* The same for an option that stands for a key: opt names it in the message. */
int config_set_opt(struct bsf_config *cfg, const char *opt, const char *arg, char *err,
		   size_t err_size);

/* Set one key; -1 with a message ("unknown key", "not a number ...") in err. */
int config_set(struct bsf_config *cfg, const char *section, const char *key,
	       const char *value, char *err, size_t err_size);

/*
 * Fill the derived defaults (realm from domain, paths under state_dir)
 * and check the whole: -1 with a message in err.
 */
int config_finish(struct bsf_config *cfg, char *err, size_t err_size);

/* Print every key with its default and meaning (for --help). */
void config_print_keys(FILE *out);

/* Print the effective configuration as a config file (for --check). */
void config_print(const struct bsf_config *cfg, FILE *out);

/*
 * gsup.remote: "host" or "host:port" (an IPv4 address or a name; port
 * 4222 when not given) into host (size octets) and *port.  -1 when
 * malformed.
 */
int config_gsup_remote(const char *text, char *host, size_t size, unsigned *port);

/* A thread count from the configuration: the value, or one per CPU for 0. */
unsigned config_threads(unsigned configured);
/*
 * Ub's HTTP workers: bsf.threads, or when 0 one per CPU, and
 * UB_REMOTE_THREADS_PER_CPU per CPU with gsup, whose fetch blocks its
 * worker for a network round trip (zh and cx hold the request instead and
 * free the worker: more workers there only cost CPU, docs/zh.md).
 */
#define UB_REMOTE_THREADS_PER_CPU 16
unsigned config_ub_threads(const struct bsf_config *cfg);

#endif /* GBA_BSF_CONFIG_H */
