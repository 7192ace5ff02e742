/* sim_card.c - the in-process simulator behind the client's card interface. */
#include <string.h>

#include "sim_card.h"

static gba_client_err sim_transmit(void *ctx, const uint8_t *c, size_t len, uint8_t *r,
				   size_t size, size_t *rlen, char *msg, size_t msg_size)
{
	(void)msg;
	(void)msg_size;
	/* What a T=0 reader does (ISO 7816-3 12.2): a case 4 command goes
	 * without its Le; a strict T=0 card refuses it with 6700 otherwise. */
	if (!usim_sim_is_t1(ctx) && len > 5 && len == 6u + c[4])
		len--;
	gba_err e = usim_sim_apdu(ctx, c, len, r, size, rlen);
	if (e && e != GBA_ERR_STORE)
		return GBA_CLIENT_ERR_TRANSPORT;
	if (*rlen == 0)
		return GBA_CLIENT_ERR_TIMEOUT;   /* a mute card: what a reader would report */
	return GBA_CLIENT_OK;
}

static gba_client_err sim_atr(void *ctx, uint8_t *atr, size_t size, size_t *len, char *msg,
			      size_t msg_size)
{
	(void)msg;
	(void)msg_size;
	*len = usim_sim_atr(ctx, atr, size);
	return *len ? GBA_CLIENT_OK : GBA_CLIENT_ERR_INVALID_ARG;
}

static gba_client_err sim_reset(void *ctx, char *msg, size_t msg_size)
{
	(void)msg;
	(void)msg_size;
	usim_sim_reset(ctx);
	return GBA_CLIENT_OK;
}

static void sim_close(void *ctx)
{
	usim_sim_close(ctx);
}

static const struct gba_client_card_ops sim_ops = {
	.name = "usim-sim", .transmit = sim_transmit, .atr = sim_atr, .reset = sim_reset,
	.close = sim_close,
};

gba_client_err sim_card_open(struct gba_client_card **card, const char *profile,
			     const char *state, struct usim_sim **sim)
{
	gba_client_err err;

	if (usim_sim_open(profile, state, sim))
		return GBA_CLIENT_ERR_FILE;
	err = gba_client_card_open_custom(card, &sim_ops, *sim);
	if (err)
		usim_sim_close(*sim);
	return err;
}
