/*
 * sim_state.c - the card's changing state in a small text file:
 *
 *   gba-usim-sim-state 1
 *   seq <IND> <SEQ_MS>            one line per IND slot (TS 33.102 Annex C)
 *   pin_tries <n>
 *   ks <hex Ks> <hex RAND>        GBA_U: Ks = CK || IK of the last bootstrap
 *   ks_int_naf <record> <hex>     one per EF_GBANL record in use
 *   gbanl_next <record>
 *   ef <FID hex> <hex contents>   EFs the ME may update (EF_GBABP, EF_GBANL)
 *
 * It holds Ks and Ks_int_NAF, as a card's NVM does, so it is created 0600
 * and replaced atomically (temporary file, fsync, rename) like
 * tests/tools/usim_state.c: a crash leaves the old state or the new one.
 * The IND length and delta come from the profile, not from here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/util.h>

#include "sim_internal.h"

#define MAGIC "gba-usim-sim-state 1"
#define LINE_MAX_LEN 2400   /* "ef FID " + hex of the largest EF (960 octets) */

static int hex_exact(uint8_t *out, size_t len, const char *hex)
{
	size_t got;

	return gba_hex_decode(out, len, &got, hex, strlen(hex)) == GBA_OK && got == len ? 0 : -1;
}

static int load_seq(struct usim_sim *sim, const char *args)
{
	unsigned ind;
	uint64_t seq;
	char extra;

	if (sscanf(args, "%u %" SCNu64 " %c", &ind, &seq, &extra) != 2 ||
	    ind >= (1u << sim->sqn.ind_bits) || seq > (GBA_SQN_MAX >> sim->sqn.ind_bits))
		return -1;
	sim->sqn.seq_ms[ind] = seq;
	return 0;
}

static int load_ks(struct usim_sim *sim, char *args)
{
	char *ks = strtok(args, " "), *rand = strtok(NULL, " ");

	if (!ks || !rand || strtok(NULL, " ") || hex_exact(sim->gba.ks, 32, ks) ||
	    hex_exact(sim->gba.rand, 16, rand))
		return -1;
	sim->gba.have_ks = 1;
	return 0;
}

static int load_ks_int(struct usim_sim *sim, char *args)
{
	char *idx = strtok(args, " "), *hex = strtok(NULL, " "), *end;
	unsigned long i;

	if (!idx || !hex || strtok(NULL, " "))
		return -1;
	i = strtoul(idx, &end, 10);
	if (*end || i >= SIM_GBANL_RECORDS)
		return -1;
	return hex_exact(sim->gba.ks_int_naf[i], 32, hex);
}

static int load_ef(struct usim_sim *sim, char *args)
{
	char *fid = strtok(args, " "), *hex = strtok(NULL, " "), *end;
	unsigned long v;

	if (!fid || !hex || strtok(NULL, " "))
		return -1;
	v = strtoul(fid, &end, 16);
	if (*end)
		return -1;
	for (int i = 0; i < F_COUNT; i++) {
		struct sim_file *f = &sim->files[i];

		if (f->present && f->persist && !f->is_alias && f->fid == v)
			return hex_exact(f->data, f->size, hex);
	}
	return -1;   /* an EF this profile does not have: refuse, don't guess */
}

static int load_uint(const char *args, unsigned max, unsigned *out)
{
	unsigned v;
	char extra;

	if (sscanf(args, "%u %c", &v, &extra) != 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int load_line(struct usim_sim *sim, char *line)
{
	char *sp = strchr(line, ' ');

	if (!sp)
		return -1;
	*sp++ = '\0';
	if (!strncmp(line, "isim_", 5) && sim->prof.isim_own_key &&
	    (!strcmp(line + 5, "seq") || !strcmp(line + 5, "ks") ||
	     !strcmp(line + 5, "ks_int_naf") || !strcmp(line + 5, "gbanl_next"))) {
		/* The ISIM's own AKA state, loaded through the same code. */
		int bad;
		sp[-1] = ' ';
		sim_isim_swap(sim);
		bad = load_line(sim, line + 5);
		sim_isim_swap(sim);
		return bad;
	}
	if (!strcmp(line, "seq"))
		return load_seq(sim, sp);
	if (!strcmp(line, "pin_tries"))
		return load_uint(sp, 3, &sim->pin_tries);
	if (!strcmp(line, "ks"))
		return load_ks(sim, sp);
	if (!strcmp(line, "ks_int_naf"))
		return load_ks_int(sim, sp);
	if (!strcmp(line, "gbanl_next"))
		return load_uint(sp, SIM_GBANL_RECORDS - 1, &sim->gba.next_record);
	if (!strcmp(line, "ef"))
		return load_ef(sim, sp);
	return -1;
}

gba_err sim_state_load(struct usim_sim *sim)
{
	char iobuf[8192];   /* wiped after use: the file holds Ks */
	char *line = malloc(LINE_MAX_LEN);
	unsigned lineno = 0;
	gba_err e = GBA_OK;
	FILE *f;

	if (!line)
		return GBA_ERR_NO_MEMORY;
	f = fopen(sim->state_path, "re");
	if (f)
		setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (!f) {
		free(line);
		if (errno == ENOENT)
			return GBA_OK;              /* a fresh card */
		fprintf(stderr, "%s: cannot read state: %s\n", sim->state_path, strerror(errno));
		return GBA_ERR_STORE;
	}
	while (e == GBA_OK && fgets(line, LINE_MAX_LEN, f)) {
		size_t n = strlen(line);

		lineno++;
		if (n == 0 || line[n - 1] != '\n')
			e = GBA_ERR_PARSE;
		else if ((line[n - 1] = '\0', lineno == 1))
			e = strcmp(line, MAGIC) ? GBA_ERR_PARSE : GBA_OK;
		else if (load_line(sim, line))
			e = GBA_ERR_PARSE;
		if (e != GBA_OK)
			fprintf(stderr, "%s:%u: not a valid card state line\n", sim->state_path,
				lineno);
	}
	if (e == GBA_OK && lineno == 0) {
		fprintf(stderr, "%s: empty state file\n", sim->state_path);
		e = GBA_ERR_PARSE;
	}
	gba_wipe(line, LINE_MAX_LEN);
	free(line);
	fclose(f);
	gba_wipe(iobuf, sizeof(iobuf));
	return e;
}

static int put_hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fprintf(f, "%02x", b[i]) < 0)
			return -1;
	return 0;
}

