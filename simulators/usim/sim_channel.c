/*
 * sim_channel.c - logical channels (ETSI TS 102 221 10.1.1, 11.1.17):
 * MANAGE CHANNEL opens channels 1..3 and closes them; the channel number
 * rides in CLA.  Each channel has its own current DF, EF, record and
 * application; PIN1 and the GET RESPONSE buffer are the card's.
 */
#include <string.h>

#include "sim_internal.h"

unsigned sim_cla_channel(uint8_t cla)
{
	if (cla & 0x40)
		return 4u + (cla & 0x0F);       /* further interindustry: 4..19 */
	return cla & 0x03;
}

void sim_cmd_manage_channel(struct usim_sim *sim, const struct sim_apdu *a,
			    struct sim_reply *r)
{
	unsigned from = sim_cla_channel(a->cla);

	if (a->lc) {
		r->sw = SW_WRONG_LENGTH;
	} else if (a->p1 == 0x00 && a->p2 == 0x00) {
		/* Open: the card picks the lowest free channel, the new one starts
		 * where the channel it was opened from is (TS 102 221 11.1.17.2). */
		for (unsigned c = 1; c < SIM_CHANNELS; c++) {
			if (sim->chan[c].open)
				continue;
			sim->chan[c].open = 1;
			sim->chan[c].cur_df = from ? sim->cur_df : F_MF;
			sim->chan[c].cur_app = from ? sim->cur_app : F_NONE;
			sim->chan[c].cur_ef = F_NONE;
			sim->chan[c].cur_rec = 0;
			r->data[0] = (uint8_t)c;
			r->len = 1;
			r->sw = SW_OK;
			return;
		}
		r->sw = SW_NO_MORE_CHANNELS;
	} else if (a->p1 == 0x80 && a->p2 >= 1 && a->p2 < SIM_CHANNELS) {
		r->sw = sim->chan[a->p2].open ? SW_OK : SW_CHANNEL_UNSUP;
		sim->chan[a->p2].open = 0;
	} else {
		r->sw = SW_WRONG_P1P2;
	}
}
