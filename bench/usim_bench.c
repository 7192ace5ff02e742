/*
 * usim_bench - figures for the USIM simulator's engine (usim_sim.h):
 * in-process AUTHENTICATE (3G context, each one saves the state file with
 * fsync, as the card does after every SQN change), GBA NAF derivation, and
 * READ BINARY (no state change).  Prints operations per second; fails
 * nothing.
 *
 *   usim_bench PROFILES_DIR [seconds per figure, default 1]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "usim_sim.h"
#include "gba_cli.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t send(struct usim_sim *sim, const uint8_t *c, size_t n)
{
	uint8_t r[USIM_SIM_RAPDU_MAX];
	size_t rl = 0;

	usim_sim_apdu(sim, c, n, r, sizeof(r), &rl);
	return rl >= 2 ? (uint16_t)(r[rl - 2] << 8 | r[rl - 1]) : 0;
}

static void demo_key(struct gba_aka_key *key)
{
	uint8_t k[16], op[16];
	size_t n;

	gba_hex_decode(k, 16, &n, "465b5ce8b199b49faa5f0a2ee238a6bc", 32);
	gba_hex_decode(op, 16, &n, "cdc202d5123e20f62b6d676ac72cb318", 32);
	gba_aka_key_milenage(key, k, op, 1);
}

/* 00 88 00 p2 Lc [DD] 10 RAND 10 AUTN 00 for SEQ seq. */
static size_t auth_apdu(const struct gba_aka_key *key, uint64_t seq, int gba, uint8_t *c)
{
	static const uint8_t amf[2] = { 0x80, 0x00 };
	uint8_t rand[16];
	struct gba_av av;
	size_t n = 0;

	memset(rand, (int)(seq & 0xFF), sizeof(rand));
	gba_aka_gen_av(key, amf, seq << 5, rand, &av);
	memcpy(c, (const uint8_t[]){ 0x00, 0x88, 0x00, gba ? 0x84 : 0x81,
				     (uint8_t)(gba ? 35 : 34) }, 5);
	n = 5;
	if (gba)
		c[n++] = 0xDD;
	c[n++] = 16;
	memcpy(c + n, av.rand, 16);
	n += 16;
	c[n++] = 16;
	memcpy(c + n, av.autn, 16);
	n += 16;
	c[n++] = 0;
	gba_wipe(&av, sizeof(av));
	return n;
}

static void bench_auth(struct usim_sim *sim, const struct gba_aka_key *key, double secs,
		       uint64_t *seq)
{
	uint8_t c[64];
	unsigned long ops = 0;
	double t0 = now(), t;

	do {
		size_t n = auth_apdu(key, ++*seq, 0, c);

		if (send(sim, c, n) != 0x9000) {
			fprintf(stderr, "AUTHENTICATE failed\n");
			exit(1);
		}
		ops++;
	} while ((t = now() - t0) < secs);
	printf("AUTHENTICATE 3G (AKA + state saved with fsync): %8.0f /s  (%.3f ms each)\n",
	       ops / t, 1000 * t / ops);
}

static void bench_naf(struct usim_sim *sim, const struct gba_aka_key *key, double secs,
		      uint64_t *seq)
{
	static const char impi[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
	uint8_t c[300], naf_id[300];
	size_t n, nl;
	unsigned long ops = 0;
	double t0, t;

	n = auth_apdu(key, ++*seq, 1, c);
	send(sim, c, n);
	/* The ME's B-TID in EF_GBABP (RAND as the card wrote it, then B-TID). */
	send(sim, (const uint8_t[]){ 0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0xD6 }, 7);
	memcpy(c, (const uint8_t[]){ 0x00, 0xD6, 0x00, 0x11, 0x05, 0x03, 'a', '@', 'b', 0x00 }, 10);
	send(sim, c, 10);
	gba_naf_id(naf_id, sizeof(naf_id), &nl, "naf.example.org", 15, GBA_UA_HTTP_DIGEST);
	n = 0;
	memcpy(c, (const uint8_t[]){ 0x00, 0x88, 0x00, 0x84, 0x00, 0xDE, (uint8_t)nl }, 7);
	n = 7;
	memcpy(c + n, naf_id, nl);
	n += nl;
	c[n++] = (uint8_t)strlen(impi);
	memcpy(c + n, impi, strlen(impi));
	n += strlen(impi);
	c[4] = (uint8_t)(n - 5);
	c[n++] = 0;
	t0 = now();
	do {
		if (send(sim, c, n) != 0x9000) {
			fprintf(stderr, "NAF derivation failed\n");
			exit(1);
		}
		ops++;
	} while ((t = now() - t0) < secs);
	printf("AUTHENTICATE GBA NAF derivation (2 KDFs + save):  %8.0f /s  (%.3f ms each)\n",
	       ops / t, 1000 * t / ops);
}

static void bench_read(struct usim_sim *sim, double secs)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07 };
	static const uint8_t rd[] = { 0x00, 0xB0, 0x00, 0x00, 0x09 };
	unsigned long ops = 0;
	double t0 = now(), t;

	if (send(sim, sel, sizeof(sel)) != 0x9000) {
		fprintf(stderr, "SELECT EF_IMSI failed\n");
		exit(1);
	}
	do {
		if (send(sim, rd, sizeof(rd)) != 0x9000) {
			fprintf(stderr, "READ BINARY failed\n");
			exit(1);
		}
		ops++;
	} while ((t = now() - t0) < secs);
	printf("READ BINARY EF_IMSI (no state change):          %8.0f /s  (%.4f ms each)\n",
	       ops / t, 1000 * t / ops);
}

int main(int argc, char **argv)
{
	char profile[512], state[] = "/tmp/usim-bench-XXXXXX";
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	struct usim_sim *sim;
	struct gba_aka_key key;
	uint64_t seq = 0;
	int fd, rc = gba_cli_simple("usim_bench", argc, argv, NULL,
				    "usage: usim_bench PROFILES_DIR [seconds]\n"
				    "Prints figures; exit 0, 1 on failure, 2 on bad usage.\n");

	if (rc >= 0)
		return rc;
	if (argc < 2) {
		fprintf(stderr, "usage: usim_bench PROFILES_DIR [seconds]\n");
		return 2;
	}
	snprintf(profile, sizeof(profile), "%s/demo.conf", argv[1]);
	fd = mkstemp(state);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(state);
	if (usim_sim_open(profile, state, &sim) != GBA_OK)
		return 1;
	demo_key(&key);
	send(sim, (const uint8_t[]){ 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00,
				     0x87, 0x10, 0x02 }, 12);
	printf("usim_bench: demo card (T=1), state file in /tmp, %.1f s per figure\n", secs);
	bench_auth(sim, &key, secs, &seq);
	bench_naf(sim, &key, secs, &seq);
	bench_read(sim, secs);
	usim_sim_close(sim);
	unlink(state);
	gba_wipe(&key, sizeof(key));
	return 0;
}
