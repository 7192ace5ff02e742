/* options.c - gba-client's common options and their defaults. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include <gba_conf.h>

#include "cmd.h"

const char *cmd_opt(const struct cmd_opts *o, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < o->n_extra; i++)
		if (!strncmp(o->extra[i], key, kl) && o->extra[i][kl] == '=')
			return o->extra[i] + kl + 1;
	return NULL;
}

/* Any value: each subcommand checks the ones it reads. */
static int take_any(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		    size_t why_size)
{
	(void)obj, (void)k, (void)v, (void)why, (void)why_size;
	return 0;
}

#define O(name) { .section = "", .key = name, .type = GBA_CONF_FUNC, .set = take_any }

/* Every -o key some subcommand reads (cmd_opt); the shared reader refuses others. */
static const struct gba_conf_key o_keys[] = {
	O("app"), O("via"), O("naf-addr"), O("km-ua-id"), O("psk-identity"), O("target"),
	O("lifetime"), O("suid"), O("tls-priorities"),
};

static const struct gba_conf_spec o_spec = {
	.keys = o_keys, .n_keys = sizeof(o_keys) / sizeof(o_keys[0]),
};

int cmd_check_opt(const char *arg, char *err, size_t err_size)
{
	return gba_conf_set_arg(&o_spec, NULL, "-o", arg, err, err_size);
}

int cmd_parse_ua_id(const char *s, uint8_t out[5])
{
	static const struct {
		const char *name;
		const uint8_t *id;
	} names[] = {
		{ "http-digest", GBA_UA_HTTP_DIGEST }, { "pki-portal", GBA_UA_PKI_PORTAL },
		{ "mbms", GBA_UA_MBMS }, { "gpl", GBA_UA_GPL }, { "tls13", GBA_UA_TLS13 },
		{ "tmpi", GBA_UA_TMPI },
	};
	size_t n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			memcpy(out, names[i].id, 5);
			return 0;
		}
	return gba_hex_decode(out, 5, &n, s, strlen(s)) || n != 5 ? -1 : 0;
}
