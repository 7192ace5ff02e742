/*
 * gba_test_ue.c - a test UE for the BSF: a soft USIM (libgba's USIM side,
 * SQN memory persisted in a file) and the Ub exchange over one keep-alive
 * HTTP/1.1 connection.  Prints one JSON object; exits 0 only on a verified
 * bootstrap (200, rspauth verified, BootstrappingInfo parsed).
 *
 * Keys are never printed: only key check values (the first 3 octets of
 * SHA-256 of the key, in hex).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include <gba/gba.h>

#include "gba_cli.h"
#include "keys.h"
#include "ub_client.h"
#include "ub_net.h"
#include "usim_state.h"

#define EXIT_USAGE 2

struct options {
	const char *url, *impi, *state, *realm, *naf, *algo;
	const char *k_file;
	struct key_input keys; /* from k_file: secret, wiped after make_key */
	unsigned tuak_iterations, res_len;
	uint64_t sqn_ahead;
	int gba_u;
	int trace;                 /* --trace: the steps on stderr */
	enum ub_fault fault;
	unsigned stale_seconds;
	int timeout_ms;
};

/* ---- JSON output ---------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_field(const char *name, const char *value)
{
	printf(",\"%s\":", name);
	json_string(value);
}

static int report_error(const char *stage, int status, const char *error)
{
	printf("{\"result\":\"error\"");
	json_field("stage", stage);
	printf(",\"status\":%d", status);
	json_field("error", error);
	printf("}\n");
	return 1;
}

static int usage_error(const char *error)
{
	report_error("usage", 0, error);
	fprintf(stderr, "gba-test-ue: %s (see --help)\n", error);
	return EXIT_USAGE;
}

/* The first 3 octets of SHA-256 of a key, in hex: shows which key, not the key. */
static void kcv(char out[7], const uint8_t *key, size_t len)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, key);
	sha256_digest(&ctx, sizeof(d), d);
	gba_hex_encode(out, 7, d, 3);
}

/*
 * The SQN of the AUTN the card accepted: the one slot whose SEQ moved
 * (SQN = SEQ << ind_bits | IND), or -1 when none did.  Lets a test check
 * that no SQN is ever issued twice across BSFs.
 */
static long long accepted_sqn(const struct gba_usim_sqn *before,
			      const struct gba_usim_sqn *after)
{
	for (unsigned i = 0; i < (1u << after->ind_bits) && i < GBA_IND_SLOTS_MAX; i++)
		if (after->seq_ms[i] != before->seq_ms[i])
			return (long long)((after->seq_ms[i] << after->ind_bits) | i);
	return -1;
}

static int report_success(const struct ub_session *s, const struct options *o, long long sqn)
{
	char when[GBA_XS_DATETIME_MAX], ks_kcv[7], naf_kcv[7];
	uint8_t ks_naf[32];

	if (gba_xs_datetime_format(when, sizeof(when), s->info.lifetime))
		strcpy(when, "");
	kcv(ks_kcv, s->ks, sizeof(s->ks));
	if (o->naf) {
		gba_err err = ub_session_ks_naf(s, o->naf, ks_naf);
		if (err)
			return report_error("ks-naf", s->result.status, gba_strerror(err));
		kcv(naf_kcv, ks_naf, sizeof(ks_naf));
		gba_wipe(ks_naf, sizeof(ks_naf));
	}
	printf("{\"result\":\"ok\",\"status\":%d", s->result.status);
	json_field("btid", s->info.btid);
	json_field("lifetime", when);
	printf(",\"lifetime_unix\":%lld,\"rounds\":%u,\"resyncs\":%u,\"sqn\":%lld",
	       (long long)s->info.lifetime, s->rounds, s->resyncs, sqn);
	json_field("algorithm", gba_digest_algorithm_name(s->algorithm));
	json_field("gba_type", o->gba_u ? "GBA_U" : "GBA_ME");
	json_field("ks_kcv", ks_kcv);
	if (s->result.rspauth_body)
		json_field("rspauth_body", s->result.rspauth_body);
	if (o->naf)
		json_field("ks_naf_kcv", naf_kcv);
	if (o->fault == UB_FAULT_REPLAY)
		printf(",\"replay_status\":%d,\"replay_fresh_challenge\":%s",
		       s->result.replay_status, s->result.replay_fresh_challenge ? "true" : "false");
	printf("}\n");
	return 0;
}

