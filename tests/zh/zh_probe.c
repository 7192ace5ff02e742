/*
 * zh-probe - the BSF's Zh source (bsf/zh) in a process of its own, driven
 * line by line by tests/zh/test_zh.py, with a simulated USIM (libgba's
 * USIM side) that checks every vector it gets.
 *
 *   zh-probe run --hss ADDR:PORT --hss-id ID --realm R [--timeout MS]
 *                [--shared-node] [--secrets FILE]
 *       then commands on stdin, one answer line each on stdout:
 *         card K OPC [SEQ]   the USIM's keys, and SEQ_MS of its slot 0
 *         fetch IMPI         -> fetch <error name> <ms> guss=<length>
 *         auth               -> auth <error name> (RES, CK, IK checked)
 *         resync IMPI        -> fetch with the last RAND and the card's AUTS
 *         badresync IMPI     -> the same with a spoiled AUTS
 *         raw KIND           -> raw KIND <Result-Code> (a crafted MAR;
 *                               needs --shared-node)
 *         wait-peer MS       -> wait-peer <error name>
 *         quit
 * --secrets appends CK, IK and XRES of every vector in hex to FILE, so that
 * the test can look for them in the logs.  Nothing else prints them.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/gba.h>

#include "../../bsf/zh/zh.h"
#include "zh_craft.h"
#include "gba_cli.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t n = 0;

	return gba_hex_decode(out, len, &n, hex, strlen(hex)) || n != len ? -1 : 0;
}

/* ---- run ------------------------------------------------------------------------- */

struct probe {
	struct av_source *src;
	struct gba_dia *dia;          /* with --shared-node */
	const char *hss_id;
	unsigned timeout_ms;
	FILE *secrets;
	/* the USIM */
	struct gba_aka_key key;
	struct gba_usim_sqn sqn;
	/* the last vector and the card's last AUTS */
	struct av_answer last;
	int have_last;
	uint8_t auts[GBA_AUTS_LEN];
	int have_auts;
};

static void note_secrets(struct probe *p, const struct gba_av *av)
{
	char hex[2 * GBA_RES_MAX + 1];

	if (!p->secrets)
		return;
	gba_hex_encode(hex, sizeof(hex), av->ck, 16);
	fprintf(p->secrets, "%s\n", hex);
	gba_hex_encode(hex, sizeof(hex), av->ik, 16);
	fprintf(p->secrets, "%s\n", hex);
	gba_hex_encode(hex, sizeof(hex), av->xres, av->xres_len);
	fprintf(p->secrets, "%s\n", hex);
	fflush(p->secrets);
}

static void do_fetch(struct probe *p, const char *impi, int resync, int spoil)
{
	struct av_answer ans;
	uint8_t rand[16], auts[GBA_AUTS_LEN];
	double t0;
	gba_err err;

	if (resync && (!p->have_last || !p->have_auts)) {
		printf("fetch no-auts 0 guss=0\n");
		return;
	}
	memcpy(rand, p->last.av.rand, 16);
	memcpy(auts, p->auts, sizeof(auts));
	if (spoil)
		auts[GBA_AUTS_LEN - 1] ^= 0x01;   /* MAC-S no longer verifies */
	t0 = now_ms();
	err = av_source_fetch(p->src, impi, resync ? rand : NULL, resync ? auts : NULL, &ans);
	printf("fetch %s %.0f guss=%zu\n", gba_err_name(err), now_ms() - t0,
	       err ? (size_t)0 : ans.guss_len);
	if (!err) {
		note_secrets(p, &ans.av);
		gba_wipe(&p->last, sizeof(p->last));
		p->last = ans;
		p->have_last = 1;
		p->have_auts = 0;
	}
	gba_wipe(&ans, sizeof(ans));
}

static void do_auth(struct probe *p)
{
	struct gba_usim_answer ua;
	gba_err err;

	if (!p->have_last) {
		printf("auth no-vector\n");
		return;
	}
	err = gba_usim_authenticate(&p->key, &p->sqn, p->last.av.rand, p->last.av.autn, &ua);
	if (!err && !(ua.res_len == p->last.av.xres_len &&
		      gba_ct_equal(ua.res, p->last.av.xres, ua.res_len) &&
		      gba_ct_equal(ua.ck, p->last.av.ck, 16) && gba_ct_equal(ua.ik, p->last.av.ik, 16)))
		err = GBA_ERR_AUTH_FAILED;   /* the HSS's vector is not this card's */
	if (err == GBA_ERR_SYNC_FAILURE) {
		memcpy(p->auts, ua.auts, sizeof(p->auts));
		p->have_auts = 1;
	}
	printf("auth %s\n", gba_err_name(err));
	gba_wipe(&ua, sizeof(ua));
}

