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

#include "cmd.h"

const char *cmd_opt(const struct cmd_opts *o, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < o->n_extra; i++)
		if (!strncmp(o->extra[i], key, kl) && o->extra[i][kl] == '=')
			return o->extra[i] + kl + 1;
	return NULL;
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
