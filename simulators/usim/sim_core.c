/*
 * sim_core.c - the card's life cycle: open (profile, file tree, state),
 * reset, ATR, close; and the small accessors of usim_sim.h.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/util.h>

#include "sim_internal.h"

static gba_err init_card(struct usim_sim *sim, const char *profile_path,
			 const char *state_path)
{
	gba_err e = sim_profile_load(profile_path, &sim->prof);

	if (e != GBA_OK)
		return e;
	sim->state_path = strdup(state_path);
	if (!sim->state_path)
		return GBA_ERR_NO_MEMORY;
	gba_usim_sqn_init(&sim->sqn, sim->prof.ind_bits, sim->prof.sqn_delta);
	gba_usim_sqn_init(&sim->isim.sqn, sim->prof.ind_bits, sim->prof.sqn_delta);
	sim->pin_tries = 3;
	e = sim_fs_build(sim);
	if (e == GBA_OK)
		e = sim_state_load(sim);
	if (e == GBA_OK)
		e = sim_state_save(sim);        /* creates it; proves it is writable */
	return e;
}

gba_err usim_sim_open(const char *profile_path, const char *state_path,
		      struct usim_sim **out)
{
	struct usim_sim *sim;
	gba_err e;

	if (!profile_path || !state_path || !out)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return GBA_ERR_NO_MEMORY;
	e = init_card(sim, profile_path, state_path);
	if (e != GBA_OK) {
		sim_fs_free(sim);
		free(sim->state_path);
		gba_wipe(sim, sizeof(*sim));
		free(sim);
		return e;
	}
	sim->prng = (uint32_t)time(NULL);
	usim_sim_reset(sim);
	*out = sim;
	return GBA_OK;
}

void usim_sim_close(struct usim_sim *sim)
{
	if (!sim)
		return;
	(void)sim_state_save(sim);          /* already saved after each change */
	sim_fs_free(sim);
	free(sim->state_path);
	gba_wipe(sim, sizeof(*sim));        /* K, OPc, Ks, Ks_int_NAF */
	free(sim);
}

void usim_sim_reset(struct usim_sim *sim)
{
	if (!sim)
		return;
	sim->cur_df = F_MF;
	sim->cur_ef = F_NONE;
	sim->cur_app = F_NONE;
	sim->cur_rec = 0;
	memset(sim->chan, 0, sizeof(sim->chan));
	sim->chan[0].open = 1;                 /* only the basic channel after a reset */
	sim->chan[0].cur_df = F_MF;
	sim->chan[0].cur_ef = F_NONE;
	sim->chan[0].cur_app = F_NONE;
	sim->pin_verified = 0;
	sim->proactive_pending = sim->prof.sw_quirks;   /* e.g. SET UP MENU at power-up */
	gba_wipe(sim->pending, sizeof(sim->pending));
	sim->pending_len = 0;
}

int usim_sim_is_t1(const struct usim_sim *sim)
{
	return sim->prof.t1;
}

/*
 * T=0: 3B 04 + "USIM": no interface bytes, so T=0 by default and no TCK.
 * T=1: 3B 84 01 + "USIM" + TCK: TD1 names T=1 only; TCK makes the XOR of
 * T0..TCK zero (ISO 7816-3 8.2.5).
 */
size_t usim_sim_atr(const struct usim_sim *sim, uint8_t *atr, size_t atr_size)
{
	static const uint8_t hist[4] = { 'U', 'S', 'I', 'M' };
	size_t n = 0;

	if (!sim || !atr || atr_size < 8)
		return 0;
	atr[n++] = 0x3B;
	if (!sim->prof.t1) {
		atr[n++] = 0x04;
		memcpy(atr + n, hist, 4);
		return n + 4;
	}
	atr[n++] = 0x84;
	atr[n++] = 0x01;
	memcpy(atr + n, hist, 4);
	n += 4;
	atr[n] = 0;
	for (size_t i = 1; i < n; i++)
		atr[n] ^= atr[i];
	return n + 1;
}

void usim_sim_set_fault(struct usim_sim *sim, enum usim_sim_fault fault)
{
	if (sim)
		sim->fault = fault;
}

gba_err usim_sim_fault_parse(const char *name, enum usim_sim_fault *fault)
{
	static const struct { const char *name; enum usim_sim_fault f; } names[] = {
		{ "none", USIM_FAULT_NONE }, { "garbage", USIM_FAULT_GARBAGE },
		{ "truncated", USIM_FAULT_TRUNCATED }, { "sw6f00", USIM_FAULT_SW_6F00 },
		{ "mute", USIM_FAULT_MUTE },
	};

	if (!name || !fault)
		return GBA_ERR_INVALID_ARG;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name)) {
			*fault = names[i].f;
			return GBA_OK;
		}
	return GBA_ERR_INVALID_ARG;
}

gba_err usim_sim_imsi(const struct usim_sim *sim, char *out, size_t out_size)
{
	size_t n;

	if (!sim || !out)
		return GBA_ERR_INVALID_ARG;
	n = strlen(sim->prof.imsi);
	if (out_size <= n)
		return GBA_ERR_BUFFER_TOO_SMALL;
	memcpy(out, sim->prof.imsi, n + 1);
	return GBA_OK;
}

gba_err usim_sim_ks_int_naf(const struct usim_sim *sim, const uint8_t *naf_id,
			    size_t naf_id_len, uint8_t out[32])
{
	const struct sim_file *f;

	if (!sim || !naf_id || !out)
		return GBA_ERR_INVALID_ARG;
	f = &sim->files[F_GBANL];
	if (!f->present)
		return GBA_ERR_NOT_FOUND;
	for (unsigned i = 0; i < f->n_rec; i++) {
		const uint8_t *rec = f->data + i * f->rec_len;

		if (rec[0] == 0x80 && rec[1] == naf_id_len && !memcmp(rec + 2, naf_id, naf_id_len)) {
			memcpy(out, sim->gba.ks_int_naf[i], 32);
			return GBA_OK;
		}
	}
	return GBA_ERR_NOT_FOUND;
}

gba_err usim_sim_advance_sqn(struct usim_sim *sim, uint64_t n)
{
	uint64_t top = 0;
	unsigned slots;

	if (!sim)
		return GBA_ERR_INVALID_ARG;
	slots = 1u << sim->sqn.ind_bits;
	for (unsigned i = 0; i < slots; i++)
		if (sim->sqn.seq_ms[i] > top)
			top = sim->sqn.seq_ms[i];
	if (n > (GBA_SQN_MAX >> sim->sqn.ind_bits) - top)
		return GBA_ERR_SQN_RANGE;
	for (unsigned i = 0; i < slots; i++)
		sim->sqn.seq_ms[i] = top + n;
	return sim_state_save(sim);
}

gba_err usim_sim_save(struct usim_sim *sim)
{
	return sim ? sim_state_save(sim) : GBA_ERR_INVALID_ARG;
}

void usim_sim_set_log(struct usim_sim *sim, usim_sim_log_fn fn, void *ctx)
{
	if (!sim)
		return;
	sim->log_fn = fn;
	sim->log_ctx = ctx;
}