static int report_failure(const struct ub_session *s)
{
	printf("{\"result\":\"error\"");
	json_field("stage", s->result.stage ? s->result.stage : "unknown");
	printf(",\"status\":%d", s->result.status);
	json_field("error", s->result.error);
	json_field("kind", ub_fail_name(s->result.fail));
	printf(",\"rounds\":%u,\"resyncs\":%u", s->rounds, s->resyncs);
	if (s->result.status == 401)
		printf(",\"fresh_challenge\":%s", s->result.fresh_challenge ? "true" : "false");
	if (s->result.retry_after[0])
		json_field("retry_after", s->result.retry_after);
	printf("}\n");
	return 1;
}

/* ---- Options ----------------------------------------------------------------- */

static void help(void)
{
	printf("Usage: gba-test-ue --url http://HOST:PORT/ --impi IMPI --k-file FILE [options]\n"
	       "  --k-file FILE           K and OPc (or OP): k=HEX and opc=HEX (or op=HEX)\n"
	       "                          lines, as gba-subscriber reads them ('-': stdin)\n"
	       "  --algo milenage|tuak    AKA algorithm set (default milenage)\n"
	       "  --tuak-iterations N     TUAK Keccak iterations (default 1)\n"
	       "  --res-len N             RES length in octets: 8 (Milenage); 4, 8, 16 (TUAK)\n"
	       "  --state FILE            USIM SQN memory, kept here (created 0600 if missing)\n"
	       "  --sqn-ahead N           first move the card's SQN N steps ahead (forces a resync)\n"
	       "  --gba-u                 User-Agent 3gpp-gba-uicc (default 3gpp-gba)\n"
	       "  --realm R               realm of the first request (default: the URL's host)\n"
	       "  --fault F               wrong-password | replay | stale:SECONDS | bad-auts |\n"
	       "                          no-rspauth-check | host-realm (answer with realm = Host)\n"
	       "  --naf FQDN              also print the Ks_NAF check value for this NAF\n"
	       "  --timeout MS            bound on the whole bootstrap (default 10000)\n"
	       "  --trace                 the steps on stderr (which body rspauth verified over)\n"
	       "  -h, --help              this text\n"
	       "  -V, --version           the version\n"
	       "Prints one JSON object; exit 0 only on a verified bootstrap, 1 on failure,\n"
	       "2 on a usage error.  Keys are shown only as check values (SHA-256, 3 octets),\n"
	       "and never taken on the command line.\n");
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_fault(const char *f, struct options *o)
{
	unsigned long long secs;

	if (!strcmp(f, "wrong-password"))
		o->fault = UB_FAULT_WRONG_PASSWORD;
	else if (!strcmp(f, "replay"))
		o->fault = UB_FAULT_REPLAY;
	else if (!strcmp(f, "bad-auts"))
		o->fault = UB_FAULT_BAD_AUTS;
	else if (!strcmp(f, "no-rspauth-check"))
		o->fault = UB_FAULT_NO_RSPAUTH_CHECK;
	else if (!strcmp(f, "host-realm"))
		o->fault = UB_FAULT_HOST_REALM;
	else if (!strncmp(f, "stale:", 6) && !parse_uint(f + 6, 3600, &secs)) {
		o->fault = UB_FAULT_STALE;
		o->stale_seconds = (unsigned)secs;
	} else
		return -1;
	return 0;
}

enum { OPT_URL = 256, OPT_IMPI, OPT_K_FILE, OPT_ALGO, OPT_TUAK_IT, OPT_RES_LEN,
       OPT_STATE, OPT_SQN_AHEAD, OPT_GBA_U, OPT_REALM, OPT_FAULT, OPT_NAF, OPT_TIMEOUT,
       OPT_TRACE, OPT_HELP = 'h', OPT_VERSION = 'V' };

static const struct option long_opts[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "impi", required_argument, NULL, OPT_IMPI },
	{ "k-file", required_argument, NULL, OPT_K_FILE },
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "tuak-iterations", required_argument, NULL, OPT_TUAK_IT },
	{ "res-len", required_argument, NULL, OPT_RES_LEN },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "sqn-ahead", required_argument, NULL, OPT_SQN_AHEAD },
	{ "gba-u", no_argument, NULL, OPT_GBA_U },
	{ "realm", required_argument, NULL, OPT_REALM },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "naf", required_argument, NULL, OPT_NAF },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* 0 ok, -1 usage error (*why, or reported when NULL), 1 --help, 2 --version. */