static int write_gba(FILE *f, const struct sim_gba *g, const char *pre)
{
	int bad = 0;

	if (g->have_ks) {
		bad |= fprintf(f, "%sks ", pre) < 0 || put_hex(f, g->ks, 32) || fputc(' ', f) < 0 ||
		       put_hex(f, g->rand, 16) || fputc('\n', f) < 0;
	}
	for (unsigned i = 0; i < SIM_GBANL_RECORDS; i++) {
		static const uint8_t zero[32];

		if (gba_ct_equal(g->ks_int_naf[i], zero, 32))
			continue;
		bad |= fprintf(f, "%sks_int_naf %u ", pre, i) < 0 || put_hex(f, g->ks_int_naf[i], 32) ||
		       fputc('\n', f) < 0;
	}
	bad |= fprintf(f, "%sgbanl_next %u\n", pre, g->next_record) < 0;
	return bad ? -1 : 0;
}

static int write_all(FILE *f, const struct usim_sim *sim)
{
	int bad = fprintf(f, MAGIC "\n") < 0;

	for (unsigned i = 0; i < (1u << sim->sqn.ind_bits); i++)
		bad |= fprintf(f, "seq %u %" PRIu64 "\n", i, sim->sqn.seq_ms[i]) < 0;
	bad |= fprintf(f, "pin_tries %u\n", sim->pin_tries) < 0;
	bad |= write_gba(f, &sim->gba, "");
	if (sim->prof.isim_own_key) {
		/* The ISIM's own subscription: the same lines, "isim_" before each. */
		for (unsigned i = 0; i < (1u << sim->isim.sqn.ind_bits); i++)
			bad |= fprintf(f, "isim_seq %u %" PRIu64 "\n", i,
				       sim->isim.sqn.seq_ms[i]) < 0;
		bad |= write_gba(f, &sim->isim.gba, "isim_");
	}
	for (int i = 0; i < F_COUNT; i++) {
		const struct sim_file *e = &sim->files[i];

		if (!e->present || !e->persist || e->is_alias)
			continue;
		bad |= fprintf(f, "ef %04x ", e->fid) < 0 || put_hex(f, e->data, e->size) ||
		       fputc('\n', f) < 0;
	}
	return bad ? -1 : 0;
}

gba_err sim_state_save(const struct usim_sim *sim)
{
	size_t n = strlen(sim->state_path);
	char *tmp = malloc(n + 8);
	FILE *f = NULL;
	int fd, bad;
	/* Our own stdio buffer, so the Ks it held can be wiped afterwards. */
	char iobuf[8192];

	if (!tmp)
		return GBA_ERR_NO_MEMORY;
	memcpy(tmp, sim->state_path, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);      /* mode 0600 */
	if (fd >= 0)
		f = fdopen(fd, "w");
	if (f)
		setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (!f) {
		fprintf(stderr, "%s: cannot write state: %s\n", sim->state_path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return GBA_ERR_STORE;
	}
	bad = write_all(f, sim) || fflush(f) || fsync(fd);
	bad |= fclose(f) != 0;
	gba_wipe(iobuf, sizeof(iobuf));
	if (bad || rename(tmp, sim->state_path)) {
		fprintf(stderr, "%s: cannot write state: %s\n", sim->state_path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return GBA_ERR_STORE;
	}
	free(tmp);
	return GBA_OK;
}
