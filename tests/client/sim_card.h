/*
 * sim_card.h - the in-process USIM simulator (simulators/usim) as a
 * libgba-client card, through gba_client_card_open_custom(): what the unit
 * tests and the benchmark plug in instead of a reader.
 */
#ifndef TESTS_CLIENT_SIM_CARD_H
#define TESTS_CLIENT_SIM_CARD_H

#include <gba/client.h>
#include <usim_sim.h>

/* Open the profile with its state file as a card; *sim stays owned by the card. */
gba_client_err sim_card_open(struct gba_client_card **card, const char *profile,
			     const char *state, struct usim_sim **sim);

#endif
