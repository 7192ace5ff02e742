/*
 * config.c - reading gba-naf's configuration.
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include "config.h"

void ncfg_defaults(struct naf_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/gba-naf");
	snprintf(c->digest_listen, sizeof(c->digest_listen), "0.0.0.0:8090");
	snprintf(c->tls_listen, sizeof(c->tls_listen), "0.0.0.0:8443");
	memcpy(c->ua_id, GBA_UA_TLS12_PSK_AES128_CBC_SHA256, 5);
	/* TLS 1.2: TLS_PSK_WITH_AES_128_CBC_SHA256 (00AE), _AES_128_GCM_SHA256 (00A8),
	 * _AES_128_CCM_8 (C0A8); TLS 1.3: external PSK (psk_ke), AES-128-GCM. */
	snprintf(c->tls_priorities, sizeof(c->tls_priorities), "%s",
		 "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+PSK:+AES-128-CBC:+AES-128-GCM:+AES-128-CCM-8:"
		 "+SHA256:+AEAD:+COMP-NULL:+SIGN-ALL:+CTYPE-X509:+GROUP-ALL");
	c->log_level = GBA_LOG_INFO;
	c->nonce_lifetime = 30;
	c->max_body = 4096;
	c->threads = 4;
	c->max_connections = 4096;
	c->max_connections_per_ip = 256;
	c->handshake_timeout = 10;
	c->header_timeout = 10;
	snprintf(c->admin_listen, sizeof(c->admin_listen), "127.0.0.1:8091");
	c->key_lifetime = 3600;
	c->min_key_lifetime = 60;
	snprintf(c->node_id_prefix, sizeof(c->node_id_prefix), "CAE");
	c->zn_bsf_port = 3868;
	c->zn_timeout_ms = 2000;
}

int ncfg_parse_duration(const char *s, unsigned *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10), mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || errno || v > 0xffffffffUL / mul)
		return -1;
	*out = (unsigned)(v * mul);
	return 0;
}

static int set_str(char *dst, size_t size, const char *v)
{
	return snprintf(dst, size, "%s", v) >= (int)size ? -1 : 0;
}

static int set_map(struct ncfg_map *m, const char *key, const char *v)
{
	if (m->n >= NCFG_MAP_MAX || strlen(key) > NCFG_STR || strlen(v) > NCFG_STR ||
	    ncfg_map_get(m, key))
		return -1;
	strcpy(m->key[m->n], key);
	strcpy(m->value[m->n], v);
	m->n++;
	return 0;
}

static int set_bool(int *dst, const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*dst = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*dst = 0;
	else
		return -1;
	return 0;
}

static int set_ua_id(uint8_t out[5], const char *v)
{
	char hex[11];
	size_t n = 0, got;
	for (; *v && n < sizeof(hex) - 1; v++)   /* "01 00 01 00 AE" or "01000100ae" */
		if (*v != ' ' && *v != ':')
			hex[n++] = *v;
	if (*v || n != 10)
		return -1;
	return gba_hex_decode(out, 5, &got, hex, 10) || got != 5 ? -1 : 0;
}

/*
 * Zn's transport: "tls" (0, as GBA_DIA_TLS) or "tcp" (1, GBA_DIA_TCP) for
 * Diameter; "nbsp" for Nbsp_GBA (TS 29.309) over HTTPS instead.
 */
static int set_transport(struct naf_config *c, const char *v)
{
	c->zn_nbsp = !strcmp(v, "nbsp");
	if (!strcmp(v, "tls") || c->zn_nbsp)
		c->zn_transport = 0;
	else if (!strcmp(v, "tcp"))
		c->zn_transport = 1;
	else
		return -1;
	return 0;
}

/* zn.http_version: "2" (ALPN h2, the default), "1.1", "2-prior-knowledge". */
static int set_http_version(struct naf_config *c, const char *v)
{
	static const char *const names[] = { "2", "1.1", "2-prior-knowledge" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i])) {
			c->zn_http_version = i;
			return 0;
		}
	return -1;
}

