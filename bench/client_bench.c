/*
 * client_bench.c - bootstrap latency of libgba-client end to end (card
 * identity + Ub against a running BSF), p50/p99 over N runs, and the APDU
 * round trips per bootstrap.  It prints figures; it judges nothing.
 *
 *   client_bench --card pcsc|pcsc:#N|modem:DEV|soft:FILE --bsf URL [--runs 200] [--gba-me]
 * bench/client_bench.py sets up the BSF, pcscd + vpcd + simulator and runs it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/client.h>
#include <gba/util.h>
#include "gba_cli.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static gba_client_err open_card(const char *spec, struct gba_client_card **card, char *msg,
				size_t n)
{
	if (!strcmp(spec, "pcsc"))
		return gba_client_card_open_pcsc(card, NULL, msg, n);
	if (!strncmp(spec, "pcsc:", 5))
		return gba_client_card_open_pcsc(card, spec + 5, msg, n);
	if (!strncmp(spec, "modem:", 6))
		return gba_client_card_open_modem(card, spec + 6, 5000, msg, n);
	if (!strncmp(spec, "soft:", 5))
		return gba_client_card_open_soft(card, spec + 5, msg, n);
	return GBA_CLIENT_ERR_INVALID_ARG;
}

int main(int argc, char **argv)
{
	const char *spec = NULL, *bsf = NULL;
	int runs = 200, gba_me = 0;
	struct gba_client_card *card;
	struct gba_client_identity id;
	struct gba_client_context ctx;
	struct gba_client_stats st;
	char msg[GBA_CLIENT_MSG_MAX];
	double *lat, sum = 0;
	unsigned long apdus_total = 0, boot_apdus = 0;
	unsigned resyncs = 0;
	static const struct option opts[] = {
		{ "card", required_argument, NULL, 0 }, { "bsf", required_argument, NULL, 0 },
		{ "runs", required_argument, NULL, 0 }, { "gba-me", no_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	int rc = gba_cli_simple("client_bench", argc, argv, opts,
				"usage: client_bench --card SPEC --bsf URL [--runs N] [--gba-me]\n"
				"Prints figures; exit 0, 1 on failure, 2 on bad usage.\n");

	if (rc >= 0)
		return rc;
	for (int i = 1; i + 1 < argc || (i < argc && !strcmp(argv[i], "--gba-me")); i++) {
		if (!strcmp(argv[i], "--card"))
			spec = argv[++i];
		else if (!strcmp(argv[i], "--bsf"))
			bsf = argv[++i];
		else if (!strcmp(argv[i], "--runs"))
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--gba-me"))
			gba_me = 1;
	}
	if (!spec || !bsf || runs < 1) {
		fprintf(stderr, "usage: client_bench --card SPEC --bsf URL [--runs N] [--gba-me]\n");
		return 2;
	}
	if (open_card(spec, &card, msg, sizeof(msg))) {
		fprintf(stderr, "client_bench: %s\n", msg);
		return 1;
	}
	lat = calloc((size_t)runs, sizeof(*lat));
	struct gba_client_options opt = { .bsf_url = bsf, .force_gba_me = gba_me };
	for (int i = 0; i < runs; i++) {
		unsigned long a0 = gba_client_card_exchanges(card);
		double t0 = now_ms();
		/* What a node does from power-up: read who it is, then bootstrap. */
		gba_client_err err = gba_client_usim_identity(card, &id, msg, sizeof(msg));
		if (!err)
			err = gba_client_bootstrap(card, &id, &opt, &ctx, &st, msg, sizeof(msg));
		lat[i] = now_ms() - t0;
		if (err) {
			fprintf(stderr, "client_bench: run %d: %s\n", i, msg);
			gba_client_card_close(card);
			free(lat);
			return 1;
		}
		apdus_total += gba_client_card_exchanges(card) - a0;
		boot_apdus += st.apdus;
		resyncs += st.resyncs;
		sum += lat[i];
		gba_wipe(&ctx, sizeof(ctx));
	}
	qsort(lat, (size_t)runs, sizeof(*lat), cmp);
	printf("client_bench card=%s type=%s runs=%d\n", gba_client_card_backend(card),
	       id.gba_u && !gba_me ? "GBA_U" : "GBA_ME", runs);
	printf("  latency ms: p50 %.2f  p99 %.2f  mean %.2f  min %.2f  max %.2f\n",
	       lat[runs / 2], lat[(runs * 99) / 100 >= runs ? runs - 1 : (runs * 99) / 100],
	       sum / runs, lat[0], lat[runs - 1]);
	printf("  APDU exchanges per bootstrap: %.1f total (identity + Ub), %.1f in the Ub part;"
	       " resyncs %u\n", (double)apdus_total / runs, (double)boot_apdus / runs, resyncs);
	gba_client_card_close(card);
	free(lat);
	return 0;
}
