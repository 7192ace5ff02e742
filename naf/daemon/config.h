/*
 * config.h - gba-naf's configuration: `key = value` lines in [section]s,
 * '#' comments (naf/etc/gba-naf.conf documents every key; docs/naf.md too).
 * Unknown sections or keys, and bad values, are errors naming the line.
 */
#ifndef GBA_NAF_CONFIG_H
#define GBA_NAF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "gba_log.h"

#define NCFG_STR 256
#define NCFG_PATH 1024
#define NCFG_MAP_MAX 256

/* A small name -> value table: [nodes], [targets], [groups], [lifetimes]. */
struct ncfg_map {
	unsigned n;
	char key[NCFG_MAP_MAX][NCFG_STR + 1];
	char value[NCFG_MAP_MAX][NCFG_STR + 1];
};

struct naf_config {
	/* [naf] */
	char fqdn[NCFG_STR + 1];           /* the NAF FQDN = MAF-ID; key ids end "@fqdn" */
	char state_dir[NCFG_PATH];
	/* [ua] */
	char digest_listen[NCFG_STR + 1];  /* Digest Ua over HTTP; "off": none */
	char tls_listen[NCFG_STR + 1];     /* TLS-PSK Ua; "off": none */
	uint8_t ua_id[5];                  /* Ua security protocol id of Km (TLS-PSK) */
	char tls_priorities[NCFG_STR + 1];
	unsigned nonce_lifetime;           /* seconds */
	unsigned max_body;                 /* octets of a request body */
	unsigned threads;                  /* libmicrohttpd threads per Ua port */
	unsigned max_connections;          /* open at once per Ua port (then evict) */
	unsigned max_connections_per_ip;   /* per client address and port; 0: no limit */
	unsigned handshake_timeout;        /* seconds: accept to the end of the TLS handshake */
	unsigned header_timeout;           /* seconds: to a whole request, and between requests */
	/* [admin] */
	char admin_listen[NCFG_STR + 1];   /* loopback only; "off": none */
	/* [store] */
	char store_uri[NCFG_PATH];         /* sqlite:<path> or redis://... */
	/* [keys]: Kc in the store wrapped under a KEK in a PKCS#11 token */
	char keys_kek[NCFG_PATH];          /* pkcs11: URI; "": plain */
	char keys_pin_file[NCFG_PATH];
	char keys_module[NCFG_PATH];       /* "": the modules p11-kit knows */
	/* [policy] */
	unsigned key_lifetime;             /* default and ceiling of a session key, seconds */
	unsigned min_key_lifetime;
	char node_id_prefix[NCFG_STR + 1]; /* assigned ids: prefix + 16 hex of SHA-256(IMPI) */
	/* [zn] */
	char zn_identity[NCFG_STR + 1];
	char zn_realm[NCFG_STR + 1];
	char zn_bsf_identity[NCFG_STR + 1];
	char zn_bsf_address[NCFG_STR + 1];
	unsigned zn_bsf_port;
	unsigned zn_timeout_ms;
	int zn_gba_u_aware;
	int zn_transport;                  /* enum gba_dia_transport: 0 tls (default), 1 tcp */
	char zn_tls_cert[NCFG_PATH];       /* our certificate: names zn.identity */
	char zn_tls_key[NCFG_PATH];
	char zn_tls_ca[NCFG_PATH];         /* the CA of the BSF's certificate */
	int zn_nbsp;                       /* zn.transport = nbsp: Nbsp_GBA, not Diameter */
	char zn_api_root[NCFG_PATH];       /* Nbsp_GBA apiRoot: https://host:port[/prefix] */
	int zn_http_version;               /* enum gba_naf_http_version: 0 "2", 1 "1.1", 2 "2-prior-knowledge" */
	/* [log] */
	enum gba_log_level log_level;
	/* Tables */
	struct ncfg_map nodes;      /* IMPI -> CSE-ID/AE-ID assigned by configuration */
	struct ncfg_map targets;    /* target CSE-ID -> hex PSK */
	struct ncfg_map groups;     /* node id -> group name */
	struct ncfg_map lifetimes;  /* node id or "group:<name>" -> seconds */
};

void ncfg_defaults(struct naf_config *c);

/* Parse the file at path; -1 with "path:line: what" in err. */
int ncfg_load(struct naf_config *c, const char *path, char *err, size_t err_size);

/* "section.key=value" from the command line; -1 with a message. */
int ncfg_set_arg(struct naf_config *c, const char *arg, char *err, size_t err_size);

/* 1 when a listen key says no listener ("off" or empty). */
int ncfg_listen_off(const char *listen);

/* Check the whole (listen addresses through gba_conf_listen_addr) and fill
 * derived defaults; -1 with a message. */
int ncfg_finish(struct naf_config *c, char *err, size_t err_size);

/* The value for key in m, or NULL. */
const char *ncfg_map_get(const struct ncfg_map *m, const char *key);

/* Session key lifetime ceiling for a node: node, then its group, then default. */
unsigned ncfg_lifetime_for(const struct naf_config *c, const char *node_id);

/* Parse "30", "30s", "5m", "1h", "2d" into seconds; -1 when not that. */
int ncfg_parse_duration(const char *s, unsigned *out);

#endif /* GBA_NAF_CONFIG_H */