static void do_card(struct probe *p, char *args)
{
	char *k = strtok(args, " "), *opc = strtok(NULL, " "), *seq = strtok(NULL, " ");
	uint8_t kb[16], opcb[16];

	if (!k || !opc || unhex(kb, 16, k) || unhex(opcb, 16, opc)) {
		printf("card bad\n");
		return;
	}
	gba_aka_key_milenage(&p->key, kb, opcb, 0);
	gba_usim_sqn_init(&p->sqn, 5, UINT64_C(1) << 28);
	if (seq)
		p->sqn.seq_ms[0] = strtoull(seq, NULL, 0);
	gba_wipe(kb, sizeof(kb));
	gba_wipe(opcb, sizeof(opcb));
	printf("card ok\n");
}

/* Crafted MARs, sent as they are. */
static int craft(const char *kind, struct mar_parts *m)
{
	static char long_name[300];
	static const uint8_t junk[29];

	memset(m, 0, sizeof(*m));
	m->user_name = "alice@ims.mnc001.mcc001.3gppnetwork.org";
	m->scheme = GBA_ZH_SCHEME_AKAV1;
	if (!strcmp(kind, "good")) {
	} else if (!strcmp(kind, "no-user-name")) {
		m->user_name = NULL;
	} else if (!strcmp(kind, "two-user-names")) {
		m->two_user_names = 1;
	} else if (!strcmp(kind, "newline-user-name")) {
		m->user_name = "alice\n@x";
	} else if (!strcmp(kind, "long-user-name")) {
		memset(long_name, 'a', 256);
		long_name[256] = '\0';
		m->user_name = long_name;
	} else if (!strcmp(kind, "short-authorization")) {
		m->authorization = junk;
		m->authorization_len = sizeof(junk);
	} else if (!strcmp(kind, "bad-scheme")) {
		m->scheme = "Digest-MD5";
	} else if (!strcmp(kind, "two-items")) {
		m->two_items = 1;
	} else if (!strcmp(kind, "no-vsai")) {
		m->no_vsai = 1;
	} else if (!strcmp(kind, "wrong-application")) {
		m->app_id = 16777216;   /* Cx: not served by this HSS */
	} else {
		return -1;
	}
	return 0;
}

static void do_raw(struct probe *p, const char *kind)
{
	struct mar_parts parts;
	struct msg *req, *ans = NULL;
	struct gba_dia_result r = { 0 };
	gba_err err;

	if (!p->dia || craft(kind, &parts)) {
		printf("raw %s unusable\n", kind);
		return;
	}
	parts.dest_host = p->hss_id;
	req = zh_craft_mar(p->dia, &parts);
	if (!req) {
		printf("raw %s unbuildable\n", kind);
		return;
	}
	err = dia_call(p->dia, &req, p->timeout_ms, &ans);
	if (!err) {
		dia_result_read(ans, &r);
		avp_wipe_secrets(ans);
		fd_msg_free(ans);
	}
	printf("raw %s %u %s\n", kind, gba_dia_result_value(&r), gba_err_name(err));
}

static void serve(struct probe *p)
{
	char line[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		char *arg;

		line[strcspn(line, "\r\n")] = '\0';
		arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		else
			arg = line + strlen(line);
		if (!strcmp(line, "quit"))
			break;
		else if (!strcmp(line, "card"))
			do_card(p, arg);
		else if (!strcmp(line, "fetch"))
			do_fetch(p, arg, 0, 0);
		else if (!strcmp(line, "resync"))
			do_fetch(p, arg, 1, 0);
		else if (!strcmp(line, "badresync"))
			do_fetch(p, arg, 1, 1);
		else if (!strcmp(line, "auth"))
			do_auth(p);
		else if (!strcmp(line, "raw"))
			do_raw(p, arg);
		else if (!strcmp(line, "wait-peer"))
			printf("wait-peer %s\n",
			       gba_err_name(p->dia ? gba_dia_wait_peer(p->dia, p->hss_id,
								      (unsigned)atoi(arg)) :
						     GBA_ERR_INVALID_ARG));
		else
			printf("unknown %s\n", line);
	}
}