static int parse_options(int argc, char **argv, struct options *o, const char **why)
{
	unsigned long long v;
	int c;

	*why = NULL;
	memset(o, 0, sizeof(*o));
	o->algo = "milenage";
	o->tuak_iterations = 1;
	o->timeout_ms = 10000;
	opterr = 0;
	if (gba_cli_whole_names("gba-test-ue", argc, argv, long_opts))
		return -1;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_URL: o->url = optarg; break;
		case OPT_IMPI: o->impi = optarg; break;
		case OPT_K_FILE: o->k_file = optarg; break;
		case OPT_ALGO: o->algo = optarg; break;
		case OPT_TUAK_IT:
			if (parse_uint(optarg, GBA_TUAK_ITERATIONS_MAX, &v) || v == 0)
				*why = "--tuak-iterations: 1..255";
			o->tuak_iterations = (unsigned)v;
			break;
		case OPT_RES_LEN:
			if (parse_uint(optarg, 16, &v))
				*why = "--res-len: 4, 8 or 16";
			o->res_len = (unsigned)v;
			break;
		case OPT_STATE: o->state = optarg; break;
		case OPT_SQN_AHEAD:
			if (parse_uint(optarg, GBA_SQN_MAX, &v))
				*why = "--sqn-ahead: a number of SEQ steps";
			o->sqn_ahead = v;
			break;
		case OPT_GBA_U: o->gba_u = 1; break;
		case OPT_TRACE: o->trace = 1; break;
		case OPT_REALM: o->realm = optarg; break;
		case OPT_FAULT:
			if (parse_fault(optarg, o))
				*why = "--fault: wrong-password, replay, stale:SECONDS, bad-auts, "
				       "no-rspauth-check or host-realm";
			break;
		case OPT_NAF: o->naf = optarg; break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 3600000, &v) || v == 0)
				*why = "--timeout: milliseconds, 1..3600000";
			o->timeout_ms = (int)v;
			break;
		case OPT_HELP: return 1;
		case OPT_VERSION: return 2;
		case ':': *why = "an option is missing its value"; break;
		default: gba_cli_unknown("gba-test-ue", long_opts, "hV"); return -1;
		}
		if (*why)
			return -1;
	}
	if (optind < argc)
		*why = "unexpected argument";
	else if (!o->url || !o->impi || !o->k_file)
		*why = "--url, --impi and --k-file are required";
	return *why ? -1 : 0;
}

/* The card's key from the options. */
static const char *make_key(const struct options *o, struct gba_aka_key *key)
{
	const uint8_t *k = o->keys.k, *opc = o->keys.op;
	size_t k_len = o->keys.k_len, opc_len = o->keys.op_len;
	const char *why = NULL;

	if (!k_len || !opc_len)
		why = "--k-file: give k and opc (or op)";
	else if (!strcmp(o->algo, "milenage")) {
		if (k_len != 16 || opc_len != 16)
			why = "Milenage wants a 16-octet K and OP/OPc";
		else if (o->res_len && o->res_len != 8)
			why = "Milenage's RES is 8 octets";
		else
			gba_aka_key_milenage(key, k, opc, o->keys.op_is_op);
	} else if (!strcmp(o->algo, "tuak")) {
		if (opc_len != 32)
			why = "TUAK wants a 32-octet TOP/TOPc";
		else if (gba_aka_key_tuak(key, k, k_len, opc, o->keys.op_is_op, o->tuak_iterations,
					  o->res_len ? o->res_len : 8))
			why = "TUAK: K of 16 or 32 octets, RES of 4, 8 or 16";
	} else {
		why = "--algo: milenage or tuak";
	}
	return why;
}

