/*
 * config.c - gba-naf's configuration: its table of keys and of name -> value
 * sections for the shared reader (lib/conf), the checks of the whole, and
 * the lookups the service makes.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include <gba_conf.h>

#include "config.h"

/* Ua security protocol id: "01 00 01 00 AE", "01:00:01:00:ae" or "01000100ae". */
static int set_ua_id(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		     size_t why_size)
{
	uint8_t *out = (uint8_t *)obj + k->off;
	char hex[11];
	size_t n = 0, got;

	for (; *v && n < sizeof(hex) - 1; v++)
		if (*v != ' ' && *v != ':')
			hex[n++] = *v;
	if (*v || n != 10 || gba_hex_decode(out, 5, &got, hex, 10) || got != 5)
		return snprintf(why, why_size, "5 octets in hex expected (01 00 01 00 AE)"), -1;
	return 0;
}

/*
 * Zn's transport: "tls" (0, as GBA_DIA_TLS) or "tcp" (1, GBA_DIA_TCP) for
 * Diameter; "nbsp" for Nbsp_GBA (TS 29.309) over HTTPS instead.
 */
static int set_transport(void *obj, const struct gba_conf_key *k, const char *v, char *why,
			 size_t why_size)
{
	struct naf_config *c = obj;

	(void)k;
	if (strcmp(v, "tls") && strcmp(v, "tcp") && strcmp(v, "nbsp"))
		return snprintf(why, why_size, "'%.16s' is not one of tls, tcp, nbsp", v), -1;
	c->zn_nbsp = !strcmp(v, "nbsp");
	c->zn_transport = !strcmp(v, "tcp");
	return 0;
}

/* zn.http_version: "2" (ALPN h2, the default), "1.1", "2-prior-knowledge". */
static const struct gba_conf_name http_version_names[] = {
	{ "2", 0 },
	{ "1.1", 1 },
	{ "2-prior-knowledge", 2 },
	{ NULL, 0 },
};

#define OFF(f) offsetof(struct naf_config, f)
#define STR(sec, k, f, def_) \
	{ .section = sec, .key = k, .type = GBA_CONF_STR, .off = OFF(f), \
	  .size = sizeof(((struct naf_config *)0)->f), .def = def_ }
#define UINT(sec, k, f, lo, hi, def_) \
	{ .section = sec, .key = k, .type = GBA_CONF_UINT, .off = OFF(f), .min = lo, .max = hi, \
	  .def = def_ }
#define DUR(sec, k, f, lo, hi, def_) \
	{ .section = sec, .key = k, .type = GBA_CONF_DURATION, .off = OFF(f), .min = lo, \
	  .max = hi, .def = def_ }
#define FUNC(sec, k, f, fn, def_) \
	{ .section = sec, .key = k, .type = GBA_CONF_FUNC, .off = OFF(f), .set = fn, .def = def_ }

/* TLS 1.2: TLS_PSK_WITH_AES_128_CBC_SHA256 (00AE), _AES_128_GCM_SHA256 (00A8),
 * _AES_128_CCM_8 (C0A8); TLS 1.3: external PSK (psk_ke), AES-128-GCM. */
#define DEFAULT_PRIORITIES \
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+PSK:+AES-128-CBC:+AES-128-GCM:+AES-128-CCM-8:" \
	"+SHA256:+AEAD:+COMP-NULL:+SIGN-ALL:+CTYPE-X509:+GROUP-ALL"