static void log_line(void *arg, enum gba_dia_log_level level, const char *line)
{
	(void)arg;
	fprintf(stderr, "zh-probe: %d: %s\n", (int)level, line);
}

static int open_source(struct probe *p, struct zh_config *zc, int shared)
{
	gba_err err;

	if (shared) {
		struct gba_dia_config dc = {
			.identity = zc->origin_host,
			.realm = zc->origin_realm,
			.transport = zc->transport,
			.tls_cert = zc->tls_cert,
			.tls_key = zc->tls_key,
			.tls_ca = zc->tls_ca,
			.log = log_line,
			.log_level = GBA_DIA_LOG_INFO,
		};
		err = gba_dia_open(&p->dia, &dc);
		if (err) {
			printf("open %s\n", gba_err_name(err));
			return -1;
		}
		zc->dia = p->dia;
	}
	err = av_source_zh_open(&p->src, zc);
	if (!err && shared) {
		err = gba_dia_start(p->dia);
		if (!err)
			gba_dia_wait_peer(p->dia, p->hss_id, p->timeout_ms);
	}
	printf("open %s\n", gba_err_name(err));
	return err ? -1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hss", required_argument, NULL, 'h' }, { "hss-id", required_argument, NULL, 'i' },
		{ "realm", required_argument, NULL, 'r' }, { "timeout", required_argument, NULL, 't' },
		{ "shared-node", no_argument, NULL, 's' }, { "secrets", required_argument, NULL, 'S' },
		{ "origin", required_argument, NULL, 'o' }, { "transport", required_argument, NULL, 'T' },
		{ "tls-cert", required_argument, NULL, 'C' }, { "tls-key", required_argument, NULL, 'K' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct zh_config zc = {
		.origin_host = "bsf.probe.test",
		.origin_realm = "probe.test",
		.hss_host = "127.0.0.1",
		.log = log_line,
		.log_level = GBA_DIA_LOG_INFO,
	};
	struct probe p;
	char host[64] = "127.0.0.1";
	int c, shared = 0, rc;

	memset(&p, 0, sizeof(p));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': {
			const char *colon = strrchr(optarg, ':');
			if (!colon || (size_t)(colon - optarg) >= sizeof(host))
				return 2;
			memcpy(host, optarg, (size_t)(colon - optarg));
			host[colon - optarg] = '\0';
			zc.hss_port = (unsigned)atoi(colon + 1);
			break;
		}
		case 'i': zc.hss_identity = optarg; break;
		case 'r': zc.hss_realm = optarg; break;
		case 't': zc.timeout_ms = (unsigned)atoi(optarg); break;
		case 's': shared = 1; break;
		case 'S': p.secrets = fopen(optarg, "a"); break;
		case 'o': zc.origin_host = optarg; break;
		case 'T':
			if (gba_dia_transport_parse(optarg, &zc.transport))
				return 2;
			break;
		case 'C': zc.tls_cert = optarg; break;
		case 'K': zc.tls_key = optarg; break;
		case 'A': zc.tls_ca = optarg; break;
		default: return 2;
		}
	}
	if (!zc.hss_identity || !zc.hss_realm || !zc.hss_port)
		return 2;
	zc.hss_host = host;
	p.hss_id = zc.hss_identity;
	p.timeout_ms = zc.timeout_ms ? zc.timeout_ms : 2000;
	rc = open_source(&p, &zc, shared) ? 1 : 0;
	if (!rc)
		serve(&p);
	av_source_close(p.src);
	if (shared)
		gba_dia_close(p.dia);
	if (p.secrets)
		fclose(p.secrets);
	gba_wipe(&p, sizeof(p));
	printf("bye\n");
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	rc = gba_cli_simple("zh-probe", argc, argv, NULL,
			    "usage: zh-probe run --hss ADDR:PORT --hss-id ID --realm R [--timeout MS]\n"
			    "                    [--shared-node] [--secrets FILE]\n"
			    "then commands on stdin (see the source); exit 0, 2 on bad usage.\n");
	if (rc >= 0)
		return rc;
	fprintf(stderr, "usage: zh-probe run ... (see the source)\n");
	return 2;
}