/* ---- Main ------------------------------------------------------------------------- */

/* --trace: what the exchange came to, on stderr (no secret in it). */
static void trace(const struct ub_session *s)
{
	fprintf(stderr, "trace: %u round(s), %u resync(s), last status %d\n", s->rounds,
		s->resyncs, s->result.status);
	if (s->result.rspauth_body)
		fprintf(stderr, "trace: rspauth verified over the %s body%s\n",
			s->result.rspauth_body,
			strcmp(s->result.rspauth_body, "response")
				? " (the GET's, empty: ub.rspauth_body=request)"
				: " (the 200's BootstrappingInfo, TS 24.109)");
	else if (s->result.fail == UB_FAIL_RSPAUTH)
		fprintf(stderr, "trace: rspauth verified over neither body\n");
}

static int run(const struct options *o, const struct gba_aka_key *key)
{
	struct ub_url url;
	struct ub_addr addr;
	struct gba_usim_sqn sqn;
	int created, fd = -1, rc;
	gba_err err;

	err = ub_url_parse(o->url, &url);
	if (err)
		return usage_error(err == GBA_ERR_UNSUPPORTED ? "--url: only http:// is supported"
							      : "--url: not an http://host[:port]/ URL");
	if (o->state) {
		err = usim_state_load(o->state, &sqn, &created);
		if (err)
			return report_error("state", 0, err == GBA_ERR_PARSE
							    ? "the state file is not a USIM SQN state"
							    : "cannot read the state file");
	} else {
		usim_state_load("/nonexistent/gba-test-ue", &sqn, &created);
	}
	if (o->sqn_ahead && usim_state_advance(&sqn, o->sqn_ahead))
		return report_error("state", 0, "--sqn-ahead leaves the SQN range");
	if (ub_net_resolve(&url, &addr))
		return report_error("connect", 0, "cannot resolve the URL's host");

	struct ub_session *s = calloc(1, sizeof(*s));
	if (!s)
		return report_error("internal", 0, "out of memory");
	struct ub_params p = {
		.impi = o->impi,
		.key = key,
		.sqn = &sqn,
		.host = url.host_header,
		.uri = url.path,
		.realm = o->realm ? o->realm : url.host,
		.gba_u = o->gba_u,
		.fault = o->fault,
		.stale_seconds = o->stale_seconds,
	};
	struct gba_usim_sqn before = sqn;
	ub_session_begin(s, &p, 0);
	ub_net_run(s, &addr, &fd, o->timeout_ms);
	if (fd >= 0)
		close(fd);

	if (o->trace)
		trace(s);
	/* The card keeps what it accepted, whatever the BSF made of it. */
	if (o->state && usim_state_save(o->state, &sqn))
		rc = report_error("state", s->result.status, "cannot save the state file");
	else if (s->result.fail == UB_OK)
		rc = report_success(s, o, accepted_sqn(&before, &sqn));
	else
		rc = report_failure(s);
	ub_session_wipe(s);
	free(s);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct gba_aka_key key;
	const char *why;
	int rc;

	char err[256];

	rc = parse_options(argc, argv, &o, &why);
	if (rc == 1) {
		help();
		return 0;
	}
	if (rc == 2) {
		gba_cli_version("gba-test-ue");
		return 0;
	}
	if (rc < 0)
		return why ? usage_error(why) : EXIT_USAGE;
	if (key_file_read(o.k_file, &o.keys, err, sizeof(err))) {
		gba_wipe(&o.keys, sizeof(o.keys));
		return usage_error(err);
	}
	why = make_key(&o, &key);
	gba_wipe(&o.keys, sizeof(o.keys));
	if (why)
		return usage_error(why);
	rc = run(&o, &key);
	gba_wipe(&key, sizeof(key));
	fflush(stdout);
	return rc;
}
