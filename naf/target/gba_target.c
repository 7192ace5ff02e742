/*
 * gba-target - plays the target CSE of oneM2M MAF Key Retrieval
 * (TS-0003 8.8.3): authenticates to gba-naf with TLS-PSK under its own
 * configured PSK (psk_identity "oneM2M-target,<CSE-ID>"), fetches Kc by key
 * id, prints the registering node's identity and Kc's check value (Kc
 * itself only with --show-key).
 *
 *   gba-target --naf HOST:PORT --fqdn NAF_FQDN --cse-id ID --psk-file FILE
 *              --key-id ID [--show-key]
 *
 * Output: one JSON object.  Exit 0 on success, 1 when the NAF refuses or is
 * unreachable, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gba/m2m.h>
#include <gba/util.h>

#include "gba_cli.h"

struct opts {
	char host[256];
	unsigned port;
	const char *fqdn, *cse_id, *psk_file, *key_id;
	int show_key, timeout_ms;
};

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "gba-target: %s\n", why);
	fprintf(why ? stderr : stdout,
		"Usage: gba-target --naf HOST:PORT --fqdn NAF_FQDN --cse-id ID --psk-file FILE\n"
		"                  --key-id KEY_ID [--show-key] [--timeout MS]\n"
		"       gba-target -h|--help | -V|--version\n"
		"  Retrieves a session key Kc from gba-naf as the target CSE ID, which\n"
		"  authenticates with the PSK (hex) in FILE (mode 0600).  Prints JSON with\n"
		"  the node id and Kc's check value; Kc itself only with --show-key.\n"
		"  Exit: 0 retrieved, 1 refused or unreachable, 2 usage.\n");
	return 2;
}

/* The options that take a value. */
static int takes_value(const char *a)
{
	static const char *const names[] = {
		"--naf", "--fqdn", "--cse-id", "--psk-file", "--key-id", "--timeout", NULL,
	};

	for (int i = 0; names[i]; i++)
		if (!strcmp(a, names[i]))
			return 1;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->timeout_ms = 5000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--show-key")) {
			o->show_key = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(NULL);
			exit(0);
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			gba_cli_version("gba-target");
			exit(0);
		}
		if (!takes_value(a)) {
			fprintf(stderr, "gba-target: unknown option '%s'\n", a);
			return usage("known options are these");
		}
		if (!v)
			return usage("missing value");
		i++;
		if (!strcmp(a, "--naf")) {
			const char *colon = strrchr(v, ':');
			if (!colon || (size_t)(colon - v) >= sizeof(o->host) || !atoi(colon + 1))
				return usage("--naf: HOST:PORT");
			memcpy(o->host, v, (size_t)(colon - v));
			o->port = (unsigned)atoi(colon + 1);
		} else if (!strcmp(a, "--fqdn")) o->fqdn = v;
		else if (!strcmp(a, "--cse-id")) o->cse_id = v;
		else if (!strcmp(a, "--psk-file")) o->psk_file = v;
		else if (!strcmp(a, "--key-id")) o->key_id = v;
		else if (!strcmp(a, "--timeout")) o->timeout_ms = atoi(v);
		else return usage("unknown option");
	}
	if (!o->port || !o->fqdn || !o->cse_id || !o->psk_file || !o->key_id || o->timeout_ms <= 0)
		return usage("--naf, --fqdn, --cse-id, --psk-file and --key-id are required");
	return 0;
}

/* The PSK: hex in a file nobody else may read. */
static int read_psk(const char *path, uint8_t *psk, size_t size, size_t *len)
{
	char hex[160] = "";
	struct stat st;
	FILE *f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) || (st.st_mode & 077)) {
		fprintf(stderr, "gba-target: %s: %s\n", path,
			f ? "readable by others (chmod 600)" : "cannot open");
		if (f)
			fclose(f);
		return -1;
	}
	int ok = fgets(hex, sizeof(hex), f) != NULL;
	fclose(f);
	hex[strcspn(hex, "\r\n")] = 0;
	ok = ok && !gba_hex_decode(psk, size, len, hex, strlen(hex)) && *len >= 16;
	gba_wipe(hex, sizeof(hex));
	if (!ok)
		fprintf(stderr, "gba-target: %s: not a hex PSK of 16..64 octets\n", path);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	uint8_t psk[64];
	size_t psk_len = 0;
	struct gba_m2m_key_answer a;
	struct gba_m2m_response *r = calloc(1, sizeof(*r));
	char kcv[GBA_M2M_KCV_LEN], kc_hex[65];
	if (!r)
		return 1;
	int rc = parse(argc, argv, &o);
	if (rc || read_psk(o.psk_file, psk, sizeof(psk), &psk_len)) {
		free(r);
		return rc ? rc : 2;
	}
	struct gba_m2m_peer peer = { .host = o.host, .port = o.port, .timeout_ms = o.timeout_ms };
	gba_err err = gba_m2m_retrieve_key(&peer, o.fqdn, o.cse_id, psk, psk_len, o.key_id, &a, r);
	gba_wipe(psk, sizeof(psk));
	if (err) {
		printf("{\"result\":\"error\",\"status\":%d,\"error\":\"%s\",\"detail\":\"%s\"}\n",
		       r->status, gba_err_name(err), r->error);
		free(r);
		return 1;
	}
	gba_kcv(kcv, a.kc, sizeof(a.kc));
	printf("{\"result\":\"ok\",\"key_id\":\"%s\",\"node_id\":\"%s\",\"expires\":\"%s\","
	       "\"kc_kcv\":\"%s\"", a.key_id, a.node_id, a.expires, kcv);
	if (o.show_key) {
		gba_hex_encode(kc_hex, sizeof(kc_hex), a.kc, sizeof(a.kc));
		printf(",\"kc\":\"%s\"", kc_hex);
		gba_wipe(kc_hex, sizeof(kc_hex));
	}
	printf("}\n");
	gba_wipe(&a, sizeof(a));
	free(r);
	return 0;
}