/* The scalar keys. */
static int set_scalar(struct naf_config *c, const char *sec, const char *key, const char *v)
{
#define IS(s, k) (!strcmp(sec, s) && !strcmp(key, k))
	if (IS("naf", "fqdn")) return set_str(c->fqdn, sizeof(c->fqdn), v);
	if (IS("naf", "state_dir")) return set_str(c->state_dir, sizeof(c->state_dir), v);
	if (IS("ua", "digest_listen")) return set_str(c->digest_listen, sizeof(c->digest_listen), v);
	if (IS("ua", "tls_listen")) return set_str(c->tls_listen, sizeof(c->tls_listen), v);
	if (IS("ua", "ua_id")) return set_ua_id(c->ua_id, v);
	if (IS("ua", "tls_priorities"))
		return set_str(c->tls_priorities, sizeof(c->tls_priorities), v);
	if (IS("ua", "nonce_lifetime")) return ncfg_parse_duration(v, &c->nonce_lifetime);
	if (IS("ua", "max_body")) return ncfg_parse_duration(v, &c->max_body);
	if (IS("ua", "threads")) return ncfg_parse_duration(v, &c->threads);
	if (IS("ua", "max_connections")) return ncfg_parse_duration(v, &c->max_connections);
	if (IS("ua", "max_connections_per_ip"))
		return ncfg_parse_duration(v, &c->max_connections_per_ip);
	if (IS("ua", "handshake_timeout")) return ncfg_parse_duration(v, &c->handshake_timeout);
	if (IS("ua", "header_timeout")) return ncfg_parse_duration(v, &c->header_timeout);
	if (IS("admin", "listen")) return set_str(c->admin_listen, sizeof(c->admin_listen), v);
	if (IS("store", "uri")) return set_str(c->store_uri, sizeof(c->store_uri), v);
	if (IS("keys", "kek")) return set_str(c->keys_kek, sizeof(c->keys_kek), v);
	if (IS("keys", "pin_file")) return set_str(c->keys_pin_file, sizeof(c->keys_pin_file), v);
	if (IS("keys", "module")) return set_str(c->keys_module, sizeof(c->keys_module), v);
	if (IS("policy", "key_lifetime")) return ncfg_parse_duration(v, &c->key_lifetime);
	if (IS("policy", "min_key_lifetime")) return ncfg_parse_duration(v, &c->min_key_lifetime);
	if (IS("policy", "node_id_prefix"))
		return set_str(c->node_id_prefix, sizeof(c->node_id_prefix), v);
	if (IS("zn", "identity")) return set_str(c->zn_identity, sizeof(c->zn_identity), v);
	if (IS("zn", "realm")) return set_str(c->zn_realm, sizeof(c->zn_realm), v);
	if (IS("zn", "bsf_identity"))
		return set_str(c->zn_bsf_identity, sizeof(c->zn_bsf_identity), v);
	if (IS("zn", "bsf_address"))
		return set_str(c->zn_bsf_address, sizeof(c->zn_bsf_address), v);
	if (IS("zn", "bsf_port")) return ncfg_parse_duration(v, &c->zn_bsf_port);
	if (IS("zn", "timeout_ms")) return ncfg_parse_duration(v, &c->zn_timeout_ms);
	if (IS("zn", "gba_u_aware")) return set_bool(&c->zn_gba_u_aware, v);
	if (IS("zn", "transport")) return set_transport(c, v);
	if (IS("zn", "api_root")) return set_str(c->zn_api_root, sizeof(c->zn_api_root), v);
	if (IS("zn", "http_version")) return set_http_version(c, v);
	if (IS("zn", "tls_cert")) return set_str(c->zn_tls_cert, sizeof(c->zn_tls_cert), v);
	if (IS("zn", "tls_key")) return set_str(c->zn_tls_key, sizeof(c->zn_tls_key), v);
	if (IS("zn", "tls_ca")) return set_str(c->zn_tls_ca, sizeof(c->zn_tls_ca), v);
	if (IS("log", "level")) return gba_log_level_parse(v, &c->log_level);
#undef IS
	return -2;
}

static int set_key(struct naf_config *c, const char *sec, const char *key, const char *v)
{
	if (!strcmp(sec, "nodes")) return set_map(&c->nodes, key, v);
	if (!strcmp(sec, "targets")) return set_map(&c->targets, key, v);
	if (!strcmp(sec, "groups")) return set_map(&c->groups, key, v);
	if (!strcmp(sec, "lifetimes")) {
		unsigned s;
		return ncfg_parse_duration(v, &s) ? -1 : set_map(&c->lifetimes, key, v);
	}
	return set_scalar(c, sec, key, v);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int one_line(struct naf_config *c, char *line, char *sec, size_t sec_size,
		    const char **why)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return 0;
	if (*s == '[') {
		char *e = strchr(s, ']');
		if (!e || e[1] || (size_t)(e - s) >= sec_size) {
			*why = "bad section header";
			return -1;
		}
		*e = 0;
		strcpy(sec, s + 1);
		return 0;
	}
	char *eq = strchr(s, '=');
	if (!eq || !sec[0]) {
		*why = !sec[0] ? "key outside a section" : "not `key = value`";
		return -1;
	}
	*eq = 0;
	int rc = set_key(c, sec, trim(s), trim(eq + 1));
	*why = rc == -2 ? "unknown key" : "bad value (or key given twice)";
	return rc ? -1 : 0;
}

/* The longest line taken (as gba-bsf's reader); a longer one is refused, not cut. */
#define NCFG_LINE_MAX 4096

/* Why a line read with getline (n octets, newline included) cannot be parsed, or NULL. */
static const char *line_bytes(const char *line, size_t n)
{
	if (n && line[n - 1] == '\n')
		n--;
	if (memchr(line, '\0', n))
		return "NUL octet";
	if (n > NCFG_LINE_MAX)
		return "line longer than 4096 octets";
	return NULL;
}

int ncfg_load(struct naf_config *c, const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, sec[64] = "";
	size_t cap = 0;
	ssize_t n;
	unsigned no = 0;
	int rc = 0;

	if (!f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		const char *why = line_bytes(line, (size_t)n);
		no++;
		if (why || one_line(c, line, sec, sizeof(sec), &why)) {
			snprintf(err, err_size, "%s:%u: %s", path, no, why);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int ncfg_set_arg(struct naf_config *c, const char *arg, char *err, size_t err_size)
{
	char buf[2048], *dot, *eq;
	snprintf(buf, sizeof(buf), "%s", arg);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (!dot || !eq || dot > eq) {
		snprintf(err, err_size, "--set %s: expected section.key=value", arg);
		return -1;
	}
	*dot = *eq = 0;
	int rc = set_key(c, buf, dot + 1, eq + 1);
	if (rc)
		snprintf(err, err_size, "--set %s: %s", arg, rc == -2 ? "unknown key" : "bad value");
	return rc ? -1 : 0;
}

int ncfg_finish(struct naf_config *c, char *err, size_t err_size)
{
	if (!c->fqdn[0]) {
		snprintf(err, err_size, "[naf] fqdn is required");
		return -1;
	}
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
