/*
 * sim_pin.c - PIN1 (TS 102 221 9.5, 11.1.9): VERIFY PIN and the access
 * conditions built on it.  A profile without "pin" has PIN1 disabled, so
 * every PIN-protected file and AUTHENTICATE are open (as on most test
 * cards).  Three wrong PINs block it; the counter survives restarts.
 */
#include <string.h>

#include <gba/util.h>

#include "sim_internal.h"

int sim_access_ok(const struct usim_sim *sim, enum sim_access acc)
{
	switch (acc) {
	case SIM_ALW:
		return 1;
	case SIM_PIN:
		return !sim->prof.pin[0] || sim->pin_verified;
	default:
		return 0;                  /* ADM: the ME never has it */
	}
}

/* The PIN as VERIFY carries it: ASCII digits padded with FF to 8 octets. */
static void pin_block(const char *pin, uint8_t out[8])
{
	size_t n = strlen(pin);

	memset(out, 0xFF, 8);
	memcpy(out, pin, n);
}

void sim_cmd_verify(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	uint8_t want[8];

	if (a->p1 != 0x00 || (a->p2 != 0x01 && a->p2 != 0x81)) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (!sim->prof.pin[0]) {
		r->sw = a->lc == 0 || a->lc == 8 ? SW_OK : SW_WRONG_LENGTH;
		return;
	}
	if (a->lc == 0) {                  /* a status query: tries left */
		r->sw = sim->pin_verified ? SW_OK : (uint16_t)(0x63C0 | sim->pin_tries);
		return;
	}
	if (a->lc != 8) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	if (sim->pin_tries == 0) {
		r->sw = SW_PIN_BLOCKED;
		return;
	}
	pin_block(sim->prof.pin, want);
	if (gba_ct_equal(want, a->data, 8)) {
		sim->pin_verified = 1;
		r->changed = sim->pin_tries != 3;
		sim->pin_tries = 3;
		r->sw = SW_OK;
	} else {
		sim->pin_verified = 0;
		sim->pin_tries--;
		r->changed = 1;
		r->sw = (uint16_t)(0x63C0 | sim->pin_tries);
	}
	gba_wipe(want, sizeof(want));
}