static const struct gba_conf_key keys[] = {
	STR("naf", "fqdn", fqdn, ""),
	STR("naf", "state_dir", state_dir, "/var/lib/gba-naf"),
	STR("ua", "digest_listen", digest_listen, "0.0.0.0:8090"),
	STR("ua", "tls_listen", tls_listen, "0.0.0.0:8443"),
	FUNC("ua", "ua_id", ua_id, set_ua_id, "01 00 01 00 AE"),
	STR("ua", "tls_priorities", tls_priorities, DEFAULT_PRIORITIES),
	DUR("ua", "nonce_lifetime", nonce_lifetime, 1, 86400, "30s"),
	UINT("ua", "max_body", max_body, 0, 16u << 20, "4096"),
	UINT("ua", "threads", threads, 1, 64, "4"),
	UINT("ua", "max_connections", max_connections, 1, 1000000, "4096"),
	UINT("ua", "max_connections_per_ip", max_connections_per_ip, 0, 1000000, "256"),
	DUR("ua", "handshake_timeout", handshake_timeout, 1, 3600, "10s"),
	DUR("ua", "header_timeout", header_timeout, 1, 3600, "10s"),
	STR("admin", "listen", admin_listen, "127.0.0.1:8091"),
	STR("store", "uri", store_uri, ""),
	STR("keys", "kek", keys_kek, ""),
	STR("keys", "pin_file", keys_pin_file, ""),
	STR("keys", "module", keys_module, ""),
	DUR("policy", "key_lifetime", key_lifetime, 0, 0xffffffffu, "3600"),
	DUR("policy", "min_key_lifetime", min_key_lifetime, 0, 0xffffffffu, "60"),
	STR("policy", "node_id_prefix", node_id_prefix, "CAE"),
	STR("zn", "identity", zn_identity, ""),
	STR("zn", "realm", zn_realm, ""),
	STR("zn", "bsf_identity", zn_bsf_identity, ""),
	STR("zn", "bsf_address", zn_bsf_address, ""),
	UINT("zn", "bsf_port", zn_bsf_port, 1, 65535, "3868"),
	UINT("zn", "timeout_ms", zn_timeout_ms, 1, 600000, "2000"),
	{ .section = "zn", .key = "gba_u_aware", .type = GBA_CONF_BOOL, .off = OFF(zn_gba_u_aware),
	  .def = "no" },
	FUNC("zn", "transport", zn_transport, set_transport, "tls"),
	STR("zn", "api_root", zn_api_root, ""),
	{ .section = "zn", .key = "http_version", .type = GBA_CONF_ENUM,
	  .off = OFF(zn_http_version), .names = http_version_names, .def = "2" },
	STR("zn", "tls_cert", zn_tls_cert, ""),
	STR("zn", "tls_key", zn_tls_key, ""),
	STR("zn", "tls_ca", zn_tls_ca, ""),
	{ .section = "log", .key = "level", .type = GBA_CONF_ENUM, .off = OFF(log_level),
	  .names = gba_conf_log_level_names, .def = "info" },
};

/* One entry of a name -> value table; a name given twice is refused. */
static int set_map(struct ncfg_map *m, const char *key, const char *v, char *why,
		   size_t why_size)
{
	const char *bad = m->n >= NCFG_MAP_MAX ? "more than 256 entries in the section" :
			  strlen(key) > NCFG_STR ? "name longer than 256 characters" :
			  strlen(v) > NCFG_STR ? "value longer than 256 characters" :
			  ncfg_map_get(m, key) ? "given twice" : NULL;

	if (bad)
		return snprintf(why, why_size, "%s", bad), -1;
	strcpy(m->key[m->n], key);
	strcpy(m->value[m->n], v);
	m->n++;
	return 0;
}

static int set_node(void *obj, const char *k, const char *v, char *why, size_t why_size)
{
	return set_map(&((struct naf_config *)obj)->nodes, k, v, why, why_size);
}

static int set_target(void *obj, const char *k, const char *v, char *why, size_t why_size)
{
	return set_map(&((struct naf_config *)obj)->targets, k, v, why, why_size);
}

static int set_group(void *obj, const char *k, const char *v, char *why, size_t why_size)
{
	return set_map(&((struct naf_config *)obj)->groups, k, v, why, why_size);
}

static int set_lifetime(void *obj, const char *k, const char *v, char *why, size_t why_size)
{
	unsigned s;

	if (ncfg_parse_duration(v, &s))
		return snprintf(why, why_size, "'%.64s' is not a duration (number with s, m, h or d)",
				v), -1;
	return set_map(&((struct naf_config *)obj)->lifetimes, k, v, why, why_size);
}

/* [targets] holds PSKs: its values never appear in a message. */
static const struct gba_conf_map maps[] = {
	{ "nodes", set_node, 0 },
	{ "targets", set_target, GBA_CONF_SECRET },
	{ "groups", set_group, 0 },
	{ "lifetimes", set_lifetime, 0 },
};

static const struct gba_conf_spec spec = {
	.keys = keys, .n_keys = sizeof(keys) / sizeof(keys[0]),
	.maps = maps, .n_maps = sizeof(maps) / sizeof(maps[0]),
	.flags = GBA_CONF_WIPE,
};

void ncfg_defaults(struct naf_config *c)
{
	memset(c, 0, sizeof(*c));
	gba_conf_defaults(&spec, c);
}

