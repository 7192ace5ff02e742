/*
 * fuzz_usim_apdu.c - libFuzzer target for the USIM/ISIM simulator's APDU
 * engine (simulators/usim/usim_sim.h).
 *
 * One card is opened at start-up from a profile (the demo card of
 * docs/usim-simulator.md with an ISIM, GBA and a PIN, T=0 or T=1) written
 * into a private directory on /dev/shm (tmpfs: the state file's fsync is
 * cheap).  Input layout:
 *
 *   octet 0     mode: bit 0 selects the T=1 card (else T=0); bit 1: after
 *               every 61xx the harness itself sends GET RESPONSE with
 *               Le = xx and checks that exactly xx octets come with 9000
 *   then        C-APDUs, each as one length octet and that many octets;
 *               a length past the end takes what is left (so one APDU
 *               can be longer than 255 octets)
 *
 * Properties checked (abort() on violation):
 *  - every call returns GBA_OK (GBA_ERR_STORE would mean the state could not
 *    be saved) and an answer of 2..USIM_SIM_RAPDU_MAX octets into a buffer
 *    malloc'ed to exactly USIM_SIM_RAPDU_MAX (so that ASan sees overruns),
 *    ending in a status word whose SW1 is 61..6F or 90..9F;
 *  - data comes only with 9000, 6282 (end of file reached) or 61xx (a GET
 *    RESPONSE with a short Le: more is waiting);
 *  - with mode bit 1: 61xx promises exactly xx octets (00: 256).
 *
 * Runs are independent: the card gets a cold reset (usim_sim_reset) before
 * each input, and when an input changed the saved state (SQN, Ks, EF_GBABP,
 * EF_GBANL, PIN counter; seen as a new state file, since saving renames a
 * new one into place) the card is closed and opened again from a fresh state.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usim_sim.h"

#include "fuzz_check.h"

/* TS 35.208 set 1's K and OP (public), as the demo profiles. */
#define PROFILE_COMMON                                                     \
	"iccid = 8988211000000000028\n"                                    \
	"imsi = 001010000000001\n"                                         \
	"k = 465b5ce8b199b49faa5f0a2ee238a6bc\n"                           \
	"op = cdc202d5123e20f62b6d676ac72cb318\n"                          \
	"impi = 001010000000001@ims.mnc001.mcc001.3gppnetwork.org\n"       \
	"impu = sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org\n"   \
	"impu = tel:+10000000001\n"                                        \
	"domain = ims.mnc001.mcc001.3gppnetwork.org\n"                     \
	"mnc_length = 2\n"                                                 \
	"gba = yes\n"                                                      \
	"pin = 1234\n"                                                     \
	"sqn_delta = 281474976710655\n"

struct card {
	char profile[512], state[512];
	struct usim_sim *sim;
	ino_t state_ino;
};

static char dir[256];
static struct card cards[2];          /* [0] T=0, [1] T=1 */
static uint8_t *rapdu;

static ino_t state_inode(const struct card *c)
{
	struct stat st;

	return stat(c->state, &st) ? 0 : st.st_ino;
}

static void card_open(struct card *c)
{
	unlink(c->state);
	check(usim_sim_open(c->profile, c->state, &c->sim) == GBA_OK);
	c->state_ino = state_inode(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	check(f != NULL);
	check(fputs(text, f) >= 0);
	check(fclose(f) == 0);
}

static void cleanup(void)
{
	for (int i = 0; i < 2; i++) {
		usim_sim_close(cards[i].sim);
		cards[i].sim = NULL;
		unlink(cards[i].state);
		unlink(cards[i].profile);
	}
	rmdir(dir);
	free(rapdu);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-usim-XXXXXX", base);
	check(mkdtemp(dir) != NULL);
	for (int i = 0; i < 2; i++) {
		struct card *c = &cards[i];
		snprintf(c->profile, sizeof(c->profile), "%s/card%d.conf", dir, i);
		snprintf(c->state, sizeof(c->state), "%s/card%d.state", dir, i);
		write_file(c->profile, i ? PROFILE_COMMON "protocol = T=1\n"
					 : PROFILE_COMMON "protocol = T=0\n");
		card_open(c);
	}
	rapdu = malloc(USIM_SIM_RAPDU_MAX);
	check(rapdu != NULL);
	atexit(cleanup);
	return 0;
}

/* One exchange; returns the status word after checking the answer's form. */
static unsigned exchange(struct usim_sim *sim, const uint8_t *capdu, size_t len, size_t *dlen)
{
	/* An exact-size copy: ASan sees any read past the APDU. */
	uint8_t *c = malloc(len ? len : 1);
	size_t n = 0;
	unsigned sw, sw1;

	check(c != NULL);
	if (len)
		memcpy(c, capdu, len);
	check(usim_sim_apdu(sim, c, len, rapdu, USIM_SIM_RAPDU_MAX, &n) == GBA_OK);
	check(n >= 2 && n <= USIM_SIM_RAPDU_MAX);
	sw = ((unsigned)rapdu[n - 2] << 8) | rapdu[n - 1];
	sw1 = sw >> 8;
	check((sw1 >= 0x61 && sw1 <= 0x6F) || (sw1 >= 0x90 && sw1 <= 0x9F));
	if (!(n == 2 || sw == 0x9000 || sw == 0x6282 || sw1 == 0x61))
		fprintf(stderr, "%zu data octets with SW %04X to %02X %02X %02X %02X (%zu octets)\n",
			n - 2, sw, len > 0 ? c[0] : 0, len > 1 ? c[1] : 0, len > 2 ? c[2] : 0,
			len > 3 ? c[3] : 0, len);
	check(n == 2 || sw == 0x9000 || sw == 0x6282 || sw1 == 0x61);
	free(c);
	*dlen = n - 2;
	return sw;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card *c;
	int verify_61;
	size_t pos = 1, dlen;

	if (size < 1)
		return 0;
	c = &cards[data[0] & 1];
	verify_61 = (data[0] & 2) != 0;
	usim_sim_reset(c->sim);
	while (pos < size) {
		size_t len = data[pos++];
		if (len > size - pos)
			len = size - pos;
		unsigned sw = exchange(c->sim, data + pos, len, &dlen);
		pos += len;
		if (verify_61 && (sw >> 8) == 0x61) {
			size_t want = (sw & 0xFF) ? (sw & 0xFF) : 256;
			uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, (uint8_t)want };
			check(exchange(c->sim, gr, sizeof(gr), &dlen) == 0x9000);
			check(dlen == want);
		}
	}
	if (state_inode(c) != c->state_ino) {
		/* The input changed what the card keeps: start the next from scratch. */
		usim_sim_close(c->sim);
		card_open(c);
	}
	return 0;
}