int ncfg_parse_duration(const char *s, unsigned *out)
{
	unsigned long long v;

	if (gba_conf_duration(s, &v) || v > 0xffffffffULL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int ncfg_load(struct naf_config *c, const char *path, char *err, size_t err_size)
{
	return gba_conf_load(&spec, c, path, NULL, err, err_size);
}

int ncfg_set_arg(struct naf_config *c, const char *arg, char *err, size_t err_size)
{
	return gba_conf_set_arg(&spec, c, "--set", arg, err, err_size);
}

/* Each listen address that is not "off" (the same parser as gba-bsf's). */
static int check_listens(const struct naf_config *c, char *err, size_t err_size)
{
	const struct { const char *name, *value; } l[] = {
		{ "[ua] digest_listen", c->digest_listen },
		{ "[ua] tls_listen", c->tls_listen },
		{ "[admin] listen", c->admin_listen },
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char why[GBA_CONF_ERR_MAX];

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (!ncfg_listen_off(l[i].value) &&
		    gba_conf_listen_addr(l[i].value, &ss, &len, why, sizeof(why)))
			return gba_conf_fail(err, err_size, "%s: %s", l[i].name, why);
	return 0;
}

int ncfg_listen_off(const char *listen)
{
	return !listen[0] || !strcmp(listen, "off");
}

int ncfg_finish(struct naf_config *c, char *err, size_t err_size)
{
	if (!c->fqdn[0]) {
		snprintf(err, err_size, "[naf] fqdn is required");
		return -1;
	}
	if (check_listens(c, err, err_size))
		return -1;
	if (!c->store_uri[0] &&
	    snprintf(c->store_uri, sizeof(c->store_uri), "sqlite:%s/naf-keys.db", c->state_dir) >=
		    (int)sizeof(c->store_uri)) {
		snprintf(err, err_size, "[naf] state_dir is too long");
		return -1;
	}
	if (c->keys_kek[0] && !c->keys_pin_file[0]) {
		snprintf(err, err_size, "[keys] kek needs pin_file");
		return -1;
	}
	if (strncmp(c->store_uri, "sqlite:", 7) && strncmp(c->store_uri, "redis://", 8) &&
	    strncmp(c->store_uri, "redis-sentinel://", 17)) {
		snprintf(err, err_size,
			 "[store] uri: sqlite:<path>, redis://host:port[/db][?options] or "
			 "redis-sentinel://host:port[,host:port...]/master[?options]");
		return -1;
	}
	if (c->threads < 1 || c->threads > 64 || c->max_connections < 1 ||
	    c->max_connections > 1000000 || c->handshake_timeout < 1 ||
	    c->handshake_timeout > 3600 || c->header_timeout < 1 || c->header_timeout > 3600) {
		snprintf(err, err_size, "[ua] needs threads 1..64, max_connections 1..1000000 and "
			 "timeouts of 1s..1h");
		return -1;
	}
	if (c->min_key_lifetime > c->key_lifetime || c->key_lifetime == 0) {
		snprintf(err, err_size, "[policy] needs 0 < min_key_lifetime <= key_lifetime");
		return -1;
	}
	for (unsigned i = 0; i < c->targets.n; i++) {
		size_t len = strlen(c->targets.value[i]);
		if (len < 32 || len > 128 || len % 2) {
			snprintf(err, err_size, "[targets] %s: the PSK must be 16..64 octets in hex",
				 c->targets.key[i]);
			return -1;
		}
	}
	if (c->zn_nbsp) {
		/* Cleartext h2c only as http_version = 2-prior-knowledge says. */
		int h2c = c->zn_http_version == 2 && !strncmp(c->zn_api_root, "http://", 7);
		if (!h2c && (strncmp(c->zn_api_root, "https://", 8) || !c->zn_tls_cert[0] ||
			     !c->zn_tls_key[0] || !c->zn_tls_ca[0])) {
			snprintf(err, err_size, "[zn] transport = nbsp needs api_root (https://...), "
						"tls_cert, tls_key and tls_ca (http:// only with "
						"http_version = 2-prior-knowledge)");
			return -1;
		}
		return 0;
	}
	if (!c->zn_identity[0] || !c->zn_realm[0] || !c->zn_bsf_identity[0] ||
	    !c->zn_bsf_address[0]) {
		snprintf(err, err_size, "[zn] identity, realm, bsf_identity and bsf_address are required");
		return -1;
	}
	/* TLS is what proves to the BSF that we are zn.identity. */
	if (c->zn_transport == 0 && (!c->zn_tls_cert[0] || !c->zn_tls_key[0] || !c->zn_tls_ca[0])) {
		snprintf(err, err_size, "[zn] transport = tls (the default) needs tls_cert, tls_key "
					"and tls_ca; transport = tcp for plain TCP");
		return -1;
	}
	return 0;
}

const char *ncfg_map_get(const struct ncfg_map *m, const char *key)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key))
			return m->value[i];
	return NULL;
}

unsigned ncfg_lifetime_for(const struct naf_config *c, const char *node_id)
{
	char gkey[NCFG_STR + 8];
	unsigned s;
	const char *v = ncfg_map_get(&c->lifetimes, node_id);
	const char *group = ncfg_map_get(&c->groups, node_id);
	if (!v && group) {
		snprintf(gkey, sizeof(gkey), "group:%s", group);
		v = ncfg_map_get(&c->lifetimes, gkey);
	}
	if (v && !ncfg_parse_duration(v, &s))
		return s;
	return c->key_lifetime;
}
